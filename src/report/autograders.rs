//! What the three autograder formats share: how one check reads as a test, and the words of
//! a harness error.
//!
//! Every format is a pure function of the [`RunResult`]: the points are the run's own
//! (`awarded` of each check), so a role the submission lacks (`not_submitted`) scores 0 in
//! every format, as in results.json, and socklab's own programs earn nothing.

use crate::check::{CheckResult, Outcome};
use crate::error::AppError;
use crate::result::{RunResult, ScenarioResult, Verdict};

/// What a check is, for a test of an autograder format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// Passed: its points earned.
    Passed,
    /// Lost by the student (failed, not run because of an earlier cause, not submitted).
    Lost,
    /// Not judged (the user declined the capture, a required program is missing): weighs 0.
    NotGraded,
    /// Advisory scenario, judged: shown, weighs 0 points.
    Advisory { passed: bool },
    /// socklab broke: never the student's fault, never a pass.
    HarnessError,
}

pub(super) fn kind(scenario: &ScenarioResult, check: &CheckResult) -> Kind {
    match check.outcome {
        Outcome::HarnessError => Kind::HarnessError,
        Outcome::NotGraded => Kind::NotGraded,
        o if !scenario.weighs() => Kind::Advisory {
            passed: !o.lost() && check.passed,
        },
        Outcome::Passed => Kind::Passed,
        Outcome::Failed | Outcome::NotRun | Outcome::NotSubmitted => Kind::Lost,
    }
}

/// A scenario socklab could not run, with no check that says so (the error happened before
/// the checks were judged): it still needs a test of its own, or the error would be lost.
pub(super) fn scenario_error(scenario: &ScenarioResult) -> Option<String> {
    (scenario.verdict == Verdict::Error
        && !scenario
            .checks
            .iter()
            .any(|c| c.outcome == Outcome::HarnessError))
    .then(|| {
        scenario
            .error
            .clone()
            .unwrap_or_else(|| "the scenario could not run".into())
    })
}

/// Whether socklab broke anywhere in the run (the run's exit code is then 3).
pub(super) fn harness_broke(result: &RunResult) -> bool {
    result.summary.harness_broke()
}

/// The test's name in the platforms that list all tests in one list.
pub(super) fn test_name(scenario: &ScenarioResult, check: &CheckResult) -> String {
    format!("{}: {}", scenario.id, check.title)
}

/// Why the check is what it is, in plain words: expected, actual, reason and cause.
pub(super) fn check_output(scenario: &ScenarioResult, check: &CheckResult) -> String {
    let mut out = String::new();
    match kind(scenario, check) {
        Kind::HarnessError => out.push_str(
            "socklab could not grade this check (a harness error, not the student's fault).\n",
        ),
        Kind::NotGraded => out.push_str("Not graded in this run.\n"),
        Kind::Advisory { .. } => {
            out.push_str("Advisory (beyond the handout): shown, counts 0 points.\n")
        }
        Kind::Passed | Kind::Lost => {}
    }
    out.push_str(&format!("Outcome: {}\n", check.outcome.label()));
    if !check.expected.is_empty() {
        out.push_str(&format!("Expected: {}\n", check.expected));
    }
    if !check.actual.is_empty() {
        out.push_str(&format!("Actual: {}\n", check.actual));
    }
    if let Some(reason) = &check.reason {
        out.push_str(&format!("Why: {reason}\n"));
    }
    if let Some(cause) = &check.cause {
        out.push_str(&format!("Cause: {cause}\n"));
    }
    out
}

/// The reason a lost, skipped or broken check carries in one line.
pub(super) fn reason(scenario: &ScenarioResult, check: &CheckResult) -> String {
    let why = check
        .reason
        .clone()
        .unwrap_or_else(|| check.outcome.label().to_string());
    match kind(scenario, check) {
        Kind::Advisory { passed } => format!(
            "advisory, counts 0 points ({}){}",
            if passed { "passed" } else { "failed" },
            if passed {
                String::new()
            } else {
                format!(": {why}")
            }
        ),
        Kind::NotGraded => format!("not graded: {why}"),
        Kind::HarnessError => format!("harness error (not the student's fault): {why}"),
        Kind::Passed | Kind::Lost => why,
    }
}

