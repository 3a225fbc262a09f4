//! `tcp_concurrent` check: the server served connections at the same time, not one after
//! another, as the capture shows it, without reading a clock.
//!
//! A server that serves one connection at a time accepts them in the order their handshakes
//! completed (the listen queue is first in, first out) and answers each before it accepts the
//! next. So if the capture shows a connection opened *later* answered while one opened
//! *earlier* is still open and unanswered, the server had taken the earlier one and gone on to
//! the later one without finishing it: it served both at once (threads, processes or a
//! `select` loop alike). The packet order alone decides it, so machine load cannot change the
//! verdict. The scenario's client makes the case arise (`concurrent-clients` opens N
//! connections and asks on the last first); the check also wants at least `count`
//! connections answered.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Sides, WireCheck};
use crate::analysis::{Analysis, TcpStream};
use crate::check::wire::{packets_phrase, tcp_streams, WireGraded};
use crate::plan::{CheckCx, WireExpect};

/// `tcp_concurrent` check.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TcpConcurrentCheck {
    /// The server, by program name (its port is the one judged).
    pub program: String,
    /// At least this many connections must be answered.
    pub count: u64,
    /// Points. Default: 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<u32>,
    /// Human label for reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}
envelope!(TcpConcurrentCheck);

/// The resolved check: how many connections must be answered.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Plan {
    pub count: u64,
}

pub(crate) struct Kind;

impl WireCheck for Kind {
    const NAME: &'static str = "tcp_concurrent";
    type Spec = TcpConcurrentCheck;
    type Plan = Plan;

    fn resolve(c: &TcpConcurrentCheck, cx: &mut CheckCx<'_, '_>) -> Option<Sides<Plan>> {
        cx.program("program", &c.program)?;
        if c.count < 2 {
            cx.error(
                Some("count"),
                "`count` must be at least 2: one connection is never concurrent",
                None,
            );
            return None;
        }
        Some(Sides {
            server: c.program.clone(),
            client: c.program.clone(),
            plan: Plan { count: c.count },
        })
    }

    fn describe(e: &WireExpect, p: &Plan) -> String {
        format!(
            "at least {} TCP connections to {}'s port {} answered, and one opened later \
             answered while one opened earlier was still waiting (served at once)",
            p.count, e.server, e.port
        )
    }

    fn grade(e: &WireExpect, p: &Plan, a: &Analysis) -> WireGraded {
        grade(e, a, p.count)
    }
}

/// When a connection opened, was first answered and ended, as packet numbers.
struct Life {
    opened: u64,
    answered: Option<u64>,
    ended: Option<u64>,
}

impl Life {
    fn of(s: &TcpStream) -> Life {
        let h = &s.handshake;
        let ends = [
            s.to_server.fin_packet,
            s.to_server.rst_packet,
            s.to_client.fin_packet,
            s.to_client.rst_packet,
        ];
        Life {
            opened: h.ack.or(h.syn_ack).or(h.syn).unwrap_or(s.first_packet),
            answered: s.chunks.iter().find(|c| !c.from_client).map(|c| c.packet),
            ended: ends.into_iter().flatten().min(),
        }
    }

    /// Open and not answered yet when packet `p` went by.
    fn waiting_at(&self, p: u64) -> bool {
        self.opened < p && self.answered.is_none_or(|a| a > p) && self.ended.is_none_or(|e| e > p)
    }
}

