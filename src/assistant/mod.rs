//! The data-plane handle: one assistant's files, operations, retrieval and chat.
//!
//! The operations themselves live in the submodules, one family each; this module
//! owns host resolution, which every data-plane call shares.

mod chat;
mod files;

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::client::Client;
use crate::error::{Error, Result};
use crate::http::url::push_segment;
use crate::http::{Body, RawResponse, Reply, Request, Sent};

/// A handle bound to one assistant, for its data-plane calls (files, operations,
/// context, chat). Cheap to clone, `Send + Sync`; made by [`Client::assistant`].
///
/// The assistant's data-plane host is looked up with one describe on first use and
/// cached for the whole client (all clones and threads share it, and concurrent
/// first calls still describe once). The entry is dropped when the assistant is
/// deleted through this client, and when the data plane answers 404 — then the host
/// is looked up again, and a request refused by a stale host is replayed once on
/// the new one, so an assistant deleted and re-created elsewhere keeps working.
///
/// ```no_run
/// # let client = pinecone_assistant::Client::new(pinecone_assistant::ClientConfig::builder("k").build())?;
/// let docs = client.assistant("docs");
/// assert_eq!(docs.name(), "docs");
/// # Ok::<(), pinecone_assistant::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Assistant {
    pub(crate) client: Client,
    pub(crate) name: String,
}

/// Data-plane base URLs by assistant name, shared by every clone of a client.
#[derive(Default, Debug)]
pub(crate) struct HostCache {
    slots: Mutex<HashMap<String, Arc<Slot>>>,
}

/// One assistant's cached base, and whether a thread is looking it up.
#[derive(Default, Debug)]
struct Slot {
    state: Mutex<SlotState>,
    /// Signalled when a lookup ends, so waiting threads take its result.
    done: Condvar,
}

#[derive(Default, Debug)]
struct SlotState {
    base: Option<String>,
    resolving: bool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // The guarded values are plain strings and flags: a panic elsewhere cannot
    // leave them inconsistent.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// How often a thread waiting for another's lookup checks its cancel handle.
const CANCEL_CHECK: Duration = Duration::from_millis(50);

struct ResolvingGuard<'a>(&'a Slot);

impl Drop for ResolvingGuard<'_> {
    fn drop(&mut self) {
        lock(&self.0.state).resolving = false;
        self.0.done.notify_all();
    }
}

impl HostCache {
    fn slot(&self, name: &str) -> Arc<Slot> {
        lock(&self.slots)
            .entry(name.to_owned())
            .or_default()
            .clone()
    }

    /// Drops everything cached for `name` (its assistant was deleted), so a client
    /// used with many names over time does not keep one entry per name forever.
    pub(crate) fn forget(&self, name: &str) {
        let mut slots = lock(&self.slots);
        if let Some(slot) = slots.get(name).cloned() {
            let mut state = lock(&slot.state);
            if state.resolving {
                // A lookup is running: its waiters hold this slot; just clear it.
                state.base = None;
            } else {
                drop(state);
                slots.remove(name);
            }
        }
    }

    /// Forgets the base of `name` if it is still `stale` (so a fresher entry written
    /// by another thread survives).
    pub(crate) fn evict(&self, name: &str, stale: &str) {
        let slot = lock(&self.slots).get(name).cloned();
        if let Some(slot) = slot {
            let mut state = lock(&slot.state);
            if state.base.as_deref() == Some(stale) {
                state.base = None;
            }
        }
    }
}

impl Assistant {
    pub(crate) fn new(client: Client, name: String) -> Self {
        Self { client, name }
    }

    /// The assistant's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The client this handle uses.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The data-plane base URL, `{host}/assistant`, described once and cached.
    ///
    /// Concurrent first users wait for one lookup instead of each describing; a
    /// waiting thread still obeys its own cancel handle, and when the lookup fails
    /// the next waiter tries it itself.
    pub(crate) fn data_base(&self) -> Result<String> {
        let slot = self.client.hosts.slot(&self.name);
        let mut state = lock(&slot.state);
        loop {
            if let Some(base) = &state.base {
                return Ok(base.clone());
            }
            if !state.resolving {
                break;
            }
            self.client.cancel.check()?;
            state = match slot.done.wait_timeout(state, CANCEL_CHECK) {
                Ok((s, _)) => s,
                Err(p) => p.into_inner().0,
            };
        }
        state.resolving = true;
        drop(state);
        // Clears the flag and wakes the waiters however the lookup ends, panics
        // included, so no thread waits for a lookup that nobody is doing.
        let _resolving = ResolvingGuard(&slot);
        let found = self.describe_base();
        if let Ok(base) = &found {
            lock(&slot.state).base = Some(base.clone());
        }
        found
    }

    fn describe_base(&self) -> Result<String> {
        let described = self.client.describe_assistant(&self.name)?;
        let host = described.host.filter(|h| !h.is_empty()).ok_or_else(|| {
            Error::invalid(
                "assistant",
                format!(
                    "\"{}\" has no data-plane host yet (status {}); wait until it is Ready",
                    self.name, described.status
                ),
            )
        })?;
        Ok(format!("{host}/assistant"))
    }

    /// `/{prefix}/{assistant name}` followed by each extra segment, percent-encoded.
    pub(crate) fn path(&self, prefix: &str, extra: &[(&'static str, &str)]) -> Result<String> {
        let mut path = String::with_capacity(64);
        path.push('/');
        path.push_str(prefix);
        push_segment(&mut path, "assistant_name", &self.name)?;
        for (arg, value) in extra {
            push_segment(&mut path, arg, value)?;
        }
        Ok(path)
    }

    /// Sends a data-plane request whose `url` holds the path below the base.
    ///
    /// On a 404 the cached host is dropped and looked up again; when it changed, the
    /// request is replayed once on the new host (the old one refused it, so nothing
    /// happened there). A 404 from the lookup itself (the assistant is gone) is
    /// returned instead of the first one.
    pub(crate) fn send_data(&self, req: &mut Request<'_>) -> Result<(RawResponse, Sent)> {
        let path = std::mem::take(&mut req.url);
        let base = self.data_base()?;
        req.url = format!("{base}{path}");
        req.api_path_at = Some(base.len());
        let transport = &self.client.transport;
        match transport.send(req, &self.client.cancel) {
            Err(first) if first.is_not_found() => {
                self.client.hosts.evict(&self.name, &base);
                let fresh = self.data_base()?;
                let replayable = match &req.body {
                    Body::Source(src) => src.can_replay(),
                    _ => true,
                };
                if fresh == base || !replayable {
                    return Err(first);
                }
                log::debug!(
                    "assistant \"{}\" moved to {fresh}; replaying once",
                    self.name
                );
                req.url = format!("{fresh}{path}");
                req.api_path_at = Some(fresh.len());
                transport.send(req, &self.client.cancel)
            }
            other => other,
        }
    }

    /// [`send_data`](Self::send_data) and read the whole body.
    pub(crate) fn call_data(&self, mut req: Request<'_>) -> Result<Reply> {
        let (resp, sent) = self.send_data(&mut req)?;
        self.client.transport.read_reply(resp, &req, sent)
    }

    /// [`send_data`](Self::send_data) and decode the body as `T`.
    pub(crate) fn json_data<T: DeserializeOwned>(&self, req: Request<'_>, what: &str) -> Result<T> {
        self.call_data(req)?.decode(what)
    }
}
