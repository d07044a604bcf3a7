//! Context, chat, chat completions and evaluation in the emulator: the wire format
//! of answers and streams, and the client end to end (a plain call and a folded
//! stream agree; a stream the server cuts off is an error).

mod support;

use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

use pinecone_assistant::emulator::{Emulator, Fault};
use pinecone_assistant::models::{
    AlignmentRequest, ChatCompletionRequest, ChatRequest, ChatStreamChunk, ContextOptions,
    ContextRequest, CreateAssistantRequest, Message, Snippet,
};
use pinecone_assistant::{Assistant, Error, Wait};
use serde_json::{Value, json};
use support::emu::*;
use support::fixtures::SHIPPING_NOTE;

const QUESTION: &str = "How long is the warranty?";
const ANSWER: &str = "The warranty covers two years of normal use.";
/// The question as a raw streaming request body.
const STREAMED_QUESTION: &str =
    r#"{"messages":[{"role":"user","content":"How long is the warranty?"}],"stream":true}"#;

fn question() -> [Message; 1] {
    [Message::user(QUESTION)]
}

fn ask() -> ChatRequest {
    ChatRequest::new(question())
}

fn ask_completion() -> ChatCompletionRequest {
    ChatCompletionRequest::new(question())
}

/// POSTs `body` with the emulator's key; returns the JSON answer.
fn post(emu: &Emulator, path: &str, body: Value) -> Value {
    authed(emu, "POST", path, Some(body)).1
}

/// The text of the chat message in a raw chat answer.
fn message(chat: &Value) -> &str {
    chat["message"]["content"].as_str().unwrap()
}

/// A [`fast`] emulator with [`loaded`] documents.
fn loaded_emulator() -> (Emulator, Assistant) {
    let emu = fast();
    let docs = loaded(&emu);
    (emu, docs)
}

/// Whether `err` reports a stream that ended before its last event.
fn is_truncated(err: &Error) -> bool {
    matches!(err, Error::Stream(m) if m.contains("truncated"))
}

#[test]
fn uploads_index_and_answer_with_citations() {
    let emu = fast();
    with_files(&emu);
    let boil = json!({"query": "how fast does the kettle boil", "top_k": 1});
    let ctx = post(&emu, "/assistant/chat/docs/context", boil);
    let snippets = ctx["snippets"].as_array().unwrap();
    assert_eq!(snippets.len(), 1);
    assert_eq!(snippets[0]["reference"]["type"], "markdown");
    assert_eq!(snippets[0]["reference"]["file"]["name"], "kettle.md");
    assert!(snippets[0]["reference"].get("pages").is_none());

    let cited =
        json!({"messages": [{"role": "user", "content": QUESTION}], "include_highlights": true});
    let chat = post(&emu, "/assistant/chat/docs", cited);
    let content = message(&chat);
    assert_eq!(content, ANSWER);
    let cit = &chat["citations"][0];
    assert_eq!(cit["position"], content.chars().count());
    assert_eq!(cit["references"][0]["file"]["name"], "kettle.md");
    assert_eq!(cit["references"][0]["highlight"]["content"], content);
    assert!(chat["usage"]["total_tokens"].as_u64().unwrap() > 0);

    // A filter that excludes the kettle leaves only the shipping note.
    let filtered = json!({"messages": [{"content": "warranty shipping"}], "filter": {"team": {"$ne": "support"}}});
    let chat = post(&emu, "/assistant/chat/docs", filtered);
    assert_eq!(chat["message"]["content"], SHIPPING_NOTE);
    let off_topic = json!({"messages": [{"content": "quantum physics"}]});
    let chat = post(&emu, "/assistant/chat/docs", off_topic);
    assert_eq!(chat["citations"], json!([]));
    assert_eq!(chat["context_snippet_count"], 0);

    let as_json = json!({"messages": [{"content": "warranty"}], "json_response": true});
    let j = post(&emu, "/assistant/chat/docs", as_json);
    let inner: Value = serde_json::from_str(message(&j)).unwrap();
    assert_eq!(inner["sources"], json!(["kettle.md"]));
}

