//! Bad scenario files found when socklab was tried as a new user would (issue 11, part 7): each
//! is bad input, exit 2, with the place in the file, never a crash, a wrapped total, a file
//! written outside the report directory, or the student blamed for the file's mistake. One
//! regression test per bug, named after it.

use std::path::Path;

use serde_json::{json, Value};

mod common;

use common::{input_error, socklab};

/// A minimal valid scenario around `programs`, `steps` and `checks`, with `extra` fields on top.
fn scenario(programs: Value, steps: Value, checks: Value, extra: Value) -> String {
    let mut s = json!({
        "id": "t", "lab": "upper", "title": "t", "question": "q", "explanation": "e",
        "programs": programs, "steps": steps, "checks": checks,
    });
    if let (Some(map), Some(more)) = (s.as_object_mut(), extra.as_object()) {
        for (k, v) in more {
            map.insert(k.clone(), v.clone());
        }
    }
    serde_json::to_string_pretty(&s).unwrap()
}

fn printf_program() -> Value {
    json!([{ "name": "t", "command": ["printf", "x123"] }])
}

/// `socklab run FILE --report DIR/report` in `dir`: (exit code, stderr).
fn run_in(dir: &Path, text: &str) -> (i32, String) {
    let path = dir.join("bad.json");
    std::fs::write(&path, text).unwrap();
    let out = socklab()
        .arg("run")
        .arg(&path)
        .arg("--report")
        .arg(dir.join("report"))
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_scenario_id_that_is_a_path_writes_nothing_outside_the_report_directory() {
    let base = tempfile::tempdir().unwrap();
    let dir = base.path().join("a/b");
    std::fs::create_dir_all(&dir).unwrap();
    for id in ["../../x", "/tmp/socklab-absolute-id", "x/y"] {
        let text = scenario(
            printf_program(),
            json!([{ "start": { "program": "t" } }]),
            json!([]),
            json!({ "id": id }),
        );
        let (code, stderr) = run_in(&dir, &text);
        assert_eq!(code, 2, "{id}: {stderr}");
        assert!(stderr.contains("the scenario id"), "{stderr}");
        assert!(stderr.contains("(at id)"), "{stderr}");
    }
    assert!(!base.path().join("x.pcap").exists());
    assert!(!Path::new("/tmp/socklab-absolute-id.pcap").exists());
}

#[test]
fn an_empty_id_or_one_with_a_newline_is_refused() {
    for id in ["", "upper\nround-trip", " padded"] {
        let err = input_error(scenario(
            printf_program(),
            json!([{ "start": { "program": "t" } }]),
            json!([]),
            json!({ "id": id }),
        ));
        assert!(err.contains("the scenario id"), "{id:?}: {err}");
    }
}

#[test]
fn two_checks_of_u32_max_points_are_refused_not_wrapped_to_a_pass() {
    let check = json!({ "exit": { "program": "t", "status": "success", "points": 4294967295u32 } });
    let err = input_error(scenario(
        printf_program(),
        json!([{ "start": { "program": "t" } }]),
        json!([check.clone(), check]),
        json!({}),
    ));
    assert!(
        err.contains("4294967295 points is more than any check may weigh"),
        "{err}"
    );
    assert!(err.contains("checks[0].exit.points"), "{err}");
}

#[test]
fn a_nul_in_args_is_the_files_mistake_not_the_programs() {
    let err = input_error(scenario(
        json!([{ "name": "t", "command": ["printf", "a\u{0}b"] }]),
        json!([{ "start": { "program": "t" } }]),
        json!([]),
        json!({}),
    ));
    assert!(err.contains("NUL character"), "{err}");
    assert!(err.contains("programs[0].command[1]"), "{err}");
}

#[test]
fn tcp_connections_with_min_above_max_is_refused() {
    let err = input_error(scenario(
        json!([{ "name": "server", "role": "tcp-upper-server" }]),
        json!([{ "start": { "program": "server" } }]),
        json!([{ "tcp_connections": { "program": "server", "min": 3, "max": 1 } }]),
        json!({}),
    ));
    assert!(err.contains("`min` 3 is above `max` 1"), "{err}");
}

#[test]
fn timeout_ms_of_zero_is_refused() {
    let err = input_error(scenario(
        printf_program(),
        json!([{ "start": { "program": "t" } }]),
        json!([]),
        json!({ "timeout_ms": 0 }),
    ));
    assert!(err.contains("`timeout_ms` is 0"), "{err}");
}

#[test]
fn a_newline_inside_a_write_line_is_refused() {
    let err = input_error(scenario(
        json!([{ "name": "c", "role": "tcp-upper-client" }]),
        json!([
            { "start": { "program": "c" } },
            { "write": { "program": "c", "line": "one\ntwo" } }
        ]),
        json!([]),
        json!({}),
    ));
    assert!(err.contains("cannot contain a line break"), "{err}");
    assert!(err.contains("steps[1].write.line"), "{err}");
}

#[test]
fn a_regex_quantifier_is_not_taken_for_a_placeholder() {
    let dir = tempfile::tempdir().unwrap();
    let text = scenario(
        printf_program(),
        json!([
            { "start": { "program": "t" } },
            { "expect_output": { "program": "t", "regex": "^x\\d{3}$", "title": "three digits" } }
        ]),
        json!([]),
        json!({}),
    );
    let (code, stderr) = run_in(dir.path(), &text);
    assert_eq!(code, 0, "{stderr}");
    let results: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("report/results.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(results["scenarios"][0]["checks"][0]["outcome"], "passed");
}

#[test]
fn an_unknown_lab_lists_the_labs() {
    let out = socklab().args(["run", "--lab", "uper"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("did you mean `upper`?"), "{err}");
    assert!(err.contains("the labs are: upper, hello"), "{err}");
}

#[test]
fn a_results_json_inside_a_scenario_folder_is_not_a_bad_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let scenarios = dir.path().join("scenarios");
    std::fs::create_dir_all(&scenarios).unwrap();
    std::fs::write(
        scenarios.join("only-true.json"),
        scenario(
            printf_program(),
            json!([{ "start": { "program": "t" } }]),
            json!([]),
            json!({}),
        ),
    )
    .unwrap();
    // A report written beside the scenarios, as `--report scenarios` would.
    std::fs::write(scenarios.join("results.json"), r#"{"schema_version": 2}"#).unwrap();
    let out = socklab()
        .arg("run")
        .arg(&scenarios)
        .arg("--report")
        .arg(dir.path().join("report"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every file of the bad-input corpus (`fixtures/bad-input/`) is bad input, exit 2, and what
/// socklab says about it is a golden file (`tests/snapshots/bad_input__*.snap`), so a change in
/// an error message shows in review. After an intended change:
/// `INSTA_UPDATE=always cargo test --test bad_input`, then review the .snap diffs.
#[test]
fn every_file_of_the_bad_input_corpus_gets_its_message() {
    let corpus = common::root().join("fixtures/bad-input");
    let mut cases: Vec<(String, Vec<String>)> = Vec::new();
    let mut scenarios: Vec<_> = std::fs::read_dir(corpus.join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    scenarios.sort();
    for path in scenarios {
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let rel = format!("fixtures/bad-input/scenarios/{stem}.json");
        cases.push((format!("scenario-{stem}"), vec!["run".into(), rel]));
    }
    let mut manifests: Vec<_> = std::fs::read_dir(corpus.join("manifests"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    manifests.sort();
    for dir in manifests {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let rel = format!("fixtures/bad-input/manifests/{name}");
        cases.push((
            format!("manifest-{name}"),
            ["run", "--lab", "upper", "--submission", &rel]
                .map(String::from)
                .to_vec(),
        ));
    }
    assert!(cases.len() >= 30, "the corpus has {} files", cases.len());
    let report = tempfile::tempdir().unwrap();
    for (name, args) in cases {
        let out = socklab()
            .args(&args)
            .arg("--report")
            .arg(report.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(out.stdout.is_empty(), "{name}: a bad input runs nothing");
        insta::assert_snapshot!(name, stderr);
    }
}
