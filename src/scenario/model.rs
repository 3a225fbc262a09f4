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
    /// Beyond the handout: a check of something the handout does not ask (a request split
    /// into 1-byte segments, a path that climbs out of the served folder, a slow client). An
    /// advisory scenario is run and each check graded pass or fail with its evidence, but it
    /// weighs 0 points in the totals, is shown apart (console, report, `results.json`), and
    /// none of its failures becomes a diagnosis. Default: false (graded).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub advisory: bool,
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
    /// Host name, used by `programs[].host` and `{addr:NAME}`.
    pub name: String,
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
    /// The program is still running and blocked (waiting for input) at the end of the steps.
    Blocked(StateCheck),
    /// On the wire: a TCP connection from `client` to `server` completed the three-way
    /// handshake (SYN, SYN-ACK, ACK).
    TcpHandshake(TcpPairCheck),
    /// On the wire: the client's SYN was answered by a RST (connection refused), on the port it
    /// was given or wherever else it connected: whether a program uses the assigned port is
    /// judged by the steps (`wait_ready`, `expect_*`), not charged to this check as well.
    TcpRefused(TcpRefusedCheck),
    /// On the wire: the TCP payload sent from `from` to `to` (each connection to the server
    /// port alone, in order) contains a text, matches a regex, equals bytes, or stands in a
    /// relation to the request (`uppercase_of_request`).
    TcpPayload(TcpPayloadCheck),
    /// On the wire: a TCP connection between `client` and `server` ended with a FIN each way
    /// (and no RST).
    TcpFinTeardown(TcpPairCheck),
    /// On the wire: no TCP connection to `program`'s port completed a handshake.
    NoTcpHandshake(WirePortCheck),
    /// On the wire: UDP datagrams from `from` to `to`: how many, and what one of them holds.
    UdpDatagrams(UdpDatagramsCheck),
    /// On the wire: an ICMP (or ICMPv6) port unreachable error quoting a datagram sent to
    /// `program`'s port or, as for `tcp_refused`, to whatever other port the client sent it
    /// (the result names that port).
    IcmpPortUnreachable(WirePortCheck),
    /// On the wire: the number of TCP connections (streams) to `program`'s port, e.g. how many
    /// times a proxy contacted the origin server.
    TcpConnections(TcpConnectionsCheck),
    /// On the wire: `program` (a server) served TCP connections at the same time: at least
    /// `count` were answered, and one opened later was answered while one opened earlier was
    /// still open and unanswered, which a server that serves one connection at a time (and
    /// accepts in order) cannot do. Decided by packet order, never by a clock.
    TcpConcurrent(TcpConcurrentCheck),
    /// On the wire: every time gap between consecutive payload-carrying packets from `from` to
    /// `to` lies within `[min_ms, max_ms]` (at least two such packets).
    PacketGap(PacketGapCheck),
}

/// `tcp_handshake` and `tcp_fin_teardown` checks. Ports come from the programs: the server's
/// port is its `wait_ready` port (or the first port placeholder in its arguments); the client is
/// whoever talks to that port (its own port is ephemeral and unknown in advance).
///
/// When the run shows that a server listened (TCP) or was bound (UDP) only on some other port
/// than the one assigned, every wire check that finds the server by its port looks for its
/// conversations there instead, and says so: one fault, the ignored port, is charged once, by
/// the `wait_ready` step, and the wire checks still judge what the programs did.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TcpPairCheck {
    /// Client program name from `programs` (used in messages).
    pub client: String,
    /// Server program name from `programs`: its port identifies the connection.
    pub server: String,
    /// Points. Default: 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<u32>,
    /// Human label for reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// `tcp_refused` check.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TcpRefusedCheck {
    /// Client program name: the port it is given (the first port placeholder in its arguments)
    /// is where its SYN should go; a SYN refused on another port counts too, and the result
    /// names that port.
    pub client: String,
    /// Points. Default: 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<u32>,
    /// Human label for reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// `no_tcp_handshake` and `icmp_port_unreachable` checks.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct WirePortCheck {
    /// Program name: a server's port (its `wait_ready` port), or the port a client sends to
    /// (the first port placeholder in its arguments).
    pub program: String,
    /// Points. Default: 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<u32>,
    /// Human label for reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// `tcp_payload` check: exactly one of `contains`, `regex`, `equals_hex`, `relation`. One of
/// `from` and `to` must be a server (a program with a `wait_ready` step or a `*-server` role).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TcpPayloadCheck {
    /// Sending program name from `programs`.
    pub from: String,
    /// Receiving program name from `programs`.
    pub to: String,
    /// The payload contains this text (placeholders allowed). When the text is a line that a
    /// `write` step types into `from`, `socklab verify` (which cannot know what a student typed
    /// into their own client) checks the line given with `--text` instead, or, without it, only
    /// that `from` sent something.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contains: Option<String>,
    /// The payload matches this regular expression (Rust `regex` syntax, over bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
    /// The payload equals these bytes, written in hex (`48454c4c4f0a`; spaces allowed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals_hex: Option<String>,
    /// The payload, sent by the server, stands in this relation to the request the client sent
    /// on the same connection, e.g. `uppercase_of_request`: every connection that carries a
    /// reply is judged, and at least one must. A relation holds for any sentence, so it also
    /// judges a capture a student made with a sentence of their own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relation: Option<PayloadRelation>,
    /// Points. Default: 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<u32>,
    /// Human label for reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// `udp_datagrams` check: `count`, and at most one of `contains` and `relation`. One of `from`
/// and `to` must be a server (see `tcp_payload`), or, when neither is, `to`'s port is used (a
/// client sending to a port where nothing is bound).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UdpDatagramsCheck {
    /// Sending program name from `programs`.
    pub from: String,
    /// Receiving program name from `programs`.
    pub to: String,
    /// Exact number of datagrams sent that way. Default: at least one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// One of the datagrams contains this text (placeholders allowed). A line typed into
    /// `from` is replaced in `socklab verify` as in `tcp_payload`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contains: Option<String>,
    /// Each datagram sent by the server stands in this relation to the request it answers: the
    /// last datagram that client sent it before, from the same address and port. At least one
    /// reply must answer a request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relation: Option<PayloadRelation>,
    /// Points. Default: 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<u32>,
    /// Human label for reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
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

/// `tcp_connections` check: at least one of `count`, `min`, `max`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TcpConnectionsCheck {
    /// Program name whose port is counted (see `no_tcp_handshake`).
    pub program: String,
    /// Exact number of connections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// At least this many connections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<u64>,
    /// At most this many connections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<u64>,
    /// Points. Default: 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<u32>,
    /// Human label for reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// `tcp_concurrent` check.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TcpConcurrentCheck {
    /// The server, by program name (its port is the one judged).
    pub program: String,
    /// At least this many connections must be answered.
    pub count: u64,
    /// Points. Default: 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<u32>,
    /// Human label for reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// `packet_gap` check, over TCP and UDP alike.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PacketGapCheck {
    /// Sending program name from `programs`.
    pub from: String,
    /// Receiving program name from `programs`.
    pub to: String,
    /// Smallest allowed gap in milliseconds. Default: 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_ms: Option<u64>,
    /// Largest allowed gap in milliseconds. Default: no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_ms: Option<u64>,
    /// Points. Default: 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<u32>,
    /// Human label for reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
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
