//! The command line: every command, option and help text, in clap's derive form.
//! The same definitions parse the arguments, print `--help` and generate the
//! shell completions, so the three cannot disagree.

use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, Args, Parser, Subcommand};
use pinecone_assistant::models::Region;
use pinecone_assistant::{Error, Paginator, Wait};
use serde_json::Value;

use crate::exit::EXIT_CODES;

/// Manage Pinecone assistants, their files and operations, and chat with them
/// from a terminal, against Pinecone or an offline emulator.
#[derive(Debug, Parser)]
#[command(name = "pinecone-assistant", version, after_help = EXIT_CODES)]
#[command(
    long_about = "Manage Pinecone assistants, their files and operations, and chat with them \
    from a terminal.\n\nConfiguration comes from the environment, as for the library: \
    PINECONE_API_KEY (or --api-key-file), PINECONE_CONTROLLER_HOST (or --host) and \
    PINECONE_ADDITIONAL_HEADERS (a JSON object of extra headers). With --emulator no account \
    is needed: every command runs against an emulator of the API."
)]
pub struct Cli {
    /// Run against an emulator instead of Pinecone. Alone: one inside this process,
    /// in memory, gone when the command ends. `--emulator=DIR`: one inside this
    /// process that keeps its state in DIR, so successive commands share it.
    /// `--emulator=URL`: a running emulator program (`pinecone-assistant emulator`),
    /// whose key is read from --api-key-file, else PINECONE_EMULATOR_API_KEY, else
    /// the emulator's default
    #[arg(
        long,
        global = true,
        value_name = "DIR|URL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = ""
    )]
    pub emulator: Option<String>,

    /// The control-plane URL (default https://api.pinecone.io)
    #[arg(
        long,
        global = true,
        env = "PINECONE_CONTROLLER_HOST",
        value_name = "URL"
    )]
    pub host: Option<String>,

    /// Read the API key from this file rather than from PINECONE_API_KEY, which
    /// keeps it out of the shell's history (surrounding white space is ignored)
    #[arg(long, global = true, value_name = "PATH")]
    pub api_key_file: Option<PathBuf>,

    /// Print JSON for scripts: one document per command, or JSON lines (one
    /// object a line) for lists and streamed answers
    #[arg(long, global = true)]
    pub json: bool,

    /// Log more on stderr: -v info, -vv requests (debug), -vvv trace. The API key
    /// is never logged
    #[arg(short, long, global = true, action = ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create, list, describe, update and delete assistants
    #[command(subcommand)]
    Assistants(AssistantsCommand),
    /// Upload, list, describe and delete an assistant's files
    #[command(subcommand)]
    Files(FilesCommand),
    /// Follow the processing of uploads and deletions
    #[command(subcommand)]
    Operations(OperationsCommand),
    /// Show the snippets an assistant retrieves for a query
    Context(ContextArgs),
    /// Ask an assistant a question: the answer is written as it arrives, its
    /// citations after it; or talk with it (--interactive)
    Chat(ChatArgs),
    /// Score an answer against a ground-truth answer (alignment evaluation)
    Eval(EvalArgs),
    /// Make an assistant's files equal a local folder: upload new and changed
    /// files (and with --delete-missing delete those gone from it); --dry-run
    /// prints the plan
    Sync(SyncArgs),
    /// Print a shell completion script, e.g.
    /// `pinecone-assistant completions bash > /etc/bash_completion.d/pinecone-assistant`
    Completions {
        /// The shell
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Run the emulator in the foreground (`pinecone-assistant emulator --help`
    /// lists its options); it prints the variables that point clients at it
    #[command(disable_help_flag = true)]
    Emulator {
        /// The emulator's options
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
        args: Vec<String>,
    },
}

/// `assistants …`
#[derive(Debug, Subcommand)]
pub enum AssistantsCommand {
    /// List the assistants of the project
    List(ListArgs),
    /// Create an assistant and wait until it is ready
    Create {
        /// Its name (lower-case letters, digits and dashes)
        name: String,
        /// Instructions it follows when it answers
        #[arg(long)]
        instructions: Option<String>,
        /// Metadata, a JSON object
        #[arg(long, value_parser = json_object)]
        metadata: Option<Value>,
        /// Where it runs: us or eu (default us)
        #[arg(long, value_parser = region)]
        region: Option<Region>,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// Show an assistant
    Describe {
        /// Its name
        name: String,
    },
    /// Change an assistant's instructions or metadata
    Update {
        /// Its name
        name: String,
        /// New instructions
        #[arg(long)]
        instructions: Option<String>,
        /// New metadata, a JSON object (replaces the old)
        #[arg(long, value_parser = json_object)]
        metadata: Option<Value>,
    },
    /// Delete an assistant and its files, and wait until it is gone
    Delete {
        /// Its name
        name: String,
        #[command(flatten)]
        wait: WaitArgs,
    },
}

/// `files …`
#[derive(Debug, Subcommand)]
pub enum FilesCommand {
    /// List an assistant's files
    List {
        #[command(flatten)]
        target: Target,
        /// Only files whose metadata match this filter (JSON, e.g. '{"team":"support"}')
        #[arg(long, value_parser = json_object)]
        filter: Option<Value>,
        #[command(flatten)]
        list: ListArgs,
    },
    /// Upload files, several side by side, and wait until each is processed;
    /// shows progress on a terminal
    Upload {
        #[command(flatten)]
        target: Target,
        /// The files to upload
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// Metadata for every file, a JSON object
        #[arg(long, value_parser = json_object)]
        metadata: Option<Value>,
        /// Index the images of PDF files too
        #[arg(long)]
        multimodal: bool,
        /// How many files to upload side by side (each waits for its own processing)
        #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
        jobs: u16,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// Show a file
    Describe {
        #[command(flatten)]
        target: Target,
        /// The file's id
        file_id: String,
        /// Include a temporary download URL
        #[arg(long)]
        url: bool,
    },
    /// Delete a file and wait until it is gone
    Delete {
        #[command(flatten)]
        target: Target,
        /// The file's id
        file_id: String,
        #[command(flatten)]
        wait: WaitArgs,
    },
}

/// `operations …`
#[derive(Debug, Subcommand)]
pub enum OperationsCommand {
    /// List an assistant's operations, newest first
    List {
        #[command(flatten)]
        target: Target,
        /// Only this type: UploadFile, UpsertFile, DeleteFile…
        #[arg(long = "type", value_name = "TYPE")]
        operation_type: Option<String>,
        /// Only this status: Processing, Completed, Failed…
        #[arg(long)]
        status: Option<String>,
        #[command(flatten)]
        list: ListArgs,
    },
    /// Show an operation
    Describe {
        #[command(flatten)]
        target: Target,
        /// The operation's id
        operation_id: String,
    },
    /// Wait until an operation completes or fails
    Wait {
        #[command(flatten)]
        target: Target,
        /// The operation's id
        operation_id: String,
        /// Give up after this many seconds (exit code 7); the operation goes on
        #[arg(long, value_name = "SECS", value_parser = seconds)]
        timeout: Option<Duration>,
    },
}

/// `context QUERY`
#[derive(Debug, Args)]
pub struct ContextArgs {
    #[command(flatten)]
    pub target: Target,
    /// What to look for
    pub query: String,
    #[command(flatten)]
    pub retrieval: Retrieval,
}

/// `chat QUESTION` and `chat --interactive`
#[derive(Debug, Args)]
pub struct ChatArgs {
    #[command(flatten)]
    pub target: Target,
    /// The question (with --interactive, the first one, if any)
    #[arg(required_unless_present = "interactive")]
    pub question: Option<String>,
    /// Keep a conversation going: a question per line, Ctrl-C stops an answer,
    /// Ctrl-D exits
    #[arg(short, long)]
    pub interactive: bool,
    /// The model that writes the answer (default: the service's)
    #[arg(long)]
    pub model: Option<String>,
    /// Sampling temperature
    #[arg(long)]
    pub temperature: Option<f64>,
    #[command(flatten)]
    pub retrieval: Retrieval,
}

/// `eval`
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The question that was asked
    #[arg(long)]
    pub question: String,
    /// The answer to score
    #[arg(long)]
    pub answer: String,
    /// The answer it should have given
    #[arg(long)]
    pub ground_truth: String,
}

/// `sync DIR`
#[derive(Debug, Args)]
pub struct SyncArgs {
    #[command(flatten)]
    pub target: Target,
    /// The folder
    pub dir: PathBuf,
    /// Print what would be created, updated, deleted and skipped, and change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Only paths matching this pattern (gitignore syntax; repeatable)
    #[arg(long, value_name = "PATTERN")]
    pub include: Vec<String>,
    /// Leave out paths matching this pattern (gitignore syntax; repeatable)
    #[arg(long, value_name = "PATTERN")]
    pub exclude: Vec<String>,
    /// Honour the folder's .gitignore files
    #[arg(long)]
    pub gitignore: bool,
    /// Include hidden files and folders
    #[arg(long)]
    pub hidden: bool,
    /// Delete the files an earlier sync uploaded that are no longer in the folder
    #[arg(long)]
    pub delete_missing: bool,
    /// Index the images of PDF files too
    #[arg(long)]
    pub multimodal: bool,
    /// Files carried at once (default 8)
    #[arg(long, value_name = "N")]
    pub workers: Option<usize>,
    /// Stop at the first file that fails
    #[arg(long)]
    pub fail_fast: bool,
}

/// Which assistant a data-plane command works on.
#[derive(Debug, Args)]
pub struct Target {
    /// The assistant
    #[arg(short, long, env = "PINECONE_ASSISTANT", value_name = "NAME")]
    pub assistant: String,
}

/// Retrieval settings shared by `context` and `chat`.
#[derive(Debug, Args)]
pub struct Retrieval {
    /// Only files whose metadata match this filter (JSON)
    #[arg(long, value_parser = json_object)]
    pub filter: Option<Value>,
    /// How many snippets to retrieve
    #[arg(long, value_name = "N")]
    pub top_k: Option<u32>,
    /// The size of each snippet, in tokens
    #[arg(long, value_name = "TOKENS")]
    pub snippet_size: Option<u32>,
}

/// Options of the list commands.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Show at most this many
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
}

impl ListArgs {
    /// Every item `paginator` yields, at most `--limit` of them.
    pub fn collect<T>(&self, paginator: Paginator<T>) -> Result<Vec<T>, Error> {
        let paginator = match self.limit {
            Some(n) => paginator.max_items(n),
            None => paginator,
        };
        paginator.collect()
    }
}

/// How long a command waits for the work it started.
#[derive(Debug, Args, Clone, Copy)]
pub struct WaitArgs {
    /// Return once the service accepted the request, without waiting for it to finish
    #[arg(long, conflicts_with = "timeout")]
    pub no_wait: bool,
    /// Give up waiting after this many seconds (exit code 7); the work goes on
    #[arg(long, value_name = "SECS", value_parser = seconds)]
    pub timeout: Option<Duration>,
}

impl WaitArgs {
    /// The library's form of these options.
    pub fn wait(self) -> Wait {
        wait_for(self.no_wait, self.timeout)
    }
}

/// `Wait::No` when not waiting, else `Wait::For` the timeout or `Wait::Forever`.
pub fn wait_for(no_wait: bool, timeout: Option<Duration>) -> Wait {
    match (no_wait, timeout) {
        (true, _) => Wait::No,
        (false, Some(limit)) => Wait::For(limit),
        (false, None) => Wait::Forever,
    }
}

fn json_object(text: &str) -> Result<Value, String> {
    match serde_json::from_str::<Value>(text) {
        Ok(value @ Value::Object(_)) => Ok(value),
        Ok(_) => Err("expected a JSON object, e.g. '{\"team\":\"support\"}'".into()),
        Err(e) => Err(format!(
            "not JSON ({e}); expected an object such as '{{\"team\":\"support\"}}'"
        )),
    }
}

fn region(text: &str) -> Result<Region, String> {
    let parsed: Region = text
        .parse()
        .map_err(|e: pinecone_assistant::Error| e.to_string())?;
    Ok(parsed)
}

fn seconds(text: &str) -> Result<Duration, String> {
    text.parse::<f64>()
        .ok()
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .ok_or_else(|| format!("expected a number of seconds, got {text:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn waits_follow_the_flags() {
        assert_eq!(wait_for(true, None), Wait::No);
        assert_eq!(wait_for(false, None), Wait::Forever);
        let limit = Duration::from_millis(1500);
        assert_eq!(wait_for(false, Some(limit)), Wait::For(limit));
        assert_eq!(seconds("1.5"), Ok(limit));
        assert!(seconds("-1").is_err() && seconds("soon").is_err());
    }

    #[test]
    fn json_options_must_be_objects() {
        assert!(json_object(r#"{"a":1}"#).is_ok());
        assert!(json_object("[1]").unwrap_err().contains("JSON object"));
        assert!(json_object("{a").unwrap_err().contains("not JSON"));
    }
}
