//! From the options and the environment to a client: Pinecone, an emulator in
//! this process, or a running emulator program.

use std::path::{Path, PathBuf};

use pinecone_assistant::emulator::{DEFAULT_API_KEY, Emulator};
use pinecone_assistant::{CancelHandle, Client, ClientConfig, ClientConfigBuilder};

use crate::args::Cli;
use crate::exit::{Class, Failure};

/// Where the commands are sent.
#[derive(Debug, PartialEq, Eq)]
pub enum Target {
    /// Pinecone (or whatever `--host` names), with the key from the environment.
    Service,
    /// An emulator started inside this process, in memory or on a data directory.
    InProcess(Option<PathBuf>),
    /// A running emulator program.
    Program(String),
}

impl Target {
    /// What `--emulator` asks for.
    pub fn of(emulator: Option<&str>) -> Self {
        match emulator {
            None => Target::Service,
            Some("") => Target::InProcess(None),
            Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
                Target::Program(url.to_owned())
            }
            Some(dir) => Target::InProcess(Some(PathBuf::from(dir))),
        }
    }
}

/// A client, and the emulator it talks to when that lives in this process (it
/// stops when this is dropped).
pub struct Connection {
    pub client: Client,
    _emulator: Option<Emulator>,
}

/// Connects as the options say; the client's calls stop when `cancel` fires.
pub fn connect(cli: &Cli, cancel: CancelHandle) -> Result<Connection, Failure> {
    let (key, builder, emulator) = match Target::of(cli.emulator.as_deref()) {
        Target::Service => {
            let key = match &cli.api_key_file {
                Some(path) => read_key(path)?,
                None => std::env::var("PINECONE_API_KEY").unwrap_or_default(),
            };
            if key.is_empty() {
                return Err(Failure::usage(
                    "no API key: set PINECONE_API_KEY, pass --api-key-file PATH, \
                     or add --emulator to work offline",
                ));
            }
            let mut builder = with_env_headers(ClientConfig::builder(&key))?;
            if let Some(host) = &cli.host {
                builder = builder.host(host);
            }
            (key, builder, None)
        }
        Target::InProcess(dir) => {
            let mut emulator = Emulator::builder();
            if let Some(dir) = dir {
                emulator = emulator.data_dir(dir);
            }
            let emulator = emulator.start().map_err(|e| {
                Failure::new(Class::Other, format!("could not start the emulator: {e}"))
            })?;
            let builder = ClientConfig::builder(emulator.api_key())
                .host(emulator.url())
                .evaluation_host(emulator.url());
            (emulator.api_key().to_owned(), builder, Some(emulator))
        }
        Target::Program(url) => {
            let key = match &cli.api_key_file {
                Some(path) => read_key(path)?,
                None => std::env::var("PINECONE_EMULATOR_API_KEY")
                    .ok()
                    .filter(|k| !k.is_empty())
                    .unwrap_or_else(|| DEFAULT_API_KEY.to_owned()),
            };
            let builder = ClientConfig::builder(&key).host(&url).evaluation_host(url);
            (key, builder, None)
        }
    };
    crate::logger::hide(&key);
    let client = Client::new(builder.build())?.with_cancel_handle(cancel);
    Ok(Connection {
        client,
        _emulator: emulator,
    })
}

fn read_key(path: &Path) -> Result<String, Failure> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Failure::usage(format!(
            "--api-key-file {}: cannot read it: {e}",
            path.display()
        ))
    })?;
    let key = text.trim();
    if key.is_empty() {
        return Err(Failure::usage(format!(
            "--api-key-file {}: the file is empty; put the API key in it",
            path.display()
        )));
    }
    Ok(key.to_owned())
}

/// Adds the headers of `PINECONE_ADDITIONAL_HEADERS` (a JSON object), as the
/// library's `ClientConfig::builder_from_env` does.
fn with_env_headers(mut builder: ClientConfigBuilder) -> Result<ClientConfigBuilder, Failure> {
    let raw = std::env::var("PINECONE_ADDITIONAL_HEADERS").unwrap_or_default();
    if raw.is_empty() {
        return Ok(builder);
    }
    let headers = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&raw)
        .map_err(|_| {
            Failure::usage(
                "PINECONE_ADDITIONAL_HEADERS is not a JSON object of headers, \
                 e.g. '{\"X-Team\": \"search\"}'",
            )
        })?;
    for (name, value) in headers {
        builder = match value {
            serde_json::Value::String(text) => builder.header(name, text),
            other => builder.header(name, other.to_string()),
        };
    }
    Ok(builder)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_emulator_option_names_its_target() {
        assert_eq!(Target::of(None), Target::Service);
        assert_eq!(Target::of(Some("")), Target::InProcess(None));
        assert_eq!(
            Target::of(Some(".emulator")),
            Target::InProcess(Some(PathBuf::from(".emulator")))
        );
        assert_eq!(
            Target::of(Some("http://127.0.0.1:9")),
            Target::Program("http://127.0.0.1:9".into())
        );
    }
}
