//! The chat request and its messages, and what chat and chat completions share.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::models::setters;

/// The model a chat uses unless told otherwise.
pub const DEFAULT_CHAT_MODEL: &str = "gpt-4o";

pub(crate) fn default_model() -> String {
    DEFAULT_CHAT_MODEL.to_owned()
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// Defines a conversation request: chat and chat completions share their first
/// fields (`messages`, `model`, `temperature`, `filter`), the per-call `timeout`,
/// `new`, the setters of those, and `conversation_body`, the part of the wire
/// body they have in common. The fields given in the invocation come after the
/// shared ones and start at their `Default`. Doc examples name the request type.
macro_rules! conversation_request {
    (
        $(#[$meta:meta])*
        pub struct $request:ident {
            $( $(#[$fmeta:meta])* pub $field:ident: $fty:ty, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
        #[must_use]
        #[non_exhaustive]
        // A misspelt option must fail loudly: a dropped `filter` would widen retrieval.
        #[serde(deny_unknown_fields)]
        pub struct $request {
            /// The conversation so far, the question last.
            pub messages: Vec<$crate::models::Message>,
            /// The model that answers.
            #[serde(default = "crate::models::default_model")]
            pub model: String,
            /// Sampling temperature.
            #[serde(skip_serializing_if = "Option::is_none")]
            pub temperature: Option<f64>,
            /// A metadata filter on the files used for retrieval.
            #[serde(skip_serializing_if = "Option::is_none")]
            pub filter: Option<serde_json::Value>,
            $( $(#[$fmeta])* pub $field: $fty, )*
            /// The longest silence allowed while waiting for the answer (or between
            /// bytes of a stream); `None` for max(config timeout, chat_read_timeout).
            /// Never sent.
            #[serde(skip)]
            pub timeout: Option<std::time::Duration>,
            /// The longest the whole call may take; `None` for the default (the
            /// client's `total_timeout` for a plain call, no bound for a stream).
            /// Never sent.
            #[serde(skip)]
            pub total_timeout: Option<std::time::Duration>,
        }

        impl $request {
            /// A request with these messages and every option at its default.
            ///
            /// ```
            #[doc = concat!("use pinecone_assistant::models::{", stringify!($request), ", Message};")]
            #[doc = concat!("let r = ", stringify!($request), "::new([Message::user(\"Hi\")]);")]
            /// assert_eq!(r.model, "gpt-4o");
            /// ```
            pub fn new(messages: impl IntoIterator<Item = $crate::models::Message>) -> Self {
                Self {
                    messages: messages.into_iter().collect(),
                    model: $crate::models::default_model(),
                    temperature: None,
                    filter: None,
                    $( $field: Default::default(), )*
                    timeout: None,
                    total_timeout: None,
                }
            }

            $crate::models::setters! {
                /// The model that answers; not checked, so new model names work.
                /// Defaults to `gpt-4o`.
                ///
                /// ```
                #[doc = concat!("use pinecone_assistant::models::{", stringify!($request), ", Message};")]
                #[doc = concat!("let r = ", stringify!($request), "::new([Message::user(\"Hi\")]).model(\"claude-sonnet-4-5\");")]
                /// assert_eq!(r.model, "claude-sonnet-4-5");
                /// ```
                model(model: impl Into<String>) => model = model.into();
                /// Sampling temperature. Defaults to the server's (0.0).
                ///
                /// ```
                #[doc = concat!("use pinecone_assistant::models::{", stringify!($request), ", Message};")]
                #[doc = concat!("let r = ", stringify!($request), "::new([Message::user(\"Hi\")]).temperature(0.2);")]
                /// assert_eq!(r.temperature, Some(0.2));
                /// ```
                temperature(t: f64) => temperature = Some(t);
                /// A metadata filter on the files used for retrieval, e.g.
                /// `{"team": {"$eq": "billing"}}`. Defaults to no filter.
                ///
                /// ```
                #[doc = concat!("use pinecone_assistant::models::{", stringify!($request), ", Message};")]
                #[doc = concat!("let r = ", stringify!($request), "::new([Message::user(\"Hi\")])")]
                ///     .filter(serde_json::json!({"team": {"$eq": "billing"}}));
                /// assert!(r.filter.is_some());
                /// ```
                filter(filter: serde_json::Value) => filter = Some(filter);
                /// The read timeout of this call: the longest silence allowed while
                /// waiting for the answer, or between the bytes of a stream. Used as
                /// given, even below 300 s. Defaults to max(config timeout,
                /// chat_read_timeout).
                ///
                /// ```
                /// use std::time::Duration;
                #[doc = concat!("use pinecone_assistant::models::{", stringify!($request), ", Message};")]
                #[doc = concat!("let r = ", stringify!($request), "::new([Message::user(\"Hi\")]).timeout(Duration::from_secs(60));")]
                /// assert_eq!(r.timeout, Some(Duration::from_secs(60)));
                /// ```
                timeout(timeout: std::time::Duration) => timeout = Some(timeout);
                /// The longest this call may take as a whole, from sending the
                /// request to the end of the answer (the end of the stream when
                /// streamed); `Duration::MAX` for no bound. Defaults to the client's
                /// [`total_timeout`](crate::ClientConfigBuilder::total_timeout) for a
                /// plain call and to no bound for a stream (whose idle timeout still
                /// applies). A call that passes it fails with
                /// [`Error::Timeout`](crate::Error::Timeout) before the answer's
                /// headers and with [`Error::Stream`](crate::Error::Stream) after
                /// them, saying which bound passed.
                ///
                /// ```
                /// use std::time::Duration;
                #[doc = concat!("use pinecone_assistant::models::{", stringify!($request), ", Message};")]
                #[doc = concat!("let r = ", stringify!($request), "::new([Message::user(\"Hi\")]).total_timeout(Duration::from_secs(90));")]
                /// assert_eq!(r.total_timeout, Some(Duration::from_secs(90)));
                /// ```
                total_timeout(bound: std::time::Duration) => total_timeout = Some(bound);
            }

            /// The wire body's keys both kinds of request have, in the documented
            /// order.
            pub(crate) fn conversation_body(&self, stream: bool) -> $crate::models::ConversationBody<'_> {
                $crate::models::ConversationBody {
                    messages: &self.messages,
                    model: &self.model,
                    stream,
                    temperature: self.temperature,
                    filter: self.filter.as_ref(),
                }
            }
        }
    };
}

pub(crate) use conversation_request;

/// The start of every conversation request's body as sent: the keys chat and
/// chat completions share, in the documented order.
#[derive(Serialize)]
pub(crate) struct ConversationBody<'a> {
    pub(crate) messages: &'a [Message],
    pub(crate) model: &'a str,
    pub(crate) stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) filter: Option<&'a Value>,
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

/// An empty answer: role `assistant`, no text (what an answer without a message
/// reads as).
impl Default for Message {
    fn default() -> Self {
        Self::new("assistant", "")
    }
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

/// Defines a type that ends with the retrieval settings: the fields `top_k`,
/// `snippet_size`, `multimodal` and `include_binary_content` (optional, left out
/// of the JSON when unset), after the type's own fields, and their setters. Both
/// [`ContextOptions`] (nothing else) and a context request (the query first) are
/// such types; each stays one flat struct, so an unknown key is refused with the
/// list of accepted ones. The setters' doc examples start from `$start`, a
/// constructor in `pinecone_assistant::models`, and show the key each sends.
macro_rules! with_retrieval_settings {
    (
        examples from $start:literal;
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* pub $field:ident: $fty:ty, )*
        }
    ) => {
        $(#[$meta])*
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $fty, )*
            /// How many snippets to retrieve.
            #[serde(skip_serializing_if = "Option::is_none")]
            pub top_k: Option<u32>,
            /// The size of each snippet, in tokens.
            #[serde(skip_serializing_if = "Option::is_none")]
            pub snippet_size: Option<u32>,
            /// Whether image content of multimodal files is retrieved.
            #[serde(skip_serializing_if = "Option::is_none")]
            pub multimodal: Option<bool>,
            /// Whether retrieved images carry their bytes (with `multimodal`).
            #[serde(skip_serializing_if = "Option::is_none")]
            pub include_binary_content: Option<bool>,
        }

        impl $name {
            $crate::models::setters! {
                /// How many snippets to retrieve. Defaults to the server's (16, at
                /// most 64).
                ///
                /// ```
                #[doc = concat!("let r = pinecone_assistant::models::", $start, ".top_k(8);")]
                /// assert_eq!(serde_json::to_value(&r).unwrap()["top_k"], 8);
                /// ```
                top_k(n: u32) => top_k = Some(n);
                /// Snippet size in tokens. Defaults to the server's (2048; 512–8192).
                ///
                /// ```
                #[doc = concat!("let r = pinecone_assistant::models::", $start, ".snippet_size(512);")]
                /// assert_eq!(serde_json::to_value(&r).unwrap()["snippet_size"], 512);
                /// ```
                snippet_size(tokens: u32) => snippet_size = Some(tokens);
                /// Whether image content of multimodal files is retrieved. Defaults
                /// to the server's (`true`).
                ///
                /// ```
                #[doc = concat!("let r = pinecone_assistant::models::", $start, ".multimodal(false);")]
                /// assert_eq!(serde_json::to_value(&r).unwrap()["multimodal"], false);
                /// ```
                multimodal(on: bool) => multimodal = Some(on);
                /// Whether retrieved images carry their bytes. Defaults to the
                /// server's (`true`).
                ///
                /// ```
                #[doc = concat!("let r = pinecone_assistant::models::", $start, ".include_binary_content(false);")]
                /// assert_eq!(serde_json::to_value(&r).unwrap()["include_binary_content"], false);
                /// ```
                include_binary_content(on: bool) => include_binary_content = Some(on);
            }
        }
    };
}

pub(crate) use with_retrieval_settings;

with_retrieval_settings! {
    examples from "ContextOptions::new()";
    /// Retrieval settings of a chat (`context_options` on the wire); a
    /// [`ContextRequest`](super::super::ContextRequest) has the same settings beside
    /// its query. Unset fields are not sent, so the server's defaults apply.
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
    pub struct ContextOptions {}
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
}

conversation_request! {
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
    pub struct ChatRequest {
        /// Ask for the answer as a JSON document (not available when streaming).
        #[serde(default, skip_serializing_if = "is_false")]
        pub json_response: bool,
        /// Ask for the cited passage of each reference.
        #[serde(default, skip_serializing_if = "is_false")]
        pub include_highlights: bool,
        /// Retrieval settings.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub context_options: Option<ContextOptions>,
    }
}

impl ChatRequest {
    setters! {
        /// Ask for the answer as a JSON document; a streaming call refuses it.
        /// Defaults to `false`.
        ///
        /// ```
        /// use pinecone_assistant::models::{ChatRequest, Message};
        /// let r = ChatRequest::new([Message::user("List the plans as JSON")]).json_response(true);
        /// assert!(r.json_response);
        /// ```
        json_response(on: bool) => json_response = on;
        /// Ask for the cited passage of each reference. Defaults to `false`.
        ///
        /// ```
        /// use pinecone_assistant::models::{ChatRequest, Message};
        /// let r = ChatRequest::new([Message::user("Hi")]).include_highlights(true);
        /// assert!(r.include_highlights);
        /// ```
        include_highlights(on: bool) => include_highlights = on;
        /// Retrieval settings. Defaults to the server's.
        ///
        /// ```
        /// use pinecone_assistant::models::{ChatRequest, ContextOptions, Message};
        /// let r = ChatRequest::new([Message::user("Hi")]).context_options(ContextOptions::new().top_k(4));
        /// assert_eq!(r.context_options.unwrap().top_k, Some(4));
        /// ```
        context_options(options: ContextOptions) => context_options = Some(options);
    }

    /// The wire body, keys in the documented order.
    pub(crate) fn body(&self, stream: bool) -> ChatBody<'_> {
        ChatBody {
            conversation: self.conversation_body(stream),
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
    #[serde(flatten)]
    conversation: ConversationBody<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    json_response: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    include_highlights: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    context_options: Option<&'a ContextOptions>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_body_byte_for_byte() {
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
}
