//! Grading (pure): a plan and its evidence in, one [`CheckResult`] per graded item out.
//!
//! Expectations in steps (`wait_ready`, `expect_*`) are graded first, in step order, then the
//! scenario's `checks`. A failed item carries a `reason` in plain words that names what the
//! program did instead ("the server never listened on the assigned port 40123 (it listens on
//! 12000)"), built from the evidence only. Wire checks are graded from the capture's
//! [`Analysis`] and cite packet numbers in `actual` and `evidence_packets`; without a capture
//! they cannot be graded, which is a harness error, never a pass.

pub(crate) mod kinds;
mod steps;
pub(crate) mod wire;

use serde::{Deserialize, Serialize};

#[cfg(test)]
pub(crate) use steps::not_ready_reason_for_tests;

use crate::analysis::Analysis;
use crate::evidence::Evidence;
use crate::plan::{CheckKind, Plan, WireExpect};

/// What became of one check. Only `Passed` earns points; `NotGraded` and `HarnessError` count
/// neither way (the first is the user's choice, the second makes the scenario's verdict
/// `error`); the other three lose the check's points, each for its own reason.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Outcome {
    #[default]
    Passed,
    /// The student's program did something wrong.
    Failed,
    /// Not judged because of an earlier cause of the student's, named by `cause` (their
    /// server never started, ...).
    NotRun,
    /// The submission provides no program for a role the check needs.
    NotSubmitted,
    /// Not graded by the user's choice (`--no-capture`, host isolation), or because the
    /// capture lacks the bytes the check judges (a snapshot length cut them).
    NotGraded,
    /// socklab broke (the capture failed or lost packets, the sandbox failed): never the
    /// student's fault, never a pass.
    HarnessError,
}

impl Outcome {
    /// Whether the check's points count in the maximum.
    pub(crate) fn counts(self) -> bool {
        !matches!(self, Outcome::NotGraded | Outcome::HarnessError)
    }

    /// Whether the student lost the check's points.
    pub(crate) fn lost(self) -> bool {
        matches!(
            self,
            Outcome::Failed | Outcome::NotRun | Outcome::NotSubmitted
        )
    }

    pub(crate) fn label(self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::Failed => "failed",
            Outcome::NotRun => "not run",
            Outcome::NotSubmitted => "not submitted",
            Outcome::NotGraded => "not graded",
            Outcome::HarnessError => "harness error",
        }
    }
}

/// The grade of one check or expectation.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct CheckResult {
    pub title: String,
    /// `step 3` or `check 2` (1-based, as a person counts).
    pub source: String,
    pub kind: String,
    pub passed: bool,
    pub points: u32,
    pub awarded: u32,
    pub expected: String,
    pub actual: String,
    /// Why it failed, in plain words, when it failed.
    pub reason: Option<String>,
    /// Wire checks: the packet numbers (as Wireshark numbers them) that show `actual`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence_packets: Vec<u64>,
    pub outcome: Outcome,
    /// The diagnosis (see `diagnose`) that explains why the check was lost, when one does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// Who may see the check's details (a rubric's `visibility`, as Gradescope defines it):
    /// anything but `visible` keeps them out of the student-facing outputs (report.md,
    /// report.html); Gradescope's file carries it as is. Instructor outputs show everything.
    #[serde(default, skip_serializing_if = "crate::result::Visibility::is_visible")]
    pub visibility: crate::result::Visibility,
}