#[test]
fn chat_streams_event_by_event_and_faults_cut_it() {
    let emu = fast();
    with_files(&emu);
    let ask: Value = serde_json::from_str(STREAMED_QUESTION).unwrap();
    let (lines, clean) = stream_lines(&emu, "/assistant/chat/docs", ask.clone());
    assert!(clean);
    assert_eq!(lines[0], ": heartbeat");
    let chunks = events(&lines);
    let kinds: Vec<&str> = chunks.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds.first(), Some(&"message_start"));
    assert_eq!(kinds[kinds.len() - 2..], ["citation", "message_end"]);
    let deltas = chunks.iter().filter_map(|e| e["delta"]["content"].as_str());
    assert_eq!(deltas.collect::<String>(), ANSWER);
    let usage = &chunks.last().unwrap()["usage"];
    assert!(usage["total_tokens"].as_u64().unwrap() > 0);

    emu.inject(Fault::end_stream(2));
    let (lines, clean) = stream_lines(&emu, "/assistant/chat/docs", ask.clone());
    assert!(clean);
    assert_eq!(events(&lines).len(), 2);

    emu.inject(Fault::cut_stream(1).path_contains("/chat/"));
    let (lines, clean) = stream_lines(&emu, "/assistant/chat/docs", ask);
    assert!(!clean, "a cut stream must fail, not end cleanly");
    assert_eq!(events(&lines).len(), 1);
}

#[test]
fn slow_streams_flush_each_event_and_send_heartbeats() {
    let slow = Emulator::builder().processing_delay(Duration::ZERO);
    let emu = start(slow.stream_delay(ms(60)).heartbeat(ms(25)));
    with_files(&emu);
    let req = ureq::http::Request::builder()
        .method("POST")
        .uri(format!("{}/assistant/chat/docs", emu.url()))
        .header("Api-Key", emu.api_key())
        .body(json!({"messages": [{"content": QUESTION}], "stream": true}).to_string())
        .unwrap();
    let start = Instant::now();
    let resp = agent().run(req).unwrap();
    let mut reader = BufReader::new(resp.into_body().into_reader());
    let (mut arrivals, mut heartbeats) = (Vec::new(), 0);
    let mut line = String::new();
    while reader.read_line(&mut line).unwrap() > 0 {
        if line.starts_with("data: ") {
            arrivals.push(start.elapsed());
        } else if line.starts_with(": heartbeat") {
            heartbeats += 1;
        }
        line.clear();
    }
    assert!(arrivals.len() >= 5);
    // Each event arrives when it is sent, not when the body ends: the events
    // are spread over the time the server took (half of it, to tolerate a busy
    // machine).
    let spread = *arrivals.last().unwrap() - arrivals[0];
    let half = ms(30 * (arrivals.len() as u64 - 1));
    assert!(spread >= half, "{arrivals:?}");
    assert!(heartbeats > arrivals.len(), "{heartbeats} heartbeats");
}

#[test]
fn completions_stream_ends_with_usage_and_done() {
    let emu = fast();
    with_files(&emu);
    let ask: Value = serde_json::from_str(STREAMED_QUESTION).unwrap();
    let (lines, _) = stream_lines(&emu, "/assistant/chat/docs/chat/completions", ask);
    let chunks = events(&lines);
    assert_eq!(chunks.last().unwrap(), &Value::String("[DONE]".into()));
    let usage = &chunks[chunks.len() - 2];
    assert_eq!(usage["choices"], json!([]));
    assert!(usage["usage"]["total_tokens"].as_u64().unwrap() > 0);
    let deltas = chunks
        .iter()
        .filter_map(|e| e["choices"][0]["delta"]["content"].as_str());
    assert_eq!(deltas.collect::<String>(), format!("{ANSWER} [1]"));
    let finish = &chunks[chunks.len() - 3]["choices"][0]["finish_reason"];
    assert_eq!(finish, "stop");
}

#[test]
fn alignment_scores_by_overlap() {
    let emu = fast();
    let truth = "The warranty covers two years. Refunds are possible within 30 days.";
    let graded = json!({
        "question": "What is covered?",
        "answer": "The warranty covers two years.",
        "ground_truth_answer": truth,
    });
    let r = post(&emu, "/assistant/evaluation/metrics/alignment", graded);
    assert_eq!(r["metrics"]["completeness"], 0.5);
    assert_eq!(r["metrics"]["correctness"], 1.0);
    assert_eq!(r["metrics"]["alignment"], 0.6667);
    let facts = r["reasoning"]["evaluated_facts"].as_array().unwrap();
    assert_eq!(facts[0]["entailment"], "entailed");
    assert_eq!(facts[1]["entailment"], "neutral");
    assert!(facts[1]["reasoning"].as_str().unwrap().contains("refund"));
    let incomplete = Some(json!({"question": "q", "answer": "a"}));
    let (s, r) = authed(
        &emu,
        "POST",
        "/assistant/evaluation/metrics/alignment",
        incomplete,
    );
    let missing = Some("ground_truth_answer: field required");
    assert_eq!((s, r["message"].as_str()), (422, missing));
}

