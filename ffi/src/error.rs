//! Result codes and the thread-local last error.

use std::cell::RefCell;
use std::ffi::{CString, c_char, c_int};

use ::pinecone_assistant::Error;
use serde_json::{Map, Value};

/// The outcome of a fallible call. Values are fixed forever: a retired code is
/// never reused, a new one gets a new number in its group.
///
/// Groups: 1-9 arguments, 10-19 the server refused, 20-29 the network,
/// 30-39 data and local I/O, 40-49 waiting, 50-59 interruption, 90 library bug.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum pinecone_result {
    /// Success.
    Ok = 0,
    /// A required pointer argument was NULL; the message names it.
    NullArgument = 1,
    /// A string argument was not valid UTF-8; the message names it.
    InvalidUtf8 = 2,
    /// A JSON argument was malformed or had a field of the wrong type; the message
    /// names the argument and the field.
    InvalidJson = 3,
    /// An argument or setting was refused before anything was sent; the message
    /// names it and the fix.
    InvalidArgument = 4,
    /// The server answered 404: no such assistant, file or operation.
    NotFound = 10,
    /// The server answered with another error status (see
    /// `pinecone_last_error_status`).
    ApiError = 11,
    /// The server stayed silent past the timeout (`timeout_ms`), or the whole
    /// call outlasted its total bound (`total_timeout_ms`); the message says which.
    Timeout = 20,
    /// The connection failed (DNS, connect, TLS, reset, proxy).
    Transport = 21,
    /// A success response had an unexpected shape.
    Decode = 30,
    /// A server-sent event stream was malformed or cut off, or a chat answer
    /// (streamed or not) broke off after the server had accepted the request.
    /// Never worth retrying blindly: the chat may have run and been billed.
    Stream = 31,
    /// A local file or the read callback failed.
    Io = 32,
    /// An answer was larger than the client's limit (`body_limit`,
    /// `generation_body_limit`); `pinecone_last_error_json` gives `limit`, `seen`
    /// and the `setting` that raises it.
    BodyTooLarge = 33,
    /// The wait deadline passed first; the server keeps working.
    WaitTimeout = 40,
    /// A file operation (upload, upsert, delete) failed at the server.
    OperationFailed = 41,
    /// An assistant reached a state from which the awaited one cannot follow.
    AssistantFailed = 42,
    /// The call was cancelled through a `pinecone_cancel` handle or a stream's
    /// cancel function.
    Cancelled = 50,
    /// A callback returned non-zero.
    Aborted = 51,
    /// A bug in the library was caught at the boundary; the message says where.
    Panic = 90,
}

impl pinecone_result {
    /// The code for a library error.
    pub(crate) fn of(error: &Error) -> Self {
        match error {
            Error::InvalidArgument { .. } => Self::InvalidArgument,
            Error::NotFound(_) => Self::NotFound,
            Error::Api(_) => Self::ApiError,
            Error::Timeout(_) => Self::Timeout,
            Error::Transport(_) => Self::Transport,
            Error::Decode { .. } => Self::Decode,
            Error::Stream(_) => Self::Stream,
            Error::Io { .. } => Self::Io,
            Error::BodyTooLarge { .. } => Self::BodyTooLarge,
            Error::WaitTimeout { .. } => Self::WaitTimeout,
            Error::OperationFailed { .. } => Self::OperationFailed,
            Error::AssistantFailed { .. } => Self::AssistantFailed,
            Error::Cancelled => Self::Cancelled,
            // `Error` is non-exhaustive. A variant added later is reported by what
            // the server said, or else as a failed exchange, until it gets a code
            // of its own here (the table test below lists every variant).
            other if other.status().is_some() => Self::ApiError,
            _ => Self::Transport,
        }
    }

