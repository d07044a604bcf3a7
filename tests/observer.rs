//! The observer: which events a client reports, with what, and that they never
//! carry the API key, names, ids or bodies.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mockito::ServerGuard;
use pinecone_assistant::models::{ChatCompletionRequest, ChatRequest, Message};
use pinecone_assistant::observe::{Event, Observer};
use pinecone_assistant::{Client, Error, Wait};
use support::fixtures::{
    CHAT_STREAM, COMPLETIONS_STREAM, UPLOAD_AT_42, UPLOAD_COMPLETED, UPLOAD_OP_ID,
};
use support::mock::{ASSISTANT, KEY, answering, builder, data_plane, once, streaming};

/// An event as a test keeps it: its kind and the fields the tests look at, plus
/// its whole `Debug` text.
#[derive(Debug, Clone, PartialEq)]
enum Seen {
    Start {
        operation: String,
        route: String,
        attempt: u32,
    },
    Response {
        operation: String,
        status: u16,
        attempt: u32,
        request_id: Option<String>,
        bytes: Option<u64>,
    },
    Retry {
        attempt: u32,
        reason: String,
        delay: Duration,
    },
    Poll {
        state: String,
        percent: Option<i64>,
    },
    StreamEnd {
        operation: String,
        route: String,
        chunks: u64,
        total_tokens: Option<u64>,
        finish_reason: Option<String>,
        complete: bool,
    },
    Failed {
        operation: String,
        error: String,
    },
    Other,
}

/// The end of a stream read to its last event, which said `finish_reason: "stop"`.
fn finished_stream(operation: &str, route: &str, chunks: u64, total_tokens: u64) -> Seen {
    Seen::StreamEnd {
        operation: operation.into(),
        route: route.into(),
        chunks,
        total_tokens: Some(total_tokens),
        finish_reason: Some("stop".into()),
        complete: true,
    }
}

type Log = Arc<Mutex<Vec<(Seen, String)>>>;

/// An observer keeping every event.
fn recorder() -> (Log, impl Observer + 'static) {
    let log = Log::default();
    let keep = log.clone();
    let observer = move |event: &Event<'_>| {
        let seen = match *event {
            Event::RequestStart {
                operation,
                route,
                attempt,
                ..
            } => Seen::Start {
                operation: operation.into(),
                route: route.into(),
                attempt,
            },
            Event::Response {
                operation,
                status,
                attempt,
                request_id,
                bytes,
                latency,
                ..
            } => {
                assert!(latency < Duration::from_secs(30));
                Seen::Response {
                    operation: operation.into(),
                    status,
                    attempt,
                    request_id: request_id.map(str::to_owned),
                    bytes,
                }
            }
            Event::RetryScheduled {
                attempt,
                reason,
                delay,
                ..
            } => Seen::Retry {
                attempt,
                reason: reason.into(),
                delay,
            },
            Event::WaitPoll {
                state,
                percent_complete,
                ..
            } => Seen::Poll {
                state: state.into(),
                percent: percent_complete,
            },
            Event::StreamEnd {
                operation,
                route,
                chunks,
                usage,
                finish_reason,
                complete,
                ..
            } => Seen::StreamEnd {
                operation: operation.into(),
                route: route.into(),
                chunks,
                total_tokens: usage.map(|u| u.total_tokens),
                finish_reason: finish_reason.map(str::to_owned),
                complete,
            },
            Event::Error {
                operation, error, ..
            } => Seen::Failed {
                operation: operation.into(),
                error: format!("{error:?}"),
            },
            _ => Seen::Other,
        };
        keep.lock().unwrap().push((seen, format!("{event:?}")));
    };
    (log, observer)
}

fn seen(log: &Log) -> Vec<Seen> {
    log.lock().unwrap().iter().map(|(s, _)| s.clone()).collect()
}

/// The events seen so far for which `keep` holds, in order.
fn seen_where(log: &Log, keep: impl Fn(&Seen) -> bool) -> Vec<Seen> {
    seen(log).into_iter().filter(keep).collect()
}

