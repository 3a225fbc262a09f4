//! Recording a program's output: one reader thread per pipe, timestamped chunks, bounded buffers.
//!
//! Contract: memory per program is bounded whatever the program writes, and so is what reaches
//! `results.json`. Each stream keeps its first [`HEAD`] (64 KiB) and its last [`TAIL`] (16 KiB)
//! bytes (by default: a program's `limits.output_kib` sets the sum, four fifths head), with a marker where the middle was cut; the transcript keeps its first
//! [`TRANSCRIPT_HEAD`] bytes (at most [`EVENTS`] chunks) and a sliding last [`TRANSCRIPT_TAIL`]
//! bytes, with a marker chunk for the cut. `bytes` stays the total the program wrote and the
//! stream's cut marker says what was kept (`[... N bytes cut; kept the first H and the last T
//! bytes ...]`), so a report can say "printed 177 MB (kept the first 64 KiB and the last
//! 16 KiB)".
//!
//! The caps were lowered from 256 + 64 KiB so that a scenario's evidence stays well under 1 MiB
//! with several programs; on top of them [`fill`] shares [`SCENARIO_BUDGET`] bytes of serialized
//! output among a scenario's programs, fairly (max-min): a program under its share keeps all it
//! has, so a flood never pushes another program's transcript out; a program over it is cut
//! further (halving its caps until it fits).
//!
//! A flood does not stall the supervisor: reader threads do the copying, each chunk costs a
//! bounded amount of work (no per-byte loop, no decoding until a snapshot), and the supervisor
//! only reads counters and snapshots.

use std::collections::VecDeque;
use std::io::Read;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Instant;

use crate::evidence::{ProgramEvidence, Stream, StreamText, TranscriptEntry};

const HEAD: usize = 64 * 1024;
const TAIL: usize = 16 * 1024;
const TRANSCRIPT_HEAD: usize = 32 * 1024;
const TRANSCRIPT_TAIL: usize = 16 * 1024;
const EVENTS: usize = 1_000;
/// Serialized bytes of output evidence (streams and transcripts) per scenario.
pub(crate) const SCENARIO_BUDGET: usize = 640 * 1024;

/// Shared between the reader threads and the supervisor.
#[derive(Debug, Default)]
pub(crate) struct Recorder {
    inner: Mutex<Recorded>,
}

#[derive(Debug, Default)]
struct Recorded {
    stdout: Buffer,
    stderr: Buffer,
    head: Vec<Chunk>,
    head_bytes: usize,
    tail: VecDeque<Chunk>,
    tail_bytes: usize,
    /// Chunks and bytes that fell out between head and tail.
    cut_chunks: u64,
    cut_bytes: u64,
    /// Readers still running (0: both pipes closed, no more output can come).
    open_pipes: usize,
    /// When the program last printed (stdout or stderr), on the transcript's clock.
    last_output_ms: Option<u64>,
}

#[derive(Debug, Clone)]
struct Chunk {
    t_ms: u64,
    stream: Stream,
    bytes: Vec<u8>,
}

#[derive(Debug)]
struct Buffer {
    head: Vec<u8>,
    tail: VecDeque<u8>,
    total: u64,
    /// Bytes kept at the start and at the end (the program's `output_kib`).
    head_cap: usize,
    tail_cap: usize,
}

impl Default for Buffer {
    fn default() -> Self {
        Buffer::with_caps(HEAD, TAIL)
    }
}

impl Buffer {
    fn with_caps(head_cap: usize, tail_cap: usize) -> Self {
        Buffer {
            head: Vec::new(),
            tail: VecDeque::new(),
            total: 0,
            head_cap,
            tail_cap,
        }
    }

    fn push(&mut self, bytes: &[u8]) {
        self.total += bytes.len() as u64;
        let room = self.head_cap.saturating_sub(self.head.len());
        let (to_head, rest) = bytes.split_at(room.min(bytes.len()));
        self.head.extend_from_slice(to_head);
        if rest.len() >= self.tail_cap {
            self.tail.clear();
            self.tail.extend(&rest[rest.len() - self.tail_cap..]);
        } else {
            self.tail.extend(rest);
            let excess = self.tail.len().saturating_sub(self.tail_cap);
            self.tail.drain(..excess);
        }
    }

