//! `output` check: the program's whole output matches a condition.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{EvidenceCheck, RunView};
use crate::check::{shorten, Graded};
use crate::evidence::ProgramEvidence;
use crate::plan::{stream_name, CheckCx, Matcher};
use crate::scenario::StreamName;

/// `output` check: exactly one of `contains`, `not_contains`, `regex`, `not_regex`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct OutputCheck {
    /// Program name from `programs`.
    pub program: String,
    /// Stream to look at. Default: stdout.
    #[serde(default)]
    pub stream: StreamName,
    /// The output contains this text (placeholders allowed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contains: Option<String>,
    /// The output does not contain this text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_contains: Option<String>,
    /// The output matches this regular expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
    /// The output does not match this regular expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_regex: Option<String>,
    /// Points. Default: 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<u32>,
    /// Human label for reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}
envelope!(OutputCheck);

/// The resolved `output` check.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Plan {
    pub program: usize,
    pub stream: StreamName,
    pub matcher: Matcher,
}

pub(crate) struct Kind;

impl EvidenceCheck for Kind {
    const NAME: &'static str = "output";
    type Spec = OutputCheck;
    type Plan = Plan;

    fn resolve(c: &OutputCheck, cx: &mut CheckCx<'_, '_>) -> Option<(Plan, String)> {
        let program = cx.started_program("program", &c.program)?;
        let matcher = cx.matcher(
            c.contains.as_deref(),
            c.not_contains.as_deref(),
            c.regex.as_deref(),
            c.not_regex.as_deref(),
        )?;
        let title = format!(
            "{}'s {} {}",
            c.program,
            stream_name(c.stream),
            matcher.describe()
        );
        let stream = c.stream;
        Some((
            Plan {
                program,
                stream,
                matcher,
            },
            title,
        ))
    }

    fn grade(plan: &Plan, run: &RunView<'_>) -> Graded {
        let (name, ev) = run.program(plan.program);
        grade(name, &ev, plan.stream, &plan.matcher)
    }
}

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
                let last = crate::check::error_line(&text).unwrap_or_default();
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
