//! `pinecone_client`: construction, configuration and the control plane
//! (create, describe, list, update, delete assistants; alignment evaluation);
//! `pinecone_cancel`: stopping calls from another thread.

use std::collections::BTreeMap;
use std::ffi::{c_char, c_int};
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use super::boundary::{
    FfiError, guard, guard_void, handle, json_arg, opt_json_arg, out, parse_json, str_arg, wait_arg,
};
use super::error::pinecone_result;
use super::paginator::{ListArgs, pinecone_paginator};
use crate::models::{CreateAssistantRequest, ListOptions, UpdateAssistantRequest};
use crate::{CancelHandle, Client, ClientConfig, EvaluationRegion, RetryPolicy};

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

/// Every setting of `options_json`, as in `ClientConfig`, with durations in ms.
#[derive(Deserialize, Default)]
struct ClientOptions {
    host: Option<String>,
    api_version: Option<String>,
    timeout_ms: Option<u64>,
    additional_headers: Option<BTreeMap<String, String>>,
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
}

const OPTION_KEYS: [&str; 17] = [
    "host",
    "api_version",
    "timeout_ms",
    "additional_headers",
    "source_tag",
    "proxy",
    "ca_bundle",
    "accept_invalid_certs",
    "pool_size",
    "max_retries",
    "retry_base_delay_ms",
    "retry_max_delay_ms",
    "create_poll_interval_ms",
    "operation_poll_interval_ms",
    "chat_read_timeout_ms",
    "evaluation_region",
    "evaluation_host",
];

/// Builds the configuration from `options_json`; unknown keys are refused so a
/// misspelt setting is never silently ignored.
fn config_from_options(api_key: &str, text: Option<&str>) -> Result<ClientConfig, FfiError> {
    let mut builder = ClientConfig::builder(api_key);
    let Some(text) = text else {
        return Ok(builder.build());
    };
    let map: serde_json::Map<String, Value> = parse_json(text, "options_json")?;
    if let Some(key) = map.keys().find(|k| !OPTION_KEYS.contains(&k.as_str())) {
        return Err(FfiError::invalid(
            "options_json",
            format!(
                "unknown setting \"{key}\"; known settings: {}",
                OPTION_KEYS.join(", ")
            ),
        ));
    }
    let o: ClientOptions = serde_path_to_error::deserialize(Value::Object(map)).map_err(|e| {
        super::boundary::json_error("options_json", &e.path().to_string(), e.inner())
    })?;
    let ms = Duration::from_millis;
    if let Some(v) = o.host {
        builder = builder.host(v);
    }
    if let Some(v) = o.api_version {
        builder = builder.api_version(v);
    }
    if let Some(v) = o.timeout_ms {
        builder = builder.timeout(ms(v));
    }
    for (name, value) in o.additional_headers.unwrap_or_default() {
        builder = builder.header(name, value);
    }
    if let Some(v) = o.source_tag {
        builder = builder.source_tag(v);
    }
    if let Some(v) = o.proxy {
        builder = builder.proxy(v);
    }
    if let Some(v) = o.ca_bundle {
        builder = builder.ca_bundle(v);
    }
    if let Some(v) = o.accept_invalid_certs {
        builder = builder.accept_invalid_certs(v);
    }
    if let Some(v) = o.pool_size {
        builder = builder.pool_size(v);
    }
    let mut retry = RetryPolicy::default();
    if let Some(v) = o.max_retries {
        retry = retry.max_retries(v);
    }
    if let Some(v) = o.retry_base_delay_ms {
        retry = retry.base_delay(ms(v));
    }
    if let Some(v) = o.retry_max_delay_ms {
        retry = retry.max_delay(ms(v));
    }
    builder = builder.retry(retry);
    if let Some(v) = o.create_poll_interval_ms {
        builder = builder.create_poll_interval(ms(v));
    }
    if let Some(v) = o.operation_poll_interval_ms {
        builder = builder.operation_poll_interval(ms(v));
    }
    if let Some(v) = o.chat_read_timeout_ms {
        builder = builder.chat_read_timeout(ms(v));
    }
    if let Some(v) = o.evaluation_region {
        builder = builder.evaluation_region(match v.as_str() {
            "us" => EvaluationRegion::Us,
            "eu" => EvaluationRegion::Eu,
            other => {
                return Err(FfiError::invalid(
                    "options_json",
                    format!("evaluation_region \"{other}\" is not \"us\" or \"eu\""),
                ));
            }
        });
    }
    if let Some(v) = o.evaluation_host {
        builder = builder.evaluation_host(v);
    }
    Ok(builder.build())
}

