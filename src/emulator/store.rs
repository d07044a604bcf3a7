//! State on disk, for an emulator started with a data directory.
//!
//! Every record is its own small JSON file, rewritten whole on each change by
//! writing a temporary file beside it and renaming it over the old one, so a
//! process killed at any moment leaves each file either as it was or as it
//! became, never half written. (No `fsync`: the aim is surviving a killed
//! process, not a power cut.) The layout:
//!
//! ```text
//! DATA_DIR/emulator.json                          format version, start count
//! DATA_DIR/assistants/NAME/assistant.json         the assistant
//! DATA_DIR/assistants/NAME/files/ID.json          a file's record
//! DATA_DIR/assistants/NAME/operations/OP.json     an operation
//! DATA_DIR/assistants/NAME/blobs/N.bin            the bytes of file version N
//! DATA_DIR/assistants/NAME/blobs/N.pages.json     the text extracted from them
//! ```
//!
//! A file id is written with a `^` before each capital letter, so that ids
//! differing only in case stay apart on case-insensitive file systems.
//!
//! Writes happen in an order that leaves a readable state after a kill between
//! any two of them (the bytes before the records that name them, a file's
//! record before the operation that completes it); [`Loaded::recover`] then
//! settles what was in flight.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::documents::FileKind;
use super::index;
use super::ingest::Job;
use super::state::{AssistantRec, FileRec, OpRec};

/// The on-disk format this version writes and reads.
const FORMAT: u32 = 1;

/// Where an emulator keeps its state.
#[derive(Debug)]
pub(crate) struct Store {
    root: PathBuf,
    /// Makes temporary file names unique within this process.
    temp: AtomicU64,
}

#[derive(Serialize, Deserialize)]
struct Meta {
    format: u32,
    /// How many times an emulator has started on this directory.
    starts: u64,
}

#[derive(Serialize, Deserialize)]
struct AssistantDisk {
    name: String,
    instructions: Option<String>,
    metadata: Option<Value>,
    region: String,
    created_at: String,
    updated_at: String,
}

#[derive(Serialize, Deserialize)]
struct FileDisk {
    id: String,
    name: String,
    metadata: Option<Value>,
    size: u64,
    created_on: String,
    updated_on: String,
    status: String,
    multimodal: bool,
    crc32c: String,
    generation: u64,
}

#[derive(Serialize, Deserialize)]
struct OpDisk {
    id: String,
    operation_type: String,
    file_id: String,
    status: String,
    created_on: String,
    completed_on: Option<String>,
    percent: u32,
    error_message: Option<String>,
    ingestion_units: Option<f64>,
    generation: u64,
    seq: u64,
}

/// The statuses records may have, as the `&'static str` the records hold.
fn known(status: &str) -> Option<&'static str> {
    const ALL: [&str; 9] = [
        "Processing",
        "Available",
        "Deleting",
        "ProcessingFailed",
        "Completed",
        "Failed",
        "upload_file",
        "upsert_file",
        "delete_file",
    ];
    ALL.into_iter().find(|s| *s == status)
}

/// What a data directory held when the emulator started.
pub(crate) struct Loaded {
    pub starts: u64,
    pub assistants: Vec<AssistantRec>,
    /// The highest file generation or operation sequence number in use.
    pub last_sequence: u64,
}

