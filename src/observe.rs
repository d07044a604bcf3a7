//! Observer hooks: what a client did, as events, for metrics and tracing.
//!
//! Set an [`Observer`] with
//! [`ClientConfigBuilder::observer`](crate::ClientConfigBuilder::observer) (or
//! later with [`Client::set_observer`](crate::Client::set_observer)) and it is
//! called on the thread making the call, synchronously, for each [`Event`]:
//! a request attempt starting, its response, a retry being scheduled, a wait's
//! poll, a stream's end and a call's final error.
//!
//! Events name a request by its operation (`describe_assistant`) and its route
//! template (`/assistants/{assistant_name}`), never by the names, ids or bodies
//! it carried, and never carry the API key, so they can go to any metrics
//! system as they are.
//!
//! Without an observer nothing is built: each request costs one atomic load.
//! With one, keep it quick (add to counters, send to a channel): it runs inside
//! the call it reports on, from as many threads as use the client.
//!
//! ```
//! use std::sync::atomic::{AtomicU64, Ordering};
//! use std::sync::Arc;
//! use pinecone_assistant::ClientConfig;
//! use pinecone_assistant::observe::Event;
//!
//! let requests = Arc::new(AtomicU64::new(0));
//! let counter = requests.clone();
//! let config = ClientConfig::builder("pcsk_example")
//!     .observer(move |event: &Event<'_>| {
//!         if let Event::RequestStart { operation, attempt, .. } = event {
//!             counter.fetch_add(1, Ordering::Relaxed);
//!             eprintln!("{operation}, attempt {attempt}");
//!         }
//!     })
//!     .build();
//! # let _ = config;
//! ```

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::error::Error;
use crate::models::Usage;

/// Receives the [`Event`]s of a client. Any `Fn(&Event) + Send + Sync` is one.
pub trait Observer: Send + Sync {
    /// Called once per event, on the thread of the call it reports on.
    fn on_event(&self, event: &Event<'_>);
}

impl<F: Fn(&Event<'_>) + Send + Sync> Observer for F {
    fn on_event(&self, event: &Event<'_>) {
        self(event)
    }
}

/// Something a client did. `operation` is the name of the method that made the
/// request (`describe_assistant`, `chat_stream`, `upload_file`); `route` is the
/// path template below `/assistant`, with each name or id as a placeholder
/// (`/files/{assistant_name}/{file_id}`).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Event<'a> {
    /// An attempt is about to be sent.
    #[non_exhaustive]
    RequestStart {
        /// The operation.
        operation: &'a str,
        /// The HTTP method, e.g. `GET`.
        method: &'a str,
        /// The route template.
        route: &'a str,
        /// 1 for the first attempt, 2 for the first retry, and so on.
        attempt: u32,
    },
    /// An attempt got an answer. For answers read whole this comes once the body
    /// is read; for streams, when the headers arrive (see
    /// [`StreamEnd`](Event::StreamEnd) for the rest).
    #[non_exhaustive]
    Response {
        /// The operation.
        operation: &'a str,
        /// The HTTP method.
        method: &'a str,
        /// The route template.
        route: &'a str,
        /// The attempt this answers.
        attempt: u32,
        /// The HTTP status.
        status: u16,
        /// From sending the attempt to the end of the answer's body (to its
        /// headers for a stream).
        latency: Duration,
        /// The server's request id, when it sent one.
        request_id: Option<&'a str>,
        /// The body bytes read (after decompression); `None` for a stream.
        bytes: Option<u64>,
    },
    /// An attempt failed and another will follow after `delay`.
    #[non_exhaustive]
    RetryScheduled {
        /// The operation.
        operation: &'a str,
        /// The HTTP method.
        method: &'a str,
        /// The route template.
        route: &'a str,
        /// The attempt that failed.
        attempt: u32,
        /// Why, e.g. `status 503` or `connect: could not connect to the server`.
        reason: &'a str,
        /// The pause before the next attempt (the server's `Retry-After`, or the
        /// backoff).
        delay: Duration,
    },
    /// A wait polled and found the work still running.
    #[non_exhaustive]
    WaitPoll {
        /// The state seen, e.g. `Initializing` or `Processing (40%)`.
        state: &'a str,
        /// The progress the server reported, if any.
        percent_complete: Option<i64>,
        /// How long the wait has lasted so far.
        waited: Duration,
    },
    /// A stream ended: read to its end, stopped by an error, or dropped before
    /// its end.
    #[non_exhaustive]
    StreamEnd {
        /// The operation (`chat_stream` or `chat_completions_stream`).
        operation: &'a str,
        /// The route template.
        route: &'a str,
        /// The chunks it yielded.
        chunks: u64,
        /// The token counts its final chunk carried, if it came.
        usage: Option<Usage>,
        /// Why the model stopped, if the stream said.
        finish_reason: Option<&'a str>,
        /// Whether the stream reached its final chunk.
        complete: bool,
        /// From sending the request to the end.
        duration: Duration,
    },
    /// A call failed with this error (after any retries).
    #[non_exhaustive]
    Error {
        /// The operation.
        operation: &'a str,
        /// The route template.
        route: &'a str,
        /// The error the call returns.
        error: &'a Error,
    },
}

/// The observer of a client and of every clone and derived client that shares
/// its connections, replaceable while calls run.
#[derive(Default)]
pub(crate) struct ObserverSlot {
    /// Read first, so that a client without an observer pays one atomic load.
    set: AtomicBool,
    observer: RwLock<Option<Arc<dyn Observer>>>,
}

impl ObserverSlot {
    pub(crate) fn new(observer: Option<Arc<dyn Observer>>) -> Self {
        Self {
            set: AtomicBool::new(observer.is_some()),
            observer: RwLock::new(observer),
        }
    }

    /// The observer, if one is set.
    #[inline]
    pub(crate) fn get(&self) -> Option<Arc<dyn Observer>> {
        if !self.set.load(Ordering::Acquire) {
            return None;
        }
        // An observer that panicked cannot leave an `Option<Arc>` half written.
        self.observer
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub(crate) fn replace(&self, observer: Option<Arc<dyn Observer>>) {
        let mut slot = self.observer.write().unwrap_or_else(|p| p.into_inner());
        self.set.store(observer.is_some(), Ordering::Release);
        *slot = observer;
    }
}

impl std::fmt::Debug for ObserverSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.set.load(Ordering::Relaxed) {
            "set"
        } else {
            "none"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn the_slot_is_empty_until_set_and_can_be_cleared() {
        let slot = ObserverSlot::default();
        assert!(slot.get().is_none());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        slot.replace(Some(Arc::new(move |e: &Event<'_>| {
            if let Event::WaitPoll { state, .. } = e {
                log.lock().unwrap().push(state.to_string());
            }
        })));
        let observer = slot.get().expect("set");
        observer.on_event(&Event::WaitPoll {
            state: "Processing",
            percent_complete: Some(40),
            waited: Duration::ZERO,
        });
        assert_eq!(*seen.lock().unwrap(), ["Processing"]);
        slot.replace(None);
        assert!(slot.get().is_none());
        assert_eq!(format!("{slot:?}"), "none");
    }
}
