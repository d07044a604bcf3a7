//! `pinecone_client`: construction, configuration and the control plane
//! (create, describe, list, update, delete assistants; alignment evaluation);
//! `pinecone_cancel`: stopping calls from another thread.

use std::collections::BTreeMap;
use std::ffi::{c_char, c_int};
use std::time::Duration;

use ::pinecone_assistant::{
    CancelHandle, Client, ClientConfig, ClientConfigBuilder, EvaluationRegion, PollSchedule,
    RetryPolicy,
};
use serde::Deserialize;

use crate::args::wait;
use crate::boundary::{FfiError, free_box, guard_void};
use crate::error::pinecone_result;
use crate::paginator::{WalkOptions, pinecone_paginator};

/// A client: connection pool, configuration and the cache of data-plane hosts.
///
/// Thread-safe: one client may be used from many threads at once.
pub struct pinecone_client {
    pub(crate) inner: Client,
}

/// A cancel handle: stops every call made through a client bound to it
/// (`pinecone_client_with_cancel`), from any thread.
///
/// Thread-safe. Once cancelled it stays cancelled.
pub struct pinecone_cancel {
    inner: CancelHandle,
}

/// How an operation that starts server-side work waits for it. Pass the value as
/// the `int wait_mode` argument.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum pinecone_wait {
    /// Return as soon as the server accepted the request (`timeout_ms` ignored).
    No = 0,
    /// Poll until the work finishes or fails (`timeout_ms` ignored).
    Forever = 1,
    /// Poll until the work finishes or fails, or `timeout_ms` milliseconds pass;
    /// then `PINECONE_RESULT_WAIT_TIMEOUT` (the work goes on at the server).
    For = 2,
}

/// Every setting of `options_json`: the `ClientConfig` builder's settings, with
/// durations in milliseconds. Unknown keys are refused, so a misspelt setting is
/// never silently ignored.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ClientOptions {
    host: Option<String>,
    api_version: Option<String>,
    timeout_ms: Option<u64>,
    #[serde(default)]
    additional_headers: BTreeMap<String, String>,
    source_tag: Option<String>,
    proxy: Option<String>,
    ca_bundle: Option<String>,
    accept_invalid_certs: Option<bool>,
    pool_size: Option<usize>,
    max_retries: Option<u32>,
    retry_base_delay_ms: Option<u64>,
    retry_max_delay_ms: Option<u64>,
    create_poll_interval_ms: Option<u64>,
    operation_poll_interval_ms: Option<u64>,
    chat_read_timeout_ms: Option<u64>,
    evaluation_region: Option<String>,
    evaluation_host: Option<String>,
    poll_schedule: Option<String>,
    poll_first_delay_ms: Option<u64>,
    total_timeout_ms: Option<u64>,
    body_limit: Option<u64>,
    generation_body_limit: Option<u64>,
    stream_event_limit: Option<u64>,
}

