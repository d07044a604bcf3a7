//! Waiting for server-side work: the wait modes and the polling loop.

use std::cell::Cell;
use std::time::{Duration, Instant};

use crate::cancel::CancelHandle;
use crate::error::{Error, Result};
use crate::http::Transport;

/// How long a call waits for the server to finish what it started.
///
/// Replaces the official SDKs' `timeout` argument (`-1` = [`Wait::No`],
/// `None` = [`Wait::Forever`], a number = [`Wait::For`]).
///
/// ```
/// use std::time::Duration;
/// use pinecone_assistant::Wait;
/// let patient = Wait::For(Duration::from_secs(120));
/// # let _ = (patient, Wait::No, Wait::Forever);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Wait {
    /// Return as soon as the server accepted the request.
    No,
    /// Poll until the work finishes or fails, however long that takes.
    #[default]
    Forever,
    /// Poll until the work finishes or fails, or this much time has passed; then
    /// fail with [`Error::WaitTimeout`] (the work goes on at the server).
    /// `For(Duration::ZERO)` polls exactly once.
    For(Duration),
}

/// What one poll found.
pub(crate) enum Poll<T> {
    /// The awaited state was reached.
    Done(T),
    /// Not yet; the status line and, for operations, its id and progress.
    Pending {
        status: String,
        operation_id: Option<String>,
        percent_complete: Option<i64>,
    },
}

impl<T> Poll<T> {
    pub(crate) fn pending(status: impl Into<String>) -> Self {
        Poll::Pending {
            status: status.into(),
            operation_id: None,
            percent_complete: None,
        }
    }
}

thread_local! {
    /// The deadline of the wait running on this thread, if any. The transport reads
    /// it so a retry inside a poll never sleeps past the caller's deadline.
    static WAIT_DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// The deadline of the wait in progress on this thread.
pub(crate) fn wait_deadline() -> Option<Instant> {
    WAIT_DEADLINE.with(Cell::get)
}

/// Installs a wait deadline for the current thread until dropped (then restores
/// the previous one, so nested waits compose).
struct DeadlineScope(Option<Instant>);

impl DeadlineScope {
    fn enter(deadline: Option<Instant>) -> Self {
        let outer = wait_deadline();
        let effective = match (outer, deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        WAIT_DEADLINE.with(|d| d.set(effective));
        Self(outer)
    }
}

impl Drop for DeadlineScope {
    fn drop(&mut self) {
        WAIT_DEADLINE.with(|d| d.set(self.0));
    }
}

/// Polls with `step` until it reports `Done`, an error, or the deadline of `wait`.
///
/// The first poll runs at once. Each sleep is the interval, shortened to the time
/// left before the deadline so the last poll happens at the deadline; every sleep
/// can be interrupted through `cancel`, and a retry inside a poll never sleeps past
/// the deadline (the request's error is returned instead). `awaited` describes the goal for the
/// timeout error. `wait` must not be [`Wait::No`] (callers return before polling).
pub(crate) fn poll_until<T>(
    transport: &Transport,
    cancel: &CancelHandle,
    wait: Wait,
    interval: Duration,
    awaited: impl FnOnce() -> String,
    mut step: impl FnMut() -> Result<Poll<T>>,
) -> Result<T> {
    let deadline = match wait {
        Wait::For(d) => Some(d),
        _ => None,
    };
    let start = Instant::now();
    // A deadline too far away to represent (`Duration::MAX`) is no deadline.
    let _deadline = DeadlineScope::enter(deadline.and_then(|d| start.checked_add(d)));
    // With an injected sleeper no real time passes, so the slept total counts too.
    let mut slept = Duration::ZERO;
    let mut last_seen: Option<(String, Option<String>, Option<i64>)> = None;
    loop {
        cancel.check()?;
        let (status, operation_id, percent_complete) = match step() {
            Ok(Poll::Done(v)) => return Ok(v),
            Ok(Poll::Pending {
                status,
                operation_id,
                percent_complete,
            }) => (status, operation_id, percent_complete),
            // A poll cut short by the deadline: the wait ran out, not the call.
            Err(Error::Timeout(_)) if deadline.is_some_and(|limit| start.elapsed() >= limit) => {
                let (status, operation_id, percent_complete) = last_seen.unwrap_or_else(|| {
                    (
                        "no poll answered before the deadline".to_owned(),
                        None,
                        None,
                    )
                });
                return Err(Error::WaitTimeout {
                    awaited: awaited(),
                    waited: start.elapsed().max(slept),
                    last_status: status,
                    operation_id,
                    percent_complete,
                });
            }
            Err(e) => return Err(e),
        };
        if let Some(observer) = transport.observer().get() {
            observer.on_event(&crate::observe::Event::WaitPoll {
                state: &status,
                percent_complete,
                waited: start.elapsed().max(slept),
            });
        }
        let elapsed = start.elapsed().max(slept);
        let delay = match deadline {
            Some(limit) if elapsed >= limit => {
                return Err(Error::WaitTimeout {
                    awaited: awaited(),
                    waited: elapsed,
                    last_status: status,
                    operation_id,
                    percent_complete,
                });
            }
            Some(limit) => interval.min(limit - elapsed),
            None => interval,
        };
        log::debug!("still {status}; polling again in {delay:?}");
        last_seen = Some((status, operation_id, percent_complete));
        transport.pause(delay, cancel)?;
        slept += delay;
    }
}
