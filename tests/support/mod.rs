//! What the integration tests share. Each test file includes it with `mod support;`
//! and uses the parts it needs:
//!
//! - [`mock`]: clients pointed at a `mockito` server, and mocks that check the
//!   headers every request carries (including the describe that resolves an
//!   assistant's data-plane host);
//! - [`fixtures`]: recorded answers and request bodies;
//! - [`tcp`]: hand-written servers and clients on 127.0.0.1 for what `mockito`
//!   cannot do (holding a response back, a CONNECT proxy, raw request bytes);
//! - [`slow`]: servers that misbehave in time (an answer dripped a byte at a
//!   time, a body never read), serving every connection;
//! - [`emu`]: clients and raw HTTP helpers for the in-process emulator (feature
//!   `emulator`);
//! - [`program`]: the emulator program as a child process, data directories,
//!   document fixtures, and helpers that address an emulator by URL and key
//!   (feature `emulator`).

// Every test binary compiles this whole module but uses only part of it.
#![allow(dead_code)]

#[cfg(feature = "emulator")]
pub mod emu;
pub mod fixtures;
pub mod mock;
#[cfg(feature = "emulator")]
pub mod program;
pub mod slow;
pub mod tcp;

/// The standard output of a program that has finished, failing the test with
/// both of its outputs unless it exited with success.
pub fn stdout_of_success(out: std::process::Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "failed ({}):\nstdout:\n{stdout}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Asserts that `stdout` holds each of `expected`, naming the first missing.
pub fn assert_prints(stdout: &str, expected: &[&str]) {
    for expected in expected {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
}

/// The text under `key` in each element of the JSON array `items`, in order;
/// fails the test when `items` is not an array or an element has no text there.
pub fn texts_of<'a>(items: &'a serde_json::Value, key: &str) -> Vec<&'a str> {
    items
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {items}"))
        .iter()
        .map(|item| {
            item[key]
                .as_str()
                .unwrap_or_else(|| panic!("no text at {key:?} in {item}"))
        })
        .collect()
}

/// The path of an example program that `cargo test` built beside the test
/// binaries (examples with `test = true`, or any example when their features
/// are on).
pub fn example_binary(name: &str) -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let target = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target dir");
    let path = target
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} was not built: a whole `cargo test --all-features` builds the examples; \
         when running single tests, build it first with `cargo build --all-features --example {name}`",
        path.display()
    );
    path
}
