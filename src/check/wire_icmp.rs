//! `icmp_port_unreachable` check: a datagram to the port was answered by ICMP port
//! unreachable (which an unconnected UDP socket never reports to the program).

use super::wire::{port_summary, WireGraded};
use crate::analysis::{Analysis, FlowRef};
use crate::plan::WireExpect;

pub(crate) fn grade(e: &WireExpect, a: &Analysis) -> WireGraded {
    let hit = a.icmp_errors.iter().find(|x| {
        x.is_port_unreachable()
            && x.quoted
                .and_then(|q| q.ports)
                .is_some_and(|(_, dst)| dst == e.port)
    });
    let Some(icmp) = hit else {
        let summary = port_summary(a, e.port);
        return WireGraded::fail(
            summary.clone(),
            format!("no ICMP port unreachable for port {}: {summary}", e.port),
            Vec::new(),
        );
    };
    // The quoted datagram is the last one of its flow sent before the error.
    let quoted = match icmp.matched {
        Some(FlowRef::Udp { flow }) => a
            .udp_flows
            .iter()
            .find(|f| f.index == flow)
            .and_then(|f| f.packets.iter().rev().find(|p| p.number < icmp.packet))
            .map(|p| p.number),
        _ => None,
    };
    match quoted {
        Some(d) => WireGraded::pass(
            format!(
                "the datagram in packet {d} was answered by ICMP port unreachable in packet {}",
                icmp.packet
            ),
            vec![d, icmp.packet],
        ),
        None => WireGraded::pass(
            format!(
                "ICMP port unreachable for port {} in packet {}",
                e.port, icmp.packet
            ),
            vec![icmp.packet],
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::super::wire::testing::*;
    use super::*;
    use crate::plan::WireKind;

    #[test]
    fn finds_port_unreachable_and_its_datagram() {
        let g = grade(&expect(WireKind::IcmpPortUnreachable), &udp_unreachable());
        assert!(g.passed, "{}", g.actual);
        assert_eq!(g.packets, vec![1, 2]);
        assert!(!grade(&expect(WireKind::IcmpPortUnreachable), &udp_round_trip()).passed);
    }
}
