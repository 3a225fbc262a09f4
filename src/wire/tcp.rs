//! TCP header and options (MSS, window scale, SACK permitted, SACK blocks, timestamps, TCP Fast
//! Open), decoded by hand.
//!
//! Why not etherparse here, as for IP, UDP and ICMP: its `TcpSlice` and `TcpHeaderSlice` need
//! the whole header, options included, while tshark decodes what was captured: of a SYN cut
//! by a 60-byte snaplen (`editcap -s 60`) it still shows the ports, flags, `MSS=65495
//! SACK_PERM`; etherparse returns only a length error (pinned by the test
//! `etherparse_refuses_a_header_cut_in_its_options`). Its option iterator also stops at kinds it
//! does not know (TCP Fast Open, 34, and the experimental 254), which tshark shows as `TFO=`.
//! A lax walk of 20 fixed bytes and the options is shorter than the fallbacks it would need.
//!
//! Contract: [`parse_tcp`] never panics; it needs the 20-byte fixed header. The options and
//! payload are taken from what was captured; `payload_len` comes from the IP length so it agrees
//! with tshark's `tcp.len` even for truncated frames. Malformed options end the walk silently.

/// TCP flag bits as in the header's low 12 bits (AE, formerly NS, is bit 8; bits 9-11 are
/// reserved).
pub(crate) mod flags {
    pub(crate) const FIN: u16 = 0x001;
    pub(crate) const SYN: u16 = 0x002;
    pub(crate) const RST: u16 = 0x004;
    pub(crate) const PSH: u16 = 0x008;
    pub(crate) const ACK: u16 = 0x010;
    pub(crate) const URG: u16 = 0x020;
    pub(crate) const ECE: u16 = 0x040;
    pub(crate) const CWR: u16 = 0x080;
    pub(crate) const AE: u16 = 0x100;
    /// The three reserved bits.
    pub(crate) const RESERVED: u16 = 0xe00;
}

/// TCP Fast Open option: a cookie request (empty) or a cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub(crate) enum Tfo {
    Request,
    Cookie,
}

/// Options of interest; unknown options are skipped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub(crate) struct TcpOptions {
    pub mss: Option<u16>,
    /// Window scale shift count.
    pub window_scale: Option<u8>,
    pub sack_permitted: bool,
    /// (TSval, TSecr).
    pub timestamps: Option<(u32, u32)>,
    /// Up to four SACK blocks (left, right), raw sequence numbers.
    pub sack: [Option<(u32, u32)>; 4],
    pub tfo: Option<Tfo>,
    /// Option kinds in order of appearance (first 8), for tshark's Info ordering.
    #[serde(skip)]
    pub order: [u8; 8],
}

/// A decoded TCP segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TcpSegment<'a> {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: u16,
    pub window: u16,
    /// Urgent pointer (shown by tshark when URG is set).
    pub urgent: u16,
    pub header_len: usize,
    pub options: TcpOptions,
    /// Captured payload bytes (may be fewer than `payload_len`).
    pub payload: &'a [u8],
    /// Payload length according to the IP header (`tcp.len`).
    pub payload_len: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum TcpError {
    #[error("TCP header truncated ({0} bytes)")]
    Short(usize),
    #[error("bad TCP header length {0}")]
    HeaderLen(usize),
}

/// Decodes a TCP segment; `ip_payload_len` is the transport length the IP header claims.
pub(crate) fn parse_tcp(d: &[u8], ip_payload_len: usize) -> Result<TcpSegment<'_>, TcpError> {
    if d.len() < 20 {
        return Err(TcpError::Short(d.len()));
    }
    let be16 = |i: usize| u16::from_be_bytes([d[i], d[i + 1]]);
    let be32 = |i: usize| u32::from_be_bytes([d[i], d[i + 1], d[i + 2], d[i + 3]]);
    let header_len = (d[12] >> 4) as usize * 4;
    if header_len < 20 {
        return Err(TcpError::HeaderLen(header_len));
    }
    let opt_end = header_len.min(d.len());
    let options = parse_options(&d[20..opt_end]);
    let payload = d.get(header_len..).unwrap_or(&[]);
    let payload_len = ip_payload_len.saturating_sub(header_len);
    Ok(TcpSegment {
        src_port: be16(0),
        dst_port: be16(2),
        seq: be32(4),
        ack: be32(8),
        flags: be16(12) & 0x0fff,
        window: be16(14),
        urgent: be16(18),
        header_len,
        options,
        payload: &payload[..payload.len().min(payload_len)],
        payload_len,
    })
}

