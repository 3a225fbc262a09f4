//! Wire checks (pure): a [`WireExpect`] and the [`Analysis`] of a capture in, a verdict with the
//! packet numbers that prove it out. Shared by `socklab run` (this run's capture) and
//! `socklab verify` (a student's capture). One file per check kind (`kinds/*.rs`); this one
//! dispatches and holds what they share: the phrasing helpers, where a server really listened
//! ([`ServerPorts`]), and how a reply is compared with its request ([`compare_reply`]).
//!
//! One fault, its own checks: the port rule is judged by the steps (`wait_ready` says "the
//! server never listened on the assigned port 28468 (it listens on 12000)"). The wire checks
//! judge behaviour: a refusal counts wherever the client connected, and a server that listened
//! on another port than assigned has its conversations looked for there.

use std::collections::{BTreeMap, BTreeSet};

use crate::analysis::escape::escape_bytes;
use crate::analysis::{Analysis, TcpStream, UdpFlow};
use crate::check::shorten;
use crate::evidence::Evidence;
use crate::plan::{Plan, Relation, StepPlan, WireExpect};
use crate::roles::Transport;

/// A wire check's verdict and its evidence.
pub(crate) struct WireGraded {
    pub passed: bool,
    pub actual: String,
    pub reason: Option<String>,
    /// Packet numbers (tshark's `frame.number`) that show what `actual` says.
    pub packets: Vec<u64>,
    /// Why the capture cannot decide this check (it lacks the bytes the check is about): the
    /// check is then not graded rather than passed or failed on bytes never captured.
    pub unjudged: Option<String>,
}

impl WireGraded {
    pub(crate) fn pass(actual: String, packets: Vec<u64>) -> WireGraded {
        WireGraded {
            passed: true,
            actual,
            reason: None,
            packets,
            unjudged: None,
        }
    }

    pub(crate) fn fail(actual: String, reason: String, packets: Vec<u64>) -> WireGraded {
        WireGraded {
            passed: false,
            actual,
            reason: Some(reason),
            packets,
            unjudged: None,
        }
    }

    /// The capture lacks what the check needs: `why` says what is missing.
    pub(crate) fn unjudged(actual: String, why: String, packets: Vec<u64>) -> WireGraded {
        WireGraded {
            passed: false,
            actual,
            reason: None,
            packets,
            unjudged: Some(why),
        }
    }
}

/// Where a run's servers listened (TCP) or were bound (UDP) when it was not on the port they
/// were assigned, from the run's evidence: the sockets each `wait_ready` step saw and those
/// each program held at the end. Empty for a capture without a run (`socklab verify`).
#[derive(Debug, Clone, Default)]
pub(crate) struct ServerPorts {
    /// (server program name, assigned port) → where it listened instead.
    moved: BTreeMap<(String, u16), Moved>,
}

#[derive(Debug, Clone)]
struct Moved {
    transport: Transport,
    /// Ports of the awaited transport, ascending; never the assigned one.
    ports: Vec<u16>,
}

impl ServerPorts {
    /// Reads the run's evidence. A server counts as moved only when no observation shows it on
    /// its assigned port and some shows it on another port (of the same transport, and none of
    /// its other assigned ports).
    pub(crate) fn from_run(plan: &Plan, evidence: &Evidence) -> ServerPorts {
        let waits: Vec<(usize, usize, u16, Transport)> = plan
            .steps
            .iter()
            .enumerate()
            .filter_map(|(i, s)| match &s.step {
                StepPlan::WaitReady {
                    program,
                    port,
                    transport,
                    ..
                } => Some((i, *program, *port, *transport)),
                _ => None,
            })
            .collect();
        let mut moved = BTreeMap::new();
        for &(_, program, port, transport) in &waits {
            let Some(name) = plan.programs.get(program).map(|p| p.name.clone()) else {
                continue;
            };
            let own: BTreeSet<u16> = waits
                .iter()
                .filter(|w| w.1 == program)
                .map(|w| w.2)
                .collect();
            let at_end = evidence
                .programs
                .get(program)
                .and_then(|p| p.at_end.as_ref())
                .map(|e| e.sockets.as_slice())
                .unwrap_or_default();
            let seen: BTreeSet<u16> = waits
                .iter()
                .filter(|w| w.1 == program)
                .filter_map(|w| evidence.steps.get(w.0))
                .flat_map(|o| o.sockets.iter())
                .chain(at_end)
                .filter(|s| s.listening && s.transport == transport.name())
                .map(|s| s.port)
                .collect();
            if seen.contains(&port) {
                continue;
            }
            let ports: Vec<u16> = seen.difference(&own).copied().collect();
            if !ports.is_empty() {
                moved.insert((name, port), Moved { transport, ports });
            }
        }
        ServerPorts { moved }
    }