    /// Every code with its name, for `pinecone_result_name`.
    const NAMES: [(Self, &'static std::ffi::CStr); 19] = [
        (Self::Ok, c"PINECONE_RESULT_OK"),
        (Self::NullArgument, c"PINECONE_RESULT_NULL_ARGUMENT"),
        (Self::InvalidUtf8, c"PINECONE_RESULT_INVALID_UTF8"),
        (Self::InvalidJson, c"PINECONE_RESULT_INVALID_JSON"),
        (Self::InvalidArgument, c"PINECONE_RESULT_INVALID_ARGUMENT"),
        (Self::NotFound, c"PINECONE_RESULT_NOT_FOUND"),
        (Self::ApiError, c"PINECONE_RESULT_API_ERROR"),
        (Self::Timeout, c"PINECONE_RESULT_TIMEOUT"),
        (Self::Transport, c"PINECONE_RESULT_TRANSPORT"),
        (Self::Decode, c"PINECONE_RESULT_DECODE"),
        (Self::Stream, c"PINECONE_RESULT_STREAM"),
        (Self::Io, c"PINECONE_RESULT_IO"),
        (Self::BodyTooLarge, c"PINECONE_RESULT_BODY_TOO_LARGE"),
        (Self::WaitTimeout, c"PINECONE_RESULT_WAIT_TIMEOUT"),
        (Self::OperationFailed, c"PINECONE_RESULT_OPERATION_FAILED"),
        (Self::AssistantFailed, c"PINECONE_RESULT_ASSISTANT_FAILED"),
        (Self::Cancelled, c"PINECONE_RESULT_CANCELLED"),
        (Self::Aborted, c"PINECONE_RESULT_ABORTED"),
        (Self::Panic, c"PINECONE_RESULT_PANIC"),
    ];
}

struct LastError {
    message: CString,
    status: u16,
    /// The JSON details, built on first request.
    json: Option<CString>,
    code: pinecone_result,
    extra: Map<String, Value>,
}

impl LastError {
    fn none() -> Self {
        Self {
            message: CString::default(),
            status: 0,
            json: None,
            code: pinecone_result::Ok,
            extra: Map::new(),
        }
    }
}

thread_local! {
    static LAST_ERROR: RefCell<LastError> = RefCell::new(LastError::none());
}

/// Forgets the last error of this thread (start of every fallible call).
pub(crate) fn clear_last_error() {
    let _ = LAST_ERROR.try_with(|cell| {
        if let Ok(mut last) = cell.try_borrow_mut() {
            // Keep the allocation-free empty state when nothing failed.
            if last.code != pinecone_result::Ok || !last.message.is_empty() {
                *last = LastError::none();
            }
        }
    });
}

/// Records the last error of this thread, with machine-readable `extra` details
/// for `pinecone_last_error_json`.
pub(crate) fn set_last_error(
    code: pinecone_result,
    message: &str,
    status: u16,
    extra: Map<String, Value>,
) {
    // An interior NUL would cut the C string short: show it instead.
    let message = CString::new(message.replace('\0', "\\0")).unwrap_or_default();
    let _ = LAST_ERROR.try_with(|cell| {
        if let Ok(mut last) = cell.try_borrow_mut() {
            *last = LastError {
                message,
                status,
                json: None,
                code,
                extra,
            };
        }
    });
}

/// The message of the last failed call on this thread: a borrowed, NUL-terminated
/// UTF-8 string, never NULL (empty when the last fallible call succeeded or none
/// was made).
///
/// Valid until the next fallible call on this thread (any function returning
/// `pinecone_result`); copy it to keep it. Do not free it. Each thread has its own.
#[unsafe(no_mangle)]
pub extern "C" fn pinecone_last_error_message() -> *const c_char {
    LAST_ERROR
        .try_with(|cell| match cell.try_borrow() {
            Ok(last) => last.message.as_ptr(),
            Err(_) => c"".as_ptr(),
        })
        .unwrap_or(c"".as_ptr())
}

/// The details of the last failed call on this thread as a JSON object, or an
/// empty string when the last fallible call succeeded (or none was made). Never
/// NULL.
///
/// Keys: `result` (e.g. `"PINECONE_RESULT_NOT_FOUND"`), `code` (its number),
/// `message`, `status` (HTTP status or 0), and when known: `error_code` (the
/// server's, e.g. `"NOT_FOUND"`), `request_id`, `retry_after_ms` (the server's
/// `Retry-After`), `details` and `body` (the server's error JSON), `argument`
/// and `field` (the argument and the JSON field at fault), `operation_id`,
/// `percent_complete`, `last_status`, `waited_ms` (waits), `operation_type` and
/// `file_id` (a failed operation: `"upload_file"`, `"upsert_file"`,
/// `"delete_file"`…, and the file it worked on), `assistant` and
/// `assistant_status` (assistant failures), `host` and `operation` (network
/// failures: where the request went, and the operation, e.g.
/// `describe_assistant`), `limit`, `seen` and `setting`
/// (`PINECONE_RESULT_BODY_TOO_LARGE`).
///
/// Borrowed: valid until the next fallible call on this thread; do not free it.
#[unsafe(no_mangle)]
pub extern "C" fn pinecone_last_error_json() -> *const c_char {
    // Builds JSON, unlike the other accessors: keep any panic on this side.
    std::panic::catch_unwind(last_error_json).unwrap_or(c"".as_ptr())
}

fn last_error_json() -> *const c_char {
    LAST_ERROR
        .try_with(|cell| {
            let Ok(mut last) = cell.try_borrow_mut() else {
                return c"".as_ptr();
            };
            if last.code == pinecone_result::Ok {
                return c"".as_ptr();
            }
            if last.json.is_none() {
                let doc = error_document(
                    last.code,
                    &last.message.to_string_lossy(),
                    last.status,
                    &last.extra,
                );
                // serde_json escapes NUL, so the text has none.
                let text = Value::Object(doc).to_string();
                last.json = Some(CString::new(text).unwrap_or_default());
            }
            last.json.as_ref().map_or(c"".as_ptr(), |j| j.as_ptr())
        })
        .unwrap_or(c"".as_ptr())
}

/// The JSON description of a failure, as `pinecone_last_error_json` gives it:
/// `result`, `code`, `message`, `status`, then the details in `extra`.
pub(crate) fn error_document(
    code: pinecone_result,
    message: &str,
    status: u16,
    extra: &Map<String, Value>,
) -> Map<String, Value> {
    let mut doc = Map::new();
    doc.insert("result".into(), result_name(code).into());
    doc.insert("code".into(), (code as c_int).into());
    doc.insert("message".into(), message.into());
    doc.insert("status".into(), status.into());
    doc.extend(extra.clone());
    doc
}

/// The HTTP status of the last failed call on this thread when the server
/// answered with an error (`PINECONE_RESULT_NOT_FOUND`, `PINECONE_RESULT_API_ERROR`),
/// else 0.
#[unsafe(no_mangle)]
pub extern "C" fn pinecone_last_error_status() -> c_int {
    LAST_ERROR
        .try_with(|cell| cell.try_borrow().map_or(0, |l| c_int::from(l.status)))
        .unwrap_or(0)
}

/// The name of a result code, for JSON.
pub(crate) fn result_name(code: pinecone_result) -> &'static str {
    pinecone_result::NAMES
        .iter()
        .find(|(c, _)| *c == code)
        .map_or("PINECONE_RESULT_UNKNOWN", |(_, n)| n.to_str().unwrap_or(""))
}

