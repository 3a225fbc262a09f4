//! The fixture class graded whole (issue 10, item 7): `fixtures/class/roster.txt` built into a
//! class directory by `scripts/fixture-class.sh` (copies of the fault-matrix fixtures, one
//! folder per student), then graded through the CLI as an instructor grades:
//!
//! - `socklab grade DIR --jobs 2`: `grades.csv` is `fixtures/class/expected-grades.csv`, every
//!   student has a report, `summary.md` names every student, and the student whose programs
//!   cannot start (Python 2) gets one `cannot-start:<role>` diagnosis per role for the whole
//!   run, not one per scenario or per lab;
//! - `--jobs 4`: the same grades and the same verdict for every check of every student;
//! - `--shard 1/3`, `2/3`, `3/3` as three processes, then `socklab merge`: the shards are
//!   disjoint and cover the class, and the merge reads like the single run;
//! - a run interrupted with SIGINT once three students are done, then `--resume`: no process
//!   left, no half-written file, the finished students skipped (and not regraded), and the
//!   outputs those of an uninterrupted run.
//!
//! Nothing here depends on wall-clock time: verdicts and files are compared, never durations.
//! Waiting for the interrupted run to reach three students polls the file system (a ceiling
//! only guards against a hang). The web lab's `web-browser` scenario needs Chromium: without it
//! the grades would differ, so the tests stop at once and say so instead.
//!
//! The runs start with the shard variables of CI engines removed (`CI_NODE_INDEX`, ...): a test
//! job that itself runs in a GitLab `parallel:` job must still grade the whole class.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use assert_cmd::cargo::cargo_bin;
use serde_json::Value;

mod common;

use common::{redact, root};

/// Variables `socklab grade` reads its default shard from (docs/grading.md).
const SHARD_VARIABLES: &[&str] = &[
    "CI_NODE_INDEX",
    "CI_NODE_TOTAL",
    "JOB_COMPLETION_INDEX",
    "SLURM_ARRAY_TASK_ID",
    "SLURM_ARRAY_TASK_COUNT",
    "SLURM_ARRAY_TASK_MIN",
    "SLURM_ARRAY_TASK_MAX",
];

/// The longest a graded class may take before a test calls it a hang (not a verdict: a
/// ceiling that returns as soon as the run is done).
const HANG: Duration = Duration::from_secs(900);

/// A class directory built from the roster, with its output directories beside it, in
/// `CARGO_TARGET_TMPDIR/class` (emptied first): kept after the tests to be looked at.
struct Class {
    base: PathBuf,
    dir: PathBuf,
}

impl Class {
    fn build() -> Class {
        require_chromium();
        let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("class");
        if base.exists() {
            std::fs::remove_dir_all(&base).unwrap();
        }
        std::fs::create_dir_all(&base).unwrap();
        let dir = base.join("class");
        let out = Command::new(root().join("scripts/fixture-class.sh"))
            .arg(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "scripts/fixture-class.sh failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Class { base, dir }
    }

    /// An output directory beside the class.
    fn out(&self, name: &str) -> PathBuf {
        self.base.join(name)
    }
}

fn require_chromium() {
    let found = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("chromium").is_file()));
    assert!(
        found,
        "chromium is not on PATH: the web lab's web-browser scenario would not be graded and the \
         class's grades would differ from fixtures/class/expected-grades.csv; install it \
         (apt-get install chromium, or scripts/test.sh)"
    );
}

/// `socklab ARGS`, from the project root, without the CI shard variables.
fn socklab(args: &[&str]) -> Command {
    let mut cmd = Command::new(cargo_bin("socklab"));
    cmd.current_dir(root()).args(args);
    for v in SHARD_VARIABLES {
        cmd.env_remove(v);
    }
    cmd
}

/// `socklab grade CLASS --out OUT ARGS`, its output kept for messages.
fn grade(class: &Path, out: &Path, args: &[&str]) -> Output {
    socklab(&["grade"])
        .arg(class)
        .arg("--out")
        .arg(out)
        .args(args)
        .output()
        .unwrap()
}

/// Both output streams, for messages and for what the run says it did.
fn said(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn assert_graded(out: &Output, what: &str) {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{what}: the class was graded, so the exit code is 0 (lost checks are grades, not \
         errors)\n{}",
        said(out)
    );
}

/// The students of the roster, by id.
fn roster() -> Vec<String> {
    let text = std::fs::read_to_string(root().join("fixtures/class/roster.txt")).unwrap();
    let mut ids: Vec<String> = text
        .lines()
        .filter_map(|l| l.split('#').next().unwrap().split_whitespace().next())
        .map(String::from)
        .collect();
    ids.sort();
    ids
}

