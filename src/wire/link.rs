//! Link layers, decoded by hand: Ethernet (with 802.1Q/802.1ad tags), Linux cooked v1 and v2
//! (any ARPHRD type, loopback 772 included), BSD loopback NULL/LOOP in both byte orders, raw IP.
//!
//! Why by hand: etherparse 0.21 has no Linux cooked v2 (LINKTYPE_LINUX_SLL2, what tshark and
//! `tcpdump -i any` write today) and no BSD loopback header, and its Linux cooked v1 refuses
//! the loopback hatype 772 that every capture of `lo` has (pinned by the test
//! `etherparse_refuses_sll_on_loopback`). Ethernet, 14 bytes and a tag loop, stays beside them
//! so that every link type follows one set of rules (an unknown EtherType, an 802.3 length).
//!
//! Contract: [`strip_link`] never panics; it returns the network-layer protocol and the bytes
//! after the link header, or an error saying why the frame cannot be decoded.

/// LINKTYPE_* values handled here.
pub(crate) mod linktype {
    pub(crate) const NULL: u32 = 0;
    pub(crate) const ETHERNET: u32 = 1;
    pub(crate) const RAW: u32 = 101;
    pub(crate) const LOOP: u32 = 108;
    pub(crate) const LINUX_SLL: u32 = 113;
    pub(crate) const IPV4: u32 = 228;
    pub(crate) const IPV6: u32 = 229;
    pub(crate) const LINUX_SLL2: u32 = 276;
    /// Raw IP as some BSDs number it (DLT_RAW 12/14).
    pub(crate) const RAW_BSD_12: u32 = 12;
    pub(crate) const RAW_BSD_14: u32 = 14;
}

/// Network-layer protocol carried by a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub(crate) enum NetProto {
    Ipv4,
    Ipv6,
    Arp,
    /// Any other EtherType.
    Ether(u16),
}

/// Why a frame's link layer could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum LinkError {
    #[error("link type {0} is not supported")]
    Unsupported(u32),
    #[error("frame too short for its {what} header ({len} bytes)")]
    Short { what: &'static str, len: usize },
    #[error("unknown loopback address family {0}")]
    Family(u32),
    #[error("802.3 frame with LLC header (no EtherType)")]
    Llc,
}

pub(crate) const ETHERTYPE_IPV4: u16 = 0x0800;
pub(crate) const ETHERTYPE_IPV6: u16 = 0x86dd;
pub(crate) const ETHERTYPE_ARP: u16 = 0x0806;

