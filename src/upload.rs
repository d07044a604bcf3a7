//! Uploads: the public [`UploadFile`] request and its streaming body.
//!
//! The body is a chain of readers — the multipart head, the guarded file source,
//! the tail — so a file of any size is sent in constant memory, with an exact
//! `Content-Length` whenever the source's length is known.

mod guard;
mod multipart;

use std::fmt;
use std::fs::File;
use std::io::{Cursor, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde_json::Value;

use crate::cancel::CancelHandle;
use crate::error::{Error, Result};
use crate::http::{BodySource, OpenBody};
use guard::{Guarded, Progress};
use multipart::Frame;

/// A file to upload to an assistant, from a path or from a reader, with its
/// options. Pass it to [`Assistant::upload_file`](crate::Assistant::upload_file).
///
/// The body is streamed: nothing is read into memory, whatever the file's size.
/// Arguments are checked when the upload runs, before any request.
///
/// Every constructor but one sends the body with a `Content-Length`, as the
/// official SDKs do: [`path`](Self::path), [`bytes`](Self::bytes),
/// [`seekable`](Self::seekable) (measured by seeking) and [`reader`](Self::reader)
/// (the length given). Only [`chunked_reader`](Self::chunked_reader), for a
/// stream whose length nobody knows, sends it chunked, which the service may
/// refuse; it logs a warning when it does.
///
/// ```
/// use pinecone_assistant::models::UploadFile;
/// use serde_json::json;
///
/// let upload = UploadFile::path("reports/q3.pdf")
///     .metadata(json!({"team": "finance"}))
///     .multimodal(true);
/// # let _ = upload;
/// ```
#[must_use]
pub struct UploadFile {
    pub(crate) source: Source,
    pub(crate) metadata: Option<Value>,
    pub(crate) multimodal: Option<bool>,
    pub(crate) file_id: Option<String>,
    pub(crate) progress: Option<Progress>,
    pub(crate) total_timeout: Option<Duration>,
}

/// Where the file bytes come from.
pub(crate) enum Source {
    Path(PathBuf),
    /// A reader that cannot rewind: sent at most once.
    Reader {
        reader: SharedReader,
        file_name: String,
        length: Option<u64>,
    },
    /// A reader that can rewind to where it stood when the upload began.
    Seekable {
        reader: Arc<Mutex<Box<dyn ReadSeek>>>,
        file_name: String,
    },
}

/// `Read + Seek + Send`, as one object-safe trait.
pub(crate) trait ReadSeek: Read + Seek + Send {}
impl<T: Read + Seek + Send> ReadSeek for T {}

impl fmt::Debug for UploadFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("UploadFile");
        match &self.source {
            Source::Path(p) => d.field("path", p),
            Source::Reader {
                file_name, length, ..
            } => d.field("reader", file_name).field("length", length),
            Source::Seekable { file_name, .. } => d.field("seekable_reader", file_name),
        };
        d.field("metadata", &self.metadata)
            .field("multimodal", &self.multimodal)
            .field("file_id", &self.file_id)
            .field("on_progress", &self.progress.as_ref().map(|_| "set"))
            .field("total_timeout", &self.total_timeout)
            .finish()
    }
}

impl UploadFile {
    fn with_source(source: Source) -> Self {
        Self {
            source,
            metadata: None,
            multimodal: None,
            file_id: None,
            progress: None,
            total_timeout: None,
        }
    }

    /// The file at `path`; the name sent is its last component. The file is opened
    /// again for every attempt, so a retried upload sends it whole again, with its
    /// length as `Content-Length`.
    ///
    /// ```
    /// use pinecone_assistant::models::UploadFile;
    /// let upload = UploadFile::path("handbook.md");
    /// # let _ = upload;
    /// ```
    pub fn path(path: impl Into<PathBuf>) -> Self {
        Self::with_source(Source::Path(path.into()))
    }