#[test]
fn empty_assistant_still_answers() {
    let emu = fast();
    let client = client(&emu);
    let create = CreateAssistantRequest::new("empty");
    client.create_assistant(create, Wait::Forever).unwrap();
    let anything = Some(json!({"query": "anything"}));
    let (s, ctx) = authed(&emu, "POST", "/assistant/chat/empty/context", anything);
    assert_eq!((s, ctx["snippets"].clone()), (200, json!([])));
    let anything = json!({"messages": [{"content": "anything"}]});
    let chat = post(&emu, "/assistant/chat/empty", anything);
    assert!(message(&chat).contains("could not find"));
}

#[test]
fn chat_answers_with_real_citations() {
    let (_emu, docs) = loaded_emulator();
    let cited = ask().include_highlights(true);
    let r = docs
        .chat(cited.context_options(ContextOptions::new().top_k(4)))
        .unwrap();
    assert_eq!(r.content(), ANSWER);
    let c = &r.citations[0];
    assert_eq!(c.position, Some(ANSWER.chars().count() as u64));
    let reference = &c.references[0];
    assert_eq!(reference.file.as_ref().unwrap().name, "kettle.md");
    assert_eq!(reference.highlight.as_ref().unwrap().content, ANSWER);
    assert!(r.usage.unwrap().total_tokens > 0);
    assert!(r.context_snippet_count.unwrap() >= 1);

    let shipping = ChatRequest::new([Message::user("warranty shipping")]);
    let shipping = shipping.filter(json!({"team": {"$eq": "logistics"}}));
    assert_eq!(docs.chat(shipping).unwrap().content(), SHIPPING_NOTE);
    let json_answer = docs.chat(ask().json_response(true)).unwrap();
    let parsed: Value = serde_json::from_str(json_answer.content()).unwrap();
    assert_eq!(parsed["answer"], ANSWER);
}

#[test]
fn streamed_chat_folds_into_the_plain_answer() {
    let (_emu, docs) = loaded_emulator();
    let plain = docs.chat(ask()).unwrap();
    let stream = docs.chat_stream(ask()).unwrap();
    let chunks: Vec<ChatStreamChunk> = stream.map(|c| c.unwrap()).collect();
    let first = chunks.first();
    assert!(matches!(first, Some(ChatStreamChunk::MessageStart(_))));
    assert!(matches!(
        chunks.last(),
        Some(ChatStreamChunk::MessageEnd(_))
    ));
    let is_delta = |c: &&ChatStreamChunk| matches!(c, ChatStreamChunk::ContentDelta(_));
    assert!(chunks.iter().filter(is_delta).count() > 1);
    let folded = docs.chat_stream(ask()).unwrap().into_response().unwrap();
    assert_eq!(folded.content(), plain.content());
    assert_eq!(folded.citations.len(), plain.citations.len());
    assert!(folded.usage.is_some());
}

#[test]
fn streams_cut_or_ended_early_are_errors_not_hangs() {
    let (emu, docs) = loaded_emulator();
    emu.inject(Fault::end_stream(2));
    let e = docs.chat_stream(ask()).unwrap().collect_text().unwrap_err();
    assert!(matches!(e, Error::Stream(_)), "{e:?}");
    emu.inject(Fault::cut_stream(1));
    let items: Vec<_> = docs.chat_stream(ask()).unwrap().collect();
    assert!(items.first().unwrap().is_ok());
    assert!(items.last().unwrap().is_err());
    emu.inject(Fault::end_stream(3).path_contains("/completions"));
    let stream = docs.chat_completions_stream(ask_completion()).unwrap();
    let e = stream.collect_text().unwrap_err();
    assert!(matches!(e, Error::Stream(_)), "{e:?}");
}

