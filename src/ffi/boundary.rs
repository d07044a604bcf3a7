//! The boundary: panic guard, argument checks and output writers.
//!
//! Every export runs its body in [`guard`], which clears the thread's last error,
//! turns an `Err` into a result code plus last error, and a panic into
//! `PINECONE_RESULT_PANIC` - nothing unwinds into C.

use std::any::Any;
use std::ffi::{CStr, CString, c_char, c_int};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr;
use std::sync::{Mutex, MutexGuard, TryLockError};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::client::pinecone_wait;
use super::error::{clear_last_error, pinecone_result, set_last_error};
use crate::{Error, Wait};

/// A failure on its way to C: the code, the message and the HTTP status (or 0).
#[derive(Debug)]
pub(crate) struct FfiError {
    pub(crate) code: pinecone_result,
    pub(crate) message: String,
    pub(crate) status: u16,
    /// Machine-readable details for `pinecone_last_error_json`.
    pub(crate) extra: Map<String, Value>,
}

impl FfiError {
    pub(crate) fn new(code: pinecone_result, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            status: 0,
            extra: Map::new(),
        }
    }

    /// Names the argument at fault in the details.
    fn argument(mut self, name: &str) -> Self {
        self.extra.insert("argument".into(), name.into());
        self
    }

    pub(crate) fn null(name: &str) -> Self {
        Self::new(
            pinecone_result::NullArgument,
            format!("`{name}` is NULL; pass a valid pointer"),
        )
        .argument(name)
    }

    pub(crate) fn invalid(name: &str, reason: impl std::fmt::Display) -> Self {
        Self::new(
            pinecone_result::InvalidArgument,
            format!("invalid argument `{name}`: {reason}"),
        )
        .argument(name)
    }

    pub(crate) fn aborted(what: &str) -> Self {
        Self::new(
            pinecone_result::Aborted,
            format!("{what} returned non-zero; stopped"),
        )
    }
}

impl From<Error> for FfiError {
    fn from(error: Error) -> Self {
        let mut extra = Map::new();
        let mut put = |key: &str, value: Value| {
            if !value.is_null() {
                extra.insert(key.into(), value);
            }
        };
        match &error {
            Error::NotFound(api) | Error::Api(api) => {
                put("error_code", api.code.clone().into());
                put("request_id", api.request_id.clone().into());
                put(
                    "retry_after_ms",
                    api.retry_after
                        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
                        .into(),
                );
                put("details", api.details.clone().unwrap_or(Value::Null));
                put("body", api.body.clone().unwrap_or(Value::Null));
            }
            Error::InvalidArgument { name, .. } => put("argument", name.clone().into()),
            Error::WaitTimeout {
                waited,
                last_status,
                operation_id,
                percent_complete,
                ..
            } => {
                put(
                    "waited_ms",
                    u64::try_from(waited.as_millis()).unwrap_or(u64::MAX).into(),
                );
                put("last_status", last_status.clone().into());
                put("operation_id", operation_id.clone().into());
                put("percent_complete", (*percent_complete).into());
            }
            Error::OperationFailed { operation_id, .. } => {
                put("operation_id", operation_id.clone().into());
            }
            Error::AssistantFailed { name, status, .. } => {
                put("assistant", name.clone().into());
                put("assistant_status", status.clone().into());
            }
            _ => {}
        }
        Self {
            code: pinecone_result::of(&error),
            message: error.to_string(),
            status: error.status().unwrap_or(0),
            extra,
        }
    }
}

/// Runs an export's body: clears the last error, catches panics, and records the
/// failure of an `Err`.
pub(crate) fn guard(body: impl FnOnce() -> Result<(), FfiError>) -> pinecone_result {
    clear_last_error();
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => pinecone_result::Ok,
        Ok(Err(e)) => {
            set_last_error(e.code, &e.message, e.status, e.extra);
            e.code
        }
        Err(payload) => {
            let message = panic_message(payload.as_ref());
            // A payload whose own drop panics must not unwind into C either.
            let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
            set_last_error(pinecone_result::Panic, &message, 0, Map::new());
            pinecone_result::Panic
        }
    }
}

/// Runs an infallible export (`_free`, cancel): a panic is swallowed, because
/// such functions have no way to report it and must not unwind into C.
pub(crate) fn guard_void(body: impl FnOnce()) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(body)) {
        let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    let text = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("unknown cause");
    format!("internal error (a bug in pinecone-assistant; please report it): {text}")
}

