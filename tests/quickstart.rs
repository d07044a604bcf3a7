//! The README's first command, `cargo run --example quickstart --features emulator`,
//! run as a user would: no account, no network, the emulator in-process; and the
//! observer example the same way.

mod support;

use std::process::Command;

use support::{assert_prints, stdout_of_success};

/// Runs the example `name` with no credentials in its environment (the examples
/// must need none) and returns what it printed, failing unless it succeeded.
fn run_offline(name: &str) -> String {
    let out = Command::new(support::example_binary(name))
        .env_remove("PINECONE_API_KEY")
        .env_remove("PINECONE_CONTROLLER_HOST")
        .output()
        .unwrap_or_else(|e| panic!("run the example {name}: {e}"));
    stdout_of_success(out)
}

#[test]
fn the_quick_start_runs_offline_end_to_end() {
    let stdout = run_offline("quickstart");
    assert_prints(
        &stdout,
        &[
            "using the emulator at http://127.0.0.1:",
            "assistant orbit-quickstart is Ready",
            "uploaded orbit-warranty.md (Completed)",
            "Citations:",
            "orbit-warranty.md",
            "Context snippets",
            "deleted orbit-quickstart",
        ],
    );
}

#[test]
fn the_observer_example_prints_latencies_and_tokens_at_exit() {
    let stdout = run_offline("observe");
    assert_prints(
        &stdout,
        &[
            "route",
            "p50",
            "p99",
            "POST /chat/{assistant_name} ",
            "POST /chat/{assistant_name}/chat/completions ",
            "POST /files/{assistant_name} ",
            "GET /operations/{assistant_name}/{operation_id} ",
            "errors: none",
            "tokens over 6 streams",
        ],
    );
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