/// The configuration `options` describe for `api_key`.
fn config(api_key: &str, o: ClientOptions) -> Result<ClientConfig, FfiError> {
    type B = ClientConfigBuilder;
    let ms = |v: Option<u64>| v.map(Duration::from_millis);
    let region = o.evaluation_region.map(|r| region(&r)).transpose()?;
    let schedule = poll_schedule(o.poll_schedule.as_deref(), ms(o.poll_first_delay_ms))?;
    let mut retry = RetryPolicy::default();
    retry = set(retry, o.max_retries, RetryPolicy::max_retries);
    retry = set(retry, ms(o.retry_base_delay_ms), RetryPolicy::base_delay);
    retry = set(retry, ms(o.retry_max_delay_ms), RetryPolicy::max_delay);
    let mut b = ClientConfig::builder(api_key).retry(retry);
    b = set(b, o.host, B::host);
    b = set(b, o.api_version, B::api_version);
    b = set(b, ms(o.timeout_ms), B::timeout);
    b = set(b, o.source_tag, B::source_tag);
    b = set(b, o.proxy, B::proxy);
    b = set(b, o.ca_bundle, B::ca_bundle);
    b = set(b, o.accept_invalid_certs, B::accept_invalid_certs);
    b = set(b, o.pool_size, B::pool_size);
    b = set(b, ms(o.create_poll_interval_ms), B::create_poll_interval);
    b = set(
        b,
        ms(o.operation_poll_interval_ms),
        B::operation_poll_interval,
    );
    b = set(b, ms(o.chat_read_timeout_ms), B::chat_read_timeout);
    b = set(b, region, B::evaluation_region);
    b = set(b, o.evaluation_host, B::evaluation_host);
    b = set(b, schedule, B::poll_schedule);
    b = set(b, o.total_timeout_ms.map(total_bound), B::total_timeout);
    b = set(b, o.body_limit, B::body_limit);
    b = set(b, o.generation_body_limit, B::generation_body_limit);
    b = set(b, o.stream_event_limit, B::stream_event_limit);
    for (name, value) in o.additional_headers {
        b = b.header(name, value);
    }
    Ok(b.build())
}

/// `setter(builder, value)` when a value was given, else `builder` unchanged.
pub(crate) fn set<B, T>(builder: B, value: Option<T>, setter: impl FnOnce(B, T) -> B) -> B {
    match value {
        Some(value) => setter(builder, value),
        None => builder,
    }
}

/// A total bound in milliseconds from C, where 0 means none.
pub(crate) fn total_bound(ms: u64) -> Option<Duration> {
    (ms != 0).then(|| Duration::from_millis(ms))
}

fn region(name: &str) -> Result<EvaluationRegion, FfiError> {
    match name {
        "us" => Ok(EvaluationRegion::Us),
        "eu" => Ok(EvaluationRegion::Eu),
        other => Err(FfiError::invalid(
            "options_json",
            format!("evaluation_region \"{other}\" is not \"us\" or \"eu\""),
        )),
    }
}

/// The schedule `poll_schedule` and `poll_first_delay_ms` name, if they name one.
fn poll_schedule(
    name: Option<&str>,
    first: Option<Duration>,
) -> Result<Option<PollSchedule>, FfiError> {
    let first_or_default = first.unwrap_or(PollSchedule::DEFAULT_FIRST);
    match (name, first) {
        (None, None) => Ok(None),
        (None | Some("adaptive"), _) => Ok(Some(PollSchedule::adaptive(first_or_default))),
        (Some("fixed"), None) => Ok(Some(PollSchedule::Fixed)),
        (Some("fixed"), Some(_)) => Err(FfiError::invalid(
            "options_json",
            "poll_first_delay_ms applies to the \"adaptive\" poll_schedule, not to \"fixed\"",
        )),
        (Some(other), _) => Err(FfiError::invalid(
            "options_json",
            format!("poll_schedule \"{other}\" is not \"adaptive\" or \"fixed\""),
        )),
    }
}

