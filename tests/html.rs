//! The HTML reports in a real browser (issue 10): `socklab run --format html` writes a
//! report.html that is valid HTML5 (the W3C's checker), that headless Chromium loads with no
//! network request and no console message, and draws; a student's hostile output stays text;
//! and each of these checks fails on a page that does what it forbids. Chromium, Java and
//! vnu.jar must be installed (scripts/test.sh installs them): without them these tests fail,
//! they do not skip.

mod common;

use std::path::Path;
use std::sync::OnceLock;

use common::browser::{self, assert_offline_and_clean};
use common::{run_into, submission, vnu, Run};
use tempfile::TempDir;

/// `socklab run --submission fixtures/submissions/FIXTURE --lab LAB --format html`, by a
/// submission that loses checks (exit 1).
fn run_html(fixture: &str, lab: &str) -> (TempDir, Run) {
    let dir = tempfile::tempdir().unwrap();
    let sub = submission(fixture);
    let run = run_into(
        dir.path(),
        &["--submission", &sub, "--lab", lab, "--format", "html"],
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    (dir, run)
}

/// One real run of the upper lab, shared by the tests.
fn upper() -> &'static (TempDir, Run) {
    static RUN: OnceLock<(TempDir, Run)> = OnceLock::new();
    RUN.get_or_init(|| run_html("upper-lowercase", "upper"))
}

/// Scenarios of a run whose capture has packets: each gets a ladder.
fn with_packets(run: &Run) -> usize {
    run.results["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| !s["packets"].as_array().unwrap().is_empty())
        .count()
}

#[test]
fn report_html_of_a_real_run_loads_offline_draws_and_logs_nothing() {
    let (dir, run) = upper();
    let page = dir.path().join("report.html");
    vnu::assert_valid(&[&page]);
    assert_offline_and_clean(&page);
    let dom = browser::dump_dom(&page);
    assert!(dom.contains("TCP round trip: the server answers in uppercase"));
    assert!(dom.contains("<strong>71/79</strong>"), "{dom}");
    // The lost check with its reason, and the packets it cites linked to the packet list.
    assert!(dom.contains("byte 1 is \"h\" where \"H\" is due"), "{dom}");
    assert!(dom.contains("href=\"#upper-tcp-round-trip-packet-6\""));
    // One ladder per scenario whose capture has packets, each a lifeline per endpoint.
    let ladders = with_packets(run);
    assert!(ladders >= 8, "{ladders}");
    assert_eq!(dom.matches("<svg").count(), ladders);
}

#[test]
fn a_richer_ladder_of_the_proxy_lab_loads_offline() {
    let (dir, run) = run_html("proxy-no-cache", "proxy");
    let page = dir.path().join("report.html");
    vnu::assert_valid(&[&page]);
    assert_offline_and_clean(&page);
    let dom = browser::dump_dom(&page);
    assert_eq!(dom.matches("<svg").count(), with_packets(&run));
    // The proxy talks to both the client and the origin: three lifelines at least.
    let sc = run.results["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "proxy-forward")
        .unwrap();
    for p in sc["participants"].as_array().unwrap() {
        let name = p["name"].as_str().unwrap();
        assert!(dom.contains(&format!(">{name}</text>")), "{name} in {dom}");
    }
}

#[test]
fn hostile_output_of_a_student_is_text_in_the_browser() {
    let (dir, _) = upper();
    let mut results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("results.json")).unwrap())
            .unwrap();
    let evil = "<script>document.title='owned';console.error('owned')</script>\
                <img src=\"http://192.0.2.1/owned.png\">";
    let sc = &mut results["scenarios"][2];
    assert_eq!(sc["id"], "upper-tcp-round-trip");
    sc["programs"][0]["transcript"][0]["text"] = format!("{evil}\n").into();
    sc["checks"][0]["actual"] = evil.into();
    let own = tempfile::tempdir().unwrap();
    let json = own.path().join("results.json");
    std::fs::write(&json, results.to_string()).unwrap();
    let out = common::socklab()
        .args(["report", "--format", "html"])
        .arg(&json)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let page = own.path().join("report.html");
    std::fs::write(&page, &out.stdout).unwrap();
    vnu::assert_valid(&[&page]);
    assert_offline_and_clean(&page);
    let dom = browser::dump_dom(&page);
    assert!(!dom.contains("<script"), "{dom}");
    assert!(!dom.contains("owned</title>"));
    assert!(
        dom.contains("&lt;script&gt;document.title='owned'"),
        "{dom}"
    );
}

/// A page in `dir` named `name` with `body`, and `head` before its title.
fn page(dir: &Path, name: &str, head: &str, body: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">{head}<title>t</title></head>\
             <body>{body}</body></html>"
        ),
    )
    .unwrap();
    path
}

#[test]
fn each_browser_check_fails_on_a_page_that_does_what_it_forbids() {
    let dir = tempfile::tempdir().unwrap();
    let load =
        |name: &str, head: &str, body: &str| browser::load(&page(dir.path(), name, head, body));
    let logged =
        |loaded: &browser::Loaded, text: &str| loaded.console.iter().any(|l| l.contains(text));
    let drawn = "<h1>socklab</h1><p style=\"color:#c00\">some text to draw</p>";
    // 192.0.2.1 is a documentation address: the proxy refuses the request before it leaves.
    let image = "http://192.0.2.1/socklab-must-not-load.png";
    let fetches = load("fetches.html", "", &format!("{drawn}<img src=\"{image}\">"));
    assert_eq!(fetches.requests, [image], "{fetches:?}");
    let script = "<script>throw new Error('socklab-page-error')</script>";
    let throws = load("throws.html", "", &format!("{drawn}{script}"));
    assert!(throws.requests.is_empty(), "{throws:?}");
    assert!(
        logged(&throws, "Uncaught Error: socklab-page-error"),
        "{throws:?}"
    );
    // Were a page's escaping ever to fail, its policy would block the script and say so.
    let policy = "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'\">";
    let unescaped = load("unescaped.html", policy, &format!("{drawn}{script}"));
    assert!(
        logged(&unescaped, "violates the following Content Security Policy"),
        "{unescaped:?}"
    );
    let blank = load("blank.html", "", "");
    assert_eq!(browser::distinct_colours(&blank.png), 1);
    // An SVG line left open swallows what follows: the checker says so.
    let open = page(
        dir.path(),
        "open.html",
        "",
        "<svg><line x1=\"0\"><rect></rect></svg>",
    );
    assert!(vnu::messages(&[&open]).contains("not allowed as child of element “line”"));
    // And the clean page passes them all.
    let clean = page(dir.path(), "clean.html", "", drawn);
    assert_offline_and_clean(&clean);
    vnu::assert_valid(&[&clean]);
}

