//! The fixture fault matrix: every submission under `fixtures/submissions/` is graded through
//! the CLI with the lab(s) its README names (`lab: upper`), and the checks it loses must be
//! exactly those listed in its `expected-failures.txt`: no collateral failure, no fault that goes
//! unnoticed. The rule behind the lists is in `docs/scenarios.md` ("one fault, its own checks").
//!
//! A check is named `<scenario id>: <check title>`, and a check of an advisory scenario (beyond
//! the handout, 0 points) `[advisory] <scenario id>: <check title>`, so that a list says which
//! of its losses cost points: a graded loss listed as advisory, or the other way round, is a
//! difference like any other. It is lost when its `outcome` is `failed`, `not_run` or
//! `not_submitted`; for results without `outcome`, when `passed` is false and the check was not
//! left ungraded.
//!
//! Fixtures are graded a few at a time ([`WORKERS`]): one `socklab run` already runs its scenarios
//! in parallel. `SOCKLAB_FIXTURES=a,b` limits the test to the named fixtures (for development).
//! Nothing here depends on wall-clock time: the verdicts are compared, never durations.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Mutex;

use serde_json::Value;

mod common;

use common::{root, run_into};

/// How many fixtures are graded at once.
const WORKERS: usize = 2;

/// One fixture: its directory, its labs and the checks it must lose.
#[derive(Debug)]
struct Fixture {
    name: String,
    dir: PathBuf,
    labs: Vec<String>,
    expected: BTreeSet<String>,
}

/// Reads `fixtures/submissions/*`; panics on a fixture without its lab or its list.
fn fixtures() -> Vec<Fixture> {
    let base = root().join("fixtures/submissions");
    let only: Option<BTreeSet<String>> = std::env::var("SOCKLAB_FIXTURES")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .map(|v| v.split(',').map(|s| s.trim().to_string()).collect());
    let mut out = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&base)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    entries.sort();
    for dir in entries {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        if only.as_ref().is_some_and(|o| !o.contains(&name)) {
            continue;
        }
        let readme = std::fs::read_to_string(dir.join("README.md"))
            .unwrap_or_else(|e| panic!("fixture {name}: no README.md ({e})"));
        // A hostile fixture whose report varies with the machine's speed by its nature (an
        // endless transfer) says `matrix: no` and is tested in tests/hostile.rs instead.
        if readme.lines().any(|l| l.trim().starts_with("matrix: no")) {
            continue;
        }
        let labs = labs_of(&readme);
        assert!(
            !labs.is_empty(),
            "fixture {name}: its README.md names no lab (a line `lab: upper`)"
        );
        let list = dir.join("expected-failures.txt");
        let text = std::fs::read_to_string(&list)
            .unwrap_or_else(|e| panic!("fixture {name}: no expected-failures.txt ({e})"));
        let expected = parse_expected(&name, &text);
        out.push(Fixture {
            name,
            dir,
            labs,
            expected,
        });
    }
    if let Some(only) = &only {
        let found: BTreeSet<String> = out.iter().map(|f| f.name.clone()).collect();
        let missing: Vec<_> = only.difference(&found).collect();
        assert!(
            missing.is_empty(),
            "SOCKLAB_FIXTURES names no fixture {missing:?}"
        );
    }
    out
}

