//! `{name}` placeholders in scenario strings. `{{` and `}}` stand for literal braces.
//!
//! A name starts with a letter and holds letters, digits, `_`, `-` and `:` (`{addr:server}`);
//! braces around anything else (`\d{3}`, `{3,5}` in a regex) are kept as written, so a regex
//! quantifier is never taken for a placeholder.

use std::collections::BTreeMap;

/// A placeholder that names nothing, or a brace that opens nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PlaceholderError {
    #[error("unknown placeholder `{{{0}}}`")]
    Unknown(String),
    #[error("unclosed `{{` in {0:?} (write `{{{{` for a literal brace)")]
    Unclosed(String),
}

/// Replaces every `{name}` in `text` by `values[name]`.
pub(crate) fn substitute(
    text: &str,
    values: &BTreeMap<String, String>,
) -> Result<String, PlaceholderError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push_str(&tail[..1]);
            rest = &tail[2..];
        } else if let Some(stripped) = tail
            .strip_prefix('{')
            .filter(|s| s.chars().next().is_some_and(|c| c.is_ascii_alphabetic()))
        {
            let Some(end) = stripped.find('}') else {
                return Err(PlaceholderError::Unclosed(text.to_string()));
            };
            let name = &stripped[..end];
            if !is_name(name) {
                // `{a b}` or `{x{y}`: no placeholder, kept as written.
                out.push('{');
                rest = stripped;
                continue;
            }
            let value = values
                .get(name)
                .ok_or_else(|| PlaceholderError::Unknown(name.to_string()))?;
            out.push_str(value);
            rest = &stripped[end + 1..];
        } else {
            // A lone brace: `}`, or a `{` that opens no name (a regex quantifier).
            out.push_str(&tail[..1]);
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// Whether `s` is a placeholder name.
fn is_name(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ':'))
}

/// Names of the placeholders in `text`, in order.
pub(crate) fn names(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find('{') {
        let tail = &rest[i..];
        if let Some(after) = tail.strip_prefix("{{") {
            rest = after;
            continue;
        }
        match tail[1..].find('}') {
            Some(end) if is_name(&tail[1..1 + end]) => {
                found.push(tail[1..1 + end].to_string());
                rest = &tail[end + 2..];
            }
            Some(_) => rest = &tail[1..],
            None => break,
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_regex_quantifier_is_not_taken_for_a_placeholder() {
        let values = BTreeMap::from([("port".to_string(), "20001".to_string())]);
        assert_eq!(
            substitute(r"^\d{3}-{2,5} on {port}$", &values).unwrap(),
            r"^\d{3}-{2,5} on 20001$"
        );
        assert_eq!(names(r"\d{3} {port} {,2}"), ["port"]);
        // A name that is not known is still an error.
        assert!(substitute("{prot}", &values).is_err());
    }

    fn values() -> BTreeMap<String, String> {
        [("port", "20001"), ("server_addr", "127.0.0.1")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn substitutes_and_escapes() {
        let v = values();
        assert_eq!(
            substitute("{server_addr}:{port}", &v).unwrap(),
            "127.0.0.1:20001"
        );
        assert_eq!(substitute("{{port}} }}", &v).unwrap(), "{port} }");
        assert_eq!(
            substitute("{prot}", &v),
            Err(PlaceholderError::Unknown("prot".into()))
        );
        assert!(matches!(
            substitute("a {port", &v),
            Err(PlaceholderError::Unclosed(_))
        ));
    }

    #[test]
    fn lists_names() {
        assert_eq!(names("{a} {{b}} {c}"), vec!["a", "c"]);
    }
}
