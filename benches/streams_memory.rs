//! Memory per open chat stream and per idle pooled connection.
//!
//! Run: `cargo bench --bench streams_memory` (optionally `-- 100 1000 5000` for
//! other counts). For each count N it starts two processes of its own: a local
//! server that answers chat streams with their first events and then holds them
//! open, and a client that measures its resident set (VmRSS) while it
//!
//! 1. opens N chat streams and reads the first chunk of each (the server keeps
//!    them open): RSS per open stream;
//! 2. drops them all: RSS after closing;
//! 3. opens N streams again and drops them: whether the second wave reuses the
//!    memory the first one gave back (it must not grow RSS by more than 10 %);
//! 4. makes N `describe_assistant` calls at once from N threads, so the pool
//!    keeps N idle keep-alive connections: RSS per idle pooled connection.
//!
//! The server runs in its own process so that only the client's memory counts.
//! Plain HTTP on 127.0.0.1: TLS adds rustls's buffers to every connection.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::sync::{Arc, Barrier};
use std::time::Duration;

use pinecone_assistant::models::{ChatRequest, Message};
use pinecone_assistant::{Client, ClientConfig};

#[path = "support/process.rs"]
mod process;
use process::{rss_kib, spawn_self};

const MESSAGE_START: &str =
    r#"{"type":"message_start","id":"a","model":"gpt-4o","role":"assistant"}"#;
const FIRST_CHUNK: &str =
    r#"{"type":"content_chunk","id":"a","delta":{"content":"Annual plans can be refunded"}}"#;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--serve") => serve(),
        Some("--client") => client(&args[1], args[2].parse().expect("a count")),
        _ => {
            let counts: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
            let counts = if counts.is_empty() {
                vec![100, 1000]
            } else {
                counts
            };
            for n in counts {
                run(n);
            }
        }
    }
}

/// Runs one measurement with `n` streams in fresh server and client processes.
fn run(n: usize) {
    let exe = std::env::current_exe().expect("own path");
    let (mut server, url) = spawn_self(&["--serve"]);
    let status = Command::new(&exe)
        .args(["--client", &url, &n.to_string()])
        .status()
        .expect("run the client process");
    let _ = server.kill();
    let _ = server.wait();
    assert!(status.success(), "the client failed");
}

fn client(url: &str, n: usize) {
    let config = ClientConfig::builder("bench-key")
        .host(url)
        .pool_size(n)
        .timeout(Duration::from_secs(60))
        .build();
    let client = Client::new(config).expect("client");
    let docs = client.assistant("support-bot");
    let ask = || ChatRequest::new([Message::user("How long is the refund window?")]);
    let open = |count: usize| -> Vec<_> {
        (0..count)
            .map(|_| {
                let mut stream = docs.chat_stream(ask()).expect("open a stream");
                stream.next().expect("a first chunk").expect("a chunk");
                stream
            })
            .collect()
    };
    // Warm up: the data-plane host, the first connection, lazy statics.
    drop(open(2));

    println!("N = {n}");
    let before = rss_kib();
    let streams = open(n);
    let first = rss_kib();
    println!("  RSS before:                  {before} KiB");
    println!(
        "  RSS with {n} open streams:  {first} KiB  ({:.1} KiB per open stream)",
        (first - before) as f64 / n as f64
    );
    drop(streams);
    let closed = rss_kib();
    println!("  RSS after closing them:      {closed} KiB");
    let streams = open(n);
    let second = rss_kib();
    println!(
        "  RSS with a second wave:      {second} KiB  ({:+.1} % against the first wave)",
        (second as f64 - first as f64) * 100.0 / first as f64
    );
    drop(streams);
    println!("  RSS after closing it:        {} KiB", rss_kib());

    // Idle pooled connections: N describes at once, so N connections open and
    // all go back to the pool. Threads that only meet at the barrier run first,
    // so the thread stacks they leave cached are counted in the baseline.
    let describe_all = |call: bool| {
        let barrier = Arc::new(Barrier::new(n));
        let threads: Vec<_> = (0..n)
            .map(|_| {
                let barrier = barrier.clone();
                let client = client.clone();
                std::thread::Builder::new()
                    .stack_size(128 << 10)
                    .spawn(move || {
                        barrier.wait();
                        if call {
                            client.describe_assistant("support-bot").expect("describe");
                        }
                    })
                    .expect("spawn")
            })
            .collect();
        for t in threads {
            t.join().expect("join");
        }
    };
    describe_all(false);
    let idle_before = rss_kib();
    describe_all(true);
    let idle = rss_kib();
    println!(
        "  RSS with {n} idle pooled connections: {idle} KiB ({:.1} KiB per connection)",
        (idle as f64 - idle_before as f64) / n as f64
    );
    drop(docs);
    drop(client);
    println!("  RSS after dropping the client: {} KiB", rss_kib());
}

// ---------------------------------------------------------------- the server

fn serve() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    println!("{url}");
    std::io::stdout().flush().expect("flush");
    let describe =
        format!(r#"{{"name":"support-bot","status":"Ready","host":"{url}","region":"us"}}"#);
    for socket in listener.incoming() {
        let Ok(socket) = socket else { continue };
        let describe = describe.clone();
        // Thousands of held streams: small stacks keep the server light.
        let _ = std::thread::Builder::new()
            .stack_size(64 << 10)
            .spawn(move || connection(socket, &describe));
    }
}

/// Serves one connection: describes (kept alive, answered after 300 ms so that
/// concurrent ones each need a connection) until a chat, which gets its first
/// events and is then held open until the client closes it.
fn connection(mut socket: TcpStream, describe: &str) {
    let mut reader = BufReader::new(socket.try_clone().expect("clone"));
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let chat = line.starts_with("POST");
        let mut length = 0usize;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            if header == "\r\n" {
                break;
            }
            if let Some(v) = header.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        if !chat {
            std::thread::sleep(Duration::from_millis(300));
            let answer = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{describe}",
                describe.len()
            );
            if socket.write_all(answer.as_bytes()).is_err() {
                return;
            }
            continue;
        }
        let mut answer = String::from(
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n",
        );
        for data in [MESSAGE_START, FIRST_CHUNK] {
            let event = format!("data: {data}\n\n");
            answer.push_str(&format!("{:x}\r\n{event}\r\n", event.len()));
        }
        if socket.write_all(answer.as_bytes()).is_err() {
            return;
        }
        // Held open: the client's drop closes it.
        let mut rest = [0u8; 64];
        while matches!(reader.read(&mut rest), Ok(n) if n > 0) {}
        return;
    }
}
