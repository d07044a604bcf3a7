//! Bounded calls: the total time bound of a call (across retries, per client,
//! per call, for streams and uploads, inside waits), the body limits, and the
//! errors that say which bound or limit was hit, where and in which operation.

mod support;

use std::io::Read;
use std::time::{Duration, Instant};

use pinecone_assistant::models::{
    ChatRequest, CreateAssistantRequest, ListFilesOptions, Message, UploadFile,
};
use pinecone_assistant::{Client, Error, RetryPolicy, TimeoutPhase, TransportErrorKind, Wait};
use support::mock::{ASSISTANT, answering, builder_for, control_plane_for, recording_client};
use support::slow::{self, Server};
use support::tcp::free_port;

const SECOND: Duration = Duration::from_secs(1);

/// A client for `url` with a generous idle timeout and the given total bound.
fn client(url: &str, total: Duration) -> Client {
    Client::new(
        builder_for(url)
            .timeout(Duration::from_secs(5))
            .total_timeout(total)
            .build(),
    )
    .unwrap()
}

/// A server whose every answer drips a byte every 200 ms for 10 s.
fn dripping() -> Server {
    Server::start(|_, _, socket| slow::drip(socket, 50, Duration::from_millis(200)))
}

fn is_total_timeout(error: &Error) -> bool {
    matches!(error, Error::Timeout(t) if t.kind() == TransportErrorKind::Timeout(TimeoutPhase::Total))
}

/// Whether `waited` is about one second: the bound, not the 10 s of the drip.
fn about_a_second(waited: Duration) -> bool {
    waited >= Duration::from_millis(900) && waited < Duration::from_secs(4)
}

#[test]
fn a_dripping_answer_times_out_at_the_total_bound() {
    let server = dripping();
    let started = Instant::now();
    let err = client(&server.url(), SECOND)
        .describe_assistant("docs")
        .unwrap_err();
    let waited = started.elapsed();
    assert!(is_total_timeout(&err), "{err:?}");
    assert!(about_a_second(waited), "{waited:?}");
    let text = err.to_string();
    assert!(text.contains("total_timeout of 1s passed"), "{text}");
    assert!(
        text.contains(&format!("describe_assistant at {}", server.url())),
        "{text}"
    );
    assert!(err.is_retryable());
}

#[test]
fn with_total_timeout_bounds_the_calls_of_one_client() {
    let server = dripping();
    let patient = client(&server.url(), Duration::from_secs(600));
    let quick = patient.with_total_timeout(SECOND);
    assert_eq!(quick.config().total_timeout(), Some(SECOND));
    assert_eq!(
        patient.config().total_timeout(),
        Some(Duration::from_secs(600))
    );
    let started = Instant::now();
    let err = quick.describe_assistant("docs").unwrap_err();
    assert!(is_total_timeout(&err), "{err:?}");
    assert!(about_a_second(started.elapsed()));
    // The data plane of an assistant made from it is bounded too.
    let described = slow::assistant(ASSISTANT, "Ready", &server.url());
    let control = Server::start(move |_, _, socket| slow::answer(socket, &described));
    let quick = client(&control.url(), Duration::from_secs(600)).with_total_timeout(SECOND);
    let started = Instant::now();
    let err = quick
        .assistant(ASSISTANT)
        .list_files_page(ListFilesOptions::new())
        .unwrap_err();
    assert!(is_total_timeout(&err), "{err:?}");
    assert!(about_a_second(started.elapsed()));
    assert!(err.to_string().contains("list_files at"), "{err}");
}

#[test]
fn the_bound_covers_the_pauses_between_retries() {
    let mut server = mockito::Server::new();
    let busy = answering(&mut server, "GET", "/assistant/assistants/docs", 503, "{}")
        .with_header("retry-after", "5")
        .expect(1)
        .create();
    let (client, slept) = recording_client(&server);
    let client = client.with_total_timeout(Duration::from_secs(2));
    let err = client.describe_assistant("docs").unwrap_err();
    // Retrying after 5 s would end past the 2 s bound: the 503 comes back at once.
    assert_eq!(err.status(), Some(503), "{err}");
    assert!(slept.lock().unwrap().is_empty());
    busy.assert();
}

