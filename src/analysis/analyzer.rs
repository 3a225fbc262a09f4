//! The incremental analyzer: fed frames in capture order, it keeps per-flow state only (plus
//! capped payloads), so memory does not grow with the number of packets.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use super::info;
use super::model::*;
use super::recency::Recency;
use crate::wire::ip::{PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, PROTO_UDP};
use crate::wire::tcp::flags;
use std::io::Read;

use crate::wire::{
    parse_icmp, parse_ip, parse_tcp, parse_udp, strip_link, Defragmenter, Frame, IpPacket,
    NetProto, TcpSegment,
};
use crate::wire::{CaptureError, CaptureReader};

/// What the analyzer keeps.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AnalyzerOptions {
    /// Build a [`PacketSummary`] (with Info text) per frame; `push` returns it.
    pub summaries: bool,
    /// Also keep every summary in [`Analysis::packets`] (memory grows with the capture).
    pub keep_summaries: bool,
    /// Payload bytes kept per TCP direction and per UDP direction.
    pub payload_cap: usize,
    /// Packets (and retransmission numbers, and chunks) kept per flow for timing checks.
    pub flow_packet_cap: usize,
    /// Keep TCP payload for this stream only (`inspect --follow`), to bound memory.
    pub payload_stream: Option<u32>,
    /// Retire flows past count bounds while streaming (see [`RetirePolicy`]); `None` keeps
    /// every flow to the end.
    pub retire: Option<RetirePolicy>,
    /// Ports whose TCP traffic the packet list reads as a protocol tshark would not guess
    /// there (`tshark -d`).
    pub decode_as: DecodeAs,
}

/// Ports to read as SMTP, as `tshark -d tcp.port==N,smtp` (tshark dissects SMTP on port 25
/// only; the labs' servers listen on ports chosen per run). At most [`DecodeAs::MAX`] ports:
/// a scenario has one or two servers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct DecodeAs {
    smtp: [Option<u16>; DecodeAs::MAX],
}

impl DecodeAs {
    pub(crate) const MAX: usize = 4;

    /// SMTP on `ports` (the first [`DecodeAs::MAX`]).
    pub(crate) fn smtp(ports: &[u16]) -> DecodeAs {
        let mut smtp = [None; DecodeAs::MAX];
        for (slot, port) in smtp.iter_mut().zip(ports) {
            *slot = Some(*port);
        }
        DecodeAs { smtp }
    }

    pub(crate) fn is_smtp(&self, port: u16) -> bool {
        self.smtp.contains(&Some(port))
    }
}

/// When the analyzer lets go of a flow: the flow moves to the finished list (see
/// [`Analyzer::drain_tcp`]) and a later packet on its addresses starts a new flow. The rule and
/// where it can differ from tshark are in the module docs of `analysis`. Only counts decide,
/// never timestamps: a capture's clock can jump (one far-future record, time going backwards)
/// and tshark groups packets into streams without looking at it, so an idle timeout would cut
/// a stream tshark keeps whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RetirePolicy {
    /// At most this many closed TCP streams (FIN both ways, or a RST) are held; beyond, the
    /// least recently active goes.
    pub max_closed: usize,
    /// At most this many open TCP streams, and at most this many UDP flows, are held; beyond,
    /// the least recently active goes, TCP streams that have seen packets one way only first.
    pub max_open: usize,
}

impl RetirePolicy {
    /// The bounds used by `inspect --streams`. A held TCP stream costs about 0.75 KB and a UDP
    /// flow 0.3 KB, so about 60 MB with every bound full (`benches/inspect-many.sh`, `mix`).
    pub(crate) fn bounded() -> Self {
        RetirePolicy {
            max_closed: 32_768,
            max_open: 32_768,
        }
    }
}

impl AnalyzerOptions {
    /// Streaming views over captures of any size: keep no payload, no per-flow packet lists
    /// and no summaries; build each packet's summary for `push` only if `summaries`.
    pub(crate) fn streaming(summaries: bool) -> Self {
        AnalyzerOptions {
            summaries,
            keep_summaries: false,
            payload_cap: 0,
            flow_packet_cap: 0,
            payload_stream: None,
            retire: None,
            decode_as: DecodeAs::default(),
        }
    }
}

impl Default for AnalyzerOptions {
    fn default() -> Self {
        AnalyzerOptions {
            summaries: true,
            keep_summaries: true,
            payload_cap: 1024 * 1024,
            flow_packet_cap: 10_000,
            payload_stream: None,
            retire: None,
            decode_as: DecodeAs::default(),
        }
    }
}

type Key = (Endpoint, Endpoint);

/// The source and destination endpoints of a packet.
fn endpoints(src: IpAddr, dst: IpAddr, src_port: u16, dst_port: u16) -> (Endpoint, Endpoint) {
    (
        Endpoint {
            ip: src,
            port: src_port,
        },
        Endpoint {
            ip: dst,
            port: dst_port,
        },
    )
}

