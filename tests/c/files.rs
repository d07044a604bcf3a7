//! The mocks of `files.c`: uploads (multipart bodies pinned), waits on
//! operations, describe, list pages and paginators, deletes, operations.

use std::path::Path;

use mockito::{Matcher, Mock, ServerGuard};
use serde_json::json;

use crate::support::{data_plane_host, get, run_scenario};

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
