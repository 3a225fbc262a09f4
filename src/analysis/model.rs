//! Result types of the analysis: everything here is plain data, `Serialize`, with packet numbers
//! (tshark's `frame.number`) as evidence and times in seconds relative to the first frame.

use std::fmt;
use std::net::IpAddr;

use serde::Serialize;

use crate::wire::QuotedFlow;

/// An IP address and port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub(crate) struct Endpoint {
    pub ip: IpAddr,
    pub port: u16,
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.ip {
            IpAddr::V4(ip) => write!(f, "{ip}:{}", self.port),
            IpAddr::V6(ip) => write!(f, "[{ip}]:{}", self.port),
        }
    }
}

/// One packet of a flow, kept (up to a cap) for timing checks.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub(crate) struct FlowPacket {
    pub number: u64,
    /// Seconds since the first frame of the capture.
    pub time: f64,
    /// True when sent by the client (TCP) or by endpoint `a` (UDP).
    pub forward: bool,
    /// TCP payload length or UDP payload length.
    pub payload_len: u32,
}

/// The largest silence between two consecutive packets of a flow.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub(crate) struct Gap {
    pub after_packet: u64,
    pub before_packet: u64,
    pub seconds: f64,
}

/// TCP three-way handshake evidence.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub(crate) struct Handshake {
    /// First SYN from the client.
    pub syn: Option<u64>,
    /// First SYN-ACK from the server acknowledging that SYN.
    pub syn_ack: Option<u64>,
    /// First client ACK (without SYN) acknowledging the SYN-ACK.
    pub ack: Option<u64>,
    pub completed: bool,
}

/// How a TCP stream ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Teardown {
    /// No FIN and no RST seen.
    None,
    /// FIN seen in one direction only.
    HalfClosed,
    /// FIN seen in both directions (and no RST).
    Fin,
    /// A RST was seen (whatever else happened).
    Rst,
}

/// One direction of a TCP stream.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct TcpDirection {
    /// Frames sent this way and their total frame length (as tshark's conversation table).
    pub packets: u64,
    pub bytes: u64,
    /// Sum of `tcp.len` over all segments, retransmissions included.
    pub payload_bytes: u64,
    /// Bytes delivered in order (each sequence byte counted once).
    pub stream_bytes: u64,
    /// Initial sequence number if a SYN was seen this way.
    pub isn: Option<u32>,
    pub syn_packet: Option<u64>,
    /// First FIN and first RST sent this way.
    pub fin_packet: Option<u64>,
    pub rst_packet: Option<u64>,
    pub retransmissions: u64,
    /// Packet numbers of retransmissions (first [`super::AnalyzerOptions::flow_packet_cap`]).
    pub retransmission_packets: Vec<u64>,
    /// In-order payload, at most `payload_cap` bytes, escaped in JSON.
    #[serde(serialize_with = "super::escape::serialize_bytes")]
    pub payload: Vec<u8>,
    /// True when `payload` stopped at the cap (never when no payload was to be kept).
    pub payload_truncated: bool,
    /// True when the capture lacks bytes of this direction: a segment cut short by the
    /// capture's snapshot length, or a hole in the sequence space (segments never captured).
    /// `payload` then holds only the bytes captured; `first_gap` says where the first are
    /// missing.
    pub payload_has_gaps: bool,
    /// Sequence bytes of this direction the capture does not hold.
    pub missing_bytes: u64,
    /// Boxed: most streams have none, and every held stream pays for the field.
    pub first_gap: Option<Box<PayloadGap>>,
    /// Which packet delivered each run of `payload`, in offset order (the first
    /// `flow_packet_cap`), so that a byte of a message can be cited by the packet that carried
    /// it. Not serialized: `packets` and `chunks` already show the stream.
    #[serde(skip)]
    pub segments: Vec<SegmentAt>,
    /// `segments` stopped at the cap.
    #[serde(skip)]
    pub segments_truncated: bool,
}

