//! Context, chat, chat completions and evaluation against local servers: exact
//! request bodies, fixture decoding, streaming delivery, cancellation, timeouts.

mod support;

use std::io::Read;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use mockito::{Matcher, Mock, Server, ServerGuard};
use pinecone_assistant::models::{
    AlignmentRequest, ChatCompletionRequest, ChatRequest, ChatStreamChunk, ContentBlock,
    ContextOptions, ContextRequest, Entailment, FinishReason, Message, Snippet,
};
use pinecone_assistant::{
    Assistant, CancelHandle, Client, ClientConfig, ClientConfigBuilder, Error, EvaluationRegion,
    RetryPolicy, TimeoutPhase, TransportErrorKind,
};
use serde_json::json;
use support::fixtures::*;
use support::mock::{
    ASSISTANT, assert_all, assistant, builder, builder_for, control_plane_for, data_plane, once,
    post_json, refuses,
};
use support::tcp::{RawServer, end_chunks, mute_proxy, send_chunk, send_sse_headers};

const CHAT: &str = "/assistant/chat/support-bot";
const COMPLETIONS: &str = "/assistant/chat/support-bot/chat/completions";
const CONTEXT: &str = "/assistant/chat/support-bot/context";
const ALIGNMENT: &str = "/assistant/evaluation/metrics/alignment";

/// The refund question with a filter, temperature and context options.
fn refund_request() -> ChatRequest {
    ChatRequest::new([Message::user(REFUND_QUESTION)])
        .temperature(0.2)
        .filter(json!({"department": {"$eq": "billing"}}))
        .context_options(ContextOptions::new().top_k(8).snippet_size(512))
}

/// A chat request saying "hi".
fn hi() -> ChatRequest {
    ChatRequest::new([Message::user("hi")])
}

/// A chat-completions request saying "hi".
fn hi_completion() -> ChatCompletionRequest {
    ChatCompletionRequest::new([Message::user("hi")])
}

/// A chat POST answered with `status`.
fn chat_answering(server: &mut ServerGuard, status: usize) -> Mock {
    server.mock("POST", CHAT).with_status(status)
}

/// Whether `err` is a timeout that passed while waiting for the server's answer.
fn is_receive_timeout(err: &Error) -> bool {
    let receive = TransportErrorKind::Timeout(TimeoutPhase::Receive);
    matches!(err, Error::Timeout(t) if t.kind() == receive)
}

/// Whether `err` reports a stream that ended before its last event.
fn is_truncated(err: &Error) -> bool {
    matches!(err, Error::Stream(m) if m.contains("truncated"))
}

#[test]
fn streams_can_move_to_another_thread_and_be_cancelled_from_one() {
    fn send<T: Send>() {}
    fn send_sync<T: Send + Sync>() {}
    send::<pinecone_assistant::ChatStream>();
    send::<pinecone_assistant::ChatCompletionStream>();
    send_sync::<CancelHandle>();
}

// ---------------------------------------------------------------- chat

#[test]
fn chat_sends_the_exact_body_and_decodes_the_answer() {
    let (mut server, describe) = data_plane();
    let chat = post_json(&mut server, CHAT, REFUND_CHAT_REQUEST)
        .with_status(200)
        .with_header("content-type", "application/json")
        .with_body(CHAT_RESPONSE)
        .expect(2)
        .create();
    let bot = assistant(&server);
    let reply = bot.chat(refund_request().include_highlights(true)).unwrap();
    let answer = "Customers on annual plans can request a full refund within 30 days of purchase.";
    assert_eq!(reply.content(), answer);
    let id = reply.id.as_deref();
    assert_eq!(id, Some("00000000000000004c9f1e2a7b3d5c60"));
    assert_eq!(reply.finish_reason, Some(FinishReason::Stop));
    assert_eq!(reply.usage.unwrap().total_tokens, 2192);
    assert_eq!(reply.context_snippet_count, Some(8));
    let citation = &reply.citations[0];
    assert_eq!(citation.position, Some(79));
    let reference = &citation.references[0];
    assert_eq!(reference.pages, [4]);
    assert_eq!(reference.highlight.as_ref().unwrap().kind, "text");
    let file = reference.file.as_ref().unwrap();
    assert_eq!(file.name, "billing-policy-2025.pdf");
    // The host is cached: the second call describes nothing.
    bot.chat(refund_request().include_highlights(true)).unwrap();
    assert_all(&[&describe, &chat]);
}

