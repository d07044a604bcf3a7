//! `pinecone_paginator`: a pull iterator over the items of a list (assistants,
//! files, operations), plus the callback form.

use std::ffi::{c_char, c_int, c_void};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, TryLockError};

use serde::{Deserialize, Serialize};

use super::boundary::{FfiError, exclusive, guard, guard_void, handle, out, to_cstring, to_json};
use super::error::pinecone_result;
use crate::{Paginator, ResumePoint};

/// Receives one JSON document (a list item or a stream chunk), borrowed for the
/// duration of the call only: copy what you keep. Return 0 to go on, non-zero to
/// stop (the call then returns `PINECONE_RESULT_ABORTED`). Called on the thread
/// that made the call; `userdata` is passed through untouched.
pub type pinecone_json_cb =
    Option<unsafe extern "C" fn(userdata: *mut c_void, json: *const c_char) -> c_int>;

/// A walk whose items leave as JSON and whose position can be reported.
trait JsonItems: Send {
    fn next_json(&mut self) -> Option<Result<String, FfiError>>;
    fn resume_point(&self) -> Option<ResumePoint>;
}

/// A paginator, after first dropping `to_skip` items (an exact resume).
struct Walk<T> {
    paginator: Paginator<T>,
    to_skip: usize,
}

impl<T: Serialize + Send> JsonItems for Walk<T> {
    fn next_json(&mut self) -> Option<Result<String, FfiError>> {
        while self.to_skip > 0 {
            // Counted only once skipped: after a failed fetch the resume point must
            // still pass over every item the caller already had.
            if let Err(e) = self.paginator.next()? {
                return Some(Err(e.into()));
            }
            self.to_skip -= 1;
        }
        self.paginator.next().map(|item| to_json(&item?))
    }

    fn resume_point(&self) -> Option<ResumePoint> {
        let mut point = self.paginator.resume_point()?;
        point.skip += self.to_skip;
        Some(point)
    }
}

type Items = Box<dyn JsonItems>;

/// A lazy list walk: each `pinecone_paginator_next` returns one item as JSON and
/// fetches the next page only when the current one is used up.
///
/// Not thread-safe: use it from one thread at a time (it may move between
/// threads).
pub struct pinecone_paginator {
    /// Behind a mutex only so that misuse (a callback re-entering, two threads)
    /// is refused by [`exclusive`] instead of aliasing the iterator.
    items: Mutex<Items>,
    /// Set when the paginator's own callback frees it: the running `_for_each`
    /// then stops and frees it on its way out.
    free_requested: AtomicBool,
}

/// The options of a paginator: wire `limit` (page size) and `pagination_token`
/// (where to start), plus `skip` (items of that page to pass over, for an exact
/// resume) and `max_items` (stop after that many; never sent).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListArgs {
    pub(crate) limit: Option<u32>,
    pub(crate) pagination_token: Option<String>,
    pub(crate) skip: Option<usize>,
    pub(crate) max_items: Option<usize>,
}

impl ListArgs {
    /// The paginator handle for `p` walked as these options say.
    pub(crate) fn walk<T: Serialize + Send + 'static>(
        self,
        mut p: Paginator<T>,
    ) -> pinecone_paginator {
        let to_skip = self.skip.unwrap_or(0);
        if let Some(n) = self.limit {
            p = p.page_size(n);
        }
        if let Some(t) = self.pagination_token {
            p = p.starting_from(t);
        }
        if let Some(n) = self.max_items {
            // The paginator counts the skipped items too.
            p = p.limit(n.saturating_add(to_skip));
        }
        pinecone_paginator {
            items: Mutex::new(Box::new(Walk {
                paginator: p,
                to_skip,
            })),
            free_requested: AtomicBool::new(false),
        }
    }
}

/// The next item as JSON.
///
/// `item_json_out` receives an owned JSON string (free with `pinecone_string_free`),
/// or NULL with `PINECONE_RESULT_OK` when the list is finished (and on every later
/// call). It is set to NULL first. An error (e.g. `PINECONE_RESULT_API_ERROR`,
/// `_TIMEOUT`, `_TRANSPORT`, `_DECODE`, `_CANCELLED`, `_INVALID_ARGUMENT` for bad
/// filters) ends the walk: later calls return OK with NULL. Also
/// `_NULL_ARGUMENT`.
///
/// # Safety
///
/// `paginator` is NULL or a live paginator that no other thread is using;
/// `item_json_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_paginator_next(
    paginator: *mut pinecone_paginator,
    item_json_out: *mut *mut c_char,
) -> pinecone_result {
    guard(|| {
        // SAFETY: writable or NULL per the contract.
        let item_out = unsafe { out(item_json_out, "item_json_out") }?;
        // SAFETY: live or NULL per the contract; only shared access is made.
        let paginator = unsafe { handle(paginator.cast_const(), "paginator") }?;
        if let Some(item) = exclusive(&paginator.items, "paginator")?.next_json() {
            item_out.set_string(item?)?;
        }
        Ok(())
    })
}

