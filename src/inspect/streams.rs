//! `inspect --streams`: the conversation table, written while the capture is read.
//!
//! Contract: peak memory is bounded whatever the capture holds. The analyzer retires flows
//! past its count bounds ([`RetirePolicy::bounded`]); each retired TCP stream becomes one compact row
//! (its text line, or its JSON) that goes out as soon as every lower-numbered stream has gone
//! out, through a [`Reorder`] buffer that spills to temporary files past [`ROW_BUDGET`]. UDP
//! flows and ICMP errors come after the TCP table, so their rows wait (the same way) until the
//! capture ends. The totals line comes last, after the tables, because it is known only then;
//! warnings follow it.
//!
//! Text layout: the TCP table (column header, then a row per stream, in stream order), the UDP
//! table, one paragraph per ICMP error, then `TCP streams: N    UDP flows: M    frames: F
//! duration: D s`; sections are separated by a blank line. JSON: one object whose arrays
//! `tcp_streams`, `udp_flows`, `icmp_errors` hold one element per line, then `frames`,
//! `duration`, `warnings`.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::net::IpAddr;

use super::reorder::Reorder;
use super::{drive, InspectError};
use crate::analysis::{
    Analyzer, AnalyzerOptions, Endpoint, FlowRef, IcmpErrorRecord, RetirePolicy, TcpStream,
    Teardown, UdpFlow,
};
use crate::wire::CaptureReader;

/// Bytes of finished rows each list keeps in memory before spilling to a temporary file.
pub(super) const ROW_BUDGET: usize = 2 * 1024 * 1024;

/// Reads the whole capture and writes the view; `retire: None` keeps every flow to the end
/// (the reference the bounded view is tested against).
pub(super) fn streams_view<R: io::Read>(
    reader: CaptureReader<R>,
    json: bool,
    retire: Option<RetirePolicy>,
    budget: usize,
    out: &mut dyn Write,
) -> Result<(), InspectError> {
    let mut an = Analyzer::new(AnalyzerOptions {
        retire,
        ..AnalyzerOptions::streaming(false)
    });
    let mut w = TableWriter::new(out, json, budget)?;
    drive(reader, &mut an, |an, frame| {
        an.push(frame);
        if an.has_finished() {
            w.take(an)?;
        }
        Ok(())
    })?;
    w.take(&mut an)?;
    for t in an.drain_live_tcp() {
        w.tcp(&t)?;
    }
    for f in an.drain_live_udp() {
        w.udp(&f)?;
    }
    let (tcp_streams, udp_flows) = an.flow_counts();
    // `take` drained the ICMP errors as they came: the analysis holds none.
    let a = an.finish();
    let totals = Totals {
        tcp_streams,
        udp_flows,
        frames: a.frames,
        duration: a.duration,
    };
    w.finish(&totals, &a.warnings)
}

/// One list of the view (TCP streams, UDP flows or ICMP errors) as it is written.
struct Section {
    rows: Reorder,
    look: Look,
}

/// How a section's rows are laid out.
struct Look {
    /// Text: the column header before the first row (none for ICMP paragraphs).
    header: Option<String>,
    written: u64,
}

/// The output and what has been written to it so far.
struct Out<'a> {
    w: &'a mut dyn Write,
    json: bool,
    /// Text: whether anything was written, so the next section needs a blank line first.
    started: bool,
}

impl Look {
    /// Writes one row with the separators it needs.
    fn write(&mut self, out: &mut Out<'_>, row: &[u8]) -> io::Result<()> {
        if out.json {
            out.w
                .write_all(if self.written > 0 { b",\n" } else { b"\n" })?;
        } else {
            let first = self.written == 0;
            if out.started && (first || self.header.is_none()) {
                out.w.write_all(b"\n")?;
            }
            if let (true, Some(h)) = (first, &self.header) {
                writeln!(out.w, "{h}")?;
            }
        }
        self.written += 1;
        out.started = true;
        out.w.write_all(row)
    }
}

