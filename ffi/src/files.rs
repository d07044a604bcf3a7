//! Files and operations of an assistant: upload (from a path or a read
//! callback, with progress), describe, list, delete; describe, wait for and list
//! operations.

use std::ffi::{c_char, c_int, c_void};
use std::io::{self, Read};

use ::pinecone_assistant::models::{UploadFile, UploadResult};
use ::pinecone_assistant::{Assistant, Wait};
use serde::Deserialize;
use serde_json::Value;

use crate::args::wait;
use crate::assistant::pinecone_assistant;
use crate::boundary::FfiError;
use crate::error::pinecone_result;
use crate::paginator::{WalkOptions, pinecone_paginator};

/// Supplies upload bytes: write at most `len` bytes into `buf` and return how
/// many were written; return 0 at the end of the data and a negative number on
/// failure (the upload then fails with `PINECONE_RESULT_IO`). Called on the thread
/// that made the upload call, only during that call.
pub type pinecone_read_cb =
    Option<unsafe extern "C" fn(userdata: *mut c_void, buf: *mut u8, len: usize) -> i64>;

/// Reports upload progress: the bytes of the file sent so far and its total
/// length (0 while unknown; the last call always has `sent` equal to the total).
/// A retried upload reports from 0 again. Called on the thread that made the
/// upload call, only during that call.
pub type pinecone_progress_cb =
    Option<unsafe extern "C" fn(userdata: *mut c_void, sent: u64, total: u64)>;

/// The options of an upload, as JSON: `file_id` (upsert under this id),
/// `metadata` (object), `multimodal` (bool), `total_timeout_ms` (the upload
/// request's own total bound, 0 for none). They are settings of the upload call
/// rather than a request body, so no Rust model type decodes them.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct UploadOptions {
    file_id: Option<String>,
    metadata: Option<Value>,
    multimodal: Option<bool>,
    total_timeout_ms: Option<u64>,
}

/// The C read callback as a `Read`.
struct CallbackReader {
    read: unsafe extern "C" fn(*mut c_void, *mut u8, usize) -> i64,
    userdata: *mut c_void,
}

// SAFETY: the upload runs on the calling thread and drops the reader before it
// returns; the C contract makes `userdata` valid for the whole call there.
unsafe impl Send for CallbackReader {}

impl Read for CallbackReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        // SAFETY: a valid callback per the upload's contract, given a buffer of
        // exactly `buf.len()` writable bytes.
        let n = unsafe { (self.read)(self.userdata, buf.as_mut_ptr(), buf.len()) };
        match usize::try_from(n) {
            Ok(n) if n <= buf.len() => Ok(n),
            Ok(n) => Err(io::Error::other(format!(
                "the read callback reported {n} bytes for a buffer of {}",
                buf.len()
            ))),
            Err(_) => Err(io::Error::other(format!(
                "the read callback reported a failure ({n})"
            ))),
        }
    }
}

/// The C progress callback with its userdata.
struct CallbackProgress {
    progress: unsafe extern "C" fn(*mut c_void, u64, u64),
    userdata: *mut c_void,
}

// SAFETY: as for `CallbackReader`: called only on the calling thread during the
// call.
unsafe impl Send for CallbackProgress {}

impl CallbackProgress {
    fn report(&self, sent: u64, total: Option<u64>) {
        // SAFETY: a valid callback per the upload's contract.
        unsafe { (self.progress)(self.userdata, sent, total.unwrap_or(0)) }
    }
}

/// Applies the options and the progress callback, then uploads. The assistant
/// is owned (a copy sharing the client): a callback may free the caller's
/// handle while the upload goes on.
fn upload(
    assistant: Assistant,
    mut file: UploadFile,
    options: UploadOptions,
    wait: Wait,
    progress: pinecone_progress_cb,
    userdata: *mut c_void,
) -> Result<UploadResult, FfiError> {
    if let Some(id) = options.file_id {
        file = file.file_id(id);
    }
    if let Some(m) = options.metadata {
        file = file.metadata(m);
    }
    if let Some(m) = options.multimodal {
        file = file.multimodal(m);
    }
    if let Some(ms) = options.total_timeout_ms {
        file = file.total_timeout(if ms == 0 {
            std::time::Duration::MAX
        } else {
            std::time::Duration::from_millis(ms)
        });
    }
    if let Some(progress) = progress {
        let cb = CallbackProgress { progress, userdata };
        file = file.on_progress(move |sent, total| cb.report(sent, total));
    }
    Ok(assistant.upload_file(file, wait)?)
}

