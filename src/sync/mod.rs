//! Keeping an assistant's files equal to a local folder (feature `sync`).
//!
//! A sync is a plan, then its execution:
//!
//! 1. [`Assistant::plan_sync`] reads the folder (the files selected by
//!    [`SyncOptions`]: gitignore-style patterns, `.gitignore` on request, hidden
//!    entries and symbolic links left out unless asked for), hashes each file,
//!    lists the assistant's files and decides, for each, to create, update,
//!    delete or skip it, with the reason. Printing the [`SyncPlan`] is a dry run.
//! 2. [`Assistant::execute_sync`] carries the plan out on a pool of worker
//!    threads and returns a [`SyncReport`]; [`Assistant::sync`] does both.
//!
//! **Ids.** Each local file is stored under an id derived from its path relative
//! to the folder alone: `{readable}-{digest}`, where `digest` is the first 128
//! bits of the SHA-256 of the path (components joined by `/`, Unicode in
//! normalization form C) in 32 hexadecimal characters, and `readable` is the
//! path with each run of characters other than ASCII letters, digits, `-` and
//! `_` turned into one `_`, trimmed of `_` at both ends and cut to its last 95
//! characters. `guides/install guide.md` becomes
//! `guides_install_guide_md-` followed by the digest. Ids are therefore at most
//! 128 characters of `A-Z a-z 0-9 - _` (what the service accepts), the same on
//! every machine, and different for different paths whatever their names hold.
//!
//! **Records.** Every upload carries, beside the caller's metadata, a record
//! under the reserved key [`SYNC_METADATA_KEY`]: the relative path and the
//! SHA-256 of the content. The next plan compares local hashes with these
//! records (found by listing the files), so an unchanged file is never sent
//! again, whichever machine ran the last sync. Files without a record were not
//! uploaded by a sync and are never deleted by one.
//!
//! **Idempotent and resumable.** Every write is an upsert (`PUT`) by the file's
//! id, so repeating one never makes a duplicate. A sync that was interrupted
//! (cancelled, killed, crashed) converges when run again: the files it finished
//! are unchanged and skipped, the ones still processing are uploaded again, the
//! rest are planned as before. Two syncs of the same folder at once converge
//! the same way.
//!
//! **Execution.** [`SyncOptions::workers`] threads (8 by default) each carry one
//! file at a time from upload to processed, so that many server operations at
//! most are in flight. Uploads go first; deletions start once every upload has
//! ended. A `429` or a `Retry-After` answered to any worker pauses every worker
//! before its next request. Other retryable failures are retried by the worker
//! that met them, with the client's [`RetryPolicy`](crate::RetryPolicy). A file
//! that still fails is reported and the others go on, unless
//! [`SyncOptions::fail_fast`] is set. Cancelling the client's
//! [`CancelHandle`](crate::CancelHandle) stops the workers promptly; the report
//! then says what was done and what was not.
//!
//! ```no_run
//! use pinecone_assistant::Client;
//! use pinecone_assistant::sync::SyncOptions;
//!
//! let docs = Client::from_env()?.assistant("docs");
//! let options = SyncOptions::new().exclude(["drafts/"]).delete_missing(true);
//! let plan = docs.plan_sync("handbook", &options)?;
//! print!("{plan}"); // the dry run
//! let report = docs.execute_sync(&plan, &options)?;
//! println!("{report}");
//! for failure in &report.failures {
//!     eprintln!("{}: {}", failure.entry.path, failure.error);
//! }
//! # Ok::<(), pinecone_assistant::Error>(())
//! ```

mod events;
mod id;
mod options;
mod plan;
mod record;
mod run;
mod scan;

use std::path::Path;
use std::time::Instant;

pub use events::{SyncEvent, SyncFailure, SyncReport, SyncStop};
pub use options::{DEFAULT_WORKERS, MAX_WORKERS, SyncOptions};
pub use plan::{PlanEntry, SyncAction, SyncPlan, SyncReason};
pub use record::SYNC_METADATA_KEY;
pub use scan::LocalFile;

use crate::assistant::Assistant;
use crate::error::Result;

/// The id a file at `relative_path` (relative to the synced folder, components
/// separated by `/`) is stored under; see the [module documentation](self).
///
/// ```
/// use pinecone_assistant::sync::file_id_for;
/// let id = file_id_for("guides/install guide.md");
/// assert!(id.starts_with("guides_install_guide_md-"));
/// assert_eq!(id.len(), 24 + 32);
/// ```
pub fn file_id_for(relative_path: &str) -> String {
    id::file_id(&scan::canonical(Path::new(relative_path)).0)
}

