//! socklab's own peers: the programs a lab needs besides the students' (`socklab peer NAME ...`).
//!
//! A peer is not a reference implementation of a student's role: it is the other party the lab
//! assumes (an origin server behind the proxy, a mail server for the mail client, a client that
//! misbehaves on purpose). Peers run inside the sandbox like any program, print a dialogue
//! people read, and with `--record FILE` append one JSON line per session or request to FILE:
//! typed evidence checks read instead of parsing text.
//!
//! - `smtp-server HOST PORT [--record FILE] [--bare-lf refuse|accept] [--greet now|on-input]`:
//!   a strict SMTP server ([`smtp_server`]); `--bare-lf accept` takes a line ending in LF
//!   alone as servers did before SMTP smuggling, so that a scenario can judge the rest of a
//!   dialogue apart; `--greet on-input` holds each greeting until a line comes on its
//!   standard input.
//! - `http-origin HOST PORT [--record FILE] [--delay PATH=MS]... [--large PATH=BYTES]...`: an
//!   origin web server that serves its working directory and counts requests ([`http_origin`]).
//! - `http-get HOST PORT FILE`: fetches `/FILE` and prints the response ([`clients`]).
//! - `proxy-client PROXY_HOST PROXY_PORT ORIGIN_HOST ORIGIN_PORT FILE [--form F]`: asks a proxy
//!   for an object, in absolute form or the skeleton's ([`clients`]).
//! - `idle-client HOST PORT`: opens a connection and sends nothing until stopped.
//! - `trickle-client HOST PORT FILE`: sends `GET /FILE` one byte per TCP segment
//!   ([`clients`]), the test for "one recv is the whole request".
//! - `concurrent-clients HOST PORT FILE N`: N connections open at once, answered last first
//!   ([`clients`]), the test for "served concurrently, not just eventually".
//! - `slow-reader HOST PORT FILE`: asks, then reads nothing until a line on stdin.
//! - `udp-ask HOST PORT MESSAGE...`: sends each message in a datagram of its own and prints
//!   the answer ([`clients`]), e.g. a request a date/time client never sends.

pub(crate) mod clients;
pub(crate) mod http_origin;
pub(crate) mod smtp_server;

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::labs::upper::{Endpoint, LabError};

/// One peer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Peer {
    pub name: &'static str,
    pub usage: &'static str,
    pub summary: &'static str,
    pub main: fn(&[String]) -> i32,
}

/// Every peer.
pub(crate) const PEERS: &[Peer] = &[
    Peer {
        name: "smtp-server",
        usage: "HOST PORT [--record FILE] [--bare-lf refuse|accept] [--greet now|on-input]",
        summary: "strict SMTP server: greets first, refuses bare LF, records each session",
        main: smtp_server::smtp_server,
    },
    Peer {
        name: "http-origin",
        usage: "HOST PORT [--record FILE] [--delay PATH=MS]... [--large PATH=BYTES]...",
        summary: "origin web server: serves its directory, counts requests per path",
        main: http_origin::http_origin,
    },
    Peer {
        name: "http-get",
        usage: "HOST PORT FILE",
        summary: "sends `GET /FILE` and prints the whole response",
        main: clients::http_get,
    },
    Peer {
        name: "proxy-client",
        usage: clients::PROXY_CLIENT_USAGE,
        summary: "asks a proxy for http://ORIGIN_HOST:ORIGIN_PORT/FILE (absolute form, as curl -x)",
        main: clients::proxy_client,
    },
    Peer {
        name: "idle-client",
        usage: "HOST PORT",
        summary: "opens a TCP connection and sends nothing until stopped",
        main: clients::idle_client,
    },
    Peer {
        name: "trickle-client",
        usage: "HOST PORT FILE",
        summary: "sends `GET /FILE` one byte per TCP segment, prints the response",
        main: clients::trickle_client,
    },
    Peer {
        name: "concurrent-clients",
        usage: "HOST PORT FILE N",
        summary: "N connections at once, then a GET on each, the last first",
        main: clients::concurrent_clients,
    },
    Peer {
        name: "slow-reader",
        usage: "HOST PORT FILE",
        summary: "sends `GET /FILE`, then reads nothing until a stdin line",
        main: clients::slow_reader,
    },
    Peer {
        name: "udp-ask",
        usage: "HOST PORT MESSAGE...",
        summary: "sends each MESSAGE in a UDP datagram of its own, prints each answer",
        main: clients::udp_ask,
    },
];

/// The peer named `name`, if any.
pub(crate) fn peer(name: &str) -> Option<&'static Peer> {
    PEERS.iter().find(|p| p.name == name)
}

