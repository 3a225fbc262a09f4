//! Which conversations of a foreign capture are the scenario's client and server (pure).
//!
//! Contract: a *conversation* is a TCP stream (its client sent the SYN) or a UDP flow (its
//! client sent the first datagram; the user's flags may turn it round, since a capture started
//! late can open with the server's reply). A *server* is the address and port at the server end.
//! [`resolve`] keeps the conversations that satisfy every flag the user gave ([`Pins`]) and
//! succeeds when they all go to one server; [`narrow`] then drops every other conversation, and
//! the ICMP errors about them, so that the wire checks, which look only at the server port, see
//! nothing else. No match, or matches at several servers, is a [`RoleError`] that lists the
//! capture's conversations and the flags that would pick each server.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::net::IpAddr;

use serde::Serialize;

use crate::analysis::{Analysis, Endpoint, FlowRef};

/// Conversations listed in an error before "… and N more".
const LISTED: usize = 20;

/// `1 conversation`, `2 conversations`.
pub(crate) fn count(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// What the user pinned with `--server-addr`, `--server-port`, `--client-addr`, `--client-port`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub(crate) struct Pins {
    pub server_addr: Option<IpAddr>,
    pub server_port: Option<u16>,
    pub client_addr: Option<IpAddr>,
    pub client_port: Option<u16>,
}

impl Pins {
    fn matches(&self, client: Endpoint, server: Endpoint) -> bool {
        self.server_addr.is_none_or(|a| a == server.ip)
            && self.server_port.is_none_or(|p| p == server.port)
            && self.client_addr.is_none_or(|a| a == client.ip)
            && self.client_port.is_none_or(|p| p == client.port)
    }

    /// Each pin given, in flag order.
    fn given(&self) -> Vec<(Role, Pin)> {
        [
            (Role::Server, self.server_addr.map(Pin::Addr)),
            (Role::Server, self.server_port.map(Pin::Port)),
            (Role::Client, self.client_addr.map(Pin::Addr)),
            (Role::Client, self.client_port.map(Pin::Port)),
        ]
        .into_iter()
        .filter_map(|(role, pin)| pin.map(|p| (role, p)))
        .collect()
    }

    /// Only `pin`, for `role`.
    fn only(role: Role, pin: Pin) -> Pins {
        let mut p = Pins::default();
        match (role, pin) {
            (Role::Server, Pin::Addr(a)) => p.server_addr = Some(a),
            (Role::Server, Pin::Port(n)) => p.server_port = Some(n),
            (Role::Client, Pin::Addr(a)) => p.client_addr = Some(a),
            (Role::Client, Pin::Port(n)) => p.client_port = Some(n),
        }
        p
    }

    /// Whether `role` has a pin of `pin`'s kind.
    fn has(&self, role: Role, pin: Pin) -> bool {
        match (role, pin) {
            (Role::Server, Pin::Addr(_)) => self.server_addr.is_some(),
            (Role::Server, Pin::Port(_)) => self.server_port.is_some(),
            (Role::Client, Pin::Addr(_)) => self.client_addr.is_some(),
            (Role::Client, Pin::Port(_)) => self.client_port.is_some(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Server,
    Client,
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Role::Server => "server",
            Role::Client => "client",
        }
    }

    fn other(self) -> Role {
        match self {
            Role::Server => Role::Client,
            Role::Client => Role::Server,
        }
    }
}

/// One value the user pinned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pin {
    Addr(IpAddr),
    Port(u16),
}

impl Pin {
    /// `address 192.0.2.20`, `port 12000`.
    fn words(self) -> String {
        match self {
            Pin::Addr(a) => format!("address {a}"),
            Pin::Port(p) => format!("port {p}"),
        }
    }

