//! A server-sent events parser over any [`BufRead`].
//!
//! It follows the SSE format: lines end in CRLF, LF or CR; `data:` lines (one
//! optional space after the colon stripped) accumulate, joined with `\n`; `event:`
//! and `id:` set the event's type and id; lines starting with `:` are comments
//! (heartbeats) and other fields are ignored; an event is dispatched at the blank
//! line that ends it, or at the end of the body. An event with no `data` line is
//! not dispatched.
//!
//! The parser never reads past the blank line that ends an event: each event is
//! returned as soon as its bytes are in, however the bytes were split into reads.
//! Buffers are reused from event to event, and one event's size is capped.

use std::io::{BufRead, ErrorKind};

use crate::error::{Error, Result};
use crate::http::map_transport;

/// The default cap on one event (data plus the line being read).
pub(crate) const DEFAULT_MAX_EVENT_BYTES: usize =
    crate::config::DEFAULT_STREAM_EVENT_LIMIT as usize;

/// One dispatched event, borrowing the parser's buffers.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Event<'a> {
    /// The `data` lines joined with `\n`.
    pub data: &'a [u8],
    /// The `event` field, empty when not given (the SSE default type `message`).
    // The chat streams decode by payload `type`, as the service's events carry no
    // meaningful `event:` or `id:`; these are parsed for completeness and tests.
    #[cfg_attr(not(test), allow(dead_code))]
    pub event: &'a [u8],
    /// The last `id` field seen in the stream, empty when none.
    #[cfg_attr(not(test), allow(dead_code))]
    pub id: &'a [u8],
}

/// The fields of the event being assembled.
#[derive(Default)]
struct Fields {
    data: Vec<u8>,
    has_data: bool,
    event: Vec<u8>,
    id: Vec<u8>,
}

impl Fields {
    /// Handles one line without its terminator; `true` for a blank line.
    fn line(&mut self, line: &[u8], max: usize) -> Result<bool> {
        if line.is_empty() {
            return Ok(true);
        }
        if line[0] == b':' {
            return Ok(false);
        }
        let (name, value) = match memchr::memchr(b':', line) {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &b""[..]),
        };
        match name {
            b"data" => {
                if self.data.len() + value.len() + 1 > max {
                    return Err(too_big(max));
                }
                if self.has_data {
                    self.data.push(b'\n');
                }
                self.data.extend_from_slice(value);
                self.has_data = true;
            }
            b"event" => {
                self.event.clear();
                self.event.extend_from_slice(value);
            }
            // An id with a NUL is ignored, as the SSE format says.
            b"id" if !value.contains(&0) => {
                self.id.clear();
                self.id.extend_from_slice(value);
            }
            _ => {}
        }
        Ok(false)
    }

    fn reset(&mut self) {
        self.data.clear();
        self.event.clear();
        self.has_data = false;
    }

    fn event(&self) -> Event<'_> {
        Event {
            data: &self.data,
            event: &self.event,
            id: &self.id,
        }
    }
}

fn too_big(max: usize) -> Error {
    Error::Stream(format!(
        "an event is larger than the {max}-byte limit; the stream was stopped \
         (raise `stream_event_limit` if such events are expected)"
    ))
}

/// Reads events from `R`.
pub(crate) struct SseReader<R> {
    reader: R,
    /// A line whose end has not arrived yet.
    partial: Vec<u8>,
    fields: Fields,
    /// The last line ended in CR, so an LF at the start of the next read belongs
    /// to it. Kept as a flag so that a CR at the end of a read never makes the
    /// parser wait for the next byte.
    skip_lf: bool,
    /// Nothing read yet: a leading byte-order mark is still to be dropped.
    at_start: bool,
    ended: bool,
    max_event_bytes: usize,
}

impl<R: BufRead> SseReader<R> {
    #[cfg(test)]
    pub(crate) fn new(reader: R) -> Self {
        Self::with_limit(reader, DEFAULT_MAX_EVENT_BYTES)
    }

    pub(crate) fn with_limit(reader: R, max_event_bytes: usize) -> Self {
        Self {
            reader,
            partial: Vec::new(),
            fields: Fields::default(),
            skip_lf: false,
            at_start: true,
            ended: false,
            max_event_bytes,
        }
    }

