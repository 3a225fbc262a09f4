//! The degraded mode for machines without user namespaces: the host's loopback, free ports, no
//! capture, and a report that says so.

use std::process::Command;

use assert_cmd::cargo::cargo_bin;

#[test]
fn host_isolation_runs_on_loopback_without_capture_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(cargo_bin("socklab"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "run",
            "scenarios/upper/tcp-round-trip.json",
            "--isolation",
            "host",
            "--report",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("results.json")).unwrap())
            .unwrap();
    assert!(results["isolation"]
        .as_str()
        .unwrap()
        .starts_with("host (degraded"));
    assert!(results["scenarios"][0]["capture"].is_null());
    let pcaps = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "pcap")
        })
        .count();
    assert_eq!(pcaps, 0, "host mode must not pretend to capture");
    let report = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    assert!(report.contains("isolation: host (degraded: no isolation, no capture)"));
}
