//! TLS verification and proxies, against local servers only.
//!
//! The TLS tests drive `openssl s_server` with a CA and certificate made on the fly;
//! `.ci/run` installs the openssl tool when a machine lacks it, and here a missing
//! tool fails the test rather than skipping it.

mod support;

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pinecone_assistant::models::{ChatRequest, Message};
use pinecone_assistant::{Client, ClientConfigBuilder, Error, RetryPolicy, TransportErrorKind};
use support::fixtures::CHAT_STREAM;
use support::mock::{ASSISTANT, builder_for, data_plane};
use support::tcp::{SocksRequest, free_port, start_connect_proxy, start_socks_proxy};

/// The assistant every test describes.
const BOT: &str = r#"{"name":"bot","status":"Ready","host":"h"}"#;

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the openssl command-line tool is needed for the TLS tests");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA, and a server certificate for 127.0.0.1 signed by it, in a fresh directory.
fn make_certificates() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "pinecone-tls-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    openssl(
        &dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=Test CA",
        ],
    );
    openssl(
        &dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    );
    std::fs::write(dir.join("ext.cnf"), "subjectAltName=IP:127.0.0.1\n").unwrap();
    openssl(
        &dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ],
    );
    // `s_server -WWW` serves files below its working directory.
    let docs = dir.join("assistant/assistants");
    std::fs::create_dir_all(&docs).unwrap();
    std::fs::write(docs.join("bot"), BOT).unwrap();
    dir
}

struct TlsServer {
    child: Child,
    url: String,
    dir: PathBuf,
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn start_tls_server() -> TlsServer {
    let dir = make_certificates();
    let port = free_port();
    let child = Command::new("openssl")
        .args([
            "s_server",
            "-quiet",
            "-WWW",
            "-accept",
            &format!("127.0.0.1:{port}"),
            "-cert",
            "server.pem",
            "-key",
            "server.key",
        ])
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start openssl s_server");
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "openssl s_server did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    TlsServer {
        child,
        url: format!("https://127.0.0.1:{port}"),
        dir,
    }
}

fn base(url: &str) -> ClientConfigBuilder {
    builder_for(url).retry(RetryPolicy::none())
}

#[test]
fn tls_is_verified_by_default_and_trusts_a_given_ca() {
    let server = start_tls_server();

    let err = Client::new(base(&server.url).build())
        .unwrap()
        .describe_assistant("bot")
        .unwrap_err();
    assert!(
        matches!(err, Error::Transport(_)),
        "an unknown issuer must be refused: {err:?}"
    );
    assert_eq!(
        err.transport().unwrap().kind(),
        TransportErrorKind::Tls,
        "{err:?}"
    );
    assert!(
        std::error::Error::source(&err).is_some(),
        "the TLS error is kept for diagnosis"
    );

    let trusted = Client::new(
        base(&server.url)
            .ca_bundle(server.dir.join("ca.pem"))
            .build(),
    )
    .unwrap();
    assert_eq!(trusted.describe_assistant("bot").unwrap().name, "bot");

    let trusted_dir = std::env::temp_dir().join(format!("pinecone-ca-dir-{}", std::process::id()));
    std::fs::create_dir_all(&trusted_dir).unwrap();
    std::fs::copy(server.dir.join("ca.pem"), trusted_dir.join("ca.pem")).unwrap();
    let from_dir = Client::new(base(&server.url).ca_bundle(&trusted_dir).build()).unwrap();
    assert_eq!(from_dir.describe_assistant("bot").unwrap().name, "bot");
    let _ = std::fs::remove_dir_all(&trusted_dir);

    let insecure = Client::new(base(&server.url).accept_invalid_certs(true).build()).unwrap();
    assert_eq!(insecure.describe_assistant("bot").unwrap().name, "bot");
}

#[test]
fn unusable_tls_and_proxy_settings_are_refused_at_construction() {
    let err = Client::new(base("https://x").ca_bundle("/nonexistent/ca.pem").build()).unwrap_err();
    assert!(
        matches!(err, Error::InvalidArgument { ref name, .. } if name == "ca_bundle"),
        "{err}"
    );
    let empty = std::env::temp_dir().join(format!("pinecone-empty-{}.pem", std::process::id()));
    std::fs::write(&empty, "not a certificate").unwrap();
    let err = Client::new(base("https://x").ca_bundle(&empty).build()).unwrap_err();
    assert!(
        matches!(err, Error::InvalidArgument { ref name, .. } if name == "ca_bundle"),
        "{err}"
    );
    let _ = std::fs::remove_file(&empty);
    let err = Client::new(base("https://x").proxy("ftp://nowhere:1").build()).unwrap_err();
    assert!(
        matches!(err, Error::InvalidArgument { ref name, .. } if name == "proxy"),
        "{err}"
    );
}

/// A plain-HTTP control plane that describes [`BOT`], expected `n` times.
fn describing_bot(n: usize) -> (mockito::ServerGuard, mockito::Mock) {
    let mut server = mockito::Server::new();
    let mock = server
        .mock("GET", "/assistant/assistants/bot")
        .with_body(BOT)
        .expect(n)
        .create();
    (server, mock)
}

