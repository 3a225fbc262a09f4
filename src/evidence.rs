//! What one scenario run produced, as plain data: the sandbox's answer to a plan.
//!
//! Written by `exec` inside the sandbox, sent to the harness as JSON, read by `check` and
//! `report`. Times are milliseconds since the scenario started.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Evidence {
    /// One entry per planned program, in plan order (also those never started).
    pub programs: Vec<ProgramEvidence>,
    /// One entry per planned step, in order.
    pub steps: Vec<StepOutcome>,
    pub duration_ms: u64,
    /// The scenario's wall-clock budget ran out; later steps were skipped.
    pub budget_exhausted: bool,
    pub capture: Option<CaptureEvidence>,
    /// Harness problems that did not stop the run (e.g. capture could not start).
    pub warnings: Vec<String>,
    /// The supervisor's peak resident memory (VmHWM), in KiB.
    #[serde(default)]
    pub supervisor_peak_rss_kib: Option<u64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct ProgramEvidence {
    pub name: String,
    pub argv: Vec<String>,
    pub started_ms: Option<u64>,
    /// Why the program could not be started at all (e.g. interpreter not found).
    pub spawn_error: Option<String>,
    pub exit: Option<ExitRecord>,
    /// State after the last step, before the harness stopped anything.
    pub at_end: Option<EndState>,
    pub stdout: StreamText,
    pub stderr: StreamText,
    /// Timestamped stdin, stdout and stderr chunks, in order (bounded: see `exec::output`).
    pub transcript: Vec<TranscriptEntry>,
    /// The interpreter that ran it, e.g. `Python 3.11.7 (/usr/bin/python3)`.
    #[serde(default)]
    pub interpreter: Option<String>,
    /// Processes it started that left its process group or session (a daemonizing server).
    #[serde(default)]
    pub detached: Vec<DetachedProcess>,
    /// The limits it ran under (set when it was started).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<crate::plan::ProgramLimits>,
    /// It met its process cap: forks refused, or killed for having too many processes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process_cap: Option<ProcessCapHit>,
    /// A peer's own record of the run (what the origin was asked, ...), when it keeps one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<crate::peer_record::PeerRecord>,
}

/// A program that met its process cap.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct ProcessCapHit {
    /// Forks the kernel refused at the cap (a pids cgroup counts them).
    pub refused_forks: u64,
    /// Most processes and threads it had at once, when the kernel says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak: Option<u64>,
    /// The supervisor killed it for having more processes than its cap.
    pub killed: bool,
}

/// A process a program started that left the program's process group (or session).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct DetachedProcess {
    /// Its pid in the run's PID namespace.
    pub pid: i32,
    /// Its command name (`/proc/PID/comm`).
    pub comm: String,
    /// Sockets on the scenario's ports it was seen holding (e.g. the server's listening port).
    pub sockets: Vec<SocketRecord>,
    /// Still alive after the last step (the harness stopped it then).
    pub alive_at_end: bool,
}

impl ProgramEvidence {
    /// The recorded text of a stream (`any`: stdout then stderr).
    pub(crate) fn text(&self, stream: crate::scenario::StreamName) -> String {
        use crate::scenario::StreamName;
        match stream {
            StreamName::Stdout => self.stdout.text.clone(),
            StreamName::Stderr => self.stderr.text.clone(),
            StreamName::Any => format!("{}{}", self.stdout.text, self.stderr.text),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct ExitRecord {
    pub code: Option<i32>,
    pub signal: Option<i32>,
    pub at_ms: u64,
    /// The harness stopped it (a `stop` step or the end-of-run teardown).
    pub by_harness: bool,
}

impl ExitRecord {
    pub(crate) fn describe(&self) -> String {
        match (self.code, self.signal) {
            (Some(c), _) => format!("exited with status {c}"),
            (None, Some(s)) if self.by_harness => format!("stopped by the harness (signal {s})"),
            (None, Some(s)) => format!("killed by signal {s}"),
            (None, None) => "ended".into(),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct EndState {
    pub alive: bool,
    /// Measured only when a `blocked` check needs it.
    pub blocked: Option<bool>,
    pub sockets: Vec<SocketRecord>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct StreamText {
    /// Output, lossily decoded as UTF-8; when long, the head and the tail with a cut marker
    /// that says how much was cut and kept (`exec::output`).
    pub text: String,
    /// Total bytes the program wrote.
    pub bytes: u64,
    pub truncated: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct TranscriptEntry {
    pub t_ms: u64,
    pub stream: Stream,
    pub text: String,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Stream {
    Stdin,
    Stdout,
    Stderr,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct StepOutcome {
    pub start_ms: u64,
    pub end_ms: u64,
    /// For expectations: whether the condition was met. None for actions.
    pub met: Option<bool>,
    /// What was observed, in words: "listening after 42 ms", "still running after 3000 ms".
    pub detail: String,
    /// Sockets the step's program had bound when the step ended (readiness diagnosis).
    pub sockets: Vec<SocketRecord>,
    /// Not run: the budget ran out or the program could not be started.
    pub skipped: bool,
    /// `expect_blocked`: when the program was first seen waiting for input, unchanged until the
    /// verdict (ms since the scenario started); `end_ms` minus this is the verdict's latency.
    #[serde(default)]
    pub waiting_since_ms: Option<u64>,
    /// Steps with a window: how long the program waited for a CPU during it (a busy machine).
    /// The window does not count that time.
    #[serde(default)]
    pub cpu_wait_ms: Option<u64>,
    /// An unmet `expect_output`: what the program had printed on the stream when the window
    /// closed (its start), which is what the step judged; later output is not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seen_output: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct SocketRecord {
    pub transport: String,
    pub addr: String,
    pub port: u16,
    /// TCP LISTEN state (for UDP: bound and unconnected).
    pub listening: bool,
}

/// Whether a socket bound to `bound` accepts what is sent to `addr`: bound to it, or to every
/// address (`0.0.0.0`, `::`).
pub(crate) fn accepts_at(bound: &str, addr: &str) -> bool {
    bound == addr || bound == "0.0.0.0" || bound == "::"
}

/// `127.0.0.1:40000`, `[::1]:40000`: an address and port as people write them.
pub(crate) fn socket_addr(addr: &str, port: u16) -> String {
    if addr.contains(':') {
        format!("[{addr}]:{port}")
    } else {
        format!("{addr}:{port}")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CaptureEvidence {
    pub file: String,
    pub packets: u64,
    pub bytes: u64,
    pub dropped: u64,
}