#[test]
fn chat_without_options_sends_only_the_required_keys() {
    let (mut server, _describe) = data_plane();
    let minimal = r#"{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}],"model":"gpt-4o","stream":false}"#;
    let minimal = post_json(&mut server, CHAT, minimal)
        .with_body(r#"{"message":{"role":"assistant","content":"ok"}}"#)
        .create();
    let json_mode = r#"{"messages":[{"role":"system","content":"s"}],"model":"gpt-5","stream":false,"json_response":true,"context_options":{"multimodal":false,"include_binary_content":false}}"#;
    let json_mode = post_json(&mut server, CHAT, json_mode)
        .with_body(r#"{"message":{"role":"assistant","content":"{}"},"citations":[]}"#)
        .create();
    let bot = assistant(&server);
    let conversation = [Message::user("hi"), Message::assistant("hello")];
    let reply = bot.chat(ChatRequest::new(conversation)).unwrap();
    assert_eq!(reply.content(), "ok");
    assert!(reply.citations.is_empty());
    let no_media = ContextOptions::new()
        .multimodal(false)
        .include_binary_content(false);
    let request = ChatRequest::new([Message::system("s")])
        .model("gpt-5")
        .json_response(true)
        .context_options(no_media);
    bot.chat(request).unwrap();
    assert_all(&[&minimal, &json_mode]);
}

#[test]
fn chat_server_error_is_not_retried() {
    let (mut server, _describe) = data_plane();
    let boom = r#"{"error":{"code":"INTERNAL","message":"boom"},"status":500}"#;
    let chat = once(chat_answering(&mut server, 500).with_body(boom));
    let err = assistant(&server).chat(hi()).unwrap_err();
    assert_eq!(err.status(), Some(500));
    chat.assert();
}

// ---------------------------------------------------------------- chat stream

#[test]
fn chat_stream_sends_the_exact_body_and_yields_five_chunks() {
    let (mut server, _describe) = data_plane();
    let chat = post_json(&mut server, CHAT, REFUND_CHAT_STREAM_REQUEST);
    let chat = chat.with_header("content-type", "text/event-stream");
    let chat = chat.with_body(CHAT_STREAM).create();
    let stream = assistant(&server).chat_stream(refund_request()).unwrap();
    let chunks: Vec<ChatStreamChunk> = stream.collect::<Result<_, _>>().unwrap();
    let kinds: Vec<&str> = chunks.iter().map(ChatStreamChunk::kind).collect();
    assert_eq!(kinds, CHAT_STREAM_KINDS);
    let ChatStreamChunk::MessageEnd(end) = &chunks[4] else {
        panic!("{:?}", chunks[4]);
    };
    assert_eq!(end.finish_reason, Some(FinishReason::Stop));
    let usage = end.usage.unwrap();
    let counts = [usage.prompt_tokens, usage.completion_tokens];
    assert_eq!((counts, usage.total_tokens), ([2154, 14], 2168));
    // Chunks serialise back to the wire JSON they came from.
    let first_line = CHAT_STREAM.lines().next().unwrap();
    let first_event = first_line.strip_prefix("data: ").unwrap();
    assert_eq!(serde_json::to_string(&chunks[0]).unwrap(), first_event);
    chat.assert();
}

#[test]
fn chat_stream_refuses_json_response_without_sending() {
    let (mut server, describe) = data_plane();
    let chat = server.mock("POST", CHAT).expect(0).create();
    let err = assistant(&server).chat_stream(hi().json_response(true));
    let err = err.unwrap_err();
    assert!(
        matches!(&err, Error::InvalidArgument { name, .. } if name == "json_response"),
        "{err}"
    );
    chat.assert();
    describe.expect(0).assert();
}

#[test]
fn chat_stream_http_errors_come_from_the_call() {
    let (mut server, _describe) = data_plane();
    let body = r#"{"error":{"code":"INVALID_ARGUMENT","message":"no files"},"status":400}"#;
    let chat = chat_answering(&mut server, 400).with_header("x-pinecone-request-id", "r-1");
    let chat = once(chat.with_body(body));
    let err = assistant(&server).chat_stream(hi()).unwrap_err();
    let text = err.to_string();
    assert_eq!(text, "[400 INVALID_ARGUMENT] no files (request_id: r-1)");
    chat.assert();
}

#[test]
fn chat_stream_cut_off_is_an_error_not_a_short_answer() {
    let (mut server, _describe) = data_plane();
    let end = CHAT_STREAM.find("data: {\"type\":\"message_end\"").unwrap();
    let chat = chat_answering(&mut server, 200)
        .with_header("content-type", "text/event-stream")
        .with_body(&CHAT_STREAM[..end])
        .create();
    let stream = assistant(&server).chat_stream(hi()).unwrap();
    let err = stream.into_response().unwrap_err();
    assert!(is_truncated(&err), "{err}");
    chat.assert();
}

// ---------------------------------------------------------------- completions

#[test]
fn chat_completions_plain_and_streamed() {
    let (mut server, _describe) = data_plane();
    let plain = r#"{"messages":[{"role":"user","content":"How long is the refund window?"}],"model":"gpt-4o","stream":false,"temperature":0.0,"filter":{"team":"billing"}}"#;
    let answer = r#"{"id":"c1","model":"gpt-4o-2024-11-20","choices":[{"index":0,"message":{"role":"assistant","content":"30 days [1, pp. 4]."},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}}"#;
    let plain = post_json(&mut server, COMPLETIONS, plain)
        .with_body(answer)
        .create();
    let streamed = r#"{"messages":[{"role":"user","content":"How long is the refund window?"}],"model":"gpt-4o","stream":true}"#;
    let streamed = post_json(&mut server, COMPLETIONS, streamed)
        .with_header("content-type", "text/event-stream")
        .with_body(COMPLETIONS_STREAM)
        .create();
    let bot = assistant(&server);
    let question = [Message::user("How long is the refund window?")];
    let request = ChatCompletionRequest::new(question.clone())
        .temperature(0.0)
        .filter(json!({"team": "billing"}));
    let reply = bot.chat_completions(request).unwrap();
    assert_eq!(reply.content(), "30 days [1, pp. 4].");
    assert_eq!(reply.usage.unwrap().total_tokens, 15);
    let stream = bot.chat_completions_stream(ChatCompletionRequest::new(question));
    let pieces: Vec<String> = stream.unwrap().text().collect::<Result<_, _>>().unwrap();
    let expected = [
        "Annual plans can be refunded within 30 days",
        " [1, pp. 4].",
    ];
    assert_eq!(pieces, expected);
    assert_all(&[&plain, &streamed]);
}

// ---------------------------------------------------------------- context

#[test]
fn context_sends_the_exact_body_and_decodes_every_snippet_kind() {
    let (mut server, _describe) = data_plane();
    let by_query =
        r#"{"query":"refund window","top_k":3,"multimodal":true,"include_binary_content":true}"#;
    let by_query = post_json(&mut server, CONTEXT, by_query)
        .with_body(CONTEXT_RESPONSE)
        .create();
    let by_messages = r#"{"messages":[{"role":"user","content":"refund?"}],"filter":{"team":"billing"},"snippet_size":0}"#;
    let video = r#"{"snippets":[{"type":"video","url":"x"}],"usage":{"prompt_tokens":1,"completion_tokens":0,"total_tokens":1}}"#;
    let by_messages = post_json(&mut server, CONTEXT, by_messages)
        .with_body(video)
        .create();
    let bot = assistant(&server);
    let request = ContextRequest::query("refund window")
        .top_k(3)
        .multimodal(true)
        .include_binary_content(true);
    let found = bot.context(request).unwrap();
    assert_eq!(found.id.as_deref(), Some("ctx-5b0e7d2c"));
    assert_eq!(found.snippets.len(), 3);
    assert_eq!(found.usage.prompt_tokens, 31);
    let Snippet::Text(first) = &found.snippets[0] else {
        panic!("{:?}", found.snippets[0]);
    };
    assert_eq!(first.reference.kind.as_deref(), Some("pdf"));
    assert_eq!(first.reference.pages, [4]);
    let Snippet::Multimodal(second) = &found.snippets[1] else {
        panic!("{:?}", found.snippets[1]);
    };
    assert_eq!(second.reference.pages, [7, 8]);
    match &second.content[1] {
        ContentBlock::Image { caption, image } => {
            assert!(caption.starts_with("Bar chart"));
            assert_eq!(image.as_ref().unwrap().mime_type, "image/png");
        }
        other => panic!("{other:?}"),
    }
    let captioned_only = &second.content[2];
    assert!(matches!(
        captioned_only,
        ContentBlock::Image { image: None, .. }
    ));
    let third = found.snippets[2].reference().unwrap();
    assert_eq!(third.kind.as_deref(), Some("markdown"));
    assert!(third.pages.is_empty());

    let request = ContextRequest::messages([Message::user("refund?")])
        .filter(json!({"team": "billing"}))
        .snippet_size(0);
    let odd = bot.context(request).unwrap();
    assert!(matches!(&odd.snippets[0], Snippet::Other(v) if v["type"] == "video"));
    assert_all(&[&by_query, &by_messages]);
}

#[test]
fn context_validation_happens_before_any_request() {
    let (mut server, describe) = data_plane();
    let any = refuses(&mut server, "POST");
    let bot = assistant(&server);
    let empty = [
        ContextRequest::query(""),
        ContextRequest::messages([]),
        ContextRequest::default(),
    ];
    for bad in empty {
        let err = bot.context(bad).unwrap_err();
        assert!(matches!(err, Error::InvalidArgument { .. }), "{err}");
    }
    let mut both = ContextRequest::query("q");
    both.messages = Some(vec![Message::user("m")]);
    let err = bot.context(both);
    assert!(matches!(err, Err(Error::InvalidArgument { .. })));
    any.assert();
    describe.expect(0).assert();
}

// ---------------------------------------------------------------- evaluation

#[test]
fn evaluate_alignment_on_an_overridden_host() {
    let mut server = Server::new();
    let question = "What is the refund window for annual plans?";
    let answer = "30 days, but only monthly plans are refundable.";
    let truth = "Annual plans can be refunded within 30 days.";
    let body = r#"{"question":"What is the refund window for annual plans?","answer":"30 days, but only monthly plans are refundable.","ground_truth_answer":"Annual plans can be refunded within 30 days."}"#;
    let eval = post_json(&mut server, ALIGNMENT, body)
        .with_body(ALIGNMENT_RESPONSE)
        .create();
    let config = builder_for("http://127.0.0.1:9")
        .evaluation_region(EvaluationRegion::Eu)
        .evaluation_host(server.url());
    let client = Client::new(config.build()).unwrap();
    let request = AlignmentRequest::new(question, answer, truth);
    let r = client.evaluate_alignment(request).unwrap();
    assert_eq!(r.scores().correctness, 0.5);
    assert_eq!(r.scores().completeness, 1.0);
    assert_eq!(r.scores().alignment, 0.6667);
    assert_eq!(r.facts().len(), 2);
    assert_eq!(r.facts()[1].entailment, Entailment::Contradicted);
    let reasoning = &r.facts()[0].reasoning;
    assert_eq!(
        reasoning,
        "The answer states 30 days, matching the ground truth."
    );
    assert_eq!(r.usage.total_tokens, 508);
    eval.assert();
}

#[test]
fn hosts_given_with_the_documented_assistant_suffix_are_not_doubled() {
    // The API documentation and the official SDKs' override write hosts as
    // `https://…/assistant`; the client adds `/assistant` itself.
    let mut server = Server::new();
    let eval = once(server.mock("POST", ALIGNMENT).with_body(ALIGNMENT_RESPONSE));
    let describe = once(
        server
            .mock("GET", "/assistant/assistants/bot")
            .with_body(r#"{"name":"bot","status":"Ready"}"#),
    );
    let doubled = server
        .mock("POST", Matcher::Regex("^/assistant/assistant/".into()))
        .expect(0)
        .create();
    let with_suffix = format!("{}/assistant", server.url());
    let config = builder_for(&with_suffix).evaluation_host(&with_suffix);
    let client = Client::new(config.build()).unwrap();
    client
        .evaluate_alignment(AlignmentRequest::new("q", "a", "t"))
        .unwrap();
    client.describe_assistant("bot").unwrap();
    assert_all(&[&eval, &describe, &doubled]);
}

#[test]
fn evaluate_alignment_422_message() {
    let mut server = Server::new();
    let missing = r#"{"message":"ground_truth_answer: field required"}"#;
    let eval = server.mock("POST", ALIGNMENT).with_status(422);
    let eval = once(eval.with_body(missing));
    let client = Client::new(builder(&server).evaluation_host(server.url()).build()).unwrap();
    let err = client.evaluate_alignment(AlignmentRequest::new("q", "a", ""));
    let text = err.unwrap_err().to_string();
    assert_eq!(text, "[422] ground_truth_answer: field required");
    eval.assert();
}

/// The first request line a client sends through an HTTP proxy on 127.0.0.1,
/// which answers nothing and closes: for HTTPS targets that is the CONNECT line
/// naming the target host, so no byte leaves this machine (an HTTP proxy gets
/// the host name unresolved: not even a DNS query is made).
fn connect_target(builder: ClientConfigBuilder) -> String {
    let (proxy, seen) = mute_proxy();
    let config = builder.proxy(proxy).retry(RetryPolicy::none());
    let client = Client::new(config.build()).unwrap();
    let outcome = client.evaluate_alignment(AlignmentRequest::new("q", "a", "g"));
    assert!(outcome.is_err());
    seen.join().unwrap()
}

#[test]
fn evaluation_goes_to_the_us_host_by_default_and_eu_when_selected() {
    let us = connect_target(ClientConfig::builder("test-key"));
    let us_host = "CONNECT prod-1-data.ke.pinecone.io:443 ";
    assert!(us.starts_with(us_host), "{us}");
    let eu_config = ClientConfig::builder("test-key").evaluation_region(EvaluationRegion::Eu);
    let eu = connect_target(eu_config);
    let eu_host = "CONNECT prod-eu-data.ke.pinecone.io:443 ";
    assert!(eu.starts_with(eu_host), "{eu}");
}

// ---------------------------------------------------------------- live streaming

/// A client whose data plane is `raw`, with a `timeout` and a `chat_read_timeout`;
/// the control plane that sends it there is returned too, to be kept alive.
fn raw_client(raw: &RawServer, timeout: Duration, chat: Duration) -> (ServerGuard, Client) {
    let (server, _describe) = control_plane_for(&raw.url());
    let config = builder(&server).timeout(timeout).chat_read_timeout(chat);
    (server, Client::new(config.build()).unwrap())
}

/// The assistant on a [`raw_client`] with short timeouts, so that a stream that
/// fails to wake fails the test within seconds instead of hanging it.
fn raw_assistant(raw: &RawServer) -> (ServerGuard, Client, Assistant) {
    let (cp, client) = raw_client(raw, Duration::from_secs(5), Duration::from_secs(5));
    let docs = client.assistant(ASSISTANT);
    (cp, client, docs)
}

/// Runs `f` on another thread after `delay`.
fn after(delay: Duration, f: impl FnOnce() + Send + 'static) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        thread::sleep(delay);
        f();
    })
}

#[test]
fn each_event_is_yielded_before_the_server_sends_the_next() {
    let (go_on, wait) = mpsc::channel::<()>();
    let (body_tx, body_rx) = mpsc::channel();
    let raw = RawServer::start(Box::new(move |socket, body| {
        body_tx.send(body).unwrap();
        send_sse_headers(socket);
        for event in chat_stream_events() {
            send_chunk(socket, &event);
            // Hold the rest back until the test has seen this event. The timeout
            // only keeps a broken client from hanging the test.
            if wait.recv_timeout(Duration::from_secs(10)).is_err() {
                return;
            }
        }
        end_chunks(socket);
    }));
    let (_cp, _client, docs) = raw_assistant(&raw);
    let mut stream = docs.chat_stream(refund_request()).unwrap();
    assert_eq!(body_rx.recv().unwrap(), REFUND_CHAT_STREAM_REQUEST);
    let mut kinds = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let chunk = stream.next().unwrap().unwrap();
        // Served from what the server has flushed so far: no waiting for more.
        assert!(started.elapsed() < Duration::from_secs(5));
        kinds.push(chunk.kind().to_owned());
        go_on.send(()).unwrap();
    }
    assert!(stream.next().is_none());
    assert_eq!(kinds, CHAT_STREAM_KINDS);
    raw.join();
}

