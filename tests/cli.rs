//! Integration tests through the CLI: the bundled scenarios against the reference programs,
//! what the fixture matrix (tests/matrix.rs, which pins every fixture's lost checks and report)
//! does not say (the assigned port named in a reason, the console's once-per-cause lines, a
//! manifest's prompt answers, roles not submitted), the schema, and a run as an unprivileged
//! user. Bad scenario files are tests/bad_input.rs's corpus.

use std::process::Command;

use assert_cmd::cargo::cargo_bin;
use serde_json::Value;

mod common;

use common::{root, run_into, scenario, socklab, submission};

/// Runs `socklab run ARGS` into a temporary report directory: (exit code, results, stdout).
fn run(args: &[&str]) -> (i32, Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let r = run_into(dir.path(), args);
    (r.code, r.results, r.stdout)
}

/// Every failure reason of a scenario, joined.
fn reasons(results: &Value, id: &str) -> String {
    scenario(results, id)["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["passed"] == false)
        .map(|c| c["reason"].as_str().unwrap_or("").to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn every_bundled_scenario_passes_against_the_reference_programs() {
    let (code, results, stdout) = run(&["--jobs", "4"]);
    assert_eq!(code, 0, "{stdout}");
    let summary = &results["summary"];
    assert!(summary["scenarios"].as_u64().unwrap() >= 12, "{summary}");
    assert_eq!(summary["passed"], summary["scenarios"], "{stdout}");
    assert_eq!(summary["points"], summary["max_points"]);
    // The reference programs pass the advisory scenarios too (beyond the handout, 0 points).
    let advisory = &summary["advisory"];
    assert!(advisory["scenarios"].as_u64().unwrap() >= 3, "{summary}");
    assert_eq!(advisory["passed"], advisory["scenarios"], "{stdout}");
    assert_eq!(results["schema_version"], 2);
    // Every role of every scenario was bound to the reference implementation; the rest are
    // socklab's peers or the scenario's own commands (a browser, a set-up step).
    for s in results["scenarios"].as_array().unwrap() {
        for p in s["programs"].as_array().unwrap() {
            let kind = p["binding"]["kind"].as_str().unwrap();
            if p["role"].is_string() {
                assert_eq!(kind, "reference", "{}: {p}", s["id"]);
            } else {
                assert!(matches!(kind, "peer" | "command"), "{}: {p}", s["id"]);
            }
        }
    }
}

#[test]
fn hardcoded_port_submission_is_told_which_port_it_listens_on() {
    let (code, results, _) = run(&[
        "--lab",
        "upper",
        "--submission",
        &submission("upper-hardcoded-port"),
    ]);
    assert_eq!(code, 1);
    let port = scenario(&results, "upper-tcp-round-trip")["ports"][0]["port"]
        .as_u64()
        .unwrap();
    let why = reasons(&results, "upper-tcp-round-trip");
    assert!(
        why.contains(&format!(
            "server never listened on the assigned port {port} (it listens on 12000)"
        )),
        "{why}"
    );
    let why = reasons(&results, "upper-udp-round-trip");
    assert!(why.contains("(it is bound on 12000)"), "{why}");
}

#[test]
fn python2_submission_is_diagnosed_once_per_role_with_its_line() {
    let (code, results, stdout) = run(&[
        "--lab",
        "upper",
        "--submission",
        &submission("upper-python2"),
    ]);
    assert_eq!(code, 1);
    assert_eq!(results["summary"]["points"], 0, "{stdout}");
    let diagnoses = results["diagnoses"].as_array().unwrap();
    let server: Vec<&Value> = diagnoses
        .iter()
        .filter(|d| d["id"] == "cannot-start:tcp-upper-server")
        .collect();
    assert_eq!(server.len(), 1, "{diagnoses:?}");
    let summary = server[0]["summary"].as_str().unwrap();
    assert!(
        summary.starts_with("`TCPServer.py` (tcp-upper-server) cannot start: SyntaxError at line "),
        "{summary}"
    );
    assert!(
        summary.contains("Missing parentheses in call to 'print'"),
        "{summary}"
    );
    // The checks it made impossible are not run, not a wall of failures.
    for c in scenario(&results, "upper-tcp-round-trip")["checks"]
        .as_array()
        .unwrap()
    {
        assert_eq!(c["outcome"], "not_run", "{c}");
        assert_eq!(c["cause"], "cannot-start:tcp-upper-server", "{c}");
    }
    // The console says it once per scenario and once at the end, not once per check.
    assert_eq!(stdout.matches("SyntaxError").count(), 4, "{stdout}");
}

#[test]
fn prompting_clients_are_driven_by_the_manifest() {
    let (code, results, stdout) = run(&[
        "--lab",
        "upper",
        "--submission",
        &submission("upper-prompt"),
    ]);
    assert_eq!(code, 0, "{stdout}");
    let client = &scenario(&results, "upper-tcp-round-trip")["programs"][1];
    assert_eq!(client["binding"]["how"], "socklab.json manifest");
    let stdin: Vec<&str> = client["transcript"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["stream"] == "stdin")
        .map(|e| e["text"].as_str().unwrap())
        .collect();
    assert_eq!(stdin[0], "127.0.0.1\n");
}

#[test]
fn roles_a_submission_lacks_score_zero_and_the_report_says_which_file_played_which() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        root().join("fixtures/submissions/upper-good/TCPServer.py"),
        dir.path().join("tcp_server.py"),
    )
    .unwrap();
    let sub = dir.path().display().to_string();
    let (code, results, _) = run(&["scenarios/upper/tcp-round-trip.json", "--submission", &sub]);
    assert_eq!(code, 1);
    let sc = scenario(&results, "upper-tcp-round-trip");
    assert_eq!(sc["points"], 0);
    assert!(sc["max_points"].as_u64().unwrap() > 0);
    for c in sc["checks"].as_array().unwrap() {
        assert_eq!(c["outcome"], "not_submitted", "{c}");
    }
    // socklab's own client never ran in its place.
    assert_eq!(sc["programs"][1]["binding"]["kind"], "not_submitted");
    let rows = results["bindings"].as_array().unwrap();
    let row = |role: &str| rows.iter().find(|r| r["role"] == role).unwrap();
    assert_eq!(row("tcp-upper-server")["file"], "tcp_server.py");
    assert_eq!(row("tcp-upper-client")["file"], Value::Null);
}

#[test]
fn an_empty_submission_scores_zero() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().display().to_string();
    let (code, results, stdout) = run(&["--lab", "upper", "--submission", &sub]);
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(results["summary"]["points"], 0);
    assert_eq!(results["summary"]["passed"], 0);
    assert!(results["summary"]["max_points"].as_u64().unwrap() > 0);
    assert!(
        stdout.contains("tcp-upper-server  not submitted"),
        "{stdout}"
    );
}

