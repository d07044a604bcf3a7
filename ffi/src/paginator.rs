//! `pinecone_paginator`: a pull iterator over the items of a list (assistants,
//! files, operations), plus the callback form.

use std::ffi::{c_char, c_void};

use ::pinecone_assistant::{Paginator, ResumePoint};
use serde::{Deserialize, Serialize};

use crate::boundary::{FfiError, to_json};
use crate::error::pinecone_result;
use crate::exclusive::{self, Exclusive, ExclusiveHandle, JsonItems, pinecone_json_cb};

/// A list as a walk reads it: the items, and where the walk stands.
trait Listing: Send {
    type Item: Serialize;
    fn next_item(&mut self) -> Option<::pinecone_assistant::Result<Self::Item>>;
    fn resume_point(&self) -> Option<ResumePoint>;
}

impl<T: Serialize + Send> Listing for Paginator<T> {
    type Item = T;

    fn next_item(&mut self) -> Option<::pinecone_assistant::Result<T>> {
        self.next()
    }

    fn resume_point(&self) -> Option<ResumePoint> {
        Paginator::resume_point(self)
    }
}

/// A list, after first dropping `to_skip` items (an exact resume).
struct Walk<L> {
    list: L,
    to_skip: usize,
}

/// What a paginator handle holds: a walk whose items leave as JSON.
pub(crate) trait Items: JsonItems {
    fn resume_point(&self) -> Option<ResumePoint>;
}

impl<L: Listing> JsonItems for Walk<L> {
    fn next_json(&mut self) -> Option<Result<String, FfiError>> {
        while self.to_skip > 0 {
            // Counted only once skipped: after a failed fetch the resume point must
            // still pass over every item the caller already had.
            if let Err(e) = self.list.next_item()? {
                return Some(Err(e.into()));
            }
            self.to_skip -= 1;
        }
        self.list.next_item().map(|item| to_json(&item?))
    }
}

impl<L: Listing> Items for Walk<L> {
    fn resume_point(&self) -> Option<ResumePoint> {
        let mut point = self.list.resume_point()?;
        point.skip += self.to_skip;
        Some(point)
    }
}

/// A lazy list walk: each `pinecone_paginator_next` returns one item as JSON and
/// fetches the next page only when the current one is used up.
///
/// Not thread-safe: use it from one thread at a time (it may move between
/// threads).
pub struct pinecone_paginator {
    items: Exclusive<Box<dyn Items>>,
}

impl ExclusiveHandle for pinecone_paginator {
    type State = Box<dyn Items>;
    const NAME: &'static str = "paginator";

    fn exclusive(&self) -> &Exclusive<Box<dyn Items>> {
        &self.items
    }
}

/// The settings of a paginator that only C has: `skip` (items of the first page
/// to pass over, for an exact resume) and `max_items` (stop after that many;
/// never sent).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct WalkOptions {
    skip: Option<usize>,
    max_items: Option<usize>,
}

impl WalkOptions {
    /// The paginator handle for `list` walked as these options say.
    pub(crate) fn start<T: Serialize + Send + 'static>(
        self,
        mut list: Paginator<T>,
    ) -> pinecone_paginator {
        let to_skip = self.skip.unwrap_or(0);
        if let Some(n) = self.max_items {
            // The paginator counts the skipped items too.
            list = list.max_items(n.saturating_add(to_skip));
        }
        pinecone_paginator {
            items: Exclusive::new(Box::new(Walk { list, to_skip })),
        }
    }

    /// A one-page call takes no walk settings: refused rather than ignored.
    pub(crate) fn refuse(self) -> Result<(), FfiError> {
        if self.skip.is_some() || self.max_items.is_some() {
            return Err(FfiError::invalid(
                "options_json",
                "skip and max_items apply to paginators only; use limit for the page size",
            ));
        }
        Ok(())
    }
}

/// The next item as JSON.
///
/// `item_json_out` receives an owned JSON string (free with `pinecone_string_free`),
/// or NULL with `PINECONE_RESULT_OK` when the list is finished (and on every later
/// call). It is set to NULL first. An error (e.g. `PINECONE_RESULT_API_ERROR`,
/// `_TIMEOUT`, `_TRANSPORT`, `_DECODE`, `_CANCELLED`) ends the walk: later calls return OK with NULL. Also
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
    ffi_call!(item_json_out => text, exclusive::next(arg!(paginator: handle))?)
}

/// Calls `cb(userdata, item_json)` for every remaining item, in order.
///
/// `item_json` is borrowed for that call only. Returns `PINECONE_RESULT_OK` at the
/// end of the list; `PINECONE_RESULT_ABORTED` when `cb` returned non-zero (the
/// paginator stays usable and continues after that item); the error of a page
/// fetch; `_NULL_ARGUMENT` for `paginator` or `cb`. While this runs the paginator
/// is busy: a call on it from `cb` returns `PINECONE_RESULT_INVALID_ARGUMENT`.
/// `cb` may free the paginator: the walk then ends once `cb` returns, and the
/// paginator is freed then.
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
    // SAFETY: forwarded contract.
    ffi_call!(unsafe { exclusive::for_each(paginator, cb, userdata) }?)
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
    ffi_call!(json_out => json, arg!(paginator: handle)
        .items
        .lock(pinecone_paginator::NAME)?
        .resume_point()
        .map(|p| serde_json::json!({"pagination_token": p.token, "skip": p.skip})))
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
    // SAFETY: forwarded contract.
    unsafe { exclusive::free(paginator) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::pinecone_assistant::Error;

    /// A list of `items` that fails at the start when `items` is empty.
    struct Fake {
        items: Vec<u8>,
        failed: bool,
    }

    impl Listing for Fake {
        type Item = u8;

        fn next_item(&mut self) -> Option<::pinecone_assistant::Result<u8>> {
            if self.items.is_empty() && !self.failed {
                self.failed = true;
                return Some(Err(Error::Stream("boom".into())));
            }
            (!self.items.is_empty()).then(|| Ok(self.items.remove(0)))
        }

        fn resume_point(&self) -> Option<ResumePoint> {
            let mut point = ResumePoint::default();
            point.token = Some("t1".into());
            Some(point)
        }
    }

    #[test]
    fn a_failed_skip_keeps_every_item_to_pass_over() {
        let mut walk = Walk {
            list: Fake {
                items: Vec::new(),
                failed: false,
            },
            to_skip: 3,
        };
        assert!(matches!(walk.next_json(), Some(Err(_))));
        let point = walk.resume_point().unwrap();
        assert_eq!((point.token.as_deref(), point.skip), (Some("t1"), 3));

        let mut walk = Walk {
            list: Fake {
                items: vec![1, 2, 3],
                failed: true,
            },
            to_skip: 2,
        };
        assert_eq!(walk.next_json().unwrap().unwrap(), "3");
        assert!(walk.next_json().is_none());
    }
}
