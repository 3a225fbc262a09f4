//! Scenario files: the serde mirror of the JSON, loading with exact error locations, and the
//! JSON Schema generated from the same types.
//!
//! Contract: [`load`] either returns a [`Scenario`] that mirrors the file exactly, or a
//! [`Diagnostic`] naming the file, line, column and JSON path of the first problem. Semantic
//! validation (do the names refer to anything?) happens later, in `plan`, which uses
//! [`Locator`] to point at the offending value.

pub(crate) mod cross;
mod diagnostic;
mod load;
mod locate;
mod model;

pub(crate) use diagnostic::{did_you_mean, Diagnostic};
pub(crate) use load::{load, load_str, parse, Cross, Loaded, Source};
pub(crate) use locate::Locator;
pub(crate) use model::*;

/// The JSON Schema of scenario files, pretty-printed, with a trailing newline.
pub(crate) fn schema_json() -> String {
    let schema = schemars::schema_for!(Scenario);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}
