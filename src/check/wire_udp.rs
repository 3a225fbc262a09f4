//! `udp_datagrams` check: how many datagrams went one way on the port, and what one held.

use super::wire::{packets_phrase, udp_flows, WireGraded};
use crate::analysis::escape::escape_bytes;
use crate::analysis::Analysis;
use crate::check::shorten;
use crate::plan::WireExpect;

pub(crate) fn grade(
    e: &WireExpect,
    a: &Analysis,
    to_server: bool,
    count: Option<u64>,
    contains: Option<&str>,
) -> WireGraded {
    let (from, to) = if to_server {
        (&e.client, &e.server)
    } else {
        (&e.server, &e.client)
    };
    let mut numbers = Vec::new();
    let mut payloads: Vec<(u64, &[u8])> = Vec::new();
    let mut total = 0;
    for f in udp_flows(a, e.port) {
        // `a` sent the flow's first datagram; the server is whichever side has the port.
        let a_is_server = f.a.port == e.port && f.b.port != e.port;
        let forward = a_is_server != to_server;
        let dir = if forward { &f.a_to_b } else { &f.b_to_a };
        total += dir.datagrams;
        numbers.extend(
            f.packets
                .iter()
                .filter(|p| p.forward == forward)
                .map(|p| p.number),
        );
        payloads.extend(
            dir.payloads
                .iter()
                .map(|d| (d.packet, d.payload.as_slice())),
        );
    }
    numbers.sort_unstable();
    let first_text = payloads
        .first()
        .map(|(_, p)| {
            format!(
                ", the first holding \"{}\"",
                shorten(&escape_bytes(p, false), 80)
            )
        })
        .unwrap_or_default();
    let actual = if total == 0 {
        format!("no UDP datagram from {from} to {to} on port {}", e.port)
    } else {
        format!(
            "{total} UDP datagram(s) from {from} to {to} in {}{first_text}",
            packets_phrase(&numbers)
        )
    };
    let count_ok = match count {
        Some(n) => total == n,
        None => total > 0,
    };
    if !count_ok {
        let want = count.map_or("at least one".to_string(), |n| format!("exactly {n}"));
        return WireGraded::fail(
            actual.clone(),
            format!("expected {want}; {actual}"),
            numbers,
        );
    }
    if let Some(text) = contains {
        match payloads
            .iter()
            .find(|(_, p)| p.windows(text.len().max(1)).any(|w| w == text.as_bytes()))
        {
            Some((packet, _)) => {
                return WireGraded::pass(format!("{actual}; {text:?} in packet {packet}"), numbers)
            }
            None => {
                return WireGraded::fail(
                    actual.clone(),
                    format!("no datagram from {from} to {to} contains {text:?}; {actual}"),
                    numbers,
                )
            }
        }
    }
    WireGraded::pass(actual, numbers)
}

#[cfg(test)]
mod tests {
    use super::super::wire::testing::*;
    use super::*;
    use crate::plan::WireKind;

    fn k() -> WireExpect {
        expect(WireKind::UdpDatagrams {
            to_server: true,
            count: Some(1),
            contains: None,
        })
    }

    #[test]
    fn counts_each_way_and_finds_text() {
        let a = udp_round_trip();
        let g = grade(&k(), &a, true, Some(1), Some("hello"));
        assert!(g.passed, "{}", g.actual);
        assert_eq!(g.packets, vec![1]);
        let g = grade(&k(), &a, false, Some(1), Some("HELLO"));
        assert_eq!(g.packets, vec![2]);
        assert!(!grade(&k(), &a, false, Some(1), Some("hello")).passed);
        let g = grade(&k(), &tcp_round_trip(), true, None, None);
        assert!(!g.passed);
        assert!(g.reason.unwrap().contains("at least one"));
    }
}
