//! `udp_datagrams` check: how many datagrams went one way on the port, and what one held, or
//! how each reply relates to the request it answers (the last datagram its client sent it).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::tcp_payload::relation;
use super::{Sides, WireCheck};
use crate::analysis::{Analysis, Datagram, UdpFlow};
use crate::check::wire::{
    compare_reply, packets_phrase, quote, udp_flows, way, Exchange, WireGraded,
};
use crate::plan::{CheckCx, PayloadMatcher, PayloadRule, Relation, WireExpect};
use crate::scenario::PayloadRelation;

/// `udp_datagrams` check: `count`, and at most one of `contains` and `relation`. One of `from`
/// and `to` must be a server (see `tcp_payload`), or, when neither is, `to`'s port is used (a
/// client sending to a port where nothing is bound).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UdpDatagramsCheck {
    /// Sending program name from `programs`.
    pub from: String,
    /// Receiving program name from `programs`.
    pub to: String,
    /// Exact number of datagrams sent that way. Default: at least one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// One of the datagrams contains this text (placeholders allowed). A line typed into
    /// `from` is replaced in `socklab verify` as in `tcp_payload`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contains: Option<String>,
    /// Each datagram sent by the server stands in this relation to the request it answers: the
    /// last datagram that client sent it before, from the same address and port. At least one
    /// reply must answer a request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relation: Option<PayloadRelation>,
    /// Points. Default: 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<u32>,
    /// Human label for reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}
envelope!(UdpDatagramsCheck);

/// The resolved `udp_datagrams` check.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Plan {
    /// Datagrams sent to the server (else: sent by it).
    pub to_server: bool,
    pub count: Option<u64>,
    /// What the datagrams hold: one of them matches, or each reply stands in the relation.
    pub rule: Option<PayloadRule>,
}

pub(crate) struct Kind;

impl WireCheck for Kind {
    const NAME: &'static str = "udp_datagrams";
    type Spec = UdpDatagramsCheck;
    type Plan = Plan;

    fn resolve(c: &UdpDatagramsCheck, cx: &mut CheckCx<'_, '_>) -> Option<Sides<Plan>> {
        let (server, client, to_server) = cx.direction(&c.from, &c.to)?;
        let rule = match (&c.contains, c.relation) {
            (Some(_), Some(_)) => {
                cx.error(
                    None,
                    "give `contains` or `relation`, not both",
                    Some("a relation already judges what each reply holds; keep `relation`"),
                );
                return None;
            }
            (Some(t), None) => {
                let text = cx.subst("contains", t);
                Some(PayloadRule::Matches(cx.typed_or_contains(text, &c.from)))
            }
            (None, Some(_)) if c.count == Some(0) => {
                cx.error(
                    None,
                    "a relation judges replies, but `count: 0` says there are none",
                    Some("drop `relation`, or the `count`"),
                );
                return None;
            }
            (None, Some(r)) => Some(PayloadRule::Relation(relation(cx, r, to_server, &c.from)?)),
            (None, None) => None,
        };
        Some(Sides {
            server,
            client,
            plan: Plan {
                to_server,
                count: c.count,
                rule,
            },
        })
    }

    fn describe(e: &WireExpect, p: &Plan) -> String {
        let n = match p.count {
            Some(1) => "exactly 1 UDP datagram".to_string(),
            Some(n) => format!("exactly {n} UDP datagrams"),
            None => "UDP datagrams".to_string(),
        };
        let text = match &p.rule {
            None => String::new(),
            Some(PayloadRule::Matches(
                PayloadMatcher::Contains(t) | PayloadMatcher::TypedLine(Some(t)),
            )) => format!(", one containing {t:?}"),
            Some(PayloadRule::Matches(m)) => format!(", one that {}", m.describe()),
            Some(PayloadRule::Relation(r)) => format!(", each {}", r.describe()),
        };
        format!("{n} {}{text}", way(e, p.to_server))
    }

