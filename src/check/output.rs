//! `output` check: the program's whole output matches a condition.

use super::{shorten, Graded};
use crate::evidence::ProgramEvidence;
use crate::plan::{stream_name, Matcher};
use crate::scenario::StreamName;

pub(crate) fn grade(
    name: &str,
    ev: &ProgramEvidence,
    stream: StreamName,
    matcher: &Matcher,
) -> Graded {
    let text = ev.text(stream);
    let passed = matcher.matches(&text);
    let which = stream_name(stream);
    Graded {
        passed,
        expected: format!("{which} {}", matcher.describe()),
        actual: quote_output(&text),
        reason: (!passed).then(|| {
            if text.trim().is_empty() {
                format!("{name} wrote nothing on {which}")
            } else if text.trim().lines().count() > 2 {
                // A traceback or a long log: its last telling line says more than its start.
                let last = super::error_line(&text).unwrap_or_default();
                format!("{name}'s {which} ends with: {last}")
            } else {
                format!("{name}'s {which} was {}", quote_output(&text))
            }
        }),
    }
}

/// Output as a short quoted string for tables.
pub(crate) fn quote_output(text: &str) -> String {
    if text.is_empty() {
        "(nothing)".into()
    } else {
        format!("{:?}", shorten(text.trim_end(), 300))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::StreamText;

    #[test]
    fn reports_actual_output() {
        let ev = ProgramEvidence {
            stdout: StreamText {
                text: "From Server: hELLO\n".into(),
                ..StreamText::default()
            },
            ..ProgramEvidence::default()
        };
        let ok = grade(
            "client",
            &ev,
            StreamName::Stdout,
            &Matcher::Contains("hELLO".into()),
        );
        assert!(ok.passed);
        let bad = grade(
            "client",
            &ev,
            StreamName::Stdout,
            &Matcher::Contains("HELLO".into()),
        );
        assert!(!bad.passed);
        assert_eq!(
            bad.reason.unwrap(),
            "client's stdout was \"From Server: hELLO\""
        );
        let none = grade(
            "client",
            &ev,
            StreamName::Stderr,
            &Matcher::Regex("x".into()),
        );
        assert_eq!(none.reason.unwrap(), "client wrote nothing on stderr");
    }
}