/// A required string argument.
///
/// # Safety
///
/// `ptr` is NULL or points to a NUL-terminated string that stays valid and
/// unchanged for `'a`.
pub(crate) unsafe fn str_arg<'a>(ptr: *const c_char, name: &str) -> Result<&'a str, FfiError> {
    if ptr.is_null() {
        return Err(FfiError::null(name));
    }
    // SAFETY: not NULL; the caller guarantees a NUL-terminated string alive for 'a.
    let bytes = unsafe { CStr::from_ptr(ptr) };
    bytes.to_str().map_err(|e| {
        FfiError::new(
            pinecone_result::InvalidUtf8,
            format!(
                "`{name}` is not valid UTF-8 (bad byte at offset {})",
                e.valid_up_to()
            ),
        )
        .argument(name)
    })
}

/// An optional string argument: NULL gives `None`.
///
/// # Safety
///
/// As [`str_arg`].
pub(crate) unsafe fn opt_str_arg<'a>(
    ptr: *const c_char,
    name: &str,
) -> Result<Option<&'a str>, FfiError> {
    if ptr.is_null() {
        Ok(None)
    } else {
        // SAFETY: forwarded contract.
        unsafe { str_arg(ptr, name) }.map(Some)
    }
}

/// A required JSON argument decoded into `T`.
///
/// # Safety
///
/// As [`str_arg`].
pub(crate) unsafe fn json_arg<T: DeserializeOwned>(
    ptr: *const c_char,
    name: &str,
) -> Result<T, FfiError> {
    // SAFETY: forwarded contract.
    let text = unsafe { str_arg(ptr, name) }?;
    parse_json(text, name)
}

/// A request that carries a per-call timeout outside its wire body.
pub(crate) trait CallTimeout {
    fn with_call_timeout(self, timeout: Duration) -> Self;
}

impl CallTimeout for crate::models::ChatRequest {
    fn with_call_timeout(self, timeout: Duration) -> Self {
        self.timeout(timeout)
    }
}

impl CallTimeout for crate::models::ChatCompletionRequest {
    fn with_call_timeout(self, timeout: Duration) -> Self {
        self.timeout(timeout)
    }
}

/// A chat request argument: the wire JSON, plus an optional `timeout_ms` key (the
/// longest silence this one call accepts), which the wire body does not carry.
///
/// # Safety
///
/// As [`str_arg`].
pub(crate) unsafe fn chat_request_arg<T: DeserializeOwned + CallTimeout>(
    ptr: *const c_char,
    name: &str,
) -> Result<T, FfiError> {
    // SAFETY: forwarded contract.
    let text = unsafe { str_arg(ptr, name) }?;
    let mut value: Value = parse_json(text, name)?;
    // `stream` is set by the function called, `timeout_ms` is not a wire key:
    // neither belongs to the request body, which refuses unknown keys.
    let timeout_ms = value.as_object_mut().and_then(|body| {
        body.remove("stream");
        body.remove("timeout_ms")
    });
    let request: T = serde_path_to_error::deserialize(value)
        .map_err(|e| json_error(name, &e.path().to_string(), e.inner()))?;
    match timeout_ms {
        None | Some(Value::Null) => Ok(request),
        Some(ms) => match ms.as_u64() {
            Some(0) => Err(FfiError::new(
                pinecone_result::InvalidArgument,
                format!("`{name}`: timeout_ms must be at least 1; leave it out for the default"),
            )
            .argument(name)),
            Some(ms) => Ok(request.with_call_timeout(Duration::from_millis(ms))),
            None => Err(json_error(
                name,
                "timeout_ms",
                &"expected a whole number of milliseconds",
            )),
        },
    }
}

/// An optional JSON argument: NULL gives `T::default()`.
///
/// # Safety
///
/// As [`str_arg`].
pub(crate) unsafe fn opt_json_arg<T: DeserializeOwned + Default>(
    ptr: *const c_char,
    name: &str,
) -> Result<T, FfiError> {
    // SAFETY: forwarded contract.
    match unsafe { opt_str_arg(ptr, name) }? {
        Some(text) => parse_json(text, name),
        None => Ok(T::default()),
    }
}

/// Decodes `text`, naming the argument and the path of the field at fault.
pub(crate) fn parse_json<T: DeserializeOwned>(text: &str, name: &str) -> Result<T, FfiError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut de)
        .map_err(|e| json_error(name, &e.path().to_string(), e.inner()))?;
    de.end().map_err(|e| json_error(name, "", &e))?;
    Ok(value)
}

pub(crate) fn json_error(name: &str, path: &str, inner: &dyn std::fmt::Display) -> FfiError {
    let at = if path.is_empty() || path == "." {
        String::new()
    } else {
        format!(" at `{path}`")
    };
    let mut error = FfiError::new(
        pinecone_result::InvalidJson,
        format!("`{name}` is not valid JSON for this call{at}: {inner}"),
    )
    .argument(name);
    if !at.is_empty() {
        error.extra.insert("field".into(), path.into());
    }
    error
}