    fn grade(e: &WireExpect, p: &Plan, a: &Analysis) -> WireGraded {
        grade(e, a, p.to_server, p.count, p.rule.as_ref())
    }

    fn typed_line(p: &mut Plan) -> Option<&mut PayloadMatcher> {
        match &mut p.rule {
            Some(PayloadRule::Matches(m)) => Some(m),
            _ => None,
        }
    }
}

pub(crate) fn grade(
    e: &WireExpect,
    a: &Analysis,
    to_server: bool,
    count: Option<u64>,
    rule: Option<&PayloadRule>,
) -> WireGraded {
    let (from, to) = if to_server {
        (&e.client, &e.server)
    } else {
        (&e.server, &e.client)
    };
    let flows = udp_flows(a, e.port);
    let mut numbers = Vec::new();
    let mut payloads: Vec<&Datagram> = Vec::new();
    let mut total = 0;
    for f in &flows {
        let forward = forward(e, f, to_server);
        let dir = if forward { &f.a_to_b } else { &f.b_to_a };
        total += dir.datagrams;
        numbers.extend(
            f.packets
                .iter()
                .filter(|p| p.forward == forward)
                .map(|p| p.number),
        );
        payloads.extend(dir.payloads.iter());
    }
    numbers.sort_unstable();
    let first_text = payloads
        .first()
        .map(|d| format!(", the first holding \"{}\"", quote(&d.payload)))
        .unwrap_or_default();
    let actual = if total == 0 {
        format!("no UDP datagram from {from} to {to} on port {}", e.port)
    } else {
        format!(
            "{total} UDP datagram(s) from {from} to {to} in {}{first_text}",
            packets_phrase(&numbers)
        )
    };
    let count_ok = match count {
        Some(n) => total == n,
        None => total > 0,
    };
    if !count_ok {
        let want = count.map_or("at least one".to_string(), |n| format!("exactly {n}"));
        return WireGraded::fail(
            actual.clone(),
            format!("expected {want}; {actual}"),
            numbers,
        );
    }
    match rule {
        None => WireGraded::pass(actual, numbers),
        Some(PayloadRule::Matches(m)) => match payloads.iter().find(|d| m.matches(&d.payload)) {
            Some(d) => {
                let what = match m {
                    PayloadMatcher::Contains(t) | PayloadMatcher::TypedLine(Some(t)) => {
                        format!("{t:?} in packet {}", d.packet)
                    }
                    _ => format!("the datagram in packet {} {}", d.packet, m.describe()),
                };
                WireGraded::pass(format!("{actual}; {what}"), numbers)
            }
            // What the capture cut off a datagram might have matched: no verdict on it.
            None => match payloads.iter().find(|d| cut(d)) {
                Some(d) => not_captured(d, from, to, numbers),
                None => WireGraded::fail(
                    actual.clone(),
                    format!("no datagram from {from} to {to} {}; {actual}", m.describe()),
                    numbers,
                ),
            },
        },
        Some(PayloadRule::Relation(r)) => related(e, &flows, *r),
    }
}

/// The verdict when the answer may lie in bytes the capture cut off datagram `d`: not graded,
/// naming the packet and how to capture it whole.
fn not_captured(d: &Datagram, from: &str, to: &str, packets: Vec<u64>) -> WireGraded {
    let missing = u64::from(d.len).saturating_sub(d.payload.len() as u64);
    WireGraded::unjudged(
        format!(
            "the capture lacks {missing} byte(s) of a datagram from {from} to {to} (packet {})",
            d.packet
        ),
        format!(
            "the capture was cut: packet {} was cut short by the capture's snapshot length \
             ({missing} of its payload bytes are not in the file); capture again with the \
             full packet length (tcpdump -s 0, Wireshark's default)",
            d.packet
        ),
        packets,
    )
}

