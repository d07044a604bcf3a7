//! The transport: the only code that talks to `ureq`.
//!
//! It adds the authentication, version and `User-Agent` headers, applies the retry
//! policy, and turns status + body into [`Error`] in one place.

pub(crate) mod interrupt;
pub(crate) mod retry;
pub(crate) mod url;

use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use serde::de::DeserializeOwned;
use ureq::http::{self, HeaderName, HeaderValue};
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};
use ureq::{Agent, SendBody};

use crate::cancel::CancelHandle;
use crate::config::ClientConfig;
use crate::error::{ApiError, Error, Result, TimeoutPhase, TransportError, TransportErrorKind};
use retry::{Failure, RequestClass};

/// The largest success body of a generation call (context answers carry images as
/// base64) read into memory; ureq's own default of 10 MB is too small for those.
const MAX_GENERATION_BODY_BYTES: u64 = 1 << 30;
/// The largest success body of any other call: a full page of files with 16 KB of
/// metadata each stays far below it, and a misbehaving server cannot make a
/// describe allocate a gigabyte.
const MAX_BODY_BYTES: u64 = 64 << 20;
/// The most of an error body kept.
const MAX_ERROR_BODY_BYTES: u64 = 1 << 20;

/// An HTTP method this API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    fn as_http(self) -> http::Method {
        match self {
            Method::Get => http::Method::GET,
            Method::Post => http::Method::POST,
            Method::Put => http::Method::PUT,
            Method::Patch => http::Method::PATCH,
            Method::Delete => http::Method::DELETE,
        }
    }
}

/// A request body that can be opened once per attempt (uploads).
pub(crate) trait BodySource {
    /// Whether another [`open`](Self::open) would produce the same bytes again.
    fn can_replay(&self) -> bool;
    /// Opens the body for the next attempt.
    fn open(&mut self) -> Result<OpenBody>;
}

/// One attempt's body.
pub(crate) struct OpenBody {
    /// The bytes to send.
    pub reader: Box<dyn Read + Send + 'static>,
    /// Sent as `Content-Length` when known; otherwise the body is chunked.
    pub length: Option<u64>,
    /// The `Content-Type` header value.
    pub content_type: String,
}

/// The body of a request.
pub(crate) enum Body<'a> {
    Empty,
    /// Compact JSON bytes, re-sent as they are on a retry.
    Json(Vec<u8>),
    Source(&'a mut dyn BodySource),
}

impl Body<'_> {
    /// A JSON body from a serialisable value.
    pub(crate) fn json(value: &impl serde::Serialize) -> Result<Self> {
        serde_json::to_vec(value)
            .map(Body::Json)
            .map_err(|e| Error::invalid("request body", format!("cannot be encoded as JSON: {e}")))
    }
}

/// One logical request; the transport may send it several times.
pub(crate) struct Request<'a> {
    pub method: Method,
    pub url: String,
    pub class: RequestClass,
    pub body: Body<'a>,
    /// Replaces the configured idle timeout (chat calls use a longer one).
    pub read_timeout: Option<Duration>,
    /// A DELETE whose replay finds the resource gone has done its job.
    pub replayed_not_found_is_success: bool,
    /// Set for streams: sent on a fresh connection whose socket this interrupter
    /// can shut down from another thread.
    pub interrupt: Option<Arc<interrupt::Interrupter>>,
    /// The largest success body read whole.
    pub max_body: u64,
}

impl<'a> Request<'a> {
    pub(crate) fn new(method: Method, url: String, class: RequestClass) -> Self {
        Self {
            method,
            url,
            class,
            body: Body::Empty,
            read_timeout: None,
            replayed_not_found_is_success: false,
            interrupt: None,
            max_body: if class == RequestClass::Generation {
                MAX_GENERATION_BODY_BYTES
            } else {
                MAX_BODY_BYTES
            },
        }
    }

    pub(crate) fn get(url: String) -> Self {
        Self::new(Method::Get, url, RequestClass::Safe)
    }

    pub(crate) fn body(mut self, body: Body<'a>) -> Self {
        self.body = body;
        self
    }

    pub(crate) fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = Some(timeout);
        self
    }

    /// Sends the request on its own connection, which `interrupter` can shut down.
    pub(crate) fn interruptible(mut self, interrupter: Arc<interrupt::Interrupter>) -> Self {
        self.interrupt = Some(interrupter);
        self
    }
}

/// A success response with its body not yet read (streams read it incrementally).
pub(crate) type RawResponse = http::Response<ureq::Body>;

