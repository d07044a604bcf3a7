//! Client configuration: credentials, hosts, timeouts, TLS, proxy, retries, polling.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::{Error, Result};
use crate::http::retry::RetryPolicy;
use crate::http::url::normalize_host;
use crate::testing::Sleeper;

/// The control-plane host used unless another is configured.
pub const DEFAULT_HOST: &str = "https://api.pinecone.io";
/// The API version sent on every request unless another is configured.
pub const DEFAULT_API_VERSION: &str = "2026-07";
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
#[derive(Clone)]
pub struct ClientConfig {
    api_key: ApiKey,
    host: String,
    api_version: String,
    timeout: Duration,
    additional_headers: Vec<(String, String)>,
    source_tag: String,
    proxy: Option<String>,
    ca_bundle: Option<PathBuf>,
    accept_invalid_certs: bool,
    pool_size: usize,
    retry: RetryPolicy,
    create_poll_interval: Duration,
    operation_poll_interval: Duration,
    chat_read_timeout: Duration,
    evaluation_region: EvaluationRegion,
    evaluation_host: Option<String>,
    sleeper: Option<Sleeper>,
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Header values may hold credentials too, so only their names are shown.
        let header_names: Vec<&str> = self
            .additional_headers
            .iter()
            .map(|(k, _)| k.as_str())
            .collect();
        f.debug_struct("ClientConfig")
            .field("api_key", &self.api_key)
            .field("host", &self.host)
            .field("api_version", &self.api_version)
            .field("timeout", &self.timeout)
            .field("additional_headers", &header_names)
            .field("source_tag", &self.source_tag)
            .field("proxy", &self.proxy.as_ref().map(|p| redact_userinfo(p)))
            .field("ca_bundle", &self.ca_bundle)
            .field("accept_invalid_certs", &self.accept_invalid_certs)
            .field("pool_size", &self.pool_size)
            .field("retry", &self.retry)
            .field("create_poll_interval", &self.create_poll_interval)
            .field("operation_poll_interval", &self.operation_poll_interval)
            .field("chat_read_timeout", &self.chat_read_timeout)
            .field("evaluation_region", &self.evaluation_region)
            .field("evaluation_host", &self.evaluation_host)
            .field("sleeper", &self.sleeper.as_ref().map(|_| "custom"))
            .finish()
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
                additional_headers: Vec::new(),
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
    /// [`Error::InvalidArgument`] when `PINECONE_API_KEY` is unset or empty.
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

    /// The control-plane host, normalised (scheme present, no trailing `/`); see
    /// [`ClientConfigBuilder::host`].
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The `X-Pinecone-Api-Version` value; see [`ClientConfigBuilder::api_version`].
    pub fn api_version(&self) -> &str {
        &self.api_version
    }

    /// The connect timeout and the longest silence while writing or reading (not a
    /// whole-request deadline); see [`ClientConfigBuilder::timeout`].
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Headers sent on every request, in the order set; see
    /// [`ClientConfigBuilder::header`].
    pub fn additional_headers(&self) -> &[(String, String)] {
        &self.additional_headers
    }

    /// The normalised tag appended to the `User-Agent` (empty for none); see
    /// [`ClientConfigBuilder::source_tag`].
    pub fn source_tag(&self) -> &str {
        &self.source_tag
    }

