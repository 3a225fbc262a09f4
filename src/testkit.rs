//! Test captures, built one way for every test: packets by etherparse's `PacketBuilder` (real
//! lengths and checksums, as a kernel writes them) and files by `pcap-file`'s writers, an
//! implementation independent of socklab's own reader and writer, against which both are
//! checked.
//!
//! One file for both kinds of test: the binary crate's unit tests declare it as
//! `#[cfg(test)] mod testkit` in `main.rs`, and the integration tests include the same file
//! through `#[path]` in `tests/common/mod.rs` (socklab has no library target to share it
//! through). So it depends on nothing of socklab's, only on the two crates, and everything in
//! it is `pub`.
#![allow(dead_code)]

use std::borrow::Cow;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use etherparse::{Icmpv4Type, Icmpv6Type, IpHeaders};
use etherparse::{IpNumber, PacketBuilder, PacketBuilderStep, TcpHeader};
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::{DataLink, Endianness, TsResolution};

/// TCP flag bits, as in the header's low 12 bits.
pub mod flags {
    pub const FIN: u16 = 0x001;
    pub const SYN: u16 = 0x002;
    pub const RST: u16 = 0x004;
    pub const PSH: u16 = 0x008;
    pub const ACK: u16 = 0x010;
    pub const URG: u16 = 0x020;
    pub const ECE: u16 = 0x040;
    pub const CWR: u16 = 0x080;
    /// Accurate ECN, formerly NS.
    pub const AE: u16 = 0x100;
}

/// The first timestamp of a [`Capture`]: 2023-11-14 22:13:20 UTC.
pub const EPOCH: Duration = Duration::from_secs(1_700_000_000);
/// Hop limit of every packet built here.
pub const TTL: u8 = 64;

fn ip_step(src: IpAddr, dst: IpAddr) -> PacketBuilderStep<IpHeaders> {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let mut h = etherparse::Ipv4Header::new(0, TTL, IpNumber(0), s.octets(), d.octets())
                .expect("an empty payload fits");
            h.dont_fragment = true;
            PacketBuilder::ip(IpHeaders::Ipv4(h, Default::default()))
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => PacketBuilder::ipv6(s.octets(), d.octets(), TTL),
        _ => panic!("{src} and {dst} are not of one IP version"),
    }
}

/// A TCP segment in an IP packet, window 65535; `flags` from [`flags`].
pub fn tcp(src: SocketAddr, dst: SocketAddr, seq: u32, ack: u32, fl: u16, data: &[u8]) -> Vec<u8> {
    let mut h = TcpHeader::new(src.port(), dst.port(), seq, 0xffff);
    h.acknowledgment_number = ack;
    h.fin = fl & flags::FIN != 0;
    h.syn = fl & flags::SYN != 0;
    h.rst = fl & flags::RST != 0;
    h.psh = fl & flags::PSH != 0;
    h.ack = fl & flags::ACK != 0;
    h.urg = fl & flags::URG != 0;
    h.ece = fl & flags::ECE != 0;
    h.cwr = fl & flags::CWR != 0;
    h.ns = fl & flags::AE != 0;
    let mut out = Vec::new();
    ip_step(src.ip(), dst.ip())
        .tcp_header(h)
        .write_to_vec(&mut out, data)
        .expect("a TCP segment builds");
    out
}

/// A UDP datagram in an IP packet.
pub fn udp(src: SocketAddr, dst: SocketAddr, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    ip_step(src.ip(), dst.ip())
        .udp(src.port(), dst.port())
        .write_to_vec(&mut out, data)
        .expect("a UDP datagram builds");
    out
}

/// An ICMP (for IPv4 addresses) or ICMPv6 message: type, code, header bytes 5 to 8, and the
/// body after the 8-byte header (for an error, the packet it quotes).
pub fn icmp(src: IpAddr, dst: IpAddr, t: u8, code: u8, rest: [u8; 4], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let step = ip_step(src, dst);
    let built = if src.is_ipv4() {
        step.icmpv4(Icmpv4Type::Unknown {
            type_u8: t,
            code_u8: code,
            bytes5to8: rest,
        })
        .write_to_vec(&mut out, body)
    } else {
        step.icmpv6(Icmpv6Type::Unknown {
            type_u8: t,
            code_u8: code,
            bytes5to8: rest,
        })
        .write_to_vec(&mut out, body)
    };
    built.expect("an ICMP message builds");
    out
}