/// Whether the datagrams `to_server` (or from it) travel in `f`'s forward direction: `a`
/// sent the flow's first datagram; the server is whichever side has the port.
fn forward(e: &WireExpect, f: &UdpFlow, to_server: bool) -> bool {
    let a_is_server = f.a.port == e.port && f.b.port != e.port;
    a_is_server != to_server
}

/// Each datagram from the server against the last one its client sent before it.
fn related(e: &WireExpect, flows: &[&UdpFlow], r: Relation) -> WireGraded {
    let mut exchanges = Vec::new();
    // The first datagram the capture cut, and whether it is a request (client to server).
    let mut first_cut: Option<(&Datagram, bool)> = None;
    for f in flows {
        let (requests, replies) = if forward(e, f, true) {
            (&f.a_to_b, &f.b_to_a)
        } else {
            (&f.b_to_a, &f.a_to_b)
        };
        for reply in &replies.payloads {
            let request = requests
                .payloads
                .iter()
                .take_while(|q| q.packet < reply.packet)
                .last();
            let cut_one = match request.filter(|q| cut(q)) {
                Some(q) => Some((q, true)),
                None => cut(reply).then_some((reply, false)),
            };
            if let Some(c) = cut_one {
                first_cut.get_or_insert(c);
            }
            exchanges.push(Exchange {
                request: request.map_or(&[][..], |q| q.payload.as_slice()),
                request_packets: request.map(|q| q.packet).into_iter().collect(),
                reply: &reply.payload,
                reply_packets: vec![reply.packet],
                cut: request.is_some_and(cut) || cut(reply),
            });
        }
        if replies.payloads.is_empty() {
            // No reply: still name the request, so the failure can cite it.
            if let Some(q) = requests.payloads.last() {
                exchanges.push(Exchange {
                    request: &q.payload,
                    request_packets: vec![q.packet],
                    reply: &[],
                    reply_packets: Vec::new(),
                    cut: cut(q),
                });
            }
        }
    }
    let g = compare_reply(r, &exchanges, &e.server, &e.client);
    // A cut datagram is compared on the bytes kept: a difference there is a real one, but
    // agreement says nothing of the bytes cut off.
    match first_cut {
        Some((d, request)) if g.passed => {
            let (from, to) = if request {
                (&e.client, &e.server)
            } else {
                (&e.server, &e.client)
            };
            let mut u = not_captured(d, from, to, g.packets);
            u.actual = format!("{}; {}", g.actual, u.actual);
            u
        }
        _ => g,
    }
}