    /// The `length` bytes of `reader`, under `file_name`, sent with a
    /// `Content-Length`. The server types a file by the extension of its name, so
    /// `file_name` must have one (`notes.md`; not `notes`, `notes.` or `.md`). A
    /// reader that ends early or holds more fails the upload with [`Error::Io`]
    /// instead of sending a truncated file.
    ///
    /// A reader cannot rewind, so once any of its bytes were sent the upload is never
    /// retried; use [`path`](Self::path), [`seekable`](Self::seekable) or
    /// [`bytes`](Self::bytes) for uploads that may be retried. Without a length,
    /// see [`chunked_reader`](Self::chunked_reader).
    ///
    /// ```
    /// use pinecone_assistant::models::UploadFile;
    /// let data: &'static [u8] = b"# Notes\n";
    /// let upload = UploadFile::reader(data, "notes.md", 8);
    /// # let _ = upload;
    /// ```
    pub fn reader(
        reader: impl Read + Send + 'static,
        file_name: impl Into<String>,
        length: u64,
    ) -> Self {
        Self::with_source(Source::Reader {
            reader: SharedReader::new(Box::new(reader)),
            file_name: file_name.into(),
            length: Some(length),
        })
    }

    /// The same as [`reader`](Self::reader), under its earlier name.
    #[deprecated(note = "renamed to `UploadFile::reader`")]
    pub fn sized_reader(
        reader: impl Read + Send + 'static,
        file_name: impl Into<String>,
        length: u64,
    ) -> Self {
        Self::reader(reader, file_name, length)
    }

    /// The bytes of `reader`, read to its end, under `file_name` (which must have
    /// an extension, as for [`reader`](Self::reader)), for a stream whose length
    /// is not known before it ends. The body goes out chunked, without a
    /// `Content-Length`: the official SDKs never send that, the service may
    /// refuse it, and the upload logs a warning saying so. When you know the
    /// length, or can buffer the stream or spool it to a file, use
    /// [`reader`](Self::reader), [`bytes`](Self::bytes) or [`path`](Self::path).
    /// A refusal (411 or 400) comes back as [`Error::Api`] whose message names
    /// this fix.
    ///
    /// It is never retried once any byte was read, like [`reader`](Self::reader).
    ///
    /// ```
    /// use pinecone_assistant::models::UploadFile;
    /// let stdin = std::io::stdin();
    /// let upload = UploadFile::chunked_reader(stdin, "notes.md");
    /// # let _ = upload;
    /// ```
    pub fn chunked_reader(
        reader: impl Read + Send + 'static,
        file_name: impl Into<String>,
    ) -> Self {
        Self::with_source(Source::Reader {
            reader: SharedReader::new(Box::new(reader)),
            file_name: file_name.into(),
            length: None,
        })
    }

