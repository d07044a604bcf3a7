//! Carrying out a plan: a pool of worker threads, each taking the next file and
//! carrying it from upload to processed (or deleted), with one pause shared by
//! every worker when the server asks the client to slow down.
//!
//! The workers send their requests through a copy of the caller's client that
//! does not retry by itself: this module retries instead (with the caller's
//! retry policy), so that a `429` or a `Retry-After` seen by one worker pauses
//! them all. Progress goes to the calling thread over a channel, and the
//! caller's callback runs there, never on a worker.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::events::{SyncEvent, SyncFailure, SyncReport, SyncStop};
use super::options::SyncOptions;
use super::plan::{PlanEntry, SyncAction, SyncPlan};
use super::record::Record;
use crate::assistant::Assistant;
use crate::cancel::CancelHandle;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::http::retry::{RetryPolicy, random_unit};
use crate::models::{FileStatus, OperationModel, OperationType, UploadFile};
use crate::polling::Wait;

/// Upload progress is passed on at most once per this many bytes (and at the
/// end), so a large file does not flood the channel.
const PROGRESS_STEP: u64 = 256 * 1024;

/// What a worker tells the calling thread.
enum Msg {
    Uploading {
        index: usize,
        sent: u64,
        total: Option<u64>,
    },
    Processing {
        index: usize,
        operation_id: String,
        percent_complete: Option<i64>,
    },
    Deleting {
        index: usize,
    },
    Finished {
        index: usize,
        outcome: Result<()>,
        bytes: u64,
    },
}

/// Carries out `plan` for `assistant`.
pub(crate) fn execute(
    assistant: &Assistant,
    plan: &SyncPlan,
    options: &SyncOptions,
) -> Result<SyncReport> {
    options.check()?;
    plan.check()?;
    let caller = assistant.client();
    caller.cancel_handle().check()?;
    let started = Instant::now();
    // Stops the workers on the caller's cancel and on fail-fast, without
    // cancelling the caller's handle.
    let stop = caller.cancel_handle().child();
    let run = Run {
        assistant: worker_client(caller, options.workers, stop.clone())?
            .assistant(assistant.name()),
        policy: caller.config().retry(),
        pause: SharedPause::default(),
        stop,
        failed_fast: AtomicBool::new(false),
        options,
        plan,
    };

    let mut report = SyncReport::default();
    let mut uploads = Vec::new();
    let mut deletes = Vec::new();
    for (index, entry) in plan.entries.iter().enumerate() {
        match entry.action {
            SyncAction::Skip => {
                report.skipped += 1;
                options.report(&SyncEvent::Skipped { entry });
            }
            SyncAction::Delete => deletes.push(index),
            SyncAction::Create | SyncAction::Update => uploads.push(index),
        }
    }
    for &index in uploads.iter().chain(&deletes) {
        options.report(&SyncEvent::Queued {
            entry: &plan.entries[index],
        });
    }
    // Deletions start once every upload has ended, so a renamed file is never
    // missing from the assistant while its new copy is being processed.
    run.phase(&uploads, &mut report);
    run.phase(&deletes, &mut report);

    report.stopped = if run.failed_fast.load(Ordering::SeqCst) {
        Some(SyncStop::FailFast)
    } else if run.stop.is_cancelled() {
        Some(SyncStop::Cancelled)
    } else {
        None
    };
    report.elapsed = started.elapsed();
    Ok(report)
}

/// A client like `caller` (same settings, host cache, observer and, through
/// `stop`, its cancel handle) that never retries on its own and keeps a
/// connection per worker.
fn worker_client(caller: &Client, workers: usize, stop: CancelHandle) -> Result<Client> {
    let config = caller
        .config()
        .for_worker_pool(RetryPolicy::none(), workers);
    let client = Client {
        hosts: Arc::clone(&caller.hosts),
        ..Client::new(config)?.with_cancel_handle(stop)
    };
    // An observer set with `Client::set_observer` lives in the caller's
    // transport, not in its configuration.
    client.set_observer(caller.transport.observer().get());
    Ok(client)
}

struct Run<'a> {
    assistant: Assistant,
    policy: RetryPolicy,
    pause: SharedPause,
    stop: CancelHandle,
    failed_fast: AtomicBool,
    options: &'a SyncOptions,
    plan: &'a SyncPlan,
}

