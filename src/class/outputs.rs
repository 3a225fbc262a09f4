//! The class's files, each written whole or not at all: `summary.md`, `summary.html`,
//! `grades.csv` and `junit.xml` (and the students' own directories, renamed into place once complete).
//!
//! Every class file is a pure function of the students' results ([`ClassSummary`]), so a class
//! graded in shards and merged reads exactly as one graded in one go. None of them holds a
//! time or a duration (junit.xml aside, whose `time` attributes CI shows): grading the same
//! class twice gives the same summary.md and grades.csv.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::summary::{ClassSummary, StudentRun};
use crate::error::AppError;

/// Writes `bytes` to `path` whole: into a hidden file beside it, then renamed over it, so a
/// reader (or a Ctrl-C) never meets half a file.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), AppError> {
    let fail = |e: io::Error| AppError::Harness(format!("cannot write {}: {e}", path.display()));
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".socklab-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(fail)?;
    tmp.write_all(bytes).map_err(fail)?;
    tmp.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}

/// The class files of `runs` in `out`.
pub(crate) fn write_class(
    out: &Path,
    runs: &[StudentRun],
    summary: &ClassSummary,
) -> Result<Vec<PathBuf>, AppError> {
    let mut written = Vec::new();
    let mut file = |name: &str, render: &dyn Fn(&mut Vec<u8>) -> io::Result<()>| {
        let path = out.join(name);
        let mut buf = Vec::new();
        render(&mut buf)
            .map_err(|e| AppError::Harness(format!("cannot render {}: {e}", path.display())))?;
        write_atomic(&path, &buf)?;
        written.push(path);
        Ok::<(), AppError>(())
    };
    file("summary.md", &|buf| write_summary_md(summary, buf))?;
    file("summary.html", &|buf| {
        crate::report::write_summary_html(summary, buf)
    })?;
    file("grades.csv", &|buf| write_grades_csv(summary, buf))?;
    file("junit.xml", &|buf| {
        crate::report::write_class_junit(runs, buf)
    })?;
    Ok(written)
}

/// `grades.csv`, for a gradebook import (Canvas, Moodle): `student,total,<lab>...`, one row
/// per student, the points earned (a lab without a program counts 0). The maxima are in
/// summary.md: a gradebook takes them from its assignment, not from the file.
pub(crate) fn write_grades_csv(summary: &ClassSummary, out: &mut dyn Write) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let mut header = vec!["student".to_string(), "total".to_string()];
    header.extend(summary.labs.iter().map(|l| l.lab.clone()));
    w.write_record(&header)?;
    for s in &summary.students {
        let mut row = vec![s.id.clone(), s.points.to_string()];
        row.extend(s.labs.iter().map(|c| c.points.to_string()));
        w.write_record(&row)?;
    }
    w.flush()
}