/// The packet that delivered the bytes of a direction's `payload` from `offset` on (up to the
/// next [`SegmentAt`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SegmentAt {
    pub offset: u64,
    pub packet: u64,
}

impl TcpDirection {
    /// The packet that delivered byte `offset` of `payload`, when the segment list reaches it.
    pub(crate) fn packet_at(&self, offset: u64) -> Option<u64> {
        if offset >= self.payload.len() as u64 {
            return None;
        }
        let i = self.segments.partition_point(|s| s.offset <= offset);
        let seg = self.segments.get(i.checked_sub(1)?)?;
        // Past the last run recorded, a truncated list cannot say.
        if i == self.segments.len() && self.segments_truncated {
            return None;
        }
        Some(seg.packet)
    }

    /// The packets that delivered bytes `start..end` of `payload`, ascending by offset.
    pub(crate) fn packets_in(&self, start: u64, end: u64) -> Vec<u64> {
        let mut out: Vec<u64> = Vec::new();
        if start >= end {
            return out;
        }
        let first = self.segments.partition_point(|s| s.offset <= start);
        for seg in &self.segments[first.saturating_sub(1)..] {
            if seg.offset >= end {
                break;
            }
            if out.last() != Some(&seg.packet) {
                out.push(seg.packet);
            }
        }
        out
    }
}

/// Where a direction's payload lacks bytes the capture did not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) struct PayloadGap {
    /// The packet cut short (snaplen), or the first packet after a hole.
    pub packet: u64,
    /// Offset in the direction's kept `payload` where the bytes are missing.
    pub offset: u64,
    pub missing: u64,
    /// True when the packet was cut by the capture's snapshot length; false for segments never
    /// captured at all.
    pub snaplen: bool,
}

/// A TCP conversation, numbered as tshark's `tcp.stream`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct TcpStream {
    pub index: u32,
    /// Sender of the first SYN; otherwise the source of the first packet (the destination if
    /// that packet was a SYN-ACK).
    pub client: Endpoint,
    pub server: Endpoint,
    pub first_packet: u64,
    pub last_packet: u64,
    /// Time of the earliest and of the latest packet (not the first and the last: a capture's
    /// clock can go backwards), as tshark's conversation table.
    pub start: f64,
    pub end: f64,
    pub handshake: Handshake,
    pub teardown: Teardown,
    pub to_server: TcpDirection,
    pub to_client: TcpDirection,
    pub max_gap: Option<Gap>,
    /// First `flow_packet_cap` packets of the stream.
    pub packets: Vec<FlowPacket>,
    pub packets_truncated: bool,
    /// In-order payload as alternating runs per direction (Wireshark's Follow TCP Stream).
    pub chunks: Vec<Chunk>,
    pub chunks_truncated: bool,
}

/// A run of in-order payload sent one way before the other side sent any, up to the first
/// bytes the capture lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) struct Chunk {
    /// Packet that delivered the run's first byte.
    pub packet: u64,
    pub from_client: bool,
    /// Offset of the run in that direction's kept `payload`, and the bytes it holds there.
    pub offset: u64,
    pub len: u64,
    /// Bytes of this direction the capture lacks right after the run (a segment cut short by
    /// the snapshot length, or never captured); the next run starts after them.
    pub missing: u64,
}

impl TcpStream {
    pub(crate) fn duration(&self) -> f64 {
        self.end - self.start
    }

    /// The client's SYN was answered by a RST (connection refused), with no SYN-ACK.
    pub(crate) fn refused(&self) -> bool {
        self.handshake.syn.is_some()
            && self.handshake.syn_ack.is_none()
            && self.to_client.rst_packet.is_some()
    }

    /// Frames, both ways.
    #[allow(dead_code)] // query API for the scenario wire checks
    pub(crate) fn packets_total(&self) -> u64 {
        self.to_server.packets + self.to_client.packets
    }

