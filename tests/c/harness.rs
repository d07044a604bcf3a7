//! The C API from C: each program in `tests/c/` is compiled with the system `cc`
//! against the static library that `cargo test` builds for the
//! `pinecone-assistant-ffi` crate, then run against mock servers (and, when
//! valgrind is installed, run again under valgrind, which must report no error
//! and no leak). Set `PINECONE_SKIP_VALGRIND=1` to skip the valgrind runs.
//!
//! Each program's mocks sit beside it: `files.c` is driven by `files.rs`, and so
//! on. `support.rs` holds what they share: compiling, running, the mocks and
//! fixture texts used by more than one program.

mod support;

mod bounds;
mod chat;
mod control_plane;
mod emulator;
mod examples;
mod files;
mod misuse;
mod sync;
