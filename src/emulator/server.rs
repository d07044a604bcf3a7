//! The request pipeline: log, injected faults, authentication, routing, answer.

use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::body::{self, Body};
use super::faults::{Fault, FaultAction};
use super::router::{self, Call};
use super::wire::{self, Reply, parse_query};
use super::{RecordedRequest, Shared, sse};

/// Headers kept in the request log.
const LOGGED_HEADERS: [&str; 4] = [
    "content-type",
    "x-pinecone-api-version",
    "user-agent",
    "accept",
];

/// How often the first worker [nudges](nudge) tiny_http's connection pool.
const NUDGE_EVERY: Duration = Duration::from_millis(100);

/// One worker: takes requests until the emulator stops. The worker given
/// `nudge_addr` (the emulator's own address) also [nudges](nudge) the
/// connection pool now and then.
pub(crate) fn serve(
    shared: &Shared,
    server: &tiny_http::Server,
    nudge_addr: Option<std::net::SocketAddr>,
) {
    let mut nudged = Instant::now();
    while !shared.stop.load(Ordering::Relaxed) {
        if let Some(addr) = nudge_addr.filter(|_| nudged.elapsed() >= NUDGE_EVERY) {
            nudge(addr);
            nudged = Instant::now();
        }
        match server.recv_timeout(Duration::from_millis(100)) {
            Ok(Some(req)) => {
                // A handler bug must cost one request, not the worker: the
                // request was answered 500 by the inner guard, or by tiny_http
                // when it was dropped during the unwinding.
                if catch_unwind(AssertUnwindSafe(|| handle(shared, req))).is_err() {
                    log::error!("emulator: a request handler panicked");
                }
            }
            Ok(None) => {}
            Err(_) => break,
        }
    }
}

/// Opens and at once closes a connection to the emulator itself.
///
/// tiny_http (0.12) reads each client connection on a thread of its own pool,
/// and that pool can lose a wake-up: when connections arrive together while
/// one pool thread is idle, both are queued for that one thread, and the
/// second waits until some pool thread's connection ends. A client that keeps
/// its connections alive (every pooling client) may never end one, so the
/// queued connection's request would hang until the client gives up, typically
/// after its 30 s timeout. A connection of our own that ends at once makes the
/// pool start a thread (or wake an idle one), which then takes the queued
/// connection too. No request is sent, so nothing is logged.
fn nudge(addr: std::net::SocketAddr) {
    let _ = std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(50));
}

fn header(req: &tiny_http::Request, name: &str) -> Option<String> {
    req.headers()
        .iter()
        .find(|h| h.field.as_str().as_str().eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str().to_owned())
}

/// Runs a handler, turning a panic into a 500 with the service's error body.
fn guarded(what: impl FnOnce() -> Reply) -> Reply {
    catch_unwind(AssertUnwindSafe(what)).unwrap_or_else(|_| {
        log::error!("emulator: a request handler panicked");
        wire::error(
            500,
            "INTERNAL",
            "the emulator failed while handling this request",
        )
    })
}

fn handle(shared: &Shared, req: tiny_http::Request) {
    let method = req.method().as_str().to_ascii_uppercase();
    let url = req.url().to_owned();
    let (path, query) = url.split_once('?').unwrap_or((&url, ""));
    let (path, query) = (path.to_owned(), query.to_owned());
    let Body::Ready(req, body) = body::read(shared, req) else {
        return;
    };
    if let Some(rest) = path.strip_prefix("/_emulator/") {
        let reply = guarded(|| control(shared, &method, rest, &body));
        return send(req, reply);
    }
    shared.record(RecordedRequest {
        method: method.clone(),
        path: path.clone(),
        query: query.clone(),
        headers: LOGGED_HEADERS
            .iter()
            .filter_map(|h| header(&req, h).map(|v| ((*h).to_owned(), v)))
            .collect(),
        body_len: body.len(),
    });
    // Taken in its own statement: the queue's lock must not be held while a
    // delay fault sleeps.
    let fault = shared.faults().take(&method, &path, false);
    match fault {
        Some(FaultAction::Status {
            status,
            retry_after,
            body,
        }) => {
            let mut headers = Vec::new();
            if let Some(r) = retry_after {
                headers.push(("Retry-After", r));
            }
            let body = body
                .map(|b| serde_json::from_str(&b).unwrap_or(Value::String(b)))
                .unwrap_or_else(|| {
                    json!({"error": {"code": code_for(status), "message": "injected fault"}, "status": status})
                });
            return send(
                req,
                Reply::Json {
                    status,
                    body,
                    headers,
                },
            );
        }
        Some(FaultAction::Reset) => {
            // tiny_http keeps the socket for the next request, so a silent close is
            // not possible; bytes that are not HTTP make the client drop the
            // connection at once, before any response header, like a reset.
            let mut w = req.into_writer();
            let _ = w.write_all(b"\0RESET\r\n\r\n").and_then(|()| w.flush());
            return;
        }
        Some(FaultAction::Delay(d)) if !shared.pause(d) => return,
        _ => {}
    }
    let key = header(&req, "api-key");
    if key.as_deref() != Some(shared.settings.api_key.as_str()) {
        let msg = if key.is_none() {
            "No API key provided. Set the Api-Key header."
        } else {
            "Invalid API Key"
        };
        return send(req, wire::error(401, "UNAUTHENTICATED", msg));
    }
    let call = Call {
        method,
        segments: path
            .trim_start_matches('/')
            .split('/')
            .map(|s| wire::percent_decode(s, false))
            .collect(),
        query: parse_query(&query),
        content_type: header(&req, "content-type"),
        body,
    };
    match guarded(|| router::route(shared, &call)) {
        Reply::Stream(stream) => {
            let fault = shared.faults().take(&call.method, &path, true);
            sse::send(shared, req, stream, fault);
        }
        reply => send(req, reply),
    }
}

