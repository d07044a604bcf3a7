//! What every C program's test shares: compiling a program once against the
//! static library, running it (and again under valgrind), and the mocks and
//! fixture texts more than one program uses.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

use mockito::{Matcher, Mock, Server, ServerGuard};

// The recorded answers the Rust tests replay too.
#[path = "../support/fixtures.rs"]
#[allow(dead_code)] // Holds more than the C tests replay.
mod fixtures;
pub use fixtures::{
    ALIGNMENT_RESPONSE, CHAT_RESPONSE, CHAT_STREAM, COMPLETIONS_STREAM, assistant_json,
};

/// The repository root: the header, the C sources and the examples are there.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the ffi crate sits in the repository root")
}

/// A library file `cargo test` built for this test binary, beside it in `deps/`.
pub fn library(extension: &str) -> PathBuf {
    let path = std::env::current_exe()
        .expect("test binary path")
        .with_file_name(format!("libpinecone_assistant_ffi.{extension}"));
    assert!(path.exists(), "{} is missing", path.display());
    path
}

/// Compiles `tests/c/{name}.c` once per test process.
pub fn program(name: &str) -> PathBuf {
    program_from(&root().join(format!("tests/c/{name}.c")), name)
}

/// Compiles the C file `source` into an executable called `name`, once.
pub fn program_from(source: &Path, name: &str) -> PathBuf {
    compile(Language::C, source, name)
}

/// The language of a test program, which picks its compiler and flags.
#[derive(Clone, Copy)]
pub enum Language {
    /// C11 with the system `cc` (or `$CC`).
    C,
    /// C++17 with `g++` (or `$CXX`), for the header-only wrapper.
    Cpp,
}

/// Compiles `source` into an executable called `name`, once per test process,
/// against the static library, with every warning an error.
pub fn compile(language: Language, source: &Path, name: &str) -> PathBuf {
    static BUILT: OnceLock<Mutex<HashMap<String, PathBuf>>> = OnceLock::new();
    let mut built = BUILT
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    if let Some(exe) = built.get(name) {
        return exe.clone();
    }
    let (compiler_var, compiler, std) = match language {
        Language::C => ("CC", "cc", "-std=c11"),
        Language::Cpp => ("CXX", "g++", "-std=c++17"),
    };
    let compiler = std::env::var(compiler_var).unwrap_or_else(|_| compiler.into());
    let exe = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("c_program_{name}"));
    let out = Command::new(&compiler)
        .current_dir(root())
        .args([std, "-g", "-pthread"])
        .args(["-Wall", "-Wextra", "-Werror", "-pedantic"])
        .arg("-Iinclude")
        .arg(source)
        .arg(library("a"))
        .args(["-lpthread", "-ldl", "-lm", "-lrt", "-lutil", "-lgcc_s"])
        .arg("-o")
        .arg(&exe)
        .output()
        .unwrap_or_else(|e| panic!("run {compiler}: {e}"));
    assert!(
        out.status.success(),
        "{compiler} failed for {}:\n{}{}",
        source.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    built.insert(name.to_owned(), exe.clone());
    exe
}

/// How to start a program: directly, and under valgrind when it is available
/// (it must report no error and no leak). `PINECONE_SKIP_VALGRIND=1` skips it.
pub fn runners() -> Vec<Vec<String>> {
    let mut runners = vec![Vec::new()];
    let have_valgrind = Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if have_valgrind && std::env::var_os("PINECONE_SKIP_VALGRIND").is_none() {
        runners.push(
            [
                "valgrind",
                "--quiet",
                "--leak-check=full",
                "--errors-for-leak-kinds=definite,indirect",
                "--error-exitcode=1",
            ]
            .map(String::from)
            .to_vec(),
        );
    }
    runners
}

/// Runs `exe` under `runner` with `env`; returns stdout, failing on a non-zero exit.
pub fn run(exe: &Path, runner: &[String], env: &[(&str, String)], args: &[String]) -> String {
    let mut cmd = match runner.split_first() {
        Some((first, rest)) => {
            let mut c = Command::new(first);
            c.args(rest).arg(exe);
            c
        }
        None => Command::new(exe),
    };
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run the C program");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{} {:?} failed ({}):\nstdout:\n{stdout}\nstderr:\n{}",
        exe.display(),
        runner,
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Runs `name` once per runner, each time against fresh mocks from `mocks`
/// (their URL in `PINECONE_TEST_URL`), and checks every mock was used as
/// expected.
pub fn run_scenario(
    name: &str,
    expected_line: &str,
    mocks: impl Fn(&mut ServerGuard) -> Vec<Mock>,
    extra_env: impl Fn() -> Vec<(&'static str, String)>,
    args: &[String],
) {
    let exe = program(name);
    for runner in runners() {
        let mut server = Server::new();
        let mocks = mocks(&mut server);
        let mut env = vec![("PINECONE_TEST_URL", server.url())];
        env.extend(extra_env());
        let stdout = run(&exe, &runner, &env, args);
        assert!(stdout.contains(expected_line), "{stdout}");
        for m in mocks {
            m.assert();
        }
    }
}

/// A GET sent with the test key and the API version, answered with JSON.
pub fn get(server: &mut ServerGuard, path: &str, status: usize, body: &str) -> Mock {
    server
        .mock("GET", path)
        .match_header("api-key", "test-key")
        .match_header("x-pinecone-api-version", "2026-07")
        .with_status(status)
        .with_header("content-type", "application/json")
        .with_body(body)
        .create()
}

/// The describe that resolves the data-plane host: once, then again after each
/// data-plane 404 (the client re-checks the host before reporting not found).
pub fn data_plane_host(server: &mut ServerGuard, lookups: usize) -> Mock {
    let url = server.url();
    get(
        server,
        "/assistant/assistants/support-bot",
        200,
        &assistant_json("support-bot", "Ready", &url),
    )
    .expect(lookups)
}

/// A streamed answer to a POST whose JSON body holds `body`.
pub fn sse(
    server: &mut ServerGuard,
    path: &str,
    body: serde_json::Value,
    events: &'static str,
) -> Mock {
    server
        .mock("POST", path)
        .match_header("content-type", "application/json")
        .match_body(Matcher::PartialJson(body))
        .with_header("content-type", "text/event-stream")
        .with_body(events)
        .create()
}
