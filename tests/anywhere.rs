//! socklab works from any directory (issue 10, item 6): the bundled scenarios are built into
//! the binary, so `list`, `run` and `verify --scenario ID` run in a fresh directory with no
//! `scenarios/` and give what they give from the project root; `--scenarios DIR` adds scenario
//! files, replaces a bundled one of the same id and says so; a broken file there is reported
//! at its path, line and column.

use std::path::Path;
use std::process::{Command, Output};

use assert_cmd::cargo::cargo_bin;
use serde_json::Value;

mod common;

use common::root;

/// `socklab ARGS` with `dir` as the current directory.
fn socklab_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(cargo_bin("socklab"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A fresh directory outside the project, checked to hold no `scenarios/`.
fn elsewhere() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    assert!(!dir.path().starts_with(root()));
    assert!(!dir.path().join("scenarios").exists());
    dir
}

#[test]
fn list_from_a_fresh_directory_is_the_list_from_the_root() {
    let dir = elsewhere();
    let here = socklab_in(dir.path(), &["list"]);
    let at_root = socklab_in(&root(), &["list"]);
    assert_eq!(here.status.code(), Some(0), "{}", text(&here.stderr));
    assert_eq!(text(&here.stdout), text(&at_root.stdout));
    let out = text(&here.stdout);
    for id in [
        "hello-tcp-knock-knock",
        "upper-tcp-round-trip",
        "web-hello-world",
    ] {
        assert!(out.contains(id), "{id} missing from:\n{out}");
    }
}

/// What a run graded, without what differs between two runs (times, ports, report paths):
/// per scenario its id, file, verdict, points and each check's title and verdict.
fn graded(results: &Value) -> Vec<Value> {
    results["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let checks: Vec<Value> = s["checks"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| serde_json::json!([c["title"], c["passed"]]))
                .collect();
            serde_json::json!({
                "id": s["id"], "file": s["file"], "verdict": s["verdict"],
                "points": s["points"], "checks": checks,
            })
        })
        .collect()
}

#[test]
fn run_hello_from_a_fresh_directory_grades_as_from_the_root() {
    let dir = elsewhere();
    let reports = tempfile::tempdir().unwrap();
    let mut results = Vec::new();
    for (cwd, name) in [(dir.path().to_path_buf(), "here"), (root(), "root")] {
        let report = reports.path().join(name);
        let args = ["run", "--lab", "hello", "--seed", "7", "--report"];
        let mut args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        args.push(report.display().to_string());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = socklab_in(&cwd, &args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        let json = std::fs::read_to_string(report.join("results.json")).unwrap();
        results.push(serde_json::from_str::<Value>(&json).unwrap());
    }
    let (here, at_root) = (graded(&results[0]), graded(&results[1]));
    // Two scenarios, each cross-tested: run as written, with socklab's client, with its server.
    assert_eq!(here.len(), 6, "{here:?}");
    assert_eq!(here, at_root);
    assert_eq!(results[0]["summary"], results[1]["summary"]);
    assert_eq!(results[0].get("overrides"), None, "nothing was overridden");
    // The bundled file is named as in the source tree, marked as bundled.
    assert_eq!(
        here[0]["file"],
        "scenarios/hello/tcp-knock-knock.json (bundled)"
    );
    assert!(here[0]["checks"].as_array().unwrap().len() > 2, "{here:?}");
}

#[test]
fn verify_by_id_from_a_fresh_directory_is_verify_from_the_root() {
    let dir = elsewhere();
    let pcap = dir.path().join("lab.pcap");
    common::pcap::noisy_lab_capture(&pcap);
    let pcap = pcap.display().to_string();
    let args = [
        "verify",
        &pcap,
        "--scenario",
        "upper-tcp-round-trip",
        "--server-addr",
        "192.0.2.20",
        "--server-port",
        "12000",
        "--client-addr",
        "192.0.2.10",
        "--json",
    ];
    let here = socklab_in(dir.path(), &args);
    let at_root = socklab_in(&root(), &args);
    assert_eq!(here.status.code(), Some(0), "{}", text(&here.stderr));
    assert_eq!(text(&here.stdout), text(&at_root.stdout));
    let report = common::verify_json(&here);
    assert_eq!(report["passed"], true, "{report}");
    // An unknown id still says what it looked in and what was meant.
    let typo = socklab_in(
        dir.path(),
        &["verify", &pcap, "--scenario", "upper-tcp-round-trp"],
    );
    assert_eq!(typo.status.code(), Some(2));
    let err = text(&typo.stderr);
    assert!(err.contains("did you mean `upper-tcp-round-trip`"), "{err}");
}

/// A copy of the bundled `hello-tcp-knock-knock` titled `title`, in `dir`.
fn knock_knock_titled(dir: &Path, title: &str) {
    let text =
        std::fs::read_to_string(root().join("scenarios/hello/tcp-knock-knock.json")).unwrap();
    let mut json: Value = serde_json::from_str(&text).unwrap();
    json["title"] = Value::String(title.into());
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("knock.json"),
        serde_json::to_string_pretty(&json).unwrap(),
    )
    .unwrap();
}

