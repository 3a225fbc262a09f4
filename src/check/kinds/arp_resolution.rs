//! `arp_resolution` check: between two computers of a topology, the one that sends first asks
//! by ARP who has the other's address, and the other answers with its own MAC address. It
//! shows what loopback never does: two machines, two different MAC addresses, and the
//! address the program was given turned into the other machine's hardware address. It judges
//! the sender's program reaching the other computer by its address: a client that talks to
//! its own loopback instead sends no ARP for the server.

use std::net::Ipv4Addr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Sides, WireCheck};
use crate::analysis::{Analysis, ArpRecord};
use crate::check::wire::WireGraded;
use crate::plan::{CheckCx, WireExpect};
use crate::wire::arp::{mac_text, ARP_REPLY, ARP_REQUEST};

/// `arp_resolution` check.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ArpResolutionCheck {
    /// The program whose computer asks (usually the client), on another host than `to`.
    pub from: String,
    /// The program whose computer answers with its MAC address (usually the server).
    pub to: String,
    /// Points. Default: 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<u32>,
    /// Human label for reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}
envelope!(ArpResolutionCheck);

/// The two computers, as the topology made them. An empty MAC (or the unspecified asker
/// address) accepts any, in a capture of other computers.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Plan {
    pub asker_ip: Ipv4Addr,
    pub asker_mac: String,
    pub target_ip: Ipv4Addr,
    pub target_mac: String,
}

impl Plan {
    /// The exchange between `server` and `client` (any client when `None`: only a request
    /// for the server's address is looked for), whatever their MAC addresses, as long as they
    /// differ: a capture of other computers (`socklab verify`).
    pub(crate) fn retarget(&mut self, server: std::net::IpAddr, client: Option<std::net::IpAddr>) {
        if let std::net::IpAddr::V4(s) = server {
            self.target_ip = s;
        }
        self.asker_ip = match client {
            Some(std::net::IpAddr::V4(c)) => c,
            _ => Ipv4Addr::UNSPECIFIED,
        };
        self.asker_mac.clear();
        self.target_mac.clear();
    }
}

pub(crate) struct Kind;

impl WireCheck for Kind {
    const NAME: &'static str = "arp_resolution";
    const FOLLOWS_MOVED_SERVER: bool = false;
    type Spec = ArpResolutionCheck;
    type Plan = Plan;

    fn resolve(c: &ArpResolutionCheck, cx: &mut CheckCx<'_, '_>) -> Option<Sides<Plan>> {
        let from = cx.program("from", &c.from)?;
        let to = cx.program("to", &c.to)?;
        let (Some(asker), Some(target)) = (cx.host_of(from).cloned(), cx.host_of(to).cloned())
        else {
            cx.error(
                None,
                "`arp_resolution` needs two hosts: on one, programs talk over loopback, which \
                 has no ARP",
                Some("give the scenario `hosts` and put the two programs on different ones"),
            );
            return None;
        };
        if asker.name == target.name {
            cx.error(
                Some("to"),
                format!(
                    "`{}` and `{}` both run on host `{}`: they talk over its loopback, which has \
                     no ARP",
                    c.from, c.to, asker.name
                ),
                None,
            );
            return None;
        }
        let ip = |h: &crate::plan::HostPlan| h.addr.parse::<Ipv4Addr>().ok();
        let (Some(asker_ip), Some(target_ip)) = (ip(&asker), ip(&target)) else {
            cx.error(None, "the hosts' addresses are not IPv4 addresses", None);
            return None;
        };
        Some(Sides {
            server: c.to.clone(),
            client: c.from.clone(),
            plan: Plan {
                asker_ip,
                asker_mac: asker.mac,
                target_ip,
                target_mac: target.mac,
            },
        })
    }

    fn describe(e: &WireExpect, p: &Plan) -> String {
        let asker = if p.asker_ip.is_unspecified() {
            String::new()
        } else {
            format!(" ({})", p.asker_ip)
        };
        let mac = if p.target_mac.is_empty() {
            "another MAC address".to_string()
        } else {
            format!("its MAC address {}", p.target_mac)
        };
        format!(
            "{}'s computer{asker} asks by ARP who has {} and {}'s computer answers with {mac}",
            e.client, p.target_ip, e.server
        )
    }

    fn grade(e: &WireExpect, p: &Plan, a: &Analysis) -> WireGraded {
        grade(e, p, a)
    }
}

fn mac(r: &ArpRecord) -> String {
    mac_text(&r.arp.sender_mac)
}

