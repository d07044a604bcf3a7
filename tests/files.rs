//! Files and operations against a mock server: the exact requests (method, path,
//! query, headers, multipart body), the polling that follows, retries, and the
//! data-plane host cache.

mod support;

use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mockito::{Matcher, Mock, Server, ServerGuard};
use pinecone_assistant::models::{
    DescribeFileOptions, FileStatus, ListFilesOptions, ListOperationsOptions, OperationStatus,
    OperationType, UploadFile,
};
use pinecone_assistant::{Error, Wait};
use serde_json::json;
use support::fixtures::*;
use support::mock::{
    ASSISTANT, answering, api, assert_all, assistant, client, data_plane, data_plane_described,
    describe, get_json, once, refuses, times,
};

/// Where files are uploaded and listed.
const FILES: &str = "/assistant/files/support-bot";

fn file_path(id: &str) -> String {
    format!("{FILES}/{id}")
}

/// Where the assistant's operations are listed.
const OPERATIONS: &str = "/assistant/operations/support-bot";

fn operation_path(id: &str) -> String {
    format!("{OPERATIONS}/{id}")
}

/// The describe of `report.pdf`, as it follows an upload.
fn report_described(server: &mut ServerGuard) -> Mock {
    answering(server, "GET", &file_path(REPORT_FILE_ID), 200, REPORT_FILE)
}

/// A plain upload accepted with a 202.
fn upload_accepted(server: &mut ServerGuard) -> Mock {
    answering(server, "POST", FILES, 202, UPLOAD_ACCEPTED)
}

/// What a mock received: headers that matter and the body.
#[derive(Debug, Clone)]
struct Received {
    content_type: String,
    content_length: Option<String>,
    transfer_encoding: Option<String>,
    body: Vec<u8>,
}

type Log = Arc<Mutex<Vec<Received>>>;

/// Answers with `body` and records the request (runs only for the mock chosen).
fn recording(mock: Mock, log: &Log, body: &'static str) -> Mock {
    let log = log.clone();
    mock.with_body_from_request(move |req| {
        let header = |name: &str| {
            req.header(name)
                .first()
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        log.lock().unwrap().push(Received {
            content_type: header("content-type").unwrap_or_default(),
            content_length: header("content-length"),
            transfer_encoding: header("transfer-encoding"),
            body: req.body().unwrap().clone(),
        });
        body.as_bytes().to_vec()
    })
}

/// The boundary of a `multipart/form-data` content type: 32 lower-case hex.
fn boundary_of(content_type: &str) -> &str {
    let b = content_type
        .strip_prefix("multipart/form-data; boundary=")
        .unwrap_or_else(|| panic!("not multipart: {content_type}"));
    assert_eq!(b.len(), 32, "{b}");
    assert!(
        b.bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
    );
    b
}

/// The body the upload endpoints expect, written out independently of the library.
fn expected_multipart(
    boundary: &str,
    filename: &str,
    content_type: &str,
    file: &[u8],
    metadata: Option<&str>,
) -> Vec<u8> {
    let mut out = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n"
    )
    .into_bytes();
    out.extend_from_slice(file);
    out.extend_from_slice(b"\r\n");
    if let Some(m) = metadata {
        out.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n{m}\r\n"
            )
            .as_bytes(),
        );
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    out
}

fn temp_file(name: &str, bytes: &[u8]) -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!(
        "pa-files-{}-{}",
        std::process::id(),
        name.replace(['.', '"', '\\'], "_")
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    (dir, path)
}

type Calls = Arc<Mutex<Vec<(u64, Option<u64>)>>>;

fn progress_log() -> (Calls, impl FnMut(u64, Option<u64>) + Send + 'static) {
    let calls: Calls = Arc::default();
    let log = calls.clone();
    (calls, move |sent, total| {
        log.lock().unwrap().push((sent, total))
    })
}

/// The multipart body `log` received first, checked against the expected layout.
fn assert_first_body(log: &Log, name: &str, content_type: &str, file: &[u8], meta: Option<&str>) {
    let seen = log.lock().unwrap();
    let got = &seen[0];
    let boundary = boundary_of(&got.content_type);
    let expected = expected_multipart(boundary, name, content_type, file, meta);
    assert_eq!(
        String::from_utf8_lossy(&got.body),
        String::from_utf8_lossy(&expected)
    );
}

