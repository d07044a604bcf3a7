//! Fault injection: scripted misbehaviour for the next matching requests.

use std::time::Duration;

use serde_json::Value;

use crate::models::setters;

/// What an injected fault does to a request it matches.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaultAction {
    /// Answer this status instead of handling the request, with an optional
    /// `Retry-After` header value and body (default: the real error body shape).
    Status {
        /// The HTTP status.
        status: u16,
        /// The `Retry-After` header value, sent verbatim.
        retry_after: Option<String>,
        /// The body, sent verbatim as JSON text.
        body: Option<String>,
    },
    /// Wait this long, then handle the request normally.
    Delay(Duration),
    /// Answer bytes that are not HTTP, so the client sees a broken connection
    /// before any response header.
    Reset,
    /// On a streamed answer: after this many events, break the chunked framing so
    /// the body fails mid-stream (as a dropped connection does).
    CutStream {
        /// Events delivered before the cut.
        after_events: usize,
    },
    /// On a streamed answer: after this many events, end the body cleanly, so the
    /// stream stops before its final chunk (`message_end` / the finish chunk).
    EndStream {
        /// Events delivered before the early end.
        after_events: usize,
    },
}

impl FaultAction {
    /// Whether the action applies to a streamed answer rather than to the request.
    pub(crate) fn is_stream(&self) -> bool {
        matches!(self, Self::CutStream { .. } | Self::EndStream { .. })
    }
}

/// A fault for the next `times` requests that match its method and path filters,
/// or, with a [`rate`](Self::rate), for a share of them drawn at random.
///
/// Over HTTP, `POST /_emulator/faults` takes the same as JSON:
/// `{"kind":"status","status":503,"retry_after":"1","body":"…","times":2,
/// "path_contains":"/chat","method":"POST","rate":0.05}`, or the kinds `delay`
/// (`delay_ms`), `reset`, `cut_stream` and `end_stream` (`after_events`); `DELETE
/// /_emulator/faults` removes them all.
///
/// ```
/// use pinecone_assistant::emulator::Fault;
/// let fault = Fault::status(503).retry_after("1").times(2).path_contains("/chat").method("POST");
/// # let _ = fault;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct Fault {
    /// What it does.
    pub action: FaultAction,
    /// How many matching requests it affects.
    pub times: u32,
    /// Only requests whose path contains this text.
    pub path_contains: Option<String>,
    /// Only requests with this method (case-insensitive).
    pub method: Option<String>,
    /// The chance, in parts per million, that a matching request is hit; `None`
    /// hits every one. Set with [`rate`](Self::rate).
    pub rate_ppm: Option<u32>,
}

impl Fault {
    fn new(action: FaultAction) -> Self {
        Self {
            action,
            times: 1,
            path_contains: None,
            method: None,
            rate_ppm: None,
        }
    }

    /// Answer `status` (with the real error body shape unless [`body`](Self::body) is set).
    pub fn status(status: u16) -> Self {
        Self::new(FaultAction::Status {
            status,
            retry_after: None,
            body: None,
        })
    }

    /// Wait `delay` before answering normally.
    pub fn delay(delay: Duration) -> Self {
        Self::new(FaultAction::Delay(delay))
    }

    /// Break the connection before any response header.
    pub fn reset() -> Self {
        Self::new(FaultAction::Reset)
    }

    /// Break a streamed answer after `after_events` events.
    pub fn cut_stream(after_events: usize) -> Self {
        Self::new(FaultAction::CutStream { after_events })
    }

    /// End a streamed answer cleanly after `after_events` events, before its final chunk.
    pub fn end_stream(after_events: usize) -> Self {
        Self::new(FaultAction::EndStream { after_events })
    }

    /// The `Retry-After` value of a [`status`](Self::status) fault. Defaults to none.
    pub fn retry_after(mut self, value: impl Into<String>) -> Self {
        if let FaultAction::Status { retry_after, .. } = &mut self.action {
            *retry_after = Some(value.into());
        }
        self
    }

    /// The body of a [`status`](Self::status) fault. Defaults to
    /// `{"error":{"code":…,"message":"injected fault"},"status":…}`.
    pub fn body(mut self, text: impl Into<String>) -> Self {
        if let FaultAction::Status { body, .. } = &mut self.action {
            *body = Some(text.into());
        }
        self
    }

