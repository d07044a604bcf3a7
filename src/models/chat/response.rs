//! The answer of a chat: text, citations, usage and content-filter results.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{ChatStreamChunk, Message};
use crate::models::FileModel;
use crate::models::open_enum::open_enum;

/// Token counts of a call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Usage {
    /// Tokens read (question, history and retrieved context).
    #[serde(default)]
    pub prompt_tokens: u64,
    /// Tokens generated (0 for context retrieval).
    #[serde(default)]
    pub completion_tokens: u64,
    /// The sum of both.
    #[serde(default)]
    pub total_tokens: u64,
}

open_enum! {
    /// Why the model stopped. Unknown values are kept in `Other`.
    ///
    /// ```
    /// use pinecone_assistant::models::FinishReason;
    /// assert_eq!(FinishReason::ContentFilter.as_str(), "content_filter");
    /// ```
    pub enum FinishReason {
        /// The answer is complete.
        Stop = "stop",
        /// The token limit was reached.
        Length = "length",
        /// A content filter cut the answer.
        ContentFilter = "content_filter",
        /// The model asked for a tool.
        ToolCalls = "tool_calls",
    }
    /// A value this version does not know (the service has been seen to send the
    /// string `"null"`).
    Other
}

open_enum! {
    /// The provider whose content filter produced a result.
    pub enum ContentFilterSpec {
        /// OpenAI's filter.
        Openai = "openai",
        /// Google Gemini's filter.
        Gemini = "gemini",
    }
    /// A provider this version does not know.
    Other
}

/// Content-filter results, in the shape the named provider defines.
///
/// Reading this object never fails the answer that carries it: the official
/// SDK keeps it untyped, so anything that does not fit (a `spec` that is not
/// a string, or something other than an object) is kept whole in `raw`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ContentFilterResults {
    /// Which provider's format `results` follows (`None` when absent or not a
    /// string).
    pub spec: Option<ContentFilterSpec>,
    /// The provider's results, as sent.
    pub results: Option<Value>,
    /// The whole value as sent when it does not have the documented shape; `None`
    /// when it does. Serialising writes this back unchanged.
    pub raw: Option<Value>,
}

/// The documented shape of [`ContentFilterResults`], as written.
#[derive(Serialize)]
struct FilterWire<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    spec: Option<&'a ContentFilterSpec>,
    #[serde(skip_serializing_if = "Option::is_none")]
    results: Option<&'a Value>,
}

impl Serialize for ContentFilterResults {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.raw {
            Some(raw) => raw.serialize(serializer),
            None => FilterWire {
                spec: self.spec.as_ref(),
                results: self.results.as_ref(),
            }
            .serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for ContentFilterResults {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Rare and small: going through `Value` keeps every shape readable.
        let value = Value::deserialize(d)?;
        let Value::Object(map) = &value else {
            return Ok(Self {
                spec: None,
                results: None,
                raw: Some(value),
            });
        };
        let results = map.get("results").filter(|v| !v.is_null()).cloned();
        let spec = match map.get("spec") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(ContentFilterSpec::from_wire(s)),
            Some(_) => {
                return Ok(Self {
                    spec: None,
                    results,
                    raw: Some(value),
                });
            }
        };
        Ok(Self {
            spec,
            results,
            raw: None,
        })
    }
}

/// The cited passage of a reference (asked for with `include_highlights`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Highlight {
    /// The kind of passage (`text`).
    #[serde(rename = "type")]
    pub kind: String,
    /// The passage.
    pub content: String,
}

/// One source of a citation: a file and where in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CitationReference {
    /// The file cited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<FileModel>,
    /// The pages cited (paged formats only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pages: Vec<u32>,
    /// The cited passage, when highlights were asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub highlight: Option<Highlight>,
}

/// A citation: where in the answer, and which sources back it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Citation {
    /// The character offset in the answer where the citation belongs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<u64>,
    /// The sources.
    #[serde(default)]
    pub references: Vec<CitationReference>,
}

/// The answer of [`Assistant::chat`](crate::Assistant::chat), also built by
/// [`ChatStream::into_response`](crate::ChatStream::into_response) or
/// [`ChatResponse::from_chunks`].
///
/// Only what the API description and the official SDK both require is required
/// (docs/wire/models.md); the rest decodes to `None` or empty when absent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ChatResponse {
    /// The answer's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The model that answered (not necessarily the one asked for).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The answer (role `assistant`). A missing or `null` content reads as `""`.
    #[serde(default, deserialize_with = "lenient_message")]
    pub message: Message,
    /// Why the model stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<FinishReason>,
    /// The sources of the answer.
    #[serde(default)]
    pub citations: Vec<Citation>,
    /// Token counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// How many snippets were retrieved; 0 means nothing relevant was found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_snippet_count: Option<u64>,
    /// Content-filter results, when the provider reported any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_filter_results: Option<ContentFilterResults>,
}

/// The answer message, read without requiring its fields (unlike a request's).
fn lenient_message<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Message, D::Error> {
    #[derive(Deserialize)]
    struct Lenient {
        #[serde(default)]
        role: Option<String>,
        #[serde(default)]
        content: Option<String>,
    }
    let m = Option::<Lenient>::deserialize(d)?;
    let (role, content) = m.map_or((None, None), |m| (m.role, m.content));
    Ok(Message::new(
        role.unwrap_or_else(|| "assistant".to_owned()),
        content.unwrap_or_default(),
    ))
}

impl ChatResponse {
    /// The answer text.
    ///
    /// ```
    /// # let reply = pinecone_assistant::models::ChatResponse::default();
    /// println!("{}", reply.content());
    /// ```
    pub fn content(&self) -> &str {
        &self.message.content
    }

