//! Rows that must be written in key order but become ready out of order: `inspect --streams`
//! gets a stream's row when the stream is retired, while a lower-numbered stream may still be
//! open, possibly until the end of the capture.
//!
//! Contract: each key is given once. [`Reorder::offer`] stores a row and writes, in key order,
//! every row from the next unwritten key on that has no gap before it; [`Reorder::finish`]
//! writes all that is left in key order. Memory is bounded whatever waits: rows are held in
//! memory up to a byte budget, then spilled as one sorted run to an anonymous temporary file
//! (in `$TMPDIR`, gone once closed), and runs are merged back as rows are written. To bound
//! open files and read buffers too, every [`FAN_IN`] runs of the same size class are merged
//! into one of the next class (a tiered external sort), so at most `FAN_IN` runs per class are
//! open, and each row is rewritten once per class (about 4 times for a billion rows).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, Write};

/// Runs merged at once; also the most runs of one size class open at a time.
const FAN_IN: usize = 16;

/// Bookkeeping per row held in memory (map node, allocation), counted against the budget.
const ROW_OVERHEAD: usize = 80;

/// Where rows are written.
pub(crate) type Sink<'a> = dyn FnMut(&[u8]) -> io::Result<()> + 'a;

pub(crate) struct Reorder {
    next: u64,
    mem: BTreeMap<u64, Vec<u8>>,
    mem_bytes: usize,
    budget: usize,
    runs: Vec<Run>,
}

/// A sorted run in a temporary file, read one record ahead.
struct Run {
    class: u32,
    src: BufReader<File>,
    head: Option<(u64, Vec<u8>)>,
}

impl Run {
    /// Writes `rows` (in key order) to a fresh temporary file and opens it for reading.
    fn write(
        class: u32,
        rows: &mut dyn FnMut() -> io::Result<Option<(u64, Vec<u8>)>>,
    ) -> io::Result<Run> {
        let file = tempfile::tempfile().map_err(in_temp_file)?;
        let mut w = BufWriter::with_capacity(64 * 1024, file);
        while let Some((key, row)) = rows()? {
            put(&mut w, key, &row).map_err(in_temp_file)?;
        }
        let mut file = w.into_inner().map_err(|e| in_temp_file(e.into_error()))?;
        file.rewind().map_err(in_temp_file)?;
        let mut run = Run {
            class,
            src: BufReader::new(file),
            head: None,
        };
        run.advance()?;
        Ok(run)
    }

    /// Reads the next record into `head` (`None` at the end of the run).
    fn advance(&mut self) -> io::Result<()> {
        self.try_advance().map_err(in_temp_file)
    }

    fn try_advance(&mut self) -> io::Result<()> {
        let mut key = [0u8; 8];
        self.head = match self.src.read_exact(&mut key) {
            Ok(()) => {
                let mut len = [0u8; 4];
                self.src.read_exact(&mut len)?;
                let mut row = vec![0u8; u32::from_le_bytes(len) as usize];
                self.src.read_exact(&mut row)?;
                Some((u64::from_le_bytes(key), row))
            }
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => None,
            Err(e) => return Err(e),
        };
        Ok(())
    }
}

impl Reorder {
    /// A buffer that keeps at most about `budget` bytes of rows in memory.
    pub(crate) fn new(budget: usize) -> Self {
        Reorder {
            next: 0,
            mem: BTreeMap::new(),
            mem_bytes: 0,
            budget,
            runs: Vec::new(),
        }
    }

    /// Stores `row` under `key` without writing anything.
    pub(crate) fn push(&mut self, key: u64, row: Vec<u8>) -> io::Result<()> {
        self.mem_bytes += row.len() + ROW_OVERHEAD;
        self.mem.insert(key, row);
        if self.mem_bytes > self.budget {
            self.spill()?;
        }
        Ok(())
    }

    /// Stores `row` under `key`, then writes every row that is next in key order.
    pub(crate) fn offer(&mut self, key: u64, row: Vec<u8>, sink: &mut Sink<'_>) -> io::Result<()> {
        if key == self.next {
            // The common case: rows arriving in order never wait.
            sink(&row)?;
            self.next += 1;
        } else {
            self.push(key, row)?;
        }
        while self.min_key() == Some(self.next) {
            self.write_min(sink)?;
        }
        Ok(())
    }

    /// Writes every row left, in key order.
    pub(crate) fn finish(mut self, sink: &mut Sink<'_>) -> io::Result<()> {
        while self.min_key().is_some() {
            self.write_min(sink)?;
        }
        Ok(())
    }

    /// Runs in temporary files.
    #[cfg(test)]
    fn spilled_runs(&self) -> usize {
        self.runs.len()
    }

    fn min_key(&self) -> Option<u64> {
        let mem = self.mem.keys().next().copied();
        mem.into_iter()
            .chain(min_head(&self.runs).map(|i| i.1))
            .min()
    }

    fn write_min(&mut self, sink: &mut Sink<'_>) -> io::Result<()> {
        if let Some((key, row)) = self.pop_min()? {
            sink(&row)?;
            self.next = key + 1;
        }
        Ok(())
    }

