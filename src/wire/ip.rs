//! IPv4 and IPv6 headers, decoded laxly by etherparse's `LaxIpSlice`: a packet cut short by the
//! snaplen (or quoted inside an ICMP error) still yields its header and whatever payload was
//! captured, while the payload length *claimed* by the header is kept apart so transport
//! lengths agree with tshark.
//!
//! Where etherparse's lax rules differ from tshark's, tshark wins, by hand and here only:
//! - an IPv4 total length below the header's own length is an error (tshark: "bogus IPv4
//!   length"; etherparse falls back to the captured length);
//! - a truncated or malformed IPv6 extension header is an error (etherparse stops there and
//!   returns what it has; tshark shows no transport either);
//! - the IPv6 extension headers etherparse does not walk (mobility 135, HIP 139, shim6 140:
//!   all in the RFC 6564 generic format) are walked here, as tshark does.
//!
//! Contract: [`parse_ip`] never panics; it needs a complete fixed header (and, for IPv6, complete
//! extension headers) and returns an error otherwise.

use std::net::IpAddr;

use etherparse::err::ip::{HeaderError, LaxHeaderSliceError};
use etherparse::{Ipv6ExtensionSlice, LaxIpSlice};

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

/// IPv6 extension headers in the RFC 6564 generic format that etherparse does not walk.
const GENERIC_EXTENSIONS: [u8; 3] = [135, 139, 140];

