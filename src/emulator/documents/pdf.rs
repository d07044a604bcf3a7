//! PDF text, page by page.
//!
//! `lopdf` parses the file (cross-reference tables, filters, decryption with an
//! empty password, font encodings and `ToUnicode` maps); this module walks each
//! page's content stream and lays the shown strings out as lines. `lopdf`'s own
//! `extract_text` ends a line only at `T*` and `ET`, so lines placed with `Td`
//! or `Tm` inside one text object (as most typesetters write them) would run
//! together; here a change of baseline ends a line, and a gap of more than one
//! and a half lines ends a paragraph.

use std::collections::BTreeMap;

use lopdf::content::{Content, Operation};
use lopdf::{Dictionary, Document, Encoding, Object, ObjectId};

/// Form XObjects nested deeper than this are not read (a loop guard).
const MAX_FORM_DEPTH: usize = 8;

/// A kerning offset in a `TJ` array (thousandths of the font size) at least this
/// far left reads as a word gap: kerning pairs stay well under it, and a space is
/// about 250–330 in common fonts.
const WORD_GAP: f32 = -150.0;

/// A baseline moving by more than this many font sizes starts a paragraph.
const PARAGRAPH_GAP: f32 = 1.5;

const ENCRYPTED: &str = "File processing failed: the PDF is encrypted and needs a password to open; upload a copy without password protection.";

pub(super) fn pages(bytes: &[u8]) -> Result<Vec<String>, String> {
    let doc = Document::load_mem(bytes).map_err(|e| match e {
        lopdf::Error::Decryption(_) | lopdf::Error::InvalidPassword => ENCRYPTED.to_owned(),
        other => {
            format!("File processing failed: the PDF is damaged and cannot be read ({other}).")
        }
    })?;
    // A file whose empty user password opened it has been decrypted by now; one
    // still marked encrypted needs a password.
    if doc.is_encrypted() {
        return Err(ENCRYPTED.to_owned());
    }
    let page_ids = doc.get_pages();
    if page_ids.is_empty() {
        return Err(
            "File processing failed: the PDF is damaged and cannot be read (it has no pages)."
                .to_owned(),
        );
    }
    let mut texts = Vec::with_capacity(page_ids.len());
    let mut images = 0usize;
    for (number, id) in page_ids {
        let page = read_page(&doc, id).map_err(|e| {
            format!("File processing failed: page {number} of the PDF cannot be read ({e}).")
        })?;
        images += page.images;
        texts.push(page.text);
    }
    if texts.iter().all(|t| t.trim().is_empty()) {
        return Err(if images > 0 {
            "File processing failed: the PDF holds only images and no text layer (a scanned document?); the emulator does not run OCR.".to_owned()
        } else {
            "File processing failed: the PDF contains no extractable text.".to_owned()
        });
    }
    Ok(texts)
}

/// What one page gave.
struct PageText {
    text: String,
    images: usize,
}

fn read_page(doc: &Document, id: ObjectId) -> lopdf::Result<PageText> {
    let fonts = encodings(doc, doc.get_page_fonts(id)?.into_iter());
    let (own, inherited) = doc.get_page_resources(id)?;
    // The page's own resources first, then those it inherits from the page tree.
    let mut resources: Vec<&Dictionary> = own.into_iter().collect();
    resources.extend(inherited.iter().filter_map(|r| doc.get_dictionary(*r).ok()));
    let content = doc.get_and_decode_page_content(id)?;
    let mut layout = Layout::default();
    walk(doc, &content.operations, &fonts, &resources, &mut layout, 0);
    let images = layout.images;
    Ok(PageText {
        text: layout.finish(),
        images,
    })
}

/// The text encoding of each font, by resource name; a font whose encoding
/// cannot be read is left out (its strings are skipped).
fn encodings<'a>(
    doc: &'a Document,
    fonts: impl Iterator<Item = (Vec<u8>, &'a Dictionary)>,
) -> BTreeMap<Vec<u8>, Encoding<'a>> {
    fonts
        .filter_map(|(name, font)| font.get_font_encoding(doc).ok().map(|e| (name, e)))
        .collect()
}