    setters! {
        /// How many matching requests it affects. Defaults to 1. A fault for 0
        /// requests is dropped by [`Emulator::inject`](super::Emulator::inject)
        /// (over HTTP, `"times": 0` is a 400).
        times(n: u32) => times = n;
        /// Only requests whose path contains `text`. Defaults to every path.
        path_contains(text: impl Into<String>) => path_contains = Some(text.into());
        /// Only requests with this method. Defaults to every method.
        method(method: impl Into<String>) => method = Some(method.into());
    }

    /// Hits each matching request with probability `chance` (0 to 1) instead of
    /// every one, and stays until cleared: a standing fault for soak tests, e.g.
    /// 5 % of requests answered 503. Draws follow the emulator's
    /// [`seed`](super::EmulatorBuilder::seed). Call [`times`](Self::times) after
    /// it to cap the number of hits. Defaults to every matching request.
    ///
    /// ```
    /// use pinecone_assistant::emulator::Fault;
    /// let flaky = Fault::status(503).retry_after("0").rate(0.05);
    /// assert_eq!(flaky.rate_ppm, Some(50_000));
    /// ```
    pub fn rate(mut self, chance: f64) -> Self {
        let chance = if chance.is_nan() {
            0.0
        } else {
            chance.clamp(0.0, 1.0)
        };
        self.rate_ppm = Some((chance * 1e6).round() as u32);
        self.times = u32::MAX;
        self
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        self.times > 0
            && self
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && self
                .path_contains
                .as_deref()
                .is_none_or(|p| path.contains(p))
    }

    /// Reads the JSON form used by `POST /_emulator/faults`:
    /// `{"kind":"status","status":503,"retry_after":"1","body":"…","times":2,
    /// "path_contains":"/chat","method":"POST"}`; other kinds are `delay`
    /// (`delay_ms`), `reset`, `cut_stream` and `end_stream` (`after_events`).
    pub(crate) fn from_json(v: &Value) -> Result<Self, String> {
        let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        let num = |k: &str| v.get(k).and_then(Value::as_u64);
        let events = || {
            num("after_events")
                .map(|n| n as usize)
                .ok_or("after_events (integer) is required")
        };
        let kind = text("kind").ok_or("kind is required")?;
        let mut fault = match kind.as_str() {
            "status" => {
                let status = num("status")
                    .and_then(|s| u16::try_from(s).ok())
                    .filter(|s| (100..=599).contains(s))
                    .ok_or("status (100-599) is required")?;
                let mut f = Self::status(status);
                if let Some(r) = text("retry_after") {
                    f = f.retry_after(r);
                }
                if let Some(b) = text("body") {
                    f = f.body(b);
                }
                f
            }
            "delay" => Self::delay(Duration::from_millis(
                num("delay_ms").ok_or("delay_ms (integer) is required")?,
            )),
            "reset" => Self::reset(),
            "cut_stream" => Self::cut_stream(events()?),
            "end_stream" => Self::end_stream(events()?),
            other => {
                return Err(format!(
                    "unknown kind {other:?}; use status, delay, reset, cut_stream or end_stream"
                ));
            }
        };
        match v.get("times") {
            None => {}
            Some(t) => {
                // A fault for no request would be queued and never fire: refused, so
                // that a test script's mistake shows at once.
                let n = t
                    .as_u64()
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| format!("times must be an integer >= 1, got {t}"))?;
                fault.times = u32::try_from(n).map_err(|_| "times is too large")?;
            }
        }
        if let Some(r) = v.get("rate") {
            let chance = r
                .as_f64()
                .filter(|c| (0.0..=1.0).contains(c))
                .ok_or_else(|| format!("rate must be a number from 0 to 1, got {r}"))?;
            let times = fault.times;
            fault = fault.rate(chance);
            if v.get("times").is_some() {
                fault.times = times;
            }
        }
        fault.path_contains = text("path_contains");
        fault.method = text("method");
        Ok(fault)
    }
}

/// The pending faults, first injected first used.
#[derive(Debug, Default)]
pub(crate) struct FaultQueue {
    faults: Vec<Fault>,
    /// The state of the draws of rate faults.
    draws: u64,
}

