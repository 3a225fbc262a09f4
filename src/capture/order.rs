//! Putting a multi-interface capture in time order (effects: one file in, the same file out).
//!
//! The capture's reader thread writes each interface's packets as it takes them from that
//! interface's ring, a block at a time, so a file of several interfaces holds runs of one
//! interface then runs of another: the server's reply can come before the client's request.
//! Tools number frames in file order (tshark's `frame.number`, TCP streams in order of first
//! packet), so the harness merges the interfaces by timestamp once the run is over, outside the
//! sandbox where the file has its path. Each interface's packets are in order already (one
//! ring each), so this is a k-way merge that holds one packet per interface in memory, never
//! the whole file, and writes a new file beside the old, renamed over it.

use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::Path;

use super::pcap::{InterfaceDesc, Record, Timestamp, Writer};
use crate::wire::CaptureReader;

/// One interface's next packet, ordered by time then interface (the earliest first).
#[derive(PartialEq, Eq)]
struct Head {
    ts_ns: i64,
    iface: u32,
    data: Vec<u8>,
    orig_len: u32,
}

impl Ord for Head {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        // BinaryHeap is a max-heap: the earliest packet must compare greatest.
        (other.ts_ns, other.iface).cmp(&(self.ts_ns, self.iface))
    }
}

impl PartialOrd for Head {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// One pass over the file that yields the packets of one interface.
struct Lane {
    reader: CaptureReader<BufReader<File>>,
    iface: u32,
}

impl Lane {
    fn next(&mut self) -> std::io::Result<Option<Head>> {
        loop {
            match self.reader.next_frame() {
                Ok(Some(f)) if f.interface == self.iface => {
                    return Ok(Some(Head {
                        ts_ns: f.ts_ns,
                        iface: f.interface,
                        data: f.data.to_vec(),
                        orig_len: f.orig_len,
                    }))
                }
                Ok(Some(_)) => continue,
                Ok(None) => return Ok(None),
                Err(e) => return Err(std::io::Error::other(e.to_string())),
            }
        }
    }
}

/// Rewrites pcapng file `path`, whose interfaces are `ifaces` in order, with its packets in
/// time order (ties: in interface order).
pub(crate) fn sort_by_time(path: &Path, ifaces: &[InterfaceDesc]) -> std::io::Result<()> {
    let name = path.display().to_string();
    let mut lanes = Vec::with_capacity(ifaces.len());
    for i in 0..ifaces.len() {
        let reader = CaptureReader::new(BufReader::new(File::open(path)?), name.clone())
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        lanes.push(Lane {
            reader,
            iface: i as u32,
        });
    }
    let mut heap = BinaryHeap::new();
    for lane in &mut lanes {
        if let Some(h) = lane.next()? {
            heap.push(h);
        }
    }
    let tmp = tempfile::NamedTempFile::new_in(path.parent().unwrap_or(Path::new(".")))?;
    let mut writer = Writer::pcapng(BufWriter::new(tmp.as_file()), ifaces)?;
    while let Some(head) = heap.pop() {
        let ts = u64::try_from(head.ts_ns).unwrap_or(0);
        writer.write(&Record {
            iface: head.iface,
            ts: Timestamp {
                secs: ts / 1_000_000_000,
                nanos: (ts % 1_000_000_000) as u32,
            },
            data: &head.data,
            orig_len: head.orig_len,
        })?;
        if let Some(next) = lanes[head.iface as usize].next()? {
            heap.push(next);
        }
    }
    writer.flush()?;
    drop(writer);
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desc(name: &str) -> InterfaceDesc {
        InterfaceDesc {
            name: name.into(),
            linktype: super::super::LINKTYPE_ETHERNET,
        }
    }

    fn rec(iface: u32, nanos: u32, byte: u8) -> (u32, u32, Vec<u8>) {
        (iface, nanos, vec![byte; 20])
    }

    #[test]
    fn the_interfaces_runs_are_merged_in_time_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.pcapng");
        let ifaces = [desc("server/eth0"), desc("client/eth0")];
        // As the capture writes it: the server's ring first, then the client's.
        let written = [
            rec(0, 20, 2),
            rec(0, 40, 4),
            rec(1, 10, 1),
            rec(1, 30, 3),
            rec(1, 50, 5),
        ];
        {
            let mut w = Writer::pcapng(File::create(&path).unwrap(), &ifaces).unwrap();
            for (iface, nanos, data) in &written {
                w.write(&Record {
                    iface: *iface,
                    ts: Timestamp {
                        secs: 7,
                        nanos: *nanos,
                    },
                    data,
                    orig_len: data.len() as u32,
                })
                .unwrap();
            }
            w.flush().unwrap();
        }
        sort_by_time(&path, &ifaces).unwrap();
        let mut r = CaptureReader::new(File::open(&path).unwrap(), "t").unwrap();
        let mut seen = Vec::new();
        while let Some(f) = r.next_frame().unwrap() {
            seen.push((f.interface, f.ts_ns - 7_000_000_000, f.data[0]));
        }
        assert_eq!(
            seen,
            vec![(1, 10, 1), (0, 20, 2), (1, 30, 3), (0, 40, 4), (1, 50, 5)]
        );
    }
}
