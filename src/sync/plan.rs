//! The plan: for every selected local file and every file an earlier sync
//! uploaded, what to do and why.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::id;
use super::options::SyncOptions;
use super::record::{self, Record};
use super::scan::{Blocked, Found, Scan, Unusable};
use crate::error::{Error, Result};
use crate::models::{FileModel, FileStatus};

/// What a plan does with one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncAction {
    /// Upload a file the assistant does not have.
    Create,
    /// Upload a file again, replacing the assistant's copy.
    Update,
    /// Delete the assistant's copy of a file gone from the folder.
    Delete,
    /// Leave the file as it is.
    Skip,
}

impl SyncAction {
    /// The lower-case name used in JSON and in the plan's text.
    pub fn as_str(self) -> &'static str {
        match self {
            SyncAction::Create => "create",
            SyncAction::Update => "update",
            SyncAction::Delete => "delete",
            SyncAction::Skip => "skip",
        }
    }
}

impl fmt::Display for SyncAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a plan does what it does with a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SyncReason {
    /// Create: the assistant has no file with this id.
    New,
    /// Update: the content differs from the hash in the sync record.
    ContentChanged,
    /// Update: the metadata differs from what the metadata function gives now.
    MetadataChanged,
    /// Update: the PDF is stored with another `multimodal` setting.
    MultimodalChanged,
    /// Update: a file with this id exists but carries no sync record.
    NoRecord,
    /// Update: the server failed to process the last upload.
    ProcessingFailed,
    /// Update: the file is still being processed (an interrupted sync, or one
    /// running elsewhere), so its outcome is unknown; uploading again is safe.
    Unfinished,
    /// Update: the file is being deleted on the server.
    BeingDeleted,
    /// Skip: the content, metadata and settings match, and the file is processed.
    Unchanged,
    /// Delete: an earlier sync uploaded it and the local file is gone.
    RemovedLocally,
    /// Skip: the local file is gone, and deleting was not asked for.
    KeptOnServer,
    /// Skip: a symbolic link, and links are not followed.
    Symlink,
    /// Skip: not a regular file (a FIFO, socket or device).
    NotRegularFile,
    /// Skip: it could not be read; the entry's `detail` says why. Its copy on the
    /// server, if any, is kept.
    Unreadable,
    /// Skip: another local file has the same id (their names differ only in
    /// Unicode composition); the entry's `detail` names it.
    SameId,
}

impl SyncReason {
    /// The wording used in the plan's text.
    pub fn describe(self) -> &'static str {
        match self {
            SyncReason::New => "new file",
            SyncReason::ContentChanged => "content changed",
            SyncReason::MetadataChanged => "metadata changed",
            SyncReason::MultimodalChanged => "multimodal setting changed",
            SyncReason::NoRecord => "on the server without a sync record",
            SyncReason::ProcessingFailed => "processing failed last time",
            SyncReason::Unfinished => "still processing an earlier upload",
            SyncReason::BeingDeleted => "being deleted on the server",
            SyncReason::Unchanged => "unchanged",
            SyncReason::RemovedLocally => "removed locally",
            SyncReason::KeptOnServer => "removed locally; kept (deleting not enabled)",
            SyncReason::Symlink => "symbolic link, not followed",
            SyncReason::NotRegularFile => "not a regular file",
            SyncReason::Unreadable => "cannot be read",
            SyncReason::SameId => "same id as another file",
        }
    }
}

impl fmt::Display for SyncReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// One file of a plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PlanEntry {
    /// What to do.
    pub action: SyncAction,
    /// Why.
    pub reason: SyncReason,
    /// More about the reason, for `Unreadable` (the error) and `SameId` (the
    /// other path).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The file id on the server (see the module documentation for how it is
    /// derived).
    pub file_id: String,
    /// The path relative to the folder, `/`-separated; for a file only on the
    /// server, the path its sync record names.
    pub path: String,
    /// Where the local file is read from, for the entries that upload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_path: Option<PathBuf>,
    /// The local file's size in bytes when planned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// The SHA-256 of the local content (lower-case hexadecimal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// The metadata an upload sends: the caller's, plus the sync record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
    /// The `multimodal` setting an upload sends, when one is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multimodal: Option<bool>,
}

impl PlanEntry {
    fn new(action: SyncAction, reason: SyncReason, file_id: String, path: String) -> Self {
        Self {
            action,
            reason,
            detail: None,
            file_id,
            path,
            local_path: None,
            size: None,
            sha256: None,
            metadata: None,
            multimodal: None,
        }
    }

