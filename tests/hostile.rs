//! Hostile submissions (issue 11, parts 1 and 3): each fixture is graded on the scenario that
//! shows its behaviour, and the run must end within its budgets, say in plain words what the
//! program did, keep the harness's memory small, and leave nothing behind: no process of the
//! fixture, no cgroup of the run, no port held.
//!
//! Every program of these runs carries a marker in its environment (`SOCKLAB_HOSTILE_MARK`, a
//! value unique to the test): a process left behind is found by it in `/proc/*/environ`, however
//! it renamed itself, changed directory or left its session. The verdicts checked are the
//! report's words, never durations.
//!
//! The fixtures are also in the fault matrix (`tests/matrix.rs`), which checks the exact checks
//! each one loses on every scenario of the lab.

use std::time::{Duration, Instant};

use serde_json::Value;

mod common;

use common::{root, socklab, submission};

/// The harness's peak resident memory must stay under this (issue 11).
const PEAK_RSS_KIB: u64 = 200 * 1024;

/// A run of one fixture and what it left.
struct Hostile {
    code: i32,
    results: Value,
    report: String,
    dir: tempfile::TempDir,
}

impl Hostile {
    fn diagnoses(&self) -> Vec<String> {
        self.results["diagnoses"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["summary"].as_str().unwrap().to_string())
            .collect()
    }

    fn has_diagnosis(&self, words: &str) -> bool {
        self.diagnoses().iter().any(|d| d.contains(words))
    }

    fn program<'a>(&'a self, name: &str) -> &'a Value {
        self.results["scenarios"][0]["programs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("no program {name}"))
    }
}

/// Grades `fixture` on the bundled scenario `scenario` (`tcp-round-trip`), with `edit` applied
/// to the scenario's JSON (the marker is added to every program), and checks what every hostile
/// run must hold.
fn grade(fixture: &str, scenario: &str, extra_args: &[&str], edit: impl Fn(&mut Value)) -> Hostile {
    grade_in(fixture, scenario, extra_args, &[], edit)
}

/// [`grade`] with environment variables for socklab.
fn grade_with_env(
    fixture: &str,
    scenario: &str,
    env: &[(&str, &str)],
    edit: impl Fn(&mut Value),
) -> Hostile {
    grade_in(fixture, scenario, &[], env, edit)
}

fn grade_in(
    fixture: &str,
    scenario: &str,
    extra_args: &[&str],
    env: &[(&str, &str)],
    edit: impl Fn(&mut Value),
) -> Hostile {
    let dir = tempfile::tempdir().unwrap();
    let mark = format!(
        "{}-{}-{}",
        fixture,
        std::process::id(),
        dir.path().display()
    );
    let text =
        std::fs::read_to_string(root().join(format!("scenarios/upper/{scenario}.json"))).unwrap();
    let mut s: Value = serde_json::from_str(&text).unwrap();
    for p in s["programs"].as_array_mut().unwrap() {
        p["env"] = serde_json::json!({ "SOCKLAB_HOSTILE_MARK": mark });
    }
    edit(&mut s);
    let file = dir.path().join(format!("{scenario}.json"));
    std::fs::write(&file, serde_json::to_string_pretty(&s).unwrap()).unwrap();
    let report = dir.path().join("report");
    let mut child = socklab()
        .arg("run")
        .arg(&file)
        .args(["--submission", &submission(fixture)])
        .args(extra_args)
        .envs(env.iter().copied())
        .arg("--report")
        .arg(&report)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let status = child.wait().unwrap();
    let results: Value = serde_json::from_str(
        &std::fs::read_to_string(report.join("results.json"))
            .unwrap_or_else(|e| panic!("{fixture}: no results.json ({e})")),
    )
    .unwrap();
    let run = Hostile {
        code: status.code().unwrap_or(-1),
        report: std::fs::read_to_string(report.join("report.md")).unwrap(),
        results,
        dir,
    };
    assert!(
        run.code == 0 || run.code == 1,
        "{fixture}: socklab exited with {} (harness failure?)\n{}",
        run.code,
        run.report
    );
    assert_nothing_left(fixture, &mark, pid);
    assert_ports_free(fixture, &run.results);
    assert_small(fixture, &run.results);
    run
}

/// No process carries the run's marker, and no cgroup of the run is left. The harness removes
/// its cgroups (killing what is in them) before it exits; processes killed by the end of a
/// namespace may take a moment to vanish, so the scan is repeated up to a ceiling.
fn assert_nothing_left(fixture: &str, mark: &str, pid: u32) {
    let needle = format!("SOCKLAB_HOSTILE_MARK={mark}");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut left = marked(&needle);
    while !left.is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
        left = marked(&needle);
    }
    assert!(
        left.is_empty(),
        "{fixture}: processes left after the run: {left:?}"
    );
    let mut stale = Vec::new();
    cgroups_named(
        std::path::Path::new("/sys/fs/cgroup"),
        &format!("socklab-{pid}-"),
        &mut stale,
    );
    assert!(stale.is_empty(), "{fixture}: cgroups left: {stale:?}");
}

