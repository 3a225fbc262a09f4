//! `socklab run --rubric FILE` (issue 10, item 1): the rubric's points change the totals, a
//! check or scenario it hides is absent from report.md (the student's) but present in
//! results.json and junit.xml (the instructor's), gradescope.json carries each test's
//! visibility, and a bad rubric is an input error (exit 2) pointing at FILE:LINE:COLUMN before
//! anything runs.

mod common;

use std::path::Path;

use common::{check_titled, run_into, scenario, socklab, submission};
use serde_json::Value;

const ROUND_TRIP: &str = "upper-tcp-round-trip";
const REPLY: &str = "the client prints the server's reply";
const UPPERCASE: &str = "on the wire, the reply is the line in uppercase";

/// The rubric of the test: more points for two checks of the TCP round trip (one the
/// submission passes, one it loses, hidden), the whole UDP round trip shown after the due date,
/// and an advisory scenario of another lab made to count (fine with `--lab upper`).
const RUBRIC: &str = r#"{
  "scenarios": {
    "upper-tcp-round-trip": {
      "checks": {
        "the client prints the server's reply": { "points": 5 },
        "on the wire, the reply is the line in uppercase": { "points": 10, "visibility": "hidden" }
      }
    },
    "upper-udp-round-trip": { "visibility": "after_due_date" },
    "web-path-traversal": { "counts": true }
  }
}
"#;

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn points(check: &Value) -> (u64, u64) {
    (
        check["points"].as_u64().unwrap(),
        check["awarded"].as_u64().unwrap(),
    )
}

#[test]
fn a_rubric_changes_the_points_and_hides_from_the_student_only() {
    let lowercase = submission("upper-lowercase");
    let args = ["--submission", &lowercase, "--lab", "upper", "--seed", "7"];
    let plain_dir = tempfile::tempdir().unwrap();
    let plain = run_into(plain_dir.path(), &args);
    assert_eq!(plain.code, 1, "{}", plain.stdout);

    let dir = tempfile::tempdir().unwrap();
    let rubric = write(dir.path(), "rubric.json", RUBRIC);
    let report = dir.path().join("report");
    let mut with = args.to_vec();
    with.extend(["--rubric", &rubric, "--format", "gradescope,junit"]);
    let graded = run_into(&report, &with);
    assert_eq!(graded.code, 1, "{}", graded.stdout);

    // The points: the rubric's, earned only where the check passed. The round trip's
    // cross-test runs follow its rule, except where only socklab's program is judged (socklab's
    // client printing, socklab's server converting): that stays at 0.
    let expected = [
        (ROUND_TRIP.to_string(), (5, 5), (10, 0)),
        (format!("{ROUND_TRIP}.socklab-client"), (0, 0), (10, 0)),
        (format!("{ROUND_TRIP}.socklab-server"), (5, 5), (0, 0)),
    ];
    let (mut more_max, mut more_points) = (0i64, 0i64);
    for (id, reply, upper) in &expected {
        let before = scenario(&plain.results, id);
        let after = scenario(&graded.results, id);
        assert_eq!(points(check_titled(after, REPLY)), *reply, "{id}");
        assert_eq!(points(check_titled(after, UPPERCASE)), *upper, "{id}");
        for title in [REPLY, UPPERCASE] {
            let (was, got) = points(check_titled(before, title));
            let (now, earned) = points(check_titled(after, title));
            more_max += now as i64 - was as i64;
            more_points += earned as i64 - got as i64;
        }
    }
    let after = scenario(&graded.results, ROUND_TRIP);
    let total = |r: &Value, f: &str| r["summary"][f].as_i64().unwrap();
    assert_eq!(
        total(&graded.results, "max_points"),
        total(&plain.results, "max_points") + more_max
    );
    assert_eq!(
        total(&graded.results, "points"),
        total(&plain.results, "points") + more_points
    );
    assert!(
        graded.stdout.contains(&format!(
            "points {}/{}",
            total(&graded.results, "points"),
            total(&graded.results, "max_points")
        )),
        "{}",
        graded.stdout
    );

    // results.json (the instructor's) keeps everything, with the visibility.
    let hidden = check_titled(after, UPPERCASE);
    assert_eq!(hidden["visibility"], "hidden");
    assert!(hidden["reason"].as_str().unwrap().contains("uppercase"));
    let udp = scenario(&graded.results, "upper-udp-round-trip");
    assert_eq!(udp["visibility"], "after_due_date");
    for c in udp["checks"].as_array().unwrap() {
        assert_eq!(c["visibility"], "after_due_date", "{c}");
    }
    assert!(check_titled(after, REPLY).get("visibility").is_none());

    // report.md (the student's) names neither, and says what it leaves out.
    for secret in [UPPERCASE, "upper-udp-round-trip", "UDP round trip"] {
        assert!(
            !graded.report.contains(secret),
            "{secret}:\n{}",
            graded.report
        );
    }
    assert!(graded.report.contains("+ 1 check not shown"));
    assert!(
        graded
            .report
            // The UDP round trip and its two cross-test runs, which follow its rule.
            .contains("graded but not shown here, in 3 scenarios not shown"),
        "{}",
        graded.report
    );
    assert!(plain.report.contains(UPPERCASE));

    // Gradescope hides what the rubric hides: each test carries its visibility.
    let gs: Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("gradescope.json")).unwrap())
            .unwrap();
    assert_eq!(
        gs["score"].as_f64(),
        Some(total(&graded.results, "points") as f64)
    );
    for t in gs["tests"].as_array().unwrap() {
        let name = t["name"].as_str().unwrap();
        // A scenario's cross-test runs (`ID.socklab-client: ...`) follow its rule.
        let (scenario_id, title) = name.split_once(": ").unwrap();
        let base = scenario_id.split('.').next().unwrap();
        let expected = if base == ROUND_TRIP && title == UPPERCASE {
            "hidden"
        } else if base == "upper-udp-round-trip" {
            "after_due_date"
        } else {
            "visible"
        };
        assert_eq!(t["visibility"], expected, "{t}");
    }
    assert!(!gs["output"].as_str().unwrap().contains(UPPERCASE));

    // JUnit (CI, the instructor's) keeps the hidden check and marks it.
    let junit = std::fs::read_to_string(report.join("junit.xml")).unwrap();
    assert!(junit.contains(UPPERCASE), "{junit}");
    assert!(
        junit.contains(r#"<property name="visibility" value="hidden"/>"#),
        "{junit}"
    );
}

