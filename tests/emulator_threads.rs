//! Dropping an emulator joins every thread it started. Runs in its own process so
//! no other test's emulators are counted.

mod support;

use std::time::Duration;

use pinecone_assistant::Wait;
use pinecone_assistant::emulator::Emulator;
use pinecone_assistant::models::CreateAssistantRequest;

/// Threads of this process whose name starts with `emulator-` (the workers and
/// the processor); `None` without `/proc`.
fn emulator_threads() -> Option<usize> {
    let tasks = std::fs::read_dir("/proc/self/task").ok()?;
    Some(
        tasks
            .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
            .filter(|name| name.starts_with("emulator-"))
            .count(),
    )
}

#[test]
fn dropping_an_emulator_joins_its_threads() {
    let Some(idle) = emulator_threads() else {
        return; // no /proc on this platform: nothing to count
    };
    assert_eq!(idle, 0);
    for i in 0..3 {
        let emu = Emulator::builder()
            .ready_delay(Duration::ZERO)
            .processing_delay(Duration::from_secs(60))
            .workers(3)
            .start()
            .unwrap();
        // A new thread names itself as it starts running, so allow it a moment.
        let started = std::time::Instant::now();
        while emulator_threads() != Some(4) && started.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(emulator_threads(), Some(4));
        let client = support::emu::client(&emu);
        client
            .create_assistant(CreateAssistantRequest::new(format!("t{i}")), Wait::No)
            .unwrap();
        // A long upload keeps the processor busy: dropping must interrupt it.
        let docs = client.assistant(format!("t{i}"));
        docs.upload_file(
            pinecone_assistant::models::UploadFile::bytes(b"x".to_vec(), "x.txt"),
            Wait::No,
        )
        .unwrap();
        drop(emu);
        assert_eq!(emulator_threads(), Some(0));
    }
}
