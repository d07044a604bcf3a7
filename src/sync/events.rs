//! What a running sync tells its caller: an event per step of each file, and the
//! report at the end.

use std::fmt;
use std::time::Duration;

use serde_json::{Map, Value};

use super::plan::{PlanEntry, SyncAction};
use crate::error::Error;

/// One step of one file, passed to [`SyncOptions::on_progress`](super::SyncOptions::on_progress).
///
/// For each file that changes: `Queued` when the run starts, then `Uploading`
/// (repeatedly, with the bytes sent) and `Processing` (when the server accepted
/// the upload, and again when its progress changes), or `Deleting`; then
/// `Done` or `Failed`. Each skipped file gets one `Skipped`. Files the run did
/// not reach (cancelled, or stopped by fail-fast) get no further event; the
/// report counts them.
#[derive(Debug)]
#[non_exhaustive]
pub enum SyncEvent<'a> {
    /// The file waits for a worker.
    Queued {
        /// The file and what is to be done.
        entry: &'a PlanEntry,
    },
    /// The plan leaves the file alone.
    Skipped {
        /// The file and why.
        entry: &'a PlanEntry,
    },
    /// Bytes of the file are being sent. A retried upload counts from 0 again.
    Uploading {
        /// The file.
        entry: &'a PlanEntry,
        /// Bytes of the file sent so far.
        sent: u64,
        /// Its length.
        total: Option<u64>,
    },
    /// The server accepted the upload and is processing it.
    Processing {
        /// The file.
        entry: &'a PlanEntry,
        /// The operation the server processes it in.
        operation_id: &'a str,
        /// Its progress, when the server reports one.
        percent_complete: Option<i64>,
    },
    /// The deletion is under way.
    Deleting {
        /// The file.
        entry: &'a PlanEntry,
    },
    /// The file is created, updated or deleted, as planned.
    Done {
        /// The file.
        entry: &'a PlanEntry,
    },
    /// The file could not be synced; the others go on unless fail-fast is set.
    Failed {
        /// The file.
        entry: &'a PlanEntry,
        /// Why.
        error: &'a Error,
    },
}

impl SyncEvent<'_> {
    /// The file the event is about.
    pub fn entry(&self) -> &PlanEntry {
        match self {
            SyncEvent::Queued { entry }
            | SyncEvent::Skipped { entry }
            | SyncEvent::Uploading { entry, .. }
            | SyncEvent::Processing { entry, .. }
            | SyncEvent::Deleting { entry }
            | SyncEvent::Done { entry }
            | SyncEvent::Failed { entry, .. } => entry,
        }
    }

    /// The event's name in JSON: `queued`, `skipped`, `uploading`, `processing`,
    /// `deleting`, `done` or `failed`.
    pub fn kind(&self) -> &'static str {
        match self {
            SyncEvent::Queued { .. } => "queued",
            SyncEvent::Skipped { .. } => "skipped",
            SyncEvent::Uploading { .. } => "uploading",
            SyncEvent::Processing { .. } => "processing",
            SyncEvent::Deleting { .. } => "deleting",
            SyncEvent::Done { .. } => "done",
            SyncEvent::Failed { .. } => "failed",
        }
    }
}

impl fmt::Display for SyncEvent<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = self.entry();
        write!(f, "{:<10} {} {}", self.kind(), e.action, e.path)?;
        match self {
            SyncEvent::Skipped { entry } => write!(f, " ({})", entry.reason),
            SyncEvent::Uploading { sent, total, .. } => match total {
                Some(total) => write!(f, " {sent}/{total} bytes"),
                None => write!(f, " {sent} bytes"),
            },
            SyncEvent::Processing {
                operation_id,
                percent_complete,
                ..
            } => {
                write!(f, " ({operation_id}")?;
                if let Some(p) = percent_complete {
                    write!(f, ", {p}%")?;
                }
                f.write_str(")")
            }
            SyncEvent::Failed { error, .. } => write!(f, ": {error}"),
            _ => Ok(()),
        }
    }
}

/// A file a sync could not bring in line, with the error.
#[derive(Debug)]
#[non_exhaustive]
pub struct SyncFailure {
    /// The file and what was to be done.
    pub entry: PlanEntry,
    /// Why it failed (after the run's own retries).
    pub error: Error,
}