/// The capture kept only the start of the datagram.
fn cut(d: &Datagram) -> bool {
    (d.payload.len() as u64) < u64::from(d.len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::wire::testing::*;
    use crate::plan::WireKind;

    fn k() -> WireExpect {
        expect(WireKind::UdpDatagrams(Plan {
            to_server: true,
            count: Some(1),
            rule: None,
        }))
    }

    fn contains(text: &str) -> PayloadRule {
        PayloadRule::Matches(PayloadMatcher::Contains(text.into()))
    }

    const UPPER: PayloadRule = PayloadRule::Relation(Relation::UppercaseOfRequest);

    #[test]
    fn counts_each_way_and_finds_text() {
        let a = udp_round_trip();
        let g = grade(&k(), &a, true, Some(1), Some(&contains("hello")));
        assert!(g.passed, "{}", g.actual);
        assert!(
            g.actual.ends_with("; \"hello\" in packet 1"),
            "{}",
            g.actual
        );
        assert_eq!(g.packets, vec![1]);
        let g = grade(&k(), &a, false, Some(1), Some(&contains("HELLO")));
        assert_eq!(g.packets, vec![2]);
        assert!(!grade(&k(), &a, false, Some(1), Some(&contains("hello"))).passed);
        let g = grade(&k(), &tcp_round_trip(), true, None, None);
        assert!(!g.passed);
        assert!(g.reason.unwrap().contains("at least one"));
    }

    #[test]
    fn each_reply_is_the_uppercase_of_the_request_it_answers() {
        let a = udp_exchanges(
            SERVER,
            &[
                (b"Some line, 7!", Some(b"SOME LINE, 7!")),
                (b"second", Some(b"SECOND")),
            ],
        );
        let g = grade(&k(), &a, false, Some(2), Some(&UPPER));
        assert!(g.passed, "{:?}", g.reason);
        assert_eq!(
            g.actual,
            "server sent \"SOME LINE, 7!\" in packet 2, the uppercase of the request \
             \"Some line, 7!\" (packet 1) (and 1 more reply, the uppercase of its request)"
        );
        assert_eq!(g.packets, vec![1, 2, 3, 4]);

        let a = udp_exchanges(
            SERVER,
            &[
                (b"first", Some(b"FIRST")),
                (b"hello, World", Some(b"HELLO, wORLD")),
            ],
        );
        let g = grade(&k(), &a, false, None, Some(&UPPER));
        assert!(!g.passed);
        assert_eq!(
            g.actual,
            "server sent \"HELLO, wORLD\" in packet 4, but the uppercase of the request \
             \"hello, World\" (packet 3) is \"HELLO, WORLD\""
        );
        assert_eq!(g.packets, vec![3, 4]);
    }

    #[test]
    fn the_count_is_judged_before_the_relation() {
        let a = udp_exchanges(SERVER, &[(b"abc", None)]);
        let g = grade(&k(), &a, false, Some(1), Some(&UPPER));
        assert!(!g.passed);
        assert!(g
            .reason
            .unwrap()
            .starts_with("expected exactly 1; no UDP datagram"));
    }

    /// Cuts datagram `packet`'s kept payload to `keep` bytes, as a snapshot length does.
    fn snap(a: &mut Analysis, packet: u64, keep: usize) {
        for f in &mut a.udp_flows {
            for d in f.a_to_b.payloads.iter_mut().chain(&mut f.b_to_a.payloads) {
                if d.packet == packet {
                    d.payload.truncate(keep);
                }
            }
        }
    }

    /// Regression (issue 11, part 8): a datagram cut by the snapshot length was graded on the
    /// bytes kept: a reply whose kept start agreed passed, and text in the cut-off part was
    /// "not found". Neither is graded now; a difference within the bytes kept still fails.
    #[test]
    fn a_datagram_the_capture_cut_is_not_graded_on_what_it_lacks() {
        let mut a = udp_exchanges(SERVER, &[(b"hello, world", Some(b"HELLO, WORLD"))]);
        snap(&mut a, 2, 5);
        let g = grade(&k(), &a, false, Some(1), Some(&UPPER));
        assert!(!g.passed);
        assert_eq!(
            g.unjudged.as_deref(),
            Some(
                "the capture was cut: packet 2 was cut short by the capture's snapshot length \
                 (7 of its payload bytes are not in the file); capture again with the full \
                 packet length (tcpdump -s 0, Wireshark's default)"
            )
        );
        assert!(
            g.actual.ends_with(
                "; the capture lacks 7 byte(s) of a datagram from server to client (packet 2)"
            ),
            "{}",
            g.actual
        );
        // Text beyond the cut: not found, but not graded either.
        snap(&mut a, 1, 5);
        let g = grade(&k(), &a, true, Some(1), Some(&contains("world")));
        assert!(g.unjudged.is_some() && !g.passed, "{}", g.actual);
        // Text within what was kept: found.
        assert!(grade(&k(), &a, true, Some(1), Some(&contains("hell"))).passed);
        // A difference within the kept bytes is a real one.
        let mut a = udp_exchanges(SERVER, &[(b"hello, world", Some(b"HeLLO, WORLD"))]);
        snap(&mut a, 2, 5);
        let g = grade(&k(), &a, false, Some(1), Some(&UPPER));
        assert!(!g.passed && g.unjudged.is_none(), "{}", g.actual);
    }
}
