//! The capture as reports show it (pure): an [`Analysis`] and the run's [`Plan`] in, the packet
//! list rows and the programs behind each address:port out.
//!
//! Contract: rows keep tshark's packet numbers and Info text; `label` is a short ladder label
//! (TCP flags, length, the first bytes of payload as text). Servers are named by the port they
//! waited ready on; a client endpoint is named after a program only when the plan and the
//! capture prove it (see [`participants`]), otherwise as "client K of SERVER".

use std::collections::BTreeMap;

use crate::analysis::escape::escape_bytes;
use crate::analysis::{Analysis, Endpoint, PacketSummary};
use crate::check::shorten;
use crate::plan::{Plan, StepPlan};
use crate::result::{PacketRow, Participant};

/// Rows shown per scenario; the pcap beside the report has them all.
pub(crate) const MAX_ROWS: usize = 500;

/// Packet rows (at most [`MAX_ROWS`]) and whether some were left out.
pub(crate) fn rows(a: &Analysis) -> (Vec<PacketRow>, bool) {
    let texts = payload_texts(a);
    let icmp: BTreeMap<u64, (String, String)> = a
        .icmp_errors
        .iter()
        .filter_map(|e| {
            let q = e.quoted?;
            let (sport, dport) = q.ports?;
            let refused = Endpoint {
                ip: q.dst,
                port: dport,
            }
            .to_string();
            let sender = Endpoint {
                ip: q.src,
                port: sport,
            }
            .to_string();
            Some((e.packet, (refused, sender)))
        })
        .collect();
    let rows = a
        .packets
        .iter()
        .take(MAX_ROWS)
        .map(|p| {
            let mut r = row(p, texts.get(&p.number));
            if let Some((from, to)) = icmp.get(&p.number) {
                r.arrow_from = from.clone();
                r.arrow_to = to.clone();
            }
            r
        })
        .collect();
    (rows, a.packets.len() > MAX_ROWS)
}

fn endpoint_text(ip: Option<std::net::IpAddr>, port: Option<u16>) -> String {
    match (ip, port) {
        (Some(ip), Some(port)) => Endpoint { ip, port }.to_string(),
        (Some(ip), None) => ip.to_string(),
        _ => String::new(),
    }
}

fn row(p: &PacketSummary, text: Option<&String>) -> PacketRow {
    let (sport, dport) = match (&p.tcp, &p.udp) {
        (Some(t), _) => (Some(t.src_port), Some(t.dst_port)),
        (None, Some(u)) => (Some(u.src_port), Some(u.dst_port)),
        _ => (None, None),
    };
    let mut label = match (&p.tcp, &p.udp) {
        (Some(t), _) => {
            let flags = p
                .info
                .find('[')
                .and_then(|i| p.info[i..].find(']').map(|j| &p.info[i..=i + j]))
                .unwrap_or("");
            format!("{flags} Len={}", t.len)
        }
        (None, Some(u)) => format!("UDP Len={}", u.length.saturating_sub(8)),
        _ => format!("{} {}", p.protocol, shorten(&p.info, 60)),
    };
    if let Some(t) = text {
        label.push_str(&format!(" \"{t}\""));
    }
    let (src, dst) = (endpoint_text(p.src, sport), endpoint_text(p.dst, dport));
    PacketRow {
        number: p.number,
        time: p.time,
        arrow_from: src.clone(),
        arrow_to: dst.clone(),
        src,
        dst,
        protocol: p.protocol.to_string(),
        length: p.length,
        info: p.info.clone(),
        label,
    }
}

/// Packet number → the first bytes of payload it delivered, as text.
fn payload_texts(a: &Analysis) -> BTreeMap<u64, String> {
    let mut out = BTreeMap::new();
    for s in &a.tcp_streams {
        for c in &s.chunks {
            let dir = if c.from_client {
                &s.to_server
            } else {
                &s.to_client
            };
            let start = c.offset as usize;
            let end = (start + c.len as usize).min(dir.payload.len());
            if let Some(bytes) = dir.payload.get(start..end) {
                out.insert(c.packet, shorten(&escape_bytes(bytes, false), 30));
            }
        }
    }
    for f in &a.udp_flows {
        for d in f.a_to_b.payloads.iter().chain(&f.b_to_a.payloads) {
            out.insert(d.packet, shorten(&escape_bytes(&d.payload, false), 30));
        }
    }
    out
}

