//! Writing capture files: classic pcap with nanosecond timestamps, and pcapng (pure: generic
//! over `io::Write`, so the exact bytes are tested without a socket).
//!
//! Both are written little-endian whatever the host; readers detect the byte order from the
//! magic. pcapng gets one Interface Description Block per interface, with its name and
//! nanosecond resolution, and one Enhanced Packet Block per packet.

use std::io::{self, IoSlice, Write};

/// Ethernet link type (DLT_EN10MB), also what Linux gives for `lo` on a raw packet socket.
pub(crate) const LINKTYPE_ETHERNET: u16 = 1;
/// Bytes kept per packet: loopback frames reach 64 KiB plus headers, and libpcap's default is
/// the same.
pub(crate) const SNAPLEN: u32 = 262_144;

/// pcap magic for nanosecond timestamps.
const PCAP_MAGIC_NS: u32 = 0xa1b2_3c4d;
const PCAPNG_SHB: u32 = 0x0a0d_0d0a;
const PCAPNG_IDB: u32 = 0x0000_0001;
const PCAPNG_EPB: u32 = 0x0000_0006;
const PCAPNG_BYTE_ORDER: u32 = 0x1a2b_3c4d;
const OPT_END: u16 = 0;
const IF_NAME: u16 = 2;
const IF_TSRESOL: u16 = 9;

/// Time of a packet since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Timestamp {
    pub secs: u64,
    pub nanos: u32,
}

/// One interface of a pcapng file.
#[derive(Debug, Clone)]
pub(crate) struct InterfaceDesc {
    pub name: String,
    pub linktype: u16,
}

/// A packet to record: `data` is what was kept, `orig_len` its length on the wire.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Record<'a> {
    pub iface: u32,
    pub ts: Timestamp,
    pub data: &'a [u8],
    pub orig_len: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Pcap,
    Pcapng,
}

/// A capture file being written.
#[derive(Debug)]
pub(crate) struct Writer<W: Write> {
    out: W,
    format: Format,
}

impl<W: Write> Writer<W> {
    /// Classic pcap (one interface): writes the file header at once.
    pub(crate) fn pcap(mut out: W, linktype: u16) -> io::Result<Self> {
        let mut h = Vec::with_capacity(24);
        h.extend_from_slice(&PCAP_MAGIC_NS.to_le_bytes());
        h.extend_from_slice(&2u16.to_le_bytes());
        h.extend_from_slice(&4u16.to_le_bytes());
        h.extend_from_slice(&0i32.to_le_bytes()); // thiszone: timestamps are UTC
        h.extend_from_slice(&0u32.to_le_bytes()); // sigfigs
        h.extend_from_slice(&SNAPLEN.to_le_bytes());
        h.extend_from_slice(&u32::from(linktype).to_le_bytes());
        out.write_all(&h)?;
        Ok(Writer {
            out,
            format: Format::Pcap,
        })
    }

    /// pcapng: writes the section header and one interface block per interface, whose index
    /// in `ifaces` is then the `iface` of each [`Record`].
    pub(crate) fn pcapng(mut out: W, ifaces: &[InterfaceDesc]) -> io::Result<Self> {
        let mut body = Vec::new();
        body.extend_from_slice(&PCAPNG_BYTE_ORDER.to_le_bytes());
        body.extend_from_slice(&1u16.to_le_bytes());
        body.extend_from_slice(&0u16.to_le_bytes());
        body.extend_from_slice(&u64::MAX.to_le_bytes()); // section length: not known in advance
        write_block(&mut out, PCAPNG_SHB, &body)?;
        for iface in ifaces {
            let mut body = Vec::new();
            body.extend_from_slice(&iface.linktype.to_le_bytes());
            body.extend_from_slice(&0u16.to_le_bytes());
            body.extend_from_slice(&SNAPLEN.to_le_bytes());
            push_option(&mut body, IF_NAME, iface.name.as_bytes());
            push_option(&mut body, IF_TSRESOL, &[9]); // 10^-9 s
            push_option(&mut body, OPT_END, &[]);
            write_block(&mut out, PCAPNG_IDB, &body)?;
        }
        Ok(Writer {
            out,
            format: Format::Pcapng,
        })
    }

    /// Appends one packet, cut to the snaplen.
    pub(crate) fn write(&mut self, rec: &Record<'_>) -> io::Result<()> {
        self.write_batch(std::slice::from_ref(rec))
    }