#[test]
fn server_py_and_client_py_score_zero_and_are_named_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let good = root().join("fixtures/submissions/upper-good");
    std::fs::copy(good.join("TCPServer.py"), dir.path().join("server.py")).unwrap();
    std::fs::copy(good.join("TCPClient.py"), dir.path().join("client.py")).unwrap();
    let sub = dir.path().display().to_string();
    let out = tempfile::tempdir().unwrap();
    let r = run_into(out.path(), &["--lab", "upper", "--submission", &sub]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert_eq!(r.results["summary"]["points"], 0);
    let unbound = r.results["unbound_files"].as_array().unwrap();
    let server = unbound.iter().find(|u| u["file"] == "server.py").unwrap();
    let hint = server["hint"].as_str().unwrap();
    assert!(hint.contains("did you mean `TCPServer.py`"), "{hint}");
    assert!(
        r.report.contains("Files that played no role"),
        "{}",
        r.report
    );
    assert!(r.report.contains("**not submitted**"), "{}", r.report);
    assert!(r.stdout.contains("server.py plays no role"), "{}", r.stdout);
}

#[test]
fn hello_never_takes_the_upper_labs_files_in_a_flat_submission() {
    let (code, results, stdout) =
        run(&["--lab", "hello", "--submission", &submission("upper-good")]);
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(results["summary"]["points"], 0, "{stdout}");
    let rows = results["bindings"].as_array().unwrap();
    let server = rows
        .iter()
        .find(|r| r["role"] == "tcp-hello-server")
        .unwrap();
    assert_eq!(server["file"], Value::Null);
    let how = server["how"].as_str().unwrap();
    assert!(
        how.contains("`TCPServer.py` plays the upper lab's role"),
        "{how}"
    );
}

