//! Runs the Assistant API emulator as a program, for clients in any language.
//!
//! ```text
//! cargo run --example emulator --features emulator -- [--port N] [--api-key K]
//! ```
//!
//! Prints `PINECONE_EMULATOR_URL=…` and `PINECONE_EMULATOR_API_KEY=…` (one line
//! each, then flushes) and serves until killed. Point a client at it with the URL
//! as its host and the key as its API key; for alignment evaluation, use the URL
//! as the evaluation host too.

use std::io::Write;
use std::process::ExitCode;

use pinecone_assistant::emulator::Emulator;

fn usage() -> ExitCode {
    eprintln!("usage: emulator [--port N] [--api-key K]");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut builder = Emulator::builder();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--port", Some(p)) => match p.parse() {
                Ok(port) => builder = builder.port(port),
                Err(_) => return usage(),
            },
            ("--api-key", Some(k)) if !k.is_empty() => builder = builder.api_key(k),
            _ => return usage(),
        }
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
