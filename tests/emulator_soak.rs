//! A fault soak: threads run a mix of operations (create and delete assistants,
//! upload, list, describe and delete files, stream chats and chat completions)
//! against the emulator while it injects faults: 5 % of requests answered 503,
//! 2 % reset, 1 % of streams cut, 3 % answered 50 ms late. Then, faults off, the
//! emulator's final state is checked against what the calls reported.
//!
//! The short run is part of `cargo test`; the long one runs on demand:
//!
//! ```text
//! cargo test --release --all-features --test emulator_soak -- --ignored --nocapture
//! ```
//!
//! (`SOAK_SECONDS`, default 30, and `SOAK_THREADS`, default 8, change it.) Both
//! print their report: operations done, errors by class, panics, files lost or
//! duplicated, and the process's RSS at the start and at the end.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use pinecone_assistant::emulator::{Emulator, Fault, ProcessingDelay};
use pinecone_assistant::models::{
    ChatCompletionRequest, ChatRequest, CreateAssistantRequest, ListFilesOptions, Message,
    UploadFile,
};
use pinecone_assistant::{Client, ClientConfig, Error, RetryPolicy, Wait};

#[path = "../benches/support/process.rs"]
mod process;
use process::rss_kib;

/// What one soak found.
#[derive(Debug, Default)]
struct Report {
    operations: u64,
    errors: BTreeMap<String, u64>,
    panics: u64,
    /// Uploads reported done, not deleted, and absent at the end.
    lost: Vec<String>,
    /// Names stored more than once.
    duplicated: Vec<String>,
    /// Files reported deleted but present, or present though never uploaded.
    unexpected: Vec<String>,
    /// Uploads that failed (a poll after the upload failed) yet are stored:
    /// allowed, since the upload itself went through.
    failed_but_stored: u64,
    /// Assistants left over that no call created or that a reported delete missed.
    stray_assistants: Vec<String>,
    rss_start_kib: u64,
    rss_end_kib: u64,
}

impl Report {
    fn print(&self, threads: usize, ran: Duration) {
        println!("soak: {threads} threads for {ran:.1?}");
        println!("  operations:        {}", self.operations);
        let errors: u64 = self.errors.values().sum();
        println!("  errors:            {errors} {:?}", self.errors);
        println!("  panics:            {}", self.panics);
        println!("  files lost:        {} {:?}", self.lost.len(), self.lost);
        println!(
            "  files duplicated:  {} {:?}",
            self.duplicated.len(),
            self.duplicated
        );
        println!(
            "  unexpected files:  {} {:?}",
            self.unexpected.len(),
            self.unexpected
        );
        println!("  failed but stored: {}", self.failed_but_stored);
        println!("  stray assistants:  {:?}", self.stray_assistants);
        println!(
            "  RSS:               {} KiB at the start, {} KiB at the end",
            self.rss_start_kib, self.rss_end_kib
        );
    }

    fn assert_clean(&self) {
        assert_eq!(self.panics, 0, "{self:?}");
        assert!(self.lost.is_empty(), "{self:?}");
        assert!(self.duplicated.is_empty(), "{self:?}");
        assert!(self.unexpected.is_empty(), "{self:?}");
        assert!(self.stray_assistants.is_empty(), "{self:?}");
    }
}

/// A small, seeded generator: each thread draws its own operations.
struct Dice(u64);

