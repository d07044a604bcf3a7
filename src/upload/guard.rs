//! The reader that feeds the file bytes of an upload to the connection.
//!
//! It holds a source to the length declared in `Content-Length`: a source that
//! ends early fails at once with `UnexpectedEof` (without this ureq would wait for
//! the missing bytes, spinning, until a timeout), and a source that holds more is
//! refused before its last declared byte is sent, so the server never receives a
//! body that looks complete but is not. It also reports progress, and stops the
//! upload when the call's cancel handle fires.

use std::io::{self, Read};
use std::sync::{Arc, Mutex, PoisonError};

use crate::cancel::CancelHandle;
use crate::error::Error;

/// The progress callback: bytes of the file sent so far, and the file's length
/// when known.
pub(crate) type Progress = Arc<Mutex<Box<dyn FnMut(u64, Option<u64>) + Send>>>;

/// Wraps the file source of one attempt.
pub(crate) struct Guarded<R> {
    inner: R,
    /// The declared length; `None` for a source read to its end (chunked body).
    declared: Option<u64>,
    sent: u64,
    progress: Option<Progress>,
    /// Names the source in errors, e.g. `reading "notes.md"`.
    context: Arc<str>,
    finished: bool,
    cancel: Option<CancelHandle>,
}

impl<R: Read> Guarded<R> {
    pub(crate) fn new(
        inner: R,
        declared: Option<u64>,
        progress: Option<Progress>,
        context: Arc<str>,
    ) -> Self {
        Self {
            inner,
            declared,
            sent: 0,
            progress,
            context,
            finished: false,
            cancel: None,
        }
    }

    /// Fails the next read once `cancel` fires, so a long upload stops mid-body.
    pub(crate) fn cancel_with(mut self, cancel: Option<CancelHandle>) -> Self {
        self.cancel = cancel;
        self
    }

    /// An I/O error carrying our [`Error::Io`], which the transport unwraps again
    /// (and never retries: the same source would fail the same way).
    fn fail(&self, source: io::Error) -> io::Error {
        io::Error::new(
            source.kind(),
            Error::Io {
                context: self.context.to_string(),
                source,
            },
        )
    }

    fn report(&self, total: Option<u64>) {
        if let Some(p) = &self.progress {
            // A callback that panicked once still gets later reports.
            let mut cb = p.lock().unwrap_or_else(PoisonError::into_inner);
            cb(self.sent, total);
        }
    }

    fn read_inner(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.inner.read(buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.fail(e)),
                Ok(n) => return Ok(n),
            }
        }
    }
}

