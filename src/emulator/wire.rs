//! Small wire helpers shared by the emulator's handlers: error bodies, URL
//! decoding, timestamps, ids, base64 and CRC32C.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

/// What a handler answers; the server turns it into bytes on the socket.
#[derive(Debug)]
pub(crate) enum Reply {
    /// A JSON body with a status and extra headers.
    Json {
        status: u16,
        body: Value,
        headers: Vec<(&'static str, String)>,
    },
    /// A status without a body.
    Empty(u16),
    /// Raw bytes (a file download).
    Bytes {
        content_type: &'static str,
        data: std::sync::Arc<Vec<u8>>,
    },
    /// An SSE stream of `data:` payloads, optionally ended by `data: [DONE]`.
    Stream(StreamBody),
}

/// The events of an SSE answer, computed up front so that the transport (pacing,
/// heartbeats, injected cuts) stays separate from what is said.
#[derive(Debug)]
pub(crate) struct StreamBody {
    /// Each `data:` payload, in order.
    pub events: Vec<String>,
    /// Whether `data: [DONE]` follows the events (chat completions).
    pub done_marker: bool,
}

impl Reply {
    pub(crate) fn ok(body: Value) -> Self {
        Self::Json {
            status: 200,
            body,
            headers: Vec::new(),
        }
    }

    pub(crate) fn with_status(status: u16, body: Value) -> Self {
        Self::Json {
            status,
            body,
            headers: Vec::new(),
        }
    }
}

/// The `ErrorResponse` shape the real control and data planes use.
pub(crate) fn error(status: u16, code: &str, message: impl Into<String>) -> Reply {
    Reply::with_status(
        status,
        json!({"error": {"code": code, "message": message.into()}, "status": status}),
    )
}

pub(crate) fn not_found(message: impl Into<String>) -> Reply {
    error(404, "NOT_FOUND", message)
}

pub(crate) fn invalid(message: impl Into<String>) -> Reply {
    error(400, "INVALID_ARGUMENT", message)
}

/// Decodes `%XX` escapes; invalid escapes are kept literally and invalid UTF-8 is
/// replaced, because a name that cannot be decoded simply matches nothing.
pub(crate) fn percent_decode(s: &str, plus_is_space: bool) -> String {
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    if plus_is_space {
        // A `+` is a space only where it was written as `+`: `%2B` stays a `+`.
        decode(&s.replace('+', " "))
    } else {
        decode(s)
    }
}

/// `a=1&b=x+y` → pairs, form-decoded.
pub(crate) fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k, true), percent_decode(v, true))
        })
        .collect()
}

/// RFC 3339 UTC with microseconds, as the real API writes timestamps.
pub(crate) fn timestamp(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, day) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        d.subsec_micros()
    )
}

pub(crate) fn now() -> String {
    timestamp(SystemTime::now())
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// A small deterministic generator (splitmix64): ids repeat across runs with the
/// same seed, which keeps fixtures and logs comparable.
#[derive(Debug)]
pub(crate) struct Ids(u64);

impl Ids {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A version-4-shaped UUID.
    pub(crate) fn uuid(&mut self) -> String {
        let (a, b) = (self.next(), self.next());
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0x0fff,
            ((b >> 48) & 0x3fff) | 0x8000,
            b & 0xffff_ffff_ffff
        )
    }

    /// 32 hex digits, the shape of chat response ids.
    pub(crate) fn hex32(&mut self) -> String {
        format!("{:016x}{:016x}", self.next(), self.next())
    }
}

pub(crate) fn base64(data: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(data)
}

pub(crate) fn unbase64(s: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(s).ok()
}

/// CRC32C (Castagnoli), base64 of the big-endian value, as cloud storage reports it.
pub(crate) fn crc32c(data: &[u8]) -> String {
    let mut crc = !0u32;
    for b in data {
        crc ^= u32::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0x82F6_3B78
            } else {
                crc >> 1
            };
        }
    }
    base64(&(!crc).to_be_bytes())
}

/// An opaque continuation token for the item at `offset`.
pub(crate) fn page_token(offset: usize) -> String {
    base64(format!("{{\"offset\":{offset}}}").as_bytes())
}

/// The offset inside a token made by [`page_token`].
pub(crate) fn page_offset(token: &str) -> Option<usize> {
    let raw = String::from_utf8(unbase64(token)?).ok()?;
    let v: Value = serde_json::from_str(&raw).ok()?;
    usize::try_from(v.get("offset")?.as_u64()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers_match_known_values() {
        assert_eq!(crc32c(b"123456789"), base64(&0xE306_9283u32.to_be_bytes()));
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(unbase64("YWI=").unwrap(), b"ab");
        assert_eq!(page_offset(&page_token(42)), Some(42));
        assert_eq!(page_token(2), "eyJvZmZzZXQiOjJ9");
        assert_eq!(percent_decode("a%2Fb%20c+d%zz", false), "a/b c+d%zz");
        assert_eq!(percent_decode("a+b%2B", true), "a b+");
        let t = UNIX_EPOCH + std::time::Duration::from_millis(1_783_160_412_250);
        assert_eq!(timestamp(t), "2026-07-04T10:20:12.250000Z");
        let mut ids = Ids::new(7);
        let id = ids.uuid();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert_eq!(Ids::new(7).uuid(), id);
    }
}
