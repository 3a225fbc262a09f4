//! `no_tcp_handshake` check: no connection to the service port completed a handshake.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Sides, WireCheck};
use crate::analysis::Analysis;
use crate::check::wire::{packets_phrase, port_summary, tcp_streams, WireGraded};
use crate::plan::{CheckCx, WireExpect};

/// `no_tcp_handshake` and `icmp_port_unreachable` checks.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct WirePortCheck {
    /// Program name: a server's port (its `wait_ready` port), or the port a client sends to
    /// (the first port placeholder in its arguments).
    pub program: String,
    /// Points. Default: 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<u32>,
    /// Human label for reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}
envelope!(WirePortCheck);

/// The program of a `no_tcp_handshake` or `icmp_port_unreachable` check, whose port is both
/// sides of it.
pub(super) fn at_program(c: &WirePortCheck, cx: &mut CheckCx<'_, '_>) -> Option<Sides<()>> {
    cx.program("program", &c.program)?;
    Some(Sides {
        server: c.program.clone(),
        client: c.program.clone(),
        plan: (),
    })
}

pub(crate) struct Kind;

impl WireCheck for Kind {
    const NAME: &'static str = "no_tcp_handshake";
    type Spec = WirePortCheck;
    type Plan = ();

    fn resolve(c: &WirePortCheck, cx: &mut CheckCx<'_, '_>) -> Option<Sides<()>> {
        at_program(c, cx)
    }

    fn describe(e: &WireExpect, _: &()) -> String {
        format!("no TCP handshake completes on port {}", e.port)
    }

    fn grade(e: &WireExpect, _: &(), a: &Analysis) -> WireGraded {
        grade(e, a)
    }
}

/// Passes when no connection to the port completed its handshake.
pub(crate) fn grade(e: &WireExpect, a: &Analysis) -> WireGraded {
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
    use super::*;
    use crate::check::wire::testing::*;
    use crate::plan::WireKind;

    #[test]
    fn no_handshake_fails_when_one_completed() {
        assert!(grade(&expect(WireKind::NoTcpHandshake(())), &udp_round_trip()).passed);
        assert!(grade(&expect(WireKind::NoTcpHandshake(())), &tcp_refused()).passed);
        let g = grade(&expect(WireKind::NoTcpHandshake(())), &tcp_round_trip());
        assert!(!g.passed);
        assert_eq!(g.packets, vec![1, 2, 3]);
    }
}