/// The upload source of `pinecone_assistant_upload_reader`: `length` bytes, or
/// an unknown number (-1).
fn reader_file(
    reader: CallbackReader,
    file_name: &str,
    length: i64,
) -> Result<UploadFile, FfiError> {
    match (length, u64::try_from(length)) {
        (-1, _) => Ok(UploadFile::chunked_reader(reader, file_name)),
        (_, Ok(n)) => Ok(UploadFile::reader(reader, file_name, n)),
        (n, Err(_)) => Err(FfiError::invalid(
            "length",
            format!("{n} is neither a byte count nor -1 (unknown)"),
        )),
    }
}

/// The bytes of `pinecone_assistant_upload_bytes`, copied.
///
/// # Safety
///
/// `data` is NULL or points to `len` readable bytes.
unsafe fn bytes(data: *const u8, len: usize) -> Result<Vec<u8>, FfiError> {
    if len == 0 {
        return Ok(Vec::new());
    }
    if data.is_null() {
        return Err(FfiError::null("data"));
    }
    // SAFETY: not NULL, and `len` readable bytes per the contract.
    Ok(unsafe { std::slice::from_raw_parts(data, len) }.to_vec())
}

/// Uploads the file at `path` (streamed from disk in constant memory) and waits
/// as `wait_mode` says until the assistant has processed it.
///
/// - `path`: required, borrowed; the name sent is its last component.
/// - `options_json`: NULL or `{"file_id":"...","metadata":{...},"multimodal":true,
///   "total_timeout_ms":...}`; a `file_id` makes it an upsert (`PUT`) that creates
///   or replaces that file; `total_timeout_ms` bounds the upload request (default:
///   the client's `total_timeout_ms` plus 16 s per MiB, none for a reader of
///   unknown length; 0 for none); the wait that follows is bounded by `wait_mode`.
/// - `progress`: NULL or a callback receiving `userdata`; `userdata` is only
///   passed through.
/// - `json_out`: receives `{"operation":{...},"file":{...},"location":"..."}`:
///   the last operation state seen, the file as described afterwards (absent when
///   no description was available), and the raw `Location` header. Free it with
///   `pinecone_string_free`. NULL first and on failure.
///
/// Returns `PINECONE_RESULT_OK`, `_NULL_ARGUMENT`, `_INVALID_UTF8`,
/// `_INVALID_JSON`, `_INVALID_ARGUMENT` (missing file, empty `file_id`, metadata
/// not an object, bad wait mode), `_IO`, `_NOT_FOUND` (no such assistant),
/// `_API_ERROR`, `_OPERATION_FAILED` (processing failed, with the server's
/// message), `_WAIT_TIMEOUT`, `_TIMEOUT`, `_TRANSPORT`, `_DECODE`, `_CANCELLED`.
/// Thread-safe with respect to `assistant`.
///
/// # Safety
///
/// `assistant` is NULL or live; strings are NULL or NUL-terminated; `progress`
/// is NULL or a valid callback that does not unwind; `json_out` is NULL or
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_assistant_upload_file(
    assistant: *const pinecone_assistant,
    path: *const c_char,
    options_json: *const c_char,
    wait_mode: c_int,
    timeout_ms: u64,
    progress: pinecone_progress_cb,
    userdata: *mut c_void,
    json_out: *mut *mut c_char,
) -> pinecone_result {
    ffi_call!(json_out => json, upload(
        arg!(assistant: handle).inner.clone(),
        UploadFile::path(arg!(path: str)),
        arg!(options_json: opt_json),
        wait(wait_mode, timeout_ms)?,
        progress,
        userdata,
    )?)
}