/// Creates a client.
///
/// - `api_key`: required, borrowed for the call (copied).
/// - `options_json`: NULL for the defaults, or a JSON object with any of these
///   settings: `host` (control-plane host, default `https://api.pinecone.io`;
///   `http://` is kept for local servers; a trailing `/assistant` is dropped), `api_version` (default `"2026-07"`),
///   `timeout_ms` (connect / idle read / write timeout, default 30000),
///   `additional_headers` (object of string values sent on every request),
///   `source_tag`, `proxy` (`http://user:pass@host:port`, `https://…`,
///   `socks5://…`, `socks5h://…`, `socks4://…`, `socks4a://…`), `ca_bundle` (PEM file
///   or directory), `accept_invalid_certs` (bool), `pool_size`, `max_retries`
///   (default 3), `retry_base_delay_ms` (500), `retry_max_delay_ms` (30000),
///   `create_poll_interval_ms` (500) and `operation_poll_interval_ms` (5000), the
///   longest delays between the polls of a wait, `chat_read_timeout_ms`
///   (300000), `evaluation_region` (`"us"` or `"eu"`), `evaluation_host`,
///   `poll_schedule` (`"adaptive"`, the default: the first poll
///   `poll_first_delay_ms` (250) after the request was accepted, then each delay
///   twice the time waited so far, up to the interval; or `"fixed"`: a poll at
///   once, then one every interval), `total_timeout_ms` (the longest a whole call
///   may take, retries and the reading of the answer included; default 600000, 0
///   for no bound; streams are not bounded by it, see
///   `pinecone_assistant_chat_stream`), `body_limit` (the largest answer read, in
///   bytes, default 67108864), `generation_body_limit` (the same for context, chat
///   and evaluation answers, default 1073741824), `stream_event_limit` (the
///   largest stream event, default 16777216). Nothing is read from the
///   environment.
/// - `client_out`: receives the new client, to be freed with
///   `pinecone_client_free`; set to NULL first and on failure.
///
/// Returns `PINECONE_RESULT_OK`; `PINECONE_RESULT_NULL_ARGUMENT` (`api_key`,
/// `client_out`); `PINECONE_RESULT_INVALID_UTF8`; `PINECONE_RESULT_INVALID_JSON`
/// (malformed options, wrong type); `PINECONE_RESULT_INVALID_ARGUMENT` (unknown
/// setting, bad key, host or evaluation host that is not an http(s) URL, proxy
/// of an unknown scheme, CA bundle, header, zero timeout, interval or limit,
/// unknown poll schedule). Sends nothing.
///
/// # Safety
///
/// String arguments are NULL or NUL-terminated; `client_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_client_new(
    api_key: *const c_char,
    options_json: *const c_char,
    client_out: *mut *mut pinecone_client,
) -> pinecone_result {
    ffi_call!(client_out => handle, pinecone_client {
        inner: Client::new(config(arg!(api_key: str), arg!(options_json: opt_json))?)?,
    })
}

/// Creates a client from the environment: `PINECONE_API_KEY` (required),
/// `PINECONE_CONTROLLER_HOST` and `PINECONE_ADDITIONAL_HEADERS` (a JSON object).
///
/// `client_out` receives the client (free with `pinecone_client_free`); it is set
/// to NULL first and stays NULL on failure. Returns `PINECONE_RESULT_OK`,
/// `PINECONE_RESULT_NULL_ARGUMENT` or `PINECONE_RESULT_INVALID_ARGUMENT` (no or
/// bad key, a `PINECONE_CONTROLLER_HOST` that is not an http(s) URL; the error
/// names the variable).
///
/// # Safety
///
/// `client_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_client_from_env(
    client_out: *mut *mut pinecone_client,
) -> pinecone_result {
    ffi_call!(client_out => handle, pinecone_client {
        inner: {
            // Checked here so that the advice names the C function, not the Rust
            // builder that Client::from_env's own error suggests.
            if std::env::var_os("PINECONE_API_KEY").is_none_or(|k| k.is_empty()) {
                return Err(FfiError::invalid(
                    "PINECONE_API_KEY",
                    "is not set; export it, or pass the key to pinecone_client_new",
                ));
            }
            Client::from_env()?
        },
    })
}

/// Frees a client. NULL does nothing. Assistants, paginators and streams made from
/// it keep working: they hold their own reference to the shared state.
///
/// # Safety
///
/// `client` is NULL or a client from this library not yet freed, and no other
/// thread is using it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_client_free(client: *mut pinecone_client) {
    // SAFETY: forwarded contract.
    unsafe { free_box(client) }
}