#[test]
fn an_advisory_scenario_the_rubric_counts_is_graded() {
    // The web handout's skeleton fails the trickled request (beyond the handout): advisory, it
    // leaves the run a pass; counted by the rubric, it is a loss like any other.
    let web = submission("web-good");
    let args = [
        "scenarios/web/trickled-request.json",
        "scenarios/web/hello-world.json",
        "--submission",
        &web,
    ];
    let plain_dir = tempfile::tempdir().unwrap();
    let plain = run_into(plain_dir.path(), &args);
    assert_eq!(plain.code, 0, "{}", plain.stdout);
    assert_eq!(plain.results["summary"]["advisory"]["scenarios"], 1);

    let dir = tempfile::tempdir().unwrap();
    let rubric = write(
        dir.path(),
        "rubric.json",
        // A scenario the files given leave out (bundled) is no error: one rubric, a course.
        r#"{"scenarios": {"web-trickled-request": {"counts": true}, "upper-tcp-round-trip": {}}}"#,
    );
    let mut with = args.to_vec();
    with.extend(["--rubric", &rubric]);
    let graded = run_into(&dir.path().join("report"), &with);
    assert_eq!(graded.code, 1, "{}", graded.stdout);
    let s = &graded.results["summary"];
    assert_eq!(s["advisory"]["scenarios"], 0, "{s}");
    assert_eq!(s["scenarios"], 2, "{s}");
    let trickled = scenario(&graded.results, "web-trickled-request");
    assert_eq!(
        (&trickled["advisory"], &trickled["counted"]),
        (&Value::Bool(true), &Value::Bool(true))
    );
    let total = |r: &Value, f: &str| r["summary"][f].as_u64().unwrap();
    assert_eq!(
        total(&graded.results, "max_points"),
        total(&plain.results, "max_points") + trickled["max_points"].as_u64().unwrap()
    );
    assert!(
        !graded.stdout.contains("Advisory, beyond the handout"),
        "{}",
        graded.stdout
    );
    assert!(
        graded.report.contains("advisory, counted by the rubric"),
        "{}",
        graded.report
    );
}

/// Runs `socklab run --lab upper --rubric FILE` with `text` as the rubric: its exit code and
/// standard error, and the rubric's path.
fn bad(text: &str) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let rubric = write(dir.path(), "rubric.json", text);
    let out = socklab()
        .args(["run", "--lab", "upper", "--rubric", &rubric, "--report"])
        .arg(dir.path().join("report"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !dir.path().join("report/results.json").exists(),
        "a bad rubric ran the scenarios: {stderr}"
    );
    (out.status.code().unwrap_or(-1), stderr, rubric)
}

#[test]
fn a_bad_rubric_is_an_input_error_at_its_line_and_column() {
    // Malformed JSON and an unknown field: the parser's place.
    let (code, stderr, path) = bad("{\n  \"scenarios\": {\n    \"upper-tcp-round-trip\" {}\n");
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains(&format!("{path}:3:28")), "{stderr}");
    let (code, stderr, path) =
        bad("{\"scenarios\": {\"upper-tcp-round-trip\": {\"visibilty\": \"hidden\"}}}");
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains(&format!("{path}:1:")), "{stderr}");
    assert!(stderr.contains("did you mean `visibility`?"), "{stderr}");

    // Names that do not exist, and absurd points: each at its key or value, all at once.
    let (code, stderr, path) = bad(r#"{
  "scenarios": {
    "upper-tcp-round-trp": {},
    "upper-udp-round-trip": {
      "checks": { "the client prints the servers reply": { "points": 5000 } }
    }
  }
}"#);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains(&format!("{path}:3:5")), "{stderr}");
    assert!(
        stderr.contains("unknown scenario `upper-tcp-round-trp`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("did you mean `upper-tcp-round-trip`?"),
        "{stderr}"
    );
    assert!(stderr.contains(&format!("{path}:5:19")), "{stderr}");
    assert!(
        stderr.contains("did you mean `the client prints the server's reply`?"),
        "{stderr}"
    );
    assert!(stderr.contains(&format!("{path}:5:70")), "{stderr}");
    assert!(stderr.contains("5000 points"), "{stderr}");
}
