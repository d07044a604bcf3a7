//! Runs the Assistant API emulator as a program, for clients in any language.
//!
//! ```text
//! cargo run --example emulator --features emulator -- [OPTIONS]
//! cargo run --example emulator --features emulator -- --help
//! ```
//!
//! Its options, output and behaviour are described in
//! `pinecone_assistant::emulator::program` (`src/emulator/program.rs`). Once it
//! listens it prints shell assignments and flushes, then serves until killed:
//!
//! ```text
//! PINECONE_EMULATOR_URL=http://127.0.0.1:PORT
//! PINECONE_EMULATOR_API_KEY=emulator-key
//! PINECONE_CONTROLLER_HOST=http://127.0.0.1:PORT
//! PINECONE_API_KEY=emulator-key
//! PINECONE_PLUGIN_ASSISTANT_DATA_HOST=http://127.0.0.1:PORT
//! export PINECONE_EMULATOR_URL PINECONE_EMULATOR_API_KEY PINECONE_CONTROLLER_HOST PINECONE_API_KEY PINECONE_PLUGIN_ASSISTANT_DATA_HOST
//! ```
//!
//! `eval` them and a client that reads its configuration from the environment
//! (this crate's `Client::from_env`, the official SDKs) talks to the emulator;
//! the last variable sends the official Python SDK's evaluation calls there too.
//! Every line but the last is also a plain `NAME=value` pair for other readers,
//! the first two as in earlier versions. A value that the shell would split is
//! single-quoted.
//!
//! Warnings (for example a data directory that cannot be written) go to stderr.

fn main() -> std::process::ExitCode {
    pinecone_assistant::emulator::program::run(std::env::args().skip(1))
}