    /// `--server-addr 192.0.2.20`, `--client-port 40000`.
    fn flag(self, role: Role) -> String {
        match self {
            Pin::Addr(a) => format!("--{}-addr {a}", role.name()),
            Pin::Port(p) => format!("--{}-port {p}", role.name()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Transport {
    Tcp,
    Udp,
}

impl Transport {
    fn name(self) -> &'static str {
        match self {
            Transport::Tcp => "TCP",
            Transport::Udp => "UDP",
        }
    }
}

/// One TCP stream or UDP flow, oriented client → server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) struct Conversation {
    pub transport: Transport,
    /// `tcp.stream`, or the UDP flow's number.
    pub index: u32,
    pub client: Endpoint,
    pub server: Endpoint,
    /// Frames both ways.
    pub packets: u64,
    pub first_packet: u64,
}

impl Conversation {
    /// The same conversation with client and server swapped (UDP only has no SYN to go by).
    fn turned(self) -> Conversation {
        Conversation {
            client: self.server,
            server: self.client,
            ..self
        }
    }

    /// This conversation, turned round if need be, when it satisfies `pins`.
    fn oriented(self, pins: &Pins) -> Option<Conversation> {
        if pins.matches(self.client, self.server) {
            Some(self)
        } else if self.transport == Transport::Udp && pins.matches(self.server, self.client) {
            Some(self.turned())
        } else {
            None
        }
    }
}

/// Every TCP stream and UDP flow of the capture, in order of first packet.
pub(crate) fn conversations(a: &Analysis) -> Vec<Conversation> {
    let tcp = a.tcp_streams.iter().map(|s| Conversation {
        transport: Transport::Tcp,
        index: s.index,
        client: s.client,
        server: s.server,
        packets: s.to_server.packets + s.to_client.packets,
        first_packet: s.first_packet,
    });
    let udp = a.udp_flows.iter().map(|f| Conversation {
        transport: Transport::Udp,
        index: f.index,
        client: f.a,
        server: f.b,
        packets: f.a_to_b.datagrams + f.b_to_a.datagrams,
        first_packet: f.first_packet,
    });
    let mut all: Vec<Conversation> = tcp.chain(udp).collect();
    all.sort_by_key(|c| c.first_packet);
    all
}

/// The server found and the conversations that go to it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Roles {
    pub server: Endpoint,
    pub pins: Pins,
    /// The conversations the checks see, oriented client → server.
    pub conversations: Vec<Conversation>,
    /// The capture's other conversations, left out, and their frames.
    pub other_conversations: usize,
    pub other_packets: u64,
}

impl Roles {
    /// Where the server's address and port came from: the flags, or packet N.
    pub(crate) fn server_from(&self) -> String {
        let first = self.first_packet();
        match (self.pins.server_addr, self.pins.server_port) {
            (Some(_), Some(_)) => "given".into(),
            (None, Some(_)) => format!("port given, address inferred from packet {first}"),
            (Some(_), None) => format!("address given, port inferred from packet {first}"),
            (None, None) => format!("inferred from packet {first}"),
        }
    }

    /// Where the server port came from, in the words of the JSON field `server_port_from`.
    pub(crate) fn server_port_from(&self) -> String {
        match self.pins.server_port {
            Some(_) => "--server-port".into(),
            None => format!("inferred from packet {}", self.first_packet()),
        }
    }

    fn first_packet(&self) -> u64 {
        self.conversations
            .iter()
            .map(|c| c.first_packet)
            .min()
            .unwrap_or(0)
    }

    /// Distinct client endpoints among the conversations.
    pub(crate) fn client_count(&self) -> usize {
        let eps: BTreeSet<Endpoint> = self.conversations.iter().map(|c| c.client).collect();
        eps.len()
    }

