//! An observer that keeps per-route latencies and token totals, printed at exit.
//!
//! ```text
//! cargo run --example observe --features emulator
//! ```
//!
//! It uploads the documents of `examples/data/`, asks a few questions (streamed,
//! plain and through chat completions), retrieves context and lists files, with
//! an observer on the client that records the latency of every answer by route
//! template and the tokens every stream reports. At exit it prints, per route,
//! the number of answers and their 50th, 90th and 99th percentile and largest
//! latency, then the retries, the errors by class and the token totals.
//!
//! With `PINECONE_API_KEY` unset it runs against the in-process emulator, so it
//! needs no account; with the variable set it talks to Pinecone (and creates,
//! then deletes, an assistant named `orbit-observed` in that project).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pinecone_assistant::emulator::Emulator;
use pinecone_assistant::models::{
    ChatCompletionRequest, ChatRequest, ContextRequest, CreateAssistantRequest, ListFilesOptions,
    Message, UploadFile,
};
use pinecone_assistant::observe::Event;
use pinecone_assistant::{Client, ClientConfig, Wait};

const NAME: &str = "orbit-observed";
const QUESTIONS: [&str; 3] = [
    "How long is the warranty on the Orbit T2?",
    "Which wire does the Orbit T2 need for its 24 V supply?",
    "What does a blinking red light mean?",
];

/// What the observer gathers.
#[derive(Default)]
struct Stats {
    /// Latencies of answers by `METHOD route`.
    latencies: BTreeMap<String, Vec<Duration>>,
    retries: u64,
    errors: BTreeMap<String, u64>,
    streams: u64,
    prompt_tokens: u64,
    completion_tokens: u64,
    total_tokens: u64,
}

impl Stats {
    fn record(&mut self, event: &Event<'_>) {
        match *event {
            Event::Response {
                method,
                route,
                latency,
                ..
            } => self
                .latencies
                .entry(format!("{method} {route}"))
                .or_default()
                .push(latency),
            Event::RetryScheduled { .. } => self.retries += 1,
            Event::StreamEnd { usage, .. } => {
                self.streams += 1;
                if let Some(usage) = usage {
                    self.prompt_tokens += usage.prompt_tokens;
                    self.completion_tokens += usage.completion_tokens;
                    self.total_tokens += usage.total_tokens;
                }
            }
            Event::Error { error, .. } => {
                // The variant's name is the error's class.
                let debug = format!("{error:?}");
                let class = debug
                    .split(|c: char| !c.is_alphanumeric())
                    .next()
                    .unwrap_or("")
                    .to_owned();
                *self.errors.entry(class).or_default() += 1;
            }
            _ => {}
        }
    }

    fn print(&self) {
        println!(
            "\n{:<52} {:>5} {:>9} {:>9} {:>9} {:>9}",
            "route", "calls", "p50", "p90", "p99", "max"
        );
        for (route, latencies) in &self.latencies {
            let mut sorted = latencies.clone();
            sorted.sort();
            println!(
                "{route:<52} {:>5} {:>9} {:>9} {:>9} {:>9}",
                sorted.len(),
                ms(percentile(&sorted, 50.0)),
                ms(percentile(&sorted, 90.0)),
                ms(percentile(&sorted, 99.0)),
                ms(*sorted.last().unwrap_or(&Duration::ZERO)),
            );
        }
        println!("\nretries: {}", self.retries);
        if self.errors.is_empty() {
            println!("errors: none");
        }
        for (class, n) in &self.errors {
            println!("errors ({class}): {n}");
        }
        println!(
            "tokens over {} streams: {} prompt + {} completion = {} total",
            self.streams, self.prompt_tokens, self.completion_tokens, self.total_tokens
        );
    }
}

/// The nearest-rank percentile of sorted values.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn main() -> ExitCode {
    let stats = Arc::new(Mutex::new(Stats::default()));
    let outcome = run(stats.clone());
    stats.lock().unwrap_or_else(|p| p.into_inner()).print();
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(stats: Arc<Mutex<Stats>>) -> Result<(), Box<dyn std::error::Error>> {
    let observer = move |event: &Event<'_>| {
        stats
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .record(event);
    };
    // Kept alive until the end: dropping it stops the server.
    let mut _emulator = None;
    let config = if std::env::var_os("PINECONE_API_KEY").is_some() {
        ClientConfig::builder_from_env()?
    } else {
        let emu = Emulator::start()?;
        println!("using the emulator at {}", emu.url());
        let builder = ClientConfig::builder(emu.api_key())
            .host(emu.url())
            .operation_poll_interval(Duration::from_millis(100));
        _emulator = Some(emu);
        builder
    };
    let client = Client::new(config.observer(observer).build())?;

    client.create_assistant(
        CreateAssistantRequest::new(NAME),
        Wait::For(Duration::from_secs(120)),
    )?;
    let docs = client.assistant(NAME);
    let work = || -> Result<(), Box<dyn std::error::Error>> {
        let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data");
        for name in [
            "orbit-overview.md",
            "orbit-warranty.md",
            "orbit-installation.pdf",
        ] {
            docs.upload_file(
                UploadFile::path(data.join(name)),
                Wait::For(Duration::from_secs(300)),
            )?;
        }
        for question in QUESTIONS {
            let ask = || [Message::user(question)];
            let streamed = docs.chat_stream(ChatRequest::new(ask()))?.collect_text()?;
            println!("Q: {question}\nA: {streamed}\n");
            docs.chat(ChatRequest::new(ask()))?;
            docs.chat_completions_stream(ChatCompletionRequest::new(ask()))?
                .collect_text()?;
            docs.context(ContextRequest::query(question).top_k(3))?;
        }
        let files = docs.list_files_page(ListFilesOptions::new())?;
        println!("{} files", files.files.len());
        Ok(())
    };
    // Whatever happens, the assistant is deleted afterwards.
    let outcome = work();
    client.delete_assistant(NAME, Wait::For(Duration::from_secs(120)))?;
    outcome
}
