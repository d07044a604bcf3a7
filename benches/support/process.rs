//! What the memory-measuring benchmarks (and the fault soak test) share: this
//! process's memory as the kernel counts it, and this program started again as
//! a helper process. Included with `#[path]`, since benchmarks and tests are
//! separate crates.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// A `kB` field of `/proc/self/status` (`"VmRSS"`, the resident set; `"VmHWM"`,
/// its peak), in KiB; `None` without `/proc` (not Linux).
pub fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| {
        l.strip_prefix(field)
            .is_some_and(|rest| rest.starts_with(':'))
    })?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The resident set of this process in KiB (0 without `/proc`).
pub fn rss_kib() -> u64 {
    status_kib("VmRSS").unwrap_or(0)
}

/// The peak resident set since the last [`reset_peak_rss`] in KiB (0 without
/// `/proc`).
pub fn peak_rss_kib() -> u64 {
    status_kib("VmHWM").unwrap_or(0)
}

/// Starts the peak resident set ([`peak_rss_kib`]) over from the current one.
pub fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Starts this program again with `args`, its stdin and stdout piped, and
/// returns it with the first line it prints (e.g. the address it serves on).
pub fn spawn_self(args: &[&str]) -> (Child, String) {
    let mut child = Command::new(std::env::current_exe().expect("own path"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start a helper process");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("its stdout"))
        .read_line(&mut line)
        .expect("its first line");
    (child, line.trim().to_owned())
}
