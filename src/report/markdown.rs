//! `report.md`: a summary table, then per scenario the question, the verdict, every check with
//! expected vs actual and the reason of each failure, the programs and how they were bound, a
//! timestamped transcript, and the explanation.
//!
//! It is the student's: it shows the run's [student view](super::student), without the checks
//! and scenarios a rubric does not make `visible`, and says how many it leaves out.

use std::collections::BTreeSet;
use std::io::{self, Write};

use crate::check::{CheckResult, Outcome};
use crate::diagnose::Diagnosis;
use crate::evidence::Stream;
use crate::result::{RunResult, ScenarioResult, Verdict};

use super::student::{self, Withheld};
use super::view;

/// Transcript lines shown per scenario before cutting.
const TRANSCRIPT_LINES: usize = 60;

pub(crate) fn write_markdown(r: &RunResult, out: &mut dyn Write) -> io::Result<()> {
    let needed = view::roles_needed(r);
    let view = student::view(r);
    let (r, withheld) = (&view.result, &view.withheld);
    let s = &r.summary;
    writeln!(out, "# socklab report\n")?;
    let not_graded = not_graded_suffix(s.not_graded);
    let shown = if withheld.is_empty() {
        ""
    } else {
        " (of the checks shown)"
    };
    writeln!(
        out,
        "{} scenarios: **{} passed**, {} failed, {} errors{not_graded} · points **{}/{}**{shown} · {} · isolation: {} · socklab {} · seed {} (`--seed {}` gives the same ports)\n",
        s.scenarios, s.passed, s.failed, s.errors, s.points, s.max_points, r.started_at, r.isolation, r.socklab_version, r.seed, r.seed
    )?;
    if !withheld.is_empty() {
        writeln!(out, "**Not shown:** {}\n", withheld.sentence(true))?;
    }
    if view.hidden_error {
        writeln!(out, "**{}**\n", student::HIDDEN_ERROR)?;
    }
    if !r.process_cap.is_empty() {
        writeln!(out, "Processes capped by: {}\n", r.process_cap)?;
    }
    for o in &r.overrides {
        writeln!(out, "Note: {o} (`--scenarios`).\n")?;
    }
    match &r.submission {
        Some(dir) => {
            writeln!(out, "Submission: `{dir}`\n")?;
            bindings(r, &needed, out)?;
            diagnoses(r, out)?;
            cross_tests(r, out)?;
        }
        None => writeln!(out, "Programs: socklab's reference implementations\n")?,
    }
    let (graded, advisory): (Vec<&ScenarioResult>, Vec<&ScenarioResult>) =
        r.scenarios.iter().partition(|sc| sc.weighs());
    table(&graded, withheld, out)?;
    let a = &s.advisory;
    if a.scenarios > 0 {
        writeln!(
            out,
            "\nAdvisory, beyond the handout (0 points): {} passed, {} failed, {} errors{} — see \
             [Advisory: beyond the handout](#advisory).",
            a.passed,
            a.failed,
            a.errors,
            not_graded_suffix(a.not_graded)
        )?;
    }
    for sc in &graded {
        scenario(sc, &r.diagnoses, withheld, out)?;
    }
    if !advisory.is_empty() {
        writeln!(out, "\n<a id=\"advisory\"></a>\n")?;
        writeln!(
            out,
            "# Advisory: beyond the handout
"
        )?;
        writeln!(
            out,
            "These scenarios check what goes beyond the handout: a program that does what the \
             handout asks may fail them. They were run and each check is graded with its \
             evidence, but they weigh 0 points: the totals above leave them out, and their \
             failures are not among the diagnoses.\n"
        )?;
        table(&advisory, withheld, out)?;
        for sc in &advisory {
            scenario(sc, &r.diagnoses, withheld, out)?;
        }
    }
    Ok(())
}

/// `, N not graded` after a count of verdicts, or nothing when none is.
fn not_graded_suffix(n: usize) -> String {
    match n {
        0 => String::new(),
        n => format!(", {n} not graded"),
    }
}