impl Store {
    /// Opens (creating it if needed) a data directory and reads what it holds.
    pub(crate) fn open(root: &Path) -> io::Result<(Self, Loaded)> {
        fs::create_dir_all(root.join("assistants"))?;
        let store = Self {
            root: root.to_owned(),
            temp: AtomicU64::new(0),
        };
        let meta_path = root.join("emulator.json");
        let starts = match fs::read(&meta_path) {
            Ok(bytes) => {
                let meta: Meta = serde_json::from_slice(&bytes).map_err(|e| {
                    io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("{}: {e}", meta_path.display()),
                    )
                })?;
                if meta.format != FORMAT {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "{} holds emulator state of format {}; this emulator reads format {FORMAT}",
                            root.display(),
                            meta.format
                        ),
                    ));
                }
                meta.starts
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => 0,
            Err(e) => return Err(e),
        };
        store.write_json(
            &meta_path,
            &Meta {
                format: FORMAT,
                starts: starts + 1,
            },
        )?;
        // What a kill can leave behind: temporary files, and assistants renamed
        // away for deletion but not yet removed.
        remove_temp_files(root);
        for entry in fs::read_dir(root)?.flatten() {
            let name = entry.file_name();
            if name.to_string_lossy().starts_with(".deleted-") {
                let _ = fs::remove_dir_all(entry.path());
            }
        }
        let mut assistants = Vec::new();
        let mut last_sequence = 0;
        for entry in fs::read_dir(root.join("assistants"))? {
            let dir = entry?.path();
            if !dir.is_dir() {
                continue;
            }
            match store.load_assistant(&dir, &mut last_sequence) {
                Ok(Some(a)) => assistants.push(a),
                Ok(None) => {}
                Err(e) => log::error!("emulator: cannot read {}: {e}", dir.display()),
            }
        }
        assistants.sort_by(|a, b| (&a.created_at, &a.name).cmp(&(&b.created_at, &b.name)));
        Ok((
            store,
            Loaded {
                starts,
                assistants,
                last_sequence,
            },
        ))
    }

    fn assistant_dir(&self, name: &str) -> PathBuf {
        self.root.join("assistants").join(name)
    }

    fn file_path(&self, assistant: &str, id: &str) -> PathBuf {
        let mut stem = String::with_capacity(id.len() + 4);
        for c in id.chars() {
            if c.is_ascii_uppercase() {
                stem.push('^');
                stem.push(c.to_ascii_lowercase());
            } else {
                stem.push(c);
            }
        }
        self.assistant_dir(assistant)
            .join("files")
            .join(format!("{stem}.json"))
    }

    fn op_path(&self, assistant: &str, id: &str) -> PathBuf {
        self.assistant_dir(assistant)
            .join("operations")
            .join(format!("{id}.json"))
    }

    fn blob_path(&self, assistant: &str, generation: u64, ext: &str) -> PathBuf {
        self.assistant_dir(assistant)
            .join("blobs")
            .join(format!("{generation}.{ext}"))
    }

    /// Writes `bytes` to `path` through a temporary file and a rename.
    fn write_atomic(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        let dir = path.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(dir)?;
        let n = self.temp.fetch_add(1, Ordering::Relaxed);
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("record");
        let temp = dir.join(format!(".{name}.{}.{n}.tmp", std::process::id()));
        let result = fs::write(&temp, bytes).and_then(|()| fs::rename(&temp, path));
        if result.is_err() {
            let _ = fs::remove_file(&temp);
        }
        result
    }

    fn write_json(&self, path: &Path, value: &impl Serialize) -> io::Result<()> {
        let bytes = serde_json::to_vec_pretty(value).map_err(io::Error::other)?;
        self.write_atomic(path, &bytes)
    }

    /// Logs a failed write: the emulator goes on serving from memory.
    fn report(what: &str, result: io::Result<()>) {
        if let Err(e) = result {
            log::error!("emulator: cannot save {what}: {e}");
        }
    }

    pub(crate) fn save_assistant(&self, a: &AssistantRec) {
        let disk = AssistantDisk {
            name: a.name.clone(),
            instructions: a.instructions.clone(),
            metadata: a.metadata.clone(),
            region: a.region.clone(),
            created_at: a.created_at.clone(),
            updated_at: a.updated_at.clone(),
        };
        let path = self.assistant_dir(&a.name).join("assistant.json");
        Self::report("an assistant", self.write_json(&path, &disk));
    }

    /// Forgets an assistant and everything in it.
    pub(crate) fn remove_assistant(&self, name: &str) {
        let dir = self.assistant_dir(name);
        // Renamed out of the way first (one atomic step), then removed: a kill
        // halfway through the removal leaves no half-deleted assistant behind.
        let n = self.temp.fetch_add(1, Ordering::Relaxed);
        let trash = self
            .root
            .join(format!(".deleted-{name}-{}-{n}", std::process::id()));
        let result = match fs::rename(&dir, &trash) {
            Ok(()) => fs::remove_dir_all(&trash),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        };
        Self::report("the deletion of an assistant", result);
    }

    pub(crate) fn save_file(&self, assistant: &str, f: &FileRec) {
        let disk = FileDisk {
            id: f.id.clone(),
            name: f.name.clone(),
            metadata: f.metadata.clone(),
            size: f.size,
            created_on: f.created_on.clone(),
            updated_on: f.updated_on.clone(),
            status: f.status.to_owned(),
            multimodal: f.multimodal,
            crc32c: f.crc32c.clone(),
            generation: f.generation,
        };
        Self::report(
            "a file record",
            self.write_json(&self.file_path(assistant, &f.id), &disk),
        );
    }

    /// Forgets a file record, and the bytes and text of its version.
    pub(crate) fn remove_file(&self, assistant: &str, id: &str, generation: u64) {
        let result = match fs::remove_file(self.file_path(assistant, id)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        };
        Self::report("the deletion of a file", result);
        self.remove_version(assistant, generation);
    }

    /// Forgets the bytes and text of one file version (best effort: an orphan
    /// left by a kill is only wasted space).
    pub(crate) fn remove_version(&self, assistant: &str, generation: u64) {
        for ext in ["bin", "pages.json"] {
            let _ = fs::remove_file(self.blob_path(assistant, generation, ext));
        }
    }

    pub(crate) fn save_op(&self, assistant: &str, op: &OpRec) {
        let disk = OpDisk {
            id: op.id.clone(),
            operation_type: op.operation_type.to_owned(),
            file_id: op.file_id.clone(),
            status: op.status.to_owned(),
            created_on: op.created_on.clone(),
            completed_on: op.completed_on.clone(),
            percent: op.percent,
            error_message: op.error_message.clone(),
            ingestion_units: op.ingestion_units,
            generation: op.generation,
            seq: op.seq,
        };
        Self::report(
            "an operation",
            self.write_json(&self.op_path(assistant, &op.id), &disk),
        );
    }

    /// Saves the uploaded bytes of a file version; written before any record
    /// names the version.
    pub(crate) fn save_blob(
        &self,
        assistant: &str,
        generation: u64,
        bytes: &[u8],
    ) -> io::Result<()> {
        self.write_atomic(&self.blob_path(assistant, generation, "bin"), bytes)
    }

    /// Saves the text extracted from a file version; written before the file is
    /// marked `Available`.
    pub(crate) fn save_pages(&self, assistant: &str, generation: u64, pages: &[String]) {
        let path = self.blob_path(assistant, generation, "pages.json");
        Self::report("extracted text", self.write_json(&path, &pages));
    }

    fn load_assistant(
        &self,
        dir: &Path,
        last_sequence: &mut u64,
    ) -> io::Result<Option<AssistantRec>> {
        remove_temp_files(dir);
        remove_temp_files(&dir.join("blobs"));
        let Some(disk) = read_json::<AssistantDisk>(&dir.join("assistant.json"))? else {
            // A directory without its record is what a kill during creation leaves.
            return Ok(None);
        };
        let name = disk.name;
        let mut files = Vec::new();
        for path in json_files(&dir.join("files"))? {
            let Some(f) = read_json::<FileDisk>(&path)? else {
                continue;
            };
            let (Some(kind), Some(status)) = (FileKind::from_name(&f.name), known(&f.status))
            else {
                log::warn!("emulator: skipping unreadable record {}", path.display());
                continue;
            };
            *last_sequence = (*last_sequence).max(f.generation);
            let data = match fs::read(self.blob_path(&name, f.generation, "bin")) {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
                Err(e) => return Err(e),
            };
            let chunks = if status == "Available" {
                read_json::<Vec<String>>(&self.blob_path(&name, f.generation, "pages.json"))?
                    .map(|pages| index::chunk_pages(&pages))
            } else {
                Some(Vec::new())
            };
            files.push(FileRec {
                id: f.id,
                name: f.name,
                kind,
                metadata: f.metadata,
                size: f.size,
                created_on: f.created_on,
                updated_on: f.updated_on,
                // Text that went missing leaves a file that cannot be searched.
                status: if chunks.is_some() {
                    status
                } else {
                    "ProcessingFailed"
                },
                multimodal: f.multimodal,
                crc32c: f.crc32c,
                data: Arc::new(data),
                chunks: chunks.unwrap_or_default(),
                generation: f.generation,
            });
        }
        files.sort_by_key(|f| f.generation);
        let mut operations = Vec::new();
        for path in json_files(&dir.join("operations"))? {
            let Some(o) = read_json::<OpDisk>(&path)? else {
                continue;
            };
            let (Some(kind), Some(status)) = (known(&o.operation_type), known(&o.status)) else {
                log::warn!("emulator: skipping unreadable record {}", path.display());
                continue;
            };
            *last_sequence = (*last_sequence).max(o.seq);
            operations.push(OpRec {
                id: o.id,
                operation_type: kind,
                file_id: o.file_id,
                status,
                created_on: o.created_on,
                completed_on: o.completed_on,
                percent: o.percent,
                error_message: o.error_message,
                ingestion_units: o.ingestion_units,
                generation: o.generation,
                seq: o.seq,
            });
        }
        operations.sort_by_key(|o| o.seq);
        Ok(Some(AssistantRec {
            name,
            instructions: disk.instructions,
            metadata: disk.metadata,
            region: disk.region,
            created_at: disk.created_at,
            updated_at: disk.updated_at,
            // Whatever was initializing before the restart has had its time.
            ready_at: Instant::now(),
            deleted: None,
            files,
            operations,
        }))
    }
}

