//! The scenario file format, mirrored exactly by serde types.
//!
//! Every struct denies unknown fields and every enum is externally tagged (`{"start": {...}}`),
//! never untagged or flattened, so that serde's messages name the exact field or variant that is
//! wrong. Doc comments here become the descriptions in the JSON Schema: they are user docs.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One scenario: a lab question reproduced by running programs and checking what they do.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Scenario {
    /// Link to this schema, for editors; ignored by socklab.
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Unique identifier, e.g. `upper-tcp-client-before-server`.
    pub id: String,
    /// Lab the scenario belongs to (`upper`, `hello`, ...); roles must belong to it.
    pub lab: String,
    /// Short title for reports.
    pub title: String,
    /// The lab question this scenario reproduces, in the handout's words.
    pub question: String,
    /// The answer: what happens and why. Reports show it next to this run's evidence.
    pub explanation: String,
    /// Simulated hosts. Default: one host, `local`, on loopback.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<Host>,
    /// Names of the ports the harness chooses for each run (placeholders `{NAME}`).
    /// Default: `["port"]`. Programs that ignore the assigned ports fail, as they should.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<String>,
    /// The programs the scenario may start, by name.
    pub programs: Vec<Program>,
    /// What happens, in order.
    pub steps: Vec<Step>,
    /// Assertions over the whole run, graded with points after the steps.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<Check>,
    /// Wall-clock budget for the whole scenario, in milliseconds. Default: 20000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
}

/// A simulated host.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Host {
    /// Host name, used by `programs[].host` and `{addr:NAME}`.
    pub name: String,
}

/// A program the scenario can start: a lab role, or a plain command.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Program {
    /// Name used by steps and checks, e.g. `server`, `client1`.
    pub name: String,
    /// Lab role (`tcp-upper-server`, ...), bound to the reference program or a submission's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// A plain command instead of a role (argv; placeholders allowed). Never replaced by a
    /// submission.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    /// Host the program runs on. Default: the first host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Arguments after the role's program, with placeholders. Default for a role:
    /// `["{server_addr}", "{port}"]` (the `HOST PORT` convention of every lab role).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<String>>,
    /// Extra environment variables (values take placeholders).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// Transport of the port the program serves, for readiness: defaults to the role's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transport: Option<TransportName>,
}

/// A transport protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum TransportName {
    Tcp,
    Udp,
}

/// An output stream of a program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum StreamName {
    /// Standard output.
    #[default]
    Stdout,
    /// Standard error.
    Stderr,
    /// Either one.
    Any,
}

/// One step of a scenario. Steps run in order; an `expect_*` or `wait_ready` step waits for its
/// condition at most its time limit, is graded with its points, and the scenario goes on either
/// way (so a report shows everything that happened).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum Step {
    /// Start a program.
    Start(ProgramRef),
    /// Wait until a program listens (TCP) or is bound (UDP) on its port, as seen in the
    /// namespace's `/proc/net` tables; never by connecting to it.
    WaitReady(WaitReady),
    /// Write one line (a newline is added) to a program's standard input.
    Write(Write),
    /// Close a program's standard input (end of file).
    CloseStdin(ProgramRef),
    /// Expect a program's output to match, within a time limit.
    ExpectOutput(ExpectOutput),
    /// Expect a program to exit, within a time limit.
    ExpectExit(ExpectExit),
    /// Expect a program to be blocked: alive, no CPU progress and no output for a quiet window.
    ExpectBlocked(ExpectBlocked),
    /// Pause. Prefer an `expect_*` step: a sleep is a guess, an expectation is a measurement.
    Sleep(Sleep),
    /// Stop a program: SIGTERM to its process group, then SIGKILL after a grace period.
    Stop(ProgramRef),
}

/// Names a program.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProgramRef {
    /// Program name from `programs`.
    pub program: String,
}

/// `wait_ready` step.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct WaitReady {
    /// Program name from `programs`.
    pub program: String,
    /// Port name to watch. Default: the first port placeholder in the program's arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<String>,
    /// Time limit in milliseconds. Default: 5000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within_ms: Option<u64>,
    /// Points for this expectation. Default: 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<u32>,
}

/// `write` step.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Write {
    /// Program name from `programs`.
    pub program: String,
    /// The line to write, without newline (placeholders allowed).
    pub line: String,
}

/// `expect_output` step.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExpectOutput {
    /// Program name from `programs`.
    pub program: String,
    /// Stream to watch. Default: stdout.
    #[serde(default)]
    pub stream: StreamName,
    /// The output must contain this text (placeholders allowed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contains: Option<String>,
    /// The output must match this regular expression (Rust `regex` syntax).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
    /// Time limit in milliseconds. Default: 3000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within_ms: Option<u64>,
    /// Points for this expectation. Default: 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<u32>,
    /// Human label for reports. Default: derived from the expectation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// `expect_exit` step.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExpectExit {
    /// Program name from `programs`.
    pub program: String,
    /// Expected exit status: `success` (0), `failure` (non-zero or killed by a signal) or `any`.
    /// Default: `any`. Use `code` for an exact status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ExitStatusName>,
    /// Exact expected exit code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<i32>,
    /// Time limit in milliseconds. Default: 3000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within_ms: Option<u64>,
    /// Points for this expectation. Default: 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<u32>,
    /// Human label for reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// Expected kind of exit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ExitStatusName {
    /// Exit code 0.
    Success,
    /// Non-zero exit code, or killed by a signal.
    Failure,
    /// Any exit.
    Any,
}

/// `expect_blocked` step.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExpectBlocked {
    /// Program name from `programs`.
    pub program: String,
    /// Time limit in milliseconds for the program to become quiescent. Default: 3000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within_ms: Option<u64>,
    /// Points for this expectation. Default: 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<u32>,
    /// Human label for reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// `sleep` step.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Sleep {
    /// Milliseconds.
    pub ms: u64,
}

/// An assertion over the run, evaluated after the last step, before programs are stopped.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum Check {
    /// The program's exit status.
    Exit(ExitCheck),
    /// The program's whole output matches (or does not).
    Output(OutputCheck),
    /// The program is still running at the end of the steps.
    Running(StateCheck),
    /// The program is still running and blocked (quiescent) at the end of the steps.
    Blocked(StateCheck),
}

/// `exit` check.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExitCheck {
    /// Program name from `programs`.
    pub program: String,
    /// Expected status (see `expect_exit`). Default: `any`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ExitStatusName>,
    /// Exact expected exit code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<i32>,
    /// Points. Default: 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<u32>,
    /// Human label for reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// `output` check: exactly one of `contains`, `not_contains`, `regex`, `not_regex`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct OutputCheck {
    /// Program name from `programs`.
    pub program: String,
    /// Stream to look at. Default: stdout.
    #[serde(default)]
    pub stream: StreamName,
    /// The output contains this text (placeholders allowed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contains: Option<String>,
    /// The output does not contain this text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_contains: Option<String>,
    /// The output matches this regular expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
    /// The output does not match this regular expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_regex: Option<String>,
    /// Points. Default: 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<u32>,
    /// Human label for reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// `running` and `blocked` checks.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StateCheck {
    /// Program name from `programs`.
    pub program: String,
    /// Points. Default: 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<u32>,
    /// Human label for reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}