    /// The port where `e`'s server listened instead of `e.port`, with the verb that says so:
    /// of several, the first the capture holds conversations on.
    fn instead(&self, e: &WireExpect, a: &Analysis) -> Option<(u16, &'static str)> {
        let m = self.moved.get(&(e.server.clone(), e.port))?;
        let verb = match m.transport {
            Transport::Tcp => "listens",
            Transport::Udp => "is bound",
        };
        let busy = m.ports.iter().find(|&&p| {
            a.streams_to_port(p).next().is_some() || a.udp_flows_with_port(p).next().is_some()
        });
        busy.or(m.ports.first()).map(|&p| (p, verb))
    }
}

/// Grades one wire expectation against a capture's analysis. `servers` says where the run's
/// servers really listened (empty for `socklab verify`).
pub(crate) fn grade(expect: &WireExpect, a: &Analysis, servers: &ServerPorts) -> WireGraded {
    let ip = |s: &Option<String>| s.as_deref().and_then(|s| s.parse().ok());
    let (server, client) = (ip(&expect.server_addr), ip(&expect.client_addr));
    if server.is_some() || client.is_some() {
        // Programs on different computers: judged on their own conversations only.
        return grade_here(expect, &a.between_hosts(server, client), servers);
    }
    grade_here(expect, a, servers)
}

fn grade_here(expect: &WireExpect, a: &Analysis, servers: &ServerPorts) -> WireGraded {
    if !expect.kind.follows_moved_server() {
        return expect.kind.grade(expect, a);
    }
    let Some((port, verb)) = servers.instead(expect, a) else {
        return expect.kind.grade(expect, a);
    };
    let moved = expect.with_port(port);
    let mut g = moved.kind.grade(&moved, a);
    g.actual = format!(
        "on port {port}, where {} {verb} instead of the assigned {}: {}",
        expect.server, expect.port, g.actual
    );
    g
}

/// Which way a check looks, in words: `from client to server (port 40123)` or back.
pub(crate) fn way(e: &WireExpect, to_server: bool) -> String {
    let (c, s, p) = (&e.client, &e.server, e.port);
    if to_server {
        format!("from {c} to {s} (port {p})")
    } else {
        format!("from {s} (port {p}) to {c}")
    }
}

/// One request and the reply that answers it, with the packets that carried each.
pub(crate) struct Exchange<'a> {
    pub request: &'a [u8],
    pub request_packets: Vec<u64>,
    pub reply: &'a [u8],
    pub reply_packets: Vec<u64>,
    /// The capture kept only the start of the request or the reply (a payload cap): only
    /// what both kept is compared.
    pub cut: bool,
}

impl Exchange<'_> {
    /// The packets of the request and the reply, ascending: the evidence of one exchange.
    fn packets(&self) -> Vec<u64> {
        let mut packets: Vec<u64> = self
            .request_packets
            .iter()
            .chain(&self.reply_packets)
            .copied()
            .collect();
        packets.sort_unstable();
        packets
    }
}

