//! The poll schedules of waits, against a mock server with a recording sleeper
//! (no real sleeping): when the polls happen, the cap, `Retry-After` on a poll's
//! answer, a deadline landing on the last poll, cancellation mid-wait, and the
//! fixed schedule kept for those who want it.

mod support;

use std::time::Duration;

use mockito::{Mock, ServerGuard};
use pinecone_assistant::models::{CreateAssistantRequest, UploadFile};
use pinecone_assistant::testing::TestHooks;
use pinecone_assistant::{CancelHandle, Client, Error, PollSchedule, Wait};
use support::fixtures::*;
use support::mock::{
    Slept, answering, assert_all, builder, data_plane, get_json, once, recording, recording_client,
    recording_fixed_client, times,
};

const MS: fn(u64) -> Duration = Duration::from_millis;

fn operation_path() -> String {
    format!("/assistant/operations/support-bot/{UPLOAD_OP_ID}")
}

/// A data plane that accepts one upload and describes the uploaded file; the
/// test adds the polls of the upload's operation ([`poll`]), in the order they
/// are to answer.
fn upload_plane() -> ServerGuard {
    let (mut server, _resolve) = data_plane();
    answering(
        &mut server,
        "POST",
        "/assistant/files/support-bot",
        202,
        UPLOAD_ACCEPTED,
    )
    .create();
    let file = format!("/assistant/files/support-bot/{REPORT_FILE_ID}");
    get_json(&mut server, &file, REPORT_FILE).create();
    server
}

/// A poll of the upload's operation answering `body` (not created yet).
fn poll(server: &mut ServerGuard, body: &str) -> Mock {
    get_json(server, &operation_path(), body)
}

/// An [`upload_plane`] whose operation answers `pending` polls with
/// "Processing (42%)", then one with "Completed". Returns the server and the
/// two poll mocks.
fn upload_taking(pending: usize) -> (ServerGuard, Mock, Mock) {
    let mut server = upload_plane();
    let processing = times(pending, poll(&mut server, UPLOAD_AT_42));
    let completed = once(poll(&mut server, UPLOAD_COMPLETED));
    (server, processing, completed)
}

/// Uploads to `server` with the client `make` gives, waiting without a deadline;
/// checks that each of `polls` was answered as expected and returns the delays
/// slept, in order.
fn delays_of_upload(
    server: &ServerGuard,
    polls: &[&Mock],
    make: impl FnOnce(&ServerGuard) -> (Client, Slept),
) -> Vec<Duration> {
    let (client, slept) = make(server);
    upload(&client, Wait::Forever).unwrap();
    assert_all(polls);
    slept.lock().unwrap().clone()
}

fn upload(client: &Client, wait: Wait) -> Result<(), Error> {
    let file = UploadFile::bytes("%PDF-1.4 hello", "report.pdf");
    client
        .assistant("support-bot")
        .upload_file(file, wait)
        .map(drop)
}

/// Checks `delays` against the default adaptive schedule with interval `cap`:
/// each delay is twice the time slept before it (the first 250 ms), shortened by
/// at most a fifth, unless that reaches the cap, which is then exact.
fn assert_adaptive(delays: &[Duration], cap: Duration) {
    let mut slept = Duration::ZERO;
    for (n, &d) in delays.iter().enumerate() {
        let nominal = if n == 0 { MS(250) } else { slept * 2 };
        if nominal >= cap {
            assert_eq!(d, cap, "delay {n} of {delays:?}");
        } else {
            assert!(
                d <= nominal && d >= nominal.mul_f64(0.8),
                "delay {n} of {delays:?}: not within a fifth below {nominal:?}"
            );
        }
        slept += d;
    }
}

#[test]
fn an_upload_is_first_polled_after_250_ms_then_ever_less_often_up_to_the_cap() {
    let (server, processing, completed) = upload_taking(6);
    let delays = delays_of_upload(&server, &[&processing, &completed], recording_client);
    // One delay before each of the seven polls.
    assert_eq!(delays.len(), 7, "{delays:?}");
    assert_adaptive(&delays, Duration::from_secs(5));
    // 0.25 s, 0.5 s, 1.5 s and 4.5 s (less jitter), then the 5 s cap.
    assert!(delays[3] < Duration::from_secs(5), "{delays:?}");
    assert_eq!(delays[4..], [Duration::from_secs(5); 3]);
}

