//! Runs the Assistant API emulator as a program, for clients in any language.
//!
//! ```text
//! cargo run --example emulator --features emulator -- [--port N] [--api-key K]
//!     [--ready-delay-ms N] [--delete-delay-ms N] [--processing-delay-ms N] [--page-size N]
//!     [--seed N] [--workers N]
//! ```
//!
//! Prints `PINECONE_EMULATOR_URL=…` and `PINECONE_EMULATOR_API_KEY=…` (one line
//! each, then flushes) and serves until killed. Point a client at it with the URL
//! as its host and the key as its API key; for alignment evaluation, use the URL
//! as the evaluation host too.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use pinecone_assistant::emulator::Emulator;

fn usage() -> ExitCode {
    eprintln!(
        "usage: emulator [--port N] [--api-key K] [--ready-delay-ms N] [--delete-delay-ms N] \
         [--processing-delay-ms N] [--page-size N] [--seed N] [--workers N]"
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut builder = Emulator::builder();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next();
        if let ("--api-key", Some(k)) = (arg.as_str(), &value) {
            if k.is_empty() {
                return usage();
            }
            builder = builder.api_key(k.as_str());
            continue;
        }
        let Some(n) = value.and_then(|v| v.parse::<u64>().ok()) else {
            return usage();
        };
        let ms = Duration::from_millis(n);
        builder = match arg.as_str() {
            "--port" => match u16::try_from(n) {
                Ok(port) => builder.port(port),
                Err(_) => return usage(),
            },
            "--ready-delay-ms" => builder.ready_delay(ms),
            "--delete-delay-ms" => builder.delete_delay(ms),
            "--processing-delay-ms" => builder.processing_delay(ms),
            "--page-size" => builder.page_size(n as usize),
            "--seed" => builder.seed(n),
            "--workers" => builder.workers(n as usize),
            _ => return usage(),
        };
    }
    let emulator = match builder.start() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("emulator: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut out = std::io::stdout().lock();
    // Readers wait for these two lines, so they go out at once.
    let printed = writeln!(out, "PINECONE_EMULATOR_URL={}", emulator.url())
        .and_then(|()| writeln!(out, "PINECONE_EMULATOR_API_KEY={}", emulator.api_key()))
        .and_then(|()| out.flush());
    if printed.is_err() {
        return ExitCode::FAILURE;
    }
    drop(out);
    loop {
        std::thread::park();
    }
}
