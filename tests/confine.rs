//! Confinement: a program sees its working copy, the system's interpreters and libraries, and
//! nothing else of the host's files; it writes nowhere but its copy and its private `/tmp`; it
//! has no capability; its environment holds nothing of the harness's.
//!
//! The hostile fixture `fixtures/hostile/upper-snoop` is a correct TCP upper server that first
//! tries to read, list and write outside its copy and prints one line per attempt. The test puts
//! secrets where a student would look for them (a neighbour's folder, next to the submission,
//! beside the scenario, in the report directory, in `$HOME`, in the harness's environment) and
//! checks that every attempt was denied, that no secret appears in anything the run wrote, that
//! nothing was written outside the copy and that the submission's folder is unchanged.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

mod common;

use common::{root, socklab};

/// Every file under `dir` (relative path → bytes, mode and modification time).
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (Vec<u8>, u32, std::time::SystemTime)> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            if meta.is_dir() {
                stack.push(p.clone());
            }
            let bytes = if meta.is_file() {
                std::fs::read(&p).unwrap()
            } else {
                Vec::new()
            };
            out.insert(
                p.strip_prefix(dir).unwrap().to_path_buf(),
                (bytes, meta.permissions().mode(), meta.modified().unwrap()),
            );
        }
    }
    out
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

/// Whether `needle` occurs anywhere in the files under `dir` (the pcap too).
fn found_in(dir: &Path, needle: &str) -> Vec<PathBuf> {
    snapshot(dir)
        .into_iter()
        .filter(|(_, (bytes, _, _))| bytes.windows(needle.len()).any(|w| w == needle.as_bytes()))
        .map(|(p, _)| p)
        .collect()
}

