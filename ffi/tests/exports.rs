//! The library against its headers: the shared library exports exactly what the
//! C header declares under the SONAME it is installed with, the header compiles
//! as C and as C++, and the C++ wrapper reaches every C function.

use std::path::Path;
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the ffi crate sits in the repository root")
}

/// The shared library exports exactly the functions the header declares, all
/// prefixed `pinecone_`. Skipped when `nm` is not installed.
#[test]
fn exports_match_the_header() {
    let lib = std::env::current_exe()
        .expect("test binary path")
        .with_file_name("libpinecone_assistant_ffi.so");
    let Ok(out) = Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(&lib)
        .output()
    else {
        eprintln!("nm not found; skipping");
        return;
    };
    assert!(out.status.success(), "nm failed on {}", lib.display());
    let mut exported: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .map(str::to_owned)
        .collect();
    exported.sort();
    assert_eq!(exported, declared_functions());
}

/// The functions `include/pinecone_assistant.h` declares, sorted.
fn declared_functions() -> Vec<String> {
    let header = std::fs::read_to_string(root().join("include/pinecone_assistant.h"))
        .expect("read the header");
    let mut declared: Vec<String> = header
        .lines()
        .filter(|l| !l.starts_with(' ') && !l.starts_with("typedef") && l.contains('('))
        .filter_map(|l| {
            let name = l.split('(').next()?.rsplit([' ', '*']).next()?;
            name.starts_with("pinecone_").then(|| name.to_owned())
        })
        .collect();
    declared.sort();
    assert!(declared.len() > 40, "header parse found only {declared:?}");
    declared
}

/// Every C function is used by the C++ wrapper and named (in backticks) in the
/// comment of the method that calls it: a function added to the C API fails this test
/// until `include/pinecone_assistant.hpp` has its method (see CONTRIBUTING.md).
#[test]
fn every_c_function_has_a_cpp_method() {
    let wrapper = std::fs::read_to_string(root().join("include/pinecone_assistant.hpp"))
        .expect("read the C++ wrapper");
    let code: String = wrapper
        .lines()
        .filter(|l| {
            let l = l.trim_start();
            !(l.starts_with("//") || l.starts_with('*') || l.starts_with("/*"))
        })
        .collect::<Vec<_>>()
        .join("\n");
    let used = |name: &str| {
        code.match_indices(name).any(|(at, _)| {
            let next = code[at + name.len()..].chars().next();
            !next.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        })
    };
    let missing: Vec<String> = declared_functions()
        .into_iter()
        .filter(|name| !(wrapper.contains(&format!("`{name}`")) && used(name)))
        .collect();
    assert!(
        missing.is_empty(),
        "include/pinecone_assistant.hpp neither calls nor names in a comment: {missing:?}"
    );
}

/// The shared library carries the SONAME it is installed under
/// (`libpinecone_assistant.so.<major>`, set by `ffi/build.rs`), so programs
/// linked against the installed library ask the loader for that name. Skipped
/// when `readelf` is not installed.
#[test]
#[cfg(target_os = "linux")]
fn shared_library_has_the_installed_soname() {
    let lib = std::env::current_exe()
        .expect("test binary path")
        .with_file_name("libpinecone_assistant_ffi.so");
    let Ok(out) = Command::new("readelf").arg("-d").arg(&lib).output() else {
        eprintln!("readelf not found; skipping");
        return;
    };
    assert!(out.status.success(), "readelf failed on {}", lib.display());
    let soname = format!(
        "Library soname: [libpinecone_assistant.so.{}]",
        env!("CARGO_PKG_VERSION_MAJOR")
    );
    let dynamic = String::from_utf8_lossy(&out.stdout);
    assert!(dynamic.contains(&soname), "{dynamic}");
}

/// The header compiles as C99 and as C++ (its `cpp_compat` guards), warning-free.
/// A compiler that is not installed is skipped.
#[test]
fn header_compiles_as_c99_and_cpp() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let source = |ext: &str| {
        let path = dir.join(format!("header_only.{ext}"));
        std::fs::write(
            &path,
            "#include \"pinecone_assistant.h\"\nint main(void) { return PINECONE_RESULT_OK; }\n",
        )
        .expect("write the probe");
        path
    };
    for (compiler, std, ext) in [("cc", "-std=c99", "c"), ("c++", "-std=c++11", "cpp")] {
        let Ok(out) = Command::new(compiler)
            .args([
                std,
                "-Wall",
                "-Wextra",
                "-Werror",
                "-pedantic",
                "-fsyntax-only",
            ])
            .arg(format!("-I{}", root().join("include").display()))
            .arg(source(ext))
            .output()
        else {
            eprintln!("{compiler} not found; skipping");
            continue;
        };
        assert!(
            out.status.success(),
            "{compiler} {std}:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The C++ wrapper refuses, at compile time, an observer that may throw: it runs
/// inside calls it cannot stop, so nothing could catch its exception. The same
/// observer declared `noexcept` compiles. Skipped when `c++` is not installed.
#[test]
fn cpp_observer_must_be_noexcept() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let compile = |name: &str, qualifier: &str| {
        let path = dir.join(format!("{name}.cpp"));
        std::fs::write(
            &path,
            format!(
                "#include \"pinecone_assistant.hpp\"\n\
                 void observe(const pinecone::Client &client) {{\n\
                 \x20 client.set_observer([](std::string_view) {qualifier} {{}});\n\
                 }}\n"
            ),
        )
        .expect("write the probe");
        Command::new("c++")
            .args(["-std=c++17", "-Wall", "-Wextra", "-Werror", "-pedantic"])
            .arg("-fsyntax-only")
            .arg(format!("-I{}", root().join("include").display()))
            .arg(&path)
            .output()
    };
    let Ok(refused) = compile("observer_may_throw", "") else {
        eprintln!("c++ not found; skipping");
        return;
    };
    let errors = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "a throwing observer compiled");
    assert!(errors.contains("is declared noexcept"), "{errors}");
    let accepted = compile("observer_noexcept", "noexcept").expect("run c++");
    assert!(
        accepted.status.success(),
        "{}",
        String::from_utf8_lossy(&accepted.stderr)
    );
}
