//! The emulator, driven through the Rust client (control plane) and raw HTTP
//! (data plane, fault hooks, streams).
#![cfg(feature = "emulator")]

use std::io::{BufRead, BufReader, Read};
use std::time::Duration;

use pinecone_assistant::emulator::{Emulator, Fault};
use pinecone_assistant::models::{
    CreateAssistantRequest, ListOptions, Region, UpdateAssistantRequest,
};
use pinecone_assistant::{Client, ClientConfig, Error, RetryPolicy, Wait};
use serde_json::{Value, json};

fn fast() -> Emulator {
    Emulator::builder()
        .ready_delay(Duration::from_millis(20))
        .delete_delay(Duration::from_millis(20))
        .processing_delay(Duration::from_millis(30))
        .seed(7)
        .start()
        .expect("emulator starts")
}

fn client_with(emu: &Emulator, key: &str, retry: RetryPolicy) -> Client {
    Client::new(
        ClientConfig::builder(key)
            .host(emu.url())
            .sleeper(|_| {})
            .retry(retry)
            .create_poll_interval(Duration::from_millis(1))
            .operation_poll_interval(Duration::from_millis(1))
            .build(),
    )
    .expect("valid config")
}

fn client(emu: &Emulator) -> Client {
    client_with(emu, emu.api_key(), RetryPolicy::default())
}

fn api_status(e: &Error) -> (Option<u16>, Option<String>) {
    (e.status(), e.api().and_then(|a| a.code.clone()))
}

fn count(emu: &Emulator, method: &str, path: &str) -> usize {
    emu.requests()
        .iter()
        .filter(|r| r.method == method && r.path == path)
        .count()
}

// ---------------------------------------------------------------- control plane

#[test]
fn create_reaches_ready_and_points_the_host_back() {
    let emu = fast();
    let c = client(&emu);
    let req = CreateAssistantRequest::new("support-bot")
        .instructions("Be brief.")
        .metadata(json!({"team": "billing"}))
        .region(Region::Eu);
    let a = c
        .create_assistant(req, Wait::For(Duration::from_secs(5)))
        .unwrap();
    assert_eq!(a.status.to_string(), "Ready");
    assert_eq!(a.host.as_deref(), Some(emu.url()));
    assert_eq!(a.region.as_deref(), Some("eu"));
    assert_eq!(a.metadata, Some(json!({"team": "billing"})));
    let posts = emu
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .collect::<Vec<_>>();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].header("x-pinecone-api-version"), Some("2026-07"));
    assert_eq!(posts[0].header("content-type"), Some("application/json"));
}