/// A server that sends the first event and then nothing until told to finish;
/// it reports whether the client closed the connection before that.
fn silent_after_first_event() -> (RawServer, mpsc::Sender<()>, mpsc::Receiver<bool>) {
    let (finish, wait) = mpsc::channel::<()>();
    let (closed_tx, closed) = mpsc::channel();
    let raw = RawServer::start(Box::new(move |socket, _| {
        send_sse_headers(socket);
        send_chunk(socket, &chat_stream_events()[0]);
        socket
            .set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        let mut byte = [0u8; 1];
        loop {
            match socket.read(&mut byte) {
                Ok(0) => {
                    let _ = closed_tx.send(true);
                    return;
                }
                Ok(_) => {}
                Err(_) if wait.try_recv().is_ok() => {
                    let _ = closed_tx.send(false);
                    return;
                }
                Err(_) => {}
            }
        }
    }));
    (raw, finish, closed)
}

/// A server that reads the request, reports its body and then stays silent
/// (no response headers) until told to finish.
fn silent_server() -> (RawServer, mpsc::Sender<()>, mpsc::Receiver<String>) {
    let (finish, wait) = mpsc::channel::<()>();
    let (body_tx, body_rx) = mpsc::channel();
    let raw = RawServer::start(Box::new(move |_socket, body| {
        let _ = body_tx.send(body);
        let _ = wait.recv_timeout(Duration::from_secs(10));
    }));
    (raw, finish, body_rx)
}

