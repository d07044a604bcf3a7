//! `pinecone_stream`: a streamed answer, chat or chat completion, read chunk by
//! chunk as JSON or as answer text, pushed to a callback, and cancellable from
//! another thread.

use std::ffi::{c_char, c_void};

use ::pinecone_assistant::stream::{Decoder, EventStream};
use ::pinecone_assistant::{CancelHandle, StreamChunk};

use crate::assistant::pinecone_assistant;
use crate::boundary::{FfiError, LentOut, c_string_into, guard_void};
use crate::error::pinecone_result;
use crate::exclusive::{self, Exclusive, ExclusiveHandle, JsonItems, JsonSink, pinecone_json_cb};

/// What the handle reads from a stream: chunks as JSON, or answer text.
pub(crate) trait Chunks: JsonItems {
    /// The next piece of answer text; chunks without text are passed over.
    fn next_text(&mut self) -> Option<Result<String, FfiError>>;

    /// The next chunk's JSON as a C string (with its NUL) in the reader's own
    /// buffer, lent until the reader is next used.
    fn next_lent(&mut self) -> Option<Result<&[u8], FfiError>>;
}

/// The chunks of either kind of stream. A chunk leaves as its event's JSON text
/// exactly as the server sent it (checked by decoding, never encoded again).
struct Reader<D> {
    stream: EventStream<D>,
    /// What `next_lent` lends.
    lent: Vec<u8>,
}

impl<D: Decoder> Reader<D> {
    fn new(stream: EventStream<D>) -> Self {
        Self {
            stream,
            lent: Vec::new(),
        }
    }
}

/// The next chunk's JSON written into `buf` as a C string, straight from the
/// stream's own buffer: no allocation per chunk.
fn fill<D: Decoder>(
    stream: &mut EventStream<D>,
    buf: &mut Vec<u8>,
) -> Option<Result<(), FfiError>> {
    let filled = stream.next_raw_with(|_, json| c_string_into(buf, json.as_bytes()))?;
    Some(filled.map_err(FfiError::from).and_then(|filled| filled))
}

impl<D: Decoder> JsonItems for Reader<D> {
    fn next_json(&mut self) -> Option<Result<String, FfiError>> {
        self.stream.next_raw().map(|raw| Ok(raw?.json))
    }

    fn next_json_into(&mut self, buf: &mut Vec<u8>) -> Option<Result<(), FfiError>> {
        fill(&mut self.stream, buf)
    }
}

impl<D: Decoder> Chunks for Reader<D> {
    fn next_text(&mut self) -> Option<Result<String, FfiError>> {
        for chunk in self.stream.by_ref() {
            match chunk.map(StreamChunk::into_text) {
                Ok(None) => continue,
                Ok(Some(text)) => return Some(Ok(text)),
                Err(e) => return Some(Err(e.into())),
            }
        }
        None
    }

    fn next_lent(&mut self) -> Option<Result<&[u8], FfiError>> {
        Some(fill(&mut self.stream, &mut self.lent)?.map(|()| &self.lent[..]))
    }
}

/// A streamed answer: a chat answer (`pinecone_assistant_chat_stream`) or a chat
/// completion (`pinecone_assistant_chat_completions_stream`), read chunk by chunk.
///
/// Each chunk is the JSON object the server sent, exactly as received. A chat
/// answer's chunks have a `type`: `message_start`, `content_chunk`
/// (`delta.content`), `citation`, `message_end` (`finish_reason`, `usage`), or a
/// type this version does not know. A chat completion's chunks are OpenAI-style:
/// `{"id":...,"choices":[{"index":0,"delta":{"content":"..."},"finish_reason":...}],
/// "model":...,"usage":...}`.
///
/// Use it from one thread at a time (it may move between threads);
/// `pinecone_stream_cancel` alone may be called concurrently.
pub struct pinecone_stream {
    cancel: CancelHandle,
    chunks: Exclusive<Box<dyn Chunks>>,
}

impl pinecone_stream {
    fn new<D: Decoder + 'static>(stream: EventStream<D>) -> Self {
        Self {
            cancel: stream.canceller(),
            chunks: Exclusive::new(Box::new(Reader::new(stream))),
        }
    }
}

impl ExclusiveHandle for pinecone_stream {
    type State = Box<dyn Chunks>;
    const NAME: &'static str = "stream";

    fn exclusive(&self) -> &Exclusive<Box<dyn Chunks>> {
        &self.chunks
    }
}

/// Hands every chunk of `stream` to `sink`; the stream is closed on return.
fn pour<D: Decoder>(sink: JsonSink, stream: EventStream<D>) -> Result<(), FfiError> {
    Exclusive::new(Reader::new(stream)).walk(pinecone_stream::NAME, &sink)
}

