//! Client configuration: credentials, hosts, timeouts, TLS, proxy, retries, polling.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::http::retry::RetryPolicy;
use crate::http::url::normalize_host;
use crate::models::setters;
use crate::observe::Observer;
use crate::polling::PollSchedule;
use crate::testing::Sleeper;

/// The control-plane host used unless another is configured.
pub const DEFAULT_HOST: &str = "https://api.pinecone.io";
/// The API version sent on every request unless another is configured.
pub const DEFAULT_API_VERSION: &str = "2026-07";
/// The total bound of a call unless another is configured: 10 minutes, as in
/// the official OpenAI Python client.
pub const DEFAULT_TOTAL_TIMEOUT: Duration = Duration::from_secs(600);
/// The largest answer read whole unless another limit is configured: 64 MiB.
pub const DEFAULT_BODY_LIMIT: u64 = 64 << 20;
/// The largest answer of a context, chat or evaluation call read whole unless
/// another limit is configured: 1 GiB (context answers can carry images).
pub const DEFAULT_GENERATION_BODY_LIMIT: u64 = 1 << 30;
/// The largest event of a stream unless another limit is configured: 16 MiB.
pub const DEFAULT_STREAM_EVENT_LIMIT: u64 = 16 << 20;
/// The US evaluation host.
pub const EVALUATION_HOST_US: &str = "https://prod-1-data.ke.pinecone.io";
/// The EU evaluation host.
pub const EVALUATION_HOST_EU: &str = "https://prod-eu-data.ke.pinecone.io";

/// The API key. Its `Debug` and `Display` print `***`, so it never reaches a log.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key.
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    /// The key itself, for sending it.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// Checks that the key can travel in a header, without quoting it in the error.
    fn validate(&self) -> Result<()> {
        let k = self.0.as_bytes();
        let fix = "pass the key exactly as shown in the Pinecone console";
        if k.is_empty() {
            return Err(Error::invalid(
                "api_key",
                "no API key: pass one or set PINECONE_API_KEY",
            ));
        }
        let blank = |b: &u8| *b == b' ' || *b == b'\t';
        if blank(&k[0]) || blank(&k[k.len() - 1]) {
            return Err(Error::invalid(
                "api_key",
                format!("starts or ends with whitespace; {fix}"),
            ));
        }
        if let Some(pos) = k.iter().position(|b| !(b.is_ascii_graphic() || blank(b))) {
            return Err(Error::invalid(
                "api_key",
                format!("contains a newline, control or non-ASCII character at byte {pos}; {fix}"),
            ));
        }
        Ok(())
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Where alignment evaluation runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum EvaluationRegion {
    /// `https://prod-1-data.ke.pinecone.io` (the default).
    #[default]
    Us,
    /// `https://prod-eu-data.ke.pinecone.io`.
    Eu,
}

/// Everything a [`Client`](crate::Client) needs to know. Build one with
/// [`ClientConfig::builder`] or [`ClientConfig::builder_from_env`]; read it back
/// through the getters below (each documents the builder setter that sets it).
///
/// Its `Debug` output never shows a secret: the API key prints as `***`, headers
/// by name only, a proxy's user and password masked.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    api_key: ApiKey,
    host: String,
    api_version: String,
    timeout: Duration,
    additional_headers: Headers,
    source_tag: String,
    proxy: Option<ProxyUrl>,
    ca_bundle: Option<PathBuf>,
    accept_invalid_certs: bool,
    pool_size: usize,
    retry: RetryPolicy,
    create_poll_interval: Duration,
    operation_poll_interval: Duration,
    chat_read_timeout: Duration,
    evaluation_region: EvaluationRegion,
    evaluation_host: Option<String>,
    sleeper: Option<Hook<Sleeper>>,
    poll_schedule: PollSchedule,
    total_timeout: Option<Duration>,
    body_limit: u64,
    generation_body_limit: u64,
    stream_event_limit: u64,
    observer: Option<Hook<Arc<dyn Observer>>>,
}

/// The headers set with [`ClientConfigBuilder::header`]. Their values may hold
/// credentials, so `Debug` lists only the names.
#[derive(Clone, Default)]
struct Headers(Vec<(String, String)>);

impl fmt::Debug for Headers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(name, _)| name))
            .finish()
    }
}

/// A proxy URL. It may carry a user and password, so `Debug` masks them.
#[derive(Clone)]
struct ProxyUrl(String);

impl fmt::Debug for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&redact_userinfo(&self.0), f)
    }
}

/// Code the caller plugged in (the sleeper, the observer): `Debug` says only
/// that it is set.
#[derive(Clone)]
struct Hook<T>(T);

