//! `packet_gap` check: time between consecutive payload-carrying packets sent one way on the
//! port (e.g. a client that must wait 1-2 s between requests), TCP and UDP alike.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Sides, WireCheck};
use crate::analysis::{Analysis, FlowPacket};
use crate::check::wire::{tcp_streams, udp_flows, way, WireGraded};
use crate::plan::{CheckCx, WireExpect};

/// `packet_gap` check, over TCP and UDP alike.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PacketGapCheck {
    /// Sending program name from `programs`.
    pub from: String,
    /// Receiving program name from `programs`.
    pub to: String,
    /// Smallest allowed gap in milliseconds. Default: 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_ms: Option<u64>,
    /// Largest allowed gap in milliseconds. Default: no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_ms: Option<u64>,
    /// Points. Default: 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<u32>,
    /// Human label for reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}
envelope!(PacketGapCheck);

/// The resolved `packet_gap` check.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Plan {
    /// Packets sent to the server (else: by it).
    pub to_server: bool,
    pub min_ms: u64,
    pub max_ms: Option<u64>,
}

pub(crate) struct Kind;

impl WireCheck for Kind {
    const NAME: &'static str = "packet_gap";
    type Spec = PacketGapCheck;
    type Plan = Plan;

    fn resolve(c: &PacketGapCheck, cx: &mut CheckCx<'_, '_>) -> Option<Sides<Plan>> {
        let (server, client, to_server) = cx.direction(&c.from, &c.to)?;
        if let (Some(lo), Some(hi)) = (c.min_ms, c.max_ms) {
            if lo > hi {
                cx.error(None, format!("`min_ms` {lo} is above `max_ms` {hi}"), None);
                return None;
            }
        }
        Some(Sides {
            server,
            client,
            plan: Plan {
                to_server,
                min_ms: c.min_ms.unwrap_or(0),
                max_ms: c.max_ms,
            },
        })
    }

    fn describe(e: &WireExpect, p: &Plan) -> String {
        let hi = p.max_ms.map_or("∞".to_string(), |m| m.to_string());
        format!(
            "gaps between packets {} lie within [{}, {hi}] ms",
            way(e, p.to_server),
            p.min_ms
        )
    }

    fn grade(e: &WireExpect, p: &Plan, a: &Analysis) -> WireGraded {
        grade(e, a, p.to_server, p.min_ms, p.max_ms)
    }
}

pub(crate) fn grade(
    e: &WireExpect,
    a: &Analysis,
    to_server: bool,
    min_ms: u64,
    max_ms: Option<u64>,
) -> WireGraded {
    let mut sent: Vec<FlowPacket> = Vec::new();
    for s in tcp_streams(a, e.port) {
        sent.extend(
            s.packets
                .iter()
                .filter(|p| p.forward == to_server && p.payload_len > 0),
        );
    }
    for f in udp_flows(a, e.port) {
        let a_is_server = f.a.port == e.port && f.b.port != e.port;
        let forward = a_is_server != to_server;
        sent.extend(f.packets.iter().filter(|p| p.forward == forward));
    }
    sent.sort_by_key(|p| p.number);
    let (from, to) = if to_server {
        (&e.client, &e.server)
    } else {
        (&e.server, &e.client)
    };
    if sent.len() < 2 {
        return WireGraded::fail(
            format!("{} packet(s) with data from {from} to {to}", sent.len()),
            format!(
                "a gap needs two packets from {from} to {to} on port {}; the capture has {}",
                e.port,
                sent.len()
            ),
            sent.iter().map(|p| p.number).collect(),
        );
    }
    let gaps: Vec<(u64, u64, f64)> = sent
        .windows(2)
        .map(|w| (w[0].number, w[1].number, (w[1].time - w[0].time) * 1000.0))
        .collect();
    if let Some((x, y, ms)) = gaps.iter().find(|g| g.2 < 0.0) {
        // A clock that goes backwards measures no gap: neither a pass nor a fail on it.
        return WireGraded::unjudged(
            format!(
                "the capture's clock goes back {:.0} ms from packet {x} to packet {y}",
                -ms
            ),
            format!(
                "the capture's timestamps go backwards between packets {x} and {y} ({:.0} ms), \
                 so they cannot measure the time between them; capture again (the clock of the \
                 capturing machine was changed, or the file was edited)",
                -ms
            ),
            vec![*x, *y],
        );
    }
    let bad = gaps
        .iter()
        .find(|(_, _, ms)| *ms < min_ms as f64 || max_ms.is_some_and(|m| *ms > m as f64));
    let lo = gaps.iter().map(|g| g.2).fold(f64::INFINITY, f64::min);
    let hi = gaps.iter().map(|g| g.2).fold(0.0, f64::max);
    let actual = format!(
        "{} gaps between packets {} … {}, from {lo:.0} to {hi:.0} ms",
        gaps.len(),
        sent[0].number,
        sent[sent.len() - 1].number
    );
    match bad {
        None => WireGraded::pass(actual, sent.iter().map(|p| p.number).collect()),
        Some((x, y, ms)) => WireGraded::fail(
            actual,
            format!("the gap between packets {x} and {y} is {ms:.0} ms, outside the allowed range"),
            vec![*x, *y],
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::wire::testing::*;
    use crate::plan::WireKind;

    fn k() -> WireExpect {
        expect(WireKind::PacketGap(Plan {
            to_server: true,
            min_ms: 1000,
            max_ms: Some(2000),
        }))
    }

    #[test]
    fn gaps_in_range_pass_and_short_ones_fail() {
        assert!(grade(&k(), &udp_requests(3, 1500), true, 1000, Some(2000)).passed);
        let g = grade(&k(), &udp_requests(3, 200), true, 1000, Some(2000));
        assert!(!g.passed);
        assert!(g
            .reason
            .unwrap()
            .contains("between packets 1 and 2 is 200 ms"));
        assert!(!grade(&k(), &udp_requests(1, 200), true, 1000, None).passed);
    }

    /// Regression (issue 11, part 8): time going backwards gave a negative gap, graded as too
    /// short (or as within a maximum). The check is not graded on a clock that goes back.
    #[test]
    fn a_clock_going_backwards_is_not_graded() {
        let mut a = udp_requests(3, 1500);
        for f in &mut a.udp_flows {
            for p in &mut f.packets {
                if p.number == 3 {
                    p.time -= 2.0;
                }
            }
        }
        for (min, max) in [(1000, Some(2000)), (0, Some(2000)), (0, None)] {
            let g = grade(&k(), &a, true, min, max);
            assert!(!g.passed);
            assert_eq!(g.packets, vec![2, 3]);
            assert_eq!(
                g.actual,
                "the capture's clock goes back 500 ms from packet 2 to packet 3"
            );
            assert!(g.unjudged.is_some_and(|w| w.starts_with(
                "the capture's timestamps go backwards between packets 2 and 3 (500 ms)"
            )));
        }
    }
}
