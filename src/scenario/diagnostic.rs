//! Errors that point into a scenario file, rendered like rustc's: file:line:column, the JSON
//! path, the source line with a caret under the culprit, and "did you mean" where it applies.
//!
//! Contract: a rendered diagnostic stays small whatever the file holds. The excerpt shows at
//! most [`EXCERPT_CHARS`] characters of the source line, around the column, with `…` where the
//! line was cut; names quoted in the message and the JSON path are cut in the middle past
//! [`QUOTED_CHARS`] characters. The header's file:line:column is always the true one.

use std::fmt;
use std::path::PathBuf;

/// Most characters of the source line shown in an excerpt.
pub(crate) const EXCERPT_CHARS: usize = 200;

/// Most characters shown of a name quoted in a message (`` `...` ``) or of the JSON path.
pub(crate) const QUOTED_CHARS: usize = 120;

/// A problem at one place of one file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Diagnostic {
    pub file: PathBuf,
    /// 1-based line and column.
    pub line: usize,
    pub column: usize,
    /// JSON path of the offending value, e.g. `steps[2].start.program` (`.` for the root).
    pub path: String,
    pub message: String,
    pub help: Option<String>,
    /// The source line, for the excerpt.
    pub source_line: String,
    /// Width of the caret underline, in characters.
    pub width: usize,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "error: {}", shorten_quoted(&self.message))?;
        let gutter = self.line.to_string().len();
        let pad = " ".repeat(gutter);
        writeln!(
            f,
            "{pad}--> {}:{}:{} (at {})",
            self.file.display(),
            self.line,
            self.column,
            cut_middle(&self.path, QUOTED_CHARS)
        )?;
        if !self.source_line.is_empty() {
            let (line, caret_col, width) = excerpt(&self.source_line, self.column, self.width);
            writeln!(f, "{pad} |")?;
            writeln!(f, "{} | {}", self.line, line.replace('\t', " "))?;
            let caret_pad = " ".repeat(caret_col.saturating_sub(1));
            writeln!(f, "{pad} | {caret_pad}{}", "^".repeat(width.max(1)))?;
        }
        if let Some(help) = &self.help {
            writeln!(f, "{pad} = help: {}", shorten_quoted(help))?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostic {}

/// At most [`EXCERPT_CHARS`] characters of `line` around the 1-based `column`, `…` marking a
/// cut at either end; with the caret's column in that excerpt and its width, kept inside it.
fn excerpt(line: &str, column: usize, width: usize) -> (String, usize, usize) {
    let chars = line.chars().count();
    if chars <= EXCERPT_CHARS {
        return (line.to_string(), column, width);
    }
    let col = column.saturating_sub(1).min(chars);
    // The culprit starts a third of the way in, so some context before it shows too.
    let first = col
        .saturating_sub(EXCERPT_CHARS / 3)
        .min(chars - EXCERPT_CHARS);
    let last = first + EXCERPT_CHARS;
    let mut shown: String = line.chars().skip(first).take(EXCERPT_CHARS).collect();
    let lead = usize::from(first > 0);
    if first > 0 {
        shown.insert(0, '…');
    }
    if last < chars {
        shown.push('…');
    }
    let width = width.min(last.saturating_sub(col)).max(1);
    (shown, col - first + lead + 1, width)
}

/// `s` itself if at most `max` characters, else its start and end around a `…`.
fn cut_middle(s: &str, max: usize) -> String {
    let chars = s.chars().count();
    if chars <= max {
        return s.to_string();
    }
    let head = max / 2;
    let tail = max - head - 1;
    let mut out: String = s.chars().take(head).collect();
    out.push('…');
    out.extend(s.chars().skip(chars - tail));
    out
}

/// `message` with each `` `quoted` `` name longer than [`QUOTED_CHARS`] cut in the middle
/// (serde echoes an unknown field or variant whole, however long).
fn shorten_quoted(message: &str) -> String {
    if message.chars().count() <= QUOTED_CHARS {
        return message.to_string();
    }
    message
        .split('`')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                cut_middle(part, QUOTED_CHARS)
            } else {
                // Outside quotes the text is socklab's or serde's own, but it may still quote
                // the file (serde's `invalid value: string "..."`).
                cut_middle(part, 4 * QUOTED_CHARS)
            }
        })
        .collect::<Vec<_>>()
        .join("`")
}

