//! `tcp_payload` check: the bytes sent one way over the connections to the port, reassembled
//! in order (what Wireshark's Follow TCP Stream shows), contain / match / equal something, or
//! stand in a relation to the request of the same connection (the server's reply is the
//! uppercase of what the client sent), which holds for any sentence a student types.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Sides, WireCheck};
use crate::analysis::{Analysis, TcpDirection, TcpStream};
use crate::check::wire::{
    compare_reply, packets_phrase, port_summary, quote, tcp_streams, way, Exchange, WireGraded,
};
use crate::plan::{regex_problem, CheckCx, PayloadMatcher, PayloadRule, Relation, WireExpect};
use crate::scenario::PayloadRelation;

/// `tcp_payload` check: exactly one of `contains`, `regex`, `equals_hex`, `relation`. One of
/// `from` and `to` must be a server (a program with a `wait_ready` step or a `*-server` role).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TcpPayloadCheck {
    /// Sending program name from `programs`.
    pub from: String,
    /// Receiving program name from `programs`.
    pub to: String,
    /// The payload contains this text (placeholders allowed). When the text is a line that a
    /// `write` step types into `from`, `socklab verify` (which cannot know what a student typed
    /// into their own client) checks the line given with `--text` instead, or, without it, only
    /// that `from` sent something.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contains: Option<String>,
    /// The payload matches this regular expression (Rust `regex` syntax, over bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
    /// The payload equals these bytes, written in hex (`48454c4c4f0a`; spaces allowed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals_hex: Option<String>,
    /// The payload, sent by the server, stands in this relation to the request the client sent
    /// on the same connection, e.g. `uppercase_of_request`: every connection that carries a
    /// reply is judged, and at least one must. A relation holds for any sentence, so it also
    /// judges a capture a student made with a sentence of their own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relation: Option<PayloadRelation>,
    /// Points. Default: 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<u32>,
    /// Human label for reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}
envelope!(TcpPayloadCheck);

/// The resolved `tcp_payload` check.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Plan {
    /// Payload sent to the server (else: sent by it).
    pub to_server: bool,
    pub rule: PayloadRule,
}

pub(crate) struct Kind;

impl WireCheck for Kind {
    const NAME: &'static str = "tcp_payload";
    type Spec = TcpPayloadCheck;
    type Plan = Plan;

    fn resolve(c: &TcpPayloadCheck, cx: &mut CheckCx<'_, '_>) -> Option<Sides<Plan>> {
        let (server, client, to_server) = cx.direction(&c.from, &c.to)?;
        let given: Vec<&str> = [
            ("contains", c.contains.is_some()),
            ("regex", c.regex.is_some()),
            ("equals_hex", c.equals_hex.is_some()),
            ("relation", c.relation.is_some()),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.then_some(k))
        .collect();
        if given.len() != 1 {
            cx.error(
                None,
                format!("give exactly one payload condition, not {}", given.len()),
                Some("use one of `contains`, `regex`, `equals_hex`, `relation`"),
            );
            return None;
        }
        let rule = if let Some(r) = c.relation {
            PayloadRule::Relation(relation(cx, r, to_server, &c.from)?)
        } else if let Some(text) = &c.contains {
            let text = cx.subst("contains", text);
            PayloadRule::Matches(cx.typed_or_contains(text, &c.from))
        } else if let Some(r) = &c.regex {
            if let Err(e) = regex::bytes::Regex::new(r) {
                cx.error(Some("regex"), regex_problem(&e), None);
                return None;
            }
            PayloadRule::Matches(PayloadMatcher::Regex(r.clone()))
        } else {
            let hex = c.equals_hex.as_deref().unwrap_or("");
            let Some(bytes) = parse_hex(hex) else {
                cx.error(
                    Some("equals_hex"),
                    format!("invalid hex bytes `{hex}`"),
                    Some("write two hex digits per byte, e.g. `48 49 0a`"),
                );
                return None;
            };
            PayloadRule::Matches(PayloadMatcher::Equals(bytes))
        };
        Some(Sides {
            server,
            client,
            plan: Plan { to_server, rule },
        })
    }

    fn describe(e: &WireExpect, p: &Plan) -> String {
        format!("TCP payload {} {}", way(e, p.to_server), p.rule.describe())
    }

    fn grade(e: &WireExpect, p: &Plan, a: &Analysis) -> WireGraded {
        grade(e, a, p.to_server, &p.rule)
    }

    fn typed_line(p: &mut Plan) -> Option<&mut PayloadMatcher> {
        match &mut p.rule {
            PayloadRule::Matches(m) => Some(m),
            PayloadRule::Relation(_) => None,
        }
    }
}

