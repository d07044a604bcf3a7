//! Writing results: JSON for scripts (one document, or one object a line for
//! lists and streams), aligned tables and `key: value` lines for people.

use std::io::Write;

use serde::Serialize;

use crate::exit::Failure;

/// Where results go, and in which form.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    pub json: bool,
}

impl Output {
    /// Writes `text` to stdout as it is.
    pub fn text(&self, text: &str) -> Result<(), Failure> {
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .map_err(Failure::output)
    }

    /// Writes `value` as one line of compact JSON.
    pub fn json_line(&self, value: &impl Serialize) -> Result<(), Failure> {
        let text =
            serde_json::to_string(value).map_err(|e| Failure::output(std::io::Error::other(e)))?;
        self.text(&format!("{text}\n"))
    }

    /// A single result: JSON with `--json`, else what `human` makes of it.
    pub fn one<T: Serialize>(
        &self,
        value: &T,
        human: impl FnOnce(&T) -> String,
    ) -> Result<(), Failure> {
        if self.json {
            self.json_line(value)
        } else {
            self.text(&human(value))
        }
    }

    /// A list: JSON lines with `--json`, else a table with `headers` whose rows
    /// `row` makes; `empty` when there is nothing to show.
    pub fn list<T: Serialize>(
        &self,
        items: &[T],
        headers: &[&str],
        row: impl Fn(&T) -> Vec<String>,
        empty: &str,
    ) -> Result<(), Failure> {
        if self.json {
            return items.iter().try_for_each(|item| self.json_line(item));
        }
        if items.is_empty() {
            return self.text(&format!("{empty}\n"));
        }
        let rows: Vec<Vec<String>> = items.iter().map(row).collect();
        self.text(&table(headers, &rows))
    }
}

/// Columns aligned on the widest cell; the last column is not padded.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let last = cells.len().saturating_sub(1);
        let mut text = String::new();
        for (i, (cell, width)) in cells.iter().zip(&widths).enumerate() {
            if i == last {
                text.push_str(cell);
            } else {
                text.push_str(&format!("{cell:<width$}  "));
            }
        }
        text.trim_end().to_owned() + "\n"
    };
    let mut text = line(headers.to_vec());
    for row in rows {
        text.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    text
}

/// `key: value` lines for the fields that have a value, keys aligned.
pub fn fields(pairs: &[(&str, Option<String>)]) -> String {
    let width = pairs.iter().map(|(k, _)| k.len()).max().unwrap_or(0) + 1;
    let mut text = String::new();
    for (key, value) in pairs {
        if let Some(value) = value {
            text.push_str(&format!("{:<width$} {value}\n", format!("{key}:")));
        }
    }
    text
}

/// A cell for an optional value: the value, or `-`.
pub fn or_dash(value: Option<impl ToString>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_their_columns() {
        let rows = vec![
            vec!["docs".to_owned(), "Ready".to_owned(), "us".to_owned()],
            vec!["a-longer-name".to_owned(), "-".to_owned(), "eu".to_owned()],
        ];
        assert_eq!(
            table(&["NAME", "STATUS", "REGION"], &rows),
            "NAME           STATUS  REGION\n\
             docs           Ready   us\n\
             a-longer-name  -       eu\n"
        );
    }

    #[test]
    fn fields_skip_missing_values() {
        let text = fields(&[
            ("name", Some("docs".into())),
            ("host", None),
            ("status", Some("Ready".into())),
        ]);
        assert_eq!(text, "name:   docs\nstatus: Ready\n");
    }
}
