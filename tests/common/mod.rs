//! Helpers shared by the integration tests: the binary, the project root, and one
//! `socklab run` into a report directory.

#![allow(dead_code)] // each test crate uses its own subset

use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::cargo::cargo_bin;
use serde_json::Value;

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
