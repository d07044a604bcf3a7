//! Streaming answers: `pinecone_chat_stream` (native chat chunks) and
//! `pinecone_chat_completions_stream` (OpenAI-style chunks), each a pull iterator
//! with a callback form and a cancel function callable from another thread.

use std::ffi::{c_char, c_void};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, TryLockError};

use serde::Serialize;

use super::assistant::pinecone_assistant;
use super::boundary::{
    FfiError, chat_request_arg, exclusive, guard, guard_void, handle, out, to_json,
};
use super::error::pinecone_result;
use super::paginator::{deliver, pinecone_json_cb};
use crate::models::{ChatCompletionChunk, ChatCompletionRequest, ChatRequest, ChatStreamChunk};
use crate::{CancelHandle, ChatCompletionStream, ChatStream};

/// What the two stream kinds share: chunks, and the answer text in a chunk.
trait Chunks: Iterator<Item = crate::Result<Self::Chunk>> + Send {
    type Chunk: Serialize;
    /// The answer text a chunk carries, if any.
    fn text(chunk: Self::Chunk) -> Option<String>;
}

impl Chunks for ChatStream {
    type Chunk = ChatStreamChunk;
    fn text(chunk: ChatStreamChunk) -> Option<String> {
        match chunk {
            ChatStreamChunk::ContentDelta(d) => Some(d.content),
            _ => None,
        }
    }
}

impl Chunks for ChatCompletionStream {
    type Chunk = ChatCompletionChunk;
    fn text(mut chunk: ChatCompletionChunk) -> Option<String> {
        let first = chunk.choices.first_mut()?;
        first.delta.content.take().filter(|t| !t.is_empty())
    }
}

/// A stream with its cancel handle. The chunks sit behind a mutex so that
/// `_next` (one thread) and `_cancel` (any thread) only ever share the handle,
/// never alias it mutably; the lock is uncontended in correct use, and misuse
/// (two readers, or a callback that re-enters) gets an error from [`exclusive`].
struct Shared<S> {
    cancel: CancelHandle,
    chunks: Mutex<S>,
    /// Set when the stream's own callback frees it: the running `_for_each` then
    /// stops and frees it on its way out.
    free_requested: AtomicBool,
}

impl<S: Chunks> Shared<S> {
    fn new(stream: S, cancel: CancelHandle) -> Self {
        Self {
            cancel,
            chunks: Mutex::new(stream),
            free_requested: AtomicBool::new(false),
        }
    }

    /// Whether the stream may be freed now; if a call on it is running (a free
    /// from inside its callback), marks it for that call to free instead.
    fn may_free_now(&self) -> bool {
        match self.chunks.try_lock() {
            Err(TryLockError::WouldBlock) => {
                self.free_requested.store(true, Ordering::SeqCst);
                false
            }
            _ => true,
        }
    }

    fn lock(&self) -> Result<MutexGuard<'_, S>, FfiError> {
        exclusive(&self.chunks, "stream")
    }

    fn next_json(&self) -> Result<Option<String>, FfiError> {
        match self.lock()?.next() {
            Some(chunk) => Ok(Some(to_json(&chunk?)?)),
            None => Ok(None),
        }
    }

    fn next_text(&self) -> Result<Option<String>, FfiError> {
        let mut chunks = self.lock()?;
        for chunk in chunks.by_ref() {
            if let Some(text) = S::text(chunk?) {
                return Ok(Some(text));
            }
        }
        Ok(None)
    }

    fn for_each(&self, cb: pinecone_json_cb, userdata: *mut c_void) -> Result<(), FfiError> {
        let cb = cb.ok_or_else(|| FfiError::null("cb"))?;
        let mut chunks = self.lock()?;
        for chunk in chunks.by_ref() {
            // SAFETY: a valid callback per the caller's contract.
            unsafe { deliver(cb, userdata, to_json(&chunk?)?, "cb") }?;
            if self.free_requested.load(Ordering::SeqCst) {
                break;
            }
        }
        Ok(())
    }
}

