//! `running` check: the program is still running after the last step. Its fields and its
//! words for a program's end state serve the `blocked` check too.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{EvidenceCheck, RunView};
use crate::check::Graded;
use crate::evidence::ProgramEvidence;
use crate::plan::CheckCx;

/// `running` and `blocked` checks.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StateCheck {
    /// Program name from `programs`.
    pub program: String,
    /// Points. Default: 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<u32>,
    /// Human label for reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}
envelope!(StateCheck);

/// The resolved `running` or `blocked` check.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Plan {
    pub program: usize,
}

pub(crate) struct Kind;

impl EvidenceCheck for Kind {
    const NAME: &'static str = "running";
    const NEEDS_QUIESCENCE: bool = true;
    type Spec = StateCheck;
    type Plan = Plan;

    fn resolve(c: &StateCheck, cx: &mut CheckCx<'_, '_>) -> Option<(Plan, String)> {
        let program = cx.started_program("program", &c.program)?;
        let title = format!("{} is still running at the end", c.program);
        Some((Plan { program }, title))
    }

    fn grade(plan: &Plan, run: &RunView<'_>) -> Graded {
        let (name, ev) = run.program(plan.program);
        running(name, &ev)
    }
}

pub(crate) fn running(name: &str, ev: &ProgramEvidence) -> Graded {
    let alive = ev.at_end.as_ref().is_some_and(|s| s.alive);
    Graded {
        passed: alive,
        expected: format!("{name} still running"),
        actual: describe(ev),
        reason: (!alive).then(|| format!("{name} {}", describe(ev))),
    }
}

/// The state after the last step; a later stop by the harness's teardown is not part of it.
pub(super) fn describe(ev: &ProgramEvidence) -> String {
    match (&ev.exit, &ev.spawn_error, &ev.at_end) {
        (_, Some(e), _) => format!("never started: {e}"),
        (_, None, Some(s)) if s.alive => "running".into(),
        (Some(exit), _, _) => exit.describe(),
        _ => "not running".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::blocked::blocked;
    use super::*;
    use crate::evidence::{EndState, ExitRecord};

    #[test]
    fn blocked_needs_alive_and_quiet() {
        let mut ev = ProgramEvidence {
            at_end: Some(EndState {
                alive: true,
                blocked: Some(true),
                sockets: vec![],
            }),
            ..ProgramEvidence::default()
        };
        assert!(blocked("c", &ev).passed);
        assert!(running("c", &ev).passed);
        // Stopped by the teardown afterwards: still "running" as far as the check goes.
        ev.exit = Some(ExitRecord {
            code: None,
            signal: Some(15),
            at_ms: 9,
            by_harness: true,
        });
        assert_eq!(running("c", &ev).actual, "running");
        ev.exit = None;
        ev.at_end.as_mut().unwrap().blocked = Some(false);
        assert!(!blocked("c", &ev).passed);
        ev.at_end.as_mut().unwrap().alive = false;
        ev.exit = Some(ExitRecord {
            code: Some(1),
            signal: None,
            at_ms: 1,
            by_harness: false,
        });
        let g = running("c", &ev);
        assert_eq!(g.reason.as_deref(), Some("c exited with status 1"));
    }
}