#[test]
fn creation_answer_is_initializing_then_ready_after_the_delay() {
    let emu = Emulator::builder()
        .ready_delay(Duration::from_millis(300))
        .start()
        .unwrap();
    let c = client(&emu);
    let started = std::time::Instant::now();
    let a = c
        .create_assistant(CreateAssistantRequest::new("slow"), Wait::No)
        .unwrap();
    assert_eq!(a.status.to_string(), "Initializing");
    let ready = loop {
        let status = c.describe_assistant("slow").unwrap().status.to_string();
        if status == "Ready" {
            break started.elapsed();
        }
        assert_eq!(status, "Initializing");
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(ready >= Duration::from_millis(300), "{ready:?}");
}

#[test]
fn duplicates_and_invalid_names_are_refused() {
    let emu = fast();
    let c = client(&emu);
    c.create_assistant(CreateAssistantRequest::new("dup"), Wait::No)
        .unwrap();
    let e = c
        .create_assistant(CreateAssistantRequest::new("dup"), Wait::No)
        .unwrap_err();
    assert_eq!(api_status(&e), (Some(409), Some("ALREADY_EXISTS".into())));
    for bad in ["Upper", "-lead", "trail-", "under_score", &"x".repeat(64)] {
        let e = c
            .create_assistant(CreateAssistantRequest::new(bad), Wait::No)
            .unwrap_err();
        assert_eq!(
            api_status(&e),
            (Some(400), Some("INVALID_ARGUMENT".into())),
            "{bad}"
        );
    }
    assert_eq!(c.list_assistants().count(), 1);
}

#[test]
fn list_paginates_over_several_pages() {
    let emu = Emulator::builder().page_size(3).start().unwrap();
    let c = client(&emu);
    let names: Vec<String> = (0..7).map(|i| format!("a{i}")).collect();
    for n in &names {
        c.create_assistant(CreateAssistantRequest::new(n.as_str()), Wait::No)
            .unwrap();
    }
    emu.clear_requests();
    let listed: Vec<String> = c.list_assistants().map(|a| a.unwrap().name).collect();
    assert_eq!(listed, names);
    assert_eq!(count(&emu, "GET", "/assistant/assistants"), 3);

    let page = c
        .list_assistants_page(ListOptions::new().page_size(5))
        .unwrap();
    assert_eq!(page.assistants.len(), 5);
    let rest = c
        .list_assistants_page(
            ListOptions::new()
                .page_size(5)
                .pagination_token(page.next_token().unwrap()),
        )
        .unwrap();
    assert_eq!(rest.assistants.len(), 2);
    assert_eq!(rest.next_token(), None);
    let e = c
        .list_assistants_page(ListOptions::new().pagination_token("bogus!"))
        .unwrap_err();
    assert_eq!(e.status(), Some(400));
}

#[test]
fn update_replaces_instructions_and_metadata() {
    let emu = fast();
    let c = client(&emu);
    c.create_assistant(
        CreateAssistantRequest::new("u")
            .instructions("old")
            .metadata(json!({"a": 1, "b": 2})),
        Wait::No,
    )
    .unwrap();
    let a = c
        .update_assistant("u", UpdateAssistantRequest::new().metadata(json!({"c": 3})))
        .unwrap();
    assert_eq!(a.metadata, Some(json!({"c": 3})));
    assert_eq!(a.instructions.as_deref(), Some("old"));
    let a = c
        .update_assistant("u", UpdateAssistantRequest::new().instructions("new"))
        .unwrap();
    assert_eq!(a.instructions.as_deref(), Some("new"));
    let e = c
        .update_assistant("ghost", UpdateAssistantRequest::new().instructions("x"))
        .unwrap_err();
    assert!(e.is_not_found());
}

#[test]
fn delete_goes_through_terminating_to_not_found() {
    let emu = Emulator::builder()
        .ready_delay(Duration::ZERO)
        .delete_delay(Duration::from_millis(100))
        .start()
        .unwrap();
    let c = client(&emu);
    c.create_assistant(CreateAssistantRequest::new("gone"), Wait::No)
        .unwrap();
    c.delete_assistant("gone", Wait::No).unwrap();
    assert_eq!(
        c.describe_assistant("gone").unwrap().status.to_string(),
        "Terminating"
    );
    c.delete_assistant("gone", Wait::Forever).unwrap();
    let e = c.describe_assistant("gone").unwrap_err();
    assert!(e.is_not_found());
    assert_eq!(api_status(&e).1.as_deref(), Some("NOT_FOUND"));
    // The name is free again.
    c.create_assistant(CreateAssistantRequest::new("gone"), Wait::No)
        .unwrap();
}

#[test]
fn wrong_or_missing_key_is_401_with_the_real_body() {
    let emu = fast();
    let e = client_with(&emu, "wrong", RetryPolicy::default())
        .describe_assistant("x")
        .unwrap_err();
    assert_eq!(api_status(&e), (Some(401), Some("UNAUTHENTICATED".into())));
    let (status, body) = raw(&emu, "GET", "/assistant/assistants", None, &[]);
    assert_eq!(status, 401);
    assert_eq!(body["status"], 401);
    assert_eq!(body["error"]["code"], "UNAUTHENTICATED");
}

#[test]
fn unknown_resources_are_404_not_found() {
    let emu = fast();
    let c = client(&emu);
    let e = c.describe_assistant("ghost-bot").unwrap_err();
    assert!(e.is_not_found());
    assert_eq!(
        e.api().unwrap().message,
        "Assistant \"ghost-bot\" not found."
    );
    let key = [("Api-Key", emu.api_key().to_owned())];
    for path in [
        "/assistant/files/ghost",
        "/assistant/operations/ghost",
        "/assistant/nothing-here",
    ] {
        let (status, body) = raw(&emu, "GET", path, None, &key);
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (404, Some("NOT_FOUND")),
            "{path}"
        );
    }
}

#[test]
fn percent_encoded_names_are_decoded() {
    let emu = fast();
    let key = [("Api-Key", emu.api_key().to_owned())];
    raw(
        &emu,
        "POST",
        "/assistant/assistants",
        Some(json!({"name": "a-b"})),
        &key,
    );
    let (status, body) = raw(&emu, "GET", "/assistant/assistants/%61-b", None, &key);
    assert_eq!((status, body["name"].as_str()), (200, Some("a-b")));
}

// ---------------------------------------------------------------- faults

#[test]
fn status_faults_are_retried_to_success_on_safe_calls() {
    let emu = fast();
    let c = client(&emu);
    c.create_assistant(CreateAssistantRequest::new("f"), Wait::No)
        .unwrap();
    emu.inject(
        Fault::status(503)
            .retry_after("0")
            .times(2)
            .path_contains("/assistants/f")
            .method("GET"),
    );
    emu.clear_requests();
    c.describe_assistant("f").unwrap();
    assert_eq!(count(&emu, "GET", "/assistant/assistants/f"), 3);
    emu.inject(Fault::status(500).times(1));
    c.describe_assistant("f").unwrap();
    assert_eq!(count(&emu, "GET", "/assistant/assistants/f"), 5);
}

