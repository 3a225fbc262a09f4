//! `running` and `blocked` checks: the program's state after the last step.

use super::Graded;
use crate::evidence::ProgramEvidence;

pub(crate) fn running(name: &str, ev: &ProgramEvidence) -> Graded {
    let alive = ev.at_end.as_ref().is_some_and(|s| s.alive);
    Graded {
        passed: alive,
        expected: format!("{name} still running"),
        actual: describe(ev),
        reason: (!alive).then(|| format!("{name} {}", describe(ev))),
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

/// The state after the last step; a later stop by the harness's teardown is not part of it.
fn describe(ev: &ProgramEvidence) -> String {
    match (&ev.exit, &ev.spawn_error, &ev.at_end) {
        (_, Some(e), _) => format!("never started: {e}"),
        (_, None, Some(s)) if s.alive => "running".into(),
        (Some(exit), _, _) => exit.describe(),
        _ => "not running".into(),
    }
}

#[cfg(test)]
mod tests {
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