impl<T> fmt::Debug for Hook<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt("set", f)
    }
}

/// `scheme://user:pass@host` → `scheme://***@host`.
fn redact_userinfo(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}***{}", &url[..s + 3], &url[at..]),
        _ => url.to_owned(),
    }
}

impl ClientConfig {
    /// A builder with the given API key and every other setting at its default.
    ///
    /// ```
    /// use std::time::Duration;
    /// use pinecone_assistant::ClientConfig;
    ///
    /// let config = ClientConfig::builder("pcsk_example")
    ///     .timeout(Duration::from_secs(10))
    ///     .source_tag("my app")
    ///     .build();
    /// assert_eq!(format!("{:?}", config.api_key()), "***");
    /// assert_eq!(config.timeout(), Duration::from_secs(10));
    /// ```
    pub fn builder(api_key: impl Into<String>) -> ClientConfigBuilder {
        ClientConfigBuilder {
            env_headers: None,
            config: ClientConfig {
                api_key: ApiKey::new(api_key),
                host: DEFAULT_HOST.to_owned(),
                api_version: DEFAULT_API_VERSION.to_owned(),
                timeout: Duration::from_secs(30),
                additional_headers: Headers::default(),
                source_tag: String::new(),
                proxy: None,
                ca_bundle: None,
                accept_invalid_certs: false,
                pool_size: 0,
                retry: RetryPolicy::default(),
                create_poll_interval: Duration::from_millis(500),
                operation_poll_interval: Duration::from_secs(5),
                chat_read_timeout: Duration::from_secs(300),
                evaluation_region: EvaluationRegion::Us,
                evaluation_host: None,
                sleeper: None,
                poll_schedule: PollSchedule::default(),
                total_timeout: Some(DEFAULT_TOTAL_TIMEOUT),
                body_limit: DEFAULT_BODY_LIMIT,
                generation_body_limit: DEFAULT_GENERATION_BODY_LIMIT,
                stream_event_limit: DEFAULT_STREAM_EVENT_LIMIT,
                observer: None,
            },
        }
    }