/// The labs named by `lab: NAME` lines (several lines, or `lab: a, b`, for several labs).
fn labs_of(readme: &str) -> Vec<String> {
    readme
        .lines()
        .filter_map(|l| l.trim().strip_prefix("lab:"))
        .flat_map(|rest| rest.split(','))
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// The lines of an `expected-failures.txt`: `#` comments and blank lines skipped; each line is
/// `<scenario id>: <check title>`, sorted and unique, so that a review sees a clean diff.
fn parse_expected(name: &str, text: &str) -> BTreeSet<String> {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .collect();
    for l in &lines {
        let l = l.strip_prefix(ADVISORY).unwrap_or(l);
        assert!(
            l.split_once(": ")
                .is_some_and(|(id, t)| !id.contains(' ') && !t.is_empty()),
            "fixture {name}: `{l}` is not `<scenario id>: <check title>`"
        );
    }
    let mut sorted = lines.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(
        lines, sorted,
        "fixture {name}: expected-failures.txt must be sorted, without duplicates"
    );
    lines.into_iter().map(String::from).collect()
}

/// Whether a check result counts as lost (see the module docs).
fn is_lost(check: &Value) -> bool {
    match check["outcome"].as_str() {
        Some(o) => matches!(o, "failed" | "not_run" | "not_submitted"),
        None => check["passed"] == false && check["ungraded"] != true,
    }
}

/// The mark of an advisory scenario's check in `expected-failures.txt`.
const ADVISORY: &str = "[advisory] ";

/// Every check of a run: `<scenario id>: <title>` (after [`ADVISORY`] for an advisory
/// scenario's) → (lost, what the report says about it).
fn verdicts(results: &Value) -> BTreeMap<String, (bool, String)> {
    let mut out = BTreeMap::new();
    for s in results["scenarios"].as_array().unwrap() {
        let id = s["id"].as_str().unwrap();
        let mark = if s["advisory"] == true { ADVISORY } else { "" };
        for c in s["checks"].as_array().unwrap() {
            let key = format!("{mark}{id}: {}", c["title"].as_str().unwrap());
            let why = c["reason"]
                .as_str()
                .or(c["actual"].as_str())
                .unwrap_or("")
                .to_string();
            let before = out.insert(key.clone(), (is_lost(c), why));
            assert!(
                before.is_none(),
                "two checks are named `{key}`: titles must be unique within a scenario"
            );
        }
    }
    out
}

/// Grades one fixture: its reports' digest (for the golden files), and `Err` with a readable
/// diff when it loses other checks than its list says.
fn grade(f: &Fixture) -> (String, Result<(), String>) {
    let mut all = BTreeMap::new();
    let mut outputs = String::new();
    let mut digest = String::new();
    for lab in &f.labs {
        let report = tempfile::tempdir().unwrap();
        let sub = f.dir.display().to_string();
        let run = run_into(report.path(), &["--lab", lab, "--submission", &sub]);
        outputs.push_str(&run.stdout);
        digest.push_str(&common::report_digest(&run.report));
        all.extend(verdicts(&run.results));
    }
    (digest, compare(f, &all, &outputs))
}

/// The fixture's lost checks against its list.
fn compare(
    f: &Fixture,
    all: &BTreeMap<String, (bool, String)>,
    outputs: &str,
) -> Result<(), String> {
    let lost: BTreeSet<String> = all
        .iter()
        .filter(|(_, (l, _))| *l)
        .map(|(k, _)| k.clone())
        .collect();
    let extra: Vec<_> = lost.difference(&f.expected).collect();
    let missing: Vec<_> = f.expected.difference(&lost).collect();
    if extra.is_empty() && missing.is_empty() {
        return Ok(());
    }
    let mut msg = format!(
        "fixture {} (lab {}): {} check(s) lost that should pass, {} expected loss(es) missing\n",
        f.name,
        f.labs.join(", "),
        extra.len(),
        missing.len()
    );
    for k in &extra {
        msg.push_str(&format!(
            "  + lost, not expected: {k}\n      why: {}\n",
            all[k.as_str()].1
        ));
    }
    for k in &missing {
        let how = if all.contains_key(k.as_str()) {
            "passed"
        } else {
            "no such check in the run"
        };
        msg.push_str(&format!("  - expected lost, but {how}: {k}\n"));
    }
    // What socklab printed about the scenarios concerned.
    let concerned: BTreeSet<&str> = extra
        .iter()
        .chain(&missing)
        .filter_map(|k| {
            k.strip_prefix(ADVISORY)
                .unwrap_or(k)
                .split_once(": ")
                .map(|(id, _)| id)
        })
        .collect();
    msg.push_str("  socklab printed:\n");
    let mut shown = false;
    for line in outputs.lines() {
        if let Some(id) = ["PASS", "FAIL", "ERROR"]
            .iter()
            .find_map(|v| line.strip_prefix(v))
            .and_then(|rest| rest.split_whitespace().next())
        {
            shown = concerned.contains(id);
        } else if !line.starts_with(' ') {
            shown = false;
        }
        if shown {
            msg.push_str(&format!("    {line}\n"));
        }
    }
    Err(msg)
}

/// Every fixture's lost checks are its list, and what its student reads is its golden file
/// (`tests/snapshots/matrix__<fixture>.snap`, the report's digest: see
/// `common::report_digest`), so a change in a report shows in review. After an intended change:
/// `INSTA_UPDATE=always cargo test --test matrix`, then review the diff of the .snap files.
#[test]
fn every_fixture_loses_exactly_its_expected_checks() {
    let all = fixtures();
    assert!(!all.is_empty(), "no fixture under fixtures/submissions");
    let queue = Mutex::new(all.iter().collect::<Vec<_>>());
    let failures = Mutex::new(Vec::new());
    let digests = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..WORKERS.min(all.len()) {
            scope.spawn(|| loop {
                let Some(f) = queue.lock().unwrap().pop() else {
                    break;
                };
                let (digest, verdict) = grade(f);
                digests.lock().unwrap().push((f.name.clone(), digest));
                if let Err(msg) = verdict {
                    failures.lock().unwrap().push((f.name.clone(), msg));
                }
            });
        }
    });
    let mut failures = failures.into_inner().unwrap();
    failures.sort();
    // The matrix first (it says why), then the golden reports.
    if failures.is_empty() {
        let mut digests = digests.into_inner().unwrap();
        digests.sort();
        for (name, digest) in digests {
            insta::assert_snapshot!(name, digest);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} fixtures differ from their expected-failures.txt:\n\n{}",
        failures.len(),
        all.len(),
        failures
            .iter()
            .map(|(_, m)| m.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn every_fixture_names_its_lab_and_lists_its_losses() {
    // `fixtures()` panics on a fixture without `lab:` or a well-formed, sorted list.
    let all = fixtures();
    let faulty = all.iter().filter(|f| !f.expected.is_empty()).count();
    assert!(
        faulty >= 10,
        "the matrix needs at least 10 faulty submissions, has {faulty}"
    );
    for f in &all {
        for line in &f.expected {
            let id = line
                .strip_prefix(ADVISORY)
                .unwrap_or(line)
                .split_once(": ")
                .unwrap()
                .0;
            assert!(
                f.labs.iter().any(|lab| id.starts_with(&format!("{lab}-"))),
                "fixture {}: `{line}` is not a scenario of lab {}",
                f.name,
                f.labs.join(", ")
            );
        }
    }
}

/// A program that floods stdout is cut to what a report keeps, and hides no other program's
/// transcript (issue 7: `results.json` stays under 1 MiB per scenario whatever a program prints).
#[test]
fn a_flood_hides_no_other_transcript_and_stays_out_of_results() {
    let report = tempfile::tempdir().unwrap();
    let sub = root().join("fixtures/submissions/upper-flood");
    let run = run_into(
        report.path(),
        &[
            "scenarios/upper/tcp-round-trip.json",
            "--submission",
            &sub.display().to_string(),
        ],
    );
    let scenario = &run.results["scenarios"][0];
    let client = scenario["programs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "client")
        .unwrap();
    let shown: String = client["transcript"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["stream"] == "stdout")
        .filter_map(|e| e["text"].as_str())
        .collect();
    assert!(
        shown.contains("HELLO, WORLD &*! 123"),
        "the client's transcript lost its reply: {shown:?}"
    );
    // In report.md's transcript itself: the reply is also quoted by the wire checks elsewhere.
    let transcript = run
        .report
        .split("**Transcript**")
        .nth(1)
        .and_then(|t| t.split("```text").nth(1))
        .and_then(|t| t.split("```").next())
        .unwrap_or_default();
    assert!(
        transcript.lines().any(|l| l.contains(" client ")
            && l.contains("> ")
            && l.contains("HELLO, WORLD &*! 123")),
        "report.md's transcript does not show the client's reply: {transcript}"
    );
    let size = std::fs::metadata(report.path().join("results.json"))
        .unwrap()
        .len();
    assert!(
        size < 1 << 20,
        "results.json holds {size} bytes for one scenario (at most 1 MiB whatever a program prints)"
    );
}

/// The matrix names a check `<scenario id>: <title>`: every graded step and check of a bundled
/// scenario has an explicit title (a derived one holds the run's port and time limits), and no
/// two share one within a scenario.
#[test]
fn every_bundled_check_has_its_own_title() {
    const GRADED_STEPS: [&str; 4] = [
        "wait_ready",
        "expect_output",
        "expect_exit",
        "expect_blocked",
    ];
    let mut files = Vec::new();
    for lab in std::fs::read_dir(root().join("scenarios")).unwrap() {
        for f in std::fs::read_dir(lab.unwrap().path()).unwrap() {
            files.push(f.unwrap().path());
        }
    }
    files.sort();
    assert!(!files.is_empty());
    let mut problems = Vec::new();
    for file in &files {
        let s: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        let id = s["id"].as_str().unwrap();
        let mut seen = BTreeSet::new();
        let steps = s["steps"].as_array().unwrap().iter().enumerate();
        let graded = steps
            .filter_map(|(i, step)| {
                let (kind, body) = step.as_object()?.iter().next()?;
                GRADED_STEPS
                    .contains(&kind.as_str())
                    .then(|| (format!("steps[{i}] {kind}"), body))
            })
            .collect::<Vec<_>>();
        let checks = s["checks"].as_array().map(Vec::as_slice).unwrap_or(&[]);
        let checks = checks.iter().enumerate().map(|(i, c)| {
            let (kind, body) = c.as_object().unwrap().iter().next().unwrap();
            (format!("checks[{i}] {kind}"), body)
        });
        for (at, body) in graded.into_iter().chain(checks) {
            match body["title"].as_str() {
                None => problems.push(format!("{id}: {at} has no title")),
                Some(t) if !seen.insert(t.to_string()) => {
                    problems.push(format!("{id}: {at}: title `{t}` is used twice"))
                }
                Some(_) => {}
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
