//! The mocks of `chat.c`: context, chat and chat completions (whole, streamed,
//! refused, cut off, slow enough to cancel), alignment evaluation.

use mockito::{Matcher, Mock, ServerGuard};
use serde_json::json;

use crate::support::{
    ALIGNMENT_RESPONSE, CHAT_RESPONSE, CHAT_STREAM, COMPLETIONS_STREAM, data_plane_host,
    run_scenario, sse,
};

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
            CHAT_RESPONSE,
        )
        .expect(1),
    );
    // Pulled, as text, pulled and lent side by side (two), pushed, pushed and
    // aborted, pulled then pushed, freed from its callback, re-entered.
    mocks.push(
        sse(
            server,
            chat,
            json!({"stream": true, "model": "gpt-4o", "include_highlights": false}),
            CHAT_STREAM,
        )
        .expect(9),
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
    // The second event is spaced and carries a key no chunk type has: C must get
    // its text exactly as sent, not a re-encoding of the decoded chunk.
    let cut: &'static str = concat!(
        "data: {\"type\":\"message_start\",\"id\":\"1\",\"model\":\"m\",\"role\":\"assistant\"}\n\n",
        "data: {\"type\": \"content_chunk\", \"id\": \"1\", \"delta\": {\"content\": \"Annual\"}, \"seq\": 2}\n\n",
    );
    // Pulled, then lent.
    mocks.push(sse(server, chat, json!({"stream": true, "model": "cut"}), cut).expect(2));
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
            COMPLETIONS_STREAM,
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
            ALIGNMENT_RESPONSE,
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
