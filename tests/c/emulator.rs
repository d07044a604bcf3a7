//! `emulator.c` runs a whole session against the in-process emulator.

#[test]
#[cfg_attr(not(feature = "emulator"), ignore = "needs `--features emulator`")]
fn c_program_against_the_emulator() {
    #[cfg(feature = "emulator")]
    {
        use pinecone_assistant::emulator::Emulator;

        use crate::support::{program, run, runners};

        let exe = program("emulator");
        for runner in runners() {
            let emulator = Emulator::start().expect("start the emulator");
            let env = [
                ("PINECONE_TEST_URL", emulator.url().to_owned()),
                ("PINECONE_TEST_API_KEY", emulator.api_key().to_owned()),
            ];
            let stdout = run(&exe, &runner, &env, &[]);
            assert!(stdout.contains("emulator: ok"), "{stdout}");
        }
    }
}
