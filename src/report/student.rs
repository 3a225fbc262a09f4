//! What a student may see of a run: the rubric's visibility (Gradescope's four values) applied
//! to a [`RunResult`], for the student-facing outputs (report.md, report.html, the `output`
//! texts of Gradescope's and PrairieLearn's files). results.json and junit.xml are the
//! instructor's and keep everything.
//!
//! Gradescope's meaning is followed: a test not `visible` is not shown to the student at all
//! (not its name, not its output), and while any test is hidden the student does not see the
//! total score. So the view:
//! - leaves out every scenario that is not visible, and every visible scenario whose checks
//!   are all hidden (its verdict would tell how they went);
//! - leaves out, in a visible scenario, each check that is not visible, and in its step list
//!   the step that check judges (its label is the check's title, its mark the verdict); the
//!   scenario's transcript and packets stay, being the visible checks' evidence too (to hide
//!   a check's evidence, hide its scenario);
//! - scores each scenario it keeps over its visible checks only, and its totals over those
//!   (the [`Withheld`] part tells how many checks and scenarios are not shown, not how they did);
//! - names no hidden check and no hidden scenario in the diagnoses: a hidden check a cause cost
//!   is `a hidden check`, a hidden scenario's id in a sentence is `a hidden scenario`.

use std::collections::{BTreeMap, BTreeSet};

use crate::check::CheckResult;
use crate::result::{RunResult, ScenarioResult, Summary, Visibility};

/// The run as the student may see it, and what was left out.
pub(crate) struct StudentView {
    /// The visible scenarios and checks, scored over them; `summary` is theirs.
    pub result: RunResult,
    pub withheld: Withheld,
    /// socklab broke in a scenario or check left out (and nowhere shown): the run is still no
    /// grade, which the student must be told without being told where ([`HIDDEN_ERROR`]).
    pub hidden_error: bool,
}

/// What the student is told when socklab broke only where they cannot see.
pub(crate) const HIDDEN_ERROR: &str = "socklab could not grade this submission completely: a \
    check not shown here ended in a harness error (not the student's fault). No score is given \
    for this run; the instructor should look at the report and regrade.";

/// What the view leaves out: counts only, never names or verdicts.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Withheld {
    /// Checks not shown (those of hidden scenarios included), by visibility.
    pub checks: BTreeMap<&'static str, usize>,
    /// Whole scenarios not shown.
    pub scenarios: usize,
    /// Checks not shown per scenario shown (scenario id → count).
    pub in_scenario: BTreeMap<String, usize>,
}

impl Withheld {
    pub(crate) fn is_empty(&self) -> bool {
        self.checks.is_empty() && self.scenarios == 0
    }

    /// How many checks are not shown.
    pub(crate) fn check_count(&self) -> usize {
        self.checks.values().sum()
    }

    /// For the student: what is not shown and when it will be, and, where the platform shows
    /// no total while tests are hidden (report.md, Gradescope: `total_withheld`), that the
    /// points shown are the visible checks' (empty when nothing is withheld).
    pub(crate) fn sentence(&self, total_withheld: bool) -> String {
        if self.is_empty() {
            return String::new();
        }
        let when: Vec<String> = [
            Visibility::AfterDueDate,
            Visibility::AfterPublished,
            Visibility::Hidden,
        ]
        .iter()
        .filter_map(|v| {
            self.checks
                .get(v.as_str())
                .map(|n| format!("{n} {}", v.when_shown()))
        })
        .collect();
        let scenarios = match self.scenarios {
            0 => String::new(),
            1 => ", in 1 scenario not shown".to_string(),
            n => format!(", in {n} scenarios not shown"),
        };
        let total = if total_withheld {
            "; the points and verdicts above are those of the checks shown, and your total is \
             not shown until the others are"
        } else {
            ""
        };
        format!(
            "{} more check(s) are graded but not shown here{scenarios} ({}). They count in \
             your grade{total}.",
            self.check_count(),
            when.join(", ")
        )
    }
}

/// What a student may see of a check: its own visibility, unless its scenario is not visible.
pub(crate) fn visibility(scenario: &ScenarioResult, check: &CheckResult) -> Visibility {
    if scenario.visibility.is_visible() {
        check.visibility
    } else if check.visibility.is_visible() {
        scenario.visibility
    } else {
        check.visibility
    }
}