/// Uploads bytes supplied by `read` under `file_name` and waits as `wait_mode`
/// says. Like `pinecone_assistant_upload_file` otherwise.
///
/// - `file_name`: required; its extension tells the server the file type
///   (`notes.md`; not `notes`, `notes.` or `.md`).
/// - `length`: the exact number of bytes `read` will supply, sent as
///   `Content-Length` (a source that ends early or runs long fails with
///   `PINECONE_RESULT_IO` instead of sending a wrong file), or -1 when unknown:
///   the body is then sent chunked, without `Content-Length`, which the service
///   may refuse (a warning is logged; a 411 or 400 answer says to pass the
///   length). Pass the length whenever it can be known.
/// - `read`: required; called until it returns 0. Because the bytes cannot be
///   read twice, an upload whose body was started is never retried.
/// - `progress`: NULL or a progress callback. Both callbacks receive `userdata`.
///
/// Returns the codes of `pinecone_assistant_upload_file`, plus `_IO` when `read`
/// returns a negative number or more than `len`.
///
/// # Safety
///
/// As `pinecone_assistant_upload_file`; `read` is NULL or a valid callback that
/// writes at most `len` bytes to `buf` and does not unwind.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_assistant_upload_reader(
    assistant: *const pinecone_assistant,
    file_name: *const c_char,
    length: i64,
    options_json: *const c_char,
    wait_mode: c_int,
    timeout_ms: u64,
    read: pinecone_read_cb,
    progress: pinecone_progress_cb,
    userdata: *mut c_void,
    json_out: *mut *mut c_char,
) -> pinecone_result {
    ffi_call!(json_out => json, {
        let assistant = arg!(assistant: handle).inner.clone();
        let file_name = arg!(file_name: str);
        let options = arg!(options_json: opt_json);
        let reader = CallbackReader {
            read: arg!(read: callback),
            userdata,
        };
        let file = reader_file(reader, file_name, length)?;
        upload(assistant, file, options, wait(wait_mode, timeout_ms)?, progress, userdata)?
    })
}

/// Uploads `data_len` bytes at `data` under `file_name` and waits as `wait_mode`
/// says. Like `pinecone_assistant_upload_file` otherwise.
///
/// The bytes are copied before any request, so `data` may be released as soon as
/// this returns; because the copy can be sent again, the upload may be retried
/// like one from a path. `data` may be NULL only when `data_len` is 0.
/// `file_name`'s extension tells the server the file type.
///
/// Returns the codes of `pinecone_assistant_upload_file`.
///
/// # Safety
///
/// As `pinecone_assistant_upload_file`; `data` is NULL or points to `data_len`
/// readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_assistant_upload_bytes(
    assistant: *const pinecone_assistant,
    file_name: *const c_char,
    data: *const u8,
    data_len: usize,
    options_json: *const c_char,
    wait_mode: c_int,
    timeout_ms: u64,
    progress: pinecone_progress_cb,
    userdata: *mut c_void,
    json_out: *mut *mut c_char,
) -> pinecone_result {
    ffi_call!(json_out => json, upload(
        arg!(assistant: handle).inner.clone(),
        // SAFETY: `data` is NULL or `data_len` readable bytes, per the contract.
        UploadFile::bytes(unsafe { bytes(data, data_len) }?, arg!(file_name: str)),
        arg!(options_json: opt_json),
        wait(wait_mode, timeout_ms)?,
        progress,
        userdata,
    )?)
}

/// Describes one file (`GET /files/{assistant}/{file_id}`).
///
/// `options_json`: NULL or `{"include_url": true}` to get a short-lived download
/// link in `signed_url` (treat it as a secret). `json_out` receives the file as
/// JSON (free with `pinecone_string_free`). Returns `PINECONE_RESULT_OK`,
/// `_NULL_ARGUMENT`, `_INVALID_UTF8`, `_INVALID_JSON`, `_INVALID_ARGUMENT` (empty
/// id), `_NOT_FOUND`, `_API_ERROR`, `_TIMEOUT`, `_TRANSPORT`, `_DECODE`,
/// `_CANCELLED`. Thread-safe.
///
/// # Safety
///
/// `assistant` is NULL or live; strings are NULL or NUL-terminated; `json_out` is
/// NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_assistant_describe_file(
    assistant: *const pinecone_assistant,
    file_id: *const c_char,
    options_json: *const c_char,
    json_out: *mut *mut c_char,
) -> pinecone_result {
    ffi_call!(json_out => json, arg!(assistant: handle).inner.describe_file_with(
        arg!(file_id: str),
        arg!(options_json: opt_json)
    )?)
}

