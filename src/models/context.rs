//! Context retrieval: the snippets an assistant would answer from.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{FileModel, Message, Usage, setters, with_retrieval_settings};
use crate::error::{Error, Result};

fn is_empty_str(s: &Option<String>) -> bool {
    s.as_deref().is_none_or(str::is_empty)
}

fn is_empty_messages(m: &Option<Vec<Message>>) -> bool {
    m.as_deref().is_none_or(<[Message]>::is_empty)
}

with_retrieval_settings! {
    examples from r#"ContextRequest::query("q")"#;
    /// A request for [`Assistant::context`](crate::Assistant::context): a query or a
    /// conversation, and retrieval settings.
    ///
    /// Exactly one of `query` and `messages` must be non-empty. Serialising gives the
    /// wire body: the empty one of the two is left out.
    ///
    /// ```
    /// use pinecone_assistant::models::{ContextRequest, Message};
    /// let by_query = ContextRequest::query("refund window").top_k(3).multimodal(true);
    /// let by_chat = ContextRequest::messages([Message::user("What is the refund window?")]);
    /// assert_eq!(
    ///     serde_json::to_string(&by_query).unwrap(),
    ///     r#"{"query":"refund window","top_k":3,"multimodal":true}"#
    /// );
    /// # let _ = by_chat;
    /// ```
    #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
    #[must_use]
    #[non_exhaustive]
    // A misspelt option must fail loudly: a dropped `filter` would widen retrieval.
    #[serde(deny_unknown_fields)]
    pub struct ContextRequest {
        /// A search text.
        #[serde(default, skip_serializing_if = "is_empty_str")]
        pub query: Option<String>,
        /// A conversation to retrieve for (instead of `query`).
        #[serde(default, skip_serializing_if = "is_empty_messages")]
        pub messages: Option<Vec<Message>>,
        /// A metadata filter on the files searched.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub filter: Option<Value>,
    }
}

impl ContextRequest {
    /// Retrieval for a search text.
    ///
    /// ```
    /// use pinecone_assistant::models::ContextRequest;
    /// let r = ContextRequest::query("refund window");
    /// assert_eq!(r.query.as_deref(), Some("refund window"));
    /// ```
    pub fn query(query: impl Into<String>) -> Self {
        Self {
            query: Some(query.into()),
            ..Self::default()
        }
    }

    /// Retrieval for a conversation.
    ///
    /// ```
    /// use pinecone_assistant::models::{ContextRequest, Message};
    /// let r = ContextRequest::messages([Message::user("What is the refund window?")]);
    /// assert_eq!(r.messages.unwrap().len(), 1);
    /// ```
    pub fn messages(messages: impl IntoIterator<Item = Message>) -> Self {
        Self {
            messages: Some(messages.into_iter().collect()),
            ..Self::default()
        }
    }

    setters! {
        /// A metadata filter on the files searched. Defaults to no filter.
        ///
        /// ```
        /// use pinecone_assistant::models::ContextRequest;
        /// let r = ContextRequest::query("refunds").filter(serde_json::json!({"team": {"$eq": "billing"}}));
        /// assert!(r.filter.is_some());
        /// ```
        filter(filter: Value) => filter = Some(filter);
    }

    /// Exactly one of `query` and `messages`, where empty counts as absent.
    pub(crate) fn validate(&self) -> Result<()> {
        match (is_empty_str(&self.query), is_empty_messages(&self.messages)) {
            (false, false) => Err(Error::invalid(
                "query",
                "give either a query or messages, not both",
            )),
            (true, true) => Err(Error::invalid(
                "query",
                "give a non-empty query or at least one message",
            )),
            _ => Ok(()),
        }
    }
}

/// The answer of [`Assistant::context`](crate::Assistant::context).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ContextResponse {
    /// The response id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The snippets, best first.
    pub snippets: Vec<Snippet>,
    /// Token counts (`completion_tokens` is always 0).
    pub usage: Usage,
}

/// A retrieved snippet. A snippet of an unknown type, or of a known type without
/// that type's fields, is kept whole in `Other`, so one odd snippet never fails the
/// whole response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Snippet {
    /// A text passage.
    Text(TextSnippet),
    /// A passage mixing text and images.
    Multimodal(MultimodalSnippet),
    /// A snippet type this version does not know, as sent.
    #[serde(untagged)]
    Other(Value),
}

impl Snippet {
    /// The snippet's score, when it is a known type.
    ///
    /// ```
    /// # fn show(s: &pinecone_assistant::models::Snippet) {
    /// println!("{:?}", s.score());
    /// # }
    /// ```
    pub fn score(&self) -> Option<f64> {
        match self {
            Snippet::Text(t) => Some(t.score),
            Snippet::Multimodal(m) => Some(m.score),
            Snippet::Other(_) => None,
        }
    }

    /// Where the snippet comes from, when it is a known type.
    ///
    /// ```
    /// # fn show(s: &pinecone_assistant::models::Snippet) {
    /// if let Some(r) = s.reference() {
    ///     println!("{} pages {:?}", r.file.name, r.pages);
    /// }
    /// # }
    /// ```
    pub fn reference(&self) -> Option<&Reference> {
        match self {
            Snippet::Text(t) => Some(&t.reference),
            Snippet::Multimodal(m) => Some(&m.reference),
            Snippet::Other(_) => None,
        }
    }
}

