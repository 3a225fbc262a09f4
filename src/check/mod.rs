//! Grading (pure): a plan and its evidence in, one [`CheckResult`] per graded item out.
//!
//! Expectations in steps (`wait_ready`, `expect_*`) are graded first, in step order, then the
//! scenario's `checks`. A failed item carries a `reason` in plain words that names what the
//! program did instead ("the server never listened on the assigned port 40123 (it listens on
//! 12000)"), built from the evidence only. Wire checks are graded from the capture's
//! [`Analysis`] and cite packet numbers in `actual` and `evidence_packets`; without a capture
//! they cannot be graded, which is a harness error, never a pass.

mod exit;
mod output;
mod state;
mod steps;
pub(crate) mod wire;
mod wire_gap;
mod wire_icmp;
mod wire_tcp_conns;
mod wire_tcp_handshake;
mod wire_tcp_payload;
mod wire_tcp_refused;
mod wire_tcp_teardown;
mod wire_udp;

use serde::{Deserialize, Serialize};

use crate::analysis::Analysis;
use crate::evidence::Evidence;
use crate::plan::{CheckKind, Plan, WireExpect};

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
    /// The check could not be graded (a wire check without a capture): the harness's problem.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ungraded: bool,
}

impl CheckResult {
    /// Grades one wire check; `source` is `check N`. `capture` is the analysis, or why there
    /// is none.
    pub(crate) fn wire(
        title: &str,
        points: u32,
        source: String,
        expect: &WireExpect,
        capture: Result<&Analysis, &str>,
        servers: &wire::ServerPorts,
    ) -> CheckResult {
        let (graded, ungraded) = match capture {
            Ok(a) => (wire::grade(expect, a, servers), false),
            Err(why) => (
                wire::WireGraded::fail(
                    "not graded".into(),
                    format!("no capture: {why}"),
                    Vec::new(),
                ),
                true,
            ),
        };
        CheckResult {
            title: title.to_string(),
            source,
            kind: expect.kind.name().into(),
            passed: graded.passed,
            points,
            awarded: if graded.passed { points } else { 0 },
            expected: expect.describe(),
            actual: graded.actual,
            reason: graded.reason,
            evidence_packets: graded.packets,
            ungraded,
        }
    }
}

/// Grades every expectation and check of a run; wire checks from `capture` (the analysis of
/// the run's capture, or why there is none).
pub(crate) fn evaluate(
    plan: &Plan,
    evidence: &Evidence,
    capture: Result<&Analysis, &str>,
) -> Vec<CheckResult> {
    let mut results = steps::grade(plan, evidence);
    let lost = evidence.capture.as_ref().map_or(0, |c| c.dropped);
    let servers = wire::ServerPorts::from_run(plan, evidence);
    for (i, check) in plan.checks.iter().enumerate() {
        let program = match &check.kind {
            CheckKind::Exit { program, .. }
            | CheckKind::Output { program, .. }
            | CheckKind::Running { program }
            | CheckKind::Blocked { program } => *program,
            CheckKind::Wire(expect) => {
                let mut result = CheckResult::wire(
                    &check.title,
                    check.points,
                    format!("check {}", i + 1),
                    expect,
                    capture,
                    &servers,
                );
                if lost > 0 && !result.ungraded {
                    // What was seen is shown, but neither verdict can be trusted: a missing
                    // packet can fail a check, or pass one that asks for an absence.
                    result.ungraded = true;
                    result.passed = false;
                    result.awarded = 0;
                    result.reason = Some(format!(
                        "not graded: the capture lost {lost} packet(s) (the kernel dropped them \
                         because the capture could not keep up), so this run's packets are \
                         incomplete; run the scenario again, alone (--jobs 1)"
                    ));
                }
                results.push(result);
                continue;
            }
        };
        let name = &plan.programs[program].name;
        let Some(ev) = evidence.programs.get(program) else {
            continue;
        };
        let (kind, graded) = match &check.kind {
            CheckKind::Exit { expect, .. } => ("exit", exit::grade(name, ev, *expect)),
            CheckKind::Output {
                stream, matcher, ..
            } => ("output", output::grade(name, ev, *stream, matcher)),
            CheckKind::Running { .. } => ("running", state::running(name, ev)),
            CheckKind::Blocked { .. } => ("blocked", state::blocked(name, ev)),
            CheckKind::Wire(_) => continue,
        };
        results.push(CheckResult {
            title: check.title.clone(),
            source: format!("check {}", i + 1),
            kind: kind.into(),
            passed: graded.passed,
            points: check.points,
            awarded: if graded.passed { check.points } else { 0 },
            expected: graded.expected,
            actual: graded.actual,
            reason: (!graded.passed).then_some(graded.reason).flatten(),
            evidence_packets: Vec::new(),
            ungraded: false,
        });
    }
    results
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
        let plan = plan_with(vec![WireKind::TcpHandshake, WireKind::NoTcpHandshake]);
        let a = wire::testing::tcp_round_trip();
        let complete = evaluate(&plan, &captured(0), Ok(&a));
        assert_eq!(
            complete
                .iter()
                .map(|c| (c.passed, c.ungraded))
                .collect::<Vec<_>>(),
            [(true, false), (false, false)]
        );
        let lossy = evaluate(&plan, &captured(3), Ok(&a));
        for c in &lossy {
            assert!(c.ungraded && !c.passed && c.awarded == 0, "{c:?}");
            let reason = c.reason.as_deref().unwrap_or_default();
            assert!(reason.contains("lost 3 packet(s)"), "{reason}");
        }
        // What the capture did show is still reported.
        assert_eq!(lossy[0].actual, complete[0].actual);
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