    /// Whether carrying it out uploads the file.
    pub fn uploads(&self) -> bool {
        matches!(self.action, SyncAction::Create | SyncAction::Update)
    }
}

/// What it takes to make an assistant's files equal a folder: every selected
/// local file and every file an earlier sync uploaded, each with an action and
/// its reason. Made by [`Assistant::plan_sync`](crate::Assistant::plan_sync);
/// carried out by [`Assistant::execute_sync`](crate::Assistant::execute_sync).
///
/// Its `Display` is a dry run's output: one line per file that changes (and per
/// skipped file whose reason is not `unchanged`), then a line of counts.
/// Serialized (with `serde`), it is the JSON plan of the C API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SyncPlan {
    /// The entries: local files sorted by path, then files only on the server.
    pub entries: Vec<PlanEntry>,
}

impl SyncPlan {
    /// How many entries have `action`.
    pub fn count(&self, action: SyncAction) -> usize {
        self.entries.iter().filter(|e| e.action == action).count()
    }

    /// The entries that change something (create, update, delete).
    pub fn changes(&self) -> impl Iterator<Item = &PlanEntry> {
        self.entries.iter().filter(|e| e.action != SyncAction::Skip)
    }

    /// Whether carrying it out changes nothing.
    pub fn is_noop(&self) -> bool {
        self.changes().next().is_none()
    }

    /// The total bytes its uploads send (as planned).
    pub fn upload_bytes(&self) -> u64 {
        self.entries
            .iter()
            .filter(|e| e.uploads())
            .filter_map(|e| e.size)
            .sum()
    }

    /// Checks that each entry can be carried out (a plan may come from JSON).
    pub(crate) fn check(&self) -> Result<()> {
        let mut seen = HashSet::new();
        for (i, e) in self.entries.iter().enumerate() {
            let bad =
                |why: &str| Error::invalid("plan", format!("entry {i} (\"{}\"): {why}", e.path));
            if !id::is_valid(&e.file_id) {
                return Err(bad(
                    "file_id must be 1 to 128 characters of A-Z a-z 0-9 - _",
                ));
            }
            if e.action != SyncAction::Skip && !seen.insert(e.file_id.as_str()) {
                return Err(bad("another entry already changes this file_id"));
            }
            if e.uploads() {
                if e.local_path.is_none() {
                    return Err(bad("an upload needs local_path"));
                }
                if !matches!(e.metadata, None | Some(Value::Object(_))) {
                    return Err(bad("metadata must be a JSON object"));
                }
            }
        }
        Ok(())
    }
}

impl fmt::Display for SyncPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in &self.entries {
            if e.reason == SyncReason::Unchanged {
                continue;
            }
            write!(f, "{:<7} {}  ({}", e.action.as_str(), e.path, e.reason)?;
            if let Some(detail) = &e.detail {
                write!(f, ": {detail}")?;
            }
            writeln!(f, ")")?;
        }
        writeln!(
            f,
            "{} to create, {} to update, {} to delete, {} unchanged, {} other skipped",
            self.count(SyncAction::Create),
            self.count(SyncAction::Update),
            self.count(SyncAction::Delete),
            self.entries
                .iter()
                .filter(|e| e.reason == SyncReason::Unchanged)
                .count(),
            self.entries
                .iter()
                .filter(|e| e.action == SyncAction::Skip && e.reason != SyncReason::Unchanged)
                .count(),
        )
    }
}

