//! The local side of a plan: which files of the folder are selected (patterns,
//! `.gitignore`, hidden entries, symbolic links), their canonical relative
//! paths and their content hashes.
//!
//! Walking and pattern matching are the `ignore` crate's (the walker of
//! ripgrep), so patterns follow gitignore rules exactly as git users know them.

use std::borrow::Cow;
use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use ignore::{DirEntry, WalkBuilder};
use ring::digest::{Context, SHA256};
use unicode_normalization::UnicodeNormalization;

use super::id::file_id;
use super::options::SyncOptions;
use crate::error::{Error, Result};

/// A file of the synced folder, as the [`metadata`](SyncOptions::metadata)
/// function sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalFile {
    path: PathBuf,
    relative: String,
    size: u64,
}

impl LocalFile {
    /// Where the file is: the folder joined with its relative path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Its path relative to the folder, components joined by `/`, in Unicode
    /// normalization form C (a name that is not valid Unicode shows its
    /// undecodable bytes as U+FFFD). This is the path stored in the file's sync
    /// record.
    pub fn relative_path(&self) -> &str {
        &self.relative
    }

    /// Its size in bytes when the folder was read.
    pub fn size(&self) -> u64 {
        self.size
    }
}

/// A selected regular file, hashed.
#[derive(Debug)]
pub(crate) struct Found {
    pub file: LocalFile,
    pub id: String,
    pub sha256: String,
}

/// Why a selected entry cannot be synced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Unusable {
    /// A symbolic link, and links are not followed.
    Symlink,
    /// A FIFO, socket or device.
    NotRegular,
    /// It could not be read: the error's text.
    Unreadable(String),
}

/// An entry that is selected but cannot be synced. It keeps its id, so that a
/// plan does not take it for a file removed locally.
#[derive(Debug)]
pub(crate) struct Blocked {
    pub relative: String,
    pub id: String,
    pub why: Unusable,
}

/// What the folder holds.
#[derive(Debug, Default)]
pub(crate) struct Scan {
    /// Sorted by relative path.
    pub files: Vec<Found>,
    pub blocked: Vec<Blocked>,
}

/// The extensions the service reads, selected when no include pattern is given.
const READABLE_EXTENSIONS: [&str; 5] = ["md", "txt", "pdf", "json", "docx"];

/// Reads the folder at `root` as `options` select, hashing on up to
/// `options.workers` threads.
pub(crate) fn scan(root: &Path, options: &SyncOptions) -> Result<Scan> {
    match std::fs::metadata(root) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            return Err(Error::invalid(
                "root",
                format!(
                    "{} is not a directory; give the folder to sync",
                    root.display()
                ),
            ));
        }
        Err(e) => {
            return Err(Error::invalid(
                "root",
                format!(
                    "{} cannot be read ({e}); give an existing folder",
                    root.display()
                ),
            ));
        }
    }
    let include = matcher("include", &options.include)?;
    let exclude = Arc::new(matcher("exclude", &options.exclude)?);

    let mut walk = WalkBuilder::new(root);
    walk.standard_filters(false)
        .hidden(!options.hidden)
        .git_ignore(options.gitignore)
        .git_exclude(options.gitignore)
        .require_git(false)
        .follow_links(options.follow_symlinks)
        .sort_by_file_name(OsStr::cmp);
    let prune_root = root.to_path_buf();
    let prune = Arc::clone(&exclude);
    walk.filter_entry(move |entry| {
        if entry.depth() == 0 || !entry.file_type().is_some_and(|t| t.is_dir()) {
            return true;
        }
        if entry.file_name() == ".git" {
            return false;
        }
        match entry.path().strip_prefix(&prune_root) {
            Ok(rel) => !prune.matched(rel, true).is_ignore(),
            Err(_) => true,
        }
    });

    let mut scan = Scan::default();
    let mut candidates = Vec::new();
    for entry in walk.build() {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                scan.blocked.push(blocked_by(root, &e)?);
                continue;
            }
        };
        if entry.depth() == 0 {
            continue;
        }
        let Some(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            continue;
        }
        let Ok(rel) = entry.path().strip_prefix(root) else {
            continue;
        };
        let (canonical, relative) = canonical(rel);
        let selected = if include.is_empty() {
            has_readable_extension(rel)
        } else {
            include.matched_path_or_any_parents(rel, false).is_ignore()
        };
        if !selected || exclude.matched_path_or_any_parents(rel, false).is_ignore() {
            continue;
        }
        let id = file_id(&canonical);
        let why = if kind.is_symlink() {
            Some(Unusable::Symlink)
        } else if !kind.is_file() {
            Some(Unusable::NotRegular)
        } else {
            None
        };
        match why {
            Some(why) => scan.blocked.push(Blocked { relative, id, why }),
            None => candidates.push((entry, relative, id)),
        }
    }

    let hashed = hash_all(candidates, options.workers);
    for outcome in hashed {
        match outcome {
            Ok(found) => scan.files.push(found),
            Err(blocked) => scan.blocked.push(blocked),
        }
    }
    scan.files
        .sort_by(|a, b| a.file.relative.cmp(&b.file.relative));
    scan.blocked.sort_by(|a, b| a.relative.cmp(&b.relative));
    Ok(scan)
}