    /// Whether `ep` is one of the stream's endpoints.
    #[allow(dead_code)] // query API for the scenario wire checks
    pub(crate) fn involves(&self, ep: Endpoint) -> bool {
        self.client == ep || self.server == ep
    }
}

/// One UDP datagram's payload (capped).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Datagram {
    pub packet: u64,
    /// Payload length from the UDP header (`udp.length - 8`).
    pub len: u32,
    #[serde(serialize_with = "super::escape::serialize_bytes")]
    pub payload: Vec<u8>,
}

/// One direction of a UDP flow.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct UdpDirection {
    pub datagrams: u64,
    pub bytes: u64,
    pub payload_bytes: u64,
    /// Datagrams kept while the flow's `payload_cap` lasts.
    pub payloads: Vec<Datagram>,
    pub payloads_truncated: bool,
}

/// A UDP flow (5-tuple), numbered in order of first packet like tshark's `udp.stream`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct UdpFlow {
    pub index: u32,
    /// Source of the first datagram.
    pub a: Endpoint,
    pub b: Endpoint,
    pub first_packet: u64,
    pub last_packet: u64,
    /// Time of the earliest and of the latest datagram, as for [`TcpStream`].
    pub start: f64,
    pub end: f64,
    pub a_to_b: UdpDirection,
    pub b_to_a: UdpDirection,
    pub max_gap: Option<Gap>,
    pub packets: Vec<FlowPacket>,
    pub packets_truncated: bool,
}

/// A flow an ICMP error was matched to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum FlowRef {
    Tcp { stream: u32 },
    Udp { flow: u32 },
}

/// An ICMP or ICMPv6 error message (destination unreachable, time exceeded, ...).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct IcmpErrorRecord {
    pub packet: u64,
    pub time: f64,
    pub v6: bool,
    pub icmp_type: u8,
    pub code: u8,
    pub description: String,
    /// Who sent the error and to whom.
    pub src: IpAddr,
    pub dst: IpAddr,
    pub quoted: Option<QuotedFlow>,
    /// The TCP stream or UDP flow the quoted packet belongs to, if it was seen.
    pub matched: Option<FlowRef>,
}

impl IcmpErrorRecord {
    /// ICMP type 3 code 3 or ICMPv6 type 1 code 4.
    #[allow(dead_code)] // query API for the scenario wire checks
    pub(crate) fn is_port_unreachable(&self) -> bool {
        if self.v6 {
            self.icmp_type == 1 && self.code == 4
        } else {
            self.icmp_type == 3 && self.code == 3
        }
    }
}

/// TCP fields of one packet, as tshark prints them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct TcpPacketInfo {
    pub stream: u32,
    pub src_port: u16,
    pub dst_port: u16,
    pub flags: u16,
    /// `tcp.flags.str`.
    pub flags_str: String,
    /// Relative sequence number (`tcp.seq`).
    pub seq: u32,
    /// Relative acknowledgement number (`tcp.ack`), 0 without the ACK flag.
    pub ack: u32,
    /// `tcp.len`.
    pub len: u32,
    pub retransmission: bool,
    /// Sent by the stream's client.
    pub from_client: bool,
}

/// UDP fields of one packet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct UdpPacketInfo {
    pub flow: u32,
    pub src_port: u16,
    pub dst_port: u16,
    /// `udp.length`.
    pub length: u16,
}

/// ICMP fields of one packet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct IcmpPacketInfo {
    pub v6: bool,
    pub icmp_type: u8,
    pub code: u8,
}

/// One row of the packet list, with tshark-like Info text.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct PacketSummary {
    pub number: u64,
    /// Seconds since the first frame.
    pub time: f64,
    pub src: Option<IpAddr>,
    pub dst: Option<IpAddr>,
    pub protocol: &'static str,
    /// `frame.len`.
    pub length: u32,
    pub info: String,
    pub tcp: Option<TcpPacketInfo>,
    pub udp: Option<UdpPacketInfo>,
    pub icmp: Option<IcmpPacketInfo>,
}