/// Starts a streamed chat answer (`POST /chat/{assistant}` with `"stream": true`).
/// The request is sent before this returns, so a refused request (e.g. 404, 400)
/// fails here; chunks are then read as `pinecone_stream_next` asks for them.
///
/// `request_json`: as for `pinecone_assistant_chat` (`json_response` must be off).
/// Its `timeout_ms` is the idle timeout between the stream's bytes; its
/// `total_timeout_ms` bounds the whole stream, from the request to the last
/// chunk, and is off unless given (the client's `total_timeout_ms` does not apply
/// to streams: a long answer is no fault). `stream_out` receives the stream (free
/// with `pinecone_stream_free`, which closes the connection; NULL first and on
/// failure).
///
/// Returns `PINECONE_RESULT_OK`, `_NULL_ARGUMENT`, `_INVALID_UTF8`,
/// `_INVALID_JSON`, `_INVALID_ARGUMENT`, `_NOT_FOUND`, `_API_ERROR`, `_TIMEOUT`,
/// `_TRANSPORT`, `_CANCELLED`. Thread-safe with respect to `assistant`.
///
/// # Safety
///
/// `assistant` is NULL or live; `request_json` is NULL or NUL-terminated;
/// `stream_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_assistant_chat_stream(
    assistant: *const pinecone_assistant,
    request_json: *const c_char,
    stream_out: *mut *mut pinecone_stream,
) -> pinecone_result {
    ffi_call!(stream_out => handle, pinecone_stream::new(
        arg!(assistant: handle).inner.chat_stream(arg!(request_json: chat))?
    ))
}

/// Starts a streamed chat completion (`POST /chat/{assistant}/chat/completions`
/// with `"stream": true`); as `pinecone_assistant_chat_stream`, with the request
/// of `pinecone_assistant_chat_completions`.
///
/// # Safety
///
/// As `pinecone_assistant_chat_stream`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_assistant_chat_completions_stream(
    assistant: *const pinecone_assistant,
    request_json: *const c_char,
    stream_out: *mut *mut pinecone_stream,
) -> pinecone_result {
    ffi_call!(stream_out => handle, pinecone_stream::new(
        arg!(assistant: handle).inner.chat_completions_stream(arg!(request_json: chat))?
    ))
}

/// Streams a chat answer into `cb`: `pinecone_assistant_chat_stream`, then
/// `pinecone_stream_for_each`, then the stream is freed.
///
/// Returns the codes of both; `PINECONE_RESULT_ABORTED` when `cb` returned
/// non-zero (the connection is closed at once). Thread-safe with respect to
/// `assistant`. To cancel from another thread, use a client bound to a
/// `pinecone_cancel` (`pinecone_client_with_cancel`).
///
/// # Safety
///
/// `assistant` is NULL or live; `request_json` is NULL or NUL-terminated; `cb` is
/// NULL or a function that does not unwind.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_assistant_chat_stream_cb(
    assistant: *const pinecone_assistant,
    request_json: *const c_char,
    cb: pinecone_json_cb,
    userdata: *mut c_void,
) -> pinecone_result {
    ffi_call!(pour(
        arg!(cb: sink, userdata),
        arg!(assistant: handle)
            .inner
            .chat_stream(arg!(request_json: chat))?
    )?)
}

/// Streams a chat completion into `cb`; as `pinecone_assistant_chat_stream_cb`.
///
/// # Safety
///
/// As `pinecone_assistant_chat_stream_cb`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_assistant_chat_completions_stream_cb(
    assistant: *const pinecone_assistant,
    request_json: *const c_char,
    cb: pinecone_json_cb,
    userdata: *mut c_void,
) -> pinecone_result {
    ffi_call!(pour(
        arg!(cb: sink, userdata),
        arg!(assistant: handle)
            .inner
            .chat_completions_stream(arg!(request_json: chat))?
    )?)
}

/// The next chunk as JSON (the server's event text as received), read as soon as
/// the server sends it.
///
/// `chunk_json_out` receives an owned JSON string (free with
/// `pinecone_string_free`), or NULL with `PINECONE_RESULT_OK` at the end of the
/// answer (and on every later call). Returns `PINECONE_RESULT_OK`,
/// `_NULL_ARGUMENT`, `_STREAM` (malformed or cut-off stream, a connection that
/// broke, no data within the idle timeout, the total bound passed: the message
/// says which), `_DECODE`, `_CANCELLED`; after an error the stream is finished.
///
/// # Safety
///
/// `stream` is NULL or a live stream not used by another thread except through
/// `pinecone_stream_cancel`; `chunk_json_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_stream_next(
    stream: *mut pinecone_stream,
    chunk_json_out: *mut *mut c_char,
) -> pinecone_result {
    ffi_call!(chunk_json_out => text, exclusive::next(arg!(stream: handle))?)
}

