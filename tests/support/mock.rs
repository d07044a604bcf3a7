//! Clients pointed at a `mockito` server, and the mocks every request test repeats.
//!
//! The data plane of an assistant lives on its own host, which the client learns
//! from a describe of the assistant (and caches). A test that calls a data-plane
//! operation therefore needs that describe mocked too; [`data_plane`] makes one
//! server play both parts.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mockito::{Matcher, Mock, Server, ServerGuard};
use pinecone_assistant::testing::TestHooks;
use pinecone_assistant::{Assistant, Client, ClientConfig, ClientConfigBuilder, PollSchedule};

/// The API key of every mock client: distinctive, so a test can tell that it
/// never shows in a message.
pub const KEY: &str = "pcsk_test_4f2a9c";
/// The API version every request must carry.
pub const API_VERSION: &str = "2026-07";
/// The assistant the data-plane tests talk to.
pub const ASSISTANT: &str = "support-bot";

/// A configuration for `url` with [`KEY`] that never sleeps for real.
pub fn builder_for(url: &str) -> ClientConfigBuilder {
    ClientConfig::builder(KEY).host(url).sleeper(|_| {})
}

/// A configuration whose control plane is `server`, never sleeping for real.
pub fn builder(server: &ServerGuard) -> ClientConfigBuilder {
    builder_for(&server.url())
}

/// A client whose control plane is `server`, never sleeping for real.
pub fn client(server: &ServerGuard) -> Client {
    Client::new(builder(server).build()).unwrap()
}

/// The handle of [`ASSISTANT`] on a [`client`] of `server`.
pub fn assistant(server: &ServerGuard) -> Assistant {
    client(server).assistant(ASSISTANT)
}

/// The delays a client would have slept, in order.
pub type Slept = Arc<Mutex<Vec<Duration>>>;

/// A client for `server` that records every delay it would have slept.
pub fn recording_client(server: &ServerGuard) -> (Client, Slept) {
    recording(builder(server))
}

/// A client configured by `builder` that records every delay it would have slept.
pub fn recording(builder: ClientConfigBuilder) -> (Client, Slept) {
    let slept = Slept::default();
    let log = slept.clone();
    let client = Client::new(
        builder
            .sleeper(move |d| log.lock().unwrap().push(d))
            .build(),
    )
    .unwrap();
    (client, slept)
}

/// [`recording_client`] on the fixed poll schedule: a poll at once, then one
/// every interval.
pub fn recording_fixed_client(server: &ServerGuard) -> (Client, Slept) {
    recording(builder(server).poll_schedule(PollSchedule::Fixed))
}

/// A mock that only matches requests carrying the API key and version headers.
pub fn api(server: &mut ServerGuard, method: &str, path: &str) -> Mock {
    server
        .mock(method, path)
        .match_header("api-key", KEY)
        .match_header("x-pinecone-api-version", API_VERSION)
}

/// [`api`], answering `status` with the JSON `body`.
pub fn answering(
    server: &mut ServerGuard,
    method: &str,
    path: &str,
    status: usize,
    body: &str,
) -> Mock {
    api(server, method, path)
        .with_status(status)
        .with_header("content-type", "application/json")
        .with_body(body)
}

/// [`api`] for a POST answering 200 with the server-sent events `events`, as a
/// streamed answer comes.
pub fn streaming(server: &mut ServerGuard, path: &str, events: &str) -> Mock {
    api(server, "POST", path)
        .with_status(200)
        .with_header("content-type", "text/event-stream")
        .with_body(events)
}

/// [`answering`] 200 to a GET.
pub fn get_json(server: &mut ServerGuard, path: &str, body: &str) -> Mock {
    answering(server, "GET", path, 200, body)
}

/// Creates `mock`, expected exactly `n` times.
pub fn times(n: usize, mock: Mock) -> Mock {
    mock.expect(n).create()
}

/// Creates `mock`, expected exactly once.
pub fn once(mock: Mock) -> Mock {
    times(1, mock)
}

/// Asserts every mock got what it expected.
pub fn assert_all(mocks: &[&Mock]) {
    for mock in mocks {
        mock.assert();
    }
}

/// [`api`] for a POST whose JSON body must be exactly `body`.
pub fn post_json(server: &mut ServerGuard, path: &str, body: &str) -> Mock {
    api(server, "POST", path)
        .match_header("content-type", "application/json")
        .match_body(Matcher::Exact(body.to_owned()))
}

/// A created mock that fails the test's `assert` if any `method` request arrives.
pub fn refuses(server: &mut ServerGuard, method: &str) -> Mock {
    server.mock(method, Matcher::Any).expect(0).create()
}

/// The describe of `name` that points its data plane at `host` (not created yet,
/// so a test can set how often it is expected).
pub fn describe(server: &mut ServerGuard, name: &str, host: &str) -> Mock {
    let body = serde_json::json!({"name": name, "status": "Ready", "host": host, "region": "us"});
    answering(
        server,
        "GET",
        &format!("/assistant/assistants/{name}"),
        200,
        &body.to_string(),
    )
}

/// A server that is control plane and data plane at once: its describe of
/// [`ASSISTANT`] names the server itself. Returns the created describe mock
/// (expected any number of times; set `expect` on it before asserting).
pub fn data_plane() -> (ServerGuard, Mock) {
    let mut server = Server::new();
    let host = server.url();
    let describe = describe(&mut server, ASSISTANT, &host).create();
    (server, describe)
}

/// [`data_plane`], with the describe expected exactly `times` times.
pub fn data_plane_described(times: usize) -> (ServerGuard, Mock) {
    let mut server = Server::new();
    let host = server.url();
    let describe = describe(&mut server, ASSISTANT, &host)
        .expect(times)
        .create();
    (server, describe)
}

/// A control plane whose describe of [`ASSISTANT`] sends the data plane to `host`.
pub fn control_plane_for(host: &str) -> (ServerGuard, Mock) {
    let mut server = Server::new();
    let describe = describe(&mut server, ASSISTANT, host).create();
    (server, describe)
}
