//! `assistants list | create | describe | update | delete`.

use pinecone_assistant::Client;
use pinecone_assistant::models::{CreateAssistantRequest, UpdateAssistantRequest};
use serde_json::json;

use crate::args::AssistantsCommand;
use crate::exit::Failure;
use crate::optional::Optionally;
use crate::output::Output;
use crate::progress::Progress;
use crate::show;

pub fn run(client: &Client, command: AssistantsCommand, out: Output) -> Result<(), Failure> {
    match command {
        AssistantsCommand::List(list) => {
            let assistants = list.collect(client.list_assistants())?;
            out.list(
                &assistants,
                &show::ASSISTANT_COLUMNS,
                show::assistant_row,
                "no assistants",
            )
        }
        AssistantsCommand::Create {
            name,
            instructions,
            metadata,
            region,
            wait,
        } => {
            let request = CreateAssistantRequest::new(&name)
                .optionally(instructions, |r, v| r.instructions(v))
                .optionally(metadata, |r, v| r.metadata(v))
                .optionally(region, |r, v| r.region(v));
            let waiting = (!wait.no_wait)
                .then(|| Progress::for_stderr().waiting(&format!("assistant {name} to be ready")));
            let created = client.create_assistant(request, wait.wait())?;
            drop(waiting);
            out.one(&created, show::assistant)
        }
        AssistantsCommand::Describe { name } => {
            out.one(&client.describe_assistant(&name)?, show::assistant)
        }
        AssistantsCommand::Update {
            name,
            instructions,
            metadata,
        } => {
            let request = UpdateAssistantRequest::new()
                .optionally(instructions, |r, v| r.instructions(v))
                .optionally(metadata, |r, v| r.metadata(v));
            out.one(&client.update_assistant(&name, request)?, show::assistant)
        }
        AssistantsCommand::Delete { name, wait } => {
            let waiting = (!wait.no_wait).then(|| {
                Progress::for_stderr().waiting(&format!("assistant {name} to be deleted"))
            });
            client.delete_assistant(&name, wait.wait())?;
            drop(waiting);
            let state = if wait.no_wait { "deleting" } else { "deleted" };
            out.one(&json!({ "name": name, "status": state }), |_| {
                format!("{state} assistant {name}\n")
            })
        }
    }
}
