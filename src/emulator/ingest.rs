//! The file-operation scheduler: every operation (ingestion or deletion) runs on
//! its own clock, side by side with the others, as on the real service. Each
//! draws its processing delay when it starts, raises `percent_complete` in steps
//! along the way and finishes when its delay has passed, whatever else is
//! running: a thousand uploads with a 200 ms delay are all done about 200 ms
//! after the last one arrived, not 200 seconds later.
//!
//! One thread keeps the clocks (a heap of deadlines); text extraction, which can
//! take a while for a large PDF, runs on a short-lived thread per file, so a slow
//! document never holds up the others. An ingestion completes when both its delay
//! has passed and its text is ready.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use super::Shared;
use super::documents::{self, FileKind};
use super::index;
use super::state::after;
use super::wire::now;

/// Work for the scheduler.
#[derive(Debug)]
pub(crate) enum Job {
    Ingest {
        assistant: String,
        file_id: String,
        op_id: String,
        /// `upload_file` or `upsert_file`: part of what the delay draw depends on.
        operation_type: &'static str,
        generation: u64,
        kind: FileKind,
        bytes: Arc<Vec<u8>>,
    },
    Delete {
        assistant: String,
        file_id: String,
        op_id: String,
        /// The version being deleted: an upsert in the meantime replaces it, and
        /// the new version must survive this job.
        generation: u64,
        /// Of the version deleted, for size-scaled delays.
        size: u64,
    },
}

impl Job {
    fn op_id(&self) -> &str {
        match self {
            Job::Ingest { op_id, .. } | Job::Delete { op_id, .. } => op_id,
        }
    }

    fn assistant(&self) -> &str {
        match self {
            Job::Ingest { assistant, .. } | Job::Delete { assistant, .. } => assistant,
        }
    }

    /// What the delay is drawn for: the same file and kind of operation draw the
    /// same delay under the same seed, in whatever order operations arrive.
    fn delay_key(&self) -> (String, u64) {
        match self {
            Job::Ingest {
                assistant,
                file_id,
                operation_type,
                bytes,
                ..
            } => (
                format!("{assistant}/{file_id}/{operation_type}"),
                bytes.len() as u64,
            ),
            Job::Delete {
                assistant,
                file_id,
                size,
                ..
            } => (format!("{assistant}/{file_id}/delete_file"), *size),
        }
    }
}

/// What reaches the scheduler.
pub(crate) enum Msg {
    /// A new operation.
    Start(Job),
    /// The text of an ingestion, from its extraction thread.
    Extracted {
        op_id: String,
        result: Result<Vec<String>, String>,
    },
}

/// A moment at which something happens to an operation.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Timer {
    due: Instant,
    /// Keeps timers with the same deadline in the order they were set.
    order: u64,
    op_id: String,
    /// `Some(p)`: progress reaches `p` percent; `None`: the delay is over.
    percent: Option<u32>,
}

/// An operation between its start and its end.
struct Running {
    job: Job,
    /// The delay is over.
    due: bool,
    /// The extracted text (always ready for a deletion).
    text: Option<Result<Vec<String>, String>>,
}

/// How long the scheduler sleeps with nothing scheduled (it wakes at once for a
/// new operation or a stop).
const IDLE: Duration = Duration::from_secs(3600);