#[test]
fn no_bound_lets_a_slow_answer_finish() {
    let server = Server::start(|_, _, socket| slow::drip(socket, 6, Duration::from_millis(200)));
    let err = client(&server.url(), SECOND)
        .with_total_timeout(None)
        .describe_assistant("docs")
        .unwrap_err();
    // Six spaces are no assistant, but the whole answer was read.
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
}

/// A server that answers the create of an assistant at once and drips every
/// describe.
fn creating_then_dripping() -> Server {
    Server::start(|line, _, socket| {
        if line.starts_with("POST") {
            slow::answer(socket, &slow::assistant("docs", "Initializing", ""));
        } else {
            slow::drip(socket, 50, Duration::from_millis(200));
        }
    })
}

#[test]
fn a_wait_deadline_cuts_a_poll_under_way_and_says_the_wait_ran_out() {
    let server = creating_then_dripping();
    let client = client(&server.url(), Duration::from_secs(600));
    let started = Instant::now();
    let err = client
        .create_assistant(CreateAssistantRequest::new("docs"), Wait::For(SECOND))
        .unwrap_err();
    assert!(about_a_second(started.elapsed()), "{:?}", started.elapsed());
    match err {
        Error::WaitTimeout {
            awaited,
            last_status,
            ..
        } => {
            assert!(awaited.contains("docs"), "{awaited}");
            assert!(last_status.contains("no poll answered"), "{last_status}");
        }
        other => panic!("not a wait timeout: {other:?}"),
    }
}

#[test]
fn a_poll_that_outlasts_its_own_bound_inside_a_longer_wait_is_a_timeout() {
    let server = creating_then_dripping();
    let client = client(&server.url(), SECOND);
    let started = Instant::now();
    let err = client
        .create_assistant(
            CreateAssistantRequest::new("docs"),
            Wait::For(Duration::from_secs(60)),
        )
        .unwrap_err();
    assert!(is_total_timeout(&err), "{err:?}");
    assert!(about_a_second(started.elapsed()));
}

