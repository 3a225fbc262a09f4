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
    /// Simulated computers. Default: one host, `local`, on loopback. Two or more hosts are
    /// separate network namespaces joined by a link (a veth pair for two, a bridge for more),
    /// each with its own `lo`, an `eth0` with a distinct MAC address and an address from the
    /// documentation ranges (`192.0.2.1`, `192.0.2.2`, ... in order, unless it gives its
    /// `addr`): programs on different hosts meet as on two machines, ARP included.
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
    /// Beyond the handout: a check of something the handout does not ask (a request split
    /// into 1-byte segments, a path that climbs out of the served folder, a slow client). An
    /// advisory scenario is run and each check graded pass or fail with its evidence, but it
    /// weighs 0 points in the totals, is shown apart (console, report, `results.json`), and
    /// none of its failures becomes a diagnosis. Default: false (graded).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub advisory: bool,
    /// Cross-testing, for a lab whose protocol the handout fixes: the scenario has exactly one
    /// server role and one client role, and is run three ways: as written (end to end: both
    /// of the submission's programs), then once with the submission's server against socklab's
    /// reference client (id `ID.socklab-client`), and once with socklab's reference server
    /// against the submission's client (id `ID.socklab-server`). socklab's program plays the
    /// other side by design, never in place of a missing one: each run's points are earned by
    /// the submission's one program in it, and the report's cross-test matrix says which side
    /// is wrong when they disagree. Default: false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cross: bool,
    /// Programs the machine must have for this scenario, looked up on `PATH` (e.g.
    /// `["chromium"]` for a real browser). When one is missing the scenario is not run: its
    /// checks are *not graded* (they count neither way, never a failure of the student's nor
    /// of the harness), and a warning names the program and how to install it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<String>,
    /// Limits on every program of the scenario (each field overrides its default; a
    /// program's own `limits` override these).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<Limits>,
}

/// Limits on a program's resources, so that untrusted code cannot take the machine. Every
/// field is optional and falls back to the scenario's `limits`, then to the default. A limit
/// hit is named in the report ("ran out of memory (limit 1024 MiB)").
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Limits {
    /// CPU time in seconds (RLIMIT_CPU): SIGXCPU at the limit, SIGKILL 5 s later.
    /// Default: 60.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_seconds: Option<u64>,
    /// Address space in MiB (RLIMIT_AS): allocations beyond it fail. Default: 1024 (python3
    /// needs about 20; a JVM with default flags needs 4096, or pass it `-Xmx`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_mib: Option<u64>,
    /// Largest file the program may write, in MiB (RLIMIT_FSIZE). Default: 256.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_mib: Option<u64>,
    /// Open file descriptors (RLIMIT_NOFILE). Default: 1024.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_files: Option<u64>,
    /// Processes and threads the program may have at once, itself included (a pids cgroup
    /// where the machine has one; see the report header). Default: 128.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processes: Option<u64>,
    /// Output kept per stream in KiB: the first four fifths and the last fifth, the cut
    /// marked. The program may print more; only what is kept is graded and reported.
    /// Default: 80.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_kib: Option<u64>,
}

/// A simulated host.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Host {
    /// Host name, used by `programs[].host` and `{addr:NAME}`, and in the capture's interface
    /// names (`server/eth0`): letters, digits, `-` and `_`.
    pub name: String,
    /// The host's IPv4 address when the scenario has two hosts or more: in 192.0.2.0/24,
    /// 198.51.100.0/24 or 203.0.113.0/24 (the documentation ranges; never an address of a
    /// real network), neither the range's first nor last address. Default: `192.0.2.N` for
    /// the N-th host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addr: Option<String>,
}

/// A program the scenario can start: a lab role, one of socklab's peers, or a plain command.
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
    /// One of socklab's own peers instead of a role (`smtp-server`, `http-origin`,
    /// `idle-client`, `trickle-client`; `socklab peer --help`): the other party the lab
    /// assumes. Never replaced by a submission, never earns points.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer: Option<String>,
    /// Host the program runs on. Default: the first host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Arguments after the role's program or the peer, with placeholders. Default: each role
    /// parameter's default (`["{server_addr}", "{port}"]` for `HOST PORT`; a parameter such as
    /// `FILE` has none and must be given); for a peer, `["{server_addr}", "{port}"]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<String>>,
    /// Extra environment variables (values take placeholders).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// Transport of the port the program serves, for readiness: defaults to the role's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transport: Option<TransportName>,
    /// Limits on this program, over the scenario's `limits` and the defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<Limits>,
    /// Run N copies of this program, named `NAME1` .. `NAMEN` (`"name": "client", "replicas":
    /// 25` gives `client1` .. `client25`), each its own program in the plan, the evidence and
    /// the report. A step naming `NAME` acts on every replica in turn, and a run of
    /// consecutive steps naming `NAME` is done replica by replica (`start` then
    /// `expect_blocked`: client1 started and waited for, then client2, ...); a graded step's
    /// title gets ` (client7)` added. A step naming `client7` acts on that replica alone. `{replica}` is the replica's number (1 .. N) in its `args`, its
    /// `env` and the lines its steps type. Checks name one replica, or all of them where the
    /// kind takes a list of programs (`broadcast`). From 2 to 100; each replica has the
    /// program's own `limits`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<u32>,
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
    /// Expect a program to be blocked: alive, every thread asleep and one of them waiting for
    /// input (a socket receive or accept, its stdin, a poll), as the kernel shows it in `/proc`.
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
    /// Human label for reports. Default: `NAME listens on its assigned TCP port`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
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
    /// Ceiling in milliseconds, counted in the program's own time (not while it waits for a
    /// CPU); the verdict comes as soon as the kernel shows it blocked. Default: 3000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within_ms: Option<u64>,
    /// Also met when the program has exited: it is done with what it had to do, whether it
    /// ended or waits. For a step that only lets a program settle before the checks judge the
    /// capture (one that ends its session and one that waits for a reply both pass), so that
    /// the fault behind the waiting is charged by the scenario that targets it. Default: false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub or_exit: bool,
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

/// How a server's reply relates to the request it answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum PayloadRelation {
    /// The reply is the uppercase of the request: the letters a-z become A-Z, every other byte
    /// (uppercase letters, digits, punctuation, spaces, line ends) is unchanged. The request
    /// must not be empty.
    UppercaseOfRequest,
}

/// `checks`: one file per kind in `check::kinds`, which generates this enum from its registry.
pub(crate) use crate::check::kinds::Check;