/// A success response read whole.
pub(crate) struct Reply {
    pub status: u16,
    pub location: Option<String>,
    /// A `Retry-After` on a success: on a poll's answer, when to poll again.
    pub retry_after: Option<Duration>,
    pub body: Vec<u8>,
}

impl Reply {
    /// Decodes the body as `T`; `what` names it in a decode error.
    pub(crate) fn decode<T: DeserializeOwned>(&self, what: &str) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(|e| Error::decode(what, e, &self.body))
    }
}

/// Shared by every clone of a client.
pub(crate) struct Transport {
    agent: Agent,
    /// For interruptible requests (streams): no idle connections, so each request
    /// connects anew and its socket is registered with its interrupter.
    stream_agent: Agent,
    headers: Vec<(HeaderName, HeaderValue)>,
    config: ClientConfig,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Transport {
    pub(crate) fn new(config: ClientConfig) -> Result<Arc<Self>> {
        config.validate()?;
        let pool = if config.pool_size() == 0 {
            let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
            (5 * cpus).max(20)
        } else {
            config.pool_size()
        };
        let proxy = match config.proxy() {
            Some(url) => Some(ureq::Proxy::new(url).map_err(|_| {
                Error::invalid(
                    "proxy",
                    "is not a proxy URL; use http://[user:password@]host:port, https://…, \
                     socks5://… (or socks5h://, socks4://, socks4a://)",
                )
            })?),
            None => None,
        };
        let mut tls = TlsConfig::builder().disable_verification(config.accept_invalid_certs());
        if let Some(path) = config.ca_bundle() {
            tls = tls.root_certs(RootCerts::new_with_certs(&load_ca_bundle(path)?));
        }
        let tls = tls.build();
        let builder = || {
            Agent::config_builder()
                // Error bodies carry the server's explanation; keep them readable.
                .http_status_as_error(false)
                // ureq forwards custom headers such as Api-Key on redirects; never follow.
                .max_redirects(0)
                // Explicit configuration only: the environment's proxy variables would
                // also catch 127.0.0.1 test servers.
                .proxy(proxy.clone())
                .tls_config(tls.clone())
                // No resolve timeout: ureq resolves on every request, even over a
                // pooled connection, and with a resolve timeout it spawns a thread per
                // lookup (measured: 2.5x slower round trips). The system resolver's own
                // timeouts bound a lookup instead.
                .timeout_resolve(None)
                .timeout_connect(Some(config.timeout()))
                .timeout_per_read(Some(config.timeout()))
                .timeout_per_write(Some(config.timeout()))
                .user_agent(user_agent(config.source_tag()))
        };
        let agent: Agent = builder()
            .max_idle_connections(pool)
            .max_idle_connections_per_host(pool)
            .build()
            .into();
        let stream_agent = Agent::with_parts(
            builder()
                .max_idle_connections(0)
                .max_idle_connections_per_host(0)
                .build(),
            interrupt::InterruptibleConnector::default(),
            ureq::unversioned::resolver::DefaultResolver::default(),
        );
        let headers = build_headers(&config)?;
        Ok(Arc::new(Self {
            agent,
            stream_agent,
            headers,
            config,
        }))
    }

    pub(crate) fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The control-plane base URL, `{host}/assistant`.
    pub(crate) fn control_base(&self) -> String {
        format!("{}/assistant", self.config.host())
    }

    /// Sleeps through the injected sleeper or for real, unless cancelled.
    pub(crate) fn pause(&self, delay: Duration, cancel: &CancelHandle) -> Result<()> {
        match self.config.sleeper() {
            Some(sleep) => {
                cancel.check()?;
                sleep(delay);
                cancel.check()
            }
            None => cancel.sleep(delay),
        }
    }

    /// Sends `req` (retrying per policy) and reads the whole success body.
    pub(crate) fn call(&self, mut req: Request<'_>, cancel: &CancelHandle) -> Result<Reply> {
        let limit = req.max_body;
        read_reply(self.send(&mut req, cancel)?, limit)
    }

    /// Sends `req` and decodes a success body as `T`.
    pub(crate) fn json<T: DeserializeOwned>(
        &self,
        req: Request<'_>,
        cancel: &CancelHandle,
        what: &str,
    ) -> Result<T> {
        self.call(req, cancel)?.decode(what)
    }

    /// Sends `req`, retrying per policy, and returns the first success response with
    /// its body unread. A non-success status becomes an [`Error`].
    pub(crate) fn send(&self, req: &mut Request<'_>, cancel: &CancelHandle) -> Result<RawResponse> {
        let policy = self.config.retry();
        let mut retry = 0u32;
        loop {
            cancel.check()?;
            let outcome = self.attempt(req);
            let replayable = match &req.body {
                Body::Source(src) => src.can_replay(),
                _ => true,
            };
            let (failure, error, retry_after) = match outcome {
                Ok(resp) if resp.status().is_success() => return Ok(resp),
                Ok(resp)
                    if retry > 0
                        && req.replayed_not_found_is_success
                        && resp.status() == http::StatusCode::NOT_FOUND =>
                {
                    log::debug!(
                        "{:?} {}: replay found it gone, counted as done",
                        req.method,
                        req.url
                    );
                    return Ok(resp);
                }
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let err = self.error_from_response(resp);
                    let retry_after = err.api().and_then(|a| a.retry_after);
                    (Failure::Status(status), err, retry_after)
                }
                // The upload source failed: the same source would fail again.
                Err(e) if carries_local_error(&e) => return Err(map_transport(e)),
                Err(e) => {
                    let failure = if is_connect_phase(&e) {
                        Failure::Connect
                    } else {
                        Failure::AfterStart
                    };
                    (failure, map_transport(e), None)
                }
            };
            if retry >= policy.max_retries
                || !req
                    .class
                    .may_retry(failure, replayable, retry_after.is_some())
            {
                return Err(error);
            }
            let delay = match retry_after {
                // Too long to wait on the caller's behalf: let them decide.
                Some(d) if d > policy.max_delay => return Err(error),
                Some(d) => d,
                None => policy.backoff(retry),
            };
            // Inside a wait with a deadline, a retry that would end past it is not
            // worth starting: the caller asked to be answered by then.
            let past = |end| Instant::now().checked_add(delay).is_none_or(|t| t > end);
            if crate::polling::wait_deadline().is_some_and(past) {
                return Err(error);
            }
            log::debug!(
                "{:?} {} failed ({error}); retry {} of {} in {delay:?}",
                req.method,
                req.url,
                retry + 1,
                policy.max_retries
            );
            self.pause(delay, cancel)?;
            retry += 1;
        }
    }

