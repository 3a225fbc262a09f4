//! `icmp_port_unreachable` check: a datagram was answered by ICMP port unreachable (which an
//! unconnected UDP socket never reports to the program). Like `tcp_refused`, judged wherever
//! the client sent it, the check's port first: the port rule is the steps' to judge.

use super::no_tcp_handshake::{at_program, WirePortCheck};
use super::{Sides, WireCheck};
use crate::analysis::{Analysis, FlowRef, IcmpErrorRecord, UdpFlow};
use crate::check::wire::{port_summary, WireGraded};
use crate::plan::{CheckCx, WireExpect};

pub(crate) struct Kind;

impl WireCheck for Kind {
    const NAME: &'static str = "icmp_port_unreachable";
    const FOLLOWS_MOVED_SERVER: bool = false;
    type Spec = WirePortCheck;
    type Plan = ();

    fn resolve(c: &WirePortCheck, cx: &mut CheckCx<'_, '_>) -> Option<Sides<()>> {
        at_program(c, cx)
    }

    fn describe(e: &WireExpect, _: &()) -> String {
        format!(
            "a datagram to port {} is answered by ICMP port unreachable",
            e.port
        )
    }

    fn grade(e: &WireExpect, _: &(), a: &Analysis) -> WireGraded {
        grade(e, a)
    }
}

pub(crate) fn grade(e: &WireExpect, a: &Analysis) -> WireGraded {
    let unreachable: Vec<(&IcmpErrorRecord, u16)> = a
        .icmp_errors
        .iter()
        .filter(|x| x.is_port_unreachable())
        .filter_map(|x| x.quoted.and_then(|q| q.ports).map(|(_, dst)| (x, dst)))
        .filter(|(x, dst)| *dst == e.port || to_a_server(a, x, *dst))
        .collect();
    let hit = unreachable
        .iter()
        .find(|(_, dst)| *dst == e.port)
        .or(unreachable.first());
    let Some(&(icmp, port)) = hit else {
        let summary = port_summary(a, e.port);
        return WireGraded::fail(
            summary.clone(),
            format!("no ICMP port unreachable for port {}: {summary}", e.port),
            Vec::new(),
        );
    };
    let elsewhere = if port == e.port {
        String::new()
    } else {
        format!(" (it went to port {port}, not to port {})", e.port)
    };
    // The quoted datagram is the last one of its flow sent before the error.
    let quoted = flow_of(a, icmp)
        .and_then(|f| f.packets.iter().rev().find(|p| p.number < icmp.packet))
        .map(|p| p.number);
    match quoted {
        Some(d) => WireGraded::pass(
            format!(
                "the datagram in packet {d} was answered by ICMP port unreachable in packet {}{elsewhere}",
                icmp.packet
            ),
            vec![d, icmp.packet],
        ),
        None => WireGraded::pass(
            format!(
                "ICMP port unreachable for port {port} in packet {}{elsewhere}",
                icmp.packet
            ),
            vec![icmp.packet],
        ),
    }
}

/// Whether the datagram an error quotes went to the receiver of its flow's first datagram (a
/// client's request to a server port), not back to a client (a reply to a client that left).
fn to_a_server(a: &Analysis, x: &IcmpErrorRecord, dst: u16) -> bool {
    match x.matched {
        Some(FlowRef::Udp { .. }) => flow_of(a, x).is_some_and(|f| f.b.port == dst),
        _ => true,
    }
}

/// The UDP flow of the datagram an error quotes, when the capture holds it.
fn flow_of<'a>(a: &'a Analysis, x: &IcmpErrorRecord) -> Option<&'a UdpFlow> {
    match x.matched {
        Some(FlowRef::Udp { flow }) => a.udp_flows.iter().find(|f| f.index == flow),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::wire::testing::*;
    use crate::plan::WireKind;

    #[test]
    fn finds_port_unreachable_and_its_datagram() {
        let g = grade(
            &expect(WireKind::IcmpPortUnreachable(())),
            &udp_unreachable(),
        );
        assert!(g.passed, "{}", g.actual);
        assert_eq!(g.packets, vec![1, 2]);
        assert!(
            !grade(
                &expect(WireKind::IcmpPortUnreachable(())),
                &udp_round_trip()
            )
            .passed
        );
    }

    #[test]
    fn a_datagram_refused_on_another_port_counts_and_says_where() {
        let g = grade(
            &expect(WireKind::IcmpPortUnreachable(())),
            &udp_unreachable_on(12_000),
        );
        assert!(g.passed, "{:?}", g.reason);
        assert_eq!(
            g.actual,
            format!(
                "the datagram in packet 1 was answered by ICMP port unreachable in packet 2 \
                 (it went to port 12000, not to port {SERVER})"
            )
        );
    }

    #[test]
    fn a_reply_that_finds_its_client_gone_is_no_refused_request() {
        let g = grade(
            &expect(WireKind::IcmpPortUnreachable(())),
            &udp_reply_to_a_gone_client(),
        );
        assert!(!g.passed, "{}", g.actual);
    }
}
