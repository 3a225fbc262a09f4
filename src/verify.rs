//! `socklab verify`: apply a scenario's wire checks to a capture the student made (Wireshark,
//! tcpdump), so they can check their own observations.
//!
//! Contract: the scenario (an id under `scenarios/`, or a file) is resolved as for a run, and
//! only its wire checks are kept. A foreign capture has its own ports, so every check's service
//! port becomes the capture's server port: `--server-port`, else the destination port of the
//! capture's first SYN or first UDP datagram, whichever comes first. (A scenario about two
//! ports, such as the wrong-port ones, is then checked on that one port.) Each check is printed
//! with the packet numbers that prove it; [`run`] returns whether all passed.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::analysis::{Analysis, AnalyzerOptions};
use crate::check::CheckResult;
use crate::plan::{self, Bindings, CheckKind};
use crate::scenario::{self, Loaded};

const EXAMPLES: &str = "\
Examples:
  socklab verify my-tcp.pcapng --scenario upper-tcp-round-trip
  socklab verify my-udp.pcap --scenario scenarios/upper/udp-round-trip.json --server-port 12000
  socklab verify my-tcp.pcap --scenario upper-tcp-round-trip --json

The server port is inferred as the destination port of the first SYN or UDP datagram unless
--server-port is given. Exit codes: 0 every wire check passed, 1 a check failed, 2 bad input
(capture, scenario, arguments), 3 output could not be written.";

/// Check your own capture against a scenario's wire checks.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = EXAMPLES)]
pub(crate) struct VerifyArgs {
    /// Capture file (pcap or pcapng), e.g. saved from Wireshark or written by tcpdump -w.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Scenario id (from scenarios/) or scenario file whose wire checks apply.
    #[arg(long, value_name = "ID|PATH")]
    pub scenario: String,
    /// The server's port in this capture (default: inferred).
    #[arg(long, value_name = "N")]
    pub server_port: Option<u16>,
    /// Machine-readable output (JSON).
    #[arg(long)]
    pub json: bool,
}

/// Errors of `socklab verify`.
#[derive(Debug, thiserror::Error)]
pub(crate) enum VerifyError {
    #[error("{0}")]
    Input(String),
    #[error("cannot write output: {0}")]
    Write(#[from] io::Error),
}

#[derive(Serialize)]
struct Report<'a> {
    file: String,
    scenario: &'a str,
    server_port: u16,
    server_port_from: String,
    passed: bool,
    checks: &'a [CheckResult],
}

/// Verifies `args.file`; `Ok(true)` when every wire check passed.
pub(crate) fn run(args: &VerifyArgs, out: &mut dyn Write) -> Result<bool, VerifyError> {
    let loaded = find_scenario(&args.scenario)?;
    let ports = plan::choose_ports(&plan::port_names(&loaded), 1);
    let plan = plan::resolve(&loaded, &Bindings::default(), &ports, "socklab").map_err(|d| {
        let text: Vec<String> = d.iter().map(|x| x.to_string()).collect();
        VerifyError::Input(text.join("\n"))
    })?;
    let wire: Vec<_> = plan
        .checks
        .iter()
        .enumerate()
        .filter_map(|(i, c)| match &c.kind {
            CheckKind::Wire(e) => Some((i, c, e)),
            _ => None,
        })
        .collect();
    if wire.is_empty() {
        return Err(VerifyError::Input(format!(
            "scenario `{}` has no wire checks to verify a capture against",
            plan.id
        )));
    }
    let analysis = read_capture(&args.file)?;
    let (port, from) = match args.server_port {
        Some(p) => (p, "--server-port".to_string()),
        None => infer_server_port(&analysis).ok_or_else(|| {
            VerifyError::Input(format!(
                "cannot infer the server port: {} holds no TCP SYN and no UDP datagram; give --server-port",
                args.file.display()
            ))
        })?,
    };
    let results: Vec<CheckResult> = wire
        .iter()
        .map(|(i, c, e)| {
            CheckResult::wire(
                &c.title,
                c.points,
                format!("check {}", i + 1),
                &e.with_port(port),
                Ok(&analysis),
            )
        })
        .collect();
    let passed = results.iter().all(|c| c.passed);
    if args.json {
        let report = Report {
            file: args.file.display().to_string(),
            scenario: &plan.id,
            server_port: port,
            server_port_from: from,
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
        "{}: {} packets; scenario `{}`; server port {port} ({from})\n",
        args.file.display(),
        analysis.frames,
        plan.id
    )?;
    for c in &results {
        writeln!(out, "{} {}", if c.passed { "✓" } else { "✗" }, c.title)?;
        writeln!(out, "    expected: {}", c.expected)?;
        writeln!(out, "    actual:   {}", c.actual)?;
        if let Some(r) = &c.reason {
            writeln!(out, "    reason:   {r}")?;
        }
    }
    let ok = results.iter().filter(|c| c.passed).count();
    writeln!(out, "\n{ok}/{} wire checks passed", results.len())?;
    Ok(passed)
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

/// The destination port of the first SYN or first UDP datagram, and where it was seen.
fn infer_server_port(a: &Analysis) -> Option<(u16, String)> {
    let tcp = a
        .tcp_streams
        .iter()
        .filter_map(|s| s.handshake.syn.map(|p| (p, s.server.port)))
        .min();
    let udp = a.udp_flows.first().map(|f| (f.first_packet, f.b.port));
    let (packet, port) = match (tcp, udp) {
        (Some(t), Some(u)) => t.min(u),
        (t, u) => t.or(u)?,
    };
    Some((port, format!("inferred from packet {packet}")))
}

/// A scenario file, or the scenario with that id under `scenarios/`.
fn find_scenario(what: &str) -> Result<Loaded, VerifyError> {
    let path = Path::new(what);
    if path.is_file() {
        return scenario::load(path).map_err(|e| VerifyError::Input(e.to_string()));
    }
    let files = crate::run::discover(&[]).map_err(|e| VerifyError::Input(e.to_string()))?;
    let all = crate::run::load_all(&files, None).map_err(|e| VerifyError::Input(e.to_string()))?;
    let ids: Vec<String> = all.iter().map(|l| l.scenario.id.clone()).collect();
    all.into_iter()
        .find(|l| l.scenario.id == what)
        .ok_or_else(|| {
            let help = scenario::did_you_mean(what, ids.iter().map(String::as_str));
            VerifyError::Input(format!(
                "no scenario `{what}` (neither a file nor an id under scenarios/){}",
                help.map(|h| format!("; {h}")).unwrap_or_default()
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::wire::testing::{tcp_round_trip, udp_round_trip, SERVER};

    #[test]
    fn infers_the_server_port_from_the_first_syn_or_datagram() {
        assert_eq!(
            infer_server_port(&tcp_round_trip()).map(|x| x.0),
            Some(SERVER)
        );
        assert_eq!(
            infer_server_port(&udp_round_trip()).map(|x| x.0),
            Some(SERVER)
        );
        assert_eq!(infer_server_port(&Analysis::default()), None);
    }
}
