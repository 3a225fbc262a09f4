//! `gradescope.json`: the run as a Gradescope autograder `results.json`.
//!
//! The fields are Gradescope's documented ones ("Autograder Specifications", output format,
//! <https://gradescope-autograders.readthedocs.io/en/latest/specs/>): top-level `score`,
//! `execution_time` (seconds), `output` (text for the whole submission), `visibility`, and
//! `tests`, each with `name`, `score`, `max_score`, `status` (`passed`/`failed`), `output`
//! and `visibility`. The file goes to `/autograder/results/results.json` with
//! `--gradescope-out`; socklab's own results.json (a different schema) stays in the report
//! directory.
//!
//! One test per check, worth its points; a check not graded and every check of an advisory
//! scenario are tests of `max_score` 0 (shown, counted nowhere). The top-level `score` is the
//! run's points (`summary.points`). When socklab broke (a harness error, exit 3) the score is
//! 0 and `output` says so to the instructor: a broken run is never a grade, let alone full
//! points; the tests still show what was judged, and a broken check keeps its `max_score`.
//!
//! Each test carries the visibility a rubric gave its check (or its scenario: a check of a
//! scenario that is not visible is not visible either), which Gradescope enforces itself; the
//! top-level `output`, which every student sees, is written from the [student
//! view](super::student), so that it names no hidden check or scenario.

use std::io;

use serde::Serialize;

use super::autograders::{
    aborted_output, check_output, harness_broke, kind, scenario_error, student_output, test_name,
    Kind,
};
use crate::error::AppError;
use crate::result::{RunResult, Visibility};

#[derive(Debug, Serialize)]
pub(crate) struct Results {
    pub score: f64,
    pub execution_time: u64,
    pub output: String,
    pub visibility: Visibility,
    pub tests: Vec<Test>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Test {
    pub name: String,
    pub score: f64,
    pub max_score: f64,
    /// Left out for a test neither passed nor failed (not graded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<&'static str>,
    pub output: String,
    pub visibility: Visibility,
}

pub(crate) fn gradescope(result: &RunResult) -> Results {
    let mut tests = Vec::new();
    for scenario in &result.scenarios {
        for check in &scenario.checks {
            let k = kind(scenario, check);
            let (score, max_score, status) = match k {
                Kind::Passed => (check.awarded, check.points, Some("passed")),
                Kind::Lost => (check.awarded, check.points, Some("failed")),
                Kind::HarnessError => (0, check.points, Some("failed")),
                Kind::NotGraded => (0, 0, None),
                Kind::Advisory { passed } => (0, 0, Some(if passed { "passed" } else { "failed" })),
            };
            tests.push(Test {
                name: test_name(scenario, check),
                score: f64::from(score),
                max_score: f64::from(max_score),
                status,
                output: check_output(scenario, check),
                visibility: super::student::visibility(scenario, check),
            });
        }
        if let Some(error) = scenario_error(scenario) {
            tests.push(Test {
                name: format!("{}: scenario run", scenario.id),
                score: 0.0,
                max_score: f64::from(scenario.max_points),
                status: Some("failed"),
                output: format!(
                    "socklab could not run this scenario (a harness error, not the student's \
                     fault): {error}\n"
                ),
                visibility: scenario.visibility,
            });
        }
    }
    Results {
        score: if harness_broke(result) {
            0.0
        } else {
            f64::from(result.summary.points)
        },
        execution_time: result.duration_ms.div_ceil(1000),
        output: student_output(result, true),
        visibility: Visibility::Visible,
        tests,
    }
}

/// A run that stopped before grading (exit 2 or 3): score 0, no tests, and why.
pub(crate) fn aborted(error: &AppError) -> Results {
    Results {
        score: 0.0,
        execution_time: 0,
        output: aborted_output(error),
        visibility: Visibility::Visible,
        tests: vec![],
    }
}

pub(crate) fn write_gradescope_aborted(
    error: &AppError,
    out: &mut dyn io::Write,
) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &aborted(error)).map_err(io::Error::from)?;
    writeln!(out)
}

