//! `summary.html`: the class at a glance, for the instructor, from the [`ClassSummary`] that
//! summary.md and grades.csv come from: the students × labs table (each student linked to
//! `students/<id>/report.html`), the score distribution as an SVG bar chart, and the checks
//! most students lost with the diagnosis most of them got.
//!
//! It holds nothing that differs between two gradings of the same class (no date, no
//! duration): two gradings with the same `--seed` (the ports a reason may name) give the same
//! file. It is the instructor's page, so hidden checks are
//! named in it; the students' own pages leave them out.

use maud::{html, Markup};

use super::page;
use crate::class::summary::{student_dir, Bucket, ClassSummary, FailedCheck, StudentRow};

/// Rows of the most-lost checks shown; the rest are counted.
const MOST_FAILED_ROWS: usize = 30;
/// Students named per lost check; the table above has them all.
const STUDENTS_NAMED: usize = 12;

// `socklab grade` writes the class's page with it (until that command lands, only the tests).
pub(crate) fn write_summary_html(
    summary: &ClassSummary,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let broke = summary
        .students
        .iter()
        .filter(|s| s.harness_errors > 0)
        .count();
    let body = html! {
        h1 { "socklab class summary" }
        p .totals {
            (summary.students.len()) " students · "
            @if summary.labs.is_empty() { "no lab graded" }
            @for (i, l) in summary.labs.iter().enumerate() {
                @if i > 0 { ", " }
                (l.lab) " (" (l.max_points) " points, " (l.graded) " graded)"
            }
        }
        @if broke > 0 {
            p .error {
                strong { (broke) " student(s) with a harness error" }
                " (marked ⚠ below): socklab broke while grading them, not their programs. \
                 Their grades are not final: grade them again."
            }
        }
        h2 { "Students" }
        (students(summary))
        h2 { "Score distribution" }
        p .meta {
            "Students per band of the class's maximum; students with a harness error are left out."
        }
        div .chart { (histogram(&summary.histogram)) }
        h2 { "Checks most students lost" }
        (most_failed(&summary.shared_failures(), summary.most_failed.len()))
    };
    page::write(page::page("socklab class summary", body), out)
}

/// `students/<id>/report.html`, the id percent-encoded: a directory name may hold `#`, `?`,
/// `%` or spaces, which would otherwise end or change the link.
pub(crate) fn report_link(id: &str) -> String {
    const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    let dir = student_dir(&percent_encoding::utf8_percent_encode(id, SEGMENT).to_string());
    format!("{dir}/report.html")
}

fn students(summary: &ClassSummary) -> Markup {
    html! {
        table {
            tr {
                th { "Student" }
                @for l in &summary.labs { th .num { (l.lab) } }
                th .num { "Total" }
                th .num { "Lost checks" }
                th { "First diagnosis" }
            }
            @for s in &summary.students {
                tr class=[(s.harness_errors > 0).then_some("broke")] {
                    td { a href=(report_link(&s.id)) { (s.id) } }
                    @for c in &s.labs {
                        td .num {
                            @if c.submitted {
                                (c.points) "/" (c.max_points)
                            } @else {
                                // The legend under the table says what `—` means; a word
                                // in every such cell left the causes no room.
                                span .skip title="no program for this lab: not graded, counts 0" {
                                    "—"
                                }
                            }
                        }
                    }
                    td .num { strong { (s.points) "/" (s.max_points) } (harness_mark(s)) }
                    td .num { (s.lost) }
                    td { (s.headline.as_deref().unwrap_or("")) }
                }
            }
        }
        p .meta { "— not submitted: the student had no program for the lab (0 points). ⚠: a \
            harness error, the grade must be redone." }
    }
}

fn harness_mark(s: &StudentRow) -> Markup {
    html! {
        @if s.harness_errors > 0 {
            br;
            span .error { "⚠ " (s.harness_errors) " harness error(s): grade again" }
        }
    }
}

/// Height of the tallest bar.
const CHART_H: u32 = 160;
const BAR_W: u32 = 52;
const GAP: u32 = 8;

/// One bar per band, its count above it and its range below.
pub(crate) fn histogram(buckets: &[Bucket]) -> Markup {
    let most = buckets.iter().map(|b| b.students).max().unwrap_or(0).max(1);
    let left = 30;
    let top = 24;
    let width = left + buckets.len() as u32 * (BAR_W + GAP) + GAP;
    let height = top + CHART_H + 40;
    let base = top + CHART_H;
    html! {
        svg xmlns="http://www.w3.org/2000/svg" role="img"
            aria-label="number of students per score band"
            width=(width) height=(height) viewBox={ "0 0 " (width) " " (height) } {
            line x1=(left) y1=(base) x2=(width) y2=(base) stroke="#57606a" {}
            @for (i, b) in buckets.iter().enumerate() {
                @let h = (b.students as u32 * CHART_H) / most as u32;
                @let x = left + GAP + i as u32 * (BAR_W + GAP);
                @let band = if b.to >= 100 { format!("{}–100%", b.from) } else { format!("{}–{}%", b.from, b.to) };
                g {
                    title { (band) ": " (b.students) " student(s)" }
                    rect class="bar" x=(x) y=(base - h) width=(BAR_W) height=(h) fill="#0969da" {}
                    text x=(x + BAR_W / 2) y=(base - h - 6) text-anchor="middle" font-size="13" {
                        (b.students)
                    }
                    text x=(x + BAR_W / 2) y=(base + 16) text-anchor="middle" font-size="11" {
                        (band)
                    }
                }
            }
            text x=(left + GAP) y=(height - 6) font-size="11" { "score, percent of the class maximum" }
        }
    }
}