/// A chat answer arriving chunk by chunk (native format). Each chunk is a JSON
/// object with a `type`: `message_start`, `content_chunk` (`delta.content`),
/// `citation`, `message_end` (`finish_reason`, `usage`), or a type this version
/// does not know, passed on as received.
///
/// Use it from one thread at a time (it may move between threads);
/// `pinecone_chat_stream_cancel` alone may be called concurrently.
pub struct pinecone_chat_stream {
    inner: Shared<ChatStream>,
}

/// An OpenAI-style chat completion arriving chunk by chunk: JSON objects
/// `{"id":...,"choices":[{"index":0,"delta":{"content":"..."},"finish_reason":...}],
/// "model":...,"usage":...}`.
///
/// Use it from one thread at a time (it may move between threads);
/// `pinecone_chat_completions_stream_cancel` alone may be called concurrently.
pub struct pinecone_chat_completions_stream {
    inner: Shared<ChatCompletionStream>,
}

/// Starts a streamed chat answer (`POST /chat/{assistant}` with `"stream": true`).
/// The request is sent before this returns, so a refused request (e.g. 404, 400)
/// fails here; chunks are then read as `pinecone_chat_stream_next` asks for them.
///
/// `request_json`: as for `pinecone_assistant_chat` (`json_response` must be off).
/// `stream_out` receives the stream (free with `pinecone_chat_stream_free`, which
/// closes the connection; NULL first and on failure).
///
/// Returns `PINECONE_RESULT_OK`, `_NULL_ARGUMENT`, `_INVALID_UTF8`,
/// `_INVALID_JSON`, `_INVALID_ARGUMENT`, `_NOT_FOUND`, `_API_ERROR`, `_TIMEOUT`,
/// `_TRANSPORT`, `_CANCELLED`. Thread-safe with respect to `assistant`.
///
/// # Safety
///
/// `assistant` is NULL or live; `request_json` is NULL or NUL-terminated;
/// `stream_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_assistant_chat_stream(
    assistant: *const pinecone_assistant,
    request_json: *const c_char,
    stream_out: *mut *mut pinecone_chat_stream,
) -> pinecone_result {
    guard(|| {
        // SAFETY: writable or NULL per the contract.
        let stream_out = unsafe { out(stream_out, "stream_out") }?;
        // SAFETY: live or NULL per the contract.
        let assistant = unsafe { handle(assistant, "assistant") }?;
        // SAFETY: NUL-terminated or NULL per the contract.
        let request: ChatRequest = unsafe { chat_request_arg(request_json, "request_json") }?;
        let stream = assistant.inner.chat_stream(request)?;
        let cancel = stream.canceller();
        stream_out.set_box(pinecone_chat_stream {
            inner: Shared::new(stream, cancel),
        });
        Ok(())
    })
}

/// The next chunk as JSON, read as soon as the server sends it.
///
/// `chunk_json_out` receives an owned JSON string (free with
/// `pinecone_string_free`), or NULL with `PINECONE_RESULT_OK` at the end of the
/// answer (and on every later call). Returns `PINECONE_RESULT_OK`,
/// `_NULL_ARGUMENT`, `_STREAM` (malformed or cut-off stream), `_DECODE`,
/// `_TIMEOUT`, `_TRANSPORT`, `_CANCELLED`; after an error the stream is finished.
///
/// # Safety
///
/// `stream` is NULL or a live stream not used by another thread except through
/// `pinecone_chat_stream_cancel`; `chunk_json_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_chat_stream_next(
    stream: *mut pinecone_chat_stream,
    chunk_json_out: *mut *mut c_char,
) -> pinecone_result {
    guard(|| {
        // SAFETY: writable or NULL per the contract.
        let chunk_out = unsafe { out(chunk_json_out, "chunk_json_out") }?;
        // SAFETY: live or NULL per the contract; only shared access is made.
        let stream = unsafe { handle(stream.cast_const(), "stream") }?;
        if let Some(json) = stream.inner.next_json()? {
            chunk_out.set_string(json)?;
        }
        Ok(())
    })
}

