//! The `pinecone-assistant` program (feature `cli`) run as a user runs it:
//! against the emulator program, configured from the environment as the library
//! is, and against its own `--emulator`. Every command in its human and `--json`
//! form, the exit code of each class of failure, progress without a terminal, and
//! the API key absent from everything printed.

mod support;

use std::io::BufRead;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;
use support::program::{Program, TempDir, document};

const KEY: &str = "pcsk-cli-secret-5d1c0e";

/// One run of the program.
#[derive(Debug)]
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn program() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pinecone-assistant"));
    for name in [
        "PINECONE_API_KEY",
        "PINECONE_CONTROLLER_HOST",
        "PINECONE_ADDITIONAL_HEADERS",
        "PINECONE_ASSISTANT",
        "PINECONE_EMULATOR_API_KEY",
    ] {
        command.env_remove(name);
    }
    command.stdin(Stdio::null());
    command
}

/// Runs the program with a fixed environment and keeps everything it printed,
/// so that a test can check all of it for the key at the end.
struct Session {
    env: Vec<(&'static str, String)>,
    printed: Vec<String>,
}

impl Session {
    fn new(env: &[(&'static str, &str)]) -> Self {
        Self {
            env: env.iter().map(|(k, v)| (*k, (*v).to_owned())).collect(),
            printed: Vec::new(),
        }
    }

    /// A session whose commands go to the emulator program at `url`, with `key`.
    fn at(url: &str, key: &str) -> Self {
        Self::new(&[("PINECONE_CONTROLLER_HOST", url), ("PINECONE_API_KEY", key)])
    }

    fn run(&mut self, args: &[&str]) -> Run {
        let out = program()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .args(args)
            .output()
            .expect("run pinecone-assistant");
        let run = Run {
            code: out.status.code(),
            stdout: String::from_utf8(out.stdout).expect("UTF-8 stdout"),
            stderr: String::from_utf8(out.stderr).expect("UTF-8 stderr"),
        };
        self.printed
            .push(format!("{args:?}\n{}\n{}", run.stdout, run.stderr));
        run
    }

    /// Runs `args`, which must succeed, and returns stdout.
    fn ok(&mut self, args: &[&str]) -> String {
        let run = self.run(args);
        assert_eq!(run.code, Some(0), "{args:?}: {run:?}");
        run.stdout
    }

    /// Runs `args` with `--json`; stdout must be one JSON document.
    fn json(&mut self, args: &[&str]) -> Value {
        let stdout = self.ok(&[&["--json"], args].concat());
        assert_eq!(stdout.lines().count(), 1, "{args:?}: {stdout}");
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{args:?}: {e}: {stdout}"))
    }

    /// Runs `args` with `--json`; stdout must be JSON lines.
    fn json_lines(&mut self, args: &[&str]) -> Vec<Value> {
        let stdout = self.ok(&[&["--json"], args].concat());
        stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{args:?}: {e}: {l}")))
            .collect()
    }

    /// Runs `args`, which must fail with exit code `code`; returns stderr.
    fn fails(&mut self, code: i32, args: &[&str]) -> String {
        let run = self.run(args);
        assert_eq!(run.code, Some(code), "{args:?}: {run:?}");
        run.stderr
    }

    /// Nothing printed so far contains the key, and no progress bar was drawn.
    fn check_printed(&self) {
        assert!(!self.printed.is_empty());
        for printed in &self.printed {
            assert!(!printed.contains(KEY), "the key was printed: {printed}");
            assert!(
                !printed.contains('\r') && !printed.contains("\x1b["),
                "terminal control codes without a terminal: {printed:?}"
            );
        }
    }
}

/// The value of the `key: value` line for `key` in a description.
fn field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}:")))
        .map(str::trim)
}

/// `first` followed by `args`.
fn prefixed<'a>(first: &'a str, args: &[&'a str]) -> Vec<&'a str> {
    [&[first], args].concat()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write a test file");
    path.display().to_string()
}

/// The emulator program with [`KEY`], assistants ready at once, and files
/// processed after `processing_delay_ms`; `more` adds flags.
fn emulator(processing_delay_ms: &str, more: &[&str]) -> Program {
    let mut args = vec![
        "--api-key",
        KEY,
        "--processing-delay",
        processing_delay_ms,
        "--ready-delay-ms",
        "0",
    ];
    args.extend_from_slice(more);
    Program::start(&args)
}

const WARRANTY: &str = "# Warranty\n\nThe Orbit T2 has a two year warranty. \
    Returns are accepted within 30 days of delivery.\n";
const CARE: &str = "Clean the Orbit T2 with a dry cloth. Never use solvents on the display.\n";

#[test]
fn every_command_against_the_emulator_program_in_both_forms() {
    let emu = emulator("0", &["--delete-delay-ms", "0"]);
    let dir = TempDir::new("cli-commands");
    let mut cli = Session::at(&emu.url, KEY);

    // Assistants.
    let run = cli.run(&[
        "assistants",
        "create",
        "docs",
        "--instructions",
        "Answer briefly.",
    ]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stdout
            .contains("name:         docs\nstatus:       Ready\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr
            .contains("waiting for assistant docs to be ready"),
        "{}",
        run.stderr
    );
    let notes = cli.json(&[
        "assistants",
        "create",
        "notes",
        "--metadata",
        r#"{"team":"support"}"#,
        "--region",
        "eu",
    ]);
    assert_eq!(
        (notes["name"].as_str(), notes["status"].as_str()),
        (Some("notes"), Some("Ready"))
    );
    assert_eq!(notes["metadata"]["team"], "support");
    let listed = cli.ok(&["assistants", "list"]);
    assert!(
        listed.starts_with("NAME   STATUS  REGION  CREATED\n"),
        "{listed}"
    );
    assert!(
        listed.contains("\ndocs   Ready   us ") && listed.contains("\nnotes  Ready   eu "),
        "{listed}"
    );
    let names: Vec<Value> = cli
        .json_lines(&["assistants", "list"])
        .into_iter()
        .map(|a| a["name"].clone())
        .collect();
    assert_eq!(names, ["docs", "notes"]);
    assert_eq!(
        cli.json_lines(&["assistants", "list", "--limit", "1"])
            .len(),
        1
    );
    let described = cli.ok(&["assistants", "describe", "docs"]);
    assert!(
        described.contains("instructions: Answer briefly.\n") && described.contains("host:"),
        "{described}"
    );
    assert_eq!(
        cli.json(&["assistants", "describe", "notes"])["region"],
        "eu"
    );
    let updated = cli.ok(&[
        "assistants",
        "update",
        "docs",
        "--instructions",
        "Cite the files.",
    ]);
    assert!(
        updated.contains("instructions: Cite the files.\n"),
        "{updated}"
    );
    let updated = cli.json(&[
        "assistants",
        "update",
        "notes",
        "--metadata",
        r#"{"team":"sales"}"#,
    ]);
    assert_eq!(updated["metadata"]["team"], "sales");

    // Files: several paths, two side by side, with progress as plain lines on stderr.
    let warranty = write(dir.path(), "warranty.md", WARRANTY);
    let care = write(dir.path(), "care.txt", CARE);
    let run = cli.run(&[
        "files",
        "upload",
        "-a",
        "docs",
        &warranty,
        &care,
        "--metadata",
        r#"{"kind":"manual"}"#,
        "--jobs",
        "2",
    ]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let table: Vec<&str> = run.stdout.lines().collect();
    assert!(
        table[0].starts_with("FILE ") && table.len() == 3,
        "{}",
        run.stdout
    );
    assert!(
        table[1].contains(" Available ") && table[1].ends_with("warranty.md"),
        "{}",
        run.stdout
    );
    assert!(table[2].ends_with("care.txt"), "{}", run.stdout);
    let size = WARRANTY.len();
    for line in [
        format!("uploading warranty.md ({size} bytes)\n"),
        format!("warranty.md: sent 100% ({size} bytes); processing\n"),
        "uploading care.txt (".to_owned(),
    ] {
        assert!(run.stderr.contains(&line), "no {line:?} in {}", run.stderr);
    }
    let warranty_id = table[1].split_whitespace().next().unwrap().to_owned();
    let note = write(dir.path(), "note.md", "Support hours are nine to five.\n");
    let uploaded = cli.json_lines(&["files", "upload", "-a", "notes", &note]);
    assert_eq!(uploaded.len(), 1);
    assert_eq!(uploaded[0]["operation"]["status"], "Completed");
    assert_eq!(uploaded[0]["file"]["name"], "note.md");
    let files = cli.ok(&["files", "list", "-a", "docs"]);
    assert!(
        files.starts_with("ID ") && files.contains("warranty.md") && files.contains("care.txt"),
        "{files}"
    );
    assert_eq!(
        cli.json_lines(&[
            "files",
            "list",
            "-a",
            "docs",
            "--filter",
            r#"{"kind":"manual"}"#
        ])
        .len(),
        2
    );
    assert!(
        cli.json_lines(&[
            "files",
            "list",
            "-a",
            "docs",
            "--filter",
            r#"{"kind":"other"}"#
        ])
        .is_empty()
    );
    assert_eq!(
        cli.ok(&[
            "files",
            "list",
            "-a",
            "docs",
            "--filter",
            r#"{"kind":"other"}"#
        ]),
        "no files\n"
    );
    let file = cli.ok(&["files", "describe", "-a", "docs", &warranty_id]);
    assert!(
        field(&file, "name") == Some("warranty.md")
            && field(&file, "status") == Some("Available")
            && field(&file, "metadata") == Some(r#"{"kind":"manual"}"#),
        "{file}"
    );
    let file = cli.json(&["files", "describe", "-a", "docs", &warranty_id, "--url"]);
    assert!(
        file["signed_url"]
            .as_str()
            .is_some_and(|u| u.starts_with("http")),
        "{file}"
    );

    // Operations.
    let operations = cli.ok(&["operations", "list", "-a", "docs"]);
    assert!(
        operations.starts_with("ID ") && operations.matches("upload_file").count() == 2,
        "{operations}"
    );
    let operations = cli.json_lines(&["operations", "list", "-a", "docs", "--status", "Completed"]);
    assert_eq!(operations.len(), 2);
    let op = operations[0]["id"].as_str().unwrap().to_owned();
    let described = cli.ok(&["operations", "describe", "-a", "docs", &op]);
    assert!(
        field(&described, "id") == Some(op.as_str())
            && field(&described, "status") == Some("Completed")
            && field(&described, "progress") == Some("100%"),
        "{described}"
    );
    assert_eq!(
        cli.json(&["operations", "describe", "-a", "docs", &op])["percent_complete"],
        100
    );
    let run = cli.run(&["operations", "wait", "-a", "docs", &op]);
    assert!(
        run.code == Some(0) && run.stdout.contains("Completed"),
        "{run:?}"
    );
    assert!(
        run.stderr
            .contains(&format!("waiting for operation {op} to finish")),
        "{run:?}"
    );
    assert_eq!(
        cli.json(&["operations", "wait", "-a", "docs", &op, "--timeout", "5"])["status"],
        "Completed"
    );

    // Retrieval and answers.
    let context = cli.ok(&["context", "-a", "docs", "warranty returns", "--top-k", "1"]);
    assert!(
        context.starts_with("[1] score ") && context.contains("warranty.md\n    # Warranty"),
        "{context}"
    );
    let context = cli.json(&["context", "-a", "docs", "solvents", "--snippet-size", "64"]);
    assert_eq!(
        context["snippets"][0]["reference"]["file"]["name"], "care.txt",
        "{context}"
    );
    let answer = cli.ok(&["chat", "-a", "docs", "How long is the warranty?"]);
    assert!(answer.contains("two year warranty"), "{answer}");
    assert!(
        answer.contains("\nCitations:\n  [1] warranty.md (at "),
        "{answer}"
    );
    let events = cli.json_lines(&[
        "chat",
        "-a",
        "docs",
        "How long is the warranty?",
        "--filter",
        r#"{"kind":"manual"}"#,
    ]);
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds.first(), Some(&"message_start"));
    assert_eq!(kinds.last(), Some(&"message_end"));
    assert!(
        kinds.contains(&"content_chunk") && kinds.contains(&"citation"),
        "{kinds:?}"
    );

    // Evaluation goes to the emulator too, addressed by --emulator=URL, with the
    // key from a file.
    let key_file = write(dir.path(), "key", &format!("{KEY}\n"));
    let mut by_url = Session::new(&[]);
    let eval = [
        "eval",
        "--question",
        "How long is the warranty?",
        "--answer",
        "Two years.",
        "--ground-truth",
        "The warranty lasts two years. Returns within 30 days.",
    ];
    let emulator = format!("--emulator={}", emu.url);
    let scored =
        by_url.ok(&[&[emulator.as_str(), "--api-key-file", &key_file], &eval[..]].concat());
    assert!(
        scored.starts_with("correctness:  ") && scored.contains("\nalignment:    "),
        "{scored}"
    );
    let scored =
        by_url.json(&[&[emulator.as_str(), "--api-key-file", &key_file], &eval[..]].concat());
    assert!(
        scored["metrics"]["correctness"].as_f64().is_some(),
        "{scored}"
    );
    by_url.check_printed();

    // Deletions.
    let care_id = cli
        .json_lines(&["files", "list", "-a", "docs"])
        .into_iter()
        .find(|f| f["name"] == "care.txt")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        cli.ok(&["files", "delete", "-a", "docs", &warranty_id])
            .starts_with(&format!("deleted file {warranty_id}"))
    );
    assert_eq!(
        cli.json(&["files", "delete", "-a", "docs", &care_id])["status"],
        "deleted"
    );
    assert_eq!(cli.ok(&["files", "list", "-a", "docs"]), "no files\n");
    assert_eq!(
        cli.ok(&["assistants", "delete", "notes"]),
        "deleted assistant notes\n"
    );
    assert_eq!(
        cli.json(&["assistants", "delete", "docs", "--timeout", "10"])["status"],
        "deleted"
    );
    assert_eq!(cli.ok(&["assistants", "list"]), "no assistants\n");

    // The most verbose log shows the requests, never the key.
    let run = cli.run(&["-vvv", "assistants", "list"]);
    assert!(
        run.stderr.contains("[DEBUG pinecone_assistant"),
        "{}",
        run.stderr
    );
    cli.check_printed();
}

#[test]
fn exit_codes_tell_the_class_of_failure() {
    let fast = emulator("0", &[]);
    let slow = emulator("60000", &[]);
    let dir = TempDir::new("cli-exit-codes");
    let mut cli = Session::at(&fast.url, KEY);
    cli.ok(&["assistants", "create", "docs"]);

    // 2: usage, from the command line or refused by the library before sending.
    assert!(cli.fails(2, &["assistants", "--bogus"]).contains("--bogus"));
    assert!(
        cli.fails(2, &["assistants", "create", "x", "--metadata", "[1]"])
            .contains("JSON object")
    );
    assert!(
        cli.fails(2, &["assistants", "update", "docs"])
            .contains("sets nothing")
    );
    let mut keyless = Session::new(&[("PINECONE_CONTROLLER_HOST", &fast.url)]);
    assert!(
        keyless
            .fails(2, &["assistants", "list"])
            .contains("PINECONE_API_KEY")
    );
    let missing = dir.path().join("absent-key").display().to_string();
    assert!(
        keyless
            .fails(2, &["--api-key-file", &missing, "assistants", "list"])
            .contains("--api-key-file")
    );

    // 3: not found, also as a JSON error on stderr.
    assert!(
        cli.fails(3, &["assistants", "describe", "missing"])
            .contains("not found")
    );
    let error: Value =
        serde_json::from_str(&cli.fails(3, &["--json", "files", "list", "-a", "missing"])).unwrap();
    assert_eq!(
        (
            error["error"]["class"].as_str(),
            error["error"]["exit_code"].as_i64()
        ),
        (Some("not_found"), Some(3))
    );
    cli.fails(3, &["operations", "describe", "-a", "docs", "op-missing"]);

    // 4: refused by the service: a duplicate, and a wrong key.
    assert!(
        cli.fails(4, &["assistants", "create", "docs"])
            .contains("409")
    );
    let mut wrong_key = Session::at(&fast.url, "pcsk-wrong");
    assert!(wrong_key.fails(4, &["assistants", "list"]).contains("401"));

    // 5: nothing listens there.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    cli.fails(5, &["--host", &closed, "assistants", "list"]);

    // 6: the service could not process the file.
    let corrupt = document("corrupt.pdf").display().to_string();
    let healthy = write(dir.path(), "fine.md", CARE);
    let run = cli.run(&["files", "upload", "-a", "docs", &corrupt, &healthy]);
    assert_eq!(run.code, Some(6), "{run:?}");
    assert!(
        run.stderr.contains("corrupt.pdf: upload of file") && run.stdout.contains("fine.md"),
        "{run:?}"
    );

    // 7: a wait gave up; the operation goes on.
    let mut slow_cli = Session::at(&slow.url, KEY);
    slow_cli.ok(&["assistants", "create", "docs"]);
    assert!(
        slow_cli
            .fails(
                7,
                &[
                    "files",
                    "upload",
                    "-a",
                    "docs",
                    &healthy,
                    "--timeout",
                    "0.3"
                ]
            )
            .contains("timed out")
    );
    let accepted = slow_cli.json_lines(&["files", "upload", "-a", "docs", &healthy, "--no-wait"]);
    assert_eq!(accepted[0]["operation"]["status"], "Processing");
    let op = accepted[0]["operation"]["id"].as_str().unwrap().to_owned();
    slow_cli.fails(
        7,
        &["operations", "wait", "-a", "docs", &op, "--timeout", "0.2"],
    );

    // 130: Ctrl-C while waiting.
    let mut waiting = program()
        .env("PINECONE_CONTROLLER_HOST", &slow.url)
        .env("PINECONE_API_KEY", KEY)
        .args(["operations", "wait", "-a", "docs", &op])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start a wait");
    let mut stderr = std::io::BufReader::new(waiting.stderr.take().unwrap());
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    assert!(first.starts_with("waiting for operation"), "{first}");
    let killed = Command::new("kill")
        .args(["-INT", &waiting.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    assert_eq!(waiting.wait().unwrap().code(), Some(130), "{rest}");
    assert!(rest.contains("cancelled"), "{rest}");

    cli.check_printed();
    slow_cli.check_printed();
    keyless.check_printed();
}

#[test]
fn offline_in_process_and_the_program_s_other_commands() {
    let mut cli = Session::new(&[]);
    // In memory: every process starts empty.
    assert_eq!(
        cli.ok(&["--emulator", "assistants", "list"]),
        "no assistants\n"
    );
    assert_eq!(cli.ok(&["--emulator", "--json", "assistants", "list"]), "");
    let created = cli.json(&["--emulator", "assistants", "create", "docs"]);
    assert_eq!(created["status"], "Ready");

    // On a data directory: successive commands share one emulator's state.
    let dir = TempDir::new("cli-offline");
    let emulator = format!("--emulator={}", dir.path().join("state").display());
    cli.ok(&prefixed(&emulator, &["assistants", "create", "docs"]));
    let warranty = write(dir.path(), "warranty.md", WARRANTY);
    cli.ok(&prefixed(
        &emulator,
        &["files", "upload", "--assistant", "docs", &warranty],
    ));
    let answer = cli.ok(&prefixed(
        &emulator,
        &["chat", "-a", "docs", "How long is the warranty?"],
    ));
    assert!(
        answer.contains("two year warranty") && answer.contains("warranty.md"),
        "{answer}"
    );

    // Help, completions and the emulator command.
    let help = cli.ok(&["--help"]);
    for text in [
        "Exit codes:",
        "  3    not found",
        "  130  cancelled",
        "--emulator",
        "--api-key-file",
        "PINECONE_API_KEY",
    ] {
        assert!(help.contains(text), "the help lacks {text:?}: {help}");
    }
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let script = cli.ok(&["completions", shell]);
        assert!(
            script.contains("pinecone-assistant") && script.contains("operations"),
            "{shell}"
        );
    }
    cli.fails(2, &["completions", "tcsh"]);
    assert!(
        cli.ok(&["emulator", "--help"])
            .contains("--processing-delay SPEC")
    );
    assert!(
        cli.fails(2, &["emulator", "--bogus", "1"])
            .contains("unknown option")
    );
    let mut served = program()
        .args(["emulator", "--api-key", KEY])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the emulator command");
    let mut lines = std::io::BufReader::new(served.stdout.take().unwrap()).lines();
    let url = lines
        .by_ref()
        .map(Result::unwrap)
        .find_map(|l| {
            l.strip_prefix("PINECONE_CONTROLLER_HOST=")
                .map(str::to_owned)
        })
        .expect("the emulator's URL");
    let mut by_url = Session::new(&[("PINECONE_EMULATOR_API_KEY", KEY)]);
    by_url.ok(&[&format!("--emulator={url}"), "assistants", "create", "docs"]);
    assert!(
        by_url
            .ok(&[&format!("--emulator={url}"), "assistants", "list"])
            .contains("docs")
    );
    served.kill().unwrap();
    served.wait().unwrap();
    cli.check_printed();
    by_url.check_printed();
}

#[test]
fn the_readme_s_terminal_commands_work_offline() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let section = readme
        .split("\n## The terminal tool\n")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("README has a section on the terminal tool");
    let first = section
        .lines()
        .find_map(|l| l.strip_prefix("cargo run --features cli -- "))
        .expect("its first command runs the tool with cargo");
    assert!(first.starts_with("--emulator"), "{first}");

    // Run where the README's relative paths resolve, with a fresh state.
    let dir = TempDir::new("cli-readme");
    std::os::unix::fs::symlink(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples"),
        dir.path().join("examples"),
    )
    .unwrap();
    let out = program()
        .current_dir(dir.path())
        .args(first.split_whitespace())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && stdout.contains("Ready"), "{out:?}");

    // The installed commands that follow, through a shell as a user types them.
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_pinecone-assistant"))
        .parent()
        .unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut printed = String::new();
    for line in section
        .lines()
        .filter(|l| l.starts_with("pinecone-assistant "))
    {
        let out = Command::new("sh")
            .args(["-c", line])
            .current_dir(dir.path())
            .env("PATH", &path)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(out.status.success(), "{line}: {out:?}");
        printed.push_str(&String::from_utf8_lossy(&out.stdout));
    }
    assert!(printed.contains("orbit-installation.pdf"), "{printed}");
    assert!(printed.contains("two year limited warranty"), "{printed}");
    assert!(printed.contains("Ctrl-D exits"), "{printed}");
}

#[test]
fn sync_plans_then_makes_the_assistant_equal_the_folder() {
    let emu = Program::start(&["--processing-delay", "0", "--ready-delay-ms", "0"]);
    let dir = TempDir::new("cli-sync");
    let folder = dir.path().join("handbook");
    std::fs::create_dir_all(folder.join("care")).unwrap();
    write(&folder, "warranty.md", WARRANTY);
    write(&folder.join("care"), "cleaning.txt", CARE);
    let folder = folder.display().to_string();
    let emulator = format!("--emulator={}", emu.url);
    let mut cli = Session::new(&[]);
    cli.ok(&prefixed(&emulator, &["assistants", "create", "docs"]));

    // The dry run plans and changes nothing.
    let dry_run = ["sync", "-a", "docs", folder.as_str(), "--dry-run"];
    let plan = cli.ok(&prefixed(&emulator, &dry_run));
    assert!(
        plan.contains("create  care/cleaning.txt  (new file)\n"),
        "{plan}"
    );
    assert!(
        plan.ends_with("2 to create, 0 to update, 0 to delete, 0 unchanged, 0 other skipped\n"),
        "{plan}"
    );
    let plan = cli.json(&prefixed(&emulator, &dry_run));
    assert_eq!(
        support::texts_of(&plan["entries"], "action"),
        ["create", "create"]
    );
    let list = ["files", "list", "-a", "docs"];
    assert_eq!(cli.ok(&prefixed(&emulator, &list)), "no files\n");

    // The sync, with a plain line per finished file; then a change, a removal
    // and a second sync.
    let done = cli.run(&prefixed(&emulator, &["sync", "-a", "docs", &folder]));
    assert_eq!(done.code, Some(0), "{done:?}");
    assert!(
        done.stdout.starts_with("2 created, 0 updated, 0 deleted"),
        "{done:?}"
    );
    assert!(
        done.stderr.contains("done       create warranty.md\n"),
        "{done:?}"
    );
    std::fs::write(
        Path::new(&folder).join("warranty.md"),
        "The warranty lasts three years.\n",
    )
    .unwrap();
    std::fs::remove_file(Path::new(&folder).join("care/cleaning.txt")).unwrap();
    let report = cli.json(&prefixed(
        &emulator,
        &["sync", "-a", "docs", &folder, "--delete-missing"],
    ));
    assert_eq!(
        (
            report["updated"].as_u64(),
            report["deleted"].as_u64(),
            report["failed"].as_u64()
        ),
        (Some(1), Some(1), Some(0)),
        "{report}"
    );
    let files = cli.ok(&prefixed(&emulator, &list));
    assert!(
        files.contains("warranty.md") && !files.contains("cleaning.txt"),
        "{files}"
    );

    // A folder that is not there is a usage error.
    let missing = dir.path().join("absent").display().to_string();
    cli.fails(
        2,
        &prefixed(&emulator, &["sync", "-a", "docs", &missing, "--dry-run"]),
    );
    cli.check_printed();
}
