//! Folder sync against the emulator: first sync, resyncs, changes, deletions,
//! renames, cancel and resume, throttling, concurrent syncs, hostile names.

mod support;

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pinecone_assistant::emulator::{Emulator, Fault};
use pinecone_assistant::models::CreateAssistantRequest;
use pinecone_assistant::sync::{
    SYNC_METADATA_KEY, SyncAction, SyncEvent, SyncOptions, SyncReason, SyncStop, file_id_for,
};
use pinecone_assistant::testing::TestHooks;
use pinecone_assistant::{Assistant, CancelHandle, Client, ClientConfig, Error, Wait};
use serde_json::json;

use support::emu::{client, fast, ms, start};
use support::program::TempDir;

/// A folder holding `files` (relative path, text).
fn folder(files: &[(&str, &str)]) -> TempDir {
    let dir = TempDir::new("sync");
    for (path, text) in files {
        write(dir.path(), path, text);
    }
    dir
}

fn write(root: &Path, path: &str, text: &str) {
    let path = root.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A ready assistant `docs` on `emu`, through `client`.
fn docs(client: &Client) -> Assistant {
    client
        .create_assistant(CreateAssistantRequest::new("docs"), Wait::Forever)
        .unwrap();
    client.assistant("docs")
}

/// A fast emulator holding the ready assistant `docs`, and the handbook folder
/// synced to it once with the default options.
fn synced_handbook() -> (Emulator, Assistant, TempDir) {
    let emu = fast();
    let docs = docs(&client(&emu));
    let dir = folder(&HANDBOOK);
    docs.sync(dir.path(), &SyncOptions::new()).unwrap();
    (emu, docs, dir)
}

/// An emulator whose assistants are ready after 10 ms and whose files take
/// `processing_ms` to process, seeded with `seed` (rate faults draw from it).
fn paced(processing_ms: u64, seed: u64) -> Emulator {
    start(
        Emulator::builder()
            .ready_delay(ms(10))
            .processing_delay(ms(processing_ms))
            .seed(seed),
    )
}

/// The assistant's files: id -> (status, path and hash of the sync record).
fn listing(docs: &Assistant) -> BTreeMap<String, (String, String, String)> {
    docs.list_files()
        .map(|f| {
            let f = f.unwrap();
            let record = &f.metadata.as_ref().unwrap()[SYNC_METADATA_KEY];
            (
                f.id.clone(),
                (
                    f.status.unwrap().to_string(),
                    record["path"].as_str().unwrap().to_owned(),
                    record["sha256"].as_str().unwrap().to_owned(),
                ),
            )
        })
        .collect()
}

/// The paths of the upserts the emulator received (percent-encoded ids).
fn upserted(emu: &Emulator) -> Vec<String> {
    emu.requests()
        .into_iter()
        .filter(|r| r.method == "PUT" && r.path.starts_with("/assistant/files/docs/"))
        .map(|r| r.path["/assistant/files/docs/".len()..].to_owned())
        .collect()
}

/// Checks that the assistant holds `count` files, one per path, all processed,
/// and that planning `dir` again finds nothing to do.
fn assert_converged(docs: &Assistant, dir: &Path, count: usize) {
    let files = listing(docs);
    assert_eq!(files.len(), count, "no duplicates");
    assert!(files.values().all(|(status, _, _)| status == "Available"));
    let plan = docs.plan_sync(dir, &SyncOptions::new()).unwrap();
    assert!(plan.is_noop(), "{plan}");
}

fn requests(emu: &Emulator, method: &str) -> usize {
    emu.requests().iter().filter(|r| r.method == method).count()
}

const HANDBOOK: [(&str, &str); 4] = [
    ("intro.md", "# Intro\n\nThe kettle boils water.\n"),
    (
        "guides/setup.md",
        "# Setup\n\nFill the kettle to the line.\n",
    ),
    ("guides/faq.txt", "Q: Is it loud? A: No.\n"),
    ("data/specs.json", "{\"watts\": 2200}"),
];

#[test]
fn a_first_sync_uploads_the_selected_files_under_their_path_ids() {
    let emu = fast();
    let docs = docs(&client(&emu));
    let dir = folder(&HANDBOOK);
    // Not selected: an unsupported type, a hidden file, a file in a hidden
    // directory.
    write(dir.path(), "logo.png", "png");
    write(dir.path(), ".secret.md", "hidden");
    write(dir.path(), ".cache/notes.md", "hidden");

    let events = Arc::new(Mutex::new(Vec::new()));
    let log = events.clone();
    let options = SyncOptions::new()
        .workers(3)
        .metadata(
            |file| json!({"folder": file.relative_path().rsplit_once('/').map_or("", |(d, _)| d)}),
        )
        .on_progress(move |e| {
            log.lock().unwrap().push((e.kind(), e.entry().path.clone()));
        });
    let plan = docs.plan_sync(dir.path(), &options).unwrap();
    assert_eq!(plan.count(SyncAction::Create), 4, "{plan}");
    assert!(plan.entries.iter().all(|e| e.reason == SyncReason::New));
    assert!(
        plan.to_string()
            .ends_with("4 to create, 0 to update, 0 to delete, 0 unchanged, 0 other skipped\n"),
        "{plan}"
    );

    let report = docs.execute_sync(&plan, &options).unwrap();
    assert!(report.is_complete(), "{report}");
    assert_eq!((report.created, report.updated, report.failed), (4, 0, 0));
    let sizes: u64 = HANDBOOK.iter().map(|(_, t)| t.len() as u64).sum();
    assert_eq!(report.bytes_sent, sizes);

    let files = listing(&docs);
    assert_eq!(files.len(), 4);
    for (path, text) in HANDBOOK {
        let (status, recorded_path, sha) = &files[&file_id_for(path)];
        assert_eq!(
            (status.as_str(), recorded_path.as_str()),
            ("Available", path)
        );
        assert_eq!(sha.len(), 64);
        let _ = text;
    }
    let setup = docs.describe_file(&file_id_for("guides/setup.md")).unwrap();
    assert_eq!(setup.name, "setup.md");
    assert_eq!(setup.metadata.unwrap()["folder"], "guides");

    // Every file went queued -> uploading -> processing? -> done.
    let events = events.lock().unwrap();
    for (path, _) in HANDBOOK {
        let kinds: Vec<&str> = events
            .iter()
            .filter(|(_, p)| p == path)
            .map(|(k, _)| *k)
            .collect();
        assert_eq!(kinds.first(), Some(&"queued"), "{path}: {kinds:?}");
        assert_eq!(kinds.last(), Some(&"done"), "{path}: {kinds:?}");
        assert!(kinds.contains(&"uploading"), "{path}: {kinds:?}");
    }
}

#[test]
fn a_resync_of_an_unchanged_folder_uploads_nothing() {
    let (emu, docs, dir) = synced_handbook();
    emu.clear_requests();

    let plan = docs.plan_sync(dir.path(), &SyncOptions::new()).unwrap();
    assert!(plan.is_noop(), "{plan}");
    assert!(
        plan.entries
            .iter()
            .all(|e| e.reason == SyncReason::Unchanged)
    );
    let report = docs.execute_sync(&plan, &SyncOptions::new()).unwrap();
    assert_eq!((report.skipped, report.bytes_sent), (4, 0));
    assert_eq!(requests(&emu, "PUT") + requests(&emu, "DELETE"), 0);
    assert_eq!(requests(&emu, "POST"), 0);
}

#[test]
fn one_changed_file_is_exactly_one_upsert() {
    let (emu, docs, dir) = synced_handbook();
    let before = listing(&docs);
    write(
        dir.path(),
        "guides/setup.md",
        "# Setup\n\nFill it to the upper line.\n",
    );
    emu.clear_requests();

    let plan = docs.plan_sync(dir.path(), &SyncOptions::new()).unwrap();
    let changes: Vec<_> = plan.changes().collect();
    assert_eq!(changes.len(), 1, "{plan}");
    assert_eq!(
        (
            changes[0].action,
            changes[0].reason,
            changes[0].path.as_str()
        ),
        (
            SyncAction::Update,
            SyncReason::ContentChanged,
            "guides/setup.md"
        )
    );
    let report = docs.execute_sync(&plan, &SyncOptions::new()).unwrap();
    assert_eq!((report.updated, report.skipped), (1, 3));
    assert_eq!(upserted(&emu), [file_id_for("guides/setup.md")]);
    let after = listing(&docs);
    let id = file_id_for("guides/setup.md");
    assert_ne!(before[&id].2, after[&id].2, "the record holds the new hash");
    assert_eq!(after.len(), 4);

    // Metadata counts as a change too.
    let tagged = SyncOptions::new().metadata(|_| json!({"team": "support"}));
    let plan = docs.plan_sync(dir.path(), &tagged).unwrap();
    assert_eq!(plan.count(SyncAction::Update), 4);
    assert!(
        plan.changes()
            .all(|e| e.reason == SyncReason::MetadataChanged)
    );
}

#[test]
fn a_file_removed_locally_is_deleted_only_when_asked() {
    let (emu, docs, dir) = synced_handbook();
    std::fs::remove_file(dir.path().join("guides/faq.txt")).unwrap();
    emu.clear_requests();

    let report = docs.sync(dir.path(), &SyncOptions::new()).unwrap();
    assert_eq!((report.deleted, report.skipped), (0, 4));
    assert_eq!(requests(&emu, "DELETE"), 0);
    assert_eq!(listing(&docs).len(), 4);

    let options = SyncOptions::new().delete_missing(true);
    let plan = docs.plan_sync(dir.path(), &options).unwrap();
    let deletion = plan.changes().collect::<Vec<_>>();
    assert_eq!(deletion.len(), 1, "{plan}");
    assert_eq!(
        (deletion[0].reason, deletion[0].path.as_str()),
        (SyncReason::RemovedLocally, "guides/faq.txt")
    );
    let report = docs.execute_sync(&plan, &options).unwrap();
    assert_eq!((report.deleted, report.skipped), (1, 3));
    assert_eq!(requests(&emu, "DELETE"), 1);
    let files = listing(&docs);
    assert!(!files.contains_key(&file_id_for("guides/faq.txt")));
    assert_eq!(files.len(), 3);
}

#[test]
fn files_uploaded_by_other_means_are_never_deleted() {
    let emu = fast();
    let docs = docs(&client(&emu));
    docs.upload_file(
        pinecone_assistant::models::UploadFile::bytes(b"by hand".to_vec(), "manual.md")
            .file_id("manual"),
        Wait::Forever,
    )
    .unwrap();
    let dir = folder(&HANDBOOK[..1]);
    let plan = docs
        .plan_sync(dir.path(), &SyncOptions::new().delete_missing(true))
        .unwrap();
    assert!(plan.entries.iter().all(|e| e.file_id != "manual"), "{plan}");
    docs.execute_sync(&plan, &SyncOptions::new()).unwrap();
    assert!(docs.describe_file("manual").is_ok());
}

#[test]
fn a_rename_uploads_the_new_path_and_deletes_the_old_one() {
    let emu = fast();
    let docs = docs(&client(&emu));
    let dir = folder(&HANDBOOK);
    let options = SyncOptions::new().delete_missing(true);
    docs.sync(dir.path(), &options).unwrap();
    std::fs::rename(
        dir.path().join("guides/faq.txt"),
        dir.path().join("guides/questions.txt"),
    )
    .unwrap();
    emu.clear_requests();

    let plan = docs.plan_sync(dir.path(), &options).unwrap();
    let mut changes: Vec<_> = plan
        .changes()
        .map(|e| (e.action, e.path.as_str()))
        .collect();
    changes.sort();
    assert_eq!(
        changes,
        [
            (SyncAction::Create, "guides/questions.txt"),
            (SyncAction::Delete, "guides/faq.txt")
        ]
    );
    let report = docs.execute_sync(&plan, &options).unwrap();
    assert_eq!((report.created, report.deleted), (1, 1));
    // The new copy was uploaded before the old one was deleted.
    let order: Vec<String> = emu
        .requests()
        .into_iter()
        .filter(|r| r.method == "PUT" || r.method == "DELETE")
        .map(|r| r.method)
        .collect();
    assert_eq!(order, ["PUT", "DELETE"]);
    let files = listing(&docs);
    assert_eq!(files.len(), 4);
    assert_eq!(
        files[&file_id_for("guides/questions.txt")].1,
        "guides/questions.txt"
    );
}

#[test]
fn the_clients_observer_sees_the_workers_requests() {
    use pinecone_assistant::observe::{Event, Observer};

    let emu = fast();
    let client = client(&emu);
    let docs = docs(&client);
    let dir = folder(&HANDBOOK);
    // Set on the client after it was built, as a program adding telemetry would.
    let upserts = Arc::new(AtomicUsize::new(0));
    let counted = upserts.clone();
    let observer: Arc<dyn Observer> = Arc::new(move |event: &Event<'_>| {
        if let Event::Response {
            method: "PUT",
            status: 202,
            ..
        } = event
        {
            counted.fetch_add(1, Ordering::SeqCst);
        }
    });
    client.set_observer(Some(observer));
    let report = docs
        .sync(dir.path(), &SyncOptions::new().workers(4))
        .unwrap();
    assert_eq!(report.created, 4, "{report}");
    assert_eq!(upserts.load(Ordering::SeqCst), 4);
}

