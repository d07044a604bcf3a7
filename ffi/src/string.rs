//! Strings handed to C.

use std::ffi::{CString, c_char};

use crate::boundary::guard_void;

/// Frees a string this library returned through a `char **..._out` parameter.
/// NULL does nothing.
///
/// # Safety
///
/// `s` is NULL or a string returned by this library and not yet freed; it must not
/// be used afterwards. Never pass it to libc `free`, and never pass this function
/// memory from anywhere else. Any thread may free a string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_string_free(s: *mut c_char) {
    if s.is_null() {
        return;
    }
    guard_void(|| {
        // SAFETY: made by `CString::into_raw` in this library and freed once, per the
        // contract.
        drop(unsafe { CString::from_raw(s) });
    });
}
