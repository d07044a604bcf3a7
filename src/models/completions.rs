//! Chat completions: the OpenAI-shaped chat endpoint, plain and streamed.

use serde::{Deserialize, Serialize};

use super::chat::{ConversationBody, conversation_request};
use super::{FinishReason, Usage};

conversation_request! {
    /// A request for [`Assistant::chat_completions`](crate::Assistant::chat_completions)
    /// and [`Assistant::chat_completions_stream`](crate::Assistant::chat_completions_stream).
    /// Citations arrive inline in the text (e.g. `[1, pp. 4]`).
    ///
    /// There is no `stream` option: the method chosen decides it. Serialising gives the
    /// request's wire fields without `stream`.
    ///
    /// ```
    /// use pinecone_assistant::models::{ChatCompletionRequest, Message};
    /// let request = ChatCompletionRequest::new([Message::user("How long is the refund window?")])
    ///     .model("gpt-4.1")
    ///     .temperature(0.0);
    /// # let _ = request;
    /// ```
    pub struct ChatCompletionRequest {}
}

impl ChatCompletionRequest {
    /// The wire body, keys in the documented order.
    pub(crate) fn body(&self, stream: bool) -> ConversationBody<'_> {
        self.conversation_body(stream)
    }
}

/// The message of a completion choice, or the new part of a streamed choice
/// (its `delta`); both fields may be absent or `null`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CompletionMessage {
    /// The role (`assistant`); in a stream, on the first chunk only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// The answer text; in a stream, the text to append (absent, `null` and `""`
    /// all occur).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
}

/// The new part of a streamed choice: the same shape as a choice's message.
pub type CompletionDelta = CompletionMessage;

/// One answer of a chat completion.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CompletionChoice {
    /// Its position among the choices.
    #[serde(default)]
    pub index: u32,
    /// The answer.
    #[serde(default)]
    pub message: CompletionMessage,
    /// Why the model stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<FinishReason>,
}

/// The answer of [`Assistant::chat_completions`](crate::Assistant::chat_completions),
/// also built by [`ChatCompletionStream::into_response`](crate::ChatCompletionStream::into_response)
/// or [`ChatCompletionResponse::from_chunks`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ChatCompletionResponse {
    /// The answer's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The model that answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The answers (normally one).
    #[serde(default)]
    pub choices: Vec<CompletionChoice>,
    /// Token counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
}

impl ChatCompletionResponse {
    /// The text of the first choice, or `""`.
    ///
    /// ```
    /// # let reply = pinecone_assistant::models::ChatCompletionResponse::default();
    /// println!("{}", reply.content());
    /// ```
    pub fn content(&self) -> &str {
        self.choices
            .first()
            .and_then(|c| c.message.content.as_deref())
            .unwrap_or("")
    }

    /// Folds the chunks of a streamed completion into the response a
    /// non-streaming call would have returned: id, model, each choice's text,
    /// role and finish reason, and usage.
    ///
    /// ```
    /// use pinecone_assistant::ChatCompletionStream;
    /// use pinecone_assistant::models::ChatCompletionResponse;
    /// let body = "data: {\"id\":\"1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":\"stop\"}]}\n\n";
    /// let reply = ChatCompletionResponse::from_chunks(ChatCompletionStream::from_reader(body.as_bytes()))?;
    /// assert_eq!(reply.content(), "Hi");
    /// # Ok::<(), pinecone_assistant::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// The first error among the chunks.
    pub fn from_chunks(
        chunks: impl IntoIterator<Item = crate::Result<ChatCompletionChunk>>,
    ) -> crate::Result<Self> {
        let mut reply = ChatCompletionResponse::default();
        for chunk in chunks {
            let chunk = chunk?;
            if reply.id.is_none() {
                reply.id = Some(chunk.id);
            }
            if chunk.model.is_some() {
                reply.model = chunk.model;
            }
            if chunk.usage.is_some() {
                reply.usage = chunk.usage;
            }
            for part in chunk.choices {
                let choice = match reply.choices.iter().position(|c| c.index == part.index) {
                    Some(i) => &mut reply.choices[i],
                    None => {
                        reply.choices.push(CompletionChoice {
                            index: part.index,
                            ..CompletionChoice::default()
                        });
                        let last = reply.choices.len() - 1;
                        &mut reply.choices[last]
                    }
                };
                if let Some(role) = part.delta.role {
                    choice.message.role = Some(role);
                }
                if let Some(text) = part.delta.content {
                    choice
                        .message
                        .content
                        .get_or_insert_with(String::new)
                        .push_str(&text);
                }
                if part.finish_reason.is_some() {
                    choice.finish_reason = part.finish_reason;
                }
            }
        }
        reply.choices.sort_by_key(|c| c.index);
        Ok(reply)
    }
}

