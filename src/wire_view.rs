//! The capture as reports show it (pure): an [`Analysis`] and the run's [`Plan`] in, the packet
//! list rows and the programs behind each address:port out.
//!
//! Contract: rows keep tshark's packet numbers and Info text; `label` is a short ladder label
//! (TCP flags, length, the first bytes of payload as text). Servers are named by the port they
//! waited ready on; other endpoints are the non-server programs in start order, matched to
//! endpoints in order of first appearance (a heuristic: clients connect in the order they
//! start), and are otherwise shown by address.

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

/// Names the endpoints of the capture after the plan's programs.
pub(crate) fn participants(a: &Analysis, plan: &Plan) -> Vec<Participant> {
    let mut servers: BTreeMap<u16, usize> = BTreeMap::new();
    for s in &plan.steps {
        if let StepPlan::WaitReady { program, port, .. } = s.step {
            servers.entry(port).or_insert(program);
        }
    }
    let mut clients = plan.steps.iter().filter_map(|s| match s.step {
        StepPlan::Start { program } if !servers.values().any(|p| *p == program) => Some(program),
        _ => None,
    });
    let mut endpoints: Vec<Endpoint> = Vec::new();
    for p in &a.packets {
        let (sport, dport) = match (&p.tcp, &p.udp) {
            (Some(t), _) => (t.src_port, t.dst_port),
            (None, Some(u)) => (u.src_port, u.dst_port),
            _ => continue,
        };
        for (ip, port) in [(p.src, sport), (p.dst, dport)] {
            if let Some(ip) = ip {
                let ep = Endpoint { ip, port };
                if !endpoints.contains(&ep) {
                    endpoints.push(ep);
                }
            }
        }
    }
    let mut out = Vec::new();
    for ep in endpoints {
        let program = servers.get(&ep.port).copied();
        let program = match program {
            Some(p) => Some(p),
            // A port the plan chose but no server waited on: a client's target with no server.
            None if plan.ports.iter().any(|p| p.port == ep.port) => None,
            None => clients.next(),
        };
        let name = program.map_or_else(
            || format!("nothing on port {}", ep.port),
            |p| plan.programs[p].name.clone(),
        );
        out.push(Participant {
            endpoint: ep.to_string(),
            name,
        });
    }
    out
}