    /// The stream with at most `head` leading and `tail` trailing bytes kept.
    fn snapshot(&self, head: usize, tail: usize) -> StreamText {
        let h = &self.head[..head.min(self.head.len())];
        // What the buffer holds after its head, of which the last `tail` bytes are kept.
        let after: Vec<u8> = self.head[h.len()..]
            .iter()
            .chain(self.tail.iter())
            .copied()
            .collect();
        let t = &after[after.len().saturating_sub(tail)..];
        let kept = (h.len() + t.len()) as u64;
        let truncated = kept < self.total;
        let mut text = String::from_utf8_lossy(h).into_owned();
        if truncated {
            text.push_str(&format!(
                "\n[... {} bytes cut; kept the first {} and the last {} bytes ...]\n",
                self.total - kept,
                h.len(),
                t.len()
            ));
        }
        text.push_str(&String::from_utf8_lossy(t));
        StreamText {
            text,
            bytes: self.total,
            truncated,
        }
    }
}

/// How much of a program's output a snapshot keeps: the full caps, scaled down by `1 / 2^n`.
#[derive(Debug, Clone, Copy)]
struct Scale(u32);

impl Scale {
    fn of(self, n: usize) -> usize {
        n >> self.0
    }
}

impl Recorder {
    /// A recorder that keeps `output_kib` KiB of each stream: the first four fifths and the
    /// last fifth (80 KiB: the default 64 + 16).
    pub(crate) fn with_output_kib(output_kib: u64) -> Recorder {
        let bytes = usize::try_from(output_kib.saturating_mul(1024)).unwrap_or(usize::MAX);
        let head = bytes / 5 * 4;
        let tail = bytes - head;
        let r = Recorder::default();
        {
            let mut inner = r.lock();
            inner.stdout = Buffer::with_caps(head, tail);
            inner.stderr = Buffer::with_caps(head, tail);
        }
        r
    }

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
        if stream != Stream::Stdin {
            r.last_output_ms = Some(t_ms);
        }
        let room = TRANSCRIPT_HEAD.saturating_sub(r.head_bytes);
        if r.tail.is_empty() && r.head.len() < EVENTS && room > 0 {
            let n = room.min(bytes.len());
            r.head.push(Chunk {
                t_ms,
                stream,
                bytes: bytes[..n].to_vec(),
            });
            r.head_bytes += n;
            if n == bytes.len() {
                return;
            }
            let rest = &bytes[n..];
            r.push_tail(t_ms, stream, rest);
        } else {
            r.push_tail(t_ms, stream, bytes);
        }
    }

    /// Records what the harness wrote to the program's stdin.
    pub(crate) fn note_stdin(&self, t_ms: u64, text: &str) {
        self.push(Stream::Stdin, t_ms, text.as_bytes());
    }

    pub(crate) fn text(&self, stream: Stream) -> StreamText {
        let r = self.lock();
        match stream {
            Stream::Stdout => r.stdout.snapshot(r.stdout.head_cap, r.stdout.tail_cap),
            Stream::Stderr => r.stderr.snapshot(r.stderr.head_cap, r.stderr.tail_cap),
            Stream::Stdin => StreamText::default(),
        }
    }

    /// Total output bytes so far (both streams): hang detection watches it.
    pub(crate) fn output_bytes(&self) -> u64 {
        let r = self.lock();
        r.stdout.total + r.stderr.total
    }

    /// When the program last printed, on the transcript's clock.
    pub(crate) fn last_output_ms(&self) -> Option<u64> {
        self.lock().last_output_ms
    }

    /// Whether both pipes are closed: no more output can ever come.
    pub(crate) fn closed(&self) -> bool {
        self.lock().open_pipes == 0
    }

    /// Stdout, stderr and transcript at `scale`.
    fn snapshot(&self, scale: Scale) -> (StreamText, StreamText, Vec<TranscriptEntry>) {
        let r = self.lock();
        (
            r.stdout
                .snapshot(scale.of(r.stdout.head_cap), scale.of(r.stdout.tail_cap)),
            r.stderr
                .snapshot(scale.of(r.stderr.head_cap), scale.of(r.stderr.tail_cap)),
            r.transcript(scale),
        )
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
                let mut buf = vec![0u8; 64 * 1024];
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

impl Recorded {
    fn push_tail(&mut self, t_ms: u64, stream: Stream, bytes: &[u8]) {
        let skip = bytes.len().saturating_sub(TRANSCRIPT_TAIL);
        self.cut_bytes += skip as u64;
        let bytes = &bytes[skip..];
        self.tail.push_back(Chunk {
            t_ms,
            stream,
            bytes: bytes.to_vec(),
        });
        self.tail_bytes += bytes.len();
        while self.tail_bytes > TRANSCRIPT_TAIL || self.tail.len() > EVENTS / 2 {
            let Some(old) = self.tail.pop_front() else {
                break;
            };
            self.tail_bytes -= old.bytes.len();
            self.cut_chunks += 1;
            self.cut_bytes += old.bytes.len() as u64;
        }
    }

    /// The transcript with its head and tail cut to `scale`, a marker between them.
    fn transcript(&self, scale: Scale) -> Vec<TranscriptEntry> {
        let mut cut = (self.cut_chunks, self.cut_bytes);
        let mut out = keep(self.head.iter(), scale.of(TRANSCRIPT_HEAD), false, &mut cut);
        let tail = keep(
            self.tail.iter().rev(),
            scale.of(TRANSCRIPT_TAIL),
            true,
            &mut cut,
        );
        let (cut_chunks, cut_bytes) = cut;
        if cut_chunks > 0 || cut_bytes > 0 {
            let t_ms = tail
                .last()
                .or(out.last())
                .map_or(0, |e: &TranscriptEntry| e.t_ms);
            out.push(TranscriptEntry {
                t_ms,
                stream: Stream::Stderr,
                text: format!("[... {cut_bytes} bytes in {cut_chunks} output chunks cut ...]"),
            });
        }
        out.extend(tail.into_iter().rev());
        out
    }
}

/// Up to `room` bytes of `chunks`, in the order given; the last chunk kept loses its end (its
/// start when `from_end`: the chunks come newest first). Adds what it leaves out to `cut`
/// (chunks dropped whole, bytes dropped).
fn keep<'a>(
    chunks: impl Iterator<Item = &'a Chunk>,
    mut room: usize,
    from_end: bool,
    cut: &mut (u64, u64),
) -> Vec<TranscriptEntry> {
    let mut out = Vec::new();
    for c in chunks {
        if room == 0 {
            cut.0 += 1;
            cut.1 += c.bytes.len() as u64;
            continue;
        }
        let n = room.min(c.bytes.len());
        let kept = if from_end {
            &c.bytes[c.bytes.len() - n..]
        } else {
            &c.bytes[..n]
        };
        out.push(TranscriptEntry {
            t_ms: c.t_ms,
            stream: c.stream,
            text: String::from_utf8_lossy(kept).into_owned(),
        });
        cut.1 += (c.bytes.len() - n) as u64;
        room -= n;
    }
    out
}