/// Creates a client.
///
/// - `api_key`: required, borrowed for the call (copied).
/// - `options_json`: NULL for the defaults, or a JSON object with any of these
///   settings: `host` (control-plane host, default `https://api.pinecone.io`;
///   `http://` is kept for local servers), `api_version` (default `"2026-07"`),
///   `timeout_ms` (connect / idle read / write timeout, default 30000),
///   `additional_headers` (object of string values sent on every request),
///   `source_tag`, `proxy` (`http://user:pass@host:port`), `ca_bundle` (PEM file
///   or directory), `accept_invalid_certs` (bool), `pool_size`, `max_retries`
///   (default 3), `retry_base_delay_ms` (500), `retry_max_delay_ms` (30000),
///   `create_poll_interval_ms` (500), `operation_poll_interval_ms` (5000),
///   `chat_read_timeout_ms` (300000), `evaluation_region` (`"us"` or `"eu"`),
///   `evaluation_host`. Nothing is read from the environment.
/// - `client_out`: receives the new client, to be freed with
///   `pinecone_client_free`; set to NULL first and on failure.
///
/// Returns `PINECONE_RESULT_OK`; `PINECONE_RESULT_NULL_ARGUMENT` (`api_key`,
/// `client_out`); `PINECONE_RESULT_INVALID_UTF8`; `PINECONE_RESULT_INVALID_JSON`
/// (malformed options, wrong type); `PINECONE_RESULT_INVALID_ARGUMENT` (unknown
/// setting, bad key, proxy, CA bundle, header, zero timeout). Sends nothing.
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
    guard(|| {
        // SAFETY: writable or NULL per the contract.
        let client_out = unsafe { out(client_out, "client_out") }?;
        // SAFETY: NUL-terminated or NULL per the contract.
        let api_key = unsafe { str_arg(api_key, "api_key") }?;
        // SAFETY: as above.
        let options = unsafe { super::boundary::opt_str_arg(options_json, "options_json") }?;
        let config = config_from_options(api_key, options)?;
        let client = Client::new(config)?;
        client_out.set_box(pinecone_client { inner: client });
        Ok(())
    })
}

