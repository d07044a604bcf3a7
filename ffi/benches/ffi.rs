//! The cost of the C ABI over the Rust API: the same calls made both ways against
//! one local keep-alive server.
//!
//! Run: `cargo bench -p pinecone-assistant-ffi --bench ffi --no-run`, then (pinned,
//! as for the other benches)
//! `taskset -c 1 $(ls -t target/release/deps/ffi-* | grep -v '\.d$' | head -1)`.
//! Prints the time per `describe` round trip through Rust and through
//! `pinecone_client_describe_assistant`, and the decode rate of one large chat
//! stream read with the Rust iterator and with each C reader
//! (`pinecone_stream_next`, `_next_text`, `_next_borrowed`, `_for_each`): the
//! median of seven interleaved rounds each, and each JSON reader's ratio to the
//! Rust iterator.

use std::ffi::{CStr, c_char, c_int, c_void};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::ptr;
use std::time::Instant;

use ::pinecone_assistant::models::{ChatRequest, Message};
use ::pinecone_assistant::{Client, ClientConfig};
// The exported C functions, called exactly as a C program calls them.
use pinecone_assistant_ffi::{
    pinecone_assistant, pinecone_assistant_chat_stream, pinecone_assistant_free,
    pinecone_client_assistant, pinecone_client_describe_assistant, pinecone_client_free,
    pinecone_client_new, pinecone_result, pinecone_stream, pinecone_stream_for_each,
    pinecone_stream_free, pinecone_stream_next, pinecone_stream_next_borrowed,
    pinecone_stream_next_text, pinecone_string_free,
};

const CHUNKS: usize = 100_000;
/// Passes of each stream reader (see `main`).
const ROUNDS: usize = 7;

fn describe_body(url: &str) -> String {
    format!(
        r#"{{"name":"support-bot","instructions":"Answer from the billing documents only.","metadata":{{"team":"billing"}},"status":"Ready","host":"{url}","region":"us","created_at":"2026-07-01T09:00:00Z","updated_at":"2026-07-01T09:00:41Z"}}"#
    )
}

fn stream_body() -> String {
    let mut body = String::from(
        "data: {\"type\":\"message_start\",\"id\":\"7e21\",\"model\":\"gpt-4o-2024-11-20\",\"role\":\"assistant\"}\n\n",
    );
    for i in 0..CHUNKS {
        body.push_str(&format!(
            "data: {{\"type\":\"content_chunk\",\"id\":\"00000000000000007e21a9c4d8b05f13\",\"model\":\"gpt-4o-2024-11-20\",\"delta\":{{\"content\":\"piece {i} of the answer, \"}}}}\n\n"
        ));
    }
    body.push_str(
        "data: {\"type\":\"message_end\",\"id\":\"7e21\",\"finish_reason\":\"stop\"}\n\n",
    );
    body
}

/// Answers GETs with the description and POSTs with the stream, keep-alive.
fn serve(listener: TcpListener, describe: String, stream: String) {
    for conn in listener.incoming() {
        let Ok(conn) = conn else { continue };
        let (describe, stream) = (describe.clone(), stream.clone());
        std::thread::spawn(move || {
            let mut writer = conn.try_clone().expect("clone socket");
            let mut reader = BufReader::new(conn);
            let mut line = String::new();
            loop {
                let (mut post, mut length) = (false, 0usize);
                loop {
                    line.clear();
                    match reader.read_line(&mut line) {
                        Ok(0) | Err(_) => return,
                        Ok(_) if line == "\r\n" => break,
                        Ok(_) => {
                            post |= line.starts_with("POST");
                            let lower = line.to_ascii_lowercase();
                            if let Some(v) = lower.strip_prefix("content-length:") {
                                length = v.trim().parse().unwrap_or(0);
                            }
                        }
                    }
                }
                let mut body = vec![0; length];
                if reader.read_exact(&mut body).is_err() {
                    return;
                }
                let (kind, payload) = if post {
                    ("text/event-stream", &stream)
                } else {
                    ("application/json", &describe)
                };
                // One write: a head and a body in two small writes meet Nagle's
                // algorithm and the peer's delayed ACK (40 ms per response).
                let mut response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: {kind}\r\ncontent-length: {}\r\n\r\n",
                    payload.len()
                )
                .into_bytes();
                response.extend_from_slice(payload.as_bytes());
                if writer.write_all(&response).is_err() {
                    return;
                }
            }
        });
    }
}