    /// A builder filled from the environment: `PINECONE_API_KEY` (required),
    /// `PINECONE_CONTROLLER_HOST` and `PINECONE_ADDITIONAL_HEADERS` (a JSON object,
    /// used only when no header is set with [`header`](ClientConfigBuilder::header);
    /// invalid JSON is ignored with one warning per process that never quotes it).
    /// Setters called afterwards override what the environment gave. Nothing else in this crate
    /// reads the environment.
    ///
    /// ```no_run
    /// // PINECONE_API_KEY=pcsk_…
    /// // PINECONE_ADDITIONAL_HEADERS='{"X-Team": "search", "X-Trace": "on"}'
    /// use std::time::Duration;
    /// let config = pinecone_assistant::ClientConfig::builder_from_env()?
    ///     .timeout(Duration::from_secs(10)) // explicit settings win
    ///     .build();
    /// # Ok::<(), pinecone_assistant::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] when `PINECONE_API_KEY` is unset or empty, or
    /// when `PINECONE_CONTROLLER_HOST` is not an `http://` or `https://` URL (the
    /// error names the variable).
    pub fn builder_from_env() -> Result<ClientConfigBuilder> {
        let key = std::env::var("PINECONE_API_KEY").unwrap_or_default();
        if key.is_empty() {
            return Err(Error::invalid(
                "PINECONE_API_KEY",
                "is not set; export it or build the configuration with ClientConfig::builder",
            ));
        }
        let mut builder = Self::builder(key);
        if let Ok(host) = std::env::var("PINECONE_CONTROLLER_HOST") {
            if !host.is_empty() {
                builder = builder.host(host);
                check_host("PINECONE_CONTROLLER_HOST", &builder.config.host)?;
            }
        }
        if let Ok(raw) = std::env::var("PINECONE_ADDITIONAL_HEADERS") {
            if !raw.is_empty() {
                match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&raw) {
                    Ok(map) => {
                        let headers = map
                            .into_iter()
                            .map(|(k, v)| match v {
                                serde_json::Value::String(s) => (k, s),
                                other => (k, other.to_string()),
                            })
                            .collect();
                        builder.env_headers = Some(headers);
                    }
                    Err(_) => {
                        static WARNED: std::sync::Once = std::sync::Once::new();
                        WARNED.call_once(|| {
                            log::warn!(
                                "PINECONE_ADDITIONAL_HEADERS is not a JSON object of headers; ignoring it"
                            )
                        });
                    }
                }
            }
        }
        Ok(builder)
    }

    /// The API key ([`ClientConfigBuilder`] takes it first); prints as `***`.
    pub fn api_key(&self) -> &ApiKey {
        &self.api_key
    }

    /// The control-plane host, normalised (scheme present, no trailing `/`, no
    /// trailing `/assistant`); see [`ClientConfigBuilder::host`].
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The `X-Pinecone-Api-Version` value; see [`ClientConfigBuilder::api_version`].
    pub fn api_version(&self) -> &str {
        &self.api_version
    }

    /// The connect timeout and the longest silence while writing or reading (the
    /// idle timeout; the whole call is bounded by
    /// [`total_timeout`](Self::total_timeout)); see [`ClientConfigBuilder::timeout`].
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Headers sent on every request, in the order set; see
    /// [`ClientConfigBuilder::header`].
    pub fn additional_headers(&self) -> &[(String, String)] {
        &self.additional_headers.0
    }

    /// The normalised tag appended to the `User-Agent` (empty for none); see
    /// [`ClientConfigBuilder::source_tag`].
    pub fn source_tag(&self) -> &str {
        &self.source_tag
    }

    /// The proxy URL every request goes through, if any; see
    /// [`ClientConfigBuilder::proxy`]. It may hold credentials: do not log it.
    pub fn proxy(&self) -> Option<&str> {
        self.proxy.as_ref().map(|url| url.0.as_str())
    }

    /// The PEM file or directory trusted instead of the bundled roots, if any; see
    /// [`ClientConfigBuilder::ca_bundle`].
    pub fn ca_bundle(&self) -> Option<&Path> {
        self.ca_bundle.as_deref()
    }

    /// Whether certificate and host-name verification is off; see
    /// [`ClientConfigBuilder::accept_invalid_certs`].
    pub fn accept_invalid_certs(&self) -> bool {
        self.accept_invalid_certs
    }

    /// Idle connections kept for reuse, 0 meaning max(5 × CPUs, 20); see
    /// [`ClientConfigBuilder::pool_size`].
    pub fn pool_size(&self) -> usize {
        self.pool_size
    }

    /// The retry policy; see [`ClientConfigBuilder::retry`].
    pub fn retry(&self) -> RetryPolicy {
        self.retry
    }

    /// The longest delay between polls while an assistant is being created; see
    /// [`ClientConfigBuilder::create_poll_interval`].
    pub fn create_poll_interval(&self) -> Duration {
        self.create_poll_interval
    }

    /// The longest delay between polls while an assistant is deleted or a file
    /// operation runs; see [`ClientConfigBuilder::operation_poll_interval`].
    pub fn operation_poll_interval(&self) -> Duration {
        self.operation_poll_interval
    }

    /// The least idle timeout of chat and chat-completions calls; see
    /// [`ClientConfigBuilder::chat_read_timeout`].
    pub fn chat_read_timeout(&self) -> Duration {
        self.chat_read_timeout
    }

    /// Where alignment evaluation runs; see [`ClientConfigBuilder::evaluation_region`].
    pub fn evaluation_region(&self) -> EvaluationRegion {
        self.evaluation_region
    }

    /// The evaluation host replacing the region's, as given; see
    /// [`ClientConfigBuilder::evaluation_host`].
    pub fn evaluation_host(&self) -> Option<&str> {
        self.evaluation_host.as_deref()
    }

    /// How waits space their polls; see [`ClientConfigBuilder::poll_schedule`].
    pub fn poll_schedule(&self) -> PollSchedule {
        self.poll_schedule
    }

    /// The sleeper replacing real sleeping, set through
    /// [`testing::TestHooks`](crate::testing::TestHooks).
    pub(crate) fn sleeper(&self) -> Option<&Sleeper> {
        self.sleeper.as_ref().map(|hook| &hook.0)
    }

    /// Checks every setting; run by `Client::new`.
    pub(crate) fn validate(&self) -> Result<()> {
        self.api_key.validate()?;
        if self.host.is_empty() {
            return Err(Error::invalid(
                "host",
                "is empty; leave it unset for https://api.pinecone.io",
            ));
        }
        check_host("host", &self.host)?;
        if let Some(raw) = &self.evaluation_host {
            let host = host_setting(raw);
            if host.is_empty() {
                return Err(Error::invalid(
                    "evaluation_host",
                    "is empty; leave it unset for the evaluation region's host",
                ));
            }
            check_host("evaluation_host", &host)?;
        }
        if self.timeout.is_zero() {
            return Err(Error::invalid("timeout", "must be greater than zero"));
        }
        if self.api_version.is_empty() || !self.api_version.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Error::invalid(
                "api_version",
                "must be a version such as 2026-07",
            ));
        }
        if self.create_poll_interval.is_zero() || self.operation_poll_interval.is_zero() {
            return Err(Error::invalid(
                "poll_interval",
                "must be greater than zero (use a sleeper to make tests fast)",
            ));
        }
        if let PollSchedule::Adaptive { first } = self.poll_schedule {
            if first.is_zero() {
                return Err(Error::invalid(
                    "poll_schedule",
                    "the first delay of an adaptive schedule must be greater than zero \
                     (use a sleeper to make tests fast)",
                ));
            }
        }
        if self.total_timeout.is_some_and(|t| t.is_zero()) {
            return Err(Error::invalid(
                "total_timeout",
                "must be greater than zero; pass None for no bound",
            ));
        }
        for (name, limit) in [
            ("body_limit", self.body_limit),
            ("generation_body_limit", self.generation_body_limit),
            ("stream_event_limit", self.stream_event_limit),
        ] {
            if limit == 0 {
                return Err(Error::invalid(name, "must be at least 1 byte"));
            }
        }
        for (name, value) in self.additional_headers() {
            // These describe the body of each request; a fixed value would break
            // its framing (and be sent beside the real one).
            const PER_REQUEST: [&str; 4] = [
                "content-type",
                "content-length",
                "transfer-encoding",
                "host",
            ];
            if PER_REQUEST.iter().any(|h| name.eq_ignore_ascii_case(h)) {
                return Err(Error::invalid(
                    "additional_headers",
                    format!("\"{name}\" is set per request by the client and cannot be overridden"),
                ));
            }
            if ureq::http::HeaderName::from_bytes(name.as_bytes()).is_err() {
                return Err(Error::invalid(
                    "additional_headers",
                    format!("\"{name}\" is not a valid header name"),
                ));
            }
            if ureq::http::HeaderValue::from_str(value).is_err() {
                return Err(Error::invalid(
                    "additional_headers",
                    format!(
                        "the value of \"{name}\" contains a newline, control or non-ASCII character"
                    ),
                ));
            }
        }
        Ok(())
    }

    /// This configuration with the retry policy `retry` and room for at least
    /// `pool_size` idle connections. Folder sync sends its workers' requests
    /// through such a copy without retries and retries them itself, because a
    /// throttled answer must pause every worker, not only the one that got it.
    #[cfg(feature = "sync")]
    pub(crate) fn for_worker_pool(&self, retry: RetryPolicy, pool_size: usize) -> Self {
        Self {
            retry,
            pool_size: self.pool_size.max(pool_size),
            ..self.clone()
        }
    }

    /// The evaluation base host (without `/assistant`).
    pub(crate) fn evaluation_base(&self) -> String {
        match &self.evaluation_host {
            Some(h) => host_setting(h),
            None => match self.evaluation_region {
                EvaluationRegion::Us => EVALUATION_HOST_US.to_owned(),
                EvaluationRegion::Eu => EVALUATION_HOST_EU.to_owned(),
            },
        }
    }
}