fn parse_options(mut o: &[u8]) -> TcpOptions {
    let mut opts = TcpOptions::default();
    let mut n = 0;
    while let Some(&kind) = o.first() {
        if kind == 0 {
            break;
        }
        if kind == 1 {
            o = &o[1..];
            continue;
        }
        let Some(&len) = o.get(1) else { break };
        let len = len as usize;
        if len < 2 || len > o.len() {
            break;
        }
        let v = &o[2..len];
        match (kind, v.len()) {
            (2, 2) => opts.mss = Some(u16::from_be_bytes([v[0], v[1]])),
            (3, 1) => opts.window_scale = Some(v[0]),
            (4, 0) => opts.sack_permitted = true,
            (5, l) if l % 8 == 0 => {
                for (i, b) in v.chunks_exact(8).take(4).enumerate() {
                    let l = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
                    let r = u32::from_be_bytes([b[4], b[5], b[6], b[7]]);
                    opts.sack[i] = Some((l, r));
                }
            }
            (8, 8) => {
                let a = u32::from_be_bytes([v[0], v[1], v[2], v[3]]);
                let b = u32::from_be_bytes([v[4], v[5], v[6], v[7]]);
                opts.timestamps = Some((a, b));
            }
            (34, 0) => opts.tfo = Some(Tfo::Request),
            (34, _) => opts.tfo = Some(Tfo::Cookie),
            // Pre-RFC 7413 Fast Open: experimental option 254 with magic 0xF989 (RFC 6994).
            (254, l) if l >= 2 && v[..2] == [0xf9, 0x89] => {
                opts.tfo = Some(if l == 2 { Tfo::Request } else { Tfo::Cookie });
            }
            _ => {}
        }
        if n < opts.order.len() {
            opts.order[n] = if kind == 254 && opts.tfo.is_some() {
                34
            } else {
                kind
            };
            n += 1;
        }
        o = &o[len..];
    }
    opts
}

/// tshark 4.0's `tcp.flags.str`: 12 positions, `RRR` for the reserved bits, then `ACEUAPRSF`
/// (the first `A` is AE, formerly NS), `·` when clear.
pub(crate) fn flags_str(f: u16) -> String {
    const LETTERS: [(u16, char); 12] = [
        (0x800, 'R'),
        (0x400, 'R'),
        (0x200, 'R'),
        (flags::AE, 'A'),
        (flags::CWR, 'C'),
        (flags::ECE, 'E'),
        (flags::URG, 'U'),
        (flags::ACK, 'A'),
        (flags::PSH, 'P'),
        (flags::RST, 'R'),
        (flags::SYN, 'S'),
        (flags::FIN, 'F'),
    ];
    LETTERS
        .iter()
        .map(|(bit, c)| if f & bit != 0 { *c } else { '·' })
        .collect()
}

