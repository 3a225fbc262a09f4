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
//! - keeps no trace of a hidden check or scenario in the diagnoses: a hidden check is left out
//!   of the checks a cause cost, and a cause whose lost checks are all hidden is left out
//!   whole (listing it, even as `a hidden check`, would tell that a hidden check was lost). A
//!   cause that names a hidden scenario (`` `upper-secret` ``) is left out too, unless it cost
//!   visible checks: then it is shown, the id read as `a hidden scenario`. A cause that cost no
//!   check at all (a flood of output) is shown when it names nothing hidden.

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
    // A name both a visible and a hidden check bear (a rubric that hid one of two checks of
    // the same title) is the visible one's: showing it tells nothing hidden.
    let visible_checks: BTreeSet<String> = scenarios
        .iter()
        .flat_map(|sc| sc.checks.iter().map(|c| format!("{}: {}", sc.id, c.title)))
        .collect();
    shown.scenarios = scenarios;
    let hidden = |c: &String| hidden_checks.contains(c) && !visible_checks.contains(c);
    let quoted: Vec<String> = hidden_scenarios
        .iter()
        .map(|id| format!("`{id}`"))
        .collect();
    shown.diagnoses = result
        .diagnoses
        .iter()
        .filter_map(|d| {
            let names_hidden = quoted.iter().any(|q| {
                d.summary.contains(q.as_str())
                    || d.detail.as_deref().is_some_and(|t| t.contains(q.as_str()))
            });
            let mut d = d.clone();
            let cost = d.checks.len();
            d.checks.retain(|c| !hidden(c));
            // Shown only with a visible check it cost, or when it cost none and hides nothing.
            if d.checks.is_empty() && (cost > 0 || names_hidden) {
                return None;
            }
            for q in &quoted {
                d.summary = d.summary.replace(q.as_str(), "a hidden scenario");
                if let Some(detail) = &mut d.detail {
                    *detail = detail.replace(q.as_str(), "a hidden scenario");
                }
            }
            Some(d)
        })
        .collect();
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
        // The cause cost a visible check too: shown, with that check alone.
        let d = &v.result.diagnoses[0];
        assert_eq!(d.summary, "it uses 12000 (in a hidden scenario)");
        assert_eq!(d.checks, ["upper-basic: replies"]);
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

    /// A cause with the checks it cost (its id made of its summary).
    fn cause(summary: &str, detail: Option<&str>, checks: &[&str]) -> crate::diagnose::Diagnosis {
        crate::diagnose::Diagnosis {
            id: format!("cause:{summary}"),
            role: None,
            summary: summary.into(),
            detail: detail.map(Into::into),
            checks: checks.iter().map(|c| c.to_string()).collect(),
        }
    }

    #[test]
    fn a_cause_that_cost_only_hidden_checks_is_not_shown() {
        let basic = scenario(
            "upper-basic",
            false,
            vec![
                check("replies", Outcome::Failed, 2),
                hidden(check("uppercases", Outcome::Failed, 3), Visibility::Hidden),
            ],
        );
        let mut secret = scenario(
            "upper-secret",
            false,
            vec![check("survives a flood", Outcome::Failed, 5)],
        );
        secret.visibility = Visibility::AfterDueDate;
        let mut r = run(vec![basic, secret]);
        r.diagnoses = vec![
            cause("only hidden", None, &["upper-basic: uppercases"]),
            cause(
                "only in a hidden scenario",
                None,
                &["upper-secret: survives a flood"],
            ),
            cause(
                "both",
                Some("see `upper-secret`"),
                &["upper-basic: uppercases", "upper-basic: replies"],
            ),
            // Cost no check: shown while it names nothing hidden.
            cause("a flood", Some("print less"), &[]),
            cause("a flood in `upper-secret`", None, &[]),
            cause("a flood", Some("in `upper-secret`"), &[]),
            // A name no check of the run bears is not a hidden one.
            cause("elsewhere", None, &["upper-gone: replies"]),
        ];
        let v = view(&r);
        let shown: Vec<(&str, Option<&str>, Vec<&str>)> = v
            .result
            .diagnoses
            .iter()
            .map(|d| {
                (
                    d.summary.as_str(),
                    d.detail.as_deref(),
                    d.checks.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                (
                    "both",
                    Some("see a hidden scenario"),
                    vec!["upper-basic: replies"]
                ),
                ("a flood", Some("print less"), vec![]),
                ("elsewhere", None, vec!["upper-gone: replies"]),
            ]
        );
        // The instructor's result keeps every cause and check.
        assert_eq!(r.diagnoses.len(), 7);
        assert_eq!(r.diagnoses[0].checks, ["upper-basic: uppercases"]);
    }

    #[test]
    fn a_title_a_visible_and_a_hidden_check_share_is_the_visible_ones() {
        let basic = scenario(
            "upper-basic",
            false,
            vec![
                check("replies", Outcome::Failed, 2),
                hidden(check("replies", Outcome::Failed, 3), Visibility::Hidden),
            ],
        );
        let mut r = run(vec![basic]);
        r.diagnoses = vec![cause("twice", None, &["upper-basic: replies"])];
        let v = view(&r);
        assert_eq!(v.result.diagnoses.len(), 1);
        assert_eq!(v.result.diagnoses[0].checks, ["upper-basic: replies"]);
    }

    /// Regression: a cause that cost only hidden checks was listed with its summary and
    /// `— 1 check: a hidden check`, telling the student a hidden check was lost and why.
    #[test]
    fn a_cause_of_hidden_checks_only_leaves_no_trace_for_the_student() {
        let mut r = crate::report::testing::mixed();
        let c = &mut r.scenarios[0].checks[1];
        c.visibility = Visibility::Hidden;
        c.cause = Some("ignores-port:tcp-upper-server".into());
        r.diagnoses = vec![crate::diagnose::Diagnosis {
            id: "ignores-port:tcp-upper-server".into(),
            role: Some("tcp-upper-server".into()),
            summary: "the server ignores the assigned port".into(),
            detail: Some("take the port from sys.argv".into()),
            checks: vec!["upper-basic: uppercases".into()],
        }];
        let traces = [
            "ignores the assigned port",
            "sys.argv",
            "ignores-port",
            "a hidden check",
            "Diagnoses",
        ];
        let write = |w: fn(&RunResult, &mut dyn std::io::Write) -> std::io::Result<()>| {
            let mut out = Vec::new();
            w(&r, &mut out).unwrap();
            String::from_utf8(out).unwrap()
        };
        let md = write(crate::report::write_markdown);
        let html = write(crate::report::write_html);
        let gradescope: serde_json::Value =
            serde_json::from_str(&write(crate::report::write_gradescope)).unwrap();
        // What the student sees of gradescope.json: the output, and the visible tests.
        let mut seen = vec![gradescope["output"].as_str().unwrap().to_string()];
        for t in gradescope["tests"].as_array().unwrap() {
            if t["visibility"] == "visible" {
                seen.push(t.to_string());
            }
        }
        let prairielearn = write(crate::report::write_prairielearn);
        for (name, text) in [
            ("report.md", &md),
            ("report.html", &html),
            ("gradescope output", &seen.join("\n")),
            ("prairielearn.json", &prairielearn),
        ] {
            for trace in traces {
                assert!(!text.contains(trace), "{trace} in {name}:\n{text}");
            }
        }
        // The visible lost check is still reported: only the hidden cause went.
        assert!(md.contains("client sends"), "{md}");
        assert!(gradescope["output"]
            .as_str()
            .unwrap()
            .contains("1 more check(s) are graded but not shown here"));
        // results.json, the instructor's, keeps the cause and the check it cost.
        let json: serde_json::Value =
            serde_json::from_str(&write(crate::report::write_json)).unwrap();
        let d = &json["diagnoses"][0];
        assert_eq!(d["summary"], "the server ignores the assigned port");
        assert_eq!(d["checks"][0], "upper-basic: uppercases");
        assert_eq!(
            json["scenarios"][0]["checks"][1]["cause"],
            "ignores-port:tcp-upper-server"
        );
    }
}
