//! Chat: messages, the chat request, its answer and the chunks of a chat stream.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::FileModel;

/// The model a chat uses unless told otherwise.
pub const DEFAULT_CHAT_MODEL: &str = "gpt-4o";

fn default_model() -> String {
    DEFAULT_CHAT_MODEL.to_owned()
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// One message of a conversation: a role and its text.
///
/// Roles are not checked; the API knows `user`, `assistant` and `system`.
///
/// ```
/// use pinecone_assistant::models::Message;
/// let history = [
///     Message::system("Answer in one sentence."),
///     Message::user("What is the refund window?"),
///     Message::assistant("30 days."),
///     Message::new("user", "For annual plans too?"),
/// ];
/// assert_eq!(history[1].role, "user");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Message {
    /// Who speaks: `user`, `assistant` or `system`.
    #[serde(default = "default_role")]
    pub role: String,
    /// The text (required when a message is read from JSON).
    pub content: String,
}

fn default_role() -> String {
    "user".to_owned()
}

impl Message {
    /// A message with any role.
    ///
    /// ```
    /// use pinecone_assistant::models::Message;
    /// assert_eq!(Message::new("tool", "42").role, "tool");
    /// ```
    pub fn new(role: impl Into<String>, content: impl Into<String>) -> Self {
        Self {
            role: role.into(),
            content: content.into(),
        }
    }

    /// A message from the user.
    ///
    /// ```
    /// use pinecone_assistant::models::Message;
    /// assert_eq!(Message::user("Hi").role, "user");
    /// ```
    pub fn user(content: impl Into<String>) -> Self {
        Self::new("user", content)
    }

    /// An earlier answer of the assistant.
    ///
    /// ```
    /// use pinecone_assistant::models::Message;
    /// assert_eq!(Message::assistant("Hello").role, "assistant");
    /// ```
    pub fn assistant(content: impl Into<String>) -> Self {
        Self::new("assistant", content)
    }

    /// A system instruction.
    ///
    /// ```
    /// use pinecone_assistant::models::Message;
    /// assert_eq!(Message::system("Be brief.").role, "system");
    /// ```
    pub fn system(content: impl Into<String>) -> Self {
        Self::new("system", content)
    }
}

/// Retrieval settings of a chat (`context_options` on the wire). Unset fields are
/// not sent, so the server's defaults apply.
///
/// ```
/// use pinecone_assistant::models::ContextOptions;
/// let opts = ContextOptions::new().top_k(8).snippet_size(512);
/// assert_eq!(serde_json::to_string(&opts).unwrap(), r#"{"top_k":8,"snippet_size":512}"#);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[must_use]
#[non_exhaustive]
pub struct ContextOptions {
    /// How many snippets to retrieve.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_k: Option<u32>,
    /// The size of each snippet, in tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snippet_size: Option<u32>,
    /// Whether image content of multimodal files is retrieved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multimodal: Option<bool>,
    /// Whether retrieved images carry their bytes (with `multimodal`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_binary_content: Option<bool>,
}

impl ContextOptions {
    /// All settings left to the server.
    ///
    /// ```
    /// use pinecone_assistant::models::ContextOptions;
    /// assert_eq!(ContextOptions::new(), ContextOptions::default());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// How many snippets to retrieve. Defaults to the server's (16, at most 64).
    ///
    /// ```
    /// use pinecone_assistant::models::ContextOptions;
    /// assert_eq!(ContextOptions::new().top_k(8).top_k, Some(8));
    /// ```
    pub fn top_k(mut self, n: u32) -> Self {
        self.top_k = Some(n);
        self
    }

    /// Snippet size in tokens. Defaults to the server's (2048; 512–8192).
    ///
    /// ```
    /// use pinecone_assistant::models::ContextOptions;
    /// assert_eq!(ContextOptions::new().snippet_size(512).snippet_size, Some(512));
    /// ```
    pub fn snippet_size(mut self, tokens: u32) -> Self {
        self.snippet_size = Some(tokens);
        self
    }

