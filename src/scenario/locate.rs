//! Maps JSON paths (`programs[0].role`, as `serde_path_to_error` spells them) to byte spans of
//! the source text, so that errors found after deserializing can still point at the file.
//!
//! Contract: built from text that `serde_json` already accepted; on text it cannot scan it
//! simply records fewer paths (lookups return `None`), never panics.
//!
//! Bounded in depth: the scanner is iterative (an explicit stack, no recursion) and records
//! values only down to [`MAX_DEPTH`] nested arrays and objects, the most `serde_json` accepts
//! (it refuses deeper text with "recursion limit exceeded"); deeper values are skipped over
//! without being recorded. So any text, however deeply nested, is scanned in time linear in its
//! length, with a stack of at most [`MAX_DEPTH`] entries and one path (of at most [`MAX_DEPTH`]
//! segments) per recorded value, never a stack overflow. [`Locator::lines`] only indexes the
//! lines, for text `serde_json` refused: `load` scans values only of text it accepted.

use std::collections::HashMap;

/// How many arrays and objects deep values are recorded: `serde_json`'s recursion limit, so
/// every value of text it accepted is found.
pub(crate) const MAX_DEPTH: usize = 128;

/// Byte spans of every value in a JSON document, by path.
#[derive(Debug, Clone, Default)]
pub(crate) struct Locator {
    values: HashMap<String, (usize, usize)>,
    /// Span of each object member's key (the quoted string), by the member's path: where an
    /// error about the name itself points (an unknown scenario id in a rubric).
    keys: HashMap<String, (usize, usize)>,
    line_starts: Vec<usize>,
}

impl Locator {
    /// Lines and the spans of values (down to [`MAX_DEPTH`] levels) of `text`.
    pub(crate) fn new(text: &str) -> Locator {
        let mut loc = Locator::lines(text);
        Scanner {
            bytes: text.as_bytes(),
            pos: 0,
        }
        .scan(&mut loc);
        loc
    }

    /// Only the lines of `text`, for [`Locator::line_col`] and [`Locator::offset`]: no value
    /// is recorded (for text `serde_json` refused, where no value will be looked up).
    pub(crate) fn lines(text: &str) -> Locator {
        Locator {
            line_starts: std::iter::once(0)
                .chain(text.match_indices('\n').map(|(i, _)| i + 1))
                .collect(),
            ..Locator::default()
        }
    }

    /// Span of the value at `path`.
    pub(crate) fn value(&self, path: &str) -> Option<(usize, usize)> {
        self.values.get(path).copied()
    }

    /// Span of the key (with its quotes) of the object member at `path`.
    pub(crate) fn key(&self, path: &str) -> Option<(usize, usize)> {
        self.keys.get(path).copied()
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

/// An array or object being scanned: where it starts, how long its own path is (the path
/// buffer is truncated back to that after each member) and, for arrays, the next index.
struct Open {
    start: usize,
    path_len: usize,
    array: Option<usize>,
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

    /// Scans the document, recording each value's span under its path. Iterative: `stack`
    /// holds the open arrays and objects (at most [`MAX_DEPTH`]), `path` is one buffer that
    /// grows by a member's segment and is cut back after it. Stops at the first thing it
    /// cannot make sense of; every turn of either loop consumes input or stops.
    fn scan(&mut self, loc: &mut Locator) {
        let mut path = String::new();
        let mut stack: Vec<Open> = Vec::new();
        loop {
            // A value starts here; its path is `path`.
            self.ws();
            let start = self.pos;
            match self.bytes.get(self.pos) {
                None => return,
                Some(&b @ (b'{' | b'[')) => {
                    if stack.len() >= MAX_DEPTH {
                        // Deeper than serde_json goes: skip it, record nothing under it.
                        self.skip_nested();
                    } else {
                        self.pos += 1;
                        stack.push(Open {
                            start,
                            path_len: path.len(),
                            array: (b == b'[').then_some(0),
                        });
                    }
                }
                Some(b'"') => {
                    self.string();
                    loc.values.insert(path.clone(), (start, self.pos));
                }
                Some(_) => {
                    while self.bytes.get(self.pos).is_some_and(|b| {
                        !matches!(b, b',' | b'}' | b']') && !b.is_ascii_whitespace()
                    }) {
                        self.pos += 1;
                    }
                    if self.pos == start {
                        return; // a stray `}` or `]` where a value should be
                    }
                    loc.values.insert(path.clone(), (start, self.pos));
                }
            }
            // Then: close what ends here, up to the next member of an open array or object.
            loop {
                let Some(open) = stack.last_mut() else {
                    return; // the document's one value is done
                };
                path.truncate(open.path_len);
                self.ws();
                match (self.bytes.get(self.pos), &mut open.array) {
                    (Some(b','), _) => self.pos += 1,
                    (Some(b'}'), None) | (Some(b']'), Some(_)) => {
                        self.pos += 1;
                        let start = open.start;
                        stack.pop();
                        loc.values.insert(path.clone(), (start, self.pos));
                    }
                    (Some(b'"'), None) => {
                        let key_start = self.pos;
                        let key = self.string();
                        let key_span = (key_start, self.pos);
                        self.ws();
                        if self.bytes.get(self.pos) == Some(&b':') {
                            self.pos += 1;
                        }
                        if !path.is_empty() {
                            path.push('.');
                        }
                        path.push_str(&key);
                        loc.keys.insert(path.clone(), key_span);
                        break;
                    }
                    (Some(b'}' | b']') | None, _) | (Some(_), None) => return,
                    (Some(_), Some(index)) => {
                        path.push_str(&format!("[{index}]"));
                        *index += 1;
                        break;
                    }
                }
            }
        }
    }

    /// Skips one array or object, however deep, without recording anything: counts brackets
    /// outside strings.
    fn skip_nested(&mut self) {
        let mut depth = 0usize;
        while let Some(&b) = self.bytes.get(self.pos) {
            match b {
                b'"' => {
                    self.string();
                    continue;
                }
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        self.pos += 1;
                        return;
                    }
                }
                _ => {}
            }
            self.pos += 1;
        }
    }