/// Calls `cb(userdata, item_json)` for every remaining item, in order.
///
/// `item_json` is borrowed for that call only. Returns `PINECONE_RESULT_OK` at the
/// end of the list; `PINECONE_RESULT_ABORTED` when `cb` returned non-zero (the
/// paginator stays usable and continues after that item); the error of a page
/// fetch; `_NULL_ARGUMENT` for `paginator` or `cb`. While this runs the paginator
/// is busy: a call on it from `cb` returns `PINECONE_RESULT_INVALID_ARGUMENT`.
///
/// # Safety
///
/// `paginator` is NULL or a live paginator that no other thread is using; `cb`
/// is NULL or a function that does not unwind and treats `item_json` as valid
/// only during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_paginator_for_each(
    paginator: *mut pinecone_paginator,
    cb: pinecone_json_cb,
    userdata: *mut c_void,
) -> pinecone_result {
    guard(|| {
        // SAFETY: live or NULL per the contract; only shared access is made.
        let shared = unsafe { handle(paginator.cast_const(), "paginator") }?;
        let cb = cb.ok_or_else(|| FfiError::null("cb"))?;
        let outcome = (|| {
            let mut items = exclusive(&shared.items, "paginator")?;
            while let Some(item) = items.next_json() {
                // SAFETY: `cb` is a valid callback per the contract.
                unsafe { deliver(cb, userdata, item?, "cb") }?;
                if shared.free_requested.load(Ordering::SeqCst) {
                    break;
                }
            }
            Ok(())
        })();
        if shared.free_requested.load(Ordering::SeqCst) {
            // SAFETY: the callback freed the paginator while this call held it;
            // the free was deferred to here, and nothing borrows it any more.
            drop(unsafe { Box::from_raw(paginator) });
        }
        outcome
    })
}

/// Where the walk stands: `{"pagination_token": <token or null>, "skip": <n>}`, or
/// the JSON text `null` once every item has been returned. Passing both as options
/// to a new paginator (`pinecone_client_list_assistants`,
/// `pinecone_assistant_list_files`, `pinecone_assistant_list_operations`) continues
/// exactly after the last item returned; after an error it retries the failed page.
///
/// `json_out` receives an owned JSON string (free with `pinecone_string_free`; NULL
/// first and on failure). Returns `PINECONE_RESULT_OK`, `_NULL_ARGUMENT`, or
/// `_INVALID_ARGUMENT` while the paginator is in use by another call.
///
/// # Safety
///
/// `paginator` is NULL or a live paginator that no other thread is using;
/// `json_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_paginator_resume_point(
    paginator: *mut pinecone_paginator,
    json_out: *mut *mut c_char,
) -> pinecone_result {
    guard(|| {
        // SAFETY: writable or NULL per the contract.
        let json_out = unsafe { out(json_out, "json_out") }?;
        // SAFETY: live or NULL per the contract; only shared access is made.
        let paginator = unsafe { handle(paginator.cast_const(), "paginator") }?;
        let point = exclusive(&paginator.items, "paginator")?.resume_point();
        json_out.set_json(&point.map(|p| {
            serde_json::json!({
                "pagination_token": p.token,
                "skip": p.skip,
            })
        }))
    })
}

/// Calls `cb` with `json`, borrowed for the call; non-zero -> aborted.
///
/// # Safety
///
/// `cb` is a valid callback that does not unwind.
pub(crate) unsafe fn deliver(
    cb: unsafe extern "C" fn(*mut c_void, *const c_char) -> c_int,
    userdata: *mut c_void,
    json: String,
    what: &str,
) -> Result<(), FfiError> {
    let text = to_cstring(json)?;
    // SAFETY: valid callback per the contract; `text` outlives the call.
    let verdict = unsafe { cb(userdata, text.as_ptr()) };
    if verdict == 0 {
        Ok(())
    } else {
        Err(FfiError::aborted(what))
    }
}

/// Frees a paginator. NULL does nothing. Called from the paginator's own
/// `pinecone_paginator_for_each` callback, it ends that walk once the callback
/// returns, and the paginator is freed then.
///
/// # Safety
///
/// `paginator` is NULL or a paginator not yet freed, not in use by another thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_paginator_free(paginator: *mut pinecone_paginator) {
    if paginator.is_null() {
        return;
    }
    guard_void(|| {
        // SAFETY: live per the contract; only shared access is made.
        let shared = unsafe { &*paginator };
        if let Err(TryLockError::WouldBlock) = shared.items.try_lock() {
            // A call on it is running on this thread (its callback asked): that
            // call frees it when it returns.
            shared.free_requested.store(true, Ordering::SeqCst);
            return;
        }
        // SAFETY: made by `Box::into_raw` and freed once, per the contract.
        drop(unsafe { Box::from_raw(paginator) });
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pagination::Page;
    use crate::{Error, ResumePoint};

    #[test]
    fn a_failed_skip_keeps_every_item_to_pass_over() {
        let mut walk = Walk {
            paginator: Paginator::<u8>::new(|_, _| Err(Error::invalid("x", "boom")))
                .starting_from("t1"),
            to_skip: 3,
        };
        assert!(matches!(walk.next_json(), Some(Err(_))));
        assert_eq!(
            walk.resume_point(),
            Some(ResumePoint {
                token: Some("t1".into()),
                skip: 3
            })
        );

        let mut walk = Walk {
            paginator: Paginator::new(|_, _| Ok(Page::new(vec![1u8, 2, 3], None))),
            to_skip: 2,
        };
        assert_eq!(walk.next_json().unwrap().unwrap(), "3");
        assert!(walk.next_json().is_none());
    }
}