impl Section {
    fn new(budget: usize, header: Option<String>) -> Self {
        Section {
            rows: Reorder::new(budget),
            look: Look { header, written: 0 },
        }
    }
}

struct TableWriter<'a> {
    out: Out<'a>,
    tcp: Section,
    udp: Section,
    icmp: Section,
    icmp_count: u64,
}

impl<'a> TableWriter<'a> {
    fn new(w: &'a mut dyn Write, json: bool, budget: usize) -> Result<Self, InspectError> {
        let header = |text: String| (!json).then_some(text);
        let tw = TableWriter {
            out: Out {
                w,
                json,
                started: false,
            },
            tcp: Section::new(
                budget,
                header(format!(
                    "{:>4}  {:<28} {:<28} {:<9} {:<13} {:>16} {:>16} {:>10}",
                    "#",
                    "Client",
                    "Server",
                    "Handshake",
                    "Teardown",
                    "C→S pkts/bytes",
                    "S→C pkts/bytes",
                    "Duration"
                )),
            ),
            udp: Section::new(
                budget,
                header(format!(
                    "{:>4}  {:<28} {:<28} {:>16} {:>16} {:>10}",
                    "#", "A", "B", "A→B dgrams/bytes", "B→A dgrams/bytes", "Duration"
                )),
            ),
            icmp: Section::new(budget, None),
            icmp_count: 0,
        };
        if json {
            // The TCP array is open from the start, so its rows can go out as they come.
            tw.out.w.write_all(b"{\"tcp_streams\":[")?;
        }
        Ok(tw)
    }

    /// Takes what the analyzer has finished with.
    fn take(&mut self, an: &mut Analyzer) -> Result<(), InspectError> {
        for t in an.drain_tcp() {
            self.tcp(&t)?;
        }
        for f in an.drain_udp() {
            self.udp(&f)?;
        }
        for e in an.drain_icmp_errors() {
            self.icmp(&e)?;
        }
        Ok(())
    }

    fn row<T: serde::Serialize>(
        &self,
        x: &T,
        line: impl Fn(&T) -> String,
    ) -> Result<Vec<u8>, InspectError> {
        Ok(if self.out.json {
            serde_json::to_vec(x)?
        } else {
            line(x).into_bytes()
        })
    }

    fn tcp(&mut self, t: &TcpStream) -> Result<(), InspectError> {
        let row = self.row(&TcpRow::new(t), |r| tcp_line(r.stream))?;
        let Section { rows, look } = &mut self.tcp;
        let out = &mut self.out;
        rows.offer(t.index.into(), row, &mut |r| look.write(out, r))?;
        Ok(())
    }

    fn udp(&mut self, f: &UdpFlow) -> Result<(), InspectError> {
        let row = self.row(&UdpRow::new(f), |r| udp_line(r.flow))?;
        self.udp.rows.push(f.index.into(), row)?;
        Ok(())
    }

    fn icmp(&mut self, e: &IcmpErrorRecord) -> Result<(), InspectError> {
        let row = self.row(e, icmp_line)?;
        self.icmp.rows.push(self.icmp_count, row)?;
        self.icmp_count += 1;
        Ok(())
    }

    /// Writes the rows left, the totals and the warnings.
    fn finish(mut self, totals: &Totals, warnings: &[String]) -> Result<(), InspectError> {
        let out = &mut self.out;
        for (name, sec) in [
            ("", self.tcp),
            (",\"udp_flows\":[", self.udp),
            (",\"icmp_errors\":[", self.icmp),
        ] {
            let Section { rows, mut look } = sec;
            if out.json {
                out.w.write_all(name.as_bytes())?;
            }
            rows.finish(&mut |r| look.write(out, r))?;
            if out.json {
                out.w.write_all(b"\n]")?;
            }
        }
        let w = &mut *out.w;
        if out.json {
            write!(w, ",\"frames\":{},\"duration\":", totals.frames)?;
            serde_json::to_writer(&mut *w, &totals.duration)?;
            write!(w, ",\"warnings\":")?;
            serde_json::to_writer(&mut *w, warnings)?;
            writeln!(w, "}}")?;
            return Ok(());
        }
        if out.started {
            writeln!(w)?;
        }
        writeln!(
            w,
            "TCP streams: {}    UDP flows: {}    frames: {}    duration: {:.6} s",
            totals.tcp_streams, totals.udp_flows, totals.frames, totals.duration
        )?;
        for warning in warnings {
            super::warn(warning);
        }
        Ok(())
    }
}