/// `n` small Markdown files.
fn many(n: usize) -> TempDir {
    let dir = TempDir::new("sync-many");
    for i in 0..n {
        write(
            dir.path(),
            &format!("part-{i:03}.md"),
            &format!("# Part {i}\n\nText {i}.\n"),
        );
    }
    dir
}

#[test]
fn a_cancelled_sync_reruns_to_the_same_state_without_resending_finished_files() {
    let emu = paced(40, 3);
    let dir = many(40);
    let handle = CancelHandle::new();
    let docs = docs(&client(&emu).with_cancel_handle(handle.clone()));

    let done = Arc::new(Mutex::new(Vec::new()));
    let seen = done.clone();
    let stopper = handle.clone();
    let options = SyncOptions::new().workers(4).on_progress(move |e| {
        if let SyncEvent::Done { entry } = e {
            let mut done = seen.lock().unwrap();
            done.push(entry.file_id.clone());
            if done.len() == 5 {
                stopper.cancel();
            }
        }
    });
    let report = docs.sync(dir.path(), &options).unwrap();
    assert_eq!(report.stopped, Some(SyncStop::Cancelled), "{report}");
    assert!(report.created >= 5 && report.created < 40, "{report}");
    assert_eq!(report.created + report.unfinished, 40, "{report}");
    assert_eq!(report.failed, 0, "{report}");
    let finished: HashSet<String> = done.lock().unwrap().iter().cloned().collect();
    assert_eq!(finished.len(), report.created);

    // The rerun, on a client whose handle is not cancelled.
    emu.clear_requests();
    let docs = docs
        .client()
        .with_cancel_handle(CancelHandle::new())
        .assistant("docs");
    let report = docs
        .sync(dir.path(), &SyncOptions::new().workers(4))
        .unwrap();
    assert!(report.is_complete(), "{report}");
    let resent: HashSet<String> = upserted(&emu).into_iter().collect();
    assert!(
        resent.is_disjoint(&finished),
        "finished files were sent again"
    );
    assert!(resent.len() <= 40 - finished.len());
    assert_converged(&docs, dir.path(), 40);
}

