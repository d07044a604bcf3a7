//! Folder sync against the emulator: 1,000 Markdown files of 1-20 KB, each
//! processed 200 ms after it arrives.
//!
//! ```text
//! cargo bench --bench sync --features emulator,sync
//! SYNC_BENCH_FILES=200 cargo bench --bench sync --features emulator,sync     # fewer files
//! SYNC_BENCH_LOOP_FILES=100 cargo bench --bench sync --features emulator,sync # shorter loop
//! SYNC_BENCH_WORKERS=16 cargo bench --bench sync --features emulator,sync
//! ```
//!
//! Measured, in this order, each phase on a fresh count of peak memory:
//!
//! 1. `Assistant::sync` of the folder with 32 workers into an empty assistant;
//! 2. a resync of the unchanged folder (plan and execute: nothing to send);
//! 3. what users of the official SDKs write today: a loop that uploads each
//!    file with its id and waits for it to be processed before the next, over
//!    this same crate, into another assistant. `SYNC_BENCH_LOOP_FILES` times the
//!    loop over the first N files only and scales the time to all of them (each
//!    iteration costs the same: one upload, one 200 ms processing, the polls).
//!
//! Both the sync and the loop poll on the client's schedule with its interval
//! capped at 250 ms (`operation_poll_interval`), so neither gains from a
//! polling schedule the other lacks.
//!
//! The emulator runs in a child process (this program started again with
//! `--serve-emulator`), so the peak resident memory printed (`VmHWM`, reset
//! between phases through `/proc/self/clear_refs`) is the client's alone.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use pinecone_assistant::emulator::{Emulator, ProcessingDelay};
use pinecone_assistant::models::{CreateAssistantRequest, UploadFile};
use pinecone_assistant::sync::{SyncOptions, file_id_for};
use pinecone_assistant::{Client, ClientConfig, Wait};

#[path = "support/process.rs"]
mod process;
use process::{peak_rss_kib, reset_peak_rss, spawn_self};

const PROCESSING: Duration = Duration::from_millis(200);
const POLL: Duration = Duration::from_millis(250);

fn main() {
    if std::env::args().any(|a| a == "--serve-emulator") {
        return serve_emulator();
    }
    let files = env_number("SYNC_BENCH_FILES", 1000);
    let loop_files = env_number("SYNC_BENCH_LOOP_FILES", files).min(files);
    let workers = env_number("SYNC_BENCH_WORKERS", 32);

    let dir = std::env::temp_dir().join(format!("pa-sync-bench-{}", std::process::id()));
    let paths = write_folder(&dir, files);
    let bytes: u64 = paths
        .iter()
        .map(|p| std::fs::metadata(p).map_or(0, |m| m.len()))
        .sum();
    println!(
        "{files} files, {} KiB in all; processing {PROCESSING:?} per file; polls at most {POLL:?} apart",
        bytes / 1024
    );

    let (mut child, url, key) = start_emulator();
    let client = Client::new(
        ClientConfig::builder(key)
            .host(url)
            .operation_poll_interval(POLL)
            .create_poll_interval(Duration::from_millis(20))
            .build(),
    )
    .expect("client");
    for name in ["bench-sync", "bench-loop"] {
        client
            .create_assistant(CreateAssistantRequest::new(name), Wait::Forever)
            .expect("create assistant");
    }
    let synced = client.assistant("bench-sync");
    let options = SyncOptions::new().workers(workers);

    reset_peak_rss();
    let started = Instant::now();
    let report = synced.sync(&dir, &options).expect("sync");
    let sync_time = started.elapsed();
    assert!(report.is_complete(), "{report}");
    assert_eq!(report.created, files);
    let sync_peak = peak_rss_kib();
    println!(
        "sync, {workers} workers:            {sync_time:>10.2?}  ({report}); peak RSS {sync_peak} KiB"
    );

    reset_peak_rss();
    let started = Instant::now();
    let report = synced.sync(&dir, &options).expect("resync");
    let resync_time = started.elapsed();
    assert_eq!((report.skipped, report.bytes_sent), (files, 0), "{report}");
    let resync_peak = peak_rss_kib();
    println!(
        "resync, nothing changed:        {resync_time:>10.2?}  ({report}); peak RSS {resync_peak} KiB"
    );

    let looped = client.assistant("bench-loop");
    reset_peak_rss();
    let started = Instant::now();
    for path in &paths[..loop_files] {
        let relative = path.strip_prefix(&dir).expect("under the folder");
        looped
            .upload_file(
                UploadFile::path(path).file_id(file_id_for(&relative.to_string_lossy())),
                Wait::Forever,
            )
            .expect("upload and wait");
    }
    let measured = started.elapsed();
    let loop_time = measured.mul_f64(files as f64 / loop_files as f64);
    let loop_peak = peak_rss_kib();
    let scaled = if loop_files < files {
        format!(" (measured {measured:.2?} for {loop_files} files, scaled)")
    } else {
        String::new()
    };
    println!(
        "sequential upload-and-wait loop: {loop_time:>10.2?}{scaled}; peak RSS {loop_peak} KiB"
    );
    println!(
        "sync is {:.1}x faster than the loop",
        loop_time.as_secs_f64() / sync_time.as_secs_f64()
    );

    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(default)
}

/// `n` Markdown files of 1 to 20 KB (sizes from a fixed pseudo-random sequence),
/// in ten subfolders; returns their paths, sorted.
fn write_folder(dir: &Path, n: usize) -> Vec<PathBuf> {
    let _ = std::fs::remove_dir_all(dir);
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let sentence = "The kettle boils water in about ninety seconds and switches itself off. ";
    let mut paths = Vec::with_capacity(n);
    for i in 0..n {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let size = 1024 + (seed >> 33) as usize % (19 * 1024);
        let mut text = format!("# Section {i}\n\n");
        while text.len() < size {
            text.push_str(sentence);
        }
        text.truncate(size);
        let path = dir.join(format!("part-{}/doc-{i:04}.md", i % 10));
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("folder");
        std::fs::write(&path, text).expect("file");
        paths.push(path);
    }
    paths.sort();
    paths
}

/// Starts this program again as the emulator; returns it with its URL and key.
fn start_emulator() -> (std::process::Child, String, String) {
    let (child, line) = spawn_self(&["--serve-emulator"]);
    let (url, key) = line.split_once(' ').expect("url and key");
    (child, url.to_owned(), key.to_owned())
}

/// The child: an emulator with the benchmark's processing delay, serving until
/// its parent closes stdin.
fn serve_emulator() {
    let emulator = Emulator::builder()
        .processing_delay(ProcessingDelay::fixed(PROCESSING))
        .ready_delay(Duration::from_millis(10))
        .workers(8)
        .page_size(100)
        .start()
        .expect("emulator");
    println!("{} {}", emulator.url(), emulator.api_key());
    std::io::stdout().flush().expect("flush");
    let mut rest = String::new();
    let _ = std::io::stdin().read_line(&mut rest);
}