/// The fonts of a form XObject's own `Resources`.
fn form_fonts<'a>(doc: &'a Document, resources: &'a Dictionary) -> BTreeMap<Vec<u8>, Encoding<'a>> {
    let Ok(fonts) = resources.get_deref(b"Font", doc).and_then(Object::as_dict) else {
        return BTreeMap::new();
    };
    encodings(
        doc,
        fonts.iter().filter_map(|(name, font)| {
            doc.dereference(font)
                .ok()
                .and_then(|(_, o)| o.as_dict().ok())
                .map(|d| (name.clone(), d))
        }),
    )
}

fn number(o: &Object) -> Option<f32> {
    o.as_float().ok()
}

/// Interprets the text-showing and text-positioning operators of a content
/// stream, following form XObjects.
fn walk<'a>(
    doc: &'a Document,
    ops: &[Operation],
    fonts: &BTreeMap<Vec<u8>, Encoding<'a>>,
    resources: &[&'a Dictionary],
    out: &mut Layout,
    depth: usize,
) {
    let mut encoding: Option<&Encoding> = None;
    for op in ops {
        let args = &op.operands;
        match op.operator.as_str() {
            "BT" => out.begin_text(),
            "Tf" => {
                encoding = args
                    .first()
                    .and_then(|n| n.as_name().ok())
                    .and_then(|n| fonts.get(n));
                if let Some(size) = args.get(1).and_then(number) {
                    out.font_size = size.abs().max(1.0);
                }
            }
            "TL" => out.leading = args.first().and_then(number).unwrap_or(0.0),
            "Td" | "TD" => {
                if let (Some(tx), Some(ty)) =
                    (args.first().and_then(number), args.get(1).and_then(number))
                {
                    if op.operator == "TD" {
                        out.leading = -ty;
                    }
                    out.move_line(tx, ty);
                }
            }
            "Tm" => {
                let m: Vec<f32> = args.iter().filter_map(number).collect();
                if let [a, b, c, d, e, f] = m[..] {
                    out.set_matrix([a, b, c, d, e, f]);
                }
            }
            "T*" => out.next_line(),
            "Tj" => show(out, encoding, args.first()),
            "'" => {
                out.next_line();
                show(out, encoding, args.first());
            }
            "\"" => {
                out.next_line();
                show(out, encoding, args.get(2));
            }
            "TJ" => {
                if let Some(Object::Array(items)) = args.first() {
                    for item in items {
                        match item {
                            Object::String(..) => show(out, encoding, Some(item)),
                            other if number(other).is_some_and(|n| n <= WORD_GAP) => out.gap(),
                            _ => {}
                        }
                    }
                }
            }
            "Do" if depth < MAX_FORM_DEPTH => {
                let Some(name) = args.first().and_then(|n| n.as_name().ok()) else {
                    continue;
                };
                let Some(stream) = xobject(doc, resources, name) else {
                    continue;
                };
                match stream.dict.get(b"Subtype").and_then(Object::as_name) {
                    Ok(b"Image") => out.images += 1,
                    Ok(b"Form") => {
                        let Ok(content) = stream
                            .decompressed_content()
                            .or_else(|_| Ok::<_, lopdf::Error>(stream.content.clone()))
                            .and_then(|bytes| Content::decode(&bytes))
                        else {
                            continue;
                        };
                        let own = stream
                            .dict
                            .get_deref(b"Resources", doc)
                            .and_then(Object::as_dict)
                            .ok();
                        let own_fonts = own.map(|r| form_fonts(doc, r)).unwrap_or_default();
                        let inner_fonts = if own_fonts.is_empty() {
                            fonts
                        } else {
                            &own_fonts
                        };
                        let mut inner_resources: Vec<&Dictionary> = own.into_iter().collect();
                        inner_resources.extend_from_slice(resources);
                        walk(
                            doc,
                            &content.operations,
                            inner_fonts,
                            &inner_resources,
                            out,
                            depth + 1,
                        );
                    }
                    _ => {}
                }
            }
            // An inline image (`BI … ID … EI` decodes to one operation).
            "BI" => out.images += 1,
            _ => {}
        }
    }
}

/// The XObject stream called `name` in the first resource dictionary that has it.
fn xobject<'a>(
    doc: &'a Document,
    resources: &[&'a Dictionary],
    name: &[u8],
) -> Option<&'a lopdf::Stream> {
    resources.iter().find_map(|r| {
        let xobjects = r.get_deref(b"XObject", doc).ok()?.as_dict().ok()?;
        let (_, target) = doc.dereference(xobjects.get(name).ok()?).ok()?;
        target.as_stream().ok()
    })
}

