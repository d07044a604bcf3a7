//! Streamed answers: one iterator type, [`EventStream`], over the server-sent
//! events of a chat or chat-completions answer, parameterised by the
//! [`Decoder`] that turns each event into a chunk.
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
//! | object without `id` or `choices`, or with a wrong type in one of the chunk's own keys | — | skipped; other keys are ignored |
//!
//! The body ending before the final chunk (`message_end`; a choice with a
//! `finish_reason`) gives an [`Error::Stream`] saying the stream was truncated, so a
//! cut connection never looks like a short answer. After an error or the end the
//! iterator is fused. `docs/wire/streaming.md` describes the events themselves.

mod chat;
mod completions;

use std::io::{BufReader, Read};
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use serde::de::IgnoredAny;

pub use chat::ChatDecoder;
pub use completions::CompletionDecoder;

use crate::cancel::{CancelHandle, HookGuard};
use crate::error::{Error, Result, TimeoutPhase, TransportErrorKind};
use crate::http::interrupt::Interrupter;
use crate::http::{Bound, RawResponse, Watch};
#[cfg(doc)]
use crate::models::ChatStreamChunk;
use crate::models::{ChatCompletionChunk, ChatStreamChunk as ChatChunk, Usage};
use crate::observe::Event;
use crate::sse::{DEFAULT_MAX_EVENT_BYTES, SseReader};

/// A streamed chat answer: an iterator of
/// [`ChatStreamChunk`]s, each yielded as soon as
/// its event arrives. Made by [`Assistant::chat_stream`](crate::Assistant::chat_stream).
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
pub type ChatStream = EventStream<ChatDecoder>;

/// A streamed chat completion: an iterator of
/// [`ChatCompletionChunk`]s, each yielded as
/// soon as its event arrives. Made by
/// [`Assistant::chat_completions_stream`](crate::Assistant::chat_completions_stream).
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
pub type ChatCompletionStream = EventStream<CompletionDecoder>;

/// What one `data:` payload amounts to.
#[derive(Debug)]
enum Decoded<T> {
    /// A chunk.
    Item(T),
    /// Nothing to yield (blank, not an object, or not a usable chunk).
    Skip,
    /// `[DONE]`: the normal end.
    Done,
}

mod sealed {
    /// Only this crate's decoders exist: the set of stream kinds is the API's.
    pub trait Sealed {}
}

/// How the events of one kind of stream become chunks, and what a whole stream
/// folds into. Implemented by [`ChatDecoder`] and [`CompletionDecoder`] only.
pub trait Decoder: sealed::Sealed + Default + Send {
    /// What the stream yields.
    type Chunk: StreamChunk;
    /// What a whole stream folds into ([`EventStream::into_response`]).
    type Response;
    /// What the stream is called in messages.
    #[doc(hidden)]
    const WHAT: &'static str;
    /// What its final chunk is, for the truncation message.
    #[doc(hidden)]
    const FINAL: &'static str;
    /// Reads one payload that starts as a JSON object: the chunk, `None` when the
    /// event is not one to yield (skipped), or the parse error (a data error skips
    /// the event, any other is the stream's error).
    #[doc(hidden)]
    fn read(data: Payload<'_>) -> serde_json::Result<Option<Self::Chunk>>;
    /// Whether `chunk` is the final one, after which the body may end.
    #[doc(hidden)]
    fn is_final(chunk: &Self::Chunk) -> bool;
    /// Folds chunks into the response of a non-streaming call.
    #[doc(hidden)]
    fn fold(chunks: impl Iterator<Item = Result<Self::Chunk>>) -> Result<Self::Response>;
    /// Notes what a chunk says of the whole answer (usage, finish reason), for
    /// the observer's stream-end event.
    #[doc(hidden)]
    fn note(chunk: &Self::Chunk, summary: &mut Summary);
}

/// What an observed stream has said so far, for its end event.
#[doc(hidden)]
#[derive(Debug, Default)]
pub struct Summary {
    chunks: u64,
    usage: Option<Usage>,
    finish_reason: Option<String>,
}

impl Summary {
    /// Keeps the token counts a chunk carried.
    pub(crate) fn usage(&mut self, usage: Option<Usage>) {
        if usage.is_some() {
            self.usage = usage;
        }
    }