#[test]
fn upload_with_metadata_polls_then_describes() {
    let (mut server, resolve) = data_plane_described(1);
    let log = Log::default();
    let location = format!("/operations/{ASSISTANT}/{UPLOAD_OP_ID}");
    let multipart = Matcher::Regex("^multipart/form-data; boundary=[0-9a-f]{32}$".into());
    let upload = api(&mut server, "POST", &format!("{FILES}?multimodal=true"))
        .match_header("content-type", multipart)
        .match_header("content-length", "298")
        .with_status(202)
        .with_header("location", &location);
    let upload = once(recording(upload, &log, UPLOAD_ACCEPTED));
    let op_path = operation_path(UPLOAD_OP_ID);
    let poll_1 = once(get_json(&mut server, &op_path, UPLOAD_AT_42));
    let poll_2 = once(get_json(&mut server, &op_path, UPLOAD_COMPLETED));
    let described = once(report_described(&mut server));

    let (dir, path) = temp_file("report.pdf", b"%PDF-1.4 hello");
    let (calls, on_progress) = progress_log();
    let file = UploadFile::path(&path)
        .metadata(json!({"team": "finance"}))
        .multimodal(true)
        .on_progress(on_progress);
    let result = assistant(&server).upload_file(file, Wait::Forever).unwrap();

    assert_all(&[&resolve, &upload, &poll_1, &poll_2, &described]);
    let meta = Some(r#"{"team":"finance"}"#);
    assert_first_body(
        &log,
        "report.pdf",
        "application/pdf",
        b"%PDF-1.4 hello",
        meta,
    );
    assert_eq!(log.lock().unwrap()[0].transfer_encoding, None);
    assert_eq!(result.operation.status, OperationStatus::Completed);
    assert_eq!(result.operation.ingestion_units, Some(12.5));
    assert_eq!(result.location.as_deref(), Some(location.as_str()));
    let file = result.file.expect("described file");
    assert_eq!(file.id, REPORT_FILE_ID);
    assert_eq!(file.status, Some(FileStatus::Available));
    assert_eq!(file.crc32c_hash.as_deref(), Some("yZRlqg=="));
    let calls = calls.lock().unwrap();
    assert_eq!(calls.last(), Some(&(14, Some(14))));
    assert!(calls.windows(2).all(|w| w[0].0 <= w[1].0));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn upsert_from_a_reader_fails_verbatim_and_describes_nothing() {
    let (mut server, _resolve) = data_plane();
    let log = Log::default();
    let put = api(&mut server, "PUT", &file_path("notes_v2")).with_status(202);
    let put = once(recording(put, &log, UPSERT_ACCEPTED));
    let poll = once(get_json(
        &mut server,
        &operation_path(UPSERT_OP_ID),
        UPSERT_FAILED,
    ));
    let described = times(0, api(&mut server, "GET", &file_path("notes_v2")));

    let (calls, on_progress) = progress_log();
    let file = UploadFile::chunked_reader(&b"hello"[..], "notes.md")
        .file_id("notes_v2")
        .on_progress(on_progress);
    let err = assistant(&server)
        .upload_file(file, Wait::Forever)
        .unwrap_err();

    assert_all(&[&put, &poll, &described]);
    match &err {
        Error::OperationFailed {
            operation_id,
            operation_type,
            file_id,
            message,
        } => {
            assert_eq!(operation_id, UPSERT_OP_ID);
            assert_eq!(message, "File processing failed: unsupported file format.");
            assert_eq!(operation_type, &Some(OperationType::UpsertFile));
            assert_eq!(file_id.as_deref(), Some("notes_v2"));
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains(UPSERT_OP_ID));
    // Which work, on which file: what a sync of a thousand files needs to report.
    assert_eq!(
        err.to_string(),
        format!(
            "upsert of file \"notes_v2\" failed (operation \"{UPSERT_OP_ID}\"): \
             File processing failed: unsupported file format."
        )
    );
    // Unknown length: chunked, no Content-Length.
    let got = log.lock().unwrap()[0].clone();
    assert_eq!(got.content_length, None);
    assert_eq!(got.transfer_encoding.as_deref(), Some("chunked"));
    assert_first_body(&log, "notes.md", "text/markdown", b"hello", None);
    assert_eq!(calls.lock().unwrap().last(), Some(&(5, Some(5))));
}

#[test]
fn wait_no_describes_once_and_a_404_there_is_not_an_error() {
    // The 404 drops the cached host and resolves again; the host is unchanged, so
    // the 404 stands (and means "no file record yet").
    let (mut server, resolve) = data_plane_described(2);
    let post = once(upload_accepted(&mut server));
    let polls = times(0, api(&mut server, "GET", &operation_path(UPLOAD_OP_ID)));
    let missing = answering(
        &mut server,
        "GET",
        &file_path(REPORT_FILE_ID),
        404,
        FILE_NOT_FOUND,
    );
    let described = once(missing);

    let file = UploadFile::bytes("# hi\n", "hi.md");
    let result = assistant(&server).upload_file(file, Wait::No).unwrap();
    assert_all(&[&resolve, &post, &polls, &described]);
    assert_eq!(result.operation.id, UPLOAD_OP_ID);
    assert_eq!(result.operation.status, OperationStatus::Processing);
    assert!(result.file.is_none());
    assert_eq!(result.location, None);
}

#[test]
fn wait_no_returns_the_described_file() {
    let (mut server, _resolve) = data_plane_described(1);
    upload_accepted(&mut server).create();
    let described = once(report_described(&mut server));
    let file = UploadFile::bytes("%PDF-1.4 hello", "report.pdf");
    let result = assistant(&server).upload_file(file, Wait::No).unwrap();
    described.assert();
    assert_eq!(result.file.map(|f| f.name).as_deref(), Some("report.pdf"));
}

/// A created mock that fails the test's `assert` if any GET under `prefix` arrives.
fn no_get_under(server: &mut ServerGuard, prefix: &str) -> Mock {
    let pattern = Matcher::Regex(format!("^{prefix}"));
    server.mock("GET", pattern).expect(0).create()
}

#[test]
fn deadline_zero_polls_once_and_names_the_operation() {
    let (mut server, _resolve) = data_plane();
    upload_accepted(&mut server).create();
    let poll = once(get_json(
        &mut server,
        &operation_path(UPLOAD_OP_ID),
        UPLOAD_AT_42,
    ));
    let described = no_get_under(&mut server, "/assistant/files/");
    let file = UploadFile::bytes("x", "x.txt");
    let err = assistant(&server).upload_file(file, Wait::For(Duration::ZERO));
    assert_all(&[&poll, &described]);
    match err.unwrap_err() {
        Error::WaitTimeout {
            operation_id,
            percent_complete,
            last_status,
            ..
        } => {
            assert_eq!(operation_id.as_deref(), Some(UPLOAD_OP_ID));
            assert_eq!(percent_complete, Some(42));
            assert!(last_status.contains("Processing"), "{last_status}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn unknown_status_finishes_only_with_completed_on_and_file_id_comes_from_the_poll() {
    let (mut server, _resolve) = data_plane();
    // The 202 names no file; the last poll does.
    let accepted = r#"{"id":"op-q","operation_type":"upload_file","status":"Processing"}"#;
    answering(&mut server, "POST", FILES, 202, accepted).create();
    let op = operation_path("op-q");
    let queued = once(get_json(
        &mut server,
        &op,
        r#"{"id":"op-q","status":"Queued"}"#,
    ));
    let settled =
        r#"{"id":"op-q","status":"Settled","file_id":"f-9","completed_on":"2026-07-04T10:15:41Z"}"#;
    let settled = once(get_json(&mut server, &op, settled));
    let file = r#"{"name":"x.txt","id":"f-9","status":"Available"}"#;
    let described = once(get_json(&mut server, &file_path("f-9"), file));
    let upload = UploadFile::bytes("x", "x.txt");
    let result = assistant(&server)
        .upload_file(upload, Wait::Forever)
        .unwrap();
    assert_all(&[&queued, &settled, &described]);
    assert_eq!(result.file.unwrap().id, "f-9");
}

#[test]
fn failure_without_a_message_says_so() {
    let (mut server, _resolve) = data_plane();
    upload_accepted(&mut server).create();
    let failed = format!(r#"{{"id":"{UPLOAD_OP_ID}","status":"Failed","error_message":null}}"#);
    get_json(&mut server, &operation_path(UPLOAD_OP_ID), &failed).create();
    let file = UploadFile::bytes("x", "x.txt");
    let err = assistant(&server)
        .upload_file(file, Wait::Forever)
        .unwrap_err();
    assert!(
        matches!(&err, Error::OperationFailed { message, .. } if message == "the server gave no error message"),
        "{err:?}"
    );
    // The poll named neither the kind nor the file: the call that started it knows.
    match &err {
        Error::OperationFailed {
            operation_type,
            file_id,
            ..
        } => {
            assert_eq!(operation_type, &Some(OperationType::UploadFile));
            assert_eq!(file_id.as_deref(), Some(REPORT_FILE_ID));
        }
        other => panic!("{other:?}"),
    }
    assert!(
        err.to_string()
            .starts_with(&format!("upload of file \"{REPORT_FILE_ID}\" failed")),
        "{err}"
    );
}

#[test]
fn a_failed_deletion_names_the_file() {
    let (mut server, _resolve) = data_plane();
    let path = file_path("notes_v2");
    answering(&mut server, "DELETE", &path, 202, DELETE_ACCEPTED).create();
    let failed = format!(r#"{{"id":"{DELETE_OP_ID}","status":"Failed","error_message":"locked"}}"#);
    get_json(&mut server, &operation_path(DELETE_OP_ID), &failed).create();
    let err = assistant(&server)
        .delete_file("notes_v2", Wait::Forever)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("deletion of file \"notes_v2\" failed (operation \"{DELETE_OP_ID}\"): locked")
    );
}

#[test]
fn reader_without_extension_is_refused_before_any_request() {
    let (mut server, resolve) = data_plane_described(0);
    let anything = refuses(&mut server, "POST");
    let docs = assistant(&server);
    for name in ["notes", "notes.", ".md"] {
        let file = UploadFile::chunked_reader(&b"hello"[..], name);
        match docs.upload_file(file, Wait::No).unwrap_err() {
            Error::InvalidArgument { name: arg, reason } => {
                assert_eq!(arg, "file_name");
                assert!(reason.contains(name), "{reason}");
            }
            other => panic!("{name}: {other:?}"),
        }
    }
    let invalid = |file: UploadFile, arg: &str| {
        let err = docs.upload_file(file, Wait::No).unwrap_err();
        assert!(matches!(err, Error::InvalidArgument { ref name, .. } if name == arg));
    };
    invalid(UploadFile::bytes("x", "x.md").file_id(""), "file_id");
    invalid(UploadFile::path("/nonexistent/dir/report.pdf"), "file_path");
    assert_all(&[&resolve, &anything]);
}

#[test]
fn plain_reader_is_not_replayed_after_a_503() {
    let (mut server, _resolve) = data_plane();
    let refused = answering(&mut server, "POST", FILES, 503, UNAVAILABLE);
    let refused = once(refused.with_header("retry-after", "1"));
    let file = UploadFile::chunked_reader(&b"hello"[..], "notes.md");
    let err = assistant(&server).upload_file(file, Wait::No).unwrap_err();
    refused.assert();
    assert_eq!(err.status(), Some(503));
}

#[test]
fn path_upload_is_sent_again_after_a_503_with_retry_after() {
    let (mut server, _resolve) = data_plane();
    let log = Log::default();
    let refused = api(&mut server, "POST", FILES).with_status(503);
    let refused = once(recording(
        refused.with_header("retry-after", "1"),
        &log,
        UNAVAILABLE,
    ));
    let accepted = api(&mut server, "POST", FILES).with_status(202);
    let accepted = once(recording(accepted, &log, UPLOAD_ACCEPTED));
    report_described(&mut server).create();
    let (dir, path) = temp_file("report.pdf", b"%PDF-1.4 hello");
    let (calls, on_progress) = progress_log();
    let file = UploadFile::path(&path).on_progress(on_progress);
    let result = assistant(&server).upload_file(file, Wait::No).unwrap();
    assert_all(&[&refused, &accepted]);
    assert_eq!(result.operation.id, UPLOAD_OP_ID);
    let seen = log.lock().unwrap();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].body, seen[1].body);
    let boundary = boundary_of(&seen[1].content_type);
    let pdf = b"%PDF-1.4 hello";
    let expected = expected_multipart(boundary, "report.pdf", "application/pdf", pdf, None);
    assert_eq!(seen[1].body, expected);
    let length = expected.len().to_string();
    assert_eq!(seen[1].content_length.as_deref(), Some(length.as_str()));
    // Each attempt reports the whole file again.
    let calls = calls.lock().unwrap();
    assert_eq!(calls.iter().filter(|c| **c == (14, Some(14))).count(), 2);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn plain_upload_is_not_retried_on_a_500_but_an_upsert_is() {
    let (mut server, _resolve) = data_plane();
    let faq = file_path("faq");
    let post = once(api(&mut server, "POST", FILES).with_status(500));
    let put_fail = once(api(&mut server, "PUT", &faq).with_status(500));
    let accepted =
        r#"{"id":"op-u","operation_type":"upsert_file","file_id":"faq","status":"Processing"}"#;
    let put_ok = once(answering(&mut server, "PUT", &faq, 202, accepted));
    let described = r#"{"name":"faq.md","id":"faq","status":"Processing"}"#;
    get_json(&mut server, &faq, described).create();
    let (dir, path) = temp_file("faq.md", b"# FAQ\n");
    let docs = assistant(&server);
    let err = docs.upload_file(UploadFile::path(&path), Wait::No);
    assert_eq!(err.unwrap_err().status(), Some(500));
    let upsert = UploadFile::path(&path).file_id("faq");
    let done = docs.upload_file(upsert, Wait::No).unwrap();
    let kind = done.operation.operation_type;
    assert_eq!(kind, Some(OperationType::UpsertFile));
    assert_eq!(done.file.unwrap().id, "faq");
    assert_all(&[&post, &put_fail, &put_ok]);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn sized_reader_that_ends_early_fails_fast_without_retry() {
    let (mut server, _resolve) = data_plane();
    answering(
        &mut server,
        "PUT",
        &file_path("short"),
        202,
        UPLOAD_ACCEPTED,
    )
    .create();
    let started = Instant::now();
    let file = UploadFile::reader(&b"abc"[..], "short.md", 5).file_id("short");
    let err = assistant(&server).upload_file(file, Wait::No).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(10));
    match err {
        Error::Io { context, source } => {
            assert!(context.contains("short.md"), "{context}");
            assert_eq!(source.kind(), std::io::ErrorKind::UnexpectedEof);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn seekable_reader_sends_the_rest_with_a_length() {
    let (mut server, _resolve) = data_plane();
    let log = Log::default();
    let post = api(&mut server, "POST", &format!("{FILES}?multimodal=false")).with_status(202);
    let post = once(recording(post, &log, UPLOAD_ACCEPTED));
    report_described(&mut server).create();
    let mut cursor = std::io::Cursor::new(b"HEADER{\"a\":1}".to_vec());
    let mut skip = [0u8; 6];
    cursor.read_exact(&mut skip).unwrap();
    let file = UploadFile::seekable(cursor, "we\"ird\\name\r\n.json").multimodal(false);
    assistant(&server).upload_file(file, Wait::No).unwrap();
    post.assert();
    let name = "we%22ird\\\\name%0D%0A.json";
    assert_first_body(&log, name, "application/json", b"{\"a\":1}", None);
    let seen = log.lock().unwrap();
    let boundary = boundary_of(&seen[0].content_type);
    let expected = expected_multipart(boundary, name, "application/json", b"{\"a\":1}", None);
    let length = expected.len().to_string();
    assert_eq!(seen[0].content_length.as_deref(), Some(length.as_str()));
}

#[test]
fn hostile_ids_are_one_percent_encoded_segment() {
    let (mut server, _resolve) = data_plane_described(1);
    let encoded = "a%2Fb%3Fc%23d%25";
    let file =
        r##"{"name":"x.md","id":"a/b?c#d%","signed_url":"https://storage.example/x?sig=1"}"##;
    let with_url = format!("{}?include_url=true", file_path(encoded));
    let described = once(get_json(&mut server, &with_url, file));
    let op = r##"{"id":"a/b?c#d%","status":"Processing"}"##;
    let op = once(get_json(&mut server, &operation_path(encoded), op));
    let delete = api(&mut server, "DELETE", &file_path(encoded)).with_status(204);
    let delete = once(delete);
    let docs = assistant(&server);
    let options = DescribeFileOptions::new().include_url(true);
    let file = docs.describe_file_with("a/b?c#d%", options).unwrap();
    let url = file.signed_url.as_deref();
    assert_eq!(url, Some("https://storage.example/x?sig=1"));
    assert_eq!(docs.describe_operation("a/b?c#d%").unwrap().id, "a/b?c#d%");
    assert_eq!(docs.delete_file("a/b?c#d%", Wait::Forever).unwrap(), None);
    assert_all(&[&described, &op, &delete]);
    assert!(matches!(
        docs.describe_file(""),
        Err(Error::InvalidArgument { ref name, .. }) if name == "file_id"
    ));
    assert!(matches!(
        docs.describe_operation(""),
        Err(Error::InvalidArgument { ref name, .. }) if name == "operation_id"
    ));
}

#[test]
fn describe_file_without_url_sends_no_query() {
    let (mut server, _resolve) = data_plane();
    let described = once(report_described(&mut server));
    let options = DescribeFileOptions::new().include_url(false);
    let file = assistant(&server).describe_file_with(REPORT_FILE_ID, options);
    described.assert();
    assert_eq!(file.unwrap().metadata, Some(json!({"team": "finance"})));
}

#[test]
fn the_plain_forms_send_no_options() {
    let (mut server, _resolve) = data_plane();
    let described = once(report_described(&mut server).match_query(Matcher::Missing));
    let files = get_json(&mut server, FILES, FILES_PAGE_2).match_query(Matcher::Missing);
    let files = once(files);
    let empty = r#"{"operations":[]}"#;
    let operations = get_json(&mut server, OPERATIONS, empty).match_query(Matcher::Missing);
    let operations = once(operations);
    let docs = assistant(&server);
    assert_eq!(
        docs.describe_file(REPORT_FILE_ID).unwrap().id,
        REPORT_FILE_ID
    );
    let listed: Vec<_> = docs.list_files().collect::<Result<_, _>>().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(docs.list_operations().count(), 0);
    assert_all(&[&described, &files, &operations]);
}

#[test]
fn list_files_repeats_the_compact_filter_on_every_page() {
    let (mut server, resolve) = data_plane_described(1);
    let filter = "%7B%22team%22%3A%7B%22%24eq%22%3A%22finance%22%7D%7D";
    let first = format!("{FILES}?filter={filter}");
    let page_1 = once(get_json(&mut server, &first, FILES_PAGE_1));
    let second = format!("{FILES}?pagination_token=eyJvZmZzZXQiOjJ9&filter={filter}");
    let page_2 = once(get_json(&mut server, &second, FILES_PAGE_2));
    let options = ListFilesOptions::new().filter(json!({"team": {"$eq": "finance"}}));
    let files = assistant(&server).list_files_with(options).unwrap();
    let ids: Vec<String> = files
        .map(|f| f.map(|f| f.id))
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(ids, [REPORT_FILE_ID, "notes_v2", "billing-faq"]);
    assert_all(&[&resolve, &page_1, &page_2]);
}

#[test]
fn list_files_limit_page_size_and_one_page_query_order() {
    let (mut server, _resolve) = data_plane();
    let limited = once(get_json(
        &mut server,
        &format!("{FILES}?limit=2"),
        FILES_PAGE_1,
    ));
    let query = "limit=5&pagination_token=tok%20en%2F%2B%26&filter=%7B%22a%22%3A1%7D";
    let one_page = once(get_json(
        &mut server,
        &format!("{FILES}?{query}"),
        FILES_PAGE_2,
    ));
    let docs = assistant(&server);
    // The limit ends the walk at the page end without fetching page 2.
    let walk = docs
        .list_files_with(ListFilesOptions::new().page_size(2))
        .unwrap()
        .max_items(2);
    let files: Vec<_> = walk.collect::<Result<_, _>>().unwrap();
    assert_eq!(files.len(), 2);
    let options = ListFilesOptions::new()
        .page_size(5)
        .pagination_token("tok en/+&")
        .filter(json!({"a": 1}));
    let page = docs.list_files_page(options).unwrap();
    assert_eq!(page.files[0].id, "billing-faq");
    assert_eq!(page.next_token(), None);
    assert_all(&[&limited, &one_page]);
    // Refused where it is given, not by the first `next()`.
    let zero = docs.list_files_with(ListFilesOptions::new().page_size(0));
    assert!(matches!(zero, Err(Error::InvalidArgument { ref name, .. }) if name == "page_size"));
}

#[test]
fn list_operations_page_and_paginator_repeat_the_filters() {
    let (mut server, _resolve) = data_plane_described(1);
    let first = format!("{OPERATIONS}?operation_type=upload_file&status=Completed&limit=3");
    let page = times(2, get_json(&mut server, &first, OPERATIONS_PAGE));
    let second = format!("{first}&pagination_token=b3BzOjM%3D");
    let empty = r#"{"operations":[],"pagination":null}"#;
    let page_2 = once(get_json(&mut server, &second, empty));
    let docs = assistant(&server);
    let opts = ListOperationsOptions::new()
        .operation_type(OperationType::UploadFile)
        .status("Completed")
        .page_size(3);
    let one = docs.list_operations_page(opts.clone()).unwrap();
    assert_eq!(one.operations.len(), 3);
    assert_eq!(one.next_token().as_deref(), Some("b3BzOjM="));
    let message = one.operations[1].error_message.as_deref();
    assert_eq!(
        message,
        Some("File processing failed: unsupported file format.")
    );
    let all: Vec<_> = docs
        .list_operations_with(opts)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(all[2].operation_type, Some(OperationType::DeleteFile));
    assert_all(&[&page, &page_2]);
}

#[test]
fn invalid_operation_filters_send_nothing() {
    let (mut server, resolve) = data_plane_described(0);
    let list = refuses(&mut server, "GET");
    let docs = assistant(&server);
    let options = ListOperationsOptions::new;
    let upload = options().operation_type("upload");
    for (opts, arg) in [
        (upload, "operation_type"),
        (options().status("processing"), "status"),
        (options().status("Completed "), "status"),
        (options().page_size(0), "page_size"),
    ] {
        // Refused where the options are given, not by the first `next()`.
        match docs.list_operations_with(opts.clone()) {
            Err(Error::InvalidArgument { name, reason }) => {
                assert_eq!(name, arg);
                if arg == "operation_type" {
                    assert!(reason.contains("\"upload_file\", \"upsert_file\", \"update_file_metadata\", \"delete_file\""), "{reason}");
                }
            }
            other => panic!("{opts:?}: {other:?}"),
        }
        assert!(matches!(
            docs.list_operations_page(opts),
            Err(Error::InvalidArgument { ref name, .. }) if name == arg
        ));
    }
    assert_all(&[&resolve, &list]);
}

#[test]
fn delete_file_204_is_done_without_polling() {
    let (mut server, _resolve) = data_plane();
    let delete = once(api(&mut server, "DELETE", &file_path("notes_v2")).with_status(204));
    let polls = no_get_under(&mut server, "/assistant/operations/");
    let out = assistant(&server).delete_file("notes_v2", Wait::Forever);
    assert_eq!(out.unwrap(), None);
    assert_all(&[&delete, &polls]);
}

/// The deletion of `report.pdf`, accepted with a 202.
fn delete_accepted(server: &mut ServerGuard) -> Mock {
    let path = file_path(REPORT_FILE_ID);
    answering(server, "DELETE", &path, 202, DELETE_ACCEPTED)
}

#[test]
fn delete_file_202_polls_until_completed() {
    let (mut server, _resolve) = data_plane();
    let delete = once(delete_accepted(&mut server));
    let op = operation_path(DELETE_OP_ID);
    let running = once(get_json(&mut server, &op, DELETE_ACCEPTED));
    let done = once(get_json(&mut server, &op, DELETE_COMPLETED));
    let out = assistant(&server).delete_file(REPORT_FILE_ID, Wait::Forever);
    let out = out.unwrap().expect("operation");
    assert_eq!(out.status, OperationStatus::Completed);
    assert_all(&[&delete, &running, &done]);
}

#[test]
fn delete_file_202_without_waiting_returns_the_operation() {
    let (mut server, _resolve) = data_plane();
    delete_accepted(&mut server).create();
    let polls = no_get_under(&mut server, "/assistant/operations/");
    let out = assistant(&server).delete_file(REPORT_FILE_ID, Wait::No);
    assert_eq!(out.unwrap().expect("operation").id, DELETE_OP_ID);
    polls.assert();
}

#[test]
fn replayed_delete_that_finds_the_file_gone_succeeds() {
    let (mut server, _resolve) = data_plane_described(1);
    let path = file_path("notes_v2");
    let failed = once(api(&mut server, "DELETE", &path).with_status(502));
    let gone = once(answering(&mut server, "DELETE", &path, 404, FILE_NOT_FOUND));
    let out = assistant(&server).delete_file("notes_v2", Wait::Forever);
    assert_eq!(out.unwrap(), None);
    assert_all(&[&failed, &gone]);
}

#[test]
fn a_first_delete_404_is_not_found() {
    let (mut server, _resolve) = data_plane();
    let ghost = file_path("ghost");
    answering(&mut server, "DELETE", &ghost, 404, FILE_NOT_FOUND).create();
    let err = assistant(&server).delete_file("ghost", Wait::Forever);
    assert!(err.as_ref().unwrap_err().is_not_found(), "{err:?}");
}

#[test]
fn host_is_described_once_for_many_calls() {
    let (mut server, resolve) = data_plane_described(1);
    let files = times(2, get_json(&mut server, FILES, FILES_PAGE_2));
    let op_path = operation_path(UPLOAD_OP_ID);
    let op = once(get_json(&mut server, &op_path, UPLOAD_COMPLETED));
    let client = client(&server);
    let docs = client.assistant(ASSISTANT);
    docs.list_files_page(ListFilesOptions::new()).unwrap();
    // Another handle and a clone of the client share the cache.
    let again = client.clone().assistant(ASSISTANT);
    again.list_files_page(ListFilesOptions::new()).unwrap();
    let third = client.assistant(ASSISTANT);
    third.describe_operation(UPLOAD_OP_ID).unwrap();
    assert_all(&[&resolve, &files, &op]);
}

#[test]
fn a_data_plane_404_re_resolves_and_replays_on_the_new_host() {
    let mut control = Server::new();
    let mut old_host = Server::new();
    let mut new_host = Server::new();
    let first = once(describe(&mut control, ASSISTANT, &old_host.url()));
    let old_ok = once(get_json(&mut old_host, FILES, FILES_PAGE_2));
    let client = client(&control);
    let docs = client.assistant(ASSISTANT);
    docs.list_files_page(ListFilesOptions::new()).unwrap();
    assert_all(&[&first, &old_ok]);

    // The assistant moved: the old host now answers 404 and describe names the new.
    first.remove();
    old_ok.remove();
    let second = once(describe(&mut control, ASSISTANT, &new_host.url()));
    let moved = r#"{"error":{"code":"NOT_FOUND","message":"Assistant not found."},"status":404}"#;
    let old_gone = once(answering(&mut old_host, "GET", FILES, 404, moved));
    let new_ok = times(2, get_json(&mut new_host, FILES, FILES_PAGE_1));
    let page = docs.list_files_page(ListFilesOptions::new()).unwrap();
    assert_eq!(page.files.len(), 2);
    // The new host is cached now: no further describe.
    docs.list_files_page(ListFilesOptions::new()).unwrap();
    assert_all(&[&second, &old_gone, &new_ok]);
}

#[test]
fn cancelling_stops_an_upload_mid_body() {
    let (mut server, _resolve) = data_plane();
    upload_accepted(&mut server).create();
    let stop = pinecone_assistant::CancelHandle::new();
    let trigger = stop.clone();
    let client = client(&server).with_cancel_handle(stop);
    let (calls, mut record) = progress_log();
    let big = std::io::repeat(b'x').take(8 << 20);
    let file = UploadFile::reader(big, "big.txt", 8 << 20).on_progress(move |sent, total| {
        record(sent, total);
        trigger.cancel();
    });
    let err = client.assistant(ASSISTANT).upload_file(file, Wait::No);
    assert!(matches!(err, Err(Error::Cancelled)), "{err:?}");
    let calls = calls.lock().unwrap();
    assert_eq!(calls.len(), 1);
    assert!(calls[0].0 < 8 << 20);
}

#[test]
fn seekable_reader_is_replayed_from_where_it_stood() {
    let (mut server, _resolve) = data_plane();
    let log = Log::default();
    let path = file_path("notes");
    let refused = api(&mut server, "PUT", &path).with_status(503);
    let refused = once(recording(
        refused.with_header("retry-after", "2"),
        &log,
        UNAVAILABLE,
    ));
    let accepted = api(&mut server, "PUT", &path).with_status(202);
    let accepted = once(recording(accepted, &log, UPSERT_ACCEPTED));
    let described = r#"{"name":"notes.md","id":"notes","status":"Processing"}"#;
    get_json(&mut server, &path, described).create();
    let mut cursor = std::io::Cursor::new(b"skip-me|# Notes\n".to_vec());
    cursor.set_position(8);
    let file = UploadFile::seekable(cursor, "notes.md").file_id("notes");
    assistant(&server).upload_file(file, Wait::No).unwrap();
    assert_all(&[&refused, &accepted]);
    let seen = log.lock().unwrap();
    assert_eq!(seen.len(), 2);
    for got in seen.iter() {
        let boundary = boundary_of(&got.content_type);
        let expected =
            expected_multipart(boundary, "notes.md", "text/markdown", b"# Notes\n", None);
        assert_eq!(got.body, expected);
    }
}

/// Warnings logged by this crate, kept for the tests that look for one.
static WARNINGS: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct WarningLog;

impl log::Log for WarningLog {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.level() <= log::Level::Warn && metadata.target().starts_with("pinecone_assistant")
    }
    fn log(&self, record: &log::Record) {
        if self.enabled(record.metadata()) {
            WARNINGS.lock().unwrap().push(record.args().to_string());
        }
    }
    fn flush(&self) {}
}

/// Starts keeping this crate's warnings (once per test binary).
fn keep_warnings() {
    if log::set_logger(&WarningLog).is_ok() {
        log::set_max_level(log::LevelFilter::Warn);
    }
}

/// The warnings kept so far that mention `needle`.
fn warnings_about(needle: &str) -> Vec<String> {
    let all = WARNINGS.lock().unwrap();
    all.iter().filter(|w| w.contains(needle)).cloned().collect()
}

#[test]
fn only_a_chunked_reader_goes_out_without_a_length_and_it_says_so() {
    keep_warnings();
    let (mut server, _resolve) = data_plane();
    let log = Log::default();
    let post = api(&mut server, "POST", FILES).with_status(202);
    let post = times(2, recording(post, &log, UPLOAD_ACCEPTED));
    report_described(&mut server).create();
    let docs = assistant(&server);
    let sized = UploadFile::reader(&b"# Sized\n"[..], "sized-warned.md", 8);
    docs.upload_file(sized, Wait::No).unwrap();
    let chunked = UploadFile::chunked_reader(&b"# Chunked\n"[..], "chunked-warned.md");
    docs.upload_file(chunked, Wait::No).unwrap();
    post.assert();
    let seen = log.lock().unwrap().clone();
    assert!(seen[0].content_length.is_some() && seen[0].transfer_encoding.is_none());
    assert!(seen[1].content_length.is_none());
    assert_eq!(seen[1].transfer_encoding.as_deref(), Some("chunked"));
    assert!(warnings_about("sized-warned.md").is_empty());
    let warned = warnings_about("chunked-warned.md");
    assert_eq!(warned.len(), 1, "{warned:?}");
    assert!(warned[0].contains("Content-Length"), "{}", warned[0]);
    assert!(warned[0].contains("UploadFile::reader(reader, file_name, length)"));
}

#[test]
fn a_refused_chunked_upload_names_the_fix() {
    for status in [411, 400] {
        let (mut server, _resolve) = data_plane();
        let body =
            r#"{"error":{"code":"INVALID_ARGUMENT","message":"Length Required"},"status":411}"#;
        answering(&mut server, "POST", FILES, status, body).create();
        let docs = assistant(&server);
        let chunked = UploadFile::chunked_reader(&b"# Notes\n"[..], "notes.md");
        let err = docs.upload_file(chunked, Wait::No).unwrap_err();
        assert_eq!(err.status(), Some(status as u16));
        let text = err.to_string();
        assert!(text.contains("Length Required"), "{text}");
        assert!(
            text.contains("went out chunked")
                && text.contains("UploadFile::reader(reader, file_name, length)"),
            "{text}"
        );
        // A body with a length was refused for another reason: no such advice.
        let sized = UploadFile::reader(&b"# Notes\n"[..], "notes.md", 8);
        let text = docs.upload_file(sized, Wait::No).unwrap_err().to_string();
        assert!(!text.contains("chunked"), "{text}");
    }
}