/// One page of files (`GET /files/{assistant}`).
///
/// `options_json`: NULL or `{"limit": <page size>, "pagination_token": "...",
/// "filter": {"team": {"$eq": "finance"}}}`. `json_out` receives
/// `{"files":[...],"pagination":{"next":"..."}}` (free with
/// `pinecone_string_free`). Returns `PINECONE_RESULT_OK`, `_NULL_ARGUMENT`,
/// `_INVALID_UTF8`, `_INVALID_JSON` (also unknown keys), `_INVALID_ARGUMENT`
/// (limit 0), `_NOT_FOUND`, `_API_ERROR`, `_TIMEOUT`, `_TRANSPORT`, `_DECODE`,
/// `_CANCELLED`. Thread-safe.
///
/// # Safety
///
/// `assistant` is NULL or live; `options_json` is NULL or NUL-terminated;
/// `json_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_assistant_list_files_page(
    assistant: *const pinecone_assistant,
    options_json: *const c_char,
    json_out: *mut *mut c_char,
) -> pinecone_result {
    ffi_call!(json_out => json, arg!(assistant: handle)
        .inner
        .list_files_page(arg!(options_json: page))?)
}

/// A paginator over every file (nothing is sent before the first
/// `pinecone_paginator_next`); the filter is repeated on every page.
///
/// `options_json`: NULL or `{"limit": <page size>, "pagination_token": "<start>",
/// "skip": <items of that page to pass over>, "filter": {...}, "max_items": <stop
/// after>}`. `paginator_out` receives the
/// paginator (free with `pinecone_paginator_free`; NULL first and on failure).
/// Returns `PINECONE_RESULT_OK`, `_NULL_ARGUMENT`, `_INVALID_UTF8`,
/// `_INVALID_JSON`, `_INVALID_ARGUMENT` (limit 0: refused here, nothing is
/// sent). Thread-safe (the paginator itself is not).
///
/// # Safety
///
/// `assistant` is NULL or live; `options_json` is NULL or NUL-terminated;
/// `paginator_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_assistant_list_files(
    assistant: *const pinecone_assistant,
    options_json: *const c_char,
    paginator_out: *mut *mut pinecone_paginator,
) -> pinecone_result {
    ffi_call!(paginator_out => handle, {
        let assistant = arg!(assistant: handle);
        let (options, walk): (_, WalkOptions) = arg!(options_json: split);
        walk.start(assistant.inner.list_files_with(options)?)
    })
}

/// Deletes a file (`DELETE /files/{assistant}/{file_id}`) and waits as
/// `wait_mode` says for the deletion to finish.
///
/// `json_out` receives the deletion's operation as JSON (its last state seen),
/// or the JSON text `null` when the server deleted the file at once (204). Free it
/// with `pinecone_string_free`. Returns `PINECONE_RESULT_OK`, `_NULL_ARGUMENT`,
/// `_INVALID_UTF8`, `_INVALID_ARGUMENT`, `_NOT_FOUND`, `_API_ERROR`,
/// `_OPERATION_FAILED`, `_WAIT_TIMEOUT`, `_TIMEOUT`, `_TRANSPORT`, `_DECODE`,
/// `_CANCELLED`. Thread-safe.
///
/// # Safety
///
/// `assistant` is NULL or live; `file_id` is NULL or NUL-terminated; `json_out` is
/// NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_assistant_delete_file(
    assistant: *const pinecone_assistant,
    file_id: *const c_char,
    wait_mode: c_int,
    timeout_ms: u64,
    json_out: *mut *mut c_char,
) -> pinecone_result {
    ffi_call!(json_out => json, arg!(assistant: handle)
        .inner
        .delete_file(arg!(file_id: str), wait(wait_mode, timeout_ms)?)?)
}