/// One choice of a stream chunk.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CompletionChunkChoice {
    /// Which choice this continues.
    #[serde(default)]
    pub index: u32,
    /// The new part.
    #[serde(default)]
    pub delta: CompletionDelta,
    /// Set on the choice's last chunk.
    #[serde(default)]
    pub finish_reason: Option<FinishReason>,
}

/// One chunk of a chat-completions stream (`chat.completion.chunk`).
///
/// `id` and `choices` are required: a chunk without them is skipped, as the
/// official SDK does (docs/wire/streaming.md). The last chunk usually has no choices and carries
/// `usage`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ChatCompletionChunk {
    /// The answer's id.
    pub id: String,
    /// `chat.completion.chunk`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// Creation time, Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<i64>,
    /// The model that answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The provider's build fingerprint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_fingerprint: Option<String>,
    /// The new parts, per choice (may be empty).
    pub choices: Vec<CompletionChunkChoice>,
    /// Token counts, on the final chunk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
}

impl ChatCompletionChunk {
    /// The text this chunk adds to the first choice, when non-empty.
    ///
    /// ```
    /// # use pinecone_assistant::models::ChatCompletionChunk;
    /// # fn show(chunk: &ChatCompletionChunk) {
    /// if let Some(text) = chunk.text() {
    ///     print!("{text}");
    /// }
    /// # }
    /// ```
    pub fn text(&self) -> Option<&str> {
        self.choices
            .first()
            .and_then(|c| c.delta.content.as_deref())
            .filter(|t| !t.is_empty())
    }

    /// Whether a choice finished in this chunk.
    ///
    /// ```
    /// # use pinecone_assistant::models::ChatCompletionChunk;
    /// # fn show(chunk: &ChatCompletionChunk) {
    /// if chunk.is_finish() {
    ///     println!("done: {:?}", chunk.choices[0].finish_reason);
    /// }
    /// # }
    /// ```
    pub fn is_finish(&self) -> bool {
        self.choices.iter().any(|c| c.finish_reason.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::Message;

    #[test]
    fn completion_bodies_match_the_wire() {
        let r = ChatCompletionRequest::new([Message::user("How long is the refund window?")]);
        assert_eq!(
            serde_json::to_string(&r.body(true)).unwrap(),
            r#"{"messages":[{"role":"user","content":"How long is the refund window?"}],"model":"gpt-4o","stream":true}"#
        );
        let r = r
            .model("gpt-4.1")
            .temperature(0.5)
            .filter(serde_json::json!({"a": 1}));
        assert_eq!(
            serde_json::to_string(&r.body(false)).unwrap(),
            r#"{"messages":[{"role":"user","content":"How long is the refund window?"}],"model":"gpt-4.1","stream":false,"temperature":0.5,"filter":{"a":1}}"#
        );
    }

    #[test]
    fn null_content_decodes() {
        let r: ChatCompletionResponse = serde_json::from_str(
            r#"{"id":"c","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":null},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":0,"total_tokens":1}}"#,
        )
        .unwrap();
        assert_eq!(r.content(), "");
        assert_eq!(r.choices[0].finish_reason, Some(FinishReason::Stop));
    }
}
