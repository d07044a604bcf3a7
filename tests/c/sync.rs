//! `sync.c` keeps an assistant of the in-process emulator in sync with a
//! folder through the C API; here the emulator is started, throttles the first
//! upload, and the assistant's files are checked afterwards.

#[test]
#[cfg_attr(not(feature = "emulator"), ignore = "needs `--features emulator`")]
fn c_program_syncs_a_folder_against_the_emulator() {
    #[cfg(feature = "emulator")]
    {
        use std::collections::HashSet;
        use std::time::Duration;

        use pinecone_assistant::emulator::{Emulator, Fault};
        use pinecone_assistant::sync::{SYNC_METADATA_KEY, file_id_for};
        use pinecone_assistant::{Client, ClientConfig};

        use crate::support::{program, run, runners};

        let exe = program("sync");
        for (n, runner) in runners().into_iter().enumerate() {
            let emulator = Emulator::builder()
                .ready_delay(Duration::from_millis(10))
                .processing_delay(Duration::from_millis(20))
                .start()
                .expect("start the emulator");
            // The first upload is throttled, and one poll fails: the sync goes on.
            emulator.inject(Fault::status(429).retry_after("0.2").method("PUT"));
            emulator.inject(Fault::status(503).path_contains("/operations/"));
            let dir =
                std::env::temp_dir().join(format!("pinecone-c-sync-{}-{n}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            let env = [
                ("PINECONE_TEST_URL", emulator.url().to_owned()),
                ("PINECONE_TEST_API_KEY", emulator.api_key().to_owned()),
            ];
            let stdout = run(&exe, &runner, &env, &[dir.display().to_string()]);
            assert!(stdout.contains("sync: ok"), "{stdout}");

            // The assistant holds exactly the folder's files, once each.
            let client = Client::new(
                ClientConfig::builder(emulator.api_key())
                    .host(emulator.url())
                    .build(),
            )
            .unwrap();
            let files: Vec<_> = client
                .assistant("c-sync")
                .list_files()
                .collect::<Result<_, _>>()
                .unwrap();
            let paths: HashSet<String> = files
                .iter()
                .map(|f| {
                    let record = &f.metadata.as_ref().unwrap()[SYNC_METADATA_KEY];
                    let path = record["path"].as_str().unwrap().to_owned();
                    assert_eq!(f.id, file_id_for(&path));
                    path
                })
                .collect();
            assert_eq!(paths.len(), files.len(), "no duplicates");
            let mut want: HashSet<String> = [
                "manual.md",
                "with space #1?.md",
                "ünï/日本.md",
                "a very long directory name/a very long directory name/a very long directory name/a very long directory name/a very long directory name/deep.md",
            ]
            .map(String::from)
            .into();
            want.extend((0..20).map(|i| format!("bulk/part-{i:02}.md")));
            assert_eq!(paths, want);
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }
}
