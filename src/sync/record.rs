//! What a sync stores about each file it uploads, in the file's own metadata,
//! so that the next plan can tell an unchanged file from a changed one by
//! listing the assistant's files alone, whoever ran the last sync and on
//! whichever machine.

use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// The metadata key a sync keeps its record under. Metadata given for a synced
/// file must not use it.
///
/// Its value is an object: `{"path": "guides/install.md", "sha256": "<64 hex>"}`,
/// the file's path relative to the synced folder (components joined by `/`) and
/// the SHA-256 of its content. Files whose metadata has no such record were not
/// uploaded by a sync: a sync never deletes them.
pub const SYNC_METADATA_KEY: &str = "pinecone_sync";

/// A sync's record of one uploaded file, read from its metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record {
    pub path: String,
    pub sha256: String,
}

impl Record {
    /// The record in `metadata`, if it holds a well-formed one.
    pub(crate) fn read(metadata: Option<&Value>) -> Option<Self> {
        let record = metadata?.get(SYNC_METADATA_KEY)?;
        Some(Self {
            path: record.get("path")?.as_str()?.to_owned(),
            sha256: record.get("sha256")?.as_str()?.to_owned(),
        })
    }

    /// The metadata to upload: the caller's object (or none) with this record
    /// added under [`SYNC_METADATA_KEY`].
    pub(crate) fn merge_into(&self, user: Option<&Map<String, Value>>) -> Value {
        let mut all = user.cloned().unwrap_or_default();
        all.insert(
            SYNC_METADATA_KEY.to_owned(),
            serde_json::json!({"path": self.path, "sha256": self.sha256}),
        );
        Value::Object(all)
    }
}

/// The caller's part of a file's metadata: everything but the record (an empty
/// object when there is nothing else).
pub(crate) fn user_part(metadata: Option<&Value>) -> Map<String, Value> {
    match metadata {
        Some(Value::Object(all)) => all
            .iter()
            .filter(|(k, _)| k.as_str() != SYNC_METADATA_KEY)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        _ => Map::new(),
    }
}

/// Checks what the caller's metadata function returned for the file at `path`:
/// an object without the reserved key, or null (no metadata).
pub(crate) fn check_user_metadata(value: Value, path: &str) -> Result<Map<String, Value>> {
    match value {
        Value::Null => Ok(Map::new()),
        Value::Object(map) if map.contains_key(SYNC_METADATA_KEY) => Err(Error::invalid(
            "metadata",
            format!(
                "the metadata for \"{path}\" uses the key \"{SYNC_METADATA_KEY}\", which sync \
                 reserves for its own record; use another key"
            ),
        )),
        Value::Object(map) => Ok(map),
        other => Err(Error::invalid(
            "metadata",
            format!(
                "the metadata for \"{path}\" must be a JSON object or null, not {}",
                kind(&other)
            ),
        )),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_record_round_trips_beside_the_callers_metadata() {
        let record = Record {
            path: "guides/install.md".into(),
            sha256: "ab".repeat(32),
        };
        let user = json!({"team": "support"});
        let merged = record.merge_into(user.as_object());
        assert_eq!(merged["team"], "support");
        assert_eq!(merged[SYNC_METADATA_KEY]["path"], "guides/install.md");
        assert_eq!(Record::read(Some(&merged)), Some(record.clone()));
        assert_eq!(Value::Object(user_part(Some(&merged))), user);
        assert_eq!(user_part(None), Map::new());
        assert!(record.merge_into(None).as_object().unwrap().len() == 1);
    }

    #[test]
    fn malformed_records_are_no_records() {
        for metadata in [
            json!(null),
            json!({"team": "x"}),
            json!({SYNC_METADATA_KEY: "text"}),
            json!({SYNC_METADATA_KEY: {"path": "a.md"}}),
            json!({SYNC_METADATA_KEY: {"path": 1, "sha256": "x"}}),
        ] {
            assert_eq!(Record::read(Some(&metadata)), None, "{metadata}");
        }
    }

    #[test]
    fn caller_metadata_must_be_an_object_without_the_reserved_key() {
        assert!(check_user_metadata(json!(null), "a.md").unwrap().is_empty());
        assert_eq!(
            check_user_metadata(json!({"a": 1}), "a.md").unwrap()["a"],
            json!(1)
        );
        for (bad, says) in [
            (json!([1]), "not an array"),
            (json!("x"), "not a string"),
            (json!({SYNC_METADATA_KEY: 1}), "reserves"),
        ] {
            match check_user_metadata(bad, "docs/a.md") {
                Err(Error::InvalidArgument { name, reason }) => {
                    assert_eq!(name, "metadata");
                    assert!(
                        reason.contains(says) && reason.contains("docs/a.md"),
                        "{reason}"
                    );
                }
                other => panic!("{other:?}"),
            }
        }
    }
}
