//! Upload memory and throughput: streams a large file (1 GiB by default) to a local server
//! that discards the body, and prints the time, the throughput and the process's
//! peak resident memory.
//!
//! ```text
//! cargo bench --bench upload --no-run
//! /usr/bin/time -v target/release/deps/upload-<hash>     # "Maximum resident set size"
//! UPLOAD_BENCH_MIB=64 cargo bench --bench upload          # a smaller file
//! UPLOAD_BENCH_SPARSE=1 cargo bench --bench upload         # a sparse file
//! UPLOAD_BENCH_ROUNDS=5 cargo bench --bench upload         # more timed rounds
//! ```
//!
//! After a first upload (whose peak memory is reported), each round uploads the
//! file once with bare ureq (no multipart, no client logic: the ceiling) and once
//! through the client; the medians and their ratio are printed.
//!
//! The server runs in the same process on 127.0.0.1 (its buffers are 64 KiB), so
//! the peak RSS printed covers client and server together.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use pinecone_assistant::models::UploadFile;
use pinecone_assistant::{Assistant, Client, ClientConfig, Wait};

#[path = "support/process.rs"]
mod process;
use process::status_kib;

const NAME: &str = "bench";
const FILE_ID: &str = "f-bench";

fn main() {
    let mib: u64 = std::env::var("UPLOAD_BENCH_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let size = mib << 20;
    let dir = std::env::temp_dir().join(format!("pa-upload-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("big.pdf");
    let sparse = std::env::var_os("UPLOAD_BENCH_SPARSE").is_some();
    write_file(&path, size, sparse).expect("bench file");

    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let host = format!("http://{}", listener.local_addr().expect("addr"));
    let served = host.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let host = served.clone();
            std::thread::spawn(move || serve(conn, &host));
        }
    });

    let client = Client::new(
        ClientConfig::builder("bench-key")
            .host(&host)
            .timeout(Duration::from_secs(120))
            .build(),
    )
    .expect("client");
    let docs = client.assistant(NAME);
    let rss_before = status_kib("VmRSS");
    let first = upload(&docs, &path, size);
    // Measured before the bare-ureq runs below, so it is this client's alone.
    let peak = status_kib("VmHWM");
    let (mut ours, mut bare) = (vec![first], Vec::new());
    let rounds: usize = std::env::var("UPLOAD_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    for _ in 0..rounds {
        bare.push(bare_ureq(&host, &path, size));
        ours.push(upload(&docs, &path, size));
    }
    std::fs::remove_dir_all(&dir).expect("cleanup");

    let rate = |d: Duration| size as f64 / 1e6 / d.as_secs_f64();
    let ours = median(ours);
    println!(
        "upload {mib} MiB ({}): median {:.3} s = {:.0} MB/s over {} runs; RSS before {} KiB, peak (VmHWM) {} KiB",
        if sparse {
            "sparse file"
        } else {
            "file in the page cache"
        },
        ours.as_secs_f64(),
        rate(ours),
        rounds + 1,
        rss_before.unwrap_or(0),
        peak.unwrap_or(0),
    );
    if !bare.is_empty() {
        let bare = median(bare);
        println!(
            "ceiling, bare ureq POST of the same file: median {:.3} s = {:.0} MB/s; ours = {:.0} % of it",
            bare.as_secs_f64(),
            rate(bare),
            100.0 * bare.as_secs_f64() / ours.as_secs_f64(),
        );
    }
}

/// One upload through the client, with a progress callback as a caller would set.
fn upload(docs: &Assistant, path: &Path, size: u64) -> Duration {
    let reported = Arc::new(AtomicU64::new(0));
    let seen = reported.clone();
    let start = Instant::now();
    let result = docs
        .upload_file(
            UploadFile::path(path).on_progress(move |sent, _| seen.store(sent, Ordering::Relaxed)),
            Wait::No,
        )
        .expect("upload");
    let elapsed = start.elapsed();
    assert_eq!(result.file.map(|f| f.id).as_deref(), Some(FILE_ID));
    assert_eq!(reported.load(Ordering::Relaxed), size);
    elapsed
}

/// The same bytes with no client logic: one ureq POST of the bare file.
fn bare_ureq(host: &str, path: &Path, size: u64) -> Duration {
    let agent: ureq::Agent = ureq::Agent::config_builder().proxy(None).build().into();
    let start = Instant::now();
    let file = std::fs::File::open(path).expect("open");
    let resp = agent
        .post(format!("{host}/assistant/files/{NAME}"))
        .header("content-type", "application/pdf")
        .header("content-length", size)
        .send(ureq::SendBody::from_owned_reader(file))
        .expect("bare upload");
    assert_eq!(resp.status(), 202);
    start.elapsed()
}

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

/// Writes the file to upload. A sparse file costs no disk space, but on some
/// kernels reading its holes (zero-filling every page) is slower than the
/// transfer itself; by default the file is written out, so it is read back from
/// the page cache.
fn write_file(path: &std::path::Path, size: u64, sparse: bool) -> std::io::Result<()> {
    let mut file = std::fs::File::create(path)?;
    if sparse {
        return file.set_len(size);
    }
    // Small, so writing the file does not raise the peak memory measured.
    let block: Vec<u8> = (0..1u32 << 16).map(|i| (i % 251) as u8).collect();
    let mut left = size;
    while left > 0 {
        let n = left.min(block.len() as u64) as usize;
        file.write_all(&block[..n])?;
        left -= n as u64;
    }
    file.sync_all()
}

/// A keep-alive HTTP/1.1 connection: describe → the assistant on this host, a POST
/// upload → 202 after discarding the body, a file describe → the file.
fn serve(conn: TcpStream, host: &str) {
    let mut reader = BufReader::with_capacity(64 << 10, conn.try_clone().expect("clone"));
    let mut writer = conn;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut length = 0u64;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
        }
        let discarded = std::io::copy(&mut (&mut reader).take(length), &mut std::io::sink());
        if discarded.map_or(true, |n| n != length) {
            return;
        }
        let mut parts = request_line.split_whitespace();
        let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let (status, body) = match (method, path) {
            ("GET", p) if p == format!("/assistant/assistants/{NAME}") => (
                "200 OK",
                format!(r#"{{"name":"{NAME}","status":"Ready","host":"{host}"}}"#),
            ),
            ("POST", p) if p.starts_with(&format!("/assistant/files/{NAME}")) => (
                "202 Accepted",
                format!(
                    r#"{{"id":"op-bench","operation_type":"upload_file","file_id":"{FILE_ID}","status":"Processing","percent_complete":0}}"#
                ),
            ),
            ("GET", p) if p == format!("/assistant/files/{NAME}/{FILE_ID}") => (
                "200 OK",
                format!(r#"{{"name":"big.pdf","id":"{FILE_ID}","status":"Processing"}}"#),
            ),
            _ => (
                "404 Not Found",
                r#"{"error":{"message":"no route"}}"#.to_owned(),
            ),
        };
        // One write per response: head and body written separately would meet
        // Nagle's algorithm and the client's delayed ACK (~40 ms per response).
        let response = format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        if writer.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}
