//! The emulator's HTTP server under misbehaving clients: stalled and oversized
//! bodies, malformed chunking, and shutting down.

mod support;

use std::io::Read;
use std::time::Duration;

use pinecone_assistant::emulator::Emulator;
use serde_json::Value;
use support::emu::*;
use support::tcp::{connect_and_send, read_response};

/// A create whose body announces 5000 bytes and stops after a few.
const STALLED: &[u8] = b"POST /assistant/assistants HTTP/1.1\r\nHost: x\r\nApi-Key: emulator-key\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{\"name\":";

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
    let mut stalled = connect_and_send(emu.url(), STALLED);
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
    let stalled = connect_and_send(emu.url(), STALLED);
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
        emu.url(),
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
    let mut s = connect_and_send(emu.url(), &head);
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
        emu.url(),
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
