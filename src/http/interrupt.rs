//! Waking a request that is blocked on its socket, from another thread.
//!
//! A blocking read can only be woken by shutting its socket down. ureq offers the
//! socket of every connection it opens to a shutdown registry (its
//! `register_shutdown` hook, meant for `Agent::shutdown`). The streaming agent uses
//! [`InterruptibleConnector`], which also hands each socket to the [`Interrupter`]
//! of the request being sent on this thread, so that cancelling that one request
//! shuts down exactly its sockets (the target and, through a CONNECT proxy, the
//! proxy connection).
//!
//! The link between a request and its connection is a thread-local: ureq opens
//! connections synchronously inside `Agent::run`, on the calling thread, and the
//! streaming agent keeps no idle connections, so every request connects anew while
//! its [`Interrupter`] is installed.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};

use ureq::unversioned::transport::{
    ConnectionDetails, Connector, DefaultConnector, ShutdownHandle, Transport as Connection,
};

use crate::error::Error;

/// The sockets of one request, shut down when the request is cancelled.
#[derive(Default)]
pub(crate) struct Interrupter {
    interrupted: AtomicBool,
    sockets: Mutex<Vec<Weak<dyn ShutdownHandle>>>,
}

impl std::fmt::Debug for Interrupter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interrupter")
            .field("interrupted", &self.is_interrupted())
            .finish_non_exhaustive()
    }
}

impl Interrupter {
    /// Shuts down every socket of the request, now and any opened later, so that a
    /// blocked read or write returns at once.
    pub(crate) fn interrupt(&self) {
        let sockets = {
            let mut guard = lock(&self.sockets);
            // Set under the lock: `register` checks it under the same lock, so a
            // socket is either shut down here or refused there, never missed.
            self.interrupted.store(true, Ordering::SeqCst);
            std::mem::take(&mut *guard)
        };
        for socket in sockets.iter().filter_map(Weak::upgrade) {
            socket.shutdown();
        }
    }

    /// Whether [`interrupt`](Self::interrupt) was called.
    pub(crate) fn is_interrupted(&self) -> bool {
        self.interrupted.load(Ordering::SeqCst)
    }

    fn register(&self, socket: Weak<dyn ShutdownHandle>) -> Result<(), ureq::Error> {
        let mut sockets = lock(&self.sockets);
        if self.is_interrupted() {
            drop(sockets);
            if let Some(s) = socket.upgrade() {
                s.shutdown();
            }
            return Err(ureq::Error::Other(Box::new(Error::Cancelled)));
        }
        // Connections of earlier attempts are gone; keep the list short.
        sockets.retain(|w| w.strong_count() > 0);
        sockets.push(socket);
        Ok(())
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A list of weak socket handles cannot be left inconsistent by a panic.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

thread_local! {
    static CURRENT: RefCell<Option<Arc<Interrupter>>> = const { RefCell::new(None) };
}

/// Installs `interrupter` for the connections opened on this thread until the
/// returned guard is dropped.
pub(crate) fn install(interrupter: Arc<Interrupter>) -> Installed {
    let previous = CURRENT.with(|c| c.borrow_mut().replace(interrupter));
    Installed { previous }
}

/// Restores the previously installed interrupter when dropped.
pub(crate) struct Installed {
    previous: Option<Arc<Interrupter>>,
}

impl Drop for Installed {
    fn drop(&mut self) {
        let previous = self.previous.take();
        CURRENT.with(|c| *c.borrow_mut() = previous);
    }
}

/// ureq's default connector chain (proxy, TCP, TLS), whose new sockets are also
/// registered with the interrupter installed on the connecting thread.
#[derive(Debug, Default)]
pub(crate) struct InterruptibleConnector {
    inner: DefaultConnector,
}

type RegisterShutdown =
    dyn Fn(Weak<dyn ShutdownHandle>) -> Result<(), ureq::Error> + Send + Sync + 'static;

impl Connector<()> for InterruptibleConnector {
    type Out = Box<dyn Connection>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<()>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        let Some(target) = CURRENT.with(|c| c.borrow().clone()) else {
            return self.inner.connect(details, chained);
        };
        let upstream = details.register_shutdown.clone();
        let register: Arc<RegisterShutdown> = Arc::new(move |socket: Weak<dyn ShutdownHandle>| {
            upstream(socket.clone())?;
            target.register(socket)
        });
        let details = ConnectionDetails {
            uri: details.uri,
            addrs: details.addrs.clone(),
            config: details.config,
            request_level: details.request_level,
            resolver: details.resolver,
            now: details.now,
            timeout: details.timeout,
            current_time: details.current_time.clone(),
            run_connector: details.run_connector.clone(),
            register_shutdown: register,
        };
        self.inner.connect(&details, chained)
    }
}