/// A TCP stream as one JSON row: what the table shows, without the payloads, packet lists and
/// Follow runs this view does not keep (so no field claims to hold or to have cut them).
#[derive(serde::Serialize)]
struct TcpRow<'a> {
    #[serde(skip)]
    stream: &'a TcpStream,
    index: u32,
    client: Endpoint,
    server: Endpoint,
    first_packet: u64,
    last_packet: u64,
    start: f64,
    end: f64,
    duration: f64,
    handshake: &'a crate::analysis::Handshake,
    teardown: Teardown,
    to_server: TcpDirRow,
    to_client: TcpDirRow,
    max_gap: Option<crate::analysis::Gap>,
}

/// One direction of a [`TcpRow`].
#[derive(serde::Serialize)]
struct TcpDirRow {
    packets: u64,
    bytes: u64,
    payload_bytes: u64,
    stream_bytes: u64,
    /// Payload bytes the capture lacks (cut by the snapshot length, or never captured).
    missing_bytes: u64,
    isn: Option<u32>,
    syn_packet: Option<u64>,
    fin_packet: Option<u64>,
    rst_packet: Option<u64>,
    retransmissions: u64,
}

impl TcpDirRow {
    fn new(d: &crate::analysis::TcpDirection) -> Self {
        TcpDirRow {
            packets: d.packets,
            bytes: d.bytes,
            payload_bytes: d.payload_bytes,
            stream_bytes: d.stream_bytes,
            missing_bytes: d.missing_bytes,
            isn: d.isn,
            syn_packet: d.syn_packet,
            fin_packet: d.fin_packet,
            rst_packet: d.rst_packet,
            retransmissions: d.retransmissions,
        }
    }
}

impl<'a> TcpRow<'a> {
    fn new(t: &'a TcpStream) -> Self {
        TcpRow {
            stream: t,
            index: t.index,
            client: t.client,
            server: t.server,
            first_packet: t.first_packet,
            last_packet: t.last_packet,
            start: t.start,
            end: t.end,
            duration: t.duration(),
            handshake: &t.handshake,
            teardown: t.teardown,
            to_server: TcpDirRow::new(&t.to_server),
            to_client: TcpDirRow::new(&t.to_client),
            max_gap: t.max_gap,
        }
    }
}

/// A UDP flow as one JSON row, without the datagram payloads this view does not keep.
#[derive(serde::Serialize)]
struct UdpRow<'a> {
    #[serde(skip)]
    flow: &'a UdpFlow,
    index: u32,
    a: Endpoint,
    b: Endpoint,
    first_packet: u64,
    last_packet: u64,
    start: f64,
    end: f64,
    duration: f64,
    a_to_b: UdpDirRow,
    b_to_a: UdpDirRow,
    max_gap: Option<crate::analysis::Gap>,
}

/// One direction of a [`UdpRow`].
#[derive(serde::Serialize)]
struct UdpDirRow {
    datagrams: u64,
    bytes: u64,
    payload_bytes: u64,
}