/// Decodes an IPv4 or IPv6 packet (by version nibble).
pub(crate) fn parse_ip(data: &[u8]) -> Result<IpPacket<'_>, IpError> {
    let (ip, ext_error) = LaxIpSlice::from_slice(data).map_err(|e| match e {
        LaxHeaderSliceError::Len(l) => IpError::Short(l.len),
        LaxHeaderSliceError::Content(HeaderError::UnsupportedIpVersion { version_number }) => {
            IpError::Version(version_number)
        }
        LaxHeaderSliceError::Content(HeaderError::Ipv4HeaderLengthSmallerThanHeader { ihl }) => {
            IpError::HeaderLen(usize::from(ihl) * 4)
        }
    })?;
    match ip {
        LaxIpSlice::Ipv4(v4) => {
            let h = v4.header();
            let ihl = h.slice().len();
            let total = usize::from(h.total_len());
            if total != 0 && total < ihl {
                return Err(IpError::HeaderLen(total));
            }
            let p = v4.payload();
            // The authentication header, when there is one, is not part of the payload.
            let exts = v4.extensions().auth.map_or(0, |a| a.slice().len());
            // Total length 0 happens with TCP segmentation offload; trust the capture then.
            let claimed = if total == 0 {
                data.len() - ihl - exts
            } else {
                (total - ihl).saturating_sub(exts)
            };
            let offset = u32::from(h.fragments_offset().value()) * 8;
            let more = h.more_fragments();
            Ok(IpPacket {
                src: IpAddr::V4(h.source_addr()),
                dst: IpAddr::V4(h.destination_addr()),
                protocol: p.ip_number.0,
                ttl: h.ttl(),
                ident: h.identification(),
                fragment: (more || offset > 0).then_some(Fragment {
                    offset,
                    more,
                    ident: u32::from(h.identification()),
                }),
                payload: p.payload,
                payload_len: claimed,
            })
        }
        LaxIpSlice::Ipv6(v6) => {
            let p = v6.payload();
            if ext_error.is_some() {
                return Err(IpError::Extension(p.ip_number.0));
            }
            let h = v6.header();
            let exts = v6.extensions();
            let fragment = exts.clone().into_iter().find_map(|e| match e {
                Ipv6ExtensionSlice::Fragment(f) => Some(Fragment {
                    offset: u32::from(f.fragment_offset().value()) * 8,
                    more: f.more_fragments(),
                    ident: f.identification(),
                }),
                _ => None,
            });
            let plen = usize::from(h.payload_length());
            // Payload length 0 means a jumbogram or offload; trust the capture then.
            let after_fixed = if plen == 0 { data.len() - 40 } else { plen };
            let mut claimed = after_fixed
                .checked_sub(exts.slice().len())
                .ok_or(IpError::Extension(p.ip_number.0))?;
            let (mut protocol, mut payload) = (p.ip_number.0, p.payload);
            while GENERIC_EXTENSIONS.contains(&protocol) {
                let len = payload.get(1).map(|l| (usize::from(*l) + 1) * 8);
                let Some(len) = len.filter(|l| *l <= payload.len() && *l <= claimed) else {
                    return Err(IpError::Extension(protocol));
                };
                protocol = payload[0];
                payload = &payload[len..];
                claimed -= len;
            }
            Ok(IpPacket {
                src: IpAddr::V6(h.source_addr()),
                dst: IpAddr::V6(h.destination_addr()),
                protocol,
                ttl: h.hop_limit(),
                ident: 0,
                fragment,
                payload: &payload[..payload.len().min(claimed)],
                payload_len: claimed,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit;

    fn v4(proto: u8, payload: &[u8]) -> Vec<u8> {
        testkit::ip([10, 0, 0, 1].into(), [10, 0, 0, 2].into(), proto, payload)
    }

    #[test]
    fn v4_truncated_payload_keeps_claimed_length() {
        let p = v4(PROTO_UDP, &[1; 100]);
        let ip = parse_ip(&p[..23]).unwrap();
        assert_eq!(ip.protocol, PROTO_UDP);
        assert_eq!(ip.payload, &[1, 1, 1]);
        assert_eq!(ip.payload_len, 100);
        assert_eq!(ip.src.to_string(), "10.0.0.1");
        assert_eq!((ip.ttl, ip.ident), (testkit::TTL, 0));
        assert!(ip.fragment.is_none());
        assert_eq!(parse_ip(&p[..19]), Err(IpError::Short(19)));
    }

    #[test]
    fn v4_ethernet_padding_is_cut() {
        let mut p = v4(PROTO_TCP, &[9, 9]);
        p.extend([0, 0, 0, 0]);
        assert_eq!(parse_ip(&p).unwrap().payload, &[9, 9]);
    }

    #[test]
    fn v4_total_length_below_the_header_is_refused_as_tshark_does() {
        let mut p = v4(PROTO_TCP, &[9; 20]);
        p[2..4].copy_from_slice(&12u16.to_be_bytes());
        assert_eq!(parse_ip(&p), Err(IpError::HeaderLen(12)));
        // Zero, as segmentation offload leaves it: the captured length stands.
        p[2..4].copy_from_slice(&[0, 0]);
        assert_eq!(parse_ip(&p).unwrap().payload_len, 20);
    }

    #[test]
    fn v4_fragment_fields() {
        let mut p = v4(PROTO_UDP, &[0; 8]);
        p[4..6].copy_from_slice(&0x1234u16.to_be_bytes());
        p[6] = 0x20;
        p[7] = 0x03; // offset 3*8, MF
        let f = parse_ip(&p).unwrap().fragment.unwrap();
        assert_eq!((f.offset, f.more, f.ident), (24, true, 0x1234));
    }

    fn v6(next: u8, payload: &[u8]) -> Vec<u8> {
        let (a, b): (IpAddr, IpAddr) = ("::1".parse().unwrap(), "::2".parse().unwrap());
        testkit::ip(a, b, next, payload)
    }

    #[test]
    fn v6_walks_extension_headers_and_fragment() {
        // Hop-by-hop (8 bytes) -> fragment -> UDP.
        let mut payload = vec![44, 0, 0, 0, 0, 0, 0, 0];
        payload.extend([PROTO_UDP, 0, 0x00, 0x11, 0, 0, 0, 7]);
        payload.extend([1, 2, 3, 4]);
        let p = v6(0, &payload);
        let ip = parse_ip(&p).unwrap();
        assert_eq!(ip.protocol, PROTO_UDP);
        assert_eq!(ip.payload, &[1, 2, 3, 4]);
        assert_eq!(ip.payload_len, 4);
        let f = ip.fragment.unwrap();
        assert_eq!((f.offset, f.more, f.ident), (16, true, 7));
        assert_eq!(ip.dst.to_string(), "::2");
        assert_eq!(parse_ip(&p[..44]), Err(IpError::Extension(0)));
    }

    #[test]
    fn v6_mobility_header_is_walked_as_tshark_does() {
        // Mobility (135, 8 bytes, which etherparse does not walk) -> UDP.
        let mut payload = vec![PROTO_UDP, 0, 0, 0, 0, 0, 0, 0];
        payload.extend([1, 2, 3, 4]);
        let p = v6(135, &payload);
        let ip = parse_ip(&p).unwrap();
        assert_eq!(
            (ip.protocol, ip.payload, ip.payload_len),
            (PROTO_UDP, &[1, 2, 3, 4][..], 4)
        );
        assert_eq!(
            parse_ip(&v6(135, &[PROTO_UDP, 9])),
            Err(IpError::Extension(135))
        );
    }
}
