//! Files and operations in the emulator: uploads, upserts, processing failures,
//! metadata filters and pagination, over raw HTTP and through the client.

mod support;

use std::time::Duration;

use pinecone_assistant::emulator::Emulator;
use pinecone_assistant::models::{
    DescribeFileOptions, FileStatus, ListFilesOptions, ListOperationsOptions, OperationType,
    UploadFile,
};
use pinecone_assistant::{Assistant, Error, Wait};
use serde_json::{Value, json};
use support::emu::*;
use support::fixtures::HANDBOOK;

/// The `id` of an operation (or any JSON object with one).
fn id(op: &Value) -> &str {
    op["id"].as_str().unwrap()
}

/// A text file named `name` holding `text`.
fn text_file(text: &str, name: &str) -> UploadFile {
    UploadFile::bytes(text.as_bytes().to_vec(), name)
}

/// The names of the files `options` lists.
fn listed(docs: &Assistant, options: ListFilesOptions) -> Vec<String> {
    docs.list_files_with(options)
        .unwrap()
        .map(|f| f.unwrap().name)
        .collect()
}

#[test]
fn files_list_filters_paginate_and_delete() {
    let emu = start(
        Emulator::builder()
            .page_size(1)
            .processing_delay(Duration::ZERO),
    );
    with_files(&emu);
    let (_, pdf) = upload(&emu, "docs", "scan.pdf", b"%PDF-1.4", None, None);
    let failed = wait_op(&emu, "docs", id(&pdf));
    assert_eq!(failed["status"], "Failed");
    assert!(failed["error_message"].as_str().unwrap().contains("PDF"));
    assert!(failed["completed_on"].is_string());

    let filter = "%7B%22team%22%3A+%7B%22%24in%22%3A+%5B%22support%22%2C+%22logistics%22%5D%7D%7D";
    let mut ids = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let next = token.as_ref().map(|t| format!("&pagination_token={t}"));
        let path = format!(
            "/assistant/files/docs?filter={filter}{}",
            next.unwrap_or_default()
        );
        let (_, page) = authed(&emu, "GET", &path, None);
        let files = page["files"].as_array().unwrap();
        ids.extend(files.iter().map(|f| f["id"].as_str().unwrap().to_owned()));
        match page["pagination"]["next"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
    }
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[1], "notes");

    let failed_ops = "/assistant/operations/docs?status=Failed&limit=10";
    let (_, ops) = authed(&emu, "GET", failed_ops, None);
    assert_eq!(ops["operations"].as_array().unwrap().len(), 1);
    let lower_case = "/assistant/operations/docs?status=failed";
    assert_eq!(authed(&emu, "GET", lower_case, None).0, 400);

    let pdf_path = format!("/assistant/files/docs/{}", pdf["file_id"].as_str().unwrap());
    assert_eq!(authed(&emu, "DELETE", &pdf_path, None).0, 204);
    let (s, op) = authed(&emu, "DELETE", "/assistant/files/docs/notes", None);
    assert_eq!(
        (s, op["operation_type"].as_str()),
        (202, Some("delete_file"))
    );
    wait_op(&emu, "docs", id(&op));
    let (s, _) = authed(&emu, "GET", "/assistant/files/docs/notes", None);
    assert_eq!(s, 404);
}

#[test]
fn upsert_right_after_delete_survives_the_queued_delete() {
    let slow = Emulator::builder().ready_delay(Duration::ZERO);
    let emu = start(slow.processing_delay(ms(100)));
    ready(&emu);
    let (_, first) = upload(&emu, "docs", "a.txt", b"First version.", None, Some("f"));
    assert_eq!(wait_op(&emu, "docs", id(&first))["status"], "Completed");
    let (s, del) = authed(&emu, "DELETE", "/assistant/files/docs/f", None);
    assert_eq!(s, 202);
    // Upserted before the deletion has run: the new version must outlive it.
    let (s, up) = upload(&emu, "docs", "b.txt", b"Second version.", None, Some("f"));
    assert_eq!(s, 202);
    assert_eq!(wait_op(&emu, "docs", id(&del))["status"], "Completed");
    let done = wait_op(&emu, "docs", id(&up));
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
        let text = filter.to_string();
        let q: String = text.bytes().map(|b| format!("%{b:02X}")).collect();
        let path = format!("/assistant/files/docs?filter={q}");
        let (s, body) = authed(&emu, "GET", &path, None);
        let answer = (code_of(s, &body), body["status"].as_u64());
        assert_eq!(
            answer,
            ((400, Some("INVALID_ARGUMENT")), Some(400)),
            "{filter}"
        );
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(op), "{filter}: {message}");
        let query = json!({"query": "kettle", "filter": filter});
        let (s, body) = authed(&emu, "POST", "/assistant/chat/docs/context", Some(query));
        assert_eq!((s, body["status"].as_u64()), (400, Some(400)), "{filter}");
    }
    let year = "/assistant/files/docs?filter=%7B%22year%22%3A%7B%22%24gte%22%3A2026%7D%7D";
    let (s, body) = authed(&emu, "GET", year, None);
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
    let file = UploadFile::path(&path).metadata(json!({"team": "support"}));
    let done = docs.upload_file(file, Wait::Forever).unwrap();
    std::fs::remove_dir_all(&dir).ok();
    let file = done.file.unwrap();
    assert_eq!(file.status, Some(FileStatus::Available));
    assert_eq!(file.name, "kettle.md");
    assert_eq!(file.metadata, Some(json!({"team": "support"})));
    assert_eq!(file.size, Some(HANDBOOK.len() as i64));
    assert!(done.operation.is_completed());
    assert_eq!(done.operation.percent_complete, Some(100));
    assert!(done.operation.ingestion_units.unwrap() > 0.0);
    let location = format!("/operations/docs/{}", done.operation.id);
    assert_eq!(done.location.as_deref(), Some(location.as_str()));
    let options = DescribeFileOptions::new().include_url(true);
    let described = docs.describe_file_with(&file.id, options).unwrap();
    let link = described.signed_url.unwrap();
    assert!(link.starts_with(emu.url()));
    let mut resp = agent().get(&link).call().unwrap();
    let content_type = &resp.headers()["content-type"];
    assert_eq!(content_type, "text/markdown; charset=utf-8");
    assert_eq!(resp.body_mut().read_to_string().unwrap(), HANDBOOK);
}

