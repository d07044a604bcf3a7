//! The C and Python examples, run as their comments say a user would run them.

use mockito::Server;
use serde_json::json;

use crate::support::{CHAT_STREAM, data_plane_host, program_from, root, run, runners, sse};

#[test]
fn chat_stream_example() {
    let exe = program_from(
        &root().join("examples/c/chat_stream.c"),
        "example_chat_stream",
    );
    for runner in runners() {
        let mut server = Server::new();
        let host = data_plane_host(&mut server, 1);
        let stream = sse(
            &mut server,
            "/assistant/chat/support-bot",
            json!({"messages": [{"role": "user", "content": "What is \"the\" refund window?"}], "stream": true}),
            CHAT_STREAM,
        )
        .expect(1);
        let env = [
            ("PINECONE_API_KEY", "test-key".to_owned()),
            ("PINECONE_CONTROLLER_HOST", server.url()),
        ];
        let args = [
            "support-bot".to_owned(),
            "What is \"the\" refund window?".to_owned(),
        ];
        let stdout = run(&exe, &runner, &env, &args);
        assert_eq!(
            stdout,
            "Annual plans can be refunded within 30 days of purchase.\n"
        );
        host.assert();
        stream.assert();
    }
}

/// The Python ctypes example, against the emulator, through the shared library
/// that `cargo test` builds. Skipped when `python3` is not installed.
#[test]
#[cfg_attr(not(feature = "emulator"), ignore = "needs `--features emulator`")]
fn python_ctypes_example() {
    #[cfg(feature = "emulator")]
    {
        use pinecone_assistant::emulator::Emulator;
        use std::path::Path;
        use std::process::Command;

        use crate::support::library;
        if Command::new("python3").arg("--version").output().is_err() {
            eprintln!("python3 not found; skipping the ctypes example");
            return;
        }
        let lib = library("so");
        let emulator = Emulator::start().expect("start the emulator");
        let env = [
            ("PINECONE_ASSISTANT_LIB", lib.display().to_string()),
            ("PINECONE_EMULATOR_URL", emulator.url().to_owned()),
            ("PINECONE_EMULATOR_API_KEY", emulator.api_key().to_owned()),
        ];
        let script = root().join("examples/python/pinecone_ctypes.py");
        let args = [script.display().to_string()];
        let stdout = run(Path::new("python3"), &[], &env, &args);
        assert!(stdout.contains("is Available"), "{stdout}");
        assert!(
            stdout.contains(
                "refused as expected: PINECONE_RESULT_INVALID_ARGUMENT argument: json_response"
            ),
            "{stdout}"
        );
        assert!(stdout.contains("30 days"), "{stdout}");
        assert!(stdout.contains("finish: stop"), "{stdout}");
    }
}
