//! `tcp_handshake` and `no_tcp_handshake` checks: did a connection to the service port
//! complete SYN, SYN-ACK, ACK?

use super::wire::{packets_phrase, port_summary, tcp_streams, WireGraded};
use crate::analysis::Analysis;
use crate::plan::WireExpect;

/// Passes when some connection to the port completed its handshake.
pub(crate) fn grade(e: &WireExpect, a: &Analysis) -> WireGraded {
    let streams = tcp_streams(a, e.port);
    if let Some(s) = streams.iter().find(|s| s.handshake.completed) {
        let h = s.handshake;
        let nums: Vec<u64> = [h.syn, h.syn_ack, h.ack].into_iter().flatten().collect();
        return WireGraded::pass(
            format!(
                "SYN in packet {}, SYN-ACK in packet {}, ACK in packet {} ({} → {})",
                h.syn.unwrap_or(0),
                h.syn_ack.unwrap_or(0),
                h.ack.unwrap_or(0),
                s.client,
                s.server
            ),
            nums,
        );
    }
    if let Some(s) = streams.iter().find(|s| s.refused()) {
        let nums: Vec<u64> = [s.handshake.syn, s.to_client.rst_packet]
            .into_iter()
            .flatten()
            .collect();
        let actual = format!(
            "the SYN in packet {} was answered by RST in packet {}",
            s.handshake.syn.unwrap_or(0),
            s.to_client.rst_packet.unwrap_or(0)
        );
        let reason = format!(
            "no TCP handshake on port {}: {actual}, so nothing listened there",
            e.port
        );
        return WireGraded::fail(actual, reason, nums);
    }
    let summary = port_summary(a, e.port);
    WireGraded::fail(
        summary.clone(),
        format!(
            "no TCP handshake between {} and {} on port {}: {summary}",
            e.client, e.server, e.port
        ),
        streams.iter().map(|s| s.first_packet).collect(),
    )
}

/// Passes when no connection to the port completed its handshake.
pub(crate) fn grade_none(e: &WireExpect, a: &Analysis) -> WireGraded {
    let streams = tcp_streams(a, e.port);
    match streams.iter().find(|s| s.handshake.completed) {
        Some(s) => {
            let h = s.handshake;
            let nums: Vec<u64> = [h.syn, h.syn_ack, h.ack].into_iter().flatten().collect();
            let actual = format!("a TCP handshake completed in {}", packets_phrase(&nums));
            WireGraded::fail(
                actual.clone(),
                format!("{actual} ({} → {})", s.client, s.server),
                nums,
            )
        }
        None => {
            let syns: Vec<u64> = streams.iter().filter_map(|s| s.handshake.syn).collect();
            let actual = if syns.is_empty() {
                format!(
                    "no TCP handshake on port {}: {}",
                    e.port,
                    port_summary(a, e.port)
                )
            } else {
                format!(
                    "SYN in {} but no handshake completed on port {}",
                    packets_phrase(&syns),
                    e.port
                )
            };
            WireGraded::pass(actual, syns)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::wire::testing::*;
    use super::*;
    use crate::plan::WireKind;

    #[test]
    fn handshake_passes_on_tcp_and_fails_with_reason_on_udp() {
        let g = grade(&expect(WireKind::TcpHandshake), &tcp_round_trip());
        assert!(g.passed, "{}", g.actual);
        assert_eq!(g.packets, vec![1, 2, 3]);
        let g = grade(&expect(WireKind::TcpHandshake), &udp_round_trip());
        assert!(!g.passed);
        assert!(g
            .reason
            .unwrap()
            .contains("2 UDP datagram(s) (packets 1, 2)"));
        let g = grade(&expect(WireKind::TcpHandshake), &tcp_refused());
        assert!(g.reason.unwrap().contains("answered by RST in packet 2"));
    }

    #[test]
    fn no_handshake_fails_when_one_completed() {
        assert!(grade_none(&expect(WireKind::NoTcpHandshake), &udp_round_trip()).passed);
        assert!(grade_none(&expect(WireKind::NoTcpHandshake), &tcp_refused()).passed);
        let g = grade_none(&expect(WireKind::NoTcpHandshake), &tcp_round_trip());
        assert!(!g.passed);
        assert_eq!(g.packets, vec![1, 2, 3]);
    }
}