/// The table of verdicts, one row per scenario.
fn table(
    scenarios: &[&ScenarioResult],
    withheld: &Withheld,
    out: &mut dyn Write,
) -> io::Result<()> {
    if scenarios.is_empty() {
        // A submission with no program of any lab graded: nothing ran.
        return writeln!(out, "No scenario was run.");
    }
    writeln!(out, "| Verdict | Scenario | Lab | Points | Time |")?;
    writeln!(out, "|---|---|---|---|---|")?;
    for sc in scenarios {
        writeln!(
            out,
            "| {} {} | [{}](#{}) | {} | {} | {} ms |",
            icon(sc.verdict),
            sc.verdict.label(),
            escape(&sc.title),
            sc.id,
            sc.lab,
            view::points(sc, withheld),
            sc.duration_ms
        )?;
    }
    Ok(())
}

/// Which file played which role, and the files that played none; `needed`: the roles a
/// scenario of the run needs.
fn bindings(r: &RunResult, needed: &BTreeSet<String>, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "## Who played which role\n")?;
    if r.bindings.is_empty() {
        writeln!(
            out,
            "No file of the submission played a role of a lab graded."
        )?;
    } else {
        writeln!(out, "| Role | Lab | Program | How | Interpreter |")?;
        writeln!(out, "|---|---|---|---|---|")?;
    }
    // A missing role costs points only where a scenario of this run needs it.
    for b in &r.bindings {
        let program = match (&b.file, needed.contains(&b.role)) {
            (Some(f), _) => format!("`{f}`"),
            (None, true) => "**not submitted** (scores 0)".to_string(),
            (None, false) => "not submitted (no scenario of this run needs it)".to_string(),
        };
        writeln!(
            out,
            "| `{}` | {} | {} | {} | {} |",
            b.role,
            b.lab,
            program,
            escape(&b.how),
            b.interpreter.as_deref().unwrap_or("")
        )?;
    }
    if !r.unbound_files.is_empty() {
        writeln!(out, "\nFiles that played no role:\n")?;
        for u in &r.unbound_files {
            match &u.hint {
                Some(h) => writeln!(out, "- `{}`: {}", u.file, escape(h))?,
                None => writeln!(out, "- `{}`", u.file)?,
            }
        }
    }
    writeln!(out)
}

/// Each cause once, with the checks it cost.
fn diagnoses(r: &RunResult, out: &mut dyn Write) -> io::Result<()> {
    if r.diagnoses.is_empty() {
        return Ok(());
    }
    writeln!(out, "## Diagnoses\n")?;
    writeln!(
        out,
        "Each cause once, with the checks it cost; fix them in this order.\n"
    )?;
    for (i, d) in r.diagnoses.iter().enumerate() {
        let cost = match d.checks.len() {
            0 => String::new(),
            1 => " — 1 check".to_string(),
            n => format!(" — {n} checks"),
        };
        writeln!(out, "{}. **{}**{cost}", i + 1, escape(&d.summary))?;
        if let Some(detail) = &d.detail {
            writeln!(out, "   {}", escape(detail))?;
        }
        if !d.checks.is_empty() {
            writeln!(
                out,
                "   <details><summary>checks</summary>\n\n   {}\n\n   </details>",
                d.checks
                    .iter()
                    .map(|c| escape(c))
                    .collect::<Vec<_>>()
                    .join("<br>")
            )?;
        }
    }
    writeln!(out)
}