    /// Keeps why the model stopped.
    pub(crate) fn finish_reason(&mut self, reason: Option<&str>) {
        if let Some(reason) = reason {
            self.finish_reason = Some(reason.to_owned());
        }
    }
}

/// Where a stream's answer comes from: what its errors and its observer events
/// say of it.
pub(crate) struct StreamOrigin {
    /// `chat_stream` or `chat_completions_stream`.
    pub operation: &'static str,
    /// `scheme://host:port` of the server.
    pub host: String,
    /// The idle timeout and the setting that gave it.
    pub idle: (Duration, &'static str),
    /// The total bound.
    pub total: Bound,
    /// The largest event.
    pub event_limit: usize,
    /// Set when the client has an observer.
    pub watch: Option<Watch>,
}

/// The error for an answer that broke off once the server had accepted the
/// request: never retryable, since the call may have run and been billed.
pub(crate) fn stopped_after_headers(operation: &str, cause: &dyn std::fmt::Display) -> Error {
    Error::Stream(format!(
        "the answer to {operation} stopped after the server had accepted the request: \
         {cause}; the call may have run (and been billed), so it was not retried"
    ))
}

/// A chunk that may carry a piece of the answer text.
pub trait StreamChunk: Send {
    /// The piece of answer text this chunk carries, if any: the content of a chat
    /// content chunk (possibly empty), or the non-empty content of a completion
    /// chunk's first choice.
    ///
    /// ```
    /// use pinecone_assistant::StreamChunk;
    /// use pinecone_assistant::ChatStream;
    /// let body = "data: {\"type\":\"content_chunk\",\"id\":\"1\",\"delta\":{\"content\":\"Hi\"}}\n\n";
    /// let chunk = ChatStream::from_reader(body.as_bytes()).next().unwrap()?;
    /// assert_eq!(chunk.into_text().as_deref(), Some("Hi"));
    /// # Ok::<(), pinecone_assistant::Error>(())
    /// ```
    fn into_text(self) -> Option<String>;
}

impl StreamChunk for ChatChunk {
    fn into_text(self) -> Option<String> {
        match self {
            ChatChunk::ContentDelta(d) => Some(d.content),
            _ => None,
        }
    }
}

impl StreamChunk for ChatCompletionChunk {
    fn into_text(mut self) -> Option<String> {
        let first = self.choices.first_mut()?;
        first.delta.content.take().filter(|t| !t.is_empty())
    }
}

/// A chunk together with its event's JSON text exactly as the server sent it
/// (the `data` lines joined with `\n`), for passing events on without encoding
/// them again. Made by [`EventStream::next_raw`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RawChunk<C> {
    /// The decoded chunk.
    pub chunk: C,
    /// The event's JSON text.
    pub json: String,
}

/// One `data:` payload, as [`Decoder::read`] gets it.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub enum Payload<'a> {
    /// UTF-8 text, checked once for the whole event (what the service sends),
    /// so that the JSON parser need not check each string again.
    Text(&'a str),
    /// Bytes that are not UTF-8: parsed as they are, each string the chunk
    /// reads checked by the parser.
    Bytes(&'a [u8]),
}

impl<'a> Payload<'a> {
    fn of(data: &'a [u8]) -> Self {
        match std::str::from_utf8(data) {
            Ok(text) => Self::Text(text),
            Err(_) => Self::Bytes(data),
        }
    }

    fn bytes(self) -> &'a [u8] {
        match self {
            Self::Text(text) => text.as_bytes(),
            Self::Bytes(bytes) => bytes,
        }
    }

    /// Parses the whole payload as one JSON document of type `T`.
    pub(crate) fn parse<T: serde::de::DeserializeOwned>(self) -> serde_json::Result<T> {
        match self {
            Self::Text(text) => serde_json::from_str(text),
            Self::Bytes(bytes) => serde_json::from_slice(bytes),
        }
    }
}

/// Decodes one `data:` payload the way the table in the module docs says, for
/// either kind of stream: blank is skipped, `[DONE]` is the end, broken JSON is an
/// error, and valid JSON that `D` does not read as a chunk is skipped.
fn decode<D: Decoder>(payload: Payload<'_>) -> Result<Decoded<D::Chunk>> {
    let data = payload.bytes();
    let trimmed = data.trim_ascii();
    if trimmed.is_empty() {
        return Ok(Decoded::Skip);
    }
    if trimmed == b"[DONE]" {
        return Ok(Decoded::Done);
    }
    let why = match trimmed.starts_with(b"{").then(|| D::read(payload)) {
        Some(Ok(Some(chunk))) => return Ok(Decoded::Item(chunk)),
        Some(Ok(None)) | None => None,
        // A key of the chunk has the wrong type or is missing: skipped, once the
        // whole payload is known to be JSON.
        Some(Err(e)) if e.classify() == serde_json::error::Category::Data => Some(e),
        Some(Err(e)) => return Err(Error::decode(D::WHAT, e, data)),
    };
    payload
        .parse::<IgnoredAny>()
        .map_err(|e| Error::decode(D::WHAT, e, data))?;
    log::debug!(
        "skipped a {}{}: {}",
        D::WHAT,
        why.map(|e| format!(" ({e})")).unwrap_or_default(),
        String::from_utf8_lossy(data)
    );
    Ok(Decoded::Skip)
}

type Body = BufReader<Box<dyn Read + Send>>;

/// The read buffer of a stream from the network (see `from_response`).
const NETWORK_BUFFER: usize = 8 << 10;
/// The read buffer of a stream from any reader: a recording is read faster in
/// larger pieces.
const READER_BUFFER: usize = 32 << 10;

/// An answer arriving event by event: an iterator of `D::Chunk`s, each yielded as
/// soon as its event arrives. [`ChatStream`] and [`ChatCompletionStream`] are the
/// two kinds.
///
/// Dropping the stream closes its connection. [`canceller`](Self::canceller) (or
/// the client's cancel handle) stops it from another thread: a blocked `next()`
/// then returns [`Error::Cancelled`] at once.
pub struct EventStream<D> {
    /// `None` once the stream ended: the body (and its connection) is dropped then.
    events: Option<SseReader<Body>>,
    /// Whether the final chunk was seen, so the body may end.
    complete: bool,
    decoder: PhantomData<D>,
    interrupter: Arc<Interrupter>,
    cancel: CancelHandle,
    /// Unregister the cancel hooks when the stream goes.
    _hooks: Vec<HookGuard>,
    /// Set for a stream read from the network.
    origin: Option<Box<Origin>>,
}

/// A network stream's origin and, when observed, what it said so far.
struct Origin {
    from: StreamOrigin,
    summary: Summary,
    /// Whether the end event was sent.
    reported: bool,
}

impl<D> std::fmt::Debug for EventStream<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStream")
            .field("kind", &std::any::type_name::<D>())
            .field("ended", &self.events.is_none())
            .finish_non_exhaustive()
    }
}