    /// The next event, or `None` at the end of the body.
    ///
    /// # Errors
    ///
    /// A read failure ([`Error::Timeout`], [`Error::Transport`]) or an event over
    /// the size cap ([`Error::Stream`]).
    pub(crate) fn next_event(&mut self) -> Result<Option<Event<'_>>> {
        if self.ended {
            return Ok(None);
        }
        self.fields.reset();
        let max = self.max_event_bytes;
        loop {
            let buf = match self.reader.fill_buf() {
                Ok(buf) => buf,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(map_transport(ureq::Error::from(e))),
            };
            if buf.is_empty() {
                self.ended = true;
                if !self.partial.is_empty() {
                    let line = std::mem::take(&mut self.partial);
                    self.fields.line(&line, max)?;
                }
                return Ok(self.fields.has_data.then(|| self.fields.event()));
            }
            let mut start = 0;
            if self.at_start {
                // The SSE format allows one UTF-8 byte-order mark before the first
                // line. (A mark split across reads is not worth the bookkeeping.)
                self.at_start = false;
                if buf.starts_with(b"\xEF\xBB\xBF") {
                    start = 3;
                }
            }
            if self.skip_lf {
                self.skip_lf = false;
                if buf[0] == b'\n' {
                    start = 1;
                }
            }
            if start == buf.len() {
                self.reader.consume(start);
                continue;
            }
            let Some(at) = memchr::memchr2(b'\n', b'\r', &buf[start..]) else {
                // No line end yet: keep the fragment and read on.
                if self.partial.len() + buf.len() - start + self.fields.data.len() > max {
                    return Err(too_big(max));
                }
                self.partial.extend_from_slice(&buf[start..]);
                let used = buf.len();
                self.reader.consume(used);
                continue;
            };
            let end = start + at;
            let blank = if self.partial.is_empty() {
                self.fields.line(&buf[start..end], max)?
            } else {
                if self.partial.len() + (end - start) + self.fields.data.len() > max {
                    return Err(too_big(max));
                }
                self.partial.extend_from_slice(&buf[start..end]);
                let blank = self.fields.line(&self.partial, max)?;
                self.partial.clear();
                blank
            };
            let mut used = end + 1;
            if buf[end] == b'\r' {
                match buf.get(end + 1) {
                    Some(b'\n') => used += 1,
                    Some(_) => {}
                    None => self.skip_lf = true,
                }
            }
            self.reader.consume(used);
            if blank {
                if self.fields.has_data {
                    return Ok(Some(self.fields.event()));
                }
                // A blank line ending an event without data dispatches nothing.
                self.fields.reset();
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::BufReader;

    /// A reader that hands out its bytes in the given piece sizes.
    pub(crate) struct Pieces {
        bytes: Vec<u8>,
        sizes: Vec<usize>,
        pos: usize,
        turn: usize,
    }

    impl Pieces {
        pub(crate) fn new(bytes: &[u8], sizes: Vec<usize>) -> Self {
            Self {
                bytes: bytes.to_vec(),
                sizes,
                pos: 0,
                turn: 0,
            }
        }
    }

    impl std::io::Read for Pieces {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let size = if self.sizes.is_empty() {
                usize::MAX
            } else {
                self.sizes[self.turn % self.sizes.len()].max(1)
            };
            self.turn += 1;
            let n = size.min(out.len()).min(self.bytes.len() - self.pos);
            out[..n].copy_from_slice(&self.bytes[self.pos..self.pos + n]);
            self.pos += n;
            Ok(n)
        }
    }

    type Owned = (String, String, String);

    fn all(reader: impl BufRead) -> Result<Vec<Owned>> {
        let mut sse = SseReader::new(reader);
        let mut out = Vec::new();
        while let Some(e) = sse.next_event()? {
            let s = |b: &[u8]| String::from_utf8(b.to_vec()).unwrap();
            out.push((s(e.data), s(e.event), s(e.id)));
        }
        Ok(out)
    }

    fn data(bytes: &[u8]) -> Vec<String> {
        all(bytes).unwrap().into_iter().map(|e| e.0).collect()
    }

    #[test]
    fn line_endings_comments_and_multiline_data() {
        let body =
            b": keep-alive\r\ndata: a\r\n\r\ndata:b\rdata:  c\r\revent: x\nid: 7\ndata: {}\n\n";
        let events = all(&body[..]).unwrap();
        assert_eq!(
            events,
            vec![
                ("a".into(), "".into(), "".into()),
                ("b\n c".into(), "".into(), "".into()),
                ("{}".into(), "x".into(), "7".into()),
            ]
        );
    }

    #[test]
    fn a_leading_byte_order_mark_is_dropped() {
        assert_eq!(data(b"\xEF\xBB\xBFdata: 1\n\n"), vec!["1"]);
        assert_eq!(data(b"\xEF\xBB\xBF"), Vec::<String>::new());
    }

    #[test]
    fn fields_without_colon_and_unknown_fields() {
        assert_eq!(data(b"data\nretry: 10\nfoo: bar\n\n"), vec![""]);
        assert_eq!(data(b"event: only\n\n"), Vec::<String>::new());
    }

    #[test]
    fn last_event_without_blank_line_is_dispatched() {
        assert_eq!(data(b"data: 1\n\ndata: 2"), vec!["1", "2"]);
        assert_eq!(data(b"data: 1\n\ndata: 2\n"), vec!["1", "2"]);
    }

    #[test]
    fn crlf_split_across_reads_is_one_line_end() {
        let body = b"data: a\r\n\r\ndata: b\r\n\r\n";
        let reader = BufReader::new(Pieces::new(body, vec![8]));
        assert_eq!(all(reader).unwrap().len(), 2);
    }

    #[test]
    fn an_event_over_the_cap_is_an_error() {
        let body = format!("data: {}\n\n", "x".repeat(100));
        let mut sse = SseReader::with_limit(body.as_bytes(), 50);
        assert!(matches!(sse.next_event(), Err(Error::Stream(m)) if m.contains("50-byte")));
        let body = format!("data: {}", "x".repeat(100));
        let reader = BufReader::new(Pieces::new(body.as_bytes(), vec![7]));
        let mut sse = SseReader::with_limit(reader, 50);
        assert!(matches!(sse.next_event(), Err(Error::Stream(_))));
    }

    #[test]
    fn does_not_read_past_the_blank_line() {
        // The second read would fail: the first event must come out before it.
        struct Once(Option<&'static [u8]>);
        impl std::io::Read for Once {
            fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
                match self.0.take() {
                    Some(b) => {
                        out[..b.len()].copy_from_slice(b);
                        Ok(b.len())
                    }
                    None => Err(std::io::Error::other("read ahead")),
                }
            }
        }
        let mut sse = SseReader::new(BufReader::new(Once(Some(b"data: 1\r\n\r"))));
        assert_eq!(sse.next_event().unwrap().unwrap().data, b"1");
        assert!(sse.next_event().is_err());
    }
}