#[test]
fn a_sync_killed_mid_run_reruns_to_the_same_state_without_resending_finished_files() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    // Long enough that the files in flight are still processing when the
    // rerun plans.
    let emu = paced(600, 4);
    let docs = docs(&client(&emu));
    let dir = many(24);

    // The example program syncs in a process of its own, killed once it has
    // printed four finished files: nothing of it runs after the kill.
    let mut child = Command::new(support::example_binary("sync"))
        .args(["docs", &dir.path().display().to_string(), "--workers", "4"])
        .env("PINECONE_API_KEY", emu.api_key())
        .env("PINECONE_CONTROLLER_HOST", emu.url())
        .env_remove("PINECONE_ADDITIONAL_HEADERS")
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the sync example");
    let mut finished = HashSet::new();
    // Files the server accepted and is still processing: the kill waits for one,
    // or it could land between one batch finishing and the next being sent.
    let mut in_flight = HashSet::new();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    while finished.len() < 4 || in_flight.is_empty() {
        let line = lines
            .next()
            .expect("the example ended before finishing four files")
            .unwrap();
        let path_after = |kind: &str| {
            line.strip_prefix(kind)
                .and_then(|l| l.trim().strip_prefix("create "))
                .map(|l| l.split(" (").next().unwrap_or(l).trim().to_owned())
        };
        if let Some(path) = path_after("done") {
            in_flight.remove(&path);
            finished.insert(file_id_for(&path));
        } else if let Some(path) = path_after("processing") {
            in_flight.insert(path);
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();

    emu.clear_requests();
    let plan = docs.plan_sync(dir.path(), &SyncOptions::new()).unwrap();
    let reason = |id: &String| {
        plan.entries
            .iter()
            .find(|e| &e.file_id == id)
            .unwrap()
            .reason
    };
    assert!(
        finished
            .iter()
            .all(|id| reason(id) == SyncReason::Unchanged),
        "{plan}"
    );
    // What the killed run left processing is uploaded again while its outcome
    // is unknown to the plan; one that finished meanwhile (a loaded machine can
    // take longer than the processing delay to plan) is already done.
    let in_flight: Vec<String> = in_flight.iter().map(|p| file_id_for(p)).collect();
    assert!(
        in_flight
            .iter()
            .all(|id| matches!(reason(id), SyncReason::Unfinished | SyncReason::Unchanged)),
        "{plan}"
    );
    let report = docs
        .execute_sync(&plan, &SyncOptions::new().workers(8))
        .unwrap();
    assert!(report.is_complete(), "{report}: {:?}", report.failures);
    let resent: HashSet<String> = upserted(&emu).into_iter().collect();
    assert!(
        resent.is_disjoint(&finished),
        "finished files were sent again"
    );
    let planned: HashSet<String> = plan.changes().map(|e| e.file_id.clone()).collect();
    assert_eq!(resent, planned);
    assert_converged(&docs, dir.path(), 24);
}

#[test]
fn throttling_pauses_every_worker_and_the_sync_still_converges() {
    let emu = paced(30, 5);
    // Which thread slept how long, through the injected sleeper.
    let slept = Arc::new(Mutex::new(Vec::new()));
    let log = slept.clone();
    let client = Client::new(
        ClientConfig::builder(emu.api_key())
            .host(emu.url())
            .sleeper(move |d| log.lock().unwrap().push((std::thread::current().id(), d)))
            .create_poll_interval(ms(1))
            .operation_poll_interval(ms(1))
            .build(),
    )
    .unwrap();
    let docs = docs(&client);
    let dir = many(16);
    slept.lock().unwrap().clear();

    emu.inject(Fault::status(429).retry_after("7").method("PUT"));
    emu.inject(Fault::status(503).times(2).path_contains("/operations/"));
    emu.inject(Fault::reset().times(2).method("PUT"));
    let report = docs
        .sync(dir.path(), &SyncOptions::new().workers(4))
        .unwrap();
    assert!(report.is_complete(), "{report}: {:?}", report.failures);
    assert_eq!(report.created, 16);
    assert_eq!(listing(&docs).len(), 16);

    // The 429 asked for 7 s: every worker that sent a request afterwards waited
    // out the same pause, not only the one that received it.
    let slept = slept.lock().unwrap();
    let paused: HashSet<_> = slept
        .iter()
        .filter(|(_, d)| *d > Duration::from_secs(5) && *d <= Duration::from_secs(7))
        .map(|(thread, _)| *thread)
        .collect();
    assert!(
        paused.len() >= 2,
        "only {} worker(s) paused: {slept:?}",
        paused.len()
    );
    // Each worker waits a pause out once.
    let long = slept
        .iter()
        .filter(|(_, d)| *d > Duration::from_secs(5))
        .count();
    assert_eq!(long, paused.len(), "{slept:?}");
}

#[test]
fn a_retry_after_beyond_the_policy_fails_that_file_and_fail_fast_stops_the_rest() {
    let emu = fast();
    let client = support::emu::client_with(
        &emu,
        emu.api_key(),
        pinecone_assistant::RetryPolicy::new().max_delay(Duration::from_secs(10)),
    );
    let docs = docs(&client);
    let dir = many(12);
    emu.inject(Fault::status(429).retry_after("60").method("PUT"));
    let report = docs
        .sync(dir.path(), &SyncOptions::new().workers(1).fail_fast(true))
        .unwrap();
    assert_eq!(report.stopped, Some(SyncStop::FailFast), "{report}");
    assert_eq!(report.failed, 1);
    assert_eq!(report.unfinished, 11);
    let failure = &report.failures[0];
    assert_eq!(failure.error.status(), Some(429));
    assert_eq!(
        failure.error.api().unwrap().retry_after,
        Some(Duration::from_secs(60))
    );

    // Without fail-fast the others go on.
    emu.inject(Fault::status(400).method("PUT"));
    let report = docs
        .sync(dir.path(), &SyncOptions::new().workers(2))
        .unwrap();
    assert_eq!((report.failed, report.stopped), (1, None), "{report}");
    assert_eq!(report.created + report.updated, 11);
    assert!(matches!(report.failures[0].error, Error::Api(_)));
}

#[test]
fn two_syncs_of_one_folder_at_once_converge_without_duplicates() {
    let emu = paced(30, 9);
    let docs = docs(&client(&emu));
    let dir = many(30);
    let failures = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..2 {
            let docs = client(&emu).assistant("docs");
            let (dir, failures) = (&dir, &failures);
            s.spawn(move || {
                let report = docs
                    .sync(dir.path(), &SyncOptions::new().workers(4))
                    .unwrap();
                assert_eq!(
                    report.created + report.updated + report.skipped,
                    30,
                    "{report}"
                );
                failures.fetch_add(report.failed, Ordering::SeqCst);
            });
        }
    });
    assert_eq!(failures.load(Ordering::SeqCst), 0);
    let all = docs.list_files().collect::<Result<Vec<_>, _>>().unwrap();
    assert_eq!(all.len(), 30, "no duplicates");
    assert_converged(&docs, dir.path(), 30);
}

