//! Servers and clients written by hand on 127.0.0.1, for what `mockito` cannot do:
//! a response held back event by event, a silent socket, a CONNECT proxy, a SOCKS
//! proxy, raw request bytes.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use serde_json::Value;

/// Listens on 127.0.0.1 and runs `serve` on a thread of its own for each
/// connection, for as long as the test runs. Returns the port.
pub fn serve_each(serve: impl Fn(TcpStream) + Send + Sync + 'static) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let serve = Arc::new(serve);
    thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { continue };
            let serve = serve.clone();
            thread::spawn(move || serve(client));
        }
    });
    port
}

/// A port nothing listens on (the listener that held it is closed again).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

// ---------------------------------------------------------------- one-request server

/// What a [`RawServer`] does once the request has arrived: it gets the socket
/// and the request body.
pub type Script = Box<dyn FnOnce(&mut TcpStream, String) + Send>;

/// A server on 127.0.0.1 that accepts one connection, reads one request and
/// hands the socket to a script, so the test controls every byte of the answer.
pub struct RawServer {
    port: u16,
    handle: thread::JoinHandle<()>,
}

impl RawServer {
    /// Starts the server; `script` runs on its thread after the request.
    pub fn start(script: Script) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let handle = thread::spawn(move || {
            let (mut socket, _) = listener.accept().unwrap();
            let body = read_request(&mut socket);
            script(&mut socket, body);
        });
        Self { port, handle }
    }

    /// `http://127.0.0.1:{port}`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Waits for the script to finish, failing the test if it panicked.
    pub fn join(self) {
        self.handle.join().unwrap();
    }
}

/// Reads a request head and its `Content-Length` body; returns the body.
pub fn read_request(socket: &mut TcpStream) -> String {
    let mut reader = BufReader::new(socket.try_clone().unwrap());
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        if line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    String::from_utf8(body).unwrap()
}

/// Sends the head of a chunked `text/event-stream` answer.
pub fn send_sse_headers(socket: &mut TcpStream) {
    socket
        .write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n",
        )
        .unwrap();
    socket.flush().unwrap();
}

/// Sends `data` as one chunk and flushes it.
pub fn send_chunk(socket: &mut TcpStream, data: &str) {
    write!(socket, "{:x}\r\n{data}\r\n", data.len()).unwrap();
    socket.flush().unwrap();
}

/// Ends a chunked body.
pub fn end_chunks(socket: &mut TcpStream) {
    socket.write_all(b"0\r\n\r\n").unwrap();
}

// ---------------------------------------------------------------- proxies

/// A proxy on 127.0.0.1 that answers nothing: it reads the first request line
/// and closes. Returns its URL and the line it will have read.
pub fn mute_proxy() -> (String, thread::JoinHandle<String>) {
    let proxy = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = proxy.local_addr().unwrap().port();
    let seen = thread::spawn(move || {
        let (socket, _) = proxy.accept().unwrap();
        let mut line = String::new();
        BufReader::new(socket).read_line(&mut line).unwrap();
        line
    });
    (format!("http://127.0.0.1:{port}"), seen)
}

/// A CONNECT proxy on 127.0.0.1 that tunnels the bytes. Returns its port and
/// the request heads it received, in order.
pub fn start_connect_proxy() -> (u16, Arc<Mutex<Vec<String>>>) {
    let heads = Arc::new(Mutex::new(Vec::new()));
    let record = heads.clone();
    (serve_each(move |client| tunnel(client, &record)), heads)
}

fn tunnel(client: TcpStream, heads: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(client.try_clone().unwrap());
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        head.push_str(&line);
        if line == "\r\n" {
            break;
        }
    }
    let target = head
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    heads.lock().unwrap().push(head);
    let Ok(upstream) = TcpStream::connect(&target) else {
        return;
    };
    let mut client_w = client;
    client_w
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .unwrap();
    let mut up_r = upstream.try_clone().unwrap();
    let mut up_w = upstream;
    let mut client_r = client_w.try_clone().unwrap();
    // Bytes the reader already buffered belong to the tunnel too.
    let buffered = reader.buffer().to_vec();
    up_w.write_all(&buffered).unwrap();
    thread::spawn(move || {
        let _ = std::io::copy(&mut reader, &mut up_w);
    });
    let _ = std::io::copy(&mut up_r, &mut client_w);
    let _ = client_r.read(&mut [0u8; 0]);
}

// ---------------------------------------------------------------- SOCKS proxy

/// One connection a [`start_socks_proxy`] tunnelled: the protocol version the
/// client spoke (4 or 5), the target as sent (`ip:port`, or `name:port` when the
/// client left resolving to the proxy), and the user name and password of SOCKS5
/// authentication, when the client authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocksRequest {
    pub version: u8,
    pub target: String,
    pub credentials: Option<(String, String)>,
}

/// A SOCKS4, SOCKS4a and SOCKS5 proxy on 127.0.0.1 that tunnels the bytes.
/// SOCKS5 clients that offer username and password authentication are asked
/// for it. Returns its port and the CONNECTs it received, in order.
pub fn start_socks_proxy() -> (u16, Arc<Mutex<Vec<SocksRequest>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let port = serve_each(move |client| {
        let _ = socks_session(client, &record);
    });
    (port, seen)
}

