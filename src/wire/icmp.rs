//! ICMP and ICMPv6: type, code, echo identifiers and, for error messages, the flow quoted in
//! the body (the offending packet's IP header and first transport bytes, decoded laxly since
//! routers quote as little as 8 bytes of it).
//!
//! Contract: [`parse_icmp`] never panics; it needs the 4-byte header. A quote that cannot be
//! decoded leaves `quoted` empty rather than failing the message.

use super::ip::{parse_ip, PROTO_TCP, PROTO_UDP};
use std::net::IpAddr;

/// The flow an ICMP error quotes, as the original sender saw it (src = the sender).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub(crate) struct QuotedFlow {
    pub protocol: u8,
    pub src: IpAddr,
    pub dst: IpAddr,
    /// Ports if the quoted transport is TCP or UDP and at least 4 bytes of it were quoted.
    pub ports: Option<(u16, u16)>,
}

/// A decoded ICMP or ICMPv6 message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IcmpMessage {
    pub v6: bool,
    pub icmp_type: u8,
    pub code: u8,
    /// Echo identifier and sequence number, for echo request/reply.
    pub echo: Option<(u16, u16)>,
    pub quoted: Option<QuotedFlow>,
    /// Neighbor discovery (ICMPv6 135/136): target, flags byte, link-layer address option.
    pub nd: Option<NeighborDiscovery>,
}

/// The parts of a neighbor solicitation/advertisement tshark shows in its Info column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub(crate) struct NeighborDiscovery {
    pub target: std::net::Ipv6Addr,
    /// Advertisement flags (router 0x80, solicited 0x40, override 0x20); 0 for solicitations.
    pub flags: u8,
    /// Source (solicitation) or target (advertisement) link-layer address option.
    pub link_addr: Option<[u8; 6]>,
}

impl IcmpMessage {
    /// True for error messages (which quote a packet).
    pub(crate) fn is_error(&self) -> bool {
        is_error(self.v6, self.icmp_type)
    }

    /// True for destination unreachable.
    #[allow(dead_code)]
    pub(crate) fn is_unreachable(&self) -> bool {
        self.icmp_type == if self.v6 { 1 } else { 3 }
    }
}

