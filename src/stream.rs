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
//! | object with a known `type` | the chunk; skipped when a field the reference client requires is missing or has the wrong type | — |
//! | object with an unknown `type` | [`ChatStreamChunk::Unknown`] with the raw JSON | — |
//! | object without a string `type` | skipped | — |
//! | object without `id` or `choices`, or with a wrong field type | — | skipped |
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
    CompletionChoice, FlatChunk,
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
        let chunk = match serde_json::from_slice::<FlatChunk>(data) {
            Ok(flat) if flat.kind == Some(ChunkKind::Unknown) => unknown(data)?,
            Ok(flat) => flat.into_chunk(),
            // A wrong field type: skipped, unless the kind is unknown (then the
            // fields mean something else) or the JSON itself is broken.
            Err(e) if is_data_error(&e) => unknown(data)?,
            Err(e) => return Err(Error::decode(Self::WHAT, e, data)),
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

/// The raw form of an event whose `type` this version does not know; `None` for a
/// known type (it was malformed) or no `type` at all.
fn unknown(data: &[u8]) -> Result<Option<ChatStreamChunk>> {
    let raw: Value =
        serde_json::from_slice(data).map_err(|e| Error::decode(ChatDecoder::WHAT, e, data))?;
    let Some(kind) = raw.get("type").and_then(Value::as_str) else {
        return Ok(None);
    };
    if serde_json::from_value::<ChunkKind>(Value::String(kind.to_owned()))
        .is_ok_and(|k| k != ChunkKind::Unknown)
    {
        return Ok(None);
    }
    Ok(Some(ChatStreamChunk::Unknown {
        kind: kind.to_owned(),
        raw,
    }))
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
        let mut text = String::new();
        for piece in self.text() {
            text.push_str(&piece?);
        }
        Ok(text)
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
                        reply.content_filter_results = start.content_filter_results;
                    }
                }
                ChatStreamChunk::ContentDelta(delta) => {
                    reply.message.content.push_str(&delta.content);
                    if delta.content_filter_results.is_some() {
                        reply.content_filter_results = delta.content_filter_results;
                    }
                }
                ChatStreamChunk::Citation(c) => reply.citations.push(c.citation),
                ChatStreamChunk::MessageEnd(end) => {
                    reply.id = reply.id.or(Some(end.id));
                    reply.model = reply.model.or(end.model);
                    reply.finish_reason = end.finish_reason;
                    reply.usage = end.usage;
                    if end.content_filter_results.is_some() {
                        reply.content_filter_results = end.content_filter_results;
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
        let mut text = String::new();
        for piece in self.text() {
            text.push_str(&piece?);
        }
        Ok(text)
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
