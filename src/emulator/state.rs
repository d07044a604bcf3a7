//! The emulator's in-memory records and their JSON renderings.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::delay::ProcessingDelay;
use super::documents::FileKind;
use super::index::Chunk;
use super::wire::Ids;

/// Timing and paging knobs, fixed when the emulator starts.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub api_key: String,
    pub ready_delay: Duration,
    pub delete_delay: Duration,
    pub processing_delay: ProcessingDelay,
    pub processing_steps: u32,
    /// Seeds ids and the draws of processing delays.
    pub seed: u64,
    pub page_size: usize,
    pub stream_delay: Duration,
    pub heartbeat: Duration,
    /// Largest request body accepted (413 above it).
    pub max_body: u64,
    /// How long a request body may take to arrive (408 after it).
    pub body_timeout: Duration,
}

/// The moment `d` from now (far in the future when that cannot be represented).
pub(crate) fn after(d: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(d)
        .or_else(|| now.checked_add(Duration::from_secs(100 * 365 * 86_400)))
        .unwrap_or(now)
}

/// Everything the emulator knows.
#[derive(Debug)]
pub(crate) struct State {
    pub assistants: Vec<AssistantRec>,
    pub ids: Ids,
    /// The last sequence number handed out: file versions (generations) and
    /// operations (their order) draw from it, so a number never repeats, even
    /// for an id deleted and uploaded again.
    generations: u64,
}

#[derive(Debug)]
pub(crate) struct AssistantRec {
    pub name: String,
    pub instructions: Option<String>,
    pub metadata: Option<Value>,
    pub region: String,
    pub created_at: String,
    pub updated_at: String,
    /// When `Initializing` turns `Ready`.
    pub ready_at: Instant,
    pub deleted: Option<Instant>,
    pub files: Vec<FileRec>,
    pub operations: Vec<OpRec>,
}

#[derive(Debug)]
pub(crate) struct FileRec {
    pub id: String,
    pub name: String,
    pub kind: FileKind,
    pub metadata: Option<Value>,
    pub size: u64,
    pub created_on: String,
    pub updated_on: String,
    pub status: &'static str,
    pub multimodal: bool,
    pub crc32c: String,
    /// The uploaded bytes, served at the file's `signed_url`.
    pub data: Arc<Vec<u8>>,
    pub chunks: Vec<Chunk>,
    /// New for every upload or upsert, so that work queued for an earlier version
    /// of the file (its ingestion, its deletion) cannot touch this one.
    pub generation: u64,
}

#[derive(Debug)]
pub(crate) struct OpRec {
    pub id: String,
    pub operation_type: &'static str,
    pub file_id: String,
    pub status: &'static str,
    pub created_on: String,
    pub completed_on: Option<String>,
    pub percent: u32,
    pub error_message: Option<String>,
    pub ingestion_units: Option<f64>,
    /// The version of the file it works on.
    pub generation: u64,
    /// Its place in the assistant's list of operations.
    pub seq: u64,
}

impl State {
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            assistants: Vec::new(),
            ids: Ids::new(seed),
            generations: 0,
        }
    }

    /// The state a data directory held. Ids continue on a sequence of their own
    /// for each start, so the same seed does not hand out an id twice.
    pub(crate) fn restored(
        seed: u64,
        starts: u64,
        assistants: Vec<AssistantRec>,
        last_sequence: u64,
    ) -> Self {
        let seed = if starts == 0 {
            seed
        } else {
            super::delay::mix(seed ^ super::delay::mix(starts))
        };
        Self {
            assistants,
            ids: Ids::new(seed),
            generations: last_sequence,
        }
    }

    /// A sequence number nothing has had yet.
    pub(crate) fn next_generation(&mut self) -> u64 {
        self.generations += 1;
        self.generations
    }

    /// Forgets assistants whose deletion has run its course.
    pub(crate) fn sweep(&mut self, s: &Settings) {
        self.assistants
            .retain(|a| a.deleted.is_none_or(|t| t.elapsed() < s.delete_delay));
    }

    pub(crate) fn find(&self, name: &str) -> Option<&AssistantRec> {
        self.assistants.iter().find(|a| a.name == name)
    }

    pub(crate) fn find_mut(&mut self, name: &str) -> Option<&mut AssistantRec> {
        self.assistants.iter_mut().find(|a| a.name == name)
    }
}

impl AssistantRec {
    pub(crate) fn status(&self) -> &'static str {
        if self.deleted.is_some() {
            "Terminating"
        } else if Instant::now() >= self.ready_at {
            "Ready"
        } else {
            "Initializing"
        }
    }

    pub(crate) fn to_json(&self, host: &str) -> Value {
        self.render(self.status(), host)
    }

    pub(crate) fn render(&self, status: &str, host: &str) -> Value {
        json!({
            "name": self.name,
            "instructions": self.instructions,
            "metadata": self.metadata,
            "status": status,
            "host": host,
            "region": self.region,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        })
    }

    pub(crate) fn file(&self, id: &str) -> Option<&FileRec> {
        self.files.iter().find(|f| f.id == id)
    }

    pub(crate) fn file_mut(&mut self, id: &str) -> Option<&mut FileRec> {
        self.files.iter_mut().find(|f| f.id == id)
    }

    pub(crate) fn op_mut(&mut self, id: &str) -> Option<&mut OpRec> {
        self.operations.iter_mut().find(|o| o.id == id)
    }
}

impl FileRec {
    pub(crate) fn to_json(&self, signed_url: Option<String>) -> Value {
        let mut v = json!({
            "name": self.name,
            "id": self.id,
            "metadata": self.metadata,
            "created_on": self.created_on,
            "updated_on": self.updated_on,
            "status": self.status,
            "size": self.size,
            "multimodal": self.multimodal,
            "crc32c_hash": self.crc32c,
        });
        if let Some(url) = signed_url {
            v["signed_url"] = Value::String(url);
        }
        v
    }
}

impl OpRec {
    /// A new operation on version `generation` of `file_id`: processing, at 0 %.
    pub(crate) fn started(
        id: String,
        operation_type: &'static str,
        file_id: String,
        created_on: String,
        generation: u64,
        seq: u64,
    ) -> Self {
        Self {
            id,
            operation_type,
            file_id,
            status: "Processing",
            created_on,
            completed_on: None,
            percent: 0,
            error_message: None,
            ingestion_units: None,
            generation,
            seq,
        }
    }

    pub(crate) fn to_json(&self) -> Value {
        let mut v = json!({
            "id": self.id,
            "operation_type": self.operation_type,
            "file_id": self.file_id,
            "status": self.status,
            "created_on": self.created_on,
            "percent_complete": self.percent,
        });
        if let Some(c) = &self.completed_on {
            v["completed_on"] = json!(c);
        }
        if let Some(e) = &self.error_message {
            v["error_message"] = json!(e);
        }
        if let Some(u) = self.ingestion_units {
            v["ingestion_units"] = json!(u);
        }
        v
    }
}
