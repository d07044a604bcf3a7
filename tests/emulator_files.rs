//! Files and operations in the emulator: uploads, upserts, processing failures,
//! metadata filters and pagination, over raw HTTP and through the client.

mod support;

use std::time::Duration;

use pinecone_assistant::emulator::Emulator;
use pinecone_assistant::models::{
    CreateAssistantRequest, DescribeFileOptions, FileStatus, ListFilesOptions,
    ListOperationsOptions, OperationType, UploadFile,
};
use pinecone_assistant::{Error, Wait};
use serde_json::json;
use support::emu::*;
use support::fixtures::HANDBOOK;

#[test]
fn files_list_filters_paginate_and_delete() {
    let emu = Emulator::builder()
        .page_size(1)
        .processing_delay(Duration::ZERO)
        .start()
        .unwrap();
    with_files(&emu);
    let (_, pdf) = upload(&emu, "docs", "scan.pdf", b"%PDF-1.4", None, None);
    let failed = wait_op(&emu, "docs", pdf["id"].as_str().unwrap());
    assert_eq!(failed["status"], "Failed");
    assert!(failed["error_message"].as_str().unwrap().contains("PDF"));
    assert!(failed["completed_on"].is_string());

    let mut ids = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let q = token
            .as_ref()
            .map_or(String::new(), |t| format!("&pagination_token={t}"));
        let (_, page) = authed(
            &emu,
            "GET",
            &format!(
                "/assistant/files/docs?filter=%7B%22team%22%3A+%7B%22%24in%22%3A+%5B%22support%22%2C+%22logistics%22%5D%7D%7D{q}"
            ),
            None,
        );
        ids.extend(
            page["files"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["id"].as_str().unwrap().to_owned()),
        );
        match page["pagination"]["next"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
    }
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[1], "notes");

    let (_, ops) = authed(
        &emu,
        "GET",
        "/assistant/operations/docs?status=Failed&limit=10",
        None,
    );
    assert_eq!(ops["operations"].as_array().unwrap().len(), 1);
    let (s, _) = authed(
        &emu,
        "GET",
        "/assistant/operations/docs?status=failed",
        None,
    );
    assert_eq!(s, 400);

    let (s, _) = authed(
        &emu,
        "DELETE",
        &format!("/assistant/files/docs/{}", pdf["file_id"].as_str().unwrap()),
        None,
    );
    assert_eq!(s, 204);
    let (s, op) = authed(&emu, "DELETE", "/assistant/files/docs/notes", None);
    assert_eq!(
        (s, op["operation_type"].as_str()),
        (202, Some("delete_file"))
    );
    wait_op(&emu, "docs", op["id"].as_str().unwrap());
    let (s, _) = authed(&emu, "GET", "/assistant/files/docs/notes", None);
    assert_eq!(s, 404);
}

#[test]
fn upsert_right_after_delete_survives_the_queued_delete() {
    let emu = Emulator::builder()
        .ready_delay(Duration::ZERO)
        .processing_delay(Duration::from_millis(100))
        .start()
        .unwrap();
    client(&emu)
        .create_assistant(CreateAssistantRequest::new("docs"), Wait::Forever)
        .unwrap();
    let (_, first) = upload(&emu, "docs", "a.txt", b"First version.", None, Some("f"));
    assert_eq!(
        wait_op(&emu, "docs", first["id"].as_str().unwrap())["status"],
        "Completed"
    );
    let (s, del) = authed(&emu, "DELETE", "/assistant/files/docs/f", None);
    assert_eq!(s, 202);
    // Upserted before the deletion has run: the new version must outlive it.
    let (s, up) = upload(&emu, "docs", "b.txt", b"Second version.", None, Some("f"));
    assert_eq!(s, 202);
    assert_eq!(
        wait_op(&emu, "docs", del["id"].as_str().unwrap())["status"],
        "Completed"
    );
    let done = wait_op(&emu, "docs", up["id"].as_str().unwrap());
    assert_eq!(done["status"], "Completed", "{done}");
    let (s, file) = authed(&emu, "GET", "/assistant/files/docs/f", None);
    assert_eq!((s, file["status"].as_str()), (200, Some("Available")));
    assert_eq!(file["name"], "b.txt");
}

