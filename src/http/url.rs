//! URL building: host normalisation, path segments and query strings.

use std::fmt::Write;

use crate::error::{Error, Result};

/// Normalises a host (docs/wire/hosts-and-headers.md): nested schemes collapse to the
/// innermost one, a bare host gets `https://`, `http://` is kept, and trailing `/`
/// characters go.
pub(crate) fn normalize_host(raw: &str) -> String {
    let mut host = raw.trim();
    loop {
        let rest = host
            .strip_prefix("https://")
            .or_else(|| host.strip_prefix("http://"));
        match rest {
            Some(rest) if rest.starts_with("https://") || rest.starts_with("http://") => {
                host = rest
            }
            _ => break,
        }
    }
    let (scheme, rest) = match host.strip_prefix("http://") {
        Some(rest) => ("http://", rest),
        None => ("https://", host.strip_prefix("https://").unwrap_or(host)),
    };
    // Trimmed after the scheme, so that a bare scheme is empty rather than a host
    // called "https:".
    let rest = rest.trim_end_matches('/');
    if rest.is_empty() {
        String::new()
    } else {
        format!("{scheme}{rest}")
    }
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

fn encode_into(out: &mut String, value: &str) {
    for &b in value.as_bytes() {
        if is_unreserved(b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

/// Appends `value` to `out` as one percent-encoded path segment (after a `/`).
///
/// Every byte outside the unreserved set is escaped, so `/`, `?`, `#` and `%` cannot
/// change the target; `.` and `..` are escaped whole so no URL normalisation can
/// remove them. An empty value is refused: it would address another resource.
pub(crate) fn push_segment(out: &mut String, name: &'static str, value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(Error::invalid(name, "must not be empty"));
    }
    out.push('/');
    match value {
        "." => out.push_str("%2E"),
        ".." => out.push_str("%2E%2E"),
        _ => encode_into(out, value),
    }
    Ok(())
}

/// Builds a form-style query string (`?a=1&b=x%2By`), empty when there are no
/// parameters.
#[derive(Default)]
pub(crate) struct Query {
    text: String,
}

impl Query {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Adds `key=value`, escaping everything outside the unreserved set.
    pub(crate) fn push(&mut self, key: &str, value: &str) -> &mut Self {
        self.text.push(if self.text.is_empty() { '?' } else { '&' });
        encode_into(&mut self.text, key);
        self.text.push('=');
        encode_into(&mut self.text, value);
        self
    }

    /// Adds `key=value` when `value` is `Some`.
    pub(crate) fn push_opt(&mut self, key: &str, value: Option<impl ToString>) -> &mut Self {
        if let Some(v) = value {
            self.push(key, &v.to_string());
        }
        self
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_normalisation() {
        assert_eq!(
            normalize_host("prod-1-data.ke.pinecone.io"),
            "https://prod-1-data.ke.pinecone.io"
        );
        assert_eq!(
            normalize_host("https://https://https://foo.io"),
            "https://foo.io"
        );
        assert_eq!(normalize_host("http://https://foo.io"), "https://foo.io");
        assert_eq!(
            normalize_host("http://localhost:8080"),
            "http://localhost:8080"
        );
        assert_eq!(
            normalize_host("https://gw.example/pc//"),
            "https://gw.example/pc"
        );
        assert_eq!(normalize_host(""), "");
        assert_eq!(normalize_host("https://"), "");
        assert_eq!(normalize_host("http:///"), "");
    }

    fn seg(v: &str) -> String {
        let mut s = String::new();
        push_segment(&mut s, "name", v).unwrap();
        s
    }

    #[test]
    fn hostile_segments_stay_one_segment() {
        let encoded = ["a/b?c#d%e f", "é", "..", ".", "a..b"].map(seg);
        let expected = [
            "/a%2Fb%3Fc%23d%25e%20f",
            "/%C3%A9",
            "/%2E%2E",
            "/%2E",
            "/a..b",
        ];
        assert_eq!(encoded, expected);
        assert!(matches!(
            push_segment(&mut String::new(), "assistant_name", ""),
            Err(Error::InvalidArgument { name, .. }) if name == "assistant_name"
        ));
    }

    #[test]
    fn query_escaping() {
        let mut q = Query::new();
        assert_eq!(q.as_str(), "");
        q.push("pagination_token", "tok en/+&")
            .push_opt("limit", Some(3))
            .push_opt("x", None::<u8>);
        assert_eq!(q.as_str(), "?pagination_token=tok%20en%2F%2B%26&limit=3");
    }
}