    /// Folds the chunks of a streamed answer into the response a non-streaming
    /// [`chat`](crate::Assistant::chat) would have returned: id, model, text,
    /// citations, finish reason, usage, snippet count and content-filter results.
    /// Unknown chunks are ignored.
    ///
    /// ```
    /// use pinecone_assistant::ChatStream;
    /// use pinecone_assistant::models::ChatResponse;
    /// let body = "data: {\"type\":\"content_chunk\",\"id\":\"1\",\"delta\":{\"content\":\"Hi\"}}\n\n\
    ///             data: {\"type\":\"message_end\",\"id\":\"1\",\"finish_reason\":\"stop\"}\n\n";
    /// let reply = ChatResponse::from_chunks(ChatStream::from_reader(body.as_bytes()))?;
    /// assert_eq!(reply.content(), "Hi");
    /// # Ok::<(), pinecone_assistant::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// The first error among the chunks (a stream reports its own failures, such
    /// as a truncated body, that way).
    pub fn from_chunks(
        chunks: impl IntoIterator<Item = crate::Result<ChatStreamChunk>>,
    ) -> crate::Result<Self> {
        let mut reply = ChatResponse::default();
        for chunk in chunks {
            match chunk? {
                ChatStreamChunk::MessageStart(start) => {
                    reply.id = start.id.or(reply.id);
                    reply.model = Some(start.model);
                    reply.message.role = start.role;
                    reply.context_snippet_count = start.context_snippet_count;
                    if start.content_filter_results.is_some() {
                        reply.content_filter_results = start.content_filter_results.map(|b| *b);
                    }
                }
                ChatStreamChunk::ContentDelta(delta) => {
                    reply.message.content.push_str(&delta.content);
                    if delta.content_filter_results.is_some() {
                        reply.content_filter_results = delta.content_filter_results.map(|b| *b);
                    }
                }
                ChatStreamChunk::Citation(c) => reply.citations.push(c.citation),
                ChatStreamChunk::MessageEnd(end) => {
                    reply.id = reply.id.or(Some(end.id));
                    reply.model = reply.model.or(end.model);
                    reply.finish_reason = end.finish_reason;
                    reply.usage = end.usage;
                    if end.content_filter_results.is_some() {
                        reply.content_filter_results = end.content_filter_results.map(|b| *b);
                    }
                }
                ChatStreamChunk::Unknown { .. } => {}
            }
        }
        Ok(reply)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_message_needs_content_but_an_answer_does_not() {
        assert!(serde_json::from_str::<Message>(r#"{"role":"user"}"#).is_err());
        let r: ChatResponse =
            serde_json::from_str(r#"{"message":{"role":"assistant","content":null}}"#).unwrap();
        assert_eq!(r.message, Message::assistant(""));
        let r: ChatResponse = serde_json::from_str(r#"{"message":null}"#).unwrap();
        assert_eq!(r.content(), "");
    }

    #[test]
    fn finish_reason_is_open() {
        let r: FinishReason = serde_json::from_str(r#""null""#).unwrap();
        assert_eq!(r, FinishReason::Other("null".into()));
        let r: FinishReason = serde_json::from_str(r#""tool_calls""#).unwrap();
        assert_eq!(r, FinishReason::ToolCalls);
        assert_eq!(serde_json::to_string(&r).unwrap(), r#""tool_calls""#);
    }

    #[test]
    fn response_without_optional_keys_decodes() {
        let r: ChatResponse =
            serde_json::from_str(r#"{"message":{"role":"assistant","content":"x"},"extra":1}"#)
                .unwrap();
        assert_eq!(r.content(), "x");
        assert!(r.citations.is_empty());
        assert_eq!(r.usage, None);
    }

    #[test]
    fn content_filter_results_never_fail_the_answer() {
        let r: ChatResponse = serde_json::from_str(
            r#"{"message":{"role":"assistant","content":"x"},"content_filter_results":{"spec":"gemini","results":{"blocked":false}}}"#,
        )
        .unwrap();
        let f = r.content_filter_results.unwrap();
        assert_eq!(f.spec, Some(ContentFilterSpec::Gemini));
        assert_eq!(f.results, Some(serde_json::json!({"blocked": false})));
        assert_eq!(f.raw, None);
        assert_eq!(
            serde_json::to_string(&f).unwrap(),
            r#"{"spec":"gemini","results":{"blocked":false}}"#
        );
        let r: ChatResponse = serde_json::from_str(
            r#"{"message":{"role":"assistant","content":"x"},"content_filter_results":{"spec":"azure"}}"#,
        )
        .unwrap();
        assert_eq!(
            r.content_filter_results.unwrap().spec,
            Some(ContentFilterSpec::Other("azure".into()))
        );
        for odd in [
            r#"{"spec":7,"results":{"a":1}}"#,
            r#"{"spec":["openai"]}"#,
            r#""filtered""#,
            r#"[1,2]"#,
            "3",
        ] {
            let body = format!(
                r#"{{"message":{{"role":"assistant","content":"x"}},"content_filter_results":{odd}}}"#
            );
            let r: ChatResponse = serde_json::from_str(&body).unwrap();
            assert_eq!(r.content(), "x");
            let f = r.content_filter_results.unwrap();
            assert_eq!(f.spec, None, "{odd}");
            assert_eq!(f.raw, Some(serde_json::from_str::<Value>(odd).unwrap()));
            // Written back as received.
            assert_eq!(
                serde_json::to_value(&f).unwrap(),
                serde_json::from_str::<Value>(odd).unwrap()
            );
        }
        let r: ChatResponse = serde_json::from_str(
            r#"{"message":{"role":"assistant","content":"x"},"content_filter_results":null}"#,
        )
        .unwrap();
        assert_eq!(r.content_filter_results, None);
    }
}
