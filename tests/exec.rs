//! Process supervision through the CLI: "blocked" judged from the kernel's state, detached
//! children tracked and stopped, output floods bounded, interpreters resolved once. No test
//! depends on wall-clock timing: ceilings are generous and verdicts return early.

use serde_json::{json, Value};

mod common;

use common::run_into;

/// Runs one scenario made of `programs` and `steps` (ports: `port`); returns the scenario's
/// result and the size of results.json.
fn run_scenario(programs: Value, steps: Value, extra: &[&str]) -> (Value, usize) {
    let dir = tempfile::tempdir().unwrap();
    let scenario = json!({
        "id": "x", "lab": "upper", "title": "t", "question": "q", "explanation": "e",
        "ports": ["port"],
        "programs": programs,
        "steps": steps,
    });
    let path = dir.path().join("x.json");
    std::fs::write(&path, scenario.to_string()).unwrap();
    let report = dir.path().join("report");
    let mut args = vec![path.to_str().unwrap()];
    args.extend_from_slice(extra);
    let r = run_into(&report, &args);
    let size = std::fs::metadata(report.join("results.json"))
        .unwrap()
        .len() as usize;
    (r.results["scenarios"][0].clone(), size)
}

/// Runs a scenario whose one Python program `name` is started, then `step` runs.
fn start_then(name: &str, code: &str, step: Value, extra: &[&str]) -> Value {
    let steps = json!([{"start": {"program": name}}, step]);
    run_scenario(json!([python(name, code)]), steps, extra).0
}

fn python(name: &str, code: &str) -> Value {
    json!({"name": name, "command": ["python3", "-c", code], "transport": "tcp"})
}

fn step_detail(s: &Value, i: usize) -> String {
    s["steps"][i]["detail"].as_str().unwrap().to_string()
}

const UDP_CLIENT: &str = "import socket\n\
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n\
s.sendto(b'hello', ('127.0.0.1', {port}))\n\
print(s.recvfrom(100))\n";

#[test]
fn a_client_waiting_in_recvfrom_is_blocked() {
    let s = start_then(
        "c",
        UDP_CLIENT,
        json!({"expect_blocked": {"program": "c", "within_ms": 10000}}),
        &[],
    );
    assert_eq!(s["steps"][1]["met"], true, "{s:#}");
    let detail = step_detail(&s, 1);
    assert!(detail.contains("recvfrom on udp port"), "{detail}");
    // The bench's latency: the program was first seen waiting during this step (not carried
    // over from before it), and the verdict came after that.
    let step = &s["steps"][1];
    let since = step["waiting_since_ms"].as_u64().unwrap();
    let start = step["start_ms"].as_u64().unwrap();
    let end = step["end_ms"].as_u64().unwrap();
    assert!(start <= since && since <= end, "{step:#}");
    let interp = s["programs"][0]["interpreter"].as_str().unwrap();
    assert!(interp.starts_with("Python 3."), "{interp}");
    assert!(!s["programs"][0]["argv"][0]
        .as_str()
        .unwrap()
        .contains("/shims/"));
}

#[test]
fn a_program_reading_its_stdin_is_blocked() {
    let s = start_then(
        "c",
        "input()",
        json!({"expect_blocked": {"program": "c", "within_ms": 10000}}),
        &[],
    );
    assert_eq!(s["steps"][1]["met"], true, "{s:#}");
    assert!(step_detail(&s, 1).contains("standard input"));
}

#[test]
fn spinning_or_sleeping_is_not_blocked() {
    let (s, _) = run_scenario(
        json!([
            python("spin", "while True: pass"),
            python("nap", "import time; time.sleep(60)")
        ]),
        json!([
            {"start": {"program": "spin"}},
            {"start": {"program": "nap"}},
            {"expect_blocked": {"program": "spin", "within_ms": 300}},
            {"expect_blocked": {"program": "nap", "within_ms": 300}}
        ]),
        &[],
    );
    assert_eq!(s["steps"][2]["met"], false, "{s:#}");
    assert!(step_detail(&s, 2).contains("kept running"));
    assert_eq!(s["steps"][3]["met"], false, "{s:#}");
    assert!(step_detail(&s, 3).contains("not waiting for input"));
}

const DAEMON: &str = "import os, socket, sys\n\
if os.fork() > 0:\n    sys.exit(0)\n\
os.setsid()\n\
s = socket.socket()\n\
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
s.bind(('127.0.0.1', {port}))\n\
s.listen()\n\
while True:\n    c, _ = s.accept()\n    c.close()\n";

