//! Grading one scenario's run (pure): the plan, the evidence the sandbox returned and the
//! capture's analysis (or why there is none) in, the graded parts of its [`ScenarioResult`]
//! out. No sandbox, file or clock: `run` calls [`scenario`] once the sandbox has returned, and
//! the unit tests below grade synthetic evidence the same way.

use std::path::Path;

use crate::check::{self, Capture, CheckResult, Outcome};
use crate::evidence::{CaptureEvidence, Evidence, ProgramEvidence};
use crate::plan::{Binding, Plan};
use crate::result::{PacketRow, Participant, ProgramResult, ScenarioResult, StepResult};

/// What grading a run adds to its [`ScenarioResult`].
#[derive(Debug)]
pub(crate) struct Graded {
    pub checks: Vec<CheckResult>,
    pub steps: Vec<StepResult>,
    pub programs: Vec<ProgramResult>,
    /// The capture's file (its name: reports sit beside their captures) and counters.
    pub capture: Option<CaptureEvidence>,
    /// Frames of the capture, when it was analysed.
    pub capture_frames: Option<u64>,
    pub packets: Vec<PacketRow>,
    pub packets_truncated: bool,
    pub participants: Vec<Participant>,
    /// The sandbox's warnings, shown first.
    pub harness_warnings: Vec<String>,
    /// What grading found to warn about (a lossy capture, wire checks not graded).
    pub warnings: Vec<String>,
    pub supervisor_peak_rss_kib: Option<u64>,
}

impl Graded {
    /// Puts the graded parts into `result`: the sandbox's warnings before those `result`
    /// already has (from preparing the run), grading's after.
    pub(crate) fn into_result(self, result: &mut ScenarioResult) {
        result.checks = self.checks;
        result.steps = self.steps;
        result.programs = self.programs;
        result.capture = self.capture;
        if self.capture_frames.is_some() {
            result.capture_frames = self.capture_frames;
            result.packets = self.packets;
            result.packets_truncated = self.packets_truncated;
            result.participants = self.participants;
        }
        result.warnings.extend(self.warnings);
        result.warnings.splice(0..0, self.harness_warnings);
        result.supervisor_peak_rss_kib = self.supervisor_peak_rss_kib;
    }
}

/// Grades a run: every step expectation and check (wire checks from `capture`), the packet
/// list, the step and program rows, and the warnings grading owes the reader.
pub(crate) fn scenario(plan: &Plan, evidence: Evidence, capture: Capture<'_>) -> Graded {
    let mut checks = check::evaluate(plan, &evidence, capture);
    let broken = socklab_side_broken(plan, &evidence);
    if let Some(why) = broken.first() {
        // The harness broke, not the student: what the run lost is not the student's loss,
        // and never a pass of the scenario either (its verdict becomes `error`).
        for c in checks.iter_mut().filter(|c| c.outcome.lost()) {
            c.set_unjudged(Outcome::HarnessError, format!("not judged: {why}"));
        }
    }
    let mut warnings = warnings(&evidence, &checks);
    warnings.extend(broken);
    let mut g = Graded {
        steps: step_rows(plan, &evidence),
        warnings,
        checks,
        programs: Vec::new(),
        capture: None,
        capture_frames: None,
        packets: Vec::new(),
        packets_truncated: false,
        participants: Vec::new(),
        harness_warnings: Vec::new(),
        supervisor_peak_rss_kib: evidence.supervisor_peak_rss_kib,
    };
    if let Capture::Analysed(a) = capture {
        g.capture_frames = Some(a.frames);
        (g.packets, g.packets_truncated) = crate::wire_view::rows(a);
        g.participants = crate::wire_view::participants(a, plan);
    }
    g.programs = program_rows(plan, evidence.programs);
    // Reports sit beside their captures: name the file, not the path.
    g.capture = evidence.capture.map(|mut c| {
        c.file = Path::new(&c.file)
            .file_name()
            .map_or(c.file.clone(), |n| n.to_string_lossy().into_owned());
        c
    });
    g.harness_warnings = evidence.warnings;
    g
}

/// socklab's side of the run that broke: a reference program, peer or scenario command (a
/// browser) that could not start or died of a signal the harness did not send. Such a program
/// is never the student's, so what it failed to do is a harness error, not a lost check.
fn socklab_side_broken(plan: &Plan, evidence: &Evidence) -> Vec<String> {
    plan.programs
        .iter()
        .zip(&evidence.programs)
        .filter(|(p, _)| !matches!(p.binding, Binding::Submission { .. }))
        .filter_map(|(p, ev)| {
            let whose = match &p.binding {
                Binding::Peer { name } => format!("socklab's peer `{name}` ({})", p.name),
                Binding::Reference => format!("socklab's reference program {}", p.name),
                _ => format!("the scenario's command {} (`{}`)", p.name, p.argv[0]),
            };
            if let Some(e) = &ev.spawn_error {
                return Some(format!("{whose} could not start: {e}"));
            }
            match &ev.exit {
                Some(x) if !x.by_harness && x.signal.is_some() => Some(format!(
                    "{whose} {} at {} ms: the harness broke, not the student's program",
                    x.describe(),
                    x.at_ms
                )),
                _ => None,
            }
        })
        .collect()
}