fn canonical(a: Endpoint, b: Endpoint) -> Key {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

/// Sequence-tracking state of one TCP direction (not serialized).
#[derive(Debug, Default)]
struct SeqState {
    /// Relative numbers are `raw - base`.
    base: Option<u32>,
    /// Next expected relative sequence number of in-order data.
    next: Option<u32>,
    /// Highest relative sequence end seen, for retransmission detection.
    max_end: Option<u32>,
    /// Out-of-order segments waiting for the hole before them, by relative seq.
    pending: BTreeMap<u32, Parked>,
    pending_bytes: usize,
    window_scale: Option<u8>,
    /// The window this direction last advertised, scaled, and the acknowledgment number it
    /// last sent (relative to the peer's base): tshark's `window` and `lastack`, for its
    /// window analysis (ZeroWindow, Window Update, Window Full).
    last_window: Option<u32>,
    last_ack: Option<u32>,
    /// This direction's last segment was a keep-alive (tshark then marks the peer's answer).
    last_keep_alive: bool,
    syn_seen: bool,
    fin_seen: bool,
    /// The direction's first payload did not look like HTTP: no tracker is kept.
    not_http: bool,
    /// The packet list showed an HTTP message in this direction.
    http_seen: bool,
    /// What the packet list says about HTTP in this direction, once its payload looks like it
    /// (boxed: most streams of a large capture never need one).
    http: Option<Box<super::http_info::Tracker>>,
}

/// A segment's payload: the bytes kept (none when the stream's payload is not kept), how many
/// the capture held, the length its header claims (more when the capture cut it short) and
/// the packet that carried it.
#[derive(Debug)]
struct Parked {
    data: Vec<u8>,
    captured: usize,
    len: usize,
    packet: u64,
}

#[derive(Debug)]
struct StreamState {
    stream: TcpStream,
    to_server: SeqState,
    to_client: SeqState,
    last_ts: i64,
    /// What the packet list says about SMTP on this stream, when one of its ports is read as
    /// SMTP (boxed: other streams never need one).
    smtp: Option<Box<super::smtp_info::Tracker>>,
}

impl StreamState {
    fn new(index: u32, client: Endpoint, server: Endpoint, frame: &Frame<'_>, time: f64) -> Self {
        StreamState {
            stream: TcpStream {
                index,
                client,
                server,
                first_packet: frame.number,
                last_packet: frame.number,
                start: time,
                end: time,
                handshake: Handshake::default(),
                teardown: Teardown::None,
                to_server: TcpDirection::default(),
                to_client: TcpDirection::default(),
                max_gap: None,
                packets: Vec::new(),
                packets_truncated: false,
                chunks: Vec::new(),
                chunks_truncated: false,
            },
            to_server: SeqState::default(),
            to_client: SeqState::default(),
            last_ts: frame.ts_ns,
            smtp: None,
        }
    }

    /// The stream's span, largest gap and packet list, for one more packet.
    fn record_packet(
        &mut self,
        frame: &Frame<'_>,
        time: f64,
        from_client: bool,
        payload_len: usize,
        opts: &AnalyzerOptions,
    ) {
        update_gap(
            &mut self.stream.max_gap,
            self.stream.last_packet,
            self.last_ts,
            frame,
        );
        self.last_ts = frame.ts_ns;
        self.stream.last_packet = frame.number;
        // From the earliest packet to the latest, as tshark's conversation table.
        self.stream.start = self.stream.start.min(time);
        self.stream.end = self.stream.end.max(time);
        push_capped(
            &mut self.stream.packets,
            &mut self.stream.packets_truncated,
            opts.flow_packet_cap,
            FlowPacket {
                number: frame.number,
                time,
                forward: from_client,
                payload_len: payload_len as u32,
            },
        );
    }

    fn closed(&self) -> bool {
        let s = &self.stream;
        s.to_server.rst_packet.is_some()
            || s.to_client.rst_packet.is_some()
            || (s.to_server.fin_packet.is_some() && s.to_client.fin_packet.is_some())
    }

    /// Window scaling is in effect only if both SYNs carried the option.
    fn scale(&self, from_client: bool) -> Option<u8> {
        let (mine, theirs) = if from_client {
            (&self.to_server, &self.to_client)
        } else {
            (&self.to_client, &self.to_server)
        };
        match (
            mine.syn_seen && theirs.syn_seen,
            mine.window_scale,
            theirs.window_scale,
        ) {
            (true, Some(m), Some(_)) => Some(m.min(14)),
            (true, _, _) => Some(0),
            _ => None,
        }
    }
}

#[derive(Debug)]
struct UdpState {
    flow: UdpFlow,
    kept_bytes: [usize; 2],
    last_ts: i64,
}

/// Recency lists of the TCP slab: open streams that have only seen packets one way (an
/// unanswered SYN: a scan's probe), open streams that have seen both ways, and closed ones kept
/// for late packets.
const ONE_WAY: usize = 0;
const TWO_WAY: usize = 1;
const CLOSED: usize = 2;

/// Incremental capture analyzer. Feed frames with [`Analyzer::push`], then [`Analyzer::finish`].
pub(crate) struct Analyzer {
    opts: AnalyzerOptions,
    first_ts: Option<i64>,
    /// Earliest and latest timestamps seen: time can go backwards in a capture.
    min_ts: i64,
    max_ts: i64,
    frames: u64,
    undecoded: u64,
    /// Live TCP streams, by slot; the current stream of each 4-tuple is in `tcp_by_key`.
    tcp: Recency<StreamState, 3>,
    tcp_by_key: HashMap<Key, u32>,
    next_tcp: u32,
    last_tcp: Option<(Key, u32)>,
    /// Streams no packet can reach any more (retired, or replaced on their 4-tuple by a new
    /// stream), until drained or `finish`.
    done_tcp: Vec<TcpStream>,
    echoes: HashMap<(IpAddr, IpAddr, u16, u16), u64>,
    udp: Recency<UdpState, 1>,
    udp_by_key: HashMap<Key, u32>,
    next_udp: u32,
    done_udp: Vec<UdpFlow>,
    icmp_errors: Vec<IcmpErrorRecord>,
    arp: Vec<ArpRecord>,
    defrag: Defragmenter,
    packets: Vec<PacketSummary>,
    last: Option<PacketSummary>,
    warnings: Vec<String>,
}

impl Analyzer {
    pub(crate) fn new(opts: AnalyzerOptions) -> Self {
        Analyzer {
            opts,
            first_ts: None,
            min_ts: i64::MAX,
            max_ts: i64::MIN,
            frames: 0,
            undecoded: 0,
            tcp: Recency::default(),
            tcp_by_key: HashMap::new(),
            next_tcp: 0,
            last_tcp: None,
            done_tcp: Vec::new(),
            echoes: HashMap::new(),
            udp: Recency::default(),
            udp_by_key: HashMap::new(),
            next_udp: 0,
            done_udp: Vec::new(),
            icmp_errors: Vec::new(),
            arp: Vec::new(),
            defrag: Defragmenter::default(),
            packets: Vec::new(),
            last: None,
            warnings: Vec::new(),
        }
    }

    /// Records a non-fatal problem (e.g. the capture was cut short).
    pub(crate) fn warn(&mut self, w: String) {
        self.warnings.push(w);
    }

    fn rel(&self, ts: i64) -> f64 {
        (ts - self.first_ts.unwrap_or(ts)) as f64 / 1e9
    }

    /// Analyzes one frame; returns its summary when `summaries` is enabled.
    pub(crate) fn push(&mut self, frame: &Frame<'_>) -> Option<&PacketSummary> {
        self.frames += 1;
        let first = *self.first_ts.get_or_insert(frame.ts_ns);
        self.min_ts = self.min_ts.min(frame.ts_ns);
        self.max_ts = self.max_ts.max(frame.ts_ns);
        let mut sum = self.opts.summaries.then(|| PacketSummary {
            number: frame.number,
            time: (frame.ts_ns - first) as f64 / 1e9,
            src: None,
            dst: None,
            protocol: "UNKNOWN",
            length: frame.orig_len,
            info: String::new(),
            tcp: None,
            udp: None,
            icmp: None,
        });
        self.decode(frame, sum.as_mut());
        if let Some(policy) = self.opts.retire {
            // After the frame, so the flow it may have added does not hold one more than
            // allowed.
            self.retire(policy);
        }
        let sum = sum?;
        if self.opts.keep_summaries {
            self.packets.push(sum);
            self.packets.last()
        } else {
            self.last = Some(sum);
            self.last.as_ref()
        }
    }

    fn decode(&mut self, frame: &Frame<'_>, mut sum: Option<&mut PacketSummary>) {
        let (proto, net) = match strip_link(frame.link_type, frame.data) {
            Ok(x) => x,
            Err(e) => {
                self.undecoded += 1;
                if let Some(s) = sum {
                    s.info = e.to_string();
                }
                return;
            }
        };
        if !matches!(proto, NetProto::Ipv4 | NetProto::Ipv6) {
            // Between a topology's computers: who has an address, and the MAC that has it.
            let arp = (proto == NetProto::Arp)
                .then(|| crate::wire::arp::parse_arp(net))
                .flatten();
            if let Some(arp) = arp {
                self.arp.push(ArpRecord {
                    packet: frame.number,
                    time: self.rel(frame.ts_ns),
                    arp,
                });
            }
            if let Some(s) = sum {
                s.protocol = if proto == NetProto::Arp { "ARP" } else { "ETH" };
                if let NetProto::Ether(t) = proto {
                    s.info = format!("Ethernet II, type 0x{t:04x}");
                }
                if let Some(arp) = arp {
                    s.info = arp.info();
                }
            }
            return;
        }
        let ip = match parse_ip(net) {
            Ok(ip) => ip,
            Err(e) => {
                self.undecoded += 1;
                if let Some(s) = sum {
                    s.protocol = if proto == NetProto::Ipv4 {
                        "IPv4"
                    } else {
                        "IPv6"
                    };
                    s.info = e.to_string();
                }
                return;
            }
        };
        if let Some(s) = sum.as_deref_mut() {
            s.src = Some(ip.src);
            s.dst = Some(ip.dst);
            s.protocol = if ip.is_v6() { "IPv6" } else { "IPv4" };
        }
        if let Some(frag) = ip.fragment {
            let whole = self
                .defrag
                .push(ip.src, ip.dst, ip.protocol, frag, ip.payload);
            match whole {
                Some(data) => {
                    let full = IpPacket {
                        fragment: None,
                        payload: &data,
                        payload_len: data.len(),
                        ..ip
                    };
                    self.transport(frame, &full, sum);
                }
                None => {
                    if let Some(s) = sum {
                        s.info = info::fragment(&ip, frag);
                    }
                }
            }
            return;
        }
        self.transport(frame, &ip, sum);
    }

    fn transport(&mut self, frame: &Frame<'_>, ip: &IpPacket<'_>, sum: Option<&mut PacketSummary>) {
        match ip.protocol {
            PROTO_TCP => match parse_tcp(ip.payload, ip.payload_len) {
                Ok(seg) => self.tcp_segment(frame, ip, &seg, sum),
                Err(e) => set_info(sum, "TCP", e.to_string()),
            },
            PROTO_UDP => match parse_udp(ip.payload) {
                Ok(d) => {
                    let (src, dst) = endpoints(ip.src, ip.dst, d.src_port, d.dst_port);
                    let payload_len = (d.length as usize).saturating_sub(8) as u32;
                    let flow = self.udp_datagram(frame, src, dst, payload_len, d.payload);
                    if let Some(s) = sum {
                        s.protocol = "UDP";
                        s.info = format!("{} → {} Len={payload_len}", d.src_port, d.dst_port);
                        s.udp = Some(UdpPacketInfo {
                            flow,
                            src_port: d.src_port,
                            dst_port: d.dst_port,
                            length: d.length,
                        });
                    }
                }
                Err(e) => set_info(sum, "UDP", e.to_string()),
            },
            PROTO_ICMP | PROTO_ICMPV6 => {
                let v6 = ip.protocol == PROTO_ICMPV6;
                match parse_icmp(ip.payload, v6) {
                    Ok(m) => {
                        if m.is_error() {
                            let matched = m.quoted.and_then(|q| self.match_quoted(q));
                            self.icmp_errors.push(IcmpErrorRecord {
                                packet: frame.number,
                                time: self.rel(frame.ts_ns),
                                v6,
                                icmp_type: m.icmp_type,
                                code: m.code,
                                description: crate::wire::icmp::describe(v6, m.icmp_type, m.code),
                                src: ip.src,
                                dst: ip.dst,
                                quoted: m.quoted,
                                matched,
                            });
                        }
                        let request_in = self.echo_pairing(frame.number, ip, &m);
                        if let Some(s) = sum {
                            s.protocol = if v6 { "ICMPv6" } else { "ICMP" };
                            s.info = info::icmp(&m, ip.ttl);
                            if let Some(n) = request_in {
                                s.info.push_str(&format!(" (request in {n})"));
                            }
                            s.icmp = Some(IcmpPacketInfo {
                                v6,
                                icmp_type: m.icmp_type,
                                code: m.code,
                            });
                        }
                    }
                    Err(e) => set_info(sum, if v6 { "ICMPv6" } else { "ICMP" }, e.to_string()),
                }
            }
            p => {
                if let Some(s) = sum {
                    s.info = format!("IP protocol {p}");
                }
            }
        }
    }

    /// Remembers echo requests and returns the request a reply answers (tshark's
    /// "request in N"). Bounded: the table is cleared when it grows past `MAX_ECHOES`.
    fn echo_pairing(
        &mut self,
        number: u64,
        ip: &IpPacket<'_>,
        m: &crate::wire::IcmpMessage,
    ) -> Option<u64> {
        const MAX_ECHOES: usize = 65_536;
        let (id, seq) = m.echo?;
        let is_request = m.icmp_type == if m.v6 { 128 } else { 8 };
        if is_request {
            if self.echoes.len() >= MAX_ECHOES {
                self.echoes.clear();
            }
            self.echoes.insert((ip.src, ip.dst, id, seq), number);
            None
        } else {
            self.echoes.get(&(ip.dst, ip.src, id, seq)).copied()
        }
    }

    fn match_quoted(&self, q: crate::wire::QuotedFlow) -> Option<FlowRef> {
        let (sp, dp) = q.ports?;
        let (src, dst) = endpoints(q.src, q.dst, sp, dp);
        let key = canonical(src, dst);
        match q.protocol {
            PROTO_TCP => self
                .tcp_by_key
                .get(&key)
                .and_then(|&i| self.tcp.get(i))
                .map(|s| FlowRef::Tcp {
                    stream: s.stream.index,
                }),
            PROTO_UDP => self
                .udp_by_key
                .get(&key)
                .and_then(|&i| self.udp.get(i))
                .map(|s| FlowRef::Udp { flow: s.flow.index }),
            _ => None,
        }
    }

    fn udp_datagram(
        &mut self,
        frame: &Frame<'_>,
        src: Endpoint,
        dst: Endpoint,
        payload_len: u32,
        payload: &[u8],
    ) -> u32 {
        let key = canonical(src, dst);
        let time = self.rel(frame.ts_ns);
        let slot = match self.udp_by_key.get(&key) {
            Some(&i) => i,
            None => {
                let index = self.next_udp;
                self.next_udp += 1;
                let i = self.udp.insert(
                    UdpState {
                        flow: UdpFlow {
                            index,
                            a: src,
                            b: dst,
                            first_packet: frame.number,
                            last_packet: frame.number,
                            start: time,
                            end: time,
                            a_to_b: UdpDirection::default(),
                            b_to_a: UdpDirection::default(),
                            max_gap: None,
                            packets: Vec::new(),
                            packets_truncated: false,
                        },
                        kept_bytes: [0, 0],
                        last_ts: frame.ts_ns,
                    },
                    0,
                );
                self.udp_by_key.insert(key, i);
                i
            }
        };
        self.udp.touch(slot, 0);
        let cap = self.opts.payload_cap;
        let pcap = self.opts.flow_packet_cap;
        let Some(st) = self.udp.get_mut(slot) else {
            return 0;
        };
        let fwd = st.flow.a == src;
        update_gap(&mut st.flow.max_gap, st.flow.last_packet, st.last_ts, frame);
        st.last_ts = frame.ts_ns;
        let f = &mut st.flow;
        f.last_packet = frame.number;
        // As tshark's conversation table: from the earliest packet to the latest, so time
        // going backwards never makes a negative duration.
        f.start = f.start.min(time);
        f.end = f.end.max(time);
        push_capped(
            &mut f.packets,
            &mut f.packets_truncated,
            pcap,
            FlowPacket {
                number: frame.number,
                time,
                forward: fwd,
                payload_len,
            },
        );
        let (dir, kept) = if fwd {
            (&mut f.a_to_b, &mut st.kept_bytes[0])
        } else {
            (&mut f.b_to_a, &mut st.kept_bytes[1])
        };
        dir.datagrams += 1;
        dir.bytes += frame.orig_len as u64;
        dir.payload_bytes += payload_len as u64;
        if cap == 0 {
            // Payloads are not kept: nothing is cut either.
        } else if *kept + payload.len() <= cap {
            *kept += payload.len();
            dir.payloads.push(Datagram {
                packet: frame.number,
                len: payload_len,
                payload: payload.to_vec(),
            });
        } else {
            dir.payloads_truncated = true;
        }
        f.index
    }

    /// One TCP segment: finds (or starts) its stream, then follows its sequence numbers,
    /// payload, handshake and teardown, and writes its line of the packet list.
    fn tcp_segment(
        &mut self,
        frame: &Frame<'_>,
        ip: &IpPacket<'_>,
        seg: &TcpSegment<'_>,
        sum: Option<&mut PacketSummary>,
    ) {
        let (src, dst) = endpoints(ip.src, ip.dst, seg.src_port, seg.dst_port);
        let time = self.rel(frame.ts_ns);
        let slot = self.tcp_slot(frame, seg, src, dst, time);
        let opts = self.opts;
        let Some(st) = self.tcp.get_mut(slot) else {
            return;
        };
        let from_client = st.stream.client == src;
        st.record_packet(frame, time, from_client, seg.payload_len, &opts);

        // Window scales in effect for what each side advertises (known once both SYNs were
        // seen), taken before the directions are borrowed.
        let scales = (st.scale(from_client), st.scale(!from_client));
        let (fwd, rev, dir) = if from_client {
            (
                &mut st.to_server,
                &mut st.to_client,
                &mut st.stream.to_server,
            )
        } else {
            (
                &mut st.to_client,
                &mut st.to_server,
                &mut st.stream.to_client,
            )
        };
        let f = seg.flags;
        let is_syn = f & flags::SYN != 0;
        let (rel_seq, rel_ack) = relative_numbers(fwd, rev, dir, seg, frame.number);
        let sack_base = rev.base;
        dir.packets += 1;
        dir.bytes += frame.orig_len as u64;
        dir.payload_bytes += seg.payload_len as u64;

        let retransmission = retransmitted(fwd, seg, rel_seq);
        if retransmission {
            dir.retransmissions += 1;
            if dir.retransmission_packets.len() < opts.flow_packet_cap {
                dir.retransmission_packets.push(frame.number);
            }
        }
        // Sequence space consumed: payload plus one for SYN and for FIN.
        let span = seg.payload_len as u32 + u32::from(is_syn) + u32::from(f & flags::FIN != 0);
        let end = rel_seq.wrapping_add(span);
        // Where the payload starts: after the SYN's one sequence number.
        let data_seq = rel_seq.wrapping_add(u32::from(is_syn));
        // Before `max_end` moves: the notes compare this segment with the state before it.
        let notes = window_notes(fwd, rev, seg, rel_seq, rel_ack, data_seq, scales);
        if span > 0 && fwd.max_end.is_none_or(|m| (end.wrapping_sub(m) as i32) > 0) {
            fwd.max_end = Some(end);
        }
        // A port read as SMTP (`tshark -d`) is SMTP's, not HTTP's guess.
        let smtp_to = opts.decode_as.is_smtp(seg.dst_port);
        let smtp = if smtp_to || opts.decode_as.is_smtp(seg.src_port) {
            Some(smtp_view(
                &mut st.smtp,
                fwd,
                seg,
                data_seq,
                retransmission,
                smtp_to,
            ))
        } else {
            None
        };
        let http = if smtp.is_none() {
            http_view(fwd, rev, seg, data_seq, retransmission, from_client)
        } else {
            super::http_info::Shown::Tcp
        };
        if seg.payload_len > 0 {
            let mut runs = Runs {
                chunks: &mut st.stream.chunks,
                truncated: &mut st.stream.chunks_truncated,
                cap: opts.flow_packet_cap,
                from_client,
                packet: frame.number,
            };
            let cap = stream_cap(&opts, st.stream.index);
            let parked = Parked {
                // A stream whose payload is not kept parks no bytes either.
                data: if cap > 0 {
                    seg.payload.to_vec()
                } else {
                    Vec::new()
                },
                captured: seg.payload.len(),
                len: seg.payload_len,
                packet: frame.number,
            };
            reassemble(fwd, dir, data_seq, parked, cap, &mut runs);
        }
        if matches!(http, super::http_info::Shown::Message(_)) {
            fwd.http_seen = true;
        }
        if f & flags::FIN != 0 {
            fwd.fin_seen = true;
            dir.fin_packet.get_or_insert(frame.number);
        }
        if f & flags::RST != 0 {
            dir.rst_packet.get_or_insert(frame.number);
        }
        follow_handshake(
            &mut st.stream.handshake,
            from_client,
            f,
            rel_ack,
            frame.number,
        );
        st.stream.teardown = teardown(&st.stream);

        if let Some(sum) = sum {
            sum.protocol = "TCP";
            let scale = st.scale(from_client);
            sum.info = info::tcp(seg, rel_seq, rel_ack, scale, retransmission, sack_base);
            if matches!(
                http,
                super::http_info::Shown::Tcp | super::http_info::Shown::BodySegment
            ) {
                notes.prepend(&mut sum.info);
            }
            show_http(sum, http);
            if let Some(smtp) = smtp {
                show_smtp(sum, smtp);
            }
            sum.tcp = Some(TcpPacketInfo {
                stream: st.stream.index,
                src_port: seg.src_port,
                dst_port: seg.dst_port,
                flags: f,
                flags_str: crate::wire::tcp::flags_str(f),
                seq: rel_seq,
                ack: rel_ack,
                len: seg.payload_len as u32,
                retransmission,
                from_client,
            });
        }
        let list = if st.closed() {
            CLOSED
        } else if st.stream.to_server.packets > 0 && st.stream.to_client.packets > 0 {
            TWO_WAY
        } else {
            ONE_WAY
        };
        self.tcp.touch(slot, list);
    }

    /// The slot of the segment's stream: the 4-tuple's current one, or a new one when there is
    /// none or the segment's SYN starts another over it.
    fn tcp_slot(
        &mut self,
        frame: &Frame<'_>,
        seg: &TcpSegment<'_>,
        src: Endpoint,
        dst: Endpoint,
        time: f64,
    ) -> u32 {
        let key = canonical(src, dst);
        let syn_only = seg.flags & (flags::SYN | flags::ACK) == flags::SYN;
        // Consecutive packets mostly belong to the same stream; skip the hash lookup then.
        let existing = match self.last_tcp {
            Some((k, i)) if k == key => Some(i),
            _ => self.tcp_by_key.get(&key).copied(),
        };
        // tshark starts a new stream when a SYN reuses a 4-tuple whose stream is closed, or
        // whose SYN had a different initial sequence number (port reuse).
        let reuse = existing.and_then(|i| self.tcp.get(i)).is_some_and(|s| {
            syn_only
                && (s.closed()
                    || (s.stream.client == src
                        && s.stream.to_server.isn.is_some_and(|isn| isn != seg.seq)))
        });
        let slot = match existing {
            Some(i) if !reuse => i,
            _ => {
                if let Some(old) = existing {
                    self.let_go_tcp(old);
                }
                let index = self.next_tcp;
                self.next_tcp += 1;
                let (client, server) =
                    if seg.flags & (flags::SYN | flags::ACK) == (flags::SYN | flags::ACK) {
                        (dst, src)
                    } else {
                        (src, dst)
                    };
                let i = self.tcp.insert(
                    StreamState::new(index, client, server, frame, time),
                    ONE_WAY,
                );
                self.tcp_by_key.insert(key, i);
                i
            }
        };
        self.last_tcp = Some((key, slot));
        slot
    }

    fn let_go_tcp(&mut self, slot: u32) {
        let Some(mut st) = self.tcp.remove(slot) else {
            return;
        };
        settle(&mut st, &self.opts);
        let key = canonical(st.stream.client, st.stream.server);
        if let Entry::Occupied(e) = self.tcp_by_key.entry(key) {
            if *e.get() == slot {
                e.remove();
            }
        }
        if self.last_tcp.is_some_and(|(_, s)| s == slot) {
            self.last_tcp = None;
        }
        self.done_tcp.push(st.stream);
    }

    /// Applies `policy`: see [`RetirePolicy`]. Each recency list runs from least to most
    /// recently active (in frame order), so only fronts need looking at.
    fn retire(&mut self, policy: RetirePolicy) {
        while self.tcp.len(CLOSED) > policy.max_closed {
            let Some(slot) = self.tcp.front(CLOSED) else {
                break;
            };
            self.let_go_tcp(slot);
        }
        while self.tcp.len(ONE_WAY) + self.tcp.len(TWO_WAY) > policy.max_open {
            // Unanswered probes go before conversations.
            let Some(slot) = self.tcp.front(ONE_WAY).or(self.tcp.front(TWO_WAY)) else {
                break;
            };
            self.let_go_tcp(slot);
        }
        while self.udp.len(0) > policy.max_open {
            let Some(slot) = self.udp.front(0) else {
                break;
            };
            if let Some(st) = self.udp.remove(slot) {
                self.udp_by_key.remove(&canonical(st.flow.a, st.flow.b));
                self.done_udp.push(st.flow);
            }
        }
    }

    /// TCP streams that left the analyzer since the last call, in the order they left: retired
    /// (with a [`RetirePolicy`]) or replaced on their 4-tuple by a new stream. Their numbers
    /// are not in order; no later packet changes them.
    pub(crate) fn drain_tcp(&mut self) -> std::vec::Drain<'_, TcpStream> {
        self.done_tcp.drain(..)
    }

    /// UDP flows retired since the last call (only with a [`RetirePolicy`]).
    pub(crate) fn drain_udp(&mut self) -> std::vec::Drain<'_, UdpFlow> {
        self.done_udp.drain(..)
    }

    /// ICMP errors seen since the last call, in packet order.
    pub(crate) fn drain_icmp_errors(&mut self) -> std::vec::Drain<'_, IcmpErrorRecord> {
        self.icmp_errors.drain(..)
    }

    /// Lets go of every TCP stream still held, one at a time in number order: at the end of a
    /// capture, so that a caller writing rows never holds them all at once.
    pub(crate) fn drain_live_tcp(&mut self) -> impl Iterator<Item = TcpStream> + '_ {
        self.tcp_by_key.clear();
        self.last_tcp = None;
        let opts = self.opts;
        self.tcp.drain_by_key(|s| s.stream.index).map(move |mut s| {
            settle(&mut s, &opts);
            s.stream
        })
    }

    /// [`Analyzer::drain_live_tcp`] for UDP flows.
    pub(crate) fn drain_live_udp(&mut self) -> impl Iterator<Item = UdpFlow> + '_ {
        self.udp_by_key.clear();
        self.udp.drain_by_key(|s| s.flow.index).map(|s| s.flow)
    }

    /// Whether any `drain_*` call would return something.
    pub(crate) fn has_finished(&self) -> bool {
        !(self.done_tcp.is_empty() && self.done_udp.is_empty() && self.icmp_errors.is_empty())
    }

    /// TCP streams and UDP flows numbered so far (drained ones included).
    pub(crate) fn flow_counts(&self) -> (u32, u32) {
        (self.next_tcp, self.next_udp)
    }

    /// TCP streams held in memory (open, or closed but kept for late packets).
    #[cfg(test)] // memory-bound tests
    pub(crate) fn live_tcp_streams(&self) -> usize {
        self.tcp.len(ONE_WAY) + self.tcp.len(TWO_WAY) + self.tcp.len(CLOSED)
    }

    /// UDP flows held in memory.
    #[cfg(test)] // memory-bound tests
    pub(crate) fn live_udp_flows(&self) -> usize {
        self.udp.len(0)
    }

    /// Ends the analysis.
    pub(crate) fn finish(self) -> Analysis {
        Analysis {
            frames: self.frames,
            first_ts_ns: self.first_ts,
            // From the earliest timestamp to the latest, as capinfos and tshark's conversation
            // table measure it: never negative, whatever order the records are in.
            duration: if self.frames == 0 {
                0.0
            } else {
                self.max_ts.saturating_sub(self.min_ts) as f64 / 1e9
            },
            packets: self.packets,
            tcp_streams: sorted(
                self.done_tcp,
                self.tcp.into_values().map(|mut s| {
                    settle(&mut s, &self.opts);
                    s.stream
                }),
                |s| s.index,
            ),
            udp_flows: sorted(self.done_udp, self.udp.into_values().map(|s| s.flow), |f| {
                f.index
            }),
            icmp_errors: self.icmp_errors,
            arp: self.arp,
            undecoded_frames: self.undecoded,
            warnings: self.warnings,
        }
    }
}

