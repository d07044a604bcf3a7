use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::list_response;
use super::open_enum::open_enum;

/// A file held by an assistant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FileModel {
    /// The file name given at upload.
    pub name: String,
    /// The server's id, or the caller's id for an upsert.
    pub id: String,
    /// The caller's metadata.
    #[serde(default)]
    pub metadata: Option<Value>,
    /// When it was created (RFC 3339 text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_on: Option<String>,
    /// When it was last updated (RFC 3339 text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_on: Option<String>,
    /// Processing state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<FileStatus>,
    /// Size in bytes (an int64 on the wire: a negative value is kept as sent
    /// rather than failing the listing that carries it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
    /// Whether images in the file were processed too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multimodal: Option<bool>,
    /// A short-lived download link, only when asked for with `include_url`. Treat it
    /// as a secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_url: Option<String>,
    /// The CRC32C of the content, base64 (not in the 2026-07 spec; sent by the service).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crc32c_hash: Option<String>,
}

open_enum! {
    /// The processing state of a file. Unknown values are kept in `Other`.
    pub enum FileStatus {
        /// Being ingested.
        Processing = "Processing",
        /// Ready for retrieval.
        Available = "Available",
        /// Being deleted.
        Deleting = "Deleting",
        /// Ingestion failed; the operation holds the reason.
        ProcessingFailed = "ProcessingFailed",
    }
    /// A status this version does not know.
    Other
}

list_response! {
    /// One page of files.
    pub struct ListFilesResponse { files: FileModel }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_negative_size_does_not_fail_the_page() {
        let page: ListFilesResponse = serde_json::from_str(
            r#"{"files":[{"name":"a.txt","id":"a","size":-1},{"name":"b.txt","id":"b","size":9223372036854775807}]}"#,
        )
        .unwrap();
        assert_eq!(page.files[0].size, Some(-1));
        assert_eq!(page.files[1].size, Some(i64::MAX));
        assert_eq!(
            serde_json::to_value(&page.files[0]).unwrap()["size"],
            serde_json::json!(-1)
        );
    }
}