/// Compares the folder with the assistant's files. `metadata` gives the
/// caller's metadata of each local file (already checked).
pub(crate) fn build(
    scan: Scan,
    remote: Vec<FileModel>,
    options: &SyncOptions,
    mut metadata: impl FnMut(&Found) -> Result<Map<String, Value>>,
) -> Result<SyncPlan> {
    let mut remote: HashMap<String, FileModel> =
        remote.into_iter().map(|f| (f.id.clone(), f)).collect();
    let mut claimed: HashMap<String, String> = HashMap::new();
    let mut entries = Vec::with_capacity(scan.files.len() + scan.blocked.len());

    let mut local: Vec<Local> = scan
        .files
        .into_iter()
        .map(Local::Found)
        .chain(scan.blocked.into_iter().map(Local::Blocked))
        .collect();
    local.sort_by(|a, b| a.relative().cmp(b.relative()));

    for item in local {
        let id = item.id().to_owned();
        if let Some(first) = claimed.get(&id) {
            let mut e = PlanEntry::new(
                SyncAction::Skip,
                SyncReason::SameId,
                id,
                item.relative().to_owned(),
            );
            e.detail = Some(first.clone());
            entries.push(e);
            continue;
        }
        claimed.insert(id.clone(), item.relative().to_owned());
        let existing = remote.remove(&id);
        let found = match item {
            Local::Blocked(b) => {
                entries.push(blocked_entry(b));
                continue;
            }
            Local::Found(found) => found,
        };
        let user = metadata(&found)?;
        let pdf = found
            .file
            .relative_path()
            .rsplit_once('.')
            .is_some_and(|(_, ext)| ext.eq_ignore_ascii_case("pdf"));
        let multimodal = options.multimodal.filter(|_| pdf);
        let (action, reason) = decide(existing.as_ref(), &found.sha256, &user, multimodal);
        let record = Record {
            path: found.file.relative_path().to_owned(),
            sha256: found.sha256.clone(),
        };
        let mut e = PlanEntry::new(action, reason, id, record.path.clone());
        e.size = Some(found.file.size());
        e.sha256 = Some(found.sha256);
        if e.uploads() {
            e.local_path = Some(found.file.path().to_path_buf());
            e.metadata = Some(record.merge_into(Some(&user)));
            e.multimodal = multimodal;
        }
        entries.push(e);
    }

    // What is left on the server has no local file.
    let mut gone: Vec<(FileModel, Record)> = remote
        .into_values()
        .filter_map(|f| {
            let record = Record::read(f.metadata.as_ref())?;
            Some((f, record))
        })
        .collect();
    gone.sort_by(|a, b| (&a.1.path, &a.0.id).cmp(&(&b.1.path, &b.0.id)));
    for (file, record) in gone {
        let (action, reason) = if options.delete_missing {
            (SyncAction::Delete, SyncReason::RemovedLocally)
        } else {
            (SyncAction::Skip, SyncReason::KeptOnServer)
        };
        let mut e = PlanEntry::new(action, reason, file.id, record.path);
        e.sha256 = Some(record.sha256);
        e.size = file.size.and_then(|s| u64::try_from(s).ok());
        entries.push(e);
    }
    Ok(SyncPlan { entries })
}

enum Local {
    Found(Found),
    Blocked(Blocked),
}

impl Local {
    fn relative(&self) -> &str {
        match self {
            Local::Found(f) => f.file.relative_path(),
            Local::Blocked(b) => &b.relative,
        }
    }

    fn id(&self) -> &str {
        match self {
            Local::Found(f) => &f.id,
            Local::Blocked(b) => &b.id,
        }
    }
}

fn blocked_entry(b: Blocked) -> PlanEntry {
    let (reason, detail) = match b.why {
        Unusable::Symlink => (SyncReason::Symlink, None),
        Unusable::NotRegular => (SyncReason::NotRegularFile, None),
        Unusable::Unreadable(why) => (SyncReason::Unreadable, Some(why)),
    };
    let mut e = PlanEntry::new(SyncAction::Skip, reason, b.id, b.relative);
    e.detail = detail;
    e
}