/// A gitignore-rule matcher of `patterns`, relative to the synced folder.
fn matcher(name: &str, patterns: &[String]) -> Result<Gitignore> {
    // Rooted at "." so that the relative paths given are matched as they are.
    let mut builder = GitignoreBuilder::new(".");
    for pattern in patterns {
        builder.add_line(None, pattern).map_err(|e| {
            Error::invalid(name, format!("pattern \"{pattern}\" is not valid: {e}"))
        })?;
    }
    builder
        .build()
        .map_err(|e| Error::invalid(name, format!("the patterns cannot be compiled: {e}")))
}

fn has_readable_extension(rel: &Path) -> bool {
    rel.extension().and_then(OsStr::to_str).is_some_and(|ext| {
        READABLE_EXTENSIONS
            .iter()
            .any(|known| ext.eq_ignore_ascii_case(known))
    })
}

/// The canonical bytes of a relative path (what its id is derived from) and its
/// text: components joined by `/`, Unicode ones in normalization form C, others
/// as their raw bytes (shown with U+FFFD in the text).
pub(crate) fn canonical(rel: &Path) -> (Vec<u8>, String) {
    let mut bytes = Vec::with_capacity(rel.as_os_str().len());
    for component in rel.components() {
        let Component::Normal(name) = component else {
            continue;
        };
        if !bytes.is_empty() {
            bytes.push(b'/');
        }
        match name.to_str() {
            Some(text) => bytes.extend(text.nfc().collect::<String>().as_bytes()),
            None => bytes.extend(raw_bytes(name).as_ref()),
        }
    }
    let text = String::from_utf8_lossy(&bytes).into_owned();
    (bytes, text)
}

#[cfg(unix)]
fn raw_bytes(name: &OsStr) -> Cow<'_, [u8]> {
    use std::os::unix::ffi::OsStrExt;
    Cow::Borrowed(name.as_bytes())
}

#[cfg(not(unix))]
fn raw_bytes(name: &OsStr) -> Cow<'_, [u8]> {
    // Elsewhere names are UTF-16; an unpaired surrogate is the only way to be
    // invalid, and the lossy form keeps the rest of the name.
    Cow::Owned(name.to_string_lossy().into_owned().into_bytes())
}

/// The blocked entry of a walk error, when it names a path in the folder;
/// otherwise the error itself, which stops the plan.
fn blocked_by(root: &Path, error: &ignore::Error) -> Result<Blocked> {
    let path = error_path(error).and_then(|p| p.strip_prefix(root).ok());
    match path {
        Some(rel) if rel.components().next().is_some() => {
            let (canonical, relative) = canonical(rel);
            Ok(Blocked {
                id: file_id(&canonical),
                relative,
                why: Unusable::Unreadable(innermost(error).to_string()),
            })
        }
        _ => Err(Error::Io {
            context: format!("reading the folder {}", root.display()),
            source: io::Error::other(error.to_string()),
        }),
    }
}

fn error_path(error: &ignore::Error) -> Option<&Path> {
    match error {
        ignore::Error::WithPath { path, .. } => Some(path),
        ignore::Error::Loop { child, .. } => Some(child),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        _ => None,
    }
}

