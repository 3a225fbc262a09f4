//! Integration tests of the wire side through the CLI: reports cite the packets of the run;
//! `socklab verify` grades a capture made by another run; a run without capture cannot pass its
//! wire checks. (Captures against tshark: `tshark.rs`; verify's role flags: `verify.rs`.)

use std::path::Path;

use serde_json::Value;

mod common;

use common::{check, check_titled, socklab, submission};

/// Runs `socklab run ARGS --report DIR`: (exit code, results.json, report.md).
fn run_into(dir: &Path, args: &[&str]) -> (i32, Value, String) {
    let r = common::run_into(dir, args);
    (r.code, r.results, r.report)
}

/// The part of report.md about one scenario.
fn section<'a>(report: &'a str, id: &str) -> &'a str {
    let start = report
        .find(&format!("<a id=\"{id}\"></a>"))
        .unwrap_or_else(|| panic!("no section {id}"));
    let rest = &report[start + 1..];
    let end = rest.find("<a id=").map_or(rest.len(), |e| e + 1);
    &report[start..start + end]
}

#[test]
fn client_before_server_reports_show_the_packets_that_explain_them() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, report) = run_into(
        dir.path(),
        &[
            "scenarios/upper/tcp-client-before-server.json",
            "scenarios/upper/udp-client-before-server.json",
        ],
    );
    assert_eq!(code, 0, "{report}");
    let tcp = section(&report, "upper-tcp-client-before-server");
    assert!(
        tcp.lines()
            .any(|l| l.starts_with("| 1 |") && l.contains("TCP") && l.contains("[SYN]")),
        "{tcp}"
    );
    assert!(
        tcp.lines()
            .any(|l| l.starts_with("| 2 |") && l.contains("[RST, ACK]")),
        "{tcp}"
    );
    assert!(
        tcp.contains("SYN in packet 1 answered by RST in packet 2"),
        "{tcp}"
    );
    assert!(tcp.contains("```mermaid\nsequenceDiagram"), "{tcp}");
    let udp = section(&report, "upper-udp-client-before-server");
    assert!(
        udp.lines()
            .any(|l| l.starts_with("| 1 |") && l.contains("UDP")),
        "{udp}"
    );
    assert!(
        udp.lines().any(|l| l.starts_with("| 2 |")
            && l.contains("ICMP")
            && l.contains("Port unreachable")),
        "{udp}"
    );
    assert!(
        udp.contains("the datagram in packet 1 was answered by ICMP port unreachable in packet 2"),
        "{udp}"
    );
    // The ICMP error is drawn dashed, from the refused port back to the client.
    assert!(udp.contains("P1-->>P0: 2. ICMP"), "{udp}");
}

fn verify(pcap: &Path, scenario: &str) -> (i32, Value) {
    let out = common::verify(pcap, scenario, &["--json"]);
    (out.status.code().unwrap_or(-1), common::verify_json(&out))
}

#[test]
fn verify_passes_a_tcp_round_trip_capture_and_fails_a_udp_one_with_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, _) = run_into(
        dir.path(),
        &[
            "scenarios/upper/tcp-round-trip.json",
            "scenarios/upper/udp-round-trip.json",
        ],
    );
    assert_eq!(code, 0);
    let (code, good) = verify(
        &dir.path().join("upper-tcp-round-trip.pcap"),
        "upper-tcp-round-trip",
    );
    assert_eq!(code, 0, "{good}");
    let hs = check(&good, "tcp_handshake");
    assert_eq!(hs["passed"], true);
    assert_eq!(hs["evidence_packets"], serde_json::json!([1, 2, 3]));
    assert_eq!(check(&good, "tcp_payload")["passed"], true);

    let (code, bad) = verify(
        &dir.path().join("upper-udp-round-trip.pcap"),
        "upper-tcp-round-trip",
    );
    assert_eq!(code, 1, "{bad}");
    for kind in ["tcp_handshake", "tcp_payload"] {
        let c = check(&bad, kind);
        assert_eq!(c["passed"], false, "{c}");
        let reason = c["reason"].as_str().unwrap();
        assert!(reason.contains("UDP datagram"), "{kind}: {reason}");
    }
}

#[test]
fn verify_rejects_an_unknown_scenario_as_bad_input() {
    let out = socklab()
        .args(["verify", "Cargo.toml", "--scenario", "upper-tcp-round-trp"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("upper-tcp-round-trip"), "{err}");
}

#[test]
fn wire_checks_without_a_capture_are_not_graded_and_not_passed() {
    let dir = tempfile::tempdir().unwrap();
    let (code, results, _) = run_into(
        dir.path(),
        &["scenarios/upper/tcp-round-trip.json", "--no-capture"],
    );
    // The other checks still grade the run; the wire checks count neither way.
    assert_eq!(code, 0, "{results}");
    let s = &results["scenarios"][0];
    assert_eq!(s["verdict"], "pass");
    assert!(
        s["warnings"][0].as_str().unwrap().contains("not graded"),
        "{s}"
    );
    let wire = check(s, "tcp_handshake");
    assert_eq!(wire["passed"], false);
    assert_eq!(wire["outcome"], "not_graded");
    assert_eq!(wire["awarded"], 0);
    assert!(wire["reason"]
        .as_str()
        .unwrap()
        .starts_with("not graded: the run was made with --no-capture"));
    // Not graded counts neither way: the maximum leaves it out.
    let counted: u64 = s["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["outcome"] != "not_graded")
        .map(|c| c["points"].as_u64().unwrap())
        .sum();
    assert_eq!(s["max_points"], counted);
}

/// `socklab run FILE` on a scenario with wire checks; returns stderr of a bad-input exit.
fn wire_input_error(checks: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.json");
    let text = format!(
        r#"{{
  "id": "t", "lab": "upper", "title": "t", "question": "q", "explanation": "e",
  "programs": [{{"name": "server", "role": "tcp-upper-server"}},
               {{"name": "client", "role": "tcp-upper-client"}}],
  "steps": [{{"start": {{"program": "server"}}}}, {{"start": {{"program": "client"}}}}],
  "checks": [{checks}]
}}
"#
    );
    std::fs::write(&path, text).unwrap();
    let out = socklab().arg("run").arg(&path).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{err}");
    err
}

