//! Maps JSON paths (`programs[0].role`, as `serde_path_to_error` spells them) to byte spans of
//! the source text, so that errors found after deserializing can still point at the file.
//!
//! Contract: built from text that `serde_json` already accepted; on text it cannot scan it
//! simply records fewer paths (lookups return `None`), never panics.

use std::collections::HashMap;

/// Byte spans of every value in a JSON document, by path.
#[derive(Debug, Default)]
pub(crate) struct Locator {
    values: HashMap<String, (usize, usize)>,
    line_starts: Vec<usize>,
}

impl Locator {
    pub(crate) fn new(text: &str) -> Locator {
        let mut loc = Locator {
            line_starts: std::iter::once(0)
                .chain(text.match_indices('\n').map(|(i, _)| i + 1))
                .collect(),
            ..Locator::default()
        };
        let mut scanner = Scanner {
            bytes: text.as_bytes(),
            pos: 0,
        };
        scanner.value(&mut loc, String::new());
        loc
    }

    /// Span of the value at `path`.
    pub(crate) fn value(&self, path: &str) -> Option<(usize, usize)> {
        self.values.get(path).copied()
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub(crate) fn line_col(&self, text: &str, offset: usize) -> (usize, usize) {
        let line = self.line_starts.partition_point(|&s| s <= offset).max(1);
        let start = self.line_starts[line - 1];
        let col = text
            .get(start..offset.min(text.len()))
            .map_or(1, |s| s.chars().count() + 1);
        (line, col)
    }

    /// Byte offset of a 1-based line and column (as serde_json reports them).
    pub(crate) fn offset(&self, text: &str, line: usize, col: usize) -> usize {
        let Some(&start) = self.line_starts.get(line.saturating_sub(1)) else {
            return text.len();
        };
        let rest = &text[start..];
        rest.char_indices()
            .nth(col.saturating_sub(1))
            .map_or(text.len(), |(i, _)| start + i)
    }
}

struct Scanner<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Scanner<'_> {
    fn ws(&mut self) {
        while self
            .bytes
            .get(self.pos)
            .is_some_and(|b| b.is_ascii_whitespace())
        {
            self.pos += 1;
        }
    }

    fn value(&mut self, loc: &mut Locator, path: String) {
        self.ws();
        let start = self.pos;
        match self.bytes.get(self.pos) {
            Some(b'{') => {
                self.pos += 1;
                loop {
                    self.ws();
                    match self.bytes.get(self.pos) {
                        Some(b'}') => {
                            self.pos += 1;
                            break;
                        }
                        Some(b',') => self.pos += 1,
                        Some(b'"') => {
                            let key = self.string();
                            self.ws();
                            if self.bytes.get(self.pos) == Some(&b':') {
                                self.pos += 1;
                            }
                            let child = if path.is_empty() {
                                key
                            } else {
                                format!("{path}.{key}")
                            };
                            self.value(loc, child);
                        }
                        _ => return,
                    }
                }
            }
            Some(b'[') => {
                self.pos += 1;
                let mut index = 0;
                loop {
                    self.ws();
                    match self.bytes.get(self.pos) {
                        Some(b']') => {
                            self.pos += 1;
                            break;
                        }
                        Some(b',') => self.pos += 1,
                        Some(_) => {
                            let before = self.pos;
                            self.value(loc, format!("{path}[{index}]"));
                            index += 1;
                            if self.pos == before {
                                return;
                            }
                        }
                        None => return,
                    }
                }
            }
            Some(b'"') => {
                self.string();
            }
            Some(_) => {
                while self
                    .bytes
                    .get(self.pos)
                    .is_some_and(|b| !matches!(b, b',' | b'}' | b']') && !b.is_ascii_whitespace())
                {
                    self.pos += 1;
                }
            }
            None => return,
        }
        loc.values.insert(path, (start, self.pos));
    }

    /// Scans a string starting at a quote; returns its content (escapes resolved roughly: keys
    /// in scenario files are plain identifiers).
    fn string(&mut self) -> String {
        self.pos += 1;
        let start = self.pos;
        while let Some(&b) = self.bytes.get(self.pos) {
            match b {
                b'\\' => self.pos += 2,
                b'"' => break,
                _ => self.pos += 1,
            }
        }
        let end = self.pos.min(self.bytes.len());
        self.pos = (self.pos + 1).min(self.bytes.len());
        String::from_utf8_lossy(&self.bytes[start..end]).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_values_and_their_line_and_column() {
        let text = "{\n  \"programs\": [\n    {\"name\": \"s\", \"role\": \"x\"}\n  ]\n}";
        let loc = Locator::new(text);
        let (s, e) = loc.value("programs[0].role").unwrap();
        assert_eq!(&text[s..e], "\"x\"");
        assert_eq!(loc.line_col(text, s), (3, 27));
        assert_eq!(loc.offset(text, 3, 27), s);
    }

    #[test]
    fn garbage_does_not_panic() {
        for text in [
            "",
            "{",
            "[1,",
            "{\"a\":",
            "\"unterminated",
            "{\"a\" 1}",
            "]]]",
        ] {
            let loc = Locator::new(text);
            let _ = loc.value("a");
            let _ = loc.line_col(text, text.len() + 5);
        }
    }
}
