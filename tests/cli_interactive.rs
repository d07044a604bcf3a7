//! `pinecone-assistant chat --interactive` under a real pseudo-terminal (a tmux
//! pane): a question and its streamed answer, Ctrl-C during an answer (the
//! answer stops, the program does not), Ctrl-C at the prompt, a follow-up
//! question, and Ctrl-D to leave. Needs `tmux` (`.ci/run` installs it).

mod support;

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use support::program::{Program, TempDir};

const BIN: &str = env!("CARGO_BIN_EXE_pinecone-assistant");

/// A detached tmux server of its own (its own socket), killed on drop.
struct Pane {
    socket: String,
}

impl Pane {
    fn tmux(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("tmux is installed (apt-get install tmux)")
    }

    /// Runs `command` (a shell command line) in a new 100x50 pane.
    fn start(command: &str) -> Self {
        let pane = Self {
            socket: format!("pinecone-cli-{}", std::process::id()),
        };
        let out = pane.tmux(&[
            "new-session",
            "-d",
            "-s",
            "chat",
            "-x",
            "100",
            "-y",
            "50",
            command,
        ]);
        assert!(out.status.success(), "tmux: {out:?}");
        pane
    }

    fn send(&self, keys: &[&str]) {
        let out = self.tmux(&[&["send-keys", "-t", "chat"], keys].concat());
        assert!(out.status.success(), "send-keys {keys:?}: {out:?}");
    }

    fn screen(&self) -> String {
        let out = self.tmux(&["capture-pane", "-p", "-J", "-t", "chat", "-S", "-500"]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The screen once `ready` holds for it; fails after 30 s.
    fn wait_for(&self, what: &str, ready: impl Fn(&str) -> bool) -> String {
        let started = Instant::now();
        loop {
            let screen = self.screen();
            if ready(&screen) {
                return screen;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "no {what} on the screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}

impl Drop for Pane {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
    }
}

fn cli(url: &str, args: &[&str]) {
    let emulator = format!("--emulator={url}");
    let out = Command::new(BIN)
        .arg(&emulator)
        .args(args)
        .env_remove("PINECONE_EMULATOR_API_KEY")
        .output()
        .expect("run pinecone-assistant");
    assert!(out.status.success(), "{args:?}: {out:?}");
}

const MANUAL: &str = "The Orbit T2 thermostat has a two year warranty that covers defects in \
materials and workmanship, and the warranty is extended by one more year when the thermostat \
is registered online within thirty days of installation, which many owners forget to do. \
To reset the Orbit T2, hold the dial down for ten seconds until the display flashes.\n";

#[test]
fn a_conversation_in_a_terminal() {
    // Events 150 ms apart, so that Ctrl-C lands in the middle of an answer.
    let emu = Program::start(&[
        "--processing-delay",
        "0",
        "--ready-delay-ms",
        "0",
        "--stream-delay-ms",
        "150",
    ]);
    let dir = TempDir::new("cli-interactive");
    let manual = dir.path().join("orbit-manual.md");
    std::fs::write(&manual, MANUAL).unwrap();
    cli(&emu.url, &["assistants", "create", "docs"]);
    cli(
        &emu.url,
        &[
            "files",
            "upload",
            "-a",
            "docs",
            &manual.display().to_string(),
        ],
    );

    let pane = Pane::start(&format!(
        "'{BIN}' --emulator={} chat -a docs --interactive; echo \"[exit status $?]\"; sleep 60",
        emu.url
    ));
    pane.wait_for("prompt", |s| s.contains("Ctrl-D exits.\n> "));

    // A question; the answer appears piece by piece, then its citations.
    pane.send(&["How long is the warranty?", "Enter"]);
    let first = pane.wait_for("first answer", |s| {
        s.contains("Citations:") && s.trim_end().ends_with('>')
    });
    assert!(first.contains("two year warranty"), "{first}");
    assert!(first.contains("[1] orbit-manual.md (at "), "{first}");

    // Ctrl-C at the prompt only reminds how to leave.
    pane.send(&["C-c"]);
    pane.wait_for("reminder", |s| s.contains("(Ctrl-D exits)"));

    // Ctrl-C while an answer is being written stops it, and the program goes on.
    pane.send(&["How do I reset the thermostat?", "Enter"]);
    let question = "> How do I reset the thermostat?\n";
    pane.wait_for("the start of the second answer", |s| {
        s.split(question)
            .nth(1)
            .is_some_and(|after| after.trim().len() > 4)
    });
    pane.send(&["C-c"]);
    let stopped = pane.wait_for("stopped answer", |s| s.contains("[answer stopped]"));
    let second = stopped.split(question).nth(1).unwrap();
    assert!(
        !second.contains("Citations:"),
        "the answer went on:\n{stopped}"
    );
    assert!(
        !second.contains("hold the dial down for ten seconds until the display flashes"),
        "{stopped}"
    );

    // Another question gets a whole answer.
    pane.send(&["How do I reset the Orbit T2?", "Enter"]);
    let third_question = "> How do I reset the Orbit T2?\n";
    let screen = pane.wait_for("third answer", |s| {
        s.split(third_question)
            .nth(1)
            .is_some_and(|after| after.contains("Citations:"))
    });
    let third = screen.split(third_question).nth(1).unwrap();
    assert!(
        third.contains("hold the dial down for ten seconds"),
        "{screen}"
    );

    // Ctrl-D at the prompt leaves with status 0.
    pane.wait_for("prompt", |s| s.trim_end().ends_with('>'));
    pane.send(&["C-d"]);
    let screen = pane.wait_for("exit", |s| s.contains("[exit status"));
    assert!(screen.contains("[exit status 0]"), "{screen}");
    println!("{}", screen.trim_end());
}
