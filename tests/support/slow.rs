//! Servers on 127.0.0.1 that misbehave in time: one that answers a byte now and
//! then, one that stops reading a request body, one that cuts an answer short.
//! Each serves every connection on its own thread until the test ends.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use super::tcp::serve_each;

/// What a [`Server`] does with each request: it gets the request line (`GET
/// /assistant/...`), the request's body and the socket.
pub type Handler = Arc<dyn Fn(&str, &[u8], &mut TcpStream) + Send + Sync>;

/// A server that hands every request of every connection to its handler.
pub struct Server {
    port: u16,
}

impl Server {
    /// Starts serving with `handler`.
    pub fn start(handler: impl Fn(&str, &[u8], &mut TcpStream) + Send + Sync + 'static) -> Self {
        Self::start_reading(true, Arc::new(handler))
    }

    /// Starts serving with `handler`, which gets the request body unread (an
    /// empty slice) when `read_body` is false.
    pub fn start_reading(read_body: bool, handler: Handler) -> Self {
        let port = serve_each(move |mut socket| {
            while let Some((line, body)) = read_head(&mut socket, read_body) {
                handler(&line, &body, &mut socket);
                if !read_body {
                    return;
                }
            }
        });
        Self { port }
    }

    /// `http://127.0.0.1:{port}`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// Reads a request head (and its `Content-Length` body when `read_body`);
/// `None` when the connection closed.
fn read_head(socket: &mut TcpStream, read_body: bool) -> Option<(String, Vec<u8>)> {
    let mut reader = BufReader::new(socket.try_clone().ok()?);
    let mut first = String::new();
    if reader.read_line(&mut first).ok()? == 0 {
        return None;
    }
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; if read_body { length } else { 0 }];
    reader.read_exact(&mut body).ok()?;
    // The head was small and the body read exactly: nothing of the next request
    // sits in the reader's buffer.
    Some((first.trim_end().to_owned(), body))
}

/// Answers 200 with a `Content-Length` of `total` bytes of JSON-ish text, sent
/// one byte every `every`, until done or the client goes away. Each read of the
/// client finishes well within its idle timeout; only a total bound stops it.
pub fn drip(socket: &mut TcpStream, total: usize, every: Duration) {
    let head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {total}\r\n\r\n"
    );
    if socket.write_all(head.as_bytes()).is_err() {
        return;
    }
    for _ in 0..total {
        thread::sleep(every);
        if socket
            .write_all(b" ")
            .and_then(|()| socket.flush())
            .is_err()
        {
            return;
        }
    }
}

/// Answers 200 with `body` and a matching `Content-Length`.
pub fn answer(socket: &mut TcpStream, body: &str) {
    let _ = write!(
        socket,
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let _ = socket.flush();
}

/// An assistant description whose data plane is at `host`.
pub fn assistant(name: &str, status: &str, host: &str) -> String {
    serde_json::json!({"name": name, "status": status, "host": host, "region": "us"}).to_string()
}
