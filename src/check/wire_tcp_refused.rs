//! `tcp_refused` check: a SYN to the port answered by RST (connect() → ECONNREFUSED).

use super::wire::{port_summary, tcp_streams, WireGraded};
use crate::analysis::Analysis;
use crate::plan::WireExpect;

pub(crate) fn grade(e: &WireExpect, a: &Analysis) -> WireGraded {
    let streams = tcp_streams(a, e.port);
    if let Some(s) = streams.iter().find(|s| s.refused()) {
        let (syn, rst) = (
            s.handshake.syn.unwrap_or(0),
            s.to_client.rst_packet.unwrap_or(0),
        );
        return WireGraded::pass(
            format!("SYN in packet {syn} answered by RST in packet {rst}"),
            vec![syn, rst],
        );
    }
    if let Some(s) = streams.iter().find(|s| s.handshake.completed) {
        let h = s.handshake;
        let nums: Vec<u64> = [h.syn, h.syn_ack].into_iter().flatten().collect();
        return WireGraded::fail(
            format!(
                "the SYN in packet {} was accepted with SYN-ACK in packet {}",
                h.syn.unwrap_or(0),
                h.syn_ack.unwrap_or(0)
            ),
            format!(
                "the connection to port {} was not refused: something listened there",
                e.port
            ),
            nums,
        );
    }
    let summary = port_summary(a, e.port);
    WireGraded::fail(
        summary.clone(),
        format!("no SYN answered by RST on port {}: {summary}", e.port),
        streams.iter().map(|s| s.first_packet).collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::super::wire::testing::*;
    use super::*;
    use crate::plan::WireKind;

    #[test]
    fn refused_cites_syn_and_rst() {
        let g = grade(&expect(WireKind::TcpRefused), &tcp_refused());
        assert!(g.passed);
        assert_eq!(g.actual, "SYN in packet 1 answered by RST in packet 2");
        let g = grade(&expect(WireKind::TcpRefused), &tcp_round_trip());
        assert!(!g.passed);
        assert!(g.actual.contains("SYN-ACK in packet 2"));
    }
}