#[test]
fn canceller_wakes_a_blocked_next_from_another_thread() {
    let (raw, finish, closed) = silent_after_first_event();
    let (_cp, _client, docs) = raw_assistant(&raw);
    let mut stream = docs.chat_stream(hi()).unwrap();
    let first = stream.next();
    assert!(matches!(first, Some(Ok(ChatStreamChunk::MessageStart(_)))));
    let stop = stream.canceller();
    let canceller = after(Duration::from_millis(200), move || stop.cancel());
    let started = Instant::now();
    let outcome = stream.next();
    let waited = started.elapsed();
    assert!(
        matches!(outcome, Some(Err(Error::Cancelled))),
        "{outcome:?}"
    );
    assert!(waited < Duration::from_secs(2), "took {waited:?}");
    assert!(stream.next().is_none());
    // The socket was shut down: the server sees the connection close.
    assert_eq!(closed.recv_timeout(Duration::from_secs(5)), Ok(true));
    let _ = finish.send(());
    canceller.join().unwrap();
    raw.join();
}

#[test]
fn the_clients_cancel_handle_stops_its_streams_too() {
    let (raw, finish, _closed) = silent_after_first_event();
    let (_cp, client, _docs) = raw_assistant(&raw);
    let stop = CancelHandle::new();
    let docs = client.with_cancel_handle(stop.clone()).assistant(ASSISTANT);
    let mut stream = docs.chat_completions_stream(hi_completion()).unwrap();
    let canceller = after(Duration::from_millis(200), move || stop.cancel());
    // The first event is a chat chunk, skipped by the completions decoder, so
    // this blocks on the silent socket until the cancel.
    let started = Instant::now();
    let outcome = stream.next();
    assert!(
        matches!(outcome, Some(Err(Error::Cancelled))),
        "{outcome:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    let _ = finish.send(());
    canceller.join().unwrap();
    raw.join();
}

/// Starts `call` on another thread with a client of a silent server, cancels the
/// client's handle 300 ms later, and checks the call ended `Cancelled` at once.
fn cancelled_while_waiting(call: impl FnOnce(Assistant) -> Result<(), Error> + Send + 'static) {
    let (raw, finish, _body) = silent_server();
    let (_cp, client, _docs) = raw_assistant(&raw);
    let stop = CancelHandle::new();
    let worker = client.with_cancel_handle(stop.clone()).assistant(ASSISTANT);
    let call = thread::spawn(move || {
        let started = Instant::now();
        (call(worker), started.elapsed())
    });
    thread::sleep(Duration::from_millis(300));
    stop.cancel();
    let (outcome, waited) = call.join().unwrap();
    assert!(matches!(outcome, Err(Error::Cancelled)), "{outcome:?}");
    assert!(waited < Duration::from_secs(3), "took {waited:?}");
    let _ = finish.send(());
    raw.join();
}

#[test]
fn cancel_while_waiting_for_response_headers() {
    cancelled_while_waiting(|docs| docs.chat_stream(hi()).map(|_| ()));
}

#[test]
fn plain_chat_and_completions_stop_when_cancelled_while_the_answer_is_written() {
    cancelled_while_waiting(|docs| docs.chat(hi()).map(|_| ()));
    cancelled_while_waiting(|docs| docs.chat_completions(hi_completion()).map(|_| ()));
}

#[test]
fn dropping_a_stream_closes_its_connection() {
    let (raw, finish, closed) = silent_after_first_event();
    let (_cp, _client, docs) = raw_assistant(&raw);
    let mut stream = docs.chat_stream(hi()).unwrap();
    assert!(stream.next().unwrap().is_ok());
    drop(stream);
    assert_eq!(closed.recv_timeout(Duration::from_secs(5)), Ok(true));
    let _ = finish.send(());
    raw.join();
}

/// A client whose idle timeout is 100 ms but whose chat calls wait 400 ms.
fn short_timeout_client(raw: &RawServer) -> (ServerGuard, Client) {
    raw_client(raw, Duration::from_millis(100), Duration::from_millis(400))
}

/// Whether `waited` is about the 400 ms chat read timeout (and not the 100 ms one).
fn waited_the_chat_read_timeout(waited: Duration) -> bool {
    waited >= Duration::from_millis(350) && waited < Duration::from_secs(3)
}

/// Whether `err` says a chat answer stopped after the server accepted the
/// request, for `why`: a stream error that no one should retry blindly.
fn stopped_after_acceptance(err: &Error, why: &str) -> bool {
    matches!(err, Error::Stream(m) if m.contains(why) && m.contains("may have run"))
        && !err.is_retryable()
}

#[test]
fn a_silent_stream_times_out_after_the_chat_read_timeout() {
    let (raw, finish, _closed) = silent_after_first_event();
    // The stream allows max(timeout, chat_read_timeout) of silence.
    let (_cp, client) = short_timeout_client(&raw);
    let mut stream = client.assistant(ASSISTANT).chat_stream(hi()).unwrap();
    assert!(stream.next().unwrap().is_ok());
    let started = Instant::now();
    let outcome = stream.next();
    let waited = started.elapsed();
    // After the headers the chat has run: a silence is a stream error, named.
    let err = outcome.unwrap().unwrap_err();
    assert!(
        stopped_after_acceptance(&err, "no data came for 400ms (chat_read_timeout)"),
        "{err:?}"
    );
    assert!(err.to_string().contains(&raw.url()), "{err}");
    assert!(waited_the_chat_read_timeout(waited), "{waited:?}");
    let _ = finish.send(());
    raw.join();
}

#[test]
fn a_plain_chat_waits_the_chat_read_timeout_not_the_short_one() {
    let (raw, finish, _body) = silent_server();
    let (_cp, client) = short_timeout_client(&raw);
    let started = Instant::now();
    let err = client.assistant(ASSISTANT).chat(hi()).unwrap_err();
    let waited = started.elapsed();
    assert!(matches!(err, Error::Timeout(_)), "{err}");
    assert!(is_receive_timeout(&err), "{err:?}");
    assert!(waited_the_chat_read_timeout(waited), "{waited:?}");
    let _ = finish.send(());
    raw.join();
}

/// Runs `call` against a silent server with a 5 s configured read timeout and
/// a 300 ms per-call one; checks the call times out on the per-call timeout
/// and that the timeout is not sent.
fn times_out_on_the_per_call_timeout<T: std::fmt::Debug>(
    call: impl FnOnce(&Assistant) -> Result<T, Error>,
) {
    let (raw, finish, body) = silent_server();
    let (_cp, _client, docs) = raw_assistant(&raw);
    let started = Instant::now();
    let outcome = call(&docs);
    let waited = started.elapsed();
    assert!(matches!(outcome, Err(Error::Timeout(_))), "{outcome:?}");
    assert!(outcome.is_err_and(|e| is_receive_timeout(&e)));
    assert!(
        waited >= Duration::from_millis(250) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
    let body = body.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(!body.contains("timeout"), "{body}");
    let start = r#"{"messages":[{"role":"user","content":"hi"}],"model":"gpt-4o","stream":"#;
    assert!(body.starts_with(start));
    let _ = finish.send(());
    raw.join();
}

const PER_CALL: Duration = Duration::from_millis(300);

#[test]
fn chat_uses_the_per_call_timeout_even_below_the_floor() {
    times_out_on_the_per_call_timeout(|docs| docs.chat(hi().timeout(PER_CALL)));
}

#[test]
fn chat_stream_uses_the_per_call_timeout() {
    times_out_on_the_per_call_timeout(|docs| docs.chat_stream(hi().timeout(PER_CALL)));
}

#[test]
fn chat_completions_uses_the_per_call_timeout() {
    times_out_on_the_per_call_timeout(|docs| {
        docs.chat_completions(hi_completion().timeout(PER_CALL))
    });
}

#[test]
fn chat_completions_stream_uses_the_per_call_timeout() {
    times_out_on_the_per_call_timeout(|docs| {
        docs.chat_completions_stream(hi_completion().timeout(PER_CALL))
    });
}

#[test]
fn a_per_call_timeout_also_bounds_the_silence_inside_a_stream() {
    let (raw, finish, _closed) = silent_after_first_event();
    let (_cp, _client, docs) = raw_assistant(&raw);
    let mut stream = docs.chat_stream(hi().timeout(PER_CALL)).unwrap();
    assert!(stream.next().unwrap().is_ok());
    let started = Instant::now();
    let err = stream.next().unwrap().unwrap_err();
    assert!(
        stopped_after_acceptance(&err, "no data came for 300ms (the request's timeout)"),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
    let _ = finish.send(());
    raw.join();
}

/// Runs `call` on an assistant whose server answers with 200 and `parts` as the
/// rest of its answer, each part sent after a pause, then closes the connection.
/// Checks that the request was sent once (never retried) and returns what `call`
/// returned with the server's URL.
fn against_cut_answer<T>(parts: Vec<String>, call: impl FnOnce(&Assistant) -> T) -> (T, String) {
    let (got, requests) = mpsc::channel();
    let raw = RawServer::start(Box::new(move |socket, _| {
        use std::io::Write;
        let _ = got.send(());
        let _ = socket.write_all(b"HTTP/1.1 200 OK\r\n");
        for part in parts {
            let _ = socket.write_all(part.as_bytes());
            let _ = socket.flush();
            thread::sleep(Duration::from_millis(100));
        }
    }));
    let (_cp, _client, docs) = raw_assistant(&raw);
    let out = call(&docs);
    let url = raw.url();
    raw.join();
    assert_eq!(requests.try_iter().count(), 1, "sent once");
    (out, url)
}

#[test]
fn a_plain_chat_cut_inside_a_chunk_is_a_stream_error_never_retried() {
    let head = "content-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n40\r\n{\"id\":\"a\",\"mess";
    let (err, url) = against_cut_answer(vec![head.to_owned()], |docs| docs.chat(hi()).unwrap_err());
    assert!(
        stopped_after_acceptance(&err, "the answer to chat stopped"),
        "{err:?}"
    );
    assert!(err.to_string().contains(&url), "{err}");
}

#[test]
fn a_chat_completion_cut_short_of_its_length_is_a_stream_error() {
    let head =
        "content-type: application/json\r\ncontent-length: 500\r\n\r\n{\"id\":\"a\",\"choices\":[";
    let (err, _) = against_cut_answer(vec![head.to_owned()], |docs| {
        docs.chat_completions(hi_completion()).unwrap_err()
    });
    assert!(
        stopped_after_acceptance(&err, "the answer to chat_completions stopped"),
        "{err:?}"
    );
}

#[test]
fn a_stream_cut_inside_a_chunk_is_a_stream_error_never_retried() {
    let first = chat_stream_events()[0].clone();
    let parts = vec![
        format!(
            "content-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n{first}\r\n",
            first.len()
        ),
        // A chunk that promises 64 bytes and breaks off after ten.
        "40\r\ndata: {\"ty".to_owned(),
    ];
    against_cut_answer(parts, |docs| {
        let mut stream = docs.chat_stream(hi()).unwrap();
        let first = stream.next().unwrap();
        assert!(first.is_ok(), "{first:?}");
        let err = stream.next().unwrap().unwrap_err();
        assert!(
            stopped_after_acceptance(&err, "the answer to chat_stream stopped"),
            "{err:?}"
        );
        assert!(stream.next().is_none());
    });
}

#[test]
fn the_per_call_timeout_is_never_serialised() {
    let r = hi().timeout(PER_CALL);
    assert!(!serde_json::to_string(&r).unwrap().contains("timeout"));
    let r = hi_completion().timeout(PER_CALL);
    assert!(!serde_json::to_string(&r).unwrap().contains("timeout"));
}
