//! `report.html`: the student's report as one self-contained page. It says what report.md says
//! (the totals, which file played which role, each cause once with what it cost, then every
//! scenario with its question, verdict, points, checks, programs, steps, transcript, the
//! packets cited and the ladder of its capture as SVG, and the explanation), from the same
//! [`view`](crate::report::view) of the run.
//!
//! **Visibility.** The page renders the [student view](crate::report::student) of the run, as
//! report.md does, and decides nothing itself: a check or scenario a rubric does not make
//! `visible` is not on the page at all (not its title, verdict or points), the totals are the
//! visible checks', and the page says how many checks it leaves out and when they are shown.

use maud::{html, Markup};

use super::ladder;
use super::page::{self, outcome, verdict};
use crate::check::{CheckResult, Outcome};
use crate::error::AppError;
use crate::evidence::Stream;
use crate::report::autograders::aborted_output;
use crate::report::student::{self, Withheld};
use crate::report::view;
use crate::result::{RunResult, ScenarioResult, Verdict};

/// Transcript lines shown per scenario before cutting (as report.md).
const TRANSCRIPT_LINES: usize = 60;
/// Arrows drawn per ladder (as report.md); the packet list has the rest.
const LADDER_ARROWS: usize = 60;

pub(crate) fn write_html(r: &RunResult, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let title = match &r.submission {
        Some(dir) => format!("socklab report: {dir}"),
        None => "socklab report".to_string(),
    };
    let needed = view::roles_needed(r);
    let shown = student::view(r);
    let (r, withheld) = (&shown.result, &shown.withheld);
    let (graded, advisory): (Vec<&ScenarioResult>, Vec<&ScenarioResult>) =
        r.scenarios.iter().partition(|sc| sc.weighs());
    let body = html! {
        h1 { "socklab report" }
        (header(r, withheld, shown.hidden_error))
        @if r.submission.is_some() {
            (bindings(r, &needed))
            (diagnoses(r))
            (cross_tests(r))
        }
        h2 { "Scenarios" }
        (table(&graded, withheld))
        @for sc in &graded {
            (scenario(sc, r, withheld))
        }
        @if !advisory.is_empty() {
            h2 #advisory { "Advisory: beyond the handout" }
            p {
                "These scenarios check what goes beyond the handout: a program that does what \
                 the handout asks may fail them. They were run and each check is graded with \
                 its evidence, but they weigh 0 points: the totals above leave them out, and \
                 their failures are not among the diagnoses."
            }
            (table(&advisory, withheld))
            @for sc in &advisory {
                (scenario(sc, r, withheld))
            }
        }
    };
    page::write(page::page(&title, body), out)
}

/// The page of a run that stopped before grading anything (exit 2 or 3).
pub(crate) fn write_html_aborted(
    error: &AppError,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let body = html! {
        h1 { "socklab report" }
        p .totals { span class="badge error" { "ERROR" } " " (aborted_output(error)) }
    };
    page::write(page::page("socklab report: not graded", body), out)
}

/// The totals (of the checks shown), what is not shown, and the run's particulars.
fn header(r: &RunResult, withheld: &Withheld, hidden_error: bool) -> Markup {
    let s = &r.summary;
    let a = &s.advisory;
    html! {
        p .totals {
            (s.scenarios) " scenarios: " strong { (s.passed) " passed" } ", " (s.failed) " failed, "
            (s.errors) " errors"
            @if s.not_graded > 0 { ", " (s.not_graded) " not graded" }
            " · points " strong { (s.points) "/" (s.max_points) }
            @if !withheld.is_empty() { " (of the checks shown)" }
        }
        @if !withheld.is_empty() {
            p .withheld { strong { "Not shown:" } " " (withheld.sentence(true)) }
        }
        @if hidden_error {
            p .error { strong { (student::HIDDEN_ERROR) } }
        }
        @if a.scenarios > 0 {
            p {
                "Advisory, beyond the handout (0 points): " (a.passed) " passed, " (a.failed)
                " failed, " (a.errors) " errors"
                @if a.not_graded > 0 { ", " (a.not_graded) " not graded" }
                " — see " a href="#advisory" { "Advisory: beyond the handout" } "."
            }
        }
        @if s.harness_broke() {
            p .error {
                strong { "socklab could not grade everything in this run" }
                " (a harness error, not the student's fault): the scenarios marked ERROR must be \
                 run again before this grade means anything."
            }
        }
        p .meta {
            "Submission: "
            @match &r.submission {
                Some(dir) => code { (dir) },
                None => "socklab's reference implementations",
            }
            " · " (r.started_at) " · isolation: " (r.isolation) " · socklab " (r.socklab_version)
            " · seed " (r.seed) " (" code { "--seed " (r.seed) } " gives the same ports)"
        }
        @if !r.process_cap.is_empty() {
            p .meta { "Processes capped by: " (r.process_cap) }
        }
        @for o in &r.overrides {
            p .meta { "Note: " (o) " (" code { "--scenarios" } ")." }
        }
    }
}

