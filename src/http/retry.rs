//! When to retry, and how long to wait first.
//!
//! The policy is idempotency-aware: a request that may already have done its work
//! at the server (a billed generation, a create, an upload without an id) is only
//! repeated when the server certainly did not act on it.

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

/// How many times and how patiently to retry failed requests.
///
/// ```
/// use std::time::Duration;
/// use pinecone_assistant::RetryPolicy;
/// let policy = RetryPolicy::new().max_retries(5).max_delay(Duration::from_secs(10));
/// # let _ = policy;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Retries after the first attempt; 0 disables retrying.
    pub max_retries: u32,
    /// The backoff before retry *k* is uniform in 0..min(max_delay, base × 2^k).
    pub base_delay: Duration,
    /// The longest single wait. A `Retry-After` above it ends retrying and the
    /// error carries the server's value, so the caller decides.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 3,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// The default policy: 3 retries, 0.5 s base, 30 s cap.
    pub fn new() -> Self {
        Self::default()
    }

    /// A policy that never retries.
    pub fn none() -> Self {
        Self::default().max_retries(0)
    }

    /// Retries after the first attempt. Defaults to 3.
    pub fn max_retries(self, max_retries: u32) -> Self {
        Self {
            max_retries,
            ..self
        }
    }

    /// The backoff base. Defaults to 0.5 s.
    pub fn base_delay(self, base_delay: Duration) -> Self {
        Self { base_delay, ..self }
    }

    /// The cap on one wait, and on an acceptable `Retry-After`. Defaults to 30 s.
    pub fn max_delay(self, max_delay: Duration) -> Self {
        Self { max_delay, ..self }
    }

    /// Full-jitter backoff before retry number `retry` (0-based).
    pub(crate) fn backoff(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry.min(31)).unwrap_or(u32::MAX);
        let ceiling = self.base_delay.saturating_mul(factor).min(self.max_delay);
        ceiling.mul_f64(random_unit())
    }
}

/// What repeating a request can do, which decides what may be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RequestClass {
    /// GETs: no side effect.
    Safe,
    /// PATCH, DELETE, PUT upsert: a repeat converges to the same end state.
    ReplaySafe,
    /// context, chat, completions, evaluation: billed on every accepted attempt.
    Generation,
    /// POST upload without an id: a repeat may store a duplicate.
    Creating,
    /// POST create assistant: also never retried on 429 (a name conflict or quota).
    CreateAssistant,
}

/// Why an attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// No byte of the request reached the server (DNS, refused, TLS handshake,
    /// connect timeout).
    Connect,
    /// The request was (maybe) sent but no response headers came back.
    AfterStart,
    /// The server answered with this status.
    Status(u16),
}

impl RequestClass {
    /// Whether this failure may be retried, given whether the body can be sent
    /// again and whether the response carried a `Retry-After`.
    pub(crate) fn may_retry(
        self,
        failure: Failure,
        body_replayable: bool,
        has_retry_after: bool,
    ) -> bool {
        use RequestClass::*;
        let writes_again = matches!(self, Safe | ReplaySafe);
        match failure {
            Failure::Connect => body_replayable,
            Failure::AfterStart => writes_again && body_replayable,
            Failure::Status(408) => body_replayable,
            Failure::Status(429) => self != CreateAssistant && body_replayable,
            Failure::Status(503) => body_replayable && (writes_again || has_retry_after),
            Failure::Status(500 | 502 | 504) => writes_again && body_replayable,
            Failure::Status(_) => false,
        }
    }
}

/// Parses `Retry-After`: delta-seconds (integer or decimal) or an HTTP-date in
/// any of the three forms HTTP recipients must accept (IMF-fixdate, the obsolete
/// RFC 850 form and the C `asctime` form). A value that is negative, non-finite,
/// unparseable, an impossible date (31 February, a weekday that does not match) or
/// a date not in the future gives `None`.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(1e9)));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    at.duration_since(now).ok().filter(|d| !d.is_zero())
}

/// A number in [0, 1) that differs between calls and processes. Jitter only needs
/// spread, not unpredictability, so std's randomly keyed hasher is enough.
pub(crate) fn random_unit() -> f64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use RequestClass::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn retry_after_forms() {
        let now = UNIX_EPOCH + Duration::from_secs(784_111_000);
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("1.5", now),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(parse_retry_after("-1", now), None);
        assert_eq!(parse_retry_after("nan", now), None);
        assert_eq!(parse_retry_after("soon", now), None);
        // 784111777 = Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now),
            Some(Duration::from_secs(777))
        );
        assert_eq!(
            parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", now),
            Some(Duration::from_secs(777))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now),
            None,
            "past"
        );
    }

    #[test]
    fn retry_after_dates_in_every_form_http_allows() {
        let now = UNIX_EPOCH + Duration::from_secs(784_111_000);
        // The same instant (784111777) in the three forms.
        for form in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
        ] {
            assert_eq!(
                parse_retry_after(form, now),
                Some(Duration::from_secs(777)),
                "{form}"
            );
        }
    }

    #[test]
    fn impossible_retry_after_dates_are_ignored() {
        let now = UNIX_EPOCH;
        for bad in [
            "Sat, 31 Feb 2026 08:00:00 GMT",
            "Thu, 29 Feb 2027 08:00:00 GMT",
            "Tue, 06 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Nov 1994 08:49:37 CET",
            "Sun Feb 31 08:00:00 2026",
        ] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad}");
        }
        // A real 29 February is fine.
        assert!(parse_retry_after("Tue, 29 Feb 2028 08:00:00 GMT", now).is_some());
    }

    #[test]
    fn class_table() {
        let s = |c: RequestClass, f| c.may_retry(f, true, false);
        for c in [Safe, ReplaySafe, Generation, Creating, CreateAssistant] {
            assert!(s(c, Failure::Connect));
            assert!(s(c, Failure::Status(408)));
            assert!(!s(c, Failure::Status(400)));
            assert!(!s(c, Failure::Status(404)));
        }
        assert!(s(Safe, Failure::AfterStart) && s(ReplaySafe, Failure::AfterStart));
        assert!(!s(Generation, Failure::AfterStart) && !s(Creating, Failure::AfterStart));
        assert!(s(Generation, Failure::Status(429)) && s(Creating, Failure::Status(429)));
        assert!(!s(CreateAssistant, Failure::Status(429)));
        assert!(s(Safe, Failure::Status(500)) && !s(Generation, Failure::Status(500)));
        assert!(!s(Generation, Failure::Status(503)));
        assert!(Generation.may_retry(Failure::Status(503), true, true));
        assert!(
            !ReplaySafe.may_retry(Failure::Status(500), false, false),
            "body spent"
        );
    }

    #[test]
    fn backoff_stays_under_its_ceiling() {
        let p = RetryPolicy::new();
        for k in 0..40 {
            let d = p.backoff(k);
            assert!(d <= p.max_delay);
            assert!(d <= p.base_delay.saturating_mul(1 << k.min(20)));
        }
    }
}