/// The lines of a CSV file, without the line terminator (the csv crate's CRLF or LF alike).
fn csv_lines(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines()
        .map(|l| l.trim_end_matches('\r').to_string())
        .collect()
}

fn expected_grades() -> Vec<String> {
    csv_lines(&root().join("fixtures/class/expected-grades.csv"))
}

/// The students with a results.json under OUT/students.
fn graded_students(out: &Path) -> BTreeSet<String> {
    let Ok(entries) = std::fs::read_dir(out.join("students")) else {
        return BTreeSet::new();
    };
    entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("results.json").is_file())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect()
}

fn results(out: &Path, student: &str) -> Value {
    let path = out.join("students").join(student).join("results.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The verdict of every check of every student: `student  scenario  check title  outcome`,
/// sorted; nothing that changes from run to run (durations, ports, seeds, dates).
fn listing(out: &Path) -> Vec<String> {
    let mut lines = Vec::new();
    for student in graded_students(out) {
        let r = results(out, &student);
        for s in r["scenarios"].as_array().unwrap() {
            for c in s["checks"].as_array().unwrap() {
                let outcome = match c["outcome"].as_str() {
                    Some(o) => o.to_string(),
                    None => format!("passed={}", c["passed"]),
                };
                lines.push(format!(
                    "{student}\t{}\t{}\t{outcome}",
                    s["id"].as_str().unwrap(),
                    c["title"].as_str().unwrap()
                ));
            }
        }
    }
    lines.sort();
    lines
}

/// `summary.md` with run-dependent values masked and the output directory's path removed.
fn summary(out: &Path) -> String {
    let text = std::fs::read_to_string(out.join("summary.md"))
        .unwrap_or_else(|e| panic!("no summary.md in {}: {e}", out.display()));
    redact(&text.replace(&out.display().to_string(), "OUT"))
}

/// Lines that differ between two listings, for a readable message.
fn diff(a: &[String], b: &[String]) -> String {
    let (a, b): (BTreeSet<_>, BTreeSet<_>) = (a.iter().collect(), b.iter().collect());
    let mut msg = String::new();
    for l in a.difference(&b) {
        msg.push_str(&format!("- {l}\n"));
    }
    for l in b.difference(&a) {
        msg.push_str(&format!("+ {l}\n"));
    }
    msg
}

/// The same grades, verdicts and summary in `other` as in `one` (the single `--jobs 2` run).
fn assert_same_class(one: &Path, other: &Path, what: &str) {
    assert_eq!(
        csv_lines(&other.join("grades.csv")),
        csv_lines(&one.join("grades.csv")),
        "{what}: the grades differ from one run's"
    );
    let (a, b) = (listing(one), listing(other));
    assert!(!a.is_empty(), "one run graded no check");
    assert!(
        a == b,
        "{what}: the verdicts differ from one run's (- one run, + {what}):\n{}",
        diff(&a, &b)
    );
    assert_eq!(
        summary(other),
        summary(one),
        "{what}: summary.md differs from one run's"
    );
}

/// The class graded once with `--jobs 2`: what the other tests compare with.
struct Baseline {
    class: Class,
    out: PathBuf,
    run: Output,
}

fn baseline() -> &'static Baseline {
    static BASELINE: OnceLock<Baseline> = OnceLock::new();
    BASELINE.get_or_init(|| {
        let class = Class::build();
        let out = class.out("jobs2");
        let run = grade(&class.dir, &out, &["--jobs", "2"]);
        Baseline { class, out, run }
    })
}

#[test]
fn the_class_gets_its_expected_grades() {
    let b = baseline();
    assert_graded(&b.run, "socklab grade --jobs 2");
    let grades = csv_lines(&b.out.join("grades.csv"));
    assert_eq!(
        grades,
        expected_grades(),
        "grades.csv differs from fixtures/class/expected-grades.csv (README.md there says why \
         each student scores what they do)\n{}",
        said(&b.run)
    );
    let summary = std::fs::read_to_string(b.out.join("summary.md")).unwrap();
    for id in roster() {
        let dir = b.out.join("students").join(&id);
        for file in ["report.md", "report.html", "results.json"] {
            assert!(
                dir.join(file).is_file(),
                "student {id} has no {file} in {}",
                dir.display()
            );
        }
        assert!(
            regex::Regex::new(&format!(r"\b{}\b", regex::escape(&id)))
                .unwrap()
                .is_match(&summary),
            "summary.md does not name student {id}:\n{summary}"
        );
    }
    for file in ["grades.csv", "junit.xml", "summary.html"] {
        assert!(b.out.join(file).is_file(), "the class has no {file}");
    }
}

/// eli's programs (upper-python2, in the upper and the hello folders) stop at start with a
/// SyntaxError: one diagnosis per role for the whole student, whatever the number of scenarios
/// and labs it spoils, and every check lost to one of them.
#[test]
fn a_program_that_cannot_start_is_diagnosed_once_per_role() {
    let b = baseline();
    assert_graded(&b.run, "socklab grade --jobs 2");
    let r = results(&b.out, "eli");
    let ids: Vec<&str> = r["diagnoses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    let unique: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(ids.len(), unique.len(), "a diagnosis is repeated: {ids:?}");
    for d in r["diagnoses"].as_array().unwrap() {
        assert_eq!(
            d["id"].as_str().unwrap(),
            format!("cannot-start:{}", d["role"].as_str().unwrap()),
            "eli's only fault is programs that cannot start: {d}"
        );
    }
    // Every role is started by some scenario on its own: the hello clients, which end to end
    // start only once their server is ready, in the cross-test runs against socklab's server.
    let want: BTreeSet<&str> = [
        "cannot-start:tcp-upper-client",
        "cannot-start:tcp-upper-server",
        "cannot-start:udp-upper-client",
        "cannot-start:udp-upper-server",
        "cannot-start:tcp-hello-client",
        "cannot-start:tcp-hello-server",
        "cannot-start:udp-hello-client",
        "cannot-start:udp-hello-server",
    ]
    .into_iter()
    .collect();
    assert_eq!(unique, want, "eli's diagnoses");
    let mut counted = BTreeMap::new();
    for s in r["scenarios"].as_array().unwrap() {
        // A demonstration that runs socklab's programs only (the localhost refusal between
        // two computers) judges nothing of eli's.
        let eli_s = s["programs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["binding"]["kind"] == "submission");
        if !eli_s {
            continue;
        }
        for c in s["checks"].as_array().unwrap() {
            assert_eq!(
                c["outcome"], "not_run",
                "{}: {} of eli: nothing of eli's can run",
                s["id"], c["title"]
            );
            let cause = c["cause"].as_str().unwrap_or("");
            assert!(
                unique.contains(cause),
                "{}: {} is lost to `{cause}`, which is not one of the diagnoses",
                s["id"],
                c["title"]
            );
            *counted.entry(cause.to_string()).or_insert(0usize) += 1;
        }
    }
    for d in r["diagnoses"].as_array().unwrap() {
        let id = d["id"].as_str().unwrap();
        assert_eq!(
            d["checks"].as_array().unwrap().len(),
            counted[id],
            "{id} must list every check it cost"
        );
    }
}

#[test]
fn more_jobs_give_the_same_grades_and_verdicts() {
    let b = baseline();
    assert_graded(&b.run, "socklab grade --jobs 2");
    let out = b.class.out("jobs4");
    let run = grade(&b.class.dir, &out, &["--jobs", "4"]);
    assert_graded(&run, "socklab grade --jobs 4");
    assert_same_class(&b.out, &out, "--jobs 4");
}

#[test]
fn three_shards_merged_equal_one_run() {
    let b = baseline();
    assert_graded(&b.run, "socklab grade --jobs 2");
    // Three processes at once, as three CI jobs would run.
    let shards: Vec<(PathBuf, std::process::Child)> = (1..=3)
        .map(|m| {
            let out = b.class.out(&format!("shard{m}"));
            let child = socklab(&["grade"])
                .arg(&b.class.dir)
                .arg("--out")
                .arg(&out)
                .args(["--jobs", "1", "--shard", &format!("{m}/3")])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            (out, child)
        })
        .collect();
    let mut outs = Vec::new();
    let mut covered = BTreeSet::new();
    for (m, (out, child)) in shards.into_iter().enumerate() {
        let run = child.wait_with_output().unwrap();
        assert_graded(&run, &format!("socklab grade --shard {}/3", m + 1));
        let mine = graded_students(&out);
        let twice: Vec<_> = covered.intersection(&mine).cloned().collect();
        assert!(
            twice.is_empty(),
            "shard {} grades students another shard graded: {twice:?}",
            m + 1
        );
        covered.extend(mine);
        outs.push(out);
    }
    let all: BTreeSet<String> = roster().into_iter().collect();
    assert_eq!(covered, all, "the three shards together grade the class");

    let merged = b.class.out("merged");
    let mut merge = socklab(&["merge"]);
    merge.args(&outs).arg("--out").arg(&merged);
    let run = merge.output().unwrap();
    assert_eq!(run.status.code(), Some(0), "socklab merge\n{}", said(&run));
    assert_same_class(&b.out, &merged, "merged");
}

/// Files that an interrupted write leaves: temporary names, and student folders without both
/// of their files or with a results.json that does not parse.
fn half_written(out: &Path) -> Vec<String> {
    let mut bad = Vec::new();
    let mut stack = vec![out.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries {
            let path = e.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.starts_with('.') || name.contains(".tmp") || name.ends_with('~') {
                bad.push(format!("temporary file left: {}", path.display()));
            }
            if path.is_dir() {
                stack.push(path);
            }
        }
    }
    if let Ok(entries) = std::fs::read_dir(out.join("students")) {
        for e in entries {
            let dir = e.unwrap().path();
            let json = dir.join("results.json");
            if !json.is_file() || !dir.join("report.md").is_file() {
                bad.push(format!(
                    "student folder without its reports: {}",
                    dir.display()
                ));
            } else if serde_json::from_slice::<Value>(&std::fs::read(&json).unwrap()).is_err() {
                bad.push(format!("results.json cut short: {}", json.display()));
            }
        }
    }
    bad
}

/// Live processes (zombies aside) of the process group or session `id`.
fn processes_of(id: i32) -> Vec<String> {
    let mut left = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid pgrp session ...: comm may hold spaces and parentheses.
        let Some((head, rest)) = stat.rsplit_once(") ") else {
            continue;
        };
        let f: Vec<&str> = rest.split_whitespace().collect();
        if f.len() < 4 || f[0] == "Z" {
            continue;
        }
        if f[2] == id.to_string() || f[3] == id.to_string() {
            left.push(head.to_string() + ")");
        }
    }
    left
}

#[test]
fn an_interrupted_run_resumes_to_the_same_outputs() {
    let b = baseline();
    assert_graded(&b.run, "socklab grade --jobs 2");
    let out = b.class.out("interrupted");
    // Its own session and process group, so that SIGINT reaches every process of the run as
    // Ctrl-C on a terminal does, and so that what is left of it can be found afterwards.
    let mut cmd = socklab(&["grade"]);
    cmd.arg(&b.class.dir)
        .arg("--out")
        .arg(&out)
        .args(["--jobs", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: setsid is async-signal-safe and touches nothing of the parent.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, || {
            nix::unistd::setsid()
                .map(drop)
                .map_err(std::io::Error::from)
        });
    }
    let mut child = cmd.spawn().unwrap();
    let group = child.id() as i32;
    let started = Instant::now();
    loop {
        if graded_students(&out).len() >= 3 {
            break;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "socklab grade ended ({status}) before three students were graded: {:?}",
                graded_students(&out)
            );
        }
        assert!(started.elapsed() < HANG, "socklab grade hangs");
        std::thread::sleep(Duration::from_millis(20));
    }
    nix::sys::signal::killpg(
        nix::unistd::Pid::from_raw(group),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let status = child.wait().unwrap();
    // A sandbox's PID 1 killed with its parent may still be exiting (its namespaces' sockets
    // and links released as it goes, more of them for a scenario of several computers): the
    // scan repeats up to a ceiling, as in tests/hostile.rs; a process left behind stays.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut left = processes_of(group);
    while !left.is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
        left = processes_of(group);
    }
    assert!(
        left.is_empty(),
        "processes of the interrupted run are left: {left:?}"
    );
    assert!(
        !status.success(),
        "an interrupted run must not say it graded the class"
    );
    let bad = half_written(&out);
    assert!(bad.is_empty(), "after SIGINT:\n{}", bad.join("\n"));
    let done = graded_students(&out);
    assert!(
        done.len() < roster().len(),
        "every student was graded before SIGINT arrived: nothing left to resume"
    );
    let before: BTreeMap<String, Vec<u8>> = done
        .iter()
        .map(|s| {
            let path = out.join("students").join(s).join("results.json");
            (s.clone(), std::fs::read(path).unwrap())
        })
        .collect();

    let run = grade(&b.class.dir, &out, &["--jobs", "2", "--resume"]);
    assert_graded(&run, "socklab grade --resume");
    let text = said(&run);
    for s in &done {
        let named = regex::Regex::new(&format!(r"(?im)^.*\b{}\b.*$", regex::escape(s)))
            .unwrap()
            .find_iter(&text)
            .any(|l| l.as_str().to_lowercase().contains("skip"));
        assert!(
            named,
            "--resume does not say it skipped {s}, graded before the interruption:\n{text}"
        );
        let path = out.join("students").join(s).join("results.json");
        assert!(
            std::fs::read(&path).unwrap() == before[s],
            "--resume graded {s} again: a finished student is skipped"
        );
    }
    assert_same_class(&b.out, &out, "resumed");
    assert!(half_written(&out).is_empty());
}
