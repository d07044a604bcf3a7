//! The chunks of a streamed chat answer, and how each is written back as JSON.
//!
//! Reading chunks is the stream decoder's job (`crate::stream::chat`); this file
//! holds the types and their wire form.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Citation, ContentFilterResults, FinishReason, Usage};

/// One event of a chat stream.
///
/// Unknown event types are yielded as [`ChatStreamChunk::Unknown`] with their raw
/// JSON, so a newer server's additions are visible rather than lost. Serialising a
/// chunk gives its wire JSON back.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ChatStreamChunk {
    /// The answer starts (`message_start`).
    MessageStart(MessageStart),
    /// A piece of the answer text (`content_chunk`).
    ContentDelta(ContentDelta),
    /// A citation (`citation`).
    Citation(CitationChunk),
    /// The answer is complete (`message_end`); always the last chunk.
    MessageEnd(MessageEnd),
    /// An event type this version does not know.
    Unknown {
        /// Its `type`.
        kind: String,
        /// The whole event.
        raw: Value,
    },
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
}

/// The first chunk of a chat stream.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct MessageStart {
    /// The answer's id.
    pub id: Option<String>,
    /// The model that answers.
    pub model: String,
    /// The role of the answer (`assistant`).
    pub role: String,
    /// How many snippets were retrieved.
    pub context_snippet_count: Option<u64>,
    /// Content-filter results (boxed: rare and large, so every chunk stays small).
    pub content_filter_results: Option<Box<ContentFilterResults>>,
}

/// A piece of the answer text.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ContentDelta {
    /// The answer's id.
    pub id: String,
    /// The model that answers.
    pub model: Option<String>,
    /// The text to append (may be empty).
    pub content: String,
    /// Content-filter results (boxed: rare and large, so every chunk stays small).
    pub content_filter_results: Option<Box<ContentFilterResults>>,
}

/// A citation event.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct CitationChunk {
    /// The answer's id.
    pub id: String,
    /// The model that answers.
    pub model: Option<String>,
    /// The citation.
    pub citation: Citation,
}

/// The last chunk of a chat stream.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct MessageEnd {
    /// The answer's id.
    pub id: String,
    /// The model that answered.
    pub model: Option<String>,
    /// Why the model stopped.
    pub finish_reason: Option<FinishReason>,
    /// Token counts.
    pub usage: Option<Usage>,
    /// Content-filter results (boxed: rare and large, so every chunk stays small).
    pub content_filter_results: Option<Box<ContentFilterResults>>,
}

/// The kinds of chat chunk this version knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ChunkKind {
    MessageStart,
    ContentChunk,
    Citation,
    MessageEnd,
}

impl ChunkKind {
    /// The kind a wire `type` names, `None` for a type this version does not know.
    pub(crate) fn from_tag(tag: &str) -> Option<Self> {
        Some(match tag {
            "message_start" => ChunkKind::MessageStart,
            "content_chunk" => ChunkKind::ContentChunk,
            "citation" => ChunkKind::Citation,
            "message_end" => ChunkKind::MessageEnd,
            _ => return None,
        })
    }
}

/// `delta` of a content chunk.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Delta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
}

/// Every field any chat chunk has, in one flat record, for writing a chunk back
/// as its wire JSON (reading goes through the record of the chunk's own kind).
#[derive(Debug, Default, Serialize)]
struct FlatChunk {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<ChunkKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    context_snippet_count: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    delta: Option<Delta>,
    #[serde(skip_serializing_if = "Option::is_none")]
    citation: Option<Box<Citation>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    finish_reason: Option<FinishReason>,
    #[serde(skip_serializing_if = "Option::is_none")]
    usage: Option<Usage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_filter_results: Option<Box<ContentFilterResults>>,
}

impl Serialize for ChatStreamChunk {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let flat = match self.clone() {
            ChatStreamChunk::Unknown { raw, .. } => return raw.serialize(serializer),
            ChatStreamChunk::MessageStart(m) => FlatChunk {
                kind: Some(ChunkKind::MessageStart),
                id: m.id,
                model: Some(m.model),
                role: Some(m.role),
                context_snippet_count: m.context_snippet_count,
                content_filter_results: m.content_filter_results,
                ..FlatChunk::default()
            },
            ChatStreamChunk::ContentDelta(d) => FlatChunk {
                kind: Some(ChunkKind::ContentChunk),
                id: Some(d.id),
                model: d.model,
                delta: Some(Delta {
                    content: Some(d.content),
                }),
                content_filter_results: d.content_filter_results,
                ..FlatChunk::default()
            },
            ChatStreamChunk::Citation(c) => FlatChunk {
                kind: Some(ChunkKind::Citation),
                id: Some(c.id),
                model: c.model,
                citation: Some(Box::new(c.citation)),
                ..FlatChunk::default()
            },
            ChatStreamChunk::MessageEnd(e) => FlatChunk {
                kind: Some(ChunkKind::MessageEnd),
                id: Some(e.id),
                model: e.model,
                finish_reason: e.finish_reason,
                usage: e.usage,
                content_filter_results: e.content_filter_results,
                ..FlatChunk::default()
            },
        };
        flat.serialize(serializer)
    }
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