/// Removes the temporary files a killed write left in `dir`.
fn remove_temp_files(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "tmp") && path.is_file() {
            let _ = fs::remove_file(path);
        }
    }
}

/// The `.json` files of a directory (none if it does not exist); leftover
/// temporary files of a killed write are removed.
fn json_files(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for entry in entries {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.ends_with(".tmp") {
            let _ = fs::remove_file(&path);
        } else if name.ends_with(".json") {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

/// A JSON record, `None` if the file does not exist. A record that does not
/// parse is logged and skipped rather than stopping the emulator.
fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> io::Result<Option<T>> {
    match fs::read(path) {
        Ok(bytes) => match serde_json::from_slice(&bytes) {
            Ok(v) => Ok(Some(v)),
            Err(e) => {
                log::warn!(
                    "emulator: skipping unreadable record {}: {e}",
                    path.display()
                );
                Ok(None)
            }
        },
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// The message of an operation that a stop cut short and that cannot go on.
pub(crate) const INTERRUPTED: &str = "File processing failed: the emulator stopped before this operation finished; upload the file again.";

/// How an operation found `Processing` at start goes on.
enum Settle {
    /// It runs again.
    Resume(Job),
    /// It ends now with this status and message.
    End(&'static str, Option<String>),
}

fn settle(assistant: &str, op: &OpRec, file: Option<&FileRec>) -> Settle {
    let deleting = op.operation_type == "delete_file";
    match file {
        Some(f) if deleting && f.status == "Deleting" => Settle::Resume(Job::Delete {
            assistant: assistant.to_owned(),
            file_id: f.id.clone(),
            op_id: op.id.clone(),
            generation: f.generation,
            size: f.size,
        }),
        // The file is gone (or replaced): the deletion did its work.
        _ if deleting => Settle::End("Completed", None),
        // The bytes must have been saved for the work to start over.
        Some(f) if f.status == "Processing" && f.data.len() as u64 == f.size => {
            Settle::Resume(Job::Ingest {
                assistant: assistant.to_owned(),
                file_id: f.id.clone(),
                op_id: op.id.clone(),
                operation_type: op.operation_type,
                generation: f.generation,
                kind: f.kind,
                bytes: Arc::clone(&f.data),
            })
        }
        // Killed between saving the file and saving its operation.
        Some(f) if f.status == "Available" => Settle::End("Completed", None),
        _ => Settle::End("Failed", Some(INTERRUPTED.to_owned())),
    }
}

impl Loaded {
    /// Settles what was in flight when the previous emulator stopped, saving
    /// every record it changes: operations that can go on are returned as jobs
    /// to run again, the others complete or fail, and files left without an
    /// operation end `ProcessingFailed` (if they were processing) or are removed
    /// (if they were being deleted).
    pub(crate) fn recover(&mut self, store: &Store, now: &str) -> Vec<Job> {
        let mut jobs = Vec::new();
        for a in &mut self.assistants {
            // File versions an operation goes on working on.
            let mut busy: Vec<(String, u64)> = Vec::new();
            let files = &a.files;
            for op in a.operations.iter_mut().filter(|o| o.status == "Processing") {
                let file = files
                    .iter()
                    .find(|f| f.id == op.file_id && f.generation == op.generation);
                match settle(&a.name, op, file) {
                    Settle::Resume(job) => {
                        busy.push((op.file_id.clone(), op.generation));
                        jobs.push(job);
                    }
                    Settle::End(status, error) => {
                        op.status = status;
                        op.completed_on = Some(now.to_owned());
                        if status == "Completed" {
                            op.percent = 100;
                        }
                        op.error_message = error;
                        store.save_op(&a.name, op);
                    }
                }
            }
            let name = a.name.clone();
            a.files.retain_mut(|f| {
                if busy.iter().any(|(id, g)| *id == f.id && *g == f.generation) {
                    return true;
                }
                match f.status {
                    "Processing" => {
                        f.status = "ProcessingFailed";
                        f.updated_on = now.to_owned();
                        store.save_file(&name, f);
                        true
                    }
                    "Deleting" => {
                        store.remove_file(&name, &f.id, f.generation);
                        false
                    }
                    _ => true,
                }
            });
        }
        jobs
    }
}
