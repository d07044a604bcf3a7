//! Chat streams: iterators over the chunks of a streamed answer.
//!
//! Each `data:` payload is decoded on its own:
//!
//! | payload | chat stream | chat-completions stream |
//! |---|---|---|
//! | empty or whitespace | skipped | skipped |
//! | `[DONE]` | normal end | normal end |
//! | not valid JSON | [`Error::Decode`], then the stream ends | same |
//! | valid JSON, not an object | skipped | skipped |
//! | object with a known `type` | the chunk, read from the keys of its own type only (other keys are ignored, whatever their value); skipped when one of its required keys is missing or one of its keys has the wrong type | — |
//! | object with an unknown `type` | [`ChatStreamChunk::Unknown`] with the raw JSON | — |
//! | object without a string `type` | skipped | — |
//! | object without `id` or `choices`, or with a wrong type in one of the chunk's own keys (§7.4) | — | skipped; other keys are ignored |
//!
//! The body ending before the final chunk (`message_end`; a choice with a
//! `finish_reason`) gives an [`Error::Stream`] saying the stream was truncated, so a
//! cut connection never looks like a short answer. After an error or the end the
//! iterator is fused.

use std::io::{BufReader, Read};
use std::sync::Arc;

use serde::de::IgnoredAny;
use serde_json::Value;

use crate::cancel::{CancelHandle, HookGuard};
use crate::error::{Error, Result};
use crate::http::RawResponse;
use crate::http::interrupt::Interrupter;
use crate::models::{
    ChatCompletionChunk, ChatCompletionResponse, ChatResponse, ChatStreamChunk, ChunkKind,
    CompletionChoice,
};
use crate::sse::SseReader;

/// What one `data:` payload amounts to.
pub(crate) enum Decoded<T> {
    Item(T),
    Skip,
    Done,
}

/// Turns payloads into chunks and knows whether the final one was seen.
pub(crate) trait Decoder {
    type Item;
    /// What the stream is called in messages.
    const WHAT: &'static str;
    /// What the final chunk is, for the truncation message.
    const FINAL: &'static str;
    fn decode(&mut self, data: &[u8]) -> Result<Decoded<Self::Item>>;
    fn complete(&self) -> bool;
}

/// Classifies a payload before the typed decoding: `None` to go on decoding.
fn prelude<T>(data: &[u8], what: &str) -> Option<Result<Decoded<T>>> {
    let trimmed = data.trim_ascii();
    if trimmed.is_empty() {
        return Some(Ok(Decoded::Skip));
    }
    if trimmed == b"[DONE]" {
        return Some(Ok(Decoded::Done));
    }
    if trimmed[0] != b'{' {
        // Valid JSON that is not an object is skipped; anything else is an error.
        return Some(validate(data, what).map(|()| Decoded::Skip));
    }
    None
}

fn validate(data: &[u8], what: &str) -> Result<()> {
    serde_json::from_slice::<IgnoredAny>(data)
        .map(|_| ())
        .map_err(|e| Error::decode(what, e, data))
}

fn is_data_error(e: &serde_json::Error) -> bool {
    e.classify() == serde_json::error::Category::Data
}

/// Native chat chunks.
#[derive(Default)]
pub(crate) struct ChatDecoder {
    ended: bool,
}

