//! Recorded answers and request bodies in the shapes the API uses, and the
//! documents the emulator tests upload.

// ---------------------------------------------------------------- control plane

/// An assistant description with every field the API returns.
pub fn assistant_json(name: &str, status: &str, host: &str) -> String {
    serde_json::json!({
        "name": name,
        "instructions": "Answer from the billing documents only.",
        "metadata": {"team": "billing"},
        "status": status,
        "host": host,
        "region": "us",
        "created_at": "2026-07-01T09:00:00Z",
        "updated_at": "2026-07-01T09:00:41Z"
    })
    .to_string()
}

// ---------------------------------------------------------------- chat, context, evaluation

/// The question the chat fixtures answer.
pub const REFUND_QUESTION: &str = "How long do customers on annual plans have to request a refund?";
/// The chat request for [`REFUND_QUESTION`] with a filter, temperature, context
/// options and highlights, as the client must send it.
pub const REFUND_CHAT_REQUEST: &str = r#"{"messages":[{"role":"user","content":"How long do customers on annual plans have to request a refund?"}],"model":"gpt-4o","stream":false,"temperature":0.2,"filter":{"department":{"$eq":"billing"}},"include_highlights":true,"context_options":{"top_k":8,"snippet_size":512}}"#;
/// The same request streamed, without highlights.
pub const REFUND_CHAT_STREAM_REQUEST: &str = r#"{"messages":[{"role":"user","content":"How long do customers on annual plans have to request a refund?"}],"model":"gpt-4o","stream":true,"temperature":0.2,"filter":{"department":{"$eq":"billing"}},"include_highlights":false,"context_options":{"top_k":8,"snippet_size":512}}"#;
/// A chat answer to [`REFUND_CHAT_REQUEST`]: usage, a citation with a highlight.
pub const CHAT_RESPONSE: &str = include_str!("../fixtures/chat_answer_with_highlight.json");
/// The streamed answer: message start, two content chunks, a citation, the end.
pub const CHAT_STREAM: &str = include_str!("../fixtures/chat_stream.sse");
/// A chat-completions stream: role, content chunks, finish, usage, `[DONE]`.
pub const COMPLETIONS_STREAM: &str = include_str!("../fixtures/completions_stream_with_usage.sse");
/// A context answer with a text, a multimodal and a markdown snippet.
pub const CONTEXT_RESPONSE: &str = include_str!("../fixtures/context_three_snippets.json");
/// An alignment evaluation with one entailed and one contradicted fact.
pub const ALIGNMENT_RESPONSE: &str = include_str!("../fixtures/alignment_two_facts.json");

/// The kinds of the chunks of [`CHAT_STREAM`], in order.
pub const CHAT_STREAM_KINDS: [&str; 5] = [
    "message_start",
    "content_chunk",
    "content_chunk",
    "citation",
    "message_end",
];

/// The events of [`CHAT_STREAM`], each with its blank-line terminator.
pub fn chat_stream_events() -> Vec<String> {
    CHAT_STREAM
        .split_inclusive("\n\n")
        .map(str::to_owned)
        .collect()
}

// ---------------------------------------------------------------- files and operations

