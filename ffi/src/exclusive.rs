//! What paginators and streams share: state for one thread at a time, a walk
//! that hands each JSON document to a callback, and a free that may come from
//! inside that callback.

use std::ffi::{c_char, c_int, c_void};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, TryLockError};

use crate::boundary::{FfiError, guard_void, to_cstring};
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
}

impl<T: JsonItems + ?Sized> JsonItems for Box<T> {
    fn next_json(&mut self) -> Option<Result<String, FfiError>> {
        (**self).next_json()
    }
}

/// The state of a one-thread-at-a-time handle. It sits behind a mutex taken
/// without waiting, so that misuse (a callback re-entering its own walk, or two
/// threads at once) gets an error instead of a deadlock or an aliased iterator.
pub(crate) struct Exclusive<S: ?Sized> {
    /// Set when the handle is freed from its own walk's callback: the walk then
    /// stops and frees it on its way out.
    free_requested: AtomicBool,
    state: Mutex<S>,
}

impl<S> Exclusive<S> {
    pub(crate) fn new(state: S) -> Self {
        Self {
            free_requested: AtomicBool::new(false),
            state: Mutex::new(state),
        }
    }
}

impl<S: ?Sized> Exclusive<S> {
    /// The state, if no other call holds it; `name` names the handle in errors.
    pub(crate) fn lock(&self, name: &str) -> Result<MutexGuard<'_, S>, FfiError> {
        match self.state.try_lock() {
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

    /// Whether the handle may be freed now; if a call on it is running (a free
    /// from inside its callback), marks it for that call to free instead.
    fn may_free_now(&self) -> bool {
        if let Err(TryLockError::WouldBlock) = self.state.try_lock() {
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
        while let Some(json) = items.next_json() {
            sink.send(json?)?;
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

    /// Calls back with `json`, borrowed for the call; non-zero means aborted.
    fn send(&self, json: String) -> Result<(), FfiError> {
        let text = to_cstring(json)?;
        // SAFETY: a valid callback per `new`'s contract; `text` outlives the call.
        match unsafe { (self.cb)(self.userdata, text.as_ptr()) } {
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
