//! Context, chat, chat completions and evaluation end to end against the
//! emulator: what a plain call returns and what a folded stream returns agree,
//! and a stream the server cuts off is an error.
#![cfg(feature = "emulator")]

use std::time::Duration;

use pinecone_assistant::emulator::{Emulator, Fault};
use pinecone_assistant::models::{
    AlignmentRequest, ChatCompletionRequest, ChatRequest, ChatStreamChunk, ContextRequest,
    CreateAssistantRequest, Message, Snippet,
};
use pinecone_assistant::{Client, ClientConfig, Error, UploadFile, Wait};

const HANDBOOK: &str = "# Zephyr Kettle\n\nThe Zephyr kettle boils one litre in 90 seconds.\n\n## Warranty\n\nThe warranty covers two years of normal use. Refunds are possible within 30 days.";

fn setup() -> (Emulator, Client) {
    let emu = Emulator::builder()
        .ready_delay(Duration::from_millis(10))
        .processing_delay(Duration::from_millis(10))
        .seed(7)
        .start()
        .expect("emulator starts");
    let client = Client::new(
        ClientConfig::builder(emu.api_key())
            .host(emu.url())
            .evaluation_host(emu.url())
            .sleeper(|_| {})
            .create_poll_interval(Duration::from_millis(1))
            .operation_poll_interval(Duration::from_millis(1))
            .build(),
    )
    .expect("valid config");
    client
        .create_assistant(CreateAssistantRequest::new("docs"), Wait::Forever)
        .unwrap();
    client
        .assistant("docs")
        .upload_file(UploadFile::bytes(HANDBOOK, "kettle.md"), Wait::Forever)
        .unwrap();
    (emu, client)
}

fn question() -> [Message; 1] {
    [Message::user("How long is the warranty?")]
}

#[test]
fn context_chat_and_a_folded_stream_agree() {
    let (_emu, client) = setup();
    let docs = client.assistant("docs");

    let found = docs
        .context(ContextRequest::query("how fast does the kettle boil").top_k(1))
        .unwrap();
    assert_eq!(found.snippets.len(), 1);
    let Snippet::Text(snippet) = &found.snippets[0] else {
        panic!("{:?}", found.snippets[0]);
    };
    assert_eq!(snippet.reference.file.name, "kettle.md");
    assert_eq!(snippet.reference.kind.as_deref(), Some("markdown"));

    let plain = docs
        .chat(ChatRequest::new(question()).include_highlights(true))
        .unwrap();
    assert_eq!(
        plain.content(),
        "The warranty covers two years of normal use."
    );
    let cited = &plain.citations[0].references[0];
    assert_eq!(cited.file.as_ref().unwrap().name, "kettle.md");

    let streamed = docs
        .chat_stream(ChatRequest::new(question()).include_highlights(true))
        .unwrap()
        .into_response()
        .unwrap();
    assert_eq!(streamed.content(), plain.content());
    assert_eq!(streamed.citations, plain.citations);
    assert_eq!(streamed.finish_reason, plain.finish_reason);
    assert_eq!(streamed.context_snippet_count, plain.context_snippet_count);
    assert!(streamed.usage.is_some());
}

#[test]
fn completions_plain_and_streamed_agree() {
    let (_emu, client) = setup();
    let docs = client.assistant("docs");
    let plain = docs
        .chat_completions(ChatCompletionRequest::new(question()))
        .unwrap();
    assert!(plain.content().starts_with("The warranty covers two years"));
    let streamed = docs
        .chat_completions_stream(ChatCompletionRequest::new(question()))
        .unwrap()
        .into_response()
        .unwrap();
    assert_eq!(streamed.content(), plain.content());
    assert_eq!(
        streamed.choices[0].finish_reason,
        plain.choices[0].finish_reason
    );
}

#[test]
fn a_stream_cut_by_the_server_is_an_error() {
    let (emu, client) = setup();
    emu.inject(Fault::cut_stream(1).path_contains("/chat/docs"));
    let mut stream = client
        .assistant("docs")
        .chat_stream(ChatRequest::new(question()))
        .unwrap();
    assert!(matches!(
        stream.next(),
        Some(Ok(ChatStreamChunk::MessageStart(_)))
    ));
    let rest: Vec<_> = stream.collect();
    assert!(
        matches!(
            rest.last(),
            Some(Err(Error::Stream(_) | Error::Transport(_)))
        ),
        "{rest:?}"
    );
}

#[test]
fn a_stream_ended_cleanly_before_its_last_chunk_is_truncated() {
    let (emu, client) = setup();
    emu.inject(Fault::end_stream(2).path_contains("/chat/docs"));
    let err = client
        .assistant("docs")
        .chat_stream(ChatRequest::new(question()))
        .unwrap()
        .collect_text()
        .unwrap_err();
    assert!(
        matches!(&err, Error::Stream(m) if m.contains("truncated")),
        "{err}"
    );
    emu.inject(Fault::end_stream(2).path_contains("/chat/docs/chat/completions"));
    let err = client
        .assistant("docs")
        .chat_completions_stream(ChatCompletionRequest::new(question()))
        .unwrap()
        .into_response()
        .unwrap_err();
    assert!(
        matches!(&err, Error::Stream(m) if m.contains("truncated")),
        "{err}"
    );
}

#[test]
fn alignment_scores_a_contradicting_answer_below_a_faithful_one() {
    let (_emu, client) = setup();
    let truth = "The warranty covers two years of normal use.";
    let good = client
        .evaluate_alignment(AlignmentRequest::new(
            "How long is the warranty?",
            truth,
            truth,
        ))
        .unwrap();
    let bad = client
        .evaluate_alignment(AlignmentRequest::new(
            "How long is the warranty?",
            "There is no warranty at all.",
            truth,
        ))
        .unwrap();
    assert!(good.scores().alignment > bad.scores().alignment);
    assert!(!good.facts().is_empty());
}