/// Directories under `dir`, at any depth, whose name starts with `prefix` (not what is under
/// them). The harness makes its cgroups beside its own, which is the hierarchy's top only on a
/// v1 or hybrid host: on a cgroup v2 host it is deep in `/sys/fs/cgroup` (a user's delegated
/// slice). Symlinks (v1's `cpu -> cpu,cpuacct`) are not followed.
fn cgroups_named(dir: &std::path::Path, prefix: &str, found: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if !e.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        if e.file_name().to_string_lossy().starts_with(prefix) {
            found.push(e.path());
        } else {
            cgroups_named(&e.path(), prefix, found);
        }
    }
}

/// Live processes whose environment holds `needle` (pid and command name).
fn marked(needle: &str) -> Vec<(i32, String)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(env) = std::fs::read(e.path().join("environ")) else {
            continue;
        };
        if !env.split(|b| *b == 0).any(|v| v == needle.as_bytes()) {
            continue;
        }
        let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
        // A zombie is gone as a process; only its parent's reaping is pending.
        let state = stat.rsplit(')').next().unwrap_or("").trim().chars().next();
        if state == Some('Z') {
            continue;
        }
        let comm = std::fs::read_to_string(e.path().join("comm")).unwrap_or_default();
        out.push((pid, comm.trim().to_string()));
    }
    out
}

/// No socket of the host's network namespace is on the scenario's ports, but for TIME_WAIT
/// (the kernel's own wait after a connection closed: no process holds it). In a namespace run
/// the ports were never the host's; in a host run they were, and must be free now.
fn assert_ports_free(fixture: &str, results: &Value) {
    const TIME_WAIT: &str = "06";
    for sc in results["scenarios"].as_array().unwrap() {
        for p in sc["ports"].as_array().unwrap() {
            let port = p["port"].as_u64().unwrap();
            for table in ["tcp", "tcp6", "udp", "udp6"] {
                let text = std::fs::read_to_string(format!("/proc/net/{table}")).unwrap();
                let held: Vec<&str> = text
                    .lines()
                    .skip(1)
                    .filter(|l| {
                        let f: Vec<&str> = l.split_whitespace().collect();
                        let local = f.get(1).and_then(|a| a.rsplit(':').next());
                        local.and_then(|h| u64::from_str_radix(h, 16).ok()) == Some(port)
                            && f.get(3) != Some(&TIME_WAIT)
                    })
                    .collect();
                assert!(
                    held.is_empty(),
                    "{fixture}: port {port} is still held ({table}): {held:?}"
                );
            }
        }
    }
}

/// The harness's peak memory, as the run measured it, stays under [`PEAK_RSS_KIB`]: the
/// process that ran the scenarios and each sandbox's supervisor.
fn assert_small(fixture: &str, results: &Value) {
    let harness = results["peak_rss_kib"]
        .as_u64()
        .unwrap_or_else(|| panic!("{fixture}: results.json has no peak_rss_kib"));
    assert!(
        harness > 0 && harness < PEAK_RSS_KIB,
        "{fixture}: harness peak {harness} KiB"
    );
    for sc in results["scenarios"].as_array().unwrap() {
        let sup = sc["supervisor_peak_rss_kib"]
            .as_u64()
            .unwrap_or_else(|| panic!("{fixture}: no supervisor_peak_rss_kib"));
        assert!(
            sup > 0 && sup < PEAK_RSS_KIB,
            "{fixture}: supervisor peak {sup} KiB"
        );
    }
}

/// Whether the kernel enforces the process cap here (a pids cgroup or RLIMIT_NPROC), as the
/// run's header says; otherwise only supervision holds and a fork bomb is killed instead.
fn kernel_caps(run: &Hostile) -> bool {
    !run.results["process_cap"]
        .as_str()
        .unwrap()
        .starts_with("supervision")
}

#[test]
fn the_leftover_scan_finds_a_marked_process() {
    let mark = format!("scan-{}", std::process::id());
    let mut child = std::process::Command::new("sleep")
        .arg("30")
        .env("SOCKLAB_HOSTILE_MARK", &mark)
        .spawn()
        .unwrap();
    // Until the child has exec'ed, /proc shows the test's own environment: wait for it.
    let needle = format!("SOCKLAB_HOSTILE_MARK={mark}");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut found = marked(&needle);
    while found.is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
        found = marked(&needle);
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(found, vec![(child.id() as i32, "sleep".to_string())]);
}

