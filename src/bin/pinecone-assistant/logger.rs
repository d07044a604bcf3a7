//! The logger behind `-v`: the library's `log` records on stderr, at the level
//! the flags ask for, with the API key blanked out of every line.

use std::io::Write;
use std::sync::OnceLock;

use log::{Level, LevelFilter, Log, Metadata, Record};

/// The HTTP layer underneath writes raw request bytes, headers and so the API
/// key included, at trace level under these targets; they never go below info.
const RAW_TARGETS: [&str; 2] = ["ureq_proto", "ureq"];

struct StderrLogger {
    level: LevelFilter,
    /// A secret no line may contain, set once the key is known.
    secret: OnceLock<String>,
}

static LOGGER: OnceLock<StderrLogger> = OnceLock::new();

/// The level for `verbose` `-v` flags: warnings by default, then info, debug, trace.
pub fn level(verbose: u8) -> LevelFilter {
    match verbose {
        0 => LevelFilter::Warn,
        1 => LevelFilter::Info,
        2 => LevelFilter::Debug,
        _ => LevelFilter::Trace,
    }
}

/// Installs the logger at the level `-v` asks for.
pub fn install(verbose: u8) {
    let logger = LOGGER.get_or_init(|| StderrLogger {
        level: level(verbose),
        secret: OnceLock::new(),
    });
    if log::set_logger(logger).is_ok() {
        log::set_max_level(logger.level);
    }
}

/// Blanks `key` out of every later line.
pub fn hide(key: &str) {
    if let Some(logger) = LOGGER.get() {
        if !key.is_empty() {
            let _ = logger.secret.set(key.to_owned());
        }
    }
}

impl StderrLogger {
    fn allows(&self, level: Level, target: &str) -> bool {
        let raw = RAW_TARGETS
            .iter()
            .any(|t| target == *t || target.starts_with(&format!("{t}::")));
        level <= self.level && !(raw && level > Level::Info)
    }

    fn line(&self, record: &Record<'_>) -> String {
        let text = format!("[{} {}] {}", record.level(), record.target(), record.args());
        match self.secret.get() {
            Some(secret) => text.replace(secret.as_str(), "***"),
            None => text,
        }
    }
}

impl Log for StderrLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        self.allows(metadata.level(), metadata.target())
    }

    fn log(&self, record: &Record<'_>) {
        if self.enabled(record.metadata()) {
            let _ = writeln!(std::io::stderr().lock(), "{}", self.line(record));
        }
    }

    fn flush(&self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_http_dumps_stay_out_even_at_trace() {
        let logger = StderrLogger {
            level: level(3),
            secret: OnceLock::new(),
        };
        assert!(logger.allows(Level::Trace, "pinecone_assistant::http"));
        assert!(!logger.allows(Level::Trace, "ureq_proto::client"));
        assert!(!logger.allows(Level::Debug, "ureq"));
        assert!(logger.allows(Level::Info, "ureq"));
        let quiet = StderrLogger {
            level: level(0),
            secret: OnceLock::new(),
        };
        assert!(!quiet.allows(Level::Info, "pinecone_assistant"));
        assert!(quiet.allows(Level::Warn, "pinecone_assistant"));
    }

    #[test]
    fn the_key_is_blanked_out() {
        let logger = StderrLogger {
            level: level(2),
            secret: OnceLock::new(),
        };
        let _ = logger.secret.set("pcsk-secret".into());
        let line = logger.line(
            &Record::builder()
                .level(Level::Debug)
                .target("t")
                .args(format_args!("key pcsk-secret sent"))
                .build(),
        );
        assert_eq!(line, "[DEBUG t] key *** sent");
    }
}