/// An IP packet carrying `payload` as protocol `protocol`, for transports (and IPv6
/// extension headers) built by hand.
pub fn ip(src: IpAddr, dst: IpAddr, protocol: u8, payload: &[u8]) -> Vec<u8> {
    // etherparse's builder refuses (panics on) an IPv6 extension header number as the next
    // header, since it writes extension headers itself: build with 253 (experimental) and put
    // the number in afterwards (IPv6 has no header checksum).
    let (build_as, patch) = match src {
        IpAddr::V6(_) => (253, true),
        IpAddr::V4(_) => (protocol, false),
    };
    let mut out = Vec::new();
    ip_step(src, dst)
        .write_to_vec(&mut out, IpNumber(build_as), payload)
        .expect("an IP packet builds");
    if patch {
        out[6] = protocol;
    }
    out
}

/// The link layer a [`Capture`] wraps its IP packets in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// Ethernet II, zero addresses (as Linux's `lo`).
    Ethernet,
    /// Raw IP (LINKTYPE_RAW).
    Raw,
    /// Linux cooked capture v2, loopback hatype 772.
    Sll2,
    /// BSD loopback, family in little-endian byte order.
    Null,
}

impl Link {
    fn datalink(self) -> DataLink {
        match self {
            Link::Ethernet => DataLink::ETHERNET,
            Link::Raw => DataLink::RAW,
            Link::Sll2 => DataLink::LINUX_SLL2,
            Link::Null => DataLink::NULL,
        }
    }

    /// `packet` (an IP packet) behind this link's header.
    pub fn wrap(self, packet: &[u8]) -> Vec<u8> {
        let v6 = packet.first().is_some_and(|b| b >> 4 == 6);
        let ethertype: u16 = if v6 { 0x86dd } else { 0x0800 };
        let mut f = match self {
            Link::Ethernet => {
                let mut h = vec![0u8; 12];
                h.extend(ethertype.to_be_bytes());
                h
            }
            Link::Raw => Vec::new(),
            Link::Sll2 => {
                let mut h = ethertype.to_be_bytes().to_vec();
                h.extend([0, 0, 0, 0, 0, 1]); // reserved, interface index 1
                h.extend(772u16.to_be_bytes()); // ARPHRD_LOOPBACK
                h.extend([0, 6]); // packet type host, address length 6
                h.extend([0u8; 8]);
                h
            }
            Link::Null => (if v6 { 30u32 } else { 2 }).to_le_bytes().to_vec(),
        };
        f.extend_from_slice(packet);
        f
    }
}

/// A capture being built: frames with their times, written at the end as pcap or pcapng.
#[derive(Debug, Clone)]
pub struct Capture {
    link: Link,
    nanos: bool,
    endianness: Endianness,
    snaplen: u32,
    /// (time since the Unix epoch, captured bytes, length on the wire).
    frames: Vec<(Duration, Vec<u8>, u32)>,
    step: Duration,
}

impl Capture {
    /// An empty capture on `link`: little-endian, microseconds, one frame a millisecond from
    /// [`EPOCH`].
    pub fn new(link: Link) -> Capture {
        Capture {
            link,
            nanos: false,
            endianness: Endianness::Little,
            snaplen: 262_144,
            frames: Vec::new(),
            step: Duration::from_millis(1),
        }
    }

    /// Nanosecond timestamps.
    pub fn nanos(mut self) -> Capture {
        self.nanos = true;
        self
    }

    /// Big-endian headers.
    pub fn big_endian(mut self) -> Capture {
        self.endianness = Endianness::Big;
        self
    }

    /// The gap between frames added by [`Capture::push`].
    pub fn step(mut self, step: Duration) -> Capture {
        self.step = step;
        self
    }

