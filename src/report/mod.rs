//! Reports (pure over [`RunResult`](crate::result::RunResult)): Markdown and HTML for people,
//! JSON for machines, and the formats autograders and CI read (JUnit XML, Gradescope's and
//! PrairieLearn's results). Each renderer writes to any `io::Write`.

mod autograders;
mod cross;
mod gradescope;
mod html;
mod json;
mod junit;
mod markdown;
mod prairielearn;
pub(crate) mod student;
mod view;

/// Results with every kind of check, for unit tests of anything that reads a `RunResult`.
#[cfg(test)]
pub(crate) use autograders::fixture as testing;
pub(crate) use gradescope::{write_gradescope, write_gradescope_aborted};
pub(crate) use html::{write_html, write_html_aborted, write_summary_html};
pub(crate) use json::write_json;
pub(crate) use junit::{write_class_junit, write_junit, write_junit_aborted};
pub(crate) use markdown::write_markdown;
pub(crate) use prairielearn::{write_prairielearn, write_prairielearn_aborted};

/// Report formats `socklab report` can render.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// Markdown, for people (report.md).
    Markdown,
    /// One self-contained HTML page, for people (report.html).
    Html,
    /// Versioned JSON, for machines (results.json).
    Json,
    /// JUnit XML, for CI (junit.xml).
    Junit,
    /// Gradescope's autograder results.json (gradescope.json).
    Gradescope,
    /// PrairieLearn's external grader results (prairielearn.json).
    Prairielearn,
}

/// The extra files `socklab run --format` writes beside report.md and results.json.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum RunFormat {
    /// report.html: the report as one self-contained page (ladders as SVG).
    Html,
    /// junit.xml: one testsuite per scenario, one testcase per check.
    Junit,
    /// gradescope.json: Gradescope's autograder results.json.
    Gradescope,
    /// prairielearn.json: PrairieLearn's external grader results.
    Prairielearn,
}

impl RunFormat {
    /// The file it is written to, in the report directory.
    pub(crate) fn file_name(self) -> &'static str {
        match self {
            RunFormat::Html => "report.html",
            RunFormat::Junit => "junit.xml",
            RunFormat::Gradescope => "gradescope.json",
            RunFormat::Prairielearn => "prairielearn.json",
        }
    }

    pub(crate) fn writer(
        self,
    ) -> fn(&crate::result::RunResult, &mut dyn std::io::Write) -> std::io::Result<()> {
        match self {
            RunFormat::Html => write_html,
            RunFormat::Junit => write_junit,
            RunFormat::Gradescope => write_gradescope,
            RunFormat::Prairielearn => write_prairielearn,
        }
    }

    /// The writer of a run that stopped before grading anything (exit 2 or 3).
    pub(crate) fn aborted_writer(
        self,
    ) -> fn(&crate::error::AppError, &mut dyn std::io::Write) -> std::io::Result<()> {
        match self {
            RunFormat::Html => write_html_aborted,
            RunFormat::Junit => write_junit_aborted,
            RunFormat::Gradescope => write_gradescope_aborted,
            RunFormat::Prairielearn => write_prairielearn_aborted,
        }
    }
}