impl Assistant {
    /// Plans what it takes to make this assistant's files equal the folder at
    /// `root`: reads and hashes the selected files, lists the assistant's files
    /// and decides for each; nothing is changed. Print the plan for a dry run;
    /// carry it out with [`execute_sync`](Self::execute_sync).
    ///
    /// ```no_run
    /// use pinecone_assistant::sync::{SyncAction, SyncOptions};
    /// # let docs = pinecone_assistant::Client::from_env()?.assistant("docs");
    /// let plan = docs.plan_sync("handbook", &SyncOptions::new().include(["*.md"]))?;
    /// print!("{plan}");
    /// println!("{} files to upload", plan.count(SyncAction::Create) + plan.count(SyncAction::Update));
    /// # Ok::<(), pinecone_assistant::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) when `root` is
    /// not a readable directory, a pattern is malformed, the worker count is out
    /// of range, or the metadata function returns something other than an object
    /// or null (or uses [`SYNC_METADATA_KEY`]); [`Error::Io`](crate::Error::Io)
    /// when the folder itself cannot be walked; the errors of
    /// [`list_files`](Self::list_files). A file that cannot be read is not an
    /// error: the plan skips it, saying why, and keeps its server copy.
    pub fn plan_sync(&self, root: impl AsRef<Path>, options: &SyncOptions) -> Result<SyncPlan> {
        options.check()?;
        self.client.cancel.check()?;
        let scan = scan::scan(root.as_ref(), options)?;
        let remote = self.list_files().collect::<Result<Vec<_>>>()?;
        plan::build(scan, remote, options, |found| {
            record::check_user_metadata(
                options.metadata_for(&found.file),
                found.file.relative_path(),
            )
        })
    }

    /// Carries out `plan` (from [`plan_sync`](Self::plan_sync), or decoded from
    /// JSON) on [`SyncOptions::workers`] threads, passing each step to
    /// [`SyncOptions::on_progress`]. Only the execution settings of `options`
    /// are used (workers, fail-fast, progress); what to sync is in the plan.
    ///
    /// A file that fails does not make this call fail: the report counts it and
    /// holds its error. Neither does a cancel: the report says what was done
    /// ([`SyncReport::stopped`], [`SyncReport::unfinished`]).
    ///
    /// ```no_run
    /// use pinecone_assistant::sync::{SyncEvent, SyncOptions};
    /// # let docs = pinecone_assistant::Client::from_env()?.assistant("docs");
    /// let options = SyncOptions::new().workers(32).on_progress(|event| {
    ///     if let SyncEvent::Failed { entry, error } = event {
    ///         eprintln!("{}: {error}", entry.path);
    ///     }
    /// });
    /// let plan = docs.plan_sync("handbook", &options)?;
    /// let report = docs.execute_sync(&plan, &options)?;
    /// assert!(report.is_complete(), "{report}");
    /// # Ok::<(), pinecone_assistant::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// Before any request: [`Error::InvalidArgument`](crate::Error::InvalidArgument)
    /// for a worker count out of range or a plan entry that cannot be carried
    /// out (an invalid id, an upload without a local path, two changes to one
    /// id); [`Error::Cancelled`](crate::Error::Cancelled) when the client's handle
    /// is already cancelled; an error building the workers' client.
    pub fn execute_sync(&self, plan: &SyncPlan, options: &SyncOptions) -> Result<SyncReport> {
        run::execute(self, plan, options)
    }

    /// Makes this assistant's files equal the folder at `root`:
    /// [`plan_sync`](Self::plan_sync), then [`execute_sync`](Self::execute_sync).
    ///
    /// ```no_run
    /// use pinecone_assistant::sync::SyncOptions;
    /// # let docs = pinecone_assistant::Client::from_env()?.assistant("docs");
    /// let report = docs.sync("handbook", &SyncOptions::new().gitignore(true))?;
    /// println!("{report}");
    /// # Ok::<(), pinecone_assistant::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// Those of both. The report's [`elapsed`](SyncReport::elapsed) covers both.
    pub fn sync(&self, root: impl AsRef<Path>, options: &SyncOptions) -> Result<SyncReport> {
        let started = Instant::now();
        let plan = self.plan_sync(root, options)?;
        let mut report = self.execute_sync(&plan, options)?;
        report.elapsed = started.elapsed();
        Ok(report)
    }
}
