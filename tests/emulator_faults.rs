//! Fault injection in the emulator, and how the client's retry classes meet it:
//! status codes, resets and delays, queued from Rust or over HTTP.

mod support;

use std::time::Duration;

use pinecone_assistant::emulator::{Emulator, Fault};
use pinecone_assistant::models::{ChatRequest, Message, UploadFile};
use pinecone_assistant::testing::TestHooks;
use pinecone_assistant::{Client, ClientConfig, Error, RetryPolicy, Wait};
use serde_json::{Value, json};
use support::emu::*;

fn ask() -> ChatRequest {
    ChatRequest::new([Message::user("How long is the warranty?")])
}

/// Queues a fault described as JSON over the emulator's HTTP hook.
fn queue_fault(emu: &Emulator, fault: Value) -> (u16, Value) {
    raw(emu, "POST", "/_emulator/faults", Some(fault), &[])
}

/// Uploads `file` and waits until it is processed.
fn upload_and_wait(docs: &pinecone_assistant::Assistant, file: UploadFile) -> Result<(), Error> {
    docs.upload_file(file, Wait::Forever).map(|_| ())
}

#[test]
fn status_faults_are_retried_to_success_on_safe_calls() {
    let (emu, c) = fast_client();
    create(&c, "f").unwrap();
    let unavailable = Fault::status(503).retry_after("0").times(2);
    emu.inject(unavailable.path_contains("/assistants/f").method("GET"));
    emu.clear_requests();
    c.describe_assistant("f").unwrap();
    assert_eq!(count(&emu, "GET", "/assistant/assistants/f"), 3);
    emu.inject(Fault::status(500).times(1));
    c.describe_assistant("f").unwrap();
    assert_eq!(count(&emu, "GET", "/assistant/assistants/f"), 5);
}

#[test]
fn create_is_not_replayed_after_500_or_429() {
    let (emu, c) = fast_client();
    emu.inject(Fault::status(500).method("POST"));
    let e = create(&c, "x").unwrap_err();
    assert_eq!(e.status(), Some(500));
    let taken = r#"{"error":{"code":"ALREADY_EXISTS","message":"Assistant x already exists"},"status":429}"#;
    emu.inject(
        Fault::status(429)
            .retry_after("120")
            .method("POST")
            .body(taken),
    );
    let e = create(&c, "x").unwrap_err();
    let api = e.api().unwrap();
    let status_and_code = (api.status, api.code.as_deref());
    assert_eq!(status_and_code, (429, Some("ALREADY_EXISTS")));
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
    let (emu, c) = fast_client();
    emu.inject(Fault::reset().method("POST"));
    let e = create(&c, "r").unwrap_err();
    assert!(matches!(e, Error::Transport(_)), "{e:?}");
    assert_eq!(count(&emu, "POST", "/assistant/assistants"), 1);
    create(&c, "r").unwrap();
    emu.inject(Fault::reset().times(2).method("GET"));
    c.describe_assistant("r").unwrap();
    assert_eq!(count(&emu, "GET", "/assistant/assistants/r"), 3);
}

#[test]
fn delay_beyond_the_timeout_is_a_timeout_then_a_retry() {
    let emu = fast();
    let config = ClientConfig::builder(emu.api_key()).host(emu.url());
    let config = config.sleeper(|_| {}).timeout(ms(400));
    let c = Client::new(config.build()).unwrap();
    create(&c, "d").unwrap();
    emu.inject(Fault::delay(Duration::from_secs(2)).method("GET"));
    c.describe_assistant("d").unwrap();
    assert_eq!(count(&emu, "GET", "/assistant/assistants/d"), 2);
    emu.inject(Fault::delay(Duration::from_secs(2)).method("POST"));
    let e = create(&c, "d2").unwrap_err();
    assert!(matches!(e, Error::Timeout(_)), "{e:?}");
}

#[test]
fn faults_can_be_queued_over_http() {
    let emu = fast();
    let teapot =
        json!({"kind": "status", "status": 418, "times": 1, "path_contains": "/assistants"});
    let (status, _) = queue_fault(&emu, teapot);
    assert_eq!(status, 200);
    let e = client(&emu).describe_assistant("x").unwrap_err();
    assert_eq!(e.status(), Some(418));
    let (status, body) = queue_fault(&emu, json!({"kind": "nope"}));
    assert_eq!(code_of(status, &body), (400, Some("INVALID_ARGUMENT")));
    let (_, log) = raw(&emu, "GET", "/_emulator/requests", None, &[]);
    assert_eq!(log["requests"].as_array().unwrap().len(), 1);
    assert_eq!(log["requests"][0]["path"], "/assistant/assistants/x");
}

#[test]
fn a_fault_for_zero_requests_is_refused() {
    let emu = fast();
    let never = json!({"kind": "status", "status": 503, "times": 0});
    let (s, body) = queue_fault(&emu, never);
    assert_eq!(code_of(s, &body), (400, Some("INVALID_ARGUMENT")));
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("times"), "{body}");
}

#[test]
fn data_plane_faults_follow_the_request_classes() {
    let emu = fast();
    let docs = ready(&emu);
    let file = |text: &str, name: &str| UploadFile::bytes(text.as_bytes().to_vec(), name);
    // A plain upload (POST) is not replayed after a 503 without Retry-After…
    emu.inject(Fault::status(503).method("POST").path_contains("/files/"));
    let e = upload_and_wait(&docs, file("A.", "a.txt")).unwrap_err();
    assert_eq!(e.status(), Some(503));
    assert_eq!(count(&emu, "POST", "/assistant/files/docs"), 1);
    // …but is after a 429, and an upsert (PUT) is after a 503.
    let limited = Fault::status(429).retry_after("0");
    emu.inject(limited.method("POST").path_contains("/files/"));
    upload_and_wait(&docs, file("A.", "a.txt")).unwrap();
    assert_eq!(count(&emu, "POST", "/assistant/files/docs"), 3);
    emu.inject(Fault::status(503).times(2).method("PUT"));
    upload_and_wait(&docs, file("B.", "b.txt").file_id("b")).unwrap();
    assert_eq!(count(&emu, "PUT", "/assistant/files/docs/b"), 3);
    // Polls survive broken connections.
    emu.inject(Fault::reset().times(2).path_contains("/operations/"));
    upload_and_wait(&docs, file("C.", "c.txt")).unwrap();
}

#[test]
fn generation_calls_follow_their_retry_class() {
    let emu = fast();
    let docs = loaded(&emu);
    emu.clear_requests();
    emu.inject(Fault::status(500).path_contains("/chat/"));
    assert_eq!(docs.chat(ask()).unwrap_err().status(), Some(500));
    let unavailable = Fault::status(503).retry_after("0").times(2);
    emu.inject(unavailable.path_contains("/chat/"));
    docs.chat(ask()).unwrap();
    assert_eq!(count(&emu, "POST", "/assistant/chat/docs"), 4);
    emu.inject(Fault::reset().path_contains("/chat/"));
    assert!(matches!(docs.chat_stream(ask()), Err(Error::Transport(_))));
}