/// Names the endpoints of the capture after the plan's programs, claiming no more than the
/// plan and the capture prove.
///
/// A server's endpoint is named by the port it waited on. A client's endpoint (an ephemeral
/// port, unknown in advance) is named after a program only when that program is the one
/// started program given the server's port in its arguments and the capture shows a single
/// endpoint talking to that server: otherwise it is "client 2 of proxy", never a guess by
/// start order (a proxy's own connection to the origin is not the second browser).
pub(crate) fn participants(a: &Analysis, plan: &Plan) -> Vec<Participant> {
    let mut servers: BTreeMap<u16, usize> = BTreeMap::new();
    let mut started = Vec::new();
    for s in &plan.steps {
        match s.step {
            StepPlan::WaitReady { program, port, .. } => {
                servers.entry(port).or_insert(program);
            }
            StepPlan::Start { program } => started.push(program),
            _ => {}
        }
    }
    let planned = |port: u16| plan.ports.iter().any(|p| p.port == port);
    // Each endpoint in order of first appearance, with the port of the other end of the first
    // packet it sent or received.
    let mut endpoints: Vec<(Endpoint, u16)> = Vec::new();
    for p in &a.packets {
        let (sport, dport) = match (&p.tcp, &p.udp) {
            (Some(t), _) => (t.src_port, t.dst_port),
            (None, Some(u)) => (u.src_port, u.dst_port),
            _ => continue,
        };
        let (Some(src), Some(dst)) = (p.src, p.dst) else {
            continue;
        };
        for (ep, peer) in [
            (
                Endpoint {
                    ip: src,
                    port: sport,
                },
                dport,
            ),
            (
                Endpoint {
                    ip: dst,
                    port: dport,
                },
                sport,
            ),
        ] {
            if !endpoints.iter().any(|(e, _)| *e == ep) {
                endpoints.push((ep, peer));
            }
        }
    }
    let is_client = |ep: &Endpoint| !servers.contains_key(&ep.port) && !planned(ep.port);
    let name_of_port = |port: u16| match servers.get(&port) {
        Some(&p) => plan.programs[p].name.clone(),
        None => format!("port {port}"),
    };
    let mut out = Vec::new();
    for (ep, peer) in &endpoints {
        let name = if let Some(&p) = servers.get(&ep.port) {
            plan.programs[p].name.clone()
        } else if planned(ep.port) {
            // A port the plan chose but no server waited on: a client's target with no server.
            format!("nothing on port {}", ep.port)
        } else {
            let group: Vec<&Endpoint> = endpoints
                .iter()
                .filter(|(e, q)| q == peer && is_client(e))
                .map(|(e, _)| e)
                .collect();
            let port_text = peer.to_string();
            let mut candidates: Vec<usize> = started
                .iter()
                .copied()
                .filter(|p| !servers.values().any(|s| s == p))
                .filter(|&p| plan.programs[p].argv.contains(&port_text))
                .collect();
            candidates.dedup();
            let target = name_of_port(*peer);
            match (candidates.as_slice(), group.len()) {
                ([only], 1) => plan.programs[*only].name.clone(),
                (_, 1) => format!("client of {target}"),
                _ => {
                    // `ep` is in its own group: the group was built from its peer.
                    let k = group.iter().position(|e| *e == ep).unwrap_or_default() + 1;
                    format!("client {k} of {target}")
                }
            }
        };
        out.push(Participant {
            endpoint: ep.to_string(),
            name,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use super::participants;
    use crate::analysis::{analyze, AnalyzerOptions};
    use crate::testkit::{self, Capture, Link};

    const PORT: u16 = 30_000;

    /// A plan with a TCP server on `PORT` and `clients` client programs, all given `PORT`.
    fn plan(clients: usize) -> crate::plan::Plan {
        let names: Vec<String> = (1..=clients).map(|i| format!("client{i}")).collect();
        let programs: Vec<String> = names
            .iter()
            .map(|n| format!(r#"{{ "name": "{n}", "role": "tcp-upper-client" }}"#))
            .collect();
        let starts: Vec<String> = names
            .iter()
            .map(|n| format!(r#"{{ "start": {{ "program": "{n}" }} }}"#))
            .collect();
        let text = format!(
            r#"{{ "id": "t", "lab": "upper", "title": "t", "question": "q", "explanation": "e",
                 "programs": [ {{ "name": "server", "role": "tcp-upper-server" }}, {} ],
                 "steps": [ {{ "start": {{ "program": "server" }} }},
                            {{ "wait_ready": {{ "program": "server" }} }}, {} ],
                 "checks": [] }}"#,
            programs.join(", "),
            starts.join(", ")
        );
        crate::plan::resolve_text(text, PORT).expect("valid scenario")
    }

    /// The names given to the endpoints of a capture of one SYN and SYN-ACK per `(client port,
    /// server port)` pair.
    fn names(plan: &crate::plan::Plan, conns: &[(u16, u16)]) -> Vec<(String, String)> {
        let at = |p: u16| SocketAddr::from(([127, 0, 0, 1], p));
        let mut cap = Capture::new(Link::Ethernet);
        for &(c, s) in conns {
            cap.push(&testkit::tcp(at(c), at(s), 100, 0, 0x02, b""));
            cap.push(&testkit::tcp(at(s), at(c), 500, 101, 0x12, b""));
        }
        let a = analyze(&cap.pcap()[..], "t.pcap", AnalyzerOptions::default()).expect("pcap");
        participants(&a, plan)
            .into_iter()
            .map(|p| (p.endpoint, p.name))
            .collect()
    }

    fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn the_one_client_given_the_servers_port_is_named_when_it_is_the_only_endpoint() {
        assert_eq!(
            names(&plan(1), &[(45_000, PORT)]),
            owned(&[
                ("127.0.0.1:45000", "client1"),
                ("127.0.0.1:30000", "server")
            ])
        );
    }

    #[test]
    fn several_clients_or_an_unplanned_connection_are_numbered_never_guessed_by_start_order() {
        assert_eq!(
            names(&plan(2), &[(45_000, PORT), (45_001, PORT)]),
            owned(&[
                ("127.0.0.1:45000", "client 1 of server"),
                ("127.0.0.1:30000", "server"),
                ("127.0.0.1:45001", "client 2 of server"),
            ])
        );
        // One planned client but two endpoints: the second could be anyone's (a proxy's
        // connection, a retry), so neither is named after the program.
        assert_eq!(
            names(&plan(1), &[(45_000, PORT), (45_001, PORT)]),
            owned(&[
                ("127.0.0.1:45000", "client 1 of server"),
                ("127.0.0.1:30000", "server"),
                ("127.0.0.1:45001", "client 2 of server"),
            ])
        );
    }
}
