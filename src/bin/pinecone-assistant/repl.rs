//! `chat --interactive`: a conversation at the terminal. Each question is sent
//! with the conversation so far; Ctrl-C stops the answer being written (the
//! question and the partial answer are left out of the conversation), Ctrl-D
//! ends the program.

use std::io::{BufRead, IsTerminal};

use pinecone_assistant::models::Message;
use pinecone_assistant::{CancelHandle, Client};

use crate::args::ChatArgs;
use crate::chat;
use crate::exit::{Class, Failure};
use crate::interrupt;
use crate::output::Output;

const HINT: &str = "(Ctrl-D exits)";

pub fn run(client: &Client, args: &ChatArgs) -> Result<(), Failure> {
    let out = Output { json: false };
    let prompt = std::io::stdin().is_terminal();
    out.text(&format!(
        "Chatting with assistant {}. Ctrl-C stops an answer, Ctrl-D exits.\n",
        args.target.assistant
    ))?;
    let mut conversation: Vec<Message> = Vec::new();
    let mut first = args.question.clone();
    loop {
        let question = match first.take() {
            Some(question) => {
                out.text(&format!("> {question}\n"))?;
                question
            }
            None => {
                interrupt::at_prompt(HINT);
                if prompt {
                    out.text("> ")?;
                }
                let mut line = String::new();
                let read = std::io::stdin().lock().read_line(&mut line).map_err(|e| {
                    Failure::new(Class::Other, format!("could not read the question: {e}"))
                })?;
                if read == 0 {
                    return out.text("\n");
                }
                line.trim().to_owned()
            }
        };
        if question.is_empty() {
            continue;
        }
        conversation.push(Message::user(question));
        // A handle per answer: Ctrl-C stops this one, and the next starts afresh.
        let stop = CancelHandle::new();
        interrupt::cancel(stop.clone());
        let assistant = client
            .with_cancel_handle(stop)
            .assistant(&args.target.assistant);
        match chat::stream_answer(&assistant, chat::request(args, conversation.clone()), out) {
            Ok(answer) => conversation.push(Message::assistant(answer)),
            Err(failure) => {
                conversation.pop();
                if failure.class == Class::Cancelled {
                    out.text("\n[answer stopped]\n")?;
                } else {
                    crate::report(&failure.message, failure.class, out);
                }
            }
        }
    }
}