#[test]
fn hostile_file_names_sync_and_resync_cleanly() {
    let emu = fast();
    let docs = docs(&client(&emu));
    let long_dir = "a very long directory name/".repeat(8);
    let names = [
        "with space.md".to_owned(),
        "ünïcödé/日本語のメモ.md".to_owned(),
        "hash#tag.md".to_owned(),
        "question?.md".to_owned(),
        "percent%20encoded%.md".to_owned(),
        "quote\"and'apostrophe.txt".to_owned(),
        "emoji 📚.md".to_owned(),
        format!("{long_dir}deep file.md"),
    ];
    let dir = TempDir::new("sync-names");
    for (i, name) in names.iter().enumerate() {
        write(dir.path(), name, &format!("# File {i}\n\nBody {i}.\n"));
    }
    let report = docs.sync(dir.path(), &SyncOptions::new()).unwrap();
    assert!(report.is_complete(), "{report}: {:?}", report.failures);
    assert_eq!(report.created, names.len());
    let files = listing(&docs);
    for name in &names {
        let id = file_id_for(name);
        assert!(
            id.len() <= 128
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(&files[&id].1, name);
    }
    let plan = docs.plan_sync(dir.path(), &SyncOptions::new()).unwrap();
    assert!(plan.is_noop(), "{plan}");
}

#[test]
fn patterns_gitignore_hidden_files_and_symlinks_select_deliberately() {
    let emu = fast();
    let docs = docs(&client(&emu));
    let dir = folder(&[
        ("keep.md", "keep"),
        ("notes.txt", "notes"),
        ("drafts/wip.md", "wip"),
        ("build/out.md", "generated"),
        ("secret.md", "ignored by git"),
        (".hidden.md", "hidden"),
        (".gitignore", "build/\nsecret.md\n"),
        ("code/main.rs", "fn main() {}"),
    ]);
    let paths = |options: &SyncOptions| -> Vec<(String, SyncReason)> {
        docs.plan_sync(dir.path(), options)
            .unwrap()
            .entries
            .into_iter()
            .map(|e| (e.path, e.reason))
            .collect()
    };
    let new = |p: &str| (p.to_owned(), SyncReason::New);

    // Defaults: the readable types, hidden entries left out, .gitignore not read.
    assert_eq!(
        paths(&SyncOptions::new()),
        [
            new("build/out.md"),
            new("drafts/wip.md"),
            new("keep.md"),
            new("notes.txt"),
            new("secret.md")
        ]
    );
    assert_eq!(
        paths(&SyncOptions::new().gitignore(true).exclude(["drafts/"])),
        [new("keep.md"), new("notes.txt")]
    );
    assert_eq!(
        paths(
            &SyncOptions::new()
                .include(["*.md", "!keep.md", "code/"])
                .hidden(true)
        ),
        [
            new(".hidden.md"),
            new("build/out.md"),
            new("code/main.rs"),
            new("drafts/wip.md"),
            new("secret.md")
        ]
    );

    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(dir.path().join("keep.md"), dir.path().join("link.md")).unwrap();
        let plan = docs
            .plan_sync(dir.path(), &SyncOptions::new().include(["*.md"]))
            .unwrap();
        let link = plan.entries.iter().find(|e| e.path == "link.md").unwrap();
        assert_eq!(
            (link.action, link.reason),
            (SyncAction::Skip, SyncReason::Symlink)
        );
        let followed = docs
            .plan_sync(
                dir.path(),
                &SyncOptions::new().include(["*.md"]).follow_symlinks(true),
            )
            .unwrap();
        let link = followed
            .entries
            .iter()
            .find(|e| e.path == "link.md")
            .unwrap();
        assert_eq!(link.action, SyncAction::Create);
    }
}