pub(crate) fn grade(e: &WireExpect, p: &Plan, a: &Analysis) -> WireGraded {
    let any_asker = p.asker_ip.is_unspecified();
    let request = a.arp.iter().find(|r| {
        r.arp.op == ARP_REQUEST
            && (any_asker || r.arp.sender_ip == p.asker_ip)
            && r.arp.target_ip == p.target_ip
    });
    let Some(request) = request else {
        let seen: Vec<String> = a
            .arp
            .iter()
            .map(|r| format!("{} (packet {})", r.arp.info(), r.packet))
            .collect();
        let actual = if seen.is_empty() {
            format!("no ARP in the capture ({} packets)", a.frames)
        } else {
            format!("ARP seen: {}", seen.join("; "))
        };
        return WireGraded::fail(
            actual,
            format!(
                "{}'s computer never asked who has {}: {} did not send anything to {}'s address",
                e.client, p.target_ip, e.client, e.server
            ),
            a.arp.iter().map(|r| r.packet).collect(),
        );
    };
    let reply = a.arp.iter().find(|r| {
        r.arp.op == ARP_REPLY
            && r.packet > request.packet
            && r.arp.sender_ip == p.target_ip
            && r.arp.target_ip == request.arp.sender_ip
    });
    let Some(reply) = reply else {
        return WireGraded::fail(
            format!(
                "{} (packet {}), unanswered",
                request.arp.info(),
                request.packet
            ),
            format!("{}'s computer never answered the ARP request", e.server),
            vec![request.packet],
        );
    };
    let packets = vec![request.packet, reply.packet];
    let (asked_by, answered_by) = (mac(request), mac(reply));
    let actual = format!(
        "packet {}: {} (from {asked_by}); packet {}: {}",
        request.packet,
        request.arp.info(),
        reply.packet,
        reply.arp.info()
    );
    let wrong = |seen: &str, want: &str| !want.is_empty() && seen != want;
    if wrong(&asked_by, &p.asker_mac)
        || wrong(&answered_by, &p.target_mac)
        || asked_by == answered_by
    {
        return WireGraded::fail(
            actual,
            if p.target_mac.is_empty() {
                "the request and the reply come from the same MAC address: two computers have \
                 two"
                .to_string()
            } else {
                format!(
                    "expected {} to ask from {} and {} to answer from {}: two computers, two \
                     MAC addresses",
                    p.asker_ip, p.asker_mac, p.target_ip, p.target_mac
                )
            },
            packets,
        );
    }
    WireGraded::pass(actual, packets)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::wire::testing::expect;
    use crate::plan::WireKind;
    use crate::wire::arp::Arp;

    const CLIENT_MAC: [u8; 6] = [2, 0x53, 0x4c, 0, 0, 2];
    const SERVER_MAC: [u8; 6] = [2, 0x53, 0x4c, 0, 0, 1];
    const CLIENT: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
    const SERVER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);

    fn plan() -> Plan {
        Plan {
            asker_ip: CLIENT,
            asker_mac: "02:53:4c:00:00:02".into(),
            target_ip: SERVER,
            target_mac: "02:53:4c:00:00:01".into(),
        }
    }

    fn record(packet: u64, op: u16, mac: [u8; 6], from: Ipv4Addr, to: Ipv4Addr) -> ArpRecord {
        ArpRecord {
            packet,
            time: packet as f64 / 1000.0,
            arp: Arp {
                op,
                sender_mac: mac,
                sender_ip: from,
                target_mac: [0; 6],
                target_ip: to,
            },
        }
    }

    fn capture(records: Vec<ArpRecord>) -> Analysis {
        Analysis {
            frames: records.len() as u64 + 4,
            arp: records,
            ..Analysis::default()
        }
    }

    fn graded(records: Vec<ArpRecord>) -> WireGraded {
        let e = expect(WireKind::ArpResolution(plan()));
        grade(&e, &plan(), &capture(records))
    }

    #[test]
    fn a_request_answered_from_the_other_mac_passes_and_cites_both_packets() {
        let g = graded(vec![
            record(1, ARP_REQUEST, CLIENT_MAC, CLIENT, SERVER),
            record(2, ARP_REPLY, SERVER_MAC, SERVER, CLIENT),
        ]);
        assert!(g.passed, "{:?}", g.reason);
        assert_eq!(g.packets, [1, 2]);
        assert_eq!(
            g.actual,
            "packet 1: Who has 192.0.2.1? Tell 192.0.2.2 (from 02:53:4c:00:00:02); packet 2: \
             192.0.2.1 is at 02:53:4c:00:00:01"
        );
    }

    #[test]
    fn no_request_for_the_server_fails_and_says_what_was_seen() {
        let g = graded(vec![]);
        assert!(!g.passed);
        assert!(g.actual.contains("no ARP"), "{}", g.actual);
        assert!(g.reason.unwrap().contains("never asked who has 192.0.2.1"));
        // The server's computer asking for the client is not the client asking.
        let g = graded(vec![
            record(1, ARP_REQUEST, SERVER_MAC, SERVER, CLIENT),
            record(2, ARP_REPLY, CLIENT_MAC, CLIENT, SERVER),
        ]);
        assert!(!g.passed);
    }

    #[test]
    fn in_a_capture_of_other_computers_any_two_macs_for_the_server_do() {
        let mut p = plan();
        let server = Ipv4Addr::new(192, 168, 34, 232);
        let client = Ipv4Addr::new(192, 168, 34, 10);
        p.retarget(server.into(), None);
        let a = capture(vec![
            record(7, ARP_REQUEST, CLIENT_MAC, client, server),
            record(8, ARP_REPLY, SERVER_MAC, server, client),
        ]);
        let e = expect(WireKind::ArpResolution(p.clone()));
        let g = grade(&e, &p, &a);
        assert!(g.passed, "{:?}", g.reason);
        assert_eq!(g.packets, [7, 8]);
        // One MAC on both sides is no two computers.
        let a = capture(vec![
            record(7, ARP_REQUEST, CLIENT_MAC, client, server),
            record(8, ARP_REPLY, CLIENT_MAC, server, client),
        ]);
        assert!(!grade(&e, &p, &a).passed);
    }

    #[test]
    fn an_unanswered_request_or_a_reply_from_the_wrong_mac_fails() {
        let g = graded(vec![record(1, ARP_REQUEST, CLIENT_MAC, CLIENT, SERVER)]);
        assert!(!g.passed);
        assert!(g.actual.contains("unanswered"));
        let g = graded(vec![
            record(1, ARP_REQUEST, CLIENT_MAC, CLIENT, SERVER),
            record(2, ARP_REPLY, CLIENT_MAC, SERVER, CLIENT),
        ]);
        assert!(!g.passed);
        assert!(g.reason.unwrap().contains("two MAC addresses"));
    }
}
