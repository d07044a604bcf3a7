//! The in-process emulator: clients for it, and raw HTTP for what the client does
//! not expose (the wire format itself, fault hooks over HTTP, stream bytes).

use std::io::{BufRead, BufReader};
use std::time::Duration;

use pinecone_assistant::emulator::{Emulator, EmulatorBuilder};
use pinecone_assistant::models::{AssistantModel, CreateAssistantRequest, UploadFile};
use pinecone_assistant::testing::TestHooks;
use pinecone_assistant::{Assistant, Client, ClientConfig, Error, RetryPolicy, Wait};
use serde_json::{Value, json};

use super::fixtures::{HANDBOOK, SHIPPING_NOTE};

/// An emulator with short delays and a fixed seed.
pub fn fast() -> Emulator {
    Emulator::builder()
        .ready_delay(Duration::from_millis(20))
        .delete_delay(Duration::from_millis(20))
        .processing_delay(Duration::from_millis(30))
        .seed(7)
        .start()
        .expect("emulator starts")
}

/// Starts the emulator `builder` describes.
pub fn start(builder: EmulatorBuilder) -> Emulator {
    builder.start().expect("emulator starts")
}

/// `n` milliseconds.
pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A [`fast`] emulator and a [`client`] of it.
pub fn fast_client() -> (Emulator, Client) {
    let emu = fast();
    let client = client(&emu);
    (emu, client)
}

/// A client of `emu` (evaluation included) with `key` and `retry`, polling every
/// millisecond and never sleeping for real.
pub fn client_with(emu: &Emulator, key: &str, retry: RetryPolicy) -> Client {
    Client::new(
        ClientConfig::builder(key)
            .host(emu.url())
            .evaluation_host(emu.url())
            .sleeper(|_| {})
            .retry(retry)
            .create_poll_interval(Duration::from_millis(1))
            .operation_poll_interval(Duration::from_millis(1))
            .build(),
    )
    .expect("valid config")
}

/// [`client_with`] the emulator's key and the default retry policy.
pub fn client(emu: &Emulator) -> Client {
    client_with(emu, emu.api_key(), RetryPolicy::default())
}

/// Creates assistant `name` without waiting.
pub fn create(client: &Client, name: &str) -> Result<AssistantModel, Error> {
    client.create_assistant(CreateAssistantRequest::new(name), Wait::No)
}

/// A ready, empty assistant `docs`.
pub fn ready(emu: &Emulator) -> Assistant {
    let c = client(emu);
    c.create_assistant(CreateAssistantRequest::new("docs"), Wait::Forever)
        .unwrap();
    c.assistant("docs")
}

/// [`ready`], holding [`HANDBOOK`] as `kettle.md` (team `support`) and
/// [`SHIPPING_NOTE`] as `shipping.txt` (team `logistics`), both processed.
pub fn loaded(emu: &Emulator) -> Assistant {
    let docs = ready(emu);
    docs.upload_file(
        UploadFile::bytes(HANDBOOK.as_bytes().to_vec(), "kettle.md")
            .metadata(json!({"team": "support"})),
        Wait::Forever,
    )
    .unwrap();
    docs.upload_file(
        UploadFile::bytes(SHIPPING_NOTE.as_bytes().to_vec(), "shipping.txt")
            .metadata(json!({"team": "logistics"})),
        Wait::Forever,
    )
    .unwrap();
    docs
}

/// The status of a raw answer and the error code in its body.
pub fn code_of(status: u16, body: &Value) -> (u16, Option<&str>) {
    (status, body["error"]["code"].as_str())
}

/// The status and error code of an API error.
pub fn api_status(e: &Error) -> (Option<u16>, Option<String>) {
    (e.status(), e.api().and_then(|a| a.code.clone()))
}

/// How many `method` requests to exactly `path` the emulator has logged.
pub fn count(emu: &Emulator, method: &str, path: &str) -> usize {
    emu.requests()
        .iter()
        .filter(|r| r.method == method && r.path == path)
        .count()
}

// ---------------------------------------------------------------- raw HTTP

/// A plain HTTP agent that keeps error bodies readable.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

