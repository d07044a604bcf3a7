//! The emulator as a program: its command line, its output and its main loop.
//!
//! `examples/emulator.rs` is nothing but [`run`], so that other programs (a
//! terminal tool, a test harness) can offer the same command with the same
//! options and output. Once it listens it prints shell assignments and flushes,
//! then serves until killed:
//!
//! ```text
//! PINECONE_EMULATOR_URL=http://127.0.0.1:PORT
//! PINECONE_EMULATOR_API_KEY=emulator-key
//! PINECONE_CONTROLLER_HOST=http://127.0.0.1:PORT
//! PINECONE_API_KEY=emulator-key
//! PINECONE_PLUGIN_ASSISTANT_DATA_HOST=http://127.0.0.1:PORT
//! export PINECONE_EMULATOR_URL PINECONE_EMULATOR_API_KEY PINECONE_CONTROLLER_HOST PINECONE_API_KEY PINECONE_PLUGIN_ASSISTANT_DATA_HOST
//! ```
//!
//! `eval` them and a client that reads its configuration from the environment
//! (this crate's `Client::from_env`, the official SDKs) talks to the emulator;
//! the last variable sends the official Python SDK's evaluation calls there too.
//! Every line but the last is also a plain `NAME=value` pair for other readers,
//! the first two as in earlier versions. A value that the shell would split is
//! single-quoted.
//!
//! Warnings (for example a data directory that cannot be written) go to stderr.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use super::{Emulator, EmulatorBuilder, ProcessingDelay};

/// The help text: every option, with its default.
pub const USAGE: &str = "usage: emulator [OPTIONS]

Serves the Pinecone Assistant API on 127.0.0.1 until killed. Once listening, it
prints NAME=value lines and an `export` line, so that

    target/debug/examples/emulator > emulator.env &
    until grep -q '^export' emulator.env 2>/dev/null; do sleep 0.1; done
    eval \"$(cat emulator.env)\"

points PINECONE_CONTROLLER_HOST and PINECONE_API_KEY (and the older
PINECONE_EMULATOR_URL and PINECONE_EMULATOR_API_KEY) at it.

Options (times in milliseconds):
  --port N                 TCP port on 127.0.0.1 (default 0: a free port)
  --api-key KEY            the API key clients must send (default emulator-key)
  --data-dir PATH          keep assistants, files and operations in PATH and
                           resume from it when started again (default: memory only)
  --processing-delay SPEC  how long each file operation stays Processing, drawn
                           per operation; operations run side by side:
                             MS or fixed:MS       the same for every operation
                             uniform:MIN:MAX      uniform between MIN and MAX
                             size:BASE:PER_MIB    BASE plus PER_MIB for each MiB
                           (default 300)
  --processing-delay-ms N  the same as --processing-delay fixed:N
  --processing-steps N     steps in which percent_complete rises (default 3)
  --seed N                 seed for ids and processing-delay draws, for
                           reproducible runs (default: the clock)
  --ready-delay-ms N       how long a new assistant stays Initializing (default 200)
  --delete-delay-ms N      how long a deleted assistant stays Terminating (default 200)
  --page-size N            items per list page when the request sets no limit
                           (default 50)
  --workers N              threads serving requests; a streamed answer holds one
                           while it runs (default 4)
  --stream-delay-ms N      pause between two events of a streamed answer (default 0)
  --heartbeat-ms N         longest silence in a stream before a `: heartbeat`
                           comment line (default 15000, as the real service)
  --max-body-bytes N       largest request body accepted, larger ones get a 413
                           (default 104857600)
  --body-timeout-ms N      how long a request body may take to arrive before a 408
                           (default 10000)
  -h, --help               print this help and exit";

/// What the command line asks for.
#[derive(Debug)]
pub enum Command {
    /// Start an emulator configured so.
    Serve(Box<EmulatorBuilder>),
    /// Print [`USAGE`].
    Help,
}

