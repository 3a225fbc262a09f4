//! Helpers shared by the integration tests: the binary, the project root, one `socklab run`
//! into a report directory, `socklab verify` and its JSON, and synthetic captures ([`pcap`]).

#![allow(dead_code)] // each test crate uses its own subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use assert_cmd::cargo::cargo_bin;
use serde_json::Value;

pub mod pcap;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `socklab`, run from the project root (where `scenarios/` is).
pub fn socklab() -> Command {
    let mut cmd = Command::new(cargo_bin("socklab"));
    cmd.current_dir(root());
    cmd
}

/// What `socklab run ARGS --report DIR` produced.
pub struct Run {
    pub code: i32,
    pub results: Value,
    pub report: String,
    pub stdout: String,
}

/// Runs `socklab run ARGS --report DIR`; panics with its output when it wrote no results.
pub fn run_into(dir: &Path, args: &[&str]) -> Run {
    let out = socklab()
        .arg("run")
        .args(args)
        .arg("--report")
        .arg(dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let text = std::fs::read_to_string(dir.join("results.json")).unwrap_or_else(|e| {
        panic!(
            "no results.json ({e}); stdout: {stdout}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    Run {
        code: out.status.code().unwrap_or(-1),
        results: serde_json::from_str(&text).unwrap(),
        report: std::fs::read_to_string(dir.join("report.md")).unwrap(),
        stdout,
    }
}

/// `socklab verify PCAP --scenario SCENARIO FLAGS...`.
pub fn verify(pcap: &Path, scenario: &str, flags: &[&str]) -> Output {
    socklab()
        .arg("verify")
        .arg(pcap)
        .args(["--scenario", scenario])
        .args(flags)
        .output()
        .unwrap()
}

/// What `socklab verify --json` printed; panics with its output when that is not JSON.
pub fn verify_json(out: &Output) -> Value {
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "verify printed no JSON ({e}): {text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// The check of kind `kind` in a verify report's or a scenario result's `checks`.
pub fn check<'a>(report: &'a Value, kind: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} check in {report}"))
}