#[test]
fn summary_html_of_a_graded_class_links_every_student_and_loads_offline() {
    let class = tempfile::tempdir().unwrap();
    let students = ["alice", "bob", "carol"];
    let fixtures = ["upper-good", "upper-lowercase", "upper-swapcase"];
    for (id, fixture) in students.iter().zip(fixtures) {
        let to = class.path().join(id);
        std::fs::create_dir(&to).unwrap();
        for f in std::fs::read_dir(submission(fixture)).unwrap() {
            let f = f.unwrap();
            if f.file_type().unwrap().is_file() {
                std::fs::copy(f.path(), to.join(f.file_name())).unwrap();
            }
        }
    }
    let grade = |out_dir: &Path| {
        let out = common::socklab()
            .arg("grade")
            .arg(class.path())
            .arg("--out")
            .arg(out_dir)
            // The ports are drawn per run, and a reason may name one: the same seed, the same.
            .args(["--lab", "upper", "--seed", "7"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        std::fs::read(out_dir.join("summary.html")).unwrap()
    };
    let out_dir = tempfile::tempdir().unwrap();
    let again = tempfile::tempdir().unwrap();
    // Nothing in it differs between two gradings of one class (no date, no duration).
    assert!(
        grade(out_dir.path()) == grade(again.path()),
        "summary.html differs"
    );
    let summary = out_dir.path().join("summary.html");
    vnu::assert_valid(&[&summary]);
    assert_offline_and_clean(&summary);
    let dom = browser::dump_dom(&summary);
    // The score distribution is drawn; every student is linked to a report that loads.
    assert!(dom.contains("class=\"bar\""), "{dom}");
    for id in students {
        let link = format!("students/{id}/report.html");
        assert!(dom.contains(&format!("href=\"{link}\"")), "{id} in {dom}");
        vnu::assert_valid(&[&out_dir.path().join(&link)]);
        assert_offline_and_clean(&out_dir.path().join(link));
    }
}

/// The text of `text` between the first `start` and the `end` after it.
fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let (_, rest) = text
        .split_once(start)
        .unwrap_or_else(|| panic!("no {start} in {text}"));
    rest.split_once(end).map_or(rest, |(within, _)| within)
}

/// A check the rubric hides is on neither student page, report.md nor report.html (Gradescope's
/// meaning: not its title, verdict or points), and both say alike that checks are withheld;
/// results.json, the instructor's, keeps it.
#[test]
fn a_check_the_rubric_hides_is_on_neither_student_page() {
    const ROUND_TRIP: &str = "upper-tcp-round-trip";
    const HIDDEN: &str = "on the wire, the reply is the line in uppercase";
    let dir = tempfile::tempdir().unwrap();
    let rubric = dir.path().join("rubric.json");
    std::fs::write(
        &rubric,
        format!(
            r#"{{ "scenarios": {{ "{ROUND_TRIP}": {{ "checks": {{ "{HIDDEN}": {{ "visibility": "hidden" }} }} }} }} }}"#
        ),
    )
    .unwrap();
    let sub = submission("upper-lowercase");
    let report = dir.path().join("report");
    let rubric = rubric.display().to_string();
    let args = [
        "--submission",
        &sub,
        "--lab",
        "upper",
        "--rubric",
        &rubric,
        "--format",
        "html",
    ];
    let run = run_into(&report, &args);
    assert_eq!(run.code, 1, "{}", run.stdout);

    // The instructor's results keep the check, lost and hidden.
    let kept = common::check_titled(common::scenario(&run.results, ROUND_TRIP), HIDDEN);
    assert_eq!(kept["visibility"], "hidden", "{kept}");
    assert_eq!(kept["outcome"], "failed", "{kept}");

    let page = report.join("report.html");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(!run.report.contains(HIDDEN), "{}", run.report);
    assert!(!html.contains(HIDDEN), "{html}");
    // Both say the same: the visible checks' total, and what is withheld.
    let total = between(&run.report, "points **", "**");
    assert!(
        run.report
            .contains(&format!("points **{total}** (of the checks shown)")),
        "{}",
        run.report
    );
    assert!(
        html.contains(&format!("<strong>{total}</strong> (of the checks shown)")),
        "{total} in {html}"
    );
    let sentence = between(&run.report, "**Not shown:** ", "\n");
    assert!(
        // The check, and the same check in the round trip's two cross-test runs.
        sentence.starts_with("3 more check(s) are graded but not shown here (3 never shown)"),
        "{sentence}"
    );
    assert!(
        html.contains(&format!("<strong>Not shown:</strong> {sentence}")),
        "{sentence} in {html}"
    );
    assert!(run.report.contains("+ 1 check not shown"));
    assert!(html.contains("+ 1 check not shown"), "{html}");
    vnu::assert_valid(&[&page]);
}