/// The cross-test matrix ([`super::cross`]), when the run has cross-tested scenarios.
fn cross_tests(r: &RunResult, out: &mut dyn Write) -> io::Result<()> {
    use super::cross::{COLUMNS, HEADING, INTRO};
    let rows = super::cross::matrix(r);
    if rows.is_empty() {
        return Ok(());
    }
    writeln!(out, "## {HEADING}\n\n{INTRO}\n")?;
    writeln!(out, "| {} |", COLUMNS.join(" | "))?;
    writeln!(out, "|---|---|---|---|")?;
    for row in &rows {
        writeln!(
            out,
            "| [{}](#{}) | {} | {} | {} |",
            escape(&row.title),
            row.id,
            row.pair.label(),
            row.your_server.label(),
            row.your_client.label()
        )?;
    }
    writeln!(out)?;
    let told: Vec<_> = rows.iter().filter(|row| !row.sentence.is_empty()).collect();
    for row in &told {
        writeln!(out, "- `{}`: {}", row.id, escape(&row.sentence))?;
    }
    if !told.is_empty() {
        writeln!(out)?;
    }
    Ok(())
}

fn icon(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "✅",
        Verdict::Fail => "❌",
        Verdict::Error => "⚠️",
        Verdict::NotGraded => "⏭️",
    }
}

fn scenario(
    sc: &ScenarioResult,
    diagnoses: &[Diagnosis],
    withheld: &Withheld,
    out: &mut dyn Write,
) -> io::Result<()> {
    writeln!(out, "\n<a id=\"{}\"></a>", sc.id)?;
    writeln!(
        out,
        "## {} {} — {} ({})\n",
        icon(sc.verdict),
        sc.verdict.label(),
        escape(&sc.title),
        view::points(sc, withheld)
    )?;
    let ports: Vec<String> = sc
        .ports
        .iter()
        .map(|p| format!("`{}` = {}", p.name, p.port))
        .collect();
    writeln!(
        out,
        "`{}` · lab `{}` · `{}` · {} ms · ports: {}",
        sc.id,
        sc.lab,
        sc.file,
        sc.duration_ms,
        ports.join(", ")
    )?;
    writeln!(out, "\n**Question.** {}\n", sc.question.trim())?;
    if let Some(err) = &sc.error {
        writeln!(
            out,
            "**The harness could not run this scenario:** {}\n",
            err
        )?;
    }
    what_went_wrong(sc, diagnoses, out)?;
    if !sc.checks.is_empty() {
        writeln!(out, "| | Where | Expected | Actual | Points |")?;
        writeln!(out, "|---|---|---|---|---|")?;
        for c in &sc.checks {
            let expected = view::expectation(c);
            writeln!(
                out,
                "| {} | {} | {} | {} | {}/{} |",
                mark(c),
                c.source,
                escape(&expected),
                escape(&c.actual),
                c.awarded,
                c.points
            )?;
        }
        writeln!(out)?;
    }
    writeln!(out, "**Programs.**\n")?;
    for p in &sc.programs {
        let role = p
            .role
            .as_deref()
            .map(|r| format!(" `{r}`"))
            .unwrap_or_default();
        writeln!(
            out,
            "- **{}**{}: {} — `{}` — {}",
            p.evidence.name,
            role,
            view::program_how(p, |s| format!("`{s}`")),
            view::program_command(p),
            view::program_state(p)
        )?;
    }
    writeln!(out, "\n**Steps.**\n")?;
    for (i, st) in sc.steps.iter().enumerate() {
        let mark = match (st.met, st.skipped) {
            (_, true) => "⏭️",
            (Some(true), _) => "✅",
            (Some(false), _) => "❌",
            (None, _) => "▶️",
        };
        writeln!(
            out,
            "{}. {} `{:>5} ms` {} — {}",
            i + 1,
            mark,
            st.start_ms,
            escape(&st.label),
            escape(&st.detail)
        )?;
    }
    transcript(sc, out)?;
    on_the_wire(sc, out)?;
    packets(sc, out)?;
    ladder(sc, out)?;
    if !sc.warnings.is_empty() {
        writeln!(out, "\n**Harness warnings:** {}", sc.warnings.join("; "))?;
    }
    let not_submitted =
        !sc.checks.is_empty() && sc.checks.iter().all(|c| c.outcome == Outcome::NotSubmitted);
    if not_submitted {
        writeln!(
            out,
            "\n**Not run**: the submission provides no program for a role this scenario needs. \
             What it shows: {}",
            sc.explanation.trim()
        )?;
    } else if sc.verdict == Verdict::NotGraded {
        writeln!(
            out,
            "\n**Not graded**: nothing in this scenario was judged (see the harness warnings \
             above). What it shows: {}",
            sc.explanation.trim()
        )?;
    } else if sc.verdict == Verdict::Pass && withheld.in_scenario.contains_key(&sc.id) {
        // The checks not shown may have been lost: the run is not said to behave so.
        writeln!(
            out,
            "\n**Explanation** (the checks shown passed; the others are not shown). {}",
            sc.explanation.trim()
        )?;
    } else if sc.verdict == Verdict::Pass {
        writeln!(
            out,
            "\n**Explanation** (this run behaved so). {}",
            sc.explanation.trim()
        )?;
    } else {
        let lost = sc.checks.iter().filter(|c| c.outcome.lost()).count();
        writeln!(
            out,
            "\n**What should have happened.** {}\n\n**What happened in this run** differs: \
             {lost} of {} checks were lost; *What went wrong* above says how, from this run's \
             output and packets.",
            sc.explanation.trim(),
            sc.checks.len()
        )?;
    }
    Ok(())
}