/// Judges the replies of a relation: passes when at least one exchange has a reply and every
/// reply is what its request calls for. `server` and `client` name the programs in messages.
pub(crate) fn compare_reply(
    relation: Relation,
    exchanges: &[Exchange<'_>],
    server: &str,
    client: &str,
) -> WireGraded {
    let with_reply: Vec<&Exchange<'_>> = exchanges.iter().filter(|x| !x.reply.is_empty()).collect();
    let Some(first) = with_reply.first() else {
        let asked: Vec<u64> = exchanges
            .iter()
            .flat_map(|x| x.request_packets.iter().copied())
            .collect();
        let actual = format!("{server} sent no reply to {client}");
        let reason = match exchanges.iter().find(|x| !x.request.is_empty()) {
            Some(x) => format!(
                "{actual}, so there is nothing to compare with {} of the request \"{}\" ({})",
                relation_noun(relation),
                quote(x.request),
                packets_phrase(&x.request_packets)
            ),
            None => format!("{actual}, and {client} sent no request either"),
        };
        return WireGraded::fail(actual, reason, asked);
    };
    for x in &with_reply {
        let packets = x.packets();
        if x.request.is_empty() {
            let actual = format!(
                "{server} sent \"{}\" in {} before {client} sent any request",
                quote(x.reply),
                packets_phrase(&x.reply_packets)
            );
            return WireGraded::fail(
                actual.clone(),
                format!("a reply must answer a request: {actual}"),
                packets,
            );
        }
        let due = relation.reply_to(x.request);
        let (got, want) = if x.cut {
            let n = x.reply.len().min(due.len());
            (&x.reply[..n], &due[..n])
        } else {
            (x.reply, due.as_slice())
        };
        if got != want {
            let actual = format!(
                "{server} sent \"{}\" in {}, but {} of the request \"{}\" ({}) is \"{}\"",
                quote(x.reply),
                packets_phrase(&x.reply_packets),
                relation_noun(relation),
                quote(x.request),
                packets_phrase(&x.request_packets),
                quote(&due)
            );
            // The reason is what a student reads on the console: both texts, both packets.
            let reason = format!("{actual} ({})", first_difference(got, want));
            return WireGraded::fail(actual, reason, packets);
        }
    }
    let mut packets: Vec<u64> = with_reply.iter().flat_map(|x| x.packets()).collect();
    packets.sort_unstable();
    let more = match with_reply.len() {
        1 => String::new(),
        2 => format!(
            " (and 1 more reply, {} of its request)",
            relation_noun(relation)
        ),
        n => format!(
            " (and {} more replies, each {} of its request)",
            n - 1,
            relation_noun(relation)
        ),
    };
    WireGraded::pass(
        format!(
            "{server} sent \"{}\" in {}, {} of the request \"{}\" ({}){more}",
            quote(first.reply),
            packets_phrase(&first.reply_packets),
            relation_noun(relation),
            quote(first.request),
            packets_phrase(&first.request_packets),
        ),
        packets,
    )
}

/// `the uppercase`, as in "the uppercase of the request".
fn relation_noun(r: Relation) -> &'static str {
    match r {
        Relation::UppercaseOfRequest => "the uppercase",
    }
}

/// Payload bytes for a message, escaped and cut short.
pub(crate) fn quote(bytes: &[u8]) -> String {
    shorten(&escape_bytes(bytes, false), 120)
}

/// Where `got` first departs from `want`, e.g. `byte 8 is "w" where "W" is due`.
fn first_difference(got: &[u8], want: &[u8]) -> String {
    let at = got
        .iter()
        .zip(want)
        .position(|(g, w)| g != w)
        .unwrap_or_else(|| got.len().min(want.len()));
    match (got.get(at), want.get(at)) {
        (Some(g), Some(w)) => format!(
            "byte {} is \"{}\" where \"{}\" is due",
            at + 1,
            escape_bytes(&[*g], false),
            escape_bytes(&[*w], false)
        ),
        (None, Some(_)) => format!(
            "it ends after {} bytes, {} short",
            got.len(),
            want.len() - got.len()
        ),
        _ => format!(
            "it goes on after the {} bytes due, with \"{}\"",
            want.len(),
            quote(&got[want.len()..])
        ),
    }
}

/// `packet 3` / `packets 1, 2, 3` / `packets 1, 2, … (40 in all)`.
pub(crate) fn packets_phrase(numbers: &[u64]) -> String {
    const SHOWN: usize = 8;
    let list: Vec<String> = numbers.iter().take(SHOWN).map(u64::to_string).collect();
    match numbers.len() {
        0 => "no packet".into(),
        1 => format!("packet {}", list[0]),
        n if n <= SHOWN => format!("packets {}", list.join(", ")),
        n => format!("packets {}, … ({n} in all)", list.join(", ")),
    }
}