impl<'a> UdpRow<'a> {
    fn new(f: &'a UdpFlow) -> Self {
        let dir = |d: &crate::analysis::UdpDirection| UdpDirRow {
            datagrams: d.datagrams,
            bytes: d.bytes,
            payload_bytes: d.payload_bytes,
        };
        UdpRow {
            flow: f,
            index: f.index,
            a: f.a,
            b: f.b,
            first_packet: f.first_packet,
            last_packet: f.last_packet,
            start: f.start,
            end: f.end,
            duration: f.end - f.start,
            a_to_b: dir(&f.a_to_b),
            b_to_a: dir(&f.b_to_a),
            max_gap: f.max_gap,
        }
    }
}

struct Totals {
    tcp_streams: u32,
    udp_flows: u32,
    frames: u64,
    duration: f64,
}

fn teardown_word(t: Teardown) -> &'static str {
    match t {
        Teardown::None => "none",
        Teardown::HalfClosed => "FIN (one way)",
        Teardown::Fin => "FIN",
        Teardown::Rst => "RST",
    }
}

fn tcp_line(t: &TcpStream) -> String {
    let hs = if t.handshake.completed {
        "yes"
    } else if t.refused() {
        "refused"
    } else {
        "no"
    };
    let mut line = String::with_capacity(160);
    row_start(&mut line, t.index, t.client, t.server);
    let _ = write!(line, " {hs:<9} {:<13}", teardown_word(t.teardown));
    let (cs, sc) = (&t.to_server, &t.to_client);
    row_end(
        &mut line,
        (cs.packets, cs.bytes),
        (sc.packets, sc.bytes),
        t.duration(),
    );
    line
}

fn udp_line(f: &UdpFlow) -> String {
    let (ab, ba) = (&f.a_to_b, &f.b_to_a);
    let mut line = String::with_capacity(128);
    row_start(&mut line, f.index, f.a, f.b);
    row_end(
        &mut line,
        (ab.datagrams, ab.bytes),
        (ba.datagrams, ba.bytes),
        f.end - f.start,
    );
    line
}

/// `   N  A  B` of a row.
fn row_start(line: &mut String, index: u32, a: Endpoint, b: Endpoint) {
    let _ = write!(line, "{index:>4}  ");
    cell(line, 28, Align::Left, |l| push_endpoint(l, a));
    line.push(' ');
    cell(line, 28, Align::Left, |l| push_endpoint(l, b));
}

/// ` count/bytes  count/bytes  duration` ending a row.
fn row_end(line: &mut String, forth: (u64, u64), back: (u64, u64), duration: f64) {
    for (count, bytes) in [forth, back] {
        line.push(' ');
        cell(line, 16, Align::Right, |l| {
            push_number(l, count);
            l.push('/');
            push_number(l, bytes);
        });
    }
    let _ = writeln!(line, " {duration:>10.6}");
}

enum Align {
    Left,
    Right,
}

/// Appends what `text` writes, padded with spaces to `width` characters as `{:<width}` or
/// `{:>width}` would, without a `String` per field: rows are written by the million, so they
/// are built with the hand-written number formatting below rather than `format!`.
fn cell(line: &mut String, width: usize, align: Align, text: impl FnOnce(&mut String)) {
    let start = line.len();
    text(line);
    let pad = width.saturating_sub(line[start..].chars().count());
    match align {
        Align::Left => line.extend(std::iter::repeat_n(' ', pad)),
        Align::Right => line.insert_str(start, &" ".repeat(pad)),
    }
}

/// As `Endpoint`'s `Display`, faster for IPv4.
fn push_endpoint(line: &mut String, e: Endpoint) {
    match e.ip {
        IpAddr::V4(ip) => {
            for (i, octet) in ip.octets().into_iter().enumerate() {
                if i > 0 {
                    line.push('.');
                }
                push_number(line, octet.into());
            }
            line.push(':');
            push_number(line, e.port.into());
        }
        IpAddr::V6(_) => {
            let _ = write!(line, "{e}");
        }
    }
}

fn push_number(line: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    line.extend(digits[at..].iter().map(|&d| char::from(d)));
}

