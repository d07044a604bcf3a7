//! The C API from C: each program in `tests/c/` is compiled with the system `cc`
//! against the static library that `cargo test` builds, then run against mock
//! servers (and, when valgrind is installed, run again under valgrind, which must
//! report no error and no leak).
//!
//! Set `PINECONE_SKIP_VALGRIND=1` to skip the valgrind runs.

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

use mockito::{Matcher, Mock, Server, ServerGuard};
use serde_json::json;

/// Compiles `tests/c/{name}.c` once per test process.
fn program(name: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    program_from(root.join(format!("tests/c/{name}.c")), name)
}

/// Compiles the C file `source` into an executable called `name`, once.
fn program_from(source: PathBuf, name: &str) -> PathBuf {
    static BUILT: OnceLock<Mutex<HashMap<String, PathBuf>>> = OnceLock::new();
    let mut built = BUILT
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    if let Some(exe) = built.get(name) {
        return exe.clone();
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let deps = std::env::current_exe()
        .expect("test binary path")
        .parent()
        .expect("deps directory")
        .to_path_buf();
    let lib = deps.join("libpinecone_assistant.a");
    assert!(lib.exists(), "{} is missing", lib.display());
    let exe = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("c_program_{name}"));
    let out = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()))
        .current_dir(root)
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic", "-g"])
        .arg("-Iinclude")
        .arg(&source)
        .arg(&lib)
        .args(["-lpthread", "-ldl", "-lm", "-lrt", "-lutil", "-lgcc_s"])
        .arg("-o")
        .arg(&exe)
        .output()
        .expect("run cc");
    assert!(
        out.status.success(),
        "cc failed for {}:\n{}{}",
        source.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    built.insert(name.to_owned(), exe.clone());
    exe
}