/// Reads a whole capture through an [`Analyzer`]. A file cut short is not an error: the frames
/// before the cut are analyzed and the problem is recorded in [`Analysis::warnings`].
pub(crate) fn analyze<R: Read>(
    src: R,
    name: &str,
    opts: AnalyzerOptions,
) -> Result<Analysis, CaptureError> {
    let mut reader = CaptureReader::new(src, name)?;
    let mut an = Analyzer::new(opts);
    loop {
        match reader.next_frame() {
            Ok(Some(frame)) => {
                an.push(&frame);
            }
            Ok(None) => break,
            Err(e) if e.is_truncation() => {
                an.warn(e.to_string());
                break;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(an.finish())
}

/// Flows that left early followed by the live ones, in number order.
fn sorted<T>(mut done: Vec<T>, live: impl Iterator<Item = T>, index: impl Fn(&T) -> u32) -> Vec<T> {
    done.extend(live);
    done.sort_unstable_by_key(index);
    done
}

fn set_info(sum: Option<&mut PacketSummary>, proto: &'static str, info: String) {
    if let Some(s) = sum {
        s.protocol = proto;
        s.info = info;
    }
}

/// Keeps `x` while `v` holds fewer than `cap`; `truncated` says something was left out, only
/// when something was to be kept at all (a cap of 0 keeps nothing and cuts nothing).
/// The segment's sequence and acknowledgement numbers relative to each direction's first
/// (tshark's "relative sequence numbers"); a first SYN sets its direction's base.
fn relative_numbers(
    fwd: &mut SeqState,
    rev: &mut SeqState,
    dir: &mut TcpDirection,
    seg: &TcpSegment<'_>,
    number: u64,
) -> (u32, u32) {
    if seg.flags & flags::SYN != 0 && !fwd.syn_seen {
        fwd.syn_seen = true;
        fwd.base = Some(seg.seq);
        fwd.next = Some(1);
        fwd.window_scale = seg.options.window_scale;
        dir.isn = Some(seg.seq);
        dir.syn_packet = Some(number);
    }
    // Without a SYN, tshark numbers the first byte seen as 1.
    let base = *fwd.base.get_or_insert(seg.seq.wrapping_sub(1));
    let rel_ack = if seg.flags & flags::ACK != 0 {
        let rb = *rev.base.get_or_insert(seg.ack.wrapping_sub(1));
        seg.ack.wrapping_sub(rb)
    } else {
        0
    };
    (seg.seq.wrapping_sub(base), rel_ack)
}

/// Basic retransmission detection: the segment's sequence range was already seen. Payload is
/// checked against the bytes delivered or parked (so a segment filling a hole is not counted);
/// a bare SYN or FIN against the highest sequence number seen.
fn retransmitted(fwd: &SeqState, seg: &TcpSegment<'_>, rel_seq: u32) -> bool {
    let f = seg.flags;
    let is_syn = f & flags::SYN != 0;
    let span = seg.payload_len as u32 + u32::from(is_syn) + u32::from(f & flags::FIN != 0);
    let end = rel_seq.wrapping_add(span);
    let data_seq = rel_seq.wrapping_add(u32::from(is_syn));
    span > 0
        && f & flags::RST == 0
        && if seg.payload_len > 0 {
            let data_end = data_seq.wrapping_add(seg.payload_len as u32);
            fwd.next
                .is_some_and(|n| (data_end.wrapping_sub(n) as i32) <= 0)
                || fwd.pending.contains_key(&data_seq)
        } else {
            fwd.max_end
                .is_some_and(|m| (end.wrapping_sub(m) as i32) <= 0)
        }
}

/// The packet list's HTTP view of a segment: in-order data, first transmissions only, later
/// data of a side that is not HTTP once the other side's message was shown, and the message a
/// FIN completes.
fn http_view(
    fwd: &mut SeqState,
    rev: &SeqState,
    seg: &TcpSegment<'_>,
    data_seq: u32,
    retransmission: bool,
    from_client: bool,
) -> super::http_info::Shown {
    let mut http = super::http_info::Shown::Tcp;
    // Without a SYN, the first data seen is where the stream starts.
    if seg.payload_len > 0
        && !retransmission
        && !fwd.not_http
        && fwd.next.is_none_or(|n| n == data_seq)
    {
        let tracker = fwd
            .http
            .get_or_insert_with(|| Box::new(super::http_info::Tracker::new(!from_client)));
        http = tracker.segment(seg.payload);
        if tracker.is_off() {
            fwd.http = None;
            fwd.not_http = true;
        }
    }
    // Once the other side's HTTP message is seen, tshark takes the connection as HTTP and
    // hands this side's later data to HTTP too (a client still sending a request the server
    // answered early: its bytes never make a request head).
    if seg.payload_len > 0
        && !retransmission
        && fwd.not_http
        && rev.http_seen
        && matches!(http, super::http_info::Shown::Tcp)
    {
        http = super::http_info::Shown::BodySegment;
    }
    if seg.flags & flags::FIN != 0 && !fwd.fin_seen {
        if let Some(t) = fwd.http.as_mut() {
            if let done @ super::http_info::Shown::Message(_) = t.fin() {
                http = done;
            }
        }
    }
    http
}

/// The packet list's SMTP view of a segment on a port read as SMTP: in-order data, first
/// transmissions only. A segment sent to such a port is the client's, as in tshark.
fn smtp_view(
    tracker: &mut Option<Box<super::smtp_info::Tracker>>,
    fwd: &SeqState,
    seg: &TcpSegment<'_>,
    data_seq: u32,
    retransmission: bool,
    to_smtp_port: bool,
) -> super::smtp_info::Shown {
    let in_order = fwd.next.is_none_or(|n| n == data_seq);
    if seg.payload_len == 0 || retransmission || !in_order {
        return super::smtp_info::Shown::Tcp;
    }
    let t = tracker.get_or_insert_with(Box::default);
    t.segment(to_smtp_port, seg.payload)
}

/// The packet list's line for a segment on a port read as SMTP.
fn show_smtp(sum: &mut PacketSummary, smtp: super::smtp_info::Shown) {
    match smtp {
        super::smtp_info::Shown::Tcp => {}
        super::smtp_info::Shown::Pending => {
            sum.info.push_str(" [TCP segment of a reassembled PDU]");
        }
        super::smtp_info::Shown::Smtp(text) => {
            sum.protocol = "SMTP";
            sum.info = text;
        }
        super::smtp_info::Shown::Imf(text) => {
            sum.protocol = "SMTP/IMF";
            sum.info = text;
        }
    }
}

/// tshark's expert notes on a segment's window, as its packet list shows them.
#[derive(Debug, Clone, Copy)]
struct WindowNotes {
    zero_window: bool,
    window_update: bool,
    window_full: bool,
    keep_alive: bool,
    keep_alive_ack: bool,
}

impl WindowNotes {
    /// Puts the notes before `info`: tshark prepends each expert note, so the last one it
    /// checks comes first.
    fn prepend(&self, info: &mut String) {
        for (on, note) in [
            (self.keep_alive, "[TCP Keep-Alive] "),
            (self.window_update, "[TCP Window Update] "),
            (self.window_full, "[TCP Window Full] "),
            (self.keep_alive_ack, "[TCP Keep-Alive ACK] "),
            (self.zero_window, "[TCP ZeroWindow] "),
        ] {
            if on {
                info.insert_str(0, note);
            }
        }
    }
}

/// tshark's window analysis of a segment, from the state before it (packet-tcp.c: a window
/// update is a bare ACK that changes only the window; a segment is window full when it reaches
/// the right edge of the window the peer advertised), then this direction's window, ACK and
/// keep-alive remembered for the next segments. `scales`: the window scales in effect for
/// this direction's and the peer's advertisements.
fn window_notes(
    fwd: &mut SeqState,
    rev: &SeqState,
    seg: &TcpSegment<'_>,
    rel_seq: u32,
    rel_ack: u32,
    data_seq: u32,
    (mine, peer): (Option<u8>, Option<u8>),
) -> WindowNotes {
    let f = seg.flags;
    let has_ack = f & flags::ACK != 0;
    let no_syn_fin_rst = f & (flags::SYN | flags::FIN | flags::RST) == 0;
    let window = if f & flags::SYN != 0 {
        u32::from(seg.window)
    } else {
        u32::from(seg.window) << mine.unwrap_or(0)
    };
    let zero_window = seg.window == 0 && no_syn_fin_rst;
    let window_update = seg.payload_len == 0
        && window != 0
        && no_syn_fin_rst
        && fwd.last_window.is_some_and(|w| w != window)
        && fwd.max_end == Some(rel_seq)
        && has_ack
        && fwd.last_ack == Some(rel_ack);
    let window_full = seg.payload_len > 0
        && no_syn_fin_rst
        && peer.is_some()
        && match (rev.last_ack, rev.last_window) {
            (Some(a), Some(w)) => {
                data_seq.wrapping_add(seg.payload_len as u32) == a.wrapping_add(w)
            }
            _ => false,
        };
    // A keep-alive (or the kernel's zero-window probe) starts one byte before the next
    // sequence number and carries nothing; the peer's bare ACK that answers it, with its
    // window, sequence and acknowledgment unchanged, is the keep-alive ACK.
    let keep_alive = seg.payload_len == 0
        && no_syn_fin_rst
        && fwd.max_end.is_some_and(|m| rel_seq == m.wrapping_sub(1));
    let keep_alive_ack = seg.payload_len == 0
        && no_syn_fin_rst
        && rev.last_keep_alive
        && fwd.last_window == Some(window)
        && fwd.max_end == Some(rel_seq)
        && has_ack
        && fwd.last_ack == Some(rel_ack);
    fwd.last_keep_alive = keep_alive;
    fwd.last_window = Some(window);
    if has_ack {
        fwd.last_ack = Some(rel_ack);
    }
    WindowNotes {
        zero_window,
        window_update,
        window_full,
        keep_alive,
        keep_alive_ack,
    }
}

/// Handshake: SYN from the client, SYN-ACK acknowledging it, then the client's ACK.
fn follow_handshake(hs: &mut Handshake, from_client: bool, f: u16, rel_ack: u32, number: u64) {
    if from_client && f & (flags::SYN | flags::ACK) == flags::SYN {
        hs.syn.get_or_insert(number);
    } else if !from_client
        && f & (flags::SYN | flags::ACK) == (flags::SYN | flags::ACK)
        && hs.syn.is_some()
        && rel_ack == 1
    {
        hs.syn_ack.get_or_insert(number);
    } else if from_client
        && f & (flags::SYN | flags::ACK | flags::RST) == flags::ACK
        && hs.syn_ack.is_some()
        && hs.ack.is_none()
        && rel_ack == 1
    {
        hs.ack = Some(number);
        hs.completed = true;
    }
}

/// How the stream ended so far: a RST either way, a FIN each way, or one FIN.
fn teardown(s: &TcpStream) -> Teardown {
    if s.to_server.rst_packet.is_some() || s.to_client.rst_packet.is_some() {
        Teardown::Rst
    } else {
        match (s.to_server.fin_packet, s.to_client.fin_packet) {
            (Some(_), Some(_)) => Teardown::Fin,
            (None, None) => Teardown::None,
            _ => Teardown::HalfClosed,
        }
    }
}

/// The packet list's line for a segment that carries (part of) an HTTP message.
fn show_http(sum: &mut PacketSummary, http: super::http_info::Shown) {
    match http {
        super::http_info::Shown::Tcp => {}
        super::http_info::Shown::HeadSegment(line) => {
            sum.info = format!("{line}  [TCP segment of a reassembled PDU]");
        }
        super::http_info::Shown::BodySegment => {
            sum.info.push_str(" [TCP segment of a reassembled PDU]");
        }
        super::http_info::Shown::Message(text) => {
            sum.protocol = "HTTP";
            sum.info = text;
        }
    }
}

fn push_capped<T>(v: &mut Vec<T>, truncated: &mut bool, cap: usize, x: T) {
    if v.len() < cap {
        v.push(x);
    } else if cap > 0 {
        *truncated = true;
    }
}

fn update_gap(gap: &mut Option<Gap>, last_packet: u64, last_ts: i64, frame: &Frame<'_>) {
    if last_packet == frame.number {
        return;
    }
    let secs = (frame.ts_ns - last_ts) as f64 / 1e9;
    if gap.is_none_or(|g| secs > g.seconds) {
        *gap = Some(Gap {
            after_packet: last_packet,
            before_packet: frame.number,
            seconds: secs,
        });
    }
}

/// Payload bytes kept for stream `index`: only the followed stream's with `payload_stream`.
fn stream_cap(opts: &AnalyzerOptions, index: u32) -> usize {
    match opts.payload_stream {
        Some(n) if n != index => 0,
        _ => opts.payload_cap,
    }
}

/// Where delivered payload is recorded as Follow TCP Stream runs ([`Chunk`]s) of one direction.
struct Runs<'a> {
    chunks: &'a mut Vec<Chunk>,
    truncated: &'a mut bool,
    /// Most chunks kept.
    cap: usize,
    from_client: bool,
    /// The packet being delivered.
    packet: u64,
}

impl Runs<'_> {
    /// `kept` bytes were appended at `offset` of the direction's payload: they extend the last
    /// run if it is this direction's and no bytes are missing after it.
    fn data(&mut self, offset: u64, kept: u64) {
        if kept == 0 {
            return;
        }
        match self.chunks.last_mut() {
            Some(c) if c.from_client == self.from_client && c.missing == 0 => c.len += kept,
            _ => push_capped(
                self.chunks,
                self.truncated,
                self.cap,
                Chunk {
                    packet: self.packet,
                    from_client: self.from_client,
                    offset,
                    len: kept,
                    missing: 0,
                },
            ),
        }
    }

    /// `n` bytes of this direction that the capture does not hold come right after the
    /// `offset` bytes kept so far: they end this direction's last run (or a run of no bytes).
    fn missing(&mut self, offset: u64, n: u64) {
        let from_client = self.from_client;
        match self
            .chunks
            .iter_mut()
            .rev()
            .find(|c| c.from_client == from_client)
        {
            Some(c) if c.offset + c.len == offset => c.missing += n,
            _ => push_capped(
                self.chunks,
                self.truncated,
                self.cap,
                Chunk {
                    packet: self.packet,
                    from_client,
                    offset,
                    len: 0,
                    missing: n,
                },
            ),
        }
    }
}

/// Records `n` sequence bytes the capture does not hold, at the end of what `dir` kept.
fn gap(dir: &mut TcpDirection, runs: &mut Runs<'_>, packet: u64, n: u64, snaplen: bool) {
    if n == 0 {
        return;
    }
    let offset = dir.payload.len() as u64;
    dir.payload_has_gaps = true;
    dir.missing_bytes += n;
    dir.first_gap.get_or_insert(Box::new(PayloadGap {
        packet,
        offset,
        missing: n,
        snaplen,
    }));
    if !dir.payload_truncated {
        runs.missing(offset, n);
    }
}

/// Appends in-order payload, parks out-of-order segments (bounded by the cap) and skips
/// duplicates, so each sequence byte is delivered once. A segment the capture cut short
/// (snaplen) delivers the bytes it holds and leaves a gap for the rest: the next segment's
/// bytes never stand in for them.
fn reassemble(
    st: &mut SeqState,
    dir: &mut TcpDirection,
    seq: u32,
    seg: Parked,
    cap: usize,
    runs: &mut Runs<'_>,
) {
    let next = *st.next.get_or_insert(seq);
    if st.fin_seen && (seq.wrapping_sub(next) as i32) >= 0 {
        // Data after our FIN is not part of the stream.
        return;
    }
    let ahead = seq.wrapping_sub(next) as i32;
    if ahead > 0 {
        if let std::collections::btree_map::Entry::Vacant(e) = st.pending.entry(seq) {
            // Counted by the length claimed, kept or not, so that a hole that never fills is
            // given up on after as much sequence space whatever is kept.
            st.pending_bytes += seg.len;
            e.insert(seg);
        }
        if st.pending_bytes <= cap.max(64 * 1024) {
            return;
        }
        // Too much is waiting behind a hole that never fills (bytes not captured): skip it,
        // as Wireshark's Follow does with "[N bytes missing]".
        skip_hole(st, dir, runs);
    } else {
        deliver(st, dir, seq, &seg, cap, runs);
    }
    drain_pending(st, dir, cap, runs);
}

/// Moves the in-order edge over the hole before the first parked segment, recording the gap.
fn skip_hole(st: &mut SeqState, dir: &mut TcpDirection, runs: &mut Runs<'_>) {
    let Some((&first, parked)) = st.pending.iter().next() else {
        return;
    };
    let packet = parked.packet;
    let next = st.next.unwrap_or(first);
    let hole = u64::from(first.wrapping_sub(next));
    st.next = Some(first);
    gap(dir, runs, packet, hole, false);
}

/// Delivers parked segments that now touch the in-order edge.
fn drain_pending(st: &mut SeqState, dir: &mut TcpDirection, cap: usize, runs: &mut Runs<'_>) {
    while let Some((&pseq, _)) = st.pending.iter().next() {
        let next = st.next.unwrap_or(pseq);
        if (pseq.wrapping_sub(next) as i32) > 0 {
            break;
        }
        let Some(seg) = st.pending.remove(&pseq) else {
            break;
        };
        st.pending_bytes -= seg.len;
        runs.packet = seg.packet;
        deliver(st, dir, pseq, &seg, cap, runs);
    }
}

/// At the end of a stream: what is still parked behind a hole that never filled is delivered
/// after the gap, as Wireshark's Follow shows it after "[N bytes missing in capture file]".
fn settle(s: &mut StreamState, opts: &AnalyzerOptions) {
    let cap = stream_cap(opts, s.stream.index);
    for from_client in [true, false] {
        let (st, dir) = if from_client {
            (&mut s.to_server, &mut s.stream.to_server)
        } else {
            (&mut s.to_client, &mut s.stream.to_client)
        };
        let mut runs = Runs {
            chunks: &mut s.stream.chunks,
            truncated: &mut s.stream.chunks_truncated,
            cap: opts.flow_packet_cap,
            from_client,
            packet: 0,
        };
        while !st.pending.is_empty() {
            skip_hole(st, dir, &mut runs);
            drain_pending(st, dir, cap, &mut runs);
        }
    }
}

/// Appends the bytes of a segment not delivered yet, records a gap for those the capture cut
/// off, and advances the in-order edge by the length the header claims.
fn deliver(
    st: &mut SeqState,
    dir: &mut TcpDirection,
    seq: u32,
    seg: &Parked,
    cap: usize,
    runs: &mut Runs<'_>,
) {
    let len = seg.len;
    let next = st.next.unwrap_or(seq);
    let skip = next.wrapping_sub(seq) as usize;
    if skip >= len {
        return;
    }
    let fresh = seg.data.get(skip..).unwrap_or(&[]);
    let held = seg.captured.saturating_sub(skip);
    let room = cap.saturating_sub(dir.payload.len());
    // Cut at the cap only when there was a cap to keep anything at all: a payload that is
    // not kept (cap 0) is not "truncated".
    if fresh.len() > room && cap > 0 {
        dir.payload_truncated = true;
    }
    let offset = dir.payload.len() as u64;
    let kept = fresh.len().min(room);
    dir.payload.extend_from_slice(&fresh[..kept]);
    runs.data(offset, kept as u64);
    if kept > 0 {
        push_capped(
            &mut dir.segments,
            &mut dir.segments_truncated,
            runs.cap,
            SegmentAt {
                offset,
                packet: seg.packet,
            },
        );
    }
    // Bytes the header claims but the capture does not hold (snaplen): a gap, never filled
    // with the bytes of a later segment.
    gap(
        dir,
        runs,
        seg.packet,
        (len - skip).saturating_sub(held) as u64,
        true,
    );
    dir.stream_bytes += (len - skip) as u64;
    st.next = Some(seq.wrapping_add(len as u32));
}
