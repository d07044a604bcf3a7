//! The native chat stream: how each event becomes a [`ChatStreamChunk`].
//!
//! An event is dispatched on its `type` first, then only the keys of that kind are
//! read (each chunk type is its own wire record), so a key that belongs to another
//! kind (with whatever value) never costs a chunk. The `type` is read straight
//! from the bytes when it is the object's first key, as the service sends it;
//! otherwise the event is parsed once into a value. The keys each kind needs, and
//! which of them are required, are described in `docs/wire/streaming.md`.

use serde::Deserialize;
use serde_json::Value;

use super::{Decoder, Payload, Summary, sealed};
use crate::error::Result;
use crate::models::{ChatResponse, ChatStreamChunk, FinishReason};

/// Decodes native chat events into [`ChatStreamChunk`]s; the decoder of
/// [`ChatStream`](crate::ChatStream).
#[derive(Debug, Default)]
pub struct ChatDecoder;

impl sealed::Sealed for ChatDecoder {}

impl Decoder for ChatDecoder {
    type Chunk = ChatStreamChunk;
    type Response = ChatResponse;
    const WHAT: &'static str = "chat stream event";
    const FINAL: &'static str = "message_end";

    fn read(data: Payload<'_>) -> serde_json::Result<Option<ChatStreamChunk>> {
        match data {
            Payload::Text(text) => {
                read_event(text.as_bytes(), || serde_json::Deserializer::from_str(text))
            }
            Payload::Bytes(bytes) => {
                read_event(bytes, || serde_json::Deserializer::from_slice(bytes))
            }
        }
    }

    fn is_final(chunk: &ChatStreamChunk) -> bool {
        matches!(chunk, ChatStreamChunk::MessageEnd(_))
    }

    fn fold(chunks: impl Iterator<Item = Result<ChatStreamChunk>>) -> Result<ChatResponse> {
        ChatResponse::from_chunks(chunks)
    }

    fn note(chunk: &ChatStreamChunk, summary: &mut Summary) {
        if let ChatStreamChunk::MessageEnd(end) = chunk {
            summary.usage(end.usage);
            summary.finish_reason(end.finish_reason.as_ref().map(FinishReason::as_str));
        }
    }
}

/// Reads one event from the parsers `parser` makes (a new one for each pass):
/// dispatched on its leading `type` when it has one, else parsed whole first.
fn read_event<'de, R: serde_json::de::Read<'de>>(
    data: &[u8],
    parser: impl Fn() -> serde_json::Deserializer<R>,
) -> serde_json::Result<Option<ChatStreamChunk>> {
    let Some(tag) = leading_type(data) else {
        return Ok(by_parsed_type(whole(parser())?));
    };
    let mut event = parser();
    match ChatStreamChunk::read_known(tag, &mut event) {
        Some(chunk) => {
            let chunk = chunk?;
            event.end()?;
            Ok(Some(chunk))
        }
        None => Ok(Some(unknown(tag, whole(parser())?))),
    }
}

/// The whole event as one JSON value, nothing after it.
fn whole<'de, R: serde_json::de::Read<'de>>(
    mut parser: serde_json::Deserializer<R>,
) -> serde_json::Result<Value> {
    let value = Value::deserialize(&mut parser)?;
    parser.end()?;
    Ok(value)
}

/// The `type` of an event when it is the object's first key and a plain string,
/// as the service sends it: read from the bytes, so that dispatching costs no
/// second parse. `None` sends the event the slow way ([`by_parsed_type`]).
fn leading_type(data: &[u8]) -> Option<&str> {
    let rest = data
        .trim_ascii_start()
        .strip_prefix(b"{")?
        .trim_ascii_start();
    let rest = rest.strip_prefix(b"\"type\"")?.trim_ascii_start();
    let rest = rest.strip_prefix(b":")?.trim_ascii_start();
    let rest = rest.strip_prefix(b"\"")?;
    // An escape or a control character needs the real parser.
    let end = rest
        .iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
    if rest[end] != b'"' {
        return None;
    }
    std::str::from_utf8(&rest[..end]).ok()
}

/// An event whose `type` is not its first key: dispatched on the parsed JSON.
/// `None` (skipped) without a string `type` or when the event is malformed.
fn by_parsed_type(raw: Value) -> Option<ChatStreamChunk> {
    let tag = raw.get("type").and_then(Value::as_str)?.to_owned();
    match ChatStreamChunk::read_known(&tag, &raw) {
        Some(chunk) => chunk.ok(),
        None => Some(unknown(&tag, raw)),
    }
}

/// An event of a type this version does not know, kept whole.
fn unknown(tag: &str, raw: Value) -> ChatStreamChunk {
    ChatStreamChunk::Unknown {
        kind: tag.to_owned(),
        raw,
    }
}