/// The next chunk as JSON, lent instead of handed over: as `pinecone_stream_next`,
/// but `*chunk_json_out` points into the stream's own buffer, so there is
/// nothing to free and no allocation per chunk. It stays valid until the next
/// call on `stream` (any `_next`, `_for_each` or `_free`): copy what you keep.
/// `len_out`, when not NULL, receives its length in bytes without the NUL (0 at
/// the end). For language runtimes that copy each chunk into a string of their
/// own (Python `ctypes.string_at(p, n)`, Go `C.GoStringN`), this is one call per
/// chunk instead of two.
///
/// Returns the codes of `pinecone_stream_next`; `*chunk_json_out` is NULL at the
/// end of the answer and on any error.
///
/// # Safety
///
/// As `pinecone_stream_next`; `len_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_stream_next_borrowed(
    stream: *mut pinecone_stream,
    chunk_json_out: *mut *const c_char,
    len_out: *mut usize,
) -> pinecone_result {
    ffi_call!({
        // SAFETY: this export's `# Safety` section makes both outputs NULL or
        // writable for the whole call.
        let out = unsafe { LentOut::new(chunk_json_out, "chunk_json_out", len_out) }?;
        let mut chunks = arg!(stream: handle).chunks.lock(pinecone_stream::NAME)?;
        if let Some(json) = chunks.next_lent().transpose()? {
            out.set(json);
        }
    })
}

/// The next piece of answer text, for programs that want only the text: the
/// `delta.content` of the next content chunk of a chat answer (it may be empty),
/// or the next non-empty `delta.content` of the first choice of a chat
/// completion. Other chunks are passed over.
///
/// `text_out` receives an owned UTF-8 string (free with `pinecone_string_free`),
/// or NULL at the end. Returns the codes of `pinecone_stream_next`; `_DECODE` if
/// the text holds a NUL byte (only that piece is lost: unlike the other errors,
/// this one does not end the stream).
///
/// # Safety
///
/// As `pinecone_stream_next`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_stream_next_text(
    stream: *mut pinecone_stream,
    text_out: *mut *mut c_char,
) -> pinecone_result {
    ffi_call!(text_out => text, arg!(stream: handle)
        .chunks
        .lock("stream")?
        .next_text()
        .transpose()?)
}

/// Calls `cb(userdata, chunk_json)` for every remaining chunk as it arrives.
///
/// `chunk_json` is borrowed for that call only. Returns `PINECONE_RESULT_OK` at the
/// end of the answer, `PINECONE_RESULT_ABORTED` when `cb` returned non-zero (the
/// rest of the answer stays unread; free the stream to close it), a stream error,
/// or `_NULL_ARGUMENT` for `stream` or `cb`. While this runs the stream is busy:
/// a `_next` on it from `cb` returns `PINECONE_RESULT_INVALID_ARGUMENT`
/// (`pinecone_stream_cancel` works). `cb` may free the stream: the walk then ends
/// once `cb` returns, and the stream is freed then.
///
/// # Safety
///
/// As `pinecone_stream_next`; `cb` is NULL or a function that does not unwind.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_stream_for_each(
    stream: *mut pinecone_stream,
    cb: pinecone_json_cb,
    userdata: *mut c_void,
) -> pinecone_result {
    // SAFETY: forwarded contract.
    ffi_call!(unsafe { exclusive::for_each(stream, cb, userdata) }?)
}

/// Stops the stream from any thread, also while another thread waits in
/// `pinecone_stream_next`: that call (or the next one) returns
/// `PINECONE_RESULT_CANCELLED` promptly and the connection is closed. NULL does
/// nothing. Does not touch the calling thread's last error.
///
/// # Safety
///
/// `stream` is NULL or a live stream; it must not be freed while this runs.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_stream_cancel(stream: *const pinecone_stream) {
    guard_void(|| {
        // SAFETY: NULL or live per the contract; only shared access is made.
        if let Some(stream) = unsafe { stream.as_ref() } {
            stream.cancel.cancel();
        }
    });
}

/// Frees a stream, closing its connection if the answer was not read to the end.
/// NULL does nothing. Called from the stream's own `pinecone_stream_for_each`
/// callback, it ends that walk once the callback returns, and the stream is freed
/// then.
///
/// # Safety
///
/// `stream` is NULL or a stream not yet freed and not in use by another thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_stream_free(stream: *mut pinecone_stream) {
    // SAFETY: forwarded contract.
    unsafe { exclusive::free(stream) }
}

#[cfg(test)]
mod tests {
    use ::pinecone_assistant::{ChatCompletionStream, ChatStream};

    use super::*;

