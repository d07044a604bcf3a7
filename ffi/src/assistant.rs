//! `pinecone_assistant`: the data-plane handle of one assistant.

use std::ffi::c_char;

use ::pinecone_assistant::Assistant;

use crate::boundary::{FfiError, free_box};
use crate::client::pinecone_client;
use crate::error::pinecone_result;

/// One assistant's data plane: files, operations, context, chat.
///
/// Thread-safe: one handle may be used from many threads at once.
pub struct pinecone_assistant {
    pub(crate) inner: Assistant,
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
    ffi_call!(assistant_out => handle, {
        let client = arg!(client: handle);
        let name = arg!(name: str);
        if name.is_empty() {
            return Err(FfiError::invalid("name", "must not be empty"));
        }
        pinecone_assistant {
            inner: client.inner.assistant(name),
        }
    })
}

/// Frees an assistant handle. NULL does nothing.
///
/// # Safety
///
/// `assistant` is NULL or a handle not yet freed, not in use by another thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_assistant_free(assistant: *mut pinecone_assistant) {
    // SAFETY: forwarded contract.
    unsafe { free_box(assistant) }
}
