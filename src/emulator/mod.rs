//! An offline emulator of the Assistant API (feature `emulator`).
//!
//! A blocking HTTP server on `127.0.0.1` that speaks the 2026-07 wire protocol
//! for every endpoint, from memory (or from a [data directory](EmulatorBuilder::data_dir)),
//! so programs and tests run with no account and no network. Its URL is the
//! control host, every assistant's data-plane `host` and the evaluation host at
//! once:
//!
//! | Endpoint | Behaviour |
//! |---|---|
//! | `POST/GET /assistant/assistants`, `GET/PATCH/DELETE /assistant/assistants/{name}` | names validated as the service does (400), duplicates 409; `Initializing` → `Ready` after a delay; delete → `Terminating` → 404 |
//! | `POST /assistant/files/{a}`, `PUT /assistant/files/{a}/{id}` | multipart with a `metadata` part; 202 + `Location` + operation; processed in the background, each operation after its own [delay](EmulatorBuilder::processing_delay) with a rising `percent_complete`: `.txt`, `.md`, `.json`, `.pdf` and `.docx` are read, chunked page by page and indexed; encrypted, damaged or image-only PDFs, damaged DOCX files and non-UTF-8 text fail their operation with a message saying why |
//! | `GET /assistant/files/{a}[/{id}]`, `DELETE /assistant/files/{a}/{id}` | metadata `filter`; `include_url` gives a link that downloads the bytes; delete → 202 + operation, or 204 for a file that failed processing |
//! | `GET /assistant/operations/{a}[/{op}]` | `operation_type` / `status` filters |
//! | `POST /assistant/chat/{a}/context` | BM25 over the available files' chunks; `top_k`, `snippet_size`, `filter`; references typed `text`, `markdown`, `json`, `pdf` or `doc_x`, the last two with `pages`; `multimodal` snippets for PDFs uploaded with `multimodal=true`, carrying a placeholder image unless `include_binary_content` is false |
//! | `POST /assistant/chat/{a}` | extractive answer with citations (character positions, files, pages), `include_highlights`, `json_response`, SSE when `"stream": true` |
//! | `POST /assistant/chat/{a}/chat/completions` | OpenAI shape, inline `[n]` (or `[n, pp. P]`) citations, SSE ending with a usage chunk and `[DONE]` |
//! | `POST /assistant/evaluation/metrics/alignment` | word-overlap scoring with per-fact reasoning; 422 `{"message":…}` for a missing field |
//!
//! Every list paginates with `limit` and `pagination_token`. Errors use the
//! service's body, `{"error":{"code":…,"message":…},"status":…}`; a wrong or
//! missing `Api-Key` is a 401; a malformed metadata `filter` (an unknown `$`
//! operator, `$gt`/`$gte`/`$lt`/`$lte` without a number, `$in`/`$nin` without an
//! array, `$exists` without a boolean, `$and`/`$or` without an array of filters,
//! `$` operators mixed with plain keys) is a 400 naming the operator.
//!
//! Request bodies are bounded: a `Content-Length` above
//! [`max_body`](EmulatorBuilder::max_body) (100 MiB) is answered 413 before the
//! body is read, and a chunked body is cut off with a 413 once it passes the
//! limit; a malformed chunked body is a 400. A body that does not arrive within
//! [`body_timeout`](EmulatorBuilder::body_timeout) (10 s) no longer holds a
//! worker; it is answered 408 as soon as the client sends anything more or
//! half-closes (`tiny_http` offers no way to interrupt a read on the socket). A
//! handler that panics answers 500 with the error body and its worker goes on.
//!
//! Streams are paced by [`stream_delay`](EmulatorBuilder::stream_delay) and keep
//! the connection alive with `: heartbeat` comments every
//! [`heartbeat`](EmulatorBuilder::heartbeat); from other languages, run the
//! `emulator` example with `--stream-delay-ms N` and `--heartbeat-ms N` to
//! exercise a client's idle timeout and heartbeat handling.
//!
//! File operations run side by side, each finishing after a delay drawn for it
//! alone ([`ProcessingDelay`]: fixed, uniform between two bounds, or scaled by
//! the file's size, reproducible under a [`seed`](EmulatorBuilder::seed)), so a
//! client uploading many files at once meets the concurrency of the real
//! service rather than a queue.
//!
//! PDF pages are the document's own; DOCX pages are those the file marks with
//! page breaks (a DOCX has no fixed layout), and a file without any is one page.
//!
//! With a [data directory](EmulatorBuilder::data_dir), assistants, files (their
//! bytes and extracted text) and operations are kept on disk, each record
//! written through a temporary file and a rename, and an emulator started again
//! on the directory resumes: operations cut short by the stop run again, or
//! fail with a message when their bytes were not saved.
//!
//! Tests can inject faults ([`Emulator::inject`], or `POST /_emulator/faults` with
//! the JSON described at [`Fault`]): statuses with `Retry-After`, delays, broken
//! connections and streams cut mid-way; [`Emulator::requests`] (or
//! `GET /_emulator/requests`) lists what arrived, to count retries.
//!
//! ```no_run
//! use pinecone_assistant::emulator::Emulator;
//! use pinecone_assistant::{Client, ClientConfig};
//!
//! let emu = Emulator::start()?;
//! let client = Client::new(ClientConfig::builder(emu.api_key()).host(emu.url()).build())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Deliberate simplifications: no OCR (a PDF of scanned pages fails) and no
//! figure extraction (a multimodal snippet carries one placeholder PNG for its
//! page, captioned by the emulator, where the service returns the page's figures
//! with captions a model wrote, as snippets of their own); a chunk never spans
//! two pages, so `pages` lists exactly one; DOCX headers, footers, footnotes and
//! comments are not read; token counts are estimates (four characters a token);
//! answers are extracted sentences, not generated text; a "reset" sends bytes
//! that are not HTTP rather than closing the socket, which `tiny_http` does not
//! expose; the request log keeps the last 10 000 requests; an assistant with no
//! `Available` file still answers chat and context requests (with no snippets or
//! citations), where the real service answers an error whose exact status is
//! not documented; a request line with bytes outside ASCII (non-UTF-8 ones
//! included) is dropped by `tiny_http` without any status; injected faults,
//! the request log and `percent_complete` are not kept in the data directory.

