//! `socklab run --format junit,gradescope,prairielearn` on real runs (issue 10, item 2): each
//! file has its platform's documented fields, its totals are results.json's, and the JUnit file
//! is read by a real JUnit consumer (Python's `junitparser`, which scripts/test.sh installs).
//!
//! Three runs: a submission that loses points (`upper-lowercase`, upper lab), the same
//! submission on a lab it has no programs for (every role not submitted: 0 in every format),
//! and the web handout's skeleton with advisory scenarios it fails (0 points, skipped).

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use common::{run_into, submission};
use serde_json::Value;

struct Graded {
    name: &'static str,
    dir: tempfile::TempDir,
    code: i32,
    results: Value,
}

impl Graded {
    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn json(&self, name: &str) -> Value {
        let text = std::fs::read_to_string(self.file(name))
            .unwrap_or_else(|e| panic!("{}: no {name}: {e}", self.name));
        serde_json::from_str(&text).unwrap()
    }

    /// Every check of results.json as (advisory scenario, outcome, points, awarded).
    fn checks(&self) -> Vec<(bool, String, u64, u64)> {
        let mut all = Vec::new();
        for s in self.results["scenarios"].as_array().unwrap() {
            let advisory = s["advisory"].as_bool().unwrap_or(false);
            for c in s["checks"].as_array().unwrap() {
                all.push((
                    advisory,
                    c["outcome"].as_str().unwrap().to_string(),
                    c["points"].as_u64().unwrap(),
                    c["awarded"].as_u64().unwrap(),
                ));
            }
        }
        all
    }

    fn summary(&self, field: &str) -> u64 {
        self.results["summary"][field].as_u64().unwrap()
    }
}

fn runs() -> &'static [Graded] {
    static RUNS: OnceLock<Vec<Graded>> = OnceLock::new();
    RUNS.get_or_init(|| {
        let lowercase = submission("upper-lowercase");
        let web = submission("web-good");
        let cases: [(&str, Vec<&str>); 3] = [
            (
                "upper-lowercase",
                vec!["--submission", &lowercase, "--lab", "upper"],
            ),
            (
                "not-submitted",
                vec!["--submission", &lowercase, "--lab", "hello"],
            ),
            (
                "web-advisory",
                vec![
                    "scenarios/web/trickled-request.json",
                    "scenarios/web/hello-world.json",
                    "--submission",
                    &web,
                ],
            ),
        ];
        cases
            .into_iter()
            .map(|(name, args)| {
                let dir = tempfile::tempdir().unwrap();
                let mut args = args;
                // Repeatable and a comma list, both.
                args.extend(["--format", "junit,gradescope", "--format", "prairielearn"]);
                let run = run_into(dir.path(), &args);
                Graded {
                    name,
                    dir,
                    code: run.code,
                    results: run.results,
                }
            })
            .collect()
    })
}

#[test]
fn the_runs_are_the_cases_the_formats_are_tested_on() {
    let r = runs();
    assert_eq!(r[0].code, 1, "upper-lowercase loses points");
    assert!(r[0].summary("points") < r[0].summary("max_points"));
    assert_eq!(r[1].code, 1);
    assert_eq!(r[1].summary("points"), 0);
    assert!(r[1].checks().iter().all(|c| c.1 == "not_submitted"));
    assert_eq!(r[2].code, 0, "advisory failures cost nothing");
    assert!(
        r[2].results["summary"]["advisory"]["failed"]
            .as_u64()
            .unwrap()
            > 0
    );
}