    /// The pcap header's snaplen (the frames are not cut to it).
    pub fn snaplen(mut self, snaplen: u32) -> Capture {
        self.snaplen = snaplen;
        self
    }

    /// Adds an IP packet, behind the capture's link header, one step after the last frame.
    pub fn push(&mut self, packet: &[u8]) -> &mut Capture {
        let at = self.frames.last().map_or(EPOCH, |f| f.0 + self.step);
        self.push_at(at, packet)
    }

    /// Adds an IP packet at `at` since the Unix epoch.
    pub fn push_at(&mut self, at: Duration, packet: &[u8]) -> &mut Capture {
        let frame = self.link.wrap(packet);
        let len = frame.len() as u32;
        self.frames.push((at, frame, len));
        self
    }

    /// Adds a frame as it is (link header included), `orig_len` long on the wire.
    pub fn push_frame(&mut self, at: Duration, frame: &[u8], orig_len: u32) -> &mut Capture {
        self.frames.push((at, frame.to_vec(), orig_len));
        self
    }

    pub fn len(&self) -> usize {
        self.frames.len()
    }

    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// The capture as a classic pcap file.
    pub fn pcap(&self) -> Vec<u8> {
        let header = PcapHeader {
            snaplen: self.snaplen,
            datalink: self.link.datalink(),
            ts_resolution: if self.nanos {
                TsResolution::NanoSecond
            } else {
                TsResolution::MicroSecond
            },
            endianness: self.endianness,
            ..PcapHeader::default()
        };
        let mut w = PcapWriter::with_header(Vec::new(), header).expect("pcap header");
        for (at, data, orig_len) in &self.frames {
            let p = PcapPacket::new(*at, *orig_len, data);
            w.write_packet(&p).expect("pcap record");
        }
        w.into_writer()
    }

    /// The capture as pcapng, one interface (named `lo`) with nanosecond timestamps.
    pub fn pcapng(&self) -> Vec<u8> {
        let mut w = PcapNgWriter::with_endianness(Vec::new(), self.endianness).expect("section");
        // pcap-file writes every packet's time in nanoseconds: the interface must say so.
        let iface = InterfaceDescriptionBlock {
            linktype: self.link.datalink(),
            snaplen: self.snaplen,
            options: vec![
                InterfaceDescriptionOption::IfName(Cow::Borrowed("lo")),
                InterfaceDescriptionOption::IfTsResol(9),
            ],
        };
        w.write_pcapng_block(iface).expect("interface block");
        for (at, data, orig_len) in &self.frames {
            let epb = EnhancedPacketBlock {
                interface_id: 0,
                timestamp: *at,
                original_len: *orig_len,
                data: Cow::Borrowed(data),
                options: vec![],
            };
            w.write_pcapng_block(epb).expect("packet block");
        }
        w.into_inner()
    }
}

/// A whole TCP exchange from `client` to `server`: handshake, `request`, its ACK, `reply`, its
/// ACK, a FIN each way and the last ACK (10 packets); initial sequence numbers 1000 and 5000.
pub fn tcp_exchange(
    client: SocketAddr,
    server: SocketAddr,
    request: &[u8],
    reply: &[u8],
) -> Vec<Vec<u8>> {
    use flags::*;
    let (c, s) = (1_000u32, 5_000u32);
    let (q, r) = (request.len() as u32, reply.len() as u32);
    vec![
        tcp(client, server, c, 0, SYN, b""),
        tcp(server, client, s, c + 1, SYN | ACK, b""),
        tcp(client, server, c + 1, s + 1, ACK, b""),
        tcp(client, server, c + 1, s + 1, PSH | ACK, request),
        tcp(server, client, s + 1, c + 1 + q, ACK, b""),
        tcp(server, client, s + 1, c + 1 + q, PSH | ACK, reply),
        tcp(client, server, c + 1 + q, s + 1 + r, ACK, b""),
        tcp(client, server, c + 1 + q, s + 1 + r, FIN | ACK, b""),
        tcp(server, client, s + 1 + r, c + 2 + q, FIN | ACK, b""),
        tcp(client, server, c + 2 + q, s + 2 + r, ACK, b""),
    ]
}
