//! Runs the Assistant API emulator as a program, for clients in any language.
//!
//! ```text
//! cargo run --example emulator --features emulator -- [--port N] [--api-key K]
//!     [--ready-delay-ms N] [--delete-delay-ms N] [--processing-delay-ms N] [--page-size N]
//!     [--seed N] [--workers N] [--stream-delay-ms N] [--heartbeat-ms N]
//! ```
//!
//! Prints `PINECONE_EMULATOR_URL=…` and `PINECONE_EMULATOR_API_KEY=…` (one line
//! each, then flushes) and serves until killed. Point a client at it with the URL
//! as its host and the key as its API key; for alignment evaluation, use the URL
//! as the evaluation host too.
//!
//! `--stream-delay-ms N` pauses N ms between two events of a streamed answer and
//! `--heartbeat-ms N` sends a `: heartbeat` comment after N ms without an event
//! (15000 by default, as the real service): together they exercise a client's
//! idle timeout and its handling of heartbeats.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use pinecone_assistant::emulator::{Emulator, EmulatorBuilder};

const USAGE: &str = "usage: emulator [--port N] [--api-key K] [--ready-delay-ms N] \
[--delete-delay-ms N] [--processing-delay-ms N] [--page-size N] [--seed N] [--workers N] \
[--stream-delay-ms N] [--heartbeat-ms N]

  --stream-delay-ms N  pause between two events of a streamed answer (default 0)
  --heartbeat-ms N     longest silence in a stream before a `: heartbeat` comment
                       line (default 15000, as the real service)";

/// The builder the command line asks for; `None` for an argument it does not take.
fn parse(args: impl IntoIterator<Item = String>) -> Option<EmulatorBuilder> {
    let mut builder = Emulator::builder();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let value = args.next();
        if arg == "--api-key" {
            let k = value.filter(|k| !k.is_empty())?;
            builder = builder.api_key(k);
            continue;
        }
        let n = value.and_then(|v| v.parse::<u64>().ok())?;
        let ms = Duration::from_millis(n);
        builder = match arg.as_str() {
            "--port" => builder.port(u16::try_from(n).ok()?),
            "--ready-delay-ms" => builder.ready_delay(ms),
            "--delete-delay-ms" => builder.delete_delay(ms),
            "--processing-delay-ms" => builder.processing_delay(ms),
            "--page-size" => builder.page_size(usize::try_from(n).ok()?),
            "--seed" => builder.seed(n),
            "--workers" => builder.workers(usize::try_from(n).ok()?),
            "--stream-delay-ms" => builder.stream_delay(ms),
            "--heartbeat-ms" => builder.heartbeat(ms),
            _ => return None,
        };
    }
    Some(builder)
}

fn main() -> ExitCode {
    let Some(builder) = parse(std::env::args().skip(1)) else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
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

#[cfg(test)]
mod tests {
    use super::parse;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn stream_pacing_flags_reach_the_builder() {
        let b = parse(args("--stream-delay-ms 25 --heartbeat-ms 40 --workers 2")).unwrap();
        let shown = format!("{b:?}");
        assert!(shown.contains("stream_delay: 25ms"), "{shown}");
        assert!(shown.contains("heartbeat: 40ms"), "{shown}");
        assert!(shown.contains("workers: 2"), "{shown}");
    }

    #[test]
    fn bad_arguments_are_refused() {
        for bad in [
            "--heartbeat-ms",
            "--heartbeat-ms soon",
            "--stream-delay-ms -1",
            "--port 70000",
            "--api-key",
            "--bogus 1",
        ] {
            assert!(parse(args(bad)).is_none(), "{bad}");
        }
    }
}