    /// `client 192.0.2.10:40000`, `3 clients at 127.0.0.1 (ports 1, 2, 3)`, ...
    pub(crate) fn clients(&self) -> String {
        let eps: BTreeSet<Endpoint> = self.conversations.iter().map(|c| c.client).collect();
        let given = match (self.pins.client_addr, self.pins.client_port) {
            (None, None) => "inferred",
            (Some(_), None) => "address given",
            (None, Some(_)) => "port given",
            (Some(_), Some(_)) => "given",
        };
        let addrs: BTreeSet<IpAddr> = eps.iter().map(|e| e.ip).collect();
        match (eps.len(), addrs.len()) {
            (1, _) => format!(
                "client {} ({given})",
                eps.iter().next().map_or(String::new(), |e| e.to_string())
            ),
            (n, 1) => {
                let ports: Vec<String> = eps.iter().take(8).map(|e| e.port.to_string()).collect();
                let more = if n > 8 { ", …" } else { "" };
                format!(
                    "{n} clients at {} (ports {}{more}) ({given})",
                    addrs.iter().next().map_or(String::new(), |a| a.to_string()),
                    ports.join(", ")
                )
            }
            (n, _) => {
                let list: Vec<String> = eps.iter().take(4).map(Endpoint::to_string).collect();
                let more = if n > 4 { ", …" } else { "" };
                format!("{n} clients ({}{more}) ({given})", list.join(", "))
            }
        }
    }
}

/// One server that some conversations satisfying the pins go to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Candidate {
    pub server: Endpoint,
    pub transports: BTreeSet<Transport>,
    pub conversations: usize,
    pub packets: u64,
    pub first_packet: u64,
    /// Flags to add so that only this server remains, e.g. `--server-port 12000`.
    pub flags: String,
}

/// Why no roles could be found.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum RoleError {
    #[error(
        "{file} holds no TCP or UDP conversation ({frames} packets), so it has no client or \
         server to check; was it captured on the interface the programs used (loopback for \
         127.0.0.1), or saved with a display filter?"
    )]
    NoTraffic { file: String, frames: u64 },
    #[error("{}", no_match_text(.file, .what, .hint.as_deref(), .all))]
    NoMatch {
        file: String,
        /// `has server port 12001`, or `has server port 12000 and client address ... together`.
        what: String,
        hint: Option<String>,
        all: Vec<Conversation>,
    },
    #[error("{}", ambiguous_text(.file, .pins, .candidates, .all))]
    Ambiguous {
        file: String,
        pins: Pins,
        candidates: Vec<Candidate>,
        all: Vec<Conversation>,
    },
}

/// Finds the one server whose conversations satisfy `pins`.
pub(crate) fn resolve(a: &Analysis, pins: &Pins, file: &str) -> Result<Roles, RoleError> {
    let all = conversations(a);
    if all.is_empty() {
        return Err(RoleError::NoTraffic {
            file: file.to_string(),
            frames: a.frames,
        });
    }
    let chosen: Vec<Conversation> = all.iter().filter_map(|c| c.oriented(pins)).collect();
    if chosen.is_empty() {
        return Err(no_match(file, pins, all));
    }
    let candidates = candidates(&chosen);
    if candidates.len() > 1 {
        return Err(RoleError::Ambiguous {
            file: file.to_string(),
            pins: *pins,
            candidates,
            all,
        });
    }
    let server = chosen[0].server;
    let packets: u64 = chosen.iter().map(|c| c.packets).sum();
    let total: u64 = all.iter().map(|c| c.packets).sum();
    Ok(Roles {
        server,
        pins: *pins,
        other_conversations: all.len() - chosen.len(),
        other_packets: total - packets,
        conversations: chosen,
    })
}

fn no_match(file: &str, pins: &Pins, all: Vec<Conversation>) -> RoleError {
    let matching = |p: &Pins| all.iter().filter(|c| c.oriented(p).is_some()).count();
    let given = pins.given();
    // The first flag that matches nothing on its own is the one to blame; if its value plays
    // the other role (and that role is not pinned), the user may have swapped them.
    let (what, hint) = match given
        .iter()
        .find(|(role, pin)| matching(&Pins::only(*role, *pin)) == 0)
    {
        Some(&(role, pin)) => {
            let other = role.other();
            let n = if pins.has(other, pin) {
                0
            } else {
                matching(&Pins::only(other, pin))
            };
            let hint = (n > 0).then(|| {
                format!(
                    "{} is the {}'s in {}: did you mean {}?",
                    pin.words(),
                    other.name(),
                    count(n, "conversation"),
                    pin.flag(other)
                )
            });
            (format!("has {} {}", role.name(), pin.words()), hint)
        }
        None => {
            let words: Vec<String> = given
                .iter()
                .map(|(role, pin)| format!("{} {}", role.name(), pin.words()))
                .collect();
            (format!("has {} together", words.join(" and ")), None)
        }
    };
    RoleError::NoMatch {
        file: file.to_string(),
        what,
        hint,
        all,
    }
}

