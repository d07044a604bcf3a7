//! Exit codes: one per class of failure, so scripts can tell "not there" from
//! "refused" from "unreachable" without reading messages.

use std::fmt;
use std::process::ExitCode;

use pinecone_assistant::Error;

/// The table `--help` prints.
pub const EXIT_CODES: &str = "Exit codes:
  0    success
  1    any other failure (an unreadable answer, a broken stream, a local file)
  2    bad usage: an unknown option, or an argument or setting refused
  3    not found: the assistant, file or operation does not exist
  4    the service refused the request (authentication, conflict, quota, server error)
  5    network: the service could not be reached or did not answer in time
  6    the work failed at the service (an upload's processing, an assistant's start)
  7    a wait gave up (--timeout); the work goes on at the service
  130  cancelled with Ctrl-C";

/// The class of a failure; its number is the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Other = 1,
    Usage = 2,
    NotFound = 3,
    Refused = 4,
    Network = 5,
    WorkFailed = 6,
    WaitTimeout = 7,
    Cancelled = 130,
}

impl Class {
    /// A word for the class, for `--json` error output.
    pub fn name(self) -> &'static str {
        match self {
            Class::Other => "failure",
            Class::Usage => "usage",
            Class::NotFound => "not_found",
            Class::Refused => "api",
            Class::Network => "network",
            Class::WorkFailed => "work_failed",
            Class::WaitTimeout => "wait_timeout",
            Class::Cancelled => "cancelled",
        }
    }

    /// The process exit code.
    pub fn code(self) -> u8 {
        self as u8
    }
}

impl From<Class> for ExitCode {
    fn from(class: Class) -> Self {
        ExitCode::from(class.code())
    }
}

/// Why a command failed: the class and the message shown to the user.
#[derive(Debug)]
pub struct Failure {
    pub class: Class,
    pub message: String,
    /// The message was shown already; only the exit code is left to give.
    pub shown: bool,
}

impl Failure {
    pub fn new(class: Class, message: impl Into<String>) -> Self {
        Self {
            class,
            message: message.into(),
            shown: false,
        }
    }

    /// The same failure, marked as shown to the user.
    pub fn reported(self) -> Self {
        Self {
            shown: true,
            ..self
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(Class::Usage, message)
    }

    /// Writing to stdout failed (a full disk, a closed pipe). A reader that
    /// stopped reading (`| head`) is no reason for a message.
    pub fn output(e: std::io::Error) -> Self {
        let failure = Self::new(Class::Other, format!("could not write the output: {e}"));
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            failure.reported()
        } else {
            failure
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The class of a library error.
pub fn classify(error: &Error) -> Class {
    match error {
        Error::InvalidArgument { .. } => Class::Usage,
        Error::NotFound(_) => Class::NotFound,
        Error::Api(_) => Class::Refused,
        Error::Timeout(_) | Error::Transport(_) => Class::Network,
        Error::OperationFailed { .. } | Error::AssistantFailed { .. } => Class::WorkFailed,
        Error::WaitTimeout { .. } => Class::WaitTimeout,
        Error::Cancelled => Class::Cancelled,
        _ => Class::Other,
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Self::new(classify(&error), error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_class_is_in_the_help_table() {
        for class in [
            Class::Other,
            Class::Usage,
            Class::NotFound,
            Class::Refused,
            Class::Network,
            Class::WorkFailed,
            Class::WaitTimeout,
            Class::Cancelled,
        ] {
            let line = format!("\n  {:<4} ", class.code());
            assert!(EXIT_CODES.contains(&line), "{class:?} is not documented");
        }
    }

    #[test]
    fn errors_map_to_their_class() {
        let invalid = Error::InvalidArgument {
            name: "name".into(),
            reason: "must not be empty".into(),
        };
        assert_eq!(classify(&invalid), Class::Usage);
        assert_eq!(classify(&Error::Cancelled), Class::Cancelled);
        assert_eq!(classify(&Error::Stream("cut".into())), Class::Other);
        let failed = Error::AssistantFailed {
            name: "docs".into(),
            status: "InitializationFailed".into(),
            awaited: "Ready".into(),
        };
        assert_eq!(classify(&failed), Class::WorkFailed);
    }
}
