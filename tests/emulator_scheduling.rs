//! File operations run side by side, each after a delay drawn for it alone from
//! the configured distribution, reproducibly under a seed.

mod support;

use std::time::{Duration, Instant};

use pinecone_assistant::Wait;
use pinecone_assistant::emulator::{Emulator, ProcessingDelay};
use pinecone_assistant::models::CreateAssistantRequest;
use serde_json::Value;
use support::program::{call, polling_client, upload_at, wait_op_at};

const MS: fn(u64) -> Duration = Duration::from_millis;

fn with_assistant(emu: &Emulator, name: &str) {
    polling_client(emu)
        .create_assistant(CreateAssistantRequest::new(name), Wait::Forever)
        .unwrap();
}

/// Seconds since midnight of an RFC 3339 UTC timestamp the emulator wrote.
fn seconds(stamp: &str) -> f64 {
    let time = &stamp[stamp.find('T').expect("a time") + 1..stamp.len() - 1];
    let parts: Vec<f64> = time.split(':').map(|p| p.parse().unwrap()).collect();
    parts[0] * 3600.0 + parts[1] * 60.0 + parts[2]
}

/// How long an operation was processing, by its own timestamps.
fn took(op: &Value) -> Duration {
    let mut d =
        seconds(op["completed_on"].as_str().unwrap()) - seconds(op["created_on"].as_str().unwrap());
    if d < 0.0 {
        d += 86_400.0; // across midnight
    }
    Duration::from_secs_f64(d)
}

/// Operations of `assistant` still processing.
fn processing(emu: &Emulator, assistant: &str) -> usize {
    let mut n = 0;
    let mut token = String::new();
    loop {
        let (_, page) = call(
            emu.url(),
            emu.api_key(),
            "GET",
            &format!("/assistant/operations/{assistant}?status=Processing&limit=100{token}"),
            None,
        );
        n += page["operations"].as_array().unwrap().len();
        match page["pagination"]["next"].as_str() {
            Some(t) => token = format!("&pagination_token={t}"),
            None => return n,
        }
    }
}

#[test]
fn a_thousand_uploads_with_a_200_ms_delay_finish_together_not_in_a_queue() {
    let emu = Emulator::builder()
        .ready_delay(Duration::ZERO)
        .processing_delay(MS(200))
        .workers(8)
        .start()
        .unwrap();
    with_assistant(&emu, "bulk");
    let started = Instant::now();
    let senders: Vec<_> = (0..8)
        .map(|t| {
            let (url, key) = (emu.url().to_owned(), emu.api_key().to_owned());
            std::thread::spawn(move || {
                for i in 0..125 {
                    let text = format!("Note {t}-{i}: the kettle boils in 90 seconds.");
                    upload_at(
                        &url,
                        &key,
                        "bulk",
                        &format!("n{t}-{i}.txt"),
                        text.as_bytes(),
                    );
                }
            })
        })
        .collect();
    for s in senders {
        s.join().unwrap();
    }
    let uploaded = Instant::now();
    while processing(&emu, "bulk") > 0 {
        std::thread::sleep(MS(10));
    }
    let settled = uploaded.elapsed();
    // One queue would need 1000 × 200 ms = 200 s; side by side, the last file is
    // done about 200 ms after it arrived.
    assert!(
        settled < Duration::from_millis(1500),
        "{settled:?} after the last upload ({:?} to upload)",
        uploaded - started
    );
    let (_, ops) = call(
        emu.url(),
        emu.api_key(),
        "GET",
        "/assistant/operations/bulk?status=Completed&limit=1",
        None,
    );
    let first = &ops["operations"][0];
    assert!(took(first) >= MS(199), "{first}");
}

#[test]
fn larger_files_take_longer_under_a_size_scaled_delay() {
    let emu = Emulator::builder()
        .ready_delay(Duration::ZERO)
        .processing_delay(ProcessingDelay::by_size(MS(50), MS(1500)))
        .start()
        .unwrap();
    with_assistant(&emu, "sizes");
    let big_text = "kettles ".repeat(1 << 20 >> 3); // 1 MiB
    assert_eq!(big_text.len(), 1 << 20);
    let big = upload_at(
        emu.url(),
        emu.api_key(),
        "sizes",
        "big.txt",
        big_text.as_bytes(),
    );
    let small = upload_at(emu.url(), emu.api_key(), "sizes", "small.txt", b"A kettle.");
    let small = wait_op_at(
        emu.url(),
        emu.api_key(),
        "sizes",
        small["id"].as_str().unwrap(),
    );
    let (_, big_now) = call(
        emu.url(),
        emu.api_key(),
        "GET",
        &format!(
            "/assistant/operations/sizes/{}",
            big["id"].as_str().unwrap()
        ),
        None,
    );
    // The small file, sent second, is done while the big one still works.
    assert_eq!(small["status"], "Completed");
    assert_eq!(big_now["status"], "Processing", "{big_now}");
    let big = wait_op_at(
        emu.url(),
        emu.api_key(),
        "sizes",
        big["id"].as_str().unwrap(),
    );
    assert_eq!(big["status"], "Completed");
    assert!(took(&big) >= MS(1549), "{big}");
    assert!(took(&small) >= MS(50), "{small}");
    assert!(took(&small) < MS(1000), "{small}");
}

/// How long each of six upserts took under `seed` and uniform 100–1500 ms delays.
fn uniform_run(seed: u64) -> Vec<Duration> {
    let emu = Emulator::builder()
        .ready_delay(Duration::ZERO)
        .processing_delay(ProcessingDelay::uniform(MS(100), MS(1500)))
        .seed(seed)
        .start()
        .unwrap();
    with_assistant(&emu, "draws");
    let docs = polling_client(&emu).assistant("draws");
    let ops: Vec<String> = (0..6)
        .map(|i| {
            docs.upload_file(
                pinecone_assistant::models::UploadFile::bytes(
                    format!("Note {i}.").into_bytes(),
                    format!("n{i}.txt"),
                )
                .file_id(format!("note-{i}")),
                Wait::No,
            )
            .unwrap()
            .operation
            .id
        })
        .collect();
    ops.iter()
        .map(|op| took(&wait_op_at(emu.url(), emu.api_key(), "draws", op)))
        .collect()
}

#[test]
fn uniform_delays_vary_per_file_and_repeat_under_the_same_seed() {
    let first = uniform_run(42);
    for d in &first {
        assert!((MS(100)..MS(1800)).contains(d), "{first:?}");
    }
    let spread = first
        .iter()
        .max()
        .unwrap()
        .saturating_sub(*first.iter().min().unwrap());
    assert!(spread > MS(200), "the draws do not vary: {first:?}");
    // The same seed draws the same delays for the same files.
    let again = uniform_run(42);
    for (a, b) in first.iter().zip(&again) {
        let diff = if a > b { *a - *b } else { *b - *a };
        assert!(diff < MS(150), "{first:?} vs {again:?}");
    }
    // Another seed draws others.
    let other = uniform_run(43);
    assert!(
        first.iter().zip(&other).any(|(a, b)| {
            let diff = if a > b { *a - *b } else { *b - *a };
            diff > MS(300)
        }),
        "{first:?} vs {other:?}"
    );
}
