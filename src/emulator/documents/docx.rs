//! Word (DOCX) text, page by page.
//!
//! A DOCX file is a zip archive; its body is `word/document.xml`, read here as a
//! stream of XML events. Paragraphs become blank-line separated paragraphs, table
//! rows one line each with ` | ` between cells, tabs and line breaks spaces and
//! new lines. Deleted revisions, field codes and the fallback copies of drawings
//! are skipped (the visible text is elsewhere).
//!
//! A DOCX has no fixed pages: pages exist only once a word processor lays the
//! text out. The pages here are the ones the file marks: a page break in a run
//! (`<w:br w:type="page"/>`), a paragraph set to start a page
//! (`<w:pageBreakBefore/>`), and the marks Word leaves where its last layout put
//! a page break (`<w:lastRenderedPageBreak/>`); one of those right after a hard
//! break, with no text between, is the same break and is not counted twice. A
//! file with none of them is one page. Headers, footers, footnotes and comments
//! live in other parts and are not read.

use std::io::Read;

use quick_xml::events::{BytesStart, Event};

/// `word/document.xml` larger than this (uncompressed) is refused, so a zip bomb
/// cannot exhaust memory.
const MAX_XML: u64 = 256 * 1024 * 1024;

fn failed(reason: impl std::fmt::Display) -> String {
    format!("File processing failed: {reason}.")
}

pub(super) fn pages(bytes: &[u8]) -> Result<Vec<String>, String> {
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        // An OLE compound file: a password-protected Word document, or the old
        // binary .doc format renamed.
        return Err(failed(
            "the DOCX file is encrypted with a password or is an old binary .doc file; save it as an unprotected .docx",
        ));
    }
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| {
        failed(format_args!(
            "the DOCX file is not a valid zip archive ({e})"
        ))
    })?;
    let mut part = archive.by_name("word/document.xml").map_err(|_| {
        failed("the DOCX file has no word/document.xml part, so it is not a Word document")
    })?;
    if part.size() > MAX_XML {
        return Err(failed(format_args!(
            "the DOCX body is larger than {} MiB",
            MAX_XML >> 20
        )));
    }
    let mut xml = Vec::with_capacity(part.size() as usize);
    (&mut part)
        .take(MAX_XML)
        .read_to_end(&mut xml)
        .map_err(|e| failed(format_args!("the DOCX file is damaged ({e})")))?;
    let pages = read_body(&xml)
        .map_err(|e| failed(format_args!("word/document.xml is not well-formed ({e})")))?;
    if pages.iter().all(|p| p.trim().is_empty()) {
        return Err(failed("the DOCX file contains no text"));
    }
    Ok(pages)
}

/// Where the reader is, as far as text goes.
#[derive(Default)]
struct Body {
    pages: Vec<String>,
    page: String,
    /// Open `w:tbl` elements (tables nest).
    tables: usize,
    /// Open elements whose text is not shown: deleted runs, field codes,
    /// fallback copies of drawings.
    hidden: usize,
    /// Inside `w:t` (or `w:delText`, hidden anyway).
    in_text: bool,
    /// A page break has been taken and no text has come since.
    fresh_break: bool,
}

impl Body {
    fn text(&mut self, s: &str) {
        if self.hidden == 0 && !s.is_empty() {
            self.page.push_str(s);
            self.fresh_break = false;
        }
    }

    /// Starts a new page. `rendered` marks Word's layout marker, which repeats a
    /// hard break written just before it.
    fn page_break(&mut self, rendered: bool) {
        if self.hidden > 0 || (rendered && self.fresh_break) {
            return;
        }
        let page = std::mem::take(&mut self.page);
        self.pages.push(tidy(&page));
        self.fresh_break = true;
    }

    fn paragraph_end(&mut self) {
        if self.tables > 0 {
            // Several paragraphs in a cell stay on the cell's line.
            self.page.push(' ');
        } else {
            self.page.push_str("\n\n");
        }
    }

    fn finish(mut self) -> Vec<String> {
        let last = tidy(&self.page);
        if !last.is_empty() || self.pages.is_empty() {
            self.pages.push(last);
        }
        self.pages
    }
}

/// Trims each line and drops runs of blank lines longer than one.
fn tidy(page: &str) -> String {
    let mut out = String::new();
    let mut blank = 0;
    for line in page
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
    {
        if line.is_empty() {
            blank += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank > 0 { "\n\n" } else { "\n" });
        }
        blank = 0;
        out.push_str(&line);
    }
    out
}

/// The element's name without its namespace prefix.
fn local(e: &BytesStart<'_>) -> Vec<u8> {
    e.local_name().as_ref().to_vec()
}

fn attribute(e: &BytesStart<'_>, name: &[u8]) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == name)
        .and_then(|a| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.into_owned())
        })
}

/// Elements whose content is not part of the visible text.
fn hides(name: &[u8]) -> bool {
    matches!(name, b"del" | b"instrText" | b"Fallback" | b"delInstrText")
}

