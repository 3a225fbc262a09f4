//! Every decoder of this module over one frame, in the order the analyzer calls them: link
//! layer, IP (with fragment reassembly), then TCP, UDP or ICMP/ICMPv6 and their Info texts.
//! The fuzz targets (`fuzz/`) and the corpus test (`corpus_tests.rs`) drive the decoders through it,
//! so both exercise the same path; the analyzer itself keeps its own calls, which also track
//! streams.
//!
//! Contract: [`decode_frame`] never panics; it says how far the frame decoded and, when it
//! stopped early, why (the decoder's own error message).

use super::ip::{PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, PROTO_UDP};
use super::{icmp, parse_icmp, parse_ip, parse_tcp, parse_udp, strip_link, tcp};
use super::{Defragmenter, NetProto};

/// The link types the decoders handle (and, last but one, one they refuse), indexed by the
/// first byte of a `decoders` fuzz input.
pub(crate) const LINK_TYPES: [u32; 12] = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 147, 1];

/// Splits a `decoders` fuzz input into its link type and frames: one byte choosing the link
/// type, then frames, each a 2-byte big-endian length and its bytes (a short last frame takes
/// what is left).
pub(crate) fn split_frames(data: &[u8]) -> Option<(u32, Vec<&[u8]>)> {
    let (&pick, mut rest) = data.split_first()?;
    let mut frames = Vec::new();
    while rest.len() >= 2 {
        let len = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
        let (frame, next) = rest[2..].split_at(len.min(rest.len() - 2));
        frames.push(frame);
        rest = next;
    }
    Some((LINK_TYPES[usize::from(pick) % LINK_TYPES.len()], frames))
}

/// How far one frame decoded.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Decoded {
    /// The network protocol behind the link header, when that header decoded.
    pub net: Option<NetProto>,
    /// The IP header decoded.
    pub ip: bool,
    /// The transport decoded: "TCP", "UDP", "ICMP" or "ICMPv6"; the fragment was held for
    /// reassembly: "fragment".
    pub transport: Option<&'static str>,
    /// Why decoding stopped early.
    pub error: Option<String>,
    /// The Info-column pieces the decoders produce (flag names, ICMP description).
    pub info: String,
}

/// Decodes `data` captured with `link_type`; `defrag` carries fragments between frames.
pub(crate) fn decode_frame(link_type: u32, data: &[u8], defrag: &mut Defragmenter) -> Decoded {
    let mut out = Decoded::default();
    let (net, bytes) = match strip_link(link_type, data) {
        Ok(x) => x,
        Err(e) => {
            out.error = Some(e.to_string());
            return out;
        }
    };
    out.net = Some(net);
    if !matches!(net, NetProto::Ipv4 | NetProto::Ipv6) {
        return out;
    }
    let ip = match parse_ip(bytes) {
        Ok(ip) => ip,
        Err(e) => {
            out.error = Some(e.to_string());
            return out;
        }
    };
    out.ip = true;
    let whole;
    let (payload, payload_len) = match ip.fragment {
        Some(frag) => match defrag.push(ip.src, ip.dst, ip.protocol, frag, ip.payload) {
            Some(data) => {
                whole = data;
                (&whole[..], whole.len())
            }
            None => {
                out.transport = Some("fragment");
                return out;
            }
        },
        None => (ip.payload, ip.payload_len),
    };
    match ip.protocol {
        PROTO_TCP => match parse_tcp(payload, payload_len) {
            Ok(seg) => {
                out.transport = Some("TCP");
                out.info = format!(
                    "{} {}",
                    tcp::flags_names(seg.flags),
                    tcp::flags_str(seg.flags)
                );
            }
            Err(e) => out.error = Some(e.to_string()),
        },
        PROTO_UDP => match parse_udp(payload) {
            Ok(_) => out.transport = Some("UDP"),
            Err(e) => out.error = Some(e.to_string()),
        },
        PROTO_ICMP | PROTO_ICMPV6 => {
            let v6 = ip.protocol == PROTO_ICMPV6;
            match parse_icmp(payload, v6) {
                Ok(m) => {
                    out.transport = Some(if v6 { "ICMPv6" } else { "ICMP" });
                    out.info = icmp::describe(v6, m.icmp_type, m.code);
                }
                Err(e) => out.error = Some(e.to_string()),
            }
        }
        _ => {}
    }
    out
}