fn is_error(v6: bool, t: u8) -> bool {
    if v6 {
        matches!(t, 1..=4)
    } else {
        matches!(t, 3 | 4 | 5 | 11 | 12)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum IcmpError {
    #[error("ICMP header truncated ({0} bytes)")]
    Short(usize),
}

pub(crate) fn parse_icmp(d: &[u8], v6: bool) -> Result<IcmpMessage, IcmpError> {
    if d.len() < 4 {
        return Err(IcmpError::Short(d.len()));
    }
    let (t, code) = (d[0], d[1]);
    let is_echo = if v6 {
        matches!(t, 128 | 129)
    } else {
        matches!(t, 0 | 8)
    };
    let echo = (is_echo && d.len() >= 8).then(|| {
        (
            u16::from_be_bytes([d[4], d[5]]),
            u16::from_be_bytes([d[6], d[7]]),
        )
    });
    let quoted = if is_error(v6, t) {
        d.get(8..).and_then(quoted_flow)
    } else {
        None
    };
    let nd = if v6 && matches!(t, 135 | 136) {
        neighbor_discovery(d)
    } else {
        None
    };
    Ok(IcmpMessage {
        v6,
        icmp_type: t,
        code,
        echo,
        quoted,
        nd,
    })
}

fn neighbor_discovery(d: &[u8]) -> Option<NeighborDiscovery> {
    let mut target = [0u8; 16];
    target.copy_from_slice(d.get(8..24)?);
    let mut link_addr = None;
    let mut opts = d.get(24..).unwrap_or(&[]);
    // Options: type, length in units of 8 bytes; type 1 (source) or 2 (target) link-layer.
    while opts.len() >= 8 {
        let len = opts[1] as usize * 8;
        if len == 0 || len > opts.len() {
            break;
        }
        if matches!(opts[0], 1 | 2) {
            let mut mac = [0u8; 6];
            mac.copy_from_slice(&opts[2..8]);
            link_addr = Some(mac);
        }
        opts = &opts[len..];
    }
    Some(NeighborDiscovery {
        target: target.into(),
        flags: d[4],
        link_addr,
    })
}

fn quoted_flow(q: &[u8]) -> Option<QuotedFlow> {
    let ip = parse_ip(q).ok()?;
    let p = ip.payload;
    let ports = (matches!(ip.protocol, PROTO_TCP | PROTO_UDP) && p.len() >= 4).then(|| {
        (
            u16::from_be_bytes([p[0], p[1]]),
            u16::from_be_bytes([p[2], p[3]]),
        )
    });
    Some(QuotedFlow {
        protocol: ip.protocol,
        src: ip.src,
        dst: ip.dst,
        ports,
    })
}

/// tshark's Info text for an ICMP/ICMPv6 type and code.
pub(crate) fn describe(v6: bool, t: u8, code: u8) -> String {
    let unreach = |c: &str| format!("Destination unreachable ({c})");
    if v6 {
        return match (t, code) {
            (1, 0) => unreach("no route to destination"),
            (1, 1) => unreach("communication with destination administratively prohibited"),
            (1, 3) => unreach("Address unreachable"),
            (1, 4) => unreach("Port unreachable"),
            (1, _) => "Destination Unreachable".into(),
            (2, _) => "Packet Too Big".into(),
            (3, _) => "Time Exceeded".into(),
            (4, _) => "Parameter Problem".into(),
            (128, _) => "Echo (ping) request".into(),
            (129, _) => "Echo (ping) reply".into(),
            (133, _) => "Router Solicitation".into(),
            (134, _) => "Router Advertisement".into(),
            (135, _) => "Neighbor Solicitation".into(),
            (136, _) => "Neighbor Advertisement".into(),
            _ => format!("Unknown (type {t})"),
        };
    }
    match (t, code) {
        (0, _) => "Echo (ping) reply".into(),
        (8, _) => "Echo (ping) request".into(),
        (3, 0) => unreach("Network unreachable"),
        (3, 1) => unreach("Host unreachable"),
        (3, 2) => unreach("Protocol unreachable"),
        (3, 3) => unreach("Port unreachable"),
        (3, 4) => unreach("Fragmentation needed"),
        (3, 13) => unreach("Communication administratively filtered"),
        (3, _) => unreach(&format!("code {code}")),
        (11, 0) => "Time-to-live exceeded (Time to live exceeded in transit)".into(),
        (11, _) => "Time-to-live exceeded (Fragment reassembly time exceeded)".into(),
        (5, _) => "Redirect".into(),
        _ => format!("Unknown ICMP (type {t}, code {code})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ip::tests::{v4_header, v6_header};

    #[test]
    fn port_unreachable_quotes_udp_flow() {
        let mut m = vec![3, 3, 0, 0, 0, 0, 0, 0];
        m.extend(v4_header(PROTO_UDP, 20));
        m.extend([0x30, 0x39, 0x2e, 0xe0, 0, 28, 0, 0]); // only 8 bytes quoted
        let msg = parse_icmp(&m, false).unwrap();
        assert!(msg.is_error() && msg.is_unreachable());
        let q = msg.quoted.unwrap();
        assert_eq!(q.protocol, PROTO_UDP);
        assert_eq!(q.ports, Some((12345, 12000)));
        assert_eq!(q.src.to_string(), "10.0.0.1");
        assert_eq!(
            describe(false, 3, 3),
            "Destination unreachable (Port unreachable)"
        );
    }

    #[test]
    fn icmpv6_unreachable_and_echo() {
        let mut m = vec![1, 4, 0, 0, 0, 0, 0, 0];
        m.extend(v6_header(PROTO_TCP, 20));
        m.extend([0, 80, 0, 81]);
        let msg = parse_icmp(&m, true).unwrap();
        assert_eq!(msg.quoted.unwrap().ports, Some((80, 81)));
        let echo = parse_icmp(&[128, 0, 0, 0, 0xea, 0x40, 0, 1], true).unwrap();
        assert_eq!(echo.echo, Some((0xea40, 1)));
        assert!(echo.quoted.is_none() && !echo.is_error());
        assert!(parse_icmp(&[3, 3], false).is_err());
    }

    #[test]
    fn neighbor_solicitation_target_and_source_address() {
        let mut m = vec![135, 0, 0, 0, 0, 0, 0, 0];
        m.extend([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        m.extend([1, 1, 0x78, 0x31, 0xc1, 0xcb, 0xb2, 0x56]);
        let nd = parse_icmp(&m, true).unwrap().nd.unwrap();
        assert_eq!(nd.target.to_string(), "2001:db8::1");
        assert_eq!(nd.link_addr, Some([0x78, 0x31, 0xc1, 0xcb, 0xb2, 0x56]));
        assert!(parse_icmp(&m[..20], true).unwrap().nd.is_none());
    }
}