/// tshark 4.0's bracketed flag list for the Info column, e.g. `SYN, ACK`; `Reserved` last when
/// any reserved bit is set.
pub(crate) fn flags_names(f: u16) -> String {
    const NAMES: [(u16, &str); 10] = [
        (flags::FIN, "FIN"),
        (flags::SYN, "SYN"),
        (flags::RST, "RST"),
        (flags::PSH, "PSH"),
        (flags::ACK, "ACK"),
        (flags::URG, "URG"),
        (flags::ECE, "ECE"),
        (flags::CWR, "CWR"),
        (flags::AE, "AE"),
        (flags::RESERVED, "Reserved"),
    ];
    let v: Vec<&str> = NAMES
        .iter()
        .filter(|(b, _)| f & b != 0)
        .map(|(_, n)| *n)
        .collect();
    if v.is_empty() {
        "<None>".into()
    } else {
        v.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SYN from 54164 to 12000 with MSS 65495, SACK_PERM, TS, NOP, WS 7 (Linux loopback SYN).
    pub(crate) const LINUX_SYN: [u8; 40] = [
        0xd3, 0x94, 0x2e, 0xe0, 0x11, 0x22, 0x33, 0x44, 0, 0, 0, 0, 0xa0, 0x02, 0xff, 0xd7, 0, 0,
        0, 0, // fixed header, data offset 10 words
        2, 4, 0xff, 0xd7, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7,
    ];

    #[test]
    fn syn_options() {
        let s = parse_tcp(&LINUX_SYN, 40).unwrap();
        assert_eq!((s.src_port, s.dst_port), (54164, 12000));
        assert_eq!(s.seq, 0x1122_3344);
        assert_eq!(s.flags, flags::SYN);
        assert_eq!(s.options.mss, Some(65495));
        assert!(s.options.sack_permitted);
        assert_eq!(s.options.timestamps, Some((1, 0)));
        assert_eq!(s.options.window_scale, Some(7));
        assert_eq!(&s.options.order[..5], &[2, 4, 8, 3, 0]);
        assert_eq!(s.payload_len, 0);
    }

    #[test]
    fn payload_length_from_ip_even_when_truncated() {
        let mut seg = LINUX_SYN.to_vec();
        seg.extend(b"GET");
        let s = parse_tcp(&seg, 40 + 100).unwrap();
        assert_eq!(s.payload, b"GET");
        assert_eq!(s.payload_len, 100);
        assert!(parse_tcp(&seg[..19], 40).is_err());
    }

    #[test]
    fn malformed_options_stop_the_walk() {
        let mut seg = LINUX_SYN.to_vec();
        seg[20..24].copy_from_slice(&[2, 40, 0, 0]);
        let s = parse_tcp(&seg, 40).unwrap();
        assert_eq!(s.options.mss, None);
    }

    #[test]
    fn etherparse_refuses_a_header_cut_in_its_options() {
        // The reason this decoder is hand-written: 26 of the SYN's 40 header bytes captured.
        let cut = &LINUX_SYN[..26];
        assert!(etherparse::TcpSlice::from_slice(cut).is_err());
        let s = parse_tcp(cut, 40).unwrap();
        assert_eq!((s.src_port, s.flags), (54164, flags::SYN));
        assert_eq!(s.options.mss, Some(65495));
        assert!(s.options.sack_permitted);
        assert_eq!(s.options.timestamps, None);
    }

    #[test]
    fn experimental_fast_open_option() {
        let mut seg = LINUX_SYN[..20].to_vec();
        seg[12] = 0x60; // 24-byte header
        seg.extend([254, 4, 0xf9, 0x89]);
        let s = parse_tcp(&seg, 24).unwrap();
        assert_eq!(s.options.tfo, Some(Tfo::Request));
        assert_eq!(s.options.order[0], 34);
    }

    #[test]
    fn flag_strings_match_tshark() {
        assert_eq!(flags_str(flags::SYN | flags::ACK), "·······A··S·");
        assert_eq!(flags_str(flags::ACK | flags::RST), "·······A·R··");
        assert_eq!(
            flags_str(flags::PSH | flags::ACK | flags::FIN),
            "·······AP··F"
        );
        assert_eq!(flags_names(flags::SYN | flags::ACK), "SYN, ACK");
        // As tshark 4.0 prints them (checked against it by tests/tshark.rs).
        assert_eq!(flags_str(flags::SYN | flags::AE), "···A······S·");
        assert_eq!(flags_str(0x0fff), "RRRACEUAPRSF");
        assert_eq!(
            flags_names(flags::SYN | flags::ACK | flags::AE),
            "SYN, ACK, AE"
        );
        assert_eq!(flags_names(0x0810), "ACK, Reserved");
        assert_eq!(
            flags_names(flags::FIN | flags::PSH | flags::ACK),
            "FIN, PSH, ACK"
        );
    }
}
