//! Synthetic captures for the tests: a classic pcap (Ethernet, microseconds) of IPv4 or IPv6
//! packets carrying TCP or UDP, with correct lengths and checksums, so that socklab and tshark
//! read them as they would a capture from Wireshark or tcpdump.

use std::net::{IpAddr, SocketAddr};

const SYN: u8 = 0x02;
const ACK: u8 = 0x10;
const PSH: u8 = 0x08;
const FIN: u8 = 0x01;

/// A capture being built; each packet comes 1 ms after the previous one.
pub struct Pcap {
    bytes: Vec<u8>,
    packets: u32,
}

impl Default for Pcap {
    fn default() -> Self {
        Self::new()
    }
}

impl Pcap {
    pub fn new() -> Pcap {
        let mut bytes = 0xa1b2_c3d4u32.to_le_bytes().to_vec();
        bytes.extend_from_slice(&2u16.to_le_bytes());
        bytes.extend_from_slice(&4u16.to_le_bytes());
        bytes.extend_from_slice(&[0; 8]);
        bytes.extend_from_slice(&65_535u32.to_le_bytes());
        bytes.extend_from_slice(&1u32.to_le_bytes()); // Ethernet
        Pcap { bytes, packets: 0 }
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn packets(&self) -> u32 {
        self.packets
    }

    /// One TCP segment.
    pub fn tcp(
        &mut self,
        src: SocketAddr,
        dst: SocketAddr,
        seq: u32,
        ack: u32,
        flags: u8,
        data: &[u8],
    ) {
        let mut seg = Vec::with_capacity(20 + data.len());
        seg.extend_from_slice(&src.port().to_be_bytes());
        seg.extend_from_slice(&dst.port().to_be_bytes());
        seg.extend_from_slice(&seq.to_be_bytes());
        seg.extend_from_slice(&ack.to_be_bytes());
        seg.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
        seg.extend_from_slice(data);
        self.ip(src.ip(), dst.ip(), 6, seg, 16);
    }

    /// One UDP datagram.
    pub fn udp(&mut self, src: SocketAddr, dst: SocketAddr, data: &[u8]) {
        let mut dgram = Vec::with_capacity(8 + data.len());
        dgram.extend_from_slice(&src.port().to_be_bytes());
        dgram.extend_from_slice(&dst.port().to_be_bytes());
        dgram.extend_from_slice(&(8 + data.len() as u16).to_be_bytes());
        dgram.extend_from_slice(&[0, 0]);
        dgram.extend_from_slice(data);
        self.ip(src.ip(), dst.ip(), 17, dgram, 6);
    }

    /// A whole TCP exchange: handshake, `request`, `reply`, a FIN each way (10 packets).
    pub fn tcp_exchange(
        &mut self,
        client: SocketAddr,
        server: SocketAddr,
        request: &[u8],
        reply: &[u8],
    ) {
        let (c, s) = (1_000u32, 5_000u32);
        let (q, r) = (request.len() as u32, reply.len() as u32);
        self.tcp(client, server, c, 0, SYN, b"");
        self.tcp(server, client, s, c + 1, SYN | ACK, b"");
        self.tcp(client, server, c + 1, s + 1, ACK, b"");
        self.tcp(client, server, c + 1, s + 1, PSH | ACK, request);
        self.tcp(server, client, s + 1, c + 1 + q, ACK, b"");
        self.tcp(server, client, s + 1, c + 1 + q, PSH | ACK, reply);
        self.tcp(client, server, c + 1 + q, s + 1 + r, ACK, b"");
        self.tcp(client, server, c + 1 + q, s + 1 + r, FIN | ACK, b"");
        self.tcp(server, client, s + 1 + r, c + 2 + q, FIN | ACK, b"");
        self.tcp(client, server, c + 2 + q, s + 2 + r, ACK, b"");
    }

    /// Wraps a transport segment whose checksum sits at `sum_at` in IP and Ethernet.
    fn ip(&mut self, src: IpAddr, dst: IpAddr, proto: u8, mut seg: Vec<u8>, sum_at: usize) {
        let len = seg.len() as u16;
        let mut pseudo = Vec::new();
        let mut frame = vec![0u8; 12];
        match (src, dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                pseudo.extend_from_slice(&s.octets());
                pseudo.extend_from_slice(&d.octets());
                pseudo.extend_from_slice(&[0, proto]);
                pseudo.extend_from_slice(&len.to_be_bytes());
                frame.extend_from_slice(&[0x08, 0x00]);
                let mut h = vec![0x45, 0];
                h.extend_from_slice(&(20 + len).to_be_bytes());
                h.extend_from_slice(&(self.packets as u16).to_be_bytes());
                h.extend_from_slice(&[0x40, 0, 64, proto, 0, 0]);
                h.extend_from_slice(&s.octets());
                h.extend_from_slice(&d.octets());
                let sum = checksum(&h);
                h[10..12].copy_from_slice(&sum.to_be_bytes());
                frame.extend_from_slice(&h);
            }
            (IpAddr::V6(s), IpAddr::V6(d)) => {
                pseudo.extend_from_slice(&s.octets());
                pseudo.extend_from_slice(&d.octets());
                pseudo.extend_from_slice(&u32::from(len).to_be_bytes());
                pseudo.extend_from_slice(&[0, 0, 0, proto]);
                frame.extend_from_slice(&[0x86, 0xdd]);
                frame.extend_from_slice(&[0x60, 0, 0, 0]);
                frame.extend_from_slice(&len.to_be_bytes());
                frame.extend_from_slice(&[proto, 64]);
                frame.extend_from_slice(&s.octets());
                frame.extend_from_slice(&d.octets());
            }
            _ => panic!("{src} and {dst} are not of one IP version"),
        }
        pseudo.extend_from_slice(&seg);
        let sum = checksum(&pseudo);
        seg[sum_at..sum_at + 2].copy_from_slice(&sum.to_be_bytes());
        frame.extend_from_slice(&seg);
        let micros = u64::from(self.packets) * 1_000;
        self.bytes
            .extend_from_slice(&(1_700_000_000 + (micros / 1_000_000) as u32).to_le_bytes());
        self.bytes
            .extend_from_slice(&((micros % 1_000_000) as u32).to_le_bytes());
        self.bytes
            .extend_from_slice(&(frame.len() as u32).to_le_bytes());
        self.bytes
            .extend_from_slice(&(frame.len() as u32).to_le_bytes());
        self.bytes.extend_from_slice(&frame);
        self.packets += 1;
    }
}