/// Makes a client that shares `client`'s connections and host cache but whose
/// every call (waits, retries, streams, uploads) stops with
/// `PINECONE_RESULT_CANCELLED` once `cancel` is cancelled. Assistants made from
/// the new client obey `cancel` too.
///
/// `client` and `cancel` are borrowed; the new client keeps its own reference to
/// the cancel state, so `cancel` may be freed first. `client_out` receives a
/// client to free with `pinecone_client_free` (NULL first and on failure).
/// Returns `PINECONE_RESULT_OK` or `PINECONE_RESULT_NULL_ARGUMENT`. Thread-safe.
///
/// # Safety
///
/// `client` and `cancel` are NULL or live handles; `client_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_client_with_cancel(
    client: *const pinecone_client,
    cancel: *const pinecone_cancel,
    client_out: *mut *mut pinecone_client,
) -> pinecone_result {
    ffi_call!(client_out => handle, pinecone_client {
        inner: arg!(client: handle)
            .inner
            .with_cancel_handle(arg!(cancel: handle).inner.clone()),
    })
}

/// Makes a client that shares `client`'s connections, host cache, cancel handle
/// and observer but bounds each call by `total_timeout_ms` milliseconds (0 for no
/// bound) instead of the `total_timeout_ms` it was created with: connecting,
/// every attempt, the pauses between retries and reading the answer. A call that
/// passes it returns `PINECONE_RESULT_TIMEOUT`. Assistants made from the new
/// client carry the bound too.
///
/// `client` is borrowed. `client_out` receives a client to free with
/// `pinecone_client_free` (NULL first and on failure). Returns
/// `PINECONE_RESULT_OK` or `PINECONE_RESULT_NULL_ARGUMENT`. Thread-safe.
///
/// # Safety
///
/// `client` is NULL or a live handle; `client_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_client_with_total_timeout(
    client: *const pinecone_client,
    total_timeout_ms: u64,
    client_out: *mut *mut pinecone_client,
) -> pinecone_result {
    ffi_call!(client_out => handle, pinecone_client {
        inner: arg!(client: handle)
            .inner
            .with_total_timeout(total_bound(total_timeout_ms)),
    })
}

/// Creates a cancel handle (not cancelled). `cancel_out` receives it (NULL first
/// and on failure); free it with `pinecone_cancel_free`. Returns
/// `PINECONE_RESULT_OK` or `PINECONE_RESULT_NULL_ARGUMENT`.
///
/// # Safety
///
/// `cancel_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_cancel_new(
    cancel_out: *mut *mut pinecone_cancel,
) -> pinecone_result {
    ffi_call!(cancel_out => handle, pinecone_cancel {
        inner: CancelHandle::new(),
    })
}

/// Cancels: every call running or started later through a client bound to this
/// handle returns `PINECONE_RESULT_CANCELLED` promptly (sleeps wake, blocked
/// stream reads end). NULL does nothing. Callable from any thread, at any time,
/// also while another thread is inside a call; it does not touch the last error.
///
/// # Safety
///
/// `cancel` is NULL or a live cancel handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_cancel_cancel(cancel: *const pinecone_cancel) {
    guard_void(|| {
        // SAFETY: NULL or a live handle per the contract.
        if let Some(cancel) = unsafe { cancel.as_ref() } {
            cancel.inner.cancel();
        }
    });
}

/// 1 if `cancel` was cancelled, 0 if not or if `cancel` is NULL. Thread-safe.
///
/// # Safety
///
/// `cancel` is NULL or a live cancel handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_cancel_is_cancelled(cancel: *const pinecone_cancel) -> c_int {
    // SAFETY: NULL or a live handle per the contract.
    unsafe { cancel.as_ref() }.map_or(0, |c| c_int::from(c.inner.is_cancelled()))
}

/// Frees a cancel handle. NULL does nothing. Clients bound to it keep obeying
/// the shared cancel state.
///
/// # Safety
///
/// `cancel` is NULL or a cancel handle not yet freed, not in use by another thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_cancel_free(cancel: *mut pinecone_cancel) {
    // SAFETY: forwarded contract.
    unsafe { free_box(cancel) }
}

