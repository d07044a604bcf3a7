//! The transport: the only code that talks to `ureq`.
//!
//! It adds the authentication, version and `User-Agent` headers, applies the retry
//! policy and the total time bound of each call, reports to the observer, and turns
//! status + body into [`Error`] in one place.

mod failure;
pub(crate) mod interrupt;
mod resolver;
pub(crate) mod retry;
pub(crate) mod route;
pub(crate) mod url;

pub(crate) use failure::map_transport;
use failure::{carries_local_error, is_connect_phase};

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
use crate::observe::{Event, Observer, ObserverSlot};
use retry::{Failure, RequestClass};
use route::Route;

/// The most of an error body kept.
const MAX_ERROR_BODY_BYTES: u64 = 1 << 20;

/// Buffer sizes of each kind of connection. ureq's default is 128 KiB each way on
/// every connection, which made an open stream cost about 290 KiB; these fit
/// what each kind carries (benches/streams_memory.rs measures them, and
/// benches/README.md has the numbers).
///
/// The input buffer must hold a whole response head (status line and headers,
/// about 1 KiB from the service; 16 KiB leaves room for proxies and gateways),
/// and the output buffer a whole request head (the user's extra headers
/// included). Bodies pass through them in pieces of their size, so a smaller
/// buffer costs only more system calls on large bodies.
mod buffers {
    /// Pooled JSON connections: small requests, answers of a few KiB (a describe,
    /// a page of a list).
    pub const JSON_INPUT: usize = 16 << 10;
    pub const JSON_OUTPUT: usize = 8 << 10;
    /// Stream and chat connections: one small request, then events of a few KiB.
    pub const STREAM_INPUT: usize = 16 << 10;
    pub const STREAM_OUTPUT: usize = 8 << 10;
    /// Upload connections: the file goes out through the output buffer, where a
    /// large one saves system calls (measured in benches/upload.rs).
    pub const UPLOAD_INPUT: usize = 16 << 10;
    pub const UPLOAD_OUTPUT: usize = 128 << 10;
    /// Idle upload connections kept: uploads of one process rarely run more in
    /// parallel, and each keeps its large buffer while idle.
    pub const UPLOAD_POOL: usize = 4;
}

/// Seconds an upload's time bound grows by per MiB of its body: a floor of
/// 64 KiB/s, far below any working link, so only a stalled transfer trips it.
const UPLOAD_SECONDS_PER_MIB: u64 = 16;

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

    fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// A request body that can be opened once per attempt (uploads).
pub(crate) trait BodySource {
    /// Whether another [`open`](Self::open) would produce the same bytes again.
    fn can_replay(&self) -> bool;
    /// Opens the body for the next attempt.
    fn open(&mut self) -> Result<OpenBody>;
    /// The body's length when known before opening it, which sizes its time bound.
    fn length_hint(&mut self) -> Option<u64>;
    /// The upload's own total time bound, when it set one (`Some(None)`: none).
    fn own_bound(&self) -> Option<Option<Duration>>;
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

/// A total time bound and the setting that gave it, for the error that says it
/// passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Bound {
    /// The bound; `None` for none.
    pub limit: Option<Duration>,
    /// Where it comes from, e.g. `total_timeout`.
    pub name: &'static str,
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
    /// A 404 is the answer the caller waits for (a deleted resource is gone): the
    /// observer sees the response, but no error.
    pub not_found_expected: bool,
    /// Set for streams: sent on a fresh connection whose socket this interrupter
    /// can shut down from another thread.
    pub interrupt: Option<Arc<interrupt::Interrupter>>,
    /// Replaces the configured body limit of its class.
    pub max_body: Option<u64>,
    /// Replaces the operation name told from the route (`chat_stream` for the
    /// streamed form of `chat`).
    pub operation: Option<&'static str>,
    /// Where the API path (below `/assistant`) starts in `url`, when the caller
    /// knows; otherwise it is found from the configured bases.
    pub api_path_at: Option<usize>,
    /// Replaces the call's total bound (the client's `total_timeout`, or for
    /// uploads that plus time per MiB).
    pub total: Option<Bound>,
    /// The end of the total bound, fixed when the request is first sent, so that
    /// a replay on a moved host stays inside it.
    deadline: Option<Option<Instant>>,
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
            not_found_expected: false,
            interrupt: None,
            max_body: None,
            operation: None,
            api_path_at: None,
            total: None,
            deadline: None,
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

