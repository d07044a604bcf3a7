//! A `multipart/form-data` reader for upload bodies.

/// One part of a form.
#[derive(Debug)]
pub(crate) struct Part {
    pub name: String,
    pub filename: Option<String>,
    pub data: Vec<u8>,
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// The parameters of a header value, split at the `;` outside double quotes
/// (a quoted file name may hold `;`).
fn params(header: &str) -> impl Iterator<Item = &str> {
    let mut pieces = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in header.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ';' if !quoted => {
                pieces.push(&header[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    pieces.push(&header[start..]);
    pieces.into_iter().skip(1)
}

/// The value of `key="value"` or `key=value` in a header's parameters.
fn param(header: &str, key: &str) -> Option<String> {
    for piece in params(header) {
        let (k, v) = piece.trim().split_once('=')?;
        if k.trim().eq_ignore_ascii_case(key) {
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .map(|v| v.replace("\\\\", "\\").replace("%22", "\""))
                .unwrap_or_else(|| v.to_owned());
            return Some(v);
        }
    }
    None
}

/// Splits a form body into parts.
pub(crate) fn parse(content_type: Option<&str>, body: &[u8]) -> Result<Vec<Part>, String> {
    let ct = content_type.ok_or("Content-Type multipart/form-data is required")?;
    if !ct
        .trim()
        .to_ascii_lowercase()
        .starts_with("multipart/form-data")
    {
        return Err(format!("expected multipart/form-data, got {ct}"));
    }
    let boundary = param(ct, "boundary").ok_or("the multipart boundary is missing")?;
    let delim = format!("--{boundary}").into_bytes();
    let mut next_delim = b"\r\n".to_vec();
    next_delim.extend_from_slice(&delim);
    let mut pos = find(body, &delim, 0).ok_or("the body has no multipart boundary")? + delim.len();
    let mut parts = Vec::new();
    loop {
        if body.get(pos..pos + 2) == Some(b"--") {
            return Ok(parts);
        }
        if body.get(pos..pos + 2) != Some(b"\r\n") {
            return Err("malformed multipart body".into());
        }
        pos += 2;
        let head_end = find(body, b"\r\n\r\n", pos).ok_or("a multipart part has no header end")?;
        let head = String::from_utf8_lossy(&body[pos..head_end]).into_owned();
        let data_start = head_end + 4;
        let data_end =
            find(body, &next_delim, data_start).ok_or("a multipart part is not terminated")?;
        let disposition = head
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition:"))
            .ok_or("a multipart part has no Content-Disposition")?;
        parts.push(Part {
            name: param(disposition, "name").ok_or("a multipart part has no name")?,
            filename: param(disposition, "filename"),
            data: body[data_start..data_end].to_vec(),
        });
        pos = data_end + next_delim.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_semicolon_inside_a_quoted_file_name_is_part_of_the_name() {
        let cd = r#"form-data; name="file"; filename="notes;v2 \\ x.md""#;
        assert_eq!(param(cd, "filename").as_deref(), Some(r"notes;v2 \ x.md"));
        assert_eq!(param(cd, "name").as_deref(), Some("file"));
    }

    #[test]
    fn reads_file_and_metadata_parts() {
        let body = b"--b1\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a %22q%22.md\"\r\nContent-Type: text/markdown\r\n\r\nhello\r\n--b1\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n{\"team\": \"x\"}\r\n--b1--\r\n";
        let parts = parse(Some("multipart/form-data; boundary=b1"), body).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].filename.as_deref(), Some("a \"q\".md"));
        assert_eq!(parts[0].data, b"hello");
        assert_eq!(parts[1].name, "metadata");
        assert_eq!(parts[1].data, b"{\"team\": \"x\"}");
        assert!(parse(Some("application/json"), body).is_err());
        assert!(parse(Some("multipart/form-data; boundary=zz"), body).is_err());
    }
}
