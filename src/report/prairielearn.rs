//! `prairielearn.json`: the run as PrairieLearn's external grader results.
//!
//! The fields are PrairieLearn's documented ones ("External Grading", grading results,
//! <https://prairielearn.readthedocs.io/en/latest/externalGrading/>): `gradable`, `score` (a
//! fraction 0..1), `message`, `output`, and `tests`, each with `name`, `description`,
//! `points`, `max_points`, `message` and `output`.
//!
//! One test per check, worth its points; a check not graded and every check of an advisory
//! scenario are tests of `max_points` 0. `score` is the run's points over its maximum (0 when
//! there is nothing to earn). When socklab broke (a harness error, exit 3) the submission is
//! `gradable: false`, which PrairieLearn shows as not graded rather than as a score.
//!
//! PrairieLearn's format has no visibility: what the file holds may be shown to the student.
//! So a check a rubric does not make `visible` (or one of a scenario that is not) is no test
//! of its own: they are folded into one test, `checks not shown`, worth their points together,
//! with no name, output or reason of theirs (the score, which PrairieLearn shows anyway, still
//! counts them); `output` is written from the [student view](super::student).

use std::io;

use serde::Serialize;

use super::autograders::{
    aborted_output, check_output, harness_broke, kind, reason, scenario_error, student_output,
    test_name, Kind,
};
use crate::error::AppError;
use crate::result::RunResult;

#[derive(Debug, Serialize)]
pub(crate) struct Results {
    pub gradable: bool,
    pub score: f64,
    pub message: String,
    pub output: String,
    pub tests: Vec<Test>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Test {
    pub name: String,
    pub description: String,
    pub points: u32,
    pub max_points: u32,
    pub message: String,
    pub output: String,
}

pub(crate) fn prairielearn(result: &RunResult) -> Results {
    let mut tests = Vec::new();
    // The checks not shown, together: (points, max_points).
    let mut folded: Option<(u32, u32)> = None;
    for scenario in &result.scenarios {
        for check in &scenario.checks {
            let k = kind(scenario, check);
            let (points, max_points) = match k {
                Kind::Passed | Kind::Lost => (check.awarded, check.points),
                Kind::HarnessError => (0, check.points),
                Kind::NotGraded | Kind::Advisory { .. } => (0, 0),
            };
            if !super::student::visibility(scenario, check).is_visible() {
                let (p, m) = folded.get_or_insert((0, 0));
                *p = p.saturating_add(points);
                *m = m.saturating_add(max_points);
                continue;
            }
            tests.push(Test {
                name: test_name(scenario, check),
                description: scenario.title.clone(),
                points,
                max_points,
                message: if k == Kind::Passed {
                    "passed".into()
                } else {
                    reason(scenario, check)
                },
                output: check_output(scenario, check),
            });
        }
        if let Some(error) = scenario_error(scenario) {
            if !scenario.visibility.is_visible() {
                let (_, m) = folded.get_or_insert((0, 0));
                *m = m.saturating_add(scenario.max_points);
                continue;
            }
            tests.push(Test {
                name: format!("{}: scenario run", scenario.id),
                description: scenario.title.clone(),
                points: 0,
                max_points: scenario.max_points,
                message: format!("harness error (not the student's fault): {error}"),
                output: String::new(),
            });
        }
    }
    if let Some((points, max_points)) = folded {
        tests.push(Test {
            name: "checks not shown".into(),
            description: "graded checks the instructor has not made visible".into(),
            points,
            max_points,
            message: super::student::view(result).withheld.sentence(false),
            output: String::new(),
        });
    }
    let s = &result.summary;
    let broke = harness_broke(result);
    Results {
        gradable: !broke,
        score: if broke || s.max_points == 0 {
            0.0
        } else {
            f64::from(s.points) / f64::from(s.max_points)
        },
        message: if broke {
            "socklab could not grade this submission (a harness error, not your fault); it \
             will be regraded."
                .into()
        } else {
            format!("{} of {} points.", s.points, s.max_points)
        },
        output: student_output(result, false),
        tests,
    }
}

/// A run that stopped before grading (exit 2 or 3): not gradable, and why.
pub(crate) fn aborted(error: &AppError) -> Results {
    Results {
        gradable: false,
        score: 0.0,
        message: "socklab could not grade this submission (not your fault); it will be regraded."
            .into(),
        output: aborted_output(error),
        tests: vec![],
    }
}

pub(crate) fn write_prairielearn_aborted(
    error: &AppError,
    out: &mut dyn io::Write,
) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &aborted(error)).map_err(io::Error::from)?;
    writeln!(out)
}

