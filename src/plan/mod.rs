//! The resolved, validated plan of one scenario run (pure).
//!
//! `resolve` turns a loaded [`Scenario`](crate::scenario::Scenario) plus the role bindings
//! (reference programs or a submission's) and the run's chosen ports into a [`Plan`]: every
//! name checked and replaced by an index, every placeholder substituted, every default filled
//! in, every regex compiled once to prove it valid. All problems are reported together, each
//! pointing at its place in the file. The sandbox receives the plan as JSON and needs nothing
//! else.

mod model;
mod placeholders;
mod resolve;

pub(crate) use model::*;
#[cfg(test)]
pub(crate) use resolve::resolve_text;
pub(crate) use resolve::{
    choose_ports, port_names, regex_problem, resolve, stream_name, Bindings, CheckCx, RoleBinding,
    RoleSource,
};
