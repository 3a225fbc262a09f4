//! Cross-testing through the CLI: a `cross` scenario runs as written and once per side with
//! socklab's reference program on the other, by design; the report says which side is wrong.
//! Verdicts only: nothing here depends on how long anything takes.

mod common;

use common::{root, run_into, scenario, submission};
use serde_json::Value;

const ROUND_TRIP: &str = "scenarios/upper/tcp-round-trip.json";

/// The binding kind of the program named `name` in a scenario of results.json.
fn binding<'a>(sc: &'a Value, name: &str) -> &'a str {
    sc["programs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no program {name} in {}", sc["id"]))["binding"]["kind"]
        .as_str()
        .unwrap()
}

#[test]
fn a_pair_with_a_protocol_of_its_own_is_told_which_side_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let sub = submission("upper-reads-to-eof");
    let path = root().join(ROUND_TRIP).display().to_string();
    let run = run_into(dir.path(), &[&path, "--submission", &sub]);
    let r = &run.results;
    // End to end, the pair works; with socklab's client the server never answers.
    assert_eq!(scenario(r, "upper-tcp-round-trip")["verdict"], "pass");
    let yours = scenario(r, "upper-tcp-round-trip.socklab-client");
    assert_eq!(yours["verdict"], "fail");
    assert_eq!(binding(yours, "server"), "submission");
    assert_eq!(binding(yours, "client"), "reference");
    assert_eq!(yours["cross"]["yours"], "tcp-upper-server");
    let theirs = scenario(r, "upper-tcp-round-trip.socklab-server");
    assert_eq!(theirs["verdict"], "pass");
    assert_eq!(binding(theirs, "server"), "reference");
    assert_eq!(binding(theirs, "client"), "submission");
    // socklab's program earns nothing: what only it does weighs 0 points; what the student's
    // client does still counts.
    let converts = common::check_titled(theirs, "on the wire, the reply is the line in uppercase");
    assert_eq!(converts["points"], 0, "{converts}");
    let prints = common::check_titled(theirs, "the client prints the server's reply");
    assert!(prints["points"].as_u64().unwrap() > 0, "{prints}");
    assert!(
        run.report.contains(
            "Your client is right: it passes with socklab's server. Your server is wrong: with \
             socklab's client it loses “on the wire, the reply is the line in uppercase”."
        ),
        "{}",
        run.report
    );
    assert_eq!(run.code, 1, "lost checks are the student's: exit 1");
}

#[test]
fn a_server_without_its_client_is_graded_against_socklabs_client_alone() {
    // A submission with only the TCP server: end to end and the run with socklab's server need
    // the client, which is not submitted; the run with socklab's client grades the server.
    let src = root().join("fixtures/submissions/upper-good/TCPServer.py");
    let sub = tempfile::tempdir().unwrap();
    std::fs::copy(&src, sub.path().join("TCPServer.py")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = root().join(ROUND_TRIP).display().to_string();
    let sub_arg = sub.path().display().to_string();
    let run = run_into(dir.path(), &[&path, "--submission", &sub_arg]);
    let r = &run.results;
    let outcomes = |id: &str| -> Vec<String> {
        scenario(r, id)["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["outcome"].as_str().unwrap().to_string())
            .collect()
    };
    for id in [
        "upper-tcp-round-trip",
        "upper-tcp-round-trip.socklab-server",
    ] {
        assert!(
            outcomes(id).iter().all(|o| o == "not_submitted"),
            "{id}: {:?}",
            outcomes(id)
        );
    }
    let yours = scenario(r, "upper-tcp-round-trip.socklab-client");
    assert_eq!(yours["verdict"], "pass", "{yours}");
    assert!(yours["points"].as_u64().unwrap() > 0);
    assert!(
        run.report
            .contains("Your server is right: it passes with socklab's client."),
        "{}",
        run.report
    );
}

#[test]
fn a_cross_scenario_needs_one_server_and_one_client() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.json");
    std::fs::write(
        &file,
        r#"{"id": "upper-bad-cross", "lab": "upper", "title": "T", "question": "Q",
            "explanation": "E", "cross": true,
            "programs": [{"name": "server", "role": "tcp-upper-server"}],
            "steps": [{"start": {"program": "server"}}]}"#,
    )
    .unwrap();
    let out = common::socklab()
        .args(["run", file.to_str().unwrap(), "--report"])
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "`cross` needs exactly two roles among the programs, one server and one client"
        ) && err.contains("(at cross)"),
        "{err}"
    );
}