#[test]
fn requests_go_through_the_proxy_with_its_credentials() {
    let (server, mock) = describing_bot(1);
    let (port, heads) = start_connect_proxy();
    let client = Client::new(
        base(&server.url())
            .proxy(format!("http://user:p%40ss@127.0.0.1:{port}"))
            .build(),
    )
    .unwrap();
    assert_eq!(client.describe_assistant("bot").unwrap().name, "bot");
    mock.assert();
    let heads = heads.lock().unwrap();
    assert_eq!(heads.len(), 1);
    assert!(
        heads[0].starts_with(&format!("CONNECT {} ", server.host_with_port())),
        "{}",
        heads[0]
    );
    // user:p@ss, percent-decoded once, in Basic form.
    let auth = heads[0]
        .lines()
        .find_map(|l| {
            l.split_once(':')
                .filter(|(k, _)| k.eq_ignore_ascii_case("proxy-authorization"))
        })
        .map(|(_, v)| v.trim().to_owned());
    assert_eq!(auth.as_deref(), Some("Basic dXNlcjpwQHNz"), "{}", heads[0]);
    assert!(!format!("{:?}", client.config()).contains("p%40ss"));
}

#[test]
fn socks_proxies_of_every_version_carry_requests() {
    let (server, mock) = describing_bot(6);
    let (proxy, seen) = start_socks_proxy();
    let port = server.socket_address().port();
    let by_ip = format!("http://127.0.0.1:{port}");
    // A host name, so that the versions that leave resolving to the proxy show it.
    let by_name = format!("http://localhost:{port}");
    let ip_target = format!("127.0.0.1:{port}");
    let name_target = format!("localhost:{port}");
    let cases = [
        ("socks4", &by_ip, 4, &ip_target, None),
        ("socks4a", &by_name, 4, &name_target, None),
        ("socks5", &by_ip, 5, &ip_target, None),
        ("socks5h", &by_name, 5, &name_target, None),
        ("socks", &by_ip, 5, &ip_target, None),
        (
            "socks5://me:p%40ss@",
            &by_ip,
            5,
            &ip_target,
            Some(("me", "p@ss")),
        ),
    ];
    for (scheme, host, version, target, credentials) in cases {
        let url = if scheme.ends_with('@') {
            format!("{scheme}127.0.0.1:{proxy}")
        } else {
            format!("{scheme}://127.0.0.1:{proxy}")
        };
        let client = Client::new(base(host).proxy(&url).build()).unwrap();
        assert_eq!(
            client.describe_assistant("bot").unwrap().name,
            "bot",
            "{url}"
        );
        let last = seen.lock().unwrap().pop().expect("the proxy was used");
        let credentials = credentials.map(|(u, p): (&str, &str)| (u.to_owned(), p.to_owned()));
        let expected = SocksRequest {
            version,
            target: target.clone(),
            credentials,
        };
        assert_eq!(last, expected, "{url}");
        assert!(!format!("{:?}", client.config()).contains("p%40ss"));
    }
    mock.assert();
}

#[test]
fn streams_go_through_a_socks_proxy_too() {
    let (mut server, _describe) = data_plane();
    let chat = server
        .mock("POST", format!("/assistant/chat/{ASSISTANT}").as_str())
        .with_header("content-type", "text/event-stream")
        .with_body(CHAT_STREAM)
        .expect(1)
        .create();
    let (proxy, seen) = start_socks_proxy();
    let config = base(&server.url()).proxy(format!("socks5h://127.0.0.1:{proxy}"));
    let docs = Client::new(config.build()).unwrap().assistant(ASSISTANT);
    let request = ChatRequest::new([Message::user("hi")]);
    let chunks: Vec<_> = docs.chat_stream(request).unwrap().collect();
    assert_eq!(chunks.len(), 5, "{chunks:?}");
    assert!(chunks.iter().all(Result::is_ok), "{chunks:?}");
    chat.assert();
    // One tunnel for the describe that finds the data plane, one for the stream,
    // which always has a connection of its own.
    assert_eq!(seen.lock().unwrap().len(), 2);
}

#[test]
fn every_proxy_scheme_is_either_usable_or_refused_at_construction() {
    // Nothing listens on `dead`: a usable scheme must fail the call with a
    // transport error, never with a panic inside the HTTP stack.
    let dead = free_port();
    for scheme in [
        "http", "https", "socks4", "socks4a", "socks5", "socks5h", "socks",
    ] {
        let url = format!("{scheme}://127.0.0.1:{dead}");
        let client = Client::new(base("http://127.0.0.1:9").proxy(&url).build())
            .unwrap_or_else(|e| panic!("{url}: {e}"));
        let err = client.describe_assistant("bot").unwrap_err();
        assert!(
            matches!(err, Error::Transport(_) | Error::Timeout(_)),
            "{url}: {err:?}"
        );
    }
    for url in [
        "ftp://127.0.0.1:21",
        "socks6://127.0.0.1:1080",
        "unix:///run/proxy.sock",
        "http://",
    ] {
        match Client::new(base("http://127.0.0.1:9").proxy(url).build()) {
            Err(Error::InvalidArgument { name, reason }) => {
                assert_eq!(name, "proxy", "{url}");
                assert!(reason.contains("socks5://"), "{url}: {reason}");
            }
            other => panic!("{url}: {other:?}"),
        }
    }
}