#[test]
fn junit_is_read_by_junitparser_with_the_runs_counts() {
    const READ: &str = r#"
import sys, json
from junitparser import JUnitXml, Failure, Error, Skipped
xml = JUnitXml.fromfile(sys.argv[1])
suites = []
for suite in xml:
    cases = []
    for case in suite:
        kinds = [type(r).__name__ for r in case.result]
        cases.append({"name": case.name, "classname": case.classname, "kinds": kinds,
                      "message": [r.message for r in case.result]})
    suites.append({"name": suite.name, "tests": suite.tests, "failures": suite.failures,
                   "errors": suite.errors, "skipped": suite.skipped, "cases": cases})
print(json.dumps({"tests": xml.tests, "failures": xml.failures, "errors": xml.errors,
                  "skipped": xml.skipped, "suites": suites}))
"#;
    for run in runs() {
        let out = Command::new("python3")
            .args(["-c", READ])
            .arg(run.file("junit.xml"))
            .output()
            .expect("python3");
        assert!(
            out.status.success(),
            "{}: junitparser could not read junit.xml (scripts/test.sh installs it): {}",
            run.name,
            String::from_utf8_lossy(&out.stderr)
        );
        let x: Value = serde_json::from_slice(&out.stdout).unwrap();
        let checks = run.checks();
        let lost = ["failed", "not_run", "not_submitted"];
        let failures = checks
            .iter()
            .filter(|c| !c.0 && lost.contains(&c.1.as_str()))
            .count();
        let errors = checks.iter().filter(|c| c.1 == "harness_error").count();
        let skipped = checks
            .iter()
            .filter(|c| c.1 != "harness_error" && (c.0 || c.1 == "not_graded"))
            .count();
        let n = run.name;
        assert_eq!(x["tests"].as_u64().unwrap() as usize, checks.len(), "{n}");
        assert_eq!(x["failures"].as_u64().unwrap() as usize, failures, "{n}");
        assert_eq!(x["errors"].as_u64().unwrap() as usize, errors, "{n}");
        assert_eq!(x["skipped"].as_u64().unwrap() as usize, skipped, "{n}");
        // One suite per scenario, named by its id; each case's classname is the scenario id
        // and its name a check title of that scenario.
        let scenarios = run.results["scenarios"].as_array().unwrap();
        let suites = x["suites"].as_array().unwrap();
        assert_eq!(suites.len(), scenarios.len(), "{n}");
        for (suite, scenario) in suites.iter().zip(scenarios) {
            assert_eq!(suite["name"], scenario["id"], "{n}");
            let titles: Vec<&Value> = scenario["checks"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| &c["title"])
                .collect();
            let names: Vec<&Value> = suite["cases"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| &c["name"])
                .collect();
            assert_eq!(names, titles, "{n}");
            for case in suite["cases"].as_array().unwrap() {
                assert_eq!(case["classname"], scenario["id"], "{n}");
            }
        }
        // Every failure carries its check's reason, in its own testcase.
        let mut carried = 0;
        for (suite, scenario) in suites.iter().zip(scenarios) {
            let cases = suite["cases"].as_array().unwrap();
            for (case, c) in cases.iter().zip(scenario["checks"].as_array().unwrap()) {
                let (Some(reason), true) = (
                    c["reason"].as_str(),
                    case["kinds"] == serde_json::json!(["Failure"]),
                ) else {
                    continue;
                };
                assert!(
                    case["message"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|m| m.as_str().is_some_and(|m| m.contains(reason))),
                    "{n}: the failure does not carry its check's reason {reason:?}: {case}"
                );
                carried += 1;
            }
        }
        assert!(
            failures == 0 || carried > 0,
            "{n}: no failure with a reason"
        );
    }
}

#[test]
fn gradescope_has_the_documented_fields_and_the_runs_totals() {
    for run in runs() {
        let n = run.name;
        let g = run.json("gradescope.json");
        let top = g.as_object().unwrap();
        // Gradescope's documented top-level fields, and nothing else.
        for key in top.keys() {
            assert!(
                ["score", "execution_time", "output", "visibility", "tests"]
                    .contains(&key.as_str()),
                "{n}: {key} is not a documented field"
            );
        }
        assert_eq!(
            g["score"].as_f64().unwrap(),
            run.summary("points") as f64,
            "{n}"
        );
        assert!(g["output"].as_str().unwrap().contains("points"), "{n}");
        let tests = g["tests"].as_array().unwrap();
        assert_eq!(tests.len(), run.checks().len(), "{n}");
        let (mut score, mut max) = (0.0, 0.0);
        for t in tests {
            for key in t.as_object().unwrap().keys() {
                assert!(
                    [
                        "name",
                        "score",
                        "max_score",
                        "status",
                        "output",
                        "visibility"
                    ]
                    .contains(&key.as_str()),
                    "{n}: {key} is not a documented test field"
                );
            }
            assert!(t["name"].is_string() && t["output"].is_string(), "{n}: {t}");
            assert_eq!(t["visibility"], "visible", "{n}");
            if let Some(status) = t.get("status") {
                assert!(status == "passed" || status == "failed", "{n}: {t}");
            }
            score += t["score"].as_f64().unwrap();
            max += t["max_score"].as_f64().unwrap();
        }
        assert_eq!(score, run.summary("points") as f64, "{n}");
        assert_eq!(max, run.summary("max_points") as f64, "{n}");
        // The advisory checks are tests worth 0.
        for (t, c) in tests.iter().zip(run.checks()) {
            if c.0 {
                assert_eq!(t["max_score"].as_f64(), Some(0.0), "{n}: {t}");
            }
            if c.1 == "not_submitted" {
                assert_eq!(t["score"].as_f64(), Some(0.0), "{n}: {t}");
                assert_eq!(t["status"], "failed", "{n}: {t}");
            }
        }
    }
}