/// The name of a result code, e.g. `"PINECONE_RESULT_NOT_FOUND"`, or
/// `"PINECONE_RESULT_UNKNOWN"` for a number that is not a code. The string is
/// static: never free it. Safe from any thread.
#[unsafe(no_mangle)]
pub extern "C" fn pinecone_result_name(code: c_int) -> *const c_char {
    pinecone_result::NAMES
        .iter()
        .find(|(c, _)| *c as c_int == code)
        .map_or(c"PINECONE_RESULT_UNKNOWN".as_ptr(), |(_, name)| {
            name.as_ptr()
        })
}

/// The library version, e.g. `"0.1.0"`. The string is static: never free it.
/// Safe from any thread.
#[unsafe(no_mangle)]
pub extern "C" fn pinecone_version() -> *const c_char {
    const VERSION: &std::ffi::CStr = match std::ffi::CStr::from_bytes_with_nul(
        concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes(),
    ) {
        Ok(v) => v,
        Err(_) => c"unknown",
    };
    VERSION.as_ptr()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;
    use std::time::Duration;

    /// The errors only the library builds, each from a real exchange: a 404 and
    /// a 500 from a mock server, a port where nothing listens, and a server
    /// that never answers.
    fn exchange_errors() -> [(Error, pinecone_result); 4] {
        use ::pinecone_assistant::{Client, ClientConfig, RetryPolicy};
        let mut server = mockito::Server::new();
        let _missing = server
            .mock("GET", "/assistant/assistants/gone")
            .with_status(404)
            .create();
        let _broken = server
            .mock("GET", "/assistant/assistants/broken")
            .with_status(500)
            .create();
        let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = |host: String| {
            let config = ClientConfig::builder("k")
                .host(host)
                .timeout(Duration::from_millis(50))
                .retry(RetryPolicy::default().max_retries(0))
                .build();
            Client::new(config).unwrap()
        };
        let mock = client(server.url());
        let describe = |c: &Client, name: &str| c.describe_assistant(name).unwrap_err();
        [
            (describe(&mock, "gone"), pinecone_result::NotFound),
            (describe(&mock, "broken"), pinecone_result::ApiError),
            (
                describe(&client("http://127.0.0.1:1".into()), "a"),
                pinecone_result::Transport,
            ),
            (
                describe(
                    &client(format!("http://{}", silent.local_addr().unwrap())),
                    "a",
                ),
                pinecone_result::Timeout,
            ),
        ]
    }

    #[test]
    fn every_error_variant_has_its_code() {
        let io = || std::io::Error::other("x");
        let table = [
            (
                Error::InvalidArgument {
                    name: "a".into(),
                    reason: "b".into(),
                },
                pinecone_result::InvalidArgument,
            ),
            (
                Error::Decode {
                    what: "x".into(),
                    message: "y".into(),
                    body: "z".into(),
                },
                pinecone_result::Decode,
            ),
            (Error::Stream("cut".into()), pinecone_result::Stream),
            (
                Error::Io {
                    context: "c".into(),
                    source: io(),
                },
                pinecone_result::Io,
            ),
            (
                Error::WaitTimeout {
                    awaited: "a".into(),
                    waited: Duration::ZERO,
                    last_status: "s".into(),
                    operation_id: None,
                    percent_complete: None,
                },
                pinecone_result::WaitTimeout,
            ),
            (
                Error::OperationFailed {
                    operation_id: "o".into(),
                    operation_type: None,
                    file_id: None,
                    message: "m".into(),
                },
                pinecone_result::OperationFailed,
            ),
            (
                Error::AssistantFailed {
                    name: "n".into(),
                    status: "Failed".into(),
                    awaited: "Ready".into(),
                },
                pinecone_result::AssistantFailed,
            ),
            (Error::Cancelled, pinecone_result::Cancelled),
            (
                Error::BodyTooLarge {
                    what: "w".into(),
                    limit: 1,
                    seen: 2,
                    setting: "body_limit".into(),
                },
                pinecone_result::BodyTooLarge,
            ),
        ];
        for (error, code) in table.into_iter().chain(exchange_errors()) {
            assert_eq!(pinecone_result::of(&error), code, "{error}");
        }
    }

    #[test]
    fn codes_are_fixed_and_named() {
        let fixed = [
            (pinecone_result::Ok, 0, "OK"),
            (pinecone_result::NullArgument, 1, "NULL_ARGUMENT"),
            (pinecone_result::InvalidUtf8, 2, "INVALID_UTF8"),
            (pinecone_result::InvalidJson, 3, "INVALID_JSON"),
            (pinecone_result::InvalidArgument, 4, "INVALID_ARGUMENT"),
            (pinecone_result::NotFound, 10, "NOT_FOUND"),
            (pinecone_result::ApiError, 11, "API_ERROR"),
            (pinecone_result::Timeout, 20, "TIMEOUT"),
            (pinecone_result::Transport, 21, "TRANSPORT"),
            (pinecone_result::Decode, 30, "DECODE"),
            (pinecone_result::Stream, 31, "STREAM"),
            (pinecone_result::Io, 32, "IO"),
            (pinecone_result::BodyTooLarge, 33, "BODY_TOO_LARGE"),
            (pinecone_result::WaitTimeout, 40, "WAIT_TIMEOUT"),
            (pinecone_result::OperationFailed, 41, "OPERATION_FAILED"),
            (pinecone_result::AssistantFailed, 42, "ASSISTANT_FAILED"),
            (pinecone_result::Cancelled, 50, "CANCELLED"),
            (pinecone_result::Aborted, 51, "ABORTED"),
            (pinecone_result::Panic, 90, "PANIC"),
        ];
        assert_eq!(fixed.len(), pinecone_result::NAMES.len());
        for (code, number, name) in fixed {
            assert_eq!(code as c_int, number);
            // SAFETY: the function returns a static NUL-terminated string.
            let got = unsafe { CStr::from_ptr(pinecone_result_name(number)) };
            assert_eq!(got.to_str().unwrap(), format!("PINECONE_RESULT_{name}"));
        }
        // SAFETY: as above.
        let unknown = unsafe { CStr::from_ptr(pinecone_result_name(-7)) };
        assert_eq!(unknown.to_str().unwrap(), "PINECONE_RESULT_UNKNOWN");
    }

    #[test]
    fn last_error_is_per_thread_and_never_null() {
        set_last_error(pinecone_result::NotFound, "bad\0thing", 404, Map::new());
        // SAFETY: never NULL, NUL-terminated, valid until the next set.
        let msg = unsafe { CStr::from_ptr(pinecone_last_error_message()) };
        assert_eq!(msg.to_str().unwrap(), "bad\\0thing");
        assert_eq!(pinecone_last_error_status(), 404);
        std::thread::spawn(|| {
            // SAFETY: as above.
            let msg = unsafe { CStr::from_ptr(pinecone_last_error_message()) };
            assert!(msg.to_bytes().is_empty());
            assert_eq!(pinecone_last_error_status(), 0);
        })
        .join()
        .unwrap();
        // SAFETY: as above.
        let json = unsafe { CStr::from_ptr(pinecone_last_error_json()) };
        let doc: Value = serde_json::from_slice(json.to_bytes()).unwrap();
        assert_eq!(doc["result"], "PINECONE_RESULT_NOT_FOUND");
        assert_eq!(doc["code"], 10);
        assert_eq!(doc["status"], 404);
        clear_last_error();
        assert_eq!(pinecone_last_error_status(), 0);
        // SAFETY: as above.
        let json = unsafe { CStr::from_ptr(pinecone_last_error_json()) };
        assert!(json.to_bytes().is_empty());
    }

    #[test]
    fn version_matches_the_crate() {
        // SAFETY: static NUL-terminated string.
        let v = unsafe { CStr::from_ptr(pinecone_version()) };
        assert_eq!(v.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
    }
}
