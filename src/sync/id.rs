//! The file id a local file is stored under: derived from its path relative to
//! the synced folder alone, so every machine and every run agrees on it.
//!
//! The server accepts 1 to 128 characters of `A-Z a-z 0-9 - _` as an upsert id.
//! An id is `{readable}-{digest}`:
//!
//! - `digest` is the first 128 bits of the SHA-256 of the relative path, in 32
//!   lower-case hexadecimal characters. It alone tells files apart: two paths
//!   share an id only if their hashes collide.
//! - `readable` is the path spelled with what the id may hold, so a person can
//!   tell which file an id names: ASCII letters, digits, `-` and `_` are kept,
//!   every run of other characters (`/`, `.`, spaces, non-ASCII letters) becomes
//!   one `_`, and underscores at either end are dropped. When that is longer
//!   than 95 characters only its last 95 are kept (the file name is the most
//!   telling part). It may be empty, and then the id is the digest alone.
//!
//! The relative path is hashed in one canonical spelling: its components joined
//! by `/`, in Unicode normalization form C. A name typed on a system that stores
//! decomposed accents (`e` followed by a combining acute, as older macOS file
//! systems do) and the same name stored precomposed (`é`) therefore map to one
//! id. A name that is not valid Unicode (possible on Unix) is hashed from its raw
//! bytes, so it still gets an id of its own.

use ring::digest::{Context, SHA256};

/// The longest id the server accepts.
pub(crate) const MAX_ID_LEN: usize = 128;
/// Hexadecimal characters of digest in an id (128 bits).
const DIGEST_HEX: usize = 32;
/// What is left for the readable part: the id minus the digest and its `-`.
const READABLE_MAX: usize = MAX_ID_LEN - DIGEST_HEX - 1;

/// The id of the file at `relative` (its canonical path bytes: components
/// joined by `/`, Unicode in normalization form C).
pub(crate) fn file_id(relative: &[u8]) -> String {
    let mut ctx = Context::new(&SHA256);
    ctx.update(relative);
    let digest = ctx.finish();
    let mut id = readable(relative);
    if !id.is_empty() {
        id.push('-');
    }
    for byte in &digest.as_ref()[..DIGEST_HEX / 2] {
        id.push(char::from(HEX[usize::from(byte >> 4)]));
        id.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    id
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// The path spelled with id characters, at most [`READABLE_MAX`] of them.
fn readable(relative: &[u8]) -> String {
    let mut out = String::with_capacity(relative.len().min(READABLE_MAX * 2));
    let mut in_run = false;
    for &b in relative {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
            out.push(char::from(b));
            in_run = false;
        } else if !in_run {
            out.push('_');
            in_run = true;
        }
    }
    let trimmed = out.trim_matches('_');
    // Only ASCII is left, so any byte offset is a character boundary.
    let tail = &trimmed[trimmed.len().saturating_sub(READABLE_MAX)..];
    tail.trim_start_matches('_').to_owned()
}

/// Whether the server would accept `id` as an upsert id.
pub(crate) fn is_valid(id: &str) -> bool {
    (1..=MAX_ID_LEN).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use proptest::prelude::*;

    use super::*;

    #[test]
    fn ids_are_readable_and_end_in_the_digest_of_the_path() {
        let id = file_id(b"guides/setup/install guide.md");
        assert_eq!(
            id,
            "guides_setup_install_guide_md-c6f25d1cbba453084f992fa5be7d6c05"
        );
        assert!(is_valid(&id));
        // The same path always gives the same id.
        assert_eq!(file_id(b"guides/setup/install guide.md"), id);
    }

    #[test]
    fn paths_that_read_alike_still_get_their_own_ids() {
        // All of these spell `a_b_md` in the readable part.
        let paths: [&[u8]; 8] = [
            b"a/b.md",
            b"a_b.md",
            b"a b.md",
            b"a.b.md",
            b"a/b/md",
            b"a//b.md",
            b"a\xc3\xa9b.md",
            b"a?b#md",
        ];
        let ids: HashSet<String> = paths.iter().map(|p| file_id(p)).collect();
        assert_eq!(ids.len(), paths.len(), "{ids:?}");
        for id in &ids {
            assert!(id.starts_with("a_b_md-"), "{id}");
        }
    }

    #[test]
    fn very_long_paths_keep_their_end_and_fit_the_limit() {
        let long = format!("{}/final-chapter.md", "deep/".repeat(400));
        let id = file_id(long.as_bytes());
        assert_eq!(id.len(), MAX_ID_LEN);
        assert!(is_valid(&id));
        assert!(id.contains("final-chapter_md-"), "{id}");
        // Differing only far before the kept tail still gives other ids.
        let other = format!("x{long}");
        assert_ne!(file_id(other.as_bytes()), id);
    }

    #[test]
    fn names_without_any_id_character_are_the_digest_alone() {
        for path in ["日本語/説明書.md", "...", "#?%", " "] {
            let id = file_id(path.as_bytes());
            assert!(is_valid(&id), "{path}: {id}");
        }
        let id = file_id("説明書".as_bytes());
        assert_eq!(id.len(), DIGEST_HEX);
        // Non-ASCII letters between ASCII ones collapse into one underscore.
        assert!(file_id("Ünïcödé/ñame.md".as_bytes()).starts_with("n_c_d_ame_md-"));
    }

    #[test]
    fn raw_bytes_that_are_not_unicode_have_ids() {
        let a = file_id(b"caf\xe9.md");
        let b = file_id(b"caf\xe8.md");
        assert!(is_valid(&a) && is_valid(&b));
        assert_ne!(a, b);
    }

    proptest! {
        /// Any path gives an id the server accepts, and distinct paths distinct ids.
        #[test]
        fn every_path_gives_a_valid_id(a in proptest::collection::vec(any::<u8>(), 0..400),
                                       b in proptest::collection::vec(any::<u8>(), 0..400)) {
            let (ia, ib) = (file_id(&a), file_id(&b));
            prop_assert!(is_valid(&ia), "{ia}");
            prop_assert!(is_valid(&ib), "{ib}");
            prop_assert_eq!(a == b, ia == ib);
        }
    }
}