pub(crate) fn write_gradescope(result: &RunResult, out: &mut dyn io::Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &gradescope(result)).map_err(io::Error::from)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::super::autograders::fixture;
    use super::*;

    #[test]
    fn the_score_is_the_runs_points_and_each_check_a_test() {
        let run = fixture::mixed();
        let g = gradescope(&run);
        assert_eq!(g.score, 2.0);
        assert_eq!(g.score, f64::from(run.summary.points));
        assert_eq!(g.tests.len(), 5);
        let graded_max: f64 = g.tests.iter().map(|t| t.max_score).sum();
        assert_eq!(graded_max, f64::from(run.summary.max_points));
        let t = |name: &str| g.tests.iter().find(|t| t.name == name).unwrap();
        assert_eq!(t("upper-basic: replies").status, Some("passed"));
        assert_eq!(t("upper-basic: uppercases").status, Some("failed"));
        assert!(t("upper-basic: uppercases").output.contains("went wrong"));
        // Not submitted: 0 of its points (nothing earned by default).
        let ns = t("upper-client: client sends");
        assert_eq!(
            (ns.score, ns.max_score, ns.status),
            (0.0, 1.0, Some("failed"))
        );
        // Not graded and advisory: shown, worth 0.
        assert_eq!(t("upper-client: on the wire").max_score, 0.0);
        assert_eq!(t("upper-client: on the wire").status, None);
        let adv = t("upper-extra: survives a flood");
        assert_eq!((adv.score, adv.max_score), (0.0, 0.0));
        assert!(adv.output.contains("Advisory"));
    }

    #[test]
    fn each_test_has_its_checks_visibility_and_the_output_names_no_hidden_one() {
        let mut run = fixture::mixed();
        run.scenarios[0].checks[1].visibility = Visibility::AfterPublished;
        run.scenarios[2].visibility = Visibility::Hidden;
        let cause = |summary: &str, checks: &[&str]| crate::diagnose::Diagnosis {
            id: summary.into(),
            role: None,
            summary: summary.into(),
            detail: None,
            checks: checks.iter().map(|c| c.to_string()).collect(),
        };
        run.diagnoses = vec![
            cause(
                "it went wrong in `upper-extra`",
                &["upper-basic: uppercases", "upper-client: client sends"],
            ),
            cause("it lost a check not shown", &["upper-basic: uppercases"]),
        ];
        let g = gradescope(&run);
        let v = |name: &str| g.tests.iter().find(|t| t.name == name).unwrap().visibility;
        assert_eq!(v("upper-basic: replies"), Visibility::Visible);
        assert_eq!(v("upper-basic: uppercases"), Visibility::AfterPublished);
        assert_eq!(v("upper-extra: survives a flood"), Visibility::Hidden);
        // The score is the run's; Gradescope hides the total from the student itself.
        assert_eq!(g.score, f64::from(run.summary.points));
        assert!(!g.output.contains("upper-extra"), "{}", g.output);
        // A cause that cost a visible check is shown, the hidden scenario unnamed; one that
        // cost only hidden checks is not.
        assert!(g.output.contains("in a hidden scenario"), "{}", g.output);
        assert!(!g.output.contains("it lost"), "{}", g.output);
        assert!(g.output.contains("2 more check(s)"), "{}", g.output);
        let mut out = Vec::new();
        write_gradescope(&run, &mut out).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let values: Vec<&str> = json["tests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["visibility"].as_str().unwrap())
            .collect();
        assert_eq!(
            values,
            ["visible", "after_published", "visible", "visible", "hidden"]
        );
    }

    #[test]
    fn a_harness_error_scores_nothing_and_tells_the_instructor() {
        let g = gradescope(&fixture::broken());
        assert_eq!(g.score, 0.0);
        assert!(g.output.contains("harness error"), "{}", g.output);
        assert!(g.output.contains("regrade"), "{}", g.output);
        let broken = g
            .tests
            .iter()
            .find(|t| t.name == "upper-wire: on the wire")
            .unwrap();
        assert_eq!((broken.score, broken.max_score), (0.0, 3.0));
        assert_eq!(broken.status, Some("failed"));
    }

    #[test]
    fn a_run_that_could_not_start_scores_nothing_and_says_why() {
        let g = aborted(&AppError::Harness("`python3` is not installed".into()));
        assert_eq!(g.score, 0.0);
        assert!(g.tests.is_empty());
        assert!(g.output.contains("harness error, exit 3"), "{}", g.output);
        assert!(
            g.output.contains("`python3` is not installed"),
            "{}",
            g.output
        );
    }

    #[test]
    fn the_json_has_the_documented_fields() {
        let mut out = Vec::new();
        write_gradescope(&fixture::mixed(), &mut out).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        for field in ["score", "execution_time", "output", "visibility", "tests"] {
            assert!(v.get(field).is_some(), "no {field}");
        }
        for t in v["tests"].as_array().unwrap() {
            for field in ["name", "score", "max_score", "output", "visibility"] {
                assert!(t.get(field).is_some(), "no {field} in {t}");
            }
        }
    }
}