/// Builds a [`ClientConfig`]; every setter is optional. Invalid values are reported
/// by `Client::new`, naming the setting.
#[derive(Debug, Clone)]
#[must_use]
pub struct ClientConfigBuilder {
    config: ClientConfig,
    /// `PINECONE_ADDITIONAL_HEADERS`, used only when no header is set explicitly.
    env_headers: Option<Vec<(String, String)>>,
}

impl ClientConfigBuilder {
    setters! {
        /// The control-plane host: a bare host gets `https://`, `http://` is kept (for a
        /// local emulator), a path is kept. The client adds `/assistant` itself, so a
        /// trailing `/assistant` is dropped: `https://api.pinecone.io` and
        /// `https://api.pinecone.io/assistant` (the base URL of the API's
        /// documentation) name the same host. Defaults to `https://api.pinecone.io`.
        ///
        /// `Client::new` refuses, naming `host`, anything that is not an `http://` or
        /// `https://` URL with a host name, or that has a query.
        ///
        /// ```
        /// use pinecone_assistant::ClientConfig;
        /// let config = ClientConfig::builder("pcsk_example")
        ///     .host("https://api.pinecone.io/assistant")
        ///     .build();
        /// assert_eq!(config.host(), "https://api.pinecone.io");
        /// ```
        host(host: impl AsRef<str>) => config.host = host_setting(host.as_ref());

        /// The API version header value. Defaults to `2026-07`, the only version this
        /// crate's models describe.
        api_version(version: impl Into<String>) => config.api_version = version.into();

        /// The connect timeout and the longest silence allowed while writing or reading:
        /// the idle timeout, not a bound on the whole call (that is
        /// [`total_timeout`](Self::total_timeout)). Defaults to 30 s.
        timeout(timeout: Duration) => config.timeout = timeout;
    }

