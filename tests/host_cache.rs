//! The data-plane host cache under concurrent first use.

mod support;

use std::sync::Arc;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use mockito::Server;
use pinecone_assistant::{CancelHandle, Error};
use support::mock::{client, describe};

const FILE: &str = r#"{"name":"notes.md","id":"f1","status":"Available"}"#;

#[test]
fn concurrent_first_calls_describe_once_and_waiters_obey_their_cancel_handle() {
    let mut server = Server::new();
    let host = server.url();
    // A slow describe, so every thread arrives while the first lookup runs.
    let describe = server
        .mock("GET", "/assistant/assistants/docs")
        .with_chunked_body(move |w| {
            std::thread::sleep(Duration::from_millis(1500));
            w.write_all(format!(r#"{{"name":"docs","status":"Ready","host":"{host}"}}"#).as_bytes())
        })
        .expect(1)
        .create();
    let file = server
        .mock("GET", "/assistant/files/docs/f1")
        .with_body(FILE)
        .expect(8)
        .create();
    let client = client(&server);

    let cancelled = CancelHandle::new();
    let start = Arc::new(Barrier::new(10));
    let mut threads = Vec::new();
    for _ in 0..8 {
        let docs = client.assistant("docs");
        let start = start.clone();
        threads.push(std::thread::spawn(move || {
            start.wait();
            docs.describe_file("f1").map(|f| f.id)
        }));
    }
    // One more caller whose handle is cancelled while it waits for the lookup.
    let impatient = client
        .with_cancel_handle(cancelled.clone())
        .assistant("docs");
    let gate = start.clone();
    let waiter = std::thread::spawn(move || {
        gate.wait();
        std::thread::sleep(Duration::from_millis(50));
        let began = Instant::now();
        let outcome = impatient.describe_file("f1");
        (outcome, began.elapsed())
    });
    start.wait();
    std::thread::sleep(Duration::from_millis(120));
    cancelled.cancel();

    for t in threads {
        assert_eq!(t.join().unwrap().unwrap(), "f1");
    }
    let (outcome, waited) = waiter.join().unwrap();
    assert!(matches!(outcome, Err(Error::Cancelled)), "{outcome:?}");
    // Long before the 1.5 s lookup ends: the waiter left when it was cancelled.
    assert!(waited < Duration::from_millis(1000), "{waited:?}");
    describe.assert();
    file.assert();
}

#[test]
fn deleting_an_assistant_forgets_its_host() {
    let mut server = Server::new();
    let host = server.url();
    let describe = describe(&mut server, "docs", &host).expect(2).create();
    let file = server
        .mock("GET", "/assistant/files/docs/f1")
        .with_body(FILE)
        .expect(3)
        .create();
    let delete = server
        .mock("DELETE", "/assistant/assistants/docs")
        .expect(1)
        .create();
    let client = client(&server);
    let docs = client.assistant("docs");
    for _ in 0..2 {
        docs.describe_file("f1").unwrap();
    }
    client
        .delete_assistant("docs", pinecone_assistant::Wait::No)
        .unwrap();
    // Re-created under the same name: the host is looked up again.
    docs.describe_file("f1").unwrap();
    describe.assert();
    file.assert();
    delete.assert();
}
