//! `socklab inspect`: look at a capture the way a student would in Wireshark, from a terminal.
//!
//! Contract: [`run`] reads one pcap/pcapng file as a stream and writes one view to `out`: the
//! packet list (default), the conversation table (`--streams`), one TCP stream's payload
//! (`--follow N`) or a ladder diagram (`--ladder`), as text or JSON (`--json`). Memory stays
//! bounded whatever the file size: the list is printed as packets arrive; `--streams` keeps no
//! payload, retires flows past a count bound and prints each row once every lower-numbered one
//! is out, with the totals after the tables (see `streams`); `--follow` keeps only the
//! followed stream's payload (up to `--max-bytes`). A file cut short prints what it holds, and a
//! warning on standard error as tshark does, so that the output stays what the file holds
//! (JSON: a `warnings` field).

mod reorder;
mod streams;

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::net::IpAddr;
use std::path::PathBuf;

use crate::analysis::escape::escape_bytes;
use crate::analysis::{Analyzer, AnalyzerOptions, DecodeAs, Endpoint, PacketSummary, RetirePolicy};
use crate::wire::{CaptureError, CaptureReader, Frame};

const EXAMPLES: &str = "\
Examples:
  socklab inspect run.pcap                     packet list, like Wireshark's top pane
  socklab inspect run.pcap --streams           TCP and UDP conversations, handshake, teardown
  socklab inspect run.pcap --follow 0          payload of TCP stream 0, client then server
  socklab inspect run.pcap --ladder            arrows between the first two hosts
  socklab inspect run.pcap --ladder --between 127.0.0.1:5000 127.0.0.1:12000
  socklab inspect run.pcap --streams --json    the same, as JSON for scripts
  socklab inspect run.pcap --smtp-port 30201   SMTP on a lab's port, as tshark -d tcp.port==30201,smtp

Stream numbers are tshark's tcp.stream, so `tshark -Y tcp.stream==0` shows the same packets.";

/// Show what is inside a packet capture (pcap or pcapng).
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = EXAMPLES)]
pub(crate) struct InspectArgs {
    /// Capture file to read (pcap or pcapng, any byte order).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// List TCP streams and UDP flows: endpoints, handshake, teardown (FIN/RST/none), packets
    /// and bytes each way, duration (earliest to latest packet, as tshark). Streams are grouped
    /// as tshark's tcp.stream, never by time; a row is printed once its stream is let go of
    /// (past 32,768 held, or at the end), totals last; memory stays under 100 MB for any
    /// capture (rows waiting for a still-open stream go to $TMPDIR).
    #[arg(long, conflicts_with_all = ["follow", "ladder"])]
    pub streams: bool,

    /// Print the payload of TCP stream N as Wireshark's "Follow TCP Stream": client data
    /// flush left, server data indented, non-printable bytes escaped as \xNN.
    #[arg(long, value_name = "N", conflicts_with = "ladder")]
    pub follow: Option<u32>,

    /// Draw an ASCII ladder diagram of the packets exchanged between two endpoints.
    #[arg(long)]
    pub ladder: bool,

    /// With --ladder: the two endpoints, as IP or IP:PORT (default: the first packet's source
    /// and destination hosts).
    #[arg(long, num_args = 2, value_names = ["A", "B"], requires = "ladder")]
    pub between: Option<Vec<String>>,

    /// With --follow: stop keeping payload after this many bytes per direction (at least 1).
    #[arg(long, value_name = "BYTES", default_value_t = 16 * 1024 * 1024, value_parser = parse_max_bytes)]
    pub max_bytes: usize,

    /// Machine-readable output (JSON) of the selected view; errors too, as one JSON line on
    /// standard error.
    #[arg(long)]
    pub json: bool,

    /// Read TCP port PORT as SMTP in the packet list (Protocol SMTP, Info `C: EHLO ...`), as
    /// `tshark -d tcp.port==PORT,smtp` does: tshark guesses SMTP on port 25 only, and the
    /// labs' servers listen elsewhere. Repeat for more ports (at most 4).
    #[arg(long, value_name = "PORT")]
    pub smtp_port: Vec<u16>,
}

/// A byte count of at least 1: with 0 nothing would be kept, and nothing said to be cut.
fn parse_max_bytes(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(0) => Err("0 would keep no payload at all: give at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("`{s}` is not a number of bytes")),
    }
}