/// The operation that uploads [`REPORT_FILE`].
pub const UPLOAD_OP_ID: &str = "op-3c1f2a9e-77d4-4e0b-9a51-0f6c2b8d4e10";
/// The id of the uploaded `report.pdf`.
pub const REPORT_FILE_ID: &str = "8b0e3d2a-5c41-4f7e-9d26-1a7c3e9f0b54";
/// The upload accepted (202).
pub const UPLOAD_ACCEPTED: &str = r#"{"id":"op-3c1f2a9e-77d4-4e0b-9a51-0f6c2b8d4e10","operation_type":"upload_file","file_id":"8b0e3d2a-5c41-4f7e-9d26-1a7c3e9f0b54","status":"Processing","created_on":"2026-07-04T10:15:22Z","percent_complete":0}"#;
/// The upload polled at 42 %.
pub const UPLOAD_AT_42: &str = r#"{"id":"op-3c1f2a9e-77d4-4e0b-9a51-0f6c2b8d4e10","operation_type":"upload_file","file_id":"8b0e3d2a-5c41-4f7e-9d26-1a7c3e9f0b54","status":"Processing","created_on":"2026-07-04T10:15:22Z","percent_complete":42}"#;
/// The upload completed, with ingestion units.
pub const UPLOAD_COMPLETED: &str = r#"{"id":"op-3c1f2a9e-77d4-4e0b-9a51-0f6c2b8d4e10","operation_type":"upload_file","file_id":"8b0e3d2a-5c41-4f7e-9d26-1a7c3e9f0b54","status":"Completed","created_on":"2026-07-04T10:15:22Z","completed_on":"2026-07-04T10:15:41Z","percent_complete":100,"ingestion_units":12.5}"#;
/// The description of the uploaded `report.pdf`, with metadata and checksum.
pub const REPORT_FILE: &str = r#"{"name":"report.pdf","id":"8b0e3d2a-5c41-4f7e-9d26-1a7c3e9f0b54","metadata":{"team":"finance"},"created_on":"2026-07-04T10:15:22Z","updated_on":"2026-07-04T10:15:41Z","status":"Available","size":14,"multimodal":true,"crc32c_hash":"yZRlqg=="}"#;
/// The operation that upserts `notes_v2`.
pub const UPSERT_OP_ID: &str = "op-5e0a9b1c-2d3f-4a5b-8c6d-7e8f9a0b1c2d";
/// The upsert accepted (202).
pub const UPSERT_ACCEPTED: &str = r#"{"id":"op-5e0a9b1c-2d3f-4a5b-8c6d-7e8f9a0b1c2d","operation_type":"upsert_file","file_id":"notes_v2","status":"Processing","created_on":"2026-07-04T11:30:00Z","percent_complete":0}"#;
/// The upsert failed, with the server's message.
pub const UPSERT_FAILED: &str = r#"{"id":"op-5e0a9b1c-2d3f-4a5b-8c6d-7e8f9a0b1c2d","operation_type":"upsert_file","file_id":"notes_v2","status":"Failed","created_on":"2026-07-04T11:30:00Z","completed_on":"2026-07-04T11:30:09Z","percent_complete":15,"error_message":"File processing failed: unsupported file format."}"#;
/// A first page of two files, with a token for the next.
pub const FILES_PAGE_1: &str = r#"{"files":[{"name":"report.pdf","id":"8b0e3d2a-5c41-4f7e-9d26-1a7c3e9f0b54","metadata":{"team":"finance"},"created_on":"2026-07-04T10:15:22Z","updated_on":"2026-07-04T10:15:41Z","status":"Available","size":14,"multimodal":true},{"name":"notes.md","id":"notes_v2","metadata":null,"created_on":"2026-07-04T11:30:00Z","updated_on":"2026-07-04T11:30:09Z","status":"ProcessingFailed","size":5,"multimodal":false}],"pagination":{"next":"eyJvZmZzZXQiOjJ9"}}"#;
/// The last page: one file, no token.
pub const FILES_PAGE_2: &str = r#"{"files":[{"name":"billing-faq.md","id":"billing-faq","created_on":"2026-07-05T08:00:00Z","updated_on":"2026-07-05T08:00:12Z","status":"Processing","size":2210,"multimodal":false}]}"#;
/// A page of three operations (completed, failed, running) with a next token.
pub const OPERATIONS_PAGE: &str = r#"{"operations":[{"id":"op-3c1f2a9e-77d4-4e0b-9a51-0f6c2b8d4e10","operation_type":"upload_file","file_id":"8b0e3d2a-5c41-4f7e-9d26-1a7c3e9f0b54","status":"Completed","created_on":"2026-07-04T10:15:22Z","completed_on":"2026-07-04T10:15:41Z","percent_complete":100,"ingestion_units":12.5},{"id":"op-5e0a9b1c-2d3f-4a5b-8c6d-7e8f9a0b1c2d","operation_type":"upsert_file","file_id":"notes_v2","status":"Failed","created_on":"2026-07-04T11:30:00Z","completed_on":"2026-07-04T11:30:09Z","percent_complete":15,"error_message":"File processing failed: unsupported file format."},{"id":"op-9d8c7b6a-5f4e-4d3c-2b1a-0f9e8d7c6b5a","operation_type":"delete_file","file_id":"old-report","status":"Processing","created_on":"2026-07-05T09:00:00Z","completed_on":null,"percent_complete":0,"error_message":null,"ingestion_units":null}],"pagination":{"next":"b3BzOjM="}}"#;
/// The operation that deletes `report.pdf`.
pub const DELETE_OP_ID: &str = "op-7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d";
/// The deletion accepted (202).
pub const DELETE_ACCEPTED: &str = r#"{"id":"op-7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d","operation_type":"delete_file","file_id":"8b0e3d2a-5c41-4f7e-9d26-1a7c3e9f0b54","status":"Processing","created_on":"2026-07-05T09:00:00Z","percent_complete":0}"#;
/// The deletion completed.
pub const DELETE_COMPLETED: &str = r#"{"id":"op-7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d","operation_type":"delete_file","file_id":"8b0e3d2a-5c41-4f7e-9d26-1a7c3e9f0b54","status":"Completed","created_on":"2026-07-05T09:00:00Z","completed_on":"2026-07-05T09:00:07Z","percent_complete":100}"#;
/// A 404 for a file.
pub const FILE_NOT_FOUND: &str =
    r#"{"error":{"code":"NOT_FOUND","message":"File not found."},"status":404}"#;
/// A 503 asking to try later.
pub const UNAVAILABLE: &str =
    r#"{"error":{"code":"UNAVAILABLE","message":"try later"},"status":503}"#;

// ---------------------------------------------------------------- emulator documents

/// A small handbook: one fact about boiling, one about the warranty and refunds.
pub const HANDBOOK: &str = "# Zephyr Kettle\n\nThe Zephyr kettle boils one litre in 90 seconds.\n\n## Warranty\n\nThe warranty covers two years of normal use. Refunds are possible within 30 days.";
/// A note the emulator tests upload beside [`HANDBOOK`].
pub const SHIPPING_NOTE: &str = "Shipping takes five days to Europe.";
