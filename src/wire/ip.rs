//! IPv4 and IPv6 headers, decoded laxly: a packet cut short by the snaplen (or quoted inside an
//! ICMP error) still yields its header and whatever payload was captured, while the payload
//! length *claimed* by the header is kept apart so transport lengths agree with tshark.
//!
//! Contract: [`parse_ip`] never panics; it needs a complete fixed header (and, for IPv6, complete
//! extension headers) and returns an error otherwise.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub(crate) const PROTO_ICMP: u8 = 1;
pub(crate) const PROTO_TCP: u8 = 6;
pub(crate) const PROTO_UDP: u8 = 17;
pub(crate) const PROTO_ICMPV6: u8 = 58;

/// Fragmentation fields of a fragment (IPv4 with MF or an offset, or an IPv6 fragment header).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Fragment {
    /// Offset of this fragment's data in bytes.
    pub offset: u32,
    pub more: bool,
    pub ident: u32,
}

/// A decoded IP header and its payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IpPacket<'a> {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// Upper-layer protocol (after IPv6 extension headers).
    pub protocol: u8,
    /// TTL or hop limit.
    pub ttl: u8,
    /// IPv4 identification (0 for IPv6).
    pub ident: u16,
    pub fragment: Option<Fragment>,
    /// Payload bytes actually captured (at most `payload_len`).
    pub payload: &'a [u8],
    /// Payload length according to the header.
    pub payload_len: usize,
}

impl IpPacket<'_> {
    pub(crate) fn is_v6(&self) -> bool {
        self.src.is_ipv6()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum IpError {
    #[error("IP header truncated ({0} bytes)")]
    Short(usize),
    #[error("bad IP version {0}")]
    Version(u8),
    #[error("bad IPv4 header length {0}")]
    HeaderLen(usize),
    #[error("IPv6 extension header {0} truncated")]
    Extension(u8),
}

/// Decodes an IPv4 or IPv6 packet (by version nibble).
pub(crate) fn parse_ip(data: &[u8]) -> Result<IpPacket<'_>, IpError> {
    match data.first().map(|b| b >> 4) {
        Some(4) => parse_v4(data),
        Some(6) => parse_v6(data),
        Some(v) => Err(IpError::Version(v)),
        None => Err(IpError::Short(0)),
    }
}

fn parse_v4(d: &[u8]) -> Result<IpPacket<'_>, IpError> {
    if d.len() < 20 {
        return Err(IpError::Short(d.len()));
    }
    let ihl = (d[0] & 0x0f) as usize * 4;
    if ihl < 20 {
        return Err(IpError::HeaderLen(ihl));
    }
    if d.len() < ihl {
        return Err(IpError::Short(d.len()));
    }
    let total = u16::from_be_bytes([d[2], d[3]]) as usize;
    // Total length 0 happens with TCP segmentation offload; trust the capture then.
    let claimed = if total == 0 {
        d.len() - ihl
    } else if total < ihl {
        return Err(IpError::HeaderLen(total));
    } else {
        total - ihl
    };
    let ident = u16::from_be_bytes([d[4], d[5]]);
    let ff = u16::from_be_bytes([d[6], d[7]]);
    let more = ff & 0x2000 != 0;
    let offset = (ff & 0x1fff) as u32 * 8;
    let end = (ihl + claimed).min(d.len());
    Ok(IpPacket {
        src: IpAddr::V4(Ipv4Addr::new(d[12], d[13], d[14], d[15])),
        dst: IpAddr::V4(Ipv4Addr::new(d[16], d[17], d[18], d[19])),
        protocol: d[9],
        ttl: d[8],
        ident,
        fragment: (more || offset > 0).then_some(Fragment {
            offset,
            more,
            ident: ident as u32,
        }),
        payload: &d[ihl..end],
        payload_len: claimed,
    })
}

