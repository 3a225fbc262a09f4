//! tshark-like Info column text for TCP, ICMP and IP fragments (transport level only).

use crate::wire::icmp::describe;
use crate::wire::tcp::{flags, flags_names, Tfo};
use crate::wire::{Fragment, IcmpMessage, IpPacket, TcpSegment};

/// `54164 → 12000 [SYN] Seq=0 Win=65495 Len=0 MSS=65495 SACK_PERM TSval=.. TSecr=.. WS=128`.
/// `scale` is the window shift in effect (None when unknown); `sack_base` is the peer's base
/// sequence number, as SACK edges acknowledge the peer's bytes.
pub(crate) fn tcp(
    seg: &TcpSegment<'_>,
    seq: u32,
    ack: u32,
    scale: Option<u8>,
    retransmission: bool,
    sack_base: Option<u32>,
) -> String {
    let mut s = String::with_capacity(96);
    if retransmission {
        s.push_str("[TCP Retransmission] ");
    }
    s.push_str(&format!(
        "{} → {} [{}] Seq={seq}",
        seg.src_port,
        seg.dst_port,
        flags_names(seg.flags)
    ));
    if seg.flags & flags::ACK != 0 {
        s.push_str(&format!(" Ack={ack}"));
    }
    let win = if seg.flags & flags::SYN != 0 {
        seg.window as u32
    } else {
        (seg.window as u32) << scale.unwrap_or(0)
    };
    s.push_str(&format!(" Win={win}"));
    if seg.flags & flags::URG != 0 {
        s.push_str(&format!(" Urg={}", seg.urgent));
    }
    s.push_str(&format!(" Len={}", seg.payload_len));
    let o = &seg.options;
    for kind in o.order.iter().copied().take_while(|k| *k != 0) {
        match kind {
            2 => {
                if let Some(m) = o.mss {
                    s.push_str(&format!(" MSS={m}"));
                }
            }
            3 => {
                if let Some(w) = o.window_scale {
                    s.push_str(&format!(" WS={}", 1u32 << w.min(14)));
                }
            }
            4 => s.push_str(" SACK_PERM"),
            5 => {
                let b = sack_base.unwrap_or(0);
                for (l, r) in o.sack.iter().flatten() {
                    let (l, r) = (l.wrapping_sub(b), r.wrapping_sub(b));
                    s.push_str(&format!(" SLE={l} SRE={r}"));
                }
            }
            8 => {
                if let Some((v, e)) = o.timestamps {
                    s.push_str(&format!(" TSval={v} TSecr={e}"));
                }
            }
            34 => match o.tfo {
                Some(Tfo::Request) => s.push_str(" TFO=R"),
                Some(Tfo::Cookie) => s.push_str(" TFO=C"),
                None => {}
            },
            _ => {}
        }
    }
    s
}

/// ICMP/ICMPv6 Info text, with echo identifiers and neighbor discovery targets as tshark 4.0
/// prints them.
pub(crate) fn icmp(m: &IcmpMessage, ttl: u8) -> String {
    let d = describe(m.v6, m.icmp_type, m.code);
    match m.echo.or(m.query) {
        Some((id, seq)) if m.v6 => format!("{d} id=0x{id:04x}, seq={seq}, hop limit={ttl}"),
        // `describe` pads ICMP's names to 20 characters: the identifiers follow one space on.
        Some((id, seq)) => format!(
            "{d} id=0x{id:04x}, seq={seq}/{}, ttl={ttl}",
            seq.swap_bytes()
        ),
        None => match m.nd {
            Some(nd) => neighbor(&d, m.icmp_type, nd),
            None => d,
        },
    }
}

fn neighbor(d: &str, t: u8, nd: crate::wire::icmp::NeighborDiscovery) -> String {
    // tshark names the option: a source address is "from", a target address "is at".
    let mac = nd.link_addr.map(|(kind, m)| {
        let mac = m
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":");
        format!(" {} {mac}", if kind == 1 { "from" } else { "is at" })
    });
    let mac = mac.unwrap_or_default();
    if t == 135 {
        return format!("{d} for {}{mac}", nd.target);
    }
    let names: Vec<&str> = [(0x80, "rtr"), (0x40, "sol"), (0x20, "ovr")]
        .iter()
        .filter(|(bit, _)| nd.flags & bit != 0)
        .map(|(_, n)| *n)
        .collect();
    let names = if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    };
    format!("{d} {} ({names}){mac}", nd.target)
}

/// Info text for a fragment that did not complete a datagram.
pub(crate) fn fragment(ip: &IpPacket<'_>, f: Fragment) -> String {
    if ip.is_v6() {
        format!(
            "IPv6 fragment (off={} more={} ident=0x{:08x} nxt={})",
            f.offset,
            if f.more { "y" } else { "n" },
            f.ident,
            ip.protocol
        )
    } else {
        let name = match ip.protocol {
            1 => "ICMP",
            6 => "TCP",
            17 => "UDP",
            _ => "unknown",
        };
        format!(
            "Fragmented IP protocol (proto={name} {}, off={}, ID={:04x})",
            ip.protocol, f.offset, f.ident
        )
    }
}
