//! Recording a program's output: one reader thread per pipe, timestamped chunks, bounded buffers.
//!
//! Contract: memory per program is bounded whatever the program writes. Each stream keeps its
//! first `HEAD` bytes and its last `TAIL` bytes, with a marker where the middle was cut; the
//! transcript keeps its first and last `EVENTS / 2` chunks.

use std::io::Read;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Instant;

use crate::evidence::{Stream, StreamText, TranscriptEntry};

const HEAD: usize = 256 * 1024;
const TAIL: usize = 64 * 1024;
const EVENTS: usize = 2_000;

/// Shared between the reader threads and the supervisor.
#[derive(Debug, Default)]
pub(crate) struct Recorder {
    inner: Mutex<Recorded>,
}

#[derive(Debug, Default)]
struct Recorded {
    stdout: Buffer,
    stderr: Buffer,
    events: Vec<TranscriptEntry>,
    events_dropped: u64,
    /// Readers still running (0: both pipes closed, no more output can come).
    open_pipes: usize,
}

#[derive(Debug, Default)]
struct Buffer {
    head: Vec<u8>,
    tail: std::collections::VecDeque<u8>,
    total: u64,
}

impl Buffer {
    fn push(&mut self, bytes: &[u8]) {
        self.total += bytes.len() as u64;
        let room = HEAD.saturating_sub(self.head.len());
        let (to_head, rest) = bytes.split_at(room.min(bytes.len()));
        self.head.extend_from_slice(to_head);
        self.tail.extend(rest);
        while self.tail.len() > TAIL {
            self.tail.pop_front();
        }
    }

    fn snapshot(&self) -> StreamText {
        let mut text = String::from_utf8_lossy(&self.head).into_owned();
        let kept = (self.head.len() + self.tail.len()) as u64;
        let truncated = kept < self.total;
        if truncated {
            text.push_str(&format!("\n[... {} bytes cut ...]\n", self.total - kept));
        }
        if !self.tail.is_empty() {
            let (a, b) = self.tail.as_slices();
            text.push_str(&String::from_utf8_lossy(&[a, b].concat()));
        }
        StreamText {
            text,
            bytes: self.total,
            truncated,
        }
    }
}

impl Recorder {
    fn lock(&self) -> MutexGuard<'_, Recorded> {
        // A reader thread cannot panic while holding the lock, but stay usable if one did.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn push(&self, stream: Stream, t_ms: u64, bytes: &[u8]) {
        let mut r = self.lock();
        match stream {
            Stream::Stdout => r.stdout.push(bytes),
            Stream::Stderr => r.stderr.push(bytes),
            Stream::Stdin => {}
        }
        let entry = TranscriptEntry {
            t_ms,
            stream,
            text: String::from_utf8_lossy(bytes).into_owned(),
        };
        if r.events.len() < EVENTS {
            r.events.push(entry);
        } else {
            // Keep the first half fixed, slide the second half.
            r.events.remove(EVENTS / 2);
            r.events.push(entry);
            r.events_dropped += 1;
        }
    }

    /// Records what the harness wrote to the program's stdin.
    pub(crate) fn note_stdin(&self, t_ms: u64, text: &str) {
        self.push(Stream::Stdin, t_ms, text.as_bytes());
    }

    pub(crate) fn text(&self, stream: Stream) -> StreamText {
        let r = self.lock();
        match stream {
            Stream::Stdout => r.stdout.snapshot(),
            Stream::Stderr => r.stderr.snapshot(),
            Stream::Stdin => StreamText::default(),
        }
    }

    /// Total output bytes so far (both streams): quiescence watches it.
    pub(crate) fn output_bytes(&self) -> u64 {
        let r = self.lock();
        r.stdout.total + r.stderr.total
    }

    /// Whether both pipes are closed: no more output can ever come.
    pub(crate) fn closed(&self) -> bool {
        self.lock().open_pipes == 0
    }

    pub(crate) fn transcript(&self) -> Vec<TranscriptEntry> {
        let r = self.lock();
        let mut events = r.events.clone();
        if r.events_dropped > 0 {
            let at = events.len().min(EVENTS / 2);
            let t_ms = events.get(at).map_or(0, |e| e.t_ms);
            events.insert(
                at,
                TranscriptEntry {
                    t_ms,
                    stream: Stream::Stderr,
                    text: format!("[... {} output chunks cut ...]", r.events_dropped),
                },
            );
        }
        events
    }

    /// Starts a reader thread for one pipe.
    pub(crate) fn spawn_reader<R: Read + Send + 'static>(
        self: &Arc<Self>,
        stream: Stream,
        mut pipe: R,
        epoch: Instant,
    ) -> std::io::Result<JoinHandle<()>> {
        self.lock().open_pipes += 1;
        let rec = Arc::clone(self);
        std::thread::Builder::new()
            .name(format!("read-{stream:?}"))
            .spawn(move || {
                let mut buf = vec![0u8; 16 * 1024];
                loop {
                    match pipe.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => {
                            let t = epoch.elapsed().as_millis() as u64;
                            rec.push(stream, t, &buf[..n]);
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(_) => break,
                    }
                }
                rec.lock().open_pipes -= 1;
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_output_keeps_head_and_tail() {
        let mut b = Buffer::default();
        b.push(&vec![b'a'; HEAD]);
        b.push(&vec![b'b'; TAIL * 2]);
        b.push(b"END");
        let s = b.snapshot();
        assert!(s.truncated);
        assert_eq!(s.bytes, (HEAD + TAIL * 2 + 3) as u64);
        assert!(s.text.starts_with("aaa"));
        assert!(s.text.ends_with("bbbEND"));
        assert!(s
            .text
            .contains(&format!("[... {} bytes cut ...]", TAIL + 3)));
    }

    #[test]
    fn reader_records_and_closes() {
        let rec = Arc::new(Recorder::default());
        let h = rec
            .spawn_reader(Stream::Stdout, &b"hello\nworld\n"[..], Instant::now())
            .unwrap();
        h.join().unwrap();
        assert!(rec.closed());
        assert_eq!(rec.text(Stream::Stdout).text, "hello\nworld\n");
        assert_eq!(rec.transcript().len(), 1);
    }
}