fn warnings(evidence: &Evidence, checks: &[CheckResult]) -> Vec<String> {
    let mut out = Vec::new();
    let lost = evidence.capture.as_ref().map_or(0, |c| c.dropped);
    if lost > 0 {
        out.push(format!(
            "the capture lost {lost} packet(s): the kernel dropped them because the capture \
             could not keep up; this scenario's wire checks are harness errors, not the student's"
        ));
    }
    let declined = checks
        .iter()
        .filter(|c| c.outcome == Outcome::NotGraded)
        .count();
    if declined > 0 {
        out.push(format!(
            "{declined} wire check(s) not graded: this run has no capture"
        ));
    }
    out
}

fn step_rows(plan: &Plan, evidence: &Evidence) -> Vec<StepResult> {
    plan.steps
        .iter()
        .zip(&evidence.steps)
        .map(|(p, o)| StepResult {
            label: p.label.clone(),
            start_ms: o.start_ms,
            end_ms: o.end_ms,
            met: o.met,
            detail: o.detail.clone(),
            skipped: o.skipped,
            waiting_since_ms: o.waiting_since_ms,
            cpu_wait_ms: o.cpu_wait_ms,
        })
        .collect()
}

/// One row per program of the plan, with its evidence (or an empty one naming it).
pub(crate) fn program_rows(plan: &Plan, evidence: Vec<ProgramEvidence>) -> Vec<ProgramResult> {
    let mut evidence = evidence.into_iter();
    plan.programs
        .iter()
        .map(|p| ProgramResult {
            role: p.role.clone(),
            binding: p.binding.clone(),
            evidence: evidence.next().unwrap_or_else(|| ProgramEvidence {
                name: p.name.clone(),
                argv: p.argv.clone(),
                ..Default::default()
            }),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::wire::testing::{tcp_round_trip, SERVER};
    use crate::evidence::{ExitRecord, StepOutcome, StreamText};

    /// A server and a client as plain commands, the client's exit and output checked, and a
    /// handshake on the server's port (the port of the synthetic captures).
    fn plan() -> Plan {
        let text = r#"{
          "id": "g", "lab": "upper", "title": "t", "question": "q", "explanation": "e",
          "programs": [
            { "name": "server", "command": ["serve", "{port}"] },
            { "name": "client", "command": ["ask", "{server_addr}", "{port}"] }
          ],
          "steps": [ { "start": { "program": "server" } }, { "start": { "program": "client" } } ],
          "checks": [
            { "exit": { "program": "client", "status": "success" } },
            { "output": { "program": "client", "contains": "HELLO" } },
            { "tcp_handshake": { "client": "client", "server": "server", "points": 2 } }
          ]
        }"#;
        crate::plan::resolve_text(text.into(), SERVER).unwrap_or_else(|e| panic!("{e}"))
    }

    fn evidence(code: i32, stdout: &str) -> Evidence {
        let client = ProgramEvidence {
            name: "client".into(),
            exit: Some(ExitRecord {
                code: Some(code),
                signal: None,
                at_ms: 20,
                by_harness: false,
            }),
            stdout: StreamText {
                text: stdout.into(),
                ..StreamText::default()
            },
            ..ProgramEvidence::default()
        };
        Evidence {
            programs: vec![ProgramEvidence::default(), client],
            steps: vec![StepOutcome::default(); 2],
            capture: Some(CaptureEvidence {
                file: "/tmp/run/g.pcap".into(),
                packets: 10,
                bytes: 700,
                dropped: 0,
            }),
            warnings: vec!["from the sandbox".into()],
            ..Evidence::default()
        }
    }

    fn outcomes(g: &Graded) -> Vec<(&str, Outcome)> {
        g.checks
            .iter()
            .map(|c| (c.kind.as_str(), c.outcome))
            .collect()
    }

    #[test]
    fn a_run_that_does_everything_passes_every_check_with_its_packets() {
        let a = tcp_round_trip();
        let g = scenario(&plan(), evidence(0, "HELLO\n"), Capture::Analysed(&a));
        assert_eq!(
            outcomes(&g),
            [
                ("exit", Outcome::Passed),
                ("output", Outcome::Passed),
                ("tcp_handshake", Outcome::Passed)
            ]
        );
        assert_eq!(g.checks[2].awarded, 2);
        assert_eq!(g.checks[2].evidence_packets, [1, 2, 3]);
        assert_eq!(g.capture_frames, Some(10));
        assert_eq!(g.packets.len(), 10);
        assert!(g.warnings.is_empty(), "{:?}", g.warnings);
        assert_eq!(g.programs.len(), 2);
        assert_eq!(g.steps.len(), 2);
        // Reports sit beside their captures: the file is named, not its path.
        assert_eq!(g.capture.as_ref().map(|c| c.file.as_str()), Some("g.pcap"));
    }

    #[test]
    fn a_failing_exit_and_output_are_failed_with_what_the_program_did() {
        let a = tcp_round_trip();
        let g = scenario(&plan(), evidence(1, "hello\n"), Capture::Analysed(&a));
        assert_eq!(
            outcomes(&g),
            [
                ("exit", Outcome::Failed),
                ("output", Outcome::Failed),
                ("tcp_handshake", Outcome::Passed)
            ]
        );
        assert_eq!(
            g.checks[0].reason.as_deref(),
            Some("client exited with status 1")
        );
        assert_eq!(
            g.checks[1].reason.as_deref(),
            Some("client's stdout was \"hello\"")
        );
        assert!(g.checks[..2].iter().all(|c| c.awarded == 0));
    }

    #[test]
    fn a_crash_on_socklabs_side_is_a_harness_error_not_the_students_loss() {
        let a = tcp_round_trip();
        // The client here is the scenario's command (a browser, say), not the student's.
        let mut ev = evidence(0, "");
        ev.programs[1].exit = Some(ExitRecord {
            code: None,
            signal: Some(11),
            at_ms: 20,
            by_harness: false,
        });
        let g = scenario(&plan(), ev, Capture::Analysed(&a));
        assert_eq!(
            outcomes(&g),
            [
                ("exit", Outcome::HarnessError),
                ("output", Outcome::HarnessError),
                ("tcp_handshake", Outcome::Passed)
            ]
        );
        let why = "the scenario's command client (`ask`) killed by signal 11 at 20 ms";
        assert!(
            g.warnings.iter().any(|w| w.starts_with(why)),
            "{:?}",
            g.warnings
        );
        assert!(g.checks[0].reason.as_deref().unwrap().contains(why));
        // Stopped by the harness is how runs end: nothing broke.
        let mut ev = evidence(1, "hello\n");
        ev.programs[1].exit = Some(ExitRecord {
            code: None,
            signal: Some(15),
            at_ms: 20,
            by_harness: true,
        });
        let g = scenario(&plan(), ev, Capture::Analysed(&a));
        assert_eq!(g.checks[1].outcome, Outcome::Failed);
        assert!(g.warnings.is_empty(), "{:?}", g.warnings);
    }

    #[test]
    fn a_declined_capture_leaves_wire_checks_not_graded_and_says_so() {
        let g = scenario(
            &plan(),
            evidence(0, "HELLO\n"),
            Capture::Declined("the run was made with --no-capture"),
        );
        assert_eq!(
            outcomes(&g),
            [
                ("exit", Outcome::Passed),
                ("output", Outcome::Passed),
                ("tcp_handshake", Outcome::NotGraded)
            ]
        );
        assert!(g.packets.is_empty() && g.capture_frames.is_none());
        assert_eq!(
            g.warnings,
            ["1 wire check(s) not graded: this run has no capture"]
        );
        let mut result = ScenarioResult {
            warnings: vec!["from preparing".into()],
            ..ScenarioResult::default()
        };
        g.into_result(&mut result);
        assert_eq!(
            result.warnings,
            [
                "from the sandbox",
                "from preparing",
                "1 wire check(s) not graded: this run has no capture"
            ]
        );
    }

    #[test]
    fn a_broken_capture_is_a_harness_error_never_a_pass_or_the_students_loss() {
        let g = scenario(
            &plan(),
            evidence(0, "HELLO\n"),
            Capture::Broken("cannot read the capture g.pcap: truncated"),
        );
        let wire = &g.checks[2];
        assert_eq!(wire.outcome, Outcome::HarnessError);
        assert!(!wire.passed && wire.awarded == 0 && !wire.outcome.lost());
        assert!(wire
            .reason
            .as_deref()
            .is_some_and(|r| r.starts_with("socklab could not grade this: cannot read")));
        assert_eq!(g.checks[0].outcome, Outcome::Passed);
    }

    #[test]
    fn a_lossy_capture_is_named_in_the_warnings() {
        let a = tcp_round_trip();
        let mut ev = evidence(0, "HELLO\n");
        if let Some(c) = ev.capture.as_mut() {
            c.dropped = 4;
        }
        let g = scenario(&plan(), ev, Capture::Analysed(&a));
        assert_eq!(g.checks[2].outcome, Outcome::HarnessError);
        assert_eq!(g.warnings.len(), 1);
        assert!(g.warnings[0].starts_with("the capture lost 4 packet(s)"));
    }
}