/// Which file played which role, and the files that played none; `needed`: the roles a
/// scenario of the run needs (a missing one costs points only there).
fn bindings(r: &RunResult, needed: &std::collections::BTreeSet<String>) -> Markup {
    html! {
        h2 { "Who played which role" }
        table {
            tr { th { "Role" } th { "Lab" } th { "Program" } th { "How" } th { "Interpreter" } }
            @for b in &r.bindings {
                tr {
                    td { code { (b.role) } }
                    td { (b.lab) }
                    td {
                        @match (&b.file, needed.contains(&b.role)) {
                            (Some(f), _) => code { (f) },
                            (None, true) => { strong .fail { "not submitted" } " (scores 0)" },
                            (None, false) => "not submitted (no scenario of this run needs it)",
                        }
                    }
                    td { (b.how) }
                    td { (b.interpreter.as_deref().unwrap_or("")) }
                }
            }
        }
        @if !r.unbound_files.is_empty() {
            p { "Files that played no role:" }
            ul {
                @for u in &r.unbound_files {
                    li {
                        code { (u.file) }
                        @if let Some(h) = &u.hint { ": " (h) }
                    }
                }
            }
        }
    }
}

/// Each cause once, with the checks it cost (the student view names no hidden one).
fn diagnoses(r: &RunResult) -> Markup {
    if r.diagnoses.is_empty() {
        return html! {};
    }
    html! {
        h2 #diagnoses { "Diagnoses" }
        p { "Each cause once, with the checks it cost; fix them in this order." }
        ol {
            @for d in &r.diagnoses {
                li .cause {
                    strong { (d.summary) }
                    (cost(d.checks.len()))
                    @if let Some(detail) = &d.detail { br; (detail) }
                    @if !d.checks.is_empty() {
                        ul { @for c in &d.checks { li { (c) } } }
                    }
                }
            }
        }
    }
}

/// The cross-test matrix and which side is wrong ([`crate::report::cross`]).
fn cross_tests(r: &RunResult) -> Markup {
    let rows = crate::report::cross::matrix(r);
    if rows.is_empty() {
        return html! {};
    }
    html! {
        h2 #cross-tests { "Cross-tests: which side is wrong" }
        p {
            "Each of these scenarios was also run with socklab's reference program on one side, \
             by design: your server with socklab's client, and socklab's server with your \
             client. Those runs test each of your programs against the lab's protocol alone."
        }
        table {
            tr {
                th { "Scenario" } th { "your server + your client" }
                th { "your server + socklab's client" } th { "socklab's server + your client" }
            }
            @for row in &rows {
                tr {
                    td { a href={ "#" (row.id) } { (row.title) } }
                    td { (row.pair.label()) }
                    td { (row.your_server.label()) }
                    td { (row.your_client.label()) }
                }
            }
        }
        ul {
            @for row in rows.iter().filter(|row| !row.sentence.is_empty()) {
                li { code { (row.id) } ": " (row.sentence) }
            }
        }
    }
}

fn cost(n: usize) -> Markup {
    html! {
        @match n {
            0 => "",
            1 => " — 1 check",
            n => { " — " (n) " checks" },
        }
    }
}

/// The table of verdicts, one row per scenario.
fn table(scenarios: &[&ScenarioResult], withheld: &Withheld) -> Markup {
    html! {
        table {
            tr { th { "Verdict" } th { "Scenario" } th { "Lab" } th .num { "Points" } th .num { "Time" } }
            @for sc in scenarios {
                tr {
                    td { (verdict(sc.verdict)) }
                    td { a href={ "#" (sc.id) } { (sc.title) } }
                    td { (sc.lab) }
                    td .num { (view::points(sc, withheld)) }
                    td .num { (sc.duration_ms) " ms" }
                }
            }
        }
    }
}