/// The Internet checksum (RFC 1071).
fn checksum(bytes: &[u8]) -> u16 {
    let mut sum: u32 = bytes
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Two captures written by socklab (same header) as one: the first's packets, then the second's.
pub fn concat(first: &[u8], second: &[u8]) -> Vec<u8> {
    assert_eq!(first[..24], second[..24], "the captures' headers differ");
    let mut out = first.to_vec();
    out.extend_from_slice(&second[24..]);
    out
}

/// The test capture of a student's lab network (on documentation addresses): a DNS query, the
/// lab's TCP round trip from 192.0.2.10 to 192.0.2.20:12000, a web request, another client of
/// the same server, and a UDP round trip on [::1]:12000; 34 packets, written to `path`.
pub fn noisy_lab_capture(path: &std::path::Path) {
    let sa = |s: &str| -> SocketAddr { s.parse().unwrap() };
    const REQUEST: &[u8] = b"hello, World &*! 123\n";
    const REPLY: &[u8] = b"HELLO, WORLD &*! 123\n";
    // `A example.com?` and its answer without records.
    const DNS_QUERY: &[u8] =
        b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01";
    const DNS_ANSWER: &[u8] =
        b"\x12\x34\x81\x80\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01";
    let mut p = Pcap::new();
    p.udp(sa("192.0.2.10:53001"), sa("198.51.100.53:53"), DNS_QUERY);
    p.udp(sa("198.51.100.53:53"), sa("192.0.2.10:53001"), DNS_ANSWER);
    p.tcp_exchange(
        sa("192.0.2.10:40000"),
        sa("192.0.2.20:12000"),
        REQUEST,
        REPLY,
    );
    p.tcp_exchange(
        sa("192.0.2.10:40001"),
        sa("203.0.113.80:80"),
        b"GET / HTTP/1.1\r\nHost: example\r\n\r\n",
        b"HTTP/1.1 204 No Content\r\n\r\n",
    );
    p.tcp_exchange(
        sa("192.0.2.30:40500"),
        sa("192.0.2.20:12000"),
        b"another student\n",
        b"ANOTHER STUDENT\n",
    );
    p.udp(sa("[::1]:50000"), sa("[::1]:12000"), REQUEST);
    p.udp(sa("[::1]:12000"), sa("[::1]:50000"), REPLY);
    assert_eq!(p.packets(), 34);
    std::fs::write(path, p.bytes()).unwrap();
}