#[test]
fn a_daemonizing_servers_detached_child_is_tracked_ready_and_stopped() {
    // Host isolation: no PID namespace to kill the child for us, so this shows the harness
    // stops it.
    let (s, _) = run_scenario(
        json!([python("server", DAEMON)]),
        json!([
            {"start": {"program": "server"}},
            {"wait_ready": {"program": "server", "port": "port", "within_ms": 10000}},
            {"expect_exit": {"program": "server", "status": "success", "within_ms": 10000}}
        ]),
        &["--isolation", "host"],
    );
    assert_eq!(s["steps"][1]["met"], true, "{s:#}");
    assert!(step_detail(&s, 1).contains("detached process"), "{s:#}");
    assert_eq!(s["steps"][2]["met"], true, "{s:#}");
    let detached = s["programs"][0]["detached"].as_array().unwrap();
    assert_eq!(detached.len(), 1, "{s:#}");
    let d = &detached[0];
    assert_eq!(d["alive_at_end"], true);
    assert_eq!(d["comm"], "python3");
    let port = s["ports"][0]["port"].as_u64().unwrap();
    assert!(
        d["sockets"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["port"] == port && x["listening"] == true),
        "{d}"
    );
    // Stopped at teardown: the pid is gone (or reused by something else).
    let pid = d["pid"].as_i64().unwrap();
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    let cmdline = std::fs::read_to_string(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    assert!(
        !(comm.trim() == "python3" && cmdline.contains("setsid")),
        "the detached server {pid} outlived the run"
    );
}

const FLOOD: &str = "import os\nb = b'x' * 65536\nfor _ in range(1500): os.write(1, b)\n\
os.write(1, b'THE END')\n";

#[test]
fn a_flood_is_bounded_and_does_not_hide_other_programs() {
    let code_err = FLOOD.replace("os.write(1", "os.write(2");
    let (s, size) = run_scenario(
        json!([
            python("out", FLOOD),
            python("err", &code_err),
            python("quiet", "print('a quiet line')")
        ]),
        json!([
            {"start": {"program": "out"}},
            {"start": {"program": "err"}},
            {"start": {"program": "quiet"}},
            {"expect_exit": {"program": "out", "within_ms": 60000}},
            {"expect_exit": {"program": "err", "within_ms": 60000}},
            {"expect_exit": {"program": "quiet", "within_ms": 60000}}
        ]),
        &[],
    );
    assert!(size < 1024 * 1024, "results.json is {size} bytes");
    let total = 1500 * 65536 + 7;
    let out = &s["programs"][0]["stdout"];
    assert_eq!(out["bytes"], total, "{out:#}");
    assert_eq!(out["truncated"], true);
    assert!(out["text"].as_str().unwrap().ends_with("THE END"));
    assert!(out["text"]
        .as_str()
        .unwrap()
        .contains("bytes cut; kept the first"));
    assert_eq!(s["programs"][1]["stderr"]["bytes"], total);
    let quiet = &s["programs"][2];
    assert_eq!(quiet["stdout"]["text"], "a quiet line\n");
    assert!(quiet["transcript"][0]["text"]
        .as_str()
        .unwrap()
        .starts_with("a quiet line"));
}

#[test]
fn a_server_waiting_on_its_stdin_is_not_ready_without_waiting_out_the_limit() {
    let s = start_then(
        "server",
        "port = int(input('port? '))",
        json!({"wait_ready": {"program": "server", "port": "port", "within_ms": 600000}}),
        &["--isolation", "host"],
    );
    assert_eq!(s["steps"][1]["met"], false, "{s:#}");
    let detail = step_detail(&s, 1);
    assert!(detail.contains("standard input"), "{detail}");
}

const DOUBLE_FORK: &str = "import os, socket, sys, time\n\
if os.fork() > 0:\n    sys.exit(0)\n\
os.setsid()\n\
if os.fork() > 0:\n    os._exit(0)\n\
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n\
s.bind(('127.0.0.1', {port}))\n\
while True:\n    s.recvfrom(100)\n";

#[test]
fn a_double_forked_daemon_is_still_the_programs() {
    let (s, _) = run_scenario(
        json!([{"name": "server", "command": ["python3", "-c", DOUBLE_FORK], "transport": "udp"}]),
        json!([
            {"start": {"program": "server"}},
            {"wait_ready": {"program": "server", "port": "port", "within_ms": 10000}},
            {"expect_exit": {"program": "server", "status": "success", "within_ms": 10000}}
        ]),
        &[],
    );
    assert_eq!(s["steps"][1]["met"], true, "{s:#}");
    let port = s["ports"][0]["port"].as_u64().unwrap();
    let detached = s["programs"][0]["detached"].as_array().unwrap();
    let server = detached
        .iter()
        .find(|d| {
            d["sockets"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["port"] == port)
        })
        .unwrap_or_else(|| panic!("no detached process on port {port}: {s:#}"));
    assert_eq!(server["alive_at_end"], true);
    // The end state sees the detached server's socket although the program's own process
    // exited.
    let at_end = &s["programs"][0]["at_end"];
    assert_eq!(at_end["alive"], false, "{at_end}");
    assert!(
        at_end["sockets"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["port"] == port),
        "{at_end}"
    );
}

#[test]
fn a_missing_interpreter_is_a_harness_error_not_the_students() {
    let out = common::socklab()
        .args(["run", "scenarios/upper/udp-round-trip.json", "--submission"])
        .arg(common::root().join("fixtures/submissions/upper-good"))
        .arg("--report")
        .arg(tempfile::tempdir().unwrap().path())
        .env("PATH", "/nonexistent")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("`python3` is not installed"), "{stderr}");
}

/// Regression: programs were given the absolute nice value 5, so under a harness started with
/// `nice` (as the project's long runs are) raising them back to 5 took a privilege the sandbox
/// lacks, and every Python program failed to start with EACCES, charged to the student as
/// "cannot start". Programs now run 5 nicer than the harness, whatever its own value.
#[test]
fn a_harness_started_under_nice_still_starts_its_programs() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new("nice")
        .args(["-n", "10"])
        .arg(assert_cmd::cargo::cargo_bin("socklab"))
        .args(["run", "--lab", "web", "--submission"])
        .arg(common::submission("web-good"))
        .arg("--report")
        .arg(dir.path())
        .current_dir(common::root())
        .output()
        .expect("nice runs socklab");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(!stdout.contains("cannot start"), "{stdout}");
}
