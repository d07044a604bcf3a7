//! Waiting for server-side work: the wait modes, the poll schedules and the
//! polling loop.

use std::cell::Cell;
use std::time::{Duration, Instant};

use crate::cancel::CancelHandle;
use crate::error::{Error, Result};
use crate::http::Transport;
use crate::http::retry::random_unit;

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

/// How a wait spaces its polls; set with
/// [`ClientConfigBuilder::poll_schedule`](crate::ClientConfigBuilder::poll_schedule).
///
/// Either way the call's interval
/// ([`create_poll_interval`](crate::ClientConfigBuilder::create_poll_interval) for a
/// new assistant, [`operation_poll_interval`](crate::ClientConfigBuilder::operation_poll_interval)
/// for everything else) bounds every delay, a `Retry-After` on a poll's answer
/// replaces the next delay (but never shortens it below the first delay, 250 ms by
/// default, so `Retry-After: 0` cannot make a wait spin), and a [`Wait::For`]
/// deadline shortens the last one so that the final poll lands on it.
///
/// With the default intervals, the polls each schedule makes before it sees an
/// operation done (leaving out jitter and the time the requests take), when the
/// operation takes:
///
/// | operation takes | [`Adaptive`](Self::Adaptive) (default) | [`Fixed`](Self::Fixed) |
/// | --- | --- | --- |
/// | 0.3 s | 2, done at 0.75 s | 2, done at 5 s |
/// | 5 s | 4, done at 6.75 s | 2, done at 5 s |
/// | 60 s | 15 | 13 |
/// | 10 min | 123 | 121 |
///
/// ```
/// use std::time::Duration;
/// use pinecone_assistant::{ClientConfig, PollSchedule};
///
/// // The first poll after 100 ms instead of 250 ms.
/// let eager = ClientConfig::builder("pcsk_example")
///     .poll_schedule(PollSchedule::adaptive(Duration::from_millis(100)))
///     .build();
/// // One poll right away, then one every interval, as in earlier versions.
/// let steady = ClientConfig::builder("pcsk_example")
///     .poll_schedule(PollSchedule::Fixed)
///     .build();
/// assert_eq!(steady.poll_schedule(), PollSchedule::Fixed);
/// # let _ = eager;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PollSchedule {
    /// The first poll `first` after the server accepted the request; after that,
    /// each delay is twice the time waited so far, so the poll times triple
    /// (0.25 s, 0.75 s, 2.25 s, 6.75 s with the default `first`), until the delay
    /// reaches the interval, which then caps it. Delays below the cap are
    /// shortened at random by up to a fifth, so that waits started together (a
    /// batch of uploads) do not poll in step; delays at the cap are exact, which
    /// keeps the number of polls of a long operation close to the fixed
    /// schedule's.
    Adaptive {
        /// The delay before the first poll; must be greater than zero.
        first: Duration,
    },
    /// The first poll at once, then one every interval: the schedule of earlier
    /// versions of this crate and of the official SDKs.
    Fixed,
}

impl PollSchedule {
    /// The first delay of the default schedule.
    pub const DEFAULT_FIRST: Duration = Duration::from_millis(250);

    /// The part of a delay below the cap that jitter may take away.
    const JITTER: f64 = 0.2;

    /// [`PollSchedule::Adaptive`] with its first poll after `first`.
    pub fn adaptive(first: Duration) -> Self {
        Self::Adaptive { first }
    }

    /// The shortest delay a server's `Retry-After` may set: the first delay of
    /// the adaptive schedule (250 ms for the fixed one), never above `cap`, so
    /// that a server answering `Retry-After: 0` cannot make a wait poll in a
    /// tight loop.
    pub(crate) fn floor(self, cap: Duration) -> Duration {
        match self {
            Self::Adaptive { first } => first,
            Self::Fixed => Self::DEFAULT_FIRST,
        }
        .min(cap)
    }

    /// The delay before poll number `poll` (0 for the first), given the total
    /// slept before the earlier polls, the call's interval `cap`, and a number in
    /// [0, 1) that draws the jitter.
    pub(crate) fn delay(self, poll: u32, slept: Duration, cap: Duration, unit: f64) -> Duration {
        match self {
            Self::Fixed if poll == 0 => Duration::ZERO,
            Self::Fixed => cap,
            Self::Adaptive { first } => {
                // After a wait that slept nothing (a deadline of zero, a
                // `Retry-After: 0`) the schedule starts over rather than spin.
                let nominal = if poll == 0 {
                    first
                } else {
                    slept.saturating_mul(2).max(first)
                };
                if nominal >= cap {
                    cap
                } else {
                    nominal.mul_f64(1.0 - Self::JITTER * unit.clamp(0.0, 1.0))
                }
            }
        }
    }
}

