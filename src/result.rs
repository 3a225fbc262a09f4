//! The result of a run, as one value: reports are rendered from it, and it is written as
//! `results.json` (versioned) so `socklab report` can re-render without re-running.

use serde::{Deserialize, Serialize};

use crate::check::CheckResult;
use crate::diagnose::Diagnosis;
use crate::evidence::{CaptureEvidence, ProgramEvidence};
use crate::plan::{Binding, PortPlan};
use crate::submission::{BindingRow, UnboundFile};

/// Bumped on any incompatible change of the JSON shape.
pub(crate) const SCHEMA_VERSION: u32 = 2;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct RunResult {
    pub schema_version: u32,
    pub socklab_version: String,
    /// UTC, RFC 3339.
    pub started_at: String,
    pub duration_ms: u64,
    pub isolation: String,
    /// The submission directory, when one was graded.
    pub submission: Option<String>,
    /// How this machine capped each program's processes (`exec::limits`), in words.
    #[serde(default)]
    pub process_cap: String,
    /// Peak resident memory of the socklab process that ran the scenarios, in KiB, read
    /// just before the reports were written (its sandboxes: `supervisor_peak_rss_kib`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_rss_kib: Option<u64>,
    /// Scenarios of `--scenarios DIR` that replaced another of the same id, one sentence each
    /// (`scenario ID from FILE overrides the bundled one`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overrides: Vec<String>,
    /// The seed of the per-run port choice: `--seed` with it reproduces the ports.
    pub seed: u64,
    /// Which program played each role of the labs graded (a submission only).
    #[serde(default)]
    pub bindings: Vec<BindingRow>,
    /// Programs of the submission that played no role.
    #[serde(default)]
    pub unbound_files: Vec<UnboundFile>,
    /// The causes of the lost checks, each once, with the checks it cost.
    #[serde(default)]
    pub diagnoses: Vec<Diagnosis>,
    pub scenarios: Vec<ScenarioResult>,
    pub summary: Summary,
}

/// Who may see a check's or scenario's details, with the four values of Gradescope's
/// `visibility` (its autograder results format).
#[derive(
    Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Visibility {
    /// Shown to the student.
    #[default]
    Visible,
    /// Never shown to the student.
    Hidden,
    /// Shown once the assignment's due date has passed.
    AfterDueDate,
    /// Shown once the grades are published.
    AfterPublished,
}

impl Visibility {
    pub(crate) fn is_visible(&self) -> bool {
        *self == Visibility::Visible
    }

    /// The value as rubrics and Gradescope spell it.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Visibility::Visible => "visible",
            Visibility::Hidden => "hidden",
            Visibility::AfterDueDate => "after_due_date",
            Visibility::AfterPublished => "after_published",
        }
    }

    /// When the student sees it, in words (`shown after the due date`).
    pub(crate) fn when_shown(self) -> &'static str {
        match self {
            Visibility::Visible => "shown",
            Visibility::Hidden => "never shown",
            Visibility::AfterDueDate => "shown after the due date",
            Visibility::AfterPublished => "shown when the grades are published",
        }
    }
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Verdict {
    /// Every check passed.
    Pass,
    /// At least one check failed.
    Fail,
    /// The harness could not run the scenario (not the program's fault); also the verdict of
    /// a result not graded yet.
    #[default]
    Error,
    /// No check was judged, and none failed: a program the scenario `requires` is not
    /// installed here, or every check needs the capture the user declined. Neither a pass nor
    /// a failure; its warning says why.
    #[serde(rename = "not_graded")]
    NotGraded,
}