#[test]
fn a_scenario_under_scenarios_dir_overrides_the_bundled_one_and_says_so() {
    let dir = elsewhere();
    let mine = dir.path().join("mine");
    knock_knock_titled(&mine, "My own knock knock");
    let mine_arg = mine.display().to_string();
    let file = mine.join("knock.json").display().to_string();
    let note =
        format!("note: scenario hello-tcp-knock-knock from {file} overrides the bundled one");

    let list = socklab_in(
        dir.path(),
        &["list", "--lab", "hello", "--scenarios", &mine_arg],
    );
    assert_eq!(list.status.code(), Some(0), "{}", text(&list.stderr));
    assert!(text(&list.stderr).contains(&note), "{}", text(&list.stderr));
    let out = text(&list.stdout);
    assert!(
        out.contains("hello-tcp-knock-knock                    My own knock knock"),
        "{out}"
    );
    assert!(out.contains("hello-udp-joke"), "{out}");
    // Once as written (its cross-test runs, `hello-tcp-knock-knock.socklab-...`, follow it).
    assert_eq!(out.matches("hello-tcp-knock-knock ").count(), 1, "{out}");

    let report = dir.path().join("report");
    let run = socklab_in(
        dir.path(),
        &[
            "run",
            "--lab",
            "hello",
            "--scenarios",
            &mine_arg,
            "--report",
            &report.display().to_string(),
        ],
    );
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stdout));
    assert!(text(&run.stderr).contains(&note), "{}", text(&run.stderr));
    let results: Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("results.json")).unwrap())
            .unwrap();
    let knock = results["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "hello-tcp-knock-knock")
        .unwrap();
    assert_eq!(knock["title"], "My own knock knock");
    assert_eq!(knock["file"], file.as_str());
    let sentence = note.trim_start_matches("note: ");
    assert_eq!(results["overrides"], serde_json::json!([sentence]));
    let md = std::fs::read_to_string(report.join("report.md")).unwrap();
    assert!(
        md.contains(&format!("Note: {sentence} (`--scenarios`).")),
        "{md}"
    );

    // The same text as the bundled one (the project's own scenarios/) replaces it silently.
    let same = socklab_in(
        dir.path(),
        &[
            "list",
            "--scenarios",
            &root().join("scenarios").display().to_string(),
        ],
    );
    assert_eq!(same.status.code(), Some(0), "{}", text(&same.stderr));
    assert_eq!(text(&same.stderr), "");
}

#[test]
fn a_broken_scenario_under_scenarios_dir_is_pointed_at_in_its_file() {
    let dir = elsewhere();
    let bad = dir.path().join("bad");
    std::fs::create_dir(&bad).unwrap();
    std::fs::write(
        bad.join("broken.json"),
        "{\n  \"id\": \"x\",\n  \"lab\": hello\n}\n",
    )
    .unwrap();
    let out = socklab_in(
        dir.path(),
        &["list", "--scenarios", &bad.display().to_string()],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    let at = format!("--> {}:3:10 (at lab)", bad.join("broken.json").display());
    assert!(err.contains(&at), "{err}");
    assert!(err.contains("expected value"), "{err}");
    // A --scenarios that is no directory is bad usage too.
    let none = socklab_in(dir.path(), &["list", "--scenarios", "no-such-dir"]);
    assert_eq!(none.status.code(), Some(2));
    assert!(text(&none.stderr).contains("--scenarios no-such-dir: not a directory"));
}