/// Creates an assistant (`POST /assistants`) and waits as `wait_mode` says
/// (`pinecone_wait`; `timeout_ms` is used with `PINECONE_WAIT_FOR`).
///
/// - `request_json`: required, e.g. `{"name":"docs","instructions":"...",
///   "region":"us","metadata":{...}}` (only `name` is required).
/// - `json_out`: receives the assistant as JSON - the create answer with
///   `PINECONE_WAIT_NO`, else the description that showed it `Ready`. Free it
///   with `pinecone_string_free`. NULL first and on failure.
///
/// Returns `PINECONE_RESULT_OK`, `_NULL_ARGUMENT`, `_INVALID_UTF8`,
/// `_INVALID_JSON`, `_INVALID_ARGUMENT` (empty name, bad wait mode), `_API_ERROR`
/// (e.g. 409/429 name in use), `_ASSISTANT_FAILED`, `_WAIT_TIMEOUT`, `_TIMEOUT`,
/// `_TRANSPORT`, `_DECODE`, `_CANCELLED`. Thread-safe.
///
/// # Safety
///
/// `client` is NULL or live; strings are NULL or NUL-terminated; `json_out` is
/// NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_client_create_assistant(
    client: *const pinecone_client,
    request_json: *const c_char,
    wait_mode: c_int,
    timeout_ms: u64,
    json_out: *mut *mut c_char,
) -> pinecone_result {
    ffi_call!(json_out => json, arg!(client: handle).inner.create_assistant(
        arg!(request_json: json),
        wait(wait_mode, timeout_ms)?
    )?)
}

/// Describes the assistant called `name` (`GET /assistants/{name}`).
///
/// `name` is borrowed for the call. `json_out` receives the assistant as JSON
/// (free with `pinecone_string_free`; NULL first and on failure). Returns
/// `PINECONE_RESULT_OK`, `_NULL_ARGUMENT`, `_INVALID_UTF8`, `_INVALID_ARGUMENT`
/// (empty name), `_NOT_FOUND`, `_API_ERROR`, `_TIMEOUT`, `_TRANSPORT`, `_DECODE`,
/// `_CANCELLED`. Thread-safe.
///
/// # Safety
///
/// As `pinecone_client_create_assistant`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_client_describe_assistant(
    client: *const pinecone_client,
    name: *const c_char,
    json_out: *mut *mut c_char,
) -> pinecone_result {
    ffi_call!(json_out => json, arg!(client: handle).inner.describe_assistant(arg!(name: str))?)
}

/// One page of assistants (`GET /assistants`).
///
/// `options_json`: NULL, or `{"limit": <page size >= 1>, "pagination_token": "..."}`.
/// `json_out` receives the page as JSON, `{"assistants":[...],"pagination":{"next":"..."}}`
/// (`pagination` absent on the last page); free it with `pinecone_string_free`.
/// Returns `PINECONE_RESULT_OK`, `_NULL_ARGUMENT`, `_INVALID_UTF8`, `_INVALID_JSON`
/// (also for unknown keys), `_INVALID_ARGUMENT` (limit 0), `_API_ERROR`,
/// `_TIMEOUT`, `_TRANSPORT`, `_DECODE`, `_CANCELLED`. Thread-safe.
///
/// # Safety
///
/// As `pinecone_client_create_assistant`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_client_list_assistants_page(
    client: *const pinecone_client,
    options_json: *const c_char,
    json_out: *mut *mut c_char,
) -> pinecone_result {
    ffi_call!(json_out => json, arg!(client: handle)
        .inner
        .list_assistants_page(arg!(options_json: opt_json))?)
}