/// A relation is about the server's reply to a request: a check from the server (here and in
/// `udp_datagrams`).
pub(super) fn relation(
    cx: &mut CheckCx<'_, '_>,
    r: Relation,
    to_server: bool,
    from: &str,
) -> Option<Relation> {
    if to_server {
        cx.error(
            Some("relation"),
            format!("a relation judges the server's reply, but `{from}` is not the server"),
            Some("put the relation on the check whose `from` is the server"),
        );
        return None;
    }
    Some(r)
}

/// `48 45 4c` or `48454c` → bytes.
pub(crate) fn parse_hex(text: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if digits.len() % 2 != 0 {
        return None;
    }
    digits
        .chunks(2)
        .map(|pair| {
            let s = std::str::from_utf8(pair).ok()?;
            u8::from_str_radix(s, 16).ok()
        })
        .collect()
}

pub(crate) fn grade(
    e: &WireExpect,
    a: &Analysis,
    to_server: bool,
    rule: &PayloadRule,
) -> WireGraded {
    let streams = tcp_streams(a, e.port);
    let (from, to) = if to_server {
        (&e.client, &e.server)
    } else {
        (&e.server, &e.client)
    };
    if streams.is_empty() {
        let summary = port_summary(a, e.port);
        return WireGraded::fail(
            summary.clone(),
            format!(
                "no TCP connection on port {}, so no payload from {from} to {to}: {summary}",
                e.port
            ),
            Vec::new(),
        );
    }
    match rule {
        PayloadRule::Matches(m) => matches(e, &streams, to_server, m, from, to),
        PayloadRule::Relation(r) => related(&streams, *r, from, to),
    }
}

/// Packets of `s` that carried payload one way.
fn payload_packets(s: &TcpStream, to_server: bool) -> Vec<u64> {
    s.packets
        .iter()
        .filter(|p| p.forward == to_server && p.payload_len > 0)
        .map(|p| p.number)
        .collect()
}

fn matches(
    e: &WireExpect,
    streams: &[&TcpStream],
    to_server: bool,
    matcher: &PayloadMatcher,
    from: &str,
    to: &str,
) -> WireGraded {
    // Each connection is judged alone: bytes of two connections never form one message.
    let mut seen = Vec::new();
    let mut lacking = None;
    for s in streams {
        let dir = if to_server {
            &s.to_server
        } else {
            &s.to_client
        };
        let packets = payload_packets(s, to_server);
        if dir.payload_has_gaps {
            // Bytes either side of a gap never travelled together: neither a match nor a
            // miss on them says anything.
            lacking.get_or_insert((s.index, dir, packets));
            continue;
        }
        let text = quote(&dir.payload);
        if matcher.matches(&dir.payload) {
            return WireGraded::pass(
                format!(
                    "{from} sent \"{text}\" to {to} in {}",
                    packets_phrase(&packets)
                ),
                packets,
            );
        }
        seen.push((text, packets));
    }
    if let Some((stream, dir, packets)) = lacking {
        return not_captured(stream, dir, from, to, packets);
    }
    let (text, packets) = seen.swap_remove(0);
    let actual = if packets.is_empty() {
        format!("{from} sent no payload to {to} on port {}", e.port)
    } else {
        format!(
            "{from} sent \"{text}\" to {to} in {}",
            packets_phrase(&packets)
        )
    };
    WireGraded::fail(
        actual.clone(),
        format!("the payload {}; {actual}", negate(matcher)),
        packets,
    )
}

/// Each connection's reply against its own request.
fn related(streams: &[&TcpStream], r: Relation, server: &str, client: &str) -> WireGraded {
    for s in streams {
        for (dir, from, to, forward) in [
            (&s.to_server, client, server, true),
            (&s.to_client, server, client, false),
        ] {
            if dir.payload_has_gaps {
                return not_captured(s.index, dir, from, to, payload_packets(s, forward));
            }
        }
    }
    let exchanges: Vec<Exchange<'_>> = streams
        .iter()
        .map(|s| Exchange {
            request: &s.to_server.payload,
            request_packets: payload_packets(s, true),
            reply: &s.to_client.payload,
            reply_packets: payload_packets(s, false),
            cut: s.to_server.payload_truncated || s.to_client.payload_truncated,
        })
        .collect();
    compare_reply(r, &exchanges, server, client)
}