fn main() {
    let calls: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(20_000);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let stream = stream_body();
    let stream_mb = stream.len() as f64 / 1e6;
    let describe = describe_body(&url);
    std::thread::spawn(move || serve(listener, describe, stream));

    let client =
        Client::new(ClientConfig::builder("bench-key").host(&url).build()).expect("client");
    let options = format!("{{\"host\":\"{url}\"}}\0");
    let mut c_client = ptr::null_mut();
    // SAFETY: NUL-terminated strings and a writable out pointer, as the header asks.
    let rc = unsafe {
        pinecone_client_new(
            c"bench-key".as_ptr(),
            options.as_ptr().cast(),
            &mut c_client,
        )
    };
    assert_eq!(rc, pinecone_result::Ok);

    client.describe_assistant("support-bot").expect("warm-up");
    time("describe, Rust API", calls, || {
        std::hint::black_box(client.describe_assistant("support-bot").expect("describe"));
    });
    time("describe, C ABI (JSON out + free)", calls, || {
        let mut json = ptr::null_mut();
        // SAFETY: live client, NUL-terminated name, writable out pointer.
        let rc = unsafe {
            pinecone_client_describe_assistant(c_client, c"support-bot".as_ptr(), &mut json)
        };
        assert_eq!(rc, pinecone_result::Ok);
        // SAFETY: an owned string from the library, freed once.
        unsafe { pinecone_string_free(std::hint::black_box(json)) };
    });

    let question = ChatRequest::new([Message::user("How long is the refund window?")]);
    let docs = client.assistant("support-bot");
    let mut c_docs = ptr::null_mut();
    // SAFETY: live client, NUL-terminated name, writable out pointer.
    assert_eq!(
        unsafe { pinecone_client_assistant(c_client, c"support-bot".as_ptr(), &mut c_docs) },
        pinecone_result::Ok
    );
    type Next = unsafe extern "C" fn(*mut pinecone_stream, *mut *mut c_char) -> pinecone_result;
    let c_stream = |next: Next| {
        let stream = open(c_docs);
        let mut n = 0;
        loop {
            let mut item = ptr::null_mut();
            // SAFETY: live stream used by this thread only, writable out pointer.
            assert_eq!(unsafe { next(stream, &mut item) }, pinecone_result::Ok);
            if item.is_null() {
                break;
            }
            // SAFETY: an owned NUL-terminated string from the library.
            n += usize::from(!unsafe { CStr::from_ptr(item) }.is_empty());
            // SAFETY: freed once.
            unsafe { pinecone_string_free(item) };
        }
        // SAFETY: a stream from the library, freed once.
        unsafe { pinecone_stream_free(stream) };
        n
    };
    // The three readers take turns, round after round, so that a slower moment
    // of the machine falls on all of them alike; the median of each is printed.
    let c_borrowed = || {
        let stream = open(c_docs);
        let mut n = 0;
        loop {
            let (mut item, mut len) = (ptr::null(), 0);
            // SAFETY: live stream used by this thread only, writable outputs.
            let rc = unsafe { pinecone_stream_next_borrowed(stream, &mut item, &mut len) };
            assert_eq!(rc, pinecone_result::Ok);
            if item.is_null() {
                break;
            }
            // SAFETY: `len` bytes lent until the next call on the stream.
            let json = unsafe { std::slice::from_raw_parts(item.cast::<u8>(), len) };
            n += usize::from(!std::hint::black_box(json).is_empty());
        }
        // SAFETY: a stream from the library, freed once.
        unsafe { pinecone_stream_free(stream) };
        n
    };
    let c_for_each = || {
        unsafe extern "C" fn count(userdata: *mut c_void, json: *const c_char) -> c_int {
            // SAFETY: the `usize` passed below, and a NUL-terminated chunk.
            unsafe { *userdata.cast::<usize>() += usize::from(*json != 0) };
            0
        }
        let stream = open(c_docs);
        let mut n = 0usize;
        // SAFETY: live stream, a callback that does not unwind, its userdata.
        let rc = unsafe { pinecone_stream_for_each(stream, Some(count), (&raw mut n).cast()) };
        assert_eq!(rc, pinecone_result::Ok);
        // SAFETY: a stream from the library, freed once.
        unsafe { pinecone_stream_free(stream) };
        n
    };
    let readers: [(&str, &dyn Fn() -> usize); 5] = [
        ("stream, Rust iterator", &|| {
            docs.chat_stream(question.clone()).expect("stream").count()
        }),
        (
            "stream, C ABI pinecone_stream_next (JSON per chunk)",
            &|| c_stream(pinecone_stream_next),
        ),
        ("stream, C ABI pinecone_stream_next_text", &|| {
            c_stream(pinecone_stream_next_text)
        }),
        (
            "stream, C ABI pinecone_stream_next_borrowed (lent JSON)",
            &c_borrowed,
        ),
        ("stream, C ABI pinecone_stream_for_each (JSON)", &c_for_each),
    ];
    let mut rates = vec![Vec::new(); readers.len()];
    let mut items = vec![0; readers.len()];
    for _ in 0..ROUNDS {
        for (i, (_, read)) in readers.iter().enumerate() {
            let start = Instant::now();
            items[i] = read();
            rates[i].push(stream_mb / start.elapsed().as_secs_f64());
        }
    }
    let medians: Vec<f64> = rates.iter_mut().map(|r| median(r)).collect();
    for (i, (label, _)) in readers.iter().enumerate() {
        println!(
            "{label}: {} items, {:.0} MB/s (median of {ROUNDS}; {:.0}-{:.0})",
            items[i],
            medians[i],
            rates[i][0],
            rates[i][ROUNDS - 1]
        );
    }
    for (i, path) in [(1, "next"), (3, "next_borrowed"), (4, "for_each")] {
        println!(
            "C JSON path ({path}) / Rust iterator: {:.1} %",
            100.0 * medians[i] / medians[0]
        );
    }
    // SAFETY: handles from the library, freed once.
    unsafe {
        pinecone_assistant_free(c_docs);
        pinecone_client_free(c_client);
    }
}

fn time(label: &str, calls: usize, mut call: impl FnMut()) {
    let start = Instant::now();
    for _ in 0..calls {
        call();
    }
    let per_call = start.elapsed().as_secs_f64() * 1e6 / calls as f64;
    println!("{label}: {per_call:.2} µs per call ({calls} calls)");
}

/// Starts the bench's chat stream through C.
fn open(docs: *mut pinecone_assistant) -> *mut pinecone_stream {
    let request =
        c"{\"messages\":[{\"role\":\"user\",\"content\":\"How long is the refund window?\"}]}";
    let mut stream = ptr::null_mut();
    // SAFETY: live assistant, NUL-terminated request, writable out pointer.
    let rc = unsafe { pinecone_assistant_chat_stream(docs, request.as_ptr(), &mut stream) };
    assert_eq!(rc, pinecone_result::Ok);
    stream
}

/// Sorts `rates` and returns the middle one.
fn median(rates: &mut [f64]) -> f64 {
    rates.sort_by(f64::total_cmp);
    rates[rates.len() / 2]
}