impl FaultQueue {
    /// A queue whose rate faults draw from `seed`.
    pub(crate) fn seeded(seed: u64) -> Self {
        Self {
            faults: Vec::new(),
            draws: seed,
        }
    }

    pub(crate) fn push(&mut self, fault: Fault) {
        if fault.times > 0 {
            self.faults.push(fault);
        }
    }

    pub(crate) fn clear(&mut self) {
        self.faults.clear();
    }

    /// Consumes one use of the first fault that matches and whose action is of the
    /// wanted family (request-level or stream-level).
    pub(crate) fn take(&mut self, method: &str, path: &str, stream: bool) -> Option<FaultAction> {
        let draws = &mut self.draws;
        let i = self.faults.iter().position(|f| {
            f.action.is_stream() == stream
                && f.matches(method, path)
                && f.rate_ppm.is_none_or(|ppm| {
                    *draws = draws.wrapping_add(1);
                    (super::delay::mix(*draws) % 1_000_000) < u64::from(ppm)
                })
        })?;
        let f = &mut self.faults[i];
        f.times -= 1;
        let action = f.action.clone();
        if f.times == 0 {
            drop(self.faults.remove(i));
        }
        Some(action)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn queue_matches_filters_and_counts_down() {
        let mut q = FaultQueue::default();
        q.push(
            Fault::status(503)
                .times(2)
                .path_contains("/chat")
                .method("post"),
        );
        q.push(Fault::cut_stream(1));
        assert_eq!(q.take("GET", "/assistant/chat/a", false), None);
        assert_eq!(q.take("POST", "/assistant/files/a", false), None);
        assert!(q.take("POST", "/assistant/chat/a", false).is_some());
        assert!(q.take("POST", "/assistant/chat/a", false).is_some());
        assert_eq!(q.take("POST", "/assistant/chat/a", false), None);
        assert_eq!(
            q.take("POST", "/x", true),
            Some(FaultAction::CutStream { after_events: 1 })
        );
        assert_eq!(q.take("POST", "/x", true), None);
    }

    #[test]
    fn rate_faults_hit_about_their_share_and_stay() {
        let mut q = FaultQueue::seeded(7);
        q.push(Fault::status(503).rate(0.05).path_contains("/files"));
        let hits = (0..20_000)
            .filter(|_| q.take("GET", "/assistant/files/a", false).is_some())
            .count();
        assert!((800..1200).contains(&hits), "{hits} of 20000");
        assert_eq!(q.take("GET", "/assistant/chat/a", false), None);
        // The same seed draws the same requests.
        let draw = |seed| {
            let mut q = FaultQueue::seeded(seed);
            q.push(Fault::reset().rate(0.5));
            (0..64)
                .map(|_| q.take("GET", "/", false).is_some())
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(3), draw(3));
        assert_ne!(draw(3), draw(4));
        // A capped rate fault goes once used up.
        let mut q = FaultQueue::seeded(1);
        q.push(Fault::reset().rate(1.0).times(2));
        assert!(q.take("GET", "/", false).is_some());
        assert!(q.take("GET", "/", false).is_some());
        assert_eq!(q.take("GET", "/", false), None);
    }

    #[test]
    fn json_form_is_parsed_and_checked() {
        let f = Fault::from_json(
            &json!({"kind":"status","status":429,"retry_after":"2","times":3,"method":"GET"}),
        )
        .unwrap();
        assert_eq!(
            f,
            Fault::status(429).retry_after("2").times(3).method("GET")
        );
        assert!(Fault::from_json(&json!({"kind":"status"})).is_err());
        assert!(Fault::from_json(&json!({"kind":"explode"})).is_err());
        assert!(Fault::from_json(&json!({"kind":"reset","times":0})).is_err());
        assert!(Fault::from_json(&json!({"kind":"reset","rate":1.5})).is_err());
        assert_eq!(
            Fault::from_json(&json!({"kind":"reset","rate":0.02})).unwrap(),
            Fault::reset().rate(0.02)
        );
        assert_eq!(
            Fault::from_json(&json!({"kind":"reset","rate":0.02,"times":3})).unwrap(),
            Fault::reset().rate(0.02).times(3)
        );
        assert_eq!(
            Fault::from_json(&json!({"kind":"delay","delay_ms":5}))
                .unwrap()
                .action,
            FaultAction::Delay(Duration::from_millis(5))
        );
    }
}