/// A data plane whose chat streams send one content chunk every 200 ms, six in
/// all, then the end.
fn slow_stream() -> (Server, mockito::ServerGuard, mockito::Mock) {
    let server = Server::start(|_, _, socket| {
        use std::io::Write;
        let _ = socket.write_all(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n",
        );
        let mut send = |data: &str| {
            let event = format!("data: {data}\n\n");
            let _ = write!(socket, "{:x}\r\n{event}\r\n", event.len());
            let _ = socket.flush();
        };
        for i in 0..6 {
            std::thread::sleep(Duration::from_millis(200));
            send(&format!(
                r#"{{"type":"content_chunk","id":"a","delta":{{"content":"{i}"}}}}"#
            ));
        }
        send(r#"{"type":"message_end","id":"a","finish_reason":"stop"}"#);
        let _ = socket.write_all(b"0\r\n\r\n");
    });
    let (control, describe) = control_plane_for(&server.url());
    (server, control, describe)
}

fn hi() -> ChatRequest {
    ChatRequest::new([Message::user("hi")])
}

#[test]
fn streams_have_no_total_bound_unless_the_request_sets_one() {
    let (_server, control, _describe) = slow_stream();
    // The client's bound is far shorter than the stream: it does not apply.
    let docs = client(&control.url(), Duration::from_millis(300)).assistant(ASSISTANT);
    let text = docs.chat_stream(hi()).unwrap().collect_text().unwrap();
    assert_eq!(text, "012345");

    let started = Instant::now();
    let stream = docs
        .chat_stream(hi().total_timeout(Duration::from_millis(700)))
        .unwrap();
    let err = stream.collect_text().unwrap_err();
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(600) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
    let Error::Stream(message) = &err else {
        panic!("not a stream error: {err:?}");
    };
    assert!(message.contains("total bound passed"), "{message}");
    assert!(
        message.contains("the request's total_timeout of 700ms"),
        "{message}"
    );
    assert!(message.contains("may have run"), "{message}");
    assert!(!err.is_retryable());
}

#[test]
fn a_plain_chat_is_bounded_by_the_client_or_its_own_bound() {
    let server = Server::start(|_, _, socket| slow::drip(socket, 50, Duration::from_millis(200)));
    let (control, _describe) = control_plane_for(&server.url());
    let docs = client(&control.url(), SECOND).assistant(ASSISTANT);
    // The bound passed while the answer's body was read: the chat may have run.
    let started = Instant::now();
    let err = docs.chat(hi()).unwrap_err();
    assert!(about_a_second(started.elapsed()));
    let Error::Stream(message) = &err else {
        panic!("not a stream error: {err:?}");
    };
    assert!(message.contains("total_timeout of 1s passed"), "{message}");
    assert!(message.contains("may have run"), "{message}");
    assert!(!err.is_retryable());
    let docs = client(&control.url(), Duration::from_secs(600)).assistant(ASSISTANT);
    let started = Instant::now();
    let err = docs.chat(hi().total_timeout(SECOND)).unwrap_err();
    assert!(about_a_second(started.elapsed()));
    assert!(
        err.to_string()
            .contains("the request's total_timeout of 1s"),
        "{err}"
    );
}

#[test]
fn an_upload_to_a_server_that_stops_reading_ends_at_its_bound() {
    // Reads the head only, then holds the connection open without reading.
    let stalled = Server::start_reading(
        false,
        std::sync::Arc::new(|_: &str, _: &[u8], _: &mut std::net::TcpStream| {
            std::thread::sleep(Duration::from_secs(20));
        }),
    );
    let (control, _describe) = control_plane_for(&stalled.url());
    let docs = client(&control.url(), Duration::from_secs(600)).assistant(ASSISTANT);
    let size: u64 = 256 << 20;
    let file =
        UploadFile::reader(std::io::repeat(b'x').take(size), "big.txt", size).total_timeout(SECOND);
    let started = Instant::now();
    let err = docs.upload_file(file, Wait::No).unwrap_err();
    assert!(about_a_second(started.elapsed()), "{:?}", started.elapsed());
    assert!(is_total_timeout(&err), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("the upload's total_timeout of 1s"), "{text}");
    assert!(text.contains("upload_file at"), "{text}");
}

#[test]
fn a_zero_bound_is_refused_at_construction() {
    let err = Client::new(
        builder_for("http://127.0.0.1:9")
            .total_timeout(Duration::ZERO)
            .build(),
    )
    .unwrap_err();
    assert!(
        matches!(err, Error::InvalidArgument { ref name, .. } if name == "total_timeout"),
        "{err}"
    );
    for limit in ["body_limit", "generation_body_limit", "stream_event_limit"] {
        let b = builder_for("http://127.0.0.1:9");
        let b = match limit {
            "body_limit" => b.body_limit(0),
            "generation_body_limit" => b.generation_body_limit(0),
            _ => b.stream_event_limit(0),
        };
        let err = Client::new(b.build()).unwrap_err();
        assert!(
            matches!(err, Error::InvalidArgument { ref name, .. } if name == limit),
            "{err}"
        );
    }
}

// ---------------------------------------------------------------- where and what

#[test]
fn network_errors_name_the_host_and_the_operation() {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let client = Client::new(builder_for(&url).retry(RetryPolicy::none()).build()).unwrap();
    let err = client.describe_assistant("docs").unwrap_err();
    let transport = err.transport().expect("a network error");
    assert_eq!(transport.host(), Some(url.as_str()));
    assert_eq!(transport.operation(), Some("describe_assistant"));
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "could not connect to the server (describe_assistant at {url}: "
        )),
        "{text}"
    );
    // The data plane names its own host and operation.
    let (control, _describe) = control_plane_for(&url);
    let client = Client::new(
        builder_for(&control.url())
            .retry(RetryPolicy::none())
            .build(),
    )
    .unwrap();
    let err = client
        .assistant(ASSISTANT)
        .describe_operation("op-1")
        .unwrap_err();
    let transport = err.transport().expect("a network error");
    assert_eq!(transport.host(), Some(url.as_str()));
    assert_eq!(transport.operation(), Some("describe_operation"));
    // A host written with credentials is refused, and the refusal never shows them.
    let err = Client::new(
        builder_for(&format!("http://user:secret@127.0.0.1:{port}"))
            .retry(RetryPolicy::none())
            .build(),
    )
    .unwrap_err();
    assert!(!err.to_string().contains("secret"), "{err}");
}