#[test]
fn bad_wire_checks_are_located_in_the_file() {
    let err = wire_input_error(r#"{"tcp_handshake": {"client": "client", "server": "sevrer"}}"#);
    assert!(err.contains("unknown program `sevrer`"), "{err}");
    assert!(err.contains("(at checks[0].tcp_handshake.server)"), "{err}");
    assert!(err.contains("did you mean `server`?"), "{err}");
    let err = wire_input_error(
        r#"{"tcp_payload": {"from": "client", "to": "server", "contains": "a", "regex": "b"}}"#,
    );
    assert!(
        err.contains("give exactly one payload condition, not 2"),
        "{err}"
    );
    let err = wire_input_error(
        r#"{"tcp_payload": {"from": "client", "to": "server", "equals_hex": "4g"}}"#,
    );
    assert!(err.contains("invalid hex bytes `4g`"), "{err}");
    let err = wire_input_error(r#"{"tcp_connections": {"program": "server"}}"#);
    assert!(err.contains("give `count`, or `min` and/or `max`"), "{err}");
}

/// Regression: a submission that hard-codes port 12000 in client and server failed every wire
/// check of its (correct) round trip, "no TCP handshake ... on port 28468; traffic went to
/// port(s) 12000", and "client before server" although its client was refused (on 12000).
#[test]
fn a_hard_coded_port_is_charged_to_the_port_rule_and_no_wire_check() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = submission("upper-hardcoded-port");
    let r = common::run_into(
        dir.path(),
        &[
            "scenarios/upper/tcp-round-trip.json",
            "scenarios/upper/udp-round-trip.json",
            "scenarios/upper/tcp-client-before-server.json",
            "scenarios/upper/udp-client-before-server.json",
            "--submission",
            &fixture,
        ],
    );
    let wire = [
        "tcp_handshake",
        "tcp_payload",
        "tcp_fin_teardown",
        "tcp_connections",
        "tcp_refused",
        "no_tcp_handshake",
        "udp_datagrams",
        "icmp_port_unreachable",
    ];
    // The round trips' cross-test runs meet socklab's programs on the assigned port, which the
    // hard-coded programs never reach: there everything is lost, and to the port rule alone.
    let (cross, scenarios): (Vec<&Value>, Vec<&Value>) = r.results["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .partition(|s| s.get("cross").is_some());
    assert_eq!(scenarios.len(), 4);
    assert_eq!(cross.len(), 4);
    for s in cross {
        let lost = s["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["outcome"] != "passed");
        for c in lost {
            let cause = c["cause"].as_str().unwrap_or("");
            assert!(cause.starts_with("ignores-port:"), "{}: {c}", s["id"]);
        }
    }
    for s in &scenarios {
        let judged: Vec<&Value> = s["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| wire.contains(&c["kind"].as_str().unwrap()))
            .collect();
        // Not vacuous: every one of these scenarios grades the wire.
        assert!(!judged.is_empty(), "no wire check in {}", s["id"]);
        for c in judged {
            assert_eq!(c["passed"], true, "{}: {c}", s["id"]);
        }
    }
    let round_trip = scenarios
        .iter()
        .find(|s| s["id"] == "upper-tcp-round-trip")
        .unwrap();
    let port = round_trip["ports"][0]["port"].as_u64().unwrap();
    let handshake = check(round_trip, "tcp_handshake")["actual"]
        .as_str()
        .unwrap();
    assert!(
        handshake.starts_with(&format!(
            "on port 12000, where server listens instead of the assigned {port}: SYN in packet 1"
        )),
        "{handshake}"
    );
    let ready = check(round_trip, "wait_ready");
    assert_eq!(ready["passed"], false, "{ready}");
}

#[test]
fn a_swapcase_server_fails_the_reply_check_naming_request_and_reply() {
    let dir = tempfile::tempdir().unwrap();
    let r = common::run_into(
        dir.path(),
        &[
            "scenarios/upper/tcp-round-trip.json",
            "--submission",
            &submission("upper-swapcase"),
        ],
    );
    let s = &r.results["scenarios"][0];
    let reply = check_titled(s, "on the wire, the reply is the line in uppercase");
    assert_eq!(reply["passed"], false, "{reply}");
    let actual = reply["actual"].as_str().unwrap();
    assert!(
        actual.starts_with("server sent \"HELLO, wORLD &*! 123\" in packet ")
            && actual.contains(
                ", but the uppercase of the request \"hello, World &*! 123\" (packet 4) is \
                 \"HELLO, WORLD &*! 123\""
            ),
        "{actual}"
    );
    assert_eq!(reply["evidence_packets"].as_array().unwrap().len(), 2);
    // The request itself was right.
    let request = check_titled(
        s,
        "on the wire, the line travels in plain text to the server",
    );
    assert_eq!(request["passed"], true, "{request}");
}
