//! An emulator with a data directory keeps its state across restarts, and a kill
//! at any moment leaves a state the next start can read and settle.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use pinecone_assistant::Wait;
use pinecone_assistant::emulator::{Emulator, EmulatorBuilder};
use pinecone_assistant::models::{CreateAssistantRequest, UpdateAssistantRequest, UploadFile};
use serde_json::{Value, json};
use support::program::{
    Program, TempDir, call, client_at, document, polling_client, try_upload_at, wait_op_at,
};

fn on(dir: &TempDir) -> EmulatorBuilder {
    Emulator::builder()
        .data_dir(dir.path())
        .ready_delay(Duration::ZERO)
        .delete_delay(Duration::ZERO)
        .processing_delay(Duration::from_millis(10))
        // The same seed on every start: ids must still never repeat.
        .seed(5)
}

/// The emulator program keeping its state in `dir`, started with `settings`.
fn program_on(dir: &TempDir, settings: &[&str]) -> Program {
    let data = dir.path().to_str().unwrap();
    Program::start(&[&["--data-dir", data], settings].concat())
}

/// The context of the `docs` assistant of the program at `url` for `query`, its
/// best snippet only.
fn top_context(url: &str, key: &str, query: &str) -> Value {
    let body = json!({"query": query, "top_k": 1});
    let (status, ctx) = call(url, key, "POST", "/assistant/chat/docs/context", Some(body));
    assert_eq!(status, 200, "{ctx}");
    ctx
}

fn get(url: &str, key: &str, path: &str) -> Value {
    let (status, body) = call(url, key, "GET", path, None);
    assert_eq!(status, 200, "{path}: {body}");
    body
}

/// The listed items without what may differ between two starts.
fn listed(url: &str, key: &str, path: &str, field: &str) -> Vec<Value> {
    get(url, key, path)[field]
        .as_array()
        .unwrap()
        .iter()
        .cloned()
        .map(|mut v| {
            if let Some(o) = v.as_object_mut() {
                o.remove("host");
            }
            v
        })
        .collect()
}

