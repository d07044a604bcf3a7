//! `pinecone-assistant`: manage Pinecone assistants, their files and operations,
//! and chat with them from a terminal, against Pinecone or an offline emulator
//! (`--emulator`). Built with the `cli` feature:
//! `cargo install --path . --features cli`.
//!
//! Every command is a few calls of the library's public API; this program adds
//! the command line, the output forms (`--json`), progress, exit codes by class
//! of failure and Ctrl-C handling.

mod args;
mod assistants;
mod chat;
mod connect;
mod exit;
mod files;
mod interrupt;
mod logger;
mod optional;
mod output;
mod progress;
mod repl;
mod show;
mod sync;

use std::io::Write;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use pinecone_assistant::CancelHandle;

use args::{Cli, Command};
use exit::{Class, Failure};
use output::Output;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Emulator { args } = cli.command {
        return pinecone_assistant::emulator::program::run(args);
    }
    logger::install(cli.verbose);
    let out = Output { json: cli.json };
    match run(cli, out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            if !failure.shown {
                report(&failure.message, failure.class, out);
            }
            failure.class.into()
        }
    }
}

fn run(cli: Cli, out: Output) -> Result<(), Failure> {
    if let Command::Completions { shell } = cli.command {
        let mut script = Vec::new();
        clap_complete::generate(
            shell,
            &mut Cli::command(),
            "pinecone-assistant",
            &mut script,
        );
        return out.text(&String::from_utf8_lossy(&script));
    }
    let cancel = CancelHandle::new();
    interrupt::install(cancel.clone());
    let connection = connect::connect(&cli, cancel)?;
    let client = &connection.client;
    match cli.command {
        Command::Assistants(command) => assistants::run(client, command, out),
        Command::Files(command) => files::files(client, command, out),
        Command::Operations(command) => files::operations(client, command, out),
        Command::Context(args) => chat::context(client, args, out),
        Command::Chat(args) => chat::chat(client, args, out),
        Command::Eval(args) => chat::eval(client, args, out),
        Command::Sync(args) => sync::run(client, args, out),
        // Both were handled before connecting: they need no client.
        Command::Completions { .. } | Command::Emulator { .. } => Ok(()),
    }
}

/// Tells the user about a failure on stderr: a line of text, or with `--json` a
/// JSON object `{"error": {"class", "exit_code", "message"}}`.
pub fn report(message: &str, class: Class, out: Output) {
    let text = if out.json {
        serde_json::json!({
            "error": {"class": class.name(), "exit_code": class.code(), "message": message}
        })
        .to_string()
    } else {
        format!("pinecone-assistant: {message}")
    };
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}