/// Errors of `socklab inspect`.
#[derive(Debug, thiserror::Error)]
pub(crate) enum InspectError {
    #[error("cannot open {path}: {source}")]
    Open {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Capture(#[from] CaptureError),
    #[error("cannot write output: {0}")]
    Write(#[from] io::Error),
    #[error("no TCP stream {wanted}: the capture has {count} (numbered from 0)")]
    NoSuchStream { wanted: u32, count: usize },
    #[error("bad endpoint {0:?}: expected IP or IP:PORT (IPv6 as [ADDR]:PORT)")]
    BadEndpoint(String),
    #[error(
        "no packet of the capture is between {a} and {b}; its endpoints are: {seen} \
         (`socklab inspect FILE --streams` lists its conversations)"
    )]
    NothingBetween { a: String, b: String, seen: String },
    #[error("cannot encode JSON: {0}")]
    Json(#[from] serde_json::Error),
}

impl InspectError {
    /// True when the reader of our output went away (`| head`): not worth reporting.
    pub(crate) fn is_broken_pipe(&self) -> bool {
        matches!(self, InspectError::Write(e) if e.kind() == io::ErrorKind::BrokenPipe)
    }
}

/// Runs the selected view of `args.file`, writing to `out`.
pub(crate) fn run(args: &InspectArgs, out: &mut dyn Write) -> Result<(), InspectError> {
    let path = args.file.display().to_string();
    let file = File::open(&args.file).map_err(|source| InspectError::Open {
        path: path.clone(),
        source,
    })?;
    let mut out = BufWriter::with_capacity(64 * 1024, out);
    let reader = CaptureReader::new(file, path)?;
    if args.streams {
        let retire = Some(RetirePolicy::bounded());
        streams::streams_view(reader, args.json, retire, streams::ROW_BUDGET, &mut out)?;
    } else if let Some(n) = args.follow {
        follow_view(reader, n, args, RetirePolicy::bounded(), &mut out)?;
    } else if args.ladder {
        ladder_view(reader, args, &mut out)?;
    } else {
        list_view(reader, args, &mut out)?;
    }
    out.flush()?;
    Ok(())
}

/// Calls `each` with every frame, which it feeds to `an`; a truncated file ends the loop with
/// a warning instead of an error.
fn drive<R: io::Read>(
    mut reader: CaptureReader<R>,
    an: &mut Analyzer,
    mut each: impl FnMut(&mut Analyzer, &Frame<'_>) -> Result<(), InspectError>,
) -> Result<Vec<String>, InspectError> {
    let mut warnings = Vec::new();
    loop {
        match reader.next_frame() {
            Ok(Some(frame)) => each(an, &frame)?,
            Ok(None) => break,
            Err(e) if e.is_truncation() => {
                an.warn(e.to_string());
                warnings.push(e.to_string());
                break;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(warnings)
}

fn addr(a: Option<IpAddr>) -> String {
    a.map(|a| a.to_string()).unwrap_or_default()
}

fn list_view<R: io::Read>(
    reader: CaptureReader<R>,
    args: &InspectArgs,
    out: &mut dyn Write,
) -> Result<(), InspectError> {
    let mut an = Analyzer::new(AnalyzerOptions {
        decode_as: DecodeAs::smtp(&args.smtp_port),
        ..AnalyzerOptions::streaming(true)
    });
    let mut first = true;
    // The header comes with the first packet, whose timestamps' decimals set the Time
    // column's width (9 for a nanosecond capture).
    let header = |out: &mut dyn Write, decimals: usize| {
        writeln!(
            out,
            "{:>6} {:>width$} {:<15} {:<15} {:<8} {:>6} Info",
            "No.",
            "Time",
            "Source",
            "Destination",
            "Protocol",
            "Length",
            width = decimals + 5
        )
    };
    let mut header_done = false;
    if args.json {
        out.write_all(b"{\"packets\":[")?;
    }
    let warnings = drive(reader, &mut an, |an, frame| {
        let Some(s) = an.push(frame) else {
            return Ok(());
        };
        if args.json {
            if !first {
                out.write_all(b",")?;
            }
            first = false;
            out.write_all(b"\n")?;
            serde_json::to_writer(&mut *out, s)?;
        } else {
            // As many decimals as the capture's timestamps have, as tshark prints them.
            let decimals = usize::from(frame.decimals);
            if !header_done {
                header_done = true;
                header(out, decimals)?;
            }
            writeln!(
                out,
                "{:>6} {:>width$.decimals$} {:<15} {:<15} {:<8} {:>6} {}",
                s.number,
                s.time,
                addr(s.src),
                addr(s.dst),
                s.protocol,
                s.length,
                s.info,
                width = decimals + 5,
            )?;
        }
        Ok(())
    })?;
    if !args.json && !header_done {
        header(out, 6)?;
    }
    finish_warnings(out, args.json, &warnings)
}

/// A warning about the capture (cut short, damaged), on standard error: stdout stays the
/// capture's contents, as with tshark.
pub(crate) fn warn(w: &str) {
    eprintln!("warning: {w}");
}

fn finish_warnings(
    out: &mut dyn Write,
    json: bool,
    warnings: &[String],
) -> Result<(), InspectError> {
    if json {
        write!(out, "\n],\"warnings\":")?;
        serde_json::to_writer(&mut *out, warnings)?;
        writeln!(out, "}}")?;
    } else {
        for w in warnings {
            warn(w);
        }
    }
    Ok(())
}

fn follow_view<R: io::Read>(
    reader: CaptureReader<R>,
    n: u32,
    args: &InspectArgs,
    retire: RetirePolicy,
    out: &mut dyn Write,
) -> Result<(), InspectError> {
    // Flows are retired as in `--streams` and all but stream N dropped as they leave, so that
    // memory stays bounded on a capture of a million connections.
    let mut an = Analyzer::new(AnalyzerOptions {
        summaries: false,
        keep_summaries: false,
        payload_cap: args.max_bytes,
        payload_stream: Some(n),
        retire: Some(retire),
        ..AnalyzerOptions::default()
    });
    let mut followed = None;
    let mut keep = |an: &mut Analyzer| {
        if an.has_finished() {
            if let Some(t) = an.drain_tcp().find(|t| t.index == n) {
                followed = Some(t);
            }
            an.drain_udp().for_each(drop);
            an.drain_icmp_errors().for_each(drop);
        }
    };
    drive(reader, &mut an, |an, frame| {
        an.push(frame);
        keep(an);
        Ok(())
    })?;
    keep(&mut an);
    let count = an.flow_counts().0;
    let a = an.finish();
    let Some(t) = followed
        .as_ref()
        .or_else(|| a.tcp_streams.iter().find(|t| t.index == n))
    else {
        return Err(InspectError::NoSuchStream {
            wanted: n,
            count: count as usize,
        });
    };
    let chunks = follow_chunks(t);
    if args.json {
        #[derive(serde::Serialize)]
        struct JsonChunk<'a> {
            from: &'static str,
            packet: u64,
            len: u64,
            data: &'a str,
            /// Bytes the capture lacks right after `data` (cut by the snapshot length, or
            /// never captured).
            missing: u64,
        }
        #[derive(serde::Serialize)]
        struct View<'a> {
            stream: u32,
            client: Endpoint,
            server: Endpoint,
            chunks: Vec<JsonChunk<'a>>,
            /// The payload was cut at `--max-bytes` in a direction.
            truncated: bool,
            /// Bytes of the stream the capture lacks, both ways.
            missing: u64,
            warnings: &'a [String],
        }
        let texts: Vec<String> = chunks.iter().map(|c| escape_bytes(c.data, false)).collect();
        let v = View {
            stream: n,
            client: t.client,
            server: t.server,
            chunks: chunks
                .iter()
                .zip(&texts)
                .map(|(c, text)| JsonChunk {
                    from: if c.from_client { "client" } else { "server" },
                    packet: c.packet,
                    len: c.data.len() as u64,
                    data: text,
                    missing: c.missing,
                })
                .collect(),
            truncated: t.to_server.payload_truncated || t.to_client.payload_truncated,
            missing: t.to_server.missing_bytes + t.to_client.missing_bytes,
            warnings: &a.warnings,
        };
        serde_json::to_writer_pretty(&mut *out, &v)?;
        writeln!(out)?;
        return Ok(());
    }
    let rule = "=".repeat(67);
    writeln!(out, "{rule}\nFollow: tcp,ascii\nFilter: tcp.stream eq {n}")?;
    writeln!(out, "Node 0: {}\nNode 1: {}", t.client, t.server)?;
    for c in &chunks {
        let indent: &[u8] = if c.from_client { b"" } else { b"\t" };
        let text = escape_bytes(c.data, true);
        for line in text.split_inclusive('\n') {
            out.write_all(indent)?;
            out.write_all(line.as_bytes())?;
        }
        if !text.is_empty() && !text.ends_with('\n') {
            writeln!(out)?;
        }
        if c.missing > 0 {
            // As Wireshark's Follow marks bytes the capture does not hold.
            out.write_all(indent)?;
            writeln!(out, "[{} bytes missing in capture file]", c.missing)?;
        }
    }
    if t.to_server.payload_truncated || t.to_client.payload_truncated {
        writeln!(
            out,
            "[payload cut at {} bytes per direction]",
            args.max_bytes
        )?;
    }
    writeln!(out, "{rule}")?;
    for w in &a.warnings {
        warn(w);
    }
    Ok(())
}

/// One run of Follow TCP Stream: bytes one side sent, then how many the capture lacks.
struct FollowRun<'a> {
    from_client: bool,
    packet: u64,
    data: &'a [u8],
    missing: u64,
}

/// The runs of a stream, within the kept payload: a run with no bytes kept is shown only for
/// the bytes it says are missing.
fn follow_chunks(t: &crate::analysis::TcpStream) -> Vec<FollowRun<'_>> {
    t.chunks
        .iter()
        .filter_map(|c| {
            let p = if c.from_client {
                &t.to_server.payload
            } else {
                &t.to_client.payload
            };
            let start = usize::try_from(c.offset).ok()?.min(p.len());
            let end = usize::try_from(c.offset + c.len).ok()?.min(p.len());
            (end > start || c.missing > 0).then(|| FollowRun {
                from_client: c.from_client,
                packet: c.packet,
                data: &p[start..end],
                missing: c.missing,
            })
        })
        .collect()
}

/// An endpoint filter: an address and maybe a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Side {
    ip: IpAddr,
    port: Option<u16>,
}

impl std::fmt::Display for Side {
    /// `IP:PORT` (IPv6 as `[ADDR]:PORT`), or the address alone without a port.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.port {
            Some(port) => Endpoint { ip: self.ip, port }.fmt(f),
            None => self.ip.fmt(f),
        }
    }
}

