//! The one error type of the crate.
//!
//! Variants are grouped by what a caller can do about them: fix the input
//! ([`Error::InvalidArgument`]), look at what the server said ([`Error::Api`],
//! [`Error::NotFound`]), retry later ([`Error::Timeout`], [`Error::Transport`]), or
//! inspect work that the server finished badly ([`Error::OperationFailed`],
//! [`Error::AssistantFailed`]). No message ever contains the API key.

use std::fmt;
use std::time::Duration;

use serde_json::Value;

use crate::models::OperationType;

/// The result type of every fallible call in this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// How many characters of a body an error keeps for diagnosis.
pub(crate) const BODY_EXCERPT_CHARS: usize = 500;

/// Everything that can go wrong in a call.
///
/// Match on the variant, or use the helpers [`Error::status`],
/// [`Error::is_not_found`], [`Error::is_retryable`], [`Error::api`] and
/// [`Error::transport`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An argument was refused before any request was sent.
    #[error("invalid argument `{name}`: {reason}")]
    InvalidArgument {
        /// The argument (or configuration setting) at fault.
        name: String,
        /// What is wrong and how to fix it.
        reason: String,
    },

    /// The server answered 404: the assistant, file or operation does not exist.
    #[error("{0}")]
    NotFound(Box<ApiError>),

    /// The server answered with any other non-success status (after retries).
    #[error("{0}")]
    Api(Box<ApiError>),

    /// No answer in time: connect, read or write stayed silent past the timeout,
    /// or the whole call outlasted its total bound. [`TransportError::kind`]
    /// tells which phase ([`TimeoutPhase::Total`] for the total bound).
    #[error(transparent)]
    Timeout(TransportError),

    /// The request could not be completed at the network level (DNS, connect, TLS,
    /// reset, proxy). [`TransportError::kind`] tells which.
    #[error(transparent)]
    Transport(TransportError),

    /// A success response whose body did not have the expected shape.
    #[error("could not decode {what}: {message}; body starts with: {body}")]
    Decode {
        /// What was being decoded, e.g. `assistant description`.
        what: String,
        /// The decoder's explanation.
        message: String,
        /// The first 500 characters of the body.
        body: String,
    },

    /// A response body was larger than the limit this client reads into memory.
    /// Nothing of it was used. The limits are settings of
    /// [`ClientConfigBuilder`](crate::ClientConfigBuilder): `body_limit` (64 MiB)
    /// and `generation_body_limit` (1 GiB, for context, chat and evaluation
    /// answers).
    #[error(
        "the {what} is larger than the {limit}-byte limit ({seen} bytes seen); \
         raise `{setting}` if such answers are expected"
    )]
    BodyTooLarge {
        /// What was being read, e.g. `response body of describe_assistant`.
        what: String,
        /// The limit in bytes.
        limit: u64,
        /// The bytes seen: the length the server declared when it declared one,
        /// otherwise what was read before reading stopped (the limit plus one:
        /// nothing beyond the first byte over is read).
        seen: u64,
        /// The configuration setting that raises the limit.
        setting: String,
    },

    /// A server-sent event stream was malformed or ended before its final event.
    #[error("stream error: {0}")]
    Stream(String),

    /// A local file or reader failed (upload sources).
    #[error("{context}: {source}")]
    Io {
        /// What was being done, e.g. `opening "report.pdf"`.
        context: String,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },

    /// A wait deadline passed before the awaited state was reached. The work goes
    /// on at the server; only the waiting stopped.
    #[error(
        "timed out after {waited:?} waiting for {awaited}; last status: {last_status} \
         (the server keeps working; poll again to follow it)"
    )]
    WaitTimeout {
        /// What was awaited, e.g. `operation "op-1" to complete`.
        awaited: String,
        /// How long the wait lasted.
        waited: Duration,
        /// The last status seen, with progress when known.
        last_status: String,
        /// The id of the operation that was being followed, when there was one.
        operation_id: Option<String>,
        /// The last progress reported by that operation, when there was one.
        percent_complete: Option<i64>,
    },

    /// A file operation (upload, upsert, delete) reached status `Failed`. The
    /// message says which work on which file failed, e.g. `upsert of file
    /// "notes_v2" failed (operation "op-5e0a"): unsupported file format`.
    #[error(
        "{}",
        failure_text(.operation_id, .operation_type.as_ref(), .file_id.as_deref(), .message)
    )]
    OperationFailed {
        /// The id of the failed operation.
        operation_id: String,
        /// What the operation did (`upload_file`, `upsert_file`, `delete_file`…),
        /// from the server or, when it did not say, from the call that started it.
        operation_type: Option<OperationType>,
        /// The file the operation worked on, from the server or from the call.
        file_id: Option<String>,
        /// The server's `error_message`, verbatim (or a note that it gave none).
        message: String,
    },

    /// An assistant reached a state from which the awaited one cannot follow.
    #[error(
        "assistant \"{name}\" reached status {status} while waiting for it to become {awaited}"
    )]
    AssistantFailed {
        /// The assistant's name.
        name: String,
        /// The status it reached, e.g. `InitializationFailed`.
        status: String,
        /// What was awaited, e.g. `Ready`.
        awaited: String,
    },

    /// The call was cancelled through its cancel handle.
    #[error("cancelled")]
    Cancelled,
}

