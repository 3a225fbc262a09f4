//! Grading the expectations written as steps (`wait_ready`, `expect_output`, `expect_exit`,
//! `expect_blocked`), with a diagnosis of what the program did instead.

use super::kinds::output::quote_output;
use super::{error_line, CheckResult};
use crate::evidence::{Evidence, ProgramEvidence, SocketRecord, StepOutcome};
use crate::plan::{Plan, StepPlan};

pub(crate) fn grade(plan: &Plan, evidence: &Evidence) -> Vec<CheckResult> {
    let mut out = Vec::new();
    for (i, (planned, outcome)) in plan.steps.iter().zip(&evidence.steps).enumerate() {
        let Some(points) = planned.points else {
            continue;
        };
        let passed = outcome.met == Some(true);
        let program = planned
            .step
            .program()
            .and_then(|p| evidence.programs.get(p));
        let name = planned
            .step
            .program()
            .map_or("", |p| plan.programs[p].name.as_str());
        let (kind, reason) = match &planned.step {
            StepPlan::WaitReady {
                port,
                transport,
                reachable_at,
                ..
            } => (
                "wait_ready",
                program.map(|ev| {
                    let at = reachable_at.as_deref();
                    unreachable(name, *port, transport.name(), at, outcome)
                        .unwrap_or_else(|| not_ready(name, ev, *port, transport.name(), outcome))
                }),
            ),
            StepPlan::ExpectOutput { stream, .. } => (
                "expect_output",
                program.map(|ev| {
                    let text = outcome
                        .seen_output
                        .clone()
                        .unwrap_or_else(|| ev.text(*stream));
                    let mut r = format!("{name} printed {} instead", quote_output(&text));
                    if let Some(line) = error_line(&ev.stderr.text) {
                        r.push_str(&format!("; its error output ends with: {line}"));
                    }
                    r
                }),
            ),
            StepPlan::ExpectExit { expect, .. } => (
                "expect_exit",
                program.map(|ev| {
                    let mut r = format!(
                        "{name} should have {}, but: {}",
                        expect.describe().replacen("exits", "exited", 1),
                        outcome.detail
                    );
                    if let Some(line) = error_line(&ev.stderr.text) {
                        r.push_str(&format!("; its error output ends with: {line}"));
                    }
                    r
                }),
            ),
            StepPlan::ExpectBlocked { .. } => (
                "expect_blocked",
                Some(format!("{name}: {}", outcome.detail)),
            ),
            _ => ("step", None),
        };
        let reason = if outcome.skipped {
            Some(outcome.detail.clone())
        } else {
            reason
        };
        out.push(CheckResult {
            title: planned.label.clone(),
            source: format!("step {}", i + 1),
            kind: kind.into(),
            passed,
            points,
            awarded: if passed { points } else { 0 },
            expected: planned.label.clone(),
            actual: outcome.detail.clone(),
            reason: (!passed).then_some(reason).flatten(),
            evidence_packets: Vec::new(),
            outcome: if passed {
                super::Outcome::Passed
            } else {
                super::Outcome::Failed
            },
            cause: None,
            visibility: crate::result::Visibility::Visible,
        });
    }
    out
}

/// A server of a topology that serves its port on its loopback only, in plain words: the
/// other computers cannot reach it there (`diagnose` reads these words).
fn unreachable(
    name: &str,
    port: u16,
    transport: &str,
    reachable_at: Option<&str>,
    outcome: &StepOutcome,
) -> Option<String> {
    let at = reachable_at?;
    let on_port: Vec<&SocketRecord> = outcome
        .sockets
        .iter()
        .filter(|s| s.listening && s.transport == transport && s.port == port)
        .collect();
    let first = on_port.first()?;
    if on_port
        .iter()
        .any(|s| crate::evidence::accepts_at(&s.addr, at))
    {
        return None;
    }
    let verb = if transport == "tcp" {
        "listens on"
    } else {
        "is bound to"
    };
    Some(format!(
        "{name} {verb} {} only, which another computer cannot reach: it must bind to its own \
         address {at} (the HOST it is given) or to 0.0.0.0 (every address)",
        crate::evidence::socket_addr(&first.addr, port)
    ))
}

