//! The emulator program as a user runs it: its help and exit codes, and the lines
//! it prints, which a shell evaluates into a client's environment. Also what the
//! quick start prints when it fails.

mod support;

use std::process::{Command, Output};

use pinecone_assistant::emulator::Emulator;
use support::program::{Program, TempDir};

fn run(args: &[&str]) -> Output {
    Command::new(support::example_binary("emulator"))
        .args(args)
        .output()
        .expect("run the emulator program")
}

#[test]
fn help_exits_0_and_explains_every_option() {
    for flag in ["--help", "-h"] {
        let out = run(&[flag]);
        assert_eq!(out.status.code(), Some(0), "{flag}");
        let help = String::from_utf8(out.stdout).unwrap();
        for option in [
            "--port N",
            "--api-key KEY",
            "--data-dir PATH",
            "--processing-delay SPEC",
            "uniform:MIN:MAX",
            "size:BASE:PER_MIB",
            "--processing-delay-ms N",
            "--processing-steps N",
            "--seed N",
            "--ready-delay-ms N",
            "--delete-delay-ms N",
            "--page-size N",
            "--workers N",
            "--stream-delay-ms N",
            "--heartbeat-ms N",
            "--max-body-bytes N",
            "--body-timeout-ms N",
            "PINECONE_CONTROLLER_HOST",
            "eval",
        ] {
            assert!(
                help.contains(option),
                "{flag} does not explain {option}:\n{help}"
            );
        }
    }
}

#[test]
fn bad_arguments_exit_2_with_the_reason_and_the_usage() {
    for (args, reason) in [
        (&["--bogus", "1"][..], "unknown option \"--bogus\""),
        (&["--port"][..], "--port needs a value"),
        (
            &["--processing-delay", "uniform:5:1"][..],
            "minimum is larger",
        ),
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains(reason), "{args:?}: {err}");
        assert!(err.contains("usage: emulator"), "{args:?}: {err}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn the_printed_lines_put_a_client_on_the_emulator_through_eval() {
    let program = Program::start(&[
        "--processing-delay-ms",
        "0",
        "--ready-delay-ms",
        "0",
        "--delete-delay-ms",
        "0",
    ]);
    // The old names come first, as earlier versions printed them.
    assert!(
        program
            .printed
            .starts_with(&format!("PINECONE_EMULATOR_URL={}\n", program.url)),
        "{}",
        program.printed
    );
    let dir = TempDir::new("eval");
    let env_file = dir.path().join("emulator.env");
    std::fs::write(&env_file, &program.printed).unwrap();
    // A shell evaluates the lines, then runs a client that reads only its
    // environment: the quick start with PINECONE_API_KEY set talks to the host
    // PINECONE_CONTROLLER_HOST names, not to an emulator of its own.
    let out = Command::new("sh")
        .arg("-c")
        .arg(r#"eval "$(cat "$1")" && exec "$2""#)
        .arg("sh")
        .arg(&env_file)
        .arg(support::example_binary("quickstart"))
        .env_remove("PINECONE_API_KEY")
        .env_remove("PINECONE_CONTROLLER_HOST")
        .output()
        .expect("run a shell");
    let stdout = support::stdout_of_success(out);
    assert!(!stdout.contains("using the emulator at"), "{stdout}");
    support::assert_prints(
        &stdout,
        &[
            "assistant orbit-quickstart is Ready",
            "uploaded orbit-installation.pdf (Completed)",
            "orbit-installation.pdf, pages [2]",
            "deleted orbit-quickstart",
        ],
    );
    // The variables are exported: a child process sees them.
    let out = Command::new("sh")
        .arg("-c")
        .arg(r#"eval "$(cat "$1")" && exec env"#)
        .arg("sh")
        .arg(&env_file)
        .output()
        .unwrap();
    let env = String::from_utf8(out.stdout).unwrap();
    for line in [
        format!("PINECONE_CONTROLLER_HOST={}", program.url),
        format!("PINECONE_API_KEY={}", program.key),
        format!("PINECONE_PLUGIN_ASSISTANT_DATA_HOST={}", program.url),
    ] {
        assert!(env.lines().any(|l| l == line), "{line} not in:\n{env}");
    }
}

#[test]
fn an_api_key_the_shell_would_split_is_quoted() {
    let program = Program::start(&["--api-key", "it's a key"]);
    assert!(
        program
            .printed
            .contains(r"PINECONE_API_KEY='it'\''s a key'"),
        "{}",
        program.printed
    );
    let out = Command::new("sh")
        .arg("-c")
        .arg(r#"eval "$1" && printf '%s' "$PINECONE_API_KEY""#)
        .arg("sh")
        .arg(&program.printed)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "it's a key");
}

#[test]
fn the_quick_start_reports_a_failure_with_its_message_and_a_hint() {
    let emu = Emulator::start().unwrap();
    let out = Command::new(support::example_binary("quickstart"))
        .env("PINECONE_API_KEY", "not-the-key")
        .env("PINECONE_CONTROLLER_HOST", emu.url())
        .output()
        .expect("run the quick start");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(lines[0].starts_with("error: "), "{err}");
    assert!(
        lines[0].contains("401") || lines[0].contains("Invalid API Key"),
        "{err}"
    );
    assert!(
        lines[1].starts_with("hint: the service refused the API key: check PINECONE_API_KEY"),
        "{err}"
    );
    // The Display text, not a Debug dump of the error's fields.
    assert!(!err.contains("Api(") && !err.contains("status: "), "{err}");
    assert!(!err.contains("not-the-key"), "the key leaked: {err}");
}
