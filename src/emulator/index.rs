//! Chunking and lexical (BM25) ranking.

use std::collections::HashMap;

/// Words per chunk: small enough that a snippet is about one topic.
const CHUNK_WORDS: usize = 120;

/// Words too common to rank by.
const STOPWORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "does", "for", "from", "has",
    "have", "how", "i", "if", "in", "is", "it", "its", "me", "my", "of", "on", "or", "our", "so",
    "that", "the", "their", "there", "this", "to", "was", "we", "what", "when", "where", "which",
    "who", "why", "will", "with", "you", "your",
];

/// One indexed piece of a file, all on one page.
#[derive(Debug, Clone)]
pub(crate) struct Chunk {
    pub text: String,
    pub terms: HashMap<String, u32>,
    pub len: usize,
    /// The page it is on, from 1 (always 1 for kinds without pages).
    pub page: u32,
}

impl Chunk {
    fn new(text: String, page: u32) -> Self {
        let words = tokens(&text);
        let len = words.len();
        let mut terms = HashMap::new();
        for w in words {
            *terms.entry(w).or_insert(0) += 1;
        }
        Self {
            text,
            terms,
            len,
            page,
        }
    }
}

/// Lower-cased alphanumeric words, lightly stemmed.
pub(crate) fn tokens(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| stem(w.to_lowercase()))
        .collect()
}

/// Strips the commonest English endings, so "refunded", "refunds" and "refund"
/// match; crude, but ranking only needs the same word to meet itself.
fn stem(mut w: String) -> String {
    let n = w.chars().count();
    if n > 4 && w.ends_with("ies") {
        w.truncate(w.len() - 3);
        w.push('y');
    } else if n > 5 && w.ends_with("ing") {
        w.truncate(w.len() - 3);
    } else if n > 4 && w.ends_with("ed") {
        w.truncate(w.len() - 2);
    } else if n > 3 && w.ends_with('s') && !w.ends_with("ss") {
        w.truncate(w.len() - 1);
    }
    w
}

/// Distinct words worth ranking by.
pub(crate) fn query_terms(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in tokens(text) {
        if !STOPWORDS.contains(&t.as_str()) && !out.contains(&t) {
            out.push(t);
        }
    }
    out
}

/// A rough token count (about four characters per token), for `usage`.
pub(crate) fn token_estimate(text: &str) -> u64 {
    (text.chars().count() as u64).div_ceil(4)
}

/// The chunks of a file's pages (the first page is 1). A chunk never spans two
/// pages, so every snippet and citation names exactly the page it came from.
pub(crate) fn chunk_pages(pages: &[String]) -> Vec<Chunk> {
    pages
        .iter()
        .zip(1u32..)
        .flat_map(|(text, page)| {
            chunk_text(text)
                .into_iter()
                .map(move |c| Chunk::new(c, page))
        })
        .collect()
}

/// Paragraphs (blank-line separated), merged up to [`CHUNK_WORDS`] words; a longer
/// paragraph is split on word boundaries.
fn chunk_text(text: &str) -> Vec<String> {
    let mut chunks = Vec::new();
    let mut current = String::new();
    let mut words = 0;
    let flush = |current: &mut String, words: &mut usize, chunks: &mut Vec<String>| {
        if !current.trim().is_empty() {
            chunks.push(current.trim().to_owned());
        }
        current.clear();
        *words = 0;
    };
    for para in text.replace("\r\n", "\n").split("\n\n") {
        let n = para.split_whitespace().count();
        if n == 0 {
            continue;
        }
        if words + n > CHUNK_WORDS && words > 0 {
            flush(&mut current, &mut words, &mut chunks);
        }
        if n > CHUNK_WORDS {
            let all: Vec<&str> = para.split_whitespace().collect();
            for piece in all.chunks(CHUNK_WORDS) {
                chunks.push(piece.join(" "));
            }
            continue;
        }
        if !current.is_empty() {
            current.push_str("\n\n");
        }
        current.push_str(para.trim());
        words += n;
    }
    flush(&mut current, &mut words, &mut chunks);
    chunks
}

