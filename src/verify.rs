//! `socklab verify`: apply a scenario's wire checks to a capture the student made (Wireshark,
//! tcpdump), so they can check their own observations.
//!
//! Contract: the scenario (a bundled scenario's id, or a file) is resolved as for a run, and
//! only its wire checks are kept. A foreign capture has its own addresses and ports, and often
//! other traffic: [`roles`] finds the one server (address and port) whose conversations satisfy
//! the flags given (`--server-addr`, `--server-port`, `--client-addr`, `--client-port`; none
//! needed when the capture holds one server), and the checks see only those conversations, with
//! every check's service port set to that server's. (A scenario about two ports, such as the
//! wrong-port ones, is then checked on that one port.) Each check is printed with the packet
//! numbers that prove it; [`run`] returns whether all passed.
//!
//! A student types a sentence of their own: a condition on the line the scenario types into
//! its client is replaced by `--text LINE` when given, else by "the client sent something",
//! and replies are judged by their relation to the request (`uppercase_of_request`), which
//! holds for any sentence.

mod roles;

use std::io::{self, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::analysis::{Analysis, AnalyzerOptions};
use crate::check::wire::ServerPorts;
use crate::check::{CheckResult, Outcome};
use crate::plan::{self, Bindings, WireExpect, WireKind};
use crate::scenario::{self, Loaded};

use roles::{Pins, Roles};

const EXAMPLES: &str = "\
Examples:
  socklab verify my-tcp.pcapng --scenario upper-tcp-round-trip
  socklab verify my-udp.pcap --scenario scenarios/upper/udp-round-trip.json --server-port 12000
  socklab verify lab.pcapng --scenario upper-tcp-round-trip \\
      --server-addr 192.0.2.20 --server-port 12000 --client-addr 192.0.2.10
                        a capture of two machines (client 192.0.2.10, server 192.0.2.20) that
                        also holds other traffic: the flags say which conversations are the lab's
  socklab verify my-tcp.pcap --scenario upper-tcp-round-trip --json
  socklab verify my-tcp.pcap --scenario upper-tcp-round-trip --text 'hello, World &*! 123'
                        insist that the client sent that line (by default any line will do:
                        the reply is checked against the line the client did send)

Roles: in each conversation the client is the side that sent the first SYN (TCP) or datagram
(UDP), the server the side that received it. When all the capture's conversations go to one
server, socklab infers both roles. When the capture holds other traffic (DNS, a browser,
another test), give --server-port (and --server-addr if two hosts use that port);
--client-addr and --client-port keep one client's conversations. Each flag narrows the choice;
when the choice is still ambiguous, or a flag matches nothing, socklab lists the capture's
conversations and the flags that pick each server. `socklab inspect FILE --streams` shows them
too.

Exit codes: 0 every wire check passed, 1 a check failed (or judges payload bytes the capture
cut off: not graded), 2 bad input (capture, scenario, arguments, roles not found), 3 output
could not be written. With --json, an error is one JSON line on stderr (docs/json.md).";

/// Check your own capture against a scenario's wire checks.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = EXAMPLES)]
pub(crate) struct VerifyArgs {
    /// Capture file (pcap or pcapng), e.g. saved from Wireshark or written by tcpdump -w.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Scenario id (a bundled scenario's, or one under --scenarios DIR) or scenario file
    /// whose wire checks apply.
    #[arg(long, value_name = "ID|PATH")]
    pub scenario: String,
    /// A directory of scenario files whose ids `--scenario` may name too; one with the id of a
    /// bundled scenario replaces it (and says so). Repeatable.
    #[arg(long = "scenarios", value_name = "DIR")]
    pub scenarios: Vec<PathBuf>,
    /// The server's port in this capture, e.g. 12000 (default: inferred).
    #[arg(long, value_name = "N", value_parser = parse_port)]
    pub server_port: Option<u16>,
    /// The server's IPv4 or IPv6 address in this capture, e.g. 192.0.2.20 (default: inferred).
    #[arg(long, value_name = "ADDR", value_parser = parse_server_addr)]
    pub server_addr: Option<IpAddr>,
    /// The client's port: keep only that client's conversation (default: any).
    #[arg(long, value_name = "N", value_parser = parse_port)]
    pub client_port: Option<u16>,
    /// The client's IPv4 or IPv6 address, e.g. 192.0.2.10: keep only its conversations
    /// (default: any).
    #[arg(long, value_name = "ADDR", value_parser = parse_client_addr)]
    pub client_addr: Option<IpAddr>,
    /// The line you typed into the client: its request must contain it (default: any line;
    /// the reply is judged against what the client sent either way).
    #[arg(long, value_name = "LINE")]
    pub text: Option<String>,
    /// Machine-readable output (JSON); errors too, as one JSON line on standard error.
    #[arg(long)]
    pub json: bool,
}

impl VerifyArgs {
    fn pins(&self) -> Pins {
        Pins {
            server_addr: self.server_addr,
            server_port: self.server_port,
            client_addr: self.client_addr,
            client_port: self.client_port,
        }
    }
}

fn parse_port(s: &str) -> Result<u16, String> {
    match s.trim().parse::<u16>() {
        Ok(0) => Err("port 0 never appears on the wire: give a port from 1 to 65535".into()),
        Ok(p) => Ok(p),
        Err(_) => Err(format!("`{s}` is not a port number (1 to 65535)")),
    }
}

fn parse_server_addr(s: &str) -> Result<IpAddr, String> {
    parse_addr(s, "--server-port")
}

fn parse_client_addr(s: &str) -> Result<IpAddr, String> {
    parse_addr(s, "--client-port")
}

/// An IPv4 or IPv6 address; `[2001:db8::1]` is accepted too. `port_flag` is named when the
/// value carries a port.
fn parse_addr(s: &str, port_flag: &str) -> Result<IpAddr, String> {
    let t = s.trim();
    let bare = t
        .strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .unwrap_or(t);
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(ip);
    }
    if let Ok(sa) = t.parse::<std::net::SocketAddr>() {
        return Err(format!(
            "`{s}` is an address with a port: give the address alone ({}) and the port with {port_flag} {}",
            sa.ip(),
            sa.port()
        ));
    }
    Err(format!(
        "`{s}` is not an IPv4 or IPv6 address (e.g. 192.0.2.20 or 2001:db8::20)"
    ))
}