fn read_u8(s: &mut TcpStream) -> std::io::Result<u8> {
    let mut b = [0u8; 1];
    s.read_exact(&mut b)?;
    Ok(b[0])
}

fn read_n(s: &mut TcpStream, n: usize) -> std::io::Result<Vec<u8>> {
    let mut b = vec![0u8; n];
    s.read_exact(&mut b)?;
    Ok(b)
}

/// Bytes up to (not including) a NUL.
fn read_cstr(s: &mut TcpStream) -> std::io::Result<String> {
    let mut out = Vec::new();
    loop {
        match read_u8(s)? {
            0 => return Ok(String::from_utf8_lossy(&out).into_owned()),
            b => out.push(b),
        }
    }
}

fn socks_session(mut client: TcpStream, seen: &Mutex<Vec<SocksRequest>>) -> std::io::Result<()> {
    let version = read_u8(&mut client)?;
    let mut credentials = None;
    let target = match version {
        4 => {
            let _connect = read_u8(&mut client)?;
            let port = u16::from_be_bytes(read_n(&mut client, 2)?.try_into().unwrap());
            let ip = read_n(&mut client, 4)?;
            let _user = read_cstr(&mut client)?;
            // 0.0.0.x (x != 0): SOCKS4a, the host name follows.
            let host = if ip[..3] == [0, 0, 0] && ip[3] != 0 {
                read_cstr(&mut client)?
            } else {
                format!("{}.{}.{}.{}", ip[0], ip[1], ip[2], ip[3])
            };
            format!("{host}:{port}")
        }
        5 => {
            let methods = read_u8(&mut client)? as usize;
            let methods = read_n(&mut client, methods)?;
            if methods.contains(&2) {
                client.write_all(&[5, 2])?;
                let _v = read_u8(&mut client)?;
                let n = read_u8(&mut client)? as usize;
                let user = String::from_utf8_lossy(&read_n(&mut client, n)?).into_owned();
                let n = read_u8(&mut client)? as usize;
                let pass = String::from_utf8_lossy(&read_n(&mut client, n)?).into_owned();
                credentials = Some((user, pass));
                client.write_all(&[1, 0])?;
            } else {
                client.write_all(&[5, 0])?;
            }
            let _head = read_n(&mut client, 3)?;
            let host = match read_u8(&mut client)? {
                1 => {
                    let ip = read_n(&mut client, 4)?;
                    format!("{}.{}.{}.{}", ip[0], ip[1], ip[2], ip[3])
                }
                3 => {
                    let n = read_u8(&mut client)? as usize;
                    String::from_utf8_lossy(&read_n(&mut client, n)?).into_owned()
                }
                4 => {
                    let ip: [u8; 16] = read_n(&mut client, 16)?.try_into().unwrap();
                    format!("[{}]", std::net::Ipv6Addr::from(ip))
                }
                _ => return Ok(()),
            };
            let port = u16::from_be_bytes(read_n(&mut client, 2)?.try_into().unwrap());
            format!("{host}:{port}")
        }
        _ => return Ok(()),
    };
    seen.lock().unwrap().push(SocksRequest {
        version,
        target: target.clone(),
        credentials,
    });
    // Names are resolved here, as a SOCKS4a or SOCKS5 proxy does; every address
    // is tried, so `localhost` reaches a server on 127.0.0.1 even where it
    // resolves to ::1 first.
    let upstream = std::net::ToSocketAddrs::to_socket_addrs(target.as_str())
        .ok()
        .and_then(|mut addrs| addrs.find_map(|a| TcpStream::connect(a).ok()));
    let Some(upstream) = upstream else {
        let refused: &[u8] = if version == 4 {
            &[0, 91, 0, 0, 0, 0, 0, 0]
        } else {
            &[5, 5, 0, 1, 0, 0, 0, 0, 0, 0]
        };
        return client.write_all(refused);
    };
    if version == 4 {
        client.write_all(&[0, 90, 0, 0, 0, 0, 0, 0])?;
    } else {
        client.write_all(&[5, 0, 0, 1, 127, 0, 0, 1, 0, 0])?;
    }
    let mut client_r = client.try_clone()?;
    let mut up_w = upstream.try_clone()?;
    thread::spawn(move || {
        let _ = std::io::copy(&mut client_r, &mut up_w);
    });
    let mut up_r = upstream;
    let _ = std::io::copy(&mut up_r, &mut client);
    Ok(())
}

// ---------------------------------------------------------------- raw client

/// Connects to the `http://` server at `url`, sends `head` (and nothing more) and
/// returns the socket, with a read timeout.
pub fn connect_and_send(url: &str, head: &[u8]) -> TcpStream {
    let mut s = TcpStream::connect(url.trim_start_matches("http://")).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(head).unwrap();
    s.flush().unwrap();
    s
}

/// Reads one response with a `Content-Length` body: the status and the JSON body
/// (`Null` when it is not JSON).
pub fn read_response(s: &mut TcpStream) -> (u16, Value) {
    let mut r = BufReader::new(s);
    let mut line = String::new();
    r.read_line(&mut line).expect("a status line in time");
    let status = line
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let mut len = 0usize;
    loop {
        let mut h = String::new();
        r.read_line(&mut h).unwrap();
        if h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                len = v.trim().parse().unwrap();
            }
        }
    }
    let mut body = vec![0; len];
    r.read_exact(&mut body).unwrap();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}