/// Lost checks: those one cause explains as one line, the others one by one; then the
/// checks that were not graded, apart from lost points.
fn what_went_wrong(
    sc: &ScenarioResult,
    diagnoses: &[Diagnosis],
    out: &mut dyn Write,
) -> io::Result<()> {
    let lost: Vec<&CheckResult> = sc.checks.iter().filter(|c| c.outcome.lost()).collect();
    if !lost.is_empty() {
        writeln!(out, "**What went wrong:**\n")?;
        let mut causes: Vec<&str> = Vec::new();
        for c in &lost {
            if let Some(id) = c.cause.as_deref() {
                if !causes.contains(&id) {
                    causes.push(id);
                }
            }
        }
        for id in causes {
            let of: Vec<&&CheckResult> = lost
                .iter()
                .filter(|c| c.cause.as_deref() == Some(id))
                .collect();
            // The cause in its own words; this scenario's first symptom when it has none.
            let why = diagnoses
                .iter()
                .find(|d| d.id == id)
                .map(|d| d.summary.as_str())
                .or(of[0].reason.as_deref())
                .unwrap_or(&of[0].actual);
            writeln!(
                out,
                "- {} check(s) {} because {} (see *Diagnoses*):",
                of.len(),
                of[0].outcome.label().replace("failed", "lost"),
                escape(why)
            )?;
            for c in of {
                // A failed check keeps its own evidence from this run; one not run has none.
                match (c.outcome, c.reason.as_deref()) {
                    (Outcome::Failed, Some(r)) => writeln!(
                        out,
                        "  - {} ({}): {}",
                        escape(&c.title),
                        c.source,
                        escape(r)
                    )?,
                    _ => writeln!(out, "  - {} ({})", escape(&c.title), c.source)?,
                }
            }
        }
        for c in lost.iter().filter(|c| c.cause.is_none()) {
            writeln!(
                out,
                "- {} ({}): {}",
                escape(&c.title),
                c.source,
                escape(c.reason.as_deref().unwrap_or(&c.actual))
            )?;
        }
        writeln!(out)?;
    }
    let apart: Vec<&CheckResult> = sc.checks.iter().filter(|c| !c.outcome.counts()).collect();
    if !apart.is_empty() {
        writeln!(out, "**Not graded** (these count neither way):\n")?;
        for c in apart {
            writeln!(
                out,
                "- {} {} ({}): {}",
                mark(c),
                escape(&c.title),
                c.source,
                escape(c.reason.as_deref().unwrap_or(&c.actual))
            )?;
        }
        writeln!(out)?;
    }
    Ok(())
}