/// Who lost a check for what kind of cause, in words: `` `cannot-start` (eli), failed the
/// check itself (bao, kai) ``.
pub(crate) fn kinds_line(kinds: &[(String, Vec<String>)]) -> String {
    kinds
        .iter()
        .map(|(kind, who)| {
            let what = match kind.as_str() {
                "reason" => "failed the check itself".to_string(),
                k => format!("`{k}`"),
            };
            format!("{what} ({})", who.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A table cell: no pipe or line break of a student's text may break the table.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// How many failed checks summary.md lists.
const MOST_FAILED_SHOWN: usize = 15;

/// `summary.md`: the students × labs table, the distribution and the checks most students lost.
pub(crate) fn write_summary_md(summary: &ClassSummary, out: &mut dyn Write) -> io::Result<()> {
    let n = summary.students.len();
    let class_max: u32 = summary.labs.iter().map(|l| l.max_points).sum();
    writeln!(out, "# Class grades\n")?;
    let labs: Vec<String> = summary
        .labs
        .iter()
        .map(|l| {
            format!(
                "{} ({} points, {} of {n} students submitted)",
                l.lab, l.max_points, l.graded
            )
        })
        .collect();
    writeln!(
        out,
        "{n} student{}; labs: {}. Totals are out of {class_max} points; a lab without any \
         program of the student's counts 0 (—).\n",
        if n == 1 { "" } else { "s" },
        if labs.is_empty() {
            "none".to_string()
        } else {
            labs.join(", ")
        }
    )?;
    let broken: Vec<&str> = summary
        .students
        .iter()
        .filter(|s| s.harness_errors > 0)
        .map(|s| s.id.as_str())
        .collect();
    if !broken.is_empty() {
        writeln!(
            out,
            "**Harness errors**: socklab itself failed while grading {} (not the students' \
             fault). Their grades below are incomplete: rerun them (`socklab grade DIR \
             --student ID`) before publishing.\n",
            broken.join(", ")
        )?;
    }

    write!(out, "| Student |")?;
    for l in &summary.labs {
        write!(out, " {} /{} |", l.lab, l.max_points)?;
    }
    writeln!(out, " Total /{class_max} | % | Lost checks | Main cause |")?;
    write!(out, "|---|")?;
    for _ in &summary.labs {
        write!(out, "---:|")?;
    }
    writeln!(out, "---:|---:|---:|---|")?;
    for s in &summary.students {
        write!(out, "| [{}]({}) |", cell(&s.id), s.report)?;
        for c in &s.labs {
            if c.submitted {
                write!(out, " {} |", c.points)?;
            } else {
                write!(out, " — |")?;
            }
        }
        let percent = s.percent();
        let cause = if s.harness_errors > 0 {
            format!("⚠ harness error in {} scenario(s): rerun", s.harness_errors)
        } else {
            s.headline.as_deref().map(cell).unwrap_or_default()
        };
        writeln!(out, " {} | {percent}% | {} | {cause} |", s.points, s.lost)?;
    }

    writeln!(out, "\n## Score distribution\n")?;
    let counted: usize = summary.histogram.iter().map(|b| b.students).sum();
    if counted < n {
        writeln!(
            out,
            "{} student(s) with a harness error are left out.\n",
            n - counted
        )?;
    }
    writeln!(out, "| Score | Students | |\n|---|---:|---|")?;
    for (i, b) in summary.histogram.iter().enumerate() {
        let band = if i + 1 == summary.histogram.len() {
            format!("{}–{}%", b.from, b.to)
        } else {
            format!("{}–{}%", b.from, b.to - 1)
        };
        writeln!(
            out,
            "| {band} | {} | {} |",
            b.students,
            "█".repeat(b.students)
        )?;
    }

    writeln!(out, "\n## Checks most students lost\n")?;
    let shown: Vec<_> = summary
        .shared_failures()
        .into_iter()
        .take(MOST_FAILED_SHOWN)
        .collect();
    if summary.most_failed.is_empty() {
        writeln!(out, "No student lost a graded check.")?;
    } else if shown.is_empty() {
        writeln!(out, "No check was lost by more than one student.")?;
    }
    for (i, f) in shown.iter().enumerate() {
        let who = f.students.join(", ");
        writeln!(
            out,
            "{}. **{}** ({}, {} point{}): lost by {} of {} ({who}).",
            i + 1,
            cell(&f.check),
            f.lab,
            f.points,
            if f.points == 1 { "" } else { "s" },
            f.students.len(),
            f.of
        )?;
        if f.diagnosis.is_none() && f.students.len() > 1 {
            writeln!(out, "   no shared cause: {}", kinds_line(&f.kinds))?;
        }
        if let Some(d) = &f.diagnosis {
            let kind = match d.kind.as_str() {
                "reason" => "the most common reason".to_string(),
                k => format!("the most common cause, `{k}`"),
            };
            writeln!(
                out,
                "   {kind} ({} of the {}): {}",
                d.students,
                f.students.len(),
                cell(&d.example)
            )?;
        }
    }
    let rest = summary.most_failed.len() - shown.len();
    if rest > 0 {
        writeln!(
            out,
            "\n{rest} other lost check(s) are in the students' reports and junit.xml."
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Outcome;
    use crate::report::testing::{check, run, scenario};

    fn class() -> Vec<StudentRun> {
        let mut web = scenario("w", false, vec![check("y | z", Outcome::Failed, 2)]);
        web.lab = "web".into();
        vec![
            StudentRun {
                id: "zoe".into(),
                result: run(vec![scenario(
                    "a",
                    false,
                    vec![check("x", Outcome::Passed, 3)],
                )]),
            },
            StudentRun {
                id: "al".into(),
                result: run(vec![
                    scenario("a", false, vec![check("x", Outcome::Failed, 3)]),
                    web,
                ]),
            },
        ]
    }

    #[test]
    fn grades_csv_has_a_column_per_lab_and_a_row_per_student_by_id() {
        let mut out = Vec::new();
        write_grades_csv(&ClassSummary::of(&class()), &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "student,total,upper,web\nal,0,0,0\nzoe,3,3,0\n"
        );
    }

    #[test]
    fn summary_md_links_every_student_marks_labs_not_submitted_and_escapes_pipes() {
        let mut out = Vec::new();
        write_summary_md(&ClassSummary::of(&class()), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("| [al](students/al/report.md) | 0 | 0 | 0 | 0% | 2 |"),
            "{text}"
        );
        assert!(
            text.contains("| [zoe](students/zoe/report.md) | 3 | — | 3 | 60% | 0 |"),
            "{text}"
        );
        assert!(
            text.contains("**w: y \\| z**") || text.contains("**w: y | z**"),
            "{text}"
        );
        assert!(text.contains("lost by 1 of 2 (al)"), "{text}");
        assert!(text.contains("| 0–9% | 1 | █ |"), "{text}");
    }

    #[test]
    fn a_file_is_replaced_and_no_temporary_file_is_left() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("grades.csv");
        write_atomic(&path, b"old").unwrap();
        write_atomic(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary file is left behind");
    }
}
