//! Quick start: create an assistant, upload documents, stream a cited answer.
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
use std::time::Duration;

use pinecone_assistant::emulator::Emulator;
use pinecone_assistant::models::{
    ChatRequest, ChatStreamChunk, ContextRequest, CreateAssistantRequest, Message, Snippet,
    UploadFile,
};
use pinecone_assistant::{Assistant, Client, ClientConfig, Wait};
use serde_json::json;

const NAME: &str = "orbit-quickstart";
const QUESTION: &str = "How long is the warranty on the Orbit T2, and can I return it?";

fn main() -> Result<(), Box<dyn std::error::Error>> {
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
            .operation_poll_interval(Duration::from_millis(200))
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
    for c in &citations {
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