fn transcript(sc: &ScenarioResult, out: &mut dyn Write) -> io::Result<()> {
    let t = view::transcript(sc, TRANSCRIPT_LINES);
    if t.lines.is_empty() {
        return Ok(());
    }
    let width = sc
        .programs
        .iter()
        .map(|p| p.evidence.name.len())
        .max()
        .unwrap_or(6);
    writeln!(
        out,
        "\n**Transcript** (ms since start; `<` typed in, `>` printed, `!` error output):\n"
    )?;
    writeln!(out, "```text")?;
    for l in &t.lines {
        let arrow = match l.stream {
            Stream::Stdin => "<",
            Stream::Stdout => ">",
            Stream::Stderr => "!",
        };
        writeln!(
            out,
            "{:>6} {:<width$} {arrow} {}",
            l.t_ms,
            l.program,
            l.text.replace("```", "'''")
        )?;
    }
    for (name, n) in t.cut {
        writeln!(
            out,
            "… {name}: {n} more lines, cut here (results.json keeps more)"
        )?;
    }
    writeln!(out, "```")
}

/// Ladder arrows drawn per scenario; longer exchanges are cut (the packet table has more).
const LADDER_ARROWS: usize = 60;

/// One line citing the packets of this run behind each wire check.
fn on_the_wire(sc: &ScenarioResult, out: &mut dyn Write) -> io::Result<()> {
    let wire: Vec<&CheckResult> = sc
        .checks
        .iter()
        .filter(|c| crate::check::kinds::WIRE_NAMES.contains(&c.kind.as_str()))
        .collect();
    if wire.is_empty() {
        return Ok(());
    }
    let lines: Vec<String> = wire
        .iter()
        .map(|c| {
            let mark = mark(c);
            let text = if c.passed {
                c.actual.clone()
            } else {
                c.reason.clone().unwrap_or_else(|| c.actual.clone())
            };
            format!("{mark} {}", escape(&text))
        })
        .collect();
    writeln!(
        out,
        "\n**On the wire** (packet numbers of this run's capture):\n"
    )?;
    for l in lines {
        writeln!(out, "- {l}")?;
    }
    Ok(())
}

fn packets(sc: &ScenarioResult, out: &mut dyn Write) -> io::Result<()> {
    let Some(frames) = sc.capture_frames else {
        return Ok(());
    };
    let file = sc.capture.as_ref().map_or("", |c| c.file.as_str());
    writeln!(
        out,
        "\n**Packets** ({frames} in `{file}`; open it in Wireshark for the details):\n"
    )?;
    if sc.packets.is_empty() {
        writeln!(out, "No packet was captured.")?;
        return Ok(());
    }
    writeln!(
        out,
        "| No. | Time | Source | Destination | Protocol | Length | Info |"
    )?;
    writeln!(out, "|---:|---:|---|---|---|---:|---|")?;
    for p in &sc.packets {
        writeln!(
            out,
            "| {} | {:.6} | {} | {} | {} | {} | {} |",
            p.number,
            p.time,
            p.src,
            p.dst,
            p.protocol,
            p.length,
            escape(&p.info)
        )?;
    }
    if sc.packets_truncated {
        writeln!(out, "\n… the capture holds more packets than shown here.")?;
    }
    Ok(())
}

/// A Mermaid sequence diagram of the exchange: one participant per program endpoint, one
/// arrow per packet (ICMP errors dashed).
fn ladder(sc: &ScenarioResult, out: &mut dyn Write) -> io::Result<()> {
    let Some(l) = view::ladder(sc, LADDER_ARROWS) else {
        return Ok(());
    };
    writeln!(out, "\n**Ladder:**\n")?;
    writeln!(out, "```mermaid\nsequenceDiagram")?;
    for (i, lane) in l.lanes.iter().enumerate() {
        writeln!(
            out,
            "    participant P{i} as {}",
            mermaid_text(&lane.label())
        )?;
    }
    for a in &l.arrows {
        let style = if a.icmp { "-->>" } else { "->>" };
        writeln!(
            out,
            "    P{}{style}P{}: {}. {}",
            a.from,
            a.to,
            a.number,
            mermaid_text(&a.label)
        )?;
    }
    if l.more > 0 {
        writeln!(out, "    Note over P0: {} more packets", l.more)?;
    }
    writeln!(out, "```")
}