/// TCP streams whose server (SYN receiver) port is `port`.
pub(crate) fn tcp_streams(a: &Analysis, port: u16) -> Vec<&TcpStream> {
    a.streams_to_port(port).collect()
}

/// UDP flows with `port` on one side.
pub(crate) fn udp_flows(a: &Analysis, port: u16) -> Vec<&UdpFlow> {
    a.udp_flows_with_port(port).collect()
}

/// What the capture holds on `port`, for failure reasons: "2 UDP datagrams (packets 1, 2) and
/// no TCP segment", or what other ports it saw.
pub(crate) fn port_summary(a: &Analysis, port: u16) -> String {
    let streams = tcp_streams(a, port);
    let flows = udp_flows(a, port);
    let mut parts = Vec::new();
    if !streams.is_empty() {
        let first: Vec<u64> = streams.iter().map(|s| s.first_packet).collect();
        parts.push(format!(
            "{} TCP connection(s) starting in {}",
            streams.len(),
            packets_phrase(&first)
        ));
    }
    if !flows.is_empty() {
        let nums: Vec<u64> = flows
            .iter()
            .flat_map(|f| f.packets.iter().map(|p| p.number))
            .collect();
        let total: u64 = flows
            .iter()
            .map(|f| f.a_to_b.datagrams + f.b_to_a.datagrams)
            .sum();
        parts.push(format!(
            "{total} UDP datagram(s) ({})",
            packets_phrase(&nums)
        ));
    }
    if parts.is_empty() {
        let mut seen: Vec<u16> = a
            .tcp_streams
            .iter()
            .map(|s| s.server.port)
            .chain(a.udp_flows.iter().map(|f| f.b.port))
            .collect();
        seen.sort_unstable();
        seen.dedup();
        let others = if seen.is_empty() {
            String::new()
        } else {
            let list: Vec<String> = seen.iter().take(6).map(u16::to_string).collect();
            format!("; traffic went to port(s) {}", list.join(", "))
        };
        return format!(
            "the capture ({} packets) holds nothing on port {port}{others}",
            a.frames
        );
    }
    format!("on port {port} the capture holds {}", parts.join(" and "))
}

#[cfg(test)]
pub(crate) mod testing {
    //! Small captures for the wire check tests, built by the shared [`testkit`](crate::testkit)
    //! (Ethernet frames on 127.0.0.1).

    use std::net::SocketAddr;
    use std::time::Duration;

    use crate::analysis::{analyze, Analysis, AnalyzerOptions};
    use crate::testkit::{self, Capture, Link};

    const CLIENT: u16 = 45_000;
    pub(crate) const SERVER: u16 = 31_000;

