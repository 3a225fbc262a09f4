//! Hand-built frames (raw IPv4, link type 101) and pcap files for tests.

use super::RetirePolicy;
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

pub(crate) fn ipv4(src: [u8; 4], dst: [u8; 4], proto: u8, payload: &[u8]) -> Vec<u8> {
    let total = ((20 + payload.len()) as u16).to_be_bytes();
    let mut p = vec![0x45, 0, total[0], total[1], 0, 1, 0x40, 0, 64, proto, 0, 0];
    p.extend(src);
    p.extend(dst);
    p.extend(payload);
    p
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
    let mut t = Vec::new();
    t.extend(sp.to_be_bytes());
    t.extend(dp.to_be_bytes());
    t.extend(seq.to_be_bytes());
    t.extend(ack.to_be_bytes());
    t.push(0x50);
    t.push(fl as u8);
    t.extend([0xff, 0xff, 0, 0, 0, 0]);
    t.extend(data);
    ipv4(src, dst, 6, &t)
}

pub(crate) fn udp(src: [u8; 4], dst: [u8; 4], sp: u16, dp: u16, data: &[u8]) -> Vec<u8> {
    let mut u = Vec::new();
    u.extend(sp.to_be_bytes());
    u.extend(dp.to_be_bytes());
    u.extend(((8 + data.len()) as u16).to_be_bytes());
    u.extend([0, 0]);
    u.extend(data);
    ipv4(src, dst, 17, &u)
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

/// The header of a little-endian, microsecond pcap of raw IP frames.
pub(crate) fn pcap_header() -> [u8; 24] {
    let mut h = [0u8; 24];
    h[..4].copy_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    h[4..6].copy_from_slice(&2u16.to_le_bytes());
    h[6..8].copy_from_slice(&4u16.to_le_bytes());
    h[16..20].copy_from_slice(&65535u32.to_le_bytes());
    h[20..24].copy_from_slice(&101u32.to_le_bytes());
    h
}

/// Appends one pcap record at `us` microseconds.
pub(crate) fn pcap_record(out: &mut Vec<u8>, us: u64, frame: &[u8]) {
    out.extend(((us / 1_000_000) as u32).to_le_bytes());
    out.extend(((us % 1_000_000) as u32).to_le_bytes());
    out.extend((frame.len() as u32).to_le_bytes());
    out.extend((frame.len() as u32).to_le_bytes());
    out.extend(frame);
}
