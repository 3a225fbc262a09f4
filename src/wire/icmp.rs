//! ICMP and ICMPv6: type, code, echo identifiers and, for error messages, the flow quoted in
//! the body (the offending packet's IP header and first transport bytes, decoded laxly since
//! routers quote as little as 8 bytes of it).
//!
//! The 8-byte header and echo fields are etherparse's (`Icmpv4Slice`, `Icmpv6Slice`); the quoted
//! packet goes through [`parse_ip`], etherparse's lax slicing. Neighbor discovery's target and
//! link-layer option are read here: etherparse leaves them in the body.
//!
//! Contract: [`parse_icmp`] never panics; it needs the 8-byte header (tshark, too, shows no type
//! for a message cut to 4 bytes). A quote that cannot be decoded leaves `quoted` empty rather
//! than failing the message.

use etherparse::{Icmpv4Slice, Icmpv4Type, Icmpv6Slice, Icmpv6Type};

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
    /// Identifier and sequence number of the other ICMP queries tshark shows them for
    /// (timestamp, information and address mask request/reply).
    pub query: Option<(u16, u16)>,
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
    /// The link-layer address option: its type (1 source, 2 target) and the address.
    pub link_addr: Option<(u8, [u8; 6])>,
}

impl IcmpMessage {
    /// True for error messages (which quote a packet).
    pub(crate) fn is_error(&self) -> bool {
        is_error(self.v6, self.icmp_type)
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
    let short = |e: etherparse::err::LenError| IcmpError::Short(e.len);
    // (type, code, bytes 5 to 8 of the header, body after the 8-byte header, echo fields)
    let (t, code, rest, body, echo) = if v6 {
        let s = Icmpv6Slice::from_slice(d).map_err(short)?;
        let echo = match s.icmp_type() {
            Icmpv6Type::EchoRequest(e) | Icmpv6Type::EchoReply(e) => Some((e.id, e.seq)),
            _ => None,
        };
        (s.type_u8(), s.code_u8(), s.bytes5to8(), &d[8..], echo)
    } else {
        let s = Icmpv4Slice::from_slice(d).map_err(short)?;
        let echo = match s.icmp_type() {
            Icmpv4Type::EchoRequest(e) | Icmpv4Type::EchoReply(e) => Some((e.id, e.seq)),
            _ => None,
        };
        (s.type_u8(), s.code_u8(), s.bytes5to8(), &d[8..], echo)
    };
    let query = (!v6 && (13..=18).contains(&t)).then(|| {
        (
            u16::from_be_bytes([rest[0], rest[1]]),
            u16::from_be_bytes([rest[2], rest[3]]),
        )
    });
    let quoted = if is_error(v6, t) {
        quoted_flow(body)
    } else {
        None
    };
    let nd = if v6 && matches!(t, 135 | 136) {
        neighbor_discovery(rest[0], body)
    } else {
        None
    };
    Ok(IcmpMessage {
        v6,
        icmp_type: t,
        code,
        echo,
        query,
        quoted,
        nd,
    })
}

/// The target address and link-layer address option of a neighbor solicitation or
/// advertisement (`body`: what follows the 8-byte header).
fn neighbor_discovery(flags: u8, body: &[u8]) -> Option<NeighborDiscovery> {
    let mut target = [0u8; 16];
    target.copy_from_slice(body.get(..16)?);
    let mut link_addr = None;
    let mut opts = body.get(16..).unwrap_or(&[]);
    // Options: type, length in units of 8 bytes; type 1 (source) or 2 (target) link-layer.
    while opts.len() >= 8 {
        let len = opts[1] as usize * 8;
        if len == 0 || len > opts.len() {
            break;
        }
        if matches!(opts[0], 1 | 2) {
            let mut mac = [0u8; 6];
            mac.copy_from_slice(&opts[2..8]);
            link_addr = Some((opts[0], mac));
        }
        opts = &opts[len..];
    }
    Some(NeighborDiscovery {
        target: target.into(),
        flags,
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

/// tshark 4.0's Info text for an ICMP/ICMPv6 type and code, before any per-message details
/// (echo identifiers, neighbor discovery targets). ICMP pads the type's name to 20 characters
/// and adds the code's name for the types that name their codes; ICMPv6 does not pad.
pub(crate) fn describe(v6: bool, t: u8, code: u8) -> String {
    if v6 {
        return describe_v6(t, code);
    }
    let name = match t {
        0 => "Echo (ping) reply",
        1 | 2 => "Reserved",
        3 => "Destination unreachable",
        4 => "Source quench (flow control)",
        5 => "Redirect",
        6 => "Alternate host address",
        8 => "Echo (ping) request",
        9 => "Router advertisement",
        10 => "Router solicitation",
        11 => "Time-to-live exceeded",
        12 => "Parameter problem",
        13 => "Timestamp request",
        14 => "Timestamp reply",
        15 => "Information request",
        16 => "Information reply",
        17 => "Address mask request",
        18 => "Address mask reply",
        19 => "Reserved (for security)",
        30 => "Traceroute",
        31 => "Datagram Conversion Error",
        32 => "Mobile Host Redirect",
        33 => "IPv6 Where-Are-You",
        34 => "IPv6 I-Am-Here",
        35 => "Mobile Registration Request",
        36 => "Mobile Registration Reply",
        37 => "Domain Name Request",
        38 => "Domain Name Reply",
        39 => "SKIP",
        40 => "Photuris",
        41 => "Experimental mobility protocols",
        42 => "Extended Echo request",
        43 => "Extended Echo reply",
        _ => "Unknown ICMP (obsolete or malformed?)",
    };
    let codes: &[&str] = match t {
        3 => &[
            "Network unreachable",
            "Host unreachable",
            "Protocol unreachable",
            "Port unreachable",
            "Fragmentation needed",
            "Source route failed",
            "Destination network unknown",
            "Destination host unknown",
            "Source host isolated",
            "Network administratively prohibited",
            "Host administratively prohibited",
            "Network unreachable for TOS",
            "Host unreachable for TOS",
            "Communication administratively filtered",
            "Host precedence violation",
            "Precedence cutoff in effect",
        ],
        5 => &[
            "Redirect for network",
            "Redirect for host",
            "Redirect for TOS and network",
            "Redirect for TOS and host",
        ],
        6 => &["Alternate address for host"],
        9 => &["Normal router advertisement"],
        11 => &[
            "Time to live exceeded in transit",
            "Fragment reassembly time exceeded",
        ],
        12 => &[
            "Pointer indicates the error",
            "Required option missing",
            "Bad length",
        ],
        40 => &[
            "Bad SPI",
            "Authentication Failed",
            "Decompression Failed",
            "Decryption Failed",
            "Need Authentication",
            "Need Authorization",
        ],
        42 => &["No error"],
        43 => &[
            "No error",
            "Malformed Query",
            "No Such Interface",
            "No Such Table Entry",
            "Multiple Interfaces Satisfy Query",
        ],
        _ => return format!("{name:<20}"),
    };
    match codes.get(usize::from(code)) {
        Some(c) => format!("{name:<20} ({c})"),
        None if t == 9 && code == 16 => format!("{name:<20} (Does not route common traffic)"),
        None => format!("{name:<20} (Unknown code: {code})"),
    }
}

fn describe_v6(t: u8, code: u8) -> String {
    let name = match t {
        1 => "Destination Unreachable",
        2 => "Packet Too Big",
        3 => "Time Exceeded",
        4 => "Parameter Problem",
        100 | 101 | 200 | 201 => "Private experimentation",
        127 => "Reserved for expansion of ICMPv6 error messages",
        128 => "Echo (ping) request",
        129 => "Echo (ping) reply",
        130 => "Multicast Listener Query",
        131 => "Multicast Listener Report",
        132 => "Multicast Listener Done",
        133 => "Router Solicitation",
        134 => "Router Advertisement",
        135 => "Neighbor Solicitation",
        136 => "Neighbor Advertisement",
        137 => "Redirect",
        138 => "Router Renumbering",
        139 => "Node Information Query",
        140 => "Node Information Reply",
        141 => "Inverse Neighbor Discovery Solicitation",
        142 => "Inverse Neighbor Discovery Advertisement",
        143 => "Multicast Listener Report Message v2",
        144 => "Home Agent Address Discovery Request",
        145 => "Home Agent Address Discovery Reply",
        146 => "Mobile Prefix Solicitation",
        147 => "Mobile Prefix Advertisement",
        148 => "Certification Path Solicitation",
        149 => "Certification Path Advertisement",
        151 => "Multicast Router Advertisement",
        152 => "Multicast Router Solicitation",
        153 => "Multicast Router Termination",
        159 => "MPL Control Message",
        160 => "Extended Echo request",
        161 => "Extended Echo reply",
        255 => "Reserved for expansion of ICMPv6 informational messages",
        _ => return format!("Unknown ({t})"),
    };
    let codes: &[&str] = match t {
        1 => &[
            "no route to destination",
            "Administratively prohibited",
            "Beyond scope of source address",
            "Address unreachable",
            "Port unreachable",
            "Source address failed ingress/egress policy",
            "Reject route to destination",
            "Error in Source Routing Header",
        ],
        3 => &[
            "hop limit exceeded in transit",
            "fragment reassembly time exceeded",
        ],
        4 => &[
            "erroneous header field encountered",
            "unrecognized Next Header type encountered",
            "unrecognized IPv6 option encountered",
            "IPv6 First Fragment has incomplete IPv6 Header Chain",
        ],
        138 => &["Command", "Result"],
        139 => &[
            "Query subject = IPv6 addresses",
            "Query subject = DNS name or empty",
            "Query subject = IPv4 addresses",
        ],
        140 => &["Successful", "Refused", "Unknown query type"],
        160 => &["No error"],
        161 => &[
            "No error",
            "Malformed Query",
            "No Such Interface",
            "No Such Table Entry",
            "Multiple Interfaces Satisfy Query",
        ],
        _ => return name.to_string(),
    };
    match codes.get(usize::from(code)) {
        Some(c) => format!("{name} ({c})"),
        // tshark names ICMPv6 destination unreachable's unknown codes without the number.
        None if t == 1 => format!("{name} (Unknown)"),
        None => format!("{name} (Unknown ({code}))"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit;
    use std::net::SocketAddr;

    #[test]
    fn port_unreachable_quotes_udp_flow() {
        let sa = |s: &str| -> SocketAddr { s.parse().unwrap() };
        let dgram = testkit::udp(sa("10.0.0.1:12345"), sa("10.0.0.2:12000"), &[0; 20]);
        let mut m = vec![3, 3, 0, 0, 0, 0, 0, 0];
        m.extend(&dgram[..28]); // only 8 bytes of the datagram quoted
        let msg = parse_icmp(&m, false).unwrap();
        assert!(msg.is_error());
        assert_eq!((msg.icmp_type, msg.code), (3, 3), "port unreachable");
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
        let (a, b): (IpAddr, IpAddr) = ("::1".parse().unwrap(), "::2".parse().unwrap());
        let segment = testkit::ip(a, b, PROTO_TCP, &[0, 80, 0, 81, 0, 0, 0, 0]);
        let mut m = vec![1, 4, 0, 0, 0, 0, 0, 0];
        m.extend(&segment[..44]);
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
        assert_eq!(
            nd.link_addr,
            Some((1, [0x78, 0x31, 0xc1, 0xcb, 0xb2, 0x56]))
        );
        assert!(parse_icmp(&m[..20], true).unwrap().nd.is_none());
    }
}