fn show(out: &mut Layout, encoding: Option<&Encoding>, s: Option<&Object>) {
    let (Some(encoding), Some(Object::String(bytes, _))) = (encoding, s) else {
        return;
    };
    if let Ok(text) = Document::decode_text(encoding, bytes) {
        out.push(&text);
    }
}

/// Turns shown strings and text positions into lines and paragraphs.
struct Layout {
    text: String,
    /// The text line matrix `[a b c d e f]`; `f` is the baseline.
    line: [f32; 6],
    /// The baseline of the last string shown, if any on this page.
    last_baseline: Option<f32>,
    font_size: f32,
    leading: f32,
    /// A word gap seen since the last string.
    pending_gap: bool,
    images: usize,
}

impl Default for Layout {
    fn default() -> Self {
        Self {
            text: String::new(),
            line: IDENTITY,
            last_baseline: None,
            font_size: 12.0,
            leading: 0.0,
            pending_gap: false,
            images: 0,
        }
    }
}

const IDENTITY: [f32; 6] = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0];

impl Layout {
    fn begin_text(&mut self) {
        self.line = IDENTITY;
    }

    fn set_matrix(&mut self, m: [f32; 6]) {
        self.line = m;
    }

    /// `Td`: the next line starts at an offset from the start of this one.
    fn move_line(&mut self, tx: f32, ty: f32) {
        let [a, b, c, d, e, f] = self.line;
        self.line = [a, b, c, d, tx * a + ty * c + e, tx * b + ty * d + f];
        if ty == 0.0 && tx != 0.0 {
            // Moving along the same line, as column layouts do: a word gap.
            self.pending_gap = true;
        }
    }

    fn next_line(&mut self) {
        let leading = if self.leading == 0.0 {
            self.font_size * 1.2
        } else {
            self.leading
        };
        self.move_line(0.0, -leading);
    }

    fn gap(&mut self) {
        self.pending_gap = true;
    }

    fn push(&mut self, s: &str) {
        if s.is_empty() {
            return;
        }
        let baseline = self.line[5];
        if let Some(last) = self.last_baseline {
            let moved = (baseline - last).abs();
            let size = self.font_size * self.line[3].abs().max(f32::EPSILON);
            if moved > size * PARAGRAPH_GAP {
                self.end_line("\n\n");
            } else if moved > size * 0.3 {
                self.end_line("\n");
            } else if self.pending_gap && !self.text.ends_with(char::is_whitespace) {
                self.text.push(' ');
            }
        }
        self.pending_gap = false;
        self.last_baseline = Some(baseline);
        self.text.push_str(s);
    }

    fn end_line(&mut self, separator: &str) {
        let kept = self.text.trim_end_matches([' ', '\t']).len();
        self.text.truncate(kept);
        if !self.text.is_empty() && !self.text.ends_with("\n\n") {
            if self.text.ends_with('\n') {
                self.text.push_str(&separator[1..]);
            } else {
                self.text.push_str(separator);
            }
        }
    }

    fn finish(self) -> String {
        self.text
            .lines()
            .map(str::trim_end)
            .collect::<Vec<_>>()
            .join("\n")
            .trim()
            .to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn baselines_make_lines_and_paragraphs() {
        let mut l = Layout {
            font_size: 10.0,
            ..Layout::default()
        };
        l.begin_text();
        l.move_line(72.0, 700.0);
        l.push("First line");
        l.gap();
        l.push("goes on.");
        l.move_line(0.0, -12.0);
        l.push("Second line.");
        l.move_line(0.0, -30.0);
        l.push("New paragraph.");
        assert_eq!(
            l.finish(),
            "First line goes on.\nSecond line.\n\nNew paragraph."
        );
    }

    #[test]
    fn kerning_is_not_a_word_gap() {
        let mut l = Layout::default();
        l.push("W");
        l.push("ave");
        assert_eq!(l.finish(), "Wave");
    }

    #[test]
    fn garbage_is_a_damaged_pdf() {
        let e = pages(b"%PDF-1.4 hello").unwrap_err();
        assert!(
            e.starts_with("File processing failed: the PDF is damaged"),
            "{e}"
        );
    }
}