/// The message of [`Error::OperationFailed`]: which work on which file failed,
/// as far as known, then the operation and the server's text.
fn failure_text(
    operation_id: &str,
    operation_type: Option<&OperationType>,
    file_id: Option<&str>,
    message: &str,
) -> String {
    let work = operation_type.map(|t| match t {
        OperationType::UploadFile => "upload",
        OperationType::UpsertFile => "upsert",
        OperationType::DeleteFile => "deletion",
        OperationType::UpdateFileMetadata => "metadata update",
        OperationType::Other(other) => other.as_str(),
    });
    match (work, file_id) {
        (Some(work), Some(id)) => {
            format!("{work} of file \"{id}\" failed (operation \"{operation_id}\"): {message}")
        }
        (Some(work), None) => format!("{work} failed (operation \"{operation_id}\"): {message}"),
        (None, Some(id)) => {
            format!("operation \"{operation_id}\" on file \"{id}\" failed: {message}")
        }
        (None, None) => format!("operation \"{operation_id}\" failed: {message}"),
    }
}

impl Error {
    /// Builds an [`Error::InvalidArgument`].
    pub(crate) fn invalid(name: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidArgument {
            name: name.into(),
            reason: reason.into(),
        }
    }

    /// Builds an [`Error::Decode`] keeping an excerpt of `body`.
    pub(crate) fn decode(what: impl Into<String>, message: impl fmt::Display, body: &[u8]) -> Self {
        Error::Decode {
            what: what.into(),
            message: message.to_string(),
            body: excerpt(&String::from_utf8_lossy(body)),
        }
    }

    /// The HTTP status of an API error, if this is one.
    ///
    /// ```
    /// # fn check(err: pinecone_assistant::Error) {
    /// if err.status() == Some(401) {
    ///     eprintln!("check the API key");
    /// }
    /// # }
    /// ```
    pub fn status(&self) -> Option<u16> {
        self.api().map(|e| e.status)
    }

    /// The server's error details, for [`Error::Api`] and [`Error::NotFound`].
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e) | Error::NotFound(e) => Some(e),
            _ => None,
        }
    }

    /// The network-level details of an [`Error::Timeout`] or [`Error::Transport`].
    ///
    /// ```
    /// use pinecone_assistant::{Error, TransportErrorKind};
    /// # fn check(err: Error) {
    /// if err.transport().map(|t| t.kind()) == Some(TransportErrorKind::Dns) {
    ///     eprintln!("check the host name");
    /// }
    /// # }
    /// ```
    pub fn transport(&self) -> Option<&TransportError> {
        match self {
            Error::Timeout(e) | Error::Transport(e) => Some(e),
            _ => None,
        }
    }

    /// Whether the server said the resource does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound(_))
    }

    /// Whether trying the same call again later may succeed: rate limits, server
    /// errors, timeouts and connection failures. The client has already retried
    /// what its policy allows; this tells an application whether to try later.
    ///
    /// ```
    /// # fn check(err: pinecone_assistant::Error) {
    /// if err.is_retryable() {
    ///     let wait = err.api().and_then(|a| a.retry_after);
    ///     eprintln!("try again later (server asked for {wait:?})");
    /// }
    /// # }
    /// ```
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Api(e) => matches!(e.status, 408 | 429 | 500..=599),
            Error::Timeout(_) | Error::Transport(_) => true,
            _ => false,
        }
    }
}

