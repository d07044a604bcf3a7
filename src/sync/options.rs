//! What to sync and how: the settings of a plan and of its execution.

use std::fmt;
use std::sync::{Mutex, PoisonError};

use serde_json::Value;

use super::events::SyncEvent;
use super::scan::LocalFile;
use crate::error::{Error, Result};
use crate::models::setters;

type MetadataFn = Box<dyn Fn(&LocalFile) -> Value + Send + Sync>;
type ProgressFn = Box<dyn FnMut(&SyncEvent<'_>) + Send>;

/// Settings of [`Assistant::plan_sync`](crate::Assistant::plan_sync),
/// [`Assistant::execute_sync`](crate::Assistant::execute_sync) and
/// [`Assistant::sync`](crate::Assistant::sync).
///
/// ```
/// use pinecone_assistant::sync::SyncOptions;
/// use serde_json::json;
///
/// let options = SyncOptions::new()
///     .include(["*.md", "manuals/**/*.pdf"])
///     .exclude(["drafts/"])
///     .gitignore(true)
///     .delete_missing(true)
///     .workers(16)
///     .metadata(|file| json!({"folder": file.relative_path().rsplit_once('/').map_or("", |(d, _)| d)}))
///     .on_progress(|event| eprintln!("{event}"));
/// # let _ = options;
/// ```
#[must_use]
pub struct SyncOptions {
    pub(crate) include: Vec<String>,
    pub(crate) exclude: Vec<String>,
    pub(crate) gitignore: bool,
    pub(crate) hidden: bool,
    pub(crate) follow_symlinks: bool,
    pub(crate) delete_missing: bool,
    pub(crate) multimodal: Option<bool>,
    pub(crate) workers: usize,
    pub(crate) fail_fast: bool,
    metadata: Option<MetadataFn>,
    progress: Mutex<Option<ProgressFn>>,
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self {
            include: Vec::new(),
            exclude: Vec::new(),
            gitignore: false,
            hidden: false,
            follow_symlinks: false,
            delete_missing: false,
            multimodal: None,
            workers: DEFAULT_WORKERS,
            fail_fast: false,
            metadata: None,
            progress: Mutex::new(None),
        }
    }
}

/// Worker threads unless [`SyncOptions::workers`] says otherwise.
pub const DEFAULT_WORKERS: usize = 8;

/// The most worker threads a sync accepts.
pub const MAX_WORKERS: usize = 256;

impl fmt::Debug for SyncOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A poisoned lock still holds the callback that was set.
        let progress = match self.progress.lock() {
            Ok(p) => p.is_some(),
            Err(_) => true,
        }
        .then_some("set");
        f.debug_struct("SyncOptions")
            .field("include", &self.include)
            .field("exclude", &self.exclude)
            .field("gitignore", &self.gitignore)
            .field("hidden", &self.hidden)
            .field("follow_symlinks", &self.follow_symlinks)
            .field("delete_missing", &self.delete_missing)
            .field("multimodal", &self.multimodal)
            .field("workers", &self.workers)
            .field("fail_fast", &self.fail_fast)
            .field("metadata", &self.metadata.as_ref().map(|_| "set"))
            .field("on_progress", &progress)
            .finish()
    }
}

impl SyncOptions {
    /// Every setting at its default.
    pub fn new() -> Self {
        Self::default()
    }

    /// Gitignore-style patterns selecting the files to sync, matched against
    /// each path relative to the folder: `*.md` matches at any depth,
    /// `guides/*.md` only in `guides/`, `manuals/` everything below that
    /// directory, `**` any number of directories, and a leading `!` takes a
    /// match back. A file is synced when the last pattern matching it is not
    /// negated. Adds to earlier calls.
    ///
    /// Defaults to none, which selects the file types the service reads:
    /// `.md`, `.txt`, `.pdf`, `.json` and `.docx`, in any letter case.
    pub fn include(mut self, patterns: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.include.extend(patterns.into_iter().map(Into::into));
        self
    }

