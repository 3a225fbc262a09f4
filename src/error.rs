//! The top-level error, with the documented exit codes.

/// Exit codes, as documented in `socklab --help` and the README.
pub(crate) mod exit {
    pub(crate) const OK: i32 = 0;
    pub(crate) const CHECK_FAILED: i32 = 1;
    pub(crate) const BAD_INPUT: i32 = 2;
    pub(crate) const HARNESS: i32 = 3;
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum AppError {
    /// Bad usage or invalid input: scenario, submission, arguments.
    #[error("{0}")]
    Input(String),
    /// The harness itself failed.
    #[error("{0}")]
    Harness(String),
}

impl AppError {
    pub(crate) fn exit_code(&self) -> i32 {
        match self {
            AppError::Input(_) => exit::BAD_INPUT,
            AppError::Harness(_) => exit::HARNESS,
        }
    }
}
