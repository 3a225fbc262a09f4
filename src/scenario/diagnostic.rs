//! Errors that point into a scenario file, rendered like rustc's: file:line:column, the JSON
//! path, the source line with a caret under the culprit, and "did you mean" where it applies.

use std::fmt;
use std::path::PathBuf;

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
        writeln!(f, "error: {}", self.message)?;
        let gutter = self.line.to_string().len();
        let pad = " ".repeat(gutter);
        writeln!(
            f,
            "{pad}--> {}:{}:{} (at {})",
            self.file.display(),
            self.line,
            self.column,
            self.path
        )?;
        if !self.source_line.is_empty() {
            let line = self.source_line.replace('\t', " ");
            writeln!(f, "{pad} |")?;
            writeln!(f, "{} | {}", self.line, line)?;
            let caret_pad = " ".repeat(self.column.saturating_sub(1));
            writeln!(f, "{pad} | {caret_pad}{}", "^".repeat(self.width.max(1)))?;
        }
        if let Some(help) = &self.help {
            writeln!(f, "{pad} = help: {help}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostic {}

/// The candidate closest to `word`, if close enough to be a plausible typo.
pub(crate) fn did_you_mean<'a, I>(word: &str, candidates: I) -> Option<String>
where
    I: IntoIterator<Item = &'a str>,
{
    candidates
        .into_iter()
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
    }
}
