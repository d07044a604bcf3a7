//! What paginators and streams share: state for one thread at a time, a walk
//! that hands each JSON document to a callback, and a free that may come from
//! inside that callback.

use std::cell::UnsafeCell;
use std::ffi::{c_char, c_int, c_void};
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use crate::boundary::{FfiError, c_string_into, guard_void};
use crate::error::pinecone_result;

/// Receives one JSON document (a list item or a stream chunk), borrowed for the
/// duration of the call only: copy what you keep. Return 0 to go on, non-zero to
/// stop (the call then returns `PINECONE_RESULT_ABORTED`). Called on the thread
/// that made the call; `userdata` is passed through untouched.
pub type pinecone_json_cb =
    Option<unsafe extern "C" fn(userdata: *mut c_void, json: *const c_char) -> c_int>;

/// A source of JSON documents, one per call, until `None`.
pub(crate) trait JsonItems: Send {
    fn next_json(&mut self) -> Option<Result<String, FfiError>>;

    /// The next document as a C string in `buf` (see [`c_string_into`]): what a
    /// callback borrows, with no allocation per document once `buf` has grown.
    fn next_json_into(&mut self, buf: &mut Vec<u8>) -> Option<Result<(), FfiError>> {
        Some(
            self.next_json()?
                .and_then(|json| c_string_into(buf, json.as_bytes())),
        )
    }
}

impl<T: JsonItems + ?Sized> JsonItems for Box<T> {
    fn next_json(&mut self) -> Option<Result<String, FfiError>> {
        (**self).next_json()
    }

    fn next_json_into(&mut self, buf: &mut Vec<u8>) -> Option<Result<(), FfiError>> {
        (**self).next_json_into(buf)
    }
}

/// The state of a one-thread-at-a-time handle. It is taken without waiting, so
/// that misuse (a callback re-entering its own walk, or two threads at once)
/// gets an error instead of a deadlock or an aliased iterator.
///
/// A mutex would do, but every chunk of a stream read from C takes this once:
/// a flag set with one compare-and-swap and cleared with a plain store costs
/// half of a mutex's lock and unlock (see `ffi/benches/ffi.rs`).
pub(crate) struct Exclusive<S: ?Sized> {
    /// Set when the handle is freed from its own walk's callback: the walk then
    /// stops and frees it on its way out.
    free_requested: AtomicBool,
    /// [`FREE`], [`HELD`] (a [`Held`] exists) or [`POISONED`].
    access: AtomicU8,
    state: UnsafeCell<S>,
}

/// Nobody holds the state.
const FREE: u8 = 0;
/// One [`Held`] has the state.
const HELD: u8 = 1;
/// A panic went through a call that held the state, which may have been left
/// half-advanced: nobody may take it again.
const POISONED: u8 = 2;

// SAFETY: the state is reached only through a `Held`, and `access` lets at most
// one exist at a time (taken with an acquiring compare-and-swap, given back with
// a releasing store), so it passes between threads as a `&mut S` would, which
// `S: Send` allows.
unsafe impl<S: ?Sized + Send> Sync for Exclusive<S> {}

impl<S> Exclusive<S> {
    pub(crate) fn new(state: S) -> Self {
        Self {
            free_requested: AtomicBool::new(false),
            access: AtomicU8::new(FREE),
            state: UnsafeCell::new(state),
        }
    }
}

/// The state of an [`Exclusive`], held until dropped.
pub(crate) struct Held<'a, S: ?Sized> {
    owner: &'a Exclusive<S>,
}

impl<S: ?Sized> Deref for Held<'_, S> {
    type Target = S;

    fn deref(&self) -> &S {
        // SAFETY: this `Held` is the only one (see `Exclusive::lock`).
        unsafe { &*self.owner.state.get() }
    }
}

impl<S: ?Sized> DerefMut for Held<'_, S> {
    fn deref_mut(&mut self) -> &mut S {
        // SAFETY: this `Held` is the only one (see `Exclusive::lock`).
        unsafe { &mut *self.owner.state.get() }
    }
}

impl<S: ?Sized> Drop for Held<'_, S> {
    fn drop(&mut self) {
        let next = if std::thread::panicking() {
            POISONED
        } else {
            FREE
        };
        self.owner.access.store(next, Ordering::Release);
    }
}

impl<S: ?Sized> Exclusive<S> {
    /// The state, if no other call holds it; `name` names the handle in errors.
    pub(crate) fn lock(&self, name: &str) -> Result<Held<'_, S>, FfiError> {
        match self
            .access
            .compare_exchange(FREE, HELD, Ordering::Acquire, Ordering::Relaxed)
        {
            Ok(_) => Ok(Held { owner: self }),
            // A panic inside an earlier call may have left the walk half-advanced:
            // refuse to go on rather than silently cut it short.
            Err(POISONED) => Err(FfiError::new(
                pinecone_result::Panic,
                format!(
                    "`{name}` is unusable after an internal error in an earlier call; free it \
                     and start again"
                ),
            )),
            Err(_) => Err(FfiError::invalid(
                name,
                "is in use by another call (re-entered from a callback, or used by two \
                 threads at once); use it from one thread at a time",
            )),
        }
    }

    /// Whether the handle may be freed now; if a call on it is running (a free
    /// from inside its callback), marks it for that call to free instead.
    fn may_free_now(&self) -> bool {
        if self.access.load(Ordering::Acquire) == HELD {
            self.free_requested.store(true, Ordering::SeqCst);
            return false;
        }
        true
    }

    fn free_requested(&self) -> bool {
        self.free_requested.load(Ordering::SeqCst)
    }
}