fn parse_side(s: &str) -> Result<Side, InspectError> {
    let bad = || InspectError::BadEndpoint(s.to_string());
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Ok(Side { ip, port: None });
    }
    let sa: std::net::SocketAddr = s.parse().map_err(|_| bad())?;
    Ok(Side {
        ip: sa.ip(),
        port: Some(sa.port()),
    })
}

fn side_matches(side: Side, ip: Option<IpAddr>, port: Option<u16>) -> bool {
    ip == Some(side.ip) && (side.port.is_none() || port.is_none() || side.port == port)
}

const LADDER_WIDTH: usize = 56;

fn ladder_view<R: io::Read>(
    reader: CaptureReader<R>,
    args: &InspectArgs,
    out: &mut dyn Write,
) -> Result<(), InspectError> {
    let mut sides = match &args.between {
        Some(v) if v.len() == 2 => Some((parse_side(&v[0])?, parse_side(&v[1])?)),
        _ => None,
    };
    let mut an = Analyzer::new(AnalyzerOptions {
        decode_as: DecodeAs::smtp(&args.smtp_port),
        ..AnalyzerOptions::streaming(true)
    });
    let mut header_done = false;
    let mut rows = Vec::new();
    // How many packets the capture holds and how many the ladder drew, to say what it left
    // out; and the endpoints seen, to say which exist when `--between` names none of them.
    let (mut total, mut drawn) = (0u64, 0u64);
    let mut seen: Vec<Side> = Vec::new();
    let warnings = drive(reader, &mut an, |an, frame| {
        let Some(s) = an.push(frame) else {
            return Ok(());
        };
        total += 1;
        let (sp, dp) = ports(s);
        for (ip, port) in [(s.src, sp), (s.dst, dp)] {
            if let Some(ip) = ip {
                let e = Side { ip, port };
                if seen.len() < 20 && !seen.contains(&e) {
                    seen.push(e);
                }
            }
        }
        if sides.is_none() {
            // Ports too: on loopback both sides share one address, and only the ports tell
            // the client from the server.
            if let (Some(a), Some(b)) = (s.src, s.dst) {
                sides = Some((Side { ip: a, port: sp }, Side { ip: b, port: dp }));
            }
        }
        let Some((a, b)) = sides else { return Ok(()) };
        let portless = sp.is_none() && dp.is_none();
        let rightward = if portless && a.ip == b.ip {
            // An ICMP error on a one-address exchange: it answers the first side's packet.
            if s.src != Some(a.ip) {
                return Ok(());
            }
            false
        } else if side_matches(a, s.src, sp) && side_matches(b, s.dst, dp) {
            true
        } else if side_matches(b, s.src, sp) && side_matches(a, s.dst, dp) {
            false
        } else {
            return Ok(());
        };
        drawn += 1;
        if args.json {
            rows.push(serde_json::json!({
                "number": s.number, "time": s.time,
                "direction": if rightward { "a_to_b" } else { "b_to_a" },
                "protocol": s.protocol, "info": s.info,
            }));
            return Ok(());
        }
        if !header_done {
            header_done = true;
            let name = |x: Side| match x.port {
                Some(p) => format!("{}", Endpoint { ip: x.ip, port: p }),
                None => x.ip.to_string(),
            };
            writeln!(
                out,
                "{:>6} {:>11}  {:<w$}{}",
                "No.",
                "Time",
                name(a),
                name(b),
                w = LADDER_WIDTH + 2
            )?;
        }
        let decimals = usize::from(frame.decimals);
        writeln!(
            out,
            "{:>6} {:>width$.decimals$}  {}",
            s.number,
            s.time,
            arrow(s, rightward),
            width = decimals + 5,
        )?;
        Ok(())
    })?;
    if drawn == 0 && total > 0 {
        if let Some(v) = &args.between {
            return Err(InspectError::NothingBetween {
                a: v[0].clone(),
                b: v[1].clone(),
                seen: seen
                    .iter()
                    .map(Side::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
    }
    if args.json {
        let (a, b) = match sides {
            Some((a, b)) => (Some(a), Some(b)),
            None => (None, None),
        };
        let name = |x: Option<Side>| x.map(|x| x.to_string());
        let v = serde_json::json!({
            "a": name(a), "b": name(b), "packets": rows,
            "packets_in_capture": total, "warnings": warnings,
        });
        serde_json::to_writer_pretty(&mut *out, &v)?;
        writeln!(out)?;
        return Ok(());
    }
    if drawn < total {
        // Said, not left for the reader to guess from the packet numbers.
        writeln!(
            out,
            "({drawn} of the capture's {total} packets are between these two endpoints; \
             `--between A B` draws others, `--streams` lists the conversations)"
        )?;
    }
    for w in &warnings {
        warn(w);
    }
    Ok(())
}

fn ports(s: &PacketSummary) -> (Option<u16>, Option<u16>) {
    if let Some(t) = &s.tcp {
        (Some(t.src_port), Some(t.dst_port))
    } else if let Some(u) = &s.udp {
        (Some(u.src_port), Some(u.dst_port))
    } else {
        (None, None)
    }
}

/// `|--- label --->|` or `|<--- label ---|`, the label cut to fit.
fn arrow(s: &PacketSummary, rightward: bool) -> String {
    // Ports are in the column headers' direction already; drop them from the label.
    let label = match s.info.split_once("] ") {
        Some((head, rest)) if s.tcp.is_some() => {
            let flags = head.rsplit_once('[').map_or(head, |(_, f)| f);
            format!("[{flags}] {rest}")
        }
        _ => format!("{} {}", s.protocol, s.info),
    };
    let room = LADDER_WIDTH - 6;
    let mut label: String = label.chars().take(room).collect();
    label = format!(" {label} ");
    let dashes = LADDER_WIDTH.saturating_sub(label.chars().count() + 1);
    let left = dashes / 2;
    let right = dashes - left;
    if rightward {
        format!("|{}{}{}>|", "-".repeat(left), label, "-".repeat(right))
    } else {
        format!("|<{}{}{}|", "-".repeat(left), label, "-".repeat(right))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, clap::Parser)]
    struct Cli {
        #[command(flatten)]
        args: InspectArgs,
    }

    fn corpus(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/captures/public")
            .join(name)
    }

    fn run_args(argv: &[&str]) -> Result<String, InspectError> {
        let cli = Cli::try_parse_from(std::iter::once("inspect").chain(argv.iter().copied()))
            .expect("arguments parse");
        let mut out = Vec::new();
        run(&cli.args, &mut out)?;
        Ok(String::from_utf8(out).expect("utf-8 output"))
    }

    #[test]
    fn list_view_matches_tshark_info_for_a_handshake() {
        let p = corpus("cs_tcp_handshake.pcapng");
        let out = run_args(&[p.to_str().unwrap()]).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 4, "{out}");
        assert!(lines[0].contains("No.") && lines[0].contains("Info"));
        assert!(
            lines[1].ends_with("2826 → 80 [SYN] Seq=0 Win=8192 Len=0 MSS=1460 WS=4 SACK_PERM"),
            "{}",
            lines[1]
        );
        assert!(
            lines[3].ends_with("2826 → 80 [ACK] Seq=1 Ack=1 Win=16872 Len=0"),
            "{}",
            lines[3]
        );
    }

    #[test]
    fn list_json_is_valid_and_streams_are_reported() {
        let p = corpus("lw_simple_http.pcap");
        let out = run_args(&[p.to_str().unwrap(), "--json"]).unwrap();
        let v: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
        assert_eq!(v["packets"].as_array().map(|a| a.len()), Some(24));
        assert_eq!(v["packets"][0]["tcp"]["flags_str"], "··········S·");
        let out = run_args(&[p.to_str().unwrap(), "--streams"]).unwrap();
        assert!(out.contains("127.0.0.1:32784"), "{out}");
        assert!(out.contains(" yes "), "{out}");
        // Totals last: rows are printed as streams finish, the counts are known at the end.
        assert_eq!(
            out.lines().last(),
            Some("TCP streams: 2    UDP flows: 0    frames: 24    duration: 0.060302 s")
        );
        let js = run_args(&[p.to_str().unwrap(), "--streams", "--json"]).unwrap();
        let v: serde_json::Value = serde_json::from_str(&js).expect("valid JSON");
        assert_eq!(v["tcp_streams"][1]["teardown"], "fin");
    }

    #[test]
    fn follow_prints_client_then_indented_server() {
        let p = corpus("lw_simple_http.pcap");
        let out = run_args(&[p.to_str().unwrap(), "--follow", "0"]).unwrap();
        assert!(out.contains("Node 0: 127.0.0.1:32784"), "{out}");
        let get = out.find("GET / HTTP/1.1\\r\n").expect(&out);
        let resp = out
            .find("\tHTTP/1.0 200 OK\\r\n")
            .expect("response indented");
        assert!(get < resp);
        assert!(out.contains("\tHello, world!\n"), "{out}");
        let err = run_args(&[p.to_str().unwrap(), "--follow", "7"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "no TCP stream 7: the capture has 2 (numbered from 0)"
        );
    }

    #[test]
    fn ladder_draws_both_directions() {
        let p = corpus("cs_tcp_refuseconnection.pcapng");
        let out = run_args(&[p.to_str().unwrap(), "--ladder"]).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines.len() >= 3, "{out}");
        assert!(
            lines[1].contains("[SYN]") && lines[1].ends_with(">|"),
            "{out}"
        );
        assert!(
            lines[2].contains("[RST, ACK]") && lines[2].contains("|<-"),
            "{out}"
        );
    }

    #[test]
    fn a_ladder_of_part_of_the_capture_says_how_much_it_left_out() {
        let p = corpus("cs_http_ip4and6.pcapng");
        let out = run_args(&[p.to_str().unwrap(), "--ladder"]).unwrap();
        let note = out.lines().last().unwrap_or_default();
        assert!(
            note.contains("of the capture's") && note.contains("packets are between"),
            "{out}"
        );
        // A capture of one exchange says nothing of the kind.
        let p = corpus("cs_tcp_refuseconnection.pcapng");
        let out = run_args(&[p.to_str().unwrap(), "--ladder"]).unwrap();
        assert!(!out.contains("of the capture's"), "{out}");
    }

    #[test]
    fn between_endpoints_that_are_not_in_the_capture_is_an_error_naming_those_that_are() {
        let p = corpus("cs_tcp_refuseconnection.pcapng");
        let err = run_args(&[
            p.to_str().unwrap(),
            "--ladder",
            "--between",
            "192.0.2.1",
            "192.0.2.2",
        ])
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("no packet of the capture is between 192.0.2.1 and 192.0.2.2"),
            "{err}"
        );
        assert!(
            err.contains("its endpoints are: 192.168.100.138:3372, 192.168.100.1:80 ("),
            "{err}"
        );
    }

    #[test]
    fn nanosecond_captures_print_nine_decimals_as_tshark_does() {
        let truth = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../shared/captures/public/truth/td_tcp-handshake-nano.list.txt"),
        )
        .unwrap();
        let p = corpus("td_tcp-handshake-nano.pcap");
        let out = run_args(&[p.to_str().unwrap()]).unwrap();
        let times = |text: &str, field: usize| -> Vec<String> {
            text.lines()
                .filter_map(|l| l.split_whitespace().nth(field).map(str::to_string))
                .collect()
        };
        // Our list has a header line; tshark's has none.
        let ours: Vec<String> = times(&out, 1).into_iter().skip(1).collect();
        assert_eq!(ours, times(&truth, 1));
        assert!(ours[1].len() == "0.127521774".len(), "{ours:?}");
        // A microsecond capture keeps six.
        let p = corpus("cs_tcp_handshake.pcapng");
        let out = run_args(&[p.to_str().unwrap()]).unwrap();
        assert_eq!(times(&out, 1)[2].len(), "0.000000".len(), "{out}");
    }

    #[test]
    fn follow_says_where_it_cut_and_max_bytes_0_is_refused() {
        let p = corpus("lw_simple_http.pcap");
        let out = run_args(&[p.to_str().unwrap(), "--follow", "0", "--max-bytes", "5"]).unwrap();
        assert!(out.contains("GET /\n"), "{out}");
        assert!(
            out.contains("[payload cut at 5 bytes per direction]"),
            "{out}"
        );
        let out = run_args(&[p.to_str().unwrap(), "--follow", "0"]).unwrap();
        assert!(!out.contains("payload cut"), "{out}");
        let err = Cli::try_parse_from(["inspect", "x.pcap", "--follow", "0", "--max-bytes", "0"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("0 would keep no payload at all"), "{err}");
    }

    /// `--follow` lets go of the streams it does not show (its memory once grew with every
    /// connection of the capture): with retirement forced early, every stream of every public
    /// capture is followed exactly as when nothing is retired.
    #[test]
    fn follow_with_streams_retired_early_is_the_same() {
        use crate::analysis::fixtures::early_retirement;
        let keep_all = RetirePolicy {
            max_closed: usize::MAX,
            max_open: usize::MAX,
        };
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/captures/public");
        let mut followed = 0;
        for entry in std::fs::read_dir(dir).expect("public captures").flatten() {
            let path = entry.path();
            if !matches!(
                path.extension().and_then(|x| x.to_str()),
                Some("pcap" | "pcapng")
            ) {
                continue;
            }
            let bytes = std::fs::read(&path).expect("capture readable");
            for n in 0..4 {
                for json in [false, true] {
                    let view = |retire: RetirePolicy| {
                        let mut argv = vec!["inspect", "x", "--follow", "0"];
                        if json {
                            argv.push("--json");
                        }
                        let args = Cli::try_parse_from(argv).expect("arguments parse").args;
                        let reader = CaptureReader::new(&bytes[..], "x").expect("capture opens");
                        let mut out = Vec::new();
                        let r = follow_view(reader, n, &args, retire, &mut out);
                        r.map(|()| out).map_err(|e| e.to_string())
                    };
                    let want = view(keep_all);
                    followed += usize::from(want.is_ok());
                    assert_eq!(view(early_retirement()), want, "{} {n}", path.display());
                }
            }
        }
        assert!(followed > 40, "{followed} streams followed");
    }

    #[test]
    fn missing_file_names_it() {
        let err = run_args(&["/nonexistent/x.pcap"]).unwrap_err();
        assert!(err
            .to_string()
            .starts_with("cannot open /nonexistent/x.pcap: "));
    }
}
