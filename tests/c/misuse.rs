//! `misuse.c` needs no mocks: every call it makes must be refused before
//! anything is sent.

use crate::support::{program, run, runners};

#[test]
fn misuse() {
    let exe = program("misuse");
    for runner in runners() {
        let stdout = run(&exe, &runner, &[], &[]);
        assert!(stdout.contains("misuse: ok"), "{stdout}");
    }
}