impl Dice {
    fn below(&mut self, n: u64) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

/// The error's class: the name of its variant.
fn class(error: &Error) -> String {
    let debug = format!("{error:?}");
    debug
        .split(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or("")
        .to_owned()
}

/// What one worker did and saw.
#[derive(Default)]
struct Worker {
    operations: u64,
    errors: BTreeMap<String, u64>,
    panics: u64,
    /// Upload names by outcome.
    uploaded: BTreeMap<String, String>,
    failed_uploads: BTreeSet<String>,
    deleted: BTreeSet<String>,
    maybe_deleted: BTreeSet<String>,
    /// Temporary assistants whose delete did not report success.
    maybe_left: BTreeSet<String>,
}

fn client_for(emu: &Emulator) -> Client {
    Client::new(
        ClientConfig::builder(emu.api_key())
            .host(emu.url())
            .timeout(Duration::from_secs(10))
            .total_timeout(Duration::from_secs(30))
            .retry(
                RetryPolicy::new()
                    .max_retries(3)
                    .base_delay(Duration::from_millis(5))
                    .max_delay(Duration::from_millis(200)),
            )
            .create_poll_interval(Duration::from_millis(20))
            .operation_poll_interval(Duration::from_millis(20))
            .build(),
    )
    .unwrap()
}

/// Creates `name`, trying again after failures that left nothing behind.
fn create(client: &Client, name: &str) {
    for _ in 0..20 {
        match client.create_assistant(
            CreateAssistantRequest::new(name),
            Wait::For(Duration::from_secs(10)),
        ) {
            Ok(_) => return,
            Err(e) if e.status() == Some(409) => return,
            Err(_) => thread::sleep(Duration::from_millis(10)),
        }
    }
    panic!("could not create {name}");
}

fn work(client: &Client, id: usize, until: Instant) -> Worker {
    let mut w = Worker::default();
    let name = format!("soak-{id}");
    create(client, &name);
    let docs = client.assistant(&name);
    let mut dice = Dice(0x9E37_79B9_7F4A_7C15 ^ (id as u64 + 1));
    let mut n = 0u64;
    while Instant::now() < until {
        n += 1;
        let roll = dice.below(100);
        let outcome = catch_unwind(AssertUnwindSafe(|| -> Result<(), Error> {
            match roll {
                0..35 => {
                    let file = format!("t{id}-{n}.md");
                    let text = format!("# Note {n}\n\nThread {id} wrote note {n} about refunds.");
                    match docs.upload_file(
                        UploadFile::bytes(text, file.as_str()),
                        Wait::For(Duration::from_secs(10)),
                    ) {
                        Ok(done) => {
                            let id = done.file.map(|f| f.id).unwrap_or_default();
                            w.uploaded.insert(file, id);
                            Ok(())
                        }
                        Err(e) => {
                            w.failed_uploads.insert(file);
                            Err(e)
                        }
                    }
                }
                35..50 => docs
                    .list_files_with(ListFilesOptions::new().page_size(20))?
                    .collect::<Result<Vec<_>, _>>()
                    .map(drop),
                50..65 => docs
                    .chat_stream(ChatRequest::new([Message::user("How are refunds made?")]))?
                    .collect_text()
                    .map(drop),
                65..75 => docs
                    .chat_completions_stream(ChatCompletionRequest::new([Message::user(
                        "Who wrote about refunds?",
                    )]))?
                    .collect_text()
                    .map(drop),
                75..85 => {
                    let live: Vec<(String, String)> = w
                        .uploaded
                        .iter()
                        .filter(|(f, _)| !w.deleted.contains(*f) && !w.maybe_deleted.contains(*f))
                        .map(|(f, i)| (f.clone(), i.clone()))
                        .collect();
                    let Some((file, file_id)) = live
                        .get(dice.below(live.len().max(1) as u64) as usize)
                        .cloned()
                    else {
                        return Ok(());
                    };
                    match docs.delete_file(&file_id, Wait::For(Duration::from_secs(10))) {
                        Ok(_) => {
                            w.deleted.insert(file);
                            Ok(())
                        }
                        Err(e) => {
                            w.maybe_deleted.insert(file);
                            Err(e)
                        }
                    }
                }
                85..93 => {
                    let some = w.uploaded.values().next().cloned();
                    match some {
                        Some(file_id) => docs
                            .describe_file(&file_id)
                            .map(drop)
                            .or_else(|e| if e.is_not_found() { Ok(()) } else { Err(e) }),
                        None => client.describe_assistant(&name).map(drop),
                    }
                }
                _ => {
                    let temp = format!("soak-{id}-tmp-{n}");
                    client.create_assistant(
                        CreateAssistantRequest::new(&temp),
                        Wait::For(Duration::from_secs(10)),
                    )?;
                    w.maybe_left.insert(temp.clone());
                    client.delete_assistant(&temp, Wait::For(Duration::from_secs(10)))?;
                    w.maybe_left.remove(&temp);
                    Ok(())
                }
            }
        }));
        w.operations += 1;
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(e)) => *w.errors.entry(class(&e)).or_default() += 1,
            Err(_) => w.panics += 1,
        }
    }
    w
}

