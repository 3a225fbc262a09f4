//! Helpers shared by the integration tests: the binary, the project root, one `socklab run`
//! into a report directory, `socklab verify` and its JSON, and synthetic captures ([`pcap`], on
//! the shared builder [`testkit`], which the unit tests use too).

#![allow(dead_code)] // each test crate uses its own subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use assert_cmd::cargo::cargo_bin;
use serde_json::Value;

pub mod browser;
pub mod pcap;
#[path = "../../src/testkit.rs"]
pub mod testkit;
pub mod vnu;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The submission fixture `name` (`fixtures/submissions/NAME`), as a `--submission` value.
pub fn submission(name: &str) -> String {
    root()
        .join("fixtures/submissions")
        .join(name)
        .display()
        .to_string()
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

/// The scenario `id` of a run's results.json.
pub fn scenario<'a>(results: &'a Value, id: &str) -> &'a Value {
    results["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("no scenario {id}"))
}

/// The check of kind `kind` in a verify report's or a scenario result's `checks`.
pub fn check<'a>(report: &'a Value, kind: &str) -> &'a Value {
    check_where(report, "kind", kind)
}

/// The check titled `title` (for a scenario with several checks of one kind).
pub fn check_titled<'a>(report: &'a Value, title: &str) -> &'a Value {
    check_where(report, "title", title)
}

fn check_where<'a>(report: &'a Value, field: &str, value: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c[field] == value)
        .unwrap_or_else(|| panic!("no check with {field} {value:?} in {report}"))
}

/// Masks what changes from run to run in socklab's console and report text (times, ports,
/// seeds, pids, dates, TCP timestamps, packet numbers) and collapses runs of spaces, so that
/// two runs of the same submission read the same.
pub fn redact(text: &str) -> String {
    let rules: &[(&str, &str)] = &[
        // A busy machine's CPU wait is named in step details only when it happened.
        (r", of which it waited \d+ ms for a CPU", ""),
        (r"\b\d+ ms\b", "N ms"),
        (r"\bseed \d+", "seed N"),
        (r"--seed \d+", "--seed N"),
        (r"\bpid \d+", "pid N"),
        (r"TSval=\d+ TSecr=\d+", "TSval=N TSecr=N"),
        (r"\b\d+\.\d{6,9}\b", "T"),
        (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "DATE"),
        // The date/time lab's answers, and the clock they are judged against.
        (r"\b\d\d:\d\d:\d\d\b", "HH:MM:SS"),
        (r"\b\d{4}-\d\d-\d\d\b", "YYYY-MM-DD"),
        // The machine's interpreter: its version and where it lives.
        (r"Python \d+\.\d+\.\d+ \([^)]*\)", "Python X (PATH)"),
        (
            r"\bpackets? \d+(, \d+)*(, …)?( \(\d+ in all\))?",
            "packet N",
        ),
        // Ports: the harness picks them per run (20000-31999), the kernel the ephemeral ones.
        (r"\b[1-6]\d{4}\b", "PORT"),
        (r"[ \t]+", " "),
    ];
    let mut s = text.to_string();
    for (re, with) in rules {
        s = regex::Regex::new(re)
            .unwrap()
            .replace_all(&s, *with)
            .into_owned();
    }
    s.lines().map(str::trim_end).collect::<Vec<_>>().join("\n")
}

/// What a student reads in a report, without the parts that vary with scheduling (steps,
/// transcript, packet list, ladder, the checks table's measured values): the header, who played
/// which role, the diagnoses, the verdict table, and per scenario its verdict, what went wrong,
/// what was not graded and the explanation. Redacted, for golden files.
pub fn report_digest(report: &str) -> String {
    let mut out = Vec::new();
    let mut keep = true;
    let mut skip_blank = false;
    for line in report.lines() {
        let starts = |p: &str| line.starts_with(p);
        // Which process cap the machine has depends on the machine, not the submission: the
        // line and the blank line after it are left out.
        if starts("Processes capped by:") {
            skip_blank = true;
            continue;
        }
        if std::mem::take(&mut skip_blank) && line.is_empty() {
            continue;
        }
        if starts("## ") || starts("**What went wrong") || starts("**Not graded") {
            keep = true;
        } else if starts("**What should have happened")
            || starts("**Explanation")
            || starts("**Not run")
            || starts("**What happened in this run")
            || starts("**The harness could not run")
        {
            out.push(line.to_string());
            keep = false;
            continue;
        } else if starts("| | Where")
            || starts("**Programs.")
            || starts("**Steps.")
            || starts("**Transcript")
            || starts("**On the wire")
            || starts("**Packets")
            || starts("**Ladder")
            || starts("**Harness warnings")
            || starts("**Question.")
            || starts("`")
        {
            keep = false;
        }
        if keep {
            out.push(line.to_string());
        }
    }
    // Reports name the submission by the path they were given: the checkout's is not stable.
    let root = format!("{}/", root().display());
    redact(&out.join("\n")).replace(&root, "")
}

/// A minimal valid scenario, for tests that break one thing of it.
pub const VALID_SCENARIO: &str = r#"{
  "id": "t", "lab": "upper", "title": "t", "question": "q", "explanation": "e",
  "programs": [{"name": "server", "role": "tcp-upper-server"}],
  "steps": [{"start": {"program": "server"}}]
}
"#;

/// Runs `socklab run` on `text` written to `bad.json` in a fresh directory; asserts exit code 2
/// (bad input) and returns stderr.
pub fn input_error(text: impl AsRef<[u8]>) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.json");
    std::fs::write(&path, text).unwrap();
    let out = socklab()
        .arg("run")
        .arg(&path)
        .arg("--report")
        .arg(dir.path().join("report"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        stderr.chars().take(2000).collect::<String>()
    );
    stderr
}
