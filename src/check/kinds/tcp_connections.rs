//! `tcp_connections` check: how many TCP connections went to the port (a caching proxy opens
//! one to the origin for two requests of the same object).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Sides, WireCheck};
use crate::analysis::Analysis;
use crate::check::wire::{tcp_streams, WireGraded};
use crate::plan::{CheckCx, WireExpect};

/// `tcp_connections` check: at least one of `count`, `min`, `max`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TcpConnectionsCheck {
    /// Program name whose port is counted (see `no_tcp_handshake`).
    pub program: String,
    /// Exact number of connections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// At least this many connections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<u64>,
    /// At most this many connections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<u64>,
    /// Points. Default: 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<u32>,
    /// Human label for reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}
envelope!(TcpConnectionsCheck);

/// The resolved bounds (`count` is both).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Plan {
    pub min: Option<u64>,
    pub max: Option<u64>,
}

pub(crate) struct Kind;

impl WireCheck for Kind {
    const NAME: &'static str = "tcp_connections";
    type Spec = TcpConnectionsCheck;
    type Plan = Plan;

    fn resolve(c: &TcpConnectionsCheck, cx: &mut CheckCx<'_, '_>) -> Option<Sides<Plan>> {
        cx.program("program", &c.program)?;
        let (min, max) = match (c.count, c.min, c.max) {
            (Some(n), None, None) => (Some(n), Some(n)),
            (None, Some(lo), Some(hi)) if lo > hi => {
                cx.error(
                    None,
                    format!("`min` {lo} is above `max` {hi}: no count can satisfy both"),
                    None,
                );
                return None;
            }
            (None, min, max) if min.is_some() || max.is_some() => (min, max),
            _ => {
                cx.error(
                    None,
                    "give `count`, or `min` and/or `max`",
                    Some("e.g. `\"count\": 1` for one connection to the origin"),
                );
                return None;
            }
        };
        Some(Sides {
            server: c.program.clone(),
            client: c.program.clone(),
            plan: Plan { min, max },
        })
    }

    fn describe(e: &WireExpect, p: &Plan) -> String {
        let n = match (p.min, p.max) {
            (Some(a), Some(b)) if a == b => format!("exactly {a}"),
            (Some(a), Some(b)) => format!("{a} to {b}"),
            (Some(a), None) => format!("at least {a}"),
            (None, Some(b)) => format!("at most {b}"),
            (None, None) => "any number of".into(),
        };
        format!("{n} TCP connection(s) to {}'s port {}", e.server, e.port)
    }

    fn grade(e: &WireExpect, p: &Plan, a: &Analysis) -> WireGraded {
        grade(e, a, p.min, p.max)
    }
}

/// Connections listed by name in `actual`; more are counted.
const LISTED: usize = 4;

pub(crate) fn grade(
    e: &WireExpect,
    a: &Analysis,
    min: Option<u64>,
    max: Option<u64>,
) -> WireGraded {
    let streams = tcp_streams(a, e.port);
    let first: Vec<u64> = streams
        .iter()
        .map(|s| s.handshake.syn.unwrap_or(s.first_packet))
        .collect();
    let n = first.len() as u64;
    let whose = if e.server == e.client {
        format!("{}'s port {}", e.server, e.port)
    } else {
        format!("port {}", e.port)
    };
    // Each connection by its client's address and first packet, so a report can say which
    // conversation of the capture is the one (or the ones) counted.
    let mut each: Vec<String> = streams
        .iter()
        .zip(&first)
        .take(LISTED)
        .map(|(s, p)| format!("from {} (packet {p})", s.client))
        .collect();
    if streams.len() > LISTED {
        each.push(format!("and {} more", streams.len() - LISTED));
    }
    let actual = match n {
        0 => format!("no TCP connection to {whose}"),
        1 => format!("1 TCP connection to {whose}: {}", each.join(", ")),
        n => format!("{n} TCP connections to {whose}: {}", each.join(", ")),
    };
    let ok = min.is_none_or(|m| n >= m) && max.is_none_or(|m| n <= m);
    if ok {
        WireGraded::pass(actual, first)
    } else {
        let want = match (min, max) {
            (Some(a), Some(b)) if a == b => format!("exactly {a}"),
            (Some(a), Some(b)) => format!("{a} to {b}"),
            (Some(a), None) => format!("at least {a}"),
            (None, Some(b)) => format!("at most {b}"),
            (None, None) => "any number".into(),
        };
        WireGraded::fail(actual.clone(), format!("{actual}; expected {want}"), first)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::wire::testing::*;
    use crate::plan::WireKind;

    #[test]
    fn counts_connections() {
        let k = WireKind::TcpConnections(Plan {
            min: Some(1),
            max: Some(1),
        });
        assert!(grade(&expect(k.clone()), &tcp_round_trip(), Some(1), Some(1)).passed);
        let g = grade(&expect(k), &udp_round_trip(), Some(1), Some(1));
        assert!(!g.passed);
        assert!(g.reason.unwrap().ends_with("; expected exactly 1"));
        let one = grade(
            &expect(WireKind::TcpConnections(Plan {
                min: Some(1),
                max: Some(1),
            })),
            &tcp_round_trip(),
            Some(1),
            Some(1),
        );
        // The one connection is named by its client and its first packet.
        assert!(
            one.actual.starts_with("1 TCP connection to ") && one.actual.contains(" (packet "),
            "{}",
            one.actual
        );
    }
}