impl<S: JsonItems + ?Sized> Exclusive<S> {
    /// Hands every remaining document to `sink`, in order, until the end, an
    /// error, a non-zero return, or a free from inside the callback.
    pub(crate) fn walk(&self, name: &str, sink: &JsonSink) -> Result<(), FfiError> {
        let mut items = self.lock(name)?;
        let mut json = Vec::new();
        while let Some(filled) = items.next_json_into(&mut json) {
            filled?;
            sink.send(&json)?;
            if self.free_requested() {
                break;
            }
        }
        Ok(())
    }
}

/// A `pinecone_json_cb` that is not NULL, with its userdata.
pub(crate) struct JsonSink {
    cb: unsafe extern "C" fn(*mut c_void, *const c_char) -> c_int,
    userdata: *mut c_void,
}

impl JsonSink {
    /// The sink of `cb`; NULL is an error naming `name`.
    ///
    /// # Safety
    ///
    /// `cb` is NULL or a function that does not unwind, to be called with
    /// `userdata` for as long as the sink lives.
    pub(crate) unsafe fn new(
        cb: pinecone_json_cb,
        userdata: *mut c_void,
        name: &str,
    ) -> Result<Self, FfiError> {
        let cb = cb.ok_or_else(|| FfiError::null(name))?;
        Ok(Self { cb, userdata })
    }

    /// Calls back with `json`, a C string (NUL-terminated) borrowed for the
    /// call; non-zero means aborted.
    fn send(&self, json: &[u8]) -> Result<(), FfiError> {
        debug_assert_eq!(json.last(), Some(&0), "a C string");
        // SAFETY: a valid callback per `new`'s contract; `json` is NUL-terminated
        // and outlives the call.
        match unsafe { (self.cb)(self.userdata, json.as_ptr().cast()) } {
            0 => Ok(()),
            _ => Err(FfiError::aborted("cb")),
        }
    }
}

/// A C handle whose state is [`Exclusive`]: paginators and streams.
pub(crate) trait ExclusiveHandle {
    type State: JsonItems + ?Sized;
    /// The handle's parameter name, for errors.
    const NAME: &'static str;
    fn exclusive(&self) -> &Exclusive<Self::State>;
}

/// The body of a handle's `_next`: the next document, or `None` at the end.
pub(crate) fn next<H: ExclusiveHandle>(handle: &H) -> Result<Option<String>, FfiError> {
    handle.exclusive().lock(H::NAME)?.next_json().transpose()
}

/// The body of a handle's `_for_each`: [`Exclusive::walk`], after which a handle
/// that its callback freed is freed here, once nothing borrows it any more.
///
/// # Safety
///
/// `ptr` is NULL or a live handle made by `Box::into_raw` in this library that no
/// other thread uses; `cb` is NULL or a valid callback that does not unwind.
pub(crate) unsafe fn for_each<H: ExclusiveHandle>(
    ptr: *mut H,
    cb: pinecone_json_cb,
    userdata: *mut c_void,
) -> Result<(), FfiError> {
    // SAFETY: NULL or live per the contract; only shared access is made.
    let handle = unsafe { crate::args::handle(ptr, H::NAME) }?;
    // SAFETY: NULL or a function that does not unwind, per the contract.
    let sink = unsafe { JsonSink::new(cb, userdata, "cb") }?;
    let exclusive = handle.exclusive();
    let outcome = exclusive.walk(H::NAME, &sink);
    if exclusive.free_requested() {
        // SAFETY: the callback freed the handle while the walk held it; the free
        // was deferred to here, and nothing borrows the handle any more.
        drop(unsafe { Box::from_raw(ptr) });
    }
    outcome
}

/// The body of a handle's `_free`: NULL does nothing; called from inside the
/// handle's own walk, it leaves the free to that walk.
///
/// # Safety
///
/// `ptr` is NULL or a handle made by `Box::into_raw` in this library, not yet
/// freed and not in use by another thread.
pub(crate) unsafe fn free<H: ExclusiveHandle>(ptr: *mut H) {
    if ptr.is_null() {
        return;
    }
    guard_void(|| {
        // SAFETY: live per the contract; only shared access is made.
        if unsafe { &*ptr }.exclusive().may_free_now() {
            // SAFETY: made by `Box::into_raw` and freed once, per the contract.
            drop(unsafe { Box::from_raw(ptr) });
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_holder_at_a_time_and_free_again_after() {
        let cell = Exclusive::new(vec![1]);
        let mut held = cell.lock("walk").unwrap();
        held.push(2);
        let busy = cell.lock("walk").err().unwrap();
        assert_eq!(busy.code, pinecone_result::InvalidArgument);
        assert!(busy.message.contains("`walk`") && busy.message.contains("in use"));
        assert!(!cell.may_free_now());
        assert!(cell.free_requested());
        drop(held);
        assert_eq!(*cell.lock("walk").unwrap(), [1, 2]);
        assert!(cell.may_free_now());
    }

    #[test]
    fn a_panic_while_held_leaves_the_state_refused() {
        let cell = Exclusive::new(0u32);
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut held = cell.lock("stream").unwrap();
            *held += 1;
            panic!("half-advanced");
        }));
        assert!(panicked.is_err());
        let refused = cell.lock("stream").err().unwrap();
        assert_eq!(refused.code, pinecone_result::Panic);
        assert!(refused.message.contains("unusable"));
        assert!(cell.may_free_now());
    }
}