/// BM25 scores of `chunks` for `terms`, as `(index, score)` with score > 0, best
/// first; ties keep document order so answers are deterministic.
pub(crate) fn rank(chunks: &[&Chunk], terms: &[String]) -> Vec<(usize, f64)> {
    const K1: f64 = 1.2;
    const B: f64 = 0.75;
    let n = chunks.len() as f64;
    if chunks.is_empty() || terms.is_empty() {
        return Vec::new();
    }
    let avg = chunks.iter().map(|c| c.len).sum::<usize>() as f64 / n;
    let idf: Vec<f64> = terms
        .iter()
        .map(|t| {
            let df = chunks.iter().filter(|c| c.terms.contains_key(t)).count() as f64;
            ((n - df + 0.5) / (df + 0.5) + 1.0).ln()
        })
        .collect();
    let mut scored: Vec<(usize, f64)> = chunks
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let s = terms
                .iter()
                .zip(&idf)
                .map(|(t, idf)| {
                    let tf = f64::from(c.terms.get(t).copied().unwrap_or(0));
                    idf * tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * c.len as f64 / avg.max(1.0)))
                })
                .sum::<f64>();
            (i, s)
        })
        .filter(|(_, s)| *s > 0.0)
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    scored
}

/// A BM25 score mapped into 0..1, the range the real service reports.
pub(crate) fn normalise(score: f64) -> f64 {
    (score / (score + 2.0) * 10_000.0).round() / 10_000.0
}

/// Sentences of a snippet, for answers and facts. Markdown headings are left
/// out (they name a topic but state nothing); lines wrapped inside a paragraph are
/// joined; bullets, quotes and table rows each stand alone, without decoration.
pub(crate) fn sentences(text: &str) -> Vec<String> {
    let mut units: Vec<String> = Vec::new();
    let mut para = String::new();
    let flush = |para: &mut String, units: &mut Vec<String>| {
        if !para.is_empty() {
            units.push(std::mem::take(para));
        }
    };
    for line in text.lines() {
        let line = line.trim();
        let block = line.starts_with(['-', '*', '>', '|', '+']);
        if line.is_empty() || line.starts_with('#') || block {
            flush(&mut para, &mut units);
        }
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let clean = line
            .trim_start_matches(['>', '-', '*', '|', '+', ' '])
            .trim_end_matches(['|', ' ']);
        if clean.is_empty() || clean.chars().all(|c| "-|: ".contains(c)) {
            continue;
        }
        if block {
            units.push(clean.to_owned());
        } else {
            if !para.is_empty() {
                para.push(' ');
            }
            para.push_str(clean);
        }
    }
    flush(&mut para, &mut units);
    let mut out = Vec::new();
    for unit in units {
        let mut start = 0;
        let chars: Vec<(usize, char)> = unit.char_indices().collect();
        for (k, (i, c)) in chars.iter().enumerate() {
            let next_is_space = chars.get(k + 1).is_none_or(|(_, n)| n.is_whitespace());
            if matches!(c, '.' | '!' | '?') && next_is_space {
                let s = unit[start..i + c.len_utf8()].trim();
                if !s.is_empty() {
                    out.push(s.to_owned());
                }
                start = i + c.len_utf8();
            }
        }
        let rest = unit[start..].trim();
        if !rest.is_empty() {
            // A bullet or a line without a full stop still reads as a sentence.
            out.push(format!("{rest}."));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_rank_and_split() {
        let doc = "# Refunds\n\nAnnual plans can be refunded within 30 days.\n\n## Shipping\n\nParcels ship in 2 days.";
        let chunks = chunk_pages(&[doc.to_owned()]);
        assert_eq!(chunks.len(), 1);
        let other = Chunk::new("Parcels and boxes ship worldwide.".into(), 1);
        let all = [&chunks[0], &other];
        let ranked = rank(
            &all,
            &query_terms("How long is the refund window for annual plans?"),
        );
        assert_eq!(ranked[0].0, 0);
        assert_eq!(ranked.len(), 1);
        assert_eq!(
            sentences(&chunks[0].text),
            [
                "Annual plans can be refunded within 30 days.",
                "Parcels ship in 2 days."
            ]
        );
        assert_eq!(
            sentences("A wrapped\nsentence. Next one!\n- a bullet\n| cell | x |\n|---|---|"),
            ["A wrapped sentence.", "Next one!", "a bullet.", "cell | x."]
        );
        let long = "word ".repeat(300);
        assert_eq!(chunk_text(&long).len(), 3);
    }

    #[test]
    fn chunks_keep_their_page() {
        let pages = [
            "First page text.".to_owned(),
            String::new(),
            "Third page.\n\nMore on three.".to_owned(),
        ];
        let chunks = chunk_pages(&pages);
        let on: Vec<u32> = chunks.iter().map(|c| c.page).collect();
        assert_eq!(on, [1, 3]);
        assert_eq!(chunks[1].text, "Third page.\n\nMore on three.");
    }
}
