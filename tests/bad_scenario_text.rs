//! Scenario text a new user wrote or was handed that crashed `socklab run` or answered badly
//! (issue 11, part 7). Each test is named after the bug: the file is bad input, so `socklab run`
//! ends at once with exit code 2 and a short message pointing at file:line:column.

mod common;

use common::{input_error, VALID_SCENARIO as VALID};

/// The part of a long message a failed assertion shows.
fn head(s: &str) -> String {
    s.chars().take(2000).collect()
}

#[test]
fn deeply_nested_json_is_an_error_not_a_crash() {
    const LEVELS: usize = 50_000;
    let cases = [
        // Arrays at the root, objects at the root, and arrays where a field's value goes.
        format!("{}{}", "[".repeat(LEVELS), "]".repeat(LEVELS)),
        format!("{}1{}", r#"{"a":"#.repeat(LEVELS), "}".repeat(LEVELS)),
        format!(
            r#"{{"id": "t", "programs": {}{}}}"#,
            "[".repeat(LEVELS),
            "]".repeat(LEVELS)
        ),
        // Unterminated: nothing ever closes.
        r#"{"a":"#.repeat(LEVELS),
    ];
    for text in cases {
        let err = input_error(text.as_bytes());
        assert!(err.starts_with("error: "), "{}", head(&err));
        assert!(err.contains("bad.json:1:"), "{}", head(&err));
        assert!(!err.contains("overflow"), "{}", head(&err));
        assert!(err.len() < 4096, "{} bytes: {}", err.len(), head(&err));
    }
}

#[test]
fn a_byte_order_mark_is_not_an_error() {
    const BOM: &str = "\u{feff}";
    // The file is parsed: what is wrong is the role on line 3, at the column the editor shows.
    let misspelled = VALID.replace("tcp-upper-server", "tcp-uper-server");
    let err = input_error(format!("{BOM}{misspelled}").as_bytes());
    assert!(!err.contains("expected value"), "{err}");
    assert!(err.contains("unknown role `tcp-uper-server`"), "{err}");
    assert!(err.contains("bad.json:3:43 (at programs[0].role)"), "{err}");
    // A syntax error is placed as without the mark, not at 1:1.
    let err = input_error(format!("{BOM}{{\"id\" 1}}").as_bytes());
    assert!(err.contains("expected `:`"), "{err}");
    assert!(err.contains("bad.json:1:7"), "{err}");
}

#[test]
fn a_huge_line_of_garbage_is_not_echoed_back_whole() {
    const MB10: usize = 10 * 1024 * 1024;
    let garbage = "x".repeat(MB10);
    let cases = [
        // Garbage from the first column on.
        (garbage.clone(), "bad.json:1:1 "),
        // A valid start, then garbage where the next key should be.
        (format!(r#"{{"id": "t", {garbage}}}"#), "bad.json:1:13 "),
        // A 10 MB string, then an error just after it: the column is past the cut.
        (
            format!(r#"{{"id": "{garbage}" "lab": "upper"}}"#),
            &format!("bad.json:1:{} ", MB10 + 11),
        ),
        // A 10 MB unknown field name, which serde quotes in its message.
        (
            format!(r#"{{"{garbage}": 1}}"#),
            &format!("bad.json:1:{} ", MB10 + 3),
        ),
    ];
    for (text, place) in cases {
        let err = input_error(text.as_bytes());
        assert!(err.len() < 4096, "{} bytes: {}", err.len(), head(&err));
        assert!(err.contains(place), "{err}");
        assert!(
            err.contains("xxx"),
            "the excerpt still shows the line: {err}"
        );
    }
}
