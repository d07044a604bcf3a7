//! Emulators addressed by URL and key rather than by handle: the emulator program
//! run as a child process (which a test can kill), data directories, the
//! document fixtures, and raw HTTP and clients that work with either.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use pinecone_assistant::emulator::Emulator;
use pinecone_assistant::{Client, ClientConfig};
use serde_json::Value;

/// A committed document fixture (see tests/fixtures/documents/generate.py).
pub fn document(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/documents")
        .join(name)
}

/// A client of `emu` that polls every few milliseconds, sleeping for real (the
/// tests here measure time, and a burst of spinning pollers would skew it).
pub fn polling_client(emu: &Emulator) -> Client {
    client_at(emu.url(), emu.api_key())
}

/// [`polling_client`] for the emulator at `url` that accepts `key`.
pub fn client_at(url: &str, key: &str) -> Client {
    Client::new(
        ClientConfig::builder(key)
            .host(url)
            .create_poll_interval(Duration::from_millis(5))
            .operation_poll_interval(Duration::from_millis(5))
            .build(),
    )
    .expect("a valid configuration")
}

/// A directory under the system's temporary directory, removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(label: &str) -> Self {
        static N: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "pinecone-emulator-{label}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create a temporary directory");
        Self(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn long_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into()
}

/// One request to the emulator at `url` with `key`; the status and the JSON body
/// (`Null` when there is none).
pub fn call(url: &str, key: &str, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = ureq::http::Request::builder()
        .method(method)
        .uri(format!("{url}{path}"))
        .header("Api-Key", key);
    let bytes = match body {
        Some(b) => {
            req = req.header("Content-Type", "application/json");
            b.to_string().into_bytes()
        }
        None => Vec::new(),
    };
    let mut resp = long_agent()
        .run(req.body(bytes).expect("a request"))
        .expect("an answer");
    let status = resp.status().as_u16();
    let body = resp.body_mut().read_to_vec().expect("a body");
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

/// Uploads `data` as `name` by hand (multipart), returning the 202 body.
pub fn upload_at(url: &str, key: &str, assistant: &str, name: &str, data: &[u8]) -> Value {
    try_upload_at(url, key, assistant, name, data).unwrap_or_else(|e| panic!("{e}"))
}

/// [`upload_at`], with a failure (no answer, or not a 202) as an `Err`.
pub fn try_upload_at(
    url: &str,
    key: &str,
    assistant: &str,
    name: &str,
    data: &[u8],
) -> Result<Value, String> {
    let boundary = "emu-test-boundary-7c1e";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(data);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let req = ureq::http::Request::builder()
        .method("POST")
        .uri(format!("{url}/assistant/files/{assistant}"))
        .header("Api-Key", key)
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .map_err(|e| e.to_string())?;
    let mut resp = long_agent()
        .run(req)
        .map_err(|e| format!("upload of {name}: {e}"))?;
    let status = resp.status().as_u16();
    let body = resp
        .body_mut()
        .read_to_vec()
        .map_err(|e| format!("upload of {name}: {e}"))?;
    if status != 202 {
        return Err(format!(
            "upload of {name}: status {status}: {}",
            String::from_utf8_lossy(&body)
        ));
    }
    serde_json::from_slice(&body).map_err(|e| format!("upload of {name}: {e}"))
}

/// Polls an operation until it leaves `Processing`.
pub fn wait_op_at(url: &str, key: &str, assistant: &str, op: &str) -> Value {
    let started = std::time::Instant::now();
    loop {
        let (status, o) = call(
            url,
            key,
            "GET",
            &format!("/assistant/operations/{assistant}/{op}"),
            None,
        );
        assert_eq!(status, 200, "{o}");
        if o["status"] != "Processing" {
            return o;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "operation {op} did not finish: {o}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The emulator program, running, with the URL and key it printed.
pub struct Program {
    pub child: std::process::Child,
    pub url: String,
    pub key: String,
    /// Everything it printed before serving.
    pub printed: String,
}

impl Program {
    /// Starts the emulator program with `args` and waits for its environment lines.
    pub fn start(args: &[&str]) -> Self {
        use std::io::BufRead;
        let mut child = std::process::Command::new(super::example_binary("emulator"))
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .expect("start the emulator program");
        let stdout = child.stdout.take().expect("its stdout");
        let mut printed = String::new();
        let mut lines = std::io::BufReader::new(stdout).lines();
        for line in lines.by_ref() {
            let line = line.expect("a line");
            printed.push_str(&line);
            printed.push('\n');
            if line.starts_with("export ") {
                break;
            }
        }
        let value = |name: &str| {
            printed
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{name}=")))
                .unwrap_or_else(|| panic!("no {name} in {printed:?}"))
                .to_owned()
        };
        let (url, key) = (value("PINECONE_CONTROLLER_HOST"), value("PINECONE_API_KEY"));
        Self {
            child,
            url,
            key,
            printed,
        }
    }

    /// Kills it at once (SIGKILL on Unix): no chance to finish anything.
    pub fn kill(mut self) {
        self.child.kill().expect("kill the emulator");
        self.child.wait().expect("reap the emulator");
    }
}

impl Drop for Program {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
