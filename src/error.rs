//! The top-level error, with the documented exit codes, and how it is shown: text on standard
//! error, or with `--json` one JSON object on standard error (see `docs/json.md`).

/// Exit codes, as documented in `socklab --help` and the README.
pub(crate) mod exit {
    pub(crate) const OK: i32 = 0;
    pub(crate) const CHECK_FAILED: i32 = 1;
    pub(crate) const BAD_INPUT: i32 = 2;
    pub(crate) const HARNESS: i32 = 3;
    /// Stopped by Ctrl-C (SIGINT) or SIGTERM, as shells count it (128 + SIGINT).
    pub(crate) const INTERRUPTED: i32 = 130;
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum AppError {
    /// Bad usage or invalid input: scenario, submission, arguments.
    #[error("{0}")]
    Input(String),
    /// The harness itself failed.
    #[error("{0}")]
    Harness(String),
    /// Stopped by the user (Ctrl-C); what was finished is kept.
    #[error("{0}")]
    Interrupted(String),
}

impl AppError {
    pub(crate) fn exit_code(&self) -> i32 {
        match self {
            AppError::Input(_) => exit::BAD_INPUT,
            AppError::Harness(_) => exit::HARNESS,
            AppError::Interrupted(_) => exit::INTERRUPTED,
        }
    }

    /// `input` (bad usage or input, exit 2) or `harness` (socklab failed, exit 3).
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            AppError::Input(_) => "input",
            AppError::Harness(_) => "harness",
            AppError::Interrupted(_) => "interrupted",
        }
    }
}

/// The one JSON shape of an error, for every command that writes JSON:
/// `{"error":{"kind":KIND,"message":TEXT,"exit_code":N}}` on one line. `kind` is `usage` (the
/// arguments do not parse), `input` or `harness`; `message` is the text the command prints
/// without `--json`.
pub(crate) fn json_error(kind: &str, message: &str, exit_code: i32) -> String {
    #[derive(serde::Serialize)]
    struct Error<'a> {
        kind: &'a str,
        message: &'a str,
        exit_code: i32,
    }
    #[derive(serde::Serialize)]
    struct Wrapped<'a> {
        error: Error<'a>,
    }
    let e = Wrapped {
        error: Error {
            kind,
            message,
            exit_code,
        },
    };
    // Plain strings and numbers cannot fail to encode; the fallback keeps the shape anyway.
    serde_json::to_string(&e).unwrap_or_else(|_| {
        format!(r#"{{"error":{{"kind":"{kind}","message":"","exit_code":{exit_code}}}}}"#)
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_json_error_is_one_line_with_kind_message_and_exit_code() {
        let line = super::json_error("input", "no scenario `x`\nsecond line", 2);
        assert_eq!(
            line,
            r#"{"error":{"kind":"input","message":"no scenario `x`\nsecond line","exit_code":2}}"#
        );
        assert!(!line.contains('\n'));
    }
}