/// A paginator over every assistant, fetching pages as `pinecone_paginator_next`
/// advances (nothing is sent before the first call).
///
/// `options_json`: NULL, or `{"limit": <page size>, "pagination_token": "<start>",
/// "skip": <items of that page to pass over>, "max_items": <stop after this many>}`
/// (`pinecone_paginator_resume_point` gives the token and skip that resume a walk). `paginator_out` receives the paginator
/// (free with `pinecone_paginator_free`; NULL first and on failure); it keeps its
/// own reference to the client. Returns `PINECONE_RESULT_OK`, `_NULL_ARGUMENT`,
/// `_INVALID_UTF8`, `_INVALID_JSON`, `_INVALID_ARGUMENT` (limit 0: refused here,
/// nothing is sent). Thread-safe (the paginator itself is not).
///
/// # Safety
///
/// As `pinecone_client_create_assistant`, with `paginator_out` writable or NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_client_list_assistants(
    client: *const pinecone_client,
    options_json: *const c_char,
    paginator_out: *mut *mut pinecone_paginator,
) -> pinecone_result {
    ffi_call!(paginator_out => handle, {
        let client = arg!(client: handle);
        let (options, walk): (_, WalkOptions) = arg!(options_json: split);
        walk.start(client.inner.list_assistants_with(options)?)
    })
}

/// Replaces an assistant's instructions and/or metadata (`PATCH /assistants/{name}`).
///
/// `request_json`: `{"instructions":"..."}`, `{"metadata":{...}}` or both (metadata is
/// replaced whole). `json_out` receives the updated assistant as JSON (free with
/// `pinecone_string_free`). Returns `PINECONE_RESULT_OK`, `_NULL_ARGUMENT`,
/// `_INVALID_UTF8`, `_INVALID_JSON`, `_INVALID_ARGUMENT` (nothing set, empty name),
/// `_NOT_FOUND`, `_API_ERROR`, `_TIMEOUT`, `_TRANSPORT`, `_DECODE`, `_CANCELLED`.
/// Thread-safe.
///
/// # Safety
///
/// As `pinecone_client_create_assistant`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_client_update_assistant(
    client: *const pinecone_client,
    name: *const c_char,
    request_json: *const c_char,
    json_out: *mut *mut c_char,
) -> pinecone_result {
    ffi_call!(json_out => json, arg!(client: handle)
        .inner
        .update_assistant(arg!(name: str), arg!(request_json: json))?)
}