/// The servers of `chosen`, in order of first packet, each with the flags that single it out.
fn candidates(chosen: &[Conversation]) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = Vec::new();
    for c in chosen {
        match out.iter_mut().find(|x| x.server == c.server) {
            Some(x) => {
                x.transports.insert(c.transport);
                x.conversations += 1;
                x.packets += c.packets;
            }
            None => out.push(Candidate {
                server: c.server,
                transports: BTreeSet::from([c.transport]),
                conversations: 1,
                packets: c.packets,
                first_packet: c.first_packet,
                flags: String::new(),
            }),
        }
    }
    let ports: Vec<u16> = out.iter().map(|x| x.server.port).collect();
    for x in &mut out {
        let shared = ports.iter().filter(|p| **p == x.server.port).count() > 1;
        x.flags = if shared {
            format!(
                "--server-addr {} --server-port {}",
                x.server.ip, x.server.port
            )
        } else {
            format!("--server-port {}", x.server.port)
        };
    }
    out
}

/// Keeps only the conversations of `roles` (and the ICMP errors about them).
pub(crate) fn narrow(a: &Analysis, roles: &Roles) -> Analysis {
    let kept = |t: Transport, i: u32| {
        roles
            .conversations
            .iter()
            .any(|c| c.transport == t && c.index == i)
    };
    let mut n = a.clone();
    n.tcp_streams.retain(|s| kept(Transport::Tcp, s.index));
    n.udp_flows.retain(|f| kept(Transport::Udp, f.index));
    n.icmp_errors.retain(|e| match e.matched {
        Some(FlowRef::Tcp { stream }) => kept(Transport::Tcp, stream),
        Some(FlowRef::Udp { flow }) => kept(Transport::Udp, flow),
        // A quoted packet the capture does not hold: judge it by its addresses and ports.
        None => e.quoted.is_some_and(|q| {
            q.ports.is_some_and(|(sp, dp)| {
                let client = Endpoint {
                    ip: q.src,
                    port: sp,
                };
                let server = Endpoint {
                    ip: q.dst,
                    port: dp,
                };
                server == roles.server && roles.pins.matches(client, server)
            })
        }),
    });
    n
}

/// The capture's conversations as a table, at most [`LISTED`] rows.
fn table(all: &[Conversation], file: &str) -> String {
    let mut s = format!(
        "  {:>6}  {:<5} {:<30} {:<30} {:>7}\n",
        "First", "Proto", "Client", "Server", "Packets"
    );
    for c in all.iter().take(LISTED) {
        let _ = writeln!(
            s,
            "  {:>6}  {:<5} {:<30} {:<30} {:>7}",
            c.first_packet,
            c.transport.name(),
            c.client.to_string(),
            c.server.to_string(),
            c.packets
        );
    }
    if all.len() > LISTED {
        let _ = writeln!(
            s,
            "  … and {} more (`socklab inspect {file} --streams` lists them all)",
            all.len() - LISTED
        );
    }
    s
}

fn no_match_text(file: &str, what: &str, hint: Option<&str>, all: &[Conversation]) -> String {
    let hint = hint.map(|h| format!("; {h}")).unwrap_or_default();
    format!(
        "no packet in {file} {what}{hint}\nthe capture's TCP/UDP conversations are:\n{}\
         pass flags that match one of them (client is the side that sent the first SYN or datagram)",
        table(all, file)
    )
}

