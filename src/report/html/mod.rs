//! The HTML reports: the student's `report.html` and the class's `summary.html`, each one
//! self-contained page (inline CSS and SVG, no script, nothing fetched), on one shared shell.
//!
//! Written with `maud`, whose templates escape every value they insert: student output is
//! hostile, and a `<script>` a program prints must reach the page as text. Only the page's own
//! CSS is inserted unescaped.

mod class;
mod ladder;
mod page;
mod student;

pub(crate) use class::write_summary_html;
pub(crate) use student::{write_html, write_html_aborted};