/// A shared handle argument.
///
/// # Safety
///
/// `ptr` is NULL or a live handle of type `T` made by this library, not being
/// freed concurrently.
pub(crate) unsafe fn handle<'a, T>(ptr: *const T, name: &str) -> Result<&'a T, FfiError> {
    // SAFETY: NULL-checked by `as_ref`; otherwise a live handle per the contract.
    unsafe { ptr.as_ref() }.ok_or_else(|| FfiError::null(name))
}

/// The state of a one-thread-at-a-time handle (paginator, stream), taken without
/// waiting: a call that re-enters the handle from one of its own callbacks, or a
/// second thread using it at the same time, gets an error instead of a deadlock.
pub(crate) fn exclusive<'a, T>(
    state: &'a Mutex<T>,
    name: &str,
) -> Result<MutexGuard<'a, T>, FfiError> {
    match state.try_lock() {
        Ok(guard) => Ok(guard),
        // A panic inside an earlier call may have left the walk half-advanced:
        // refuse to go on rather than silently cut it short.
        Err(TryLockError::Poisoned(_)) => Err(FfiError::new(
            pinecone_result::Panic,
            format!(
                "`{name}` is unusable after an internal error in an earlier call; free it \
                 and start again"
            ),
        )),
        Err(TryLockError::WouldBlock) => Err(FfiError::invalid(
            name,
            "is in use by another call (re-entered from a callback, or used by two \
             threads at once); use it from one thread at a time",
        )),
    }
}

/// A pointer output: checked, reset to NULL, written once on success.
pub(crate) struct Out<T> {
    slot: *mut *mut T,
}

/// Checks a pointer output and sets it to NULL.
///
/// # Safety
///
/// `slot` is NULL or valid for writing one pointer for the whole call.
pub(crate) unsafe fn out<T>(slot: *mut *mut T, name: &str) -> Result<Out<T>, FfiError> {
    if slot.is_null() {
        return Err(FfiError::null(name));
    }
    // SAFETY: not NULL and writable per the contract.
    unsafe { slot.write(ptr::null_mut()) };
    Ok(Out { slot })
}

impl<T> Out<T> {
    /// Writes the result (the last step of a successful call).
    pub(crate) fn set(self, value: *mut T) {
        // SAFETY: `out` checked the slot, whose validity the caller of `out` promised
        // for the whole call.
        unsafe { self.slot.write(value) };
    }

    /// Hands a new handle to C.
    pub(crate) fn set_box(self, value: T) {
        self.set(Box::into_raw(Box::new(value)));
    }
}

impl Out<c_char> {
    /// Hands an owned string to C (freed with `pinecone_string_free`).
    pub(crate) fn set_string(self, text: String) -> Result<(), FfiError> {
        let c = to_cstring(text)?;
        self.set(c.into_raw());
        Ok(())
    }

    /// Hands `value` to C as compact JSON.
    pub(crate) fn set_json(self, value: &impl serde::Serialize) -> Result<(), FfiError> {
        self.set_string(to_json(value)?)
    }
}

/// Compact JSON text of `value`.
pub(crate) fn to_json(value: &impl serde::Serialize) -> Result<String, FfiError> {
    serde_json::to_string(value).map_err(|e| {
        FfiError::new(
            pinecone_result::Decode,
            format!("could not encode the result as JSON: {e}"),
        )
    })
}

/// A C string, refusing (not truncating) text with an interior NUL. JSON text
/// never has one: serde_json escapes it as `\u0000`.
pub(crate) fn to_cstring(text: String) -> Result<CString, FfiError> {
    CString::new(text).map_err(|e| {
        FfiError::new(
            pinecone_result::Decode,
            format!(
                "the result holds a NUL byte at offset {}, which a C string cannot carry",
                e.nul_position()
            ),
        )
    })
}

