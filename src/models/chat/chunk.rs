//! The chunks of a streamed chat answer, and how each is written back as JSON.
//!
//! Each chunk type is its own wire record: reading one takes exactly the keys of
//! its kind, so a key another kind uses (with whatever value) never costs it. A
//! key a chunk requires that is missing or `null`, or one of its keys with the
//! wrong type, makes the event unreadable, and the stream decoder
//! (`crate::stream::chat`) skips it.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Citation, ContentFilterResults, FinishReason, Usage};

/// One event of a chat stream.
///
/// Unknown event types are yielded as [`ChatStreamChunk::Unknown`] with their raw
/// JSON, so a newer server's additions are visible rather than lost. Serialising a
/// chunk gives its wire JSON back: the `type` first, then the chunk's own keys.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ChatStreamChunk {
    /// The answer starts (`message_start`).
    MessageStart(MessageStart),
    /// A piece of the answer text (`content_chunk`).
    #[serde(rename = "content_chunk")]
    ContentDelta(ContentDelta),
    /// A citation (`citation`).
    Citation(CitationChunk),
    /// The answer is complete (`message_end`); always the last chunk.
    MessageEnd(MessageEnd),
    /// An event type this version does not know.
    #[serde(untagged, serialize_with = "as_received")]
    Unknown {
        /// Its `type`.
        kind: String,
        /// The whole event.
        raw: Value,
    },
}

/// An unknown event is written back whole, as it came.
fn as_received<S: serde::Serializer>(_kind: &str, raw: &Value, s: S) -> Result<S::Ok, S::Error> {
    raw.serialize(s)
}

impl ChatStreamChunk {
    /// The wire `type` of the chunk.
    ///
    /// ```
    /// # use pinecone_assistant::models::ChatStreamChunk;
    /// # fn show(chunk: &ChatStreamChunk) {
    /// println!("{}", chunk.kind());
    /// # }
    /// ```
    pub fn kind(&self) -> &str {
        match self {
            ChatStreamChunk::MessageStart(_) => "message_start",
            ChatStreamChunk::ContentDelta(_) => "content_chunk",
            ChatStreamChunk::Citation(_) => "citation",
            ChatStreamChunk::MessageEnd(_) => "message_end",
            ChatStreamChunk::Unknown { kind, .. } => kind,
        }
    }

    /// Reads an event of the known `kind` (its wire `type`) from `event`, taking
    /// only that kind's own keys; `None` when this version does not know `kind`.
    pub(crate) fn read_known<'de, D: serde::Deserializer<'de>>(
        kind: &str,
        event: D,
    ) -> Option<Result<Self, D::Error>> {
        Some(match kind {
            "message_start" => MessageStart::deserialize(event).map(Self::MessageStart),
            "content_chunk" => ContentDelta::deserialize(event).map(Self::ContentDelta),
            "citation" => CitationChunk::deserialize(event).map(Self::Citation),
            "message_end" => MessageEnd::deserialize(event).map(Self::MessageEnd),
            _ => return None,
        })
    }
}

/// The first chunk of a chat stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MessageStart {
    /// The answer's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The model that answers.
    pub model: String,
    /// The role of the answer (`assistant`).
    pub role: String,
    /// How many snippets were retrieved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context_snippet_count: Option<u64>,
    /// Content-filter results (boxed: rare and large, so every chunk stays small).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_filter_results: Option<Box<ContentFilterResults>>,
}

/// A piece of the answer text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ContentDelta {
    /// The answer's id.
    pub id: String,
    /// The model that answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The text to append (may be empty); `delta.content` on the wire.
    #[serde(rename = "delta", with = "delta")]
    pub content: String,
    /// Content-filter results (boxed: rare and large, so every chunk stays small).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_filter_results: Option<Box<ContentFilterResults>>,
}

/// The wire form of [`ContentDelta::content`]: `{"content": …}` under `delta`.
mod delta {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    struct Delta<T> {
        content: T,
    }

    pub(super) fn serialize<S: Serializer>(content: &str, s: S) -> Result<S::Ok, S::Error> {
        Delta { content }.serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        Delta::deserialize(d).map(|delta| delta.content)
    }
}

/// A citation event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CitationChunk {
    /// The answer's id.
    pub id: String,
    /// The model that answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The citation.
    pub citation: Citation,
}

/// The last chunk of a chat stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MessageEnd {
    /// The answer's id.
    pub id: String,
    /// The model that answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Why the model stopped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<FinishReason>,
    /// Token counts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// Content-filter results (boxed: rare and large, so every chunk stays small).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_filter_results: Option<Box<ContentFilterResults>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_serialise_to_wire_json() {
        let chunk = ChatStreamChunk::ContentDelta(ContentDelta {
            id: "x".into(),
            model: Some("m".into()),
            content: "hi".into(),
            content_filter_results: None,
        });
        assert_eq!(
            serde_json::to_string(&chunk).unwrap(),
            r#"{"type":"content_chunk","id":"x","model":"m","delta":{"content":"hi"}}"#
        );
        let raw = serde_json::json!({"type": "ping", "n": 1});
        let unknown = ChatStreamChunk::Unknown {
            kind: "ping".into(),
            raw: raw.clone(),
        };
        assert_eq!(serde_json::to_value(&unknown).unwrap(), raw);
    }
}