#[test]
fn create_is_not_replayed_after_500_or_429() {
    let emu = fast();
    let c = client(&emu);
    emu.inject(Fault::status(500).method("POST"));
    let e = c
        .create_assistant(CreateAssistantRequest::new("x"), Wait::No)
        .unwrap_err();
    assert_eq!(e.status(), Some(500));
    emu.inject(Fault::status(429).retry_after("120").method("POST").body(r#"{"error":{"code":"ALREADY_EXISTS","message":"Assistant x already exists"},"status":429}"#));
    let e = c
        .create_assistant(CreateAssistantRequest::new("x"), Wait::No)
        .unwrap_err();
    let api = e.api().unwrap();
    assert_eq!(
        (api.status, api.code.as_deref()),
        (429, Some("ALREADY_EXISTS"))
    );
    assert_eq!(api.retry_after, Some(Duration::from_secs(120)));
    assert_eq!(count(&emu, "POST", "/assistant/assistants"), 2);
}

#[test]
fn retries_give_up_with_the_last_error() {
    let emu = fast();
    let c = client_with(&emu, emu.api_key(), RetryPolicy::default().max_retries(2));
    emu.inject(Fault::status(502).times(10));
    let e = c.describe_assistant("any").unwrap_err();
    assert_eq!(e.status(), Some(502));
    assert_eq!(emu.requests().len(), 3);
    emu.clear_faults();
    assert!(c.describe_assistant("any").unwrap_err().is_not_found());
}

#[test]
fn reset_is_retried_on_get_and_not_on_create() {
    let emu = fast();
    let c = client(&emu);
    emu.inject(Fault::reset().method("POST"));
    let e = c
        .create_assistant(CreateAssistantRequest::new("r"), Wait::No)
        .unwrap_err();
    assert!(matches!(e, Error::Transport(_)), "{e:?}");
    assert_eq!(count(&emu, "POST", "/assistant/assistants"), 1);
    c.create_assistant(CreateAssistantRequest::new("r"), Wait::No)
        .unwrap();
    emu.inject(Fault::reset().times(2).method("GET"));
    c.describe_assistant("r").unwrap();
    assert_eq!(count(&emu, "GET", "/assistant/assistants/r"), 3);
}

#[test]
fn delay_beyond_the_timeout_is_a_timeout_then_a_retry() {
    let emu = fast();
    let c = Client::new(
        ClientConfig::builder(emu.api_key())
            .host(emu.url())
            .sleeper(|_| {})
            .timeout(Duration::from_millis(400))
            .build(),
    )
    .unwrap();
    c.create_assistant(CreateAssistantRequest::new("d"), Wait::No)
        .unwrap();
    emu.inject(Fault::delay(Duration::from_secs(2)).method("GET"));
    c.describe_assistant("d").unwrap();
    assert_eq!(count(&emu, "GET", "/assistant/assistants/d"), 2);
    emu.inject(Fault::delay(Duration::from_secs(2)).method("POST"));
    let e = c
        .create_assistant(CreateAssistantRequest::new("d2"), Wait::No)
        .unwrap_err();
    assert!(matches!(e, Error::Timeout(_)), "{e:?}");
}

#[test]
fn faults_can_be_queued_over_http() {
    let emu = fast();
    let (status, _) = raw(
        &emu,
        "POST",
        "/_emulator/faults",
        Some(json!({"kind": "status", "status": 418, "times": 1, "path_contains": "/assistants"})),
        &[],
    );
    assert_eq!(status, 200);
    let e = client(&emu).describe_assistant("x").unwrap_err();
    assert_eq!(e.status(), Some(418));
    let (status, body) = raw(
        &emu,
        "POST",
        "/_emulator/faults",
        Some(json!({"kind": "nope"})),
        &[],
    );
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("INVALID_ARGUMENT"))
    );
    let (_, log) = raw(&emu, "GET", "/_emulator/requests", None, &[]);
    assert_eq!(log["requests"].as_array().unwrap().len(), 1);
    assert_eq!(log["requests"][0]["path"], "/assistant/assistants/x");
}

// ---------------------------------------------------------------- data plane (raw HTTP)