#[test]
fn committed_schema_matches_the_code() {
    let out = socklab().arg("schema").output().unwrap();
    assert!(out.status.success());
    let committed = std::fs::read_to_string(root().join("schema/scenario.schema.json")).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        committed,
        "schema/scenario.schema.json is stale: run `cargo run -- schema > schema/scenario.schema.json`"
    );
}

#[test]
fn unknown_reference_role_is_bad_usage() {
    let out = socklab()
        .args(["ref", "tcp-upper-sever", "127.0.0.1", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean `tcp-upper-server`?"));
}

#[test]
fn report_rerenders_results_json_identically() {
    let dir = tempfile::tempdir().unwrap();
    let run = socklab()
        .args(["run", "scenarios/hello", "--report"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(run.status.success());
    let out = socklab()
        .arg("report")
        .arg(dir.path().join("results.json"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let written = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), written);
    // Piped into a reader that stops early (`| head`), each format ends quietly.
    for format in ["markdown", "json"] {
        use std::process::Stdio;
        let mut child = socklab()
            .arg("report")
            .arg(dir.path().join("results.json"))
            .args(["--format", format])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{format}: {out:?}");
        assert!(out.stderr.is_empty(), "{format}: {out:?}");
    }
}

#[test]
fn closed_stdout_is_not_an_error() {
    use std::process::Stdio;
    let mut child = socklab()
        .arg("schema")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
}

#[test]
fn list_shows_labs_roles_and_questions() {
    let out = socklab().arg("list").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("tcp-upper-server"), "{text}");
    assert!(
        text.contains("Q: Suppose you run TCPClient before you run TCPServer."),
        "{text}"
    );
}

/// The sandbox needs no privilege: as root, run a scenario as `nobody` to prove it.
#[test]
fn runs_as_an_unprivileged_user() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report");
    std::fs::create_dir(&report).unwrap();
    // The checkout may sit where `nobody` cannot reach (e.g. under /root): give it copies.
    let scenario = dir.path().join("udp-client-before-server.json");
    std::fs::copy(
        root().join("scenarios/upper/udp-client-before-server.json"),
        &scenario,
    )
    .unwrap();
    let bin = dir.path().join("socklab");
    std::fs::copy(cargo_bin("socklab"), &bin).unwrap();
    let is_root = nix_uid() == 0;
    let mut cmd = if is_root {
        use std::os::unix::fs::PermissionsExt;
        for p in [dir.path(), report.as_path()] {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o777)).unwrap();
        }
        std::fs::set_permissions(&scenario, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"]);
        c.arg(&bin);
        c
    } else {
        Command::new(&bin)
    };
    let out = cmd
        .current_dir(dir.path())
        .arg("run")
        .arg(&scenario)
        .arg("--report")
        .arg(&report)
        .output()
        .expect("setpriv (util-linux) is needed to run as another user");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("1 passed"), "{stdout}");
    let pcap = report.join("upper-udp-client-before-server.pcap");
    assert!(
        std::fs::metadata(&pcap).is_ok_and(|m| m.len() > 24),
        "no capture at {pcap:?}"
    );
}

fn nix_uid() -> u32 {
    // /proc/self/status: "Uid:\treal\teffective..."
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2)?.parse().ok())
        })
        .unwrap_or(u32::MAX)
}