    /// Adds a header to every request; a name equal to a built-in header (ignoring
    /// case) replaces it, a repeated name replaces the earlier value. Defaults to none.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let name = name.into();
        self.config
            .additional_headers
            .0
            .retain(|(k, _)| !k.eq_ignore_ascii_case(&name));
        self.config.additional_headers.0.push((name, value.into()));
        self
    }

    setters! {
        /// A tag appended to the `User-Agent` as ` source_tag=…` so Pinecone can
        /// attribute traffic; lower-cased, characters outside `a-z 0-9 _ : space`
        /// dropped, spaces turned into `_`. Defaults to none.
        source_tag(tag: impl AsRef<str>) => config.source_tag = normalize_source_tag(tag.as_ref());

        /// Sends every request through this proxy: `http://host:port` (CONNECT
        /// tunnel), `https://host:port` (TLS to the proxy), `socks5://host:port` (the
        /// client resolves the target's name), `socks5h://host:port` (the proxy
        /// resolves it), `socks4://` or `socks4a://` (`socks://` means `socks5://`),
        /// with credentials as `http://user:password@host:port` or
        /// `socks5://user:password@host:port` (percent-encode `@` and `:` in them).
        /// Any other scheme is an [`Error::InvalidArgument`] naming `proxy` from
        /// `Client::new`. Custom proxy headers are not supported. The standard `HTTP_PROXY` /
        /// `HTTPS_PROXY` / `ALL_PROXY` variables are never read. Defaults to a direct
        /// connection.
        ///
        /// ```
        /// use pinecone_assistant::ClientConfig;
        /// let config = ClientConfig::builder("pcsk_example")
        ///     .proxy("http://me:p%40ss@proxy.internal:3128") // password "p@ss"
        ///     .build();
        /// assert!(!format!("{config:?}").contains("p%40ss"), "Debug hides the credentials");
        /// ```
        proxy(url: impl Into<String>) => config.proxy = Some(ProxyUrl(url.into()));

        /// Trusts the certificates of this PEM file, or of every PEM file in this
        /// directory, instead of the bundled Mozilla roots. Defaults to the bundled roots.
        ///
        /// ```no_run
        /// use pinecone_assistant::{Client, ClientConfig};
        /// let client = Client::new(
        ///     ClientConfig::builder("pcsk_example")
        ///         .host("https://gateway.internal")
        ///         .ca_bundle("/etc/ssl/internal-ca.pem")
        ///         .build(),
        /// )?; // an unreadable or empty bundle is an InvalidArgument naming `ca_bundle`
        /// # Ok::<(), pinecone_assistant::Error>(())
        /// ```
        ca_bundle(path: impl Into<PathBuf>) => config.ca_bundle = Some(path.into());

        /// Turns off certificate and host-name verification on every connection. Only for
        /// local testing against a self-signed server. Defaults to `false`.
        accept_invalid_certs(accept: bool) => config.accept_invalid_certs = accept;

        /// Idle keep-alive connections kept for reuse; 0 means max(5 × CPUs, 20).
        /// Defaults to 0.
        pool_size(size: usize) => config.pool_size = size;

        /// The retry policy. Defaults to [`RetryPolicy::default`].
        retry(policy: RetryPolicy) => config.retry = policy;

        /// The longest delay between polls while waiting for a new assistant: the cap
        /// of the [adaptive schedule](PollSchedule::Adaptive), the interval of the
        /// [fixed one](PollSchedule::Fixed). Defaults to 0.5 s.
        create_poll_interval(interval: Duration) => config.create_poll_interval = interval;

        /// The longest delay between polls while waiting for a deletion or a file
        /// operation: the cap of the [adaptive schedule](PollSchedule::Adaptive), the
        /// interval of the [fixed one](PollSchedule::Fixed). Defaults to 5 s.
        operation_poll_interval(interval: Duration) => config.operation_poll_interval = interval;

        /// The least idle timeout of chat calls: the completions stream can be silent for
        /// minutes while the model thinks. Defaults to 300 s.
        chat_read_timeout(timeout: Duration) => config.chat_read_timeout = timeout;

        /// Where alignment evaluation runs. Defaults to [`EvaluationRegion::Us`].
        evaluation_region(region: EvaluationRegion) => config.evaluation_region = region;

        /// An evaluation host replacing the region's, normalised like
        /// [`host`](Self::host): `https://prod-1-data.ke.pinecone.io` and
        /// `https://prod-1-data.ke.pinecone.io/assistant` (the form the official SDKs'
        /// override takes) both work. Defaults to the region's host.
        evaluation_host(host: impl Into<String>) => config.evaluation_host = Some(host.into());

        /// How waits space their polls. Defaults to [`PollSchedule::default`]: the
        /// first poll 250 ms after the server accepted the request, then delays that
        /// grow up to the interval, so that short work returns in well under a second
        /// and long work is polled about as often as with [`PollSchedule::Fixed`].
        ///
        /// ```
        /// use pinecone_assistant::{ClientConfig, PollSchedule};
        /// let config = ClientConfig::builder("pcsk_example")
        ///     .poll_schedule(PollSchedule::Fixed)
        ///     .build();
        /// assert_eq!(config.poll_schedule(), PollSchedule::Fixed);
        /// ```
        poll_schedule(schedule: PollSchedule) => config.poll_schedule = schedule;
    }

    /// Sets the test sleeper; reached through [`testing::TestHooks`](crate::testing::TestHooks).
    pub(crate) fn set_sleeper(mut self, sleeper: Sleeper) -> Self {
        self.config.sleeper = Some(Hook(sleeper));
        self
    }

    /// The finished configuration.
    pub fn build(mut self) -> ClientConfig {
        if self.config.additional_headers.0.is_empty() {
            if let Some(headers) = self.env_headers.take() {
                for (name, value) in headers {
                    self = self.header(name, value);
                }
            }
        }
        self.config
    }
}