fn proto_of(ethertype: u16) -> NetProto {
    match ethertype {
        ETHERTYPE_IPV4 => NetProto::Ipv4,
        ETHERTYPE_IPV6 => NetProto::Ipv6,
        ETHERTYPE_ARP => NetProto::Arp,
        e => NetProto::Ether(e),
    }
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

/// Strips the link header of `data` captured with `link_type`.
pub(crate) fn strip_link(link_type: u32, data: &[u8]) -> Result<(NetProto, &[u8]), LinkError> {
    use linktype::*;
    let short = |what| LinkError::Short {
        what,
        len: data.len(),
    };
    match link_type {
        ETHERNET => {
            if data.len() < 14 {
                return Err(short("Ethernet"));
            }
            let mut et = be16(data, 12);
            let mut off = 14;
            // Q-in-Q may stack several tags.
            while matches!(et, 0x8100 | 0x88a8 | 0x9100) {
                if data.len() < off + 4 {
                    return Err(short("802.1Q"));
                }
                et = be16(data, off + 2);
                off += 4;
            }
            if et <= 1500 {
                return Err(LinkError::Llc);
            }
            Ok((proto_of(et), &data[off..]))
        }
        LINUX_SLL => {
            if data.len() < 16 {
                return Err(short("Linux cooked"));
            }
            Ok((proto_of(be16(data, 14)), &data[16..]))
        }
        LINUX_SLL2 => {
            if data.len() < 20 {
                return Err(short("Linux cooked v2"));
            }
            Ok((proto_of(be16(data, 0)), &data[20..]))
        }
        NULL | LOOP => {
            if data.len() < 4 {
                return Err(short("loopback"));
            }
            let le = u32::from_le_bytes([data[0], data[1], data[2], data[3]]);
            // The family is in the writer's byte order (NULL) or network order (LOOP, but some
            // writers get it wrong); families are small, so the order with a small value wins.
            let fam = if le > 0xffff { le.swap_bytes() } else { le };
            let proto = match fam {
                2 => NetProto::Ipv4,
                10 | 23 | 24 | 28 | 30 => NetProto::Ipv6,
                f => return Err(LinkError::Family(f)),
            };
            Ok((proto, &data[4..]))
        }
        RAW | RAW_BSD_12 | RAW_BSD_14 => match data.first().map(|b| b >> 4) {
            Some(4) => Ok((NetProto::Ipv4, data)),
            Some(6) => Ok((NetProto::Ipv6, data)),
            _ => Err(short("raw IP")),
        },
        IPV4 => Ok((NetProto::Ipv4, data)),
        IPV6 => Ok((NetProto::Ipv6, data)),
        other => Err(LinkError::Unsupported(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ethernet_with_two_vlan_tags() {
        let mut f = vec![0u8; 12];
        f.extend([0x88, 0xa8, 0, 1, 0x81, 0x00, 0, 2, 0x86, 0xdd, 0x60]);
        let (p, rest) = strip_link(linktype::ETHERNET, &f).unwrap();
        assert_eq!(p, NetProto::Ipv6);
        assert_eq!(rest, &[0x60]);
        assert!(strip_link(linktype::ETHERNET, &f[..15]).is_err());
    }

    #[test]
    fn etherparse_refuses_sll_on_loopback() {
        // SLL v1: pkttype 0, hatype 772 (loopback), halen 6, addr, proto IPv4.
        let mut v1 = vec![0, 0, 0x03, 0x04, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x00];
        v1.push(0x45);
        assert_eq!(strip_link(113, &v1).unwrap(), (NetProto::Ipv4, &[0x45][..]));
        // etherparse takes the same header with hatype 1 (Ethernet), not with 772.
        assert!(etherparse::LinuxSllHeaderSlice::from_slice(&v1).is_err());
        let mut ether = v1.clone();
        ether[2..4].copy_from_slice(&[0, 1]);
        assert!(etherparse::LinuxSllHeaderSlice::from_slice(&ether).is_ok());
        let mut v2 = vec![0x86, 0xdd, 0, 0, 0, 0, 0, 1, 0x03, 0x04, 0, 6];
        v2.extend([0; 8]);
        v2.push(0x60);
        assert_eq!(strip_link(276, &v2).unwrap(), (NetProto::Ipv6, &[0x60][..]));
    }

    #[test]
    fn null_and_loop_families_both_orders() {
        for fam in [2u32, 10, 23, 24, 28, 30] {
            for bytes in [fam.to_le_bytes(), fam.to_be_bytes()] {
                let mut f = bytes.to_vec();
                f.push(0x99);
                for lt in [linktype::NULL, linktype::LOOP] {
                    let (p, rest) = strip_link(lt, &f).unwrap();
                    assert_eq!(
                        p,
                        if fam == 2 {
                            NetProto::Ipv4
                        } else {
                            NetProto::Ipv6
                        }
                    );
                    assert_eq!(rest, &[0x99]);
                }
            }
        }
        assert_eq!(strip_link(0, &[7, 0, 0, 0]), Err(LinkError::Family(7)));
    }

    #[test]
    fn raw_ip_by_version_nibble() {
        assert_eq!(strip_link(101, &[0x45]).unwrap().0, NetProto::Ipv4);
        assert_eq!(strip_link(101, &[0x60]).unwrap().0, NetProto::Ipv6);
        assert!(strip_link(101, &[]).is_err());
        assert_eq!(strip_link(229, &[0x60]).unwrap().0, NetProto::Ipv6);
        assert_eq!(strip_link(9999, &[0]), Err(LinkError::Unsupported(9999)));
    }
}