/// A failure below HTTP: the request could not be sent, or its answer could not be
/// read. Carried by [`Error::Timeout`] and [`Error::Transport`].
///
/// [`kind`](Self::kind) says what failed, in terms a caller can act on; the
/// `Display` text says the same with the underlying detail; [`source`] returns the
/// underlying error for diagnosis (its type is not part of this crate's API).
///
/// [`source`]: std::error::Error::source
pub struct TransportError {
    kind: TransportErrorKind,
    source: Box<dyn std::error::Error + Send + Sync>,
    /// Where and for what: set by the transport, absent on errors raised
    /// outside a request (reading a recorded stream, say).
    context: Option<Box<Context>>,
}

/// The host and the operation of a failed request.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Context {
    host: String,
    operation: &'static str,
}

impl TransportError {
    /// Wraps the underlying `source` of a failure of this `kind`.
    pub(crate) fn new(
        kind: TransportErrorKind,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self {
            kind,
            source: source.into(),
            context: None,
        }
    }

    /// The same error, naming the host (scheme, name and port, no path) and the
    /// operation (`describe_assistant`) it happened in.
    pub(crate) fn within(mut self, host: String, operation: &'static str) -> Self {
        self.context = Some(Box::new(Context { host, operation }));
        self
    }

    /// What failed.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// The server the request went to, e.g. `https://api.pinecone.io` (scheme,
    /// host name and port; never a path, a query or credentials).
    pub fn host(&self) -> Option<&str> {
        self.context.as_ref().map(|c| c.host.as_str())
    }

    /// The operation that failed, named after the method that makes it, e.g.
    /// `describe_assistant` or `chat_stream`.
    pub fn operation(&self) -> Option<&str> {
        self.context.as_ref().map(|c| c.operation)
    }
}

impl fmt::Debug for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportError")
            .field("kind", &self.kind)
            .field("source", &self.source)
            .field("context", &self.context)
            .finish()
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use TransportErrorKind as K;
        let what = match self.kind {
            K::Dns => "could not resolve the host name",
            K::Connect => "could not connect to the server",
            K::Tls => "the TLS handshake or certificate check failed",
            K::Proxy => "the proxy did not open a connection to the server",
            K::Timeout(TimeoutPhase::Connect) => "timed out connecting to the server",
            K::Timeout(TimeoutPhase::Send) => "timed out sending the request",
            K::Timeout(TimeoutPhase::Receive) => "timed out waiting for the server's answer",
            K::Timeout(TimeoutPhase::Total) => "the call did not finish within its time bound",
            K::Timeout(TimeoutPhase::Unknown) => "timed out",
            K::Io => "the connection failed",
            K::Protocol => "the server's answer was not valid HTTP",
            K::Other => "the request failed",
        };
        match &self.context {
            Some(c) => write!(f, "{what} ({} at {}: {})", c.operation, c.host, self.source),
            None => write!(f, "{what} ({})", self.source),
        }
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.source)
    }
}

/// What failed at the network level; see [`TransportError::kind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// The host name could not be resolved: check the host setting.
    Dns,
    /// No connection could be opened (refused, unreachable): is the server up and
    /// the address right?
    Connect,
    /// TLS failed, most often an untrusted certificate: see `ca_bundle`.
    Tls,
    /// The proxy refused or failed the tunnel: check the proxy URL and credentials.
    Proxy,
    /// A timeout passed in the given phase.
    Timeout(TimeoutPhase),
    /// The connection broke while the request or answer was under way (reset,
    /// closed early).
    Io,
    /// The server's answer was not valid HTTP (or not valid gzip).
    Protocol,
    /// Anything else.
    Other,
}