/// The next piece of answer text (the `delta.content` of the next content chunk;
/// other chunks are skipped), for programs that want only the text.
///
/// `text_out` receives an owned UTF-8 string (free with `pinecone_string_free`;
/// it may be empty), or NULL at the end. Returns the codes of
/// `pinecone_chat_stream_next`; `_DECODE` if the text holds a NUL byte (only that
/// piece is lost: unlike the other errors, this one does not end the stream).
///
/// # Safety
///
/// As `pinecone_chat_stream_next`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_chat_stream_next_text(
    stream: *mut pinecone_chat_stream,
    text_out: *mut *mut c_char,
) -> pinecone_result {
    guard(|| {
        // SAFETY: writable or NULL per the contract.
        let text_out = unsafe { out(text_out, "text_out") }?;
        // SAFETY: live or NULL per the contract; only shared access is made.
        let stream = unsafe { handle(stream.cast_const(), "stream") }?;
        if let Some(text) = stream.inner.next_text()? {
            text_out.set_string(text)?;
        }
        Ok(())
    })
}

/// Calls `cb(userdata, chunk_json)` for every remaining chunk as it arrives.
///
/// `chunk_json` is borrowed for that call only. Returns `PINECONE_RESULT_OK` at the
/// end of the answer, `PINECONE_RESULT_ABORTED` when `cb` returned non-zero (the
/// rest of the answer stays unread; free the stream to close it), a stream error,
/// or `_NULL_ARGUMENT` for `stream` or `cb`. While this runs the stream is busy:
/// a `_next` on it from `cb` returns `PINECONE_RESULT_INVALID_ARGUMENT`
/// (`pinecone_chat_stream_cancel` works).
///
/// # Safety
///
/// As `pinecone_chat_stream_next`; `cb` is NULL or a function that does not unwind.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_chat_stream_for_each(
    stream: *mut pinecone_chat_stream,
    cb: pinecone_json_cb,
    userdata: *mut c_void,
) -> pinecone_result {
    guard(|| {
        // SAFETY: live or NULL per the contract; only shared access is made.
        let shared = unsafe { handle(stream.cast_const(), "stream") }?;
        let outcome = shared.inner.for_each(cb, userdata);
        if shared.inner.free_requested.load(Ordering::SeqCst) {
            // SAFETY: the callback freed the stream while this call held it; the
            // free was deferred to here, and nothing borrows the stream any more.
            drop(unsafe { Box::from_raw(stream) });
        }
        outcome
    })
}

/// Streams a chat answer into `cb`: `pinecone_assistant_chat_stream`, then
/// `pinecone_chat_stream_for_each`, then the stream is freed.
///
/// Returns the codes of both; `PINECONE_RESULT_ABORTED` when `cb` returned
/// non-zero (the connection is closed at once). Thread-safe with respect to
/// `assistant`. To cancel from another thread, use a client bound to a
/// `pinecone_cancel` (`pinecone_client_with_cancel`).
///
/// # Safety
///
/// `assistant` is NULL or live; `request_json` is NULL or NUL-terminated; `cb` is
/// NULL or a function that does not unwind.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_assistant_chat_stream_cb(
    assistant: *const pinecone_assistant,
    request_json: *const c_char,
    cb: pinecone_json_cb,
    userdata: *mut c_void,
) -> pinecone_result {
    guard(|| {
        // SAFETY: live or NULL per the contract.
        let assistant = unsafe { handle(assistant, "assistant") }?.detached();
        // SAFETY: NUL-terminated or NULL per the contract.
        let request: ChatRequest = unsafe { chat_request_arg(request_json, "request_json") }?;
        if cb.is_none() {
            return Err(FfiError::null("cb"));
        }
        let stream = assistant.inner.chat_stream(request)?;
        let cancel = stream.canceller();
        Shared::new(stream, cancel).for_each(cb, userdata)
    })
}

