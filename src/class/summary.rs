//! The class at a glance (pure): from every student's [`RunResult`], the students × labs table,
//! the distribution of scores, and the checks most students lost with the diagnosis most of
//! them got. `summary.md`, `summary.html`, `grades.csv` and the class `junit.xml` are all
//! rendered from one [`ClassSummary`], so they cannot disagree; `socklab merge` builds the same
//! value from the shards' per-student results, so a merged class reads like one run.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::check::Outcome;
use crate::result::{RunResult, Verdict};

/// One student's graded run.
#[derive(Debug, Clone)]
pub(crate) struct StudentRun {
    /// The student's id: the name of their directory.
    pub id: String,
    pub result: RunResult,
}

/// Width of a histogram bucket, in percent.
pub(crate) const BUCKET_PERCENT: u32 = 10;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub(crate) struct ClassSummary {
    /// The labs graded for at least one student, in catalog order.
    pub labs: Vec<LabColumn>,
    /// One row per student, by id.
    pub students: Vec<StudentRow>,
    /// Students per score band: `[0, 10)`, `[10, 20)`, ... `[90, 100]` percent of the class's
    /// maximum (the sum of the labs' maxima). Students whose grade has a harness error are not
    /// counted: their score is not a grade.
    pub histogram: Vec<Bucket>,
    /// Checks lost by at least one student, most students first (then by name).
    pub most_failed: Vec<FailedCheck>,
}

/// A lab of the class: its column in the table and the CSV.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct LabColumn {
    pub lab: String,
    /// The lab's points: the graded scenarios' maxima (the same for every student).
    pub max_points: u32,
    /// Students graded in it (who had programs for it).
    pub graded: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub(crate) struct StudentRow {
    pub id: String,
    /// Points over every lab of the class (a lab the student did not submit counts 0).
    pub points: u32,
    /// The class's maximum: every lab's points.
    pub max_points: u32,
    /// One cell per [`ClassSummary::labs`], in that order.
    pub labs: Vec<LabCell>,
    /// Scenarios whose verdict is a harness error: this grade must be rerun, not published.
    pub harness_errors: usize,
    /// Lost checks, graded ones only.
    pub lost: usize,
    /// The student's report, relative to the class output directory.
    pub report: String,
    /// The student's first diagnosis (the headline cause), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headline: Option<String>,
}

