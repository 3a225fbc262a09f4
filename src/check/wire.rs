//! Wire checks (pure): a [`WireExpect`] and the [`Analysis`] of a capture in, a verdict with the
//! packet numbers that prove it out. Shared by `socklab run` (this run's capture) and
//! `socklab verify` (a student's capture). One file per check kind (`wire_*.rs`); this one
//! dispatches and holds the phrasing helpers they share.

use super::{wire_gap, wire_icmp, wire_tcp_conns, wire_tcp_handshake, wire_tcp_payload};
use super::{wire_tcp_refused, wire_tcp_teardown, wire_udp};
use crate::analysis::{Analysis, TcpStream, UdpFlow};
use crate::plan::{WireExpect, WireKind};

/// A wire check's verdict and its evidence.
pub(crate) struct WireGraded {
    pub passed: bool,
    pub actual: String,
    pub reason: Option<String>,
    /// Packet numbers (tshark's `frame.number`) that show what `actual` says.
    pub packets: Vec<u64>,
}

impl WireGraded {
    pub(crate) fn pass(actual: String, packets: Vec<u64>) -> WireGraded {
        WireGraded {
            passed: true,
            actual,
            reason: None,
            packets,
        }
    }

    pub(crate) fn fail(actual: String, reason: String, packets: Vec<u64>) -> WireGraded {
        WireGraded {
            passed: false,
            actual,
            reason: Some(reason),
            packets,
        }
    }
}

/// Grades one wire expectation against a capture's analysis.
pub(crate) fn grade(expect: &WireExpect, a: &Analysis) -> WireGraded {
    match &expect.kind {
        WireKind::TcpHandshake => wire_tcp_handshake::grade(expect, a),
        WireKind::NoTcpHandshake => wire_tcp_handshake::grade_none(expect, a),
        WireKind::TcpRefused => wire_tcp_refused::grade(expect, a),
        WireKind::TcpPayload { to_server, matcher } => {
            wire_tcp_payload::grade(expect, a, *to_server, matcher)
        }
        WireKind::TcpFinTeardown => wire_tcp_teardown::grade(expect, a),
        WireKind::UdpDatagrams {
            to_server,
            count,
            contains,
        } => wire_udp::grade(expect, a, *to_server, *count, contains.as_deref()),
        WireKind::IcmpPortUnreachable => wire_icmp::grade(expect, a),
        WireKind::TcpConnections { min, max } => wire_tcp_conns::grade(expect, a, *min, *max),
        WireKind::PacketGap {
            to_server,
            min_ms,
            max_ms,
        } => wire_gap::grade(expect, a, *to_server, *min_ms, *max_ms),
    }
}

/// `packet 3` / `packets 1, 2, 3` / `packets 1, 2, … (40 in all)`.
pub(crate) fn packets_phrase(numbers: &[u64]) -> String {
    const SHOWN: usize = 8;
    let list: Vec<String> = numbers.iter().take(SHOWN).map(u64::to_string).collect();
    match numbers.len() {
        0 => "no packet".into(),
        1 => format!("packet {}", list[0]),
        n if n <= SHOWN => format!("packets {}", list.join(", ")),
        n => format!("packets {}, … ({n} in all)", list.join(", ")),
    }
}

/// TCP streams whose server (SYN receiver) port is `port`.
pub(crate) fn tcp_streams(a: &Analysis, port: u16) -> Vec<&TcpStream> {
    a.streams_to_port(port).collect()
}

/// UDP flows with `port` on one side.
pub(crate) fn udp_flows(a: &Analysis, port: u16) -> Vec<&UdpFlow> {
    a.udp_flows_with_port(port).collect()
}

/// What the capture holds on `port`, for failure reasons: "2 UDP datagrams (packets 1, 2) and
/// no TCP segment", or what other ports it saw.
pub(crate) fn port_summary(a: &Analysis, port: u16) -> String {
    let streams = tcp_streams(a, port);
    let flows = udp_flows(a, port);
    let mut parts = Vec::new();
    if !streams.is_empty() {
        let first: Vec<u64> = streams.iter().map(|s| s.first_packet).collect();
        parts.push(format!(
            "{} TCP connection(s) starting in {}",
            streams.len(),
            packets_phrase(&first)
        ));
    }
    if !flows.is_empty() {
        let nums: Vec<u64> = flows
            .iter()
            .flat_map(|f| f.packets.iter().map(|p| p.number))
            .collect();
        let total: u64 = flows
            .iter()
            .map(|f| f.a_to_b.datagrams + f.b_to_a.datagrams)
            .sum();
        parts.push(format!(
            "{total} UDP datagram(s) ({})",
            packets_phrase(&nums)
        ));
    }
    if parts.is_empty() {
        let mut seen: Vec<u16> = a
            .tcp_streams
            .iter()
            .map(|s| s.server.port)
            .chain(a.udp_flows.iter().map(|f| f.b.port))
            .collect();
        seen.sort_unstable();
        seen.dedup();
        let others = if seen.is_empty() {
            String::new()
        } else {
            let list: Vec<String> = seen.iter().take(6).map(u16::to_string).collect();
            format!("; traffic went to port(s) {}", list.join(", "))
        };
        return format!(
            "the capture ({} packets) holds nothing on port {port}{others}",
            a.frames
        );
    }
    format!("on port {port} the capture holds {}", parts.join(" and "))
}

#[cfg(test)]
pub(crate) mod testing {
    //! Small captures written by hand, for the wire check tests.