/// Checks that no event showed the key or any of `secrets` (names, ids).
fn nothing_secret(log: &Log, secrets: &[&str]) {
    for (_, text) in log.lock().unwrap().iter() {
        assert!(!text.contains(KEY), "{text}");
        for secret in secrets {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }
}

fn observed_client(server: &ServerGuard) -> (Client, Log) {
    let (log, observer) = recorder();
    let client = Client::new(builder(server).observer(observer).build()).unwrap();
    (client, log)
}

const DESCRIBE: &str = "/assistant/assistants/secret-bot";
const ASSISTANT_JSON: &str = r#"{"name":"secret-bot","status":"Ready","host":"h"}"#;

fn start(operation: &str, route: &str, attempt: u32) -> Seen {
    Seen::Start {
        operation: operation.into(),
        route: route.into(),
        attempt,
    }
}

#[test]
fn a_retried_call_reports_each_attempt_its_answer_and_the_retry() {
    let mut server = mockito::Server::new();
    let busy =
        once(answering(&mut server, "GET", DESCRIBE, 503, "{}").with_header("retry-after", "1"));
    let (client, log) = observed_client(&server);
    let ok = once(
        answering(&mut server, "GET", DESCRIBE, 200, ASSISTANT_JSON)
            .with_header("x-pinecone-request-id", "req-7"),
    );
    client.describe_assistant("secret-bot").unwrap();
    busy.assert();
    ok.assert();
    let route = "/assistants/{assistant_name}";
    assert_eq!(
        seen(&log),
        [
            start("describe_assistant", route, 1),
            Seen::Response {
                operation: "describe_assistant".into(),
                status: 503,
                attempt: 1,
                request_id: None,
                bytes: Some(2),
            },
            Seen::Retry {
                attempt: 1,
                reason: "status 503".into(),
                delay: Duration::from_secs(1),
            },
            start("describe_assistant", route, 2),
            Seen::Response {
                operation: "describe_assistant".into(),
                status: 200,
                attempt: 2,
                request_id: Some("req-7".into()),
                bytes: Some(ASSISTANT_JSON.len() as u64),
            },
        ]
    );
    nothing_secret(&log, &["secret-bot"]);
}

#[test]
fn a_failed_call_reports_the_error_it_returns() {
    let mut server = mockito::Server::new();
    let _missing = answering(&mut server, "GET", DESCRIBE, 404, "{}").create();
    let _garbled = answering(&mut server, "GET", "/assistant/assistants/odd", 200, "[1]").create();
    let (client, log) = observed_client(&server);
    let err = client.describe_assistant("secret-bot").unwrap_err();
    assert!(err.is_not_found());
    let err = client.describe_assistant("odd").unwrap_err();
    assert!(matches!(err, Error::Decode { .. }));
    let failures: Vec<Seen> = seen_where(&log, |s| matches!(s, Seen::Failed { .. }));
    assert_eq!(failures.len(), 2, "{failures:?}");
    let Seen::Failed { operation, error } = &failures[0] else {
        unreachable!()
    };
    assert_eq!(operation, "describe_assistant");
    assert!(error.starts_with("NotFound"), "{error}");
    let Seen::Failed { error, .. } = &failures[1] else {
        unreachable!()
    };
    assert!(error.starts_with("Decode"), "{error}");
}

#[test]
fn a_stream_reports_its_answer_and_its_end() {
    let (mut server, _describe) = data_plane();
    let _chat = streaming(&mut server, "/assistant/chat/support-bot", CHAT_STREAM)
        .expect(2)
        .create();
    let (client, log) = observed_client(&server);
    let docs = client.assistant(ASSISTANT);
    let hi = || ChatRequest::new([Message::user("hi")]);
    docs.chat_stream(hi()).unwrap().into_response().unwrap();
    let events = seen(&log);
    assert!(
        events.contains(&Seen::Response {
            operation: "chat_stream".into(),
            status: 200,
            attempt: 1,
            request_id: None,
            bytes: None,
        }),
        "{events:?}"
    );
    assert_eq!(
        events.last(),
        Some(&finished_stream(
            "chat_stream",
            "/chat/{assistant_name}",
            5,
            2168
        ))
    );
    // A stream dropped before its end says so.
    log.lock().unwrap().clear();
    let mut stream = docs.chat_stream(hi()).unwrap();
    stream.next().unwrap().unwrap();
    drop(stream);
    let Some(Seen::StreamEnd {
        chunks, complete, ..
    }) = seen(&log).last().cloned()
    else {
        panic!("{:?}", seen(&log));
    };
    assert_eq!((chunks, complete), (1, false));
    nothing_secret(&log, &["support-bot", "hi"]);
}

#[test]
fn a_completions_stream_reports_its_usage() {
    let (mut server, _describe) = data_plane();
    let _chat = streaming(
        &mut server,
        "/assistant/chat/support-bot/chat/completions",
        COMPLETIONS_STREAM,
    )
    .create();
    let (client, log) = observed_client(&server);
    client
        .assistant(ASSISTANT)
        .chat_completions_stream(ChatCompletionRequest::new([Message::user("hi")]))
        .unwrap()
        .collect_text()
        .unwrap();
    assert_eq!(
        seen(&log).last(),
        Some(&finished_stream(
            "chat_completions_stream",
            "/chat/{assistant_name}/chat/completions",
            5,
            1910
        ))
    );
}

#[test]
fn a_wait_reports_each_poll_that_finds_the_work_running() {
    let (mut server, _describe) = data_plane();
    let path = format!("/assistant/operations/support-bot/{UPLOAD_OP_ID}");
    let _running = once(answering(&mut server, "GET", &path, 200, UPLOAD_AT_42));
    let _done = once(answering(&mut server, "GET", &path, 200, UPLOAD_COMPLETED));
    let (client, log) = observed_client(&server);
    client
        .assistant(ASSISTANT)
        .wait_for_operation(UPLOAD_OP_ID, Wait::Forever)
        .unwrap();
    let polls: Vec<Seen> = seen_where(&log, |s| matches!(s, Seen::Poll { .. }));
    assert_eq!(polls.len(), 1, "{polls:?}");
    let Seen::Poll { state, percent } = &polls[0] else {
        unreachable!()
    };
    assert_eq!(*percent, Some(42));
    assert!(state.contains("Processing"), "{state}");
    let starts: Vec<Seen> = seen_where(&log, |s| matches!(s, Seen::Start { .. }));
    assert!(starts.contains(&start(
        "describe_operation",
        "/operations/{assistant_name}/{operation_id}",
        1
    )));
    nothing_secret(&log, &[UPLOAD_OP_ID]);
}

#[test]
fn a_delete_wait_ending_in_not_found_reports_no_error() {
    let mut server = mockito::Server::new();
    let _delete = answering(&mut server, "DELETE", DESCRIBE, 200, "").create();
    let _gone = answering(&mut server, "GET", DESCRIBE, 404, "{}").create();
    let (client, log) = observed_client(&server);
    client
        .delete_assistant("secret-bot", Wait::Forever)
        .unwrap();
    let events = seen(&log);
    assert!(
        !events.iter().any(|s| matches!(s, Seen::Failed { .. })),
        "the awaited 404 is no failure: {events:?}"
    );
    assert!(
        events
            .iter()
            .any(|s| matches!(s, Seen::Response { status: 404, .. })),
        "the 404 answer is still reported: {events:?}"
    );
}

#[test]
fn an_observer_can_be_set_and_removed_while_the_client_is_in_use() {
    let mut server = mockito::Server::new();
    let _ok = answering(&mut server, "GET", DESCRIBE, 200, ASSISTANT_JSON).create();
    let client = Client::new(builder(&server).build()).unwrap();
    let copy = client.clone();
    let other = client.with_total_timeout(Duration::from_secs(5));
    let (log, observer) = recorder();
    client.set_observer(Some(Arc::new(observer)));
    copy.describe_assistant("secret-bot").unwrap();
    other.describe_assistant("secret-bot").unwrap();
    assert_eq!(seen(&log).len(), 4, "clones and derived clients share it");
    client.set_observer(None);
    other.describe_assistant("secret-bot").unwrap();
    assert_eq!(seen(&log).len(), 4);
}
