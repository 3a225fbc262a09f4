//! Frames (raw IPv4, link type 101) and pcap files for the analysis tests, built by the shared
//! [`testkit`](crate::testkit).

use std::net::SocketAddr;
use std::time::Duration;

use super::RetirePolicy;
use crate::testkit::{self, Capture, Link};
use crate::wire::tcp::flags::*;

/// Holds two closed and two open flows at most: far from tshark-safe in general, but no public
/// capture goes back to a flow that many flows later, so retirement is exercised on every one
/// of them.
pub(crate) fn early_retirement() -> RetirePolicy {
    RetirePolicy {
        max_closed: 2,
        max_open: 2,
    }
}

pub(crate) const C: [u8; 4] = [10, 0, 0, 1];
pub(crate) const S: [u8; 4] = [10, 0, 0, 2];

fn at(addr: [u8; 4], port: u16) -> SocketAddr {
    SocketAddr::from((addr, port))
}

/// An IPv4 packet of `proto` carrying `payload` (a transport built by hand).
pub(crate) fn ipv4(src: [u8; 4], dst: [u8; 4], proto: u8, payload: &[u8]) -> Vec<u8> {
    testkit::ip(src.into(), dst.into(), proto, payload)
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn tcp(
    src: [u8; 4],
    dst: [u8; 4],
    sp: u16,
    dp: u16,
    seq: u32,
    ack: u32,
    fl: u16,
    data: &[u8],
) -> Vec<u8> {
    testkit::tcp(at(src, sp), at(dst, dp), seq, ack, fl, data)
}

pub(crate) fn udp(src: [u8; 4], dst: [u8; 4], sp: u16, dp: u16, data: &[u8]) -> Vec<u8> {
    testkit::udp(at(src, sp), at(dst, dp), data)
}

/// SYN, SYN-ACK, ACK, "ping", "pong", FIN each way, last ACK: from `C`:`port` to `S`:80.
pub(crate) fn full_connection(client_isn: u32, port: u16) -> Vec<Vec<u8>> {
    connection(C, client_isn, port)
}

/// [`full_connection`] from another client address.
pub(crate) fn connection(client: [u8; 4], client_isn: u32, port: u16) -> Vec<Vec<u8>> {
    let (c, s) = (client_isn, 5000u32);
    vec![
        tcp(client, S, port, 80, c, 0, SYN, b""),
        tcp(S, client, 80, port, s, c + 1, SYN | ACK, b""),
        tcp(client, S, port, 80, c + 1, s + 1, ACK, b""),
        tcp(client, S, port, 80, c + 1, s + 1, PSH | ACK, b"ping"),
        tcp(S, client, 80, port, s + 1, c + 5, PSH | ACK, b"pong"),
        tcp(client, S, port, 80, c + 5, s + 5, FIN | ACK, b""),
        tcp(S, client, 80, port, s + 5, c + 6, FIN | ACK, b""),
        tcp(client, S, port, 80, c + 6, s + 6, ACK, b""),
    ]
}

/// A pcap of raw IP `frames`, `gap` apart.
pub(crate) fn raw_pcap(frames: &[Vec<u8>], gap: Duration) -> Vec<u8> {
    let mut cap = Capture::new(Link::Raw).step(gap);
    for f in frames {
        cap.push(f);
    }
    cap.pcap()
}
