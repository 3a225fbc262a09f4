//! `socklab grade` and `socklab merge` as a user meets them on a small class: a student with a
//! manifest that does not parse and one with nothing to grade are graded 0 with why (the class
//! goes on), a regraded student replaces only their own directory, and mistakes on the command
//! line are said before anything runs (exit 2). The fixture class, sharding and --resume are
//! in tests/class.rs.

use std::path::Path;

mod common;

use common::{root, socklab};

/// A class: `ada` (the upper lab, flat), `bad` (a manifest that is not JSON), `cy` (a text
/// file only).
fn small_class(dir: &Path) {
    let ada = dir.join("ada");
    std::fs::create_dir_all(&ada).unwrap();
    for f in [
        "TCPServer.py",
        "TCPClient.py",
        "UDPServer.py",
        "UDPClient.py",
    ] {
        std::fs::copy(
            root().join("fixtures/submissions/upper-good").join(f),
            ada.join(f),
        )
        .unwrap();
    }
    std::fs::create_dir_all(dir.join("bad")).unwrap();
    std::fs::write(dir.join("bad/socklab.json"), "{ \"roles\": ").unwrap();
    std::fs::create_dir_all(dir.join("cy")).unwrap();
    std::fs::write(dir.join("cy/notes.txt"), "I ran out of time").unwrap();
}

fn grade(class: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    socklab()
        .arg("grade")
        .arg(class)
        .arg("--out")
        .arg(out)
        .args(["--lab", "upper", "--scenario", "upper-tcp-round-trip"])
        .args(extra)
        .output()
        .unwrap()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn students_who_cannot_be_graded_score_0_with_why_and_the_class_goes_on() {
    let tmp = tempfile::tempdir().unwrap();
    let (class, out) = (tmp.path().join("class"), tmp.path().join("out"));
    small_class(&class);
    let run = grade(&class, &out, &[]);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(run.status.code(), Some(0), "{stdout}");
    // ada does what the handout asks: every point of the scenario; the others 0.
    let ada: serde_json::Value =
        serde_json::from_str(&read(&out.join("students/ada/results.json"))).unwrap();
    let max = ada["summary"]["max_points"].as_u64().unwrap();
    assert!(max > 0);
    let expected = format!("student,total,upper\nada,{max},{max}\nbad,0,0\ncy,0,0\n");
    assert_eq!(read(&out.join("grades.csv")), expected);
    let bad = read(&out.join("students/bad/report.md"));
    assert!(
        bad.contains("the submission cannot be graded") && bad.contains("socklab.json:1:"),
        "{bad}"
    );
    let cy = read(&out.join("students/cy/report.md"));
    assert!(
        cy.contains("no program of any lab was found among: notes.txt"),
        "{cy}"
    );
    // Nothing ran: said in words, not as empty tables.
    assert!(
        cy.contains("No file of the submission played a role")
            && cy.contains("No scenario was run.")
            && !cy.contains("| Verdict |"),
        "{cy}"
    );
    let summary = read(&out.join("summary.md"));
    for id in ["ada", "bad", "cy"] {
        assert!(
            summary.contains(&format!("[{id}](students/{id}/report.md)")),
            "{summary}"
        );
    }
    // The capture of the scenario is the student's, beside their report.
    assert!(out.join("students/ada/upper-tcp-round-trip.pcap").is_file());

    // Regrading one student replaces only theirs; the class files still cover everyone.
    std::fs::write(out.join("students/ada/stale.txt"), "x").unwrap();
    let cy_before = read(&out.join("students/cy/results.json"));
    let again = grade(&class, &out, &["--student", "ada"]);
    assert_eq!(again.status.code(), Some(0));
    assert!(!out.join("students/ada/stale.txt").exists());
    assert_eq!(read(&out.join("students/cy/results.json")), cy_before);
    assert_eq!(read(&out.join("grades.csv")), expected);
    let hidden: Vec<String> = std::fs::read_dir(out.join("students"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(hidden.is_empty(), "left behind: {hidden:?}");
}

#[test]
fn mistakes_on_the_command_line_are_said_before_anything_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let (class, out) = (tmp.path().join("class"), tmp.path().join("out"));
    small_class(&class);
    let cases: &[(&[&str], &str)] = &[
        (&["--student", "adda"], "did you mean `ada`"),
        (&["--shard", "4/3"], "expected M/N with 1 <= M <= N"),
        (&["--shard-total", "3"], "JOB_COMPLETION_INDEX"),
    ];
    for (args, says) in cases {
        let run = grade(&class, &out, args);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
    let run = socklab()
        .args(["grade"])
        .arg(&class)
        .arg("--out")
        .arg(&out)
        .args(["--scenario", "upper-tcp-round-trp"])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("upper-tcp-round-trip"));
    assert!(!out.join("students/ada").exists(), "nothing was graded");

    // A single submission given as a class.
    let run = socklab()
        .arg("grade")
        .arg(class.join("cy"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("socklab run --submission"));

    let run = socklab()
        .arg("merge")
        .arg(&class)
        .arg("--out")
        .arg(tmp.path().join("merged"))
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("not a `socklab grade` output"));
}

#[test]
fn a_student_in_two_shards_is_an_error_of_the_merge() {
    let tmp = tempfile::tempdir().unwrap();
    let (class, out) = (tmp.path().join("class"), tmp.path().join("out"));
    small_class(&class);
    std::fs::remove_dir_all(class.join("ada")).unwrap();
    assert_eq!(grade(&class, &out, &[]).status.code(), Some(0));
    let twin = tmp.path().join("twin");
    assert_eq!(grade(&class, &twin, &[]).status.code(), Some(0));
    let run = socklab()
        .arg("merge")
        .arg(&out)
        .arg(&twin)
        .arg("--out")
        .arg(tmp.path().join("merged"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("student bad is in both"), "{stderr}");
}