    /// Scans a string starting at a quote; returns its content, escapes resolved as serde_json
    /// resolves them (a rubric's keys are check titles, which may hold a quote), or as written
    /// when they do not parse.
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
        let raw = &self.bytes[start.min(end)..end];
        if raw.contains(&b'\\') {
            let quoted = &self.bytes[start.saturating_sub(1)..self.pos];
            if let Ok(s) = serde_json::from_slice::<String>(quoted) {
                return s;
            }
        }
        String::from_utf8_lossy(raw).into_owned()
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
    fn records_every_value_of_objects_and_arrays() {
        let text = r#"[{"a": [1, "x\"y", {"b": null}]}, true]"#;
        let loc = Locator::new(text);
        let at = |p: &str| loc.value(p).map(|(s, e)| &text[s..e]);
        assert_eq!(at(""), Some(text));
        assert_eq!(at("[0].a[0]"), Some("1"));
        assert_eq!(at("[0].a[1]"), Some(r#""x\"y""#));
        assert_eq!(at("[0].a[2].b"), Some("null"));
        assert_eq!(at("[0].a[2]"), Some(r#"{"b": null}"#));
        assert_eq!(at("[1]"), Some("true"));
    }

    #[test]
    fn finds_keys_with_their_escapes_resolved() {
        let text = "{\"a\": {\"say \\\"hi\\\"\": 1, \"b.c\": 2}}";
        let loc = Locator::new(text);
        let span = |s: Option<(usize, usize)>| s.map(|(s, e)| &text[s..e]);
        assert_eq!(span(loc.key("a.say \"hi\"")), Some("\"say \\\"hi\\\"\""));
        assert_eq!(span(loc.value("a.say \"hi\"")), Some("1"));
        assert_eq!(span(loc.key("a.b.c")), Some("\"b.c\""));
        assert_eq!(span(loc.key("a")), Some("\"a\""));
        assert_eq!(loc.key("a.nope"), None);
    }

    #[test]
    fn deep_nesting_is_scanned_without_recursion_and_recorded_to_the_limit() {
        // Far deeper than the test thread's stack would allow a recursive scanner.
        let depth = 200_000;
        let text = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
        let loc = Locator::new(&text);
        assert_eq!(loc.value(""), Some((0, text.len())));
        let at_limit = "[0]".repeat(MAX_DEPTH - 1);
        assert!(loc.value(&at_limit).is_some());
        assert_eq!(loc.value(&format!("{at_limit}[0]")), None);
        assert!(loc.values.len() <= MAX_DEPTH);
        let objects = format!("{}1{}", r#"{"a":"#.repeat(depth), "}".repeat(depth));
        let loc = Locator::new(&objects);
        assert_eq!(loc.value(""), Some((0, objects.len())));
        assert!(loc.values.len() <= MAX_DEPTH);
        // What follows a skipped deep value is still found.
        let after = format!(r#"{{"deep": {}, "next": 2}}"#, text);
        let loc = Locator::new(&after);
        let (s, e) = loc.value("next").unwrap();
        assert_eq!(&after[s..e], "2");
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
            "[}",
            "{]",
            "{\"a\": }",
            "[[[[\"\\",
            "{\"a\":[{\"b\":",
        ] {
            let loc = Locator::new(text);
            let _ = loc.value("a");
            let _ = loc.line_col(text, text.len() + 5);
        }
    }
}