/// Deletes an assistant (`DELETE /assistants/{name}`) and waits as `wait_mode`
/// says until it is gone.
///
/// `name` is borrowed for the call. Returns `PINECONE_RESULT_OK`, `_NULL_ARGUMENT`,
/// `_INVALID_UTF8`, `_INVALID_ARGUMENT`, `_NOT_FOUND`, `_API_ERROR`,
/// `_ASSISTANT_FAILED`, `_WAIT_TIMEOUT`, `_TIMEOUT`, `_TRANSPORT`, `_CANCELLED`.
/// Thread-safe.
///
/// # Safety
///
/// `client` is NULL or live; `name` is NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_client_delete_assistant(
    client: *const pinecone_client,
    name: *const c_char,
    wait_mode: c_int,
    timeout_ms: u64,
) -> pinecone_result {
    ffi_call!(
        arg!(client: handle)
            .inner
            .delete_assistant(arg!(name: str), wait(wait_mode, timeout_ms)?)?
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::parse_json;

    fn config_from(text: &str) -> Result<ClientConfig, FfiError> {
        config("k", parse_json(text, "options_json")?)
    }

    #[test]
    fn every_setting_is_read() {
        let c = config_from(
            r#"{"host":"http://127.0.0.1:9","api_version":"2026-04","timeout_ms":1500,
                "additional_headers":{"X-A":"1"},"source_tag":"My App","proxy":"http://p:1",
                "ca_bundle":"/tmp/ca.pem","accept_invalid_certs":true,"pool_size":4,
                "max_retries":7,"retry_base_delay_ms":2,"retry_max_delay_ms":3,
                "create_poll_interval_ms":4,"operation_poll_interval_ms":5,
                "chat_read_timeout_ms":6,"evaluation_region":"eu","evaluation_host":"http://e",
                "poll_schedule":"adaptive","poll_first_delay_ms":7,
                "total_timeout_ms":7,"body_limit":8,"generation_body_limit":9,
                "stream_event_limit":10}"#,
        )
        .unwrap();
        assert_eq!(c.host(), "http://127.0.0.1:9");
        assert_eq!(c.api_version(), "2026-04");
        assert_eq!(c.timeout(), Duration::from_millis(1500));
        assert_eq!(c.additional_headers(), vec![("X-A".into(), "1".into())]);
        assert_eq!(c.source_tag(), "my_app");
        assert_eq!(c.proxy(), Some("http://p:1"));
        assert_eq!(c.ca_bundle(), Some(std::path::Path::new("/tmp/ca.pem")));
        assert!(c.accept_invalid_certs());
        assert_eq!(c.pool_size(), 4);
        assert_eq!(c.retry().max_retries, 7);
        assert_eq!(c.retry().base_delay, Duration::from_millis(2));
        assert_eq!(c.retry().max_delay, Duration::from_millis(3));
        assert_eq!(c.create_poll_interval(), Duration::from_millis(4));
        assert_eq!(c.operation_poll_interval(), Duration::from_millis(5));
        assert_eq!(c.chat_read_timeout(), Duration::from_millis(6));
        assert_eq!(c.evaluation_region(), EvaluationRegion::Eu);
        assert_eq!(c.evaluation_host(), Some("http://e"));
        assert_eq!(
            c.poll_schedule(),
            PollSchedule::adaptive(Duration::from_millis(7))
        );
        assert_eq!(c.total_timeout(), Some(Duration::from_millis(7)));
        assert_eq!(c.body_limit(), 8);
        assert_eq!(c.generation_body_limit(), 9);
        assert_eq!(c.stream_event_limit(), 10);
        let unbounded = config_from(r#"{"total_timeout_ms":0}"#).unwrap();
        assert_eq!(unbounded.total_timeout(), None);
        let default = config_from("{}").unwrap();
        assert_eq!(
            default.total_timeout(),
            Some(::pinecone_assistant::DEFAULT_TOTAL_TIMEOUT)
        );
    }

    #[test]
    fn poll_schedules() {
        let schedule = |text: &str| config_from(text).map(|c| c.poll_schedule());
        assert_eq!(schedule("{}").unwrap(), PollSchedule::default());
        assert_eq!(
            schedule(r#"{"poll_schedule":"fixed"}"#).unwrap(),
            PollSchedule::Fixed
        );
        assert_eq!(
            schedule(r#"{"poll_first_delay_ms":100}"#).unwrap(),
            PollSchedule::adaptive(Duration::from_millis(100))
        );
        for bad in [
            r#"{"poll_schedule":"fixed","poll_first_delay_ms":100}"#,
            r#"{"poll_schedule":"steady"}"#,
        ] {
            let e = schedule(bad).err().unwrap();
            assert_eq!(e.code, pinecone_result::InvalidArgument, "{bad}");
            assert!(e.message.contains("poll_"), "{}", e.message);
        }
    }

    #[test]
    fn unknown_and_mistyped_settings_are_named() {
        // Unknown keys are bad JSON for the call, as in every other JSON argument.
        let e = config_from(r#"{"hots":"x"}"#).err().unwrap();
        assert_eq!(e.code, pinecone_result::InvalidJson);
        assert!(e.message.contains("`hots`"), "{}", e.message);
        assert!(
            e.message.contains("`host`"),
            "lists the known settings: {}",
            e.message
        );
        let e = config_from(r#"{"timeout_ms":"soon"}"#).err().unwrap();
        assert_eq!(e.code, pinecone_result::InvalidJson);
        assert!(e.message.contains("`timeout_ms`"), "{}", e.message);
        let e = config_from(r#"{"evaluation_region":"ap"}"#).err().unwrap();
        assert_eq!(e.code, pinecone_result::InvalidArgument);
        let e = config_from("[1]").err().unwrap();
        assert_eq!(e.code, pinecone_result::InvalidJson);
    }
}
