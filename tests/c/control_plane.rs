//! The mocks of `control_plane.c`: create (waiting), describe, list pages,
//! paginate, update, delete, and the error answers each can get.

use std::net::TcpListener;

use mockito::{Matcher, Mock, ServerGuard};
use serde_json::json;

use crate::support::{assistant_json, get, run_scenario};

fn control_plane_mocks(server: &mut ServerGuard) -> Vec<Mock> {
    let url = server.url();
    let a = |name: &str, status: &str| assistant_json(name, status, &url);
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