    /// The rest of a seekable reader, from its current position to its end, under
    /// `file_name` (which must have an extension, as for [`reader`](Self::reader)).
    /// Its length is measured by seeking, so the body has a `Content-Length`, and a
    /// retry rewinds it to the position it had when the upload began.
    ///
    /// ```no_run
    /// use pinecone_assistant::models::UploadFile;
    /// let file = std::fs::File::open("export.json")?;
    /// let upload = UploadFile::seekable(file, "export.json");
    /// # let _ = upload;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn seekable(
        reader: impl Read + Seek + Send + 'static,
        file_name: impl Into<String>,
    ) -> Self {
        Self::with_source(Source::Seekable {
            reader: Arc::new(Mutex::new(Box::new(reader))),
            file_name: file_name.into(),
        })
    }

    /// Bytes already in memory, under `file_name` (which must have an extension).
    /// Retries send them again.
    ///
    /// ```
    /// use pinecone_assistant::models::UploadFile;
    /// let upload = UploadFile::bytes("# FAQ\n", "faq.md");
    /// # let _ = upload;
    /// ```
    pub fn bytes(data: impl Into<Vec<u8>>, file_name: impl Into<String>) -> Self {
        Self::seekable(Cursor::new(data.into()), file_name)
    }

    /// Metadata stored with the file, a JSON object (at most 16 KB at the server);
    /// [`Assistant::list_files`](crate::Assistant::list_files) can filter on its
    /// top-level keys. Sent as compact JSON in a `metadata` part. Defaults to none.
    ///
    /// ```
    /// use pinecone_assistant::models::UploadFile;
    /// let upload = UploadFile::path("q3.pdf").metadata(serde_json::json!({"quarter": 3}));
    /// # let _ = upload;
    /// ```
    pub fn metadata(self, metadata: Value) -> Self {
        Self {
            metadata: Some(metadata),
            ..self
        }
    }

    /// Whether images in the file are processed too (PDFs only); sent as
    /// `multimodal=true|false`. Defaults to not sent (the server's default, `false`).
    ///
    /// ```
    /// use pinecone_assistant::models::UploadFile;
    /// let upload = UploadFile::path("slides.pdf").multimodal(true);
    /// # let _ = upload;
    /// ```
    pub fn multimodal(self, multimodal: bool) -> Self {
        Self {
            multimodal: Some(multimodal),
            ..self
        }
    }

    /// Stores the file under this id, creating it or replacing the file that has it
    /// (an upsert: `PUT` instead of `POST`). Because a repeat converges to the same
    /// file, an upsert may be retried after failures that a plain upload may not be.
    /// The server accepts 1–128 characters of `A–Z a–z 0–9 - _`. Defaults to none
    /// (the server picks an id).
    ///
    /// ```
    /// use pinecone_assistant::models::UploadFile;
    /// let upload = UploadFile::path("faq.md").file_id("faq");
    /// # let _ = upload;
    /// ```
    pub fn file_id(self, id: impl Into<String>) -> Self {
        Self {
            file_id: Some(id.into()),
            ..self
        }
    }

    /// Called as the file is sent, with the bytes of the **file** handed to the
    /// connection so far (the multipart framing is not counted) and the file's length
    /// when known. The last call has `sent` equal to the total, and the total is
    /// `Some` then even for a reader of unknown length. A retried upload reports
    /// from 0 again. The callback runs on the calling thread, inside the upload;
    /// keep it short. Defaults to none.
    ///
    /// ```
    /// use pinecone_assistant::models::UploadFile;
    /// let upload = UploadFile::path("big.pdf").on_progress(|sent, total| {
    ///     if let Some(total) = total {
    ///         eprint!("\r{}%", sent * 100 / total.max(1));
    ///     }
    /// });
    /// # let _ = upload;
    /// ```
    pub fn on_progress(mut self, callback: impl FnMut(u64, Option<u64>) + Send + 'static) -> Self {
        self.progress = Some(Arc::new(Mutex::new(Box::new(callback))));
        self
    }

    /// The longest the upload request may take, from connecting to the server's
    /// answer, retries included; `Duration::MAX` for no bound. Defaults to the
    /// client's [`total_timeout`](crate::ClientConfigBuilder::total_timeout) plus
    /// 16 s per MiB of the file (a floor of 64 KiB/s, which only a stalled
    /// transfer falls below), or no bound for a reader of unknown length. The
    /// wait for processing that follows is bounded by the upload's
    /// [`Wait`](crate::Wait), not by this.
    ///
    /// ```
    /// use std::time::Duration;
    /// use pinecone_assistant::models::UploadFile;
    /// let upload = UploadFile::path("big.pdf").total_timeout(Duration::from_secs(3600));
    /// # let _ = upload;
    /// ```
    pub fn total_timeout(self, bound: Duration) -> Self {
        Self {
            total_timeout: Some(bound),
            ..self
        }
    }

    /// Checks the arguments in the documented order (docs/wire/uploads.md) and builds the body. Touches
    /// nothing but the local file system.
    pub(crate) fn prepare(self) -> Result<Prepared> {
        if self.file_id.as_deref() == Some("") {
            return Err(Error::invalid(
                "file_id",
                "must not be empty; leave it unset to let the server choose an id",
            ));
        }
        let file_name = match &self.source {
            Source::Path(path) => {
                let meta = std::fs::metadata(path).map_err(|e| {
                    Error::invalid(
                        "file_path",
                        format!("{} cannot be read: {e}", path.display()),
                    )
                })?;
                if !meta.is_file() {
                    return Err(Error::invalid(
                        "file_path",
                        format!("{} is not a regular file", path.display()),
                    ));
                }
                base_name(path)?
            }
            Source::Reader { file_name, .. } | Source::Seekable { file_name, .. } => {
                if !has_extension(file_name) {
                    return Err(Error::invalid(
                        "file_name",
                        format!(
                            "\"{file_name}\" has no extension; the server types a file by \
                             it, so name the file e.g. \"notes.md\" or \"report.pdf\""
                        ),
                    ));
                }
                file_name.clone()
            }
        };
        let metadata = match &self.metadata {
            None => None,
            Some(v @ Value::Object(_)) => Some(v.to_string()),
            Some(_) => {
                return Err(Error::invalid(
                    "metadata",
                    "must be a JSON object, e.g. {\"team\": \"finance\"}",
                ));
            }
        };
        let boundary = multipart::boundary();
        let frame = Frame::new(&boundary, &file_name, metadata.as_deref());
        Ok(Prepared {
            file_id: self.file_id,
            multimodal: self.multimodal,
            body: UploadBody {
                content_type: format!("multipart/form-data; boundary={boundary}"),
                context: format!("reading \"{file_name}\"").into(),
                frame: Arc::new(frame),
                source: self.source,
                progress: self.progress,
                seek_start: None,
                cancel: None,
                total_timeout: self.total_timeout,
            },
        })
    }
}

