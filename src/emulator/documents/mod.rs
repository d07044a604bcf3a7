//! What the emulator reads out of an uploaded file: its kind, from the name, and
//! its text, page by page.
//!
//! Text, Markdown and JSON files are one page of UTF-8 text. PDFs are read with
//! `lopdf` ([`pdf`]); Word documents are zip archives whose `word/document.xml`
//! holds the body ([`docx`]). Every failure is a sentence for the operation's
//! `error_message`, starting with "File processing failed:" as the service's do.

mod docx;
mod image;
mod pdf;

pub(crate) use image::placeholder_png;

/// The kind of a file, from its extension (the real service types files the same way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileKind {
    Text,
    Markdown,
    Json,
    Pdf,
    Docx,
}

impl FileKind {
    /// `None` for an extension the service refuses.
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        let ext = name.trim_start_matches('.').rsplit_once('.')?.1;
        Some(match ext.to_ascii_lowercase().as_str() {
            "txt" => Self::Text,
            "md" | "markdown" => Self::Markdown,
            "json" => Self::Json,
            "pdf" => Self::Pdf,
            "docx" => Self::Docx,
            _ => return None,
        })
    }

    /// The reference `type` of context snippets.
    pub(crate) fn reference_type(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Markdown => "markdown",
            Self::Json => "json",
            Self::Pdf => "pdf",
            Self::Docx => "doc_x",
        }
    }

    /// The media type a download of such a file carries.
    pub(crate) fn content_type(self) -> &'static str {
        match self {
            Self::Text => "text/plain; charset=utf-8",
            Self::Markdown => "text/markdown; charset=utf-8",
            Self::Json => "application/json",
            Self::Pdf => "application/pdf",
            Self::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        }
    }

    /// Whether references carry `pages`.
    pub(crate) fn paged(self) -> bool {
        matches!(self, Self::Pdf | Self::Docx)
    }
}

/// The text of each page, first page first: one page for the kinds without pages.
/// An `Err` is the operation's `error_message`.
pub(crate) fn extract(kind: FileKind, bytes: &[u8]) -> Result<Vec<String>, String> {
    match kind {
        FileKind::Pdf => guarded("PDF", || pdf::pages(bytes)),
        FileKind::Docx => guarded("DOCX", || docx::pages(bytes)),
        FileKind::Text | FileKind::Markdown | FileKind::Json => {
            let text = std::str::from_utf8(bytes).map_err(|e| {
                format!(
                    "File processing failed: the file is not UTF-8 text (invalid byte at offset {}).",
                    e.valid_up_to()
                )
            })?;
            if kind == FileKind::Json {
                serde_json::from_str::<serde_json::Value>(text)
                    .map_err(|e| format!("File processing failed: invalid JSON ({e})."))?;
            }
            Ok(vec![text.to_owned()])
        }
    }
}

/// Runs a document reader, turning a panic inside a parser crate (malformed input
/// it did not expect) into a failed operation instead of a lost processing thread.
fn guarded(
    what: &str,
    read: impl FnOnce() -> Result<Vec<String>, String>,
) -> Result<Vec<String>, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(read)).unwrap_or_else(|_| {
        Err(format!(
            "File processing failed: the {what} file is damaged and cannot be read."
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_come_from_the_extension() {
        assert_eq!(FileKind::from_name("a.MD"), Some(FileKind::Markdown));
        assert_eq!(FileKind::from_name("report.Pdf"), Some(FileKind::Pdf));
        assert_eq!(FileKind::from_name("memo.docx"), Some(FileKind::Docx));
        assert_eq!(FileKind::from_name(".md"), None);
        assert_eq!(FileKind::from_name("a.exe"), None);
        assert_eq!(FileKind::Docx.reference_type(), "doc_x");
        assert!(FileKind::Pdf.paged() && !FileKind::Text.paged());
    }

    #[test]
    fn text_kinds_are_one_page_of_utf8() {
        assert_eq!(extract(FileKind::Text, b"hello").unwrap(), ["hello"]);
        let bad = extract(FileKind::Text, &[b'o', b'k', 0xff]).unwrap_err();
        assert!(bad.contains("offset 2"), "{bad}");
        assert!(
            extract(FileKind::Json, b"{not")
                .unwrap_err()
                .contains("JSON")
        );
    }

    /// The committed fixtures (made by tests/fixtures/documents/generate.py).
    fn fixture(name: &str) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/documents")
            .join(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    const HANDBOOK: [&str; 3] = [
        "Zephyr Kettle handbook\n\nThe Zephyr kettle boils one litre of water in 90 seconds.\n\nIts capacity is 1.7 litres and the base turns through 360 degrees.",
        "Cleaning and descaling\n\nDescale the kettle every month with a mixture of water and white vinegar.\n\nNever put the kettle or its base in the dishwasher.",
        "Warranty and refunds\n\nThe Zephyr kettle carries a three year warranty against defects.\n\nRefunds are possible within 30 days of purchase with the receipt.",
    ];

    #[test]
    fn pdf_pages_hold_their_known_text() {
        assert_eq!(
            extract(FileKind::Pdf, &fixture("kettle-handbook.pdf")).unwrap(),
            HANDBOOK
        );
        // Opens without a password: only the owner's rights are protected.
        assert_eq!(
            extract(FileKind::Pdf, &fixture("restricted.pdf")).unwrap(),
            HANDBOOK
        );
        // An embedded TrueType font: the text comes through its ToUnicode map.
        assert_eq!(
            extract(FileKind::Pdf, &fixture("cafe-menu.pdf")).unwrap(),
            [
                "Café Zürich menu\n\nThe crème brûlée is served with fresh raspberries.",
                "Opening hours\n\nThe café opens at seven o'clock and the smörgåsbord costs 14 francs.",
            ]
        );
        // Words spaced by kerning and lines moved with Td inside one text object.
        assert_eq!(
            extract(FileKind::Pdf, &fixture("typeset.pdf")).unwrap(),
            [
                "Typeset notes\n\nSpare filters for the Zephyr kettle are sold in packs of three.",
                "Limescale\n\nHard water leaves limescale on the heating plate within weeks.",
            ]
        );
    }

    #[test]
    fn unreadable_pdfs_say_why() {
        let encrypted = extract(FileKind::Pdf, &fixture("encrypted.pdf")).unwrap_err();
        assert!(
            encrypted.contains("encrypted and needs a password"),
            "{encrypted}"
        );
        let scanned = extract(FileKind::Pdf, &fixture("scanned.pdf")).unwrap_err();
        assert!(
            scanned.contains("only images and no text layer"),
            "{scanned}"
        );
        let corrupt = extract(FileKind::Pdf, &fixture("corrupt.pdf")).unwrap_err();
        assert!(corrupt.contains("the PDF is damaged"), "{corrupt}");
    }

    #[test]
    fn docx_pages_follow_the_breaks_the_file_marks() {
        let pages = extract(FileKind::Docx, &fixture("kettle-handbook.docx")).unwrap();
        assert_eq!(pages.len(), 3, "{pages:?}");
        assert_eq!(pages[0], HANDBOOK[0]);
        assert_eq!(
            pages[1],
            format!("{}\n\nDescaling interval | monthly", HANDBOOK[1])
        );
        assert_eq!(pages[2], HANDBOOK[2]);
    }

    #[test]
    fn a_panicking_reader_fails_the_file_only() {
        let e = guarded("PDF", || panic!("unexpected font")).unwrap_err();
        assert_eq!(
            e,
            "File processing failed: the PDF file is damaged and cannot be read."
        );
    }
}