/// The verdict on a payload the capture holds only part of: not graded, saying which packet
/// lacks what and how to capture it whole.
fn not_captured(
    stream: u32,
    dir: &TcpDirection,
    from: &str,
    to: &str,
    packets: Vec<u64>,
) -> WireGraded {
    let Some(g) = dir.first_gap.as_deref() else {
        return WireGraded::unjudged(
            format!("the capture lacks bytes {from} sent to {to}"),
            format!("the capture lacks bytes {from} sent to {to} (TCP stream {stream})"),
            packets,
        );
    };
    let how = if g.snaplen {
        format!(
            "packet {} was cut short by the capture's snapshot length ({} of its payload bytes \
             are not in the file); capture again with the full packet length (tcpdump -s 0, \
             Wireshark's default)",
            g.packet, g.missing
        )
    } else {
        format!(
            "{} bytes before packet {} were never captured",
            g.missing, g.packet
        )
    };
    let actual = format!(
        "the capture lacks {} byte(s) of what {from} sent to {to} (TCP stream {stream})",
        dir.missing_bytes
    );
    WireGraded::unjudged(actual, format!("the capture was cut: {how}"), packets)
}

fn negate(m: &PayloadMatcher) -> String {
    match m {
        PayloadMatcher::Contains(s) | PayloadMatcher::TypedLine(Some(s)) => {
            format!("does not contain {s:?}")
        }
        PayloadMatcher::TypedLine(None) => "is empty".into(),
        PayloadMatcher::Regex(r) => format!("does not match /{r}/"),
        PayloadMatcher::Equals(b) => format!("is not the {} bytes expected", b.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::wire::testing::*;
    use crate::plan::WireKind;

    fn kind(to_server: bool, rule: PayloadRule) -> WireKind {
        WireKind::TcpPayload(Plan { to_server, rule })
    }

    fn check(a: &Analysis, to_server: bool, rule: PayloadRule) -> WireGraded {
        grade(&expect(kind(to_server, rule.clone())), a, to_server, &rule)
    }

    const UPPER: PayloadRule = PayloadRule::Relation(Relation::UppercaseOfRequest);

    #[test]
    fn payload_each_way_with_packet_numbers() {
        let a = tcp_round_trip();
        let m = PayloadRule::Matches(PayloadMatcher::Contains("hello".into()));
        let g = check(&a, true, m);
        assert!(g.passed);
        assert_eq!(g.packets, vec![4]);
        let m = PayloadRule::Matches(PayloadMatcher::Equals(b"HELLO\n".to_vec()));
        let g = check(&a, false, m);
        assert!(g.passed, "{}", g.actual);
        assert_eq!(g.packets, vec![6]);
        let m = PayloadRule::Matches(PayloadMatcher::Regex("^[a-z]+$".into()));
        let g = check(&a, false, m);
        assert!(!g.passed);
        assert!(g.reason.unwrap().contains("HELLO\\n"));
    }

    #[test]
    fn no_tcp_means_no_payload() {
        let m = PayloadRule::Matches(PayloadMatcher::Contains("hello".into()));
        let g = check(&udp_round_trip(), true, m);
        assert!(!g.passed);
        assert!(g.reason.unwrap().contains("no TCP connection"));
    }

    #[test]
    fn the_typed_line_is_the_scenarios_or_any_line_in_verify() {
        let a = tcp_exchange(SERVER, b"bye now\n", b"BYE NOW\n");
        let typed = |line: Option<&str>| {
            PayloadRule::Matches(PayloadMatcher::TypedLine(line.map(str::to_string)))
        };
        let g = check(&a, true, typed(Some("hello")));
        assert!(!g.passed);
        assert_eq!(
            g.reason.as_deref(),
            Some("the payload does not contain \"hello\"; client sent \"bye now\\n\" to server in packet 4")
        );
        assert!(check(&a, true, typed(Some("bye now"))).passed);
        assert!(check(&a, true, typed(None)).passed);
        let empty = tcp_exchange(SERVER, b"", b"");
        let g = check(&empty, true, typed(None));
        assert!(!g.passed);
        assert_eq!(
            g.actual,
            format!("client sent no payload to server on port {SERVER}")
        );
    }

    #[test]
    fn the_uppercase_of_any_request_passes_and_cites_both_packets() {
        let a = tcp_exchange(
            SERVER,
            b"Any sentence, 42 & co.\n",
            b"ANY SENTENCE, 42 & CO.\n",
        );
        let g = check(&a, false, UPPER);
        assert!(g.passed, "{:?}", g.reason);
        assert_eq!(
            g.actual,
            "server sent \"ANY SENTENCE, 42 & CO.\\n\" in packet 6, the uppercase of the request \
             \"Any sentence, 42 & co.\\n\" (packet 4)"
        );
        assert_eq!(g.packets, vec![4, 6]);
    }

    #[test]
    fn a_swapcase_reply_fails_naming_request_and_reply() {
        let a = tcp_exchange(SERVER, b"hello, World", b"HELLO, wORLD");
        let g = check(&a, false, UPPER);
        assert!(!g.passed);
        assert_eq!(
            g.actual,
            "server sent \"HELLO, wORLD\" in packet 6, but the uppercase of the request \
             \"hello, World\" (packet 4) is \"HELLO, WORLD\""
        );
        assert_eq!(
            g.reason.as_deref(),
            Some(
                "server sent \"HELLO, wORLD\" in packet 6, but the uppercase of the request \
                 \"hello, World\" (packet 4) is \"HELLO, WORLD\" (byte 8 is \"w\" where \"W\" is due)"
            )
        );
        assert_eq!(g.packets, vec![4, 6]);
    }

    #[test]
    fn a_relation_never_holds_vacuously() {
        // Nothing sent either way: no request, no reply.
        let g = check(&tcp_exchange(SERVER, b"", b""), false, UPPER);
        assert!(!g.passed);
        assert_eq!(
            g.reason.as_deref(),
            Some("server sent no reply to client, and client sent no request either")
        );
        // A request without a reply.
        let g = check(&tcp_exchange(SERVER, b"abc", b""), false, UPPER);
        assert!(!g.passed);
        assert!(
            g.reason
                .as_deref()
                .unwrap_or("")
                .contains("the request \"abc\" (packet 4)"),
            "{:?}",
            g.reason
        );
        // A reply that the client never asked for.
        let g = check(&tcp_exchange(SERVER, b"", b"HI"), false, UPPER);
        assert!(!g.passed);
        assert!(
            g.actual.contains("before client sent any request"),
            "{}",
            g.actual
        );
        // Too short, too long: the report says how.
        let g = check(&tcp_exchange(SERVER, b"abc\n", b"ABC"), false, UPPER);
        assert!(g
            .reason
            .unwrap()
            .ends_with("(it ends after 3 bytes, 1 short)"));
        let g = check(&tcp_exchange(SERVER, b"abc", b"ABC\n"), false, UPPER);
        assert!(g
            .reason
            .unwrap()
            .ends_with("(it goes on after the 3 bytes due, with \"\\n\")"));
    }

    #[test]
    fn only_ascii_letters_change_case() {
        // Digits, punctuation and non-ASCII bytes stay as they are.
        let a = tcp_exchange(SERVER, "é ß 1 ! z".as_bytes(), "é ß 1 ! Z".as_bytes());
        assert!(check(&a, false, UPPER).passed);
        let a = tcp_exchange(SERVER, "é".as_bytes(), "É".as_bytes());
        assert!(!check(&a, false, UPPER).passed);
    }

    /// Regression (issue 11, part 8): bytes either side of a gap the capture left (a snapshot
    /// length cut) were judged as one message. Such a payload is not graded, whichever way
    /// the bytes kept would have gone.
    #[test]
    fn a_payload_the_capture_cut_is_not_graded() {
        use crate::analysis::PayloadGap;
        for (reply, would_pass) in [(&b"HELLO"[..], true), (&b"HELLX"[..], false)] {
            let mut a = tcp_exchange(SERVER, b"hello", reply);
            // The kept bytes alone decide the same way as before the cut...
            assert_eq!(check(&a, false, UPPER).passed, would_pass);
            // ...but packet 4 claimed 3 bytes more than the capture holds.
            let d = &mut a.tcp_streams[0].to_server;
            d.payload_has_gaps = true;
            d.missing_bytes = 3;
            d.first_gap = Some(Box::new(PayloadGap {
                packet: 4,
                offset: 5,
                missing: 3,
                snaplen: true,
            }));
            for rule in [
                UPPER,
                PayloadRule::Matches(PayloadMatcher::Contains("hello".into())),
            ] {
                let to_server = matches!(rule, PayloadRule::Matches(_));
                let g = check(&a, to_server, rule);
                assert!(!g.passed);
                let why = g.unjudged.expect("not graded");
                assert!(
                    why.starts_with("the capture was cut: packet 4 was cut short by the capture's snapshot length (3 of its payload bytes"),
                    "{why}"
                );
                assert_eq!(
                    g.actual,
                    "the capture lacks 3 byte(s) of what client sent to server (TCP stream 0)"
                );
            }
        }
    }
}
