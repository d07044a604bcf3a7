//! How long waiting takes: creates an assistant, uploads three small Markdown
//! files one after the other, each with `Wait::Forever`, deletes the assistant,
//! and prints the time of each step.
//!
//! Runs against whatever `PINECONE_CONTROLLER_HOST` and `PINECONE_API_KEY` name,
//! for instance the emulator (its default processing delay is 300 ms):
//!
//! ```sh
//! cargo build --features emulator --example emulator --example three_uploads
//! target/debug/examples/emulator > emulator.env &
//! until grep -q '^export' emulator.env 2>/dev/null; do sleep 0.1; done
//! eval "$(cat emulator.env)"
//! target/debug/examples/three_uploads
//! ```
//!
//! Every setting is left at its default, so the time is what a program that does
//! not tune its poll intervals sees.

use std::time::{Duration, Instant};

use pinecone_assistant::models::{CreateAssistantRequest, UploadFile};
use pinecone_assistant::{Client, Wait};

fn main() -> pinecone_assistant::Result<()> {
    let client = Client::from_env()?;
    let name = format!("three-uploads-{}", std::process::id());
    let start = Instant::now();
    let mut last = start;
    let mut step = |what: &str| {
        let now = Instant::now();
        println!("{what:<28} {}", seconds(now - last));
        last = now;
    };

    client.create_assistant(CreateAssistantRequest::new(&name), Wait::Forever)?;
    step("create (Wait::Forever)");
    let docs = client.assistant(&name);
    for n in 1..=3 {
        let text = format!("# Note {n}\n\nA small Markdown file, number {n} of three.\n");
        docs.upload_file(
            UploadFile::bytes(text, format!("note-{n}.md")),
            Wait::Forever,
        )?;
        step(&format!("upload note-{n}.md (Forever)"));
    }
    client.delete_assistant(&name, Wait::Forever)?;
    step("delete (Wait::Forever)");
    println!("{:<28} {}", "total", seconds(start.elapsed()));
    Ok(())
}

fn seconds(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}
