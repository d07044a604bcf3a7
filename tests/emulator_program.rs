//! placeholder
mod emu_common;