#[test]
fn the_leftover_scan_finds_a_directory_at_any_depth() {
    let dir = tempfile::tempdir().unwrap();
    let deep = dir.path().join("user.slice/app.slice/socklab-7-0");
    std::fs::create_dir_all(deep.join("0")).unwrap();
    std::fs::create_dir_all(dir.path().join("socklab-8-0")).unwrap();
    let mut found = Vec::new();
    cgroups_named(dir.path(), "socklab-7-", &mut found);
    assert_eq!(found, [deep]);
}

#[test]
fn a_fork_bomb_is_capped_at_the_process_limit_and_named() {
    let run = grade("upper-fork-bomb", "tcp-round-trip", &[], |_| {});
    assert!(
        run.has_diagnosis("hit the process limit (128): the kernel refused its forks")
            || !kernel_caps(&run),
        "{:?}",
        run.diagnoses()
    );
    let cap = &run.program("server")["process_cap"];
    if kernel_caps(&run) {
        // The server still serves once the cap stopped its workers: nothing is charged.
        assert_eq!(run.code, 0, "{}", run.report);
        assert!(cap["refused_forks"].as_u64().unwrap() >= 1);
        if let Some(peak) = cap["peak"].as_u64() {
            assert!(peak <= 128, "peak {peak}");
        }
        let stdout = run.program("server")["stdout"]["text"].as_str().unwrap();
        assert!(stdout.contains("cannot fork any more workers"), "{stdout}");
    } else {
        assert_eq!(cap["killed"], true);
    }
}

#[test]
fn without_a_kernel_cap_the_supervisor_kills_a_fork_bomb_and_says_so() {
    // The last resort (no pids cgroup, RLIMIT_NPROC not binding), asked for explicitly. The
    // bomb is bounded (5000 workers at most), and a low cap makes it outrun the 2 ms tick.
    let run = grade_with_env(
        "upper-fork-bomb",
        "tcp-round-trip",
        &[("SOCKLAB_PROCESS_CAP", "supervision")],
        |s| s["limits"] = serde_json::json!({ "processes": 16 }),
    );
    assert!(
        run.results["process_cap"]
            .as_str()
            .unwrap()
            .starts_with("supervision only"),
        "{}",
        run.results["process_cap"]
    );
    assert_eq!(run.program("server")["process_cap"]["killed"], true);
    assert!(
        run.has_diagnosis("hit the process limit (16): it was stopped for running more"),
        "{:?}",
        run.diagnoses()
    );
    // Killed before it could serve: the round trip is lost.
    assert_eq!(run.code, 1);
}

#[test]
fn a_scenario_sets_a_lower_process_limit() {
    let run = grade("upper-fork-bomb", "tcp-round-trip", &[], |s| {
        s["limits"] = serde_json::json!({ "processes": 16 });
    });
    assert!(
        run.has_diagnosis("hit the process limit (16)"),
        "{:?}",
        run.diagnoses()
    );
    assert_eq!(run.program("server")["limits"]["processes"], 16);
    if kernel_caps(&run) {
        let stdout = run.program("server")["stdout"]["text"].as_str().unwrap();
        // The server itself is one of the 16.
        assert!(stdout.contains("started 15 workers"), "{stdout}");
    }
}

#[test]
fn a_program_that_allocates_until_it_fails_runs_out_of_memory_at_its_limit() {
    let run = grade("upper-memory-hog", "tcp-round-trip", &[], |_| {});
    assert_eq!(run.code, 1);
    assert!(
        run.has_diagnosis("ran out of memory (limit 1024 MiB)"),
        "{:?}",
        run.diagnoses()
    );
}

#[test]
fn a_program_limit_overrides_the_scenario_and_the_default() {
    let run = grade("upper-memory-hog", "tcp-round-trip", &[], |s| {
        s["limits"] = serde_json::json!({ "memory_mib": 512, "cpu_seconds": 30 });
        s["programs"][0]["limits"] = serde_json::json!({ "memory_mib": 64 });
    });
    assert!(
        run.has_diagnosis("ran out of memory (limit 64 MiB)"),
        "{:?}",
        run.diagnoses()
    );
    let limits = &run.program("server")["limits"];
    assert_eq!(limits["memory_mib"], 64);
    assert_eq!(limits["cpu_seconds"], 30);
    assert_eq!(run.program("client")["limits"]["memory_mib"], 512);
}