/// When a timeout passed; see [`TransportErrorKind::Timeout`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeoutPhase {
    /// While connecting: no byte of the request reached the server.
    Connect,
    /// While sending the request: the server stopped reading.
    Send,
    /// While waiting for or reading the answer: the server stayed silent longer
    /// than the read timeout (for chat calls, `chat_read_timeout` or the call's own).
    Receive,
    /// Not one phase: the whole call (attempts, retry sleeps, the answer's body)
    /// outlasted its total bound, `total_timeout` or the call's own; the message
    /// names the bound. Each read may have been quick: a server that sends a
    /// byte now and then never trips the read timeout, but trips this.
    Total,
    /// The underlying error did not say.
    Unknown,
}

/// What the server said when it answered with an error status.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ApiError {
    /// The HTTP status code.
    pub status: u16,
    /// The error code from the body (`error.code`), e.g. `NOT_FOUND`.
    pub code: Option<String>,
    /// The server's message (or a best-effort text when the body had none).
    pub message: String,
    /// The request id from `x-pinecone-request-id` or `x-request-id`.
    pub request_id: Option<String>,
    /// The delay the server asked for in `Retry-After` (seconds or HTTP-date form).
    pub retry_after: Option<Duration>,
    /// `error.details` from the body, when present.
    pub details: Option<Value>,
    /// The body parsed as JSON, when it was JSON.
    pub body: Option<Value>,
    /// The body as text, cut to 500 characters.
    pub raw_body: String,
}

/// The kind of an API error, derived from its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ApiErrorKind {
    /// 401: the API key was refused.
    Unauthorized,
    /// 402: the plan does not cover the call.
    PaymentRequired,
    /// 403: the key may not do this.
    Forbidden,
    /// 404: no such resource.
    NotFound,
    /// 409: the resource already exists.
    Conflict,
    /// 412: a precondition failed.
    FailedPrecondition,
    /// 413: the request body was too large.
    PayloadTooLarge,
    /// 429: too many requests or a quota was reached (on create: the name is taken
    /// or the project's quota of assistants is reached).
    RateLimited,
    /// 5xx: the service failed.
    Server,
    /// Anything else (3xx, 400, 408, 422…).
    Other,
}

impl ApiError {
    /// The kind of error, from the status.
    ///
    /// ```
    /// use pinecone_assistant::{ApiErrorKind, Error};
    /// # fn check(err: Error) {
    /// match err.api().map(|a| a.kind()) {
    ///     Some(ApiErrorKind::Unauthorized) => eprintln!("check PINECONE_API_KEY"),
    ///     Some(ApiErrorKind::Conflict | ApiErrorKind::RateLimited) => eprintln!("name taken or quota reached"),
    ///     _ => eprintln!("{err}"),
    /// }
    /// # }
    /// ```
    pub fn kind(&self) -> ApiErrorKind {
        match self.status {
            401 => ApiErrorKind::Unauthorized,
            402 => ApiErrorKind::PaymentRequired,
            403 => ApiErrorKind::Forbidden,
            404 => ApiErrorKind::NotFound,
            409 => ApiErrorKind::Conflict,
            412 => ApiErrorKind::FailedPrecondition,
            413 => ApiErrorKind::PayloadTooLarge,
            429 => ApiErrorKind::RateLimited,
            500..=599 => ApiErrorKind::Server,
            _ => ApiErrorKind::Other,
        }
    }