#[test]
fn a_new_assistant_is_polled_up_to_the_create_interval() {
    let mut server = mockito::Server::new();
    let name = "docs";
    let created = assistant_json(name, "Initializing", &server.url());
    answering(&mut server, "POST", "/assistant/assistants", 201, &created).create();
    let path = format!("/assistant/assistants/{name}");
    let initializing = times(4, get_json(&mut server, &path, &created));
    let ready = assistant_json(name, "Ready", &server.url());
    let ready = once(get_json(&mut server, &path, &ready));
    let (client, slept) = recording_client(&server);
    client
        .create_assistant(CreateAssistantRequest::new(name), Wait::Forever)
        .unwrap();
    assert_all(&[&initializing, &ready]);
    let delays = slept.lock().unwrap().clone();
    assert_eq!(delays.len(), 5, "{delays:?}");
    assert_adaptive(&delays, MS(500));
    assert_eq!(delays[2..], [MS(500); 3]);
}

#[test]
fn a_retry_after_on_a_poll_answer_replaces_the_next_delay() {
    let mut server = upload_plane();
    let asked = poll(&mut server, UPLOAD_AT_42).with_header("retry-after", "3");
    let asked = once(asked);
    let completed = once(poll(&mut server, UPLOAD_COMPLETED));
    let delays = delays_of_upload(&server, &[&asked, &completed], recording_client);
    assert_eq!(delays.len(), 2, "{delays:?}");
    assert!(delays[0] <= MS(250), "{delays:?}");
    // The schedule would have said 0.5 s at most; the server said 3 s.
    assert_eq!(delays[1], Duration::from_secs(3));
}

#[test]
fn a_retry_after_of_zero_cannot_make_a_wait_spin() {
    let mut server = upload_plane();
    let zero = poll(&mut server, UPLOAD_AT_42).with_header("retry-after", "0");
    let zero = times(3, zero);
    let completed = once(poll(&mut server, UPLOAD_COMPLETED));
    let delays = delays_of_upload(&server, &[&zero, &completed], recording_client);
    // After each "Retry-After: 0", the first delay of the schedule, not zero.
    assert_eq!(delays[1..], [MS(250); 3], "{delays:?}");
}

#[test]
fn a_deadline_lands_exactly_on_the_last_poll() {
    let (server, processing, _completed) = upload_taking(3);
    let (client, slept) = recording_client(&server);
    let err = upload(&client, Wait::For(Duration::from_secs(1))).unwrap_err();
    // Polls near 0.25 s and 0.75 s, and the last one at 1 s, where the schedule
    // alone would have polled at about 2.25 s.
    let delays = slept.lock().unwrap().clone();
    assert_eq!(delays.len(), 3, "{delays:?}");
    assert_eq!(delays.iter().sum::<Duration>(), Duration::from_secs(1));
    processing.assert();
    match err {
        Error::WaitTimeout {
            waited,
            operation_id,
            percent_complete,
            ..
        } => {
            assert_eq!(waited, Duration::from_secs(1));
            assert_eq!(operation_id.as_deref(), Some(UPLOAD_OP_ID));
            assert_eq!(percent_complete, Some(42));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn cancelling_during_a_wait_ends_it_without_another_poll() {
    let (server, processing, completed) = upload_taking(1);
    let handle = CancelHandle::new();
    let stop = handle.clone();
    let sleeps = std::sync::atomic::AtomicUsize::new(0);
    let client = Client::new(
        builder(&server)
            .sleeper(move |_| {
                // The first sleep precedes the first poll; cancel in the second.
                if sleeps.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 1 {
                    stop.cancel();
                }
            })
            .build(),
    )
    .unwrap()
    .with_cancel_handle(handle);
    let err = upload(&client, Wait::Forever).unwrap_err();
    assert!(matches!(err, Error::Cancelled), "{err:?}");
    processing.assert();
    assert!(!completed.matched(), "no poll after the cancel");
}

#[test]
fn the_fixed_schedule_polls_at_once_then_every_interval() {
    let (server, processing, completed) = upload_taking(2);
    let delays = delays_of_upload(&server, &[&processing, &completed], recording_fixed_client);
    assert_eq!(delays, [Duration::from_secs(5); 2]);
}

#[test]
fn the_first_delay_is_a_setting() {
    let schedule = PollSchedule::adaptive(MS(40));
    let (server, processing, completed) = upload_taking(0);
    let delays = delays_of_upload(&server, &[&processing, &completed], |server| {
        recording(builder(server).poll_schedule(schedule))
    });
    let first = delays[0];
    assert!(first <= MS(40) && first >= MS(32), "{first:?}");
    // Zero would poll without pause: refused, naming the setting.
    let zero = builder(&server).poll_schedule(PollSchedule::adaptive(Duration::ZERO));
    match Client::new(zero.build()).unwrap_err() {
        Error::InvalidArgument { name, .. } => assert_eq!(name, "poll_schedule"),
        other => panic!("{other:?}"),
    }
}