fn scenario(sc: &ScenarioResult, r: &RunResult, withheld: &Withheld) -> Markup {
    html! {
        section .scenario id=(sc.id) {
            h2 { (verdict(sc.verdict)) " " (sc.title) " (" (view::points(sc, withheld)) ")" }
            p .meta {
                code { (sc.id) } " · lab " code { (sc.lab) } " · " code { (sc.file) } " · "
                (sc.duration_ms) " ms"
                @if !sc.ports.is_empty() {
                    " · ports: "
                    @for (i, p) in sc.ports.iter().enumerate() {
                        @if i > 0 { ", " }
                        code { (p.name) } " = " (p.port)
                    }
                }
            }
            p { strong { "Question. " } (sc.question.trim()) }
            @if let Some(err) = &sc.error {
                p .error { strong { "The harness could not run this scenario: " } (err) }
            }
            (what_went_wrong(sc, r))
            (checks(sc))
            (programs(sc))
            (steps(sc))
            (transcript(sc))
            (on_the_wire(sc))
            (packets(sc))
            @if let Some(l) = view::ladder(sc, LADDER_ARROWS) {
                h3 { "Ladder" }
                div .ladder { (ladder::svg(&l, &format!("ladder of the packets of {}", sc.id))) }
            }
            @if !sc.warnings.is_empty() {
                p .error { strong { "Harness warnings: " } (sc.warnings.join("; ")) }
            }
            (explanation(sc, withheld))
        }
    }
}

/// Lost checks: those one cause explains under it, the others one by one; then the checks not
/// graded, apart from lost points.
fn what_went_wrong(sc: &ScenarioResult, r: &RunResult) -> Markup {
    let lost: Vec<&CheckResult> = sc.checks.iter().filter(|c| c.outcome.lost()).collect();
    let mut causes: Vec<&str> = Vec::new();
    for c in &lost {
        if let Some(id) = c.cause.as_deref() {
            if !causes.contains(&id) {
                causes.push(id);
            }
        }
    }
    let apart: Vec<&CheckResult> = sc.checks.iter().filter(|c| !c.outcome.counts()).collect();
    html! {
        @if !lost.is_empty() {
            h3 { "What went wrong" }
            ul {
                @for id in &causes {
                    @let of: Vec<&&CheckResult> =
                        lost.iter().filter(|c| c.cause.as_deref() == Some(*id)).collect();
                    // The cause in its own words; this scenario's first symptom when it has none.
                    @let why = r.diagnoses.iter().find(|d| d.id == *id).map(|d| d.summary.as_str())
                        .or(of[0].reason.as_deref()).unwrap_or(&of[0].actual);
                    li {
                        (of.len()) " check(s) " (of[0].outcome.label().replace("failed", "lost"))
                        " because " (why) " (see " a href="#diagnoses" { "Diagnoses" } "):"
                        ul {
                            @for c in &of {
                                li {
                                    (c.title) " (" (c.source) ")"
                                    @if let (Outcome::Failed, Some(reason)) = (c.outcome, &c.reason) {
                                        ": " (reason)
                                    }
                                }
                            }
                        }
                    }
                }
                @for c in lost.iter().filter(|c| c.cause.is_none()) {
                    li { (c.title) " (" (c.source) "): " (c.reason.as_deref().unwrap_or(&c.actual)) }
                }
            }
        }
        @if !apart.is_empty() {
            h3 { "Not graded" }
            p { "These count neither way:" }
            ul {
                @for c in apart {
                    li {
                        (outcome(c.outcome)) " " (c.title) " (" (c.source) "): "
                        (c.reason.as_deref().unwrap_or(&c.actual))
                    }
                }
            }
        }
    }
}

/// Every check: what was expected, what this run did, the packets cited, the points.
fn checks(sc: &ScenarioResult) -> Markup {
    if sc.checks.is_empty() {
        return html! {};
    }
    html! {
        h3 { "Checks" }
        table {
            tr {
                th { "Outcome" } th { "Where" } th { "Expected" } th { "Actual" }
                th { "Packets" } th .num { "Points" }
            }
            @for c in &sc.checks {
                tr {
                    td { (outcome(c.outcome)) }
                    td .nowrap { (c.source) }
                    td { (view::expectation(c)) }
                    td {
                        (c.actual)
                        @if let (true, Some(reason)) = (c.outcome == Outcome::Failed, &c.reason) {
                            @if *reason != c.actual { br; em { "Why: " } (reason) }
                        }
                    }
                    td { (packet_links(sc, &c.evidence_packets)) }
                    td .num { (c.awarded) "/" (c.points) }
                }
            }
        }
    }
}