/// The command line's meaning (without the program name), or what is wrong
/// with it.
///
/// # Errors
///
/// A message naming the argument at fault.
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Command, String> {
    let mut builder = Emulator::builder();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if arg == "-h" || arg == "--help" {
            return Ok(Command::Help);
        }
        let Some(value) = args.next() else {
            return Err(if arg.starts_with('-') {
                format!("{arg} needs a value")
            } else {
                format!("unexpected argument {arg:?}")
            });
        };
        let number = || {
            value
                .parse::<u64>()
                .map_err(|_| format!("{arg} takes a whole number, got {value:?}"))
        };
        let ms = || number().map(Duration::from_millis);
        let size =
            || number().and_then(|n| usize::try_from(n).map_err(|_| format!("{arg} is too large")));
        builder = match arg.as_str() {
            "--api-key" if value.is_empty() => return Err("--api-key cannot be empty".into()),
            "--api-key" => builder.api_key(value),
            "--data-dir" if value.is_empty() => return Err("--data-dir cannot be empty".into()),
            "--data-dir" => builder.data_dir(PathBuf::from(value)),
            "--processing-delay" => builder.processing_delay(value.parse::<ProcessingDelay>()?),
            "--port" => {
                let n = number()?;
                builder.port(u16::try_from(n).map_err(|_| format!("--port {n} is not a port"))?)
            }
            "--ready-delay-ms" => builder.ready_delay(ms()?),
            "--delete-delay-ms" => builder.delete_delay(ms()?),
            "--processing-delay-ms" => builder.processing_delay(ms()?),
            "--processing-steps" => builder.processing_steps(
                u32::try_from(number()?).map_err(|_| "--processing-steps is too large")?,
            ),
            "--page-size" => builder.page_size(size()?),
            "--seed" => builder.seed(number()?),
            "--workers" => builder.workers(size()?),
            "--stream-delay-ms" => builder.stream_delay(ms()?),
            "--heartbeat-ms" => builder.heartbeat(ms()?),
            "--max-body-bytes" => builder.max_body(number()?),
            "--body-timeout-ms" => builder.body_timeout(ms()?),
            _ => return Err(format!("unknown option {arg:?}")),
        };
    }
    Ok(Command::Serve(Box::new(builder)))
}

/// `value` as the shell reads it back: as is when it is made of characters the
/// shell leaves alone, else single-quoted.
fn shell_word(value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-./:@%+,=".contains(&b));
    if plain {
        value.to_owned()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

/// The lines a shell evaluates into a client's environment: `NAME=value` lines
/// and one `export` line.
pub fn env_lines(url: &str, key: &str) -> String {
    let vars = [
        ("PINECONE_EMULATOR_URL", url),
        ("PINECONE_EMULATOR_API_KEY", key),
        ("PINECONE_CONTROLLER_HOST", url),
        ("PINECONE_API_KEY", key),
        ("PINECONE_PLUGIN_ASSISTANT_DATA_HOST", url),
    ];
    let mut out = String::new();
    for (name, value) in vars {
        out.push_str(&format!("{name}={}\n", shell_word(value)));
    }
    let names: Vec<&str> = vars.iter().map(|(n, _)| *n).collect();
    out.push_str(&format!("export {}\n", names.join(" ")));
    out
}

/// Sends warnings and errors of the emulator to stderr.
struct StderrLogger;

impl log::Log for StderrLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Warn
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            eprintln!("{}: {}", record.level(), record.args());
        }
    }

    fn flush(&self) {}
}