fn read_body(xml: &[u8]) -> Result<Vec<String>, quick_xml::Error> {
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut body = Body::default();
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf)? {
            Event::Start(e) => {
                let name = local(&e);
                match name.as_slice() {
                    n if hides(n) => body.hidden += 1,
                    b"t" => body.in_text = true,
                    b"tbl" => body.tables += 1,
                    _ => empty_element(&mut body, &e, &name),
                }
            }
            Event::Empty(e) => {
                let name = local(&e);
                empty_element(&mut body, &e, &name);
            }
            Event::End(e) => match e.local_name().as_ref() {
                n if hides(n) => body.hidden = body.hidden.saturating_sub(1),
                b"t" => body.in_text = false,
                b"p" => body.paragraph_end(),
                b"tc" => body.text(" | "),
                b"tr" => {
                    let kept = body.page.trim_end_matches([' ', '|']).len();
                    body.page.truncate(kept);
                    body.page.push_str("\n\n");
                }
                b"tbl" => body.tables = body.tables.saturating_sub(1),
                _ => {}
            },
            Event::Text(t) if body.in_text => {
                // Entities arrive as their own events (below), so this is plain text.
                let text = t.xml10_content().map_err(quick_xml::Error::from)?;
                body.text(&text);
            }
            Event::GeneralRef(r) if body.in_text => {
                // `&amp;` and friends arrive apart from the text around them.
                let name = r.decode().map_err(quick_xml::Error::from)?;
                let resolved = match name.as_ref() {
                    "amp" => Some("&".to_owned()),
                    "lt" => Some("<".to_owned()),
                    "gt" => Some(">".to_owned()),
                    "quot" => Some("\"".to_owned()),
                    "apos" => Some("'".to_owned()),
                    _ => r.resolve_char_ref().ok().flatten().map(String::from),
                };
                if let Some(s) = resolved {
                    body.text(&s);
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok(body.finish())
}

/// Elements that stand for text or a break whether written `<x/>` or `<x>…</x>`.
fn empty_element(body: &mut Body, e: &BytesStart<'_>, name: &[u8]) {
    match name {
        b"tab" => body.text("\t"),
        b"br" | b"cr" => match attribute(e, b"type").as_deref() {
            Some("page") => body.page_break(false),
            _ => body.text("\n"),
        },
        // `<w:pageBreakBefore w:val="false"/>` turns an inherited one off.
        b"pageBreakBefore"
            if !matches!(attribute(e, b"val").as_deref(), Some("0" | "false" | "off")) =>
        {
            body.page_break(false);
        }
        b"lastRenderedPageBreak" => body.page_break(true),
        b"noBreakHyphen" => body.text("-"),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(inner: &str) -> Vec<u8> {
        format!(
            r#"<?xml version="1.0"?><w:document xmlns:w="urn:w"><w:body>{inner}</w:body></w:document>"#
        )
        .into_bytes()
    }

    #[test]
    fn paragraphs_tables_and_entities() {
        let pages = read_body(&doc(
            "<w:p><w:r><w:t>Fish &amp; chips</w:t><w:tab/><w:t xml:space=\"preserve\">cost 5 </w:t></w:r></w:p>\
             <w:tbl><w:tr><w:tc><w:p><w:r><w:t>a</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>b</w:t></w:r></w:p></w:tc></w:tr></w:tbl>\
             <w:p><w:del><w:r><w:delText>gone</w:delText></w:r></w:del><w:r><w:instrText>PAGE</w:instrText><w:t>kept</w:t></w:r></w:p>",
        ))
        .unwrap();
        assert_eq!(pages, ["Fish & chips cost 5\n\na | b\n\nkept"]);
    }

    #[test]
    fn breaks_make_pages_and_a_repeated_mark_counts_once() {
        let pages = read_body(&doc(
            "<w:p><w:r><w:t>one</w:t></w:r></w:p>\
             <w:p><w:r><w:br w:type=\"page\"/></w:r></w:p>\
             <w:p><w:r><w:lastRenderedPageBreak/><w:t>two</w:t></w:r></w:p>\
             <w:p><w:pPr><w:pageBreakBefore/></w:pPr><w:r><w:t>three</w:t><w:br/><w:t>still three</w:t></w:r></w:p>\
             <w:p><w:r><w:lastRenderedPageBreak/><w:t>four</w:t></w:r></w:p>",
        ))
        .unwrap();
        assert_eq!(pages, ["one", "two", "three\nstill three", "four"]);
    }

    #[test]
    fn not_a_word_document() {
        let e = pages(b"plain text").unwrap_err();
        assert!(e.contains("not a valid zip archive"), "{e}");
        let e = pages(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1]).unwrap_err();
        assert!(e.contains("password"), "{e}");
        assert!(read_body(b"<w:document><w:body></w:p>").is_err());
    }
}