    /// Names the request's operation, where the route alone cannot tell it.
    pub(crate) fn operation(mut self, name: &'static str) -> Self {
        self.operation = Some(name);
        self
    }

    /// Bounds the whole request by `bound` instead of the client's default.
    pub(crate) fn total(mut self, bound: Bound) -> Self {
        self.total = Some(bound);
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
    /// Reports a decode failure when the call is observed.
    watch: Option<Watch>,
}

impl Reply {
    /// Decodes the body as `T`; `what` names it in a decode error.
    pub(crate) fn decode<T: DeserializeOwned>(&self, what: &str) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(|e| {
            let error = Error::decode(what, e, &self.body);
            if let Some(watch) = &self.watch {
                watch.error(&error);
            }
            error
        })
    }
}

/// What the transport knows of a request once its answer's headers arrived,
/// for reading the body: the bound in force and, when observed, the watch.
pub(crate) struct Sent {
    /// The last attempt's bound ran to the wait's deadline rather than the call's.
    by_wait: bool,
    bound: Bound,
    watch: Option<Watch>,
}

impl Sent {
    /// Reports the answer of a stream, whose body is read later, and hands over
    /// the watch for its end event.
    pub(crate) fn into_stream_watch(self, resp: &RawResponse) -> Option<Watch> {
        let watch = self.watch?;
        let request_id = header_text(resp, "x-pinecone-request-id")
            .or_else(|| header_text(resp, "x-request-id"));
        watch.response(resp.status().as_u16(), request_id.as_deref(), None);
        Some(watch)
    }
}

/// The observer and what an event about one request says, kept only while an
/// observer is set.
#[derive(Clone)]
pub(crate) struct Watch {
    observer: Arc<dyn Observer>,
    pub(crate) operation: &'static str,
    pub(crate) route: &'static str,
    method: &'static str,
    attempt: u32,
    /// When the current attempt was sent.
    started: Instant,
}

impl Watch {
    pub(crate) fn emit(&self, event: &Event<'_>) {
        self.observer.on_event(event);
    }

    pub(crate) fn error(&self, error: &Error) {
        self.emit(&Event::Error {
            operation: self.operation,
            route: self.route,
            error,
        });
    }

    pub(crate) fn started(&self) -> Instant {
        self.started
    }

    fn response(&self, status: u16, request_id: Option<&str>, bytes: Option<u64>) {
        self.emit(&Event::Response {
            operation: self.operation,
            method: self.method,
            route: self.route,
            attempt: self.attempt,
            status,
            latency: self.started.elapsed(),
            request_id,
            bytes,
        });
    }
}

/// The bound of one attempt: the call's own, or the wait's deadline when that
/// comes first.
struct Budget {
    limit: Option<Duration>,
    by_wait: bool,
}

impl Budget {
    /// The budget at `now`. A wait's deadline that has already passed no longer
    /// cuts: the poll made at the deadline, the wait's last, runs under the
    /// call's own bound so that it can still see the work done.
    fn at(now: Instant, deadline: Option<Instant>, wait: Option<Instant>) -> Self {
        let left = |end: Instant| end.saturating_duration_since(now);
        match (deadline, wait.filter(|w| *w > now)) {
            (Some(d), Some(w)) if w < d => Budget {
                limit: Some(left(w)),
                by_wait: true,
            },
            (None, Some(w)) => Budget {
                limit: Some(left(w)),
                by_wait: true,
            },
            (d, _) => Budget {
                limit: d.map(left),
                by_wait: false,
            },
        }
    }
}