    /// Builds the error for a response with `status`, `reason` phrase, body bytes and
    /// the request-id and `Retry-After` values already taken from the headers.
    pub(crate) fn from_response(
        status: u16,
        reason: &str,
        body: &[u8],
        request_id: Option<String>,
        retry_after: Option<Duration>,
    ) -> Self {
        let text = String::from_utf8_lossy(body);
        let json: Option<Value> = serde_json::from_slice(body).ok();
        let mut code = None;
        let mut details = None;
        let mut message = None;
        if let Some(Value::Object(obj)) = &json {
            if let Some(Value::Object(err)) = obj.get("error") {
                if let Some(Value::String(m)) = err.get("message").filter(|m| non_empty(m)) {
                    message = Some(m.clone());
                    code = err.get("code").and_then(Value::as_str).map(str::to_owned);
                }
                details = err.get("details").filter(|d| !d.is_null()).cloned();
            }
            if message.is_none() {
                message = ["message", "detail", "description"]
                    .iter()
                    .filter_map(|k| obj.get(*k))
                    .find(|v| non_empty(v))
                    .and_then(Value::as_str)
                    .map(str::to_owned);
            }
        }
        let message = message
            .or_else(|| {
                let trimmed = text.trim();
                (!trimmed.is_empty()).then(|| excerpt(trimmed))
            })
            .unwrap_or_else(|| reason.to_owned());
        ApiError {
            status,
            code,
            message,
            request_id,
            retry_after,
            details,
            body: json,
            raw_body: excerpt(&text),
        }
    }
}

fn non_empty(v: &Value) -> bool {
    v.as_str().is_some_and(|s| !s.is_empty())
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.code {
            Some(code) => write!(f, "[{} {}] {}", self.status, code, self.message)?,
            None => write!(f, "[{}] {}", self.status, self.message)?,
        }
        if let Some(id) = &self.request_id {
            write!(f, " (request_id: {id})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

/// Cuts `text` to [`BODY_EXCERPT_CHARS`] characters, marking the cut.
pub(crate) fn excerpt(text: &str) -> String {
    match text.char_indices().nth(BODY_EXCERPT_CHARS) {
        Some((cut, _)) => format!("{}... (truncated)", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(body: &str) -> ApiError {
        ApiError::from_response(
            404,
            "Not Found",
            body.as_bytes(),
            Some("7f3e2b1a9c".into()),
            None,
        )
    }

    #[test]
    fn structured_error_body() {
        let e = api(
            r#"{"error":{"code":"NOT_FOUND","message":"Assistant \"ghost-bot\" not found."},"status":404}"#,
        );
        assert_eq!(e.code.as_deref(), Some("NOT_FOUND"));
        assert_eq!(
            e.to_string(),
            "[404 NOT_FOUND] Assistant \"ghost-bot\" not found. (request_id: 7f3e2b1a9c)"
        );
    }

    #[test]
    fn message_fallbacks() {
        let basic = ApiError::from_response(
            422,
            "Unprocessable",
            br#"{"message":"ground_truth_answer: field required"}"#,
            None,
            None,
        );
        assert_eq!(
            basic.to_string(),
            "[422] ground_truth_answer: field required"
        );
        assert_eq!(api(r#"{"detail":"gone"}"#).message, "gone");
        assert_eq!(api("").message, "Not Found");
        let long = "x".repeat(600);
        let e = api(&long);
        assert_eq!(e.message, format!("{}... (truncated)", "x".repeat(500)));
        assert_eq!(e.code, None);
    }

    #[test]
    fn details_are_kept() {
        let e = api(
            r#"{"error":{"code":"INVALID_ARGUMENT","message":"bad","details":{"field":"name"}},"status":400}"#,
        );
        assert_eq!(e.details, Some(serde_json::json!({"field": "name"})));
    }

    #[test]
    fn kinds_follow_status() {
        let kind = |s| ApiError::from_response(s, "", b"", None, None).kind();
        assert_eq!(kind(401), ApiErrorKind::Unauthorized);
        assert_eq!(kind(409), ApiErrorKind::Conflict);
        assert_eq!(kind(429), ApiErrorKind::RateLimited);
        assert_eq!(kind(503), ApiErrorKind::Server);
        assert_eq!(kind(422), ApiErrorKind::Other);
    }
}
