//! Reading a scenario file into the serde mirror, with errors located precisely.
//!
//! Contract: whatever the text, loading ends in time and memory linear in its length with a
//! scenario or one [`Diagnostic`], never a crash. A UTF-8 byte-order mark at the start (what
//! some Windows editors write) is accepted and dropped before parsing, so lines and columns
//! are those the editor shows. `serde_json` parses first and never goes deeper than 128 levels
//! ("recursion limit exceeded"; with the scenario's types a wrong type stops it much sooner);
//! the [`Locator`] scans the values only of text it accepted (and is bounded in depth itself),
//! so a file of 50,000 nested arrays is an ordinary error. Messages that quote megabytes of the
//! file are not matched against regexes, and [`Diagnostic`] shows them cut.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;

use super::{did_you_mean, Diagnostic, Locator, Scenario};

/// A scenario with its source, kept so later stages can point into the file.
#[derive(Debug, Clone)]
pub(crate) struct Loaded {
    pub path: PathBuf,
    pub text: String,
    pub locator: Locator,
    pub scenario: Scenario,
    /// Set on the runs a `cross` scenario adds ([`Cross`]); None for a scenario as written.
    pub cross: Option<Cross>,
}

/// One cross-test run of a scenario with `"cross": true`: the submission's program for one
/// role against socklab's reference program for the other, by design.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Cross {
    /// The scenario as written (end to end), whose id this run's id extends.
    pub base: String,
    /// The role the submission plays (`tcp-upper-server`).
    pub yours: String,
    /// The role socklab's reference program plays (`tcp-upper-client`).
    pub reference: String,
}

/// Reads and parses a scenario file.
pub(crate) fn load(path: &Path) -> Result<Loaded, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    load_str(path, text).map_err(LoadError::Invalid)
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum LoadError {
    #[error("cannot read scenario {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Invalid(Box<Diagnostic>),
}

/// The UTF-8 byte-order mark, U+FEFF.
const BOM: char = '\u{feff}';

/// Parses scenario text (less a leading byte-order mark); `path` is only used in messages.
pub(crate) fn load_str(path: &Path, text: String) -> Result<Loaded, Box<Diagnostic>> {
    let (scenario, source) = parse::<Scenario>(path, text)?;
    Ok(Loaded {
        path: source.path,
        text: source.text,
        locator: source.locator,
        scenario,
        cross: None,
    })
}

/// A JSON file's text, kept after parsing so that later stages can point into it.
#[derive(Debug)]
pub(crate) struct Source {
    pub path: PathBuf,
    pub text: String,
    pub locator: Locator,
}

impl Source {
    /// A diagnostic at `span` (the file start if unknown), the JSON path `json_path`.
    pub(crate) fn diagnostic_at(
        &self,
        span: Option<(usize, usize)>,
        json_path: &str,
        message: impl Into<String>,
        help: Option<String>,
    ) -> Diagnostic {
        span_diagnostic(
            &self.path,
            &self.text,
            &self.locator,
            span,
            json_path,
            message.into(),
            help,
        )
    }
}

/// Parses JSON text (less a leading byte-order mark) into `T`, the way scenarios are parsed:
/// the first problem is one [`Diagnostic`] with its line, column and JSON path, and "did you
/// mean" for a misspelled field or variant. `path` is only used in messages.
pub(crate) fn parse<T: serde::de::DeserializeOwned>(
    path: &Path,
    mut text: String,
) -> Result<(T, Source), Box<Diagnostic>> {
    if text.starts_with(BOM) {
        text.drain(..BOM.len_utf8());
    }
    let mut de = serde_json::Deserializer::from_str(&text);
    let parsed = serde_path_to_error::deserialize::<_, T>(&mut de)
        .map_err(|e| (e.path().to_string(), e.into_inner()))
        // Trailing characters are an error too, reported by `end`.
        .and_then(|s| de.end().map(|()| s).map_err(|e| (String::new(), e)));
    match parsed {
        Ok(value) => Ok((
            value,
            Source {
                path: path.to_path_buf(),
                locator: Locator::new(&text),
                text,
            },
        )),
        Err((json_path, inner)) => {
            // Only the lines: no value of refused text is ever looked up.
            let locator = Locator::lines(&text);
            let message = strip_position(&inner.to_string());
            let help = suggestion(&message);
            let offset = locator.offset(&text, inner.line(), inner.column());
            Err(Box::new(diagnostic_at(
                path, &text, &locator, offset, 1, json_path, message, help,
            )))
        }
    }
}

impl Loaded {
    /// A diagnostic pointing at the value at `json_path` (or at the file start if unknown).
    pub(crate) fn diagnostic(
        &self,
        json_path: &str,
        message: impl Into<String>,
        help: Option<String>,
    ) -> Diagnostic {
        span_diagnostic(
            &self.path,
            &self.text,
            &self.locator,
            self.locator.value(json_path),
            json_path,
            message.into(),
            help,
        )
    }
}