#[test]
fn malformed_filters_are_400_naming_the_operator() {
    let emu = fast();
    with_files(&emu);
    for (filter, op) in [
        (json!({"year": {"$gt": "2024"}}), "$gt"),
        (json!({"year": {"$gte": true}}), "$gte"),
        (json!({"year": {"$lt": null}}), "$lt"),
        (json!({"year": {"$lte": [1]}}), "$lte"),
        (json!({"team": {"$eq": 1, "x": 2}}), "$eq"),
        (json!({"team": {"$in": "support"}}), "$in"),
        (json!({"team": {"$nin": {"a": 1}}}), "$nin"),
        (json!({"team": {"$exists": "yes"}}), "$exists"),
        (json!({"$and": {"team": "support"}}), "$and"),
        (json!({"$or": [1]}), "$or"),
        (json!({"team": {"$regex": "s"}}), "$regex"),
        (json!({"$nor": []}), "$nor"),
    ] {
        let q: String = filter
            .to_string()
            .bytes()
            .map(|b| format!("%{b:02X}"))
            .collect();
        let (s, body) = authed(
            &emu,
            "GET",
            &format!("/assistant/files/docs?filter={q}"),
            None,
        );
        assert_eq!(
            (s, body["error"]["code"].as_str(), body["status"].as_u64()),
            (400, Some("INVALID_ARGUMENT"), Some(400)),
            "{filter}"
        );
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(op), "{filter}: {message}");
        let (s, body) = authed(
            &emu,
            "POST",
            "/assistant/chat/docs/context",
            Some(json!({"query": "kettle", "filter": filter})),
        );
        assert_eq!((s, body["status"].as_u64()), (400, Some(400)), "{filter}");
    }
    let (s, body) = authed(
        &emu,
        "GET",
        "/assistant/files/docs?filter=%7B%22year%22%3A%7B%22%24gte%22%3A2026%7D%7D",
        None,
    );
    assert_eq!((s, body["files"].as_array().map(Vec::len)), (200, Some(1)));
}