    /// Whether image content is retrieved. Defaults to the server's (`true`).
    ///
    /// ```
    /// use pinecone_assistant::models::ContextOptions;
    /// assert_eq!(ContextOptions::new().multimodal(false).multimodal, Some(false));
    /// ```
    pub fn multimodal(mut self, on: bool) -> Self {
        self.multimodal = Some(on);
        self
    }

    /// Whether images carry their bytes. Defaults to the server's (`true`).
    ///
    /// ```
    /// use pinecone_assistant::models::ContextOptions;
    /// let o = ContextOptions::new().include_binary_content(false);
    /// assert_eq!(o.include_binary_content, Some(false));
    /// ```
    pub fn include_binary_content(mut self, on: bool) -> Self {
        self.include_binary_content = Some(on);
        self
    }
}

/// A chat request for [`Assistant::chat`](crate::Assistant::chat) and
/// [`Assistant::chat_stream`](crate::Assistant::chat_stream).
///
/// There is no `stream` option: the method chosen decides it. Serialising gives the
/// request's wire fields without `stream`.
///
/// ```
/// use pinecone_assistant::models::{ChatRequest, ContextOptions, Message};
/// let request = ChatRequest::new([Message::user("How long is the refund window?")])
///     .model("gpt-4.1")
///     .temperature(0.2)
///     .filter(serde_json::json!({"department": {"$eq": "billing"}}))
///     .include_highlights(true)
///     .context_options(ContextOptions::new().top_k(8));
/// # let _ = request;
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[must_use]
#[non_exhaustive]
pub struct ChatRequest {
    /// The conversation so far, the question last.
    pub messages: Vec<Message>,
    /// The model that answers.
    #[serde(default = "default_model")]
    pub model: String,
    /// Sampling temperature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// A metadata filter on the files used for retrieval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<Value>,
    /// Ask for the answer as a JSON document (not available when streaming).
    #[serde(default, skip_serializing_if = "is_false")]
    pub json_response: bool,
    /// Ask for the cited passage of each reference.
    #[serde(default, skip_serializing_if = "is_false")]
    pub include_highlights: bool,
    /// Retrieval settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_options: Option<ContextOptions>,
}

impl ChatRequest {
    /// A request with these messages and every option at its default.
    ///
    /// ```
    /// use pinecone_assistant::models::{ChatRequest, Message};
    /// let r = ChatRequest::new([Message::user("Hi")]);
    /// assert_eq!(r.model, "gpt-4o");
    /// ```
    pub fn new(messages: impl IntoIterator<Item = Message>) -> Self {
        Self {
            messages: messages.into_iter().collect(),
            model: default_model(),
            temperature: None,
            filter: None,
            json_response: false,
            include_highlights: false,
            context_options: None,
        }
    }