mod body;
mod chat;
mod control;
mod delay;
mod documents;
mod evaluate;
mod faults;
mod files;
mod filter;
mod index;
mod ingest;
mod multipart;
pub mod program;
mod router;
mod server;
mod sse;
mod state;
mod store;
mod wire;

use std::collections::VecDeque;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use faults::{Fault, FaultAction};

pub use delay::ProcessingDelay;

use crate::models::setters;
use faults::FaultQueue;
use ingest::{Job, Msg};
use state::{Settings, State};
use store::Store;

/// The API key the emulator accepts unless another is configured.
pub const DEFAULT_API_KEY: &str = "emulator-key";

/// One request as the emulator received it, for tests that count calls or retries.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// `GET`, `POST`, …
    pub method: String,
    /// The raw (still percent-encoded) path.
    pub path: String,
    /// The raw query string without `?`, empty when there is none.
    pub query: String,
    /// The `content-type`, `x-pinecone-api-version`, `user-agent` and `accept`
    /// headers when present (names lower-cased). The API key is never recorded.
    pub headers: Vec<(String, String)>,
    /// Body length in bytes.
    pub body_len: usize,
}

impl RecordedRequest {
    /// The value of a recorded header (name compared ignoring case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What the request handlers share.
pub(crate) struct Shared {
    pub settings: Settings,
    pub host: String,
    state: Mutex<State>,
    faults: Mutex<FaultQueue>,
    log: Mutex<VecDeque<RecordedRequest>>,
    pub stop: AtomicBool,
    /// The scheduler's inbox; `None` once the emulator is stopping.
    jobs: Mutex<Option<Sender<Msg>>>,
    /// Threads reading or discarding request bodies (see `body`) and extracting
    /// text (see `ingest`).
    helpers: Mutex<Vec<JoinHandle<()>>>,
    /// Where state is kept between runs, with a data directory.
    store: Option<Store>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section leaves the data consistent before anything that can
    // panic, so a poisoned lock still guards usable data.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    /// The state, with finished deletions swept out.
    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        let mut st = lock(&self.state);
        st.sweep(&self.settings);
        st
    }

