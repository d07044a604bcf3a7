//! The bytes around the file in a `multipart/form-data` upload body.
//!
//! The layout is the one the upload endpoints accept: a `file` part with the file name and a
//! content type guessed from its extension, then an optional `metadata` part
//! holding compact JSON, CRLF line ends throughout. Everything except the file
//! bytes is built up front, so the body's exact length is known before sending.

use std::fmt::Write;
use std::hash::{BuildHasher, Hasher};

/// A fresh boundary: 32 lower-case hex characters (128 random bits).
///
/// std's `RandomState` is keyed randomly per process and per instance, which is
/// enough to keep a boundary from occurring in a file by accident; nothing here
/// needs unpredictability against an attacker.
pub(crate) fn boundary() -> String {
    let mut out = String::with_capacity(32);
    for salt in 0..2u64 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(salt);
        let _ = write!(out, "{:016x}", h.finish());
    }
    out
}

/// The `Content-Type` of a file part, from the extension of `file_name`
/// (ASCII case-insensitive). Unknown extensions get `application/octet-stream`.
pub(crate) fn content_type_for(file_name: &str) -> &'static str {
    let ext = file_name.rsplit_once('.').map_or("", |(_, e)| e);
    match ext.to_ascii_lowercase().as_str() {
        "pdf" => "application/pdf",
        "txt" => "text/plain",
        "md" => "text/markdown",
        "json" => "application/json",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        _ => "application/octet-stream",
    }
}

/// `file_name` escaped for the inside of a quoted `filename="…"` parameter: `"`
/// becomes `%22`, `\` becomes `\\`, and control characters (U+0000–U+001F, U+007F)
/// become `%XX`, so no name can end the parameter or the header line early. Other
/// characters, non-ASCII included, stay as UTF-8.
pub(crate) fn quote_file_name(file_name: &str) -> String {
    let mut out = String::with_capacity(file_name.len());
    for c in file_name.chars() {
        match c {
            '"' => out.push_str("%22"),
            '\\' => out.push_str("\\\\"),
            c if c.is_ascii_control() => {
                let _ = write!(out, "%{:02X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// The bytes before and after the file content, for one boundary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Frame {
    /// From the first boundary to the blank line that precedes the file bytes.
    pub head: Vec<u8>,
    /// From the CRLF that ends the file bytes to the closing boundary's CRLF.
    pub tail: Vec<u8>,
}

impl Frame {
    /// Lays out the parts: `file` named `file_name`, then `metadata` when given
    /// (already encoded as compact JSON).
    pub(crate) fn new(boundary: &str, file_name: &str, metadata_json: Option<&str>) -> Self {
        let head = format!(
            "--{boundary}\r\n\
             Content-Disposition: form-data; name=\"file\"; filename=\"{}\"\r\n\
             Content-Type: {}\r\n\
             \r\n",
            quote_file_name(file_name),
            content_type_for(file_name),
        );
        let mut tail = String::from("\r\n");
        if let Some(json) = metadata_json {
            let _ = write!(
                tail,
                "--{boundary}\r\n\
                 Content-Disposition: form-data; name=\"metadata\"\r\n\
                 \r\n\
                 {json}\r\n"
            );
        }
        let _ = write!(tail, "--{boundary}--\r\n");
        Self {
            head: head.into_bytes(),
            tail: tail.into_bytes(),
        }
    }

    /// The whole body's length for a file of `file_len` bytes.
    pub(crate) fn body_len(&self, file_len: u64) -> u64 {
        self.head.len() as u64 + file_len + self.tail.len() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries_are_32_lower_hex_and_differ() {
        let a = boundary();
        let b = boundary();
        assert_eq!(a.len(), 32);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
        );
        assert_ne!(a, b);
    }

    #[test]
    fn content_types_by_extension() {
        let docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
        for (name, expected) in [
            ("report.pdf", "application/pdf"),
            ("REPORT.PDF", "application/pdf"),
            ("a.txt", "text/plain"),
            ("notes.md", "text/markdown"),
            ("x.json", "application/json"),
            ("memo.docx", docx),
            ("img.png", "application/octet-stream"),
            ("noext", "application/octet-stream"),
        ] {
            assert_eq!(content_type_for(name), expected, "{name}");
        }
    }

    #[test]
    fn file_names_cannot_break_the_header() {
        assert_eq!(quote_file_name("report.pdf"), "report.pdf");
        assert_eq!(quote_file_name("a\"b.md"), "a%22b.md");
        assert_eq!(quote_file_name("a\\b.md"), "a\\\\b.md");
        assert_eq!(
            quote_file_name("x\r\nContent-Type: evil\u{7f}.md"),
            "x%0D%0AContent-Type: evil%7F.md"
        );
        assert_eq!(quote_file_name("résumé.pdf"), "résumé.pdf");
    }

    #[test]
    fn pdf_with_metadata_layout_and_length() {
        // Metadata written with a space after the colon (`{"team": "finance"}`) gives
        // 299 bytes; the compact JSON this crate sends is one byte shorter.
        let b = "0123456789abcdef0123456789abcdef";
        let reference = Frame::new(b, "report.pdf", Some(r#"{"team": "finance"}"#));
        assert_eq!(reference.body_len(14), 299);
        let frame = Frame::new(b, "report.pdf", Some(r#"{"team":"finance"}"#));
        let mut body = frame.head.clone();
        body.extend_from_slice(b"%PDF-1.4 hello");
        body.extend_from_slice(&frame.tail);
        let expected = format!(
            "--{b}\r\n\
             Content-Disposition: form-data; name=\"file\"; filename=\"report.pdf\"\r\n\
             Content-Type: application/pdf\r\n\
             \r\n\
             %PDF-1.4 hello\r\n\
             --{b}\r\n\
             Content-Disposition: form-data; name=\"metadata\"\r\n\
             \r\n\
             {{\"team\":\"finance\"}}\r\n\
             --{b}--\r\n"
        );
        assert_eq!(String::from_utf8(body.clone()).unwrap(), expected);
        assert_eq!(frame.body_len(14), 298);
        assert_eq!(body.len(), 298);
    }

    #[test]
    fn without_metadata_only_the_file_part() {
        let frame = Frame::new("b", "notes.md", None);
        assert_eq!(frame.tail, b"\r\n--b--\r\n");
        assert!(
            String::from_utf8(frame.head)
                .unwrap()
                .ends_with("Content-Type: text/markdown\r\n\r\n")
        );
    }
}
