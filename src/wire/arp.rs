//! ARP over Ethernet for IPv4 (RFC 826), the one kind a topology's hosts send: who has this
//! address, and the answer that gives its MAC. By hand: 28 fixed bytes, and etherparse's ARP
//! support does not cover the Ethernet-to-IPv4 fields by name. Never panics.

use std::net::Ipv4Addr;

/// An ARP request or reply for IPv4 over Ethernet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Arp {
    /// 1: request ("who has"), 2: reply ("is at").
    pub op: u16,
    pub sender_mac: [u8; 6],
    pub sender_ip: Ipv4Addr,
    pub target_mac: [u8; 6],
    pub target_ip: Ipv4Addr,
}

pub(crate) const ARP_REQUEST: u16 = 1;
pub(crate) const ARP_REPLY: u16 = 2;

/// The ARP message at the start of `d` (the frame after its Ethernet header), if it is one for
/// IPv4 over Ethernet.
pub(crate) fn parse_arp(d: &[u8]) -> Option<Arp> {
    let b = d.get(..28)?;
    let be16 = |at: usize| u16::from_be_bytes([b[at], b[at + 1]]);
    // Hardware Ethernet (1), protocol IPv4, 6-byte and 4-byte addresses.
    if be16(0) != 1 || be16(2) != 0x0800 || b[4] != 6 || b[5] != 4 {
        return None;
    }
    let mac = |at: usize| -> [u8; 6] { b[at..at + 6].try_into().unwrap_or_default() };
    let ip = |at: usize| Ipv4Addr::new(b[at], b[at + 1], b[at + 2], b[at + 3]);
    Some(Arp {
        op: be16(6),
        sender_mac: mac(8),
        sender_ip: ip(14),
        target_mac: mac(18),
        target_ip: ip(24),
    })
}

/// `02:53:4c:00:00:01`, as tshark prints a MAC address.
pub(crate) fn mac_text(mac: &[u8; 6]) -> String {
    mac.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

impl Arp {
    /// tshark's Info column: `Who has 192.0.2.1? Tell 192.0.2.2`, `192.0.2.1 is at 02:...`.
    pub(crate) fn info(&self) -> String {
        match self.op {
            ARP_REQUEST => format!("Who has {}? Tell {}", self.target_ip, self.sender_ip),
            ARP_REPLY => format!("{} is at {}", self.sender_ip, mac_text(&self.sender_mac)),
            op => format!("ARP opcode {op}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The request socklab's client host sends, as the capture holds it after the Ethernet
    /// header.
    const REQUEST: [u8; 28] = [
        0, 1, 8, 0, 6, 4, 0, 1, 2, 0x53, 0x4c, 0, 0, 2, 192, 0, 2, 2, 0, 0, 0, 0, 0, 0, 192, 0, 2,
        1,
    ];

    #[test]
    fn a_request_and_its_fields_are_read() {
        let a = parse_arp(&REQUEST).unwrap();
        assert_eq!(a.op, ARP_REQUEST);
        assert_eq!(mac_text(&a.sender_mac), "02:53:4c:00:00:02");
        assert_eq!(a.sender_ip, Ipv4Addr::new(192, 0, 2, 2));
        assert_eq!(a.target_ip, Ipv4Addr::new(192, 0, 2, 1));
        assert_eq!(a.info(), "Who has 192.0.2.1? Tell 192.0.2.2");
    }

    #[test]
    fn short_or_foreign_arp_is_none_and_never_panics() {
        assert_eq!(parse_arp(&REQUEST[..27]), None);
        let mut v6 = REQUEST;
        v6[3] = 0xdd;
        assert_eq!(parse_arp(&v6), None);
        for n in 0..REQUEST.len() {
            let _ = parse_arp(&REQUEST[..n]);
        }
    }
}
