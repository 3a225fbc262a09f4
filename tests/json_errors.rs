//! Machine output stays machine output (issue 11, part 9): with `--json` (or `report --format
//! json`), an error is one line of JSON on standard error,
//! `{"error":{"kind":...,"message":...,"exit_code":...}}`, and nothing else is printed; without
//! it, errors stay text. The style is documented in docs/json.md.

use std::process::Output;

use serde_json::Value;

mod common;

use common::socklab;

/// The one JSON error line of `out`, checked against its exit code; stdout must be empty.
fn json_error(out: &Output) -> Value {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.stdout.is_empty(),
        "nothing on stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line on stderr: {stderr}");
    let v: Value = serde_json::from_str(lines[0]).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    let keys: Vec<&String> = v["error"]
        .as_object()
        .expect("an error object")
        .keys()
        .collect();
    assert_eq!(keys.len(), 3, "{v}");
    assert_eq!(
        v["error"]["exit_code"].as_i64(),
        out.status.code().map(i64::from),
        "{v}"
    );
    assert!(
        v["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{v}"
    );
    v
}

/// Regression (issue 11, part 9): `verify --json` on a capture with several servers printed only
/// text on stderr. The same message now comes as a JSON error.
#[test]
fn an_ambiguous_verify_with_json_is_a_json_error() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("lab.pcap");
    common::pcap::noisy_lab_capture(&pcap);
    let out = common::verify(&pcap, "upper-tcp-round-trip", &["--json"]);
    assert_eq!(out.status.code(), Some(2));
    let v = json_error(&out);
    assert_eq!(v["error"]["kind"], "input");
    let message = v["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("cannot tell which server in ") && message.contains("--server-port 80"),
        "{message}"
    );
    // Without --json: the same message as text.
    let out = common::verify(&pcap, "upper-tcp-round-trip", &[]);
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(text.starts_with("cannot tell which server in "), "{text}");
    assert_eq!(text.trim_end(), message);
}

/// Every command that writes JSON reports each kind of error the same way: bad input, a
/// usage error from the argument parser, and errors found while reading a capture.
#[test]
fn every_json_command_reports_its_errors_as_json() {
    let public = common::root().join("../shared/captures/public/lw_simple_http.pcap");
    let public = public.to_str().unwrap();
    // A file that is no capture at all: the reader's error, not the opener's.
    let damaged =
        common::root().join("fuzz/seeds/capture_reader/own_ethernet_be-us-bad-magic.pcap");
    let damaged = damaged.to_str().unwrap();
    let not_a_capture = format!("{damaged}: not a pcap or pcapng file");
    let cases: &[(&[&str], &str, &str)] = &[
        (&["inspect", "--json", damaged], "input", &not_a_capture),
        (
            &["inspect", "--json", "/nonexistent/x.pcap"],
            "input",
            "cannot open /nonexistent/x.pcap: ",
        ),
        (
            &["inspect", "--json", "--follow", "7", public],
            "input",
            "no TCP stream 7: the capture has 2 (numbered from 0)",
        ),
        (
            &[
                "inspect",
                "--json",
                "--ladder",
                "--between",
                "192.0.2.1",
                "192.0.2.2",
                public,
            ],
            "input",
            "no packet of the capture is between 192.0.2.1 and 192.0.2.2",
        ),
        (
            &["inspect", "--json", "--follow", "x", public],
            "usage",
            "invalid value 'x' for '--follow <N>'",
        ),
        (
            &["inspect", public, "--streams", "--follow", "0", "--json"],
            "usage",
            "the argument '--streams' cannot be used with '--follow <N>'",
        ),
        (
            &["verify", "--json", public, "--scenario", "no-such-scenario"],
            "input",
            "no scenario `no-such-scenario`",
        ),
        (
            &["verify", "--json", public],
            "usage",
            "the following required arguments were not provided",
        ),
        (
            &["report", "--format", "json", "/nonexistent/results.json"],
            "input",
            "cannot read /nonexistent/results.json: ",
        ),
    ];
    for (args, kind, start) in cases {
        let out = socklab().args(*args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let v = json_error(&out);
        assert_eq!(v["error"]["kind"], *kind, "{args:?}: {v}");
        let message = v["error"]["message"].as_str().unwrap();
        assert!(message.starts_with(start), "{args:?}: {message}");

        // The same command without --json: text, not JSON.
        let text_args: Vec<&str> = args
            .iter()
            .copied()
            .filter(|a| *a != "--json")
            .map(|a| if a == "json" { "markdown" } else { a })
            .collect();
        let out = socklab().args(&text_args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{text_args:?}");
        let text = String::from_utf8_lossy(&out.stderr);
        assert!(!text.trim_start().starts_with('{'), "{text_args:?}: {text}");
    }
}

/// `--help` beside `--json` is help, not an error.
#[test]
fn help_with_json_is_still_help() {
    let out = socklab()
        .args(["inspect", "--json", "--help"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Usage: socklab inspect"));
    assert!(out.stderr.is_empty());
}
