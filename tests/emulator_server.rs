//! The emulator's HTTP server under misbehaving clients: stalled and oversized
//! bodies, malformed chunking, and shutting down.

mod support;

use std::io::Read;
use std::time::Duration;

use pinecone_assistant::emulator::Emulator;
use serde_json::Value;
use support::emu::*;
use support::tcp::{connect_and_send, read_response};

/// The start of a create request head, before its framing headers.
const CREATE: &str = "POST /assistant/assistants HTTP/1.1\r\nHost: x\r\nApi-Key: emulator-key\r\n";

/// A create whose body announces 5000 bytes and stops after a few.
fn stalled() -> String {
    format!("{CREATE}Content-Type: application/json\r\nContent-Length: 5000\r\n\r\n{{\"name\":")
}

/// The status of an answer, its error code and the `status` its body repeats.
fn error_of(status: u16, body: &Value) -> (u16, Option<&str>, Option<u64>) {
    (
        status,
        body["error"]["code"].as_str(),
        body["status"].as_u64(),
    )
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

#[test]
fn a_stalled_body_frees_the_worker_and_is_answered_408() {
    use std::io::Write;
    let emu = Emulator::builder()
        .workers(1)
        .body_timeout(Duration::from_millis(300))
        .start()
        .unwrap();
    let mut stalled = connect_and_send(emu.url(), stalled().as_bytes());
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
    let expected = (408, Some("DEADLINE_EXCEEDED"), Some(408));
    assert_eq!(error_of(status, &body), expected);
}

#[test]
fn drop_does_not_hang_on_a_stalled_body() {
    let emu = Emulator::builder().workers(1).start().unwrap();
    let stalled = connect_and_send(emu.url(), stalled().as_bytes());
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
    let huge = format!("{CREATE}Content-Length: 1000000000\r\n\r\n");
    let (status, body) = read_response(&mut connect_and_send(emu.url(), huge.as_bytes()));
    let expected = (413, Some("INVALID_ARGUMENT"), Some(413));
    assert_eq!(error_of(status, &body), expected);
    assert!(body["error"]["message"].as_str().unwrap().contains("2000"));
    // A chunked body is cut off once it passes the limit.
    let mut head = format!("{CREATE}Transfer-Encoding: chunked\r\n\r\n");
    for _ in 0..3 {
        head.push_str(&format!("3e8\r\n{}\r\n", "x".repeat(1000)));
    }
    let mut s = connect_and_send(emu.url(), head.as_bytes());
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
    let bad = format!("{CREATE}Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n");
    let (status, body) = read_response(&mut connect_and_send(emu.url(), bad.as_bytes()));
    let expected = (400, Some("INVALID_ARGUMENT"), Some(400));
    assert_eq!(error_of(status, &body), expected);
}

#[test]
fn a_burst_of_new_connections_is_served_while_others_stay_open() {
    let emu = fast();
    // Clients keep their connections open, each holding a server thread, while
    // the server still has idle threads: the conditions under which its pool
    // can leave a new connection waiting.
    let docs = ready(&emu);
    let burst = client(&emu);
    let started = std::time::Instant::now();
    std::thread::scope(|s| {
        for _ in 0..8 {
            let docs = burst.assistant("docs");
            s.spawn(move || docs.list_files_page(Default::default()).unwrap());
        }
    });
    // Without help, a connection lost in the server's queue waits until the
    // client times out (30 s).
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    drop(docs);
}