    /// Takes the row with the smallest key, from memory or from the head of a run.
    fn pop_min(&mut self) -> io::Result<Option<(u64, Vec<u8>)>> {
        let mem_key = self.mem.keys().next().copied();
        let run_key = min_head(&self.runs).map(|i| i.1);
        match (mem_key, run_key) {
            (Some(m), r) if r.is_none_or(|r| m < r) => {
                let row = self.mem.pop_first();
                if let Some((_, r)) = &row {
                    self.mem_bytes -= r.len() + ROW_OVERHEAD;
                }
                Ok(row)
            }
            _ => take_min(&mut self.runs),
        }
    }

    /// Moves every row held in memory to a new run, then merges full size classes.
    fn spill(&mut self) -> io::Result<()> {
        let mut mem = std::mem::take(&mut self.mem);
        self.mem_bytes = 0;
        let run = Run::write(0, &mut || Ok(mem.pop_first()))?;
        self.runs.push(run);
        // Classes only grow towards the end of `runs`, like the digits of a counter.
        loop {
            let Some(class) = self.runs.last().map(|r| r.class) else {
                return Ok(());
            };
            let same = self.runs.iter().rev().take_while(|r| r.class == class);
            if same.count() < FAN_IN {
                return Ok(());
            }
            let mut group: Vec<Run> = self.runs.split_off(self.runs.len() - FAN_IN);
            let merged = Run::write(class + 1, &mut || take_min(&mut group))?;
            if merged.head.is_some() {
                self.runs.push(merged);
            }
        }
    }
}

/// One record: key, length, row.
fn put(w: &mut impl Write, key: u64, row: &[u8]) -> io::Result<()> {
    let len = u32::try_from(row.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "row over 4 GiB"))?;
    w.write_all(&key.to_le_bytes())?;
    w.write_all(&len.to_le_bytes())?;
    w.write_all(row)
}

/// Says where an error happened: the output's errors are the caller's, these are ours.
fn in_temp_file(e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("temporary file of waiting rows: {e}"))
}

/// The run with the smallest head, and that head's key.
fn min_head(runs: &[Run]) -> Option<(usize, u64)> {
    runs.iter()
        .enumerate()
        .filter_map(|(i, r)| r.head.as_ref().map(|h| (i, h.0)))
        .min_by_key(|&(_, key)| key)
}

/// Takes the smallest head among `runs`, dropping runs that end.
fn take_min(runs: &mut Vec<Run>) -> io::Result<Option<(u64, Vec<u8>)>> {
    let Some((i, _)) = min_head(runs) else {
        return Ok(None);
    };
    let row = runs[i].head.take();
    runs[i].advance()?;
    if runs[i].head.is_none() {
        runs.remove(i);
    }
    Ok(row)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(f: impl FnOnce(&mut Sink<'_>) -> io::Result<()>) -> Vec<String> {
        let mut out = Vec::new();
        f(&mut |row: &[u8]| {
            out.push(String::from_utf8_lossy(row).into_owned());
            Ok(())
        })
        .unwrap();
        out
    }

    #[test]
    fn rows_come_out_in_key_order_as_soon_as_there_is_no_gap() {
        let mut r = Reorder::new(1 << 20);
        assert_eq!(
            collect(|s| r.offer(1, b"1".to_vec(), s)),
            Vec::<String>::new()
        );
        assert_eq!(
            collect(|s| r.offer(2, b"2".to_vec(), s)),
            Vec::<String>::new()
        );
        assert_eq!(collect(|s| r.offer(0, b"0".to_vec(), s)), ["0", "1", "2"]);
        assert_eq!(collect(|s| r.offer(3, b"3".to_vec(), s)), ["3"]);
        assert_eq!(
            collect(|s| r.offer(5, b"5".to_vec(), s)),
            Vec::<String>::new()
        );
        assert_eq!(collect(|s| r.finish(s)), ["5"], "finish writes past gaps");
    }

    /// Row 0 arrives last, after enough rows to spill many runs and merge size classes; the
    /// output is still every row once, in order.
    #[test]
    fn spilled_rows_merge_back_in_order() {
        let n = 5_000u64;
        let mut r = Reorder::new(10 * ROW_OVERHEAD);
        // Keys 1..n shuffled (7919 is prime to n - 1), then the blocker, key 0.
        let order: Vec<u64> = (1..n).map(|i| (i * 7919) % (n - 1) + 1).collect();
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert!(sorted.iter().copied().eq(1..n), "a permutation");
        for k in order {
            let none = collect(|s| r.offer(k, k.to_string().into_bytes(), s));
            assert!(none.is_empty());
        }
        assert!(r.spilled_runs() > 0, "rows were spilled");
        assert!(
            r.spilled_runs() <= 3 * FAN_IN,
            "size classes were merged: {} runs",
            r.spilled_runs()
        );
        let out = collect(|s| r.offer(0, b"0".to_vec(), s));
        let want: Vec<String> = (0..n).map(|k| k.to_string()).collect();
        assert_eq!(out, want);
        assert!(collect(|s| r.finish(s)).is_empty());
    }
}