/// Why a server was not ready: it could not start, it died (and said why), or it listens on
/// some other port.
fn not_ready(
    name: &str,
    ev: &ProgramEvidence,
    port: u16,
    transport: &str,
    outcome: &StepOutcome,
) -> String {
    let sockets: &[SocketRecord] = &outcome.sockets;
    let verb = if transport == "tcp" {
        "listened"
    } else {
        "bound"
    };
    if let Some(err) = &ev.spawn_error {
        return format!("{name} failed to start: {err}");
    }
    // Only an exit during the step explains it; a later one is the harness's teardown.
    if let Some(exit) = ev
        .exit
        .as_ref()
        .filter(|e| e.at_ms <= outcome.end_ms && !e.by_harness)
    {
        let mut r = format!(
            "{name} failed to start: it {} before it {verb} on port {port}",
            exit.describe()
        );
        if let Some(line) = error_line(&ev.stderr.text) {
            r.push_str(&format!("; its error output ends with: {line}"));
        }
        return r;
    }
    let others: Vec<String> = sockets
        .iter()
        .filter(|s| s.listening && s.transport == transport)
        .map(|s| s.port.to_string())
        .collect();
    if others.is_empty() {
        format!(
            "{name} never {verb} on the assigned {} port {port} (it has no {} socket)",
            transport.to_uppercase(),
            if transport == "tcp" {
                "listening"
            } else {
                "bound"
            }
        )
    } else {
        format!(
            "{name} never {verb} on the assigned port {port} (it {} on {})",
            if transport == "tcp" {
                "listens"
            } else {
                "is bound"
            },
            others.join(", ")
        )
    }
}

/// The readiness reason for a server that listens on `actual` instead of `assigned`, as the
/// grader words it; `diagnose` reads these words.
#[cfg(test)]
pub(crate) fn not_ready_reason_for_tests(assigned: u16, actual: u16) -> String {
    let outcome = StepOutcome {
        sockets: vec![SocketRecord {
            transport: "tcp".into(),
            addr: "0.0.0.0".into(),
            port: actual,
            listening: true,
        }],
        ..StepOutcome::default()
    };
    not_ready(
        "server",
        &ProgramEvidence::default(),
        assigned,
        "tcp",
        &outcome,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::{ExitRecord, StreamText};

    #[test]
    fn names_the_port_it_listens_on_instead() {
        let socks = vec![SocketRecord {
            transport: "tcp".into(),
            addr: "0.0.0.0".into(),
            port: 12000,
            listening: true,
        }];
        let outcome = StepOutcome {
            sockets: socks,
            end_ms: 300,
            ..StepOutcome::default()
        };
        let r = not_ready(
            "server",
            &ProgramEvidence::default(),
            40123,
            "tcp",
            &outcome,
        );
        assert_eq!(
            r,
            "server never listened on the assigned port 40123 (it listens on 12000)"
        );
    }

    #[test]
    fn quotes_syntax_error_of_dead_server() {
        let ev = ProgramEvidence {
            exit: Some(ExitRecord {
                code: Some(1),
                signal: None,
                at_ms: 30,
                by_harness: false,
            }),
            stderr: StreamText {
                text:
                    "  File \"x.py\", line 6\nSyntaxError: Missing parentheses in call to 'print'\n"
                        .into(),
                ..StreamText::default()
            },
            ..ProgramEvidence::default()
        };
        let outcome = StepOutcome {
            end_ms: 40,
            ..StepOutcome::default()
        };
        let r = not_ready("server", &ev, 20001, "tcp", &outcome);
        assert!(
            r.starts_with("server failed to start: it exited with status 1"),
            "{r}"
        );
        assert!(
            r.ends_with("SyntaxError: Missing parentheses in call to 'print'"),
            "{r}"
        );
    }
}