/// The run's summary for the whole submission: totals, the causes (each once), and what to do
/// when socklab broke.
pub(super) fn run_output(result: &RunResult) -> String {
    let s = &result.summary;
    let mut out = String::new();
    if harness_broke(result) {
        out.push_str(&format!(
            "socklab could not grade this submission completely: {} scenario(s) ended in a \
             harness error (not the student's fault). No score is given for this run; the \
             instructor should look at the report and regrade.\n",
            s.errors + s.advisory.errors
        ));
    }
    out.push_str(&format!(
        "{} scenarios: {} passed, {} failed, {} errors; points {}/{}.\n",
        s.scenarios, s.passed, s.failed, s.errors, s.points, s.max_points
    ));
    if s.advisory.scenarios > 0 {
        out.push_str(&format!(
            "Advisory scenarios (0 points): {} passed, {} failed.\n",
            s.advisory.passed, s.advisory.failed
        ));
    }
    let causes: Vec<_> = result
        .diagnoses
        .iter()
        .filter(|d| !d.id.starts_with("not-submitted:"))
        .collect();
    if !causes.is_empty() {
        out.push_str("Diagnoses (each cause once):\n");
        for d in causes {
            out.push_str(&format!("- {}\n", d.summary));
        }
    }
    out
}

/// [`run_output`] of what the student may see of the run (the [student view](super::student)):
/// no hidden check or scenario named, and a sentence on what is not shown (see
/// `Withheld::sentence` for `total_withheld`).
pub(super) fn student_output(result: &RunResult, total_withheld: bool) -> String {
    let view = super::student::view(result);
    let mut out = String::new();
    if view.hidden_error {
        out.push_str(super::student::HIDDEN_ERROR);
        out.push('\n');
    }
    out.push_str(&run_output(&view.result));
    if !view.withheld.is_empty() {
        out.push_str(&view.withheld.sentence(total_withheld));
        out.push('\n');
    }
    out
}

/// What an autograder shows when socklab stopped before grading anything (its exit code is
/// then 2 or 3): no score, and why, for the instructor.
pub(super) fn aborted_output(error: &AppError) -> String {
    format!(
        "socklab could not grade this submission ({} error, exit {}, not the student's \
         fault): {error}\nNo score is given for this run; the instructor should fix this and \
         regrade.\n",
        error.kind(),
        error.exit_code()
    )
}

#[cfg(test)]
pub(crate) mod fixture {
    //! A run with every kind of check, for the writers' unit tests.
    use super::*;
    use crate::result::Summary;

    pub(crate) fn check(title: &str, outcome: Outcome, points: u32) -> CheckResult {
        let passed = outcome == Outcome::Passed;
        CheckResult {
            title: title.into(),
            source: "check 1".into(),
            kind: "stdout".into(),
            passed,
            points,
            awarded: if passed { points } else { 0 },
            expected: "HELLO".into(),
            actual: if passed { "HELLO" } else { "hello" }.into(),
            reason: (!passed).then(|| format!("{title} went wrong")),
            evidence_packets: vec![],
            outcome,
            cause: None,
            visibility: crate::result::Visibility::Visible,
        }
    }

    pub(crate) fn scenario(id: &str, advisory: bool, checks: Vec<CheckResult>) -> ScenarioResult {
        let mut s = ScenarioResult {
            id: id.into(),
            lab: "upper".into(),
            title: format!("{id} title"),
            advisory,
            checks,
            ..ScenarioResult::default()
        };
        crate::run::pool::score(&mut s);
        s
    }

    pub(crate) fn run(scenarios: Vec<ScenarioResult>) -> RunResult {
        RunResult {
            schema_version: crate::result::SCHEMA_VERSION,
            socklab_version: "0.1.0".into(),
            started_at: "2026-11-29T16:00:00Z".into(),
            duration_ms: 1500,
            isolation: "namespace".into(),
            submission: Some("sub".into()),
            process_cap: String::new(),
            peak_rss_kib: None,
            overrides: vec![],
            seed: 1,
            bindings: vec![],
            unbound_files: vec![],
            diagnoses: vec![],
            summary: Summary::of(&scenarios),
            scenarios,
        }
    }

    /// Graded: a pass (2), a failure (3), a not-submitted (1), a not-graded (4);
    /// advisory: a failure (5).
    pub(crate) fn mixed() -> RunResult {
        run(vec![
            scenario(
                "upper-basic",
                false,
                vec![
                    check("replies", Outcome::Passed, 2),
                    check("uppercases", Outcome::Failed, 3),
                ],
            ),
            scenario(
                "upper-client",
                false,
                vec![
                    check("client sends", Outcome::NotSubmitted, 1),
                    check("on the wire", Outcome::NotGraded, 4),
                ],
            ),
            scenario(
                "upper-extra",
                true,
                vec![check("survives a flood", Outcome::Failed, 5)],
            ),
        ])
    }

    /// One graded scenario that passed and one socklab could not grade.
    pub(crate) fn broken() -> RunResult {
        run(vec![
            scenario(
                "upper-basic",
                false,
                vec![check("replies", Outcome::Passed, 2)],
            ),
            scenario(
                "upper-wire",
                false,
                vec![check("on the wire", Outcome::HarnessError, 3)],
            ),
        ])
    }
}