/// A text snippet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TextSnippet {
    /// The passage.
    pub content: String,
    /// Relevance score.
    pub score: f64,
    /// Where it comes from.
    pub reference: Reference,
}

/// A snippet of text and image blocks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MultimodalSnippet {
    /// The blocks, in document order.
    pub content: Vec<ContentBlock>,
    /// Relevance score.
    pub score: f64,
    /// Where it comes from.
    pub reference: Reference,
}

/// A block of a multimodal snippet. Unknown or malformed blocks are kept whole in
/// `Other`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ContentBlock {
    /// Text.
    Text {
        /// The text.
        text: String,
    },
    /// An image with its caption; the bytes only with `include_binary_content`.
    Image {
        /// A description of the image.
        caption: String,
        /// The image data, when asked for.
        #[serde(default)]
        image: Option<ImageData>,
    },
    /// A block type this version does not know, as sent.
    #[serde(untagged)]
    Other(Value),
}

/// An image's bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ImageData {
    /// The encoding of `data` (`base64`).
    #[serde(rename = "type")]
    pub kind: String,
    /// E.g. `image/png`.
    pub mime_type: String,
    /// The encoded bytes.
    pub data: String,
}

/// Where a snippet comes from: a file, and pages for paged formats.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Reference {
    /// The file format: `pdf`, `doc_x`, `text`, `json`, `markdown`, or newer ones.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The file.
    pub file: FileModel,
    /// The pages (for `pdf` and `doc_x`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pages: Vec<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::ContextOptions;

    #[test]
    fn validation_counts_empty_as_absent() {
        assert!(ContextRequest::query("q").validate().is_ok());
        assert!(
            ContextRequest::messages([Message::user("m")])
                .validate()
                .is_ok()
        );
        assert!(ContextRequest::query("").validate().is_err());
        assert!(ContextRequest::messages([]).validate().is_err());
        let both = ContextRequest {
            messages: Some(vec![Message::user("m")]),
            ..ContextRequest::query("q")
        };
        assert!(matches!(
            both.validate(),
            Err(Error::InvalidArgument { .. })
        ));
        let empty_query = ContextRequest {
            messages: Some(vec![Message::user("m")]),
            ..ContextRequest::query("")
        };
        assert!(empty_query.validate().is_ok());
        assert_eq!(
            serde_json::to_string(&empty_query).unwrap(),
            r#"{"messages":[{"role":"user","content":"m"}]}"#
        );
    }

    #[test]
    fn an_unknown_key_is_refused_with_the_accepted_ones() {
        // One flat struct: serde names the key and lists every accepted one,
        // the retrieval settings included.
        let err = serde_json::from_str::<ContextRequest>(r#"{"query":"q","topk":3}"#)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("unknown field `topk`, expected one of `query`, `messages`, `filter`, `top_k`, `snippet_size`, `multimodal`, `include_binary_content`"),
            "{err}"
        );
        let err = serde_json::from_str::<ContextOptions>(r#"{"filter":{}}"#)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("unknown field `filter`, expected one of `top_k`"),
            "{err}"
        );
    }

    #[test]
    fn unknown_snippet_and_block_types_are_kept() {
        let r: ContextResponse = serde_json::from_str(
            r#"{"snippets":[
                {"type":"video","content":"v","score":0.1},
                {"type":"multimodal","content":[{"type":"table","rows":[]},{"type":"text","text":"t"}],"score":0.5,
                 "reference":{"type":"pdf","file":{"name":"a.pdf","id":"a"},"pages":[1]}}
            ],"usage":{"prompt_tokens":1,"completion_tokens":0,"total_tokens":1}}"#,
        )
        .unwrap();
        assert!(matches!(&r.snippets[0], Snippet::Other(v) if v["type"] == "video"));
        let Snippet::Multimodal(m) = &r.snippets[1] else {
            panic!("{:?}", r.snippets[1])
        };
        assert!(matches!(&m.content[0], ContentBlock::Other(v) if v["type"] == "table"));
        assert_eq!(m.content[1], ContentBlock::Text { text: "t".into() });
    }

    #[test]
    fn context_answer_survives_a_round_trip() {
        let r: ContextResponse = serde_json::from_str(include_str!(
            "../../tests/fixtures/context_three_snippets.json"
        ))
        .unwrap();
        let json = serde_json::to_string(&r).unwrap();
        assert!(json.contains(r#"{"type":"text","content":"Annual subscriptions"#));
        let again: ContextResponse = serde_json::from_str(&json).unwrap();
        assert_eq!(again, r);
    }

    #[test]
    fn a_known_type_with_a_bad_shape_is_kept_raw() {
        let r: ContextResponse =
            serde_json::from_str(r#"{"snippets":[{"type":"text","score":0.1}],"usage":{}}"#)
                .unwrap();
        assert!(matches!(&r.snippets[0], Snippet::Other(v) if v["score"] == 0.1));
    }
}