/// Links to the packets cited, in the packet list below when it shows them.
fn packet_links(sc: &ScenarioResult, numbers: &[u64]) -> Markup {
    html! {
        @for (i, n) in numbers.iter().enumerate() {
            @if i > 0 { ", " }
            @if sc.packets.iter().any(|p| p.number == *n) {
                a href={ "#" (sc.id) "-packet-" (n) } { (n) }
            } @else {
                (n)
            }
        }
    }
}

fn programs(sc: &ScenarioResult) -> Markup {
    html! {
        h3 { "Programs" }
        ul {
            @for p in &sc.programs {
                li {
                    strong { (p.evidence.name) }
                    @if let Some(role) = &p.role { " " code { (role) } }
                    ": " (view::program_how(p, str::to_string)) " — " code { (view::program_command(p)) }
                    " — " (view::program_state(p))
                }
            }
        }
    }
}

/// The steps (one that judges a hidden check is `a hidden check` in the student view).
fn steps(sc: &ScenarioResult) -> Markup {
    html! {
        h3 { "Steps" }
        ol {
            @for st in &sc.steps {
                li {
                    @match (st.met, st.skipped) {
                        (_, true) => span class="badge skip" { "skipped" },
                        (Some(true), _) => span class="badge pass" { "met" },
                        (Some(false), _) => span class="badge fail" { "not met" },
                        (None, _) => span class="badge skip" { "done" },
                    }
                    " " span .mono { (st.start_ms) " ms" } " " (st.label) " — " (st.detail)
                }
            }
        }
    }
}

fn transcript(sc: &ScenarioResult) -> Markup {
    let t = view::transcript(sc, TRANSCRIPT_LINES);
    if t.lines.is_empty() {
        return html! {};
    }
    let width = t.lines.iter().map(|l| l.program.len()).max().unwrap_or(6);
    let mut text = String::new();
    for l in &t.lines {
        let arrow = match l.stream {
            Stream::Stdin => "<",
            Stream::Stdout => ">",
            Stream::Stderr => "!",
        };
        text.push_str(&format!(
            "{:>6} {:<width$} {arrow} {}\n",
            l.t_ms, l.program, l.text
        ));
    }
    for (name, n) in &t.cut {
        text.push_str(&format!(
            "… {name}: {n} more lines, cut here (results.json keeps more)\n"
        ));
    }
    html! {
        h3 { "Transcript" }
        p .meta { "ms since start; " code { "<" } " typed in, " code { ">" } " printed, "
            code { "!" } " error output" }
        pre { (text) }
    }
}

/// One line per wire check, citing the packets of this run.
fn on_the_wire(sc: &ScenarioResult) -> Markup {
    let wire: Vec<&CheckResult> = sc
        .checks
        .iter()
        .filter(|c| crate::check::kinds::WIRE_NAMES.contains(&c.kind.as_str()))
        .collect();
    if wire.is_empty() {
        return html! {};
    }
    html! {
        h3 { "On the wire" }
        p .meta { "Packet numbers of this run's capture." }
        ul {
            @for c in wire {
                li {
                    (outcome(c.outcome)) " "
                    @if c.passed { (c.actual) } @else { (c.reason.as_deref().unwrap_or(&c.actual)) }
                }
            }
        }
    }
}

fn packets(sc: &ScenarioResult) -> Markup {
    let Some(frames) = sc.capture_frames else {
        return html! {};
    };
    let file = sc.capture.as_ref().map_or("", |c| c.file.as_str());
    html! {
        h3 { "Packets" }
        p .meta { (frames) " in " code { (file) } "; open it in Wireshark for the details." }
        @if sc.packets.is_empty() {
            p { "No packet was captured." }
        } @else {
            table {
                tr {
                    th .num { "No." } th .num { "Time" } th { "Source" } th { "Destination" }
                    th { "Protocol" } th .num { "Length" } th { "Info" }
                }
                @for p in &sc.packets {
                    tr id={ (sc.id) "-packet-" (p.number) } {
                        td .num { (p.number) }
                        td .num { (format!("{:.6}", p.time)) }
                        td .mono { (p.src) }
                        td .mono { (p.dst) }
                        td { (p.protocol) }
                        td .num { (p.length) }
                        td .mono { (p.info) }
                    }
                }
            }
            @if sc.packets_truncated {
                p .meta { "… the capture holds more packets than shown here." }
            }
        }
    }
}

