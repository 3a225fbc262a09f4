//! Reference implementations of the labs' programs, one module per lab.
//!
//! Reference programs use `std::net` only (and `httparse` for HTTP heads) and follow LABS.md's
//! calling conventions exactly, so a student can test a client against
//! `socklab ref tcp-upper-server 127.0.0.1 12000`. Which roles exist, and which of these
//! functions plays each, is the registry's business ([`crate::roles`]).

pub(crate) mod calc;
pub(crate) mod chat;
pub(crate) mod datetime;
pub(crate) mod hello;
pub(crate) mod http;
pub(crate) mod proxy;
pub(crate) mod smtp;
pub(crate) mod upper;
pub(crate) mod web;