    pub(crate) fn faults(&self) -> MutexGuard<'_, FaultQueue> {
        lock(&self.faults)
    }

    pub(crate) fn record(&self, r: RecordedRequest) {
        let mut log = lock(&self.log);
        // A long-running emulator must not grow without bound.
        if log.len() == MAX_RECORDED_REQUESTS {
            log.pop_front();
        }
        log.push_back(r);
    }

    pub(crate) fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.log).iter().cloned().collect()
    }

    pub(crate) fn clear_requests(&self) {
        lock(&self.log).clear();
    }

    /// Starts a file operation.
    pub(crate) fn enqueue(&self, job: Job) {
        self.send(Msg::Start(job));
    }

    /// Hands a message to the scheduler.
    pub(crate) fn send(&self, msg: Msg) {
        if let Some(tx) = lock(&self.jobs).as_ref() {
            // The receiver lives as long as the emulator; a send fails only while
            // it shuts down, when the work no longer matters.
            let _ = tx.send(msg);
        }
    }

    /// The data directory's store, when there is one.
    pub(crate) fn store(&self) -> Option<&Store> {
        self.store.as_ref()
    }

    /// Runs `f` on a thread of its own called `name`, joined (or, when stuck,
    /// detached) when the emulator drops. Without a thread, `f` runs here.
    pub(crate) fn spawn_helper(&self, name: &str, f: impl FnOnce() + Send + 'static) {
        let mut helpers = lock(&self.helpers);
        helpers.retain(|h| !h.is_finished());
        // `f` is kept aside so that it can still run if the spawn fails.
        let f = Arc::new(Mutex::new(Some(f)));
        let theirs = Arc::clone(&f);
        let spawned = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                if let Some(f) = lock(&theirs).take() {
                    f();
                }
            });
        match spawned {
            Ok(h) => helpers.push(h),
            Err(e) => {
                log::warn!("emulator: cannot start a thread ({e}); working inline");
                drop(helpers);
                if let Some(f) = lock(&f).take() {
                    f();
                }
            }
        }
    }

    /// Sleeps up to `d`, returning early (false) when the emulator is stopping.
    pub(crate) fn pause(&self, d: Duration) -> bool {
        let end = std::time::Instant::now() + d;
        loop {
            if self.stop.load(Ordering::Relaxed) {
                return false;
            }
            let left = end.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return true;
            }
            std::thread::sleep(left.min(Duration::from_millis(20)));
        }
    }
}

/// A running emulator. Dropping it stops the server and joins every thread it
/// started (`tiny_http`'s own connection threads end by themselves within about
/// five seconds). A thread blocked on a client that neither sends the body it
/// announced nor reads its answer cannot be interrupted: after a grace period of
/// 2 s it is detached (it ends when that connection does), so a drop never hangs.
///
/// ```no_run
/// use pinecone_assistant::emulator::Emulator;
/// let emu = Emulator::start()?;
/// println!("{} {}", emu.url(), emu.api_key());
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Emulator {
    shared: Arc<Shared>,
    server: Arc<tiny_http::Server>,
    threads: Vec<JoinHandle<()>>,
    url: String,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator").field("url", &self.url).finish()
    }
}

impl Emulator {
    /// Starts an emulator with default settings on a free port.
    ///
    /// ```no_run
    /// let emu = pinecone_assistant::emulator::Emulator::start()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// The I/O error when the listening socket cannot be opened.
    pub fn start() -> io::Result<Self> {
        Self::builder().start()
    }