fn explanation(sc: &ScenarioResult, withheld: &Withheld) -> Markup {
    let not_submitted =
        !sc.checks.is_empty() && sc.checks.iter().all(|c| c.outcome == Outcome::NotSubmitted);
    let lost = sc.checks.iter().filter(|c| c.outcome.lost()).count();
    html! {
        @if not_submitted {
            p { strong { "Not run" } ": the submission provides no program for a role this \
                scenario needs. What it shows: " (sc.explanation.trim()) }
        } @else if sc.verdict == Verdict::NotGraded {
            p { strong { "Not graded" } ": nothing in this scenario was judged (see the harness \
                warnings above). What it shows: " (sc.explanation.trim()) }
        } @else if sc.verdict == Verdict::Pass && withheld.in_scenario.contains_key(&sc.id) {
            // The checks not shown may have been lost: the run is not said to behave so.
            p {
                strong { "Explanation" } " (the checks shown passed; the others are not shown). "
                (sc.explanation.trim())
            }
        } @else if sc.verdict == Verdict::Pass {
            p { strong { "Explanation" } " (this run behaved so). " (sc.explanation.trim()) }
        } @else {
            p { strong { "What should have happened. " } (sc.explanation.trim()) }
            p {
                strong { "What happened in this run" } " differs: " (lost) " of "
                (sc.checks.len()) " checks were lost; " em { "What went wrong" }
                " above says how, from this run's output and packets."
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::Diagnosis;
    use crate::report::testing::{check, mixed, run, scenario};
    use crate::report::view::testing::{packet, program};
    use crate::result::{Participant, Visibility};

    fn html_of(r: &RunResult) -> String {
        let mut out = Vec::new();
        write_html(r, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    const HOSTILE: &str = "<script>alert('owned')</script><img src=x onerror=alert(1)>";

    #[test]
    fn what_a_student_program_printed_is_text_never_markup() {
        let mut r = run(vec![scenario(
            "upper-basic",
            false,
            vec![check("uppercases", Outcome::Failed, 3)],
        )]);
        let sc = &mut r.scenarios[0];
        sc.programs.push(program("server", &[HOSTILE]));
        sc.checks[0].actual = HOSTILE.into();
        sc.checks[0].reason = Some(format!("printed {HOSTILE}"));
        sc.warnings.push(HOSTILE.into());
        r.submission = Some(format!("class/{HOSTILE}"));
        let html = html_of(&r);
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("&lt;script&gt;alert('owned')&lt;/script&gt;"));
        assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    }

    #[test]
    fn a_page_is_one_html5_document_with_nothing_to_fetch() {
        let html = html_of(&mixed());
        assert!(
            html.starts_with("<!DOCTYPE html><html lang=\"en\">"),
            "{html}"
        );
        assert!(html.ends_with("</html>"));
        assert_eq!(html.matches("<html").count(), 1);
        assert!(html.contains("default-src 'none'"));
        for fetch in ["src=", "<link", "url(", "@import", "http://", "https://"] {
            let allowed = html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count();
            let found = html.matches(fetch).count();
            let found = if fetch == "http://" {
                found - allowed
            } else {
                found
            };
            assert_eq!(found, 0, "{fetch} in {html}");
        }
    }

    /// report.md of `r`, to compare with the page.
    fn markdown_of(r: &RunResult) -> String {
        let mut out = Vec::new();
        crate::report::write_markdown(r, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_hidden_check_is_not_on_the_page_and_the_page_says_one_is_withheld() {
        let mut r = mixed();
        let c = &mut r.scenarios[0].checks[1];
        c.visibility = Visibility::AfterDueDate;
        c.title = "the secret title".into();
        c.expected = "the secret expected".into();
        c.reason = Some("the secret reason".into());
        c.actual = "the secret actual".into();
        c.evidence_packets = vec![7];
        c.cause = Some("ignores-port:tcp-upper-server".into());
        r.diagnoses.push(Diagnosis {
            id: "ignores-port:tcp-upper-server".into(),
            role: None,
            summary: "it ignores the port".into(),
            detail: None,
            checks: vec!["upper-basic: the secret title".into()],
        });
        let html = html_of(&r);
        // Neither its title, expectation, verdict nor points: the scenario shows its visible
        // check alone, and passes on it.
        for secret in ["secret", "0/3", "<strong>2/6</strong>", "1 check(s) lost"] {
            assert!(!html.contains(secret), "{secret} in {html}");
        }
        assert!(
            html.contains("<td class=\"num\">2/2 + 1 check not shown</td>"),
            "{html}"
        );
        assert!(
            html.contains("<strong>2/3</strong> (of the checks shown)"),
            "{html}"
        );
        assert!(html.contains("the checks shown passed; the others are not shown"));
        // The cause cost the hidden check alone: it is not on the page at all.
        for trace in ["it ignores the port", "a hidden check", "Diagnoses"] {
            assert!(!html.contains(trace), "{trace} in {html}");
        }
        // What is withheld is said, and when it is shown, as report.md says it.
        let sentence = crate::report::student::view(&r).withheld.sentence(true);
        assert!(
            sentence.contains("1 shown after the due date"),
            "{sentence}"
        );
        assert!(
            html.contains(&format!("<strong>Not shown:</strong> {sentence}")),
            "{html}"
        );
        assert!(markdown_of(&r).contains(&format!("**Not shown:** {sentence}")));
    }

    #[test]
    fn a_hidden_scenario_is_not_on_the_page_nor_its_points() {
        let mut r = mixed();
        r.scenarios[0].visibility = Visibility::AfterPublished;
        r.scenarios[0].question = "the secret question".into();
        let mut secret_packet = packet(1, "127.0.0.1:1", "127.0.0.1:2", "TCP");
        secret_packet.label = "secret label".into();
        r.scenarios[0].packets = vec![secret_packet];
        r.scenarios[0]
            .programs
            .push(program("server", &["secret output"]));
        let html = html_of(&r);
        for secret in [
            "upper-basic",
            "replies",
            "uppercases",
            "secret",
            "<svg",
            "2/5",
        ] {
            assert!(!html.contains(secret), "{secret} in {html}");
        }
        assert!(
            html.contains("<strong>0/1</strong> (of the checks shown)"),
            "{html}"
        );
        assert!(
            html.contains("2 more check(s) are graded but not shown here, in 1 scenario not shown"),
            "{html}"
        );
        assert!(
            html.contains("shown when the grades are published"),
            "{html}"
        );
    }

    #[test]
    fn a_harness_error_where_the_student_cannot_see_is_said_not_where() {
        let mut r = crate::report::testing::broken();
        r.scenarios[1].visibility = Visibility::Hidden;
        let html = html_of(&r);
        assert!(!html.contains("upper-wire"), "{html}");
        assert!(
            html.contains(&format!("<strong>{}</strong>", student::HIDDEN_ERROR)),
            "{html}"
        );
    }

    #[test]
    fn without_a_rubric_nothing_is_withheld() {
        let html = html_of(&mixed());
        for said in [
            "Not shown",
            "of the checks shown",
            "not shown here",
            "a hidden check",
        ] {
            assert!(!html.contains(said), "{said} in {html}");
        }
        assert!(html.contains("<strong>2/6</strong>"), "{html}");
        assert!(html.contains("uppercases went wrong"), "{html}");
    }

    #[test]
    fn a_scenario_with_packets_draws_its_ladder_and_links_the_packets_cited() {
        let mut r = mixed();
        let sc = &mut r.scenarios[0];
        sc.capture_frames = Some(1);
        sc.packets = vec![packet(1, "127.0.0.1:1", "127.0.0.1:2", "TCP")];
        sc.participants = vec![Participant {
            endpoint: "127.0.0.1:1".into(),
            name: "client".into(),
        }];
        sc.checks[0].evidence_packets = vec![1, 9];
        let html = html_of(&r);
        assert_eq!(html.matches("<svg").count(), 1);
        assert!(html.contains("1. p1"));
        assert!(
            html.contains("<a href=\"#upper-basic-packet-1\">1</a>, 9"),
            "{html}"
        );
        assert!(html.contains("<tr id=\"upper-basic-packet-1\">"));
    }

    #[test]
    fn an_aborted_run_says_why_and_gives_no_score() {
        let mut out = Vec::new();
        write_html_aborted(&AppError::Harness("no <namespace>".into()), &mut out).unwrap();
        let html = String::from_utf8(out).unwrap();
        assert!(html.contains("no &lt;namespace&gt;"), "{html}");
        assert!(html.contains("No score is given"));
    }
}
