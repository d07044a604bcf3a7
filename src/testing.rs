//! Hooks for testing code that uses this crate; nothing here is needed in production.
//!
//! The client sleeps in two places: the backoff before a retry and the interval
//! between polls of a wait. A test that goes through either would otherwise take
//! seconds, or hours with the default intervals. [`TestHooks::sleeper`] replaces
//! the real sleeping of one client with a function that receives each delay and
//! returns at once, so a test can run those paths instantly and assert on the
//! delays the client chose.
//!
//! These hooks live in their own module, away from [`ClientConfigBuilder`]'s own
//! setters, so the main configuration path shows only what an application sets.
//! Import the trait to use them:
//!
//! ```
//! use std::sync::{Arc, Mutex};
//! use std::time::Duration;
//! use pinecone_assistant::ClientConfig;
//! use pinecone_assistant::testing::TestHooks;
//!
//! let slept = Arc::new(Mutex::new(Vec::<Duration>::new()));
//! let log = slept.clone();
//! let config = ClientConfig::builder("pcsk_example")
//!     .host("http://127.0.0.1:8080")
//!     .sleeper(move |delay| log.lock().unwrap().push(delay))
//!     .build();
//! # let _ = config;
//! ```
//!
//! A cancelled [`CancelHandle`](crate::CancelHandle) still ends a wait at once with
//! a sleeper installed: the handle is checked before and after every call to it.

use std::sync::Arc;
use std::time::Duration;

use crate::config::ClientConfigBuilder;

/// A replacement for real sleeping: it receives every delay the client would
/// have slept (retry backoff, polling intervals) and should return at once.
pub type Sleeper = Arc<dyn Fn(Duration) + Send + Sync>;

/// Test-only settings of a [`ClientConfigBuilder`]. Sealed: more hooks may be added
/// without a breaking change.
pub trait TestHooks: Sized + sealed::Sealed {
    /// Replaces real sleeping in retries and polling: `f` receives each delay and
    /// should return at once. Defaults to real sleeping.
    #[must_use]
    fn sleeper(self, f: impl Fn(Duration) + Send + Sync + 'static) -> Self;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for crate::ClientConfigBuilder {}
}

impl TestHooks for ClientConfigBuilder {
    fn sleeper(self, f: impl Fn(Duration) + Send + Sync + 'static) -> Self {
        self.set_sleeper(Arc::new(f))
    }
}