/// Describes an operation (`GET /operations/{assistant}/{operation_id}`): an
/// upload, upsert or deletion, running or finished within the last 30 days.
///
/// `json_out` receives the operation as JSON (free with `pinecone_string_free`).
/// Returns `PINECONE_RESULT_OK`, `_NULL_ARGUMENT`, `_INVALID_UTF8`,
/// `_INVALID_ARGUMENT`, `_NOT_FOUND`, `_API_ERROR`, `_TIMEOUT`, `_TRANSPORT`,
/// `_DECODE`, `_CANCELLED`. Thread-safe.
///
/// # Safety
///
/// `assistant` is NULL or live; `operation_id` is NULL or NUL-terminated;
/// `json_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_assistant_describe_operation(
    assistant: *const pinecone_assistant,
    operation_id: *const c_char,
    json_out: *mut *mut c_char,
) -> pinecone_result {
    ffi_call!(json_out => json, arg!(assistant: handle)
        .inner
        .describe_operation(arg!(operation_id: str))?)
}

/// Polls an operation (e.g. one started with `PINECONE_WAIT_NO`) until it
/// completes, as `wait_mode` says; `json_out` receives its final state as JSON
/// (free with `pinecone_string_free`).
///
/// Returns `PINECONE_RESULT_OK`, `_NULL_ARGUMENT`, `_INVALID_UTF8`,
/// `_INVALID_ARGUMENT`, `_NOT_FOUND`, `_API_ERROR`, `_OPERATION_FAILED`,
/// `_WAIT_TIMEOUT`, `_TIMEOUT`, `_TRANSPORT`, `_DECODE`, `_CANCELLED`.
/// Thread-safe.
///
/// # Safety
///
/// As `pinecone_assistant_describe_operation`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_assistant_wait_for_operation(
    assistant: *const pinecone_assistant,
    operation_id: *const c_char,
    wait_mode: c_int,
    timeout_ms: u64,
    json_out: *mut *mut c_char,
) -> pinecone_result {
    ffi_call!(json_out => json, arg!(assistant: handle)
        .inner
        .wait_for_operation(arg!(operation_id: str), wait(wait_mode, timeout_ms)?)?)
}

/// One page of operations (`GET /operations/{assistant}`).
///
/// `options_json`: NULL or `{"operation_type": "upload_file" | "upsert_file" |
/// "update_file_metadata" | "delete_file", "status": "Processing" | "Completed" |
/// "Failed", "limit": <page size>, "pagination_token": "..."}`. `json_out`
/// receives `{"operations":[...],"pagination":{"next":"..."}}` (free with
/// `pinecone_string_free`). Returns `PINECONE_RESULT_OK`, `_NULL_ARGUMENT`,
/// `_INVALID_UTF8`, `_INVALID_JSON`, `_INVALID_ARGUMENT` (unknown type or status,
/// limit 0), `_NOT_FOUND`, `_API_ERROR`, `_TIMEOUT`, `_TRANSPORT`, `_DECODE`,
/// `_CANCELLED`. Thread-safe.
///
/// # Safety
///
/// `assistant` is NULL or live; `options_json` is NULL or NUL-terminated;
/// `json_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_assistant_list_operations_page(
    assistant: *const pinecone_assistant,
    options_json: *const c_char,
    json_out: *mut *mut c_char,
) -> pinecone_result {
    ffi_call!(json_out => json, arg!(assistant: handle)
        .inner
        .list_operations_page(arg!(options_json: page))?)
}

/// A paginator over every operation, repeating the filters on every page.
///
/// `options_json`: NULL or the keys of `pinecone_assistant_list_operations_page`
/// plus `"skip"` and `"max_items"`. `paginator_out` receives the paginator (free
/// with `pinecone_paginator_free`; NULL first and on failure). Returns
/// `PINECONE_RESULT_OK`, `_NULL_ARGUMENT`, `_INVALID_UTF8`, `_INVALID_JSON`,
/// `_INVALID_ARGUMENT` (unknown type or status, limit 0: refused here, where the
/// mistake is, and nothing is sent). Thread-safe (the paginator itself is not).
///
/// # Safety
///
/// `assistant` is NULL or live; `options_json` is NULL or NUL-terminated;
/// `paginator_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_assistant_list_operations(
    assistant: *const pinecone_assistant,
    options_json: *const c_char,
    paginator_out: *mut *mut pinecone_paginator,
) -> pinecone_result {
    ffi_call!(paginator_out => handle, {
        let assistant = arg!(assistant: handle);
        let (options, walk): (_, WalkOptions) = arg!(options_json: split);
        walk.start(assistant.inner.list_operations_with(options)?)
    })
}