pub(crate) fn run(shared: &Arc<Shared>, inbox: &Receiver<Msg>) {
    let mut timers: BinaryHeap<Reverse<Timer>> = BinaryHeap::new();
    let mut running: HashMap<String, Running> = HashMap::new();
    let mut order = 0u64;
    loop {
        let wait = timers
            .peek()
            .map_or(IDLE, |t| t.0.due.saturating_duration_since(Instant::now()));
        match inbox.recv_timeout(wait) {
            Ok(Msg::Start(job)) => {
                start(shared, job, &mut timers, &mut running, &mut order);
            }
            Ok(Msg::Extracted { op_id, result }) => {
                if let Some(r) = running.get_mut(&op_id) {
                    r.text = Some(result);
                    if r.due {
                        finish_if_ready(shared, &mut running, &op_id);
                    }
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            // The emulator is being dropped.
            Err(RecvTimeoutError::Disconnected) => return,
        }
        if shared.stop.load(std::sync::atomic::Ordering::Relaxed) {
            return;
        }
        let now = Instant::now();
        while timers.peek().is_some_and(|t| t.0.due <= now) {
            let Some(Reverse(t)) = timers.pop() else {
                break;
            };
            match t.percent {
                Some(p) => {
                    if let Some(r) = running.get(&t.op_id) {
                        let mut st = shared.state();
                        let op = st
                            .find_mut(r.job.assistant())
                            .and_then(|a| a.op_mut(&t.op_id));
                        if let Some(op) = op.filter(|o| o.status == "Processing") {
                            op.percent = p;
                        }
                    }
                }
                None => {
                    if let Some(r) = running.get_mut(&t.op_id) {
                        r.due = true;
                    }
                    finish_if_ready(shared, &mut running, &t.op_id);
                }
            }
        }
    }
}

/// Draws the operation's delay, sets its timers and, for an ingestion, starts
/// reading its text.
fn start(
    shared: &Arc<Shared>,
    job: Job,
    timers: &mut BinaryHeap<Reverse<Timer>>,
    running: &mut HashMap<String, Running>,
    order: &mut u64,
) {
    let s = &shared.settings;
    let (key, size) = job.delay_key();
    let delay = s.processing_delay.sample(s.seed, &key, size);
    let steps = s.processing_steps.max(1);
    let op_id = job.op_id().to_owned();
    for k in 1..=steps {
        *order += 1;
        // Divided first: a delay near `Duration::MAX` must not overflow.
        let at = if k == steps { delay } else { delay / steps * k };
        timers.push(Reverse(Timer {
            due: after(at),
            order: *order,
            op_id: op_id.clone(),
            percent: (k < steps).then(|| k * 100 / steps),
        }));
    }
    let text = match &job {
        Job::Ingest { kind, bytes, .. } => {
            let (kind, bytes) = (*kind, Arc::clone(bytes));
            let (theirs, id) = (Arc::clone(shared), op_id.clone());
            shared.spawn_helper("emulator-extract", move || {
                let result = documents::extract(kind, &bytes);
                theirs.send(Msg::Extracted { op_id: id, result });
            });
            None
        }
        Job::Delete { .. } => Some(Ok(Vec::new())),
    };
    running.insert(
        op_id,
        Running {
            job,
            due: false,
            text,
        },
    );
}

fn finish_if_ready(shared: &Shared, running: &mut HashMap<String, Running>, op_id: &str) {
    if !running
        .get(op_id)
        .is_some_and(|r| r.due && r.text.is_some())
    {
        return;
    }
    let Some(Running { job, text, .. }) = running.remove(op_id) else {
        return;
    };
    match job {
        Job::Ingest {
            assistant,
            file_id,
            op_id,
            generation,
            ..
        } => {
            let outcome = text.unwrap_or_else(|| Err("no text".to_owned()));
            complete_ingest(shared, &assistant, &file_id, &op_id, generation, outcome);
        }
        Job::Delete {
            assistant,
            file_id,
            op_id,
            generation,
            ..
        } => complete_delete(shared, &assistant, &file_id, &op_id, generation),
    }
}

fn complete_ingest(
    shared: &Shared,
    assistant: &str,
    file_id: &str,
    op_id: &str,
    generation: u64,
    outcome: Result<Vec<String>, String>,
) {
    let is_current = |shared: &Shared| {
        shared
            .state()
            .find(assistant)
            .filter(|a| a.deleted.is_none())
            .and_then(|a| a.file(file_id))
            .is_some_and(|f| f.generation == generation && f.status == "Processing")
    };
    // Chunking, and saving the text, run outside the lock so requests keep flowing.
    let indexed = outcome.map(|pages| {
        if let Some(store) = shared.store().filter(|_| is_current(shared)) {
            store.save_pages(assistant, generation, &pages);
        }
        let tokens = pages.iter().map(|p| index::token_estimate(p)).sum::<u64>();
        (index::chunk_pages(&pages), tokens)
    });
    let mut st = shared.state();
    let Some(a) = st.find_mut(assistant) else {
        return;
    };
    // A deleted assistant's records are gone from disk and must stay gone.
    let store = shared.store().filter(|_| a.deleted.is_none());
    let current = a
        .file(file_id)
        .is_some_and(|f| f.generation == generation && f.status == "Processing");
    let stamp = now();
    let (status, error, units) = match (current, indexed) {
        (false, _) => {
            // Replaced or deleted meanwhile: this version's saved text and bytes
            // are of no more use, unless a deletion still holds the record.
            let held = a.files.iter().any(|f| f.generation == generation);
            if let Some(store) = store.filter(|_| !held) {
                store.remove_version(assistant, generation);
            }
            (
                "Failed",
                Some(
                    "File processing failed: the file was deleted or replaced while processing."
                        .to_owned(),
                ),
                None,
            )
        }
        (true, Ok((chunks, tokens))) => {
            if let Some(f) = a.file_mut(file_id) {
                f.chunks = chunks;
                f.status = "Available";
                f.updated_on = stamp.clone();
                // Saved before its operation completes: a kill in between leaves
                // an available file whose operation the next start completes.
                if let Some(store) = store {
                    store.save_file(assistant, f);
                }
            }
            // Ingestion units scale with the text, as billing does.
            let units = (tokens.max(1) as f64 / 10.0).round() / 100.0;
            ("Completed", None, Some(units))
        }
        (true, Err(message)) => ("Failed", Some(message), None),
    };
    if let Some(op) = a.op_mut(op_id) {
        op.status = status;
        op.completed_on = Some(stamp.clone());
        if status == "Completed" {
            op.percent = 100;
            op.ingestion_units = units;
        }
        op.error_message = error;
        if let Some(store) = store {
            store.save_op(assistant, op);
        }
    }
    if current && status == "Failed" {
        if let Some(f) = a.file_mut(file_id) {
            f.status = "ProcessingFailed";
            f.updated_on = stamp;
            if let Some(store) = store {
                store.save_file(assistant, f);
            }
        }
    }
}

fn complete_delete(shared: &Shared, assistant: &str, file_id: &str, op_id: &str, generation: u64) {
    let mut st = shared.state();
    let Some(a) = st.find_mut(assistant) else {
        return;
    };
    let store = shared.store().filter(|_| a.deleted.is_none());
    // The version asked for is gone either way; a newer one uploaded under the
    // same id is left alone.
    let before = a.files.len();
    a.files
        .retain(|f| !(f.id == file_id && f.generation == generation && f.status == "Deleting"));
    if let Some(store) = store.filter(|_| a.files.len() < before) {
        store.remove_file(assistant, file_id, generation);
    }
    if let Some(op) = a.op_mut(op_id) {
        op.status = "Completed";
        op.percent = 100;
        op.completed_on = Some(now());
        if let Some(store) = store {
            store.save_op(assistant, op);
        }
    }
}