/// Why a run stopped before carrying out its whole plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SyncStop {
    /// The client's cancel handle was cancelled.
    Cancelled,
    /// A file failed and [`fail_fast`](super::SyncOptions::fail_fast) was set.
    FailFast,
}

impl SyncStop {
    /// The reason's name in JSON reports: `"cancelled"` or `"fail_fast"`.
    pub fn as_str(self) -> &'static str {
        match self {
            SyncStop::Cancelled => "cancelled",
            SyncStop::FailFast => "fail_fast",
        }
    }
}

/// The outcome of carrying out a plan.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct SyncReport {
    /// Files uploaded for the first time.
    pub created: usize,
    /// Files uploaded again.
    pub updated: usize,
    /// Files deleted from the assistant.
    pub deleted: usize,
    /// Files the plan left alone.
    pub skipped: usize,
    /// Files that failed; [`failures`](Self::failures) says why.
    pub failed: usize,
    /// Changes not carried out because the run stopped (see [`stopped`](Self::stopped)).
    /// A rerun plans them again.
    pub unfinished: usize,
    /// Each failure, in the order they happened.
    pub failures: Vec<SyncFailure>,
    /// File bytes sent, retried uploads included (multipart framing excluded).
    pub bytes_sent: u64,
    /// How long carrying out the plan took ([`Assistant::sync`](crate::Assistant::sync):
    /// planning included).
    pub elapsed: Duration,
    /// Why the run stopped early, if it did.
    pub stopped: Option<SyncStop>,
}

impl SyncReport {
    /// Whether every planned change was carried out.
    pub fn is_complete(&self) -> bool {
        self.failed == 0 && self.unfinished == 0 && self.stopped.is_none()
    }

    /// The report's counts as a JSON object: `created`, `updated`, `deleted`,
    /// `skipped`, `failed`, `unfinished`, `bytes_sent`, `elapsed_ms` and
    /// `stopped` (a [`SyncStop::as_str`] name, or null).
    ///
    /// The failures are left out, because how an error is written differs
    /// between callers; add them under a key of your own.
    ///
    /// ```
    /// let report = pinecone_assistant::sync::SyncReport::default();
    /// let counts = report.counts_json();
    /// assert_eq!(counts["created"], 0);
    /// assert!(counts["stopped"].is_null());
    /// ```
    pub fn counts_json(&self) -> Map<String, Value> {
        let mut doc = Map::new();
        doc.insert("created".into(), self.created.into());
        doc.insert("updated".into(), self.updated.into());
        doc.insert("deleted".into(), self.deleted.into());
        doc.insert("skipped".into(), self.skipped.into());
        doc.insert("failed".into(), self.failed.into());
        doc.insert("unfinished".into(), self.unfinished.into());
        doc.insert("bytes_sent".into(), self.bytes_sent.into());
        let elapsed_ms = u64::try_from(self.elapsed.as_millis()).unwrap_or(u64::MAX);
        doc.insert("elapsed_ms".into(), elapsed_ms.into());
        doc.insert("stopped".into(), self.stopped.map(SyncStop::as_str).into());
        doc
    }

    /// Counts a finished change.
    pub(crate) fn count_done(&mut self, action: SyncAction) {
        match action {
            SyncAction::Create => self.created += 1,
            SyncAction::Update => self.updated += 1,
            SyncAction::Delete => self.deleted += 1,
            SyncAction::Skip => self.skipped += 1,
        }
    }
}

impl fmt::Display for SyncReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} created, {} updated, {} deleted, {} skipped, {} failed",
            self.created, self.updated, self.deleted, self.skipped, self.failed
        )?;
        if self.unfinished > 0 {
            write!(f, ", {} unfinished", self.unfinished)?;
        }
        write!(
            f,
            "; {} bytes sent in {:.1?}",
            self.bytes_sent, self.elapsed
        )?;
        match self.stopped {
            Some(SyncStop::Cancelled) => f.write_str(" (cancelled)"),
            Some(SyncStop::FailFast) => f.write_str(" (stopped at the first failure)"),
            None => Ok(()),
        }
    }
}