/// A host setting as the client uses it: normalised, without a trailing
/// `/assistant` (the client adds that itself).
fn host_setting(raw: &str) -> String {
    let host = normalize_host(raw);
    match host.strip_suffix("/assistant") {
        Some(base) => base.trim_end_matches('/').to_owned(),
        None => host,
    }
}

/// Checks that a normalised host setting is a URL the client can send requests
/// to; `name` is the setting (or variable) named in the error.
fn check_host(name: &str, host: &str) -> Result<()> {
    let shown = redact_userinfo(host);
    let fix = "use https://host[:port] (http:// for a local server), optionally with a path";
    let after_scheme = host.split_once("://").map_or(host, |(_, rest)| rest);
    if let Some((scheme, _)) = after_scheme.split_once("://") {
        return Err(Error::invalid(
            name,
            format!("\"{scheme}://\" is not supported; {fix}"),
        ));
    }
    let uri: ureq::http::Uri = host.parse().map_err(|e| {
        Error::invalid(name, format!("\"{shown}\" is not a valid URL ({e}); {fix}"))
    })?;
    let has_host = uri.host().is_some_and(|h| !h.is_empty());
    if !has_host {
        return Err(Error::invalid(
            name,
            format!("\"{shown}\" names no host; {fix}"),
        ));
    }
    if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
        return Err(Error::invalid(
            name,
            format!("\"{shown}\" carries credentials; the API key is the only credential sent"),
        ));
    }
    if uri.query().is_some() {
        return Err(Error::invalid(
            name,
            format!("\"{shown}\" has a query; {fix}"),
        ));
    }
    Ok(())
}

/// Total time bounds, body limits and the observer.
impl ClientConfig {
    /// The total bound of a call (its attempts, retry pauses and the reading of
    /// its answer), `None` for none; see [`ClientConfigBuilder::total_timeout`].
    pub fn total_timeout(&self) -> Option<Duration> {
        self.total_timeout
    }

    /// The largest answer read whole, except for context, chat and evaluation
    /// answers; see [`ClientConfigBuilder::body_limit`].
    pub fn body_limit(&self) -> u64 {
        self.body_limit
    }

    /// The largest context, chat or evaluation answer read whole; see
    /// [`ClientConfigBuilder::generation_body_limit`].
    pub fn generation_body_limit(&self) -> u64 {
        self.generation_body_limit
    }

    /// The largest event of a stream; see
    /// [`ClientConfigBuilder::stream_event_limit`].
    pub fn stream_event_limit(&self) -> u64 {
        self.stream_event_limit
    }

    /// The observer set with [`ClientConfigBuilder::observer`].
    pub(crate) fn observer(&self) -> Option<&Arc<dyn Observer>> {
        self.observer.as_ref().map(|hook| &hook.0)
    }

    /// This configuration with another total bound.
    pub(crate) fn with_total_timeout(mut self, total: Option<Duration>) -> Self {
        self.total_timeout = total;
        self
    }
}