/// Runs the program: parses `args` (without the program name), prints the help
/// or an error (exit status 2), or starts the emulator, prints [`env_lines`] and
/// serves until the process is killed. Installs a logger that sends warnings to
/// stderr when no logger is set yet.
pub fn run(args: impl IntoIterator<Item = String>) -> ExitCode {
    let builder = match parse(args) {
        Ok(Command::Serve(builder)) => builder,
        Ok(Command::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("emulator: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if log::set_logger(&StderrLogger).is_ok() {
        log::set_max_level(log::LevelFilter::Warn);
    }
    let emulator = match builder.start() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("emulator: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut out = std::io::stdout().lock();
    // Readers wait for these lines, so they go out at once.
    let printed = out
        .write_all(env_lines(emulator.url(), emulator.api_key()).as_bytes())
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
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    fn shown(s: &str) -> String {
        match parse(args(s)) {
            Ok(Command::Serve(b)) => format!("{b:?}"),
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn stream_pacing_flags_reach_the_builder() {
        let shown = shown("--stream-delay-ms 25 --heartbeat-ms 40 --workers 2");
        assert!(shown.contains("stream_delay: 25ms"), "{shown}");
        assert!(shown.contains("heartbeat: 40ms"), "{shown}");
        assert!(shown.contains("workers: 2"), "{shown}");
    }

    #[test]
    fn delays_and_the_data_dir_reach_the_builder() {
        let s = shown("--processing-delay uniform:100:900 --seed 7 --data-dir /tmp/emu");
        assert!(s.contains("Uniform { min: 100ms, max: 900ms }"), "{s}");
        assert!(s.contains("seed: Some(7)") && s.contains("/tmp/emu"), "{s}");
        let s = shown("--processing-delay-ms 40 --processing-steps 5");
        assert!(
            s.contains("Fixed(40ms)") && s.contains("processing_steps: 5"),
            "{s}"
        );
        let s = shown("--processing-delay size:50:400 --max-body-bytes 10 --body-timeout-ms 9");
        assert!(s.contains("BySize { base: 50ms, per_mib: 400ms }"), "{s}");
        assert!(
            s.contains("max_body: 10") && s.contains("body_timeout: 9ms"),
            "{s}"
        );
    }

    #[test]
    fn help_is_not_an_error() {
        assert!(matches!(parse(args("--help")), Ok(Command::Help)));
        assert!(matches!(parse(args("--port 1 -h")), Ok(Command::Help)));
        for option in [
            "--port",
            "--api-key",
            "--data-dir",
            "--processing-delay ",
            "--processing-steps",
            "--seed",
            "--ready-delay-ms",
            "--delete-delay-ms",
            "--page-size",
            "--workers",
            "--stream-delay-ms",
            "--heartbeat-ms",
            "--max-body-bytes",
            "--body-timeout-ms",
            "--processing-delay-ms",
            "--help",
        ] {
            assert!(USAGE.contains(option), "the help does not explain {option}");
        }
    }

    #[test]
    fn bad_arguments_are_refused_with_a_reason() {
        for (bad, why) in [
            ("--heartbeat-ms", "needs a value"),
            ("--heartbeat-ms soon", "whole number"),
            ("--stream-delay-ms -1", "whole number"),
            ("--port 70000", "not a port"),
            ("--api-key", "needs a value"),
            ("--bogus 1", "unknown option"),
            ("stray", "unexpected argument"),
            ("--processing-delay uniform:9:1", "minimum is larger"),
            ("--processing-delay gauss:1", "use MS"),
        ] {
            let e = parse(args(bad)).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn printed_lines_evaluate_to_the_client_variables() {
        let lines = env_lines("http://127.0.0.1:5", "emulator-key");
        assert_eq!(
            lines,
            "PINECONE_EMULATOR_URL=http://127.0.0.1:5\n\
             PINECONE_EMULATOR_API_KEY=emulator-key\n\
             PINECONE_CONTROLLER_HOST=http://127.0.0.1:5\n\
             PINECONE_API_KEY=emulator-key\n\
             PINECONE_PLUGIN_ASSISTANT_DATA_HOST=http://127.0.0.1:5\n\
             export PINECONE_EMULATOR_URL PINECONE_EMULATOR_API_KEY PINECONE_CONTROLLER_HOST PINECONE_API_KEY PINECONE_PLUGIN_ASSISTANT_DATA_HOST\n"
        );
        assert_eq!(shell_word("it's a key"), r"'it'\''s a key'");
        assert_eq!(shell_word(""), "''");
    }
}
