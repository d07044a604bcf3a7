//! `context QUERY`, `chat QUESTION` and `eval`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use pinecone_assistant::models::{
    AlignmentRequest, AlignmentResponse, ChatRequest, ChatStreamChunk, Citation, ContentBlock,
    ContextOptions, ContextRequest, ContextResponse, Message, Snippet,
};
use pinecone_assistant::{Assistant, Client};

use crate::args::{ChatArgs, ContextArgs, EvalArgs, Retrieval};
use crate::exit::Failure;
use crate::optional::Optionally;
use crate::output::Output;

pub fn context(client: &Client, args: ContextArgs, out: Output) -> Result<(), Failure> {
    let Retrieval {
        filter,
        top_k,
        snippet_size,
    } = args.retrieval;
    let request = ContextRequest::query(args.query)
        .optionally(filter, |r, v| r.filter(v))
        .optionally(top_k, |r, v| r.top_k(v))
        .optionally(snippet_size, |r, v| r.snippet_size(v));
    let response = client.assistant(args.target.assistant).context(request)?;
    out.one(&response, show_context)
}

fn show_context(response: &ContextResponse) -> String {
    if response.snippets.is_empty() {
        return "no snippets\n".into();
    }
    let mut text = String::new();
    for (i, snippet) in response.snippets.iter().enumerate() {
        let score = snippet
            .score()
            .map_or_else(String::new, |s| format!(" score {s:.3}"));
        let source = snippet.reference().map_or_else(String::new, |r| {
            format!("  {}{}", r.file.name, pages(&r.pages))
        });
        let _ = writeln!(text, "[{}]{score}{source}", i + 1);
        for line in snippet_text(snippet).lines() {
            let _ = writeln!(text, "    {line}");
        }
    }
    text
}

fn snippet_text(snippet: &Snippet) -> String {
    match snippet {
        Snippet::Text(text) => text.content.clone(),
        Snippet::Multimodal(multimodal) => multimodal
            .content
            .iter()
            .map(|block| match block {
                ContentBlock::Text { text } => text.clone(),
                ContentBlock::Image { caption, .. } => format!("[image: {caption}]"),
                other => format!("{other:?}"),
            })
            .collect::<Vec<_>>()
            .join("\n"),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

/// ` p. 2` or ` pp. 2, 3`, or nothing.
fn pages(pages: &[u32]) -> String {
    let list = pages
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    match pages.len() {
        0 => String::new(),
        1 => format!(" p. {list}"),
        _ => format!(" pp. {list}"),
    }
}

/// The chat request for `messages` with the options of `chat`.
pub fn request(args: &ChatArgs, messages: Vec<Message>) -> ChatRequest {
    let mut request = ChatRequest::new(messages)
        .optionally(args.model.as_ref(), |r, v| r.model(v))
        .optionally(args.temperature, |r, v| r.temperature(v))
        .optionally(args.retrieval.filter.clone(), |r, v| r.filter(v));
    if args.retrieval.top_k.is_some() || args.retrieval.snippet_size.is_some() {
        let options = ContextOptions::new()
            .optionally(args.retrieval.top_k, |o, v| o.top_k(v))
            .optionally(args.retrieval.snippet_size, |o, v| o.snippet_size(v));
        request = request.context_options(options);
    }
    request
}

/// Streams one answer to stdout: with `--json` each event as a JSON line, as
/// the service sent it; else the text as it arrives, then the citations. Returns
/// the answer's text.
pub fn stream_answer(
    assistant: &Assistant,
    request: ChatRequest,
    out: Output,
) -> Result<String, Failure> {
    let mut stream = assistant.chat_stream(request)?;
    let mut answer = String::new();
    let mut citations = Vec::new();
    while let Some(event) = stream.next_raw() {
        let event = event?;
        if out.json {
            out.text(&format!("{}\n", event.json))?;
        }
        match event.chunk {
            ChatStreamChunk::ContentDelta(delta) => {
                if !out.json {
                    out.text(&delta.content)?;
                }
                answer.push_str(&delta.content);
            }
            ChatStreamChunk::Citation(citation) => citations.push(citation.citation),
            _ => {}
        }
    }
    if !out.json {
        out.text(&format!("\n{}", show_citations(&citations)))?;
    }
    Ok(answer)
}

/// The citations after an answer: each source once, with the positions in the
/// answer that cite it.
pub fn show_citations(citations: &[Citation]) -> String {
    let mut sources: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for citation in citations {
        for reference in &citation.references {
            let name = reference
                .file
                .as_ref()
                .map_or_else(|| "(unnamed file)".to_owned(), |f| f.name.clone());
            let positions = sources
                .entry(format!("{name}{}", pages(&reference.pages)))
                .or_default();
            if let Some(p) = citation.position {
                positions.push(p.to_string());
            }
        }
    }
    if sources.is_empty() {
        return String::new();
    }
    let mut text = String::from("\nCitations:\n");
    for (i, (source, positions)) in sources.iter().enumerate() {
        let at = if positions.is_empty() {
            String::new()
        } else {
            format!(" (at {})", positions.join(", "))
        };
        let _ = writeln!(text, "  [{}] {source}{at}", i + 1);
    }
    text
}

pub fn chat(client: &Client, args: ChatArgs, out: Output) -> Result<(), Failure> {
    let assistant = client.assistant(&args.target.assistant);
    if args.interactive {
        if out.json {
            return Err(Failure::usage(
                "--interactive writes for a person; leave out --json, or ask one question \
                 per command",
            ));
        }
        return crate::repl::run(client, &args);
    }
    let question = args.question.clone().unwrap_or_default();
    stream_answer(
        &assistant,
        request(&args, vec![Message::user(question)]),
        out,
    )?;
    Ok(())
}

pub fn eval(client: &Client, args: EvalArgs, out: Output) -> Result<(), Failure> {
    let request = AlignmentRequest::new(args.question, args.answer, args.ground_truth);
    let response = client.evaluate_alignment(request)?;
    out.one(&response, show_eval)
}

fn show_eval(response: &AlignmentResponse) -> String {
    let scores = response.scores();
    let mut text = format!(
        "correctness:  {:.2}\ncompleteness: {:.2}\nalignment:    {:.2}\n",
        scores.correctness, scores.completeness, scores.alignment
    );
    if !response.facts().is_empty() {
        text.push_str("\nFacts of the ground truth:\n");
    }
    for fact in response.facts() {
        let _ = writeln!(
            text,
            "  {:<14} {}\n  {:<14} {}",
            fact.entailment.to_string(),
            fact.fact.content,
            "",
            fact.reasoning
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_read_naturally() {
        assert_eq!(pages(&[]), "");
        assert_eq!(pages(&[2]), " p. 2");
        assert_eq!(pages(&[2, 3]), " pp. 2, 3");
    }
}
