//! Cancellation of waits, retries and streams from another thread.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// A handle that stops a call running on another thread.
///
/// Cancelling wakes any sleep (polling interval, retry backoff) at once and makes a
/// blocked stream read return; the interrupted call returns [`Error::Cancelled`].
/// A handle stays cancelled: use a new one for new work. Cloning shares the state.
///
/// ```
/// use pinecone_assistant::CancelHandle;
///
/// let handle = CancelHandle::new();
/// let remote = handle.clone();
/// std::thread::spawn(move || remote.cancel()).join().unwrap();
/// assert!(handle.is_cancelled());
/// ```
#[derive(Clone, Default)]
pub struct CancelHandle {
    inner: Arc<Inner>,
}

type Hook = Box<dyn FnOnce() + Send>;

#[derive(Default)]
struct Inner {
    cancelled: AtomicBool,
    /// Guards the hooks and serves the condition variable that sleeps wait on.
    hooks: Mutex<Vec<(u64, Hook)>>,
    next_hook: std::sync::atomic::AtomicU64,
    wake: Condvar,
    /// For a handle made by [`CancelHandle::child`]: the hook that cancels it
    /// with its parent, removed from the parent when this handle goes away.
    parent: Mutex<Option<HookGuard>>,
}

impl fmt::Debug for CancelHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelHandle")
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}

impl CancelHandle {
    /// A handle that is not cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Cancels every call that uses this handle, now and later.
    pub fn cancel(&self) {
        self.inner.cancelled.store(true, Ordering::SeqCst);
        let hooks = {
            let mut guard = lock(&self.inner.hooks);
            std::mem::take(&mut *guard)
        };
        for (_, hook) in hooks {
            hook();
        }
        self.inner.wake.notify_all();
    }

    /// A new handle that is cancelled when this one is, and that can also be
    /// cancelled on its own without touching this one: for stopping one piece
    /// of work (say, a batch started from a client) while still obeying the
    /// handle above it.
    ///
    /// ```
    /// use pinecone_assistant::CancelHandle;
    ///
    /// let all = CancelHandle::new();
    /// let batch = all.child();
    /// batch.cancel();
    /// assert!(!all.is_cancelled());
    ///
    /// let other = all.child();
    /// all.cancel();
    /// assert!(other.is_cancelled());
    /// ```
    pub fn child(&self) -> CancelHandle {
        let child = CancelHandle::new();
        // Weak: a parent that lives long (a client's handle) must not keep every
        // child it ever had alive through its hooks.
        let weak = Arc::downgrade(&child.inner);
        let guard = self.on_cancel(move || {
            if let Some(inner) = weak.upgrade() {
                CancelHandle { inner }.cancel();
            }
        });
        *lock(&child.inner.parent) = Some(guard);
        child
    }

    /// Whether [`cancel`](Self::cancel) was called.
    pub fn is_cancelled(&self) -> bool {
        self.inner.cancelled.load(Ordering::SeqCst)
    }

    /// `Err(Cancelled)` once cancelled.
    pub(crate) fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            Err(Error::Cancelled)
        } else {
            Ok(())
        }
    }

    /// Sleeps for `duration` unless cancelled first.
    pub(crate) fn sleep(&self, duration: Duration) -> Result<()> {
        // A duration too long to represent (`Duration::MAX`) sleeps until cancelled.
        let deadline = Instant::now().checked_add(duration);
        let mut guard = lock(&self.inner.hooks);
        loop {
            if self.is_cancelled() {
                return Err(Error::Cancelled);
            }
            let left = match deadline {
                Some(end) => match end.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => left,
                    _ => return Ok(()),
                },
                None => Duration::from_secs(3600),
            };
            guard = match self.inner.wake.wait_timeout(guard, left) {
                Ok((g, _)) => g,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }

    /// Runs `hook` when the handle is cancelled (at once if it already is). The
    /// returned guard removes the hook when dropped, so finished work leaves nothing
    /// behind.
    pub(crate) fn on_cancel(&self, hook: impl FnOnce() + Send + 'static) -> HookGuard {
        let id = self.inner.next_hook.fetch_add(1, Ordering::Relaxed);
        {
            let mut hooks = lock(&self.inner.hooks);
            if !self.is_cancelled() {
                hooks.push((id, Box::new(hook)));
                return HookGuard {
                    handle: self.clone(),
                    id,
                };
            }
        }
        hook();
        HookGuard {
            handle: self.clone(),
            id,
        }
    }
}

/// Removes a cancel hook when dropped.
pub(crate) struct HookGuard {
    handle: CancelHandle,
    id: u64,
}

impl Drop for HookGuard {
    fn drop(&mut self) {
        lock(&self.handle.inner.hooks).retain(|(id, _)| *id != self.id);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding this lock cannot leave the hook list inconsistent.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// Sleeps `delay` on a handle that another thread cancels after 20 ms; returns
    /// what the sleep gave and how long it took.
    fn sleep_cancelled_after_20_ms(delay: Duration) -> (Result<()>, Duration) {
        let h = CancelHandle::new();
        let remote = h.clone();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            remote.cancel();
        });
        let start = Instant::now();
        let outcome = h.sleep(delay);
        t.join().unwrap();
        (outcome, start.elapsed())
    }

    #[test]
    fn cancel_wakes_a_sleeper() {
        let (outcome, took) = sleep_cancelled_after_20_ms(Duration::from_secs(30));
        assert!(matches!(outcome, Err(Error::Cancelled)));
        assert!(took < Duration::from_secs(5));
    }

    #[test]
    fn an_endless_sleep_still_wakes_on_cancel() {
        let (outcome, _) = sleep_cancelled_after_20_ms(Duration::MAX);
        assert!(matches!(outcome, Err(Error::Cancelled)));
    }

    #[test]
    fn children_follow_their_parent_and_leave_nothing_behind() {
        let parent = CancelHandle::new();
        let child = parent.child();
        let grandchild = child.child();
        child.cancel();
        assert!(grandchild.is_cancelled() && !parent.is_cancelled());

        let second = parent.child();
        let woke = {
            let second = second.clone();
            std::thread::spawn(move || second.sleep(Duration::from_secs(30)))
        };
        std::thread::sleep(Duration::from_millis(20));
        parent.cancel();
        assert!(matches!(woke.join().unwrap(), Err(Error::Cancelled)));
        assert!(
            parent.child().is_cancelled(),
            "a child of a cancelled handle"
        );

        // A dropped child takes its hook out of the parent.
        let long_lived = CancelHandle::new();
        for _ in 0..100 {
            drop(long_lived.child());
        }
        assert!(lock(&long_lived.inner.hooks).is_empty());
    }

    #[test]
    fn hooks_run_once_and_are_removed_by_their_guard() {
        let h = CancelHandle::new();
        let count = Arc::new(AtomicUsize::new(0));
        let c = count.clone();
        let kept = h.on_cancel(move || {
            c.fetch_add(1, Ordering::SeqCst);
        });
        let c = count.clone();
        drop(h.on_cancel(move || {
            c.fetch_add(10, Ordering::SeqCst);
        }));
        h.cancel();
        h.cancel();
        assert_eq!(count.load(Ordering::SeqCst), 1);
        drop(kept);
        let c = count.clone();
        let _late = h.on_cancel(move || {
            c.fetch_add(100, Ordering::SeqCst);
        });
        assert_eq!(count.load(Ordering::SeqCst), 101);
    }
}