/// A diagnostic underlining `span` (the file start if unknown) on its first line.
fn span_diagnostic(
    path: &Path,
    text: &str,
    locator: &Locator,
    span: Option<(usize, usize)>,
    json_path: &str,
    message: String,
    help: Option<String>,
) -> Diagnostic {
    let (start, end) = span.unwrap_or((0, 1));
    let width = text
        .get(start..end)
        .map_or(1, |s| s.lines().next().map_or(1, |l| l.chars().count()));
    diagnostic_at(
        path,
        text,
        locator,
        start,
        width,
        json_path.to_string(),
        message,
        help,
    )
}

#[allow(clippy::too_many_arguments)]
fn diagnostic_at(
    path: &Path,
    text: &str,
    locator: &Locator,
    offset: usize,
    width: usize,
    json_path: String,
    message: String,
    help: Option<String>,
) -> Diagnostic {
    let (line, column) = locator.line_col(text, offset);
    Diagnostic {
        file: path.to_path_buf(),
        line,
        column,
        path: if json_path.is_empty() {
            ".".into()
        } else {
            json_path
        },
        message,
        help,
        source_line: text.lines().nth(line - 1).unwrap_or("").to_string(),
        width,
    }
}

/// serde_json appends " at line L column C"; the diagnostic shows the place its own way.
fn strip_position(message: &str) -> String {
    // By hand rather than a regex: the message may quote megabytes of the file.
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let stripped = message.rfind(" at line ").and_then(|i| {
        let (line, column) = message[i + " at line ".len()..].split_once(" column ")?;
        (digits(line) && digits(column)).then(|| &message[..i])
    });
    stripped.unwrap_or(message).to_string()
}

/// "did you mean" for serde's unknown field/variant messages, which list the expected names.
fn suggestion(message: &str) -> Option<String> {
    static UNKNOWN: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^unknown (?:field|variant) `([^`]*)`, expected (.*)$").expect("valid regex")
    });
    static NAME: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"`([^`]*)`").expect("valid regex"));
    // A message this long quotes a name far longer than any field or variant: no typo of one,
    // and not worth matching the regexes over (an unknown field may be megabytes long).
    if message.len() > 4096 {
        return None;
    }
    let caps = UNKNOWN.captures(message)?;
    let word = caps.get(1)?.as_str();
    let expected = caps.get(2)?.as_str();
    let names: Vec<&str> = NAME
        .captures_iter(expected)
        .filter_map(|c| c.get(1).map(|m| m.as_str()))
        .collect();
    did_you_mean(word, names.iter().copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> Diagnostic {
        *load_str(Path::new("s.json"), text.to_string()).unwrap_err()
    }

    const MINIMAL: &str = r#"{
  "id": "x", "lab": "upper", "title": "t", "question": "q", "explanation": "e",
  "programs": [{"name": "client", "role": "tcp-upper-client"}],
  "steps": [{"start": {"program": "client"}}]
}"#;

    #[test]
    fn minimal_scenario_loads() {
        let loaded = load_str(Path::new("s.json"), MINIMAL.into()).unwrap();
        assert_eq!(loaded.scenario.programs[0].name, "client");
    }

    #[test]
    fn a_byte_order_mark_is_dropped_and_columns_stay_the_editors() {
        let loaded = load_str(Path::new("s.json"), format!("\u{feff}{MINIMAL}")).unwrap();
        assert_eq!(loaded.scenario.programs[0].name, "client");
        assert_eq!(loaded.text, MINIMAL);
        let d = err("\u{feff}{\"id\" 1}");
        assert_eq!((d.line, d.column), (1, 7), "{d}");
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        for open in ["[", "{\"a\":", "{\"programs\":"] {
            let text = open.repeat(50_000);
            let d = err(&text);
            assert_eq!(d.line, 1, "{d}");
        }
        let d = err(&format!(
            "{{\"id\": \"x\", \"programs\": [{{\"name\": \"a\", \"args\": {}]}}]}}",
            "[".repeat(50_000)
        ));
        assert!(!d.message.is_empty(), "{d}");
    }

    #[test]
    fn misspelled_step_kind_points_at_it_with_suggestion() {
        let d = err(&MINIMAL.replace("\"start\"", "\"strat\""));
        assert_eq!((d.line, d.path.as_str()), (4, "steps[0]"));
        assert!(
            d.message.starts_with("unknown variant `strat`"),
            "{}",
            d.message
        );
        assert_eq!(d.help.as_deref(), Some("did you mean `start`?"));
    }

    #[test]
    fn unknown_field_gets_suggestion() {
        let d = err(&MINIMAL.replace("\"title\"", "\"titel\""));
        assert_eq!(d.line, 2);
        assert_eq!(d.help.as_deref(), Some("did you mean `title`?"));
    }

    #[test]
    fn malformed_json_has_line_and_column() {
        let d = err("{\n  \"id\": \"x\",\n  \"lab\" \"upper\"\n}");
        assert_eq!((d.line, d.column), (3, 9));
        assert!(d.message.contains("expected `:`"), "{}", d.message);
        let shown = d.to_string();
        assert!(shown.contains("--> s.json:3:9"), "{shown}");
    }

    #[test]
    fn trailing_garbage_is_an_error() {
        let d = err(&format!("{MINIMAL}\n}}"));
        assert!(d.message.contains("trailing"), "{}", d.message);
    }
}
