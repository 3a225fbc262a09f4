//! The degraded mode for machines without user namespaces: the host's loopback, free ports, no
//! capture, and a report that says so.

mod common;

#[test]
fn host_isolation_runs_on_loopback_without_capture_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let run = common::run_into(
        dir.path(),
        &["scenarios/upper/tcp-round-trip.json", "--isolation", "host"],
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(run.results["isolation"]
        .as_str()
        .unwrap()
        .starts_with("host (degraded"));
    assert!(run.results["scenarios"][0]["capture"].is_null());
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
    assert!(run
        .report
        .contains("isolation: host (degraded: no isolation, no capture)"));
}