/// Stops the stream from any thread, also while another thread waits in
/// `pinecone_chat_stream_next`: that call (or the next one) returns
/// `PINECONE_RESULT_CANCELLED` promptly and the connection is closed. NULL does
/// nothing. Does not touch the calling thread's last error.
///
/// # Safety
///
/// `stream` is NULL or a live stream; it must not be freed while this runs.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_chat_stream_cancel(stream: *const pinecone_chat_stream) {
    guard_void(|| {
        // SAFETY: NULL or live per the contract; only shared access is made.
        if let Some(stream) = unsafe { stream.as_ref() } {
            stream.inner.cancel.cancel();
        }
    });
}

/// Frees a stream, closing its connection if the answer was not read to the end.
/// NULL does nothing. Called from the stream's own `_for_each` callback, it ends
/// that walk once the callback returns, and the stream is freed then.
///
/// # Safety
///
/// `stream` is NULL or a stream not yet freed and not in use by another thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_chat_stream_free(stream: *mut pinecone_chat_stream) {
    if stream.is_null() {
        return;
    }
    guard_void(|| {
        // SAFETY: live per the contract; only shared access is made.
        if unsafe { &*stream }.inner.may_free_now() {
            // SAFETY: made by `Box::into_raw` and freed once, per the contract.
            drop(unsafe { Box::from_raw(stream) });
        }
    });
}

/// Starts a streamed chat completion (`POST /chat/{assistant}/chat/completions`
/// with `"stream": true`); the request is sent before this returns.
///
/// `request_json`: as for `pinecone_assistant_chat_completions`. `stream_out`
/// receives the stream (free with `pinecone_chat_completions_stream_free`).
/// Returns the codes of `pinecone_assistant_chat_stream`. Thread-safe with
/// respect to `assistant`.
///
/// # Safety
///
/// As `pinecone_assistant_chat_stream`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_assistant_chat_completions_stream(
    assistant: *const pinecone_assistant,
    request_json: *const c_char,
    stream_out: *mut *mut pinecone_chat_completions_stream,
) -> pinecone_result {
    guard(|| {
        // SAFETY: writable or NULL per the contract.
        let stream_out = unsafe { out(stream_out, "stream_out") }?;
        // SAFETY: live or NULL per the contract.
        let assistant = unsafe { handle(assistant, "assistant") }?;
        // SAFETY: NUL-terminated or NULL per the contract.
        let request: ChatCompletionRequest =
            unsafe { chat_request_arg(request_json, "request_json") }?;
        let stream = assistant.inner.chat_completions_stream(request)?;
        let cancel = stream.canceller();
        stream_out.set_box(pinecone_chat_completions_stream {
            inner: Shared::new(stream, cancel),
        });
        Ok(())
    })
}

/// The next completion chunk as JSON, or NULL at the end; as
/// `pinecone_chat_stream_next`.
///
/// # Safety
///
/// `stream` is NULL or a live stream not used by another thread except through
/// `pinecone_chat_completions_stream_cancel`; `chunk_json_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_chat_completions_stream_next(
    stream: *mut pinecone_chat_completions_stream,
    chunk_json_out: *mut *mut c_char,
) -> pinecone_result {
    guard(|| {
        // SAFETY: writable or NULL per the contract.
        let chunk_out = unsafe { out(chunk_json_out, "chunk_json_out") }?;
        // SAFETY: live or NULL per the contract; only shared access is made.
        let stream = unsafe { handle(stream.cast_const(), "stream") }?;
        if let Some(json) = stream.inner.next_json()? {
            chunk_out.set_string(json)?;
        }
        Ok(())
    })
}