/// The stdout text of program `name` in scenario result `s`.
fn stdout_of(s: &Value, name: &str) -> String {
    s["programs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no program {name} in {s:#}"))["stdout"]["text"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn a_snooping_server_reads_and_writes_nothing_outside_its_copy() {
    let t = tempfile::tempdir().unwrap();
    let t = t.path();
    let secret = |place: &str| format!("SECRET-{place}-{}", std::process::id());

    // Where a student would look: a neighbour, next to the submission, the scenarios, the
    // reports, the home directory.
    let students = t.join("students");
    let alice = students.join("alice");
    copy_dir(&root().join("fixtures/hostile/upper-snoop"), &alice);
    std::fs::create_dir_all(students.join("bob")).unwrap();
    let bob_secret = students.join("bob/TCPServer.py");
    std::fs::write(&bob_secret, secret("bob")).unwrap();
    let next = students.join("grades.csv");
    std::fs::write(&next, secret("next")).unwrap();
    let scenarios = t.join("scenarios");
    std::fs::create_dir_all(&scenarios).unwrap();
    std::fs::copy(
        root().join("scenarios/upper/tcp-round-trip.json"),
        scenarios.join("tcp-round-trip.json"),
    )
    .unwrap();
    let hidden = scenarios.join("hidden-tests.txt");
    std::fs::write(&hidden, secret("scenario")).unwrap();
    let reports = t.join("reports");
    std::fs::create_dir_all(&reports).unwrap();
    let old_report = reports.join("earlier-student.md");
    std::fs::write(&old_report, secret("report")).unwrap();
    let home = t.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let home_secret = home.join(".netrc");
    std::fs::write(&home_secret, secret("home")).unwrap();
    // Outside the copy; `escaped` is the name the fixture writes in `..` (the run's /tmp).
    let writes = [
        students.join("bob/pwned.txt"),
        alice.join("pwned.txt"),
        reports.join("pwned.txt"),
        t.join("pwned.txt"),
        home.join("pwned.txt"),
    ];
    let escaped = Path::new("/tmp/socklab-snoop-escaped.txt");
    let _ = std::fs::remove_file(escaped);
    let project = root().join("Cargo.toml");

    let mut targets = String::new();
    for p in [
        &bob_secret,
        &next,
        &hidden,
        &old_report,
        &home_secret,
        &project,
    ] {
        targets += &format!("read {}\n", p.display());
    }
    for p in [&students, &scenarios, &reports, &home, t] {
        targets += &format!("list {}\n", p.display());
    }
    for p in &writes {
        targets += &format!("write {}\n", p.display());
    }
    std::fs::write(alice.join("targets.txt"), &targets).unwrap();
    let before = snapshot(&alice);

    let out = socklab()
        .arg("run")
        .arg(&scenarios)
        .arg("--submission")
        .arg(&alice)
        .arg("--report")
        .arg(&reports)
        .env("HOME", &home)
        .env("SOCKLAB_TEST_SECRET", secret("env"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let results: Value =
        serde_json::from_str(&std::fs::read_to_string(reports.join("results.json")).unwrap())
            .unwrap_or_else(|e| panic!("no results ({e}): {stdout}\n{stderr}"));
    let s = &results["scenarios"][0];
    let said = stdout_of(s, "server");

    // The server works confined: Python and its standard library are there.
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}\n{said}");
    assert_eq!(s["points"], s["max_points"], "{s:#}");

    // It could read its own copy and write in it, and nothing else.
    assert!(
        said.contains("FOUND read TCPServer.py"),
        "its own copy must be readable:\n{said}"
    );
    assert!(said.contains("WROTE write written-inside.txt"), "{said}");
    for p in [
        &bob_secret,
        &next,
        &hidden,
        &old_report,
        &home_secret,
        &project,
    ] {
        let line = format!("DENIED read {}: FileNotFoundError", p.display());
        assert!(said.contains(&line), "expected `{line}`:\n{said}");
    }
    for p in [&students, &scenarios, &reports, &home, t] {
        let line = format!("DENIED list {}: FileNotFoundError", p.display());
        assert!(said.contains(&line), "expected `{line}`:\n{said}");
    }
    for p in &writes {
        assert!(
            said.contains(&format!("DENIED write {}", p.display())),
            "{said}"
        );
        assert!(!p.exists(), "{} was written outside the copy", p.display());
    }
    // The run's /tmp is its own: the write "succeeds" there and never reaches the host's.
    assert!(
        said.contains("WROTE write ../socklab-snoop-escaped.txt"),
        "{said}"
    );
    assert!(!escaped.exists(), "the program wrote into the host's /tmp");
    for what in [
        "list /home",
        "list /work",
        "read /etc/shadow",
        "list /proc/1/root/",
        "list /proc/1/cwd/",
        "read /proc/1/environ",
        "write /socklab-snoop.txt",
        "write /usr/socklab-snoop.txt",
        "write /etc/socklab-snoop.txt",
        "remount /usr read-write",
        "chroot /tmp",
    ] {
        assert!(
            said.contains(&format!("DENIED {what}:")),
            "`{what}` was not denied:\n{said}"
        );
    }
    // The supervisor's descriptors (the capture file, the harness's pipes) stay closed to it.
    assert!(said.contains("DENIED read /proc/1/fd/0:"), "{said}");
    assert!(!said.contains("FOUND read /proc/1/fd/"), "{said}");
    // The home directory shows at most the way to the interpreter (pyenv's under /root).
    let interpreter = s["programs"][0]["interpreter"].as_str().unwrap_or_default();
    if let Some(line) = said.lines().find(|l| l.starts_with("FOUND list /root:")) {
        let names = line.split_once(": ").unwrap().1;
        for name in names
            .trim_matches(['[', ']'])
            .split(", ")
            .filter(|n| !n.is_empty())
        {
            let name = name.trim_matches('\'');
            assert!(
                interpreter.contains(&format!("/root/{name}/")),
                "/root shows {name}, which is not on the way to {interpreter}"
            );
        }
    }
    assert!(said.contains("INFO HOME: /tmp/socklab-run-"), "{said}");

    // No secret anywhere in what the run wrote or printed (report, results, capture).
    for place in ["bob", "next", "scenario", "report", "home", "env"] {
        let needle = secret(place);
        let leaked: Vec<PathBuf> = found_in(&reports, &needle)
            .into_iter()
            .filter(|p| p != Path::new("earlier-student.md"))
            .collect();
        assert!(leaked.is_empty(), "{needle} leaked into {leaked:?}");
        assert!(!stdout.contains(&needle), "{needle} leaked into stdout");
    }
    // The submission's own folder is exactly as it was.
    assert_eq!(
        snapshot(&alice),
        before,
        "the submission's folder was modified"
    );
}

/// Runs one scenario of one program `command` (no ports); returns its result.
fn run_command(dir: &Path, command: Value) -> Value {
    let scenario = json!({
        "id": "x", "lab": "upper", "title": "t", "question": "q", "explanation": "e",
        "programs": [{"name": "p", "command": command}],
        "steps": [{"start": {"program": "p"}},
                  {"expect_exit": {"program": "p", "status": "success", "within_ms": 20000}}],
    });
    let path = dir.join("x.json");
    std::fs::write(&path, scenario.to_string()).unwrap();
    let run = common::run_into(&dir.join("report"), &[path.to_str().unwrap()]);
    run.results["scenarios"][0].clone()
}

const LOOK: &str = r#"
import os, sys
print("prefix", sys.base_prefix)
print("cwd", os.getcwd())
for line in open("/proc/self/mountinfo"):
    f = line.split()
    print("mount", f[4], f[5], f[f.index("-") + 1])
for line in open("/proc/self/status"):
    if line.startswith(("Cap", "NoNewPrivs", "Uid")):
        print("status", " ".join(line.split()))
"#;

#[test]
fn a_program_sees_only_its_copy_the_system_and_its_interpreter() {
    let dir = tempfile::tempdir().unwrap();
    let s = run_command(dir.path(), json!(["python3", "-c", LOOK]));
    let said = stdout_of(&s, "p");
    assert_eq!(s["verdict"], "pass", "{said}\n{s:#}");
    let value = |key: &str| {
        said.lines()
            .find_map(|l| l.strip_prefix(&format!("{key} ")))
            .unwrap_or_else(|| panic!("no {key}:\n{said}"))
            .to_string()
    };
    let prefix = value("prefix");
    let cwd = value("cwd");
    assert!(cwd.starts_with("/tmp/socklab-run-"), "{cwd}");

    // Every mount point is one the confinement made; the host's root is not among them.
    let fixed = [
        "/", "/usr", "/bin", "/sbin", "/proc", "/tmp", "/dev", "/dev/pts", "/dev/shm",
    ];
    let mut points = Vec::new();
    for line in said.lines().filter_map(|l| l.strip_prefix("mount ")) {
        let mut f = line.split(' ');
        let (point, opts) = (f.next().unwrap(), f.next().unwrap());
        let allowed = fixed.contains(&point)
            || point.starts_with("/etc/")
            || point.starts_with("/usr/")
            || point.starts_with("/lib")
            || point.starts_with("/dev/")
            || point == cwd
            || point == prefix;
        assert!(allowed, "unexpected mount point {point}:\n{said}");
        let writable = ["/proc", "/tmp", "/dev/shm", "/dev/pts", cwd.as_str()].contains(&point)
            || [
                "/dev/null",
                "/dev/zero",
                "/dev/full",
                "/dev/random",
                "/dev/urandom",
            ]
            .contains(&point);
        assert_eq!(
            opts.split(',').next(),
            Some(if writable { "rw" } else { "ro" }),
            "{point} {opts}"
        );
        points.push(point.to_string());
    }
    for needed in [
        "/",
        "/usr",
        "/proc",
        "/tmp",
        "/dev",
        "/etc/passwd",
        "/etc/hosts",
    ] {
        assert!(points.iter().any(|p| p == needed), "no {needed}:\n{said}");
    }
    assert!(points.contains(&cwd), "{said}");

    // No capability at all, and no way to gain one.
    for cap in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
        let line = format!("status {cap}: 0000000000000000");
        assert!(said.contains(&line), "expected `{line}`:\n{said}");
    }
    assert!(said.contains("status NoNewPrivs: 1"), "{said}");
}

#[test]
fn reference_programs_run_confined() {
    let dir = tempfile::tempdir().unwrap();
    let run = common::run_into(
        dir.path(),
        &[
            "scenarios/upper/tcp-round-trip.json",
            "scenarios/upper/udp-round-trip.json",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    for s in run.results["scenarios"].as_array().unwrap() {
        assert_eq!(s["verdict"], "pass", "{s:#}");
    }
}

#[test]
fn a_working_copy_reached_through_an_absolute_symlink_is_shown() {
    // TMPDIR (where working copies are made) is a symlink to an absolute path: the sandbox must
    // resolve it as the host does, not inside its own staging root.
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real");
    std::fs::create_dir(&real).unwrap();
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let scenario = json!({
        "id": "x", "lab": "upper", "title": "t", "question": "q", "explanation": "e",
        "programs": [{"name": "p", "command": ["python3", "-c",
            "import os; open('made-here', 'w').write('x'); print('cwd', os.getcwd())"]}],
        "steps": [{"start": {"program": "p"}},
                  {"expect_exit": {"program": "p", "status": "success", "within_ms": 20000}}],
    });
    let path = dir.path().join("x.json");
    std::fs::write(&path, scenario.to_string()).unwrap();
    let report = dir.path().join("report");
    let out = socklab()
        .arg("run")
        .arg(&path)
        .arg("--report")
        .arg(&report)
        .env("TMPDIR", &link)
        .output()
        .unwrap();
    let results: Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("results.json")).unwrap())
            .unwrap();
    let s = &results["scenarios"][0];
    assert_eq!(out.status.code(), Some(0), "{s:#}");
    let said = stdout_of(s, "p");
    assert!(
        said.contains(&format!("cwd {}/socklab-run-", link.display())),
        "{said}"
    );
}

#[test]
fn a_program_cannot_make_its_root_writable_from_a_namespace_of_its_own() {
    // With no capability a program cannot remount; a user namespace of its own gives it none
    // either (it cannot map itself to root there), and the read-only binds stay read-only.
    let dir = tempfile::tempdir().unwrap();
    let target = format!("/usr/socklab-confine-test-{}", std::process::id());
    let script = format!(
        "unshare -r true; echo map=$?; \
         unshare -Um --propagation unchanged sh -c \
         'mount -o remount,bind,rw /usr; echo remount=$?; touch {target}; echo touch=$?'"
    );
    let s = run_command(dir.path(), json!(["sh", "-c", script]));
    let said = stdout_of(&s, "p");
    let created = Path::new(&target).exists();
    if created {
        let _ = std::fs::remove_file(&target);
    }
    assert!(
        !created,
        "a confined program wrote into the host's /usr:\n{said}"
    );
    for line in ["remount=", "touch=", "map="] {
        let code = said
            .lines()
            .find_map(|l| l.strip_prefix(line))
            .unwrap_or_else(|| panic!("no {line} in:\n{said}\n{s:#}"));
        assert_ne!(code, "0", "{line}0:\n{said}");
    }
}