fn ambiguous_text(
    file: &str,
    pins: &Pins,
    candidates: &[Candidate],
    all: &[Conversation],
) -> String {
    let narrowed = if *pins == Pins::default() {
        String::new()
    } else {
        " with the flags given".to_string()
    };
    let mut s = format!(
        "cannot tell which server in {file} is the scenario's: {} servers fit{narrowed}; \
         add flags to pick one:\n",
        candidates.len()
    );
    let width = candidates
        .iter()
        .take(LISTED)
        .map(|c| c.flags.len())
        .max()
        .unwrap_or(0);
    for c in candidates.iter().take(LISTED) {
        let transports: Vec<&str> = c.transports.iter().map(|t| t.name()).collect();
        let _ = writeln!(
            s,
            "  {:<width$}   {} server {}: {}, {}, from packet {}",
            c.flags,
            transports.join("+"),
            c.server,
            count(c.conversations, "conversation"),
            count(c.packets as usize, "packet"),
            c.first_packet
        );
    }
    if candidates.len() > LISTED {
        let _ = writeln!(s, "  … and {} more servers", candidates.len() - LISTED);
    }
    let _ = write!(
        s,
        "(--client-addr and --client-port keep one client's conversations)\n\
         the capture's TCP/UDP conversations are:\n{}",
        table(all, file)
    );
    s.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{TcpStream, UdpFlow};
    use crate::check::wire::testing::{tcp_round_trip, udp_round_trip, udp_unreachable, SERVER};

    fn ep(s: &str) -> Endpoint {
        let sa: std::net::SocketAddr = s.parse().expect("endpoint");
        Endpoint {
            ip: sa.ip(),
            port: sa.port(),
        }
    }

    /// A capture with the given TCP streams and UDP flows (client, server), copied from the
    /// round trips of `check::wire::testing`: 10 packets per stream, 2 per flow.
    fn capture(tcp: &[(&str, &str)], udp: &[(&str, &str)]) -> Analysis {
        let mut a = tcp_round_trip();
        let (s0, f0) = (
            a.tcp_streams[0].clone(),
            udp_round_trip().udp_flows[0].clone(),
        );
        a.tcp_streams = tcp
            .iter()
            .enumerate()
            .map(|(i, (c, s))| TcpStream {
                index: i as u32,
                client: ep(c),
                server: ep(s),
                first_packet: 1 + 2 * i as u64,
                ..s0.clone()
            })
            .collect();
        a.udp_flows = udp
            .iter()
            .enumerate()
            .map(|(i, (c, s))| UdpFlow {
                index: i as u32,
                a: ep(c),
                b: ep(s),
                first_packet: 100 + 2 * i as u64,
                ..f0.clone()
            })
            .collect();
        a
    }

    fn pins(server: Option<&str>, port: Option<u16>, client: Option<&str>) -> Pins {
        Pins {
            server_addr: server.map(|s| s.parse().expect("addr")),
            server_port: port,
            client_addr: client.map(|s| s.parse().expect("addr")),
            client_port: None,
        }
    }

    #[test]
    fn one_server_is_inferred_whatever_the_number_of_clients() {
        let a = tcp_round_trip();
        let r = resolve(&a, &Pins::default(), "t.pcap").expect("roles");
        assert_eq!(r.server.port, SERVER);
        assert_eq!(r.server_from(), "inferred from packet 1");
        let a = capture(
            &[
                ("192.0.2.10:40000", "192.0.2.20:12000"),
                ("192.0.2.30:40500", "192.0.2.20:12000"),
            ],
            &[],
        );
        let r = resolve(&a, &Pins::default(), "t.pcap").expect("roles");
        assert_eq!(r.conversations.len(), 2);
        assert!(r
            .clients()
            .starts_with("2 clients (192.0.2.10:40000, 192.0.2.30:40500)"));
    }

    #[test]
    fn two_servers_are_ambiguous_and_each_gets_its_flags() {
        let a = capture(
            &[
                ("192.0.2.10:40000", "192.0.2.20:12000"),
                ("192.0.2.10:40001", "203.0.113.80:12000"),
            ],
            &[("192.0.2.10:53001", "198.51.100.53:53")],
        );
        let err = resolve(&a, &Pins::default(), "t.pcap").unwrap_err();
        let RoleError::Ambiguous { candidates, .. } = &err else {
            panic!("{err}")
        };
        let flags: Vec<&str> = candidates.iter().map(|c| c.flags.as_str()).collect();
        assert_eq!(
            flags,
            [
                "--server-addr 192.0.2.20 --server-port 12000",
                "--server-addr 203.0.113.80 --server-port 12000",
                "--server-port 53"
            ]
        );
        let text = err.to_string();
        assert!(text.contains("3 servers fit"), "{text}");
        assert!(text.contains("192.0.2.10:53001"), "{text}");
        let r = resolve(&a, &pins(Some("192.0.2.20"), None, None), "t.pcap").expect("roles");
        assert_eq!(r.server, ep("192.0.2.20:12000"));
        assert_eq!(
            r.server_from(),
            "address given, port inferred from packet 1"
        );
        assert_eq!((r.other_conversations, r.other_packets), (2, 12));
    }

    #[test]
    fn a_flag_that_matches_nothing_is_named_with_a_hint_when_roles_are_swapped() {
        let a = capture(&[("192.0.2.10:40000", "192.0.2.20:12000")], &[]);
        let text = resolve(&a, &pins(None, Some(12001), None), "t.pcap")
            .unwrap_err()
            .to_string();
        assert!(
            text.starts_with("no packet in t.pcap has server port 12001\n"),
            "{text}"
        );
        assert!(text.contains("192.0.2.10:40000"), "{text}");
        let text = resolve(&a, &pins(None, None, Some("192.0.2.20")), "t.pcap")
            .unwrap_err()
            .to_string();
        assert!(
            text.contains("address 192.0.2.20 is the server's in 1 conversation: did you mean --server-addr 192.0.2.20?"),
            "{text}"
        );
        let text = resolve(
            &a,
            &pins(Some("192.0.2.20"), None, Some("192.0.2.20")),
            "t.pcap",
        )
        .unwrap_err()
        .to_string();
        assert!(text.contains("has client address 192.0.2.20"), "{text}");
        let text = resolve(&a, &pins(Some("192.0.2.10"), Some(12000), None), "t.pcap")
            .unwrap_err()
            .to_string();
        assert!(text.contains("has server address 192.0.2.10"), "{text}");
    }

    #[test]
    fn flags_that_each_match_but_not_together_say_so() {
        let a = capture(
            &[
                ("192.0.2.10:40000", "192.0.2.20:12000"),
                ("192.0.2.10:40001", "203.0.113.80:80"),
            ],
            &[],
        );
        let text = resolve(&a, &pins(Some("203.0.113.80"), Some(12000), None), "t.pcap")
            .unwrap_err()
            .to_string();
        assert!(
            text.starts_with(
                "no packet in t.pcap has server address 203.0.113.80 and server port 12000 together"
            ),
            "{text}"
        );
    }

    #[test]
    fn a_udp_flow_is_turned_round_when_the_flags_say_its_first_sender_is_the_server() {
        let a = capture(&[], &[("192.0.2.20:12000", "192.0.2.10:50000")]);
        let r = resolve(&a, &pins(None, Some(12000), None), "t.pcap").expect("roles");
        assert_eq!(r.server, ep("192.0.2.20:12000"));
        assert_eq!(r.conversations[0].client, ep("192.0.2.10:50000"));
    }

    #[test]
    fn narrowing_keeps_the_chosen_conversations_and_their_icmp_errors() {
        let mut a = capture(
            &[("192.0.2.10:40000", "192.0.2.20:12000")],
            &[("192.0.2.10:53001", "198.51.100.53:53")],
        );
        a.icmp_errors = udp_unreachable().icmp_errors;
        a.icmp_errors[0].matched = Some(FlowRef::Udp { flow: 0 });
        let r = resolve(&a, &pins(None, Some(12000), None), "t.pcap").expect("roles");
        let n = narrow(&a, &r);
        assert_eq!(n.tcp_streams.len(), 1);
        assert!(n.udp_flows.is_empty());
        assert!(n.icmp_errors.is_empty());
        let r = resolve(&a, &pins(None, Some(53), None), "t.pcap").expect("roles");
        let n = narrow(&a, &r);
        assert!(n.tcp_streams.is_empty());
        assert_eq!(n.icmp_errors.len(), 1);
    }

    #[test]
    fn a_capture_without_conversations_says_so() {
        let err = resolve(&Analysis::default(), &Pins::default(), "t.pcap").unwrap_err();
        assert!(err
            .to_string()
            .starts_with("t.pcap holds no TCP or UDP conversation (0 packets)"));
    }
}