    use crate::analysis::{analyze, Analysis, AnalyzerOptions};

    const CLIENT: u16 = 45_000;
    pub(crate) const SERVER: u16 = 31_000;

    /// One Ethernet/IPv4 frame on 127.0.0.1.
    fn frame(proto: u8, transport: &[u8]) -> Vec<u8> {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x08, 0x00]);
        let total = (20 + transport.len()) as u16;
        let mut ip = vec![0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, proto, 0, 0];
        ip[2..4].copy_from_slice(&total.to_be_bytes());
        ip.extend_from_slice(&[127, 0, 0, 1, 127, 0, 0, 1]);
        f.extend_from_slice(&ip);
        f.extend_from_slice(transport);
        f
    }

    fn tcp(src: u16, dst: u16, seq: u32, ack: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
        let mut t = Vec::new();
        t.extend_from_slice(&src.to_be_bytes());
        t.extend_from_slice(&dst.to_be_bytes());
        t.extend_from_slice(&seq.to_be_bytes());
        t.extend_from_slice(&ack.to_be_bytes());
        t.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
        t.extend_from_slice(payload);
        frame(6, &t)
    }

    fn udp(src: u16, dst: u16, payload: &[u8]) -> Vec<u8> {
        let mut u = Vec::new();
        u.extend_from_slice(&src.to_be_bytes());
        u.extend_from_slice(&dst.to_be_bytes());
        u.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
        u.extend_from_slice(&[0, 0]);
        u.extend_from_slice(payload);
        frame(17, &u)
    }

    /// pcap file of `frames`, each `gap_ms` after the previous one.
    fn pcap(frames: &[Vec<u8>], gap_ms: u32) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        out.extend_from_slice(&2u16.to_le_bytes());
        out.extend_from_slice(&4u16.to_le_bytes());
        out.extend_from_slice(&[0; 8]);
        out.extend_from_slice(&262_144u32.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
        for (i, f) in frames.iter().enumerate() {
            let us = i as u32 * gap_ms * 1000;
            out.extend_from_slice(&(1_000 + us / 1_000_000).to_le_bytes());
            out.extend_from_slice(&(us % 1_000_000).to_le_bytes());
            out.extend_from_slice(&(f.len() as u32).to_le_bytes());
            out.extend_from_slice(&(f.len() as u32).to_le_bytes());
            out.extend_from_slice(f);
        }
        out
    }

    fn analysed(frames: &[Vec<u8>], gap_ms: u32) -> Analysis {
        let bytes = pcap(frames, gap_ms);
        analyze(&bytes[..], "test.pcap", AnalyzerOptions::default()).expect("valid pcap")
    }

    const SYN: u8 = 0x02;
    const ACK: u8 = 0x10;
    const PSH: u8 = 0x08;
    const FIN: u8 = 0x01;
    const RST: u8 = 0x04;

    /// A TCP round trip: handshake, "hello\n" → "HELLO\n", FIN both ways (10 packets).
    pub(crate) fn tcp_round_trip() -> Analysis {
        let (c, s) = (CLIENT, SERVER);
        analysed(
            &[
                tcp(c, s, 100, 0, SYN, b""),
                tcp(s, c, 500, 101, SYN | ACK, b""),
                tcp(c, s, 101, 501, ACK, b""),
                tcp(c, s, 101, 501, PSH | ACK, b"hello\n"),
                tcp(s, c, 501, 107, ACK, b""),
                tcp(s, c, 501, 107, PSH | ACK, b"HELLO\n"),
                tcp(c, s, 107, 507, ACK, b""),
                tcp(c, s, 107, 507, FIN | ACK, b""),
                tcp(s, c, 507, 108, FIN | ACK, b""),
                tcp(c, s, 108, 508, ACK, b""),
            ],
            1,
        )
    }

    /// A SYN answered by RST.
    pub(crate) fn tcp_refused() -> Analysis {
        analysed(
            &[
                tcp(CLIENT, SERVER, 100, 0, SYN, b""),
                tcp(SERVER, CLIENT, 0, 101, RST | ACK, b""),
            ],
            1,
        )
    }

    /// A UDP round trip: "hello\n" then "HELLO\n".
    pub(crate) fn udp_round_trip() -> Analysis {
        analysed(
            &[
                udp(CLIENT, SERVER, b"hello\n"),
                udp(SERVER, CLIENT, b"HELLO\n"),
            ],
            1,
        )
    }

    /// Requests from the client every `gap_ms`.
    pub(crate) fn udp_requests(n: usize, gap_ms: u32) -> Analysis {
        let frames: Vec<Vec<u8>> = (0..n).map(|_| udp(CLIENT, SERVER, b"SEND_TIME")).collect();
        analysed(&frames, gap_ms)
    }

    /// A datagram answered by ICMP port unreachable quoting it.
    pub(crate) fn udp_unreachable() -> Analysis {
        let dgram = udp(CLIENT, SERVER, b"hello\n");
        let mut icmp = vec![3u8, 3, 0, 0, 0, 0, 0, 0];
        icmp.extend_from_slice(&dgram[14..]);
        analysed(&[dgram, frame(1, &icmp)], 1)
    }

    pub(crate) fn expect(kind: crate::plan::WireKind) -> crate::plan::WireExpect {
        crate::plan::WireExpect {
            port: SERVER,
            server: "server".into(),
            client: "client".into(),
            kind,
        }
    }
}
