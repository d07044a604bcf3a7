//! Names the shared library after the name it is installed under.
//!
//! Cargo writes `libpinecone_assistant_ffi.so`, and `install.sh` installs it as
//! `libpinecone_assistant.so.<version>` with the links `libpinecone_assistant.so.<major>`
//! and `libpinecone_assistant.so`. A program linked against it records the
//! library's SONAME and asks the dynamic loader for that name at run time, so the
//! SONAME must be the installed name, `libpinecone_assistant.so.<major>`, not the
//! name of the file cargo wrote. The major version is the crate's.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    // ELF systems only: Apple's linker spells this `-install_name` and Windows
    // has no equivalent.
    let elf = var("CARGO_CFG_TARGET_FAMILY")
        .split(',')
        .any(|family| family == "unix")
        && var("CARGO_CFG_TARGET_VENDOR") != "apple";
    if elf {
        println!(
            "cargo:rustc-cdylib-link-arg=-Wl,-soname,libpinecone_assistant.so.{}",
            var("CARGO_PKG_VERSION_MAJOR")
        );
    }
}