impl<D: Decoder> EventStream<D> {
    fn new(
        reader: Box<dyn Read + Send>,
        interrupter: Arc<Interrupter>,
        buffer: usize,
        event_limit: usize,
    ) -> Self {
        let cancel = CancelHandle::new();
        let hook = {
            let interrupter = interrupter.clone();
            cancel.on_cancel(move || interrupter.interrupt())
        };
        Self {
            events: Some(SseReader::with_limit(
                BufReader::with_capacity(buffer, reader),
                event_limit,
            )),
            complete: false,
            decoder: PhantomData,
            interrupter,
            cancel,
            _hooks: vec![hook],
            origin: None,
        }
    }

    /// The stream over a response whose socket `interrupter` can shut down;
    /// `hook` ties it to the client's cancel handle.
    pub(crate) fn from_response(
        resp: RawResponse,
        interrupter: Arc<Interrupter>,
        hook: HookGuard,
        origin: StreamOrigin,
    ) -> Self {
        // Events arrive a few KiB at a time; the connection has its own input
        // buffer, so a small one here keeps an open stream small.
        let mut stream = Self::new(
            Box::new(resp.into_body().into_reader()),
            interrupter,
            NETWORK_BUFFER,
            origin.event_limit,
        );
        stream._hooks.push(hook);
        stream.origin = Some(Box::new(Origin {
            from: origin,
            summary: Summary::default(),
            reported: false,
        }));
        stream
    }

