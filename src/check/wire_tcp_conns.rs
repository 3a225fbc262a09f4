//! `tcp_connections` check: how many TCP connections went to the port (a caching proxy opens
//! one to the origin for two requests of the same object).

use super::wire::{packets_phrase, tcp_streams, WireGraded};
use crate::analysis::Analysis;
use crate::plan::WireExpect;

pub(crate) fn grade(
    e: &WireExpect,
    a: &Analysis,
    min: Option<u64>,
    max: Option<u64>,
) -> WireGraded {
    let first: Vec<u64> = tcp_streams(a, e.port)
        .iter()
        .map(|s| s.handshake.syn.unwrap_or(s.first_packet))
        .collect();
    let n = first.len() as u64;
    let actual = if n == 0 {
        format!("no TCP connection to port {}", e.port)
    } else {
        format!(
            "{n} TCP connection(s) to port {}, opened in {}",
            e.port,
            packets_phrase(&first)
        )
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
        WireGraded::fail(actual.clone(), format!("expected {want}; {actual}"), first)
    }
}

#[cfg(test)]
mod tests {
    use super::super::wire::testing::*;
    use super::*;
    use crate::plan::WireKind;

    #[test]
    fn counts_connections() {
        let k = WireKind::TcpConnections {
            min: Some(1),
            max: Some(1),
        };
        assert!(grade(&expect(k.clone()), &tcp_round_trip(), Some(1), Some(1)).passed);
        let g = grade(&expect(k), &udp_round_trip(), Some(1), Some(1));
        assert!(!g.passed);
        assert!(g.reason.unwrap().contains("expected exactly 1"));
    }
}
