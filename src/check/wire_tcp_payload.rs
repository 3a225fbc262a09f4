//! `tcp_payload` check: the bytes sent one way over the connections to the port, reassembled
//! in order (what Wireshark's Follow TCP Stream shows), contain / match / equal something.

use super::wire::{packets_phrase, port_summary, tcp_streams, WireGraded};
use crate::analysis::escape::escape_bytes;
use crate::analysis::Analysis;
use crate::check::shorten;
use crate::plan::{PayloadMatcher, WireExpect};

pub(crate) fn grade(
    e: &WireExpect,
    a: &Analysis,
    to_server: bool,
    matcher: &PayloadMatcher,
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
    // Each connection is judged alone: bytes of two connections never form one message.
    let mut seen = Vec::new();
    for s in &streams {
        let dir = if to_server {
            &s.to_server
        } else {
            &s.to_client
        };
        let packets: Vec<u64> = s
            .packets
            .iter()
            .filter(|p| p.forward == to_server && p.payload_len > 0)
            .map(|p| p.number)
            .collect();
        let text = shorten(&escape_bytes(&dir.payload, false), 120);
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

fn negate(m: &PayloadMatcher) -> String {
    match m {
        PayloadMatcher::Contains(s) => format!("does not contain {s:?}"),
        PayloadMatcher::Regex(r) => format!("does not match /{r}/"),
        PayloadMatcher::Equals(b) => format!("is not the {} bytes expected", b.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::super::wire::testing::*;
    use super::*;
    use crate::plan::WireKind;

    fn kind(to_server: bool, matcher: PayloadMatcher) -> WireKind {
        WireKind::TcpPayload { to_server, matcher }
    }

    #[test]
    fn payload_each_way_with_packet_numbers() {
        let a = tcp_round_trip();
        let m = PayloadMatcher::Contains("hello".into());
        let g = grade(&expect(kind(true, m.clone())), &a, true, &m);
        assert!(g.passed);
        assert_eq!(g.packets, vec![4]);
        let m = PayloadMatcher::Equals(b"HELLO\n".to_vec());
        let g = grade(&expect(kind(false, m.clone())), &a, false, &m);
        assert!(g.passed, "{}", g.actual);
        assert_eq!(g.packets, vec![6]);
        let m = PayloadMatcher::Regex("^[a-z]+$".into());
        let g = grade(&expect(kind(false, m.clone())), &a, false, &m);
        assert!(!g.passed);
        assert!(g.reason.unwrap().contains("HELLO\\n"));
    }

    #[test]
    fn no_tcp_means_no_payload() {
        let m = PayloadMatcher::Contains("hello".into());
        let g = grade(&expect(kind(true, m.clone())), &udp_round_trip(), true, &m);
        assert!(!g.passed);
        assert!(g.reason.unwrap().contains("no TCP connection"));
    }
}