    /// A stream over an SSE body from any reader, e.g. a recorded answer.
    ///
    /// Cancelling such a stream takes effect at its next read, since an arbitrary
    /// reader cannot be woken.
    ///
    /// ```
    /// use pinecone_assistant::{ChatCompletionStream, ChatStream};
    /// let body = "data: {\"type\":\"content_chunk\",\"id\":\"1\",\"delta\":{\"content\":\"Hi\"}}\n\n\
    ///             data: {\"type\":\"message_end\",\"id\":\"1\"}\n\n";
    /// assert_eq!(ChatStream::from_reader(body.as_bytes()).collect_text()?, "Hi");
    ///
    /// let body = "data: {\"id\":\"1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":\"stop\"}]}\n\n";
    /// assert_eq!(ChatCompletionStream::from_reader(body.as_bytes()).collect_text()?, "Hi");
    /// # Ok::<(), pinecone_assistant::Error>(())
    /// ```
    pub fn from_reader(reader: impl Read + Send + 'static) -> Self {
        Self::new(
            Box::new(reader),
            Arc::new(Interrupter::default()),
            READER_BUFFER,
            DEFAULT_MAX_EVENT_BYTES,
        )
    }

    /// A handle that stops this stream from another thread.
    ///
    /// ```no_run
    /// # let client = pinecone_assistant::Client::new(pinecone_assistant::ClientConfig::builder("k").build())?;
    /// # use pinecone_assistant::models::{ChatRequest, Message};
    /// let stream = client.assistant("docs").chat_stream(ChatRequest::new([Message::user("Hi")]))?;
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
        self.cancel.clone()
    }

    /// The next chunk together with its event's JSON text as received, for
    /// handing events on (to another language, a log, a proxy) without encoding
    /// them again. Decoding, skipping and errors are as for `next()`.
    ///
    /// ```
    /// use pinecone_assistant::ChatStream;
    /// let body = "data: {\"type\":\"content_chunk\",\"id\":\"1\",\"delta\":{\"content\":\"Hi\"}}\n\n";
    /// let raw = ChatStream::from_reader(body.as_bytes()).next_raw().unwrap()?;
    /// assert_eq!(raw.json, r#"{"type":"content_chunk","id":"1","delta":{"content":"Hi"}}"#);
    /// # Ok::<(), pinecone_assistant::Error>(())
    /// ```
    pub fn next_raw(&mut self) -> Option<Result<RawChunk<D::Chunk>>> {
        self.next_raw_with(|chunk, json| {
            // One spare byte: a caller handing the text to C (a NUL-terminated
            // string) then needs no second allocation.
            let mut owned = String::with_capacity(json.len() + 1);
            owned.push_str(json);
            RawChunk { chunk, json: owned }
        })
    }

    /// As [`next_raw`](Self::next_raw), but the event's JSON text is lent to `f`
    /// instead of copied into a new `String`: for writing events straight on (to
    /// a socket, a log, another language's buffer) with no allocation per event.
    /// The text is valid UTF-8: bytes that are not (never sent by the service)
    /// are replaced with U+FFFD.
    ///
    /// ```
    /// use pinecone_assistant::ChatStream;
    /// use std::io::Write;
    /// let body = "data: {\"type\":\"content_chunk\",\"id\":\"1\",\"delta\":{\"content\":\"Hi\"}}\n\n\
    ///             data: {\"type\":\"message_end\",\"id\":\"1\"}\n\n";
    /// let mut log = Vec::new();
    /// let mut stream = ChatStream::from_reader(body.as_bytes());
    /// while let Some(written) = stream.next_raw_with(|_, json| writeln!(log, "{json}")) {
    ///     written?.expect("a Vec takes every write");
    /// }
    /// assert_eq!(log.iter().filter(|&&b| b == b'\n').count(), 2);
    /// assert!(log.starts_with(br#"{"type":"content_chunk","id":"1","#));
    /// # Ok::<(), pinecone_assistant::Error>(())
    /// ```
    pub fn next_raw_with<T>(&mut self, f: impl FnOnce(D::Chunk, &str) -> T) -> Option<Result<T>> {
        self.advance(|chunk, payload| match payload {
            Payload::Text(json) => f(chunk, json),
            Payload::Bytes(data) => f(chunk, &String::from_utf8_lossy(data)),
        })
    }

    /// The answer text piece by piece ([`StreamChunk::into_text`] of each chunk),
    /// other chunks skipped, errors passed on.
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
            Ok(chunk) => chunk.into_text().map(Ok),
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

    /// Reads the whole stream into the response a non-streaming call would have
    /// returned: a [`ChatResponse`](crate::models::ChatResponse) for a chat (id,
    /// model, text, citations, finish reason, usage, snippet count), a
    /// [`ChatCompletionResponse`](crate::models::ChatCompletionResponse) for a
    /// chat completion (id, model, each choice's text, role and finish reason,
    /// usage).
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
    pub fn into_response(self) -> Result<D::Response> {
        D::fold(self)
    }

    /// Reads events until one yields a chunk, and hands it with its payload to
    /// `make`; the end, a decode error or a truncation ends the stream.
    fn advance<T>(&mut self, make: impl FnOnce(D::Chunk, Payload<'_>) -> T) -> Option<Result<T>> {
        let events = self.events.as_mut()?;
        let outcome = loop {
            if self.interrupter.is_interrupted() {
                break Err(Error::Cancelled);
            }
            let event = events.next_event().map(|e| e.map(|e| Payload::of(e.data)));
            match event {
                Ok(Some(payload)) => match decode::<D>(payload) {
                    Ok(Decoded::Item(item)) => {
                        self.complete |= D::is_final(&item);
                        if let Some(origin) =
                            self.origin.as_mut().filter(|o| o.from.watch.is_some())
                        {
                            origin.summary.chunks += 1;
                            D::note(&item, &mut origin.summary);
                        }
                        return Some(Ok(make(item, payload)));
                    }
                    Ok(Decoded::Skip) => continue,
                    Ok(Decoded::Done) => break Ok(()),
                    Err(e) => break Err(e),
                },
                Ok(None) if self.complete => break Ok(()),
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
        let outcome = match outcome {
            // Our own shutdown of the socket shows up as a read error or an early
            // end; report it as what it is.
            _ if self.interrupter.is_interrupted() => Err(Error::Cancelled),
            Err(e @ (Error::Timeout(_) | Error::Transport(_))) => match &self.origin {
                Some(origin) => Err(origin.from.broken(&e)),
                None => Err(e),
            },
            other => other,
        };
        let complete = outcome.is_ok();
        self.report(complete, outcome.as_ref().err());
        match outcome {
            Ok(()) => None,
            Err(e) => Some(Err(e)),
        }
    }

    /// Tells the observer, once, that the stream ended, and how.
    fn report(&mut self, complete: bool, error: Option<&Error>) {
        if let Some(origin) = self.origin.as_mut() {
            origin.report(complete, error);
        }
    }
}

impl Origin {
    fn report(&mut self, complete: bool, error: Option<&Error>) {
        let Some(watch) = self.from.watch.as_ref().filter(|_| !self.reported) else {
            return;
        };
        self.reported = true;
        watch.emit(&Event::StreamEnd {
            operation: watch.operation,
            route: watch.route,
            chunks: self.summary.chunks,
            usage: self.summary.usage,
            finish_reason: self.summary.finish_reason.as_deref(),
            complete,
            duration: watch.started().elapsed(),
        });
        if let Some(error) = error {
            watch.error(error);
        }
    }
}

impl StreamOrigin {
    /// A read failure of the stream, as the error that says what it means.
    fn broken(&self, cause: &Error) -> Error {
        let what = match cause.transport().map(|t| t.kind()) {
            Some(TransportErrorKind::Timeout(TimeoutPhase::Total)) => match self.total.limit {
                Some(limit) => format!("its total bound passed ({} of {limit:?})", self.total.name),
                None => "its total bound passed".to_owned(),
            },
            Some(TransportErrorKind::Timeout(_)) => {
                format!("no data came for {:?} ({})", self.idle.0, self.idle.1)
            }
            _ => format!("{cause}"),
        };
        stopped_after_headers(self.operation, &format!("{what}, from {}", self.host))
    }
}

impl<D> Drop for EventStream<D> {
    fn drop(&mut self) {
        // A stream dropped before its end still reports to the observer.
        if let Some(origin) = self.origin.as_mut() {
            origin.report(false, None);
        }
    }
}

impl<D: Decoder> Iterator for EventStream<D> {
    type Item = Result<D::Chunk>;

    fn next(&mut self) -> Option<Self::Item> {
        self.advance(|chunk, _| chunk)
    }
}

impl<D: Decoder> std::iter::FusedIterator for EventStream<D> {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::{ChatStreamChunk, FinishReason};
    use proptest::prelude::*;

    /// A recorded chat answer: start, two content chunks, a citation, the end.
    pub(crate) const CHAT_ANSWER: &str = include_str!("../../tests/fixtures/chat_stream.sse");
    /// A recorded chat completion whose final chunk carries the usage.
    pub(crate) const COMPLETION_ANSWER: &str =
        include_str!("../../tests/fixtures/completions_stream_with_usage.sse");
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
    fn bytes_that_are_not_utf8_are_read_as_before_the_single_check() {
        // In a key no chunk reads: the chunk is yielded, its text has U+FFFD.
        let body = b"data: {\"type\":\"content_chunk\",\"id\":\"1\",\"delta\":{\"content\":\"Hi\"},\"x\":\"\xff\"}\n\n";
        let mut stream = ChatStream::from_reader(&body[..]);
        let raw = stream.next_raw().unwrap().unwrap();
        assert_eq!(raw.chunk.clone().into_text().as_deref(), Some("Hi"));
        assert!(raw.json.ends_with("\"x\":\"\u{fffd}\"}"), "{}", raw.json);
        let mut stream = ChatCompletionStream::from_reader(
            &b"data: {\"id\":\"c\",\"choices\":[],\"x\":\"\xff\"}\n\n"[..],
        );
        assert_eq!(stream.next().unwrap().unwrap().id, "c");
        // In a string the chunk reads: a decode error, which ends the stream.
        let body =
            b"data: {\"type\":\"content_chunk\",\"id\":\"1\",\"delta\":{\"content\":\"\xff\"}}\n\n";
        let items: Vec<_> = ChatStream::from_reader(&body[..]).collect();
        assert!(
            matches!(items[..], [Err(Error::Decode { .. })]),
            "{items:?}"
        );
    }

    #[test]
    fn chat_stream_decodes_to_five_chunks() {
        let items = chat(CHAT_ANSWER);
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
        let text = ChatStream::from_reader(std::io::Cursor::new(CHAT_ANSWER))
            .collect_text()
            .unwrap();
        assert_eq!(
            text,
            "Annual plans can be refunded within 30 days of purchase."
        );
    }

    #[test]
    fn chat_stream_folds_into_the_plain_response() {
        let r = ChatStream::from_reader(std::io::Cursor::new(CHAT_ANSWER))
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
    fn chat_stream_noise_is_skipped_or_kept() {
        let noisy = CHAT_ANSWER.replacen(
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
        let body = CHAT_ANSWER.replacen("\n\n", "\n\ndata: {not json\n\n", 1);
        let items = chat(&body);
        assert_eq!(items.len(), 2);
        assert!(
            matches!(&items[1], Err(Error::Decode { what, .. }) if what == "chat stream event")
        );
        // Broken JSON is an error even when its start looks like a wrong field type.
        let body = CHAT_ANSWER.replacen(
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
        let cut = &CHAT_ANSWER[..CHAT_ANSWER.find("data: {\"type\":\"message_end\"").unwrap()];
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
        let items = chat(&CHAT_ANSWER[..CHAT_ANSWER.len() - 20]);
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
        let mut s = ChatStream::from_reader(std::io::Cursor::new(CHAT_ANSWER));
        assert!(s.next().unwrap().is_ok());
        s.canceller().cancel();
        assert!(matches!(s.next(), Some(Err(Error::Cancelled))));
        assert!(s.next().is_none());
    }

    #[test]
    fn completions_stream_text_and_fold() {
        let items: Vec<_> =
            ChatCompletionStream::from_reader(COMPLETION_ANSWER.as_bytes()).collect();
        assert_eq!(items.len(), 5);
        let last = items[4].as_ref().unwrap();
        assert!(last.choices.is_empty());
        assert_eq!(last.usage.unwrap().total_tokens, 1910);
        let pieces: Vec<String> = ChatCompletionStream::from_reader(COMPLETION_ANSWER.as_bytes())
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
        let r = ChatCompletionStream::from_reader(COMPLETION_ANSWER.as_bytes())
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
    fn completions_stream_skips_invalid_chunks() {
        let noisy = COMPLETION_ANSWER.replacen(
            "\n\n",
            "\n\ndata: {\"bad\":1}\n\ndata: \"text\"\n\ndata: {\"id\":\"x\",\"choices\":5}\n\n",
            1,
        );
        let items: Vec<_> =
            ChatCompletionStream::from_reader(std::io::Cursor::new(noisy)).collect();
        assert_eq!(items.len(), 5);
        assert!(items.iter().all(Result::is_ok));
        let broken = COMPLETION_ANSWER.replacen("\n\n", "\n\ndata: {\"id\":\n\n", 1);
        let items: Vec<_> =
            ChatCompletionStream::from_reader(std::io::Cursor::new(broken)).collect();
        assert_eq!(items.len(), 2);
        assert!(matches!(items[1], Err(Error::Decode { .. })));
    }

    #[test]
    fn completions_cut_before_finish_is_an_error() {
        let cut = &COMPLETION_ANSWER[..COMPLETION_ANSWER
            .find("\"finish_reason\":\"stop\"")
            .unwrap()];
        let cut = &cut[..cut.rfind("data:").unwrap()];
        let items: Vec<_> = ChatCompletionStream::from_reader(cut.as_bytes()).collect();
        assert_eq!(items.len(), 4);
        assert!(matches!(&items[3], Err(Error::Stream(m)) if m.contains("truncated")));
        // Cut after the finish chunk but before usage and [DONE]: complete.
        let cut = &COMPLETION_ANSWER[..COMPLETION_ANSWER.find("\"choices\":[]").unwrap()];
        let cut = &cut[..cut.rfind("data:").unwrap()];
        let items: Vec<_> = ChatCompletionStream::from_reader(cut.as_bytes()).collect();
        assert_eq!(items.len(), 4);
        assert!(items.iter().all(Result::is_ok));
    }

    #[test]
    fn raw_chunks_carry_the_event_text_as_received() {
        let mut stream = ChatStream::from_reader(std::io::Cursor::new(CHAT_ANSWER));
        let mut typed = ChatStream::from_reader(std::io::Cursor::new(CHAT_ANSWER));
        let events: Vec<&str> = CHAT_ANSWER
            .split("\n\n")
            .filter_map(|e| e.strip_prefix("data: "))
            .collect();
        for expected in events {
            let raw = stream.next_raw().unwrap().unwrap();
            assert_eq!(raw.json, expected);
            assert_eq!(raw.chunk, typed.next().unwrap().unwrap());
        }
        assert!(stream.next_raw().is_none());
        // Multi-line data is joined with a newline, and errors end the stream too.
        let body = "data: {\"type\":\"ping\",\ndata: \"n\":1}\n\ndata: {x\n\n";
        let mut stream = ChatStream::from_reader(body.as_bytes());
        assert_eq!(
            stream.next_raw().unwrap().unwrap().json,
            "{\"type\":\"ping\",\n\"n\":1}"
        );
        assert!(matches!(stream.next_raw(), Some(Err(Error::Decode { .. }))));
        assert!(stream.next_raw().is_none());
        let mut completions =
            ChatCompletionStream::from_reader(std::io::Cursor::new(COMPLETION_ANSWER));
        let first = completions.next_raw().unwrap().unwrap();
        assert!(first.json.starts_with('{') && first.json.contains("\"choices\""));
    }

    #[test]
    fn chunks_give_their_text() {
        let texts: Vec<Option<String>> = ChatStream::from_reader(std::io::Cursor::new(CHAT_ANSWER))
            .map(|c| c.unwrap().into_text())
            .collect();
        assert_eq!(texts.iter().filter(|t| t.is_some()).count(), 2);
        let texts: Vec<String> =
            ChatCompletionStream::from_reader(std::io::Cursor::new(COMPLETION_ANSWER))
                .filter_map(|c| c.unwrap().into_text())
                .collect();
        assert_eq!(
            texts.concat(),
            "Annual plans can be refunded within 30 days [1, pp. 4]."
        );
    }

    /// A body mixing every line ending, comments, multi-line data and noise.
    fn rich_body() -> String {
        let mut body = String::new();
        for (i, line) in CHAT_ANSWER
            .split("\n\n")
            .filter(|l| !l.is_empty())
            .enumerate()
        {
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
    fn the_rich_body_means_the_same_as_the_plain_stream() {
        let rich: Vec<_> = chat(&rich_body()).into_iter().map(|r| r.unwrap()).collect();
        let plain: Vec<_> = chat(CHAT_ANSWER).into_iter().map(|r| r.unwrap()).collect();
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
            let body = COMPLETION_ANSWER.replace("\n\n", "\r\n\r\n");
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