// ---------------------------------------------------------------- body limits

#[test]
fn an_answer_over_the_body_limit_is_its_own_error() {
    let mut server = mockito::Server::new();
    let big = format!(
        r#"{{"name":"docs","status":"Ready","pad":"{}"}}"#,
        "x".repeat(5000)
    );
    let _describe = answering(&mut server, "GET", "/assistant/assistants/docs", 200, &big).create();
    let client = Client::new(builder_for(&server.url()).body_limit(1000).build()).unwrap();
    assert_eq!(client.config().body_limit(), 1000);
    let err = client.describe_assistant("docs").unwrap_err();
    match &err {
        Error::BodyTooLarge {
            what,
            limit,
            seen,
            setting,
        } => {
            assert_eq!(*limit, 1000);
            assert_eq!(*seen, big.len() as u64, "the declared length");
            assert_eq!(setting, "body_limit");
            assert!(what.contains("describe_assistant"), "{what}");
        }
        other => panic!("not a body-limit error: {other:?}"),
    }
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("1000-byte limit"), "{err}");
    // A larger limit reads it.
    let client = Client::new(builder_for(&server.url()).body_limit(10_000).build()).unwrap();
    assert_eq!(client.describe_assistant("docs").unwrap().name, "docs");
}

#[test]
fn an_answer_of_unknown_length_stops_one_byte_over_the_limit() {
    let server = Server::start(|_, _, socket| {
        use std::io::Write;
        let _ = socket.write_all(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n",
        );
        // 100 MB offered, in 1 MB chunks; reading stops long before.
        let chunk = vec![b' '; 1 << 20];
        for _ in 0..100 {
            if write!(socket, "{:x}\r\n", chunk.len()).is_err()
                || socket.write_all(&chunk).is_err()
                || socket.write_all(b"\r\n").is_err()
            {
                return;
            }
        }
    });
    let client = Client::new(builder_for(&server.url()).build()).unwrap();
    let err = client.describe_assistant("docs").unwrap_err();
    assert!(
        matches!(
            err,
            Error::BodyTooLarge {
                limit,
                seen,
                ..
            } if limit == 64 << 20 && seen == limit + 1
        ),
        "{err:?}"
    );
}

#[test]
fn generation_answers_have_their_own_limit() {
    let (mut server, _describe) = support::mock::data_plane();
    let answer = support::fixtures::CONTEXT_RESPONSE;
    let _context = answering(
        &mut server,
        "POST",
        &format!("/assistant/chat/{ASSISTANT}/context"),
        200,
        answer,
    )
    .create();
    // The describe that finds the data plane is read under the other limit.
    let tight = Client::new(
        builder_for(&server.url())
            .generation_body_limit(200)
            .build(),
    )
    .unwrap();
    let err = tight
        .assistant(ASSISTANT)
        .context(pinecone_assistant::models::ContextRequest::query("refunds"))
        .unwrap_err();
    assert!(
        matches!(err, Error::BodyTooLarge { limit: 200, ref setting, .. } if setting == "generation_body_limit"),
        "{err:?}"
    );
    let roomy = Client::new(
        builder_for(&server.url())
            .generation_body_limit(answer.len() as u64)
            .build(),
    )
    .unwrap();
    roomy
        .assistant(ASSISTANT)
        .context(pinecone_assistant::models::ContextRequest::query("refunds"))
        .unwrap();
}
