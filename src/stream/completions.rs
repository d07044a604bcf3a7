//! The chat-completions stream: each event is one OpenAI-style chunk.

use super::{Decoder, Payload, Summary, sealed};
use crate::error::Result;
use crate::models::{ChatCompletionChunk, ChatCompletionResponse};

/// Decodes chat-completions events into [`ChatCompletionChunk`]s; the decoder of
/// [`ChatCompletionStream`](crate::ChatCompletionStream).
#[derive(Debug, Default)]
pub struct CompletionDecoder;

impl sealed::Sealed for CompletionDecoder {}

impl Decoder for CompletionDecoder {
    type Chunk = ChatCompletionChunk;
    type Response = ChatCompletionResponse;
    const WHAT: &'static str = "chat completion stream event";
    const FINAL: &'static str = "a choice with a finish_reason";

    fn read(data: Payload<'_>) -> serde_json::Result<Option<ChatCompletionChunk>> {
        data.parse().map(Some)
    }

    fn is_final(chunk: &ChatCompletionChunk) -> bool {
        chunk.is_finish()
    }

    fn fold(
        chunks: impl Iterator<Item = Result<ChatCompletionChunk>>,
    ) -> Result<ChatCompletionResponse> {
        ChatCompletionResponse::from_chunks(chunks)
    }

    fn note(chunk: &ChatCompletionChunk, summary: &mut Summary) {
        summary.usage(chunk.usage);
        for choice in &chunk.choices {
            summary.finish_reason(choice.finish_reason.as_ref().map(|r| r.as_str()));
        }
    }
}
