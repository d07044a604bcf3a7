//! The README's first command, `cargo run --example quickstart --features emulator`,
//! run as a user would: no account, no network, the emulator in-process; and the
//! observer example the same way.

mod support;

use std::process::Command;

#[test]
fn the_quick_start_runs_offline_end_to_end() {
    let quickstart = support::example_binary("quickstart");
    // No credentials from the environment: the quick start must not need any.
    let mut command = Command::new(&quickstart);
    command.env_remove("PINECONE_API_KEY");
    command.env_remove("PINECONE_CONTROLLER_HOST");
    let out = command.output().expect("run the quick start");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "quick start failed:\n{stdout}\n{stderr}"
    );
    for expected in [
        "using the emulator at http://127.0.0.1:",
        "assistant orbit-quickstart is Ready",
        "uploaded orbit-warranty.md (Completed)",
        "Citations:",
        "orbit-warranty.md",
        "Context snippets",
        "deleted orbit-quickstart",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
}

#[test]
fn the_observer_example_prints_latencies_and_tokens_at_exit() {
    let example = support::example_binary("observe");
    let mut command = Command::new(&example);
    command.env_remove("PINECONE_API_KEY");
    command.env_remove("PINECONE_CONTROLLER_HOST");
    let out = command.output().expect("run the observer example");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "failed:\n{stdout}\n{stderr}");
    for expected in [
        "route",
        "p50",
        "p99",
        "POST /chat/{assistant_name} ",
        "POST /chat/{assistant_name}/chat/completions ",
        "POST /files/{assistant_name} ",
        "GET /operations/{assistant_name}/{operation_id} ",
        "errors: none",
        "tokens over 6 streams",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
    // Each of the six streams reported its usage.
    let tokens = stdout
        .lines()
        .find(|l| l.starts_with("tokens over"))
        .unwrap();
    let total: u64 = tokens
        .rsplit(" = ")
        .next()
        .and_then(|t| t.trim_end_matches(" total").parse().ok())
        .unwrap();
    assert!(total > 0, "{tokens}");
}