/// The emulator's API key as a header.
pub fn key(emu: &Emulator) -> [(&'static str, String); 1] {
    [("Api-Key", emu.api_key().to_owned())]
}

/// One request with a `(content type, bytes)` body and the given headers;
/// returns the status and the body.
pub fn send(
    emu: &Emulator,
    method: &str,
    path: &str,
    body: Option<(String, Vec<u8>)>,
    headers: &[(&str, String)],
) -> (u16, Vec<u8>) {
    let mut req = ureq::http::Request::builder()
        .method(method)
        .uri(format!("{}{path}", emu.url()));
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let (ct, bytes) = body.unwrap_or_default();
    if !ct.is_empty() {
        req = req.header("Content-Type", ct);
    }
    let mut resp = agent().run(req.body(bytes).unwrap()).unwrap();
    let status = resp.status().as_u16();
    let bytes = resp.body_mut().read_to_vec().unwrap();
    (status, bytes)
}

/// One request with a JSON body and the given headers; returns the status and
/// the JSON body (`Null` for an empty or non-JSON body).
pub fn raw(
    emu: &Emulator,
    method: &str,
    path: &str,
    body: Option<Value>,
    headers: &[(&str, String)],
) -> (u16, Value) {
    let (status, bytes) = send(
        emu,
        method,
        path,
        body.map(|b| ("application/json".to_owned(), b.to_string().into_bytes())),
        headers,
    );
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// [`raw`] with the emulator's API key.
pub fn authed(emu: &Emulator, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    raw(emu, method, path, body, &key(emu))
}

/// Uploads `text` as `name` through a hand-written multipart body (PUT with a
/// `file_id`, POST without); returns the status and the operation.
pub fn upload(
    emu: &Emulator,
    assistant: &str,
    name: &str,
    text: &[u8],
    metadata: Option<Value>,
    file_id: Option<&str>,
) -> (u16, Value) {
    let boundary = "b0a7c3d9e1f2";
    let file = format!("name=\"file\"; filename=\"{name}\"\r\nContent-Type: text/plain");
    let mut parts = vec![(file, text.to_vec())];
    if let Some(m) = metadata {
        parts.push(("name=\"metadata\"".to_owned(), m.to_string().into_bytes()));
    }
    let mut body = Vec::new();
    for (disposition, content) in parts {
        let head = format!("--{boundary}\r\nContent-Disposition: form-data; {disposition}\r\n\r\n");
        body.extend_from_slice(head.as_bytes());
        body.extend_from_slice(&content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let (method, path) = match file_id {
        Some(id) => ("PUT", format!("/assistant/files/{assistant}/{id}")),
        None => ("POST", format!("/assistant/files/{assistant}")),
    };
    let (status, bytes) = send(
        emu,
        method,
        &path,
        Some((format!("multipart/form-data; boundary={boundary}"), body)),
        &key(emu),
    );
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// Polls operation `op` until it leaves `Processing`; returns it.
pub fn wait_op(emu: &Emulator, assistant: &str, op: &str) -> Value {
    for _ in 0..500 {
        let (_, o) = authed(
            emu,
            "GET",
            &format!("/assistant/operations/{assistant}/{op}"),
            None,
        );
        if o["status"] != "Processing" {
            return o;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("operation {op} did not finish");
}

/// Creates assistant `docs` and uploads, over raw HTTP, [`HANDBOOK`] as
/// `kettle.md` (team `support`, year 2026) and the shipping note as `notes`
/// (an upsert, team `logistics`), waiting for both.
pub fn with_files(emu: &Emulator) {
    client(emu)
        .create_assistant(CreateAssistantRequest::new("docs"), Wait::Forever)
        .unwrap();
    let (s, op) = upload(
        emu,
        "docs",
        "kettle.md",
        HANDBOOK.as_bytes(),
        Some(json!({"team": "support", "year": 2026})),
        None,
    );
    assert_eq!((s, op["status"].as_str()), (202, Some("Processing")));
    assert_eq!(
        wait_op(emu, "docs", op["id"].as_str().unwrap())["status"],
        "Completed"
    );
    let (_, op) = upload(
        emu,
        "docs",
        "notes.txt",
        SHIPPING_NOTE.as_bytes(),
        Some(json!({"team": "logistics"})),
        Some("notes"),
    );
    assert_eq!(op["operation_type"], "upsert_file");
    wait_op(emu, "docs", op["id"].as_str().unwrap());
}

/// POSTs `body` to a streaming endpoint and reads the lines until the body ends
/// (`true`) or fails (`false`).
pub fn stream_lines(emu: &Emulator, path: &str, body: Value) -> (Vec<String>, bool) {
    let req = ureq::http::Request::builder()
        .method("POST")
        .uri(format!("{}{path}", emu.url()))
        .header("Api-Key", emu.api_key())
        .header("Content-Type", "application/json")
        .body(body.to_string())
        .unwrap();
    let resp = agent().run(req).unwrap();
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let mut lines = Vec::new();
    let mut reader = BufReader::new(resp.into_body().into_reader());
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) => return (lines, true),
            Ok(_) => lines.push(line.trim_end().to_owned()),
            Err(_) => return (lines, false),
        }
    }
}

/// The `data:` payloads of stream `lines`, as JSON where they parse.
pub fn events(lines: &[String]) -> Vec<Value> {
    lines
        .iter()
        .filter_map(|l| l.strip_prefix("data: "))
        .map(|d| serde_json::from_str(d).unwrap_or(Value::String(d.to_owned())))
        .collect()
}
