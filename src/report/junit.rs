//! `junit.xml`: the run as JUnit XML, for CI systems (GitLab, Jenkins, GitHub test reporters).
//!
//! One `<testsuite>` per scenario (name = scenario id), one `<testcase>` per check (name =
//! check title, classname = scenario id). A check the student lost (failed, not run, not
//! submitted) is a `<failure>` with its reason; a harness error is an `<error>` (and a
//! scenario that could not run before any check was judged gets one `<error>` testcase of its
//! own); a check not graded and every check of an advisory scenario (0 points) are
//! `<skipped>` with why. The XML is written by the maintained `quick-junit` crate.
//!
//! JUnit is the instructor's (CI): every check is there with its details, whatever a rubric's
//! visibility; a check that students may not see has the property `visibility` with the
//! rubric's value (`hidden`, `after_due_date`, `after_published`).

use std::io;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::autograders::{aborted_output, check_output, kind, reason, scenario_error, Kind};
use crate::error::AppError;
use crate::result::RunResult;

pub(crate) fn write_junit(result: &RunResult, out: &mut dyn io::Write) -> io::Result<()> {
    let mut report = Report::new("socklab");
    report.add_test_suites(suites(result, None));
    report.serialize(&mut *out).map_err(io::Error::other)
}

/// A class's `junit.xml`: the students' suites side by side, each named `<student>/<scenario>`
/// with classname `<student>.<scenario>`, so a CI test view groups them by student.
pub(crate) fn write_class_junit(
    runs: &[crate::class::summary::StudentRun],
    out: &mut dyn io::Write,
) -> io::Result<()> {
    let mut report = Report::new("socklab-class");
    let mut runs: Vec<_> = runs.iter().collect();
    runs.sort_by(|a, b| a.id.cmp(&b.id));
    for run in runs {
        report.add_test_suites(suites(&run.result, Some(&run.id)));
    }
    report.serialize(&mut *out).map_err(io::Error::other)
}

/// One suite per scenario of `result`, named after `student` too when given.
fn suites(result: &RunResult, student: Option<&str>) -> Vec<TestSuite> {
    let name = |scenario: &str| match student {
        Some(s) => (format!("{s}/{scenario}"), format!("{s}.{scenario}")),
        None => (scenario.to_string(), scenario.to_string()),
    };
    let mut out = Vec::new();
    for scenario in &result.scenarios {
        let (suite_name, classname) = name(&scenario.id);
        let mut suite = TestSuite::new(suite_name);
        suite.set_time(std::time::Duration::from_millis(scenario.duration_ms));
        for check in &scenario.checks {
            let k = kind(scenario, check);
            let mut status = match k {
                Kind::Passed => TestCaseStatus::success(),
                Kind::Lost => TestCaseStatus::non_success(NonSuccessKind::Failure),
                Kind::HarnessError => TestCaseStatus::non_success(NonSuccessKind::Error),
                Kind::NotGraded | Kind::Advisory { .. } => TestCaseStatus::skipped(),
            };
            if k != Kind::Passed {
                status
                    .set_message(reason(scenario, check))
                    .set_type(check.outcome.label())
                    .set_description(check_output(scenario, check));
            }
            let mut case = TestCase::new(check.title.as_str(), status);
            case.set_classname(classname.as_str());
            let visibility = super::student::visibility(scenario, check);
            if !visibility.is_visible() {
                case.add_property(("visibility", visibility.as_str()));
            }
            suite.add_test_case(case);
        }
        if let Some(error) = scenario_error(scenario) {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            status
                .set_message(format!("harness error (not the student's fault): {error}"))
                .set_type("harness error");
            let mut case = TestCase::new("scenario run", status);
            case.set_classname(classname.as_str());
            suite.add_test_case(case);
        }
        out.push(suite);
    }
    out
}

/// A run that stopped before grading (exit 2 or 3): one suite `socklab` whose one testcase is
/// an `<error>` saying why, so CI shows an error rather than an empty, green report.
pub(crate) fn write_junit_aborted(error: &AppError, out: &mut dyn io::Write) -> io::Result<()> {
    let mut report = Report::new("socklab");
    let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
    status
        .set_message(error.to_string())
        .set_type(format!("{} error", error.kind()))
        .set_description(aborted_output(error));
    let mut case = TestCase::new("run", status);
    case.set_classname("socklab");
    let mut suite = TestSuite::new("socklab");
    suite.add_test_case(case);
    report.add_test_suite(suite);
    report.serialize(&mut *out).map_err(io::Error::other)
}

#[cfg(test)]
mod tests {
    use super::super::autograders::fixture;
    use super::*;

    fn xml(result: &RunResult) -> String {
        let mut out = Vec::new();
        write_junit(result, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn each_check_is_a_testcase_of_its_scenario_suite() {
        let x = xml(&fixture::mixed());
        assert_eq!(x.matches("<testsuite ").count(), 3, "{x}");
        assert_eq!(x.matches("<testcase ").count(), 5, "{x}");
        assert!(
            x.contains(r#"<testcase name="uppercases" classname="upper-basic""#),
            "{x}"
        );
        // The failure (graded) and the not-submitted are failures; the not-graded and the
        // advisory check are skipped; nothing is an error.
        assert_eq!(x.matches("<failure").count(), 2, "{x}");
        assert_eq!(x.matches("<skipped").count(), 2, "{x}");
        assert_eq!(x.matches("<error").count(), 0, "{x}");
        assert!(x.contains("uppercases went wrong"), "{x}");
        assert!(x.contains("advisory, counts 0 points (failed)"), "{x}");
        assert!(!x.contains("visibility"), "{x}");
    }

    #[test]
    fn a_check_students_may_not_see_keeps_its_details_and_says_so() {
        let mut run = fixture::mixed();
        run.scenarios[0].checks[1].visibility = crate::result::Visibility::Hidden;
        run.scenarios[2].visibility = crate::result::Visibility::AfterDueDate;
        let x = xml(&run);
        assert!(x.contains("uppercases went wrong"), "{x}");
        assert!(x.contains("survives a flood went wrong"), "{x}");
        assert!(
            x.contains(r#"<property name="visibility" value="hidden"/>"#),
            "{x}"
        );
        assert!(
            x.contains(r#"<property name="visibility" value="after_due_date"/>"#),
            "{x}"
        );
        assert_eq!(x.matches("<property ").count(), 2, "{x}");
    }

    #[test]
    fn a_harness_error_is_an_error_never_a_pass() {
        let x = xml(&fixture::broken());
        assert_eq!(x.matches("<error").count(), 1, "{x}");
        assert!(x.contains("harness error (not the student"), "{x}");
        assert_eq!(x.matches("<failure").count(), 0, "{x}");
    }

    #[test]
    fn a_scenario_that_could_not_run_gets_an_error_testcase() {
        let mut run = fixture::mixed();
        run.scenarios[1].checks.clear();
        run.scenarios[1].verdict = crate::result::Verdict::Error;
        run.scenarios[1].error = Some("the sandbox failed".into());
        let x = xml(&run);
        assert_eq!(x.matches("<error").count(), 1, "{x}");
        assert!(x.contains("the sandbox failed"), "{x}");
    }

    #[test]
    fn a_run_that_could_not_start_is_one_error() {
        let mut out = Vec::new();
        write_junit_aborted(&AppError::Harness("no sandbox".into()), &mut out).unwrap();
        let x = String::from_utf8(out).unwrap();
        assert_eq!(x.matches("<testcase ").count(), 1, "{x}");
        assert_eq!(x.matches("<error").count(), 1, "{x}");
        assert!(x.contains("no sandbox"), "{x}");
    }
}