    fn attempt(&self, req: &mut Request<'_>) -> Result<RawResponse, ureq::Error> {
        let mut builder = http::Request::builder()
            .method(req.method.as_http())
            .uri(req.url.as_str());
        for (name, value) in &self.headers {
            builder = builder.header(name, value);
        }
        log::debug!("{:?} {}", req.method, req.url);
        let send_body = match &mut req.body {
            Body::Empty => SendBody::none(),
            Body::Json(bytes) => {
                builder = builder
                    .header(http::header::CONTENT_TYPE, "application/json")
                    .header(http::header::CONTENT_LENGTH, bytes.len());
                SendBody::from_owned_reader(std::io::Cursor::new(bytes.clone()))
            }
            Body::Source(src) => {
                let open = src.open().map_err(|e| ureq::Error::Other(Box::new(e)))?;
                builder = builder.header(http::header::CONTENT_TYPE, open.content_type);
                // ureq's body type is sealed: a known length travels as an explicit
                // Content-Length header, which ureq honours; without one it chunks.
                if let Some(len) = open.length {
                    builder = builder.header(http::header::CONTENT_LENGTH, len);
                }
                SendBody::from_owned_reader(open.reader)
            }
        };
        let request = builder.body(send_body)?;
        let agent = match req.interrupt {
            Some(_) => &self.stream_agent,
            None => &self.agent,
        };
        let request = match req.read_timeout {
            Some(t) => agent
                .configure_request(request)
                .timeout_per_read(Some(t))
                .build(),
            None => request,
        };
        match &req.interrupt {
            Some(interrupter) => {
                let _installed = interrupt::install(interrupter.clone());
                let outcome = agent.run(request);
                if outcome.is_err() && interrupter.is_interrupted() {
                    // The failure is our own shutdown of the socket.
                    return Err(ureq::Error::Other(Box::new(Error::Cancelled)));
                }
                outcome
            }
            None => agent.run(request),
        }
    }

