//! Graded and advisory (issue 8): a submission that does what the handout asks (the web
//! handout's skeleton, `fixtures/submissions/web-good`) passes every graded scenario; the
//! advisory scenarios it fails are graded with their evidence, shown apart, weigh 0 points,
//! name no diagnosis and leave the exit code at 0.

mod common;

use common::{run_into, submission};

#[test]
fn the_handouts_skeleton_keeps_every_graded_point_and_fails_only_advice() {
    let report = tempfile::tempdir().unwrap();
    let sub = submission("web-good");
    let run = run_into(
        report.path(),
        &[
            "scenarios/web/trickled-request.json",
            "scenarios/web/hello-world.json",
            "scenarios/web/path-traversal.json",
            "--submission",
            &sub,
        ],
    );
    assert_eq!(
        run.code, 0,
        "advisory failures are not lost points: {}",
        run.stdout
    );
    let s = &run.results["summary"];
    assert_eq!(s["scenarios"], 1, "{s}");
    assert_eq!(s["passed"], 1, "{s}");
    assert_eq!(s["points"], s["max_points"], "{s}");
    assert_eq!(s["points"], 6, "only the graded scenario counts: {s}");
    let a = &s["advisory"];
    assert_eq!(
        (a["scenarios"].as_u64(), a["failed"].as_u64()),
        (Some(2), Some(2)),
        "{a}"
    );
    assert!(a["max_points"].as_u64().unwrap() > 0, "{a}");
    assert_eq!(
        run.results["diagnoses"].as_array().map(Vec::len),
        Some(0),
        "an advisory failure is no headline cause: {}",
        run.results["diagnoses"]
    );
    let scenarios = run.results["scenarios"].as_array().unwrap();
    let flags: Vec<(&str, bool)> = scenarios
        .iter()
        .map(|sc| (sc["id"].as_str().unwrap(), sc["advisory"] == true))
        .collect();
    // Graded first, then the advisory ones, whatever order they were given in.
    assert_eq!(
        flags,
        [
            ("web-hello-world", false),
            ("web-path-traversal", true),
            ("web-trickled-request", true)
        ]
    );
    // The evidence is there: the secret's bytes the server sent, with their packets.
    let traversal = &scenarios[1]["checks"];
    let refused = traversal
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "tcp_payload")
        .unwrap();
    assert_eq!(refused["outcome"], "failed");
    assert!(
        refused["actual"]
            .as_str()
            .unwrap()
            .contains("socklab-secret"),
        "{refused}"
    );
    assert!(!refused["evidence_packets"].as_array().unwrap().is_empty());

    // The console: graded lines, then the advisory header and its lines.
    let header = run
        .stdout
        .find("Advisory, beyond the handout")
        .expect(&run.stdout);
    let graded = run.stdout.find("PASS  web-hello-world").expect(&run.stdout);
    let advisory = run
        .stdout
        .find("FAIL  web-path-traversal")
        .expect(&run.stdout);
    assert!(graded < header && header < advisory, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("points 6/6; advisory (0 points): 0 passed, 2 failed, 0 errors"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("Diagnoses"), "{}", run.stdout);

    // report.md: its own part, after the graded scenarios, each scenario marked.
    let part = run
        .report
        .find("# Advisory: beyond the handout")
        .expect(&run.report);
    let graded = run
        .report
        .find("## ✅ PASS — The server answers a GET")
        .unwrap();
    assert!(
        graded < part,
        "the advisory part comes after the graded scenarios"
    );
    assert!(run.report[part..].contains("(1/3, advisory: 0 points)"));
    assert!(!run.report.contains("## Diagnoses"));
}