#[test]
fn a_server_that_binds_every_port_stops_at_the_descriptor_limit_and_its_ports_go_with_it() {
    let run = grade("upper-bind-all", "tcp-round-trip", &[], |_| {});
    assert_eq!(run.code, 0, "{}", run.report);
    let server = run.program("server");
    let stdout = server["stdout"]["text"].as_str().unwrap();
    assert!(stdout.contains("Too many open files"), "{stdout}");
    assert_eq!(server["limits"]["open_files"], 1024);
    // About a thousand ports reserved, never more than its descriptors allow.
    let reserved: u64 = stdout
        .split("reserved ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!((900..1024).contains(&reserved), "{reserved}");
}

#[test]
fn a_server_that_closes_its_stdout_keeps_serving_and_is_stopped_at_the_end() {
    let run = grade("upper-closed-stdout", "tcp-several-clients", &[], |_| {});
    assert_eq!(run.code, 0, "{}", run.report);
    let exit = &run.program("server")["exit"];
    assert_eq!(exit["by_harness"], true, "{exit}");
}

#[test]
fn a_daemon_that_ignores_sigterm_is_killed_in_a_namespace() {
    let run = grade("upper-daemon", "tcp-several-clients", &[], |_| {});
    assert_eq!(run.code, 1);
    assert!(run.has_diagnosis("detached child"), "{:?}", run.diagnoses());
}

#[test]
fn a_daemon_that_ignores_sigterm_is_killed_on_the_host_and_frees_its_port() {
    // On the host's loopback the daemon's port is a real one: assert_ports_free checks it.
    let run = grade(
        "upper-daemon",
        "tcp-round-trip",
        &["--isolation", "host"],
        |_| {},
    );
    assert_eq!(run.code, 0, "{}", run.report);
    let detached = run.program("server")["detached"].as_array().unwrap();
    assert!(!detached.is_empty(), "the daemon was not seen");
}

#[test]
fn a_flood_is_cut_with_a_marker_and_named() {
    let run = grade("upper-flood", "tcp-round-trip", &[], |_| {});
    assert_eq!(run.code, 0, "{}", run.report);
    assert!(
        run.has_diagnosis("printed 8 MB on stdout"),
        "{:?}",
        run.diagnoses()
    );
    let stdout = &run.program("server")["stdout"];
    assert_eq!(stdout["truncated"], true);
    assert!(stdout["text"]
        .as_str()
        .unwrap()
        .contains("bytes cut; kept the first"));
    let size = std::fs::metadata(run.dir.path().join("report/results.json"))
        .unwrap()
        .len();
    assert!(size < 1024 * 1024, "results.json is {size} bytes");
}

#[test]
fn an_endless_reply_ends_within_the_budget_with_its_output_and_capture_cut() {
    let run = grade("upper-endless-reply", "tcp-round-trip", &[], |_| {});
    assert_eq!(run.code, 1);
    assert!(
        run.has_diagnosis("(tcp-upper-client) printed"),
        "{:?}",
        run.diagnoses()
    );
    let sc = &run.results["scenarios"][0];
    // Charged: the client never exits (it waits for the end of the reply), and the connection
    // ends with a reset when the harness stops the programs. The reply itself was printed.
    let lost: Vec<&str> = sc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["outcome"] == "failed")
        .map(|c| c["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        lost,
        [
            "the client exits normally after the reply",
            "on the wire, a FIN each way closes the connection"
        ],
        "{}",
        run.report
    );
    // The budget is a ceiling: 20 s, plus the grace and drain after it.
    assert!(sc["duration_ms"].as_u64().unwrap() < 20_000 + 15_000);
    let pcap = run
        .dir
        .path()
        .join("report")
        .join(sc["capture"]["file"].as_str().unwrap());
    let size = std::fs::metadata(&pcap).unwrap().len();
    // 64 MiB of whole packets, then headers only.
    assert!(size < 100 * 1024 * 1024, "the capture is {size} bytes");
    let warned = sc["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w.as_str().unwrap().contains("headers only"));
    assert!(warned, "{}", sc["warnings"]);
}

#[test]
fn a_limit_out_of_range_is_bad_input_pointing_at_it() {
    let text = common::VALID_SCENARIO.replace(
        r#""programs": [{"name": "server", "role": "tcp-upper-server"}]"#,
        r#""programs": [{"name": "server", "role": "tcp-upper-server",
                "limits": {"processes": 0}}],
  "limits": {"memory_mib": 99999999}"#,
    );
    let err = common::input_error(text);
    assert!(err.contains("`processes` is 0"), "{err}");
    assert!(err.contains("programs[0].limits.processes"), "{err}");
    assert!(err.contains("`memory_mib` is 99999999"), "{err}");
    assert!(err.contains("bad.json:5:"), "{err}");
}