#[test]
fn prairielearn_has_the_documented_fields_and_the_runs_totals() {
    for run in runs() {
        let n = run.name;
        let p = run.json("prairielearn.json");
        assert_eq!(p["gradable"], true, "{n}: no harness error in this run");
        let (points, max) = (run.summary("points"), run.summary("max_points"));
        let score = p["score"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&score), "{n}: {score}");
        assert!(
            (score - points as f64 / max as f64).abs() < 1e-9,
            "{n}: {score}"
        );
        assert!(p["message"].is_string() && p["output"].is_string(), "{n}");
        let tests = p["tests"].as_array().unwrap();
        assert_eq!(tests.len(), run.checks().len(), "{n}");
        for t in tests {
            for key in [
                "name",
                "description",
                "points",
                "max_points",
                "message",
                "output",
            ] {
                assert!(t.get(key).is_some(), "{n}: no {key} in {t}");
            }
            assert!(t["points"].as_u64() <= t["max_points"].as_u64(), "{n}: {t}");
        }
        let sum = |k: &str| tests.iter().map(|t| t[k].as_u64().unwrap()).sum::<u64>();
        assert_eq!(sum("points"), points, "{n}");
        assert_eq!(sum("max_points"), max, "{n}");
    }
}

#[test]
fn gradescope_out_writes_the_same_file_where_gradescope_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("autograder/results/results.json");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    let report = dir.path().join("report");
    let sub = submission("upper-lowercase");
    let run = run_into(
        &report,
        &[
            "--submission",
            &sub,
            "--lab",
            "hello",
            "--gradescope-out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 1);
    let there = std::fs::read_to_string(&out).unwrap();
    // --gradescope-out implies --format gradescope: the same document in the report directory.
    assert_eq!(
        there,
        std::fs::read_to_string(report.join("gradescope.json")).unwrap()
    );
    let g: Value = serde_json::from_str(&there).unwrap();
    assert_eq!(
        g["score"].as_f64(),
        Some(0.0),
        "nothing submitted, nothing earned"
    );
    // socklab's own results.json is not overwritten by Gradescope's.
    assert_eq!(run.results["schema_version"], 2);
}

/// socklab stops before grading (no python3 on PATH: a harness error, exit 3): every format
/// still says so, and none gives a score.
#[test]
fn a_run_that_stops_before_grading_gives_no_score_in_any_format() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report");
    let gradescope_out = dir.path().join("results.json");
    let out = common::socklab()
        .args(["run", "scenarios/upper/udp-round-trip.json", "--submission"])
        .arg(submission("upper-good"))
        .arg("--report")
        .arg(&report)
        .args(["--format", "junit,prairielearn", "--gradescope-out"])
        .arg(&gradescope_out)
        .env("PATH", "/nonexistent")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(!report.join("results.json").exists(), "nothing was graded");

    let g: Value =
        serde_json::from_str(&std::fs::read_to_string(&gradescope_out).unwrap()).unwrap();
    assert_eq!(g["score"].as_f64(), Some(0.0), "{g}");
    let output = g["output"].as_str().unwrap();
    assert!(output.contains("harness error, exit 3"), "{output}");
    assert!(output.contains("`python3` is not installed"), "{output}");
    assert!(report.join("gradescope.json").exists());

    let p: Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("prairielearn.json")).unwrap())
            .unwrap();
    assert_eq!(p["gradable"], false, "{p}");

    // junitparser reads one error and nothing else.
    let read = Command::new("python3")
        .args([
            "-c",
            "import sys\nfrom junitparser import JUnitXml\nx = JUnitXml.fromfile(sys.argv[1])\n\
             print(x.tests, x.failures, x.errors, x.skipped)",
        ])
        .arg(report.join("junit.xml"))
        .output()
        .expect("python3");
    assert!(
        read.status.success(),
        "{}",
        String::from_utf8_lossy(&read.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&read.stdout).trim(), "1 0 1 0");
}