/// The error below its path and depth wrappers (the path is shown separately).
fn innermost(error: &ignore::Error) -> &ignore::Error {
    match error {
        ignore::Error::WithPath { err, .. } | ignore::Error::WithDepth { err, .. } => {
            innermost(err)
        }
        other => other,
    }
}

type Candidate = (DirEntry, String, String);

/// Hashes every candidate, on up to `threads` threads; the order of the answers
/// is not the order of the candidates.
fn hash_all(
    candidates: Vec<Candidate>,
    threads: usize,
) -> Vec<std::result::Result<Found, Blocked>> {
    let threads = threads.clamp(1, candidates.len().max(1));
    if threads == 1 {
        return candidates.into_iter().map(hash_one).collect();
    }
    let per_thread = candidates.len().div_ceil(threads);
    let mut chunks: Vec<Vec<Candidate>> = Vec::with_capacity(threads);
    let mut rest = candidates.into_iter();
    loop {
        let chunk: Vec<Candidate> = rest.by_ref().take(per_thread).collect();
        if chunk.is_empty() {
            break;
        }
        chunks.push(chunk);
    }
    std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| s.spawn(move || chunk.into_iter().map(hash_one).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| match h.join() {
                Ok(done) => done,
                // Hashing has no panicking path; pass one on rather than lose files.
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    })
}

fn hash_one((entry, relative, id): Candidate) -> std::result::Result<Found, Blocked> {
    let path = entry.into_path();
    match sha256_of(&path) {
        Ok((sha256, size)) => Ok(Found {
            file: LocalFile {
                path,
                relative,
                size,
            },
            id,
            sha256,
        }),
        Err(e) => Err(Blocked {
            relative,
            id,
            why: Unusable::Unreadable(e.to_string()),
        }),
    }
}

/// The SHA-256 of the file's content in lower-case hexadecimal, and its length.
pub(crate) fn sha256_of(path: &Path) -> io::Result<(String, u64)> {
    let mut file = File::open(path)?;
    let mut ctx = Context::new(&SHA256);
    let mut buf = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                ctx.update(&buf[..n]);
                size += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let mut hex = String::with_capacity(64);
    for byte in ctx.finish().as_ref() {
        hex.push_str(&format!("{byte:02x}"));
    }
    Ok((hex, size))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_paths_join_with_slashes_in_composed_form() {
        let decomposed = Path::new("cafe\u{301}").join("notes.md");
        let (bytes, text) = canonical(&decomposed);
        assert_eq!(text, "caf\u{e9}/notes.md");
        assert_eq!(bytes, "caf\u{e9}/notes.md".as_bytes());
        assert_eq!(canonical(Path::new("caf\u{e9}/notes.md")).0, bytes);
    }

    #[cfg(unix)]
    #[test]
    fn names_that_are_not_unicode_keep_their_bytes() {
        use std::os::unix::ffi::OsStrExt;
        let name = OsStr::from_bytes(b"caf\xe9.md");
        let (bytes, text) = canonical(Path::new(name));
        assert_eq!(bytes, b"caf\xe9.md");
        assert_eq!(text, "caf\u{fffd}.md");
    }

    #[test]
    fn the_hash_is_sha256_of_the_content() {
        let dir = std::env::temp_dir().join(format!("pa-sync-hash-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("abc.txt");
        std::fs::write(&path, "abc").unwrap();
        let (hex, size) = sha256_of(&path).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            hex,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(size, 3);
    }

    #[test]
    fn default_selection_is_the_readable_types_in_any_case() {
        for yes in ["a.md", "b/C.PDF", "d.Json", "e.txt", "f.docx"] {
            assert!(has_readable_extension(Path::new(yes)), "{yes}");
        }
        for no in ["a.png", "Makefile", "b.md.bak", ".md"] {
            assert!(!has_readable_extension(Path::new(no)), "{no}");
        }
    }

    #[test]
    fn bad_patterns_name_the_setting() {
        match matcher("include", &["*.md".into(), "[z-a].md".into()]) {
            Err(Error::InvalidArgument { name, reason }) => {
                assert_eq!(name, "include");
                assert!(reason.contains("[z-a].md"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }
}