/// Shared by every clone of a client.
pub(crate) struct Transport {
    /// Pooled connections for JSON calls.
    agent: Agent,
    /// Pooled connections with a large output buffer, for uploads.
    upload_agent: Agent,
    /// For interruptible requests (streams): no idle connections, so each request
    /// connects anew and its socket is registered with its interrupter.
    stream_agent: Agent,
    /// The total bound the JSON agent applies by itself, which a request with the
    /// same bound need not set again.
    agent_total: Option<Duration>,
    headers: Arc<Vec<(HeaderName, HeaderValue)>>,
    config: ClientConfig,
    observer: Arc<ObserverSlot>,
    /// `{host}/assistant` and `{evaluation host}/assistant`.
    control_base: String,
    evaluation_base: String,
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
        let builder = |input: usize, output: usize| {
            Agent::config_builder()
                // Error bodies carry the server's explanation; keep them readable.
                .http_status_as_error(false)
                // ureq forwards custom headers such as Api-Key on redirects; never follow.
                .max_redirects(0)
                // Explicit configuration only: the environment's proxy variables would
                // also catch 127.0.0.1 test servers.
                .proxy(proxy.clone())
                .tls_config(tls.clone())
                // No resolve timeout: lookups run on the calling thread, bounded by
                // the system resolver's own timeouts (see `resolver`).
                .timeout_resolve(None)
                .timeout_connect(Some(config.timeout()))
                .timeout_per_read(Some(config.timeout()))
                .timeout_per_write(Some(config.timeout()))
                .input_buffer_size(input)
                .output_buffer_size(output)
                .user_agent(user_agent(config.source_tag()))
        };
        let agent_total = config.total_timeout();
        // Every agent resolves on the calling thread (see `resolver`): total bounds
        // are deadlines over every phase, lookups included.
        let plain = |config| {
            Agent::with_parts(
                config,
                ureq::unversioned::transport::DefaultConnector::default(),
                resolver::BlockingResolver::default(),
            )
        };
        let agent = plain(
            builder(buffers::JSON_INPUT, buffers::JSON_OUTPUT)
                .timeout_global(agent_total)
                .max_idle_connections(pool)
                .max_idle_connections_per_host(pool)
                .build(),
        );
        let upload_agent = plain(
            builder(buffers::UPLOAD_INPUT, buffers::UPLOAD_OUTPUT)
                .max_idle_connections(buffers::UPLOAD_POOL.min(pool))
                .max_idle_connections_per_host(buffers::UPLOAD_POOL.min(pool))
                .build(),
        );
        let stream_agent = Agent::with_parts(
            builder(buffers::STREAM_INPUT, buffers::STREAM_OUTPUT)
                .max_idle_connections(0)
                .max_idle_connections_per_host(0)
                .build(),
            interrupt::InterruptibleConnector::default(),
            resolver::BlockingResolver::default(),
        );
        let headers = Arc::new(build_headers(&config)?);
        let observer = Arc::new(ObserverSlot::new(config.observer().cloned()));
        Ok(Arc::new(Self {
            agent,
            upload_agent,
            stream_agent,
            agent_total,
            headers,
            control_base: format!("{}/assistant", config.host()),
            evaluation_base: format!("{}/assistant", config.evaluation_base()),
            config,
            observer,
        }))
    }

    /// A transport on the same connections, host cache and observer whose calls
    /// are bounded by `total` instead.
    pub(crate) fn with_total_timeout(&self, total: Option<Duration>) -> Self {
        Self {
            agent: self.agent.clone(),
            upload_agent: self.upload_agent.clone(),
            stream_agent: self.stream_agent.clone(),
            agent_total: self.agent_total,
            headers: self.headers.clone(),
            config: self.config.clone().with_total_timeout(total),
            observer: self.observer.clone(),
            control_base: self.control_base.clone(),
            evaluation_base: self.evaluation_base.clone(),
        }
    }

    pub(crate) fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The observer slot every clone of the client shares.
    pub(crate) fn observer(&self) -> &ObserverSlot {
        &self.observer
    }

    /// The control-plane base URL, `{host}/assistant`.
    pub(crate) fn control_base(&self) -> String {
        self.control_base.clone()
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
        let (resp, sent) = self.send(&mut req, cancel)?;
        self.read_reply(resp, &req, sent)
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

    /// The route of `req`, from its method and the path below its base.
    pub(crate) fn route(&self, req: &Request<'_>) -> Route {
        let at = req.api_path_at.unwrap_or_else(|| {
            route::api_path_start(&req.url, &[&self.control_base, &self.evaluation_base])
        });
        route::classify(req.method, req.url.get(at..).unwrap_or(""))
    }

    /// The operation name of `req`.
    fn operation(&self, req: &Request<'_>) -> &'static str {
        req.operation.unwrap_or_else(|| self.route(req).operation)
    }

    /// The total bound of `req`: its own, else for an upload the client's bound
    /// plus time per MiB of a body of known length (none for an unknown length),
    /// else the client's.
    fn bound(&self, req: &mut Request<'_>) -> Bound {
        if let Some(bound) = req.total {
            return bound;
        }
        let client = Bound {
            limit: self.config.total_timeout(),
            name: "total_timeout",
        };
        let Body::Source(source) = &mut req.body else {
            return client;
        };
        if let Some(own) = source.own_bound() {
            return Bound {
                limit: own,
                name: "the upload's total_timeout",
            };
        }
        let per_size = |len: u64| {
            let mib = len.div_ceil(1 << 20);
            Duration::from_secs(mib.saturating_mul(UPLOAD_SECONDS_PER_MIB))
        };
        Bound {
            limit: match (client.limit, source.length_hint()) {
                (Some(base), Some(len)) => Some(base.saturating_add(per_size(len))),
                _ => None,
            },
            name: "total_timeout plus 16 s per MiB uploaded",
        }
    }

    /// The largest success body `req` reads whole, and the setting that sets it.
    fn body_limit(&self, req: &Request<'_>) -> (u64, &'static str) {
        match req.max_body {
            Some(limit) => (limit, "body_limit"),
            None if req.class == RequestClass::Generation => {
                (self.config.generation_body_limit(), "generation_body_limit")
            }
            None => (self.config.body_limit(), "body_limit"),
        }
    }

    /// Starts watching `req` when an observer is set.
    fn watch(&self, req: &Request<'_>) -> Option<Watch> {
        let observer = self.observer.get()?;
        let route = self.route(req);
        Some(Watch {
            observer,
            operation: req.operation.unwrap_or(route.operation),
            route: route.template,
            method: req.method.as_str(),
            attempt: 0,
            started: Instant::now(),
        })
    }

    /// Names the host and the operation in a network error of `req`, and says
    /// which bound passed in a total timeout.
    fn explain(&self, req: &Request<'_>, error: Error, bound: Bound, by_wait: bool) -> Error {
        let (kind, inner) = match error {
            Error::Timeout(t) => (true, t),
            Error::Transport(t) => (false, t),
            other => return other,
        };
        let inner = if inner.kind() == TransportErrorKind::Timeout(TimeoutPhase::Total) {
            TransportError::new(
                inner.kind(),
                if by_wait {
                    "the wait's deadline passed while this request was under way".to_owned()
                } else {
                    match bound.limit {
                        Some(limit) => format!("{} of {limit:?} passed", bound.name),
                        None => format!("{} passed", bound.name),
                    }
                },
            )
        } else {
            inner
        };
        let inner = inner.within(route::origin(&req.url), self.operation(req));
        if kind {
            Error::Timeout(inner)
        } else {
            Error::Transport(inner)
        }
    }

    /// Sends `req`, retrying per policy, and returns the first success response with
    /// its body unread. A non-success status becomes an [`Error`].
    ///
    /// The whole call, retry pauses included, stays inside its total bound; inside
    /// a [`Wait::For`](crate::Wait::For) an attempt is also cut at the wait's
    /// deadline. The body read afterwards stays inside the same bound.
    pub(crate) fn send(
        &self,
        req: &mut Request<'_>,
        cancel: &CancelHandle,
    ) -> Result<(RawResponse, Sent)> {
        let bound = self.bound(req);
        let deadline = *req
            .deadline
            .get_or_insert_with(|| bound.limit.and_then(|b| Instant::now().checked_add(b)));
        let mut watch = self.watch(req);
        let outcome = self.send_attempts(req, cancel, bound, deadline, &mut watch);
        match outcome {
            Ok((resp, by_wait)) => Ok((
                resp,
                Sent {
                    by_wait,
                    bound,
                    watch,
                },
            )),
            Err(error) => {
                let expected = req.not_found_expected && error.is_not_found();
                if let Some(watch) = watch.as_ref().filter(|_| !expected) {
                    watch.error(&error);
                }
                Err(error)
            }
        }
    }

    fn send_attempts(
        &self,
        req: &mut Request<'_>,
        cancel: &CancelHandle,
        bound: Bound,
        deadline: Option<Instant>,
        watch: &mut Option<Watch>,
    ) -> Result<(RawResponse, bool)> {
        let policy = self.config.retry();
        let mut retry = 0u32;
        loop {
            cancel.check()?;
            let budget = Budget::at(Instant::now(), deadline, crate::polling::wait_deadline());
            if let Some(w) = watch.as_mut() {
                w.attempt = retry + 1;
                w.started = Instant::now();
                w.emit(&Event::RequestStart {
                    operation: w.operation,
                    method: w.method,
                    route: w.route,
                    attempt: w.attempt,
                });
            }
            // The JSON agent applies the client's bound by itself; only a first
            // attempt with that very bound can leave it to the agent.
            let agent_bound = retry == 0 && !budget.by_wait && bound.limit == self.agent_total;
            let outcome = self.attempt(req, &budget, agent_bound);
            let replayable = match &req.body {
                Body::Source(src) => src.can_replay(),
                _ => true,
            };
            let (failure, error, retry_after) = match outcome {
                Ok(resp) if resp.status().is_success() => return Ok((resp, budget.by_wait)),
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
                    return Ok((resp, budget.by_wait));
                }
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let err = self.error_from_response(resp, watch.as_ref());
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
                    let error = self.explain(req, map_transport(e), bound, budget.by_wait);
                    (failure, error, None)
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
            // A retry that would start after the call's bound, or inside a wait
            // after its deadline, is not worth starting: the caller asked to be
            // answered by then.
            let past = |end| Instant::now().checked_add(delay).is_none_or(|t| t > end);
            if deadline.is_some_and(past) || crate::polling::wait_deadline().is_some_and(past) {
                return Err(error);
            }
            log::debug!(
                "{:?} {} failed ({error}); retry {} of {} in {delay:?}",
                req.method,
                req.url,
                retry + 1,
                policy.max_retries
            );
            if let Some(w) = watch.as_ref() {
                let reason = match failure {
                    Failure::Status(status) => format!("status {status}"),
                    Failure::Connect => format!("connect: {error}"),
                    Failure::AfterStart => format!("connection: {error}"),
                };
                w.emit(&Event::RetryScheduled {
                    operation: w.operation,
                    method: w.method,
                    route: w.route,
                    attempt: w.attempt,
                    reason: &reason,
                    delay,
                });
            }
            self.pause(delay, cancel)?;
            retry += 1;
        }
    }

    fn attempt(
        &self,
        req: &mut Request<'_>,
        budget: &Budget,
        agent_bound: bool,
    ) -> Result<RawResponse, ureq::Error> {
        let mut builder = http::Request::builder()
            .method(req.method.as_http())
            .uri(req.url.as_str());
        for (name, value) in self.headers.iter() {
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
        // Only what differs from the agent's own settings is set per request:
        // a request-level configuration is a copy of the agent's. The JSON agent
        // applies the client's bound; the others apply none.
        let (agent, agent_applies_budget) = match (&req.interrupt, &req.body) {
            (Some(_), _) => (&self.stream_agent, budget.limit.is_none()),
            (None, Body::Source(_)) => (&self.upload_agent, budget.limit.is_none()),
            (None, _) => (&self.agent, agent_bound),
        };
        let request = if req.read_timeout.is_some() || !agent_applies_budget {
            let mut config = agent.configure_request(request);
            if let Some(t) = req.read_timeout {
                config = config.timeout_per_read(Some(t));
            }
            config.timeout_global(budget.limit).build()
        } else {
            request
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
    fn error_from_response(&self, mut resp: RawResponse, watch: Option<&Watch>) -> Error {
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
        if let Some(watch) = watch {
            watch.response(
                status.as_u16(),
                request_id.as_deref(),
                Some(body.len() as u64),
            );
        }
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

    /// Reads a whole success response of `req`, under its body limit and inside
    /// the bound its sending started.
    pub(crate) fn read_reply(
        &self,
        mut resp: RawResponse,
        req: &Request<'_>,
        sent: Sent,
    ) -> Result<Reply> {
        let (limit, setting) = self.body_limit(req);
        let status = resp.status().as_u16();
        let location = header_text(&resp, "location");
        let retry_after = header_text(&resp, "retry-after")
            .and_then(|v| retry::parse_retry_after(&v, SystemTime::now()));
        // A declared length counts only for a body sent as it is: a compressed
        // body declares its compressed size.
        let declared = if resp.headers().contains_key(http::header::CONTENT_ENCODING) {
            None
        } else {
            header_text(&resp, "content-length").and_then(|v| v.trim().parse::<u64>().ok())
        };
        // A hint only: a server could declare anything.
        let mut body = Vec::with_capacity(declared.unwrap_or(0).min(limit).min(1 << 20) as usize);
        let read = resp
            .body_mut()
            .as_reader()
            .take(limit.saturating_add(1))
            .read_to_end(&mut body);
        let outcome = match read {
            // A chat's own connection, shut down by its cancel handle.
            Err(_) if req.interrupt.as_ref().is_some_and(|i| i.is_interrupted()) => {
                Err(Error::Cancelled)
            }
            Err(e) => {
                let error = self.explain(
                    req,
                    map_transport(ureq::Error::from(e)),
                    sent.bound,
                    sent.by_wait,
                );
                match error {
                    // A chat answer broken off once the server accepted the
                    // request: the chat may have run, so it is no network error
                    // to retry.
                    Error::Timeout(_) | Error::Transport(_) if req.interrupt.is_some() => Err(
                        crate::stream::stopped_after_headers(self.operation(req), &error),
                    ),
                    other => Err(other),
                }
            }
            Ok(_) if body.len() as u64 > limit => Err(Error::BodyTooLarge {
                what: format!("response body of {}", self.operation(req)),
                limit,
                seen: declared.unwrap_or(0).max(body.len() as u64),
                setting: setting.to_owned(),
            }),
            Ok(_) => Ok(()),
        };
        if let Some(watch) = &sent.watch {
            match &outcome {
                Ok(()) => {
                    let request_id = header_text(&resp, "x-pinecone-request-id")
                        .or_else(|| header_text(&resp, "x-request-id"));
                    watch.response(status, request_id.as_deref(), Some(body.len() as u64));
                }
                Err(error) => watch.error(error),
            }
        }
        outcome.map(|()| Reply {
            status,
            location,
            retry_after,
            body,
            watch: sent.watch,
        })
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

    /// An upload body of a given length, never opened.
    struct Sized(Option<u64>, Option<Option<Duration>>);

    impl BodySource for Sized {
        fn can_replay(&self) -> bool {
            true
        }
        fn open(&mut self) -> Result<OpenBody> {
            Err(Error::invalid("body", "never opened in this test"))
        }
        fn length_hint(&mut self) -> Option<u64> {
            self.0
        }
        fn own_bound(&self) -> Option<Option<Duration>> {
            self.1
        }
    }

    #[test]
    fn uploads_get_the_clients_bound_plus_time_per_mib() {
        let secs = Duration::from_secs;
        let transport = |total: Option<Duration>| {
            Transport::new(ClientConfig::builder("k").total_timeout(total).build()).unwrap()
        };
        let bound_of = |t: &Transport, mut body: Sized| {
            let mut req = Request::new(
                Method::Post,
                "http://h/assistant/files/a".into(),
                RequestClass::Creating,
            )
            .body(Body::Source(&mut body));
            t.bound(&mut req)
        };
        let t = transport(Some(secs(600)));
        // 3 MiB and a byte: four MiB begun, 16 s each.
        let b = bound_of(&t, Sized(Some((3 << 20) + 1), None));
        assert_eq!(b.limit, Some(secs(600 + 4 * 16)));
        assert!(b.name.contains("16 s per MiB"), "{}", b.name);
        assert_eq!(bound_of(&t, Sized(Some(0), None)).limit, Some(secs(600)));
        // Unknown length: no bound, unless the upload sets its own.
        assert_eq!(bound_of(&t, Sized(None, None)).limit, None);
        let own = bound_of(&t, Sized(None, Some(Some(secs(5)))));
        assert_eq!(own.limit, Some(secs(5)));
        assert_eq!(own.name, "the upload's total_timeout");
        assert_eq!(bound_of(&t, Sized(Some(1), Some(None))).limit, None);
        // Without a client bound, an upload has none either.
        assert_eq!(
            bound_of(&transport(None), Sized(Some(1 << 20), None)).limit,
            None
        );
        // Any other request has the client's.
        let mut get = Request::get("http://h/assistant/assistants/a".into());
        assert_eq!(t.bound(&mut get).limit, Some(secs(600)));
    }

    #[test]
    fn an_attempt_runs_to_the_earlier_of_the_call_bound_and_a_future_wait_deadline() {
        let now = Instant::now();
        let at = |s: u64| Some(now + Duration::from_secs(s));
        let b = Budget::at(now, at(10), at(5));
        assert_eq!((b.limit, b.by_wait), (Some(Duration::from_secs(5)), true));
        let b = Budget::at(now, at(5), at(10));
        assert_eq!((b.limit, b.by_wait), (Some(Duration::from_secs(5)), false));
        let b = Budget::at(now, None, at(3));
        assert_eq!((b.limit, b.by_wait), (Some(Duration::from_secs(3)), true));
        // A wait deadline that has passed: the last poll runs under its own bound.
        let b = Budget::at(now + Duration::from_secs(6), at(10), at(5));
        assert_eq!((b.limit, b.by_wait), (Some(Duration::from_secs(4)), false));
        let b = Budget::at(now, None, None);
        assert_eq!((b.limit, b.by_wait), (None, false));
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
