//! socklab: scripted network-lab test harness and grader.

#![allow(dead_code)]

mod analysis;
mod capture;
mod inspect;
mod labs;
mod wire;

fn main() {}
