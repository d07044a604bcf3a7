//! What Ctrl-C does. A command cancels its calls through the client's cancel
//! handle and exits 130 once they have stopped; a second Ctrl-C exits at once.
//! The interactive chat stops only the answer being written, and at its prompt
//! Ctrl-C just reminds how to leave.

use std::io::Write;
use std::sync::Mutex;

use pinecone_assistant::CancelHandle;

use crate::exit::Class;

/// The current meaning of Ctrl-C.
enum Mode {
    /// Cancel this handle; if it was cancelled already, exit.
    Cancel(CancelHandle),
    /// At the interactive prompt: print a reminder and the prompt again.
    Prompt(&'static str),
}

static MODE: Mutex<Option<Mode>> = Mutex::new(None);

/// Installs the handler; Ctrl-C cancels `handle`. Fails when the process has no
/// way to catch the signal, which is left to its default then.
pub fn install(handle: CancelHandle) {
    set(Mode::Cancel(handle));
    if let Err(e) = ctrlc::set_handler(on_interrupt) {
        log::warn!("Ctrl-C will end the program at once: {e}");
    }
}

/// From now on Ctrl-C cancels `handle` (the interactive chat's current answer).
pub fn cancel(handle: CancelHandle) {
    set(Mode::Cancel(handle));
}

/// From now on Ctrl-C prints `hint` and the prompt `"> "` again.
pub fn at_prompt(hint: &'static str) {
    set(Mode::Prompt(hint));
}

fn set(mode: Mode) {
    *MODE.lock().unwrap_or_else(|e| e.into_inner()) = Some(mode);
}

fn on_interrupt() {
    let guard = MODE.lock().unwrap_or_else(|e| e.into_inner());
    match &*guard {
        Some(Mode::Cancel(handle)) if handle.is_cancelled() => {
            std::process::exit(i32::from(Class::Cancelled.code()))
        }
        Some(Mode::Cancel(handle)) => handle.cancel(),
        Some(Mode::Prompt(hint)) => {
            let mut out = std::io::stdout().lock();
            let _ = write!(out, "\n{hint}\n> ");
            let _ = out.flush();
        }
        None => std::process::exit(i32::from(Class::Cancelled.code())),
    }
}