#[test]
fn bad_options_and_plans_are_refused_before_any_request() {
    let emu = fast();
    let docs = docs(&client(&emu));
    emu.clear_requests();
    fn invalid<T>(r: Result<T, Error>) -> String {
        match r {
            Err(Error::InvalidArgument { name, .. }) => name,
            Err(other) => panic!("{other:?}"),
            Ok(_) => panic!("accepted"),
        }
    }
    let dir = folder(&HANDBOOK);
    assert_eq!(
        invalid(docs.plan_sync(dir.path().join("nope"), &SyncOptions::new())),
        "root"
    );
    assert_eq!(
        invalid(docs.plan_sync(dir.path().join("intro.md"), &SyncOptions::new())),
        "root"
    );
    assert_eq!(
        invalid(docs.plan_sync(dir.path(), &SyncOptions::new().workers(0))),
        "workers"
    );
    assert_eq!(
        invalid(docs.plan_sync(dir.path(), &SyncOptions::new().exclude(["[z-a]"]))),
        "exclude"
    );
    assert_eq!(emu.requests().len(), 0);
    assert_eq!(
        invalid(docs.plan_sync(
            dir.path(),
            &SyncOptions::new().metadata(|_| json!({SYNC_METADATA_KEY: "mine"}))
        )),
        "metadata"
    );
    let mut plan = docs.plan_sync(dir.path(), &SyncOptions::new()).unwrap();
    plan.entries[0].file_id = "not/valid".into();
    emu.clear_requests();
    assert_eq!(
        invalid(docs.execute_sync(&plan, &SyncOptions::new())),
        "plan"
    );
    assert_eq!(emu.requests().len(), 0);
}

#[cfg(unix)]
#[test]
fn an_unreadable_file_is_skipped_and_its_server_copy_kept() {
    use std::os::unix::fs::PermissionsExt;

    let (_emu, docs, dir) = synced_handbook();
    let locked = dir.path().join("intro.md");
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read(&locked).is_ok() {
        // Running as root: permissions do not stop reading.
        return;
    }
    let plan = docs
        .plan_sync(dir.path(), &SyncOptions::new().delete_missing(true))
        .unwrap();
    let entry = plan.entries.iter().find(|e| e.path == "intro.md").unwrap();
    assert_eq!(
        (entry.action, entry.reason),
        (SyncAction::Skip, SyncReason::Unreadable)
    );
    assert!(
        entry
            .detail
            .as_deref()
            .unwrap()
            .to_lowercase()
            .contains("permission")
    );
    assert!(plan.is_noop(), "{plan}");
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o644)).unwrap();
}
