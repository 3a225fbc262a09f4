//! A real browser inside the sandbox (issue 8): `scenarios/web/browser.json` runs headless
//! Chromium against the server under test, and a scenario that `requires` a program the
//! machine lacks is *not graded*, with a warning that says how to install it, instead of
//! failing the student or breaking the run. Chromium must be installed (scripts/test.sh
//! installs it): without it this test fails, it does not skip.

mod common;

use common::run_into;

#[test]
fn headless_chromium_inside_the_sandbox_loads_the_page_and_its_image() {
    let found = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .any(|d| d.join("chromium").is_file());
    assert!(found, "chromium is needed (scripts/test.sh installs it)");
    let report = tempfile::tempdir().unwrap();
    let run = run_into(report.path(), &["scenarios/web/browser.json"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let sc = &run.results["scenarios"][0];
    assert_eq!(sc["verdict"], "pass", "{}", run.stdout);
    assert!(
        sc["warnings"].as_array().unwrap().is_empty(),
        "{}",
        sc["warnings"]
    );
    // Every check was judged on this run's capture, the image's request and answer included.
    for c in sc["checks"].as_array().unwrap() {
        assert_eq!(c["outcome"], "passed", "{c}");
    }
    let image = common::check_titled(
        sc,
        "on the wire, the browser asks for the image the page references",
    );
    assert!(
        image["actual"].as_str().unwrap().contains("GET /image.png"),
        "{image}"
    );
    assert!(!image["evidence_packets"].as_array().unwrap().is_empty());
    // The browser ran as the scenario's command, inside the run's sandbox (its profile in the
    // sandbox's private /tmp), not as a student's program.
    let browser = sc["programs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "browser")
        .unwrap();
    assert_eq!(browser["binding"]["kind"], "command");
    assert_eq!(browser["exit"]["code"], 0, "{browser}");
}

#[test]
fn a_scenario_that_requires_a_missing_program_is_not_graded_and_says_how_to_install_it() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(common::root().join("scenarios/web/browser.json")).unwrap();
    let missing = text.replace(
        "\"requires\": [\"chromium\"]",
        "\"requires\": [\"socklab-no-such-browser\"]",
    );
    assert_ne!(missing, text, "browser.json no longer requires chromium");
    let scenario = dir.path().join("browser-missing.json");
    std::fs::write(&scenario, missing).unwrap();
    let report = dir.path().join("report");
    let run = run_into(&report, &[scenario.to_str().unwrap()]);
    // Neither the student's failure (exit 1) nor the harness breaking (exit 3).
    assert_eq!(run.code, 0, "{}", run.stdout);
    let sc = &run.results["scenarios"][0];
    assert_eq!(sc["verdict"], "not_graded");
    assert_eq!(run.results["summary"]["not_graded"], 1);
    assert_eq!(run.results["summary"]["passed"], 0);
    assert_eq!(run.results["summary"]["max_points"], 0);
    for c in sc["checks"].as_array().unwrap() {
        assert_eq!(c["outcome"], "not_graded", "{c}");
    }
    let warning = sc["warnings"][0].as_str().unwrap();
    assert!(
        warning.contains("`socklab-no-such-browser`") && warning.contains("apt-get install"),
        "{warning}"
    );
    assert!(run.stdout.contains("SKIP  web-browser"), "{}", run.stdout);
    assert!(run.stdout.contains(warning), "{}", run.stdout);
    assert!(run.stdout.contains("1 not graded"), "{}", run.stdout);
    assert!(run.report.contains("**Not graded**"), "{}", run.report);
    // No sandbox was made and nothing ran: no capture of a run that did not happen.
    assert!(!report.join("web-browser.pcap").exists());
}

/// The browser scenario can fail: a server that accepts connections and never answers loses
/// the page's and the image's checks, as the student's fault (exit 1), not as a harness error,
/// and the browser is stopped at the step's ceiling rather than hanging the run.
#[test]
fn a_server_that_never_answers_fails_the_browser_scenario() {
    let found = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .any(|d| d.join("chromium").is_file());
    assert!(found, "chromium is needed (scripts/test.sh installs it)");
    let dir = tempfile::tempdir().unwrap();
    let submission = dir.path().join("silent");
    std::fs::create_dir(&submission).unwrap();
    std::fs::write(
        submission.join("WebServer.py"),
        "import sys\nfrom socket import *\n\
         s = socket(AF_INET, SOCK_STREAM)\n\
         s.bind((sys.argv[1], int(sys.argv[2])))\n\
         s.listen(16)\n\
         print('Ready to serve...', flush=True)\n\
         held = []\n\
         while True:\n    c, _ = s.accept()\n    held.append(c)\n",
    )
    .unwrap();
    let report = dir.path().join("report");
    let run = run_into(
        &report,
        &[
            "scenarios/web/browser.json",
            "--submission",
            submission.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    let sc = &run.results["scenarios"][0];
    assert_eq!(sc["verdict"], "fail", "{}", run.stdout);
    for title in [
        "on the wire, the page comes back with 200 OK",
        "on the wire, the image comes back with 200 OK",
    ] {
        let c = common::check_titled(sc, title);
        assert_eq!(c["outcome"], "failed", "{c}");
    }
    // The browser did reach the server: its request is on the wire, so the loss is the
    // server's silence, not a browser that never ran.
    let asked = common::check_titled(sc, "on the wire, the browser asks for the page");
    assert_eq!(asked["outcome"], "passed", "{asked}");
}