impl Decoder for ChatDecoder {
    type Item = ChatStreamChunk;
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
                Some(kind) => match kind.decode(data) {
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
        Some(kind) => kind.decode_value(&raw).ok().flatten(),
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

/// Chat-completions chunks.
#[derive(Default)]
pub(crate) struct CompletionDecoder {
    finished: bool,
}

impl Decoder for CompletionDecoder {
    type Item = ChatCompletionChunk;
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
}

type Body = BufReader<Box<dyn Read + Send>>;

/// The machinery both stream types share.
struct EventStream<D> {
    /// `None` once the stream ended: the body (and its connection) is dropped then.
    events: Option<SseReader<Body>>,
    decoder: D,
    interrupter: Arc<Interrupter>,
    cancel: CancelHandle,
    /// Unregister the cancel hooks when the stream goes.
    _hooks: Vec<HookGuard>,
}

impl<D: Decoder> EventStream<D> {
    fn new(reader: Box<dyn Read + Send>, interrupter: Arc<Interrupter>, decoder: D) -> Self {
        let cancel = CancelHandle::new();
        let hook = {
            let interrupter = interrupter.clone();
            cancel.on_cancel(move || interrupter.interrupt())
        };
        Self {
            events: Some(SseReader::new(BufReader::with_capacity(32 << 10, reader))),
            decoder,
            interrupter,
            cancel,
            _hooks: vec![hook],
        }
    }

    fn next_item(&mut self) -> Option<Result<D::Item>> {
        let events = self.events.as_mut()?;
        let outcome = loop {
            if self.interrupter.is_interrupted() {
                break Err(Error::Cancelled);
            }
            match events.next_event() {
                Ok(Some(event)) => match self.decoder.decode(event.data) {
                    Ok(Decoded::Item(item)) => return Some(Ok(item)),
                    Ok(Decoded::Skip) => continue,
                    Ok(Decoded::Done) => break Ok(()),
                    Err(e) => break Err(e),
                },
                Ok(None) if self.decoder.complete() => break Ok(()),
                Ok(None) => {
                    break Err(Error::Stream(format!(
                        "the {} was truncated: the body ended before {}",
                        D::WHAT.trim_end_matches(" event"),
                        D::FINAL
                    )));
                }
                Err(e) => break Err(e),
            }
        };
        self.events = None;
        match outcome {
            // Our own shutdown of the socket shows up as a read error or an early
            // end; report it as what it is.
            _ if self.interrupter.is_interrupted() => Some(Err(Error::Cancelled)),
            Ok(()) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

fn boxed_body(resp: RawResponse) -> Box<dyn Read + Send> {
    Box::new(resp.into_body().into_reader())
}

/// A streamed chat answer: an iterator of [`ChatStreamChunk`]s, each yielded as
/// soon as its event arrives. Made by
/// [`Assistant::chat_stream`](crate::Assistant::chat_stream).
///
/// Dropping the stream closes its connection. [`canceller`](Self::canceller) (or
/// the client's cancel handle) stops it from another thread: a blocked `next()`
/// then returns [`Error::Cancelled`] at once.
///
/// ```no_run
/// # let client = pinecone_assistant::Client::new(pinecone_assistant::ClientConfig::builder("k").build())?;
/// use pinecone_assistant::models::{ChatRequest, ChatStreamChunk, Message};
/// let stream = client
///     .assistant("docs")
///     .chat_stream(ChatRequest::new([Message::user("What is the refund window?")]))?;
/// for chunk in stream {
///     match chunk? {
///         ChatStreamChunk::ContentDelta(d) => print!("{}", d.content),
///         ChatStreamChunk::MessageEnd(end) => println!("\n[{:?}]", end.finish_reason),
///         _ => {}
///     }
/// }
/// # Ok::<(), pinecone_assistant::Error>(())
/// ```
pub struct ChatStream {
    inner: EventStream<ChatDecoder>,
}

impl std::fmt::Debug for ChatStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatStream")
            .field("ended", &self.inner.events.is_none())
            .finish_non_exhaustive()
    }
}

impl ChatStream {
    pub(crate) fn from_response(
        resp: RawResponse,
        interrupter: Arc<Interrupter>,
        hook: HookGuard,
    ) -> Self {
        let mut inner = EventStream::new(boxed_body(resp), interrupter, ChatDecoder::default());
        inner._hooks.push(hook);
        Self { inner }
    }

    /// A stream over an SSE body from any reader, e.g. a recorded answer.
    ///
    /// Cancelling such a stream takes effect at its next read, since an arbitrary
    /// reader cannot be woken.
    ///
    /// ```
    /// use pinecone_assistant::ChatStream;
    /// let body = "data: {\"type\":\"content_chunk\",\"id\":\"1\",\"delta\":{\"content\":\"Hi\"}}\n\n\
    ///             data: {\"type\":\"message_end\",\"id\":\"1\"}\n\n";
    /// let text = ChatStream::from_reader(body.as_bytes()).collect_text()?;
    /// assert_eq!(text, "Hi");
    /// # Ok::<(), pinecone_assistant::Error>(())
    /// ```
    pub fn from_reader(reader: impl Read + Send + 'static) -> Self {
        Self {
            inner: EventStream::new(
                Box::new(reader),
                Arc::new(Interrupter::default()),
                ChatDecoder::default(),
            ),
        }
    }

    /// A handle that stops this stream from another thread.
    ///
    /// ```no_run
    /// # let client = pinecone_assistant::Client::new(pinecone_assistant::ClientConfig::builder("k").build())?;
    /// # use pinecone_assistant::models::{ChatRequest, Message};
    /// let mut stream = client.assistant("docs").chat_stream(ChatRequest::new([Message::user("Hi")]))?;
    /// let stop = stream.canceller();
    /// std::thread::spawn(move || {
    ///     std::thread::sleep(std::time::Duration::from_secs(5));
    ///     stop.cancel();
    /// });
    /// for chunk in stream {
    ///     if let Err(pinecone_assistant::Error::Cancelled) = chunk {
    ///         break;
    ///     }
    /// }
    /// # Ok::<(), pinecone_assistant::Error>(())
    /// ```
    pub fn canceller(&self) -> CancelHandle {
        self.inner.cancel.clone()
    }

    /// The answer text piece by piece: the content of every content chunk (empty
    /// pieces included), other chunks skipped, errors passed on.
    ///
    /// ```no_run
    /// # let client = pinecone_assistant::Client::new(pinecone_assistant::ClientConfig::builder("k").build())?;
    /// # use pinecone_assistant::models::{ChatRequest, Message};
    /// let stream = client.assistant("docs").chat_stream(ChatRequest::new([Message::user("Hi")]))?;
    /// for piece in stream.text() {
    ///     print!("{}", piece?);
    /// }
    /// # Ok::<(), pinecone_assistant::Error>(())
    /// ```
    pub fn text(self) -> impl Iterator<Item = Result<String>> + Send {
        self.filter_map(|chunk| match chunk {
            Ok(ChatStreamChunk::ContentDelta(d)) => Some(Ok(d.content)),
            Ok(_) => None,
            Err(e) => Some(Err(e)),
        })
    }

    /// Reads the whole stream and returns the answer text.
    ///
    /// ```no_run
    /// # let client = pinecone_assistant::Client::new(pinecone_assistant::ClientConfig::builder("k").build())?;
    /// # use pinecone_assistant::models::{ChatRequest, Message};
    /// let text = client
    ///     .assistant("docs")
    ///     .chat_stream(ChatRequest::new([Message::user("Hi")]))?
    ///     .collect_text()?;
    /// # Ok::<(), pinecone_assistant::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// The first error of the stream, e.g. [`Error::Stream`] when it was truncated.
    pub fn collect_text(self) -> Result<String> {
        self.text().collect()
    }

    /// Reads the whole stream into the [`ChatResponse`] a non-streaming
    /// [`chat`](crate::Assistant::chat) would have returned: id, model, text,
    /// citations, finish reason, usage and snippet count.
    ///
    /// ```no_run
    /// # let client = pinecone_assistant::Client::new(pinecone_assistant::ClientConfig::builder("k").build())?;
    /// # use pinecone_assistant::models::{ChatRequest, Message};
    /// let reply = client
    ///     .assistant("docs")
    ///     .chat_stream(ChatRequest::new([Message::user("Hi")]))?
    ///     .into_response()?;
    /// println!("{} ({} citations)", reply.content(), reply.citations.len());
    /// # Ok::<(), pinecone_assistant::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// The first error of the stream, e.g. [`Error::Stream`] when it was truncated.
    pub fn into_response(self) -> Result<ChatResponse> {
        let mut reply = ChatResponse::default();
        for chunk in self {
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

impl Iterator for ChatStream {
    type Item = Result<ChatStreamChunk>;

    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next_item()
    }
}

impl std::iter::FusedIterator for ChatStream {}

/// A streamed chat completion: an iterator of [`ChatCompletionChunk`]s, each
/// yielded as soon as its event arrives. Made by
/// [`Assistant::chat_completions_stream`](crate::Assistant::chat_completions_stream).
///
/// Dropping the stream closes its connection; [`canceller`](Self::canceller) (or
/// the client's cancel handle) stops it from another thread.
///
/// ```no_run
/// # let client = pinecone_assistant::Client::new(pinecone_assistant::ClientConfig::builder("k").build())?;
/// use pinecone_assistant::models::{ChatCompletionRequest, Message};
/// let stream = client
///     .assistant("docs")
///     .chat_completions_stream(ChatCompletionRequest::new([Message::user("Hi")]))?;
/// for piece in stream.text() {
///     print!("{}", piece?);
/// }
/// # Ok::<(), pinecone_assistant::Error>(())
/// ```
pub struct ChatCompletionStream {
    inner: EventStream<CompletionDecoder>,
}

impl std::fmt::Debug for ChatCompletionStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatCompletionStream")
            .field("ended", &self.inner.events.is_none())
            .finish_non_exhaustive()
    }
}

impl ChatCompletionStream {
    pub(crate) fn from_response(
        resp: RawResponse,
        interrupter: Arc<Interrupter>,
        hook: HookGuard,
    ) -> Self {
        let mut inner =
            EventStream::new(boxed_body(resp), interrupter, CompletionDecoder::default());
        inner._hooks.push(hook);
        Self { inner }
    }

    /// A stream over an SSE body from any reader, e.g. a recorded answer.
    ///
    /// ```
    /// use pinecone_assistant::ChatCompletionStream;
    /// let body = "data: {\"id\":\"1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":\"stop\"}]}\n\n";
    /// assert_eq!(ChatCompletionStream::from_reader(body.as_bytes()).collect_text()?, "Hi");
    /// # Ok::<(), pinecone_assistant::Error>(())
    /// ```
    pub fn from_reader(reader: impl Read + Send + 'static) -> Self {
        Self {
            inner: EventStream::new(
                Box::new(reader),
                Arc::new(Interrupter::default()),
                CompletionDecoder::default(),
            ),
        }
    }

    /// A handle that stops this stream from another thread.
    ///
    /// ```no_run
    /// # let client = pinecone_assistant::Client::new(pinecone_assistant::ClientConfig::builder("k").build())?;
    /// # use pinecone_assistant::models::{ChatCompletionRequest, Message};
    /// let stream = client
    ///     .assistant("docs")
    ///     .chat_completions_stream(ChatCompletionRequest::new([Message::user("Hi")]))?;
    /// let stop = stream.canceller();
    /// std::thread::spawn(move || stop.cancel());
    /// # Ok::<(), pinecone_assistant::Error>(())
    /// ```
    pub fn canceller(&self) -> CancelHandle {
        self.inner.cancel.clone()
    }

    /// The answer text piece by piece: the first choice's non-empty content of
    /// each chunk; role-only, finish and usage chunks yield nothing.
    ///
    /// ```no_run
    /// # let client = pinecone_assistant::Client::new(pinecone_assistant::ClientConfig::builder("k").build())?;
    /// # use pinecone_assistant::models::{ChatCompletionRequest, Message};
    /// let stream = client
    ///     .assistant("docs")
    ///     .chat_completions_stream(ChatCompletionRequest::new([Message::user("Hi")]))?;
    /// for piece in stream.text() {
    ///     print!("{}", piece?);
    /// }
    /// # Ok::<(), pinecone_assistant::Error>(())
    /// ```
    pub fn text(self) -> impl Iterator<Item = Result<String>> + Send {
        self.filter_map(|chunk| match chunk {
            Ok(mut chunk) => {
                let first = chunk.choices.first_mut()?;
                first.delta.content.take().filter(|t| !t.is_empty()).map(Ok)
            }
            Err(e) => Some(Err(e)),
        })
    }

    /// Reads the whole stream and returns the answer text.
    ///
    /// ```no_run
    /// # let client = pinecone_assistant::Client::new(pinecone_assistant::ClientConfig::builder("k").build())?;
    /// # use pinecone_assistant::models::{ChatCompletionRequest, Message};
    /// let text = client
    ///     .assistant("docs")
    ///     .chat_completions_stream(ChatCompletionRequest::new([Message::user("Hi")]))?
    ///     .collect_text()?;
    /// # Ok::<(), pinecone_assistant::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// The first error of the stream, e.g. [`Error::Stream`] when it was truncated.
    pub fn collect_text(self) -> Result<String> {
        self.text().collect()
    }

    /// Reads the whole stream into the [`ChatCompletionResponse`] a non-streaming
    /// call would have returned: id, model, each choice's text, role and finish
    /// reason, and usage.
    ///
    /// ```no_run
    /// # let client = pinecone_assistant::Client::new(pinecone_assistant::ClientConfig::builder("k").build())?;
    /// # use pinecone_assistant::models::{ChatCompletionRequest, Message};
    /// let reply = client
    ///     .assistant("docs")
    ///     .chat_completions_stream(ChatCompletionRequest::new([Message::user("Hi")]))?
    ///     .into_response()?;
    /// println!("{} {:?}", reply.content(), reply.usage);
    /// # Ok::<(), pinecone_assistant::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// The first error of the stream, e.g. [`Error::Stream`] when it was truncated.
    pub fn into_response(self) -> Result<ChatCompletionResponse> {
        let mut reply = ChatCompletionResponse::default();
        for chunk in self {
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

impl Iterator for ChatCompletionStream {
    type Item = Result<ChatCompletionChunk>;

    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next_item()
    }
}

impl std::iter::FusedIterator for ChatCompletionStream {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::FinishReason;
    use proptest::prelude::*;

    pub(crate) const F2: &str = include_str!("../tests/fixtures/f2_chat_stream.sse");
    pub(crate) const F3: &str = include_str!("../tests/fixtures/f3_completions_stream.sse");
    fn chat(body: &str) -> Vec<Result<ChatStreamChunk>> {
        ChatStream::from_reader(std::io::Cursor::new(body.to_owned())).collect()
    }

    fn kinds(items: &[Result<ChatStreamChunk>]) -> Vec<String> {
        items
            .iter()
            .map(|i| match i {
                Ok(c) => c.kind().to_owned(),
                Err(e) => format!("error: {e}"),
            })
            .collect()
    }

    #[test]
    fn f2_decodes_to_five_chunks() {
        let items = chat(F2);
        assert_eq!(
            kinds(&items),
            [
                "message_start",
                "content_chunk",
                "content_chunk",
                "citation",
                "message_end"
            ]
        );
        let text = ChatStream::from_reader(std::io::Cursor::new(F2))
            .collect_text()
            .unwrap();
        assert_eq!(
            text,
            "Annual plans can be refunded within 30 days of purchase."
        );
    }

    #[test]
    fn f2_folds_into_the_plain_response() {
        let r = ChatStream::from_reader(std::io::Cursor::new(F2))
            .into_response()
            .unwrap();
        assert_eq!(r.id.as_deref(), Some("00000000000000007e21a9c4d8b05f13"));
        assert_eq!(r.model.as_deref(), Some("gpt-4o-2024-11-20"));
        assert_eq!(r.message.role, "assistant");
        assert_eq!(
            r.content(),
            "Annual plans can be refunded within 30 days of purchase."
        );
        assert_eq!(r.finish_reason, Some(FinishReason::Stop));
        let usage = r.usage.unwrap();
        assert_eq!(
            (
                usage.prompt_tokens,
                usage.completion_tokens,
                usage.total_tokens
            ),
            (2154, 14, 2168)
        );
        assert_eq!(r.context_snippet_count, Some(8));
        assert_eq!(r.citations.len(), 1);
        assert_eq!(r.citations[0].position, Some(56));
        let reference = &r.citations[0].references[0];
        assert_eq!(reference.pages, [4]);
        assert_eq!(reference.file.as_ref().unwrap().id, "billing-policy");
    }

    #[test]
    fn f2_negative_variants() {
        let noisy = F2.replacen(
            "\n\n",
            concat!(
                "\n\n: keep-alive\n\nevent: message\n\n",
                "data: {\"type\":\"ping\"}\n\n",
                "data: {\"type\":\"content_chunk\",\"id\":\"x\"}\n\n",
                "data: {\"type\":\"content_chunk\",\"id\":\"x\",\"delta\":5}\n\n",
                "data: [1,2]\n\n",
                "data: {\"no_type\":true}\n\n",
                "data:   \n\n",
            ),
            1,
        );
        let items = chat(&noisy);
        assert_eq!(
            kinds(&items),
            [
                "message_start",
                "ping",
                "content_chunk",
                "content_chunk",
                "citation",
                "message_end"
            ]
        );
        let Ok(ChatStreamChunk::Unknown { raw, .. }) = &items[1] else {
            panic!("{:?}", items[1]);
        };
        assert_eq!(raw, &serde_json::json!({"type": "ping"}));
    }

    #[test]
    fn keys_of_other_chunk_kinds_never_cost_a_chunk() {
        // Each event carries keys that belong to other kinds, with values of a
        // type those kinds would refuse; only the event's own keys count.
        let body = concat!(
            "data: {\"type\":\"message_start\",\"model\":\"m\",\"role\":\"assistant\",\"delta\":5,\"citation\":\"x\",\"finish_reason\":7,\"usage\":\"n/a\"}\n\n",
            "data: {\"type\":\"content_chunk\",\"id\":\"x\",\"delta\":{\"content\":\"Hi\"},\"usage\":\"n/a\",\"role\":7,\"citation\":[],\"finish_reason\":{},\"context_snippet_count\":\"many\"}\n\n",
            "data: {\"type\":\"citation\",\"id\":\"x\",\"citation\":{\"position\":2,\"references\":[]},\"content_filter_results\":5,\"usage\":\"n/a\",\"delta\":null,\"role\":1}\n\n",
            "data: {\"type\":\"message_end\",\"id\":\"x\",\"finish_reason\":\"stop\",\"role\":7,\"delta\":\"x\",\"citation\":1,\"context_snippet_count\":-1}\n\n",
        );
        let items = chat(body);
        assert_eq!(
            kinds(&items),
            ["message_start", "content_chunk", "citation", "message_end"]
        );
        let reply = ChatStream::from_reader(body.as_bytes())
            .into_response()
            .unwrap();
        assert_eq!(reply.content(), "Hi");
        assert_eq!(reply.finish_reason, Some(FinishReason::Stop));
        assert_eq!(reply.citations.len(), 1);
    }

    #[test]
    fn type_anywhere_in_the_object_dispatches_the_same() {
        // Not the first key, or spelled with an escape: the slow path, same result.
        let body = concat!(
            "data: {\"id\":\"x\",\"role\":7,\"delta\":{\"content\":\"Hi\"},\"type\":\"content_chunk\"}\n\n",
            "data: {\"n\":1,\"type\":\"ping\"}\n\n",
            "data: {\"id\":\"x\",\"type\":\"content_chunk\"}\n\n",
            "data: {\"id\":\"x\",\"type\":5}\n\n",
            "data: { \"type\" : \"message\\u005fend\", \"id\":\"x\", \"usage\":\"n/a\"}\n\n",
            "data: {\"type\":\"message_end\",\"id\":\"x\"}\n\n",
        );
        let items = chat(body);
        assert_eq!(kinds(&items), ["content_chunk", "ping", "message_end"]);
        let Ok(ChatStreamChunk::ContentDelta(d)) = &items[0] else {
            panic!("{:?}", items[0]);
        };
        assert_eq!(d.content, "Hi");
        // The escaped spelling with a bad own key was skipped; the plain one ended it.
        let body = "data: {\"usage\":5,\"type\":\"message_end\",\"id\":\"x\"}\n\n";
        assert!(matches!(chat(body).last(), Some(Err(Error::Stream(_)))));
        // An unknown type keeps its raw JSON whichever path found it.
        let Ok(ChatStreamChunk::Unknown { kind, raw }) = &items[1] else {
            panic!("{:?}", items[1]);
        };
        assert_eq!(kind, "ping");
        assert_eq!(raw, &serde_json::json!({"n": 1, "type": "ping"}));
    }

    #[test]
    fn own_keys_with_a_wrong_type_still_skip_the_chunk() {
        let body = concat!(
            "data: {\"type\":\"content_chunk\",\"id\":\"x\",\"delta\":{\"content\":\"a\"},\"model\":5}\n\n",
            "data: {\"type\":\"message_end\",\"id\":\"x\",\"usage\":\"n/a\"}\n\n",
        );
        assert_eq!(kinds(&chat(body)).len(), 1);
        assert!(matches!(chat(body).last(), Some(Err(Error::Stream(_)))));
    }

    #[test]
    fn odd_content_filter_results_keep_the_chunk() {
        let body = concat!(
            "data: {\"type\":\"content_chunk\",\"id\":\"x\",\"delta\":{\"content\":\"a\"},\"content_filter_results\":{\"spec\":{\"v\":2},\"results\":[1]}}\n\n",
            "data: {\"type\":\"message_end\",\"id\":\"x\",\"content_filter_results\":\"none\"}\n\n",
        );
        let items = chat(body);
        assert_eq!(kinds(&items), ["content_chunk", "message_end"]);
        let Ok(ChatStreamChunk::ContentDelta(d)) = &items[0] else {
            panic!("{:?}", items[0]);
        };
        let filter = d.content_filter_results.as_deref().unwrap();
        assert_eq!(filter.spec, None);
        assert_eq!(filter.results, Some(serde_json::json!([1])));
        // Written back exactly as received.
        assert_eq!(
            serde_json::to_value(items[0].as_ref().unwrap()).unwrap()["content_filter_results"],
            serde_json::json!({"spec": {"v": 2}, "results": [1]})
        );
    }

    #[test]
    fn completion_chunks_ignore_keys_that_are_not_theirs() {
        let body = concat!(
            "data: {\"id\":\"c\",\"type\":7,\"role\":[],\"delta\":\"x\",\"citation\":1,\"message\":2,\"content_filter_results\":5,",
            "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\",\"tool_calls\":5,\"refusal\":[]},\"logprobs\":\"x\",\"message\":3}]}\n\n",
            "data: {\"id\":\"c\",\"usage_extra\":\"n/a\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\",\"usage\":\"n/a\"}]}\n\n",
        );
        let reply = ChatCompletionStream::from_reader(body.as_bytes())
            .into_response()
            .unwrap();
        assert_eq!(reply.content(), "Hi");
        assert_eq!(reply.choices[0].finish_reason, Some(FinishReason::Stop));
    }

    #[test]
    fn malformed_json_is_an_error_and_ends_the_stream() {
        let body = F2.replacen("\n\n", "\n\ndata: {not json\n\n", 1);
        let items = chat(&body);
        assert_eq!(items.len(), 2);
        assert!(
            matches!(&items[1], Err(Error::Decode { what, .. }) if what == "chat stream event")
        );
        // Broken JSON is an error even when its start looks like a wrong field type.
        let body = F2.replacen(
            "\n\n",
            "\n\ndata: {\"type\":\"content_chunk\",\"delta\":5,\n\n",
            1,
        );
        assert!(matches!(
            chat(&body).last(),
            Some(Err(Error::Decode { .. }))
        ));
        assert!(matches!(
            chat("data: [1,\n\n").last(),
            Some(Err(Error::Decode { .. }))
        ));
    }

    #[test]
    fn message_end_without_usage_is_accepted() {
        let body = "data: {\"type\":\"message_end\",\"id\":\"1\",\"finish_reason\":\"length\"}\n\n";
        let r = ChatStream::from_reader(body.as_bytes())
            .into_response()
            .unwrap();
        assert_eq!(r.finish_reason, Some(FinishReason::Length));
        assert_eq!(r.usage, None);
    }

    #[test]
    fn a_cut_off_stream_is_an_error() {
        let cut = &F2[..F2.find("data: {\"type\":\"message_end\"").unwrap()];
        let items = chat(cut);
        assert_eq!(items.len(), 5);
        assert!(
            matches!(&items[4], Err(Error::Stream(m)) if m.contains("truncated") && m.contains("message_end")),
            "{:?}",
            items[4]
        );
        assert!(
            ChatStream::from_reader(cut.as_bytes())
                .collect_text()
                .is_err()
        );
        // Cut in the middle of the last event.
        let items = chat(&F2[..F2.len() - 20]);
        assert!(matches!(items.last(), Some(Err(Error::Decode { .. }))));
        // An empty body is a truncated stream too.
        assert!(matches!(chat("").last(), Some(Err(Error::Stream(_)))));
    }

    #[test]
    fn done_ends_the_stream_normally() {
        let body = "data: {\"type\":\"content_chunk\",\"id\":\"1\",\"delta\":{\"content\":\"a\"}}\n\ndata:  [DONE]\n\ndata: {\"type\":\"content_chunk\",\"id\":\"1\",\"delta\":{\"content\":\"b\"}}\n\n";
        assert_eq!(
            ChatStream::from_reader(body.as_bytes())
                .collect_text()
                .unwrap(),
            "a"
        );
    }

    #[test]
    fn streams_are_fused() {
        let mut s = ChatStream::from_reader("data: {x\n\ndata: {}\n\n".as_bytes());
        assert!(matches!(s.next(), Some(Err(_))));
        assert!(s.next().is_none());
        assert!(s.next().is_none());
    }

    #[test]
    fn cancel_before_next_returns_cancelled() {
        let mut s = ChatStream::from_reader(std::io::Cursor::new(F2));
        assert!(s.next().unwrap().is_ok());
        s.canceller().cancel();
        assert!(matches!(s.next(), Some(Err(Error::Cancelled))));
        assert!(s.next().is_none());
    }

    #[test]
    fn f3_completions() {
        let items: Vec<_> = ChatCompletionStream::from_reader(F3.as_bytes()).collect();
        assert_eq!(items.len(), 5);
        let last = items[4].as_ref().unwrap();
        assert!(last.choices.is_empty());
        assert_eq!(last.usage.unwrap().total_tokens, 1910);
        let pieces: Vec<String> = ChatCompletionStream::from_reader(F3.as_bytes())
            .text()
            .collect::<Result<_>>()
            .unwrap();
        assert_eq!(
            pieces,
            [
                "Annual plans can be refunded within 30 days",
                " [1, pp. 4]."
            ]
        );
        let r = ChatCompletionStream::from_reader(F3.as_bytes())
            .into_response()
            .unwrap();
        assert_eq!(
            r.content(),
            "Annual plans can be refunded within 30 days [1, pp. 4]."
        );
        assert_eq!(r.choices[0].message.role.as_deref(), Some("assistant"));
        assert_eq!(r.choices[0].finish_reason, Some(FinishReason::Stop));
        assert_eq!(r.usage.unwrap().prompt_tokens, 1893);
        assert_eq!(r.id.as_deref(), Some("0000000000000000b5e8c2d14f7a9036"));
    }

    #[test]
    fn f3_negative_variants() {
        let noisy = F3.replacen(
            "\n\n",
            "\n\ndata: {\"bad\":1}\n\ndata: \"text\"\n\ndata: {\"id\":\"x\",\"choices\":5}\n\n",
            1,
        );
        let items: Vec<_> =
            ChatCompletionStream::from_reader(std::io::Cursor::new(noisy)).collect();
        assert_eq!(items.len(), 5);
        assert!(items.iter().all(Result::is_ok));
        let broken = F3.replacen("\n\n", "\n\ndata: {\"id\":\n\n", 1);
        let items: Vec<_> =
            ChatCompletionStream::from_reader(std::io::Cursor::new(broken)).collect();
        assert_eq!(items.len(), 2);
        assert!(matches!(items[1], Err(Error::Decode { .. })));
    }

    #[test]
    fn completions_cut_before_finish_is_an_error() {
        let cut = &F3[..F3.find("\"finish_reason\":\"stop\"").unwrap()];
        let cut = &cut[..cut.rfind("data:").unwrap()];
        let items: Vec<_> = ChatCompletionStream::from_reader(cut.as_bytes()).collect();
        assert_eq!(items.len(), 4);
        assert!(matches!(&items[3], Err(Error::Stream(m)) if m.contains("truncated")));
        // Cut after the finish chunk but before usage and [DONE]: complete.
        let cut = &F3[..F3.find("\"choices\":[]").unwrap()];
        let cut = &cut[..cut.rfind("data:").unwrap()];
        let items: Vec<_> = ChatCompletionStream::from_reader(cut.as_bytes()).collect();
        assert_eq!(items.len(), 4);
        assert!(items.iter().all(Result::is_ok));
    }

    /// A body mixing every line ending, comments, multi-line data and noise.
    fn rich_body() -> String {
        let mut body = String::new();
        for (i, line) in F2.split("\n\n").filter(|l| !l.is_empty()).enumerate() {
            let eol = ["\n", "\r\n", "\r"][i % 3];
            body.push_str(&format!(": heartbeat {i}{eol}"));
            body.push_str(&format!("event: message{eol}id: {i}{eol}"));
            // Split the JSON over two data lines at a comma: joined with \n,
            // which is JSON whitespace.
            let (a, b) = line.split_once(',').unwrap();
            body.push_str(&format!("{a},{eol}data:{b}{eol}{eol}"));
        }
        body
    }

    #[test]
    fn the_rich_body_means_the_same_as_f2() {
        let rich: Vec<_> = chat(&rich_body()).into_iter().map(|r| r.unwrap()).collect();
        let plain: Vec<_> = chat(F2).into_iter().map(|r| r.unwrap()).collect();
        assert_eq!(rich, plain);
    }

    fn split_reader(body: &[u8], sizes: Vec<usize>) -> crate::sse::tests::Pieces {
        crate::sse::tests::Pieces::new(body, sizes)
    }

    proptest! {
        #[test]
        fn any_split_into_reads_gives_the_same_chunks(
            sizes in proptest::collection::vec(1usize..64, 1..16),
        ) {
            let body = rich_body();
            let whole: Vec<_> = chat(&body).into_iter().map(|r| r.unwrap()).collect();
            prop_assert_eq!(whole.len(), 5);
            let split: Vec<_> = ChatStream::from_reader(split_reader(body.as_bytes(), sizes))
                .map(|r| r.unwrap())
                .collect();
            prop_assert_eq!(split, whole);
        }

        #[test]
        fn any_split_of_a_completions_body_gives_the_same_chunks(
            sizes in proptest::collection::vec(1usize..40, 1..8),
        ) {
            let body = F3.replace("\n\n", "\r\n\r\n");
            let whole: Vec<_> = ChatCompletionStream::from_reader(std::io::Cursor::new(body.clone()))
                .map(|r| r.unwrap())
                .collect();
            let split: Vec<_> = ChatCompletionStream::from_reader(split_reader(body.as_bytes(), sizes))
                .map(|r| r.unwrap())
                .collect();
            prop_assert_eq!(split, whole);
        }
    }
}
