//! Facts the repository states about itself that nothing else would catch going
//! stale: the package metadata, and numbers the README quotes.

/// The root manifest.
const MANIFEST: &str = include_str!("../Cargo.toml");
const README: &str = include_str!("../README.md");
const CTYPES_EXAMPLE: &str = include_str!("../examples/python/pinecone_ctypes.py");

/// The lines of `table` in `MANIFEST`, up to the next table.
fn table(name: &str) -> Vec<&'static str> {
    let header = format!("[{name}]");
    MANIFEST
        .lines()
        .skip_while(|l| l.trim() != header)
        .skip(1)
        .take_while(|l| !l.trim_start().starts_with('['))
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

#[test]
fn docs_rs_documents_every_feature() {
    // Without it, docs.rs would leave the emulator module out of the published docs.
    assert!(
        table("package.metadata.docs.rs").contains(&"all-features = true"),
        "{:?}",
        table("package.metadata.docs.rs")
    );
}

#[test]
fn the_readme_counts_the_ctypes_example_right() {
    let claim =
        "`examples/python/pinecone_ctypes.py` is a complete Python binding of the C ABI in about ";
    let at = README
        .find(claim)
        .expect("the README describes the ctypes example")
        + claim.len();
    let said: usize = README[at..]
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a number of lines");
    let lines = CTYPES_EXAMPLE.lines().count();
    // "About": within a tenth of the real count.
    assert!(
        said.abs_diff(lines) * 10 <= lines,
        "README says about {said} lines; the example has {lines}"
    );
}
