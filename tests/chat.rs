//! Context, chat, chat completions and evaluation against local servers: exact
//! request bodies, fixture decoding, streaming delivery, cancellation, timeouts.

mod support;

use std::io::Read;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use mockito::Server;
use pinecone_assistant::models::{
    AlignmentRequest, ChatCompletionRequest, ChatRequest, ChatStreamChunk, ContentBlock,
    ContextOptions, ContextRequest, Entailment, FinishReason, Message, Snippet,
};
use pinecone_assistant::{
    CancelHandle, Client, ClientConfig, Error, EvaluationRegion, TimeoutPhase, TransportErrorKind,
};
use support::fixtures::*;
use support::mock::{
    ASSISTANT, builder, builder_for, client, control_plane_for, data_plane, post_json, refuses,
};
use support::tcp::{RawServer, end_chunks, mute_proxy, send_chunk, send_sse_headers};

/// The refund question with a filter, temperature and context options.
fn refund_request() -> ChatRequest {
    ChatRequest::new([Message::user(REFUND_QUESTION)])
        .temperature(0.2)
        .filter(serde_json::json!({"department": {"$eq": "billing"}}))
        .context_options(ContextOptions::new().top_k(8).snippet_size(512))
}

/// Whether `err` is a timeout that passed while waiting for the server's answer.
fn is_receive_timeout(err: &Error) -> bool {
    let receive = TransportErrorKind::Timeout(TimeoutPhase::Receive);
    matches!(err, Error::Timeout(t) if t.kind() == receive)
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
    let chat = post_json(
        &mut server,
        "/assistant/chat/support-bot",
        REFUND_CHAT_REQUEST,
    )
    .with_status(200)
    .with_header("content-type", "application/json")
    .with_body(CHAT_RESPONSE)
    .expect(2)
    .create();
    let client = client(&server);
    let bot = client.assistant(ASSISTANT);
    let reply = bot.chat(refund_request().include_highlights(true)).unwrap();
    assert_eq!(
        reply.content(),
        "Customers on annual plans can request a full refund within 30 days of purchase."
    );
    assert_eq!(
        reply.id.as_deref(),
        Some("00000000000000004c9f1e2a7b3d5c60")
    );
    assert_eq!(reply.finish_reason, Some(FinishReason::Stop));
    assert_eq!(reply.usage.unwrap().total_tokens, 2192);
    assert_eq!(reply.context_snippet_count, Some(8));
    let citation = &reply.citations[0];
    assert_eq!(citation.position, Some(79));
    let reference = &citation.references[0];
    assert_eq!(reference.pages, [4]);
    assert_eq!(reference.highlight.as_ref().unwrap().kind, "text");
    assert_eq!(
        reference.file.as_ref().unwrap().name,
        "billing-policy-2025.pdf"
    );
    // The host is cached: the second call describes nothing.
    bot.chat(refund_request().include_highlights(true)).unwrap();
    describe.assert();
    chat.assert();
}