/// The next non-empty piece of answer text (the first choice's
/// `delta.content`), or NULL at the end; as `pinecone_chat_stream_next_text`.
///
/// # Safety
///
/// As `pinecone_chat_completions_stream_next`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_chat_completions_stream_next_text(
    stream: *mut pinecone_chat_completions_stream,
    text_out: *mut *mut c_char,
) -> pinecone_result {
    guard(|| {
        // SAFETY: writable or NULL per the contract.
        let text_out = unsafe { out(text_out, "text_out") }?;
        // SAFETY: live or NULL per the contract; only shared access is made.
        let stream = unsafe { handle(stream.cast_const(), "stream") }?;
        if let Some(text) = stream.inner.next_text()? {
            text_out.set_string(text)?;
        }
        Ok(())
    })
}

/// Calls `cb(userdata, chunk_json)` for every remaining completion chunk; as
/// `pinecone_chat_stream_for_each`.
///
/// # Safety
///
/// As `pinecone_chat_completions_stream_next`; `cb` is NULL or a function that
/// does not unwind.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_chat_completions_stream_for_each(
    stream: *mut pinecone_chat_completions_stream,
    cb: pinecone_json_cb,
    userdata: *mut c_void,
) -> pinecone_result {
    guard(|| {
        // SAFETY: live or NULL per the contract; only shared access is made.
        let shared = unsafe { handle(stream.cast_const(), "stream") }?;
        let outcome = shared.inner.for_each(cb, userdata);
        if shared.inner.free_requested.load(Ordering::SeqCst) {
            // SAFETY: the callback freed the stream while this call held it; the
            // free was deferred to here, and nothing borrows the stream any more.
            drop(unsafe { Box::from_raw(stream) });
        }
        outcome
    })
}

/// Streams a chat completion into `cb`; as `pinecone_assistant_chat_stream_cb`.
///
/// # Safety
///
/// As `pinecone_assistant_chat_stream_cb`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_assistant_chat_completions_stream_cb(
    assistant: *const pinecone_assistant,
    request_json: *const c_char,
    cb: pinecone_json_cb,
    userdata: *mut c_void,
) -> pinecone_result {
    guard(|| {
        // SAFETY: live or NULL per the contract.
        let assistant = unsafe { handle(assistant, "assistant") }?.detached();
        // SAFETY: NUL-terminated or NULL per the contract.
        let request: ChatCompletionRequest =
            unsafe { chat_request_arg(request_json, "request_json") }?;
        if cb.is_none() {
            return Err(FfiError::null("cb"));
        }
        let stream = assistant.inner.chat_completions_stream(request)?;
        let cancel = stream.canceller();
        Shared::new(stream, cancel).for_each(cb, userdata)
    })
}

/// Stops the completion stream from any thread; as `pinecone_chat_stream_cancel`.
///
/// # Safety
///
/// `stream` is NULL or a live stream; it must not be freed while this runs.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_chat_completions_stream_cancel(
    stream: *const pinecone_chat_completions_stream,
) {
    guard_void(|| {
        // SAFETY: NULL or live per the contract; only shared access is made.
        if let Some(stream) = unsafe { stream.as_ref() } {
            stream.inner.cancel.cancel();
        }
    });
}

/// Frees a completion stream, closing its connection. NULL does nothing. Called
/// from the stream's own `_for_each` callback, it ends that walk once the callback
/// returns, and the stream is freed then.
///
/// # Safety
///
/// `stream` is NULL or a stream not yet freed and not in use by another thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_chat_completions_stream_free(
    stream: *mut pinecone_chat_completions_stream,
) {
    if stream.is_null() {
        return;
    }
    guard_void(|| {
        // SAFETY: live per the contract; only shared access is made.
        if unsafe { &*stream }.inner.may_free_now() {
            // SAFETY: made by `Box::into_raw` and freed once, per the contract.
            drop(unsafe { Box::from_raw(stream) });
        }
    });
}
