//! `blocked` check: the program is still running and blocked, waiting for input, after the
//! last step (the kernel's view, measured once the programs settle).

use super::running::{describe, Plan, StateCheck};
use super::{EvidenceCheck, RunView};
use crate::check::Graded;
use crate::evidence::ProgramEvidence;
use crate::plan::CheckCx;

pub(crate) struct Kind;

impl EvidenceCheck for Kind {
    const NAME: &'static str = "blocked";
    const NEEDS_QUIESCENCE: bool = true;
    type Spec = StateCheck;
    type Plan = Plan;

    fn resolve(c: &StateCheck, cx: &mut CheckCx<'_, '_>) -> Option<(Plan, String)> {
        let program = cx.started_program("program", &c.program)?;
        let title = format!("{} is still running and blocked at the end", c.program);
        Some((Plan { program }, title))
    }

    fn grade(plan: &Plan, run: &RunView<'_>) -> Graded {
        let (name, ev) = run.program(plan.program);
        blocked(name, &ev)
    }
}

pub(crate) fn blocked(name: &str, ev: &ProgramEvidence) -> Graded {
    let state = ev.at_end.as_ref();
    let alive = state.is_some_and(|s| s.alive);
    let blocked = state.and_then(|s| s.blocked) == Some(true);
    let actual = if !alive {
        describe(ev)
    } else if blocked {
        "running, blocked waiting for input".into()
    } else {
        "running, but not blocked waiting for input (busy, or asleep in something else)".into()
    };
    Graded {
        passed: alive && blocked,
        expected: format!("{name} running and blocked"),
        reason: (!(alive && blocked)).then(|| format!("{name}: {actual}")),
        actual,
    }
}