/// An ARP message and the frame that carried it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ArpRecord {
    pub packet: u64,
    /// Seconds since the first frame.
    pub time: f64,
    pub arp: crate::wire::arp::Arp,
}

/// Everything learned from a capture.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct Analysis {
    pub frames: u64,
    /// Capture time of the first frame, nanoseconds since the Unix epoch.
    pub first_ts_ns: Option<i64>,
    /// From the earliest timestamp to the latest (never negative).
    pub duration: f64,
    /// Only filled when `AnalyzerOptions::keep_summaries` is set.
    pub packets: Vec<PacketSummary>,
    pub tcp_streams: Vec<TcpStream>,
    pub udp_flows: Vec<UdpFlow>,
    pub icmp_errors: Vec<IcmpErrorRecord>,
    /// ARP requests and replies (a topology's computers finding each other), in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub arp: Vec<ArpRecord>,
    /// Frames whose link or IP layer could not be decoded.
    pub undecoded_frames: u64,
    /// Non-fatal problems (file cut short, ...).
    pub warnings: Vec<String>,
}

impl Analysis {
    /// TCP streams whose server port is `port`, in stream order.
    #[allow(dead_code)] // query API for the scenario wire checks
    pub(crate) fn streams_to_port(&self, port: u16) -> impl Iterator<Item = &TcpStream> {
        self.tcp_streams
            .iter()
            .filter(move |s| s.server.port == port)
    }

    /// TCP streams between two endpoints, whichever side is the client.
    #[allow(dead_code)] // query API for the scenario wire checks
    pub(crate) fn streams_between(
        &self,
        x: Endpoint,
        y: Endpoint,
    ) -> impl Iterator<Item = &TcpStream> {
        self.tcp_streams
            .iter()
            .filter(move |s| s.involves(x) && s.involves(y))
    }

    /// UDP flows touching `port` on either side.
    #[allow(dead_code)] // query API for the scenario wire checks
    pub(crate) fn udp_flows_with_port(&self, port: u16) -> impl Iterator<Item = &UdpFlow> {
        self.udp_flows
            .iter()
            .filter(move |f| f.a.port == port || f.b.port == port)
    }

    /// The conversations of a topology's two computers only: TCP streams whose server (SYN
    /// receiver) is at `server` and client at `client`, UDP flows between the two (either
    /// way); `None` leaves that side free, and the same address on both sides keeps what that
    /// one computer took part in. ICMP errors are kept: they are looked up by the flow they
    /// quote.
    pub(crate) fn between_hosts(&self, server: Option<IpAddr>, client: Option<IpAddr>) -> Analysis {
        let at = |want: Option<IpAddr>, ip: IpAddr| want.is_none_or(|w| w == ip);
        let mut out = self.clone();
        if server.is_some() && server == client {
            // One program on one computer: what it said or was told, on either side.
            out.tcp_streams
                .retain(|s| at(server, s.server.ip) || at(server, s.client.ip));
            out.udp_flows
                .retain(|f| at(server, f.a.ip) || at(server, f.b.ip));
            return out;
        }
        out.tcp_streams
            .retain(|s| at(server, s.server.ip) && at(client, s.client.ip));
        out.udp_flows.retain(|f| {
            (at(server, f.b.ip) && at(client, f.a.ip)) || (at(server, f.a.ip) && at(client, f.b.ip))
        });
        out
    }

    /// ICMP errors matched to the given flow.
    #[allow(dead_code)] // query API for the scenario wire checks
    pub(crate) fn icmp_errors_for(&self, flow: FlowRef) -> impl Iterator<Item = &IcmpErrorRecord> {
        self.icmp_errors
            .iter()
            .filter(move |e| e.matched == Some(flow))
    }
}