/// The student's view of `result` (see the module docs).
pub(crate) fn view(result: &RunResult) -> StudentView {
    let mut withheld = Withheld::default();
    let mut hidden_checks: BTreeSet<String> = BTreeSet::new();
    let mut hidden_scenarios: Vec<&str> = Vec::new();
    let mut scenarios = Vec::new();
    for sc in &result.scenarios {
        let (shown, hidden): (Vec<&CheckResult>, Vec<&CheckResult>) = sc
            .checks
            .iter()
            .partition(|c| visibility(sc, c).is_visible());
        for c in &hidden {
            *withheld
                .checks
                .entry(visibility(sc, c).as_str())
                .or_default() += 1;
            hidden_checks.insert(format!("{}: {}", sc.id, c.title));
        }
        let whole = !sc.visibility.is_visible() || (shown.is_empty() && !hidden.is_empty());
        if whole {
            withheld.scenarios += 1;
            hidden_scenarios.push(&sc.id);
            continue;
        }
        let mut mine = sc.clone();
        if !hidden.is_empty() {
            withheld.in_scenario.insert(sc.id.clone(), hidden.len());
            for c in &hidden {
                // The step a graded step judges: its label is the check's title.
                let step = c
                    .source
                    .strip_prefix("step ")
                    .and_then(|n| n.parse::<usize>().ok());
                if let Some(row) = step.and_then(|n| mine.steps.get_mut(n.wrapping_sub(1))) {
                    row.label = "a hidden check".into();
                    row.detail = String::new();
                    row.met = None;
                    row.skipped = false;
                }
            }
            mine.checks = shown.into_iter().cloned().collect();
            crate::run::pool::score(&mut mine);
        }
        scenarios.push(mine);
    }
    let mut shown = result.clone();
    shown.summary = Summary::of(&scenarios);
    shown.scenarios = scenarios;
    for d in &mut shown.diagnoses {
        for c in &mut d.checks {
            if hidden_checks.contains(c.as_str()) {
                *c = "a hidden check".into();
            }
        }
        for id in &hidden_scenarios {
            let quoted = format!("`{id}`");
            d.summary = d.summary.replace(&quoted, "a hidden scenario");
            if let Some(detail) = &mut d.detail {
                *detail = detail.replace(&quoted, "a hidden scenario");
            }
        }
    }
    StudentView {
        hidden_error: result.summary.harness_broke() && !shown.summary.harness_broke(),
        result: shown,
        withheld,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Outcome;
    use crate::report::testing::{check, run, scenario};

    fn hidden(mut c: CheckResult, v: Visibility) -> CheckResult {
        c.visibility = v;
        c
    }

    #[test]
    fn a_visible_run_is_shown_whole() {
        let r = crate::report::testing::mixed();
        let v = view(&r);
        assert!(v.withheld.is_empty());
        assert_eq!(v.withheld.sentence(true), "");
        assert_eq!(v.result.summary, r.summary);
        assert_eq!(v.result.scenarios.len(), r.scenarios.len());
    }

    #[test]
    fn hidden_checks_and_scenarios_are_left_out_and_scored_apart() {
        let mut secret = scenario(
            "upper-secret",
            false,
            vec![check("survives a flood", Outcome::Failed, 5)],
        );
        secret.visibility = Visibility::AfterPublished;
        let mut basic = scenario(
            "upper-basic",
            false,
            vec![
                check("replies", Outcome::Passed, 2),
                hidden(
                    check("uppercases", Outcome::Failed, 3),
                    Visibility::AfterDueDate,
                ),
            ],
        );
        basic.checks[1].source = "step 2".into();
        basic.steps = vec![
            crate::result::StepResult {
                label: "start server".into(),
                start_ms: 0,
                end_ms: 1,
                met: None,
                detail: String::new(),
                skipped: false,
                waiting_since_ms: None,
                cpu_wait_ms: None,
            },
            crate::result::StepResult {
                label: "uppercases".into(),
                start_ms: 1,
                end_ms: 2,
                met: Some(false),
                detail: "it printed hello".into(),
                skipped: false,
                waiting_since_ms: None,
                cpu_wait_ms: None,
            },
        ];
        let mut r = run(vec![basic, secret]);
        r.diagnoses = vec![crate::diagnose::Diagnosis {
            id: "ignores-port:tcp-upper-server".into(),
            role: None,
            summary: "it uses 12000 (in `upper-secret`)".into(),
            detail: None,
            checks: vec![
                "upper-basic: uppercases".into(),
                "upper-basic: replies".into(),
                "upper-secret: survives a flood".into(),
            ],
        }];
        let v = view(&r);
        assert_eq!(v.result.scenarios.len(), 1);
        let basic = &v.result.scenarios[0];
        assert_eq!(basic.checks.len(), 1);
        assert_eq!(basic.verdict, crate::result::Verdict::Pass);
        assert_eq!(
            (v.result.summary.points, v.result.summary.max_points),
            (2, 2)
        );
        assert_eq!(basic.steps[1].label, "a hidden check");
        assert_eq!(
            (basic.steps[1].met, basic.steps[1].detail.as_str()),
            (None, "")
        );
        assert_eq!(
            v.withheld,
            Withheld {
                checks: [("after_due_date", 1), ("after_published", 1)].into(),
                scenarios: 1,
                in_scenario: [("upper-basic".to_string(), 1)].into(),
            }
        );
        let d = &v.result.diagnoses[0];
        assert_eq!(d.summary, "it uses 12000 (in a hidden scenario)");
        assert_eq!(
            d.checks,
            ["a hidden check", "upper-basic: replies", "a hidden check"]
        );
        assert!(v
            .withheld
            .sentence(false)
            .ends_with("They count in your grade."));
        let s = v.withheld.sentence(true);
        assert!(
            s.starts_with("2 more check(s) are graded but not shown here, in 1 scenario"),
            "{s}"
        );
        assert!(
            s.contains("1 shown after the due date, 1 shown when the grades are published"),
            "{s}"
        );
        // The instructor's result is untouched.
        assert_eq!(r.summary.max_points, 10);
        assert!(!v.hidden_error);
        // A harness error where the student cannot see is still said, not where.
        let mut broken = r.clone();
        broken.scenarios[1].checks[0].outcome = Outcome::HarnessError;
        crate::run::pool::score(&mut broken.scenarios[1]);
        broken.summary = Summary::of(&broken.scenarios);
        assert!(view(&broken).hidden_error);
    }

    #[test]
    fn a_visible_scenario_whose_checks_are_all_hidden_is_not_shown() {
        let all = scenario(
            "upper-all",
            false,
            vec![hidden(
                check("replies", Outcome::Failed, 2),
                Visibility::Hidden,
            )],
        );
        let v = view(&run(vec![all]));
        assert!(v.result.scenarios.is_empty());
        assert_eq!(v.withheld.scenarios, 1);
        assert!(
            v.withheld.sentence(true).contains("(1 never shown)"),
            "{}",
            v.withheld.sentence(true)
        );
    }
}
