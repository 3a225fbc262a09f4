//! What `socklab run` prints on the console: the binding table, one line per scenario with its
//! lost checks grouped by cause, and the diagnoses.

use std::io::Write;
use std::path::Path;

use crate::check::Outcome;
use crate::result::ScenarioResult;

pub(super) fn print_advisory_header() {
    let _ = writeln!(
        std::io::stdout(),
        "\nAdvisory, beyond the handout (graded with evidence, 0 points):"
    );
}

pub(super) fn print_line(r: &ScenarioResult, width: usize) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "{:<5} {:<width$}  {:>6} ms  {}/{}",
        r.verdict.label(),
        r.id,
        r.duration_ms,
        r.points,
        r.max_points
    );
    // A cause that cost several checks is one line; the rest, one line each.
    let mut causes: Vec<(&str, usize, &str)> = Vec::new();
    for c in r.checks.iter().filter(|c| c.outcome.lost()) {
        match c.cause.as_deref() {
            Some(id) if c.outcome != Outcome::Failed || causes.iter().any(|x| x.0 == id) => {
                if let Some(x) = causes.iter_mut().find(|x| x.0 == id) {
                    x.1 += 1;
                } else {
                    causes.push((id, 1, c.outcome.label()));
                }
            }
            Some(id) => causes.push((id, 1, "lost")),
            None => {
                let _ = writeln!(out, "        ✗ {}", c.reason.as_deref().unwrap_or(&c.title));
            }
        }
    }
    for (id, n, label) in causes {
        let why = r
            .checks
            .iter()
            .find(|c| c.cause.as_deref() == Some(id))
            .and_then(|c| c.reason.as_deref())
            .unwrap_or(id);
        let label = if label == "failed" { "lost" } else { label };
        let _ = writeln!(
            out,
            "        ✗ {n} check(s) {label}: {}",
            cause_line(id, why)
        );
    }
    if let Some(e) = &r.error {
        let _ = writeln!(out, "        ! {e}");
    }
    for c in r
        .checks
        .iter()
        .filter(|c| c.outcome == Outcome::HarnessError)
        .take(1)
    {
        let _ = writeln!(out, "        ! {}", c.reason.as_deref().unwrap_or(&c.title));
    }
    // Warnings that change what the points mean (checks left ungraded) belong on the console
    // too, not only in the report.
    if r.checks.iter().any(|c| !c.outcome.counts()) {
        for w in &r.warnings {
            let _ = writeln!(out, "        ! {w}");
        }
    }
}

/// The console's words for a cause: its kind in plain words (the diagnoses below the
/// scenarios say it in full).
fn cause_line(id: &str, reason: &str) -> String {
    let (kind, role) = id.split_once(':').unwrap_or((id, ""));
    match kind {
        "not-submitted" => format!("{role} not submitted"),
        "cannot-start" => format!("{role} cannot start (see the diagnoses below)"),
        "ignores-port" => format!("{role} ignores the assigned port (see the diagnoses below)"),
        "prompts" => {
            format!("{role} prompts instead of taking HOST PORT (see the diagnoses below)")
        }
        "stopped-early" => format!("{role} stops on its own (see the diagnoses below)"),
        "crashed" => format!("{role} crashes (see the diagnoses below)"),
        "detached" => format!(
            "{role}'s process ended while a detached child kept running (see the diagnoses below)"
        ),
        _ => reason.to_string(),
    }
}

/// Which file plays which role, before anything runs.
pub(super) fn print_bindings(
    dir: &Path,
    rows: &[crate::submission::BindingRow],
    unbound: &[crate::submission::UnboundFile],
) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "Submission {}:", dir.display());
    let width = rows.iter().map(|r| r.role.len()).max().unwrap_or(10);
    for r in rows {
        let run_by = r
            .interpreter
            .as_deref()
            .map(|i| format!(", run by {i}"))
            .unwrap_or_default();
        let _ = match &r.file {
            Some(f) => writeln!(out, "  {:<width$}  {f} (by {}{run_by})", r.role, r.how),
            None => writeln!(out, "  {:<width$}  {}", r.role, r.how),
        };
    }
    for u in unbound {
        let _ = writeln!(
            out,
            "  {:<width$}  {} plays no role{}",
            "",
            u.file,
            u.hint
                .as_deref()
                .map(|h| format!(": {h}"))
                .unwrap_or_default()
        );
    }
    let _ = writeln!(out);
}

/// Every cause once, with what it cost.
pub(super) fn print_diagnoses(diagnoses: &[crate::diagnose::Diagnosis]) {
    let shown: Vec<_> = diagnoses
        .iter()
        .filter(|d| !d.id.starts_with("not-submitted:"))
        .collect();
    if shown.is_empty() {
        return;
    }
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "\nDiagnoses (each cause once, and the checks it cost):"
    );
    for (i, d) in shown.iter().enumerate() {
        let cost = match d.checks.len() {
            0 => String::new(),
            1 => " (1 check)".to_string(),
            n => format!(" ({n} checks)"),
        };
        let _ = writeln!(out, "  {}. {}{cost}", i + 1, d.summary);
        if let Some(detail) = &d.detail {
            let _ = writeln!(out, "     {detail}");
        }
    }
}