    /// Gitignore-style patterns of files and directories to leave out (the
    /// syntax of [`include`](Self::include)). An excluded directory is not
    /// entered, so, as in git, no file inside it can be taken back with `!`.
    /// Exclusion wins over inclusion. Adds to earlier calls. Defaults to none.
    pub fn exclude(mut self, patterns: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.exclude.extend(patterns.into_iter().map(Into::into));
        self
    }

    setters! {
        /// Also leave out what the `.gitignore` files inside the folder (and
        /// `.git/info/exclude`) ignore, as git would, whether or not the folder is a
        /// git checkout. Files above the folder are not read, so a plan does not
        /// depend on where the folder sits. Defaults to `false`.
        gitignore(honour: bool) => gitignore = honour;
        /// Also sync hidden files and enter hidden directories (names starting with
        /// `.`). A `.git` directory is never entered. Defaults to `false`: hidden
        /// entries are left out.
        hidden(include: bool) => hidden = include;
        /// Follow symbolic links to files and directories, syncing what they point to
        /// under the link's own path (link loops are reported as unreadable entries).
        /// Defaults to `false`: a link is listed in the plan as skipped and its
        /// target is not read.
        follow_symlinks(follow: bool) => follow_symlinks = follow;
        /// Delete the files a sync uploaded earlier whose local file is gone (or no
        /// longer selected). Files uploaded by other means are never deleted.
        /// Defaults to `false`: such files are listed as skipped and kept.
        delete_missing(delete: bool) => delete_missing = delete;
        /// Upload PDF files with `multimodal` set to this, so their images are read
        /// too; a PDF stored with the other setting is uploaded again. Other file
        /// types are not affected. Defaults to leaving it unset (the server's
        /// default) and not comparing it.
        multimodal(multimodal: bool) => multimodal = Some(multimodal);
        /// Worker threads carrying out the plan, at most [`MAX_WORKERS`]. Each
        /// carries one file at a time from upload to processed, so this is also the
        /// most server operations in flight at once. Planning hashes files on as
        /// many threads. Defaults to [`DEFAULT_WORKERS`] (8).
        workers(workers: usize) => workers = workers;
        /// Stop the other workers at the first file that fails (the run then reports
        /// the files it did not finish). Defaults to `false`: a failure is reported
        /// and the other files go on.
        fail_fast(fail_fast: bool) => fail_fast = fail_fast;
    }

    /// Metadata for each file, from its path and size: a JSON object (or null
    /// for none). It is stored beside the sync's own record under
    /// [`SYNC_METADATA_KEY`](super::SYNC_METADATA_KEY), which it must not use, and
    /// compared on every plan: a file whose metadata changed is uploaded again.
    /// Called on the planning thread, once per selected file. Defaults to none.
    pub fn metadata(mut self, f: impl Fn(&LocalFile) -> Value + Send + Sync + 'static) -> Self {
        self.metadata = Some(Box::new(f));
        self
    }

    /// Receives a [`SyncEvent`] for each step of each file. Called on the thread
    /// that runs the sync, never on a worker, one event at a time. Defaults to
    /// none.
    pub fn on_progress(self, f: impl FnMut(&SyncEvent<'_>) + Send + 'static) -> Self {
        *self.progress.lock().unwrap_or_else(PoisonError::into_inner) = Some(Box::new(f));
        self
    }

    /// The metadata function's answer for `file`.
    pub(crate) fn metadata_for(&self, file: &LocalFile) -> Value {
        self.metadata.as_ref().map_or(Value::Null, |f| f(file))
    }

    /// Passes `event` to the progress callback, if there is one.
    pub(crate) fn report(&self, event: &SyncEvent<'_>) {
        if let Some(f) = self
            .progress
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_mut()
        {
            f(event);
        }
    }

    /// The checks both planning and execution make before any work.
    pub(crate) fn check(&self) -> Result<()> {
        if !(1..=MAX_WORKERS).contains(&self.workers) {
            return Err(Error::invalid(
                "workers",
                format!(
                    "must be between 1 and {MAX_WORKERS}, got {}; leave it unset for {DEFAULT_WORKERS}",
                    self.workers
                ),
            ));
        }
        Ok(())
    }
}