    /// A builder for a configured emulator.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// let emu = pinecone_assistant::emulator::Emulator::builder()
    ///     .api_key("test-key")
    ///     .ready_delay(Duration::ZERO)
    ///     .start()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }

    /// The base URL, `http://127.0.0.1:PORT`: the control host and every
    /// assistant's data-plane host and the evaluation host.
    ///
    /// ```no_run
    /// # let emu = pinecone_assistant::emulator::Emulator::start()?;
    /// assert!(emu.url().starts_with("http://127.0.0.1:"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The API key the emulator accepts.
    ///
    /// ```no_run
    /// # let emu = pinecone_assistant::emulator::Emulator::start()?;
    /// assert_eq!(emu.api_key(), pinecone_assistant::emulator::DEFAULT_API_KEY);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn api_key(&self) -> &str {
        &self.shared.settings.api_key
    }

    /// Queues a fault for the next matching requests.
    ///
    /// ```no_run
    /// use pinecone_assistant::emulator::{Emulator, Fault};
    /// let emu = Emulator::start()?;
    /// emu.inject(Fault::status(503).retry_after("0").times(2));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn inject(&self, fault: Fault) {
        self.shared.faults().push(fault);
    }

    /// Removes every pending fault.
    ///
    /// ```no_run
    /// # let emu = pinecone_assistant::emulator::Emulator::start()?;
    /// emu.clear_faults();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn clear_faults(&self) {
        self.shared.faults().clear();
    }

    /// The API requests received so far, oldest first: the last 10 000 (older ones
    /// are dropped so a long-running emulator stays small; the `/_emulator/`
    /// control endpoints are not recorded).
    ///
    /// ```no_run
    /// # let emu = pinecone_assistant::emulator::Emulator::start()?;
    /// let posts = emu.requests().iter().filter(|r| r.method == "POST").count();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.requests()
    }

    /// Empties the request log.
    ///
    /// ```no_run
    /// # let emu = pinecone_assistant::emulator::Emulator::start()?;
    /// emu.clear_requests();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn clear_requests(&self) {
        self.shared.clear_requests();
    }
}

/// How many requests the log keeps.
const MAX_RECORDED_REQUESTS: usize = 10_000;

/// How long dropping an emulator waits for its threads.
const DROP_GRACE: Duration = Duration::from_secs(2);

impl Drop for Emulator {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Closing the job channel ends the processor once its current job stops.
        lock(&self.shared.jobs).take();
        for _ in 0..self.threads.len() {
            self.server.unblock();
        }
        let mut threads: Vec<JoinHandle<()>> = self.threads.drain(..).collect();
        threads.append(&mut lock(&self.shared.helpers));
        // Every thread notices the stop within tens of milliseconds, except one
        // blocked on a socket that tiny_http gives no way to interrupt (a client
        // that stopped sending its body or reading its answer). Such a thread is
        // left to end with its connection rather than hang the drop.
        let deadline = std::time::Instant::now() + DROP_GRACE;
        while threads.iter().any(|t| !t.is_finished()) && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        for t in threads {
            if t.is_finished() {
                // A panic already ended that thread; nothing is left to clean.
                let _ = t.join();
            } else {
                log::warn!(
                    "emulator: a thread blocked on a client connection is left running ({:?})",
                    t.thread().name()
                );
            }
        }
    }
}

/// Configures and starts an [`Emulator`].
#[derive(Debug, Clone)]
#[must_use]
pub struct EmulatorBuilder {
    api_key: String,
    port: u16,
    ready_delay: Duration,
    delete_delay: Duration,
    processing_delay: ProcessingDelay,
    processing_steps: u32,
    page_size: usize,
    seed: Option<u64>,
    workers: usize,
    stream_delay: Duration,
    heartbeat: Duration,
    max_body: u64,
    body_timeout: Duration,
    data_dir: Option<PathBuf>,
}

