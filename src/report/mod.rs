//! Reports (pure over [`RunResult`](crate::result::RunResult)): Markdown for people, JSON for
//! machines. Each renderer writes to any `io::Write`.

mod json;
mod markdown;

pub(crate) use json::write_json;
pub(crate) use markdown::write_markdown;

/// Report formats `socklab report` can render.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// Markdown, for people (report.md).
    Markdown,
    /// Versioned JSON, for machines (results.json).
    Json,
}
