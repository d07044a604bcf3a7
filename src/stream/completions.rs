//! The chat-completions stream: each event is one OpenAI-style chunk.

use super::{Decoded, Decoder, Summary, is_data_error, prelude, sealed, validate};
use crate::error::{Error, Result};
use crate::models::{ChatCompletionChunk, ChatCompletionResponse};

/// Decodes chat-completions events into [`ChatCompletionChunk`]s; the decoder of
/// [`ChatCompletionStream`](crate::ChatCompletionStream).
#[derive(Debug, Default)]
pub struct CompletionDecoder {
    finished: bool,
}

impl sealed::Sealed for CompletionDecoder {}

impl Decoder for CompletionDecoder {
    type Chunk = ChatCompletionChunk;
    type Response = ChatCompletionResponse;
    const WHAT: &'static str = "chat completion stream event";
    const FINAL: &'static str = "a choice with a finish_reason";

    fn decode(&mut self, data: &[u8]) -> Result<Decoded<ChatCompletionChunk>> {
        if let Some(early) = prelude(data, Self::WHAT) {
            return early;
        }
        match serde_json::from_slice::<ChatCompletionChunk>(data) {
            Ok(chunk) => {
                if chunk.is_finish() {
                    self.finished = true;
                }
                Ok(Decoded::Item(chunk))
            }
            Err(e) if is_data_error(&e) => {
                validate(data, Self::WHAT)?;
                log::debug!(
                    "skipped a chat completion chunk ({e}): {}",
                    String::from_utf8_lossy(data)
                );
                Ok(Decoded::Skip)
            }
            Err(e) => Err(Error::decode(Self::WHAT, e, data)),
        }
    }

    fn complete(&self) -> bool {
        self.finished
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