impl Default for EmulatorBuilder {
    fn default() -> Self {
        Self {
            api_key: DEFAULT_API_KEY.to_owned(),
            port: 0,
            ready_delay: Duration::from_millis(200),
            delete_delay: Duration::from_millis(200),
            processing_delay: ProcessingDelay::default(),
            processing_steps: 3,
            page_size: 50,
            seed: None,
            workers: 4,
            stream_delay: Duration::ZERO,
            heartbeat: Duration::from_secs(15),
            max_body: 100 * 1024 * 1024,
            body_timeout: Duration::from_secs(10),
            data_dir: None,
        }
    }
}

impl EmulatorBuilder {
    setters! {
        /// The accepted API key. Defaults to [`DEFAULT_API_KEY`].
        api_key(key: impl Into<String>) => api_key = key.into();
        /// The port on 127.0.0.1. Defaults to 0 (a free port).
        port(port: u16) => port = port;
        /// How long a new assistant stays `Initializing`. Defaults to 200 ms.
        ready_delay(d: Duration) => ready_delay = d;
        /// How long a deleted assistant stays `Terminating` before it is gone (404).
        /// Defaults to 200 ms.
        delete_delay(d: Duration) => delete_delay = d;
        /// How long each file operation (upload, upsert, deletion) stays
        /// `Processing`: a [`Duration`] for the same delay every time, or a
        /// [`ProcessingDelay`] drawn per operation (uniform between two bounds, or
        /// scaled by the file's size). Operations run side by side, each on its own
        /// clock. Defaults to 300 ms.
        ///
        /// ```no_run
        /// use std::time::Duration;
        /// use pinecone_assistant::emulator::{Emulator, ProcessingDelay};
        /// let quick = Emulator::builder().processing_delay(Duration::ZERO).start()?;
        /// let varied = Emulator::builder()
        ///     .processing_delay(ProcessingDelay::uniform(
        ///         Duration::from_millis(100),
        ///         Duration::from_millis(900),
        ///     ))
        ///     .seed(42)
        ///     .start()?;
        /// # Ok::<(), std::io::Error>(())
        /// ```
        processing_delay(delay: impl Into<ProcessingDelay>) => processing_delay = delay.into();
        /// In how many steps `percent_complete` rises during processing. Defaults to 3.
        processing_steps(steps: u32) => processing_steps = steps.max(1);
        /// Items per page when a list request has no `limit`. Defaults to 50.
        page_size(size: usize) => page_size = size.max(1);
        /// Seed of the id generator and of the processing-delay draws, for
        /// reproducible ids and timings. Defaults to the clock.
        seed(seed: u64) => seed = Some(seed);
        /// Threads serving requests (a streaming answer occupies one while it runs).
        /// Defaults to 4.
        workers(n: usize) => workers = n.max(1);
        /// Pause between two events of a streamed answer. Defaults to none.
        stream_delay(d: Duration) => stream_delay = d;
        /// Longest silence in a stream before a `: heartbeat` comment line (one is
        /// also sent when a stream opens). Defaults to 15 s, as the real service.
        // A zero interval would make the pacing loop spin.
        heartbeat(d: Duration) => heartbeat = d.max(Duration::from_millis(1));
        /// Largest request body accepted, in bytes: a larger `Content-Length` is
        /// answered 413 before any of the body is read, and a chunked body is cut off
        /// with a 413 once it passes the limit. Defaults to 100 MiB.
        max_body(bytes: u64) => max_body = bytes;
        /// How long a request body may take to arrive after the headers. Past it the
        /// worker goes back to serving and the request is answered 408 as soon as the
        /// client sends anything more or half-closes (the server library cannot
        /// interrupt a read on the socket). Defaults to 10 s.
        body_timeout(d: Duration) => body_timeout = d;
        /// Keeps the state (assistants, files with their bytes and extracted text,
        /// operations) in this directory, created if needed, so that an emulator
        /// started again on it resumes where the last one stopped. Each record is
        /// written to a temporary file and renamed into place, so a process killed
        /// at any moment leaves a readable state. At start, an operation that was
        /// still processing runs again from the saved bytes (or, when it cannot,
        /// fails with a message saying the emulator stopped); assistants that were
        /// initializing are ready. One emulator at a time per directory. Defaults
        /// to none: everything stays in memory.
        ///
        /// ```no_run
        /// let emu = pinecone_assistant::emulator::Emulator::builder()
        ///     .data_dir("/tmp/assistant-emulator")
        ///     .port(8080)
        ///     .start()?;
        /// # Ok::<(), std::io::Error>(())
        /// ```
        data_dir(path: impl Into<PathBuf>) => data_dir = Some(path.into());
    }