    /// The proxy URL every request goes through, if any; see
    /// [`ClientConfigBuilder::proxy`]. It may hold credentials: do not log it.
    pub fn proxy(&self) -> Option<&str> {
        self.proxy.as_deref()
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

    /// The interval between polls while an assistant is being created; see
    /// [`ClientConfigBuilder::create_poll_interval`].
    pub fn create_poll_interval(&self) -> Duration {
        self.create_poll_interval
    }

    /// The interval between polls while an assistant is deleted or a file operation
    /// runs; see [`ClientConfigBuilder::operation_poll_interval`].
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

    /// The sleeper replacing real sleeping, set through
    /// [`testing::TestHooks`](crate::testing::TestHooks).
    pub(crate) fn sleeper(&self) -> Option<&Sleeper> {
        self.sleeper.as_ref()
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
        for (name, value) in &self.additional_headers {
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
            Some(h) => normalize_host(h),
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
    /// The control-plane host: a bare host gets `https://`, `http://` is kept (for a
    /// local emulator), a path is kept. Defaults to `https://api.pinecone.io`.
    pub fn host(mut self, host: impl AsRef<str>) -> Self {
        self.config.host = normalize_host(host.as_ref());
        self
    }

    /// The API version header value. Defaults to `2026-07`, the only version this
    /// crate's models describe.
    pub fn api_version(mut self, version: impl Into<String>) -> Self {
        self.config.api_version = version.into();
        self
    }

    /// The connect timeout and the longest silence allowed while writing or reading
    /// (not a whole-request deadline). Defaults to 30 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.config.timeout = timeout;
        self
    }

    /// Adds a header to every request; a name equal to a built-in header (ignoring
    /// case) replaces it, a repeated name replaces the earlier value. Defaults to none.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let name = name.into();
        self.config
            .additional_headers
            .retain(|(k, _)| !k.eq_ignore_ascii_case(&name));
        self.config.additional_headers.push((name, value.into()));
        self
    }

    /// A tag appended to the `User-Agent` as ` source_tag=…` so Pinecone can
    /// attribute traffic; lower-cased, characters outside `a-z 0-9 _ : space`
    /// dropped, spaces turned into `_`. Defaults to none.
    pub fn source_tag(mut self, tag: impl AsRef<str>) -> Self {
        self.config.source_tag = normalize_source_tag(tag.as_ref());
        self
    }

    /// Sends every request through this proxy: `http://host:port` (CONNECT
    /// tunnel) or `https://host:port` (TLS to the proxy), with credentials as
    /// `http://user:password@host:port` (percent-encode `@` and `:` in them).
    /// Custom proxy headers are not supported. The standard `HTTP_PROXY` /
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
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.config.proxy = Some(url.into());
        self
    }

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
    pub fn ca_bundle(mut self, path: impl Into<PathBuf>) -> Self {
        self.config.ca_bundle = Some(path.into());
        self
    }

    /// Turns off certificate and host-name verification on every connection. Only for
    /// local testing against a self-signed server. Defaults to `false`.
    pub fn accept_invalid_certs(mut self, accept: bool) -> Self {
        self.config.accept_invalid_certs = accept;
        self
    }

    /// Idle keep-alive connections kept for reuse; 0 means max(5 × CPUs, 20).
    /// Defaults to 0.
    pub fn pool_size(mut self, size: usize) -> Self {
        self.config.pool_size = size;
        self
    }

    /// The retry policy. Defaults to [`RetryPolicy::default`].
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.config.retry = policy;
        self
    }

    /// Interval between polls while waiting for a new assistant. Defaults to 0.5 s.
    pub fn create_poll_interval(mut self, interval: Duration) -> Self {
        self.config.create_poll_interval = interval;
        self
    }

    /// Interval between polls while waiting for a deletion or a file operation.
    /// Defaults to 5 s.
    pub fn operation_poll_interval(mut self, interval: Duration) -> Self {
        self.config.operation_poll_interval = interval;
        self
    }

    /// The least idle timeout of chat calls: the completions stream can be silent for
    /// minutes while the model thinks. Defaults to 300 s.
    pub fn chat_read_timeout(mut self, timeout: Duration) -> Self {
        self.config.chat_read_timeout = timeout;
        self
    }

    /// Where alignment evaluation runs. Defaults to [`EvaluationRegion::Us`].
    pub fn evaluation_region(mut self, region: EvaluationRegion) -> Self {
        self.config.evaluation_region = region;
        self
    }

    /// An evaluation host replacing the region's (normalised like `host`). Defaults
    /// to the region's host.
    pub fn evaluation_host(mut self, host: impl Into<String>) -> Self {
        self.config.evaluation_host = Some(host.into());
        self
    }

    /// Sets the test sleeper; reached through [`testing::TestHooks`](crate::testing::TestHooks).
    pub(crate) fn set_sleeper(mut self, sleeper: Sleeper) -> Self {
        self.config.sleeper = Some(sleeper);
        self
    }

    /// The finished configuration.
    pub fn build(mut self) -> ClientConfig {
        if self.config.additional_headers.is_empty() {
            if let Some(headers) = self.env_headers.take() {
                for (name, value) in headers {
                    self = self.header(name, value);
                }
            }
        }
        self.config
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
            config.additional_headers,
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
    }
}