/// The last component of `path`, the name the server sees.
fn base_name(path: &Path) -> Result<String> {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| Error::invalid("file_path", format!("{} names no file", path.display())))
}

/// Whether a name has a non-empty extension. Leading dots do not start one, as
/// for hidden files: `notes.md` has one; `notes`, `notes.` and `.md` do not.
pub(crate) fn has_extension(file_name: &str) -> bool {
    let base = file_name.rsplit('/').next().unwrap_or(file_name);
    let stem_and_ext = base.trim_start_matches('.');
    matches!(stem_and_ext.rsplit_once('.'), Some((_, ext)) if !ext.is_empty())
}

/// A validated upload, ready to send.
#[derive(Debug)]
pub(crate) struct Prepared {
    pub file_id: Option<String>,
    pub multimodal: Option<bool>,
    pub body: UploadBody,
}

/// A reader shared between the upload and the attempt that is sending it, so the
/// upload can tell afterwards whether any byte was taken from it.
#[derive(Clone)]
pub(crate) struct SharedReader {
    inner: Arc<Mutex<Box<dyn Read + Send>>>,
    touched: Arc<AtomicBool>,
}

impl SharedReader {
    fn new(reader: Box<dyn Read + Send>) -> Self {
        Self {
            inner: Arc::new(Mutex::new(reader)),
            touched: Arc::new(AtomicBool::new(false)),
        }
    }
}

impl Read for SharedReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.touched.store(true, Ordering::Relaxed);
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .read(buf)
    }
}

/// Reads a seekable source through its shared handle.
struct SharedSeekable(Arc<Mutex<Box<dyn ReadSeek>>>);

impl Read for SharedSeekable {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .read(buf)
    }
}

/// The multipart body of one upload, opened once per attempt.
pub(crate) struct UploadBody {
    content_type: String,
    context: Arc<str>,
    frame: Arc<Frame>,
    source: Source,
    progress: Option<Progress>,
    /// Where a seekable source stood when the upload began, and its length.
    seek_start: Option<(u64, u64)>,
    /// The call's cancel handle, checked before each read of the source.
    pub(crate) cancel: Option<CancelHandle>,
    /// The upload's own total bound.
    total_timeout: Option<Duration>,
}

impl fmt::Debug for UploadBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UploadBody")
            .field("content_type", &self.content_type)
            .finish_non_exhaustive()
    }
}

