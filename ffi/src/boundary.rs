//! The boundary: the shape of every export, the panic guard and the output
//! writers.
//!
//! Every fallible export is one [`ffi_call!`] whose body reads its arguments with
//! [`arg!`]: the output is checked and reset first, the body runs behind
//! [`guard`] (which clears the thread's last error, turns an `Err` into a result
//! code plus last error, and a panic into `PINECONE_RESULT_PANIC`), and the
//! output is written only when the body succeeded. Nothing unwinds into C.

use std::any::Any;
use std::ffi::{CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr;

use ::pinecone_assistant::Error;
use serde_json::{Map, Value};

use crate::error::{clear_last_error, pinecone_result, set_last_error};

/// The body of a fallible export, by what it hands back to C:
///
/// - `ffi_call!(json_out => json, value)`: `value` is serialized into
///   `char **json_out` as compact JSON;
/// - `ffi_call!(text_out => text, value)`: `value` is an `Option<String>`; `Some`
///   is written as an owned string, `None` leaves NULL (the end of a walk);
/// - `ffi_call!(x_out => handle, value)`: `value` is boxed into `T **x_out`;
/// - `ffi_call!(value)`: `value` is `()`.
///
/// `value` is an expression that fails with `?` (an argument read by [`arg!`],
/// a library call); the failure becomes the result code and the thread's last
/// error. The output is checked for NULL and set to NULL before `value` is
/// computed (so a NULL output is reported before any other argument, and
/// `goto cleanup` code may free it whatever happened), and everything runs
/// behind [`guard`].
macro_rules! ffi_call {
    ($out:ident => json, $value:expr) => {
        $crate::boundary::guard(|| {
            let out = out_param!($out);
            out.set_json(&$value)
        })
    };
    ($out:ident => text, $value:expr) => {
        $crate::boundary::guard(|| {
            let out = out_param!($out);
            match $value {
                Some(text) => out.set_string(text),
                None => Ok(()),
            }
        })
    };
    ($out:ident => handle, $value:expr) => {
        $crate::boundary::guard(|| {
            let out = out_param!($out);
            out.set_box($value);
            Ok(())
        })
    };
    ($value:expr) => {
        $crate::boundary::guard(|| {
            let () = $value;
            Ok(())
        })
    };
}

/// Checks a pointer output parameter and sets it to NULL.
macro_rules! out_param {
    ($out:ident) => {
        // SAFETY: every export's `# Safety` section makes its output parameter NULL
        // or writable for the whole call.
        unsafe { $crate::boundary::out($out, stringify!($out)) }?
    };
}

/// Reads one pointer argument of an export, named after its parameter in every
/// error, or returns the error (NULL, invalid UTF-8, bad JSON):
///
/// - `arg!(p: handle)`: `&T` from `*const T` or `*mut T`;
/// - `arg!(p: str)`: `&str`;
/// - `arg!(p: json)`: a required JSON object decoded into the type asked for;
/// - `arg!(p: opt_json)`: the same, NULL giving the type's default;
/// - `arg!(p: split)`: a JSON object decoded into a pair, the model type and
///   the C-only settings beside its keys (see [`crate::args::split_json`]),
///   NULL giving the defaults of both;
/// - `arg!(p: chat)`: a chat request with its C-only `timeout_ms`;
/// - `arg!(p: callback)`: a callback that must not be NULL;
/// - `arg!(cb: sink, userdata)`: a `pinecone_json_cb` that must not be NULL, with
///   its userdata.
macro_rules! arg {
    ($p:ident: handle) => {
        // SAFETY: every export's `# Safety` section makes each handle argument NULL
        // or a live handle of its type.
        unsafe { $crate::args::handle($p, stringify!($p)) }?
    };
    ($p:ident: callback) => {
        $p.ok_or_else(|| $crate::boundary::FfiError::null(stringify!($p)))?
    };
    ($p:ident: sink, $userdata:ident) => {
        // SAFETY: every export's `# Safety` section makes each callback NULL or a
        // function that does not unwind, and its userdata what it expects.
        unsafe { $crate::exclusive::JsonSink::new($p, $userdata, stringify!($p)) }?
    };
    ($p:ident: $kind:ident) => {
        // SAFETY: every export's `# Safety` section makes each string argument NULL
        // or NUL-terminated and unchanged for the call.
        unsafe { $crate::args::$kind($p, stringify!($p)) }?
    };
}

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
    pub(crate) fn argument(mut self, name: &str) -> Self {
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
        Self::from(&error)
    }
}