    fn local(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    fn tcp(src: u16, dst: u16, seq: u32, ack: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
        let (src, dst) = (local(src), local(dst));
        testkit::tcp(src, dst, seq, ack, u16::from(flags), payload)
    }

    fn udp(src: u16, dst: u16, payload: &[u8]) -> Vec<u8> {
        testkit::udp(local(src), local(dst), payload)
    }

    fn analysed(packets: &[Vec<u8>], gap_ms: u32) -> Analysis {
        let mut cap = Capture::new(Link::Ethernet).step(Duration::from_millis(gap_ms.into()));
        for p in packets {
            cap.push(p);
        }
        let bytes = cap.pcap();
        analyze(&bytes[..], "test.pcap", AnalyzerOptions::default()).expect("valid pcap")
    }

    const SYN: u8 = 0x02;
    const ACK: u8 = 0x10;
    const PSH: u8 = 0x08;
    const FIN: u8 = 0x01;
    const RST: u8 = 0x04;

    /// A TCP round trip: handshake, "hello\n" → "HELLO\n", FIN both ways (10 packets).
    pub(crate) fn tcp_round_trip() -> Analysis {
        tcp_exchange(SERVER, b"hello\n", b"HELLO\n")
    }

    /// A TCP round trip to `port`: handshake, `request` (packet 4) → `reply` (packet 6), FIN
    /// both ways (10 packets).
    pub(crate) fn tcp_exchange(port: u16, request: &[u8], reply: &[u8]) -> Analysis {
        analysed(&tcp_exchange_frames(port, request, reply), 1)
    }

    fn tcp_exchange_frames(port: u16, request: &[u8], reply: &[u8]) -> Vec<Vec<u8>> {
        let (c, s) = (CLIENT, port);
        let (q, r) = (request.len() as u32, reply.len() as u32);
        vec![
            tcp(c, s, 100, 0, SYN, b""),
            tcp(s, c, 500, 101, SYN | ACK, b""),
            tcp(c, s, 101, 501, ACK, b""),
            tcp(c, s, 101, 501, PSH | ACK, request),
            tcp(s, c, 501, 101 + q, ACK, b""),
            tcp(s, c, 501, 101 + q, PSH | ACK, reply),
            tcp(c, s, 101 + q, 501 + r, ACK, b""),
            tcp(c, s, 101 + q, 501 + r, FIN | ACK, b""),
            tcp(s, c, 501 + r, 102 + q, FIN | ACK, b""),
            tcp(c, s, 102 + q, 502 + r, ACK, b""),
        ]
    }

    /// A SYN answered by RST.
    pub(crate) fn tcp_refused() -> Analysis {
        tcp_refused_on(SERVER)
    }

    /// A SYN to `port` answered by RST.
    pub(crate) fn tcp_refused_on(port: u16) -> Analysis {
        analysed(
            &[
                tcp(CLIENT, port, 100, 0, SYN, b""),
                tcp(port, CLIENT, 0, 101, RST | ACK, b""),
            ],
            1,
        )
    }

    /// A UDP round trip: "hello\n" then "HELLO\n".
    pub(crate) fn udp_round_trip() -> Analysis {
        udp_exchanges(SERVER, &[(b"hello\n", Some(b"HELLO\n"))])
    }

    /// UDP requests to `port` from one client, each followed by its reply if any.
    pub(crate) fn udp_exchanges(port: u16, pairs: &[(&[u8], Option<&[u8]>)]) -> Analysis {
        let mut frames = Vec::new();
        for (request, reply) in pairs {
            frames.push(udp(CLIENT, port, request));
            if let Some(reply) = reply {
                frames.push(udp(port, CLIENT, reply));
            }
        }
        analysed(&frames, 1)
    }

    /// Requests from the client every `gap_ms`.
    pub(crate) fn udp_requests(n: usize, gap_ms: u32) -> Analysis {
        let frames: Vec<Vec<u8>> = (0..n).map(|_| udp(CLIENT, SERVER, b"SEND_TIME")).collect();
        analysed(&frames, gap_ms)
    }

    /// A datagram answered by ICMP port unreachable quoting it.
    pub(crate) fn udp_unreachable() -> Analysis {
        udp_unreachable_on(SERVER)
    }

    /// A datagram to `port` answered by ICMP port unreachable quoting it.
    pub(crate) fn udp_unreachable_on(port: u16) -> Analysis {
        let dgram = udp(CLIENT, port, b"hello\n");
        analysed(&[dgram.clone(), unreachable(&dgram)], 1)
    }

    /// A UDP round trip whose reply finds the client gone: the ICMP error quotes the reply.
    pub(crate) fn udp_reply_to_a_gone_client() -> Analysis {
        let reply = udp(SERVER, CLIENT, b"HELLO\n");
        analysed(
            &[
                udp(CLIENT, SERVER, b"hello\n"),
                reply.clone(),
                unreachable(&reply),
            ],
            1,
        )
    }

    /// ICMP port unreachable quoting the IP packet `quoted`.
    fn unreachable(quoted: &[u8]) -> Vec<u8> {
        let lo = local(0).ip();
        testkit::icmp(lo, lo, 3, 3, [0; 4], quoted)
    }

    pub(crate) fn expect(kind: crate::plan::WireKind) -> crate::plan::WireExpect {
        crate::plan::WireExpect {
            port: SERVER,
            server: "server".into(),
            client: "client".into(),
            kind,
            server_addr: None,
            client_addr: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;
    use crate::evidence::{EndState, ProgramEvidence, SocketRecord, StepOutcome};
    use crate::plan::CheckPlan;

    #[test]
    fn between_computers_only_the_two_programs_addresses_count() {
        let e = |server: Option<&str>, client: Option<&str>, kind| WireExpect {
            server_addr: server.map(str::to_string),
            client_addr: client.map(str::to_string),
            ..expect(kind)
        };
        let handshake = crate::plan::WireKind::TcpHandshake(());
        let servers = ServerPorts::default();
        let a = tcp_round_trip();
        // The capture's conversation is between 127.0.0.1 and 127.0.0.1.
        let here = e(Some("127.0.0.1"), Some("127.0.0.1"), handshake.clone());
        assert!(grade(&here, &a, &servers).passed);
        let lo = Some("127.0.0.1");
        assert!(grade(&e(lo, None, handshake.clone()), &a, &servers).passed);
        // A connection the server's computer never took part in is not the server's.
        let elsewhere = e(Some("192.0.2.1"), Some("192.0.2.2"), handshake.clone());
        let g = grade(&elsewhere, &a, &servers);
        assert!(!g.passed);
        let g = grade(&e(None, Some("192.0.2.2"), handshake), &a, &servers);
        assert!(!g.passed);
        // A refusal counts only where the client's own computer was refused.
        let refused = crate::plan::WireKind::TcpRefused(());
        let r = tcp_refused();
        assert!(grade(&e(lo, lo, refused.clone()), &r, &servers).passed);
        let mine = Some("192.0.2.2");
        assert!(!grade(&e(mine, mine, refused), &r, &servers).passed);
    }

    /// The upper TCP round trip on `proto`, resolved with its port at [`SERVER`].
    fn round_trip_plan(proto: &str) -> Plan {
        let text = format!(
            r#"{{
              "id": "t", "lab": "upper", "title": "t", "question": "q", "explanation": "e",
              "programs": [
                {{ "name": "server", "role": "{proto}-upper-server" }},
                {{ "name": "client", "role": "{proto}-upper-client" }}
              ],
              "steps": [
                {{ "start": {{ "program": "server" }} }},
                {{ "wait_ready": {{ "program": "server" }} }},
                {{ "start": {{ "program": "client" }} }},
                {{ "write": {{ "program": "client", "line": "hello" }} }}
              ],
              "checks": [
                {{ "tcp_handshake": {{ "client": "client", "server": "server" }} }},
                {{ "tcp_payload": {{ "from": "client", "to": "server", "contains": "hello" }} }},
                {{ "tcp_payload": {{ "from": "server", "to": "client",
                                   "relation": "uppercase_of_request" }} }},
                {{ "tcp_fin_teardown": {{ "client": "client", "server": "server" }} }},
                {{ "tcp_connections": {{ "program": "server", "count": 1 }} }},
                {{ "no_tcp_handshake": {{ "program": "server" }} }},
                {{ "udp_datagrams": {{ "from": "server", "to": "client", "count": 1,
                                      "relation": "uppercase_of_request" }} }}
              ]
            }}"#
        );
        crate::plan::resolve_text(text, SERVER).unwrap_or_else(|e| panic!("{e}"))
    }

    fn socket(transport: &str, port: u16) -> SocketRecord {
        SocketRecord {
            transport: transport.into(),
            addr: "0.0.0.0".into(),
            port,
            listening: true,
        }
    }

    /// A run where `wait_ready` saw the server's sockets `at_ready` and it held `at_end` at the end.
    fn run(plan: &Plan, at_ready: Vec<SocketRecord>, at_end: Vec<SocketRecord>) -> Evidence {
        let mut ev = Evidence {
            programs: vec![ProgramEvidence::default(); plan.programs.len()],
            steps: vec![StepOutcome::default(); plan.steps.len()],
            ..Evidence::default()
        };
        ev.steps[1].sockets = at_ready;
        ev.programs[0].at_end = Some(EndState {
            alive: true,
            sockets: at_end,
            ..EndState::default()
        });
        ev
    }

    fn wire_checks(plan: &Plan) -> Vec<&WireExpect> {
        plan.checks.iter().filter_map(CheckPlan::wire).collect()
    }

    /// Regression: a submission that hard-codes port 12000 in client and server failed every
    /// wire check of a correct round trip ("no TCP handshake ... on port 28468; traffic went to
    /// port(s) 12000"): one fault charged to five checks besides `wait_ready`.
    #[test]
    fn a_server_on_a_fixed_port_is_followed_there_and_judged_by_what_it_did() {
        let plan = round_trip_plan("tcp");
        let ev = run(
            &plan,
            vec![socket("tcp", 12_000)],
            vec![socket("tcp", 12_000)],
        );
        let servers = ServerPorts::from_run(&plan, &ev);
        let a = tcp_exchange(12_000, b"hello", b"HELLO");
        let checks = wire_checks(&plan);
        for e in &checks[..5] {
            let g = grade(e, &a, &servers);
            assert!(g.passed, "{}: {:?}", e.kind.name(), g.reason);
            assert!(
                g.actual.starts_with(&format!(
                    "on port 12000, where server listens instead of the assigned {SERVER}: "
                )),
                "{}",
                g.actual
            );
        }
        assert_eq!(
            grade(checks[0], &a, &servers).actual,
            format!(
                "on port 12000, where server listens instead of the assigned {SERVER}: SYN in \
                 packet 1, SYN-ACK in packet 2, ACK in packet 3 (127.0.0.1:45000 → 127.0.0.1:12000)"
            )
        );
        // What the server did there is still judged: a handshake where none may complete.
        let g = grade(checks[5], &a, &servers);
        assert!(!g.passed);
        assert!(g
            .actual
            .contains("a TCP handshake completed in packets 1, 2, 3"));

        // Without the run's evidence (verify), the checks look at the assigned port, as before.
        let g = grade(checks[0], &a, &ServerPorts::default());
        assert!(!g.passed);
        assert!(
            g.actual.contains("traffic went to port(s) 12000"),
            "{}",
            g.actual
        );
    }

    #[test]
    fn a_server_on_its_assigned_port_or_on_none_is_not_moved() {
        let plan = round_trip_plan("tcp");
        let a = tcp_exchange(12_000, b"hi", b"HI");
        let handshake = wire_checks(&plan)[0];
        for ev in [
            // Listening where it was told, and on another port too.
            run(
                &plan,
                vec![socket("tcp", SERVER), socket("tcp", 12_000)],
                Vec::new(),
            ),
            // Never listening (it could not start): nothing says where it would have been.
            run(&plan, Vec::new(), Vec::new()),
            // A UDP socket says nothing about a TCP server.
            run(&plan, vec![socket("udp", 12_000)], Vec::new()),
            // A connected socket is no listening one.
            run(
                &plan,
                vec![SocketRecord {
                    listening: false,
                    ..socket("tcp", 12_000)
                }],
                Vec::new(),
            ),
        ] {
            let servers = ServerPorts::from_run(&plan, &ev);
            let g = grade(handshake, &a, &servers);
            assert!(!g.passed, "{}", g.actual);
            assert!(!g.actual.contains("where server listens"), "{}", g.actual);
        }
    }

    #[test]
    fn a_udp_server_bound_elsewhere_is_followed_there() {
        let plan = round_trip_plan("udp");
        let ev = run(&plan, Vec::new(), vec![socket("udp", 12_000)]);
        let servers = ServerPorts::from_run(&plan, &ev);
        let a = udp_exchanges(12_000, &[(b"abc", Some(b"ABC"))]);
        let reply = wire_checks(&plan)[6];
        let g = grade(reply, &a, &servers);
        assert!(g.passed, "{:?}", g.reason);
        assert_eq!(
            g.actual,
            format!(
                "on port 12000, where server is bound instead of the assigned {SERVER}: server \
                 sent \"ABC\" in packet 2, the uppercase of the request \"abc\" (packet 1)"
            )
        );
    }

    #[test]
    fn of_several_other_ports_the_one_with_traffic_is_chosen() {
        let plan = round_trip_plan("tcp");
        let ev = run(
            &plan,
            vec![socket("tcp", 9_000), socket("tcp", 12_000)],
            Vec::new(),
        );
        let servers = ServerPorts::from_run(&plan, &ev);
        let g = grade(
            wire_checks(&plan)[0],
            &tcp_exchange(12_000, b"a", b"A"),
            &servers,
        );
        assert!(g.passed, "{:?}", g.reason);
        assert!(g.actual.starts_with("on port 12000,"), "{}", g.actual);
    }
}