/// The action for a local file given the server's file with its id, if any.
fn decide(
    existing: Option<&FileModel>,
    sha256: &str,
    user: &Map<String, Value>,
    multimodal: Option<bool>,
) -> (SyncAction, SyncReason) {
    use SyncReason::*;
    let Some(file) = existing else {
        return (SyncAction::Create, New);
    };
    let update = |reason| (SyncAction::Update, reason);
    match &file.status {
        Some(FileStatus::ProcessingFailed) => return update(ProcessingFailed),
        Some(FileStatus::Deleting) => return update(BeingDeleted),
        _ => {}
    }
    let Some(record) = Record::read(file.metadata.as_ref()) else {
        return update(NoRecord);
    };
    if record.sha256 != sha256 {
        return update(ContentChanged);
    }
    if record::user_part(file.metadata.as_ref()) != *user {
        return update(MetadataChanged);
    }
    if let (Some(want), Some(have)) = (multimodal, file.multimodal) {
        if want != have {
            return update(MultimodalChanged);
        }
    }
    match &file.status {
        Some(FileStatus::Processing) => update(Unfinished),
        // Available, or a status this version does not know: the content is there.
        _ => (SyncAction::Skip, Unchanged),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn remote(id: &str, status: &str, metadata: Value) -> FileModel {
        serde_json::from_value(json!({
            "name": "x.md", "id": id, "status": status, "metadata": metadata, "multimodal": false
        }))
        .unwrap()
    }

    fn recorded(sha: &str, extra: Value) -> Value {
        let mut m = extra.as_object().cloned().unwrap_or_default();
        m.insert(
            record::SYNC_METADATA_KEY.into(),
            json!({"path": "a.md", "sha256": sha}),
        );
        Value::Object(m)
    }

    #[test]
    fn decisions_for_each_server_state() {
        use SyncReason::*;
        let none = Map::new();
        let team = json!({"team": "a"}).as_object().cloned().unwrap();
        let cases = [
            (None, &none, None, (SyncAction::Create, New)),
            (
                Some(remote("a", "Available", recorded("h", json!({})))),
                &none,
                None,
                (SyncAction::Skip, Unchanged),
            ),
            (
                Some(remote("a", "Available", recorded("other", json!({})))),
                &none,
                None,
                (SyncAction::Update, ContentChanged),
            ),
            (
                Some(remote("a", "Available", recorded("h", json!({})))),
                &team,
                None,
                (SyncAction::Update, MetadataChanged),
            ),
            (
                Some(remote(
                    "a",
                    "Available",
                    recorded("h", json!({"team": "a"})),
                )),
                &team,
                None,
                (SyncAction::Skip, Unchanged),
            ),
            (
                Some(remote("a", "Available", recorded("h", json!({})))),
                &none,
                Some(true),
                (SyncAction::Update, MultimodalChanged),
            ),
            (
                Some(remote("a", "Available", json!({"team": "a"}))),
                &none,
                None,
                (SyncAction::Update, NoRecord),
            ),
            (
                Some(remote("a", "ProcessingFailed", recorded("h", json!({})))),
                &none,
                None,
                (SyncAction::Update, ProcessingFailed),
            ),
            (
                Some(remote("a", "Processing", recorded("h", json!({})))),
                &none,
                None,
                (SyncAction::Update, Unfinished),
            ),
            (
                Some(remote("a", "Deleting", recorded("h", json!({})))),
                &none,
                None,
                (SyncAction::Update, BeingDeleted),
            ),
            (
                Some(remote("a", "Archived", recorded("h", json!({})))),
                &none,
                None,
                (SyncAction::Skip, Unchanged),
            ),
        ];
        for (existing, user, multimodal, want) in cases {
            assert_eq!(
                decide(existing.as_ref(), "h", user, multimodal),
                want,
                "{existing:?}"
            );
        }
    }

    fn entry(action: SyncAction, id: &str) -> PlanEntry {
        let mut e = PlanEntry::new(action, SyncReason::New, id.into(), "a.md".into());
        if e.uploads() {
            e.local_path = Some("a.md".into());
        }
        e
    }

    #[test]
    fn a_plan_from_json_is_checked_before_it_runs() {
        let good = SyncPlan {
            entries: vec![entry(SyncAction::Create, "a"), entry(SyncAction::Skip, "a")],
        };
        good.check().unwrap();
        let text = serde_json::to_string(&good).unwrap();
        assert_eq!(serde_json::from_str::<SyncPlan>(&text).unwrap(), good);

        let mut no_path = entry(SyncAction::Update, "a");
        no_path.local_path = None;
        let mut bad_metadata = entry(SyncAction::Create, "b");
        bad_metadata.metadata = Some(json!([1]));
        for (entries, says) in [
            (vec![entry(SyncAction::Create, "a/b")], "file_id"),
            (vec![entry(SyncAction::Create, "")], "file_id"),
            (
                vec![
                    entry(SyncAction::Create, "a"),
                    entry(SyncAction::Delete, "a"),
                ],
                "already",
            ),
            (vec![no_path], "local_path"),
            (vec![bad_metadata], "metadata"),
        ] {
            match (SyncPlan { entries }).check() {
                Err(Error::InvalidArgument { name, reason }) => {
                    assert_eq!(name, "plan");
                    assert!(reason.contains(says), "{reason}");
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn the_text_lists_changes_and_counts() {
        let mut unchanged = entry(SyncAction::Skip, "u");
        unchanged.reason = SyncReason::Unchanged;
        unchanged.path = "same.md".into();
        let mut unreadable = entry(SyncAction::Skip, "r");
        unreadable.reason = SyncReason::Unreadable;
        unreadable.detail = Some("permission denied".into());
        unreadable.path = "locked.md".into();
        let mut gone = entry(SyncAction::Delete, "g");
        gone.reason = SyncReason::RemovedLocally;
        gone.path = "old.md".into();
        let plan = SyncPlan {
            entries: vec![entry(SyncAction::Create, "a"), unchanged, unreadable, gone],
        };
        assert_eq!(
            plan.to_string(),
            "create  a.md  (new file)\n\
             skip    locked.md  (cannot be read: permission denied)\n\
             delete  old.md  (removed locally)\n\
             1 to create, 0 to update, 1 to delete, 1 unchanged, 1 other skipped\n"
        );
        assert!(!plan.is_noop());
        assert_eq!(plan.changes().count(), 2);
    }
}
