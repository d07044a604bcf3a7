//! `Client::from_env`: the only place the crate reads the environment.
//!
//! One test in its own binary, because the environment is process-wide.

mod support;

use mockito::Server;
use pinecone_assistant::{Client, ClientConfig, Error};
use support::mock::{KEY, api};

fn set(key: &str, value: &str) {
    // SAFETY: this binary runs a single test, so no other thread reads or writes
    // the environment meanwhile.
    unsafe { std::env::set_var(key, value) }
}

fn unset(key: &str) {
    // SAFETY: as in `set`.
    unsafe { std::env::remove_var(key) }
}

#[test]
fn from_env_reads_key_host_and_headers_and_nothing_else() {
    let mut server = Server::new();
    // `api` also checks that the key from the environment is sent.
    let describe = api(&mut server, "GET", "/assistant/assistants/bot")
        .match_header("x-team", "search")
        .match_header("x-count", "3")
        .with_body(r#"{"name":"bot","status":"Ready"}"#)
        .expect(1)
        .create();

    unset("PINECONE_API_KEY");
    let err = Client::from_env().unwrap_err();
    assert!(
        matches!(err, Error::InvalidArgument { ref name, .. } if name == "PINECONE_API_KEY"),
        "{err}"
    );

    set("PINECONE_API_KEY", KEY);
    set("PINECONE_CONTROLLER_HOST", &server.url());
    set(
        "PINECONE_ADDITIONAL_HEADERS",
        r#"{"X-Team": "search", "X-Count": 3}"#,
    );
    // Standard proxy variables are never read: a proxy here would break the call.
    set("HTTP_PROXY", "http://127.0.0.1:9");
    set("ALL_PROXY", "http://127.0.0.1:9");
    let client = Client::from_env().unwrap();
    assert_eq!(client.describe_assistant("bot").unwrap().name, "bot");
    describe.assert();

    // Explicit settings win over the environment.
    let config = ClientConfig::builder_from_env()
        .unwrap()
        .host("https://gw.example/pc")
        .build();
    assert_eq!(config.host(), "https://gw.example/pc");

    // Headers set explicitly replace the environment's set whole.
    let config = ClientConfig::builder_from_env()
        .unwrap()
        .header("X-Own", "1")
        .build();
    assert_eq!(
        config.additional_headers(),
        [("X-Own".to_owned(), "1".to_owned())]
    );

    // Malformed extra headers are ignored, not fatal.
    set("PINECONE_ADDITIONAL_HEADERS", "{not json");
    let config = ClientConfig::builder_from_env().unwrap().build();
    assert!(config.additional_headers().is_empty());

    // The host as the API documentation writes it, with `/assistant`, is the same
    // host; a value that is no http(s) URL is refused, naming the variable.
    set(
        "PINECONE_CONTROLLER_HOST",
        &format!("{}/assistant", server.url()),
    );
    let config = ClientConfig::builder_from_env().unwrap().build();
    assert_eq!(config.host(), server.url());
    for bad in ["ftp://files.example", "not a host"] {
        set("PINECONE_CONTROLLER_HOST", bad);
        let err = Client::from_env().unwrap_err();
        assert!(
            matches!(err, Error::InvalidArgument { ref name, .. } if name == "PINECONE_CONTROLLER_HOST"),
            "{err}"
        );
    }
}
