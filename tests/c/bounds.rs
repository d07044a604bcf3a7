//! The mocks of `bounds.c`: an assistant to describe (and to find over the
//! body limit), a chat stream with usage, an assistant whose chat answers break
//! off after their headers, and a server that drips its answers a byte at a
//! time.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use mockito::{Mock, ServerGuard};
use serde_json::json;

use crate::support::{CHAT_STREAM, assistant_json, get, run_scenario, sse};

fn bounds_mocks(server: &mut ServerGuard, cut: &str) -> Vec<Mock> {
    let url = server.url();
    let chat = "/assistant/chat/support-bot";
    vec![
        // The body-limit describe, the observed one, the data-plane lookup and
        // the one after the observer is removed.
        get(
            server,
            "/assistant/assistants/support-bot",
            200,
            &assistant_json("support-bot", "Ready", &url),
        )
        .expect(4),
        sse(server, chat, json!({"stream": true}), CHAT_STREAM).expect(1),
        // Its chats go to a server that breaks every answer off.
        get(
            server,
            "/assistant/assistants/cut-bot",
            200,
            &assistant_json("cut-bot", "Ready", cut),
        )
        .expect(1),
    ]
}

/// A server that answers every request with 200 and the start of a chunked
/// JSON body, then closes the connection; returns its URL.
fn cutting_server() -> String {
    serve(|socket| {
        let _ = socket.write_all(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n40\r\n{\"id\":\"a\",\"mess",
        );
        let _ = socket.flush();
        std::thread::sleep(Duration::from_millis(50));
    })
}

/// Serves each connection of a new listener with `answer`, after reading the
/// request; returns its URL.
fn serve(answer: fn(&mut TcpStream)) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for socket in listener.incoming() {
            let Ok(mut socket) = socket else { continue };
            std::thread::spawn(move || {
                let _ = read_request(&mut socket);
                answer(&mut socket);
            });
        }
    });
    url
}

/// Reads a request head and its `Content-Length` body.
fn read_request(socket: &mut TcpStream) -> std::io::Result<()> {
    let mut reader = BufReader::new(socket.try_clone()?);
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    reader.read_exact(&mut vec![0; length])
}

/// A server that answers every request with a 50-byte body sent a byte every
/// 200 ms; returns its URL.
fn dripping_server() -> String {
    serve(|socket| {
        let _ = socket.write_all(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 50\r\n\r\n",
        );
        for _ in 0..50 {
            std::thread::sleep(Duration::from_millis(200));
            if socket.write_all(b" ").is_err() {
                return;
            }
        }
    })
}

#[test]
fn bounded_and_observed_calls() {
    let drip = dripping_server();
    let cut = cutting_server();
    run_scenario(
        "bounds",
        "bounds: ok",
        |server| bounds_mocks(server, &cut),
        || vec![("PINECONE_TEST_DRIP_URL", drip.clone())],
        &[],
    );
}
