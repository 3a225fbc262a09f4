//! IPv4/IPv6 fragment reassembly, so transport fields land on the frame that completes the
//! datagram, as in tshark (whose default is to reassemble).
//!
//! Contract: [`Defragmenter::push`] returns the reassembled transport payload when the fragment
//! completes a datagram. Memory is bounded: at most [`MAX_PENDING_BYTES`] are held across all
//! incomplete datagrams; when exceeded the oldest incomplete datagrams are dropped (as a
//! reassembly timeout would).

use std::collections::HashMap;
use std::net::IpAddr;

use super::ip::Fragment;

pub(crate) const MAX_PENDING_BYTES: usize = 16 * 1024 * 1024;
/// A datagram cannot exceed this (IPv4 limit; IPv6 jumbograms are not fragmented).
const MAX_DATAGRAM: u32 = 65_535;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    src: IpAddr,
    dst: IpAddr,
    protocol: u8,
    ident: u32,
}

#[derive(Debug, Default)]
struct Pending {
    /// (offset, bytes), unsorted.
    parts: Vec<(u32, Vec<u8>)>,
    total: Option<u32>,
    bytes: usize,
    /// Insertion order, to evict the oldest.
    serial: u64,
}

/// Stateful reassembler; feed it every fragment in capture order.
#[derive(Debug, Default)]
pub(crate) struct Defragmenter {
    pending: HashMap<Key, Pending>,
    bytes: usize,
    serial: u64,
}

impl Defragmenter {
    /// Adds one fragment's payload; returns the whole datagram payload when complete.
    pub(crate) fn push(
        &mut self,
        src: IpAddr,
        dst: IpAddr,
        protocol: u8,
        frag: Fragment,
        data: &[u8],
    ) -> Option<Vec<u8>> {
        let end = frag.offset.checked_add(data.len() as u32)?;
        if end > MAX_DATAGRAM {
            return None;
        }
        let key = Key {
            src,
            dst,
            protocol,
            ident: frag.ident,
        };
        self.serial += 1;
        let serial = self.serial;
        let p = self.pending.entry(key).or_insert_with(|| Pending {
            serial,
            ..Pending::default()
        });
        if !frag.more {
            p.total = Some(end);
        }
        p.parts.push((frag.offset, data.to_vec()));
        p.bytes += data.len();
        self.bytes += data.len();
        if let Some(whole) = try_assemble(p) {
            let bytes = p.bytes;
            self.pending.remove(&key);
            self.bytes -= bytes;
            return Some(whole);
        }
        while self.bytes > MAX_PENDING_BYTES {
            let Some(oldest) = self
                .pending
                .iter()
                .min_by_key(|(_, p)| p.serial)
                .map(|(k, _)| *k)
            else {
                break;
            };
            if let Some(p) = self.pending.remove(&oldest) {
                self.bytes -= p.bytes;
            }
        }
        None
    }
}

fn try_assemble(p: &mut Pending) -> Option<Vec<u8>> {
    let total = p.total?;
    p.parts.sort_by_key(|(o, _)| *o);
    let mut covered = 0u32;
    for (o, d) in &p.parts {
        if *o > covered {
            return None;
        }
        covered = covered.max(o + d.len() as u32);
    }
    if covered < total {
        return None;
    }
    let mut out = vec![0u8; total as usize];
    for (o, d) in &p.parts {
        // A fragment may start past the end a later "last fragment" declared (the fuzzer's
        // first find): the bytes past the end are dropped, never indexed.
        let o = *o as usize;
        let n = d.len().min(out.len().saturating_sub(o));
        if let Some(dst) = out.get_mut(o..o + n) {
            dst.copy_from_slice(&d[..n]);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frag(offset: u32, more: bool) -> Fragment {
        Fragment {
            offset,
            more,
            ident: 9,
        }
    }

    #[test]
    fn reassembles_out_of_order() {
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let mut d = Defragmenter::default();
        assert_eq!(d.push(a, b, 17, frag(8, false), b"world"), None);
        assert_eq!(d.push(b, a, 17, frag(0, true), b"XXXXXXXX"), None);
        let whole = d.push(a, b, 17, frag(0, true), b"hello, w").unwrap();
        assert_eq!(whole, b"hello, wworld");
        assert_eq!(
            d.pending.len(),
            1,
            "the other direction's fragment stays pending"
        );
    }

    #[test]
    fn a_fragment_past_the_end_a_last_fragment_declares_is_dropped_not_a_panic() {
        // Found by the `decoders` fuzz target (fuzz/regressions/decoders/): fragments covering
        // 0..560, then a last fragment that says the datagram ends at 516.
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let mut d = Defragmenter::default();
        assert_eq!(d.push(a, a, 17, frag(0, true), &[1; 560]), None);
        assert_eq!(d.push(a, a, 17, frag(552, true), &[3; 8]), None);
        let whole = d.push(a, a, 17, frag(0, false), &[2; 516]).unwrap();
        assert_eq!(whole.len(), 516);
    }

    #[test]
    fn memory_is_bounded() {
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let mut d = Defragmenter::default();
        let chunk = vec![0u8; 60_000];
        for i in 0..1000u32 {
            let f = Fragment {
                offset: 0,
                more: true,
                ident: i,
            };
            d.push(a, a, 17, f, &chunk);
        }
        // The counter is the one the eviction trusts: check it against what is held.
        let held: usize = d
            .pending
            .values()
            .flat_map(|p| &p.parts)
            .map(|(_, b)| b.len())
            .sum();
        assert_eq!(d.bytes, held);
        assert!(held <= MAX_PENDING_BYTES);
        // The newest datagram is kept; the oldest went first.
        assert!(d.pending.keys().any(|k| k.ident == 999));
        assert!(!d.pending.keys().any(|k| k.ident == 0));
    }
}