#[test]
fn a_stream_can_be_cancelled_from_another_thread() {
    let instant = Emulator::builder().ready_delay(Duration::ZERO);
    let slow = instant.processing_delay(Duration::ZERO);
    let emu = start(slow.stream_delay(Duration::from_secs(5)));
    let docs = loaded(&emu);
    let mut stream = docs.chat_stream(ask()).unwrap();
    let first = stream.next();
    assert!(matches!(first, Some(Ok(ChatStreamChunk::MessageStart(_)))));
    let stop = stream.canceller();
    let started = Instant::now();
    std::thread::spawn(move || {
        std::thread::sleep(ms(50));
        stop.cancel();
    });
    let next = stream.next();
    assert!(matches!(next, Some(Err(Error::Cancelled))), "{next:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn context_completions_and_evaluation() {
    let (emu, docs) = loaded_emulator();
    let ctx = docs.context(ContextRequest::query("kettle boil").top_k(1));
    let ctx = ctx.unwrap();
    assert_eq!(ctx.snippets.len(), 1);
    let reference = ctx.snippets[0].reference().unwrap();
    let found = (reference.kind.as_deref(), reference.file.name.as_str());
    assert_eq!(found, (Some("markdown"), "kettle.md"));
    let logistics = ContextRequest::query("kettle").filter(json!({"team": "logistics"}));
    assert!(docs.context(logistics).unwrap().snippets.is_empty());

    let r = docs.chat_completions(ask_completion()).unwrap();
    assert_eq!(r.content(), format!("{ANSWER} [1]"));
    let stream = docs.chat_completions_stream(ask_completion()).unwrap();
    assert_eq!(stream.collect_text().unwrap(), format!("{ANSWER} [1]"));

    let truth = format!("{ANSWER} Refunds are possible within 30 days.");
    let request = AlignmentRequest::new(QUESTION, ANSWER, truth);
    let eval = client(&emu).evaluate_alignment(request).unwrap();
    assert_eq!(eval.scores().completeness, 0.5);
    assert_eq!(eval.scores().correctness, 1.0);
    assert_eq!(eval.facts().len(), 2);
}

#[test]
fn context_chat_and_a_folded_stream_agree() {
    let (_emu, docs) = loaded_emulator();
    let boil = ContextRequest::query("how fast does the kettle boil").top_k(1);
    let found = docs.context(boil).unwrap();
    assert_eq!(found.snippets.len(), 1);
    let Snippet::Text(snippet) = &found.snippets[0] else {
        panic!("{:?}", found.snippets[0]);
    };
    assert_eq!(snippet.reference.file.name, "kettle.md");
    assert_eq!(snippet.reference.kind.as_deref(), Some("markdown"));

    let plain = docs.chat(ask().include_highlights(true)).unwrap();
    assert_eq!(plain.content(), ANSWER);
    let cited = &plain.citations[0].references[0];
    assert_eq!(cited.file.as_ref().unwrap().name, "kettle.md");

    let stream = docs.chat_stream(ask().include_highlights(true)).unwrap();
    let streamed = stream.into_response().unwrap();
    assert_eq!(streamed.content(), plain.content());
    assert_eq!(streamed.citations, plain.citations);
    assert_eq!(streamed.finish_reason, plain.finish_reason);
    assert_eq!(streamed.context_snippet_count, plain.context_snippet_count);
    assert!(streamed.usage.is_some());
}

#[test]
fn completions_plain_and_streamed_agree() {
    let (_emu, docs) = loaded_emulator();
    let plain = docs.chat_completions(ask_completion()).unwrap();
    assert!(plain.content().starts_with("The warranty covers two years"));
    let stream = docs.chat_completions_stream(ask_completion()).unwrap();
    let streamed = stream.into_response().unwrap();
    assert_eq!(streamed.content(), plain.content());
    let finish = &streamed.choices[0].finish_reason;
    assert_eq!(finish, &plain.choices[0].finish_reason);
}

#[test]
fn a_stream_cut_by_the_server_is_an_error() {
    let (emu, docs) = loaded_emulator();
    emu.inject(Fault::cut_stream(1).path_contains("/chat/docs"));
    let mut stream = docs.chat_stream(ask()).unwrap();
    let first = stream.next();
    assert!(matches!(first, Some(Ok(ChatStreamChunk::MessageStart(_)))));
    let rest: Vec<_> = stream.collect();
    let last = rest.last();
    let failed = matches!(last, Some(Err(Error::Stream(_) | Error::Transport(_))));
    assert!(failed, "{rest:?}");
}

#[test]
fn a_stream_ended_cleanly_before_its_last_chunk_is_truncated() {
    let (emu, docs) = loaded_emulator();
    emu.inject(Fault::end_stream(2).path_contains("/chat/docs"));
    let err = docs.chat_stream(ask()).unwrap().collect_text().unwrap_err();
    assert!(is_truncated(&err), "{err}");
    emu.inject(Fault::end_stream(2).path_contains("/chat/docs/chat/completions"));
    let stream = docs.chat_completions_stream(ask_completion()).unwrap();
    let err = stream.into_response().unwrap_err();
    assert!(is_truncated(&err), "{err}");
}

#[test]
fn alignment_scores_a_contradicting_answer_below_a_faithful_one() {
    let emu = fast();
    let client = client(&emu);
    let truth = ANSWER;
    let faithful = AlignmentRequest::new(QUESTION, truth, truth);
    let good = client.evaluate_alignment(faithful).unwrap();
    let contradicting = AlignmentRequest::new(QUESTION, "There is no warranty at all.", truth);
    let bad = client.evaluate_alignment(contradicting).unwrap();
    assert!(good.scores().alignment > bad.scores().alignment);
    assert!(!good.facts().is_empty());
}
