//! Quick start: create an assistant, upload documents (Markdown, text and a PDF),
//! stream a cited answer, then ask a question the PDF answers, cited by page.
//!
//! ```text
//! cargo run --example quickstart --features emulator
//! ```
//!
//! With `PINECONE_API_KEY` unset it runs against the in-process emulator, so it
//! needs no account; with the variable set it talks to Pinecone (and creates, then
//! deletes, an assistant named `orbit-quickstart` in that project).

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use pinecone_assistant::emulator::Emulator;
use pinecone_assistant::models::{
    ChatRequest, ChatStreamChunk, Citation, ContextRequest, CreateAssistantRequest, Message,
    Snippet, UploadFile,
};
use pinecone_assistant::{Assistant, Client, ClientConfig, Wait};
use serde_json::json;

const NAME: &str = "orbit-quickstart";
const QUESTION: &str = "How long is the warranty on the Orbit T2, and can I return it?";
/// Answered by page 2 of the installation guide (a PDF).
const PDF_QUESTION: &str = "Which wire does the Orbit T2 need for its 24 V supply?";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            eprintln!("hint: {}", hint(e.as_ref()));
            ExitCode::FAILURE
        }
    }
}

/// What to try next, for the errors a first run meets.
fn hint(e: &(dyn std::error::Error + 'static)) -> &'static str {
    if let Some(e) = e.downcast_ref::<pinecone_assistant::Error>() {
        return match e.status() {
            Some(401 | 403) => {
                "the service refused the API key: check PINECONE_API_KEY, or unset it to run against the built-in emulator"
            }
            Some(409) => {
                "an assistant named orbit-quickstart already exists in this project: delete it, then run again"
            }
            Some(_) if e.is_not_found() => {
                "the assistant disappeared while the tour ran: run again"
            }
            _ if e.is_retryable() => {
                "the service could not be reached or was busy: check the network and PINECONE_CONTROLLER_HOST, then run again"
            }
            _ => {
                "unset PINECONE_API_KEY to run against the built-in emulator, which needs no account"
            }
        };
    }
    if e.downcast_ref::<std::io::Error>().is_some() {
        return "run it from a checkout of the repository: cargo run --example quickstart --features emulator";
    }
    "unset PINECONE_API_KEY to run against the built-in emulator, which needs no account"
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    // Kept alive until the end of main: dropping it stops the server.
    let mut _emulator = None;
    let client = if std::env::var_os("PINECONE_API_KEY").is_some() {
        Client::from_env()?
    } else {
        let emu = Emulator::start()?;
        println!(
            "PINECONE_API_KEY is not set: using the emulator at {}",
            emu.url()
        );
        let config = ClientConfig::builder(emu.api_key())
            .host(emu.url())
            .evaluation_host(emu.url())
            .build();
        _emulator = Some(emu);
        Client::new(config)?
    };

    let created = client.create_assistant(
        CreateAssistantRequest::new(NAME).instructions("Answer from the Orbit documents only."),
        Wait::For(Duration::from_secs(120)),
    )?;
    println!("assistant {} is {}", created.name, created.status);

    // Whatever happens in the tour, the assistant is deleted afterwards.
    let tour = tour(&client.assistant(NAME));
    client.delete_assistant(NAME, Wait::For(Duration::from_secs(120)))?;
    println!("\ndeleted {NAME}");
    tour
}

/// Uploads the documents, streams a cited answer and shows the context.
fn tour(assistant: &Assistant) -> Result<(), Box<dyn std::error::Error>> {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data");
    for name in [
        "orbit-overview.md",
        "orbit-warranty.md",
        "orbit-troubleshooting.txt",
        "orbit-installation.pdf",
    ] {
        let done = assistant.upload_file(
            UploadFile::path(data.join(name)).metadata(json!({"product": "orbit-t2"})),
            Wait::For(Duration::from_secs(300)),
        )?;
        println!("uploaded {name} ({:?})", done.operation.status);
    }

    print!("\nQ: {QUESTION}\nA: ");
    let mut citations = Vec::new();
    let mut out = std::io::stdout();
    for chunk in assistant.chat_stream(ChatRequest::new([Message::user(QUESTION)]))? {
        match chunk? {
            ChatStreamChunk::ContentDelta(delta) => {
                print!("{}", delta.content);
                out.flush()?;
            }
            ChatStreamChunk::Citation(c) => citations.push(c.citation),
            _ => {}
        }
    }
    println!("\n\nCitations:");
    print_citations(&citations);

    // PDF references carry the page each cited passage is on.
    let answer = assistant.chat(ChatRequest::new([Message::user(PDF_QUESTION)]))?;
    println!("\nQ: {PDF_QUESTION}\nA: {}", answer.message.content);
    println!("\nCitations:");
    print_citations(&answer.citations);

    println!("\nContext snippets for \"return policy\":");
    let context = assistant.context(ContextRequest::query("return policy").top_k(3))?;
    for s in &context.snippets {
        let file = s.reference().map_or("?", |r| r.file.name.as_str());
        println!("  [{:.3}] {file}", s.score().unwrap_or_default());
        if let Snippet::Text(text) = s {
            let excerpt: String = text.content.chars().take(160).collect();
            println!("      {}…", excerpt.replace('\n', " "));
        }
    }

    Ok(())
}

fn print_citations(citations: &[Citation]) {
    for c in citations {
        for r in &c.references {
            let file = r.file.as_ref().map_or("?", |f| f.name.as_str());
            let pages = if r.pages.is_empty() {
                String::new()
            } else {
                format!(", pages {:?}", r.pages)
            };
            println!("  at {}: {file}{pages}", c.position.unwrap_or_default());
        }
    }
}
