//! `pinecone_assistant`: the data-plane handle of one assistant.

use std::ffi::c_char;

use super::boundary::{FfiError, guard, guard_void, handle, out, str_arg};
use super::client::pinecone_client;
use super::error::pinecone_result;
use crate::Assistant;

/// One assistant's data plane: files, operations, context, chat.
///
/// Thread-safe: one handle may be used from many threads at once.
pub struct pinecone_assistant {
    pub(crate) inner: Assistant,
}

impl pinecone_assistant {
    /// A copy for a call that runs C callbacks: a callback may free the caller's
    /// handle (`pinecone_assistant_free`) while the call goes on, so the call must
    /// not keep borrowing it. The copy shares the client and its host cache.
    pub(crate) fn detached(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

/// Makes a handle for the assistant called `name`. Nothing is sent: the
/// assistant's host is looked up on its first call and cached in the client.
///
/// `client` and `name` are borrowed (the handle keeps its own reference to the
/// client's shared state, so the client may be freed first). `assistant_out`
/// receives the handle (free with `pinecone_assistant_free`; NULL first and on
/// failure). Returns `PINECONE_RESULT_OK`, `_NULL_ARGUMENT`, `_INVALID_UTF8`,
/// `_INVALID_ARGUMENT` (empty name). Thread-safe.
///
/// # Safety
///
/// `client` is NULL or live; `name` is NULL or NUL-terminated; `assistant_out` is
/// NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_client_assistant(
    client: *const pinecone_client,
    name: *const c_char,
    assistant_out: *mut *mut pinecone_assistant,
) -> pinecone_result {
    guard(|| {
        // SAFETY: writable or NULL per the contract.
        let assistant_out = unsafe { out(assistant_out, "assistant_out") }?;
        // SAFETY: live or NULL per the contract.
        let client = unsafe { handle(client, "client") }?;
        // SAFETY: NUL-terminated or NULL per the contract.
        let name = unsafe { str_arg(name, "name") }?;
        if name.is_empty() {
            return Err(FfiError::invalid("name", "must not be empty"));
        }
        assistant_out.set_box(pinecone_assistant {
            inner: client.inner.assistant(name),
        });
        Ok(())
    })
}

/// Frees an assistant handle. NULL does nothing.
///
/// # Safety
///
/// `assistant` is NULL or a handle not yet freed, not in use by another thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_assistant_free(assistant: *mut pinecone_assistant) {
    if assistant.is_null() {
        return;
    }
    guard_void(|| {
        // SAFETY: made by `Box::into_raw` and freed once, per the contract.
        drop(unsafe { Box::from_raw(assistant) });
    });
}
