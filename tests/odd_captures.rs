//! Damaged and odd captures, read as tshark reads them (issue 11, part 8): packets cut by a
//! snapshot length, a record stamped far in the future, time going backwards. Each case is
//! compared with tshark live, on public captures read in place (`../shared/captures/public`)
//! or edited into a temporary directory. tshark and editcap are required (`scripts/test.sh`
//! installs them): without them these tests fail rather than pass unchecked.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

mod common;

use common::{root, socklab};

const INSTALL: &str = "these tests compare socklab with tshark and edit captures with editcap: \
run `scripts/test.sh` (it installs them), or `apt-get install tshark` (editcap comes with it, in \
wireshark-common)";

/// `name` (tshark or editcap), failing the test with how to install it when it is missing.
fn tool(name: &str) -> Command {
    let ok = Command::new(name)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(ok, "{name} is not installed: {INSTALL}");
    Command::new(name)
}

fn public(name: &str) -> PathBuf {
    root().join("../shared/captures/public").join(name)
}

fn stdout(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `editcap -s SNAPLEN` of `input` into `dir`.
fn snapped(dir: &Path, input: &Path, snaplen: u32) -> PathBuf {
    let name = input.file_name().unwrap().to_string_lossy();
    let output = dir.join(format!("s{snaplen}_{name}"));
    stdout(
        tool("editcap")
            .arg("-s")
            .arg(snaplen.to_string())
            .arg(input)
            .arg(&output),
    );
    output
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

/// socklab's escaping of payload bytes in JSON (printable ASCII as is, `\r \n \t \\`, `\xNN`),
/// written again here so that the comparison does not trust the code under test.
fn escape(bytes: &[u8]) -> String {
    let mut s = String::new();
    for &b in bytes {
        match b {
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s
}

/// A run of Follow TCP Stream: from the client?, its bytes (escaped), bytes missing after it.
type Run = (bool, String, u64);

/// What Follow TCP Stream should show for stream `n`, from tshark: its raw follow (one entry of
/// captured bytes per segment) and each segment's `tcp.len` (what the header claims). A
/// segment's missing bytes are those it claims but the entry lacks; runs of one side merge
/// until bytes are missing.
fn tshark_follow(pcap: &Path, n: u32) -> Vec<Run> {
    let raw = stdout(tool("tshark").arg("-r").arg(pcap).args([
        "-q",
        "-z",
        &format!("follow,tcp,raw,{n}"),
    ]));
    let body = raw.split_once("Node 1:").unwrap().1;
    let entries: Vec<(bool, Vec<u8>)> = body
        .lines()
        .skip(1)
        .take_while(|l| !l.starts_with("==="))
        .filter(|l| !l.trim().is_empty())
        .map(|l| (!l.starts_with('\t'), hex(l.trim())))
        .collect();
    let lens: Vec<u64> = stdout(tool("tshark").arg("-r").arg(pcap).args([
        "-Y",
        &format!("tcp.stream == {n} && tcp.len > 0"),
        "-T",
        "fields",
        "-e",
        "tcp.len",
    ]))
    .lines()
    .map(|l| l.trim().parse().unwrap())
    .collect();
    assert_eq!(
        lens.len(),
        entries.len(),
        "one entry per segment in {pcap:?}"
    );
    let mut runs: Vec<(bool, Vec<u8>, u64)> = Vec::new();
    for ((client, data), claimed) in entries.into_iter().zip(lens) {
        let missing = claimed - data.len() as u64;
        match runs.last_mut() {
            Some(r) if r.0 == client && r.2 == 0 => {
                r.1.extend(data);
                r.2 = missing;
            }
            _ => runs.push((client, data, missing)),
        }
    }
    runs.into_iter()
        .map(|(c, d, m)| (c, escape(&d), m))
        .collect()
}

fn socklab_follow(pcap: &Path, n: u32) -> Value {
    let out = socklab()
        .arg("inspect")
        .arg(pcap)
        .args(["--follow", &n.to_string(), "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn runs(follow: &Value) -> Vec<Run> {
    follow["chunks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["from"] == "client",
                c["data"].as_str().unwrap().to_string(),
                c["missing"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// Regression (issue 11, part 8): on a capture cut to 96 bytes a packet, Follow TCP Stream
/// glued the next segment's bytes onto the cut one's, as if they had followed it on the wire.
/// Now each cut segment ends its run with the number of bytes missing, and the runs are
/// tshark's, byte for byte.
#[test]
fn follow_on_a_snaplen_cut_capture_leaves_gaps_instead_of_later_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let mut cut_runs = 0;
    for (name, streams) in [
        ("lw_simple_http.pcap", 2),
        ("cs_http_google.pcapng", 1),
        ("cs_mail_sender_client_1.pcapng", 1),
        ("cs_dns_tcp.pcapng", 1),
        ("lw_200722_tcp_anon.pcapng", 2),
    ] {
        for pcap in [public(name), snapped(dir.path(), &public(name), 96)] {
            for n in 0..streams {
                let ours = socklab_follow(&pcap, n);
                let want = tshark_follow(&pcap, n);
                assert_eq!(runs(&ours), want, "{} stream {n}", pcap.display());
                let missing: u64 = want.iter().map(|r| r.2).sum();
                assert_eq!(ours["missing"], missing, "{} stream {n}", pcap.display());
                cut_runs += want.iter().filter(|r| r.2 > 0).count();
            }
        }
    }
    assert!(
        cut_runs >= 10,
        "the snapped captures cut segments ({cut_runs})"
    );

    // The text view marks the gap where the bytes are missing.
    let pcap = snapped(dir.path(), &public("lw_simple_http.pcap"), 96);
    let text = stdout(socklab().arg("inspect").arg(&pcap).args(["--follow", "0"]));
    assert!(
        text.contains(
            "Host: localhos\n[463 bytes missing in capture file]\n\tHTTP/1.0 200 OK\\r\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("\tServer: Simpl\n\t[156 bytes missing in capture file]\n\tHello, world!\n"),
        "{text}"
    );
}

/// Regression (issue 11, part 8): `verify` graded payload checks on the bytes of a capture cut
/// by a snapshot length, as if the next segment's bytes were the cut one's. A payload check on
/// a cut stream is now not graded, and says the capture was cut and how to capture whole;
/// the checks that need no payload are graded as before.
#[test]
fn verify_does_not_grade_payload_the_capture_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let run = common::run_into(dir.path(), &["scenarios/upper/tcp-round-trip.json"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let whole = dir.path().join("upper-tcp-round-trip.pcap");
    // The line and its reply are 21 bytes behind 66 bytes of headers: 80 cuts both.
    let cut = snapped(dir.path(), &whole, 80);
    let lens = stdout(tool("tshark").arg("-r").arg(&cut).args([
        "-Y",
        "tcp.len > 0",
        "-T",
        "fields",
        "-e",
        "frame.len",
        "-e",
        "frame.cap_len",
    ]));
    assert!(
        lens.lines().all(|l| l.ends_with("\t80")) && lens.lines().count() == 2,
        "tshark sees both payload packets cut: {lens}"
    );

    let out = common::verify(&whole, "upper-tcp-round-trip", &["--json"]);
    assert_eq!(out.status.code(), Some(0), "the whole capture passes");

    let out = common::verify(&cut, "upper-tcp-round-trip", &["--json"]);
    assert_eq!(out.status.code(), Some(1));
    let report = common::verify_json(&out);
    let payload: Vec<&Value> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "tcp_payload")
        .collect();
    assert_eq!(payload.len(), 2, "{report}");
    for c in payload {
        assert_eq!(c["outcome"], "not_graded", "{c}");
        assert_eq!(c["passed"], false, "{c}");
        let reason = c["reason"].as_str().unwrap();
        assert!(
            reason.starts_with("not graded: the capture was cut: packet 4 was cut short by the capture's snapshot length (6 of its payload bytes are not in the file)"),
            "{reason}"
        );
    }
    for kind in ["tcp_handshake", "tcp_fin_teardown", "tcp_connections"] {
        assert_eq!(common::check(&report, kind)["outcome"], "passed", "{kind}");
    }

    // The text view marks them apart, neither passed nor failed.
    let out = common::verify(&cut, "upper-tcp-round-trip", &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("– on the wire, the reply is the line in uppercase"),
        "{text}"
    );
    assert!(
        text.contains(
            "3/5 wire checks passed; 2 not graded: the capture lacks the bytes they judge"
        ),
        "{text}"
    );
}

/// The same for UDP: the line and its reply cut to 8 of their 21 bytes. What the kept bytes
/// show is graded (a datagram was sent, and it is not empty); what they cannot show (the reply
/// is the uppercase of the whole line, `--text` names the whole line) is not.
#[test]
fn verify_does_not_grade_a_datagram_the_capture_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let run = common::run_into(dir.path(), &["scenarios/upper/udp-round-trip.json"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    // 42 bytes of Ethernet, IPv4 and UDP headers, then 8 of the payload.
    let cut = snapped(
        dir.path(),
        &dir.path().join("upper-udp-round-trip.pcap"),
        50,
    );
    let line = "hello, World &*! 123";
    for (flags, sent) in [(&[][..], "passed"), (&["--text", line][..], "not_graded")] {
        let mut all = vec!["--json"];
        all.extend(flags);
        let out = common::verify(&cut, "upper-udp-round-trip", &all);
        assert_eq!(out.status.code(), Some(1), "{flags:?}");
        let report = common::verify_json(&out);
        let checks = report["checks"].as_array().unwrap();
        assert_eq!(checks[0]["outcome"], sent, "{flags:?}: {}", checks[0]);
        assert_eq!(checks[1]["outcome"], "not_graded", "{}", checks[1]);
        let reason = checks[1]["reason"].as_str().unwrap();
        assert!(
            reason.contains("packet 1 was cut short by the capture's snapshot length (12 of its payload bytes are not in the file)"),
            "{reason}"
        );
    }
}

/// A new timestamp (seconds) from the old.
type Retime = fn(u32) -> u32;

/// A copy of the classic pcap `src` with record `i`'s seconds replaced by `set(seconds)`.
fn retimed(src: &Path, dst: &Path, edits: &[(usize, Retime)]) {
    let mut d = std::fs::read(src).unwrap();
    assert_eq!(
        &d[..4],
        &[0xd4, 0xc3, 0xb2, 0xa1],
        "little-endian microsecond pcap"
    );
    let mut off = 24;
    let mut records = Vec::new();
    while off + 16 <= d.len() {
        records.push(off);
        let incl = u32::from_le_bytes(d[off + 8..off + 12].try_into().unwrap());
        off += 16 + incl as usize;
    }
    for &(i, set) in edits {
        let at = records[i];
        let secs = u32::from_le_bytes(d[at..at + 4].try_into().unwrap());
        d[at..at + 4].copy_from_slice(&set(secs).to_le_bytes());
    }
    std::fs::write(dst, d).unwrap();
}

/// One conversation of `tshark -q -z conv,tcp`: frames, bytes, relative start, duration.
#[derive(Debug)]
struct Conv {
    frames: u64,
    bytes: u64,
    start: f64,
    duration: f64,
}

/// tshark's TCP conversations, by their two endpoints (sorted).
fn tshark_convs(pcap: &Path) -> BTreeMap<(String, String), Conv> {
    let text = stdout(
        tool("tshark")
            .arg("-r")
            .arg(pcap)
            .args(["-q", "-z", "conv,tcp"]),
    );
    text.lines()
        .filter(|l| l.contains(" <-> "))
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            // A <-> B  frames bytes "bytes"  frames bytes "bytes"  frames bytes "bytes"  start duration
            assert_eq!(f.len(), 14, "{l}");
            let mut key = [f[0].to_string(), f[2].to_string()];
            key.sort();
            let [a, b] = key;
            (
                (a, b),
                Conv {
                    frames: f[9].parse().unwrap(),
                    bytes: f[10].parse().unwrap(),
                    start: f[12].parse().unwrap(),
                    duration: f[13].parse().unwrap(),
                },
            )
        })
        .collect()
}

fn endpoint(v: &Value) -> String {
    format!("{}:{}", v["ip"].as_str().unwrap(), v["port"])
}

/// socklab's TCP streams, by their two endpoints (sorted), from `inspect --streams --json`.
fn socklab_streams(pcap: &Path) -> (Vec<Value>, Value) {
    let out = stdout(
        socklab()
            .arg("inspect")
            .arg(pcap)
            .args(["--streams", "--json"]),
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    (v["tcp_streams"].as_array().unwrap().clone(), v)
}

fn key(s: &Value) -> (String, String) {
    let mut k = [endpoint(&s["client"]), endpoint(&s["server"])];
    k.sort();
    let [a, b] = k;
    (a, b)
}

/// Regression (issue 11, part 8): one record stamped far in the future made every stream look
/// idle for hours, and `--streams` split a capture's 2 conversations into 20 streams (tshark:
/// 2). Time going backwards gave negative durations; they now run from the earliest packet to
/// the latest, as tshark's conversation table measures them.
#[test]
fn a_far_future_or_backward_timestamp_neither_splits_streams_nor_makes_negative_durations() {
    let dir = tempfile::tempdir().unwrap();
    let src = public("lw_simple_http.pcap");
    let future = dir.path().join("future.pcap");
    retimed(&src, &future, &[(4, |_| 0xF000_0000)]);
    let back = dir.path().join("back.pcap");
    retimed(&src, &back, &[(6, |s| s - 100)]);

    for pcap in [&future, &back] {
        let want = tshark_convs(pcap);
        let (ours, all) = socklab_streams(pcap);
        assert_eq!(ours.len(), want.len(), "{}: {ours:?}", pcap.display());
        for s in &ours {
            let c = &want[&key(s)];
            let frames = s["to_server"]["packets"].as_u64().unwrap()
                + s["to_client"]["packets"].as_u64().unwrap();
            let bytes = s["to_server"]["bytes"].as_u64().unwrap()
                + s["to_client"]["bytes"].as_u64().unwrap();
            assert_eq!((frames, bytes), (c.frames, c.bytes), "{}", pcap.display());
            let duration = s["duration"].as_f64().unwrap();
            assert!(duration >= 0.0, "{}: {s}", pcap.display());
            let span = s["end"].as_f64().unwrap() - s["start"].as_f64().unwrap();
            assert!((duration - span).abs() < 1e-6, "{s}");
        }
        assert!(all["duration"].as_f64().unwrap() >= 0.0);
    }

    // Time going backwards: tshark's relative start and duration, to its 4 decimals.
    let want = tshark_convs(&back);
    let (ours, all) = socklab_streams(&back);
    for s in &ours {
        let c = &want[&key(s)];
        assert!(
            (s["start"].as_f64().unwrap() - c.start).abs() < 1e-6,
            "{s} {c:?}"
        );
        assert!(
            (s["duration"].as_f64().unwrap() - c.duration).abs() < 1e-4,
            "{s} {c:?}"
        );
    }
    assert!(ours[0]["start"].as_f64().unwrap() < -99.0, "{:?}", ours[0]);
    // The capture's duration runs from its earliest timestamp to its latest.
    assert!(
        (all["duration"].as_f64().unwrap() - 100.054283).abs() < 1e-6,
        "{all}"
    );
    let text = stdout(socklab().arg("inspect").arg(&back).arg("--streams"));
    assert!(!text.contains(" -"), "no negative duration:\n{text}");

    // The far-future record: its stream lasts from its first packet to that record (tshark
    // 4.0 prints a negative duration here: its comparison overflows past 2^31 seconds).
    let (ours, _) = socklab_streams(&future);
    let d = ours[0]["duration"].as_f64().unwrap();
    assert!(d > 2.2e9, "{}", ours[0]);
}
