//! Server-sent events over HTTP/1.1 chunked encoding, written by hand so every
//! event is flushed to the socket at once (tiny_http's own encoder buffers 8 KiB).

use std::io::{self, Write};
use std::time::Instant;

use super::Shared;
use super::faults::FaultAction;
use super::wire::StreamBody;

struct ChunkedWriter {
    out: Box<dyn Write + Send>,
    last: Instant,
}

impl ChunkedWriter {
    fn open(req: tiny_http::Request) -> io::Result<Self> {
        let mut out = req.into_writer();
        out.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n",
        )?;
        out.flush()?;
        Ok(Self {
            out,
            last: Instant::now(),
        })
    }

    /// One chunk holding `text`, flushed.
    fn chunk(&mut self, text: &str) -> io::Result<()> {
        write!(self.out, "{:x}\r\n{text}\r\n", text.len())?;
        self.out.flush()?;
        self.last = Instant::now();
        Ok(())
    }

    fn event(&mut self, data: &str) -> io::Result<()> {
        self.chunk(&format!("data: {data}\n\n"))
    }

    fn heartbeat(&mut self) -> io::Result<()> {
        self.chunk(": heartbeat\n\n")
    }

    /// The zero-length chunk that ends the body cleanly.
    fn finish(mut self) -> io::Result<()> {
        self.out.write_all(b"0\r\n\r\n")?;
        self.out.flush()
    }

    /// Framing no client can decode, so the body fails where it stands, as when
    /// the connection drops mid-stream.
    fn break_off(mut self) -> io::Result<()> {
        // Give the client time to take what was sent, as a real drop comes later
        // than the last good bytes; otherwise one read could hold both and the
        // decoder would discard the good part with the bad.
        std::thread::sleep(std::time::Duration::from_millis(100));
        self.out.write_all(b"zz\r\n")?;
        self.out.flush()
    }
}

/// Writes a streamed answer, pacing events and sending heartbeats as configured,
/// and applying an injected stream fault.
pub(crate) fn send(
    shared: &Shared,
    req: tiny_http::Request,
    body: StreamBody,
    fault: Option<FaultAction>,
) {
    if let Err(e) = write_stream(shared, req, body, fault) {
        log::debug!("emulator: stream ended early: {e}");
    }
}

fn write_stream(
    shared: &Shared,
    req: tiny_http::Request,
    body: StreamBody,
    fault: Option<FaultAction>,
) -> io::Result<()> {
    let s = &shared.settings;
    let mut w = ChunkedWriter::open(req)?;
    w.heartbeat()?;
    let cut_at = match fault {
        Some(FaultAction::CutStream { after_events } | FaultAction::EndStream { after_events }) => {
            Some(after_events)
        }
        _ => None,
    };
    for (i, data) in body.events.iter().enumerate() {
        if cut_at == Some(i) {
            return match fault {
                Some(FaultAction::CutStream { .. }) => w.break_off(),
                _ => w.finish(),
            };
        }
        if i > 0 && !s.stream_delay.is_zero() {
            // Sleep in heartbeat-sized steps so a slow stream still shows life.
            let mut left = s.stream_delay;
            while !left.is_zero() {
                let step = left.min(s.heartbeat.saturating_sub(w.last.elapsed()));
                if !shared.pause(step) {
                    return Ok(());
                }
                left -= step;
                if w.last.elapsed() >= s.heartbeat {
                    w.heartbeat()?;
                }
            }
        }
        w.event(data)?;
    }
    if body.done_marker && cut_at != Some(body.events.len()) {
        w.event("[DONE]")?;
    }
    match (fault, cut_at) {
        (Some(FaultAction::CutStream { .. }), Some(n)) if n >= body.events.len() => w.break_off(),
        _ => w.finish(),
    }
}
