//! The native chat stream: how each event becomes a [`ChatStreamChunk`].
//!
//! An event is dispatched on its `type` first, then only the keys of that kind are
//! read, so a key that belongs to another kind (with whatever value) never costs a
//! chunk. The `type` is read straight from the bytes when it is the object's first
//! key, as the service sends it; otherwise the event is parsed once into a value.
//! The keys each kind needs, and which of them are required, are described in
//! `docs/wire/streaming.md`.

use serde::Deserialize;
use serde_json::Value;

use super::{Decoded, Decoder, Summary, is_data_error, prelude, sealed, validate};
use crate::error::{Error, Result};
use crate::models::{
    ChatResponse, ChatStreamChunk, ChunkKind, Citation, CitationChunk, ContentDelta,
    ContentFilterResults, Delta, FinishReason, MessageEnd, MessageStart, Usage,
};

/// Decodes native chat events into [`ChatStreamChunk`]s; the decoder of
/// [`ChatStream`](crate::ChatStream).
#[derive(Debug, Default)]
pub struct ChatDecoder {
    ended: bool,
}

impl sealed::Sealed for ChatDecoder {}

impl Decoder for ChatDecoder {
    type Chunk = ChatStreamChunk;
    type Response = ChatResponse;
    const WHAT: &'static str = "chat stream event";
    const FINAL: &'static str = "message_end";

    fn decode(&mut self, data: &[u8]) -> Result<Decoded<ChatStreamChunk>> {
        if let Some(early) = prelude(data, Self::WHAT) {
            return early;
        }
        // Dispatch on `type` first, then read only the keys of that kind: a key
        // another kind uses, with whatever value, must not cost this chunk.
        let chunk = match leading_type(data) {
            Some(tag) => match ChunkKind::from_tag(tag) {
                Some(kind) => match decode_kind(kind, data) {
                    Ok(chunk) => chunk,
                    // One of this kind's keys has the wrong type: skipped, once
                    // the whole payload is known to be JSON.
                    Err(e) if is_data_error(&e) => {
                        validate(data, Self::WHAT)?;
                        None
                    }
                    Err(e) => return Err(Error::decode(Self::WHAT, e, data)),
                },
                None => Some(unknown(tag, parse_raw(data)?)),
            },
            None => by_parsed_type(parse_raw(data)?),
        };
        Ok(match chunk {
            Some(chunk) => {
                if matches!(chunk, ChatStreamChunk::MessageEnd(_)) {
                    self.ended = true;
                }
                Decoded::Item(chunk)
            }
            None => {
                log::debug!(
                    "skipped a chat stream event: {}",
                    String::from_utf8_lossy(data)
                );
                Decoded::Skip
            }
        })
    }

    fn complete(&self) -> bool {
        self.ended
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

fn parse_raw(data: &[u8]) -> Result<Value> {
    serde_json::from_slice(data).map_err(|e| Error::decode(ChatDecoder::WHAT, e, data))
}

/// An event whose `type` is not its first key: dispatched on the parsed JSON.
/// `None` (skipped) without a string `type` or when the event is malformed.
fn by_parsed_type(raw: Value) -> Option<ChatStreamChunk> {
    let tag = raw.get("type").and_then(Value::as_str)?.to_owned();
    match ChunkKind::from_tag(&tag) {
        Some(kind) => decode_kind_value(kind, &raw).ok().flatten(),
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

/// Decodes one event of a known kind, from its JSON text or from a parsed value.
/// `Ok(None)` when a key the kind requires is missing.
///
/// # Errors
///
/// One of the kind's own keys has the wrong type, or the JSON is broken.
fn decode_kind(kind: ChunkKind, data: &[u8]) -> serde_json::Result<Option<ChatStreamChunk>> {
    fn read<W: WireChunk>(data: &[u8]) -> serde_json::Result<Option<ChatStreamChunk>> {
        serde_json::from_slice::<W>(data).map(W::into_chunk)
    }
    match kind {
        ChunkKind::MessageStart => read::<StartWire>(data),
        ChunkKind::ContentChunk => read::<ContentWire>(data),
        ChunkKind::Citation => read::<CitationWire>(data),
        ChunkKind::MessageEnd => read::<EndWire>(data),
    }
}

/// As [`decode_kind`], from JSON already parsed.
fn decode_kind_value(kind: ChunkKind, raw: &Value) -> serde_json::Result<Option<ChatStreamChunk>> {
    fn read<W: WireChunk>(raw: &Value) -> serde_json::Result<Option<ChatStreamChunk>> {
        W::deserialize(raw).map(W::into_chunk)
    }
    match kind {
        ChunkKind::MessageStart => read::<StartWire>(raw),
        ChunkKind::ContentChunk => read::<ContentWire>(raw),
        ChunkKind::Citation => read::<CitationWire>(raw),
        ChunkKind::MessageEnd => read::<EndWire>(raw),
    }
}

/// The wire record of one chunk kind: exactly the keys that kind has on the
/// wire, each optional here so that a missing one skips the chunk (`None`) rather
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
