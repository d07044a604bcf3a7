//! Reading request bodies with a size limit and a deadline.
//!
//! `tiny_http` gives no access to the socket, so a body read cannot be given a
//! timeout and cannot be interrupted: a client that announces a body and then
//! sends nothing blocks whoever reads it. Bodies that may still be on the wire
//! are therefore read by a helper thread that owns the request, while the worker
//! waits at most [`Settings::body_timeout`](super::state::Settings). At the
//! deadline the worker gives the request up and goes back to serving; the helper
//! answers 408 as soon as its read returns (the client sends anything more or
//! half-closes), or stays blocked until the connection ends.
//!
//! Requests that are answered without reading their body (413) are also handed
//! to a helper: dropping a `tiny_http` request reads and discards the rest of a
//! `Content-Length` body, which may never come.

use std::io;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use super::wire::{self, Reply};
use super::{Shared, lock};

/// Bodies up to this size with a `Content-Length` (and no `Expect: 100-continue`)
/// are read by `tiny_http` before it hands the request over (0.12,
/// `request::new_request`), so reading them cannot block.
const PREREAD: usize = 1024;

/// A request whose body has been read, or one already taken care of.
pub(crate) enum Body {
    /// Go on handling this request.
    Ready(tiny_http::Request, Vec<u8>),
    /// Answered (413, 400) or given up (408): nothing more to do.
    Handled,
}

fn header(req: &tiny_http::Request, name: &str) -> Option<String> {
    req.headers()
        .iter()
        .find(|h| h.field.as_str().as_str().eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str().to_owned())
}

fn too_large(limit: u64) -> Reply {
    wire::error(
        413,
        "INVALID_ARGUMENT",
        format!("the request body is larger than the limit of {limit} bytes"),
    )
}

fn timed_out(after: Duration) -> Reply {
    wire::error(
        408,
        "DEADLINE_EXCEEDED",
        format!(
            "the request body did not arrive within {} ms",
            after.as_millis()
        ),
    )
}

/// Reads `req`'s body within the configured limit and deadline.
pub(crate) fn read(shared: &Shared, mut req: tiny_http::Request) -> Body {
    let limit = shared.settings.max_body;
    let chunked = header(&req, "transfer-encoding").is_some();
    let declared = req.body_length();
    if declared.is_some_and(|n| n as u64 > limit) {
        // Refused before a byte is read; the helper then discards whatever follows.
        let reply = too_large(limit);
        shared.spawn_helper("emulator-body", move || super::server::send(req, reply));
        return Body::Handled;
    }
    let buffered =
        !chunked && declared.is_none_or(|n| n <= PREREAD) && header(&req, "expect").is_none();
    if buffered {
        return match read_all(&mut req, limit, declared, || false) {
            Ok(body) => Body::Ready(req, body),
            Err(refusal) => {
                super::server::send(req, refusal.reply);
                Body::Handled
            }
        };
    }
    let handoff = Arc::new(Handoff {
        slot: Mutex::new(Slot::Reading),
        ready: Condvar::new(),
    });
    let timeout = shared.settings.body_timeout;
    let deadline = Instant::now() + timeout;
    let theirs = Arc::clone(&handoff);
    shared.spawn_helper("emulator-body", move || {
        // Late by the clock or given up by the worker: either way the request
        // gets its 408, and the worker stops waiting.
        let late = || Instant::now() >= deadline || matches!(*lock(&theirs.slot), Slot::Abandoned);
        let outcome = read_all(&mut req, limit, declared, late);
        let mut slot = lock(&theirs.slot);
        if matches!(*slot, Slot::Abandoned) || outcome.as_ref().is_err_and(|e| e.late) {
            *slot = Slot::Abandoned;
            theirs.ready.notify_one();
            drop(slot);
            super::server::send(req, timed_out(timeout));
        } else {
            *slot = Slot::Done(Box::new((req, outcome.map_err(|e| e.reply))));
            theirs.ready.notify_one();
        }
    });
    let mut slot = lock(&handoff.slot);
    loop {
        match std::mem::replace(&mut *slot, Slot::Reading) {
            Slot::Done(done) => {
                drop(slot);
                let (req, outcome) = *done;
                return match outcome {
                    Ok(body) => Body::Ready(req, body),
                    Err(reply) => {
                        super::server::send(req, reply);
                        Body::Handled
                    }
                };
            }
            // The helper gave up first and answers the request itself.
            Slot::Abandoned => return Body::Handled,
            Slot::Reading => {}
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || shared.stop.load(std::sync::atomic::Ordering::Relaxed) {
            // The helper answers 408 once its read returns.
            *slot = Slot::Abandoned;
            return Body::Handled;
        }
        // Short waits, so that a stopping emulator is noticed.
        slot = handoff
            .ready
            .wait_timeout(slot, left.min(Duration::from_millis(50)))
            .map_or_else(|p| p.into_inner().0, |(g, _)| g);
    }
}

/// Where the helper leaves what it read, or learns that nobody waits any more.
struct Handoff {
    slot: Mutex<Slot>,
    ready: Condvar,
}

type Outcome = (tiny_http::Request, Result<Vec<u8>, Reply>);

enum Slot {
    Reading,
    Done(Box<Outcome>),
    Abandoned,
}

/// Why a body was not read to its end.
struct Refusal {
    reply: Reply,
    /// Stopped because the deadline passed; the reply is then a 408 instead.
    late: bool,
}

impl From<Reply> for Refusal {
    fn from(reply: Reply) -> Self {
        Self { reply, late: false }
    }
}

/// The whole body, or why it is refused. Stops as soon as `late` says the
/// deadline has passed.
fn read_all(
    req: &mut tiny_http::Request,
    limit: u64,
    declared: Option<usize>,
    late: impl Fn() -> bool,
) -> Result<Vec<u8>, Refusal> {
    let mut body = Vec::with_capacity(declared.unwrap_or(0).min(1 << 20));
    let mut buf = vec![0u8; declared.unwrap_or(64 * 1024).clamp(1, 64 * 1024)];
    let reader = req.as_reader();
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                log::debug!("emulator: cannot read request body: {e}");
                return Err(wire::invalid(format!(
                    "the request body is malformed or was cut off: {e}"
                ))
                .into());
            }
        };
        if late() {
            return Err(Refusal {
                reply: wire::invalid("late"),
                late: true,
            });
        }
        if (body.len() + n) as u64 > limit {
            return Err(too_large(limit).into());
        }
        body.extend_from_slice(&buf[..n]);
    }
    match declared {
        Some(len) if body.len() != len => Err(wire::invalid(format!(
            "the request body ended after {} of {len} bytes",
            body.len()
        ))
        .into()),
        _ => Ok(body),
    }
}