pub(crate) fn usage_of(name: &str) -> &'static str {
    peer(name).map_or("HOST PORT", |p| p.usage)
}

/// Options after `HOST PORT`: `--record FILE` and repeated `--NAME VALUE` pairs.
#[derive(Debug, Default)]
pub(crate) struct Options {
    pub record: Record,
    /// Other options, in order: (`delay`, `/a.html=2000`), ...
    pub pairs: Vec<(String, String)>,
}

/// Parses `HOST PORT [--record FILE] [--NAME VALUE]...` for peer `name`, accepting `allowed`
/// option names besides `record`.
pub(crate) fn parse_options(
    name: &'static str,
    args: &[String],
    allowed: &[&str],
) -> Result<(Endpoint, Options), LabError> {
    let usage = usage_of(name);
    let bad = |problem: String| LabError::Usage {
        role: name,
        usage,
        problem,
    };
    let [host, port, rest @ ..] = args else {
        return Err(bad(format!(
            "expected HOST PORT, got {} arguments",
            args.len()
        )));
    };
    let endpoint = Endpoint::parse(name, usage, host, port)?;
    let mut options = Options::default();
    let mut it = rest.iter();
    while let Some(flag) = it.next() {
        let key = flag.strip_prefix("--").unwrap_or_default();
        if key != "record" && !allowed.contains(&key) {
            return Err(bad(format!("unknown option {flag:?}")));
        }
        let Some(value) = it.next() else {
            return Err(bad(format!("{flag} needs a value")));
        };
        if key == "record" {
            options.record = Record(Some(PathBuf::from(value)));
        } else {
            options.pairs.push((key.to_string(), value.clone()));
        }
    }
    Ok((endpoint, options))
}

/// Where a peer appends its JSON lines, if anywhere.
#[derive(Debug, Default, Clone)]
pub(crate) struct Record(pub Option<PathBuf>);

impl Record {
    /// Appends `entry` as one JSON line; a failure is said on stderr and does not stop the peer
    /// (a check reading the record then finds it missing, and says so).
    pub(crate) fn append(record: &Arc<Mutex<Record>>, entry: &impl serde::Serialize) {
        let record = record.lock().unwrap_or_else(|p| p.into_inner());
        let Some(path) = &record.0 else { return };
        let line = match serde_json::to_string(entry) {
            Ok(l) => l,
            Err(e) => return eprintln!("cannot record: {e}"),
        };
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut f| writeln!(f, "{line}"));
        if let Err(e) = written {
            eprintln!("cannot record to {}: {e}", path.display());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn options_follow_host_and_port_and_unknown_ones_are_refused() {
        let (e, o) = parse_options(
            "http-origin",
            &args(&["127.0.0.1", "80", "--record", "r.jsonl", "--delay", "/a=5"]),
            &["delay", "large"],
        )
        .unwrap();
        assert_eq!(e.port, 80);
        assert_eq!(o.record.0, Some(PathBuf::from("r.jsonl")));
        assert_eq!(o.pairs, [("delay".to_string(), "/a=5".to_string())]);
        let err =
            parse_options("smtp-server", &args(&["h", "1", "--delay", "x"]), &[]).unwrap_err();
        assert!(
            err.to_string().starts_with(
                "unknown option \"--delay\"\nusage: smtp-server HOST PORT [--record FILE] [--bare-lf refuse|accept] [--greet now|on-input]"
            ),
            "{err}"
        );
        assert!(parse_options("smtp-server", &args(&["h", "1", "--record"]), &[]).is_err());
        assert!(parse_options("smtp-server", &args(&["h"]), &[]).is_err());
    }

    #[test]
    fn peer_help_lists_every_peer_with_its_usage_and_summary() {
        use clap::CommandFactory;
        let mut cli = crate::cli::Cli::command();
        let help = cli
            .find_subcommand_mut("peer")
            .unwrap()
            .render_long_help()
            .to_string();
        for p in PEERS {
            let line = format!("  {} {}\n      {}\n", p.name, p.usage, p.summary);
            assert!(help.contains(&line), "{line:?} missing from:\n{help}");
        }
    }

    #[test]
    fn records_are_json_lines_appended_per_entry() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.jsonl");
        let record = Arc::new(Mutex::new(Record(Some(path.clone()))));
        Record::append(&record, &serde_json::json!({"n": 1}));
        Record::append(&record, &serde_json::json!({"n": 2}));
        assert_eq!(
            std::fs::read_to_string(path).unwrap(),
            "{\"n\":1}\n{\"n\":2}\n"
        );
    }
}
