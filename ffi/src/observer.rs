//! The observer: a callback that receives every event of a client as JSON, for
//! metrics and tracing.

use std::ffi::{CString, c_char, c_void};
use std::sync::Arc;

use ::pinecone_assistant::observe::{Event, Observer};
use serde_json::{Value, json};

use crate::client::pinecone_client;
use crate::error::{pinecone_result, result_name};

/// Receives one event of a client as a JSON object (`event_json`, borrowed for
/// the call only) with the `userdata` given at registration.
///
/// It runs on the thread of the call it reports on, inside that call, and may
/// run on several threads at once: make it thread-safe and quick (add to
/// counters, queue the text). It must not unwind, and must not call
/// `pinecone_client_set_observer`.
pub type pinecone_observer_cb =
    Option<unsafe extern "C" fn(event_json: *const c_char, userdata: *mut c_void)>;

/// A registered C callback as a Rust observer.
struct CallbackObserver {
    cb: unsafe extern "C" fn(*const c_char, *mut c_void),
    userdata: *mut c_void,
}

// SAFETY: `pinecone_client_set_observer` requires the callback and its
// userdata to be usable from any thread, at the same time.
unsafe impl Send for CallbackObserver {}
// SAFETY: as above.
unsafe impl Sync for CallbackObserver {}

impl Observer for CallbackObserver {
    fn on_event(&self, event: &Event<'_>) {
        // serde_json escapes NUL, so the text has none.
        let Ok(text) = CString::new(event_json(event).to_string()) else {
            return;
        };
        // SAFETY: a valid callback per the registration's contract, given a
        // NUL-terminated string alive for the call.
        unsafe { (self.cb)(text.as_ptr(), self.userdata) }
    }
}

fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn micros(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// The JSON form of an event; its `event` key names the kind.
pub(crate) fn event_json(event: &Event<'_>) -> Value {
    match *event {
        Event::RequestStart {
            operation,
            method,
            route,
            attempt,
            ..
        } => json!({
            "event": "request_start", "operation": operation, "method": method,
            "route": route, "attempt": attempt,
        }),
        Event::Response {
            operation,
            method,
            route,
            attempt,
            status,
            latency,
            request_id,
            bytes,
            ..
        } => json!({
            "event": "response", "operation": operation, "method": method, "route": route,
            "attempt": attempt, "status": status, "latency_us": micros(latency),
            "request_id": request_id, "bytes": bytes,
        }),
        Event::RetryScheduled {
            operation,
            method,
            route,
            attempt,
            reason,
            delay,
            ..
        } => json!({
            "event": "retry_scheduled", "operation": operation, "method": method,
            "route": route, "attempt": attempt, "reason": reason, "delay_ms": millis(delay),
        }),
        Event::WaitPoll {
            state,
            percent_complete,
            waited,
            ..
        } => json!({
            "event": "wait_poll", "state": state, "percent_complete": percent_complete,
            "waited_ms": millis(waited),
        }),
        Event::StreamEnd {
            operation,
            route,
            chunks,
            usage,
            finish_reason,
            complete,
            duration,
            ..
        } => json!({
            "event": "stream_end", "operation": operation, "route": route, "chunks": chunks,
            "usage": usage, "finish_reason": finish_reason, "complete": complete,
            "duration_ms": millis(duration),
        }),
        Event::Error {
            operation,
            route,
            error,
            ..
        } => {
            let code = pinecone_result::of(error);
            json!({
                "event": "error", "operation": operation, "route": route,
                "result": result_name(code), "code": code as i32, "message": error.to_string(),
                "status": error.status(),
            })
        }
        // Kinds a later version adds reach C by name only, until they are
        // described here.
        _ => json!({ "event": "other" }),
    }
}

/// Registers `cb` as the observer of `client`, of every client sharing its
/// connections (made by `pinecone_client_with_cancel` or
/// `pinecone_client_with_total_timeout`, in either direction) and of the
/// assistants, paginators and streams made from them, replacing any observer
/// they had. NULL `cb` removes it.
///
/// Each event is a JSON object whose `event` key names its kind; requests are
/// named by `operation` (e.g. `"describe_assistant"`) and `route`, a template
/// such as `"/chat/{assistant_name}"`, never by names, ids, bodies or the API key:
///
/// - `{"event":"request_start","operation","method","route","attempt"}`: an attempt
///   is about to be sent (`attempt` 1, then 2 for the first retry...);
/// - `{"event":"response",...,"attempt","status","latency_us","request_id","bytes"}`:
///   its answer (for a stream, at its headers, `bytes` null);
/// - `{"event":"retry_scheduled",...,"attempt","reason","delay_ms"}`: the attempt
///   failed and another follows after `delay_ms`;
/// - `{"event":"wait_poll","state","percent_complete","waited_ms"}`: a wait found
///   the work still running;
/// - `{"event":"stream_end","operation","route","chunks","usage","finish_reason",
///   "complete","duration_ms"}`: a stream ended (`complete` false when it broke or
///   was freed early; `usage` has `prompt_tokens`, `completion_tokens`,
///   `total_tokens` when the stream sent them);
/// - `{"event":"error","operation","route","result","code","message","status"}`:
///   a call failed (`result` names its `pinecone_result`).
///
/// `cb` runs synchronously on the thread of the call it reports on, possibly on
/// several threads at once, so `cb` and `userdata` must be thread-safe. Calls
/// already under way when this returns may still call the previous callback
/// until they end: keep its userdata alive until then (or until the clients are
/// freed). Without an observer, a call pays nothing for this.
///
/// Returns `PINECONE_RESULT_OK` or `PINECONE_RESULT_NULL_ARGUMENT` (`client`).
/// Thread-safe: may be called while other threads use the client.
///
/// # Safety
///
/// `client` is NULL or live; `cb` is NULL or a function that does not unwind and
/// may be called from any thread with `userdata`, until the observer is replaced
/// or removed and the calls under way have ended, or the clients are freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_client_set_observer(
    client: *const pinecone_client,
    cb: pinecone_observer_cb,
    userdata: *mut c_void,
) -> pinecone_result {
    ffi_call!({
        let client = arg!(client: handle);
        let observer =
            cb.map(|cb| Arc::new(CallbackObserver { cb, userdata }) as Arc<dyn Observer>);
        client.inner.set_observer(observer);
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::time::Duration;

    /// The events of one failed describe (nothing listens on the port), as JSON.
    fn events_of_a_refused_describe() -> Vec<Value> {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let keep = seen.clone();
        let client = ::pinecone_assistant::Client::new(
            ::pinecone_assistant::ClientConfig::builder("k")
                .host("http://127.0.0.1:1")
                .timeout(Duration::from_millis(200))
                .retry(::pinecone_assistant::RetryPolicy::none())
                .observer(move |e: &Event<'_>| keep.lock().unwrap().push(event_json(e)))
                .build(),
        )
        .unwrap();
        let _ = client.describe_assistant("secret-name");
        seen.lock().unwrap().clone()
    }

    #[test]
    fn events_become_json_without_names_or_ids() {
        let events = events_of_a_refused_describe();
        assert_eq!(events.len(), 2, "{events:?}");
        assert_eq!(
            events[0],
            json!({"event":"request_start","operation":"describe_assistant","method":"GET",
                   "route":"/assistants/{assistant_name}","attempt":1})
        );
        assert_eq!(events[1]["event"], "error");
        assert_eq!(events[1]["result"], "PINECONE_RESULT_TRANSPORT");
        assert_eq!(events[1]["code"], 21);
        assert_eq!(events[1]["status"], Value::Null);
        let text = serde_json::to_string(&events).unwrap();
        assert!(!text.contains("secret-name"), "{text}");
    }
}
