//! Sequential `describe_assistant` round trips against a local keep-alive server.
//!
//! Run: `cargo bench --bench describe` (optionally `-- 50000` for more calls), best
//! pinned to one CPU so client and server do not pay cross-CPU wake-ups:
//! `cargo bench --bench describe --no-run` then `taskset -c 1 target/release/deps/describe-*`.
//! Prints requests per second, client time per call, and how many TCP connections
//! the client opened (the target is one, reused for every call), for the client
//! without an observer, with one (a counter), and for bare ureq.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use pinecone_assistant::observe::Event;
use pinecone_assistant::{Client, ClientConfig};

const BODY: &str = r#"{"name":"support-bot","instructions":"Answer from the billing documents only.","metadata":{"team":"billing"},"status":"Ready","host":"https://prod-1-data.ke.pinecone.io","region":"us","created_at":"2026-07-01T09:00:00Z","updated_at":"2026-07-01T09:00:41Z"}"#;

/// A minimal HTTP/1.1 keep-alive server answering every GET with `BODY`; counts
/// accepted connections.
fn serve(listener: TcpListener, connections: Arc<AtomicUsize>) {
    let response = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{}",
        BODY.len(),
        BODY
    );
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        connections.fetch_add(1, Ordering::SeqCst);
        let response = response.clone();
        std::thread::spawn(move || {
            let mut writer = stream.try_clone().expect("clone socket");
            let mut reader = BufReader::new(stream);
            let mut line = String::new();
            loop {
                // Read one request head (GETs carry no body).
                let mut saw_request = false;
                loop {
                    line.clear();
                    match reader.read_line(&mut line) {
                        Ok(0) | Err(_) => return,
                        Ok(_) if line == "\r\n" => break,
                        Ok(_) => saw_request = true,
                    }
                }
                if saw_request && writer.write_all(response.as_bytes()).is_err() {
                    return;
                }
            }
        });
    }
}

fn main() {
    let calls: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(10_000);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let connections = Arc::new(AtomicUsize::new(0));
    if std::env::args().any(|a| a == "--serve") {
        // Serve only, so another client (benches/python_describe.py) can be measured
        // against the very same server.
        println!("{url}");
        serve(listener, connections);
        return;
    }
    let counter = connections.clone();
    std::thread::spawn(move || serve(listener, counter));

    let client =
        Client::new(ClientConfig::builder("bench-key").host(&url).build()).expect("client");
    // Warm up: the first call opens the connection.
    client
        .describe_assistant("support-bot")
        .expect("warm-up call");
    report("describe_assistant", calls, &connections, || {
        let a = client.describe_assistant("support-bot").expect("describe");
        std::hint::black_box(a);
    });

    // The same calls with an observer that counts events: what observing costs.
    let events = Arc::new(AtomicU64::new(0));
    let counter = events.clone();
    let observed = Client::new(
        ClientConfig::builder("bench-key")
            .host(&url)
            .observer(move |_: &Event<'_>| {
                counter.fetch_add(1, Ordering::Relaxed);
            })
            .build(),
    )
    .expect("observed client");
    observed
        .describe_assistant("support-bot")
        .expect("warm-up call");
    report(
        "describe_assistant, observer set",
        calls,
        &connections,
        || {
            let a = observed
                .describe_assistant("support-bot")
                .expect("describe");
            std::hint::black_box(a);
        },
    );
    assert!(events.load(Ordering::Relaxed) >= 2 * calls as u64);

    // The same round trip with bare ureq and serde: the ceiling for this machine.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let bare_url = format!("{url}/assistant/assistants/support-bot");
    report("bare ureq + serde (ceiling)", calls, &connections, || {
        let a: serde_json::Value = agent
            .get(&bare_url)
            .header("Api-Key", "bench-key")
            .call()
            .expect("bare call")
            .body_mut()
            .read_json()
            .expect("bare json");
        std::hint::black_box(a);
    });
}

fn report(label: &str, calls: usize, connections: &AtomicUsize, mut call: impl FnMut()) {
    let opened_before = connections.load(Ordering::SeqCst);
    let cpu_start = cpu_time();
    let start = Instant::now();
    for _ in 0..calls {
        call();
    }
    let elapsed = start.elapsed();
    let cpu = cpu_time() - cpu_start;
    println!("{label} x {calls}");
    println!(
        "  requests/s:          {:.0}",
        calls as f64 / elapsed.as_secs_f64()
    );
    println!(
        "  wall per call:       {:.1} µs",
        elapsed.as_secs_f64() * 1e6 / calls as f64
    );
    println!(
        "  process CPU per call (client + server threads): {:.1} µs",
        cpu * 1e6 / calls as f64
    );
    println!(
        "  TCP connections opened during the run: {}",
        connections.load(Ordering::SeqCst) - opened_before
    );
}

/// User + system CPU seconds of this process, from /proc (Linux); 0 elsewhere.
fn cpu_time() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields 14 and 15 (utime, stime) follow the parenthesised command name.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0)
        + fields.get(12).and_then(|v| v.parse().ok()).unwrap_or(0.0);
    ticks / 100.0
}