impl Run<'_> {
    /// Carries out the entries at `indices` on the worker pool, reporting as
    /// they go, and returns once every worker has ended.
    fn phase(&self, indices: &[usize], report: &mut SyncReport) {
        if indices.is_empty() {
            return;
        }
        let next = AtomicUsize::new(0);
        let (tx, rx) = mpsc::channel();
        std::thread::scope(|s| {
            for _ in 0..self.options.workers.min(indices.len()) {
                let tx = tx.clone();
                let next = &next;
                s.spawn(move || self.work(indices, next, &tx));
            }
            // The loop below ends when the last worker drops its sender.
            drop(tx);
            for msg in rx {
                self.take(msg, report);
            }
        });
        let reached = next.load(Ordering::SeqCst).min(indices.len());
        report.unfinished += indices.len() - reached;
    }

    /// One worker: takes entries until there are none left or the run stops.
    fn work(&self, indices: &[usize], next: &AtomicUsize, tx: &Sender<Msg>) {
        let mut seen = 0u64;
        while !self.stop.is_cancelled() {
            let Some(&index) = indices.get(next.fetch_add(1, Ordering::SeqCst)) else {
                break;
            };
            let bytes = Arc::new(AtomicU64::new(0));
            let entry = &self.plan.entries[index];
            let outcome = match entry.action {
                SyncAction::Delete => {
                    let _ = tx.send(Msg::Deleting { index });
                    self.delete(entry, index, &mut seen, tx)
                }
                _ => self.upload(entry, index, &mut seen, tx, &bytes),
            };
            if self.options.fail_fast && outcome.is_err() && !self.stop.is_cancelled() {
                self.failed_fast.store(true, Ordering::SeqCst);
                self.stop.cancel();
            }
            let _ = tx.send(Msg::Finished {
                index,
                outcome,
                bytes: bytes.load(Ordering::SeqCst),
            });
        }
    }

    /// Handles a worker's message on the calling thread.
    fn take(&self, msg: Msg, report: &mut SyncReport) {
        let entries = &self.plan.entries;
        match msg {
            Msg::Uploading { index, sent, total } => self.options.report(&SyncEvent::Uploading {
                entry: &entries[index],
                sent,
                total,
            }),
            Msg::Processing {
                index,
                operation_id,
                percent_complete,
            } => self.options.report(&SyncEvent::Processing {
                entry: &entries[index],
                operation_id: &operation_id,
                percent_complete,
            }),
            Msg::Deleting { index } => self.options.report(&SyncEvent::Deleting {
                entry: &entries[index],
            }),
            Msg::Finished {
                index,
                outcome,
                bytes,
            } => {
                let entry = &entries[index];
                report.bytes_sent += bytes;
                match outcome {
                    Ok(()) => {
                        report.count_done(entry.action);
                        self.options.report(&SyncEvent::Done { entry });
                    }
                    // Stopped by the run, not failed: a rerun plans it again.
                    Err(Error::Cancelled) if self.stop.is_cancelled() => report.unfinished += 1,
                    Err(error) => {
                        report.failed += 1;
                        self.options.report(&SyncEvent::Failed {
                            entry,
                            error: &error,
                        });
                        report.failures.push(SyncFailure {
                            entry: entry.clone(),
                            error,
                        });
                    }
                }
            }
        }
    }

    /// Uploads the entry's file under its id and follows the processing.
    fn upload(
        &self,
        entry: &PlanEntry,
        index: usize,
        seen: &mut u64,
        tx: &Sender<Msg>,
        bytes: &Arc<AtomicU64>,
    ) -> Result<()> {
        let Some(path) = &entry.local_path else {
            return Err(Error::invalid("plan", "an upload needs local_path"));
        };
        let accepted = self.attempt(seen, || {
            let mut file = UploadFile::path(path).file_id(&entry.file_id);
            if let Some(metadata) = &entry.metadata {
                file = file.metadata(metadata.clone());
            }
            if let Some(multimodal) = entry.multimodal {
                file = file.multimodal(multimodal);
            }
            let tx = tx.clone();
            let bytes = Arc::clone(bytes);
            // Per attempt: a retried upload reports from 0 again.
            let mut counted = 0u64;
            let mut reported = 0u64;
            file = file.on_progress(move |sent, total| {
                bytes.fetch_add(sent.saturating_sub(counted), Ordering::SeqCst);
                counted = sent;
                let last = total.is_some_and(|t| sent >= t);
                if last || sent == 0 || sent - reported >= PROGRESS_STEP {
                    reported = sent;
                    let _ = tx.send(Msg::Uploading { index, sent, total });
                }
            });
            self.assistant.upload_file(file, Wait::No)
        })?;
        match self.follow(accepted.operation, index, seen, tx) {
            Err(failed @ Error::OperationFailed { .. }) => {
                self.settle(entry, seen).unwrap_or(Err(failed))
            }
            other => other,
        }
    }

    /// After the upload's operation failed: whether the file holds this entry's
    /// content anyway. The service fails an operation whose file was replaced
    /// while it was processed, which is what happens when another sync of the
    /// same folder uploads the same file at the same time; then the other
    /// upload is followed to its end instead. `None` means the failure stands
    /// (the content there is other, or processing it failed).
    fn settle(&self, entry: &PlanEntry, seen: &mut u64) -> Option<Result<()>> {
        let (mut poll, mut waited) = (0u32, Duration::ZERO);
        loop {
            let file = match self.attempt(seen, || self.assistant.describe_file(&entry.file_id)) {
                Ok(file) => file,
                Err(e) if e.is_not_found() => return None,
                Err(e) => return Some(Err(e)),
            };
            let record = Record::read(file.metadata.as_ref())?;
            if Some(&record.sha256) != entry.sha256.as_ref() {
                return None;
            }
            match file.status {
                Some(FileStatus::Processing) => {}
                Some(FileStatus::ProcessingFailed | FileStatus::Deleting) => return None,
                _ => return Some(Ok(())),
            }
            let delay = self.poll_delay(poll, waited);
            if let Err(e) = self.sleep(delay) {
                return Some(Err(e));
            }
            waited += delay;
            poll += 1;
        }
    }

    /// The delay before poll number `poll` (0 for the first) of one operation,
    /// after `waited` in all: the client's [`PollSchedule`](crate::PollSchedule)
    /// capped by its operation poll interval, as `Wait` would use.
    fn poll_delay(&self, poll: u32, waited: Duration) -> Duration {
        let config = self.assistant.client().config();
        config.poll_schedule().delay(
            poll,
            waited,
            config.operation_poll_interval(),
            random_unit(),
        )
    }

    /// Deletes the entry's file and follows the deletion, if the server starts
    /// one. A file already gone counts as deleted.
    fn delete(
        &self,
        entry: &PlanEntry,
        index: usize,
        seen: &mut u64,
        tx: &Sender<Msg>,
    ) -> Result<()> {
        match self.attempt(seen, || {
            self.assistant.delete_file(&entry.file_id, Wait::No)
        }) {
            Ok(Some(operation)) => self.follow(operation, index, seen, tx),
            Ok(None) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Polls `operation` until it completes or fails.
    fn follow(
        &self,
        mut operation: OperationModel,
        index: usize,
        seen: &mut u64,
        tx: &Sender<Msg>,
    ) -> Result<()> {
        let entry = &self.plan.entries[index];
        let (mut poll, mut waited) = (0u32, Duration::ZERO);
        let mut shown = None;
        loop {
            if operation.is_failed() {
                let kind = match entry.action {
                    SyncAction::Delete => OperationType::DeleteFile,
                    _ => OperationType::UpsertFile,
                };
                return Err(Error::OperationFailed {
                    operation_id: operation.id,
                    operation_type: operation.operation_type.or(Some(kind)),
                    file_id: operation
                        .file_id
                        .filter(|id| !id.is_empty())
                        .or_else(|| Some(entry.file_id.clone())),
                    message: operation
                        .error_message
                        .filter(|m| !m.is_empty())
                        .unwrap_or_else(|| "the server gave no error message".into()),
                });
            }
            if operation.is_completed() {
                return Ok(());
            }
            if shown != Some(operation.percent_complete) {
                shown = Some(operation.percent_complete);
                let _ = tx.send(Msg::Processing {
                    index,
                    operation_id: operation.id.clone(),
                    percent_complete: operation.percent_complete,
                });
            }
            let delay = self.poll_delay(poll, waited);
            self.sleep(delay)?;
            waited += delay;
            poll += 1;
            operation = self.attempt(seen, || self.assistant.describe_operation(&operation.id))?;
        }
    }

    /// Runs `call` after any pause every worker must observe, retrying what the
    /// retry policy allows. A throttled answer (429, or any answer with a
    /// `Retry-After`) pauses every worker before the retry; other failures
    /// back off this worker alone.
    fn attempt<T>(&self, seen: &mut u64, mut call: impl FnMut() -> Result<T>) -> Result<T> {
        let mut retry = 0u32;
        loop {
            self.pause.observe(seen, |d| self.sleep(d))?;
            let error = match call() {
                Ok(value) => return Ok(value),
                Err(e) => e,
            };
            if !error.is_retryable() || retry >= self.policy.max_retries {
                return Err(error);
            }
            let asked = error.api().and_then(|a| a.retry_after);
            match asked {
                Some(wait) if wait > self.policy.max_delay => {
                    // Longer than the policy accepts: this file fails with the
                    // server's value, and the others still slow down.
                    self.pause.pause_all(self.policy.max_delay);
                    return Err(error);
                }
                Some(wait) => self.pause.pause_all(wait),
                None if error.status() == Some(429) => {
                    self.pause.pause_all(self.policy.backoff(retry));
                }
                None => self.sleep(self.policy.backoff(retry))?,
            }
            log::debug!("sync: retry {} after {error}", retry + 1);
            retry += 1;
        }
    }

    /// Sleeps through the client's sleeper (or for real), waking on a stop.
    fn sleep(&self, delay: Duration) -> Result<()> {
        let client = self.assistant.client();
        client.transport.pause(delay, client.cancel_handle())
    }
}

/// The pause every worker observes before its next request once the server
/// asked to slow down. Each pause is observed once per worker: a worker sleeps
/// for what is left of it (through the client's sleeper, so tests need not wait).
#[derive(Default)]
struct SharedPause {
    state: Mutex<PauseState>,
}

#[derive(Default)]
struct PauseState {
    until: Option<Instant>,
    /// Counts pauses, so each worker knows which it has observed.
    generation: u64,
}

impl SharedPause {
    /// Pauses every worker for `delay` from now, unless a pause already lasts
    /// longer.
    fn pause_all(&self, delay: Duration) {
        let end = Instant::now() + delay;
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.until.is_none_or(|until| end > until) {
            state.until = Some(end);
            state.generation += 1;
            log::debug!("sync: every worker pauses for {delay:?}");
        }
    }

    /// Sleeps (with `sleep`) for the rest of the latest pause, unless this
    /// worker (whose last observed pause is `seen`) has observed it already.
    fn observe(&self, seen: &mut u64, sleep: impl FnOnce(Duration) -> Result<()>) -> Result<()> {
        let (until, generation) = {
            let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            (state.until, state.generation)
        };
        if generation == *seen {
            return Ok(());
        }
        *seen = generation;
        match until.map(|u| u.saturating_duration_since(Instant::now())) {
            Some(left) if !left.is_zero() => sleep(left),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lets a worker whose last observed pause is `seen` observe `pause`,
    /// recording what it would sleep in `slept`.
    fn observe(pause: &SharedPause, seen: &mut u64, slept: &mut Vec<Duration>) {
        pause
            .observe(seen, |d| {
                slept.push(d);
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn each_worker_observes_each_pause_once() {
        let pause = SharedPause::default();
        let (mut a, mut b) = (0u64, 0u64);
        let mut slept = Vec::new();
        observe(&pause, &mut a, &mut slept);
        assert!(slept.is_empty(), "no pause yet");

        pause.pause_all(Duration::from_secs(7));
        // A shorter pause asked for meanwhile does not cut the longer one short.
        pause.pause_all(Duration::from_secs(1));
        for seen in [&mut a, &mut b] {
            observe(&pause, seen, &mut slept);
            observe(&pause, seen, &mut slept);
        }
        assert_eq!(slept.len(), 2, "{slept:?}");
        for d in &slept {
            assert!(
                *d > Duration::from_secs(6) && *d <= Duration::from_secs(7),
                "{d:?}"
            );
        }

        pause.pause_all(Duration::from_secs(9));
        let mut later = Vec::new();
        observe(&pause, &mut a, &mut later);
        assert_eq!(later.len(), 1);
    }
}