    /// Reads an error response and maps it to [`Error`].
    fn error_from_response(&self, mut resp: RawResponse) -> Error {
        let status = resp.status();
        let request_id = header_text(&resp, "x-pinecone-request-id")
            .filter(|s| !s.is_empty())
            .or_else(|| header_text(&resp, "x-request-id").filter(|s| !s.is_empty()));
        let retry_after = header_text(&resp, "retry-after")
            .and_then(|v| retry::parse_retry_after(&v, SystemTime::now()));
        // Keep the first megabyte of an oversized or broken body rather than
        // nothing: its start is what explains the error.
        let mut body = Vec::new();
        let _ = resp
            .body_mut()
            .as_reader()
            .take(MAX_ERROR_BODY_BYTES)
            .read_to_end(&mut body);
        let api = ApiError::from_response(
            status.as_u16(),
            status.canonical_reason().unwrap_or(""),
            &body,
            request_id,
            retry_after,
        );
        if api.status == 404 {
            Error::NotFound(Box::new(api))
        } else {
            Error::Api(Box::new(api))
        }
    }
}

/// Reads a whole success response.
pub(crate) fn read_reply(mut resp: RawResponse, limit: u64) -> Result<Reply> {
    let status = resp.status().as_u16();
    let location = header_text(&resp, "location");
    let retry_after = header_text(&resp, "retry-after")
        .and_then(|v| retry::parse_retry_after(&v, SystemTime::now()));
    let body = resp
        .body_mut()
        .with_config()
        .limit(limit)
        .read_to_vec()
        .map_err(map_transport)?;
    Ok(Reply {
        status,
        location,
        retry_after,
        body,
    })
}

/// Maps a ureq error that happened before or while reading a response.
pub(crate) fn map_transport(e: ureq::Error) -> Error {
    match e {
        ureq::Error::Other(inner) => match inner.downcast::<Error>() {
            Ok(ours) => *ours,
            Err(other) => Error::Transport(TransportError::new(
                TransportErrorKind::Other,
                ureq::Error::Other(other),
            )),
        },
        // An upload source's read error, passed through ureq inside an io::Error.
        ureq::Error::Io(io) if is_ours(&io) => match io.into_inner().map(|i| i.downcast::<Error>())
        {
            Some(Ok(ours)) => *ours,
            Some(Err(other)) => Error::Transport(TransportError::new(
                TransportErrorKind::Io,
                ureq::Error::Io(std::io::Error::other(other)),
            )),
            None => Error::Stream("an upload source failed without a reason".into()),
        },
        ureq::Error::Timeout(t) => Error::Timeout(TransportError::new(
            TransportErrorKind::Timeout(timeout_phase(t)),
            e,
        )),
        ureq::Error::Io(ref io) if io.kind() == std::io::ErrorKind::TimedOut => Error::Timeout(
            TransportError::new(TransportErrorKind::Timeout(TimeoutPhase::Unknown), e),
        ),
        _ => Error::Transport(TransportError::new(transport_kind(&e), e)),
    }
}

/// The phase in which one of ureq's timeouts passed.
fn timeout_phase(t: ureq::Timeout) -> TimeoutPhase {
    use ureq::Timeout::*;
    match t {
        Resolve | Connect => TimeoutPhase::Connect,
        SendRequest | SendBody | Await100 | PerWrite => TimeoutPhase::Send,
        RecvResponse | RecvBody | PerRead => TimeoutPhase::Receive,
        // Whole-call budgets (never configured here) span every phase.
        _ => TimeoutPhase::Unknown,
    }
}

/// What a ureq error other than a timeout says failed, in this crate's terms.
fn transport_kind(e: &ureq::Error) -> TransportErrorKind {
    use std::io::ErrorKind as Io;
    match e {
        ureq::Error::HostNotFound => TransportErrorKind::Dns,
        ureq::Error::ConnectionFailed => TransportErrorKind::Connect,
        ureq::Error::Io(io)
            if matches!(
                io.kind(),
                Io::ConnectionRefused
                    | Io::HostUnreachable
                    | Io::NetworkUnreachable
                    | Io::NetworkDown
                    | Io::AddrNotAvailable
            ) =>
        {
            TransportErrorKind::Connect
        }
        // rustls reports a failed handshake (an untrusted certificate, say) as an
        // I/O error around its own.
        ureq::Error::Io(io) if io.get_ref().is_some_and(|e| e.is::<rustls::Error>()) => {
            TransportErrorKind::Tls
        }
        ureq::Error::Io(_) => TransportErrorKind::Io,
        ureq::Error::ConnectProxyFailed(_) | ureq::Error::InvalidProxyUrl => {
            TransportErrorKind::Proxy
        }
        ureq::Error::Tls(_)
        | ureq::Error::Rustls(_)
        | ureq::Error::Pem(_)
        | ureq::Error::TlsRequired => TransportErrorKind::Tls,
        ureq::Error::BodyExceedsLimit(_) => TransportErrorKind::BodyTooLarge,
        ureq::Error::Protocol(_)
        | ureq::Error::Http(_)
        | ureq::Error::BadUri(_)
        | ureq::Error::LargeResponseHeader(..)
        | ureq::Error::Decompress(..)
        | ureq::Error::RedirectFailed
        | ureq::Error::TooManyRedirects => TransportErrorKind::Protocol,
        _ => TransportErrorKind::Other,
    }
}

