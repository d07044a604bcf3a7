//! Keeps an assistant in sync with a folder: prints the plan (the dry run), then,
//! unless `--dry-run` is given, carries it out, printing each file as it ends.
//!
//! ```text
//! PINECONE_API_KEY=... cargo run --example sync --features sync -- docs ./handbook --dry-run
//! PINECONE_API_KEY=... cargo run --example sync --features sync -- docs ./handbook \
//!     --exclude 'drafts/' --gitignore --delete-missing --workers 16
//! ```
//!
//! `PINECONE_CONTROLLER_HOST` points it elsewhere (an emulator, for instance).
//! The assistant must exist. Stopping it at any point is safe: running it again
//! uploads only what is not there yet.

use std::process::ExitCode;

use pinecone_assistant::Client;
use pinecone_assistant::sync::{SyncEvent, SyncOptions};

const USAGE: &str = "usage: sync ASSISTANT FOLDER [--dry-run] [--delete-missing] [--gitignore] \
                     [--hidden] [--include PATTERN]... [--exclude PATTERN]... [--workers N]";

/// The command line, read.
struct Args {
    assistant: String,
    folder: String,
    dry_run: bool,
    options: SyncOptions,
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn parse(mut words: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut positional = Vec::new();
    let mut dry_run = false;
    let mut options = SyncOptions::new();
    while let Some(word) = words.next() {
        let mut value = || words.next().ok_or(format!("{word} needs a value"));
        options = match word.as_str() {
            "--dry-run" => {
                dry_run = true;
                options
            }
            "--delete-missing" => options.delete_missing(true),
            "--gitignore" => options.gitignore(true),
            "--hidden" => options.hidden(true),
            "--include" => options.include([value()?]),
            "--exclude" => options.exclude([value()?]),
            "--workers" => {
                let n = value()?;
                options.workers(
                    n.parse()
                        .map_err(|_| format!("--workers {n}: not a number"))?,
                )
            }
            flag if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
            _ => {
                positional.push(word);
                options
            }
        };
    }
    let [assistant, folder] = <[String; 2]>::try_from(positional).map_err(|got| {
        format!(
            "expected ASSISTANT and FOLDER, got {} argument(s)",
            got.len()
        )
    })?;
    Ok(Args {
        assistant,
        folder,
        dry_run,
        options,
    })
}

/// Plans, prints the plan and, unless it is a dry run, carries it out; `false`
/// when a file failed.
fn run(args: Args) -> Result<bool, pinecone_assistant::Error> {
    let assistant = Client::from_env()?.assistant(&args.assistant);
    let options = args.options.on_progress(|event| match event {
        SyncEvent::Done { .. } | SyncEvent::Failed { .. } | SyncEvent::Processing { .. } => {
            println!("{event}");
        }
        _ => {}
    });
    let plan = assistant.plan_sync(&args.folder, &options)?;
    print!("{plan}");
    if args.dry_run || plan.is_noop() {
        return Ok(true);
    }
    let report = assistant.execute_sync(&plan, &options)?;
    println!("{report}");
    for failure in &report.failures {
        eprintln!("failed: {}: {}", failure.entry.path, failure.error);
    }
    Ok(report.is_complete())
}