impl Verdict {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::Error => "ERROR",
            Verdict::NotGraded => "SKIP",
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct ScenarioResult {
    pub id: String,
    pub lab: String,
    pub title: String,
    pub question: String,
    pub explanation: String,
    pub file: String,
    pub verdict: Verdict,
    pub duration_ms: u64,
    /// Beyond the handout (the scenario's `advisory`): graded, shown apart, and weighs 0
    /// points in the run's totals (see [`ScenarioResult::weighs`]).
    #[serde(default)]
    pub advisory: bool,
    /// An advisory scenario a rubric makes count (its `"counts": true`): it stays advisory
    /// (beyond the handout), and its points enter the totals.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub counted: bool,
    /// Who may see the scenario's details (a rubric's `visibility`): anything but `visible`
    /// keeps its checks and evidence out of the student-facing outputs; its points still count.
    #[serde(default, skip_serializing_if = "Visibility::is_visible")]
    pub visibility: Visibility,
    /// Set on a cross-test run (a `cross` scenario's `ID.socklab-client` or
    /// `ID.socklab-server`): which role is the submission's and which socklab's, by design.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cross: Option<crate::scenario::Cross>,
    /// Points earned in this scenario's own checks (an advisory scenario's too: they say how
    /// it did, but do not enter the totals unless it [`weighs`](ScenarioResult::weighs)).
    pub points: u32,
    pub max_points: u32,
    /// Set when the verdict is `error`: what went wrong in the harness.
    pub error: Option<String>,
    pub ports: Vec<PortPlan>,
    pub programs: Vec<ProgramResult>,
    pub steps: Vec<StepResult>,
    pub checks: Vec<CheckResult>,
    pub capture: Option<CaptureEvidence>,
    /// Packets read back from the capture file by socklab's own reader (what tshark counts);
    /// None without a capture.
    #[serde(default)]
    pub capture_frames: Option<u64>,
    /// The first packets of the capture, as Wireshark's packet list shows them.
    #[serde(default)]
    pub packets: Vec<PacketRow>,
    /// True when the capture held more packets than `packets` shows.
    #[serde(default)]
    pub packets_truncated: bool,
    /// Which program each address:port of the capture belongs to, for the ladder diagram.
    #[serde(default)]
    pub participants: Vec<Participant>,
    pub warnings: Vec<String>,
    /// Peak resident memory of the scenario's sandbox supervisor (socklab's own process in
    /// the sandbox, not the programs), in KiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supervisor_peak_rss_kib: Option<u64>,
}

impl ScenarioResult {
    /// Whether the scenario's points enter the run's totals. Advisory scenarios weigh 0.
    ///
    /// This is the one place a rubric (issue 10) hooks in: a rubric's `"counts": true` on an
    /// advisory scenario ([`counted`](ScenarioResult::counted)) makes it weigh here; nothing
    /// else reads `advisory` for the totals.
    pub(crate) fn weighs(&self) -> bool {
        !self.advisory || self.counted
    }
}

/// One row of the packet list (Wireshark's top pane).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct PacketRow {
    pub number: u64,
    /// Seconds since the first packet.
    pub time: f64,
    /// `ADDR:PORT` (or the address alone for ICMP).
    pub src: String,
    pub dst: String,
    pub protocol: String,
    pub length: u32,
    pub info: String,
    /// Short label for the ladder: flags, length, payload text.
    pub label: String,
    /// Ladder endpoints (`ADDR:PORT`): `src`/`dst`, except for an ICMP error, drawn from the
    /// port it refuses back to the sender of the datagram it quotes.
    pub arrow_from: String,
    pub arrow_to: String,
}

/// A program's place in the capture.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Participant {
    /// `ADDR:PORT`.
    pub endpoint: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ProgramResult {
    pub role: Option<String>,
    pub binding: Binding,
    #[serde(flatten)]
    pub evidence: ProgramEvidence,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct StepResult {
    pub label: String,
    pub start_ms: u64,
    pub end_ms: u64,
    pub met: Option<bool>,
    pub detail: String,
    pub skipped: bool,
    /// See `StepOutcome::waiting_since_ms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting_since_ms: Option<u64>,
    /// See `StepOutcome::cpu_wait_ms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_wait_ms: Option<u64>,
}

/// The run's totals: the graded scenarios (those that [weigh](ScenarioResult::weighs)) at the
/// top level, the advisory ones apart, so that a student who does what the handout asks has
/// every graded point whatever the advisory checks say.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Summary {
    pub scenarios: usize,
    pub passed: usize,
    pub failed: usize,
    pub errors: usize,
    /// Scenarios with no check judged (see [`Verdict::NotGraded`]).
    #[serde(default)]
    pub not_graded: usize,
    pub points: u32,
    pub max_points: u32,
    /// The advisory scenarios: their verdicts and the points of their own checks, which the
    /// totals above leave out. A harness error here still makes the run's exit code 3.
    #[serde(default)]
    pub advisory: Tally,
}