fn is_ours(io: &std::io::Error) -> bool {
    io.get_ref().is_some_and(|inner| inner.is::<Error>())
}

/// Whether a failure came from our side of the request (an upload source that
/// could not be opened or read) rather than from the network or the server.
fn carries_local_error(e: &ureq::Error) -> bool {
    match e {
        ureq::Error::Other(inner) => inner.is::<Error>(),
        ureq::Error::Io(io) => is_ours(io),
        _ => false,
    }
}

/// Whether no byte of the request can have reached the server.
fn is_connect_phase(e: &ureq::Error) -> bool {
    use ureq::Timeout;
    match e {
        ureq::Error::HostNotFound
        | ureq::Error::ConnectionFailed
        | ureq::Error::ConnectProxyFailed(_)
        | ureq::Error::Tls(_)
        | ureq::Error::Rustls(_)
        | ureq::Error::Timeout(Timeout::Resolve | Timeout::Connect) => true,
        ureq::Error::Io(io) => io.kind() == std::io::ErrorKind::ConnectionRefused,
        _ => false,
    }
}

fn header_text<B>(resp: &http::Response<B>, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// `pinecone-assistant-rust/{version}`, plus ` source_tag={tag}` when set.
fn user_agent(source_tag: &str) -> String {
    let base = concat!("pinecone-assistant-rust/", env!("CARGO_PKG_VERSION"));
    if source_tag.is_empty() {
        base.to_owned()
    } else {
        format!("{base} source_tag={source_tag}")
    }
}

/// The headers of every request, the user's replacing built-ins ignoring case.
fn build_headers(config: &ClientConfig) -> Result<Vec<(HeaderName, HeaderValue)>> {
    let key = HeaderValue::from_str(config.api_key().expose())
        .map_err(|_| Error::invalid("api_key", "is not a valid header value"))?;
    let mut headers = vec![
        (HeaderName::from_static("api-key"), key),
        (
            HeaderName::from_static("x-pinecone-api-version"),
            HeaderValue::from_str(config.api_version())
                .map_err(|_| Error::invalid("api_version", "is not a valid header value"))?,
        ),
        (
            http::header::USER_AGENT,
            HeaderValue::from_str(&user_agent(config.source_tag()))
                .map_err(|_| Error::invalid("source_tag", "is not a valid header value"))?,
        ),
    ];
    for (name, value) in config.additional_headers() {
        // Validated in ClientConfig::validate; HeaderName is lower-case, so equal
        // names compare equal ignoring case.
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| Error::invalid("additional_headers", "invalid header name"))?;
        let value = HeaderValue::from_str(value)
            .map_err(|_| Error::invalid("additional_headers", "invalid header value"))?;
        headers.retain(|(n, _)| *n != name);
        headers.push((name, value));
    }
    Ok(headers)
}