/// Runs the soak and checks the emulator's final state.
fn soak(threads: usize, duration: Duration) -> Report {
    let emu = Emulator::builder()
        .ready_delay(Duration::from_millis(30))
        .delete_delay(Duration::from_millis(30))
        .processing_delay(ProcessingDelay::uniform(
            Duration::from_millis(10),
            Duration::from_millis(60),
        ))
        .seed(11)
        .start()
        .expect("emulator starts");
    let rss_start_kib = rss_kib();
    emu.inject(Fault::status(503).retry_after("0").rate(0.05));
    emu.inject(Fault::reset().rate(0.02));
    emu.inject(Fault::delay(Duration::from_millis(50)).rate(0.03));
    emu.inject(Fault::cut_stream(2).rate(0.01));
    let client = Arc::new(client_for(&emu));
    let until = Instant::now() + duration;
    let handles: Vec<_> = (0..threads)
        .map(|id| {
            let client = client.clone();
            thread::spawn(move || work(&client, id, until))
        })
        .collect();
    let mut report = Report {
        rss_start_kib,
        ..Report::default()
    };
    let mut workers = Vec::new();
    for handle in handles {
        match handle.join() {
            Ok(w) => workers.push(w),
            Err(_) => report.panics += 1,
        }
    }
    emu.clear_faults();
    let client = client_for(&emu);

    let mut expected_assistants = BTreeSet::new();
    for (id, w) in workers.iter().enumerate() {
        report.operations += w.operations;
        report.panics += w.panics;
        for (class, n) in &w.errors {
            *report.errors.entry(class.clone()).or_default() += n;
        }
        let name = format!("soak-{id}");
        expected_assistants.insert(name.clone());
        let stored: Vec<String> = client
            .assistant(&name)
            .list_files()
            .map(|f| f.map(|f| f.name))
            .collect::<Result<_, _>>()
            .expect("list files without faults");
        let mut counts = BTreeMap::<&str, u32>::new();
        for file in &stored {
            *counts.entry(file.as_str()).or_default() += 1;
        }
        for (file, n) in &counts {
            if *n > 1 {
                report.duplicated.push(format!("{name}/{file}"));
            }
            let reported_done = w.uploaded.contains_key(*file);
            if w.deleted.contains(*file) || !(reported_done || w.failed_uploads.contains(*file)) {
                report.unexpected.push(format!("{name}/{file}"));
            } else if !reported_done {
                report.failed_but_stored += 1;
            }
        }
        for file in w.uploaded.keys() {
            let gone_on_purpose = w.deleted.contains(file) || w.maybe_deleted.contains(file);
            if !gone_on_purpose && !counts.contains_key(file.as_str()) {
                report.lost.push(format!("{name}/{file}"));
            }
        }
        // A temporary assistant whose delete failed may or may not be there.
        for temp in &w.maybe_left {
            let _ = client.delete_assistant(temp, Wait::For(Duration::from_secs(10)));
        }
    }
    for a in client.list_assistants() {
        let a = a.expect("list assistants without faults").name;
        if !expected_assistants.contains(&a) {
            report.stray_assistants.push(a);
        }
    }
    report.rss_end_kib = rss_kib();
    report
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn a_short_soak_under_faults_loses_and_duplicates_nothing() {
    let (threads, duration) = (4, Duration::from_secs(3));
    let started = Instant::now();
    let report = soak(threads, duration);
    report.print(threads, started.elapsed());
    report.assert_clean();
    assert!(report.operations >= 20, "{report:?}");
}

#[test]
#[ignore = "runs for 30 s; see the module documentation"]
fn the_fault_soak() {
    let threads = env_or("SOAK_THREADS", 8) as usize;
    let duration = Duration::from_secs(env_or("SOAK_SECONDS", 30));
    let started = Instant::now();
    let report = soak(threads, duration);
    report.print(threads, started.elapsed());
    report.assert_clean();
}
