//! Chat: messages, the chat request, its answer and the chunks of a chat stream.

use std::time::Duration;

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
// A misspelt option must fail loudly: a dropped `filter` would widen retrieval.
#[serde(deny_unknown_fields)]
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
// A misspelt option must fail loudly: a dropped `filter` would widen retrieval.
#[serde(deny_unknown_fields)]
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
    /// The longest silence allowed while waiting for the answer (or between
    /// bytes of a stream); `None` for max(config timeout, chat_read_timeout).
    /// Never sent.
    #[serde(skip)]
    pub timeout: Option<Duration>,
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
            timeout: None,
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

    /// The read timeout of this call: the longest silence allowed while waiting
    /// for the answer, or between the bytes of a stream. Used as given, even
    /// below 300 s. Defaults to max(config timeout, chat_read_timeout).
    ///
    /// ```
    /// use std::time::Duration;
    /// use pinecone_assistant::models::{ChatRequest, Message};
    /// let r = ChatRequest::new([Message::user("Hi")]).timeout(Duration::from_secs(60));
    /// assert_eq!(r.timeout, Some(Duration::from_secs(60)));
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
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
///
/// Reading this object never fails the answer that carries it: the reference
/// client keeps it untyped, so anything that does not fit (a `spec` that is not
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
            Some(Value::String(s)) => Some(spec_from_str(s)),
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

fn spec_from_str(s: &str) -> ContentFilterSpec {
    match s {
        "openai" => ContentFilterSpec::Openai,
        "gemini" => ContentFilterSpec::Gemini,
        other => ContentFilterSpec::Other(other.to_owned()),
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

    /// Decodes an event of this kind from its JSON text, reading only the keys
    /// this kind has: a key of another kind, whatever its value, is ignored.
    /// `Ok(None)` when a key the reference client requires is missing.
    ///
    /// # Errors
    ///
    /// One of this kind's keys has the wrong type, or the JSON is broken.
    pub(crate) fn decode(self, data: &[u8]) -> serde_json::Result<Option<ChatStreamChunk>> {
        fn read<W: WireChunk>(data: &[u8]) -> serde_json::Result<Option<ChatStreamChunk>> {
            serde_json::from_slice::<W>(data).map(W::into_chunk)
        }
        match self {
            ChunkKind::MessageStart => read::<StartWire>(data),
            ChunkKind::ContentChunk => read::<ContentWire>(data),
            ChunkKind::Citation => read::<CitationWire>(data),
            ChunkKind::MessageEnd => read::<EndWire>(data),
        }
    }

    /// As [`decode`](Self::decode), from JSON already parsed.
    pub(crate) fn decode_value(self, raw: &Value) -> serde_json::Result<Option<ChatStreamChunk>> {
        fn read<W: WireChunk>(raw: &Value) -> serde_json::Result<Option<ChatStreamChunk>> {
            W::deserialize(raw).map(W::into_chunk)
        }
        match self {
            ChunkKind::MessageStart => read::<StartWire>(raw),
            ChunkKind::ContentChunk => read::<ContentWire>(raw),
            ChunkKind::Citation => read::<CitationWire>(raw),
            ChunkKind::MessageEnd => read::<EndWire>(raw),
        }
    }
}

/// The wire record of one chunk kind: exactly the keys PROTOCOL §7.2 lists for
/// it, each optional here so that a missing one skips the chunk (`None`) rather
/// than failing the parse.
trait WireChunk: for<'de> Deserialize<'de> {
    fn into_chunk(self) -> Option<ChatStreamChunk>;
}

#[derive(Deserialize)]
struct StartWire {
    id: Option<String>,
    model: Option<String>,
    role: Option<String>,
    context_snippet_count: Option<u64>,
    content_filter_results: Option<Box<ContentFilterResults>>,
}

impl WireChunk for StartWire {
    fn into_chunk(self) -> Option<ChatStreamChunk> {
        Some(ChatStreamChunk::MessageStart(MessageStart {
            id: self.id,
            model: self.model?,
            role: self.role?,
            context_snippet_count: self.context_snippet_count,
            content_filter_results: self.content_filter_results,
        }))
    }
}

#[derive(Deserialize)]
struct ContentWire {
    id: Option<String>,
    model: Option<String>,
    delta: Option<Delta>,
    content_filter_results: Option<Box<ContentFilterResults>>,
}

impl WireChunk for ContentWire {
    fn into_chunk(self) -> Option<ChatStreamChunk> {
        Some(ChatStreamChunk::ContentDelta(ContentDelta {
            id: self.id?,
            model: self.model,
            content: self.delta?.content?,
            content_filter_results: self.content_filter_results,
        }))
    }
}

#[derive(Deserialize)]
struct CitationWire {
    id: Option<String>,
    model: Option<String>,
    citation: Option<Box<Citation>>,
}

impl WireChunk for CitationWire {
    fn into_chunk(self) -> Option<ChatStreamChunk> {
        Some(ChatStreamChunk::Citation(CitationChunk {
            id: self.id?,
            model: self.model,
            citation: *self.citation?,
        }))
    }
}

#[derive(Deserialize)]
struct EndWire {
    id: Option<String>,
    model: Option<String>,
    finish_reason: Option<FinishReason>,
    usage: Option<Usage>,
    content_filter_results: Option<Box<ContentFilterResults>>,
}

impl WireChunk for EndWire {
    fn into_chunk(self) -> Option<ChatStreamChunk> {
        Some(ChatStreamChunk::MessageEnd(MessageEnd {
            id: self.id?,
            model: self.model,
            finish_reason: self.finish_reason,
            usage: self.usage,
            content_filter_results: self.content_filter_results,
        }))
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