/// The C wait mode constants, mirrored by `pinecone_wait` in the header.
pub(crate) fn wait_arg(mode: c_int, timeout_ms: u64) -> Result<Wait, FfiError> {
    const NO: c_int = pinecone_wait::No as c_int;
    const FOREVER: c_int = pinecone_wait::Forever as c_int;
    const FOR: c_int = pinecone_wait::For as c_int;
    match mode {
        NO => Ok(Wait::No),
        FOREVER => Ok(Wait::Forever),
        FOR => Ok(Wait::For(Duration::from_millis(timeout_ms))),
        other => Err(FfiError::invalid(
            "wait_mode",
            format!(
                "{other} is not PINECONE_WAIT_NO (0), PINECONE_WAIT_FOREVER (1) or PINECONE_WAIT_FOR (2)"
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_requests_take_a_per_call_timeout_outside_the_wire_body() {
        use crate::models::{ChatCompletionRequest, ChatRequest};
        let text =
            CString::new(r#"{"messages":[{"role":"user","content":"hi"}],"timeout_ms":300}"#)
                .unwrap();
        // SAFETY: a live NUL-terminated string.
        let chat: ChatRequest = unsafe { chat_request_arg(text.as_ptr(), "request_json") }.unwrap();
        assert_eq!(chat.timeout, Some(Duration::from_millis(300)));
        // SAFETY: as above.
        let completions: ChatCompletionRequest =
            unsafe { chat_request_arg(text.as_ptr(), "request_json") }.unwrap();
        assert_eq!(completions.timeout, Some(Duration::from_millis(300)));

        let plain = CString::new(r#"{"messages":[]}"#).unwrap();
        // SAFETY: as above.
        let chat: ChatRequest =
            unsafe { chat_request_arg(plain.as_ptr(), "request_json") }.unwrap();
        assert_eq!(chat.timeout, None);

        let zero = CString::new(r#"{"messages":[],"timeout_ms":0}"#).unwrap();
        // SAFETY: as above.
        let err =
            unsafe { chat_request_arg::<ChatRequest>(zero.as_ptr(), "request_json") }.unwrap_err();
        assert_eq!(err.code, pinecone_result::InvalidArgument);
        let stream_key = CString::new(r#"{"messages":[],"stream":true}"#).unwrap();
        // SAFETY: as above.
        let _ = unsafe { chat_request_arg::<ChatRequest>(stream_key.as_ptr(), "request_json") }
            .unwrap();
        let typo = CString::new(r#"{"messages":[],"temprature":0.2}"#).unwrap();
        // SAFETY: as above.
        let err =
            unsafe { chat_request_arg::<ChatRequest>(typo.as_ptr(), "request_json") }.unwrap_err();
        assert_eq!(err.code, pinecone_result::InvalidJson);
        assert!(err.message.contains("temprature"), "{}", err.message);
        let text_ms = CString::new(r#"{"messages":[],"timeout_ms":"soon"}"#).unwrap();
        // SAFETY: as above.
        let err = unsafe { chat_request_arg::<ChatRequest>(text_ms.as_ptr(), "request_json") }
            .unwrap_err();
        assert_eq!(err.code, pinecone_result::InvalidJson);
        assert!(err.message.contains("timeout_ms"), "{}", err.message);
    }

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)] // Fields exist to be decoded.
    struct Probe {
        name: String,
        items: Vec<Item>,
    }

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Item {
        n: u32,
    }

    #[test]
    fn json_errors_name_the_argument_and_field() {
        let e = parse_json::<Probe>(
            r#"{"name":"a","items":[{"n":1},{"n":"x"}]}"#,
            "request_json",
        )
        .unwrap_err();
        assert_eq!(e.code, pinecone_result::InvalidJson);
        assert!(e.message.contains("`request_json`"), "{}", e.message);
        assert!(e.message.contains("`items[1].n`"), "{}", e.message);
        let e = parse_json::<Probe>(r#"{"items":[]}"#, "request_json").unwrap_err();
        assert!(e.message.contains("missing field `name`"), "{}", e.message);
        let e = parse_json::<Probe>(r#"{"name":"a","items":[]} x"#, "r").unwrap_err();
        assert!(e.message.contains("trailing characters"), "{}", e.message);
        let e = parse_json::<Probe>(r#"{"name":"a""#, "r").unwrap_err();
        assert_eq!(e.code, pinecone_result::InvalidJson);
    }

    #[test]
    fn a_panic_becomes_a_code_and_a_message() {
        let code = guard(|| panic!("boom"));
        assert_eq!(code, pinecone_result::Panic);
        // SAFETY: never NULL, valid until the next fallible call on this thread.
        let msg = unsafe { CStr::from_ptr(super::super::error::pinecone_last_error_message()) };
        assert!(msg.to_str().unwrap().contains("boom"));
        assert_eq!(guard(|| Ok(())), pinecone_result::Ok);
        // SAFETY: as above.
        let msg = unsafe { CStr::from_ptr(super::super::error::pinecone_last_error_message()) };
        assert!(msg.to_bytes().is_empty());
    }

    #[test]
    fn wait_modes() {
        assert_eq!(wait_arg(0, 5).unwrap(), Wait::No);
        assert_eq!(wait_arg(1, 5).unwrap(), Wait::Forever);
        assert_eq!(wait_arg(2, 5).unwrap(), Wait::For(Duration::from_millis(5)));
        let e = wait_arg(3, 0).unwrap_err();
        assert_eq!(e.code, pinecone_result::InvalidArgument);
        assert!(e.message.contains("wait_mode"));
    }
}
