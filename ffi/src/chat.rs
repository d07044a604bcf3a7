//! Retrieval and generation without streaming: context, chat, chat completions,
//! alignment evaluation.

use std::ffi::c_char;

use crate::assistant::pinecone_assistant;
use crate::client::pinecone_client;
use crate::error::pinecone_result;

/// Retrieves context snippets (`POST /chat/{assistant}/context`).
///
/// `request_json`: `{"query": "..."}` or `{"messages": [{"role": "user",
/// "content": "..."}]}` (exactly one of them), plus optional `filter`, `top_k`,
/// `snippet_size`, `multimodal`, `include_binary_content`. `json_out` receives
/// `{"id":...,"snippets":[...],"usage":{...}}` (free with `pinecone_string_free`;
/// NULL first and on failure).
///
/// Returns `PINECONE_RESULT_OK`, `_NULL_ARGUMENT`, `_INVALID_UTF8`,
/// `_INVALID_JSON`, `_INVALID_ARGUMENT` (both or neither of query and messages),
/// `_NOT_FOUND`, `_API_ERROR`, `_TIMEOUT`, `_TRANSPORT`, `_DECODE`, `_CANCELLED`.
/// Thread-safe.
///
/// # Safety
///
/// `assistant` is NULL or live; `request_json` is NULL or NUL-terminated;
/// `json_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_assistant_context(
    assistant: *const pinecone_assistant,
    request_json: *const c_char,
    json_out: *mut *mut c_char,
) -> pinecone_result {
    ffi_call!(json_out => json, arg!(assistant: handle).inner.context(arg!(request_json: json))?)
}

/// Asks the assistant (`POST /chat/{assistant}`) and returns the whole answer.
///
/// `request_json`: `{"messages": [{"role": "user", "content": "..."}]}` plus
/// optional `model` (default `"gpt-4o"`), `temperature`, `filter`,
/// `json_response`, `include_highlights`, `context_options` (`top_k`,
/// `snippet_size`, `multimodal`, `include_binary_content`), and two settings of
/// this call that are not sent to the server:
/// - `timeout_ms`: the *idle* timeout, the longest silence the call accepts
///   (default: the larger of the client's `timeout_ms` and
///   `chat_read_timeout_ms`);
/// - `total_timeout_ms`: the *total* bound, the longest the whole call may take,
///   from sending the request to the end of the answer (default: the client's
///   `total_timeout_ms`; 0 for no bound).
///
/// A `stream` key is ignored: use `pinecone_assistant_chat_stream` to stream.
/// `json_out` receives
/// `{"id":...,"model":...,"message":{"role":...,"content":...},"citations":[...],
/// "usage":{...},"finish_reason":...}` (free with `pinecone_string_free`).
///
/// Returns `PINECONE_RESULT_OK`, `_NULL_ARGUMENT`, `_INVALID_UTF8`,
/// `_INVALID_JSON`, `_INVALID_ARGUMENT`, `_NOT_FOUND`, `_API_ERROR`, `_TIMEOUT`
/// (before the answer began: no answer within the idle timeout, or the total
/// bound passed), `_TRANSPORT`, `_STREAM` (the answer broke off after the server
/// had accepted the request, for whatever reason, a passed bound included: the
/// chat may have run and been billed, so do not repeat it blindly),
/// `_BODY_TOO_LARGE`, `_DECODE`, `_CANCELLED`. Thread-safe.
///
/// # Safety
///
/// As `pinecone_assistant_context`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_assistant_chat(
    assistant: *const pinecone_assistant,
    request_json: *const c_char,
    json_out: *mut *mut c_char,
) -> pinecone_result {
    ffi_call!(json_out => json, arg!(assistant: handle).inner.chat(arg!(request_json: chat))?)
}

/// OpenAI-compatible chat (`POST /chat/{assistant}/chat/completions`), whole answer.
///
/// `request_json`: `{"messages": [...]}` plus optional `model`, `temperature`,
/// `filter`, and `timeout_ms` and `total_timeout_ms` as for
/// `pinecone_assistant_chat` (a `stream` key is ignored). `json_out` receives
/// `{"id":...,"choices":[{"index":0,"message":{...},"finish_reason":...}],
/// "model":...,"usage":{...}}` (free with `pinecone_string_free`).
///
/// Returns the codes of `pinecone_assistant_chat`. Thread-safe.
///
/// # Safety
///
/// As `pinecone_assistant_context`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_assistant_chat_completions(
    assistant: *const pinecone_assistant,
    request_json: *const c_char,
    json_out: *mut *mut c_char,
) -> pinecone_result {
    ffi_call!(json_out => json, arg!(assistant: handle)
        .inner
        .chat_completions(arg!(request_json: chat))?)
}

/// Scores an answer against a ground truth (`POST /evaluation/metrics/alignment`
/// on the evaluation host chosen by `evaluation_region` / `evaluation_host`).
///
/// `request_json`: `{"question": "...", "answer": "...", "ground_truth_answer":
/// "..."}`. `json_out` receives `{"metrics":{"correctness":...,"completeness":...,
/// "alignment":...},"reasoning":{"evaluated_facts":[...]},"usage":{...}}` (free with
/// `pinecone_string_free`).
///
/// Returns `PINECONE_RESULT_OK`, `_NULL_ARGUMENT`, `_INVALID_UTF8`,
/// `_INVALID_JSON`, `_API_ERROR` (e.g. 422), `_TIMEOUT`, `_TRANSPORT`, `_DECODE`,
/// `_CANCELLED`. Thread-safe.
///
/// # Safety
///
/// `client` is NULL or live; `request_json` is NULL or NUL-terminated; `json_out`
/// is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pinecone_client_evaluate_alignment(
    client: *const pinecone_client,
    request_json: *const c_char,
    json_out: *mut *mut c_char,
) -> pinecone_result {
    ffi_call!(json_out => json, arg!(client: handle)
        .inner
        .evaluate_alignment(arg!(request_json: json))?)
}