/// Creates a client from the environment: `PINECONE_API_KEY` (required),
/// `PINECONE_CONTROLLER_HOST` and `PINECONE_ADDITIONAL_HEADERS` (a JSON object).
///
/// `client_out` receives the client (free with `pinecone_client_free`); it is set
/// to NULL first and stays NULL on failure. Returns `PINECONE_RESULT_OK`,
/// `PINECONE_RESULT_NULL_ARGUMENT` or `PINECONE_RESULT_INVALID_ARGUMENT` (no or
/// bad key).
///
/// # Safety
///
/// `client_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_client_from_env(
    client_out: *mut *mut pinecone_client,
) -> pinecone_result {
    guard(|| {
        // SAFETY: writable or NULL per the contract.
        let client_out = unsafe { out(client_out, "client_out") }?;
        client_out.set_box(pinecone_client {
            inner: Client::from_env()?,
        });
        Ok(())
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
    if client.is_null() {
        return;
    }
    guard_void(|| {
        // SAFETY: made by `Box::into_raw` here and freed once, per the contract.
        drop(unsafe { Box::from_raw(client) });
    });
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
    guard(|| {
        // SAFETY: writable or NULL per the contract.
        let client_out = unsafe { out(client_out, "client_out") }?;
        // SAFETY: live handles or NULL per the contract.
        let client = unsafe { handle(client, "client") }?;
        // SAFETY: as above.
        let cancel = unsafe { handle(cancel, "cancel") }?;
        client_out.set_box(pinecone_client {
            inner: client.inner.with_cancel_handle(cancel.inner.clone()),
        });
        Ok(())
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
    guard(|| {
        // SAFETY: writable or NULL per the contract.
        let cancel_out = unsafe { out(cancel_out, "cancel_out") }?;
        cancel_out.set_box(pinecone_cancel {
            inner: CancelHandle::new(),
        });
        Ok(())
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
    if cancel.is_null() {
        return;
    }
    guard_void(|| {
        // SAFETY: made by `Box::into_raw` here and freed once, per the contract.
        drop(unsafe { Box::from_raw(cancel) });
    });
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
    guard(|| {
        // SAFETY: writable or NULL per the contract.
        let json_out = unsafe { out(json_out, "json_out") }?;
        // SAFETY: live or NULL per the contract.
        let client = unsafe { handle(client, "client") }?;
        // SAFETY: NUL-terminated or NULL per the contract.
        let request: CreateAssistantRequest = unsafe { json_arg(request_json, "request_json") }?;
        let wait = wait_arg(wait_mode, timeout_ms)?;
        let created = client.inner.create_assistant(request, wait)?;
        json_out.set_json(&created)
    })
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
    guard(|| {
        // SAFETY: writable or NULL per the contract.
        let json_out = unsafe { out(json_out, "json_out") }?;
        // SAFETY: live or NULL per the contract.
        let client = unsafe { handle(client, "client") }?;
        // SAFETY: NUL-terminated or NULL per the contract.
        let name = unsafe { str_arg(name, "name") }?;
        json_out.set_json(&client.inner.describe_assistant(name)?)
    })
}

/// The query of a one-page list call, with the wire names.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct PageArgs {
    /// Items per page.
    pub(crate) limit: Option<u32>,
    /// Where to continue.
    pub(crate) pagination_token: Option<String>,
}

impl PageArgs {
    pub(crate) fn options(&self) -> ListOptions {
        let mut o = ListOptions::new();
        if let Some(n) = self.limit {
            o = o.page_size(n);
        }
        if let Some(t) = &self.pagination_token {
            o = o.pagination_token(t.clone());
        }
        o
    }
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
    guard(|| {
        // SAFETY: writable or NULL per the contract.
        let json_out = unsafe { out(json_out, "json_out") }?;
        // SAFETY: live or NULL per the contract.
        let client = unsafe { handle(client, "client") }?;
        // SAFETY: NUL-terminated or NULL per the contract.
        let args: PageArgs = unsafe { opt_json_arg(options_json, "options_json") }?;
        json_out.set_json(&client.inner.list_assistants_page(args.options())?)
    })
}

/// A paginator over every assistant, fetching pages as `pinecone_paginator_next`
/// advances (nothing is sent before the first call).
///
/// `options_json`: NULL, or `{"limit": <page size>, "pagination_token": "<start>",
/// "skip": <items of that page to pass over>, "max_items": <stop after this many>}`
/// (`pinecone_paginator_resume_point` gives the token and skip that resume a walk). `paginator_out` receives the paginator
/// (free with `pinecone_paginator_free`; NULL first and on failure); it keeps its
/// own reference to the client. Returns `PINECONE_RESULT_OK`, `_NULL_ARGUMENT`,
/// `_INVALID_UTF8`, `_INVALID_JSON`. Thread-safe (the paginator itself is not).
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
    guard(|| {
        // SAFETY: writable or NULL per the contract.
        let paginator_out = unsafe { out(paginator_out, "paginator_out") }?;
        // SAFETY: live or NULL per the contract.
        let client = unsafe { handle(client, "client") }?;
        // SAFETY: NUL-terminated or NULL per the contract.
        let args: ListArgs = unsafe { opt_json_arg(options_json, "options_json") }?;
        paginator_out.set_box(args.walk(client.inner.list_assistants()));
        Ok(())
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
    guard(|| {
        // SAFETY: writable or NULL per the contract.
        let json_out = unsafe { out(json_out, "json_out") }?;
        // SAFETY: live or NULL per the contract.
        let client = unsafe { handle(client, "client") }?;
        // SAFETY: NUL-terminated or NULL per the contract.
        let name = unsafe { str_arg(name, "name") }?;
        // SAFETY: as above.
        let request: UpdateAssistantRequest = unsafe { json_arg(request_json, "request_json") }?;
        json_out.set_json(&client.inner.update_assistant(name, request)?)
    })
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
    guard(|| {
        // SAFETY: live or NULL per the contract.
        let client = unsafe { handle(client, "client") }?;
        // SAFETY: NUL-terminated or NULL per the contract.
        let name = unsafe { str_arg(name, "name") }?;
        let wait = wait_arg(wait_mode, timeout_ms)?;
        client.inner.delete_assistant(name, wait)?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_setting_is_read() {
        let c = config_from_options(
            "k",
            Some(
                r#"{"host":"http://127.0.0.1:9","api_version":"2026-04","timeout_ms":1500,
                "additional_headers":{"X-A":"1"},"source_tag":"My App","proxy":"http://p:1",
                "ca_bundle":"/tmp/ca.pem","accept_invalid_certs":true,"pool_size":4,
                "max_retries":7,"retry_base_delay_ms":2,"retry_max_delay_ms":3,
                "create_poll_interval_ms":4,"operation_poll_interval_ms":5,
                "chat_read_timeout_ms":6,"evaluation_region":"eu","evaluation_host":"http://e"}"#,
            ),
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
    }

    #[test]
    fn unknown_and_mistyped_settings_are_named() {
        let e = config_from_options("k", Some(r#"{"hots":"x"}"#))
            .err()
            .unwrap();
        assert_eq!(e.code, pinecone_result::InvalidArgument);
        assert!(e.message.contains("\"hots\""), "{}", e.message);
        let e = config_from_options("k", Some(r#"{"timeout_ms":"soon"}"#))
            .err()
            .unwrap();
        assert_eq!(e.code, pinecone_result::InvalidJson);
        assert!(e.message.contains("`timeout_ms`"), "{}", e.message);
        let e = config_from_options("k", Some(r#"{"evaluation_region":"ap"}"#))
            .err()
            .unwrap();
        assert_eq!(e.code, pinecone_result::InvalidArgument);
        let e = config_from_options("k", Some("[1]")).err().unwrap();
        assert_eq!(e.code, pinecone_result::InvalidJson);
    }
}
