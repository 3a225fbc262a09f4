//! `tcp_refused` check: the client's SYN answered by RST (connect() → ECONNREFUSED). Judged
//! wherever the client connected: a client that ignores its assigned port and is refused on
//! another one still shows the behaviour asked about, and the port rule is the steps' to judge.
//! (In a run the capture holds only the scenario's programs; in `socklab verify`, only the
//! conversations of the server the roles picked.)

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Sides, WireCheck};
use crate::analysis::{Analysis, TcpStream};
use crate::check::wire::{port_summary, WireGraded};
use crate::plan::{CheckCx, WireExpect};

/// `tcp_refused` check.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TcpRefusedCheck {
    /// Client program name: the port it is given (the first port placeholder in its arguments)
    /// is where its SYN should go; a SYN refused on another port counts too, and the result
    /// names that port.
    pub client: String,
    /// Points. Default: 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<u32>,
    /// Human label for reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}
envelope!(TcpRefusedCheck);

pub(crate) struct Kind;

impl WireCheck for Kind {
    const NAME: &'static str = "tcp_refused";
    const FOLLOWS_MOVED_SERVER: bool = false;
    type Spec = TcpRefusedCheck;
    type Plan = ();

    fn resolve(c: &TcpRefusedCheck, cx: &mut CheckCx<'_, '_>) -> Option<Sides<()>> {
        cx.program("client", &c.client)?;
        Some(Sides {
            server: c.client.clone(),
            client: c.client.clone(),
            plan: (),
        })
    }

    fn describe(e: &WireExpect, _: &()) -> String {
        format!("{}'s SYN to port {} is answered by RST", e.client, e.port)
    }

    fn grade(e: &WireExpect, _: &(), a: &Analysis) -> WireGraded {
        grade(e, a)
    }
}

pub(crate) fn grade(e: &WireExpect, a: &Analysis) -> WireGraded {
    // The given port first, so that a refusal there is the one cited.
    let on_port = a.streams_to_port(e.port);
    let elsewhere = a.tcp_streams.iter().filter(|s| s.server.port != e.port);
    let streams: Vec<&TcpStream> = on_port.chain(elsewhere).collect();
    if let Some(s) = streams.iter().find(|s| s.refused()) {
        let (syn, rst) = (
            s.handshake.syn.unwrap_or(0),
            s.to_client.rst_packet.unwrap_or(0),
        );
        let mut actual = format!("SYN in packet {syn} answered by RST in packet {rst}");
        if s.server.port != e.port {
            actual.push_str(&format!(
                " (on port {}, where {} connected instead of port {})",
                s.server.port, e.client, e.port
            ));
        }
        return WireGraded::pass(actual, vec![syn, rst]);
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
                s.server.port
            ),
            nums,
        );
    }
    let summary = port_summary(a, e.port);
    WireGraded::fail(
        summary.clone(),
        format!(
            "no SYN answered by RST on port {} or any other: {summary}",
            e.port
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
    fn refused_cites_syn_and_rst() {
        let g = grade(&expect(WireKind::TcpRefused(())), &tcp_refused());
        assert!(g.passed);
        assert_eq!(g.actual, "SYN in packet 1 answered by RST in packet 2");
        let g = grade(&expect(WireKind::TcpRefused(())), &tcp_round_trip());
        assert!(!g.passed);
        assert!(g.actual.contains("SYN-ACK in packet 2"));
    }

    /// Regression: a client that hard-codes port 12000, started before any server, was refused
    /// on 12000, and failed "client before server" as well as the port rule.
    #[test]
    fn a_refusal_on_another_port_than_the_assigned_one_counts_and_says_where() {
        let g = grade(&expect(WireKind::TcpRefused(())), &tcp_refused_on(12_000));
        assert!(g.passed, "{:?}", g.reason);
        assert_eq!(
            g.actual,
            format!(
                "SYN in packet 1 answered by RST in packet 2 (on port 12000, where client \
                 connected instead of port {SERVER})"
            )
        );
        let g = grade(
            &expect(WireKind::TcpRefused(())),
            &tcp_exchange(12_000, b"a", b"A"),
        );
        assert!(!g.passed);
        assert_eq!(
            g.reason.as_deref(),
            Some("the connection to port 12000 was not refused: something listened there")
        );
        let g = grade(&expect(WireKind::TcpRefused(())), &udp_round_trip());
        assert!(g.reason.unwrap().starts_with(&format!(
            "no SYN answered by RST on port {SERVER} or any other: on port {SERVER} the capture holds 2 UDP"
        )));
    }
}
