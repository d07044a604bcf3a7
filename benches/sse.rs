//! SSE decode throughput of a chat stream: a generated ~20 MB recorded answer
//! (chunks shaped like the "chat stream of five events" fixture in docs/fixtures.md) through the same parser and chunk
//! types the client uses. Prints MB/s and chunks/s.
//!
//! Run: `cargo bench --bench sse` (optionally `-- <MB> <rounds>`).

use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pinecone_assistant::ChatStream;
use pinecone_assistant::models::ChatStreamChunk;

#[path = "support/process.rs"]
mod process;
use process::status_kib;

/// Reads a shared byte buffer, so each round starts without copying 20 MB.
struct Shared {
    bytes: Arc<Vec<u8>>,
    pos: usize,
}

impl Read for Shared {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let rest = &self.bytes[self.pos..];
        let n = rest.len().min(out.len());
        out[..n].copy_from_slice(&rest[..n]);
        self.pos += n;
        Ok(n)
    }
}

const ID: &str = "00000000000000007e21a9c4d8b05f13";
const MODEL: &str = "gpt-4o-2024-11-20";
const WORDS: [&str; 12] = [
    "Annual ",
    "plans ",
    "can ",
    "be ",
    "refunded ",
    "within ",
    "30 ",
    "days ",
    "of ",
    "purchase",
    ". ",
    "\\\"Refunds\\\" ",
];

/// A recorded stream of about `target` bytes: start, content chunks with a
/// citation every 50, end.
fn recording(target: usize) -> (Vec<u8>, usize) {
    let mut out = String::with_capacity(target + 4096);
    let mut events = 1;
    out.push_str(&format!(
        "data: {{\"type\":\"message_start\",\"id\":\"{ID}\",\"model\":\"{MODEL}\",\"role\":\"assistant\",\"context_snippet_count\":8}}\n\n"
    ));
    let mut i = 0usize;
    while out.len() < target {
        // Four to six words per chunk, like the content chunks of the chat stream fixture.
        let mut text = String::new();
        for k in 0..(4 + i % 3) {
            text.push_str(WORDS[(i + k) % WORDS.len()]);
        }
        out.push_str(&format!(
            "data: {{\"type\":\"content_chunk\",\"id\":\"{ID}\",\"model\":\"{MODEL}\",\"delta\":{{\"content\":\"{text}\"}}}}\n\n"
        ));
        if i % 50 == 49 {
            out.push_str(&format!(
                "data: {{\"type\":\"citation\",\"id\":\"{ID}\",\"model\":\"{MODEL}\",\"citation\":{{\"position\":{i},\"references\":[{{\"file\":{{\"name\":\"billing-policy-2025.pdf\",\"id\":\"billing-policy\",\"metadata\":{{\"department\":\"billing\"}},\"created_on\":\"2026-07-04T10:15:22.481920Z\",\"updated_on\":\"2026-07-04T10:16:05.112734Z\",\"status\":\"Available\",\"size\":184233,\"multimodal\":false}},\"pages\":[4]}}]}}}}\n\n"
            ));
            events += 1;
        }
        // A heartbeat now and then, as the service sends.
        if i % 500 == 0 {
            out.push_str(": keep-alive\n\n");
        }
        events += 1;
        i += 1;
    }
    out.push_str(&format!(
        "data: {{\"type\":\"message_end\",\"id\":\"{ID}\",\"model\":\"{MODEL}\",\"finish_reason\":\"stop\",\"usage\":{{\"prompt_tokens\":2154,\"completion_tokens\":{i},\"total_tokens\":{}}}}}\n\n",
        2154 + i
    ));
    events += 1;
    (out.into_bytes(), events)
}

/// Time this thread has spent on a CPU (Linux), so that a busy shared machine
/// disturbs the figure less than wall-clock time; `None` elsewhere.
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let mb: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(20);
    let rounds: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(5);
    let (bytes, events) = recording(mb << 20);
    let bytes = Arc::new(bytes);
    println!(
        "sse: {:.1} MB recorded chat stream, {events} chunks, {rounds} rounds",
        bytes.len() as f64 / 1e6
    );
    let rss_before = status_kib("VmRSS");
    let mut times = Vec::with_capacity(rounds);
    let mut cpu_times = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let stream = ChatStream::from_reader(Shared {
            bytes: bytes.clone(),
            pos: 0,
        });
        let started = Instant::now();
        let cpu_started = cpu_time();
        let mut chunks = 0usize;
        let mut text = 0usize;
        for chunk in stream {
            if let ChatStreamChunk::ContentDelta(d) = chunk.expect("the recording decodes") {
                text += d.content.len();
            }
            chunks += 1;
        }
        let took = started.elapsed();
        if let (Some(a), Some(b)) = (cpu_started, cpu_time()) {
            cpu_times.push(b.saturating_sub(a));
        }
        assert_eq!(chunks, events, "every chunk decoded");
        assert!(text > 0);
        times.push(took);
    }
    let rss_after = status_kib("VmRSS");
    times.sort();
    let report = |label: &str, t: Duration| {
        let secs = t.as_secs_f64();
        println!(
            "sse: {label:>10}: {:8.1} MB/s {:10.0} chunks/s ({:.1} ms)",
            bytes.len() as f64 / 1e6 / secs,
            events as f64 / secs,
            secs * 1e3
        );
    };
    report("best", times[0]);
    report("median", times[times.len() / 2]);
    if let (Some(a), Some(b)) = (rss_before, rss_after) {
        println!(
            "sse: memory growth while decoding: {} KiB",
            b.saturating_sub(a)
        );
    }
    if cpu_times.len() == times.len() {
        cpu_times.sort();
        report("cpu best", cpu_times[0]);
        report("cpu median", cpu_times[cpu_times.len() / 2]);
    }
}
