//! `exit` check: the program's exit status.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{EvidenceCheck, RunView};
use crate::check::{error_line, Graded};
use crate::evidence::ProgramEvidence;
use crate::plan::{CheckCx, ExitExpect};
use crate::scenario::ExitStatusName;

/// `exit` check.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExitCheck {
    /// Program name from `programs`.
    pub program: String,
    /// Expected status (see `expect_exit`). Default: `any`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ExitStatusName>,
    /// Exact expected exit code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<i32>,
    /// Points. Default: 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<u32>,
    /// Human label for reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}
envelope!(ExitCheck);

/// The resolved `exit` check.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Plan {
    pub program: usize,
    pub expect: ExitExpect,
}

pub(crate) struct Kind;

impl EvidenceCheck for Kind {
    const NAME: &'static str = "exit";
    type Spec = ExitCheck;
    type Plan = Plan;

    fn resolve(c: &ExitCheck, cx: &mut CheckCx<'_, '_>) -> Option<(Plan, String)> {
        let program = cx.started_program("program", &c.program)?;
        let expect = ExitExpect::from_parts(c.status, c.code);
        let title = format!("{} {}", c.program, expect.describe());
        Some((Plan { program, expect }, title))
    }

    fn grade(plan: &Plan, run: &RunView<'_>) -> Graded {
        let (name, ev) = run.program(plan.program);
        grade(name, &ev, plan.expect)
    }
}

pub(crate) fn grade(name: &str, ev: &ProgramEvidence, expect: ExitExpect) -> Graded {
    let expected = format!("{name} {}", expect.describe());
    let Some(exit) = &ev.exit else {
        return Graded {
            passed: false,
            expected,
            actual: ev
                .spawn_error
                .clone()
                .unwrap_or_else(|| "still running at the end of the scenario".into()),
            reason: Some(format!("{name} did not exit by itself")),
        };
    };
    // A program the harness had to stop did not exit by itself, whatever its status.
    let passed = !exit.by_harness && expect.accepts(exit.code);
    let reason = (!passed).then(|| {
        let mut r = format!("{name} {}", exit.describe());
        if let Some(line) = error_line(&ev.stderr.text) {
            r.push_str(&format!("; its error output ends with: {line}"));
        }
        r
    });
    Graded {
        passed,
        expected,
        actual: exit.describe(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::{ExitRecord, StreamText};

    fn exited(code: Option<i32>, by_harness: bool) -> ProgramEvidence {
        ProgramEvidence {
            exit: Some(ExitRecord {
                code,
                signal: if code.is_none() { Some(15) } else { None },
                at_ms: 5,
                by_harness,
            }),
            stderr: StreamText {
                text: "ConnectionRefusedError: [Errno 111] Connection refused\n".into(),
                ..StreamText::default()
            },
            ..ProgramEvidence::default()
        }
    }

    #[test]
    fn grades_status() {
        assert!(grade("c", &exited(Some(1), false), ExitExpect::Failure).passed);
        let g = grade("c", &exited(Some(1), false), ExitExpect::Success);
        assert!(!g.passed);
        assert!(g.reason.unwrap().contains("Connection refused"));
        assert!(!grade("c", &exited(None, true), ExitExpect::Failure).passed);
        assert!(!grade("c", &ProgramEvidence::default(), ExitExpect::Any).passed);
    }
}