/// How to start a program: directly, and under valgrind when it is available.
fn runners() -> Vec<Vec<String>> {
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
fn run(exe: &Path, runner: &[String], env: &[(&str, String)], args: &[String]) -> String {
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

/// Runs `name` once per runner, each time against fresh mocks from `mocks`.
fn run_scenario(
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

fn assistant_json(url: &str, name: &str, status: &str) -> String {
    json!({
        "name": name,
        "instructions": "Answer from the billing documents only.",
        "metadata": {"team": "billing"},
        "status": status,
        "host": url,
        "region": "us",
        "created_at": "2026-07-01T09:00:00Z",
        "updated_at": "2026-07-01T09:00:41Z"
    })
    .to_string()
}

fn get(server: &mut ServerGuard, path: &str, status: usize, body: &str) -> Mock {
    server
        .mock("GET", path)
        .match_header("api-key", "test-key")
        .match_header("x-pinecone-api-version", "2026-07")
        .with_status(status)
        .with_header("content-type", "application/json")
        .with_body(body)
        .create()
}

fn control_plane_mocks(server: &mut ServerGuard) -> Vec<Mock> {
    let url = server.url();
    let a = |name: &str, status: &str| assistant_json(&url, name, status);
    let mut mocks = Vec::new();
    for (name, status) in [
        ("support-bot", 200),
        ("quick-bot", 200),
        ("slow-bot", 200),
        ("broken-bot", 200),
        ("taken-bot", 409),
        ("limited-bot", 429),
    ] {
        let body = match status {
            200 => a(name, "Initializing"),
            409 => r#"{"error":{"code":"ALREADY_EXISTS","message":"Assistant taken-bot already exists"},"status":409}"#.to_owned(),
            _ => r#"{"error":{"code":"RESOURCE_EXHAUSTED","message":"Assistant quota reached"},"status":429}"#.to_owned(),
        };
        mocks.push(
            server
                .mock("POST", "/assistant/assistants")
                .match_header("content-type", "application/json")
                .match_header("api-key", "test-key")
                .match_body(Matcher::PartialJson(json!({"name": name, "region": "us"})))
                .with_status(status)
                .with_header("retry-after", "120")
                .with_body(body)
                .expect(1)
                .create(),
        );
    }
    // The first describe of support-bot ends the create wait; then one describe,
    // 20 from the threads and the final one.
    mocks.push(
        get(
            server,
            "/assistant/assistants/support-bot",
            200,
            &a("support-bot", "Ready"),
        )
        .expect(23),
    );
    mocks.push(
        get(
            server,
            "/assistant/assistants/slow-bot",
            200,
            &a("slow-bot", "Initializing"),
        )
        .expect(1),
    );
    mocks.push(
        get(
            server,
            "/assistant/assistants/broken-bot",
            200,
            &a("broken-bot", "InitializationFailed"),
        )
        .expect(1),
    );
    // Once from the main thread, then 5 times from each of 4 threads.
    mocks.push(
        server
            .mock("GET", "/assistant/assistants/ghost-bot")
            .with_status(404)
            .with_header("x-pinecone-request-id", "7f3e2b1a9c")
            .with_body(r#"{"error":{"code":"NOT_FOUND","message":"Assistant \"ghost-bot\" not found."},"status":404}"#)
            .expect(21)
            .create(),
    );
    mocks.push(
        get(
            server,
            "/assistant/assistants/flaky-bot",
            500,
            r#"{"error":{"code":"INTERNAL","message":"boom"},"status":500}"#,
        )
        .expect(1),
    );
    mocks.push(
        get(
            server,
            "/assistant/assistants/garbled-bot",
            200,
            "this is not json",
        )
        .expect(1),
    );
    let page = |names: &[&str], next: Option<&str>| {
        let items: Vec<serde_json::Value> = names
            .iter()
            .map(|n| serde_json::from_str(&a(n, "Ready")).unwrap())
            .collect();
        match next {
            Some(t) => json!({"assistants": items, "pagination": {"next": t}}),
            None => json!({"assistants": items}),
        }
        .to_string()
    };
    mocks.push(
        get(
            server,
            "/assistant/assistants?limit=2",
            200,
            &page(&["support-bot", "eu-docs"], Some("YXNzdDoy")),
        )
        .expect(1),
    );
    // Seven walks fetch page 1; three reach page 2 (the others stop at max_items,
    // after one item, or when freed from their callback).
    mocks.push(
        get(
            server,
            "/assistant/assistants",
            200,
            &page(&["support-bot", "eu-docs"], Some("YXNzdDoy")),
        )
        .expect(7),
    );
    mocks.push(
        get(
            server,
            "/assistant/assistants?pagination_token=YXNzdDoy",
            200,
            &page(&["third-bot"], None),
        )
        .expect(3),
    );
    let mut updated: serde_json::Value = serde_json::from_str(&a("support-bot", "Ready")).unwrap();
    updated["instructions"] = json!("Cite pages.");
    mocks.push(
        server
            .mock("PATCH", "/assistant/assistants/support-bot")
            .match_body(Matcher::JsonString(
                r#"{"instructions":"Cite pages."}"#.into(),
            ))
            .with_body(updated.to_string())
            .expect(1)
            .create(),
    );
    for name in ["quick-bot", "old-bot", "stuck-bot"] {
        mocks.push(
            server
                .mock("DELETE", format!("/assistant/assistants/{name}").as_str())
                .with_status(200)
                .expect(1)
                .create(),
        );
    }
    mocks.push(
        get(
            server,
            "/assistant/assistants/old-bot",
            404,
            r#"{"error":{"code":"NOT_FOUND","message":"gone"},"status":404}"#,
        )
        .expect(1),
    );
    mocks.push(
        get(
            server,
            "/assistant/assistants/stuck-bot",
            200,
            &a("stuck-bot", "Terminating"),
        )
        .expect_at_least(1),
    );
    mocks
}

/// A server that accepts connections (the kernel's backlog does) and never answers.
fn silent_server() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    (listener, url)
}

#[test]
fn control_plane() {
    let (_silent, silent_url) = silent_server();
    run_scenario(
        "control_plane",
        "control plane: ok",
        control_plane_mocks,
        || vec![("PINECONE_TEST_SILENT_URL", silent_url.clone())],
        &[],
    );
}

#[test]
fn misuse() {
    let exe = program("misuse");
    for runner in runners() {
        let stdout = run(&exe, &runner, &[], &[]);
        assert!(stdout.contains("misuse: ok"), "{stdout}");
    }
}

/// The describe that resolves the data-plane host: once, then again after each
/// data-plane 404 (the client re-checks the host before reporting not found).
fn data_plane_host(server: &mut ServerGuard, lookups: usize) -> Mock {
    let url = server.url();
    get(
        server,
        "/assistant/assistants/support-bot",
        200,
        &assistant_json(&url, "support-bot", "Ready"),
    )
    .expect(lookups)
}

fn operation(id: &str, kind: &str, file_id: &str, status: &str) -> serde_json::Value {
    let mut op = json!({
        "id": id, "operation_type": kind, "file_id": file_id, "status": status,
        "created_on": "2026-07-04T10:15:22Z",
        "percent_complete": if status == "Processing" { 0 } else { 100 }
    });
    if status == "Completed" {
        op["completed_on"] = json!("2026-07-04T10:15:41Z");
        op["ingestion_units"] = json!(12.5);
    }
    if status == "Failed" {
        op["error_message"] = json!("File processing failed: unsupported file format.");
    }
    op
}

fn file(id: &str, name: &str, status: &str) -> serde_json::Value {
    json!({
        "name": name, "id": id, "metadata": {"team": "finance"},
        "created_on": "2026-07-04T10:15:22Z", "updated_on": "2026-07-04T10:15:41Z",
        "status": status, "size": 14, "multimodal": true
    })
}

fn accepted(
    server: &mut ServerGuard,
    method: &str,
    path: &str,
    body: &[&str],
    op: serde_json::Value,
) -> Mock {
    let location = format!(
        "/operations/support-bot/{}",
        op["id"].as_str().unwrap_or("")
    );
    server
        .mock(method, path)
        .match_header(
            "content-type",
            Matcher::Regex("^multipart/form-data; boundary=".into()),
        )
        .match_body(Matcher::AllOf(
            body.iter()
                .map(|b| Matcher::Regex(regex_escape(b)))
                .collect(),
        ))
        .with_status(202)
        .with_header("location", &location)
        .with_body(op.to_string())
        .expect(1)
        .create()
}

fn regex_escape(text: &str) -> String {
    text.chars()
        .map(|c| {
            if "\\.+*?()|[]{}^$#&-~".contains(c) {
                format!("\\{c}")
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn files_mocks(server: &mut ServerGuard) -> Vec<Mock> {
    // Two data-plane 404s below: the ghost file and the expired operation.
    let mut mocks = vec![data_plane_host(server, 3)];
    mocks.push(accepted(
        server,
        "POST",
        "/assistant/files/support-bot?multimodal=true",
        &[
            r#"name="file"; filename="report.pdf""#,
            "Content-Type: application/pdf",
            "%PDF-1.4 hello",
            r#"name="metadata""#,
            r#"{"team":"finance"}"#,
        ],
        operation("op-1", "upload_file", "file-1", "Processing"),
    ));
    let op1 = operation("op-1", "upload_file", "file-1", "Completed").to_string();
    mocks.push(get(server, "/assistant/operations/support-bot/op-1", 200, &op1).expect(3));
    let f1 = file("file-1", "report.pdf", "Available");
    mocks.push(
        get(
            server,
            "/assistant/files/support-bot/file-1",
            200,
            &f1.to_string(),
        )
        .expect(1),
    );
    let mut signed = f1.clone();
    signed["signed_url"] = json!("https://storage.example/file-1");
    mocks.push(
        get(
            server,
            "/assistant/files/support-bot/file-1?include_url=true",
            200,
            &signed.to_string(),
        )
        .expect(1),
    );
    mocks.push(accepted(
        server,
        "PUT",
        "/assistant/files/support-bot/notes_v2",
        &[
            r#"filename="notes.md""#,
            "Content-Type: text/markdown",
            "\r\n\r\nhello\r\n",
        ],
        operation("op-2", "upsert_file", "notes_v2", "Processing"),
    ));
    let op2 = operation("op-2", "upsert_file", "notes_v2", "Failed").to_string();
    mocks.push(get(server, "/assistant/operations/support-bot/op-2", 200, &op2).expect(1));
    mocks.push(accepted(
        server,
        "POST",
        "/assistant/files/support-bot",
        &[r#"filename="faq.md""#, "# FAQ"],
        operation("op-3", "upload_file", "faq-3", "Processing"),
    ));
    mocks.push(
        get(
            server,
            "/assistant/files/support-bot/faq-3",
            200,
            &file("faq-3", "faq.md", "Processing").to_string(),
        )
        .expect(1),
    );
    mocks.push(accepted(
        server,
        "PUT",
        "/assistant/files/support-bot/refund-faq",
        &[
            r#"filename="refund-faq.md""#,
            "Content-Type: text/markdown",
            "# Refund FAQ\n",
        ],
        operation("op-4", "upsert_file", "refund-faq", "Processing"),
    ));
    mocks.push(
        get(
            server,
            "/assistant/files/support-bot/refund-faq",
            200,
            &file("refund-faq", "refund-faq.md", "Processing").to_string(),
        )
        .expect(1),
    );
    // The failing readers may or may not get a request out; not asserted.
    let _ = server
        .mock("PUT", "/assistant/files/support-bot/bad")
        .with_status(400)
        .create();
    let not_found = r#"{"error":{"code":"NOT_FOUND","message":"File not found"},"status":404}"#;
    mocks.push(get(server, "/assistant/files/support-bot/ghost", 404, not_found).expect(1));
    let filter = r#"{"team":{"$eq":"finance"}}"#;
    let page = |ids: &[&str], next: Option<&str>| {
        let files: Vec<_> = ids.iter().map(|id| file(id, "x.md", "Available")).collect();
        match next {
            Some(t) => json!({"files": files, "pagination": {"next": t}}),
            None => json!({"files": files}),
        }
        .to_string()
    };
    let listing = |server: &mut ServerGuard, starts: &str, body: String| {
        server
            .mock("GET", "/assistant/files/support-bot")
            .match_query(Matcher::AllOf(vec![
                Matcher::Regex(starts.into()),
                Matcher::UrlEncoded("filter".into(), filter.into()),
            ]))
            .with_body(body)
            .expect(1)
            .create()
    };
    mocks.push(listing(
        server,
        "^limit=2&filter=",
        page(&["file-1", "notes_v2"], Some("eyJvZmZzZXQiOjJ9")),
    ));
    mocks.push(listing(
        server,
        "^filter=",
        page(&["file-1", "notes_v2"], Some("eyJvZmZzZXQiOjJ9")),
    ));
    mocks.push(listing(
        server,
        "^pagination_token=eyJvZmZzZXQiOjJ9&filter=",
        page(&["billing-faq"], None),
    ));
    mocks.push(
        server
            .mock("DELETE", "/assistant/files/support-bot/notes_v2")
            .with_status(204)
            .expect(1)
            .create(),
    );
    mocks.push(
        server
            .mock("DELETE", "/assistant/files/support-bot/file-1")
            .with_status(202)
            .with_body(operation("op-del", "delete_file", "file-1", "Processing").to_string())
            .expect(1)
            .create(),
    );
    let del = operation("op-del", "delete_file", "file-1", "Completed").to_string();
    mocks.push(
        get(
            server,
            "/assistant/operations/support-bot/op-del",
            200,
            &del,
        )
        .expect(1),
    );
    mocks.push(
        get(
            server,
            "/assistant/operations/support-bot/op-gone",
            404,
            not_found,
        )
        .expect(1),
    );
    let ops = json!({
        "operations": [
            operation("op-1", "upload_file", "file-1", "Completed"),
            operation("op-2", "upsert_file", "notes_v2", "Failed"),
            operation("op-del", "delete_file", "file-1", "Processing"),
        ],
        "pagination": {"next": "b3BzOjM="}
    })
    .to_string();
    mocks.push(
        get(
            server,
            "/assistant/operations/support-bot?operation_type=upload_file&status=Completed&limit=3",
            200,
            &ops,
        )
        .expect(1),
    );
    mocks.push(get(server, "/assistant/operations/support-bot", 200, &ops).expect(1));
    mocks
}

#[test]
fn files_and_operations() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("c_api_data");
    std::fs::create_dir_all(&dir).expect("temp dir");
    let pdf = dir.join("report.pdf");
    std::fs::write(&pdf, b"%PDF-1.4 hello").expect("write the PDF");
    run_scenario(
        "files",
        "files: ok",
        files_mocks,
        Vec::new,
        &[pdf.display().to_string()],
    );
}

const CHAT_F1: &str = r#"{"id":"00000000000000004c9f1e2a7b3d5c60","model":"gpt-4o-2024-11-20","usage":{"prompt_tokens":2154,"completion_tokens":38,"total_tokens":2192},"message":{"role":"assistant","content":"Customers on annual plans can request a full refund within 30 days of purchase."},"finish_reason":"stop","citations":[{"position":79,"references":[{"file":{"name":"billing-policy-2025.pdf","id":"billing-policy","metadata":{"department":"billing","revision":4},"created_on":"2026-07-04T10:15:22.481920Z","updated_on":"2026-07-04T10:16:05.112734Z","status":"Available","size":184233,"multimodal":false,"signed_url":null},"pages":[4],"highlight":{"type":"text","content":"Annual subscriptions may be refunded in full if the request is made within 30 days of the purchase date."}}]}],"context_snippet_count":8}"#;

const STREAM_F2: &str = concat!(
    "data: {\"type\":\"message_start\",\"id\":\"00000000000000007e21a9c4d8b05f13\",\"model\":\"gpt-4o-2024-11-20\",\"role\":\"assistant\",\"context_snippet_count\":8}\n\n",
    "data: {\"type\":\"content_chunk\",\"id\":\"00000000000000007e21a9c4d8b05f13\",\"model\":\"gpt-4o-2024-11-20\",\"delta\":{\"content\":\"Annual plans can be refunded \"}}\n\n",
    "data: {\"type\":\"content_chunk\",\"id\":\"00000000000000007e21a9c4d8b05f13\",\"model\":\"gpt-4o-2024-11-20\",\"delta\":{\"content\":\"within 30 days of purchase.\"}}\n\n",
    "data: {\"type\":\"citation\",\"id\":\"00000000000000007e21a9c4d8b05f13\",\"model\":\"gpt-4o-2024-11-20\",\"citation\":{\"position\":56,\"references\":[{\"file\":{\"name\":\"billing-policy-2025.pdf\",\"id\":\"billing-policy\",\"metadata\":{\"department\":\"billing\"},\"created_on\":\"2026-07-04T10:15:22.481920Z\",\"updated_on\":\"2026-07-04T10:16:05.112734Z\",\"status\":\"Available\",\"size\":184233,\"multimodal\":false},\"pages\":[4]}]}}\n\n",
    "data: {\"type\":\"message_end\",\"id\":\"00000000000000007e21a9c4d8b05f13\",\"model\":\"gpt-4o-2024-11-20\",\"finish_reason\":\"stop\",\"usage\":{\"prompt_tokens\":2154,\"completion_tokens\":14,\"total_tokens\":2168}}\n\n",
);

const COMPLETIONS_F3: &str = concat!(
    "data: {\"id\":\"0000000000000000b5e8c2d14f7a9036\",\"object\":\"chat.completion.chunk\",\"created\":1783160412,\"model\":\"gpt-4o-2024-11-20\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n",
    "data: {\"id\":\"0000000000000000b5e8c2d14f7a9036\",\"object\":\"chat.completion.chunk\",\"created\":1783160412,\"model\":\"gpt-4o-2024-11-20\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Annual plans can be refunded within 30 days\"},\"finish_reason\":null}]}\n\n",
    "data: {\"id\":\"0000000000000000b5e8c2d14f7a9036\",\"object\":\"chat.completion.chunk\",\"created\":1783160412,\"model\":\"gpt-4o-2024-11-20\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" [1, pp. 4].\"},\"finish_reason\":null}]}\n\n",
    "data: {\"id\":\"0000000000000000b5e8c2d14f7a9036\",\"object\":\"chat.completion.chunk\",\"created\":1783160413,\"model\":\"gpt-4o-2024-11-20\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
    "data: {\"id\":\"0000000000000000b5e8c2d14f7a9036\",\"object\":\"chat.completion.chunk\",\"created\":1783160413,\"model\":\"gpt-4o-2024-11-20\",\"choices\":[],\"usage\":{\"prompt_tokens\":1893,\"completion_tokens\":17,\"total_tokens\":1910}}\n\n",
    "data: [DONE]\n\n",
);

const ALIGNMENT_F5: &str = r#"{"metrics":{"correctness":0.5,"completeness":1.0,"alignment":0.6667},"reasoning":{"evaluated_facts":[{"fact":{"content":"The refund window for annual plans is 30 days."},"entailment":"entailed","reasoning":"The answer states 30 days, matching the ground truth."},{"fact":{"content":"Refunds are only available for monthly plans."},"entailment":"contradicted","reasoning":"The ground truth says annual plans are refundable."}]},"usage":{"prompt_tokens":412,"completion_tokens":96,"total_tokens":508}}"#;

fn post_json(
    server: &mut ServerGuard,
    path: &str,
    body: Matcher,
    status: usize,
    reply: &str,
) -> Mock {
    server
        .mock("POST", path)
        .match_header("api-key", "test-key")
        .match_header("x-pinecone-api-version", "2026-07")
        .match_header("content-type", "application/json")
        .match_body(body)
        .with_status(status)
        .with_header("content-type", "application/json")
        .with_body(reply)
        .create()
}

fn sse(
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

fn chat_mocks(server: &mut ServerGuard) -> Vec<Mock> {
    let chat = "/assistant/chat/support-bot";
    let completions = "/assistant/chat/support-bot/chat/completions";
    let mut mocks = vec![data_plane_host(server, 1)];
    let context = json!({
        "id": "ctx-5b0e7d2c",
        "snippets": [{
            "type": "text",
            "content": "Annual subscriptions may be refunded in full if the request is made within 30 days of the purchase date.",
            "score": 0.8731,
            "reference": {"type": "pdf", "file": {"name": "billing-policy-2025.pdf", "id": "billing-policy", "status": "Available", "multimodal": false}, "pages": [4]}
        }],
        "usage": {"prompt_tokens": 31, "completion_tokens": 0, "total_tokens": 31}
    });
    mocks.push(
        post_json(
            server,
            "/assistant/chat/support-bot/context",
            Matcher::JsonString(r#"{"query":"refund window","top_k":3,"multimodal":true,"include_binary_content":true}"#.into()),
            200,
            &context.to_string(),
        )
        .expect(1),
    );
    mocks.push(
        post_json(
            server,
            chat,
            Matcher::JsonString(r#"{"messages":[{"role":"user","content":"How long is the refund window?"}],"model":"gpt-4o","stream":false,"temperature":0.2,"include_highlights":true}"#.into()),
            200,
            CHAT_F1,
        )
        .expect(1),
    );
    // Pulled, as text, pushed, pushed and aborted, pulled then pushed, freed from
    // its callback, re-entered.
    mocks.push(
        sse(
            server,
            chat,
            json!({"stream": true, "model": "gpt-4o", "include_highlights": false}),
            STREAM_F2,
        )
        .expect(7),
    );
    mocks.push(
        post_json(
            server,
            chat,
            Matcher::PartialJson(json!({"model": "nope"})),
            400,
            r#"{"error":{"code":"INVALID_ARGUMENT","message":"unknown model nope"},"status":400}"#,
        )
        .expect(1),
    );
    let cut: &'static str = concat!(
        "data: {\"type\":\"message_start\",\"id\":\"1\",\"model\":\"m\",\"role\":\"assistant\"}\n\n",
        "data: {\"type\":\"content_chunk\",\"id\":\"1\",\"delta\":{\"content\":\"Annual\"}}\n\n",
    );
    mocks.push(sse(server, chat, json!({"stream": true, "model": "cut"}), cut).expect(1));
    mocks.push(
        server
            .mock("POST", chat)
            .match_body(Matcher::PartialJson(json!({"stream": true, "model": "slow"})))
            .with_header("content-type", "text/event-stream")
            .with_chunked_body(|w| {
                w.write_all(b"data: {\"type\":\"message_start\",\"id\":\"1\",\"model\":\"m\",\"role\":\"assistant\"}\n\n")?;
                w.flush()?;
                // Long enough for the client to be cancelled while it waits.
                std::thread::sleep(std::time::Duration::from_millis(2500));
                w.write_all(b"data: {\"type\":\"message_end\",\"id\":\"1\"}\n\n")
            })
            .expect(2)
            .create(),
    );
    let completion = json!({
        "id": "0000000000000000b5e8c2d14f7a9036",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Annual plans can be refunded within 30 days [1, pp. 4]."}, "finish_reason": "stop"}],
        "model": "gpt-4o-2024-11-20",
        "usage": {"prompt_tokens": 1893, "completion_tokens": 17, "total_tokens": 1910}
    });
    mocks.push(
        post_json(
            server,
            completions,
            Matcher::JsonString(r#"{"messages":[{"role":"user","content":"How long is the refund window?"}],"model":"gpt-4o","stream":false}"#.into()),
            200,
            &completion.to_string(),
        )
        .expect(1),
    );
    mocks.push(
        sse(
            server,
            completions,
            json!({"stream": true, "model": "gpt-4o"}),
            COMPLETIONS_F3,
        )
        .expect(3),
    );
    let evaluation = "/assistant/evaluation/metrics/alignment";
    mocks.push(
        post_json(
            server,
            evaluation,
            Matcher::JsonString(r#"{"question":"What is the refund window for annual plans?","answer":"30 days, but only monthly plans are refundable.","ground_truth_answer":"Annual plans can be refunded within 30 days."}"#.into()),
            200,
            ALIGNMENT_F5,
        )
        .expect(1),
    );
    mocks.push(
        post_json(
            server,
            evaluation,
            Matcher::PartialJson(json!({"ground_truth_answer": ""})),
            422,
            r#"{"message":"ground_truth_answer: field required"}"#,
        )
        .expect(1),
    );
    mocks
}

#[test]
fn chat_and_streams() {
    run_scenario("chat", "chat: ok", chat_mocks, Vec::new, &[]);
}

#[test]
fn chat_stream_example() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let exe = program_from(root.join("examples/c/chat_stream.c"), "example_chat_stream");
    for runner in runners() {
        let mut server = Server::new();
        let host = data_plane_host(&mut server, 1);
        let stream = sse(
            &mut server,
            "/assistant/chat/support-bot",
            json!({"messages": [{"role": "user", "content": "What is \"the\" refund window?"}], "stream": true}),
            STREAM_F2,
        )
        .expect(1);
        let env = [
            ("PINECONE_API_KEY", "test-key".to_owned()),
            ("PINECONE_CONTROLLER_HOST", server.url()),
        ];
        let args = [
            "support-bot".to_owned(),
            "What is \"the\" refund window?".to_owned(),
        ];
        let stdout = run(&exe, &runner, &env, &args);
        assert_eq!(
            stdout,
            "Annual plans can be refunded within 30 days of purchase.\n"
        );
        host.assert();
        stream.assert();
    }
}

/// A whole session from C against the in-process emulator.
#[cfg(feature = "emulator")]
#[test]
fn c_program_against_the_emulator() {
    use pinecone_assistant::emulator::Emulator;
    let exe = program("emulator");
    for runner in runners() {
        let emulator = Emulator::start().expect("start the emulator");
        let env = [
            ("PINECONE_TEST_URL", emulator.url().to_owned()),
            ("PINECONE_TEST_API_KEY", emulator.api_key().to_owned()),
        ];
        let stdout = run(&exe, &runner, &env, &[]);
        assert!(stdout.contains("emulator: ok"), "{stdout}");
    }
}

/// The Python ctypes example, against the emulator, through the shared library
/// that `cargo test` builds. Skipped when `python3` is not installed.
#[cfg(feature = "emulator")]
#[test]
fn python_ctypes_example() {
    use pinecone_assistant::emulator::Emulator;
    if Command::new("python3").arg("--version").output().is_err() {
        eprintln!("python3 not found; skipping the ctypes example");
        return;
    }
    let lib = std::env::current_exe()
        .expect("test binary path")
        .with_file_name("libpinecone_assistant.so");
    assert!(lib.exists(), "{} is missing", lib.display());
    let emulator = Emulator::start().expect("start the emulator");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("python3")
        .arg(root.join("examples/python/pinecone_ctypes.py"))
        .env("PINECONE_ASSISTANT_LIB", &lib)
        .env("PINECONE_EMULATOR_URL", emulator.url())
        .env("PINECONE_EMULATOR_API_KEY", emulator.api_key())
        .output()
        .expect("run python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("is Available"), "{stdout}");
    assert!(
        stdout.contains(
            "refused as expected: PINECONE_RESULT_INVALID_ARGUMENT argument: json_response"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("30 days"), "{stdout}");
    assert!(stdout.contains("finish: stop"), "{stdout}");
}

/// The shared library exports exactly the functions the header declares, all
/// prefixed `pinecone_`. Skipped when `nm` is not installed.
#[test]
fn exports_match_the_header() {
    let lib = std::env::current_exe()
        .expect("test binary path")
        .with_file_name("libpinecone_assistant.so");
    let Ok(out) = Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(&lib)
        .output()
    else {
        eprintln!("nm not found; skipping");
        return;
    };
    assert!(out.status.success(), "nm failed on {}", lib.display());
    let mut exported: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .map(str::to_owned)
        .collect();
    exported.sort();
    let header = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("include/pinecone_assistant.h"),
    )
    .expect("read the header");
    let mut declared: Vec<String> = header
        .lines()
        .filter(|l| !l.starts_with(' ') && !l.starts_with("typedef") && l.contains('('))
        .filter_map(|l| {
            let name = l.split('(').next()?.rsplit([' ', '*']).next()?;
            name.starts_with("pinecone_").then(|| name.to_owned())
        })
        .collect();
    declared.sort();
    assert!(declared.len() > 40, "header parse found only {declared:?}");
    assert_eq!(exported, declared);
}

/// The header compiles as C99 and as C++ (its `cpp_compat` guards), warning-free.
/// A compiler that is not installed is skipped.
#[test]
fn header_compiles_as_c99_and_cpp() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let source = |ext: &str| {
        let path = dir.join(format!("header_only.{ext}"));
        std::fs::write(
            &path,
            "#include \"pinecone_assistant.h\"\nint main(void) { return PINECONE_RESULT_OK; }\n",
        )
        .expect("write the probe");
        path
    };
    for (compiler, std, ext) in [("cc", "-std=c99", "c"), ("c++", "-std=c++11", "cpp")] {
        let Ok(out) = Command::new(compiler)
            .args([
                std,
                "-Wall",
                "-Wextra",
                "-Werror",
                "-pedantic",
                "-fsyntax-only",
            ])
            .arg(format!("-I{}", root.join("include").display()))
            .arg(source(ext))
            .output()
        else {
            eprintln!("{compiler} not found; skipping");
            continue;
        };
        assert!(
            out.status.success(),
            "{compiler} {std}:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
