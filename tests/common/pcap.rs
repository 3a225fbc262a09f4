//! Synthetic captures for the integration tests: a classic pcap (Ethernet, microseconds) of
//! IPv4 or IPv6 packets carrying TCP or UDP, built by the shared [`testkit`](super::testkit)
//! (etherparse's packets, pcap-file's writer), so that socklab and tshark read them as they
//! would a capture from Wireshark or tcpdump.

use std::net::SocketAddr;

use super::testkit::{self, Capture, Link};

/// A capture being built; each packet comes 1 ms after the previous one.
pub struct Pcap {
    capture: Capture,
}

impl Default for Pcap {
    fn default() -> Self {
        Self::new()
    }
}

impl Pcap {
    pub fn new() -> Pcap {
        Pcap {
            capture: Capture::new(Link::Ethernet).snaplen(65_535),
        }
    }

    pub fn bytes(&self) -> Vec<u8> {
        self.capture.pcap()
    }

    pub fn packets(&self) -> u32 {
        self.capture.len() as u32
    }

    /// One TCP segment; `flags` as in the header's low byte.
    pub fn tcp(
        &mut self,
        src: SocketAddr,
        dst: SocketAddr,
        seq: u32,
        ack: u32,
        flags: u8,
        data: &[u8],
    ) {
        self.capture
            .push(&testkit::tcp(src, dst, seq, ack, u16::from(flags), data));
    }

    /// One UDP datagram.
    pub fn udp(&mut self, src: SocketAddr, dst: SocketAddr, data: &[u8]) {
        self.capture.push(&testkit::udp(src, dst, data));
    }

    /// A whole TCP exchange: handshake, `request`, `reply`, a FIN each way (10 packets).
    pub fn tcp_exchange(
        &mut self,
        client: SocketAddr,
        server: SocketAddr,
        request: &[u8],
        reply: &[u8],
    ) {
        for p in testkit::tcp_exchange(client, server, request, reply) {
            self.capture.push(&p);
        }
    }
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