impl<R: Read> Read for Guarded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() || self.finished {
            return Ok(0);
        }
        if self.cancel.as_ref().is_some_and(CancelHandle::is_cancelled) {
            // Not `Interrupted`: std's read loops retry that kind.
            return Err(io::Error::other(Error::Cancelled));
        }
        let Some(len) = self.declared else {
            let n = self.read_inner(buf)?;
            self.sent += n as u64;
            if n == 0 {
                // The end is the first moment the total is known.
                self.finished = true;
                self.report(Some(self.sent));
            } else {
                self.report(None);
            }
            return Ok(n);
        };
        let remaining = len - self.sent;
        if remaining == 0 {
            // Only an empty file gets here: any other reaches its end below.
            self.finished = true;
            self.report(Some(len));
            return Ok(0);
        }
        let max = buf
            .len()
            .min(usize::try_from(remaining).unwrap_or(usize::MAX));
        let n = self.read_inner(&mut buf[..max])?;
        if n == 0 {
            return Err(self.fail(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "the source ended after {} of its {len} declared bytes",
                    self.sent
                ),
            )));
        }
        self.sent += n as u64;
        if self.sent == len {
            // Check for surplus before these last bytes go out: once the declared
            // length is written the request is complete and the surplus would be
            // silently cut off.
            let mut probe = [0u8; 1];
            if self.read_inner(&mut probe)? != 0 {
                return Err(self.fail(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("the source holds more than its {len} declared bytes"),
                )));
            }
            self.finished = true;
        }
        self.report(Some(len));
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ours(e: &io::Error) -> String {
        let inner = e.get_ref().expect("wrapped error");
        assert!(inner.is::<Error>());
        inner.to_string()
    }

    type Calls = Arc<Mutex<Vec<(u64, Option<u64>)>>>;

    fn recorder() -> (Progress, Calls) {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let log = calls.clone();
        let p: Progress = Arc::new(Mutex::new(Box::new(move |s, t| {
            log.lock().unwrap().push((s, t))
        })));
        (p, calls)
    }

    #[test]
    fn exact_source_passes_and_reports_to_the_total() {
        let (p, calls) = recorder();
        let mut g = Guarded::new(&b"hello world"[..], Some(11), Some(p), "reading x".into());
        let mut out = Vec::new();
        let mut buf = [0u8; 4];
        loop {
            let n = g.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        assert_eq!(out, b"hello world");
        let calls = calls.lock().unwrap();
        assert_eq!(calls.last(), Some(&(11, Some(11))));
        assert_eq!(calls.len(), 3);
    }

    #[test]
    fn short_source_fails_with_unexpected_eof() {
        let mut g = Guarded::new(&b"abc"[..], Some(5), None, "reading \"n.md\"".into());
        let mut buf = [0u8; 16];
        assert_eq!(g.read(&mut buf).unwrap(), 3);
        let err = g.read(&mut buf).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        let text = ours(&err);
        assert!(text.contains("reading \"n.md\""), "{text}");
        assert!(text.contains("after 3 of its 5 declared bytes"), "{text}");
    }

    #[test]
    fn long_source_is_refused_before_its_last_bytes() {
        let mut g = Guarded::new(&b"abcdef"[..], Some(4), None, "reading x".into());
        let mut buf = [0u8; 16];
        let err = g.read(&mut buf).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(ours(&err).contains("more than its 4 declared bytes"));
    }

    #[test]
    fn unknown_length_reports_the_total_at_the_end() {
        let (p, calls) = recorder();
        let mut g = Guarded::new(&b"12345"[..], None, Some(p), "reading x".into());
        let mut out = Vec::new();
        g.read_to_end(&mut out).unwrap();
        assert_eq!(out, b"12345");
        let calls = calls.lock().unwrap();
        assert_eq!(calls.first(), Some(&(5, None)));
        assert_eq!(calls.last(), Some(&(5, Some(5))));
    }

    #[test]
    fn empty_file_reports_once() {
        let (p, calls) = recorder();
        let mut g = Guarded::new(&b""[..], Some(0), Some(p), "reading x".into());
        assert_eq!(g.read(&mut [0u8; 8]).unwrap(), 0);
        assert_eq!(g.read(&mut [0u8; 8]).unwrap(), 0);
        assert_eq!(*calls.lock().unwrap(), vec![(0, Some(0))]);
    }

    #[test]
    fn cancel_stops_the_next_read() {
        let cancel = CancelHandle::new();
        let mut g = Guarded::new(&b"abcdef"[..], Some(6), None, "reading x".into())
            .cancel_with(Some(cancel.clone()));
        assert_eq!(g.read(&mut [0u8; 2]).unwrap(), 2);
        cancel.cancel();
        let err = g.read(&mut [0u8; 2]).unwrap_err();
        assert!(matches!(
            err.get_ref().and_then(|e| e.downcast_ref::<Error>()),
            Some(Error::Cancelled)
        ));
    }

    #[test]
    fn read_errors_name_the_source() {
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::other("disk on fire"))
            }
        }
        let mut g = Guarded::new(Broken, Some(3), None, "reading \"a.md\"".into());
        let err = g.read(&mut [0u8; 8]).unwrap_err();
        let text = ours(&err);
        assert!(text.contains("reading \"a.md\"") && text.contains("disk on fire"));
    }
}