#[test]
fn chat_without_options_sends_only_the_required_keys() {
    let (mut server, _describe) = data_plane();
    let minimal = post_json(
        &mut server,
        "/assistant/chat/support-bot",
        r#"{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}],"model":"gpt-4o","stream":false}"#,
    )
    .with_body(r#"{"message":{"role":"assistant","content":"ok"}}"#)
    .create();
    let json = post_json(
        &mut server,
        "/assistant/chat/support-bot",
        r#"{"messages":[{"role":"system","content":"s"}],"model":"gpt-5","stream":false,"json_response":true,"context_options":{"multimodal":false,"include_binary_content":false}}"#,
    )
    .with_body(r#"{"message":{"role":"assistant","content":"{}"},"citations":[]}"#)
    .create();
    let bot = client(&server).assistant(ASSISTANT);
    let reply = bot
        .chat(ChatRequest::new([
            Message::user("hi"),
            Message::assistant("hello"),
        ]))
        .unwrap();
    assert_eq!(reply.content(), "ok");
    assert!(reply.citations.is_empty());
    bot.chat(
        ChatRequest::new([Message::system("s")])
            .model("gpt-5")
            .json_response(true)
            .context_options(
                ContextOptions::new()
                    .multimodal(false)
                    .include_binary_content(false),
            ),
    )
    .unwrap();
    minimal.assert();
    json.assert();
}

#[test]
fn chat_server_error_is_not_retried() {
    let (mut server, _describe) = data_plane();
    let chat = server
        .mock("POST", "/assistant/chat/support-bot")
        .with_status(500)
        .with_body(r#"{"error":{"code":"INTERNAL","message":"boom"},"status":500}"#)
        .expect(1)
        .create();
    let err = client(&server)
        .assistant("support-bot")
        .chat(ChatRequest::new([Message::user("hi")]))
        .unwrap_err();
    assert_eq!(err.status(), Some(500));
    chat.assert();
}

// ---------------------------------------------------------------- chat stream

#[test]
fn chat_stream_sends_the_exact_body_and_yields_five_chunks() {
    let (mut server, _describe) = data_plane();
    let chat = post_json(
        &mut server,
        "/assistant/chat/support-bot",
        REFUND_CHAT_STREAM_REQUEST,
    )
    .with_status(200)
    .with_header("content-type", "text/event-stream")
    .with_body(CHAT_STREAM)
    .create();
    let bot = client(&server).assistant(ASSISTANT);
    let chunks: Vec<ChatStreamChunk> = bot
        .chat_stream(refund_request())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let kinds: Vec<&str> = chunks.iter().map(ChatStreamChunk::kind).collect();
    assert_eq!(
        kinds,
        [
            "message_start",
            "content_chunk",
            "content_chunk",
            "citation",
            "message_end"
        ]
    );
    let ChatStreamChunk::MessageEnd(end) = &chunks[4] else {
        panic!("{:?}", chunks[4]);
    };
    assert_eq!(end.finish_reason, Some(FinishReason::Stop));
    let usage = end.usage.unwrap();
    assert_eq!(
        (
            usage.prompt_tokens,
            usage.completion_tokens,
            usage.total_tokens
        ),
        (2154, 14, 2168)
    );
    // Chunks serialise back to the wire JSON they came from.
    let first_line = CHAT_STREAM
        .lines()
        .next()
        .unwrap()
        .strip_prefix("data: ")
        .unwrap();
    assert_eq!(serde_json::to_string(&chunks[0]).unwrap(), first_line);
    chat.assert();
}

#[test]
fn chat_stream_refuses_json_response_without_sending() {
    let (mut server, describe) = data_plane();
    let chat = server
        .mock("POST", "/assistant/chat/support-bot")
        .expect(0)
        .create();
    let err = client(&server)
        .assistant("support-bot")
        .chat_stream(ChatRequest::new([Message::user("hi")]).json_response(true))
        .unwrap_err();
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
    let chat = server
        .mock("POST", "/assistant/chat/support-bot")
        .with_status(400)
        .with_header("x-pinecone-request-id", "r-1")
        .with_body(r#"{"error":{"code":"INVALID_ARGUMENT","message":"no files"},"status":400}"#)
        .expect(1)
        .create();
    let err = client(&server)
        .assistant("support-bot")
        .chat_stream(ChatRequest::new([Message::user("hi")]))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "[400 INVALID_ARGUMENT] no files (request_id: r-1)"
    );
    chat.assert();
}

#[test]
fn chat_stream_cut_off_is_an_error_not_a_short_answer() {
    let (mut server, _describe) = data_plane();
    let cut = &CHAT_STREAM[..CHAT_STREAM.find("data: {\"type\":\"message_end\"").unwrap()];
    let chat = server
        .mock("POST", "/assistant/chat/support-bot")
        .with_header("content-type", "text/event-stream")
        .with_body(cut)
        .create();
    let err = client(&server)
        .assistant("support-bot")
        .chat_stream(ChatRequest::new([Message::user("hi")]))
        .unwrap()
        .into_response()
        .unwrap_err();
    assert!(
        matches!(&err, Error::Stream(m) if m.contains("truncated")),
        "{err}"
    );
    chat.assert();
}

// ---------------------------------------------------------------- completions

#[test]
fn chat_completions_plain_and_streamed() {
    let (mut server, _describe) = data_plane();
    let plain = post_json(
        &mut server,
        "/assistant/chat/support-bot/chat/completions",
        r#"{"messages":[{"role":"user","content":"How long is the refund window?"}],"model":"gpt-4o","stream":false,"temperature":0.0,"filter":{"team":"billing"}}"#,
    )
    .with_body(r#"{"id":"c1","model":"gpt-4o-2024-11-20","choices":[{"index":0,"message":{"role":"assistant","content":"30 days [1, pp. 4]."},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}}"#)
    .create();
    let streamed = post_json(
        &mut server,
        "/assistant/chat/support-bot/chat/completions",
        r#"{"messages":[{"role":"user","content":"How long is the refund window?"}],"model":"gpt-4o","stream":true}"#,
    )
    .with_header("content-type", "text/event-stream")
    .with_body(COMPLETIONS_STREAM)
    .create();
    let bot = client(&server).assistant(ASSISTANT);
    let question = [Message::user("How long is the refund window?")];
    let reply = bot
        .chat_completions(
            ChatCompletionRequest::new(question.clone())
                .temperature(0.0)
                .filter(serde_json::json!({"team": "billing"})),
        )
        .unwrap();
    assert_eq!(reply.content(), "30 days [1, pp. 4].");
    assert_eq!(reply.usage.unwrap().total_tokens, 15);
    let pieces: Vec<String> = bot
        .chat_completions_stream(ChatCompletionRequest::new(question))
        .unwrap()
        .text()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        pieces,
        [
            "Annual plans can be refunded within 30 days",
            " [1, pp. 4]."
        ]
    );
    plain.assert();
    streamed.assert();
}

// ---------------------------------------------------------------- context

#[test]
fn context_sends_the_exact_body_and_decodes_every_snippet_kind() {
    let (mut server, _describe) = data_plane();
    let by_query = post_json(
        &mut server,
        "/assistant/chat/support-bot/context",
        r#"{"query":"refund window","top_k":3,"multimodal":true,"include_binary_content":true}"#,
    )
    .with_body(CONTEXT_RESPONSE)
    .create();
    let by_messages = post_json(
        &mut server,
        "/assistant/chat/support-bot/context",
        r#"{"messages":[{"role":"user","content":"refund?"}],"filter":{"team":"billing"},"snippet_size":0}"#,
    )
    .with_body(r#"{"snippets":[{"type":"video","url":"x"}],"usage":{"prompt_tokens":1,"completion_tokens":0,"total_tokens":1}}"#)
    .create();
    let bot = client(&server).assistant(ASSISTANT);
    let found = bot
        .context(
            ContextRequest::query("refund window")
                .top_k(3)
                .multimodal(true)
                .include_binary_content(true),
        )
        .unwrap();
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
    assert!(matches!(
        &second.content[2],
        ContentBlock::Image { image: None, .. }
    ));
    let third = found.snippets[2].reference().unwrap();
    assert_eq!(third.kind.as_deref(), Some("markdown"));
    assert!(third.pages.is_empty());

    let odd = bot
        .context(
            ContextRequest::messages([Message::user("refund?")])
                .filter(serde_json::json!({"team": "billing"}))
                .snippet_size(0),
        )
        .unwrap();
    assert!(matches!(&odd.snippets[0], Snippet::Other(v) if v["type"] == "video"));
    by_query.assert();
    by_messages.assert();
}

#[test]
fn context_validation_happens_before_any_request() {
    let (mut server, describe) = data_plane();
    let any = refuses(&mut server, "POST");
    let bot = client(&server).assistant(ASSISTANT);
    for bad in [
        ContextRequest::query(""),
        ContextRequest::messages([]),
        ContextRequest::default(),
    ] {
        let err = bot.context(bad).unwrap_err();
        assert!(matches!(err, Error::InvalidArgument { .. }), "{err}");
    }
    let mut both = ContextRequest::query("q");
    both.messages = Some(vec![Message::user("m")]);
    assert!(matches!(
        bot.context(both),
        Err(Error::InvalidArgument { .. })
    ));
    any.assert();
    describe.expect(0).assert();
}

// ---------------------------------------------------------------- evaluation

#[test]
fn evaluate_alignment_on_an_overridden_host() {
    let mut server = Server::new();
    let eval = post_json(
        &mut server,
        "/assistant/evaluation/metrics/alignment",
        r#"{"question":"What is the refund window for annual plans?","answer":"30 days, but only monthly plans are refundable.","ground_truth_answer":"Annual plans can be refunded within 30 days."}"#,
    )
    .with_body(ALIGNMENT_RESPONSE)
    .create();
    let client = Client::new(
        builder_for("http://127.0.0.1:9")
            .evaluation_region(EvaluationRegion::Eu)
            .evaluation_host(server.url())
            .build(),
    )
    .unwrap();
    let r = client
        .evaluate_alignment(AlignmentRequest::new(
            "What is the refund window for annual plans?",
            "30 days, but only monthly plans are refundable.",
            "Annual plans can be refunded within 30 days.",
        ))
        .unwrap();
    assert_eq!(r.scores().correctness, 0.5);
    assert_eq!(r.scores().completeness, 1.0);
    assert_eq!(r.scores().alignment, 0.6667);
    assert_eq!(r.facts().len(), 2);
    assert_eq!(r.facts()[1].entailment, Entailment::Contradicted);
    assert_eq!(
        r.facts()[0].reasoning,
        "The answer states 30 days, matching the ground truth."
    );
    assert_eq!(r.usage.total_tokens, 508);
    eval.assert();
}

#[test]
fn evaluate_alignment_422_message() {
    let mut server = Server::new();
    let eval = server
        .mock("POST", "/assistant/evaluation/metrics/alignment")
        .with_status(422)
        .with_body(r#"{"message":"ground_truth_answer: field required"}"#)
        .expect(1)
        .create();
    let client = Client::new(builder(&server).evaluation_host(server.url()).build()).unwrap();
    let err = client
        .evaluate_alignment(AlignmentRequest::new("q", "a", ""))
        .unwrap_err();
    assert_eq!(err.to_string(), "[422] ground_truth_answer: field required");
    eval.assert();
}

/// The first request line a client sends through an HTTP proxy on 127.0.0.1,
/// which answers nothing and closes: for HTTPS targets that is the CONNECT line
/// naming the target host, so no byte leaves this machine (an HTTP proxy gets
/// the host name unresolved: not even a DNS query is made).
fn connect_target(builder: pinecone_assistant::ClientConfigBuilder) -> String {
    let (proxy, seen) = mute_proxy();
    let client = Client::new(
        builder
            .proxy(proxy)
            .retry(pinecone_assistant::RetryPolicy::none())
            .build(),
    )
    .unwrap();
    assert!(
        client
            .evaluate_alignment(AlignmentRequest::new("q", "a", "g"))
            .is_err()
    );
    seen.join().unwrap()
}

#[test]
fn evaluation_goes_to_the_us_host_by_default_and_eu_when_selected() {
    let us = connect_target(ClientConfig::builder("test-key"));
    assert!(
        us.starts_with("CONNECT prod-1-data.ke.pinecone.io:443 "),
        "{us}"
    );
    let eu =
        connect_target(ClientConfig::builder("test-key").evaluation_region(EvaluationRegion::Eu));
    assert!(
        eu.starts_with("CONNECT prod-eu-data.ke.pinecone.io:443 "),
        "{eu}"
    );
}

// ---------------------------------------------------------------- live streaming

/// A client whose data plane is `raw`, with a `timeout` and a `chat_read_timeout`;
/// the control plane that sends it there is returned too, to be kept alive.
fn raw_client(
    raw: &RawServer,
    timeout: Duration,
    chat: Duration,
) -> (mockito::ServerGuard, Client) {
    let (server, _describe) = control_plane_for(&raw.url());
    let client = Client::new(
        builder(&server)
            .timeout(timeout)
            .chat_read_timeout(chat)
            .build(),
    )
    .unwrap();
    (server, client)
}

/// [`raw_client`] with short timeouts, so that a stream that fails to wake fails
/// the test within seconds instead of hanging it.
fn stream_client(raw: &RawServer) -> (mockito::ServerGuard, Client) {
    raw_client(raw, Duration::from_secs(5), Duration::from_secs(5))
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
    let (_cp, client) = stream_client(&raw);
    let mut stream = client
        .assistant("support-bot")
        .chat_stream(refund_request())
        .unwrap();
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
    assert_eq!(
        kinds,
        [
            "message_start",
            "content_chunk",
            "content_chunk",
            "citation",
            "message_end"
        ]
    );
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

#[test]
fn canceller_wakes_a_blocked_next_from_another_thread() {
    let (raw, finish, closed) = silent_after_first_event();
    let (_cp, client) = stream_client(&raw);
    let mut stream = client
        .assistant("support-bot")
        .chat_stream(ChatRequest::new([Message::user("hi")]))
        .unwrap();
    assert!(matches!(
        stream.next(),
        Some(Ok(ChatStreamChunk::MessageStart(_)))
    ));
    let stop = stream.canceller();
    let canceller = thread::spawn(move || {
        thread::sleep(Duration::from_millis(200));
        stop.cancel();
    });
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
    let (_cp, client) = stream_client(&raw);
    let stop = CancelHandle::new();
    let mut stream = client
        .with_cancel_handle(stop.clone())
        .assistant("support-bot")
        .chat_completions_stream(ChatCompletionRequest::new([Message::user("hi")]))
        .unwrap();
    let canceller = thread::spawn(move || {
        thread::sleep(Duration::from_millis(200));
        stop.cancel();
    });
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

#[test]
fn cancel_while_waiting_for_response_headers() {
    let (finish, wait) = mpsc::channel::<()>();
    let raw = RawServer::start(Box::new(move |_socket, _| {
        let _ = wait.recv_timeout(Duration::from_secs(10));
    }));
    let (_cp, client) = stream_client(&raw);
    let stop = CancelHandle::new();
    let worker = client.with_cancel_handle(stop.clone());
    let call = thread::spawn(move || {
        let started = Instant::now();
        let r = worker
            .assistant("support-bot")
            .chat_stream(ChatRequest::new([Message::user("hi")]));
        (r.map(|_| ()), started.elapsed())
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
fn plain_chat_and_completions_stop_when_cancelled_while_the_answer_is_written() {
    for completions in [false, true] {
        let (finish, wait) = mpsc::channel::<()>();
        let raw = RawServer::start(Box::new(move |_socket, _| {
            let _ = wait.recv_timeout(Duration::from_secs(10));
        }));
        let (_cp, client) = stream_client(&raw);
        let stop = CancelHandle::new();
        let worker = client.with_cancel_handle(stop.clone());
        let call = thread::spawn(move || {
            let started = Instant::now();
            let docs = worker.assistant("support-bot");
            let messages = [Message::user("hi")];
            let r = if completions {
                docs.chat_completions(ChatCompletionRequest::new(messages))
                    .map(|_| ())
            } else {
                docs.chat(ChatRequest::new(messages)).map(|_| ())
            };
            (r, started.elapsed())
        });
        thread::sleep(Duration::from_millis(300));
        stop.cancel();
        let (outcome, waited) = call.join().unwrap();
        assert!(matches!(outcome, Err(Error::Cancelled)), "{outcome:?}");
        assert!(waited < Duration::from_secs(3), "took {waited:?}");
        let _ = finish.send(());
        raw.join();
    }
}

#[test]
fn dropping_a_stream_closes_its_connection() {
    let (raw, finish, closed) = silent_after_first_event();
    let (_cp, client) = stream_client(&raw);
    let mut stream = client
        .assistant("support-bot")
        .chat_stream(ChatRequest::new([Message::user("hi")]))
        .unwrap();
    assert!(stream.next().unwrap().is_ok());
    drop(stream);
    assert_eq!(closed.recv_timeout(Duration::from_secs(5)), Ok(true));
    let _ = finish.send(());
    raw.join();
}

#[test]
fn a_silent_stream_times_out_after_the_chat_read_timeout() {
    let (raw, finish, _closed) = silent_after_first_event();
    // The stream allows max(timeout, chat_read_timeout) of silence.
    let (_cp, client) = raw_client(&raw, Duration::from_millis(100), Duration::from_millis(400));
    let mut stream = client
        .assistant("support-bot")
        .chat_stream(ChatRequest::new([Message::user("hi")]))
        .unwrap();
    assert!(stream.next().unwrap().is_ok());
    let started = Instant::now();
    let outcome = stream.next();
    let waited = started.elapsed();
    assert!(
        matches!(outcome, Some(Err(Error::Timeout(_)))),
        "{outcome:?}"
    );
    assert!(outcome.is_some_and(|r| r.is_err_and(|e| is_receive_timeout(&e))));
    assert!(
        waited >= Duration::from_millis(350) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
    let _ = finish.send(());
    raw.join();
}

#[test]
fn a_plain_chat_waits_the_chat_read_timeout_not_the_short_one() {
    let (finish, wait) = mpsc::channel::<()>();
    let raw = RawServer::start(Box::new(move |_socket, _| {
        let _ = wait.recv_timeout(Duration::from_secs(10));
    }));
    let (_cp, client) = raw_client(&raw, Duration::from_millis(100), Duration::from_millis(400));
    let started = Instant::now();
    let err = client
        .assistant("support-bot")
        .chat(ChatRequest::new([Message::user("hi")]))
        .unwrap_err();
    let waited = started.elapsed();
    assert!(matches!(err, Error::Timeout(_)), "{err}");
    assert!(is_receive_timeout(&err), "{err:?}");
    assert!(
        waited >= Duration::from_millis(350) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
    let _ = finish.send(());
    raw.join();
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

/// Runs `call` against a silent server with a 5 s configured read timeout and
/// a 300 ms per-call one; checks the call times out on the per-call timeout
/// and that the timeout is not sent.
fn times_out_on_the_per_call_timeout<T: std::fmt::Debug>(
    call: impl FnOnce(&Client) -> Result<T, Error>,
) {
    let (raw, finish, body) = silent_server();
    let (_cp, client) = stream_client(&raw);
    let started = Instant::now();
    let outcome = call(&client);
    let waited = started.elapsed();
    assert!(matches!(outcome, Err(Error::Timeout(_))), "{outcome:?}");
    assert!(outcome.is_err_and(|e| is_receive_timeout(&e)));
    assert!(
        waited >= Duration::from_millis(250) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
    let body = body.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(!body.contains("timeout"), "{body}");
    assert!(
        body.starts_with(
            r#"{"messages":[{"role":"user","content":"hi"}],"model":"gpt-4o","stream":"#
        )
    );
    let _ = finish.send(());
    raw.join();
}

const PER_CALL: Duration = Duration::from_millis(300);

#[test]
fn chat_uses_the_per_call_timeout_even_below_the_floor() {
    times_out_on_the_per_call_timeout(|c| {
        c.assistant("support-bot")
            .chat(ChatRequest::new([Message::user("hi")]).timeout(PER_CALL))
    });
}

#[test]
fn chat_stream_uses_the_per_call_timeout() {
    times_out_on_the_per_call_timeout(|c| {
        c.assistant("support-bot")
            .chat_stream(ChatRequest::new([Message::user("hi")]).timeout(PER_CALL))
    });
}

#[test]
fn chat_completions_uses_the_per_call_timeout() {
    times_out_on_the_per_call_timeout(|c| {
        c.assistant("support-bot")
            .chat_completions(ChatCompletionRequest::new([Message::user("hi")]).timeout(PER_CALL))
    });
}

#[test]
fn chat_completions_stream_uses_the_per_call_timeout() {
    times_out_on_the_per_call_timeout(|c| {
        c.assistant("support-bot").chat_completions_stream(
            ChatCompletionRequest::new([Message::user("hi")]).timeout(PER_CALL),
        )
    });
}

#[test]
fn a_per_call_timeout_also_bounds_the_silence_inside_a_stream() {
    let (raw, finish, _closed) = silent_after_first_event();
    let (_cp, client) = stream_client(&raw);
    let mut stream = client
        .assistant("support-bot")
        .chat_stream(ChatRequest::new([Message::user("hi")]).timeout(PER_CALL))
        .unwrap();
    assert!(stream.next().unwrap().is_ok());
    let started = Instant::now();
    let outcome = stream.next();
    assert!(
        matches!(outcome, Some(Err(Error::Timeout(_)))),
        "{outcome:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
    let _ = finish.send(());
    raw.join();
}

#[test]
fn the_per_call_timeout_is_never_serialised() {
    let r = ChatRequest::new([Message::user("hi")]).timeout(PER_CALL);
    assert!(!serde_json::to_string(&r).unwrap().contains("timeout"));
    let r = ChatCompletionRequest::new([Message::user("hi")]).timeout(PER_CALL);
    assert!(!serde_json::to_string(&r).unwrap().contains("timeout"));
}