/// The capture a run's wire checks are graded from, or why there is none.
#[derive(Clone, Copy)]
pub(crate) enum Capture<'a> {
    /// The analysis of this run's capture.
    Analysed(&'a Analysis),
    /// No capture, by the user's choice (`--no-capture`, host isolation): wire checks are
    /// not graded.
    Declined(&'a str),
    /// No capture because socklab failed to make or read it: wire checks are harness errors.
    Broken(&'a str),
}

impl CheckResult {
    /// A graded item from its verdict; `passed` decides the outcome and the points.
    pub(crate) fn graded(
        title: &str,
        source: String,
        kind: &str,
        points: u32,
        g: Graded,
    ) -> CheckResult {
        let Graded {
            passed,
            expected,
            actual,
            reason,
        } = g;
        CheckResult {
            title: title.to_string(),
            source,
            kind: kind.into(),
            passed,
            points,
            awarded: if passed { points } else { 0 },
            expected,
            actual,
            reason: (!passed).then_some(reason).flatten(),
            evidence_packets: Vec::new(),
            outcome: if passed {
                Outcome::Passed
            } else {
                Outcome::Failed
            },
            cause: None,
            visibility: crate::result::Visibility::Visible,
        }
    }

    /// Marks the item as not judged: `outcome` says why, `reason` in plain words.
    pub(crate) fn set_unjudged(&mut self, outcome: Outcome, reason: String) {
        self.outcome = outcome;
        self.passed = false;
        self.awarded = 0;
        self.reason = Some(reason);
    }

    /// Grades one wire check; `source` is `check N`.
    pub(crate) fn wire(
        title: &str,
        points: u32,
        source: String,
        expect: &WireExpect,
        capture: Capture<'_>,
        servers: &wire::ServerPorts,
    ) -> CheckResult {
        let (graded, unjudged) = match capture {
            Capture::Analysed(a) => (wire::grade(expect, a, servers), None),
            Capture::Declined(why) => (
                wire::WireGraded::fail("not graded".into(), String::new(), Vec::new()),
                Some((Outcome::NotGraded, format!("not graded: {why}"))),
            ),
            Capture::Broken(why) => (
                wire::WireGraded::fail("not graded".into(), String::new(), Vec::new()),
                Some((
                    Outcome::HarnessError,
                    format!("socklab could not grade this: {why}"),
                )),
            ),
        };
        let mut r = CheckResult::graded(
            title,
            source,
            expect.kind.name(),
            points,
            Graded {
                passed: graded.passed,
                expected: expect.describe(),
                actual: graded.actual,
                reason: graded.reason,
            },
        );
        r.evidence_packets = graded.packets;
        let unjudged = unjudged.or(graded
            .unjudged
            .map(|why| (Outcome::NotGraded, format!("not graded: {why}"))));
        if let Some((outcome, why)) = unjudged {
            r.set_unjudged(outcome, why);
        }
        r
    }
}

/// Grades every expectation and check of a run; wire checks from `capture`.
pub(crate) fn evaluate(plan: &Plan, evidence: &Evidence, capture: Capture<'_>) -> Vec<CheckResult> {
    let mut results = steps::grade(plan, evidence);
    let lost = evidence.capture.as_ref().map_or(0, |c| c.dropped);
    let servers = wire::ServerPorts::from_run(plan, evidence);
    let run = kinds::RunView { plan, evidence };
    for (i, check) in plan.checks.iter().enumerate() {
        let source = format!("check {}", i + 1);
        let expect = match &check.kind {
            CheckKind::Wire(expect) => expect,
            kind => {
                if let Some((name, graded)) = kind.grade_evidence(&run) {
                    let mut result =
                        CheckResult::graded(&check.title, source, name, check.points, graded);
                    if let Some(why) = kind.unjudged_evidence(&run) {
                        result.set_unjudged(
                            Outcome::HarnessError,
                            format!("socklab could not grade this: {why}"),
                        );
                    }
                    results.push(result);
                }
                continue;
            }
        };
        let mut result = CheckResult::wire(
            &check.title,
            check.points,
            source,
            expect,
            capture,
            &servers,
        );
        if lost > 0 && result.outcome.counts() {
            // What was seen is shown, but neither verdict can be trusted: a missing
            // packet can fail a check, or pass one that asks for an absence.
            result.set_unjudged(
                Outcome::HarnessError,
                format!(
                    "socklab could not grade this: its capture lost {lost} packet(s) \
                     (the kernel dropped them because the capture could not keep up), \
                     so this run's packets are incomplete; run the scenario again, \
                     alone (--jobs 1)"
                ),
            );
        }
        results.push(result);
    }
    results
}

/// Every graded item of a plan, none of them judged: `outcome` and `reason` say why. For a
/// scenario that was not run (a role not submitted) or whose run the harness lost.
pub(crate) fn unjudged(plan: &Plan, outcome: Outcome, reason: &str) -> Vec<CheckResult> {
    let evidence = Evidence {
        steps: vec![Default::default(); plan.steps.len()],
        ..Evidence::default()
    };
    let mut all = evaluate(plan, &evidence, Capture::Declined(reason));
    for c in &mut all {
        c.actual = "not run".into();
        c.evidence_packets.clear();
        c.set_unjudged(outcome, reason.to_string());
    }
    all
}

/// What a single grader returns.
pub(crate) struct Graded {
    pub passed: bool,
    pub expected: String,
    pub actual: String,
    pub reason: Option<String>,
}

/// The most telling line of a program's error output: Python's final traceback line
/// (`SyntaxError: ...`, `ConnectionRefusedError: ...`), else the last non-empty line.
pub(crate) fn error_line(stderr: &str) -> Option<String> {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let python = lines.iter().rev().find(|l| {
        let head = l.split(':').next().unwrap_or("");
        (head.ends_with("Error") || head.ends_with("Exception")) && !head.contains(' ')
    });
    python.or(lines.last()).map(|l| shorten(l, 200))
}

/// `text` cut to `max` characters with an ellipsis.
pub(crate) fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let cut: String = text.chars().take(max).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::CaptureEvidence;
    use crate::plan::{CheckPlan, WireKind};

    fn plan_with(kinds: Vec<WireKind>) -> Plan {
        Plan {
            id: "t".into(),
            lab: "upper".into(),
            ports: Vec::new(),
            hosts: Vec::new(),
            programs: Vec::new(),
            steps: Vec::new(),
            checks: kinds
                .into_iter()
                .map(|k| CheckPlan {
                    title: format!("{k:?}"),
                    points: 2,
                    kind: CheckKind::Wire(wire::testing::expect(k)),
                })
                .collect(),
            budget_ms: 1000,
            quiet_ms: 300,
            final_quiescence: false,
        }
    }

    fn captured(dropped: u64) -> Evidence {
        Evidence {
            capture: Some(CaptureEvidence {
                file: "t.pcap".into(),
                packets: 10,
                bytes: 700,
                dropped,
            }),
            ..Evidence::default()
        }
    }

    #[test]
    fn a_lossy_capture_grades_no_wire_check_either_way() {
        let plan = plan_with(vec![
            WireKind::TcpHandshake(()),
            WireKind::NoTcpHandshake(()),
        ]);
        let a = wire::testing::tcp_round_trip();
        let complete = evaluate(&plan, &captured(0), Capture::Analysed(&a));
        assert_eq!(
            complete.iter().map(|c| c.outcome).collect::<Vec<_>>(),
            [Outcome::Passed, Outcome::Failed]
        );
        let lossy = evaluate(&plan, &captured(3), Capture::Analysed(&a));
        for c in &lossy {
            assert!(
                c.outcome == Outcome::HarnessError && !c.passed && c.awarded == 0,
                "{c:?}"
            );
            let reason = c.reason.as_deref().unwrap_or_default();
            assert!(reason.contains("lost 3 packet(s)"), "{reason}");
        }
        // What the capture did show is still reported.
        assert_eq!(lossy[0].actual, complete[0].actual);
    }

    #[test]
    fn no_capture_by_choice_is_not_graded_and_a_broken_one_is_a_harness_error() {
        let plan = plan_with(vec![WireKind::TcpHandshake(())]);
        let declined = evaluate(&plan, &captured(0), Capture::Declined("--no-capture"));
        assert_eq!(declined[0].outcome, Outcome::NotGraded);
        assert!(!declined[0].outcome.counts() && !declined[0].outcome.lost());
        let broken = evaluate(&plan, &captured(0), Capture::Broken("no AF_PACKET"));
        assert_eq!(broken[0].outcome, Outcome::HarnessError);
        assert!(!broken[0].passed && broken[0].awarded == 0);
    }

    #[test]
    fn an_unrun_plan_lists_every_item_as_lost_with_the_reason() {
        let plan = plan_with(vec![
            WireKind::TcpHandshake(()),
            WireKind::NoTcpHandshake(()),
        ]);
        let all = unjudged(&plan, Outcome::NotSubmitted, "no client");
        assert_eq!(all.len(), 2);
        for c in &all {
            assert_eq!(c.outcome, Outcome::NotSubmitted);
            assert_eq!(c.reason.as_deref(), Some("no client"));
            assert!(c.outcome.lost() && c.awarded == 0);
        }
    }

    #[test]
    fn error_line_prefers_python_exception() {
        let tb = "  File \"TCPServer.py\", line 6\n    print 'x'\n    ^^^^^^^^^\nSyntaxError: Missing parentheses in call to 'print'. Did you mean print(...)?\n";
        assert_eq!(
            error_line(tb).as_deref(),
            Some("SyntaxError: Missing parentheses in call to 'print'. Did you mean print(...)?")
        );
        assert_eq!(
            error_line("warning\ncannot bind: x\n").as_deref(),
            Some("cannot bind: x")
        );
        assert_eq!(error_line("\n \n"), None);
    }
}