#[test]
fn a_restart_keeps_assistants_files_ids_and_text() {
    let dir = TempDir::new("restart");
    let (files, ops, assistants, pdf_id);
    {
        let emu = on(&dir).start().unwrap();
        let c = polling_client(&emu);
        c.create_assistant(
            CreateAssistantRequest::new("docs")
                .instructions("First.")
                .metadata(json!({"team": "support"})),
            Wait::Forever,
        )
        .unwrap();
        c.update_assistant(
            "docs",
            UpdateAssistantRequest::new().instructions("Be brief."),
        )
        .unwrap();
        c.create_assistant(CreateAssistantRequest::new("gone"), Wait::Forever)
            .unwrap();
        c.delete_assistant("gone", Wait::Forever).unwrap();
        let docs = c.assistant("docs");
        pdf_id = docs
            .upload_file(
                UploadFile::path(document("kettle-handbook.pdf")).metadata(json!({"v": 1})),
                Wait::Forever,
            )
            .unwrap()
            .file
            .unwrap()
            .id;
        docs.upload_file(
            UploadFile::bytes(b"Shipping takes five days.".to_vec(), "ship.md").file_id("ship"),
            Wait::Forever,
        )
        .unwrap();
        docs.upload_file(
            UploadFile::bytes(
                b"Version two: shipping takes four days.".to_vec(),
                "ship.md",
            )
            .file_id("ship"),
            Wait::Forever,
        )
        .unwrap();
        docs.delete_file("ship", Wait::Forever).unwrap();
        docs.upload_file(
            UploadFile::bytes(b"\xff".to_vec(), "bad.txt"),
            Wait::Forever,
        )
        .unwrap_err();
        let (url, key) = (emu.url(), emu.api_key());
        assistants = listed(url, key, "/assistant/assistants", "assistants");
        files = listed(url, key, "/assistant/files/docs", "files");
        ops = listed(url, key, "/assistant/operations/docs", "operations");
    }

    let emu = on(&dir).start().unwrap();
    let (url, key) = (emu.url(), emu.api_key());
    assert_eq!(
        listed(url, key, "/assistant/assistants", "assistants"),
        assistants
    );
    assert_eq!(assistants.len(), 1, "{assistants:?}");
    assert_eq!(assistants[0]["instructions"], "Be brief.");
    assert_eq!(assistants[0]["status"], "Ready");
    assert_eq!(listed(url, key, "/assistant/files/docs", "files"), files);
    assert_eq!(files.len(), 2, "{files:?}");
    assert_eq!(
        listed(url, key, "/assistant/operations/docs", "operations"),
        ops
    );
    assert_eq!(ops.len(), 5, "{ops:?}");

    // The extracted text came back: the PDF answers with its page.
    let ctx = top_context(url, key, "descale vinegar");
    assert_eq!(
        ctx["snippets"][0]["reference"]["file"]["id"],
        pdf_id.as_str()
    );
    assert_eq!(ctx["snippets"][0]["reference"]["pages"], json!([2]));
    // So did the bytes.
    let signed = get(
        url,
        key,
        &format!("/assistant/files/docs/{pdf_id}?include_url=true"),
    );
    let bytes = ureq::get(signed["signed_url"].as_str().unwrap())
        .call()
        .unwrap()
        .body_mut()
        .read_to_vec()
        .unwrap();
    assert_eq!(
        bytes,
        std::fs::read(document("kettle-handbook.pdf")).unwrap()
    );

    // New work gets ids that were never handed out, although the seed is the same.
    let docs = polling_client(&emu).assistant("docs");
    let fresh = docs
        .upload_file(
            UploadFile::bytes(b"New.".to_vec(), "new.txt"),
            Wait::Forever,
        )
        .unwrap();
    let new_file = fresh.file.unwrap().id;
    assert!(files.iter().all(|f| f["id"] != new_file.as_str()));
    assert!(ops.iter().all(|o| o["id"] != fresh.operation.id.as_str()));
    // And the name of the deleted assistant is free.
    polling_client(&emu)
        .create_assistant(CreateAssistantRequest::new("gone"), Wait::Forever)
        .unwrap();
    assert!(
        get(url, key, "/assistant/files/gone")["files"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[test]
fn operations_cut_short_by_a_kill_finish_or_fail_cleanly_after_the_restart() {
    let dir = TempDir::new("kill");
    // Processing takes ten minutes: the kill lands in the middle of it.
    let slow = program_on(
        &dir,
        &["--ready-delay-ms", "0", "--processing-delay-ms", "600000"],
    );
    let c = client_at(&slow.url, &slow.key);
    c.create_assistant(CreateAssistantRequest::new("docs"), Wait::Forever)
        .unwrap();
    let docs = c.assistant("docs");
    let resumed = docs
        .upload_file(UploadFile::path(document("kettle-handbook.pdf")), Wait::No)
        .unwrap();
    let lost = docs
        .upload_file(
            UploadFile::bytes(b"Lost bytes.".to_vec(), "lost.txt"),
            Wait::No,
        )
        .unwrap();
    let op = get(
        &slow.url,
        &slow.key,
        &format!("/assistant/operations/docs/{}", resumed.operation.id),
    );
    assert_eq!(op["status"], "Processing", "{op}");
    slow.kill();

    // The second upload's bytes go missing, as if the kill had come before they
    // reached the disk: that operation cannot go on.
    let lost_file = lost.file.as_ref().map(|f| f.id.clone()).unwrap_or_else(|| {
        lost.operation
            .file_id
            .clone()
            .expect("the operation names its file")
    });
    let blobs = dir.path().join("assistants/docs/blobs");
    let record: Value = serde_json::from_slice(
        &std::fs::read(
            dir.path()
                .join(format!("assistants/docs/files/{lost_file}.json")),
        )
        .unwrap(),
    )
    .unwrap();
    std::fs::remove_file(blobs.join(format!("{}.bin", record["generation"]))).unwrap();

    let quick = program_on(&dir, &["--processing-delay-ms", "0"]);
    let (url, key) = (quick.url.as_str(), quick.key.as_str());
    let done = wait_op_at(url, key, "docs", &resumed.operation.id);
    assert_eq!(done["status"], "Completed", "{done}");
    assert_eq!(done["percent_complete"], 100);
    let failed = wait_op_at(url, key, "docs", &lost.operation.id);
    assert_eq!(failed["status"], "Failed", "{failed}");
    assert!(
        failed["error_message"]
            .as_str()
            .unwrap()
            .contains("the emulator stopped before this operation finished"),
        "{failed}"
    );
    let file = get(url, key, &format!("/assistant/files/docs/{lost_file}"));
    assert_eq!(file["status"], "ProcessingFailed");
    // The resumed PDF is searchable, page and all.
    let ctx = top_context(url, key, "warranty receipt");
    assert_eq!(
        ctx["snippets"][0]["reference"]["pages"],
        json!([3]),
        "{ctx}"
    );

    // A deletion cut short resumes too.
    drop(quick);
    let slow = program_on(&dir, &["--processing-delay-ms", "600000"]);
    let docs = client_at(&slow.url, &slow.key).assistant("docs");
    let pdf = resumed.operation.file_id.clone().unwrap();
    let deleting = docs
        .delete_file(&pdf, Wait::No)
        .unwrap()
        .expect("an operation");
    slow.kill();
    let quick = program_on(&dir, &["--processing-delay-ms", "0"]);
    let done = wait_op_at(&quick.url, &quick.key, "docs", &deleting.id);
    assert_eq!(done["status"], "Completed", "{done}");
    let (status, _) = call(
        &quick.url,
        &quick.key,
        "GET",
        &format!("/assistant/files/docs/{pdf}"),
        None,
    );
    assert_eq!(status, 404);
}

#[test]
fn a_kill_during_a_burst_of_writes_loses_nothing_that_was_acknowledged() {
    let dir = TempDir::new("burst");
    let program = program_on(
        &dir,
        &[
            "--ready-delay-ms",
            "0",
            "--processing-delay",
            "uniform:0:40",
        ],
    );
    let (url, key) = (program.url.clone(), program.key.clone());
    client_at(&url, &key)
        .create_assistant(CreateAssistantRequest::new("burst"), Wait::Forever)
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (url, key, stop) = (url.clone(), key.clone(), Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut acknowledged = Vec::new();
                for i in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let text = format!("Writer {w} wrote note {i} about kettles.");
                    // Once the process is gone, requests fail: that ends the writer.
                    let name = format!("n{w}-{i}.txt");
                    match try_upload_at(&url, &key, "burst", &name, text.as_bytes()) {
                        Ok(op) => acknowledged.push(op["file_id"].as_str().unwrap().to_owned()),
                        Err(_) => break,
                    }
                }
                acknowledged
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(400));
    program.kill();
    stop.store(true, Ordering::Relaxed);
    let acknowledged: Vec<String> = writers
        .into_iter()
        .flat_map(|w| w.join().unwrap_or_default())
        .collect();
    assert!(acknowledged.len() > 4, "the writers did not get going");

    let program = program_on(&dir, &["--processing-delay-ms", "0"]);
    let (url, key) = (program.url.as_str(), program.key.as_str());
    let mut files = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let path = match &token {
            Some(t) => format!("/assistant/files/burst?limit=100&pagination_token={t}"),
            None => "/assistant/files/burst?limit=100".to_owned(),
        };
        let page = get(url, key, &path);
        files.extend(page["files"].as_array().unwrap().iter().cloned());
        match page["pagination"]["next"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
    }
    for id in &acknowledged {
        assert!(
            files.iter().any(|f| f["id"] == id.as_str()),
            "acknowledged upload {id} was lost"
        );
    }
    // Every operation settles; no record was left half written.
    let ops = get(
        url,
        key,
        "/assistant/operations/burst?limit=100&status=Processing",
    );
    for op in ops["operations"].as_array().unwrap() {
        let done = wait_op_at(url, key, "burst", op["id"].as_str().unwrap());
        assert_ne!(done["status"], "Processing");
    }
    let leftovers: Vec<_> = walk(dir.path())
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn a_data_dir_of_another_format_is_refused_with_the_reason() {
    let dir = TempDir::new("format");
    std::fs::write(
        dir.path().join("emulator.json"),
        r#"{"format": 99, "starts": 3}"#,
    )
    .unwrap();
    let e = on(&dir).start().unwrap_err();
    let message = e.to_string();
    assert!(
        message.contains("cannot use the data directory") && message.contains("format 99"),
        "{message}"
    );
}

#[test]
fn without_a_data_dir_nothing_is_kept() {
    let emu = Emulator::builder()
        .ready_delay(Duration::ZERO)
        .start()
        .unwrap();
    polling_client(&emu)
        .create_assistant(CreateAssistantRequest::new("ephemeral"), Wait::Forever)
        .unwrap();
    drop(emu);
    let emu = Emulator::start().unwrap();
    assert!(
        polling_client(&emu)
            .describe_assistant("ephemeral")
            .unwrap_err()
            .is_not_found()
    );
}