impl StudentRow {
    /// Points as a whole percent of the class's maximum (100 when the class has no points).
    pub(crate) fn percent(&self) -> u32 {
        self.points
            .saturating_mul(100)
            .checked_div(self.max_points)
            .unwrap_or(100)
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct LabCell {
    /// False when the student had no program for the lab: it was not graded, and counts 0.
    pub submitted: bool,
    pub points: u32,
    pub max_points: u32,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct Bucket {
    /// Lower bound, in percent (inclusive).
    pub from: u32,
    /// Upper bound, in percent (exclusive, except 100 for the last).
    pub to: u32,
    pub students: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct FailedCheck {
    pub lab: String,
    /// `<scenario id>: <check title>`, as the fault matrix and the diagnoses name checks.
    pub check: String,
    pub points: u32,
    /// Who lost it, by id.
    pub students: Vec<String>,
    /// Students graded on it (lost or not).
    pub of: usize,
    /// The diagnosis most of its losers got (its summary with the student's files in it is
    /// per student, so the cause's kind is said: `cannot-start`, ...), and how many got it;
    /// None when no two of them lost it for the same reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diagnosis: Option<CommonCause>,
    /// Who lost it for what kind of cause (`cannot-start`, `not-submitted`, `reason`: a
    /// failed check's own reason, ...), the largest group first.
    pub kinds: Vec<(String, Vec<String>)>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct CommonCause {
    /// The cause's kind, e.g. `cannot-start`, `ignores-port`, or `reason` when the students
    /// lost it with no diagnosed cause and this is the most common reason.
    pub kind: String,
    /// One student's words for it (the first, by id, of those who got it).
    pub example: String,
    pub students: usize,
}

/// Where a student's outputs go, relative to the class output directory.
pub(crate) fn student_dir(id: &str) -> String {
    format!("students/{id}")
}

impl ClassSummary {
    /// The summary of `runs` (any order; rows come out by id).
    pub(crate) fn of(runs: &[StudentRun]) -> ClassSummary {
        let mut runs: Vec<&StudentRun> = runs.iter().collect();
        runs.sort_by(|a, b| a.id.cmp(&b.id));

        // Labs in catalog order, then any other (a scenario of `--scenarios` may name none of
        // the catalog's labs only if validation let it, but keep it rather than drop points).
        let mut lab_max: BTreeMap<String, u32> = BTreeMap::new();
        let mut lab_graded: BTreeMap<String, usize> = BTreeMap::new();
        for r in &runs {
            for (lab, (_, max)) in lab_points(&r.result) {
                let m = lab_max.entry(lab.clone()).or_default();
                *m = (*m).max(max);
                *lab_graded.entry(lab).or_default() += 1;
            }
        }
        let mut labs: Vec<LabColumn> = Vec::new();
        let catalog: Vec<&str> = crate::roles::LABS.iter().map(|(n, _)| *n).collect();
        let mut names: Vec<&String> = lab_max.keys().collect();
        names.sort_by_key(|n| {
            (
                catalog.iter().position(|c| c == n).unwrap_or(usize::MAX),
                n.to_string(),
            )
        });
        for n in names {
            labs.push(LabColumn {
                lab: n.clone(),
                max_points: lab_max[n],
                graded: lab_graded[n],
            });
        }
        let class_max: u32 = labs.iter().map(|l| l.max_points).sum();

        let students: Vec<StudentRow> = runs
            .iter()
            .map(|r| {
                let mine = lab_points(&r.result);
                let cells: Vec<LabCell> = labs
                    .iter()
                    .map(|l| match mine.get(&l.lab) {
                        Some(&(points, max)) => LabCell {
                            submitted: true,
                            points,
                            max_points: max,
                        },
                        None => LabCell {
                            submitted: false,
                            points: 0,
                            max_points: l.max_points,
                        },
                    })
                    .collect();
                StudentRow {
                    id: r.id.clone(),
                    points: cells.iter().map(|c| c.points).sum(),
                    max_points: class_max,
                    labs: cells,
                    harness_errors: r
                        .result
                        .scenarios
                        .iter()
                        .filter(|s| s.verdict == Verdict::Error)
                        .count(),
                    lost: graded_checks(&r.result)
                        .filter(|(_, _, c)| c.outcome.lost())
                        .count(),
                    report: format!("{}/report.md", student_dir(&r.id)),
                    headline: headline(&r.result),
                }
            })
            .collect();

        let mut histogram: Vec<Bucket> = (0..100 / BUCKET_PERCENT)
            .map(|i| Bucket {
                from: i * BUCKET_PERCENT,
                to: (i + 1) * BUCKET_PERCENT,
                students: 0,
            })
            .collect();
        for s in students.iter().filter(|s| s.harness_errors == 0) {
            let i = ((s.percent() / BUCKET_PERCENT) as usize).min(histogram.len() - 1);
            histogram[i].students += 1;
        }

        ClassSummary {
            most_failed: most_failed(&runs),
            labs,
            students,
            histogram,
        }
    }

    /// The lost checks the class pages list: those lost by more than one student (in a class
    /// of more than three, a check one student lost says more about that student, whose
    /// report has it, than about the lab), most students first.
    pub(crate) fn shared_failures(&self) -> Vec<&FailedCheck> {
        let n = self.students.len();
        self.most_failed
            .iter()
            .filter(|f| f.students.len() > 1 || n <= 3)
            .collect()
    }

    /// Whether any student's grade has a harness error (the class then exits 3).
    pub(crate) fn harness_broke(&self) -> bool {
        self.students.iter().any(|s| s.harness_errors > 0)
    }
}

/// What the student should read first: their first diagnosis (a role not submitted is in
/// the table already), else the first graded check they lost, with its reason.
pub(crate) fn headline(result: &RunResult) -> Option<String> {
    if let Some(d) = result
        .diagnoses
        .iter()
        .find(|d| !d.id.starts_with("not-submitted:"))
    {
        return Some(d.summary.clone());
    }
    graded_checks(result)
        .find(|(_, _, c)| c.outcome.lost())
        .map(|(_, scenario, c)| match &c.reason {
            Some(why) => format!("{scenario}: {}: {why}", c.title),
            None => format!("{scenario}: {}", c.title),
        })
}

/// Each lab's (points, max) in a run: the graded scenarios only (those that weigh).
fn lab_points(result: &RunResult) -> BTreeMap<String, (u32, u32)> {
    let mut out: BTreeMap<String, (u32, u32)> = BTreeMap::new();
    for s in result.scenarios.iter().filter(|s| s.weighs()) {
        let e = out.entry(s.lab.clone()).or_default();
        e.0 = e.0.saturating_add(s.points);
        e.1 = e.1.saturating_add(s.max_points);
    }
    out
}

/// The checks of the scenarios that weigh, with their lab and scenario id.
fn graded_checks(
    result: &RunResult,
) -> impl Iterator<Item = (&str, &str, &crate::check::CheckResult)> {
    result
        .scenarios
        .iter()
        .filter(|s| s.weighs())
        .flat_map(|s| {
            s.checks
                .iter()
                .filter(|c| c.outcome.counts())
                .map(move |c| (s.lab.as_str(), s.id.as_str(), c))
        })
}

fn most_failed(runs: &[&StudentRun]) -> Vec<FailedCheck> {
    struct Acc {
        lab: String,
        points: u32,
        of: usize,
        losers: Vec<String>,
        /// Cause → (count, kind, first example). A diagnosed cause is its kind (its words
        /// name each student's own files); a plain reason is its words.
        causes: BTreeMap<String, (usize, String, String)>,
        /// Kind → who.
        kinds: BTreeMap<String, Vec<String>>,
    }
    let mut acc: BTreeMap<String, Acc> = BTreeMap::new();
    for r in runs {
        for (lab, scenario, c) in graded_checks(&r.result) {
            let name = format!("{scenario}: {}", c.title);
            let a = acc.entry(name).or_insert_with(|| Acc {
                lab: lab.to_string(),
                points: c.points,
                of: 0,
                losers: Vec::new(),
                causes: BTreeMap::new(),
                kinds: BTreeMap::new(),
            });
            a.of += 1;
            if !c.outcome.lost() {
                continue;
            }
            a.losers.push(r.id.clone());
            let (kind, words) = match &c.cause {
                Some(id) => {
                    let kind = id.split(':').next().unwrap_or(id).to_string();
                    let words = r
                        .result
                        .diagnoses
                        .iter()
                        .find(|d| &d.id == id)
                        .map_or_else(|| id.clone(), |d| d.summary.clone());
                    (kind, words)
                }
                None if c.outcome == Outcome::Failed => (
                    "reason".to_string(),
                    c.reason.clone().unwrap_or_else(|| c.actual.clone()),
                ),
                None => (c.outcome.label().to_string(), c.outcome.label().to_string()),
            };
            let a = acc
                .get_mut(&format!("{scenario}: {}", c.title))
                .expect("inserted above");
            a.kinds.entry(kind.clone()).or_default().push(r.id.clone());
            let key = if c.cause.is_some() {
                kind.clone()
            } else {
                format!("{kind}: {words}")
            };
            let e = a.causes.entry(key).or_insert((0, kind, words));
            e.0 += 1;
        }
    }
    let mut out: Vec<FailedCheck> = acc
        .into_iter()
        .filter(|(_, a)| !a.losers.is_empty())
        .map(|(check, a)| FailedCheck {
            // A cause is "most common" only when it is shared (or there is one loser): when
            // every loser lost it for a reason of their own, none is picked.
            diagnosis: a
                .causes
                .iter()
                .max_by(|x, y| x.1 .0.cmp(&y.1 .0).then_with(|| y.0.cmp(x.0)))
                .filter(|(_, (n, _, _))| *n > 1 || a.losers.len() == 1)
                .map(|(_, (n, kind, example))| CommonCause {
                    kind: kind.clone(),
                    example: example.clone(),
                    students: *n,
                }),
            kinds: {
                let mut kinds: Vec<(String, Vec<String>)> = a.kinds.into_iter().collect();
                kinds.sort_by(|x, y| y.1.len().cmp(&x.1.len()).then_with(|| x.0.cmp(&y.0)));
                kinds
            },
            lab: a.lab,
            check,
            points: a.points,
            of: a.of,
            students: a.losers,
        })
        .collect();
    out.sort_by(|a, b| {
        b.students
            .len()
            .cmp(&a.students.len())
            .then_with(|| a.check.cmp(&b.check))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testing::{check, run, scenario};

    fn with_lab(mut s: crate::result::ScenarioResult, lab: &str) -> crate::result::ScenarioResult {
        s.lab = lab.into();
        s
    }

    #[test]
    fn a_lab_not_submitted_counts_zero_of_its_points_and_the_most_lost_check_comes_first() {
        let good = run(vec![
            with_lab(
                scenario("a", false, vec![check("x", Outcome::Passed, 3)]),
                "upper",
            ),
            with_lab(
                scenario("w", false, vec![check("y", Outcome::Passed, 2)]),
                "web",
            ),
        ]);
        let upper_only = run(vec![with_lab(
            scenario(
                "a",
                false,
                vec![
                    check("x", Outcome::Failed, 3),
                    check("z", Outcome::NotRun, 0),
                ],
            ),
            "upper",
        )]);
        let s = ClassSummary::of(&[
            StudentRun {
                id: "bob".into(),
                result: upper_only,
            },
            StudentRun {
                id: "alice".into(),
                result: good,
            },
        ]);
        let labs: Vec<(&str, u32, usize)> = s
            .labs
            .iter()
            .map(|l| (l.lab.as_str(), l.max_points, l.graded))
            .collect();
        assert_eq!(labs, [("upper", 3, 2), ("web", 2, 1)]);
        assert_eq!(s.students[0].id, "alice");
        assert_eq!((s.students[0].points, s.students[0].max_points), (5, 5));
        let bob = &s.students[1];
        assert_eq!((bob.points, bob.max_points, bob.lost), (0, 5, 2));
        assert!(!bob.labs[1].submitted);
        assert_eq!(bob.report, "students/bob/report.md");
        assert_eq!(s.histogram[0].students, 1);
        assert_eq!(s.histogram[9].students, 1);
        assert_eq!(s.histogram.iter().map(|b| b.students).sum::<usize>(), 2);
        let names: Vec<&str> = s.most_failed.iter().map(|f| f.check.as_str()).collect();
        assert_eq!(names, ["a: x", "a: z"]);
        let x = &s.most_failed[0];
        assert_eq!((x.students.clone(), x.of), (vec!["bob".to_string()], 2));
        assert_eq!(
            x.diagnosis.as_ref().map(|d| d.kind.as_str()),
            Some("reason")
        );
        assert_eq!(
            s.most_failed[1].diagnosis.as_ref().map(|d| d.kind.as_str()),
            Some("not run")
        );
    }

    #[test]
    fn no_cause_is_called_most_common_when_each_loser_had_their_own() {
        let lost = |reason: &str| {
            let mut c = check("x", Outcome::Failed, 3);
            c.reason = Some(reason.into());
            run(vec![scenario("a", false, vec![c])])
        };
        let runs = [
            ("ann", "printed a"),
            ("ben", "printed b"),
            ("cat", "printed a"),
        ];
        let class = |ids: &[(&str, &str)]| {
            ClassSummary::of(
                &ids.iter()
                    .map(|(id, why)| StudentRun {
                        id: id.to_string(),
                        result: lost(why),
                    })
                    .collect::<Vec<_>>(),
            )
        };
        let two = class(&runs[..2]);
        assert!(two.most_failed[0].diagnosis.is_none());
        assert_eq!(
            two.most_failed[0].kinds,
            [(
                "reason".to_string(),
                vec!["ann".to_string(), "ben".to_string()]
            )]
        );
        assert_eq!(
            crate::class::outputs::kinds_line(&two.most_failed[0].kinds),
            "failed the check itself (ann, ben)"
        );
        let shared = class(&runs).most_failed[0].diagnosis.clone().unwrap();
        assert_eq!((shared.students, shared.example.as_str()), (2, "printed a"));
    }

    #[test]
    fn a_harness_error_keeps_the_student_out_of_the_distribution() {
        let mut r = run(vec![scenario(
            "a",
            false,
            vec![check("x", Outcome::HarnessError, 3)],
        )]);
        r.scenarios[0].verdict = Verdict::Error;
        let s = ClassSummary::of(&[StudentRun {
            id: "carol".into(),
            result: r,
        }]);
        assert!(s.harness_broke());
        assert_eq!(s.histogram.iter().map(|b| b.students).sum::<usize>(), 0);
    }
}