impl Default for PollSchedule {
    /// [`PollSchedule::Adaptive`] with the first poll after 250 ms.
    fn default() -> Self {
        Self::adaptive(Self::DEFAULT_FIRST)
    }
}

/// What one poll found.
pub(crate) enum Poll<T> {
    /// The awaited state was reached.
    Done(T),
    /// Not yet: what the poll saw.
    Pending(Pending),
}

/// A poll that found the work still running.
pub(crate) struct Pending {
    /// The status line, with progress when known.
    pub status: String,
    /// The operation being followed, if any.
    pub operation_id: Option<String>,
    /// Its progress, if reported.
    pub percent_complete: Option<i64>,
    /// The `Retry-After` of the poll's answer: the server's choice of the next
    /// delay, which replaces the schedule's.
    pub retry_after: Option<Duration>,
}

impl<T> Poll<T> {
    pub(crate) fn pending(status: impl Into<String>) -> Self {
        Poll::Pending(Pending {
            status: status.into(),
            operation_id: None,
            percent_complete: None,
            retry_after: None,
        })
    }

    /// This poll with the `Retry-After` of its answer.
    pub(crate) fn retry_after(mut self, delay: Option<Duration>) -> Self {
        if let Poll::Pending(p) = &mut self {
            p.retry_after = delay;
        }
        self
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
/// Before each poll the loop sleeps the delay `schedule` gives for it (`cap` is
/// the call's interval), or the `Retry-After` of the previous poll's answer, in
/// both cases shortened to the time left before the deadline, so the last poll
/// happens at the deadline. Every sleep can be interrupted through `cancel`, and a
/// retry inside a poll never sleeps past the deadline (the request's error is
/// returned instead). `awaited` describes the goal for the timeout error. `wait`
/// must not be [`Wait::No`] (callers return before polling).
pub(crate) fn poll_until<T>(
    transport: &Transport,
    cancel: &CancelHandle,
    wait: Wait,
    (schedule, cap): (PollSchedule, Duration),
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
    let mut poll = 0u32;
    let mut server_delay = None;
    let mut last_seen: Option<Pending> = None;
    loop {
        let planned =
            server_delay.unwrap_or_else(|| schedule.delay(poll, slept, cap, random_unit()));
        let delay = match deadline {
            Some(limit) => planned.min(limit.saturating_sub(start.elapsed().max(slept))),
            None => planned,
        };
        if !delay.is_zero() {
            transport.pause(delay, cancel)?;
            slept += delay;
        }
        cancel.check()?;
        let pending = match step() {
            Ok(Poll::Done(v)) => return Ok(v),
            Ok(Poll::Pending(p)) => p,
            // A poll cut short by the deadline: the wait ran out, not the call.
            Err(Error::Timeout(_)) if deadline.is_some_and(|limit| start.elapsed() >= limit) => {
                let seen = last_seen.unwrap_or_else(|| Pending {
                    status: "no poll answered before the deadline".to_owned(),
                    operation_id: None,
                    percent_complete: None,
                    retry_after: None,
                });
                return Err(Error::WaitTimeout {
                    awaited: awaited(),
                    waited: start.elapsed().max(slept),
                    last_status: seen.status,
                    operation_id: seen.operation_id,
                    percent_complete: seen.percent_complete,
                });
            }
            Err(e) => return Err(e),
        };
        if let Some(observer) = transport.observer().get() {
            observer.on_event(&crate::observe::Event::WaitPoll {
                state: &pending.status,
                percent_complete: pending.percent_complete,
                waited: start.elapsed().max(slept),
            });
        }
        let elapsed = start.elapsed().max(slept);
        if deadline.is_some_and(|limit| elapsed >= limit) {
            return Err(Error::WaitTimeout {
                awaited: awaited(),
                waited: elapsed,
                last_status: pending.status,
                operation_id: pending.operation_id,
                percent_complete: pending.percent_complete,
            });
        }
        log::debug!("still {} after {elapsed:?}; polling again", pending.status);
        server_delay = pending.retry_after.map(|d| d.max(schedule.floor(cap)));
        poll = poll.saturating_add(1);
        last_seen = Some(pending);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    /// The polls `schedule` makes, without jitter and with instant requests, for
    /// work that takes `takes`: how many, and when the last one (which sees it
    /// done) happens.
    fn polls_until_done(schedule: PollSchedule, cap: Duration, takes: Duration) -> (u32, Duration) {
        let mut slept = Duration::ZERO;
        let mut poll = 0;
        loop {
            slept += schedule.delay(poll, slept, cap, 0.0);
            poll += 1;
            if slept >= takes {
                return (poll, slept);
            }
        }
    }

    #[test]
    fn adaptive_poll_times_triple_until_the_cap() {
        let schedule = PollSchedule::default();
        let mut slept = Duration::ZERO;
        let mut delays = Vec::new();
        for poll in 0..7 {
            let d = schedule.delay(poll, slept, Duration::from_secs(5), 0.0);
            delays.push(d.as_millis());
            slept += d;
        }
        assert_eq!(delays, [250, 500, 1500, 4500, 5000, 5000, 5000]);
        // The create interval caps early.
        let mut slept = Duration::ZERO;
        let mut delays = Vec::new();
        for poll in 0..4 {
            let d = schedule.delay(poll, slept, MS(500), 0.0);
            delays.push(d.as_millis());
            slept += d;
        }
        assert_eq!(delays, [250, 500, 500, 500]);
        // A first delay above the cap is the cap.
        assert_eq!(
            PollSchedule::adaptive(Duration::from_secs(9)).delay(0, Duration::ZERO, MS(500), 0.0),
            MS(500)
        );
    }

    #[test]
    fn jitter_only_shortens_and_never_touches_the_cap() {
        let schedule = PollSchedule::default();
        let cap = Duration::from_secs(5);
        for unit in [0.0, 0.25, 0.5, 0.999] {
            let first = schedule.delay(0, Duration::ZERO, cap, unit);
            assert!(first <= MS(250) && first >= MS(200), "{first:?}");
            let second = schedule.delay(1, MS(250), cap, unit);
            assert!(second <= MS(500) && second >= MS(400), "{second:?}");
            assert_eq!(schedule.delay(5, Duration::from_secs(30), cap, unit), cap);
        }
    }

    #[test]
    fn fixed_polls_at_once_then_every_interval() {
        let cap = Duration::from_secs(5);
        assert_eq!(
            PollSchedule::Fixed.delay(0, Duration::ZERO, cap, 0.5),
            Duration::ZERO
        );
        assert_eq!(PollSchedule::Fixed.delay(1, Duration::ZERO, cap, 0.5), cap);
        assert_eq!(
            PollSchedule::Fixed.delay(9, Duration::from_secs(40), cap, 0.5),
            cap
        );
    }

    #[test]
    fn a_wait_that_slept_nothing_starts_over_instead_of_spinning() {
        let d = PollSchedule::default().delay(3, Duration::ZERO, Duration::from_secs(5), 0.0);
        assert_eq!(d, MS(250));
    }

    /// The table in the docs of `PollSchedule` and in docs/wire/waiting.md.
    #[test]
    fn poll_counts_of_the_documented_table() {
        let cap = Duration::from_secs(5);
        let secs = Duration::from_secs;
        let adaptive = |takes| polls_until_done(PollSchedule::default(), cap, takes);
        let fixed = |takes| polls_until_done(PollSchedule::Fixed, cap, takes);
        assert_eq!(adaptive(MS(300)), (2, MS(750)));
        assert_eq!(fixed(MS(300)), (2, secs(5)));
        assert_eq!(adaptive(secs(5)), (4, MS(6750)));
        assert_eq!(fixed(secs(5)), (2, secs(5)));
        assert_eq!(adaptive(secs(60)), (15, MS(61_750)));
        assert_eq!(fixed(secs(60)), (13, secs(60)));
        assert_eq!(adaptive(secs(600)), (123, MS(601_750)));
        assert_eq!(fixed(secs(600)), (121, secs(600)));
        // At most about a fifth more polls than the fixed schedule from a minute on.
        for takes in [60, 61, 63, 65, 90, 120, 600] {
            let (a, f) = (adaptive(secs(takes)).0, fixed(secs(takes)).0);
            assert!(
                f64::from(a) <= f64::from(f) * 1.2,
                "{takes} s: {a} against {f}"
            );
        }
    }
}
