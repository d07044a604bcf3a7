//! A blocking client for the [Pinecone Assistant API] (version 2026-07).
//!
//! No async runtime: every call runs on the caller's thread over pooled `ureq`
//! connections (chat calls get their own, so a cancel can stop them), waits poll
//! with interruptible sleeps, streams are iterators that yield
//! each event as it arrives, and uploads stream from disk in constant memory. The
//! same operations are exported to C by the companion crate
//! `pinecone-assistant-ffi` (`ffi/` in this repository), declared in
//! `include/pinecone_assistant.h`.
//!
//! ```no_run
//! use pinecone_assistant::{Client, Wait};
//! use pinecone_assistant::models::CreateAssistantRequest;
//!
//! let client = Client::from_env()?; // PINECONE_API_KEY
//! client.create_assistant(CreateAssistantRequest::new("docs"), Wait::Forever)?;
//! for assistant in client.list_assistants() {
//!     println!("{}", assistant?.name);
//! }
//! client.delete_assistant("docs", Wait::Forever)?;
//! # Ok::<(), pinecone_assistant::Error>(())
//! ```
//!
//! # Logging
//!
//! Records go through the [`log`](https://docs.rs/log) facade: each request at
//! debug level (method and URL, never the API key), as are retries and the stream
//! events that are skipped. The HTTP layer underneath dumps raw request bytes — headers, so
//! the API key, included — at **trace** level under the `ureq_proto` and `ureq`
//! targets; keep those targets below trace wherever logs are kept (for example
//! `RUST_LOG=debug,ureq=info,ureq_proto=off`).
//!
//! [Pinecone Assistant API]: https://docs.pinecone.io/guides/assistant/overview

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod assistant;
mod cancel;
mod client;
mod config;
#[cfg(feature = "emulator")]
pub mod emulator;
mod error;
mod evaluation;
mod http;
pub mod models;
pub mod observe;
mod pagination;
mod polling;
mod sse;
pub mod stream;
#[cfg(feature = "sync")]
pub mod sync;
pub mod testing;
mod upload;

pub use assistant::Assistant;
pub use cancel::CancelHandle;
pub use client::Client;
pub use config::{
    ApiKey, ClientConfig, ClientConfigBuilder, DEFAULT_API_VERSION, DEFAULT_BODY_LIMIT,
    DEFAULT_GENERATION_BODY_LIMIT, DEFAULT_HOST, DEFAULT_STREAM_EVENT_LIMIT, DEFAULT_TOTAL_TIMEOUT,
    EVALUATION_HOST_EU, EVALUATION_HOST_US, EvaluationRegion,
};
pub use error::{
    ApiError, ApiErrorKind, Error, Result, TimeoutPhase, TransportError, TransportErrorKind,
};
pub use http::retry::RetryPolicy;
pub use pagination::{Page, Pages, Paginator, ResumePoint};
pub use polling::{PollSchedule, Wait};
pub use stream::{ChatCompletionStream, ChatStream, EventStream, RawChunk, StreamChunk};
pub use upload::UploadFile;

// Compiles the README's Rust examples as doc tests, so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExamples;