/// Mermaid's sequence diagrams end a message at `;` or a newline and treat `#` as an entity
/// start; `<`/`>` can be read as HTML. Replace them with Mermaid's entity codes.
fn mermaid_text(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '#' => s.push_str("#35;"),
            ';' => s.push_str("#59;"),
            '<' => s.push_str("#lt;"),
            '>' => s.push_str("#gt;"),
            '\n' | '\r' => s.push(' '),
            c => s.push(c),
        }
    }
    s
}

/// One mark per outcome.
fn mark(c: &CheckResult) -> &'static str {
    match c.outcome {
        Outcome::Passed => "✅",
        Outcome::Failed => "❌",
        Outcome::NotRun => "⏸️",
        Outcome::NotSubmitted => "🚫",
        Outcome::NotGraded => "⏭️",
        Outcome::HarnessError => "⚠️",
    }
}

/// Escapes what would break a Markdown table cell.
fn escape(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Outcome;
    use crate::report::testing::{check, run, scenario};
    use crate::result::Visibility;

    fn markdown(r: &RunResult) -> String {
        let mut out = Vec::new();
        write_markdown(r, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn checks_and_scenarios_not_visible_show_no_details() {
        let mut hidden = check("uppercases", Outcome::Failed, 3);
        hidden.visibility = Visibility::Hidden;
        hidden.actual = "hello in lowercase".into();
        let basic = scenario(
            "upper-basic",
            false,
            vec![check("replies", Outcome::Passed, 2), hidden],
        );
        let mut secret = scenario(
            "upper-secret",
            false,
            vec![check("survives a flood", Outcome::Failed, 5)],
        );
        secret.visibility = Visibility::AfterDueDate;
        secret.title = "The secret scenario".into();
        let mut r = run(vec![basic, secret]);
        r.diagnoses = vec![crate::diagnose::Diagnosis {
            id: "x".into(),
            role: None,
            summary: "the server went wrong in `upper-secret`".into(),
            detail: None,
            checks: vec![
                "upper-basic: uppercases".into(),
                "upper-secret: survives a flood".into(),
            ],
        }];
        let md = markdown(&r);
        for secret in [
            "uppercases",
            "hello in lowercase",
            "upper-secret",
            "The secret scenario",
            "survives a flood",
        ] {
            assert!(!md.contains(secret), "{secret} in:\n{md}");
        }
        assert!(md.contains("points **2/2** (of the checks shown)"), "{md}");
        assert!(md.contains("2/2 + 1 check not shown"), "{md}");
        assert!(
            md.contains("2 more check(s) are graded but not shown here, in 1 scenario"),
            "{md}"
        );
        assert!(
            md.contains("1 shown after the due date, 1 never shown"),
            "{md}"
        );
        // The cause cost hidden checks only: not listed, not even as hidden ones.
        for trace in [
            "went wrong in",
            "a hidden check",
            "a hidden scenario",
            "Diagnoses",
        ] {
            assert!(!md.contains(trace), "{trace} in:\n{md}");
        }
        assert!(!md.contains("this run behaved so"), "{md}");
        // Without a rubric, everything is shown as before.
        let plain = markdown(&crate::report::testing::mixed());
        assert!(!plain.contains("not shown"), "{plain}");
        assert!(plain.contains("uppercases"), "{plain}");
    }

    #[test]
    fn mermaid_text_escapes_what_ends_or_breaks_a_message() {
        assert_eq!(mermaid_text("a;b #1 <x>\nc"), "a#59;b #35;1 #lt;x#gt; c");
    }
}