/// Reads the certificates of a PEM file, or of every file in a directory.
fn load_ca_bundle(path: &std::path::Path) -> Result<Vec<Certificate<'static>>> {
    let invalid = |reason: String| Error::invalid("ca_bundle", reason);
    let files: Vec<std::path::PathBuf> = if path.is_dir() {
        let entries = std::fs::read_dir(path)
            .map_err(|e| invalid(format!("cannot read directory {}: {e}", path.display())))?;
        let mut files: Vec<_> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        files
    } else {
        vec![path.to_owned()]
    };
    let mut certs = Vec::new();
    for file in files {
        let pem = std::fs::read(&file)
            .map_err(|e| invalid(format!("cannot read {}: {e}", file.display())))?;
        for item in ureq::tls::parse_pem(&pem) {
            match item {
                Ok(PemItem::Certificate(c)) => certs.push(c),
                Ok(_) => {}
                Err(e) => return Err(invalid(format!("{} is not valid PEM: {e}", file.display()))),
            }
        }
    }
    if certs.is_empty() {
        return Err(invalid(format!(
            "{} holds no PEM certificate",
            path.display()
        )));
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agent_suffix() {
        assert!(user_agent("").starts_with("pinecone-assistant-rust/"));
        assert!(user_agent("my_tag").ends_with(" source_tag=my_tag"));
    }

    #[test]
    fn additional_headers_replace_builtins() {
        let config = ClientConfig::builder("k")
            .header("USER-AGENT", "mine")
            .header("X-Extra", "1")
            .build();
        let headers = build_headers(&config).unwrap();
        let uas: Vec<_> = headers
            .iter()
            .filter(|(n, _)| *n == http::header::USER_AGENT)
            .collect();
        assert_eq!(uas.len(), 1);
        assert_eq!(uas[0].1, "mine");
    }

    #[test]
    fn transport_errors_say_what_failed_and_keep_the_cause() {
        use TransportErrorKind as K;
        use std::io::{Error as IoError, ErrorKind as Io};
        let kind = |e: ureq::Error| match map_transport(e) {
            Error::Transport(t) => t.kind(),
            other => panic!("not a transport error: {other:?}"),
        };
        assert_eq!(kind(ureq::Error::HostNotFound), K::Dns);
        assert_eq!(kind(ureq::Error::ConnectionFailed), K::Connect);
        assert_eq!(
            kind(ureq::Error::Io(IoError::from(Io::ConnectionRefused))),
            K::Connect
        );
        assert_eq!(
            kind(ureq::Error::Io(IoError::from(Io::ConnectionReset))),
            K::Io
        );
        assert_eq!(
            kind(ureq::Error::ConnectProxyFailed("407".into())),
            K::Proxy
        );
        assert_eq!(kind(ureq::Error::Tls("no common cipher")), K::Tls);
        assert_eq!(
            kind(ureq::Error::Io(IoError::new(
                Io::InvalidData,
                rustls::Error::General("untrusted".into())
            ))),
            K::Tls
        );
        assert_eq!(kind(ureq::Error::BodyExceedsLimit(10)), K::BodyTooLarge);
        assert_eq!(kind(ureq::Error::TooManyRedirects), K::Protocol);

        let timeout = |e: ureq::Error| match map_transport(e) {
            Error::Timeout(t) => t.kind(),
            other => panic!("not a timeout: {other:?}"),
        };
        use TimeoutPhase as P;
        for (t, phase) in [
            (ureq::Timeout::Connect, P::Connect),
            (ureq::Timeout::SendBody, P::Send),
            (ureq::Timeout::PerWrite, P::Send),
            (ureq::Timeout::RecvResponse, P::Receive),
            (ureq::Timeout::PerRead, P::Receive),
            (ureq::Timeout::Global, P::Unknown),
        ] {
            assert_eq!(timeout(ureq::Error::Timeout(t)), K::Timeout(phase), "{t:?}");
        }
        assert_eq!(
            timeout(ureq::Error::Io(IoError::from(Io::TimedOut))),
            K::Timeout(P::Unknown)
        );

        let err = map_transport(ureq::Error::ConnectionFailed);
        assert!(err.is_retryable());
        assert!(
            err.to_string()
                .starts_with("could not connect to the server ("),
            "{err}"
        );
        let cause = std::error::Error::source(&err).expect("the underlying error");
        assert!(cause.is::<ureq::Error>(), "{cause:?}");
        assert!(err.transport().is_some());
        let err = map_transport(ureq::Error::Timeout(ureq::Timeout::PerRead));
        assert!(err.is_retryable());
        assert!(
            err.to_string()
                .starts_with("timed out waiting for the server's answer"),
            "{err}"
        );
    }

    #[test]
    fn our_own_errors_pass_through_the_transport_unchanged() {
        let wrapped = ureq::Error::Other(Box::new(Error::Cancelled));
        assert!(matches!(map_transport(wrapped), Error::Cancelled));
        let from_source = ureq::Error::Io(std::io::Error::other(Error::invalid("file", "gone")));
        assert!(matches!(
            map_transport(from_source),
            Error::InvalidArgument { ref name, .. } if name == "file"
        ));
    }

    #[test]
    fn missing_ca_bundle_is_an_invalid_argument() {
        let err = load_ca_bundle(std::path::Path::new("/nonexistent/ca.pem")).unwrap_err();
        assert!(
            matches!(err, Error::InvalidArgument { ref name, .. } if name == "ca_bundle"),
            "{err}"
        );
    }
}