fn icmp_line(e: &IcmpErrorRecord) -> String {
    let flow = match e.matched {
        Some(FlowRef::Tcp { stream }) => format!(" (TCP stream {stream})"),
        Some(FlowRef::Udp { flow }) => format!(" (UDP flow {flow})"),
        None => String::new(),
    };
    format!(
        "ICMP packet {}: {} → {}: {}{flow}\n",
        e.packet, e.src, e.dst, e.description
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::fixtures::*;

    fn view(bytes: &[u8], json: bool, retire: Option<RetirePolicy>, budget: usize) -> String {
        let reader = CaptureReader::new(bytes, "test.pcap").expect("capture opens");
        let mut out = Vec::new();
        streams_view(reader, json, retire, budget, &mut out).expect("view written");
        String::from_utf8(out).expect("utf-8 output")
    }

    fn public_captures() -> Vec<std::path::PathBuf> {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/captures/public");
        let mut out: Vec<_> = std::fs::read_dir(dir)
            .expect("public captures")
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                matches!(
                    p.extension().and_then(|x| x.to_str()),
                    Some("pcap" | "pcapng")
                )
            })
            .collect();
        out.sort();
        out
    }

    #[test]
    fn bounded_view_equals_the_unbounded_one_on_every_public_capture() {
        let captures = public_captures();
        assert!(captures.len() >= 20, "public captures found");
        for p in captures {
            let bytes = std::fs::read(&p).expect("capture readable");
            for json in [false, true] {
                let reference = view(&bytes, json, None, usize::MAX);
                let bounded = view(&bytes, json, Some(RetirePolicy::bounded()), ROW_BUDGET);
                assert_eq!(bounded, reference, "{} (json: {json})", p.display());
                // Every row through a temporary file, flows retired early.
                let spilled = view(&bytes, json, Some(early_retirement()), 0);
                assert_eq!(spilled, reference, "{} (json: {json})", p.display());
            }
        }
    }

    /// Stream 0 stays open while 3,000 short connections go by: their rows wait for it, in
    /// temporary files, and come out in order after it.
    fn blocked_capture() -> Vec<u8> {
        let long = connection([10, 9, 9, 9], 1, 9999);
        let mut frames = long[..3].to_vec();
        for i in 0..3000u32 {
            frames.extend(connection([10, 1, (i >> 8) as u8, i as u8], 1000, 20000));
        }
        let dns = udp(C, S, 5353, 53, b"query");
        let mut icmp = vec![3, 3, 0, 0, 0, 0, 0, 0];
        icmp.extend(&dns[..28]);
        frames.push(ipv4(S, C, 1, &icmp));
        frames.insert(frames.len() - 1, dns);
        frames.extend_from_slice(&long[3..]);
        raw_pcap(&frames, std::time::Duration::from_micros(10))
    }

    #[test]
    fn rows_waiting_for_an_open_stream_spill_and_come_out_in_order() {
        let bytes = blocked_capture();
        let policy = RetirePolicy {
            max_closed: 100,
            max_open: 100,
        };
        for json in [false, true] {
            let reference = view(&bytes, json, None, usize::MAX);
            assert_eq!(
                view(&bytes, json, Some(policy), 4096),
                reference,
                "json: {json}"
            );
        }
        let text = view(&bytes, false, Some(policy), 4096);
        let rows: Vec<u32> = text
            .lines()
            .skip(1)
            .take(3001)
            .map(|l| {
                l.split_whitespace()
                    .next()
                    .and_then(|n| n.parse().ok())
                    .expect(l)
            })
            .collect();
        assert!(rows.iter().copied().eq(0..3001), "TCP rows in stream order");
    }

    /// The layout: tables, ICMP paragraphs, then the totals (known only at the end), then
    /// warnings; a blank line between sections.
    #[test]
    fn totals_come_after_the_tables() {
        let bytes = blocked_capture();
        let text = view(&bytes, false, Some(RetirePolicy::bounded()), ROW_BUDGET);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("   #  Client "), "{}", lines[0]);
        assert!(lines[1].starts_with("   0  10.9.9.9:9999 "), "{}", lines[1]);
        let tail = &lines[lines.len() - 7..];
        assert_eq!(tail[0], "");
        assert!(tail[1].starts_with("   #  A "), "{}", tail[1]);
        assert!(tail[2].starts_with("   0  10.0.0.1:5353 "), "{}", tail[2]);
        assert_eq!(tail[3], "");
        assert_eq!(
            tail[4],
            "ICMP packet 24005: 10.0.0.2 → 10.0.0.1: Destination unreachable (Port unreachable) (UDP flow 0)"
        );
        assert_eq!(tail[5], "");
        assert!(
            tail[6].starts_with("TCP streams: 3001    UDP flows: 1    frames: 24010    duration: "),
            "{}",
            tail[6]
        );
        let json: serde_json::Value =
            serde_json::from_str(&view(&bytes, true, Some(RetirePolicy::bounded()), 0))
                .expect("valid JSON");
        assert_eq!(json["tcp_streams"].as_array().map(Vec::len), Some(3001));
        assert_eq!(json["tcp_streams"][3000]["index"], 3000);
        assert_eq!(json["udp_flows"][0]["a"]["port"], 5353);
        assert_eq!(json["icmp_errors"][0]["matched"]["udp"]["flow"], 0);
        assert_eq!(json["frames"], 24010);
        assert_eq!(json["warnings"].as_array().map(Vec::len), Some(0));
    }

    /// Regression (issue 11, part 9): the JSON rows carried the payload fields of flows whose
    /// payload this view does not keep: `"payload":""` beside `"payload_truncated":true`. A
    /// row now holds what the table shows, with its duration, and no such field.
    #[test]
    fn json_rows_claim_no_payload_and_nothing_truncated() {
        fn keys(v: &serde_json::Value, out: &mut Vec<String>) {
            match v {
                serde_json::Value::Object(m) => {
                    for (k, x) in m {
                        out.push(k.clone());
                        keys(x, out);
                    }
                }
                serde_json::Value::Array(a) => a.iter().for_each(|x| keys(x, out)),
                _ => {}
            }
        }
        for name in ["lw_simple_http.pcap", "cs_udp_dnsrequest.pcapng"] {
            let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../shared/captures/public")
                .join(name);
            let bytes = std::fs::read(p).expect("capture readable");
            let v: serde_json::Value = serde_json::from_str(&view(
                &bytes,
                true,
                Some(RetirePolicy::bounded()),
                ROW_BUDGET,
            ))
            .expect("valid JSON");
            let mut all = Vec::new();
            keys(&v, &mut all);
            for bad in ["payload", "payloads", "chunks"] {
                assert!(!all.iter().any(|k| k == bad), "{name}: {bad} in {v}");
            }
            assert!(!all.iter().any(|k| k.contains("truncated")), "{name}: {v}");
            let rows = v["tcp_streams"]
                .as_array()
                .into_iter()
                .chain(v["udp_flows"].as_array())
                .flatten();
            let mut n = 0;
            for r in rows {
                n += 1;
                let span = r["end"].as_f64().unwrap() - r["start"].as_f64().unwrap();
                assert!((r["duration"].as_f64().unwrap() - span).abs() < 1e-9, "{r}");
            }
            assert!(n > 0, "{name}: {v}");
        }
        let bytes = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../shared/captures/public/lw_simple_http.pcap"),
        )
        .expect("capture readable");
        let v: serde_json::Value =
            serde_json::from_str(&view(&bytes, true, None, usize::MAX)).expect("valid JSON");
        assert_eq!(v["tcp_streams"][0]["to_server"]["payload_bytes"], 493);
        assert_eq!(v["tcp_streams"][0]["to_server"]["missing_bytes"], 0);
    }
}