impl UploadBody {
    /// Whether the body goes out chunked: its source's length is not known.
    pub(crate) fn is_chunked(&self) -> bool {
        matches!(self.source, Source::Reader { length: None, .. })
    }

    fn io_error(&self, source: std::io::Error) -> Error {
        Error::Io {
            context: self.context.to_string(),
            source,
        }
    }

    /// The file source for this attempt and its length, when known.
    fn open_source(&mut self) -> Result<(Box<dyn Read + Send>, Option<u64>)> {
        match &self.source {
            Source::Path(path) => {
                let file = File::open(path).map_err(|e| Error::Io {
                    context: format!("opening {}", path.display()),
                    source: e,
                })?;
                let len = file.metadata().map_err(|e| self.io_error(e))?.len();
                Ok((Box::new(file), Some(len)))
            }
            Source::Reader { reader, length, .. } => Ok((Box::new(reader.clone()), *length)),
            Source::Seekable { reader, .. } => {
                let shared = reader.clone();
                let located = {
                    let mut r = reader.lock().unwrap_or_else(PoisonError::into_inner);
                    match self.seek_start {
                        Some((start, len)) => r.seek(SeekFrom::Start(start)).map(|_| (start, len)),
                        None => measure(&mut **r),
                    }
                };
                let (start, len) = located.map_err(|e| self.io_error(e))?;
                self.seek_start = Some((start, len));
                Ok((Box::new(SharedSeekable(shared)), Some(len)))
            }
        }
    }
}

/// Where a seekable source stands and how many bytes follow, leaving it in place.
fn measure(r: &mut dyn ReadSeek) -> std::io::Result<(u64, u64)> {
    let start = r.stream_position()?;
    let end = r.seek(SeekFrom::End(0))?;
    r.seek(SeekFrom::Start(start))?;
    Ok((start, end.saturating_sub(start)))
}

impl BodySource for UploadBody {
    fn length_hint(&mut self) -> Option<u64> {
        let file = match &self.source {
            Source::Path(path) => std::fs::metadata(path).ok().map(|m| m.len()),
            Source::Reader { length, .. } => *length,
            Source::Seekable { reader, .. } => match self.seek_start {
                Some((_, len)) => Some(len),
                None => measure(&mut **reader.lock().unwrap_or_else(PoisonError::into_inner))
                    .ok()
                    .map(|(_, len)| len),
            },
        };
        file.map(|len| self.frame.body_len(len))
    }

    fn own_bound(&self) -> Option<Option<Duration>> {
        self.total_timeout
            .map(|bound| (bound != Duration::MAX).then_some(bound))
    }

    fn can_replay(&self) -> bool {
        match &self.source {
            Source::Path(_) | Source::Seekable { .. } => true,
            // Untouched, a reader still holds every byte; once read from, never.
            Source::Reader { reader, .. } => !reader.touched.load(Ordering::Relaxed),
        }
    }

    fn open(&mut self) -> Result<OpenBody> {
        let (source, length) = self.open_source()?;
        if length.is_none() {
            log::warn!(
                "{}: the length is not known, so the upload goes out chunked, without a \
                 Content-Length, which the service may refuse; give the length with \
                 UploadFile::reader(reader, file_name, length)",
                self.context
            );
        }
        let file = Guarded::new(source, length, self.progress.clone(), self.context.clone())
            .cancel_with(self.cancel.clone());
        let reader = Cursor::new(FrameBytes(self.frame.clone(), Part::Head))
            .chain(file)
            .chain(Cursor::new(FrameBytes(self.frame.clone(), Part::Tail)));
        Ok(OpenBody {
            reader: Box::new(reader),
            length: length.map(|l| self.frame.body_len(l)),
            content_type: self.content_type.clone(),
        })
    }
}

#[derive(Clone, Copy)]
enum Part {
    Head,
    Tail,
}

/// One side of a shared frame as a byte slice, so retries need no copy.
struct FrameBytes(Arc<Frame>, Part);

