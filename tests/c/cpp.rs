//! The C++17 wrapper, `include/pinecone_assistant.hpp`: each program in
//! `tests/cpp/` is compiled with `g++ -std=c++17 -Wall -Wextra -Werror -pedantic`
//! against the static library and run against an emulator set up as the
//! program's opening comment says (and again under valgrind when it is
//! installed).

#[cfg(feature = "emulator")]
use pinecone_assistant::emulator::{Emulator, EmulatorBuilder};

/// Compiles `tests/cpp/{name}.cpp`, then runs it once per runner against a
/// fresh emulator from `emulator`, prepared by `prepare`; it must print
/// `{name}: ok`.
#[cfg(feature = "emulator")]
fn run_against_emulator(
    name: &str,
    emulator: impl Fn() -> EmulatorBuilder,
    prepare: impl Fn(&Emulator),
) {
    use crate::support::{Language, compile, root, run, runners};

    let exe = compile(
        Language::Cpp,
        &root().join(format!("tests/cpp/{name}.cpp")),
        &format!("cpp_{name}"),
    );
    for runner in runners() {
        let emu = emulator().start().expect("start the emulator");
        prepare(&emu);
        let env = [
            ("PINECONE_TEST_URL", emu.url().to_owned()),
            ("PINECONE_TEST_API_KEY", emu.api_key().to_owned()),
            ("PINECONE_CONTROLLER_HOST", emu.url().to_owned()),
            ("PINECONE_API_KEY", emu.api_key().to_owned()),
            ("PINECONE_TEST_DIR", env!("CARGO_TARGET_TMPDIR").to_owned()),
        ];
        let stdout = run(&exe, &runner, &env, &[]);
        assert!(stdout.contains(&format!("{name}: ok")), "{stdout}");
    }
}

/// Every operation, the range-for walks of paginators and streams, the
/// callback forms, and observers.
#[test]
#[cfg_attr(not(feature = "emulator"), ignore = "needs `--features emulator`")]
fn cpp_session() {
    #[cfg(feature = "emulator")]
    run_against_emulator("session", Emulator::builder, |_| {});
}

/// Each kind of failure as a `pinecone::Error` (total bounds and body limits
/// included), callbacks' exceptions passed through unchanged, and moved-from
/// objects.
#[test]
#[cfg_attr(not(feature = "emulator"), ignore = "needs `--features emulator`")]
fn cpp_errors() {
    #[cfg(feature = "emulator")]
    {
        use pinecone_assistant::emulator::Fault;
        use std::time::Duration;

        run_against_emulator(
            "errors",
            || Emulator::builder().ready_delay(Duration::from_secs(1)),
            |emu| {
                emu.inject(
                    Fault::status(503)
                        .retry_after("7")
                        .path_contains("/assistants/cpp-unavailable"),
                );
                emu.inject(
                    Fault::end_stream(2)
                        .path_contains("/chat/cpp-cut")
                        .method("POST"),
                );
                emu.inject(
                    Fault::delay(Duration::from_millis(1500))
                        .times(3)
                        .path_contains("/assistants/cpp-held"),
                );
            },
        );
    }
}

/// A stream cancelled from another thread, and a cancel object bound to a
/// client stopping a wait, a stream and an operation poll.
#[test]
#[cfg_attr(not(feature = "emulator"), ignore = "needs `--features emulator`")]
fn cpp_cancel() {
    #[cfg(feature = "emulator")]
    {
        use pinecone_assistant::emulator::ProcessingDelay;
        use std::time::Duration;

        run_against_emulator(
            "cancel",
            || {
                Emulator::builder()
                    .stream_delay(Duration::from_secs(2))
                    .processing_delay(ProcessingDelay::fixed(Duration::from_secs(60)))
            },
            |_| {},
        );
    }
}