#[test]
fn upsert_replaces_and_failed_processing_is_a_typed_error() {
    let emu = fast();
    let docs = ready(&emu);
    let one = text_file("Version one.", "notes.txt").file_id("notes");
    let first = docs.upload_file(one, Wait::Forever).unwrap();
    let kind = first.operation.operation_type;
    assert_eq!(kind, Some(OperationType::UpsertFile));
    let two = text_file("Version two is longer.", "notes.txt").file_id("notes");
    docs.upload_file(two, Wait::Forever).unwrap();
    let files: Vec<_> = docs.list_files().map(|f| f.unwrap()).collect();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].size, Some(22));

    let pdf = text_file("%PDF-1.4 hello", "report.pdf");
    match docs.upload_file(pdf, Wait::Forever).unwrap_err() {
        Error::OperationFailed { message, .. } => assert!(message.contains("PDF"), "{message}"),
        other => panic!("{other:?}"),
    }
    let failed = ListOperationsOptions::new().status("Failed");
    let failed: Vec<_> = docs
        .list_operations_with(failed)
        .unwrap()
        .map(|o| o.unwrap())
        .collect();
    assert_eq!(failed.len(), 1);
    let pdf_id = failed[0].file_id.clone().unwrap();
    // A file that failed processing is deleted at once (204, no operation).
    assert_eq!(docs.delete_file(&pdf_id, Wait::Forever).unwrap(), None);
    let op = docs.delete_file("notes", Wait::Forever).unwrap().unwrap();
    assert!(op.is_completed());
    let gone = docs.describe_file("notes");
    assert!(gone.unwrap_err().is_not_found());
}

#[test]
fn list_files_filters_over_several_pages() {
    let emu = start(Emulator::builder().processing_delay(Duration::ZERO));
    let docs = ready(&emu);
    for i in 0..5 {
        let team = if i % 2 == 0 { "even" } else { "odd" };
        let file = text_file(&format!("Document number {i}."), &format!("d{i}.txt"));
        let file = file.metadata(json!({"team": team, "n": i}));
        docs.upload_file(file, Wait::Forever).unwrap();
    }
    emu.clear_requests();
    let even = ListFilesOptions::new().filter(json!({"team": "even"}));
    assert_eq!(
        listed(&docs, even.page_size(1)),
        ["d0.txt", "d2.txt", "d4.txt"]
    );
    assert_eq!(count(&emu, "GET", "/assistant/files/docs"), 3);
    let either = json!({"$or": [{"n": {"$gte": 4}}, {"n": {"$lt": 1}}]});
    let big = listed(&docs, ListFilesOptions::new().filter(either));
    assert_eq!(big, ["d0.txt", "d4.txt"]);
    let regex = ListFilesOptions::new().filter(json!({"n": {"$regex": "x"}}));
    let e = docs.list_files_page(regex).unwrap_err();
    assert_eq!(e.status(), Some(400));
}

#[test]
fn wait_for_zero_reports_the_running_operation() {
    let slow = Emulator::builder().ready_delay(Duration::ZERO);
    let emu = start(slow.processing_delay(ms(400)));
    let docs = ready(&emu);
    let file = text_file("Slow.", "slow.txt");
    match docs
        .upload_file(file, Wait::For(Duration::ZERO))
        .unwrap_err()
    {
        Error::WaitTimeout { operation_id, .. } => {
            assert!(operation_id.unwrap().starts_with("op-"))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn with_default_settings_a_300_ms_upload_returns_in_well_under_a_second() {
    // Real sleeping, default poll settings: what a program that tunes nothing sees.
    let emu = start(Emulator::builder().processing_delay(Duration::from_millis(300)));
    ready(&emu);
    let config = pinecone_assistant::ClientConfig::builder(emu.api_key()).host(emu.url());
    let docs = pinecone_assistant::Client::new(config.build())
        .unwrap()
        .assistant("docs");
    emu.clear_requests();
    let started = std::time::Instant::now();
    let done = docs
        .upload_file(text_file(HANDBOOK, "kettle.md"), Wait::Forever)
        .unwrap();
    let took = started.elapsed();
    assert_eq!(done.file.unwrap().status, Some(FileStatus::Available));
    // The schedule polls at about 0.25 s (still processing) and 0.75 s (done);
    // the fixed 5 s interval of earlier versions took 5 s.
    let path = format!("/assistant/operations/docs/{}", done.operation.id);
    assert_eq!(count(&emu, "GET", &path), 2);
    assert!(took >= Duration::from_millis(300), "{took:?}");
    assert!(took < Duration::from_millis(1500), "{took:?}");
}