    /// The model that answers; not checked, so new model names work. Defaults to
    /// `gpt-4o`.
    ///
    /// ```
    /// use pinecone_assistant::models::{ChatRequest, Message};
    /// let r = ChatRequest::new([Message::user("Hi")]).model("claude-sonnet-4-5");
    /// assert_eq!(r.model, "claude-sonnet-4-5");
    /// ```
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = model.into();
        self
    }

    /// Sampling temperature. Defaults to the server's (0.0).
    ///
    /// ```
    /// use pinecone_assistant::models::{ChatRequest, Message};
    /// let r = ChatRequest::new([Message::user("Hi")]).temperature(0.2);
    /// assert_eq!(r.temperature, Some(0.2));
    /// ```
    pub fn temperature(mut self, t: f64) -> Self {
        self.temperature = Some(t);
        self
    }

    /// A metadata filter on the files used, e.g. `{"team": {"$eq": "billing"}}`.
    /// Defaults to no filter.
    ///
    /// ```
    /// use pinecone_assistant::models::{ChatRequest, Message};
    /// let r = ChatRequest::new([Message::user("Hi")])
    ///     .filter(serde_json::json!({"team": {"$eq": "billing"}}));
    /// assert!(r.filter.is_some());
    /// ```
    pub fn filter(mut self, filter: Value) -> Self {
        self.filter = Some(filter);
        self
    }

    /// Ask for the answer as a JSON document; a streaming call refuses it.
    /// Defaults to `false`.
    ///
    /// ```
    /// use pinecone_assistant::models::{ChatRequest, Message};
    /// let r = ChatRequest::new([Message::user("List the plans as JSON")]).json_response(true);
    /// assert!(r.json_response);
    /// ```
    pub fn json_response(mut self, on: bool) -> Self {
        self.json_response = on;
        self
    }

    /// Ask for the cited passage of each reference. Defaults to `false`.
    ///
    /// ```
    /// use pinecone_assistant::models::{ChatRequest, Message};
    /// let r = ChatRequest::new([Message::user("Hi")]).include_highlights(true);
    /// assert!(r.include_highlights);
    /// ```
    pub fn include_highlights(mut self, on: bool) -> Self {
        self.include_highlights = on;
        self
    }

    /// Retrieval settings. Defaults to the server's.
    ///
    /// ```
    /// use pinecone_assistant::models::{ChatRequest, ContextOptions, Message};
    /// let r = ChatRequest::new([Message::user("Hi")]).context_options(ContextOptions::new().top_k(4));
    /// assert_eq!(r.context_options.unwrap().top_k, Some(4));
    /// ```
    pub fn context_options(mut self, options: ContextOptions) -> Self {
        self.context_options = Some(options);
        self
    }

    /// The wire body, keys in the documented order.
    pub(crate) fn body(&self, stream: bool) -> ChatBody<'_> {
        ChatBody {
            messages: &self.messages,
            model: &self.model,
            stream,
            temperature: self.temperature,
            filter: self.filter.as_ref(),
            json_response: self.json_response.then_some(true),
            // Sent on every stream (as given) and whenever it is on.
            include_highlights: (stream || self.include_highlights)
                .then_some(self.include_highlights),
            context_options: self.context_options.as_ref(),
        }
    }
}

/// The body of a chat request as sent.
#[derive(Serialize)]
pub(crate) struct ChatBody<'a> {
    messages: &'a [Message],
    model: &'a str,
    stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    filter: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    json_response: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    include_highlights: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    context_options: Option<&'a ContextOptions>,
}

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

/// Why the model stopped. Unknown values are kept in `Other`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FinishReason {
    /// The answer is complete.
    Stop,
    /// The token limit was reached.
    Length,
    /// A content filter cut the answer.
    ContentFilter,
    /// The model asked for a tool.
    ToolCalls,
    /// A value this version does not know (the service has been seen to send the
    /// string `"null"`).
    #[serde(untagged)]
    Other(String),
}

impl FinishReason {
    /// The wire spelling.
    ///
    /// ```
    /// use pinecone_assistant::models::FinishReason;
    /// assert_eq!(FinishReason::ContentFilter.as_str(), "content_filter");
    /// ```
    pub fn as_str(&self) -> &str {
        match self {
            FinishReason::Stop => "stop",
            FinishReason::Length => "length",
            FinishReason::ContentFilter => "content_filter",
            FinishReason::ToolCalls => "tool_calls",
            FinishReason::Other(s) => s,
        }
    }
}

impl std::fmt::Display for FinishReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The provider whose content filter produced a result.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ContentFilterSpec {
    /// OpenAI's filter.
    Openai,
    /// Google Gemini's filter.
    Gemini,
    /// A provider this version does not know.
    #[serde(untagged)]
    Other(String),
}

/// Content-filter results, in the shape the named provider defines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ContentFilterResults {
    /// Which provider's format `results` follows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<ContentFilterSpec>,
    /// The provider's results, as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub results: Option<Value>,
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
/// [`ChatStream::into_response`](crate::ChatStream::into_response).
///
/// Only what the API and the reference client both require is required; the
/// rest decodes to `None` or empty when absent.
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

impl Default for Message {
    fn default() -> Self {
        Self::new("assistant", "")
    }
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
}

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ChunkKind {
    MessageStart,
    ContentChunk,
    Citation,
    MessageEnd,
    #[serde(other)]
    Unknown,
}