/// `checks`: the lost checks to list (`ClassSummary::shared_failures`); `all`: how many checks
/// were lost in all.
fn most_failed(checks: &[&FailedCheck], all: usize) -> Markup {
    if all == 0 {
        return html! { p { "No student lost a graded check." } };
    }
    if checks.is_empty() {
        return html! { p { "No check was lost by more than one student; each student's report has theirs." } };
    }
    html! {
        table {
            tr {
                th { "Check" } th { "Lab" } th .num { "Points" } th .num { "Lost by" }
                th { "Most common diagnosis" } th { "Students" }
            }
            @for f in checks.iter().take(MOST_FAILED_ROWS) {
                tr {
                    td { (f.check) }
                    td { (f.lab) }
                    td .num { (f.points) }
                    td .num { (f.students.len()) " of " (f.of) }
                    td {
                        @if let Some(d) = &f.diagnosis {
                            code { (d.kind) } " (" (d.students) "): " (d.example)
                        } @else if f.students.len() > 1 {
                            "no shared cause: "
                            (crate::class::outputs::kinds_line(&f.kinds).replace('`', ""))
                        }
                    }
                    td {
                        @for (i, id) in f.students.iter().take(STUDENTS_NAMED).enumerate() {
                            @if i > 0 { ", " }
                            a href=(report_link(id)) { (id) }
                        }
                        @if f.students.len() > STUDENTS_NAMED {
                            " and " (f.students.len() - STUDENTS_NAMED) " more"
                        }
                    }
                }
            }
        }
        @if checks.len() > MOST_FAILED_ROWS {
            p .meta {
                "… and " (checks.len() - MOST_FAILED_ROWS) " more checks, each lost by fewer students."
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Outcome;
    use crate::class::summary::StudentRun;
    use crate::report::testing::{check, run, scenario};
    use crate::result::Verdict;

    fn class() -> ClassSummary {
        let student = |id: &str, outcome: Outcome| StudentRun {
            id: id.into(),
            result: run(vec![scenario(
                "upper-basic",
                false,
                vec![
                    check("replies", Outcome::Passed, 2),
                    check("uppercases", outcome, 3),
                ],
            )]),
        };
        let mut broken = student("carol", Outcome::HarnessError);
        broken.result.scenarios[0].verdict = Verdict::Error;
        ClassSummary::of(&[
            student("alice", Outcome::Passed),
            student("bob <script>alert(1)</script>", Outcome::Failed),
            student("dave #1?x=%", Outcome::Failed),
            broken,
        ])
    }

    fn html_of(s: &ClassSummary) -> String {
        let mut out = Vec::new();
        write_summary_html(s, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn every_student_links_to_their_report_the_id_encoded_and_escaped() {
        let html = html_of(&class());
        assert!(html.contains("<a href=\"students/alice/report.html\">alice</a>"));
        assert!(
            html.contains(
                "<a href=\"students/bob%20%3Cscript%3Ealert%281%29%3C%2Fscript%3E/report.html\">\
             bob &lt;script&gt;alert(1)&lt;/script&gt;</a>"
            ),
            "{html}"
        );
        assert!(
            html.contains("href=\"students/dave%20%231%3Fx%3D%25/report.html\""),
            "{html}"
        );
        assert!(!html.contains("<script"));
        // Each student once in the table, and the losers of "uppercases" once more.
        assert_eq!(html.matches("students/alice/report.html").count(), 1);
        assert_eq!(
            html.matches("students/dave%20%231%3Fx%3D%25/report.html")
                .count(),
            2
        );
    }

    #[test]
    fn the_distribution_has_one_bar_per_band_as_tall_as_its_students() {
        let s = class();
        let svg = histogram(&s.histogram).into_string();
        assert_eq!(svg.matches("class=\"bar\"").count(), s.histogram.len());
        // alice has 100%, bob and dave 40%; carol's harness error keeps her out.
        let heights: Vec<u32> = svg
            .split("class=\"bar\"")
            .skip(1)
            .map(|bar| {
                let h = bar.split("height=\"").nth(1).unwrap();
                h[..h.find('"').unwrap()].parse().unwrap()
            })
            .collect();
        let mut want = vec![0; 10];
        want[4] = CHART_H;
        want[9] = CHART_H / 2;
        assert_eq!(heights, want);
    }

    #[test]
    fn a_harness_error_and_a_lab_not_submitted_are_marked() {
        let mut s = class();
        s.students[0].labs[0].submitted = false;
        let html = html_of(&s);
        assert!(html.contains("1 student(s) with a harness error"));
        assert!(html.contains("⚠ 1 harness error(s): grade again"));
        assert!(html.contains("<tr class=\"broke\">"));
        assert!(html.contains(">—</span>"));
        // The check most students lost, with its most common diagnosis.
        assert!(html.contains("<td>upper-basic: uppercases</td>"), "{html}");
        assert!(html.contains("<td class=\"num\">2 of 3</td>"), "{html}");
    }

    #[test]
    fn two_renderings_of_one_class_are_the_same_file() {
        assert_eq!(html_of(&class()), html_of(&class()));
    }
}
