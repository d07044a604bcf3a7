//! The background processor: runs file operations (ingestion and deletion) one at a
//! time, raising `percent_complete` in steps, then completing or failing them.

use std::sync::Arc;
use std::sync::mpsc::Receiver;

use super::Shared;
use super::index::{self, FileKind};
use super::wire::now;

/// Work for the processor.
#[derive(Debug)]
pub(crate) enum Job {
    Ingest {
        assistant: String,
        file_id: String,
        op_id: String,
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
    },
}

pub(crate) fn run(shared: &Shared, jobs: &Receiver<Job>) {
    // Ends when the emulator drops the sender.
    while let Ok(job) = jobs.recv() {
        let (assistant, op_id) = match &job {
            Job::Ingest {
                assistant, op_id, ..
            }
            | Job::Delete {
                assistant, op_id, ..
            } => (assistant.clone(), op_id.clone()),
        };
        if !progress(shared, &assistant, &op_id) {
            return;
        }
        match job {
            Job::Ingest {
                assistant,
                file_id,
                op_id,
                generation,
                kind,
                bytes,
            } => {
                // Chunking runs outside the lock so requests keep flowing.
                let outcome = index::ingest(kind, &bytes);
                let tokens: u64 = bytes.len() as u64 / 4;
                let mut st = shared.state();
                let Some(a) = st.find_mut(&assistant) else {
                    continue;
                };
                let current = a
                    .file(&file_id)
                    .is_some_and(|f| f.generation == generation && f.status == "Processing");
                let stamp = now();
                let (status, error) = match (current, outcome) {
                    (false, _) => (
                        "Failed",
                        Some("File processing failed: the file was deleted or replaced while processing.".to_owned()),
                    ),
                    (true, Ok(chunks)) => {
                        if let Some(f) = a.file_mut(&file_id) {
                            f.chunks = chunks;
                            f.status = "Available";
                            f.updated_on = stamp.clone();
                        }
                        ("Completed", None)
                    }
                    (true, Err(message)) => {
                        if let Some(f) = a.file_mut(&file_id) {
                            f.status = "ProcessingFailed";
                            f.updated_on = stamp.clone();
                        }
                        ("Failed", Some(message))
                    }
                };
                if let Some(op) = a.op_mut(&op_id) {
                    op.status = status;
                    op.completed_on = Some(stamp);
                    if status == "Completed" {
                        op.percent = 100;
                        // Ingestion units scale with the text, as billing does.
                        op.ingestion_units = Some((tokens.max(1) as f64 / 10.0).round() / 100.0);
                    }
                    op.error_message = error;
                }
            }
            Job::Delete {
                assistant,
                file_id,
                op_id,
                generation,
            } => {
                let mut st = shared.state();
                if let Some(a) = st.find_mut(&assistant) {
                    // The version asked for is gone either way; a newer one
                    // uploaded under the same id is left alone.
                    a.files.retain(|f| {
                        !(f.id == file_id && f.generation == generation && f.status == "Deleting")
                    });
                    if let Some(op) = a.op_mut(&op_id) {
                        op.status = "Completed";
                        op.percent = 100;
                        op.completed_on = Some(now());
                    }
                }
            }
        }
    }
}

/// Spends the processing delay in steps, publishing the progress of each;
/// false when the emulator is stopping.
fn progress(shared: &Shared, assistant: &str, op_id: &str) -> bool {
    let s = &shared.settings;
    let steps = s.processing_steps.max(1);
    let step = s.processing_delay / steps;
    for k in 1..=steps {
        if !shared.pause(step) {
            return false;
        }
        if k == steps {
            break;
        }
        let mut st = shared.state();
        if let Some(op) = st.find_mut(assistant).and_then(|a| a.op_mut(op_id)) {
            op.percent = k * 100 / steps;
        }
    }
    true
}