pub(crate) fn write_prairielearn(result: &RunResult, out: &mut dyn io::Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &prairielearn(result)).map_err(io::Error::from)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::super::autograders::fixture;
    use super::*;

    #[test]
    fn the_score_is_the_fraction_of_the_runs_points() {
        let run = fixture::mixed();
        let p = prairielearn(&run);
        assert!(p.gradable);
        // 2 of 6 graded points (the not-graded check weighs 0, the advisory one too).
        assert_eq!(run.summary.max_points, 6);
        assert!((p.score - 2.0 / 6.0).abs() < 1e-12, "{}", p.score);
        assert_eq!(p.tests.len(), 5);
        assert_eq!(
            p.tests.iter().map(|t| t.points).sum::<u32>(),
            run.summary.points
        );
        assert_eq!(
            p.tests.iter().map(|t| t.max_points).sum::<u32>(),
            run.summary.max_points
        );
        let ns = p
            .tests
            .iter()
            .find(|t| t.name == "upper-client: client sends")
            .unwrap();
        assert_eq!((ns.points, ns.max_points), (0, 1));
        assert_eq!(p.message, "2 of 6 points.");
    }

    #[test]
    fn checks_not_shown_are_one_test_without_their_names() {
        let mut run = fixture::mixed();
        run.scenarios[0].checks[0].visibility = crate::result::Visibility::AfterDueDate;
        run.scenarios[0].checks[1].visibility = crate::result::Visibility::Hidden;
        let p = prairielearn(&run);
        assert!(p.tests.iter().all(|t| !t.name.starts_with("upper-basic")));
        let folded = p
            .tests
            .iter()
            .find(|t| t.name == "checks not shown")
            .unwrap();
        assert_eq!((folded.points, folded.max_points), (2, 5));
        assert!(!folded.message.contains("uppercases"), "{}", folded.message);
        // The tests still add up to the score.
        assert_eq!(p.tests.iter().map(|t| t.points).sum::<u32>(), 2);
        assert_eq!(p.tests.iter().map(|t| t.max_points).sum::<u32>(), 6);
        assert!(!p.output.contains("uppercases"), "{}", p.output);
    }

    #[test]
    fn a_harness_error_is_not_gradable() {
        let p = prairielearn(&fixture::broken());
        assert!(!p.gradable);
        assert_eq!(p.score, 0.0);
        assert!(p.message.contains("harness error"));
    }

    #[test]
    fn a_run_that_could_not_start_is_not_gradable() {
        let p = aborted(&AppError::Input("unknown lab `nosuch`".into()));
        assert!(!p.gradable);
        assert!(p.output.contains("input error, exit 2"), "{}", p.output);
    }

    #[test]
    fn the_json_has_the_documented_fields() {
        let mut out = Vec::new();
        write_prairielearn(&fixture::mixed(), &mut out).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert!(v["gradable"].is_boolean());
        assert!(v["score"].is_f64());
        assert!(v["message"].is_string());
        for t in v["tests"].as_array().unwrap() {
            for field in ["name", "points", "max_points", "output", "message"] {
                assert!(t.get(field).is_some(), "no {field} in {t}");
            }
        }
    }
}