fn parse_v6(d: &[u8]) -> Result<IpPacket<'_>, IpError> {
    if d.len() < 40 {
        return Err(IpError::Short(d.len()));
    }
    let plen = u16::from_be_bytes([d[4], d[5]]) as usize;
    // Payload length 0 means a jumbogram or offload; trust the capture then.
    let mut claimed = if plen == 0 { d.len() - 40 } else { plen };
    let addr = |at: usize| {
        let mut a = [0u8; 16];
        a.copy_from_slice(&d[at..at + 16]);
        IpAddr::V6(Ipv6Addr::from(a))
    };
    let mut next = d[6];
    let mut off = 40;
    let mut fragment = None;
    loop {
        let hlen = match next {
            0 | 43 | 60 | 135 | 139 | 140 => {
                let l = d.get(off + 1).ok_or(IpError::Extension(next))?;
                (*l as usize + 1) * 8
            }
            51 => {
                let l = d.get(off + 1).ok_or(IpError::Extension(next))?;
                (*l as usize + 2) * 4
            }
            44 => 8,
            _ => break,
        };
        if d.len() < off + hlen.max(2) || claimed < hlen {
            return Err(IpError::Extension(next));
        }
        if next == 44 {
            let fo = u16::from_be_bytes([d[off + 2], d[off + 3]]);
            let ident = u32::from_be_bytes([d[off + 4], d[off + 5], d[off + 6], d[off + 7]]);
            fragment = Some(Fragment {
                offset: (fo & 0xfff8) as u32,
                more: fo & 1 != 0,
                ident,
            });
        }
        next = d[off];
        off += hlen;
        claimed -= hlen;
    }
    let end = (off + claimed).min(d.len());
    Ok(IpPacket {
        src: addr(8),
        dst: addr(24),
        protocol: next,
        ttl: d[7],
        ident: 0,
        fragment,
        payload: &d[off..end],
        payload_len: claimed,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// IPv4 header (no options) for `payload_len` bytes of `proto`, 10.0.0.1 -> 10.0.0.2.
    pub(crate) fn v4_header(proto: u8, payload_len: usize) -> Vec<u8> {
        let total = (20 + payload_len) as u16;
        let t = total.to_be_bytes();
        vec![
            0x45, 0, t[0], t[1], 0x12, 0x34, 0x40, 0, 64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        ]
    }

    /// IPv6 header, ::1 -> ::2.
    pub(crate) fn v6_header(next: u8, payload_len: usize) -> Vec<u8> {
        let p = (payload_len as u16).to_be_bytes();
        let mut h = vec![0x60, 0, 0, 0, p[0], p[1], next, 64];
        h.extend([0u8; 15]);
        h.push(1);
        h.extend([0u8; 15]);
        h.push(2);
        h
    }

    #[test]
    fn v4_truncated_payload_keeps_claimed_length() {
        let mut p = v4_header(PROTO_UDP, 100);
        p.extend([1, 2, 3]);
        let ip = parse_ip(&p).unwrap();
        assert_eq!(ip.protocol, PROTO_UDP);
        assert_eq!(ip.payload, &[1, 2, 3]);
        assert_eq!(ip.payload_len, 100);
        assert_eq!(ip.src.to_string(), "10.0.0.1");
        assert!(ip.fragment.is_none());
        assert!(parse_ip(&p[..19]).is_err());
    }

    #[test]
    fn v4_ethernet_padding_is_cut() {
        let mut p = v4_header(PROTO_TCP, 2);
        p.extend([9, 9, 0, 0, 0, 0]);
        assert_eq!(parse_ip(&p).unwrap().payload, &[9, 9]);
    }

    #[test]
    fn v4_fragment_fields() {
        let mut p = v4_header(PROTO_UDP, 8);
        p[6] = 0x20;
        p[7] = 0x03; // offset 3*8, MF
        p.extend([0; 8]);
        let f = parse_ip(&p).unwrap().fragment.unwrap();
        assert_eq!((f.offset, f.more, f.ident), (24, true, 0x1234));
    }

    #[test]
    fn v6_walks_extension_headers_and_fragment() {
        // Hop-by-hop (8 bytes) -> fragment -> UDP.
        let mut p = v6_header(0, 8 + 8 + 4);
        p.extend([44, 0, 0, 0, 0, 0, 0, 0]);
        p.extend([PROTO_UDP, 0, 0x00, 0x11, 0, 0, 0, 7]);
        p.extend([1, 2, 3, 4]);
        let ip = parse_ip(&p).unwrap();
        assert_eq!(ip.protocol, PROTO_UDP);
        assert_eq!(ip.payload, &[1, 2, 3, 4]);
        assert_eq!(ip.payload_len, 4);
        let f = ip.fragment.unwrap();
        assert_eq!((f.offset, f.more, f.ident), (16, true, 7));
        assert_eq!(ip.dst.to_string(), "::2");
        assert_eq!(parse_ip(&p[..44]), Err(IpError::Extension(0)));
    }
}