    /// Appends packets in order, each cut to the snaplen, with vectored writes: the packet
    /// bytes go from the caller's buffer (the capture ring) to the file without another copy
    /// once the batch is larger than the output's buffer.
    pub(crate) fn write_batch(&mut self, recs: &[Record<'_>]) -> io::Result<()> {
        let framing: Vec<Framing> = recs.iter().map(|r| self.framing(r)).collect();
        let mut slices = Vec::with_capacity(recs.len() * 3);
        for (rec, f) in recs.iter().zip(&framing) {
            slices.push(IoSlice::new(&f.head[..f.head_len]));
            slices.push(IoSlice::new(&rec.data[..f.caplen]));
            if f.tail_len > 0 {
                slices.push(IoSlice::new(&f.tail[..f.tail_len]));
            }
        }
        write_all_vectored(&mut self.out, &mut slices)
    }

    /// The bytes that go before and after a record's data in this format.
    fn framing(&self, rec: &Record<'_>) -> Framing {
        let caplen = rec.data.len().min(SNAPLEN as usize);
        let mut f = Framing {
            head: [0; 28],
            head_len: 0,
            caplen,
            tail: [0; 8],
            tail_len: 0,
        };
        // Lengths fit in u32: data is at most SNAPLEN.
        let cap = (caplen as u32).to_le_bytes();
        let orig = rec.orig_len.to_le_bytes();
        match self.format {
            Format::Pcap => {
                // pcap's seconds field is 32 bits: wraps in 2106.
                f.head[0..4].copy_from_slice(&(rec.ts.secs as u32).to_le_bytes());
                f.head[4..8].copy_from_slice(&rec.ts.nanos.to_le_bytes());
                f.head[8..12].copy_from_slice(&cap);
                f.head[12..16].copy_from_slice(&orig);
                f.head_len = 16;
            }
            Format::Pcapng => {
                let ns = rec
                    .ts
                    .secs
                    .saturating_mul(1_000_000_000)
                    .saturating_add(u64::from(rec.ts.nanos));
                let pad = padding(caplen);
                let total = ((12 + 20 + caplen + pad) as u32).to_le_bytes();
                f.head[0..4].copy_from_slice(&PCAPNG_EPB.to_le_bytes());
                f.head[4..8].copy_from_slice(&total);
                f.head[8..12].copy_from_slice(&rec.iface.to_le_bytes());
                f.head[12..16].copy_from_slice(&((ns >> 32) as u32).to_le_bytes());
                f.head[16..20].copy_from_slice(&(ns as u32).to_le_bytes());
                f.head[20..24].copy_from_slice(&cap);
                f.head[24..28].copy_from_slice(&orig);
                f.head_len = 28;
                f.tail[pad..pad + 4].copy_from_slice(&total);
                f.tail_len = pad + 4;
            }
        }
        f
    }

    pub(crate) fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    pub(crate) fn into_inner(self) -> W {
        self.out
    }
}

/// A record's framing: `head[..head_len]`, then `caplen` bytes of data, then
/// `tail[..tail_len]` (pcapng's padding and repeated length).
struct Framing {
    head: [u8; 28],
    head_len: usize,
    caplen: usize,
    tail: [u8; 8],
    tail_len: usize,
}

/// `write_all` for a list of slices (std's own is not stable yet).
fn write_all_vectored(out: &mut impl Write, mut slices: &mut [IoSlice<'_>]) -> io::Result<()> {
    // The kernel takes at most IOV_MAX (1024) slices per call.
    const MAX_SLICES: usize = 1024;
    IoSlice::advance_slices(&mut slices, 0);
    while !slices.is_empty() {
        let n = slices.len().min(MAX_SLICES);
        match out.write_vectored(&slices[..n]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(written) => IoSlice::advance_slices(&mut slices, written),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn padding(len: usize) -> usize {
    (4 - len % 4) % 4
}

fn push_option(body: &mut Vec<u8>, code: u16, value: &[u8]) {
    body.extend_from_slice(&code.to_le_bytes());
    // Option values here are interface names (< 16 bytes) and one byte.
    body.extend_from_slice(&(value.len() as u16).to_le_bytes());
    body.extend_from_slice(value);
    body.resize(body.len() + padding(value.len()), 0);
}

fn write_block(out: &mut impl Write, kind: u32, body: &[u8]) -> io::Result<()> {
    let total = (12 + body.len()) as u32;
    out.write_all(&kind.to_le_bytes())?;
    out.write_all(&total.to_le_bytes())?;
    out.write_all(body)?;
    out.write_all(&total.to_le_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TS: Timestamp = Timestamp {
        secs: 1_700_000_000,
        nanos: 123_456_789,
    };

    #[test]
    fn pcap_header_and_record_bytes() {
        let mut w = Writer::pcap(Vec::new(), LINKTYPE_ETHERNET).expect("header");
        let rec = Record {
            iface: 0,
            ts: TS,
            data: b"abc",
            orig_len: 60,
        };
        w.write(&rec).expect("record");
        let bytes = w.into_inner();
        let expected_header = [
            0x4d, 0x3c, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x00, 0x04, 0x00, 1,
            0, 0, 0,
        ];
        assert_eq!(bytes[..24], expected_header);
        assert_eq!(bytes[24..28], 1_700_000_000u32.to_le_bytes());
        assert_eq!(bytes[28..32], 123_456_789u32.to_le_bytes());
        assert_eq!(bytes[32..36], 3u32.to_le_bytes());
        assert_eq!(bytes[36..40], 60u32.to_le_bytes());
        assert_eq!(&bytes[40..], b"abc");
    }

    #[test]
    fn pcap_cuts_packets_at_snaplen() {
        let big = vec![7u8; SNAPLEN as usize + 10];
        let mut w = Writer::pcap(Vec::new(), LINKTYPE_ETHERNET).expect("header");
        let rec = Record {
            iface: 0,
            ts: TS,
            data: &big,
            orig_len: big.len() as u32,
        };
        w.write(&rec).expect("record");
        let bytes = w.into_inner();
        assert_eq!(bytes[32..36], SNAPLEN.to_le_bytes());
        assert_eq!(bytes[36..40], (SNAPLEN + 10).to_le_bytes());
        assert_eq!(bytes.len(), 40 + SNAPLEN as usize);
    }

    /// Walks the blocks checking that each one's two length fields agree and are 4-aligned.
    fn blocks(bytes: &[u8]) -> Vec<(u32, Vec<u8>)> {
        let mut out = Vec::new();
        let mut at = 0;
        while at < bytes.len() {
            let word = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().expect("4 bytes"));
            let kind = word(at);
            let len = word(at + 4) as usize;
            assert_eq!(len % 4, 0, "block at {at} not aligned");
            assert_eq!(word(at + len - 4) as usize, len, "trailing length at {at}");
            out.push((kind, bytes[at + 8..at + len - 4].to_vec()));
            at += len;
        }
        out
    }

    #[test]
    fn pcapng_has_one_idb_per_interface_and_nanosecond_epbs() {
        let ifaces = [
            InterfaceDesc {
                name: "lo".into(),
                linktype: LINKTYPE_ETHERNET,
            },
            InterfaceDesc {
                name: "veth0".into(),
                linktype: LINKTYPE_ETHERNET,
            },
        ];
        let mut w = Writer::pcapng(Vec::new(), &ifaces).expect("header");
        let rec = Record {
            iface: 1,
            ts: TS,
            data: b"hello",
            orig_len: 5,
        };
        w.write(&rec).expect("record");
        let blocks = blocks(&w.into_inner());
        let kinds: Vec<u32> = blocks.iter().map(|b| b.0).collect();
        assert_eq!(kinds, [PCAPNG_SHB, PCAPNG_IDB, PCAPNG_IDB, PCAPNG_EPB]);
        assert_eq!(blocks[0].1[..4], PCAPNG_BYTE_ORDER.to_le_bytes());
        let idb = &blocks[2].1;
        assert_eq!(idb[..2], LINKTYPE_ETHERNET.to_le_bytes());
        assert_eq!(idb[4..8], SNAPLEN.to_le_bytes());
        // if_name "veth0" (padded to 8), then if_tsresol 9, then end of options.
        assert_eq!(idb[8..12], [2, 0, 5, 0]);
        assert_eq!(&idb[12..17], b"veth0");
        assert_eq!(idb[20..25], [9, 0, 1, 0, 9]);
        assert_eq!(idb[28..32], [0, 0, 0, 0]);
        let epb = &blocks[3].1;
        assert_eq!(epb[..4], 1u32.to_le_bytes());
        let ns = 1_700_000_000_123_456_789u64;
        assert_eq!(epb[4..8], ((ns >> 32) as u32).to_le_bytes());
        assert_eq!(epb[8..12], (ns as u32).to_le_bytes());
        assert_eq!(epb[12..16], 5u32.to_le_bytes());
        assert_eq!(&epb[20..25], b"hello");
        assert_eq!(epb.len(), 20 + 8, "data padded to 4 bytes");
    }
}
