use serde::{Deserialize, Serialize};

use super::list_response;
use super::open_enum::open_enum;

/// A long-running file operation: an upload, upsert or deletion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OperationModel {
    /// The operation id.
    pub id: String,
    /// What it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_type: Option<OperationType>,
    /// The file it works on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_id: Option<String>,
    /// Where it is.
    pub status: OperationStatus,
    /// When it started (RFC 3339 text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_on: Option<String>,
    /// When it finished; present only once `Completed` or `Failed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_on: Option<String>,
    /// Progress, 0–100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent_complete: Option<i64>,
    /// The failure text. The server does not clear it when it retries, so read it
    /// only when `status` is `Failed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// Units consumed, once an ingestion has completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingestion_units: Option<f64>,
}

impl OperationModel {
    /// `Completed`, or a status this version does not know that carries a
    /// `completed_on` (the documented sign of a finished operation).
    pub fn is_completed(&self) -> bool {
        match &self.status {
            OperationStatus::Completed => true,
            OperationStatus::Other(_) => self.completed_on.is_some(),
            _ => false,
        }
    }

    /// `Failed`.
    pub fn is_failed(&self) -> bool {
        self.status == OperationStatus::Failed
    }

    /// The status and progress as one line, e.g. `Processing (42% complete)`.
    pub(crate) fn progress_text(&self) -> String {
        match self.percent_complete {
            Some(p) => format!("{} ({p}% complete)", self.status.as_str()),
            None => self.status.as_str().to_owned(),
        }
    }
}

open_enum! {
    /// The state of an operation. Unknown values are kept in `Other`.
    pub enum OperationStatus {
        /// Still running.
        Processing = "Processing",
        /// Finished successfully.
        Completed = "Completed",
        /// Finished with an error (see `error_message`).
        Failed = "Failed",
    }
    /// A status this version does not know.
    Other
}

open_enum! {
    /// The kind of an operation. Unknown values are kept in `Other`.
    pub enum OperationType {
        /// A new file (POST).
        UploadFile = "upload_file",
        /// A file created or replaced under the caller's id (PUT).
        UpsertFile = "upsert_file",
        /// A metadata change (no 2026-07 endpoint starts one).
        UpdateFileMetadata = "update_file_metadata",
        /// A deletion.
        DeleteFile = "delete_file",
    }
    /// A kind this version does not know.
    Other
}

list_response! {
    /// One page of operations.
    pub struct OperationList { operations: OperationModel }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_a_page_with_explicit_nulls() {
        let page: OperationList = serde_json::from_str(r#"{"operations":[{"id":"op-3c1f2a9e","operation_type":"upload_file","file_id":"8b0e3d2a","status":"Completed","created_on":"2026-07-04T10:15:22Z","completed_on":"2026-07-04T10:15:41Z","percent_complete":100,"ingestion_units":12.5},{"id":"op-9d8c7b6a","operation_type":"delete_file","file_id":"old-report","status":"Processing","created_on":"2026-07-05T09:00:00Z","completed_on":null,"percent_complete":0,"error_message":null,"ingestion_units":null}],"pagination":{"next":"b3BzOjM="}}"#).unwrap();
        assert!(page.operations[0].is_completed());
        assert_eq!(
            page.operations[0].operation_type,
            Some(OperationType::UploadFile)
        );
        assert!(!page.operations[1].is_completed());
        assert_eq!(page.next_token().as_deref(), Some("b3BzOjM="));
    }

    #[test]
    fn unknown_status_finishes_only_with_completed_on() {
        let queued: OperationModel =
            serde_json::from_str(r#"{"id":"o","status":"Queued","operation_type":"reindex"}"#)
                .unwrap();
        assert!(!queued.is_completed() && !queued.is_failed());
        assert_eq!(
            queued.operation_type,
            Some(OperationType::Other("reindex".into()))
        );
        let done: OperationModel = serde_json::from_str(
            r#"{"id":"o","status":"Settled","completed_on":"2026-07-04T10:15:41Z"}"#,
        )
        .unwrap();
        assert!(done.is_completed());
    }
}