/// Errors of `socklab verify`.
#[derive(Debug, thiserror::Error)]
pub(crate) enum VerifyError {
    #[error("{0}")]
    Input(String),
    #[error(transparent)]
    Roles(#[from] roles::RoleError),
    #[error("cannot write output: {0}")]
    Write(#[from] io::Error),
}

#[derive(Serialize)]
struct Report<'a> {
    file: String,
    scenario: &'a str,
    server_port: u16,
    server_port_from: String,
    roles: &'a Roles,
    /// `--text`: the line the client's request had to contain.
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<&'a str>,
    passed: bool,
    checks: &'a [CheckResult],
}

/// An expectation as a capture made elsewhere can meet it: nothing says the time zone of the
/// date/time server in it (a run's plan has the zone it gave the server).
fn foreign(mut e: WireExpect) -> WireExpect {
    if let WireKind::DatetimeReply(p) = &mut e.kind {
        p.utc_offset_s = None;
    }
    e
}

/// Verifies `args.file`; `Ok(true)` when every wire check passed.
pub(crate) fn run(args: &VerifyArgs, out: &mut dyn Write) -> Result<bool, VerifyError> {
    let loaded = find_scenario(&args.scenario, &args.scenarios, !args.json)?;
    let ports = plan::choose_ports(&plan::port_names(&loaded), 1);
    let plan = plan::resolve(&loaded, &Bindings::default(), &ports, "socklab").map_err(|d| {
        let text: Vec<String> = d.iter().map(|x| x.to_string()).collect();
        VerifyError::Input(text.join("\n"))
    })?;
    let wire: Vec<_> = plan
        .checks
        .iter()
        .enumerate()
        .filter_map(|(i, c)| c.wire().map(|e| (i, c, e)))
        .collect();
    if wire.is_empty() {
        return Err(VerifyError::Input(format!(
            "scenario `{}` has no wire checks to verify a capture against",
            plan.id
        )));
    }
    if args.text.is_some() && !wire.iter().any(|(_, _, e)| e.has_typed_line()) {
        return Err(VerifyError::Input(format!(
            "--text: scenario `{}` checks no line typed into a client, so there is no request \
             line to replace; leave --text out",
            plan.id
        )));
    }
    let analysis = read_capture(&args.file)?;
    let file = args.file.display().to_string();
    let roles = roles::resolve(&analysis, &args.pins(), &file)?;
    let seen = roles::narrow(&analysis, &roles);
    let port = roles.server.port;
    // A foreign capture has no run behind it: the server is where the roles found it.
    let servers = ServerPorts::default();
    let client = roles.conversations.first().map(|c| c.client.ip);
    let results: Vec<CheckResult> = wire
        .iter()
        .map(|(i, c, e)| {
            CheckResult::wire(
                &c.title,
                c.points,
                format!("check {}", i + 1),
                &foreign(
                    e.in_foreign_capture(roles.server.ip, client)
                        .with_port(port)
                        .with_typed_line(args.text.as_deref()),
                ),
                crate::check::Capture::Analysed(&seen),
                &servers,
            )
        })
        .collect();
    let passed = results.iter().all(|c| c.passed);
    if args.json {
        let report = Report {
            file,
            scenario: &plan.id,
            server_port: port,
            server_port_from: roles.server_port_from(),
            roles: &roles,
            text: args.text.as_deref(),
            passed,
            checks: &results,
        };
        let text = serde_json::to_string_pretty(&report)
            .map_err(|e| VerifyError::Input(format!("cannot encode JSON: {e}")))?;
        writeln!(out, "{text}")?;
        return Ok(passed);
    }
    writeln!(
        out,
        "{file}: {} packets; scenario `{}`\nserver {} ({}); {}",
        analysis.frames,
        plan.id,
        roles.server,
        roles.server_from(),
        roles.clients()
    )?;
    writeln!(out, "{}\n", checked_phrase(&roles))?;
    for c in &results {
        let mark = match c.outcome {
            _ if c.passed => "✓",
            // Neither passed nor failed: the capture lacks what the check is about.
            Outcome::NotGraded => "–",
            _ => "✗",
        };
        writeln!(out, "{mark} {}", c.title)?;
        writeln!(out, "    expected: {}", c.expected)?;
        writeln!(out, "    actual:   {}", c.actual)?;
        if let Some(r) = &c.reason {
            writeln!(out, "    reason:   {r}")?;
        }
    }
    let ok = results.iter().filter(|c| c.passed).count();
    let unjudged = results
        .iter()
        .filter(|c| c.outcome == Outcome::NotGraded)
        .count();
    write!(out, "\n{ok}/{} wire checks passed", results.len())?;
    if unjudged > 0 {
        write!(
            out,
            "; {unjudged} not graded: the capture lacks the bytes they judge"
        )?;
    }
    writeln!(out)?;
    let clients = roles.client_count();
    if !passed && clients > 1 {
        writeln!(
            out,
            "(the checks saw the conversations of {clients} clients; --client-addr or \
             --client-port keeps one client's)"
        )?;
    }
    Ok(passed)
}

/// `checked: 1 conversation, 10 packets; left out: 3 other conversations, 8 packets`.
fn checked_phrase(r: &Roles) -> String {
    let packets: u64 = r.conversations.iter().map(|c| c.packets).sum();
    let mut s = format!(
        "checked: {}, {}",
        roles::count(r.conversations.len(), "conversation"),
        roles::count(packets as usize, "packet")
    );
    if r.other_conversations > 0 {
        s.push_str(&format!(
            "; left out: {}, {}",
            roles::count(r.other_conversations, "other conversation"),
            roles::count(r.other_packets as usize, "packet")
        ));
    }
    s
}

fn read_capture(path: &Path) -> Result<Analysis, VerifyError> {
    let file = std::fs::File::open(path)
        .map_err(|e| VerifyError::Input(format!("cannot open {}: {e}", path.display())))?;
    let opts = AnalyzerOptions {
        keep_summaries: false,
        summaries: false,
        ..AnalyzerOptions::default()
    };
    crate::analysis::analyze(io::BufReader::new(file), &path.display().to_string(), opts)
        .map_err(|e| VerifyError::Input(e.to_string()))
}

/// A scenario file, or the scenario with that id among the bundled ones and those under the
/// `extra` directories (which override bundled ones of the same id: said on stderr when
/// `announce`; with --json stderr is kept for the one JSON error line).
fn find_scenario(what: &str, extra: &[PathBuf], announce: bool) -> Result<Loaded, VerifyError> {
    let path = Path::new(what);
    if path.is_file() {
        return scenario::load(path).map_err(|e| VerifyError::Input(e.to_string()));
    }
    let selected =
        crate::run::select(&[], extra, None).map_err(|e| VerifyError::Input(e.to_string()))?;
    if announce {
        selected.announce();
    }
    let all = selected.loaded;
    let ids: Vec<String> = all.iter().map(|l| l.scenario.id.clone()).collect();
    all.into_iter()
        .find(|l| l.scenario.id == what)
        .ok_or_else(|| {
            let help = scenario::did_you_mean(what, ids.iter().map(String::as_str));
            VerifyError::Input(format!(
                "no scenario `{what}` (neither a file nor the id of a bundled scenario or one under --scenarios){}",
                help.map(|h| format!("; {h}")).unwrap_or_default()
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse_as_ipv4_or_ipv6_and_a_port_is_pointed_to_its_flag() {
        assert_eq!(
            parse_addr("192.0.2.20", "--server-port"),
            Ok("192.0.2.20".parse().expect("ip"))
        );
        assert_eq!(
            parse_addr("[2001:db8::20]", "--server-port"),
            Ok("2001:db8::20".parse().expect("ip"))
        );
        assert_eq!(
            parse_server_addr("192.0.2.20:12000"),
            Err("`192.0.2.20:12000` is an address with a port: give the address alone (192.0.2.20) and the port with --server-port 12000".into())
        );
        assert!(parse_client_addr("localhost")
            .unwrap_err()
            .contains("not an IPv4 or IPv6 address"));
        assert_eq!(parse_port("12000"), Ok(12000));
        assert!(parse_port("0").unwrap_err().contains("1 to 65535"));
        assert!(parse_port("70000")
            .unwrap_err()
            .contains("not a port number"));
    }
}