/// One request with the given headers; returns the status and the JSON body (or
/// `Null` for an empty or non-JSON body).
fn raw(
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

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

fn send(
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

fn key(emu: &Emulator) -> [(&'static str, String); 1] {
    [("Api-Key", emu.api_key().to_owned())]
}

fn upload(
    emu: &Emulator,
    assistant: &str,
    name: &str,
    text: &[u8],
    metadata: Option<Value>,
    file_id: Option<&str>,
) -> (u16, Value) {
    let boundary = "b0a7c3d9e1f2";
    let mut body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: text/plain\r\n\r\n").into_bytes();
    body.extend_from_slice(text);
    if let Some(m) = metadata {
        body.extend_from_slice(
            format!(
                "\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n{m}"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
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

fn wait_op(emu: &Emulator, assistant: &str, op: &str) -> Value {
    for _ in 0..500 {
        let (_, o) = raw(
            emu,
            "GET",
            &format!("/assistant/operations/{assistant}/{op}"),
            None,
            &key(emu),
        );
        if o["status"] != "Processing" {
            return o;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("operation {op} did not finish");
}

const HANDBOOK: &str = "# Zephyr Kettle\n\nThe Zephyr kettle boils one litre in 90 seconds.\n\n## Warranty\n\nThe warranty covers two years of normal use. Refunds are possible within 30 days.";

fn with_files(emu: &Emulator) {
    let c = client(emu);
    c.create_assistant(CreateAssistantRequest::new("docs"), Wait::Forever)
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
        b"Shipping takes five days to Europe.",
        Some(json!({"team": "logistics"})),
        Some("notes"),
    );
    assert_eq!(op["operation_type"], "upsert_file");
    wait_op(emu, "docs", op["id"].as_str().unwrap());
}

#[test]
fn uploads_index_and_answer_with_citations() {
    let emu = fast();
    with_files(&emu);
    let (_, ctx) = raw(
        &emu,
        "POST",
        "/assistant/chat/docs/context",
        Some(json!({"query": "how fast does the kettle boil", "top_k": 1})),
        &key(&emu),
    );
    let snippets = ctx["snippets"].as_array().unwrap();
    assert_eq!(snippets.len(), 1);
    assert_eq!(snippets[0]["reference"]["type"], "markdown");
    assert_eq!(snippets[0]["reference"]["file"]["name"], "kettle.md");
    assert!(snippets[0]["reference"].get("pages").is_none());

    let (_, chat) = raw(
        &emu,
        "POST",
        "/assistant/chat/docs",
        Some(
            json!({"messages": [{"role": "user", "content": "How long is the warranty?"}], "include_highlights": true}),
        ),
        &key(&emu),
    );
    let content = chat["message"]["content"].as_str().unwrap();
    assert_eq!(content, "The warranty covers two years of normal use.");
    let cit = &chat["citations"][0];
    assert_eq!(cit["position"], content.chars().count());
    assert_eq!(cit["references"][0]["file"]["name"], "kettle.md");
    assert_eq!(cit["references"][0]["highlight"]["content"], content);
    assert!(chat["usage"]["total_tokens"].as_u64().unwrap() > 0);

    // A filter that excludes the kettle leaves only the shipping note.
    let (_, chat) = raw(
        &emu,
        "POST",
        "/assistant/chat/docs",
        Some(
            json!({"messages": [{"content": "warranty shipping"}], "filter": {"team": {"$ne": "support"}}}),
        ),
        &key(&emu),
    );
    assert_eq!(
        chat["message"]["content"],
        "Shipping takes five days to Europe."
    );
    let (_, chat) = raw(
        &emu,
        "POST",
        "/assistant/chat/docs",
        Some(json!({"messages": [{"content": "quantum physics"}]})),
        &key(&emu),
    );
    assert_eq!(chat["citations"], json!([]));
    assert_eq!(chat["context_snippet_count"], 0);

    let (_, j) = raw(
        &emu,
        "POST",
        "/assistant/chat/docs",
        Some(json!({"messages": [{"content": "warranty"}], "json_response": true})),
        &key(&emu),
    );
    let inner: Value = serde_json::from_str(j["message"]["content"].as_str().unwrap()).unwrap();
    assert_eq!(inner["sources"], json!(["kettle.md"]));
}

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
        let (_, page) = raw(
            &emu,
            "GET",
            &format!(
                "/assistant/files/docs?filter=%7B%22team%22%3A+%7B%22%24in%22%3A+%5B%22support%22%2C+%22logistics%22%5D%7D%7D{q}"
            ),
            None,
            &key(&emu),
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

    let (_, ops) = raw(
        &emu,
        "GET",
        "/assistant/operations/docs?status=Failed&limit=10",
        None,
        &key(&emu),
    );
    assert_eq!(ops["operations"].as_array().unwrap().len(), 1);
    let (s, _) = raw(
        &emu,
        "GET",
        "/assistant/operations/docs?status=failed",
        None,
        &key(&emu),
    );
    assert_eq!(s, 400);

    let (s, _) = raw(
        &emu,
        "DELETE",
        &format!("/assistant/files/docs/{}", pdf["file_id"].as_str().unwrap()),
        None,
        &key(&emu),
    );
    assert_eq!(s, 204);
    let (s, op) = raw(
        &emu,
        "DELETE",
        "/assistant/files/docs/notes",
        None,
        &key(&emu),
    );
    assert_eq!(
        (s, op["operation_type"].as_str()),
        (202, Some("delete_file"))
    );
    wait_op(&emu, "docs", op["id"].as_str().unwrap());
    let (s, _) = raw(&emu, "GET", "/assistant/files/docs/notes", None, &key(&emu));
    assert_eq!(s, 404);
}

/// Reads a stream's lines until the body ends or fails.
fn stream_lines(emu: &Emulator, path: &str, body: Value) -> (Vec<String>, bool) {
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

fn data(lines: &[String]) -> Vec<Value> {
    lines
        .iter()
        .filter_map(|l| l.strip_prefix("data: "))
        .map(|d| serde_json::from_str(d).unwrap_or(Value::String(d.to_owned())))
        .collect()
}

#[test]
fn chat_streams_event_by_event_and_faults_cut_it() {
    let emu = fast();
    with_files(&emu);
    let ask = json!({"messages": [{"role": "user", "content": "How long is the warranty?"}], "stream": true});
    let (lines, clean) = stream_lines(&emu, "/assistant/chat/docs", ask.clone());
    assert!(clean);
    assert_eq!(lines[0], ": heartbeat");
    let events = data(&lines);
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds.first(), Some(&"message_start"));
    assert_eq!(kinds[kinds.len() - 2..], ["citation", "message_end"]);
    let text: String = events
        .iter()
        .filter_map(|e| e["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "The warranty covers two years of normal use.");
    assert!(
        events.last().unwrap()["usage"]["total_tokens"]
            .as_u64()
            .unwrap()
            > 0
    );

    emu.inject(Fault::end_stream(2));
    let (lines, clean) = stream_lines(&emu, "/assistant/chat/docs", ask.clone());
    assert!(clean);
    assert_eq!(data(&lines).len(), 2);

    emu.inject(Fault::cut_stream(1).path_contains("/chat/"));
    let (lines, clean) = stream_lines(&emu, "/assistant/chat/docs", ask);
    assert!(!clean, "a cut stream must fail, not end cleanly");
    assert_eq!(data(&lines).len(), 1);
}

#[test]
fn slow_streams_flush_each_event_and_send_heartbeats() {
    let emu = Emulator::builder()
        .processing_delay(Duration::ZERO)
        .stream_delay(Duration::from_millis(60))
        .heartbeat(Duration::from_millis(25))
        .start()
        .unwrap();
    with_files(&emu);
    let req = ureq::http::Request::builder()
        .method("POST")
        .uri(format!("{}/assistant/chat/docs", emu.url()))
        .header("Api-Key", emu.api_key())
        .body(
            json!({"messages": [{"content": "How long is the warranty?"}], "stream": true})
                .to_string(),
        )
        .unwrap();
    let start = std::time::Instant::now();
    let resp = agent().run(req).unwrap();
    let mut reader = BufReader::new(resp.into_body().into_reader());
    let (mut arrivals, mut heartbeats) = (Vec::new(), 0);
    let mut line = String::new();
    while reader.read_line(&mut line).unwrap() > 0 {
        if line.starts_with("data: ") {
            arrivals.push(start.elapsed());
        } else if line.starts_with(": heartbeat") {
            heartbeats += 1;
        }
        line.clear();
    }
    assert!(arrivals.len() >= 5);
    // Each event arrives when it is sent, not when the body ends: the events
    // are spread over the time the server took (half of it, to tolerate a busy
    // machine).
    let spread = *arrivals.last().unwrap() - arrivals[0];
    assert!(
        spread >= Duration::from_millis(30 * (arrivals.len() as u64 - 1)),
        "{arrivals:?}"
    );
    assert!(heartbeats > arrivals.len(), "{heartbeats} heartbeats");
}

#[test]
fn completions_stream_ends_with_usage_and_done() {
    let emu = fast();
    with_files(&emu);
    let ask = json!({"messages": [{"role": "user", "content": "How long is the warranty?"}], "stream": true});
    let (lines, _) = stream_lines(&emu, "/assistant/chat/docs/chat/completions", ask);
    let events = data(&lines);
    assert_eq!(events.last().unwrap(), &Value::String("[DONE]".into()));
    let usage = &events[events.len() - 2];
    assert_eq!(usage["choices"], json!([]));
    assert!(usage["usage"]["total_tokens"].as_u64().unwrap() > 0);
    let text: String = events
        .iter()
        .filter_map(|e| e["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "The warranty covers two years of normal use. [1]");
    assert_eq!(
        events[events.len() - 3]["choices"][0]["finish_reason"],
        "stop"
    );
}

#[test]
fn alignment_scores_by_overlap() {
    let emu = fast();
    let (_, r) = raw(
        &emu,
        "POST",
        "/assistant/evaluation/metrics/alignment",
        Some(json!({
            "question": "What is covered?",
            "answer": "The warranty covers two years.",
            "ground_truth_answer": "The warranty covers two years. Refunds are possible within 30 days.",
        })),
        &key(&emu),
    );
    assert_eq!(r["metrics"]["completeness"], 0.5);
    assert_eq!(r["metrics"]["correctness"], 1.0);
    assert_eq!(r["metrics"]["alignment"], 0.6667);
    let facts = r["reasoning"]["evaluated_facts"].as_array().unwrap();
    assert_eq!(facts[0]["entailment"], "entailed");
    assert_eq!(facts[1]["entailment"], "neutral");
    assert!(facts[1]["reasoning"].as_str().unwrap().contains("refund"));
    let (s, r) = raw(
        &emu,
        "POST",
        "/assistant/evaluation/metrics/alignment",
        Some(json!({"question": "q", "answer": "a"})),
        &key(&emu),
    );
    assert_eq!(
        (s, r["message"].as_str()),
        (422, Some("ground_truth_answer: field required"))
    );
}

#[test]
fn empty_assistant_still_answers() {
    let emu = fast();
    client(&emu)
        .create_assistant(CreateAssistantRequest::new("empty"), Wait::Forever)
        .unwrap();
    let (s, ctx) = raw(
        &emu,
        "POST",
        "/assistant/chat/empty/context",
        Some(json!({"query": "anything"})),
        &key(&emu),
    );
    assert_eq!((s, ctx["snippets"].clone()), (200, json!([])));
    let (_, chat) = raw(
        &emu,
        "POST",
        "/assistant/chat/empty",
        Some(json!({"messages": [{"content": "anything"}]})),
        &key(&emu),
    );
    assert!(
        chat["message"]["content"]
            .as_str()
            .unwrap()
            .contains("could not find")
    );
}

#[test]
fn drop_stops_the_server() {
    let emu = fast();
    let addr = emu.url().trim_start_matches("http://").to_owned();
    drop(emu);
    let refused = std::net::TcpStream::connect(&addr).map(|mut s| {
        // A socket the OS accepted but nobody serves reads EOF at once.
        let mut buf = [0u8; 1];
        s.set_read_timeout(Some(Duration::from_secs(2))).ok();
        matches!(s.read(&mut buf), Ok(0) | Err(_))
    });
    assert!(refused.unwrap_or(true));
}

// ---------------------------------------------------------------- data plane through the client

mod client_files {
    use super::*;
    use pinecone_assistant::models::{
        DescribeFileOptions, FileStatus, ListFilesOptions, ListOperationsOptions, OperationType,
        UploadFile,
    };

    fn ready(emu: &Emulator) -> pinecone_assistant::Assistant {
        let c = client(emu);
        c.create_assistant(CreateAssistantRequest::new("docs"), Wait::Forever)
            .unwrap();
        c.assistant("docs")
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
                ListFilesOptions::new()
                    .filter(json!({"$or": [{"n": {"$gte": 4}}, {"n": {"$lt": 1}}]})),
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

    #[test]
    fn data_plane_faults_follow_the_request_classes() {
        let emu = fast();
        let docs = ready(&emu);
        // A plain upload (POST) is not replayed after a 503 without Retry-After…
        emu.inject(Fault::status(503).method("POST").path_contains("/files/"));
        let e = docs
            .upload_file(UploadFile::bytes(b"A.".to_vec(), "a.txt"), Wait::Forever)
            .unwrap_err();
        assert_eq!(e.status(), Some(503));
        assert_eq!(count(&emu, "POST", "/assistant/files/docs"), 1);
        // …but is after a 429, and an upsert (PUT) is after a 503.
        emu.inject(
            Fault::status(429)
                .retry_after("0")
                .method("POST")
                .path_contains("/files/"),
        );
        docs.upload_file(UploadFile::bytes(b"A.".to_vec(), "a.txt"), Wait::Forever)
            .unwrap();
        assert_eq!(count(&emu, "POST", "/assistant/files/docs"), 3);
        emu.inject(Fault::status(503).times(2).method("PUT"));
        docs.upload_file(
            UploadFile::bytes(b"B.".to_vec(), "b.txt").file_id("b"),
            Wait::Forever,
        )
        .unwrap();
        assert_eq!(count(&emu, "PUT", "/assistant/files/docs/b"), 3);
        // Polls survive broken connections.
        emu.inject(Fault::reset().times(2).path_contains("/operations/"));
        docs.upload_file(UploadFile::bytes(b"C.".to_vec(), "c.txt"), Wait::Forever)
            .unwrap();
    }
}

// ---------------------------------------------------------------- chat through the client

mod client_chat {
    use super::*;
    use pinecone_assistant::models::{
        AlignmentRequest, ChatCompletionRequest, ChatRequest, ChatStreamChunk, ContextOptions,
        ContextRequest, Message, UploadFile,
    };

    const QUESTION: &str = "How long is the warranty?";
    const ANSWER: &str = "The warranty covers two years of normal use.";

    fn loaded(emu: &Emulator) -> pinecone_assistant::Assistant {
        let c = client(emu);
        c.create_assistant(CreateAssistantRequest::new("docs"), Wait::Forever)
            .unwrap();
        let docs = c.assistant("docs");
        docs.upload_file(
            UploadFile::bytes(HANDBOOK.as_bytes().to_vec(), "kettle.md")
                .metadata(json!({"team": "support"})),
            Wait::Forever,
        )
        .unwrap();
        docs.upload_file(
            UploadFile::bytes(
                b"Shipping takes five days to Europe.".to_vec(),
                "shipping.txt",
            )
            .metadata(json!({"team": "logistics"})),
            Wait::Forever,
        )
        .unwrap();
        docs
    }

    fn ask() -> ChatRequest {
        ChatRequest::new([Message::user(QUESTION)])
    }

    #[test]
    fn chat_answers_with_real_citations() {
        let emu = fast();
        let docs = loaded(&emu);
        let r = docs
            .chat(
                ask()
                    .include_highlights(true)
                    .context_options(ContextOptions::new().top_k(4)),
            )
            .unwrap();
        assert_eq!(r.content(), ANSWER);
        let c = &r.citations[0];
        assert_eq!(c.position, Some(ANSWER.chars().count() as u64));
        let reference = &c.references[0];
        assert_eq!(reference.file.as_ref().unwrap().name, "kettle.md");
        assert_eq!(reference.highlight.as_ref().unwrap().content, ANSWER);
        assert!(r.usage.unwrap().total_tokens > 0);
        assert!(r.context_snippet_count.unwrap() >= 1);

        let filtered = docs
            .chat(
                ChatRequest::new([Message::user("warranty shipping")])
                    .filter(json!({"team": {"$eq": "logistics"}})),
            )
            .unwrap();
        assert_eq!(filtered.content(), "Shipping takes five days to Europe.");
        let json_answer = docs.chat(ask().json_response(true)).unwrap();
        let parsed: Value = serde_json::from_str(json_answer.content()).unwrap();
        assert_eq!(parsed["answer"], ANSWER);
    }

    #[test]
    fn streamed_chat_folds_into_the_plain_answer() {
        let emu = fast();
        let docs = loaded(&emu);
        let plain = docs.chat(ask()).unwrap();
        let chunks: Vec<ChatStreamChunk> = docs
            .chat_stream(ask())
            .unwrap()
            .map(|c| c.unwrap())
            .collect();
        assert!(matches!(
            chunks.first(),
            Some(ChatStreamChunk::MessageStart(_))
        ));
        assert!(matches!(
            chunks.last(),
            Some(ChatStreamChunk::MessageEnd(_))
        ));
        assert!(
            chunks
                .iter()
                .filter(|c| matches!(c, ChatStreamChunk::ContentDelta(_)))
                .count()
                > 1
        );
        let folded = docs.chat_stream(ask()).unwrap().into_response().unwrap();
        assert_eq!(folded.content(), plain.content());
        assert_eq!(folded.citations.len(), plain.citations.len());
        assert!(folded.usage.is_some());
    }

    #[test]
    fn streams_cut_or_ended_early_are_errors_not_hangs() {
        let emu = fast();
        let docs = loaded(&emu);
        emu.inject(Fault::end_stream(2));
        let e = docs.chat_stream(ask()).unwrap().collect_text().unwrap_err();
        assert!(matches!(e, Error::Stream(_)), "{e:?}");
        emu.inject(Fault::cut_stream(1));
        let items: Vec<_> = docs.chat_stream(ask()).unwrap().collect();
        assert!(items.first().unwrap().is_ok());
        assert!(items.last().unwrap().is_err());
        emu.inject(Fault::end_stream(3).path_contains("/completions"));
        let e = docs
            .chat_completions_stream(ChatCompletionRequest::new([Message::user(QUESTION)]))
            .unwrap()
            .collect_text()
            .unwrap_err();
        assert!(matches!(e, Error::Stream(_)), "{e:?}");
    }

    #[test]
    fn a_stream_can_be_cancelled_from_another_thread() {
        let emu = Emulator::builder()
            .ready_delay(Duration::ZERO)
            .processing_delay(Duration::ZERO)
            .stream_delay(Duration::from_secs(5))
            .start()
            .unwrap();
        let docs = loaded(&emu);
        let mut stream = docs.chat_stream(ask()).unwrap();
        assert!(matches!(
            stream.next(),
            Some(Ok(ChatStreamChunk::MessageStart(_)))
        ));
        let stop = stream.canceller();
        let started = std::time::Instant::now();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            stop.cancel();
        });
        let next = stream.next();
        assert!(matches!(next, Some(Err(Error::Cancelled))), "{next:?}");
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn generation_calls_follow_their_retry_class() {
        let emu = fast();
        let docs = loaded(&emu);
        emu.clear_requests();
        emu.inject(Fault::status(500).path_contains("/chat/"));
        assert_eq!(docs.chat(ask()).unwrap_err().status(), Some(500));
        emu.inject(
            Fault::status(503)
                .retry_after("0")
                .times(2)
                .path_contains("/chat/"),
        );
        docs.chat(ask()).unwrap();
        assert_eq!(count(&emu, "POST", "/assistant/chat/docs"), 4);
        emu.inject(Fault::reset().path_contains("/chat/"));
        assert!(matches!(docs.chat_stream(ask()), Err(Error::Transport(_))));
    }

    #[test]
    fn context_completions_and_evaluation() {
        let emu = fast();
        let docs = loaded(&emu);
        let ctx = docs
            .context(ContextRequest::query("kettle boil").top_k(1))
            .unwrap();
        assert_eq!(ctx.snippets.len(), 1);
        let reference = ctx.snippets[0].reference().unwrap();
        assert_eq!(
            (reference.kind.as_deref(), reference.file.name.as_str()),
            (Some("markdown"), "kettle.md")
        );
        let none = docs
            .context(ContextRequest::query("kettle").filter(json!({"team": "logistics"})))
            .unwrap();
        assert!(none.snippets.is_empty());

        let r = docs
            .chat_completions(ChatCompletionRequest::new([Message::user(QUESTION)]))
            .unwrap();
        assert_eq!(r.content(), format!("{ANSWER} [1]"));
        let streamed = docs
            .chat_completions_stream(ChatCompletionRequest::new([Message::user(QUESTION)]))
            .unwrap()
            .collect_text()
            .unwrap();
        assert_eq!(streamed, format!("{ANSWER} [1]"));

        let c = Client::new(
            ClientConfig::builder(emu.api_key())
                .host(emu.url())
                .evaluation_host(emu.url())
                .build(),
        )
        .unwrap();
        let eval = c
            .evaluate_alignment(AlignmentRequest::new(
                QUESTION,
                ANSWER,
                format!("{ANSWER} Refunds are possible within 30 days."),
            ))
            .unwrap();
        assert_eq!(eval.scores().completeness, 0.5);
        assert_eq!(eval.scores().correctness, 1.0);
        assert_eq!(eval.facts().len(), 2);
    }
}

// ---------------------------------------------------------------- review fixes

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
    let (s, del) = raw(&emu, "DELETE", "/assistant/files/docs/f", None, &key(&emu));
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
    let (s, file) = raw(&emu, "GET", "/assistant/files/docs/f", None, &key(&emu));
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
        let (s, body) = raw(
            &emu,
            "GET",
            &format!("/assistant/files/docs?filter={q}"),
            None,
            &key(&emu),
        );
        assert_eq!(
            (s, body["error"]["code"].as_str(), body["status"].as_u64()),
            (400, Some("INVALID_ARGUMENT"), Some(400)),
            "{filter}"
        );
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(op), "{filter}: {message}");
        let (s, body) = raw(
            &emu,
            "POST",
            "/assistant/chat/docs/context",
            Some(json!({"query": "kettle", "filter": filter})),
            &key(&emu),
        );
        assert_eq!((s, body["status"].as_u64()), (400, Some(400)), "{filter}");
    }
    let (s, body) = raw(
        &emu,
        "GET",
        "/assistant/files/docs?filter=%7B%22year%22%3A%7B%22%24gte%22%3A2026%7D%7D",
        None,
        &key(&emu),
    );
    assert_eq!((s, body["files"].as_array().map(Vec::len)), (200, Some(1)));
}

#[test]
fn a_fault_for_zero_requests_is_refused() {
    let emu = fast();
    let (s, body) = raw(
        &emu,
        "POST",
        "/_emulator/faults",
        Some(json!({"kind": "status", "status": 503, "times": 0})),
        &[],
    );
    assert_eq!(
        (s, body["error"]["code"].as_str()),
        (400, Some("INVALID_ARGUMENT"))
    );
    assert!(
        body["error"]["message"].as_str().unwrap().contains("times"),
        "{body}"
    );
}

/// Opens a connection and sends `head` (and nothing more), with a read timeout.
fn connect_and_send(emu: &Emulator, head: &[u8]) -> std::net::TcpStream {
    use std::io::Write;
    let mut s = std::net::TcpStream::connect(emu.url().trim_start_matches("http://")).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(head).unwrap();
    s.flush().unwrap();
    s
}

/// Reads one response with a `Content-Length` body: the status and the JSON body.
fn read_response(s: &mut std::net::TcpStream) -> (u16, Value) {
    let mut r = BufReader::new(s);
    let mut line = String::new();
    r.read_line(&mut line).expect("a status line in time");
    let status = line
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let mut len = 0usize;
    loop {
        let mut h = String::new();
        r.read_line(&mut h).unwrap();
        if h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                len = v.trim().parse().unwrap();
            }
        }
    }
    let mut body = vec![0; len];
    r.read_exact(&mut body).unwrap();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

const STALLED: &[u8] = b"POST /assistant/assistants HTTP/1.1\r\nHost: x\r\nApi-Key: emulator-key\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{\"name\":";

#[test]
fn a_stalled_body_frees_the_worker_and_is_answered_408() {
    use std::io::Write;
    let emu = Emulator::builder()
        .workers(1)
        .body_timeout(Duration::from_millis(300))
        .start()
        .unwrap();
    let mut stalled = connect_and_send(&emu, STALLED);
    std::thread::sleep(Duration::from_millis(50));
    // The only worker is not held by the silent client.
    let quick: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(3)))
        .build()
        .into();
    let resp = quick
        .get(format!("{}/assistant/assistants", emu.url()))
        .header("Api-Key", emu.api_key())
        .call()
        .expect("served while another body is stalled");
    assert_eq!(resp.status().as_u16(), 200);
    std::thread::sleep(Duration::from_millis(400));
    // Past the deadline, the next bytes get the 408.
    stalled.write_all(b" ").unwrap();
    let (status, body) = read_response(&mut stalled);
    assert_eq!(
        (
            status,
            body["error"]["code"].as_str(),
            body["status"].as_u64()
        ),
        (408, Some("DEADLINE_EXCEEDED"), Some(408))
    );
}

#[test]
fn drop_does_not_hang_on_a_stalled_body() {
    let emu = Emulator::builder().workers(1).start().unwrap();
    let stalled = connect_and_send(&emu, STALLED);
    std::thread::sleep(Duration::from_millis(100));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        drop(emu);
        let _ = tx.send(());
    });
    rx.recv_timeout(Duration::from_secs(5))
        .expect("the emulator dropped within its grace period");
    drop(stalled);
}

#[test]
fn oversized_bodies_get_an_early_413() {
    let emu = Emulator::builder().max_body(2000).start().unwrap();
    let mut s = connect_and_send(
        &emu,
        b"POST /assistant/assistants HTTP/1.1\r\nHost: x\r\nApi-Key: emulator-key\r\nContent-Length: 1000000000\r\n\r\n",
    );
    let (status, body) = read_response(&mut s);
    assert_eq!(
        (
            status,
            body["error"]["code"].as_str(),
            body["status"].as_u64()
        ),
        (413, Some("INVALID_ARGUMENT"), Some(413))
    );
    assert!(body["error"]["message"].as_str().unwrap().contains("2000"));
    // A chunked body is cut off once it passes the limit.
    let mut head = b"POST /assistant/assistants HTTP/1.1\r\nHost: x\r\nApi-Key: emulator-key\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..3 {
        head.extend_from_slice(format!("3e8\r\n{}\r\n", "x".repeat(1000)).as_bytes());
    }
    let mut s = connect_and_send(&emu, &head);
    let (status, body) = read_response(&mut s);
    assert_eq!((status, body["status"].as_u64()), (413, Some(413)));
    // Within the limit, a large body still goes through.
    let name = format!(
        "{{\"name\":\"big\",\"instructions\":\"{}\"}}",
        "y".repeat(1500)
    );
    let (s, a) = send(
        &emu,
        "POST",
        "/assistant/assistants",
        Some(("application/json".into(), name.into_bytes())),
        &key(&emu),
    );
    let a: Value = serde_json::from_slice(&a).unwrap();
    assert_eq!((s, a["name"].as_str()), (200, Some("big")), "{a}");
}

#[test]
fn a_malformed_chunked_body_is_400() {
    let emu = fast();
    let mut s = connect_and_send(
        &emu,
        b"POST /assistant/assistants HTTP/1.1\r\nHost: x\r\nApi-Key: emulator-key\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
    );
    let (status, body) = read_response(&mut s);
    assert_eq!(
        (
            status,
            body["error"]["code"].as_str(),
            body["status"].as_u64()
        ),
        (400, Some("INVALID_ARGUMENT"), Some(400))
    );
}