impl AsRef<[u8]> for FrameBytes {
    fn as_ref(&self) -> &[u8] {
        match self.1 {
            Part::Head => &self.0.head,
            Part::Tail => &self.0.tail,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(body: &mut UploadBody) -> (Vec<u8>, Option<u64>) {
        let mut open = body.open().unwrap();
        let mut out = Vec::new();
        open.reader.read_to_end(&mut out).unwrap();
        (out, open.length)
    }

    #[test]
    fn upload_requests_can_move_between_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<UploadFile>();
    }

    #[test]
    fn extension_rule() {
        for ok in ["notes.md", "a.b.pdf", ".hidden.md", "dir.d/x.txt"] {
            assert!(has_extension(ok), "{ok}");
        }
        for bad in ["notes", "notes.", ".md", "..md", "", "dir.d/notes"] {
            assert!(!has_extension(bad), "{bad}");
        }
    }

    #[test]
    fn validation_order_and_names() {
        let err = UploadFile::chunked_reader(std::io::empty(), "notes")
            .file_id("")
            .prepare()
            .unwrap_err();
        assert!(matches!(err, Error::InvalidArgument { ref name, .. } if name == "file_id"));
        let err = UploadFile::path("/nonexistent/x.pdf")
            .prepare()
            .unwrap_err();
        assert!(matches!(err, Error::InvalidArgument { ref name, .. } if name == "file_path"));
        let err = UploadFile::path(std::env::temp_dir())
            .prepare()
            .unwrap_err();
        assert!(
            matches!(err, Error::InvalidArgument { ref name, ref reason } if name == "file_path" && reason.contains("not a regular file"))
        );
        let err = UploadFile::bytes("x", ".md").prepare().unwrap_err();
        assert!(matches!(err, Error::InvalidArgument { ref name, .. } if name == "file_name"));
        let err = UploadFile::bytes("x", "a.md")
            .metadata(serde_json::json!([1]))
            .prepare()
            .unwrap_err();
        assert!(matches!(err, Error::InvalidArgument { ref name, .. } if name == "metadata"));
    }

    #[test]
    fn path_body_is_exact_and_reopened_per_attempt() {
        let dir = std::env::temp_dir().join(format!("pa-upload-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("report.pdf");
        std::fs::write(&path, b"%PDF-1.4 hello").unwrap();
        let mut body = UploadFile::path(&path)
            .metadata(serde_json::json!({"team": "finance"}))
            .prepare()
            .unwrap()
            .body;
        let (first, len) = drain(&mut body);
        assert_eq!(len, Some(298));
        assert_eq!(first.len(), 298);
        assert!(body.can_replay());
        let (second, _) = drain(&mut body);
        assert_eq!(first, second);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn seekable_replays_from_its_starting_position() {
        let mut cursor = Cursor::new(b"skipMEhello".to_vec());
        cursor.set_position(6);
        let mut body = UploadFile::seekable(cursor, "n.txt")
            .prepare()
            .unwrap()
            .body;
        let (first, len) = drain(&mut body);
        assert!(body.can_replay());
        let (second, _) = drain(&mut body);
        assert_eq!(first, second);
        assert_eq!(len, Some(first.len() as u64));
        let text = String::from_utf8(first).unwrap();
        assert!(text.contains("\r\n\r\nhello\r\n--"), "{text}");
    }

    #[test]
    fn plain_reader_is_replayable_only_until_read() {
        let mut body = UploadFile::chunked_reader(&b"hello"[..], "n.md")
            .prepare()
            .unwrap()
            .body;
        assert!(body.can_replay());
        let open = body.open().unwrap();
        // Opening alone takes nothing from the reader (a refused connection).
        assert!(body.can_replay());
        drop(open);
        let (bytes, len) = drain(&mut body);
        assert_eq!(len, None);
        assert!(
            String::from_utf8(bytes)
                .unwrap()
                .contains("\r\n\r\nhello\r\n--")
        );
        assert!(!body.can_replay());
    }
}