/// Serialized size of a program's output evidence.
fn cost(out: &(StreamText, StreamText, Vec<TranscriptEntry>)) -> usize {
    serde_json::to_vec(out).map_or(usize::MAX, |v| v.len())
}

/// Fills each program's stdout, stderr and transcript from its recorder, sharing
/// [`SCENARIO_BUDGET`] among them (see the module docs).
pub(crate) fn fill(programs: &mut [(ProgramEvidence, Option<Arc<Recorder>>)]) {
    let full: Vec<_> = programs
        .iter()
        .map(|(_, r)| r.as_ref().map(|r| r.snapshot(Scale(0))))
        .collect();
    let shares = shares(
        &full
            .iter()
            .map(|o| o.as_ref().map_or(0, cost))
            .collect::<Vec<_>>(),
    );
    for (((ev, rec), share), full) in programs.iter_mut().zip(shares).zip(full) {
        let (Some(rec), Some(mut out)) = (rec, full) else {
            continue;
        };
        let mut scale = Scale(0);
        while cost(&out) > share && scale.0 < 16 {
            scale.0 += 1;
            out = rec.snapshot(scale);
        }
        (ev.stdout, ev.stderr, ev.transcript) = out;
    }
}

/// Max-min fair shares of [`SCENARIO_BUDGET`] for programs that need `costs`. Pure.
fn shares(costs: &[usize]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..costs.len()).collect();
    order.sort_by_key(|&i| costs[i]);
    let mut left = SCENARIO_BUDGET;
    let mut out = vec![0; costs.len()];
    for (k, &i) in order.iter().enumerate() {
        let fair = left / (costs.len() - k);
        out[i] = costs[i].min(fair);
        left -= out[i];
    }
    out
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
        let s = b.snapshot(HEAD, TAIL);
        assert!(s.truncated);
        assert_eq!(s.bytes, (HEAD + TAIL * 2 + 3) as u64);
        assert!(s.text.starts_with("aaa"));
        assert!(s.text.ends_with("bbbEND"));
        assert!(s.text.contains(&format!(
            "[... {} bytes cut; kept the first {HEAD} and the last {TAIL} bytes ...]",
            TAIL + 3
        )));
        // Scaled down: the cut grows, the total stays.
        let s = b.snapshot(HEAD / 4, TAIL / 4);
        assert_eq!(s.bytes, (HEAD + TAIL * 2 + 3) as u64);
        assert!(s.text.contains(&format!(
            "kept the first {} and the last {} bytes",
            HEAD / 4,
            TAIL / 4
        )));
        assert!(s.text.ends_with("bbbEND"));
    }

    #[test]
    fn output_kib_sets_what_each_stream_keeps() {
        // The default is the 64 + 16 KiB of HEAD and TAIL.
        let d = Recorder::with_output_kib(crate::plan::DEFAULT_LIMITS.output_kib);
        let caps = {
            let inner = d.lock();
            (inner.stdout.head_cap, inner.stdout.tail_cap)
        };
        assert_eq!(caps, (HEAD, TAIL));
        let r = Recorder::with_output_kib(5);
        r.push(Stream::Stdout, 0, &vec![b'a'; 10_000]);
        r.push(Stream::Stdout, 1, b"LAST");
        let s = r.text(Stream::Stdout);
        assert!(s.truncated);
        assert_eq!(s.bytes, 10_004);
        assert!(
            s.text
                .contains("[... 4884 bytes cut; kept the first 4096 and the last 1024 bytes ...]"),
            "{}",
            s.text
        );
        assert!(s.text.ends_with("aLAST"));
        // Stderr has its own room.
        r.push(Stream::Stderr, 2, b"short");
        assert_eq!(r.text(Stream::Stderr).text, "short");
    }

    #[test]
    fn short_output_is_kept_whole() {
        let mut b = Buffer::default();
        b.push(b"hello\n");
        let s = b.snapshot(HEAD, TAIL);
        assert_eq!(s.text, "hello\n");
        assert!(!s.truncated);
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
        assert_eq!(rec.lock().transcript(Scale(0)).len(), 1);
    }

    #[test]
    fn a_flood_is_bounded_in_the_transcript_by_bytes() {
        let rec = Recorder::default();
        rec.note_stdin(0, "go\n");
        for i in 0..10_000 {
            rec.push(Stream::Stdout, i, &[b'x'; 1000]);
        }
        // One chunk larger than the whole tail.
        rec.push(Stream::Stdout, 9_999, &vec![b'y'; TRANSCRIPT_TAIL * 2]);
        rec.push(Stream::Stdout, 10_000, b"LAST");
        let t = rec.lock().transcript(Scale(0));
        let bytes: usize = t.iter().map(|e| e.text.len()).sum();
        assert!(bytes < TRANSCRIPT_HEAD + TRANSCRIPT_TAIL + 100, "{bytes}");
        assert_eq!(t[0].text, "go\n");
        assert!(t.last().unwrap().text.ends_with("LAST"));
        let kept: usize = t
            .iter()
            .filter(|e| !e.text.contains("output chunks cut"))
            .map(|e| e.text.len())
            .sum();
        let marker = t
            .iter()
            .find(|e| e.text.contains("output chunks cut"))
            .unwrap();
        let cut = 3 + 10_000 * 1000 + TRANSCRIPT_TAIL * 2 + 4 - kept;
        assert!(
            marker.text.contains(&format!("[... {cut} bytes in")),
            "{}",
            marker.text
        );
        assert_eq!(
            rec.output_bytes(),
            (10_000 * 1000 + TRANSCRIPT_TAIL * 2 + 4) as u64
        );
    }

    #[test]
    fn shares_leave_small_programs_whole() {
        let b = SCENARIO_BUDGET;
        assert_eq!(shares(&[10, 20]), vec![10, 20]);
        let s = shares(&[10, b, b]);
        assert_eq!(s[0], 10);
        assert_eq!(s[1], (b - 10) / 2);
        assert!(s.iter().sum::<usize>() <= b);
    }

    #[test]
    fn fill_keeps_a_scenario_under_budget_whatever_is_printed() {
        let mut programs: Vec<(ProgramEvidence, Option<Arc<Recorder>>)> = Vec::new();
        for _ in 0..4 {
            let rec = Arc::new(Recorder::default());
            // Control bytes: the worst case, each escaped as \u00XX in JSON.
            for i in 0..200 {
                rec.push(Stream::Stdout, i, &[1u8; 4096]);
                rec.push(Stream::Stderr, i, &[2u8; 4096]);
            }
            programs.push((ProgramEvidence::default(), Some(rec)));
        }
        let quiet = Arc::new(Recorder::default());
        quiet.push(Stream::Stdout, 0, b"a normal line\n");
        programs.push((ProgramEvidence::default(), Some(quiet)));
        fill(&mut programs);
        let output: usize = programs
            .iter()
            .map(|(e, _)| cost(&(e.stdout.clone(), e.stderr.clone(), e.transcript.clone())))
            .sum();
        assert!(output <= SCENARIO_BUDGET, "{output}");
        let total: usize = programs
            .iter()
            .map(|(e, _)| serde_json::to_vec(&e).unwrap().len())
            .sum();
        assert!(total < 1024 * 1024, "{total}");
        assert_eq!(programs[4].0.stdout.text, "a normal line\n");
        assert_eq!(programs[0].0.stdout.bytes, 200 * 4096);
        assert!(programs[0].0.stdout.truncated);
    }
}