    /// Reads every JSON chunk, then checks the end is sticky.
    fn all_json(mut chunks: impl Chunks) -> Vec<String> {
        let mut out = Vec::new();
        while let Some(json) = chunks.next_json() {
            out.push(json.unwrap());
        }
        assert!(chunks.next_json().is_none());
        out
    }

    #[test]
    fn chunks_leave_as_the_server_sent_them() {
        let chat = concat!(
            "data: {\"type\": \"content_chunk\", \"id\": \"1\",\n",
            "data:  \"delta\": {\"content\": \"Hi\"}, \"extra\": [1, 2]}\n\n",
            "data: {\"type\":\"message_end\",\"id\":\"1\",\"finish_reason\":\"stop\"}\n\n",
        );
        assert_eq!(
            all_json(Reader::new(ChatStream::from_reader(chat.as_bytes()))),
            [
                "{\"type\": \"content_chunk\", \"id\": \"1\",\n \"delta\": {\"content\": \"Hi\"}, \"extra\": [1, 2]}",
                r#"{"type":"message_end","id":"1","finish_reason":"stop"}"#,
            ]
        );
        let completions = concat!(
            "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}] }\n\n",
            "data: [DONE]\n\n",
        );
        assert_eq!(
            all_json(Reader::new(ChatCompletionStream::from_reader(
                completions.as_bytes()
            ))),
            [r#"{"id":"c","choices":[{"index":0,"delta":{"content":"Hi"}}] }"#]
        );
    }

    #[test]
    fn lent_chunks_and_callback_chunks_are_the_owned_ones_with_a_nul() {
        let chat = concat!(
            "data: {\"type\": \"content_chunk\", \"id\": \"1\",\n",
            "data:  \"delta\": {\"content\": \"Hi\"}, \"extra\": [1, 2]}\n\n",
            "data: {\"type\":\"citation\",\"id\":\"1\",\"citation\":{\"position\":2,\"references\":[]}}\n\n",
            "data: {\"type\":\"message_end\",\"id\":\"1\",\"finish_reason\":\"stop\"}\n\n",
        );
        let owned = all_json(Reader::new(ChatStream::from_reader(chat.as_bytes())));
        let with_nul = |json: &String| format!("{json}\0").into_bytes();

        let mut reader = Reader::new(ChatStream::from_reader(chat.as_bytes()));
        let mut lent = Vec::new();
        while let Some(json) = reader.next_lent() {
            lent.push(json.unwrap().to_vec());
        }
        assert!(reader.next_lent().is_none());
        assert_eq!(lent, owned.iter().map(with_nul).collect::<Vec<_>>());

        let mut reader = Reader::new(ChatStream::from_reader(chat.as_bytes()));
        let (mut buf, mut pushed) = (Vec::new(), Vec::new());
        while let Some(filled) = reader.next_json_into(&mut buf) {
            filled.unwrap();
            pushed.push(buf.clone());
        }
        assert_eq!(pushed, lent);

        // An error ends the lending as it ends the owned walk.
        let cut = "data: {\"type\":\"message_start\",\"id\":\"1\",\"model\":\"m\",\"role\":\"assistant\"}\n\n";
        let mut reader = Reader::new(ChatStream::from_reader(cut.as_bytes()));
        assert!(
            reader
                .next_lent()
                .unwrap()
                .unwrap()
                .starts_with(b"{\"type\":\"message_start\"")
        );
        assert_eq!(
            reader.next_lent().unwrap().unwrap_err().code,
            pinecone_result::Stream
        );
        assert!(reader.next_lent().is_none());
    }

    #[test]
    fn text_passes_over_chunks_without_any() {
        let chat = concat!(
            "data: {\"type\":\"message_start\",\"id\":\"1\",\"model\":\"m\",\"role\":\"assistant\"}\n\n",
            "data: {\"type\":\"content_chunk\",\"id\":\"1\",\"delta\":{\"content\":\"Hi\"}}\n\n",
            "data: {\"type\":\"content_chunk\",\"id\":\"1\",\"delta\":{\"content\":\"\"}}\n\n",
            "data: {\"type\":\"message_end\",\"id\":\"1\",\"finish_reason\":\"stop\"}\n\n",
        );
        let mut reader = Reader::new(ChatStream::from_reader(chat.as_bytes()));
        assert_eq!(reader.next_text().unwrap().unwrap(), "Hi");
        // A chat content chunk may carry empty text; it is still a piece.
        assert_eq!(reader.next_text().unwrap().unwrap(), "");
        assert!(reader.next_text().is_none());

        let cut = "data: {\"type\":\"message_start\",\"id\":\"1\",\"model\":\"m\",\"role\":\"assistant\"}\n\n";
        let mut reader = Reader::new(ChatStream::from_reader(cut.as_bytes()));
        let error = reader.next_text().unwrap().unwrap_err();
        assert_eq!(error.code, pinecone_result::Stream);
    }
}