#[test]
fn upload_from_a_path_waits_until_available() {
    let emu = fast();
    let docs = ready(&emu);
    let dir = std::env::temp_dir().join(format!("emu-upload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("kettle.md");
    std::fs::write(&path, HANDBOOK).unwrap();
    let done = docs
        .upload_file(
            UploadFile::path(&path).metadata(json!({"team": "support"})),
            Wait::Forever,
        )
        .unwrap();
    std::fs::remove_dir_all(&dir).ok();
    let file = done.file.unwrap();
    assert_eq!(file.status, Some(FileStatus::Available));
    assert_eq!(file.name, "kettle.md");
    assert_eq!(file.metadata, Some(json!({"team": "support"})));
    assert_eq!(file.size, Some(HANDBOOK.len() as i64));
    assert!(done.operation.is_completed());
    assert_eq!(done.operation.percent_complete, Some(100));
    assert!(done.operation.ingestion_units.unwrap() > 0.0);
    assert_eq!(
        done.location.as_deref(),
        Some(format!("/operations/docs/{}", done.operation.id).as_str())
    );
    let described = docs
        .describe_file(&file.id, DescribeFileOptions::new().include_url(true))
        .unwrap();
    let link = described.signed_url.unwrap();
    assert!(link.starts_with(emu.url()));
    let mut resp = agent().get(&link).call().unwrap();
    assert_eq!(
        resp.headers()["content-type"],
        "text/markdown; charset=utf-8"
    );
    assert_eq!(resp.body_mut().read_to_string().unwrap(), HANDBOOK);
}

#[test]
fn upsert_replaces_and_failed_processing_is_a_typed_error() {
    let emu = fast();
    let docs = ready(&emu);
    let first = docs
        .upload_file(
            UploadFile::bytes(b"Version one.".to_vec(), "notes.txt").file_id("notes"),
            Wait::Forever,
        )
        .unwrap();
    assert_eq!(
        first.operation.operation_type,
        Some(OperationType::UpsertFile)
    );
    docs.upload_file(
        UploadFile::bytes(b"Version two is longer.".to_vec(), "notes.txt").file_id("notes"),
        Wait::Forever,
    )
    .unwrap();
    let files: Vec<_> = docs
        .list_files(ListFilesOptions::new())
        .map(|f| f.unwrap())
        .collect();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].size, Some(22));

    let e = docs
        .upload_file(
            UploadFile::bytes(b"%PDF-1.4 hello".to_vec(), "report.pdf"),
            Wait::Forever,
        )
        .unwrap_err();
    match e {
        Error::OperationFailed { message, .. } => assert!(message.contains("PDF"), "{message}"),
        other => panic!("{other:?}"),
    }
    let failed: Vec<_> = docs
        .list_operations(ListOperationsOptions::new().status("Failed"))
        .map(|o| o.unwrap())
        .collect();
    assert_eq!(failed.len(), 1);
    let pdf_id = failed[0].file_id.clone().unwrap();
    // A file that failed processing is deleted at once (204, no operation).
    assert_eq!(docs.delete_file(&pdf_id, Wait::Forever).unwrap(), None);
    let op = docs.delete_file("notes", Wait::Forever).unwrap().unwrap();
    assert!(op.is_completed());
    assert!(
        docs.describe_file("notes", DescribeFileOptions::new())
            .unwrap_err()
            .is_not_found()
    );
}

#[test]
fn list_files_filters_over_several_pages() {
    let emu = Emulator::builder()
        .processing_delay(Duration::ZERO)
        .start()
        .unwrap();
    let docs = ready(&emu);
    for i in 0..5 {
        let team = if i % 2 == 0 { "even" } else { "odd" };
        docs.upload_file(
            UploadFile::bytes(
                format!("Document number {i}.").into_bytes(),
                format!("d{i}.txt"),
            )
            .metadata(json!({"team": team, "n": i})),
            Wait::Forever,
        )
        .unwrap();
    }
    emu.clear_requests();
    let even: Vec<String> = docs
        .list_files(
            ListFilesOptions::new()
                .filter(json!({"team": "even"}))
                .page_size(1),
        )
        .map(|f| f.unwrap().name)
        .collect();
    assert_eq!(even, ["d0.txt", "d2.txt", "d4.txt"]);
    assert_eq!(count(&emu, "GET", "/assistant/files/docs"), 3);
    let big: Vec<String> = docs
        .list_files(
            ListFilesOptions::new().filter(json!({"$or": [{"n": {"$gte": 4}}, {"n": {"$lt": 1}}]})),
        )
        .map(|f| f.unwrap().name)
        .collect();
    assert_eq!(big, ["d0.txt", "d4.txt"]);
    let e = docs
        .list_files_page(ListFilesOptions::new().filter(json!({"n": {"$regex": "x"}})))
        .unwrap_err();
    assert_eq!(e.status(), Some(400));
}

#[test]
fn wait_for_zero_reports_the_running_operation() {
    let emu = Emulator::builder()
        .ready_delay(Duration::ZERO)
        .processing_delay(Duration::from_millis(400))
        .start()
        .unwrap();
    let docs = ready(&emu);
    let e = docs
        .upload_file(
            UploadFile::bytes(b"Slow.".to_vec(), "slow.txt"),
            Wait::For(Duration::ZERO),
        )
        .unwrap_err();
    match e {
        Error::WaitTimeout { operation_id, .. } => {
            assert!(operation_id.unwrap().starts_with("op-"))
        }
        other => panic!("{other:?}"),
    }
}