    /// Binds 127.0.0.1 and starts the worker and processing threads.
    ///
    /// # Errors
    ///
    /// The I/O error when the listening socket cannot be opened (e.g. the port is
    /// taken), or when the [data directory](Self::data_dir) cannot be created or
    /// read.
    pub fn start(self) -> io::Result<Emulator> {
        let server = tiny_http::Server::http(("127.0.0.1", self.port))
            .map_err(|e| io::Error::other(format!("emulator: cannot listen: {e}")))?;
        let port = server
            .server_addr()
            .to_ip()
            .map(|a| a.port())
            .ok_or_else(|| io::Error::other("emulator: not listening on TCP"))?;
        let url = format!("http://127.0.0.1:{port}");
        let seed = self.seed.unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        });
        let (store, state, resumed) = match &self.data_dir {
            None => (None, State::new(seed), Vec::new()),
            Some(dir) => {
                let (store, mut loaded) = Store::open(dir).map_err(|e| {
                    io::Error::new(
                        e.kind(),
                        format!(
                            "emulator: cannot use the data directory {}: {e}",
                            dir.display()
                        ),
                    )
                })?;
                let resumed = loaded.recover(&store, &wire::now());
                let state =
                    State::restored(seed, loaded.starts, loaded.assistants, loaded.last_sequence);
                (Some(store), state, resumed)
            }
        };
        let (tx, rx) = std::sync::mpsc::channel();
        let shared = Arc::new(Shared {
            settings: Settings {
                api_key: self.api_key,
                ready_delay: self.ready_delay,
                delete_delay: self.delete_delay,
                processing_delay: self.processing_delay,
                processing_steps: self.processing_steps,
                seed,
                page_size: self.page_size,
                stream_delay: self.stream_delay,
                heartbeat: self.heartbeat,
                max_body: self.max_body,
                body_timeout: self.body_timeout,
            },
            host: url.clone(),
            state: Mutex::new(state),
            faults: Mutex::new(FaultQueue::seeded(seed)),
            log: Mutex::new(VecDeque::new()),
            stop: AtomicBool::new(false),
            jobs: Mutex::new(Some(tx)),
            helpers: Mutex::new(Vec::new()),
            store,
        });
        for job in resumed {
            shared.enqueue(job);
        }
        // Built before the threads, so a failed spawn still stops the ones started.
        let mut emulator = Emulator {
            shared: Arc::clone(&shared),
            server: Arc::new(server),
            threads: Vec::with_capacity(self.workers + 1),
            url,
        };
        let spawn = |name: String, f: Box<dyn FnOnce() + Send>| {
            std::thread::Builder::new().name(name).spawn(f)
        };
        emulator.threads.push(spawn(
            "emulator-ingest".into(),
            Box::new({
                let shared = Arc::clone(&shared);
                move || ingest::run(&shared, &rx)
            }),
        )?);
        let own_addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        for i in 0..self.workers {
            let (shared, server) = (Arc::clone(&shared), Arc::clone(&emulator.server));
            let nudge = (i == 0).then_some(own_addr);
            emulator.threads.push(spawn(
                format!("emulator-worker-{i}"),
                Box::new(move || server::serve(&shared, &server, nudge)),
            )?);
        }
        Ok(emulator)
    }
}