/// The candidate closest to `word`, if close enough to be a plausible typo.
pub(crate) fn did_you_mean<'a, I>(word: &str, candidates: I) -> Option<String>
where
    I: IntoIterator<Item = &'a str>,
{
    // A word much longer than a name is no typo of it, and comparing costs its length times
    // the name's: a 10 MB unknown field name must not take seconds.
    let len = word.chars().count();
    candidates
        .into_iter()
        .filter(|c| len <= 2 * c.chars().count() + 8)
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| format!("did you mean `{c}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let roles = ["tcp-upper-server", "udp-upper-server", "tcp-upper-client"];
        assert_eq!(
            did_you_mean("tcp-uper-server", roles).as_deref(),
            Some("did you mean `tcp-upper-server`?")
        );
        assert_eq!(did_you_mean("zzz", roles), None);
        let long = format!("tcp-upper-server{}", "x".repeat(1_000_000));
        assert_eq!(did_you_mean(&long, roles), None);
    }

    fn diag(source_line: String, column: usize, width: usize, message: String) -> Diagnostic {
        Diagnostic {
            file: "s.json".into(),
            line: 1,
            column,
            path: ".".into(),
            message,
            help: None,
            source_line,
            width,
        }
    }

    #[test]
    fn short_lines_are_shown_whole() {
        let shown = diag("{\"a\" 1}".into(), 6, 1, "expected `:`".into()).to_string();
        assert!(shown.contains("1 | {\"a\" 1}\n  |      ^\n"), "{shown}");
    }

    #[test]
    fn a_long_line_is_cut_around_the_column_and_the_caret_stays_under_it() {
        let line = format!("{}X{}", "a".repeat(5000), "b".repeat(5000));
        let shown = diag(line, 5001, 10, "expected value".into()).to_string();
        assert!(shown.len() < 1000, "{shown}");
        assert!(shown.contains("--> s.json:1:5001"), "{shown}");
        let lines: Vec<&str> = shown.lines().collect();
        let excerpt = lines.iter().find(|l| l.starts_with("1 | ")).unwrap();
        let caret = lines.iter().find(|l| l.contains('^')).unwrap();
        assert!(
            excerpt.starts_with("1 | …") && excerpt.ends_with('…'),
            "{excerpt}"
        );
        assert_eq!(excerpt.chars().count(), "1 | ".len() + EXCERPT_CHARS + 2);
        let x = excerpt.chars().position(|c| c == 'X').unwrap();
        assert_eq!(caret.chars().position(|c| c == '^'), Some(x), "{shown}");
        // The culprit at either end of a long line is shown too, the caret under it.
        let line = format!("X{}Y", "a".repeat(10_000));
        for (col, culprit) in [(1, 'X'), (10_002, 'Y')] {
            let shown = diag(line.clone(), col, 1, "m".into()).to_string();
            let lines: Vec<&str> = shown.lines().collect();
            let at = lines[3].chars().position(|c| c == culprit);
            assert!(at.is_some(), "{shown}");
            assert_eq!(lines[4].chars().position(|c| c == '^'), at, "{shown}");
        }
    }

    #[test]
    fn long_quoted_names_in_the_message_are_cut() {
        let name = "x".repeat(100_000);
        let shown = diag(
            String::new(),
            1,
            1,
            format!("unknown field `{name}`, expected `id`"),
        )
        .to_string();
        assert!(shown.len() < 1000, "{shown}");
        assert!(shown.contains("x…x"), "{shown}");
        assert!(shown.contains("`, expected `id`"), "{shown}");
    }
}