/// Total time bounds, body limits and the observer.
impl ClientConfigBuilder {
    setters! {
        /// The total bound of a call: its connection, every attempt, the pauses
        /// between retries and the reading of the whole answer. `None` for no bound.
        /// Defaults to 10 minutes ([`DEFAULT_TOTAL_TIMEOUT`]).
        ///
        /// [`timeout`](Self::timeout) bounds each silence; this bounds the whole,
        /// so a server that sends a byte now and then cannot hold a call for ever.
        /// A call that passes it fails with [`Error::Timeout`] whose
        /// [`TransportError::kind`](crate::TransportError::kind) is
        /// `Timeout(TimeoutPhase::Total)`. Exceptions:
        ///
        /// - streams (`chat_stream`, `chat_completions_stream`) have no total bound
        ///   unless the request sets one
        ///   ([`ChatRequest::total_timeout`](crate::models::ChatRequest::total_timeout)),
        ///   since a long answer is no fault; their idle timeout still applies;
        /// - an upload of a known length gets this plus 16 s per MiB (a floor of
        ///   64 KiB/s, so only a stalled transfer trips it), and one of unknown
        ///   length none, unless it sets its own
        ///   ([`UploadFile::total_timeout`](crate::models::UploadFile::total_timeout));
        /// - a wait ([`Wait`](crate::Wait)) is bounded by its own mode: each of its
        ///   polls is a call with this bound, and a poll still under way when a
        ///   [`Wait::For`](crate::Wait::For) deadline passes is cut there, the wait
        ///   then ending with [`Error::WaitTimeout`].
        ///
        /// [`Client::with_total_timeout`](crate::Client::with_total_timeout) gives a
        /// client with another bound for some calls.
        ///
        /// ```
        /// use std::time::Duration;
        /// use pinecone_assistant::ClientConfig;
        /// let quick = ClientConfig::builder("pcsk_example").total_timeout(Duration::from_secs(20)).build();
        /// assert_eq!(quick.total_timeout(), Some(Duration::from_secs(20)));
        /// let unbounded = ClientConfig::builder("pcsk_example").total_timeout(None).build();
        /// assert_eq!(unbounded.total_timeout(), None);
        /// ```
        total_timeout(total: impl Into<Option<Duration>>) => config.total_timeout = total.into();

        /// The largest answer read into memory, in bytes, for every call but
        /// `context`, `chat`, `chat_completions` and `evaluate_alignment`. A larger
        /// answer fails the call with [`Error::BodyTooLarge`]. Defaults to 64 MiB
        /// ([`DEFAULT_BODY_LIMIT`]).
        body_limit(bytes: u64) => config.body_limit = bytes;

        /// The largest answer of `context`, `chat`, `chat_completions` and
        /// `evaluate_alignment` read into memory, in bytes (context answers can carry
        /// images). A larger answer fails the call with [`Error::BodyTooLarge`].
        /// Defaults to 1 GiB ([`DEFAULT_GENERATION_BODY_LIMIT`]).
        generation_body_limit(bytes: u64) => config.generation_body_limit = bytes;

        /// The largest single event of a stream, in bytes; a larger one stops the
        /// stream with [`Error::Stream`]. Defaults to 16 MiB
        /// ([`DEFAULT_STREAM_EVENT_LIMIT`]).
        stream_event_limit(bytes: u64) => config.stream_event_limit = bytes;

        /// Calls `observer` on every [`Event`](crate::observe::Event) of the client:
        /// requests, responses, retries, wait polls, stream ends and final errors.
        /// See [`observe`](crate::observe). Defaults to none.
        ///
        /// ```
        /// use pinecone_assistant::ClientConfig;
        /// use pinecone_assistant::observe::Event;
        /// let config = ClientConfig::builder("pcsk_example")
        ///     .observer(|event: &Event<'_>| eprintln!("{event:?}"))
        ///     .build();
        /// # let _ = config;
        /// ```
        observer(observer: impl Observer + 'static) => config.observer = Some(Hook(Arc::new(observer)));
    }
}

/// Lower-cases, keeps `[a-z0-9_ :]`, then turns spaces into `_` (no trimming).
pub(crate) fn normalize_source_tag(tag: &str) -> String {
    tag.to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | ' ' | ':'))
        .map(|c| if c == ' ' { '_' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_tags() {
        assert_eq!(normalize_source_tag("My Tag!"), "my_tag");
        assert_eq!(normalize_source_tag(" My Tag!:v2 "), "_my_tag:v2_");
        assert_eq!(normalize_source_tag("Ünïcode"), "ncode");
    }

    #[test]
    fn key_checks_never_echo_the_key() {
        for bad in ["", " lead", "trail\t", "new\nline", "nül"] {
            let err = ClientConfig::builder(bad).build().validate().unwrap_err();
            let text = err.to_string();
            assert!(text.contains("api_key"), "{text}");
            if bad.len() > 2 {
                assert!(!text.contains(bad.trim()), "{text}");
            }
        }
        ClientConfig::builder("pcsk_ab cd")
            .build()
            .validate()
            .unwrap();
    }

    #[test]
    fn debug_hides_secrets() {
        let config = ClientConfig::builder("sekrit-key")
            .proxy("http://user:pw@proxy:3128")
            .header("X-Token", "hidden-value")
            .build();
        let text = format!("{config:?}");
        assert!(
            !text.contains("sekrit-key") && !text.contains("pw@") && !text.contains("hidden-value"),
            "{text}"
        );
        assert!(text.contains("http://***@proxy:3128"));
        assert!(
            text.contains(r#"additional_headers: ["X-Token"]"#),
            "{text}"
        );
    }

    #[test]
    fn framing_headers_cannot_be_overridden() {
        for name in [
            "Content-Type",
            "content-length",
            "Transfer-Encoding",
            "HOST",
        ] {
            let err = ClientConfig::builder("k")
                .header(name, "x")
                .build()
                .validate()
                .unwrap_err();
            assert!(err.to_string().contains(name), "{err}");
        }
    }

    #[test]
    fn headers_replace_ignoring_case() {
        let config = ClientConfig::builder("k")
            .header("X-A", "1")
            .header("x-a", "2")
            .build();
        assert_eq!(
            config.additional_headers(),
            vec![("x-a".to_owned(), "2".to_owned())]
        );
    }

    #[test]
    fn evaluation_hosts() {
        let base = |b: ClientConfigBuilder| b.build().evaluation_base();
        assert_eq!(base(ClientConfig::builder("k")), EVALUATION_HOST_US);
        assert_eq!(
            base(ClientConfig::builder("k").evaluation_region(EvaluationRegion::Eu)),
            EVALUATION_HOST_EU
        );
        assert_eq!(
            base(ClientConfig::builder("k").evaluation_host("http://127.0.0.1:9/")),
            "http://127.0.0.1:9"
        );
        assert_eq!(
            base(ClientConfig::builder("k").evaluation_host("https://eval.example/assistant/")),
            "https://eval.example"
        );
    }

    #[test]
    fn a_trailing_assistant_is_dropped_from_hosts() {
        for (given, kept) in [
            (
                "https://api.pinecone.io/assistant",
                "https://api.pinecone.io",
            ),
            ("api.pinecone.io/assistant/", "https://api.pinecone.io"),
            ("http://127.0.0.1:8080/assistant", "http://127.0.0.1:8080"),
            (
                "https://gw.example/pinecone/assistant",
                "https://gw.example/pinecone",
            ),
            (
                "https://gw.example/assistants",
                "https://gw.example/assistants",
            ),
            (
                "https://gw.example/my-assistant",
                "https://gw.example/my-assistant",
            ),
        ] {
            let config = ClientConfig::builder("k").host(given).build();
            assert_eq!(config.host(), kept, "{given}");
            config.validate().unwrap();
        }
    }

    #[test]
    fn unusable_hosts_are_refused_naming_the_setting() {
        let refused =
            |b: ClientConfigBuilder, name: &str, says: &str| match b.clone().build().validate() {
                Err(Error::InvalidArgument { name: n, reason }) => {
                    assert_eq!(n, name);
                    assert!(reason.contains(says), "{reason}");
                }
                other => panic!("{:?}: {other:?}", b.build().host()),
            };
        let host = |h: &str| ClientConfig::builder("k").host(h);
        refused(host("not a url with spaces"), "host", "not a valid URL");
        refused(host("ftp://x"), "host", "\"ftp://\" is not supported");
        refused(host("https://"), "host", "is empty");
        refused(host("https://:443"), "host", "");
        refused(host("https://h.example?x=1"), "host", "has a query");
        refused(host("https://me:pw@h.example"), "host", "credentials");
        let text = host("https://me:pw@h.example")
            .build()
            .validate()
            .unwrap_err();
        assert!(!text.to_string().contains("pw"), "{text}");
        let eval = |h: &str| ClientConfig::builder("k").evaluation_host(h);
        refused(eval("ws://eval.example"), "evaluation_host", "\"ws://\"");
        refused(eval(""), "evaluation_host", "is empty");
        refused(eval("eval example"), "evaluation_host", "not a valid URL");
        for fine in [
            "localhost:8080",
            "http://[::1]:9",
            "https://h.example/p/q",
            "h.example",
        ] {
            host(fine).build().validate().unwrap();
        }
    }
}