impl From<&Error> for FfiError {
    fn from(error: &Error) -> Self {
        let mut extra = Map::new();
        let mut put = |key: &str, value: Value| {
            if !value.is_null() {
                extra.insert(key.into(), value);
            }
        };
        let millis = |d: std::time::Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        match error {
            Error::NotFound(api) | Error::Api(api) => {
                put("error_code", api.code.clone().into());
                put("request_id", api.request_id.clone().into());
                put("retry_after_ms", api.retry_after.map(millis).into());
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
                put("waited_ms", millis(*waited).into());
                put("last_status", last_status.clone().into());
                put("operation_id", operation_id.clone().into());
                put("percent_complete", (*percent_complete).into());
            }
            Error::OperationFailed {
                operation_id,
                operation_type,
                file_id,
                ..
            } => {
                put("operation_id", operation_id.clone().into());
                let kind = operation_type.as_ref().map(|t| t.as_str().to_owned());
                put("operation_type", kind.into());
                put("file_id", file_id.clone().into());
            }
            Error::AssistantFailed { name, status, .. } => {
                put("assistant", name.clone().into());
                put("assistant_status", status.clone().into());
            }
            Error::BodyTooLarge {
                limit,
                seen,
                setting,
                ..
            } => {
                put("limit", (*limit).into());
                put("seen", (*seen).into());
                put("setting", setting.clone().into());
            }
            Error::Timeout(t) | Error::Transport(t) => {
                put("host", t.host().map(str::to_owned).into());
                put("operation", t.operation().map(str::to_owned).into());
            }
            _ => {}
        }
        Self {
            code: pinecone_result::of(error),
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

/// The body of the `_free` of a plain handle (client, assistant, cancel): NULL
/// does nothing.
///
/// # Safety
///
/// `handle` is NULL or made by `Box::into_raw` in this library, not yet freed and
/// not in use by another thread.
pub(crate) unsafe fn free_box<T>(handle: *mut T) {
    if handle.is_null() {
        return;
    }
    guard_void(|| {
        // SAFETY: made by `Box::into_raw` and freed once, per the contract.
        drop(unsafe { Box::from_raw(handle) });
    });
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
    fn set(self, value: *mut T) {
        // SAFETY: `out` checked the slot, whose validity the caller of `out` promised
        // for the whole call.
        unsafe { self.slot.write(value) };
    }

    /// Hands a new handle to C.
    pub(crate) fn set_box(self, value: T) {
        self.set(Box::into_raw(Box::new(value)));
    }
}

/// A lent C string output with its optional length: checked and reset as
/// [`out`] does (the length to 0), written once on success.
pub(crate) struct LentOut {
    out: Out<c_char>,
    len: *mut usize,
}

impl LentOut {
    /// Checks `slot` (a NULL `len` is allowed) and resets both.
    ///
    /// # Safety
    ///
    /// `slot` and `len` are NULL or valid for writing for the whole call.
    pub(crate) unsafe fn new(
        slot: *mut *const c_char,
        name: &str,
        len: *mut usize,
    ) -> Result<Self, FfiError> {
        // `*const` and `*mut` pointers have one layout, and the slot is only
        // written.
        // SAFETY: forwarded contract.
        let out = unsafe { out(slot.cast::<*mut c_char>(), name) }?;
        if !len.is_null() {
            // SAFETY: not NULL and writable per the contract.
            unsafe { len.write(0) };
        }
        Ok(Self { out, len })
    }

    /// Lends `c_string` (NUL-terminated), which must outlive the caller's use.
    pub(crate) fn set(self, c_string: &[u8]) {
        debug_assert_eq!(c_string.last(), Some(&0), "a C string");
        if !self.len.is_null() {
            // SAFETY: not NULL, and writable for the whole call per `new`'s contract.
            unsafe { self.len.write(c_string.len() - 1) };
        }
        self.out.set(c_string.as_ptr().cast_mut().cast());
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
/// never has one: JSON escapes it as `\u0000`.
pub(crate) fn to_cstring(text: String) -> Result<CString, FfiError> {
    let bytes = text.into_bytes();
    check_no_nul(&bytes)?;
    // SAFETY: checked just above: no NUL in `bytes`.
    Ok(unsafe { CString::from_vec_unchecked(bytes) })
}

/// Writes `text` into `buf` as a C string (what `buf` held is replaced),
/// refusing text with an interior NUL as [`to_cstring`] does: the lent outputs
/// and callbacks reuse one buffer instead of allocating a string each time.
pub(crate) fn c_string_into(buf: &mut Vec<u8>, text: &[u8]) -> Result<(), FfiError> {
    check_no_nul(text)?;
    buf.clear();
    buf.extend_from_slice(text);
    buf.push(0);
    Ok(())
}

fn check_no_nul(text: &[u8]) -> Result<(), FfiError> {
    match memchr::memchr(0, text) {
        None => Ok(()),
        Some(at) => Err(FfiError::new(
            pinecone_result::Decode,
            format!("the result holds a NUL byte at offset {at}, which a C string cannot carry"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::CStr;

    use super::*;
    use crate::error::pinecone_last_error_message;

    #[test]
    fn a_panic_becomes_a_code_and_a_message() {
        let code = guard(|| panic!("boom"));
        assert_eq!(code, pinecone_result::Panic);
        // SAFETY: never NULL, valid until the next fallible call on this thread.
        let msg = unsafe { CStr::from_ptr(pinecone_last_error_message()) };
        assert!(msg.to_str().unwrap().contains("boom"));
        assert_eq!(guard(|| Ok(())), pinecone_result::Ok);
        // SAFETY: as above.
        let msg = unsafe { CStr::from_ptr(pinecone_last_error_message()) };
        assert!(msg.to_bytes().is_empty());
    }

    /// An export in each shape: the output is reset before the body runs, left
    /// NULL on failure and written on success.
    #[test]
    fn outputs_are_reset_first_and_written_only_on_success() {
        fn json(out_ptr: *mut *mut c_char, body: Result<u32, FfiError>) -> pinecone_result {
            ffi_call!(out_ptr => json, body?)
        }
        fn text(out_ptr: *mut *mut c_char, body: Option<&str>) -> pinecone_result {
            ffi_call!(out_ptr => text, body.map(str::to_owned))
        }
        fn boxed(out_ptr: *mut *mut u8, body: Result<u8, FfiError>) -> pinecone_result {
            ffi_call!(out_ptr => handle, body?)
        }
        let poison = c"poison".as_ptr().cast_mut();
        let take = |p: *mut c_char| {
            // SAFETY: an owned string made by this library, taken back once.
            unsafe { CString::from_raw(p) }.into_string().unwrap()
        };

        let mut out = poison;
        assert_eq!(json(&mut out, Ok(7)), pinecone_result::Ok);
        assert_eq!(take(out), "7");
        out = poison;
        let failed = json(&mut out, Err(FfiError::invalid("x", "no")));
        assert_eq!(failed, pinecone_result::InvalidArgument);
        assert!(out.is_null());
        assert_eq!(json(ptr::null_mut(), Ok(7)), pinecone_result::NullArgument);
        // SAFETY: never NULL, valid until the next fallible call on this thread.
        let msg = unsafe { CStr::from_ptr(pinecone_last_error_message()) };
        assert!(msg.to_str().unwrap().contains("`out_ptr`"), "{msg:?}");

        out = poison;
        assert_eq!(text(&mut out, Some("piece")), pinecone_result::Ok);
        assert_eq!(take(out), "piece");
        out = poison;
        assert_eq!(text(&mut out, None), pinecone_result::Ok);
        assert!(out.is_null());
        assert_eq!(text(&mut out, Some("a\0b")), pinecone_result::Decode);
        assert!(out.is_null());

        let mut handle = ptr::null_mut();
        assert_eq!(boxed(&mut handle, Ok(3)), pinecone_result::Ok);
        // SAFETY: made by `Box::into_raw` above and freed once.
        assert_eq!(*unsafe { Box::from_raw(handle) }, 3);
        let failed = boxed(&mut handle, Err(FfiError::null("p")));
        assert_eq!(failed, pinecone_result::NullArgument);
        assert!(handle.is_null());
    }
}