/// The error code the real service pairs with a status, for injected faults.
fn code_for(status: u16) -> &'static str {
    match status {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "FORBIDDEN",
        404 => "NOT_FOUND",
        408 => "DEADLINE_EXCEEDED",
        409 => "ALREADY_EXISTS",
        429 => "TOO_MANY_REQUESTS",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ => "INTERNAL",
    }
}

/// `/_emulator/faults` (POST one fault as JSON, DELETE all) and
/// `/_emulator/requests` (GET the log, DELETE it): test hooks for programs in
/// other languages. They need no API key and are not logged.
fn control(shared: &Shared, method: &str, rest: &str, body: &[u8]) -> Reply {
    match (method, rest) {
        ("POST", "faults") => {
            let parsed = serde_json::from_slice::<Value>(body)
                .map_err(|e| format!("body is not JSON: {e}"))
                .and_then(|v| Fault::from_json(&v));
            match parsed {
                Ok(f) => {
                    shared.faults().push(f);
                    Reply::ok(json!({"queued": true}))
                }
                Err(e) => wire::invalid(e),
            }
        }
        ("DELETE", "faults") => {
            shared.faults().clear();
            Reply::Empty(204)
        }
        ("GET", "requests") => {
            let log: Vec<Value> = shared
                .requests()
                .into_iter()
                .map(|r| {
                    json!({"method": r.method, "path": r.path, "query": r.query,
                           "headers": r.headers.into_iter()
                               .map(|(k, v)| (k, Value::String(v)))
                               .collect::<serde_json::Map<_, _>>(),
                           "body_len": r.body_len})
                })
                .collect();
            Reply::ok(json!({ "requests": log }))
        }
        ("DELETE", "requests") => {
            shared.clear_requests();
            Reply::Empty(204)
        }
        ("GET", path) if path.starts_with("files/") => download(shared, path),
        _ => wire::not_found(format!("no emulator endpoint {method} /_emulator/{rest}")),
    }
}

/// `files/{assistant}/{file_id}`: the bytes behind a `signed_url`. The link needs
/// no API key, as a signed link does not.
fn download(shared: &Shared, path: &str) -> Reply {
    let segs: Vec<String> = path
        .split('/')
        .map(|s| wire::percent_decode(s, false))
        .collect();
    let [_, assistant, id] = segs.as_slice() else {
        return wire::not_found("no such file link");
    };
    let st = shared.state();
    match st.find(assistant).and_then(|a| a.file(id)) {
        Some(f) => Reply::Bytes {
            content_type: f.kind.content_type(),
            data: std::sync::Arc::clone(&f.data),
        },
        None => wire::not_found(format!("File \"{id}\" not found.")),
    }
}

/// Writes a non-streaming reply; a client that went away is not an error here.
pub(crate) fn send(req: tiny_http::Request, reply: Reply) {
    let result = match reply {
        Reply::Json {
            status,
            body,
            headers,
        } => {
            let mut resp = tiny_http::Response::from_data(body.to_string().into_bytes())
                .with_status_code(status);
            for (name, value) in
                std::iter::once(("Content-Type", "application/json".to_owned())).chain(headers)
            {
                if let Ok(h) = tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()) {
                    resp.add_header(h);
                }
            }
            req.respond(resp)
        }
        Reply::Empty(status) => req.respond(tiny_http::Response::empty(status)),
        Reply::Bytes { content_type, data } => {
            let mut resp = tiny_http::Response::from_data(data.as_slice());
            if let Ok(h) = tiny_http::Header::from_bytes("Content-Type", content_type) {
                resp.add_header(h);
            }
            req.respond(resp)
        }
        Reply::Stream(_) => unreachable_stream(req),
    };
    if let Err(e) = result {
        log::debug!("emulator: client went away: {e}");
    }
}

/// Streams are written by [`sse::send`]; reaching here is a routing slip, answered
/// as a server error rather than a panic.
fn unreachable_stream(req: tiny_http::Request) -> std::io::Result<()> {
    req.respond(tiny_http::Response::empty(500))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::Emulator;

    fn post(emu: &Emulator, path: &str) -> (u16, serde_json::Value) {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(5)))
            .build()
            .into();
        let mut resp = agent
            .post(format!("{}{path}", emu.url()))
            .header("Api-Key", emu.api_key())
            .send_empty()
            .expect("an answer");
        let status = resp.status().as_u16();
        let body = resp.body_mut().read_json().unwrap_or_default();
        (status, body)
    }

    #[test]
    fn a_panicking_handler_answers_500_and_the_worker_lives_on() {
        let emu = Emulator::builder().workers(1).start().unwrap();
        for _ in 0..2 {
            let (status, body) = post(&emu, "/assistant/_test/panic");
            assert_eq!(status, 500);
            assert_eq!(body["error"]["code"], "INTERNAL");
            assert_eq!(body["status"], 500);
        }
        // The only worker still serves.
        let (status, body) = post(&emu, "/assistant/evaluation/metrics/alignment");
        assert_eq!((status, body["message"].is_string()), (422, true));
    }
}