/// `delta` of a content chunk.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Delta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
}

/// Every field any chat chunk has, in one flat record. Decoding into this and then
/// moving into [`ChatStreamChunk`] is much faster than serde's internally tagged
/// enums, which buffer each object first; it also serialises chunks back.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct FlatChunk {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<ChunkKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_snippet_count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta: Option<Delta>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub citation: Option<Box<Citation>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<FinishReason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_filter_results: Option<Box<ContentFilterResults>>,
}

impl FlatChunk {
    /// The typed chunk, or `None` when a field the reference client requires for
    /// this kind is missing. `Unknown` kinds are handled by the caller (it needs
    /// the raw JSON).
    pub(crate) fn into_chunk(self) -> Option<ChatStreamChunk> {
        let FlatChunk {
            kind,
            id,
            model,
            role,
            context_snippet_count,
            delta,
            citation,
            finish_reason,
            usage,
            content_filter_results,
        } = self;
        Some(match kind? {
            ChunkKind::MessageStart => ChatStreamChunk::MessageStart(MessageStart {
                id,
                model: model?,
                role: role?,
                context_snippet_count,
                content_filter_results,
            }),
            ChunkKind::ContentChunk => ChatStreamChunk::ContentDelta(ContentDelta {
                id: id?,
                model,
                content: delta?.content?,
                content_filter_results,
            }),
            ChunkKind::Citation => ChatStreamChunk::Citation(CitationChunk {
                id: id?,
                model,
                citation: *citation?,
            }),
            ChunkKind::MessageEnd => ChatStreamChunk::MessageEnd(MessageEnd {
                id: id?,
                model,
                finish_reason,
                usage,
                content_filter_results,
            }),
            ChunkKind::Unknown => return None,
        })
    }
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
    fn f1_body_byte_for_byte() {
        let request = ChatRequest::new([Message::user(
            "How long do customers on annual plans have to request a refund?",
        )])
        .temperature(0.2)
        .filter(serde_json::json!({"department": {"$eq": "billing"}}))
        .include_highlights(true)
        .context_options(ContextOptions::new().top_k(8).snippet_size(512));
        let body = serde_json::to_string(&request.body(false)).unwrap();
        assert_eq!(
            body,
            r#"{"messages":[{"role":"user","content":"How long do customers on annual plans have to request a refund?"}],"model":"gpt-4o","stream":false,"temperature":0.2,"filter":{"department":{"$eq":"billing"}},"include_highlights":true,"context_options":{"top_k":8,"snippet_size":512}}"#
        );
    }

    #[test]
    fn optional_keys_are_omitted_and_stream_sends_highlights() {
        let request = ChatRequest::new([Message::user("hi")]);
        assert_eq!(
            serde_json::to_string(&request.body(false)).unwrap(),
            r#"{"messages":[{"role":"user","content":"hi"}],"model":"gpt-4o","stream":false}"#
        );
        assert_eq!(
            serde_json::to_string(&request.body(true)).unwrap(),
            r#"{"messages":[{"role":"user","content":"hi"}],"model":"gpt-4o","stream":true,"include_highlights":false}"#
        );
        let json = ChatRequest::new([]).json_response(true);
        assert_eq!(
            serde_json::to_string(&json.body(false)).unwrap(),
            r#"{"messages":[],"model":"gpt-4o","stream":false,"json_response":true}"#
        );
        let empty = ChatRequest::new([]).context_options(ContextOptions::new());
        assert!(
            serde_json::to_string(&empty.body(false))
                .unwrap()
                .ends_with(r#""context_options":{}}"#)
        );
    }

    #[test]
    fn request_reads_wire_json_with_defaults() {
        let r: ChatRequest =
            serde_json::from_str(r#"{"messages":[{"content":"hi"}],"temperature":0.5}"#).unwrap();
        assert_eq!(r.model, "gpt-4o");
        assert_eq!(r.messages[0], Message::user("hi"));
        assert_eq!(r.temperature, Some(0.5));
    }

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