pub(crate) fn grade(e: &WireExpect, a: &Analysis, count: u64) -> WireGraded {
    let lives: Vec<Life> = tcp_streams(a, e.port).into_iter().map(Life::of).collect();
    let answered: Vec<u64> = lives.iter().filter_map(|l| l.answered).collect();
    let n = answered.len() as u64;
    let total = lives.len();
    let port = e.port;
    // The witness: a later connection answered while earlier ones waited; the first such
    // answer in the capture is cited, with the earliest connection that waited through it.
    let witness = lives
        .iter()
        .filter_map(|later| {
            let p = later.answered?;
            let waiting: Vec<&Life> = lives
                .iter()
                .filter(|earlier| earlier.opened < later.opened && earlier.waiting_at(p))
                .collect();
            let first = waiting.iter().min_by_key(|earlier| earlier.opened)?;
            Some((later, p, *first, waiting.len()))
        })
        .min_by_key(|(_, p, _, _)| *p);
    let summary = format!(
        "{n} of {total} TCP connection(s) to port {port} answered (first answers in {})",
        packets_phrase(&answered)
    );
    match witness {
        Some((later, p, earlier, waited)) if n >= count => {
            let then = earlier.answered.map_or("never answered".to_string(), |a| {
                format!("answered in packet {a}")
            });
            let actual = format!(
                "{summary}; the connection opened in packet {} was answered in packet {p} \
                 while {waited} opened before it waited, the first of them opened in packet {} \
                 ({then})",
                later.opened, earlier.opened
            );
            let mut packets = vec![earlier.opened, later.opened, p];
            packets.extend(earlier.answered);
            WireGraded::pass(actual, packets)
        }
        Some(_) => WireGraded::fail(
            summary.clone(),
            format!("expected at least {count} connections answered; {summary}"),
            answered,
        ),
        // The reason holds no count: how many connections the kernel queued, and whether a
        // stalled server answered one as the clients were stopped, vary from run to run; the
        // fault does not (`actual` has the counts of this run).
        None => WireGraded::fail(
            summary,
            "no connection was answered while one opened before it still waited: nothing shows \
             two connections served at once"
                .into(),
            if answered.is_empty() {
                lives.iter().map(|l| l.opened).collect()
            } else {
                answered
            },
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::time::Duration;

    use super::*;
    use crate::analysis::{analyze, AnalyzerOptions};
    use crate::plan::WireKind;
    use crate::testkit::{self, Capture, Link};

    const SERVER: u16 = crate::check::wire::testing::SERVER;
    const SYN: u16 = 0x02;
    const ACK: u16 = 0x10;
    const PSH: u16 = 0x08;

    fn at(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    /// Two connections from ports 40001 and 40002, both opened first; then each asks and is
    /// answered, in `order` (client ports).
    fn two_connections(order: [u16; 2]) -> Analysis {
        let mut cap = Capture::new(Link::Ethernet).step(Duration::from_millis(1));
        let (s, q, r) = (
            at(SERVER),
            b"GET / HTTP/1.1\r\n\r\n",
            b"HTTP/1.1 200 OK\r\n\r\n",
        );
        for port in [40_001, 40_002] {
            let c = at(port);
            cap.push(&testkit::tcp(c, s, 100, 0, SYN, b""));
            cap.push(&testkit::tcp(s, c, 500, 101, SYN | ACK, b""));
            cap.push(&testkit::tcp(c, s, 101, 501, ACK, b""));
        }
        for port in order {
            let c = at(port);
            cap.push(&testkit::tcp(c, s, 101, 501, PSH | ACK, q));
            cap.push(&testkit::tcp(s, c, 501, 101 + q.len() as u32, PSH | ACK, r));
        }
        analyze(&cap.pcap()[..], "t.pcap", AnalyzerOptions::default()).unwrap()
    }

    fn expect() -> WireExpect {
        crate::check::wire::testing::expect(WireKind::TcpConcurrent(Plan { count: 2 }))
    }

    #[test]
    fn a_later_connection_answered_while_an_earlier_one_waits_is_concurrency() {
        let g = grade(&expect(), &two_connections([40_002, 40_001]), 2);
        assert!(g.passed, "{:?}", g.reason);
        assert!(
            g.actual
                .contains("opened in packet 6 was answered in packet 8 while 1 opened")
                && g.actual
                    .contains("opened in packet 3 (answered in packet 10)"),
            "{}",
            g.actual
        );
        assert_eq!(g.packets, vec![3, 6, 8, 10]);
    }

    #[test]
    fn answers_in_the_order_of_the_connections_prove_nothing() {
        let g = grade(&expect(), &two_connections([40_001, 40_002]), 2);
        assert!(!g.passed);
        assert!(
            g.reason
                .unwrap()
                .contains("nothing shows two connections served at once"),
            "{}",
            g.actual
        );
    }

    #[test]
    fn too_few_answers_fail_even_out_of_order() {
        let g = grade(&expect(), &two_connections([40_002, 40_001]), 3);
        assert!(!g.passed);
        assert!(g.reason.unwrap().contains("expected at least 3"));
    }
}
