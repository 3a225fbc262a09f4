//! `tcp_fin_teardown` check: the connection ended with a FIN each way and no RST.

use super::tcp_handshake::{pair, TcpPairCheck};
use super::{Sides, WireCheck};
use crate::analysis::{Analysis, Teardown};
use crate::check::wire::{port_summary, tcp_streams, WireGraded};
use crate::plan::{CheckCx, WireExpect};

pub(crate) struct Kind;

impl WireCheck for Kind {
    const NAME: &'static str = "tcp_fin_teardown";
    type Spec = TcpPairCheck;
    type Plan = ();

    fn resolve(c: &TcpPairCheck, cx: &mut CheckCx<'_, '_>) -> Option<Sides<()>> {
        pair(c, cx)
    }

    fn describe(e: &WireExpect, _: &()) -> String {
        let (c, s, p) = (&e.client, &e.server, e.port);
        format!("the TCP connection between {c} and {s} (port {p}) ends with a FIN each way")
    }

    fn grade(e: &WireExpect, _: &(), a: &Analysis) -> WireGraded {
        grade(e, a)
    }
}

pub(crate) fn grade(e: &WireExpect, a: &Analysis) -> WireGraded {
    let streams = tcp_streams(a, e.port);
    if let Some(s) = streams.iter().find(|s| s.teardown == Teardown::Fin) {
        let (c, sv) = (
            s.to_server.fin_packet.unwrap_or(0),
            s.to_client.fin_packet.unwrap_or(0),
        );
        let mut nums = vec![c, sv];
        nums.sort_unstable();
        return WireGraded::pass(
            format!("FIN from the client in packet {c}, FIN from the server in packet {sv}"),
            nums,
        );
    }
    let Some(s) = streams.first() else {
        let summary = port_summary(a, e.port);
        return WireGraded::fail(
            summary.clone(),
            format!("no TCP connection to close on port {}: {summary}", e.port),
            Vec::new(),
        );
    };
    let (actual, nums) = match s.teardown {
        Teardown::Rst => {
            let rst: Vec<u64> = [s.to_server.rst_packet, s.to_client.rst_packet]
                .into_iter()
                .flatten()
                .collect();
            (
                format!("the connection was reset (RST in packet {})", rst[0]),
                rst,
            )
        }
        Teardown::HalfClosed => {
            let fin: Vec<u64> = [s.to_server.fin_packet, s.to_client.fin_packet]
                .into_iter()
                .flatten()
                .collect();
            (format!("only one side sent a FIN (packet {})", fin[0]), fin)
        }
        _ => ("neither side sent a FIN".to_string(), Vec::new()),
    };
    WireGraded::fail(
        actual.clone(),
        format!("the connection did not end with a FIN each way: {actual}"),
        nums,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::wire::testing::*;
    use crate::plan::WireKind;

    #[test]
    fn fin_each_way_passes_rst_fails() {
        let g = grade(&expect(WireKind::TcpFinTeardown(())), &tcp_round_trip());
        assert!(g.passed);
        assert_eq!(g.packets, vec![8, 9]);
        let g = grade(&expect(WireKind::TcpFinTeardown(())), &tcp_refused());
        assert!(!g.passed);
        assert!(g.actual.contains("RST in packet 2"));
    }
}