/// Verdicts and points of a set of scenarios.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Tally {
    pub scenarios: usize,
    pub passed: usize,
    pub failed: usize,
    pub errors: usize,
    #[serde(default)]
    pub not_graded: usize,
    pub points: u32,
    pub max_points: u32,
}

impl Tally {
    fn of<'a>(scenarios: impl Iterator<Item = &'a ScenarioResult> + Clone) -> Tally {
        let count = |v| scenarios.clone().filter(|s| s.verdict == v).count();
        Tally {
            scenarios: scenarios.clone().count(),
            passed: count(Verdict::Pass),
            failed: count(Verdict::Fail),
            errors: count(Verdict::Error),
            not_graded: count(Verdict::NotGraded),
            points: scenarios
                .clone()
                .map(|s| s.points)
                .fold(0, u32::saturating_add),
            max_points: scenarios.map(|s| s.max_points).fold(0, u32::saturating_add),
        }
    }
}

impl Summary {
    /// Whether socklab broke anywhere in the run, advisory scenarios included: the run's exit
    /// code is then 3, and no autograder format gives a score.
    pub(crate) fn harness_broke(&self) -> bool {
        self.errors > 0 || self.advisory.errors > 0
    }

    pub(crate) fn of(scenarios: &[ScenarioResult]) -> Summary {
        let graded = Tally::of(scenarios.iter().filter(|s| s.weighs()));
        Summary {
            scenarios: graded.scenarios,
            passed: graded.passed,
            failed: graded.failed,
            errors: graded.errors,
            not_graded: graded.not_graded,
            points: graded.points,
            max_points: graded.max_points,
            advisory: Tally::of(scenarios.iter().filter(|s| !s.weighs())),
        }
    }
}

/// `secs` since the Unix epoch as RFC 3339 UTC (no leap seconds, as Unix time).
pub(crate) fn rfc3339(secs: u64) -> String {
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days((secs / 86_400) as i64);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The civil date (year, month, day; proleptic Gregorian) of day `days` after 1970-01-01,
/// after Howard Hinnant's well-known derivation. Pure.
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(advisory: bool, verdict: Verdict, points: u32, max_points: u32) -> ScenarioResult {
        ScenarioResult {
            advisory,
            verdict,
            points,
            max_points,
            ..ScenarioResult::default()
        }
    }

    #[test]
    fn advisory_scenarios_stay_out_of_the_totals_and_are_counted_apart() {
        let s = Summary::of(&[
            scenario(false, Verdict::Pass, 4, 4),
            scenario(true, Verdict::Fail, 1, 3),
            scenario(true, Verdict::Error, 0, 0),
            scenario(false, Verdict::Pass, 2, 2),
        ]);
        assert_eq!((s.scenarios, s.passed, s.failed, s.errors), (2, 2, 0, 0));
        assert_eq!((s.points, s.max_points), (6, 6));
        assert_eq!(
            s.advisory,
            Tally {
                scenarios: 2,
                passed: 0,
                failed: 1,
                errors: 1,
                not_graded: 0,
                points: 1,
                max_points: 3
            }
        );
    }

    #[test]
    fn an_advisory_scenario_a_rubric_counts_enters_the_totals() {
        let mut counted = scenario(true, Verdict::Fail, 1, 3);
        counted.counted = true;
        let s = Summary::of(&[scenario(false, Verdict::Pass, 4, 4), counted]);
        assert_eq!(
            (s.scenarios, s.failed, s.points, s.max_points),
            (2, 1, 5, 7)
        );
        assert_eq!(s.advisory, Tally::default());
    }

    #[test]
    fn formats_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_795_258_861), "2026-11-21T11:01:01Z");
    }
}
