//! The library against its header: the shared library exports exactly what the
//! header declares, and the header compiles as C and as C++.

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
    assert_eq!(exported, declared);
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
