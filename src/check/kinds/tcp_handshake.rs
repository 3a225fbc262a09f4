//! `tcp_handshake` check: did a connection to the service port complete SYN, SYN-ACK, ACK?

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Sides, WireCheck};
use crate::analysis::Analysis;
use crate::check::wire::{port_summary, tcp_streams, WireGraded};
use crate::plan::{CheckCx, WireExpect};

/// `tcp_handshake` and `tcp_fin_teardown` checks. Ports come from the programs: the server's
/// port is its `wait_ready` port (or the first port placeholder in its arguments); the client is
/// whoever talks to that port (its own port is ephemeral and unknown in advance).
///
/// When the run shows that a server listened (TCP) or was bound (UDP) only on some other port
/// than the one assigned, every wire check that finds the server by its port looks for its
/// conversations there instead, and says so: one fault, the ignored port, is charged once, by
/// the `wait_ready` step, and the wire checks still judge what the programs did.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TcpPairCheck {
    /// Client program name from `programs` (used in messages).
    pub client: String,
    /// Server program name from `programs`: its port identifies the connection.
    pub server: String,
    /// Points. Default: 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<u32>,
    /// Human label for reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}
envelope!(TcpPairCheck);

/// The two programs of a `tcp_handshake` or `tcp_fin_teardown` check, checked to exist.
pub(super) fn pair(c: &TcpPairCheck, cx: &mut CheckCx<'_, '_>) -> Option<Sides<()>> {
    cx.program("client", &c.client)?;
    cx.program("server", &c.server)?;
    Some(Sides {
        server: c.server.clone(),
        client: c.client.clone(),
        plan: (),
    })
}

pub(crate) struct Kind;

impl WireCheck for Kind {
    const NAME: &'static str = "tcp_handshake";
    type Spec = TcpPairCheck;
    type Plan = ();

    fn resolve(c: &TcpPairCheck, cx: &mut CheckCx<'_, '_>) -> Option<Sides<()>> {
        pair(c, cx)
    }

    fn describe(e: &WireExpect, _: &()) -> String {
        let (c, s, p) = (&e.client, &e.server, e.port);
        format!("{c} completes a TCP handshake (SYN, SYN-ACK, ACK) with {s} on port {p}")
    }

    fn grade(e: &WireExpect, _: &(), a: &Analysis) -> WireGraded {
        grade(e, a)
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::wire::testing::*;
    use crate::plan::WireKind;

    #[test]
    fn handshake_passes_on_tcp_and_fails_with_reason_on_udp() {
        let g = grade(&expect(WireKind::TcpHandshake(())), &tcp_round_trip());
        assert!(g.passed, "{}", g.actual);
        assert_eq!(g.packets, vec![1, 2, 3]);
        let g = grade(&expect(WireKind::TcpHandshake(())), &udp_round_trip());
        assert!(!g.passed);
        assert!(g
            .reason
            .unwrap()
            .contains("2 UDP datagram(s) (packets 1, 2)"));
        let g = grade(&expect(WireKind::TcpHandshake(())), &tcp_refused());
        assert!(g.reason.unwrap().contains("answered by RST in packet 2"));
    }
}
