//! Plan types: what the sandbox executes and what checks grade. Serialized to the sandbox child.

use serde::{Deserialize, Serialize};

pub(crate) use crate::check::kinds::{CheckKind, WireKind};
use crate::roles::Transport;
use crate::scenario::{ExitStatusName, StreamName};

/// Default wall-clock budget of a scenario: a guard against hangs, not a timing.
pub(crate) const DEFAULT_BUDGET_MS: u64 = 20_000;
/// Default limits on every program (see [`ProgramLimits`]); `docs/scenarios.md` lists them.
pub(crate) const DEFAULT_LIMITS: ProgramLimits = ProgramLimits {
    cpu_seconds: 60,
    // python3 peaks at about 17 MiB of address space for a lab program; 1 GiB leaves room for
    // threads (8 MiB of stack each) and malloc arenas. A JVM reserves its heap and code cache
    // up front and needs 4096 with default flags: a scenario for Java sets `memory_mib`.
    memory_mib: 1024,
    file_mib: 256,
    open_files: 1024,
    // Threads count too (a pids cgroup and RLIMIT_NPROC both count tasks): room for a JVM's
    // GC and compiler threads, far too few to hurt the machine.
    processes: 128,
    output_kib: 80,
};
/// Largest value each limit may be set to, so that a typo cannot switch a limit off.
pub(crate) const MAX_LIMITS: ProgramLimits = ProgramLimits {
    cpu_seconds: 3_600,
    // Address space, not memory: a browser reserves it by the terabyte (V8's sandbox, Oilpan's
    // heap cage) and touches little of it. The web lab's real-browser scenario sets 1 TiB.
    memory_mib: 4 * 1024 * 1024,
    file_mib: 16 * 1024,
    open_files: 65_536,
    processes: 4_096,
    output_kib: 1_024,
};

/// The limits one program runs under, every one resolved (`exec::limits` applies them).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct ProgramLimits {
    pub cpu_seconds: u64,
    pub memory_mib: u64,
    pub file_mib: u64,
    pub open_files: u64,
    pub processes: u64,
    pub output_kib: u64,
}

impl Default for ProgramLimits {
    fn default() -> Self {
        DEFAULT_LIMITS
    }
}

/// Default limit of `wait_ready`, in the server's own time (time it waited for a CPU does not
/// count, so load cannot use it up). A ceiling: readiness returns as soon as the socket
/// appears, the server ends, or it waits for input without the port.
pub(crate) const DEFAULT_READY_MS: u64 = 5_000;
/// Default limit of the `expect_*` steps, in the program's own time; a ceiling too.
pub(crate) const DEFAULT_EXPECT_MS: u64 = 3_000;
/// Least time between the two samples of `/proc` that must agree for a program waiting for
/// input to count as blocked. Any run of the program in between changes its scheduler counters,
/// so a few milliseconds suffice whatever the load.
pub(crate) const QUIET_WINDOW_MS: u64 = 5;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Plan {
    pub id: String,
    pub lab: String,
    pub ports: Vec<PortPlan>,
    pub hosts: Vec<HostPlan>,
    pub programs: Vec<ProgramPlan>,
    pub steps: Vec<PlannedStep>,
    pub checks: Vec<CheckPlan>,
    pub budget_ms: u64,
    /// See [`QUIET_WINDOW_MS`].
    pub quiet_ms: u64,
    /// Whether the end-of-run state must wait for programs to settle and measure quiescence
    /// (a `blocked` or `running` check needs it).
    pub final_quiescence: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct PortPlan {
    pub name: String,
    pub port: u16,
}

/// A simulated computer. With one host, the run's own loopback (`addr` 127.0.0.1, no `mac`);
/// with two or more, a network namespace of its own with `eth0` at `addr`/24 and `mac`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct HostPlan {
    pub name: String,
    pub addr: String,
    /// `eth0`'s MAC address (`02:53:4c:00:00:01` for the first host: locally administered,
    /// distinct per host); empty for the single host on loopback.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub mac: String,
}

impl Plan {
    /// The run is a topology of several computers, each in its own network namespace.
    pub(crate) fn networked(&self) -> bool {
        self.hosts.len() > 1
    }
}

/// Where a program's command comes from.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub(crate) enum Binding {
    /// socklab's reference implementation of the role.
    Reference,
    /// A submission's program, found by its manifest or by its file name.
    Submission { file: String, how: String },
    /// The scenario's own `command`.
    Command,
    /// One of socklab's peers (`socklab peer NAME`): the other party, never the student's.
    Peer { name: String },
    /// A graded submission provides no program for the role: the scenario is not run.
    NotSubmitted,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ProgramPlan {
    pub name: String,
    pub role: Option<String>,
    pub argv: Vec<String>,
    pub env: Vec<(String, String)>,
    /// Lines written to stdin right after start (a submission's prompt answers).
    pub stdin_prelude: Vec<String>,
    pub binding: Binding,
    /// Transport of the port it serves (readiness), if known.
    pub transport: Option<Transport>,
    /// Host index.
    pub host: usize,
    /// The interpreter `argv[0]` was resolved to, once per run, e.g.
    /// `Python 3.11.7 (/usr/bin/python3)` (see `interp`).
    #[serde(default)]
    pub interpreter: Option<String>,
    /// What it may use (CPU, memory, files, processes, output).
    #[serde(default)]
    pub limits: ProgramLimits,
    /// A peer's record file (`--record`), relative to the working directory: read back into
    /// its evidence after the run (see `peer_record`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
}

/// A step and, for expectations, how it is graded.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PlannedStep {
    pub step: StepPlan,
    /// Human description, e.g. `client prints "HELLO" on stdout within 3000 ms`.
    pub label: String,
    /// Points when the step is an expectation.
    pub points: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum StepPlan {
    Start {
        program: usize,
    },
    WaitReady {
        program: usize,
        port_name: String,
        port: u16,
        transport: Transport,
        within_ms: u64,
        /// In a topology: the host's address, at which the other computers reach the
        /// program; it is ready only when it accepts there (bound to it or to every address),
        /// not on its loopback alone. `None` on one host: any address will do.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reachable_at: Option<String>,
    },
    Write {
        program: usize,
        line: String,
    },
    CloseStdin {
        program: usize,
    },
    ExpectOutput {
        program: usize,
        stream: StreamName,
        matcher: Matcher,
        within_ms: u64,
    },
    ExpectExit {
        program: usize,
        expect: ExitExpect,
        within_ms: u64,
    },
    ExpectBlocked {
        program: usize,
        within_ms: u64,
        /// An exit meets it too (`or_exit`).
        #[serde(default)]
        or_exit: bool,
    },
    Sleep {
        ms: u64,
    },
    Stop {
        program: usize,
    },
}

impl StepPlan {
    /// The program the step is about, if any.
    pub(crate) fn program(&self) -> Option<usize> {
        match self {
            StepPlan::Start { program }
            | StepPlan::WaitReady { program, .. }
            | StepPlan::Write { program, .. }
            | StepPlan::CloseStdin { program }
            | StepPlan::ExpectOutput { program, .. }
            | StepPlan::ExpectExit { program, .. }
            | StepPlan::ExpectBlocked { program, .. }
            | StepPlan::Stop { program } => Some(*program),
            StepPlan::Sleep { .. } => None,
        }
    }
}

/// A text condition on output. Regexes were validated when the plan was made.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Matcher {
    Contains(String),
    NotContains(String),
    Regex(String),
    NotRegex(String),
}

impl Matcher {
    /// Whether `text` satisfies the condition.
    pub(crate) fn matches(&self, text: &str) -> bool {
        self.compile()(text)
    }

    /// The condition as a predicate, its regex compiled once: waits poll output every few
    /// milliseconds and must not recompile on each look. A regex that does not compile (the
    /// plan validated it, so only a hand-made plan) matches nothing.
    pub(crate) fn compile(&self) -> impl Fn(&str) -> bool + '_ {
        let re = match self {
            Matcher::Regex(r) | Matcher::NotRegex(r) => regex::Regex::new(r).ok(),
            Matcher::Contains(_) | Matcher::NotContains(_) => None,
        };
        move |text: &str| match self {
            Matcher::Contains(s) => text.contains(s.as_str()),
            Matcher::NotContains(s) => !text.contains(s.as_str()),
            Matcher::Regex(_) => re.as_ref().is_some_and(|re| re.is_match(text)),
            Matcher::NotRegex(_) => re.as_ref().is_some_and(|re| !re.is_match(text)),
        }
    }

    pub(crate) fn describe(&self) -> String {
        match self {
            Matcher::Contains(s) => format!("contains {s:?}"),
            Matcher::NotContains(s) => format!("does not contain {s:?}"),
            Matcher::Regex(r) => format!("matches /{r}/"),
            Matcher::NotRegex(r) => format!("does not match /{r}/"),
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ExitExpect {
    Success,
    Failure,
    Any,
    Code(i32),
}

impl ExitExpect {
    pub(crate) fn from_parts(status: Option<ExitStatusName>, code: Option<i32>) -> ExitExpect {
        match (code, status) {
            (Some(c), _) => ExitExpect::Code(c),
            (None, Some(ExitStatusName::Success)) => ExitExpect::Success,
            (None, Some(ExitStatusName::Failure)) => ExitExpect::Failure,
            (None, Some(ExitStatusName::Any) | None) => ExitExpect::Any,
        }
    }

    /// Whether an exit with `code` (None: killed by a signal) satisfies it.
    pub(crate) fn accepts(&self, code: Option<i32>) -> bool {
        match self {
            ExitExpect::Success => code == Some(0),
            ExitExpect::Failure => code != Some(0),
            ExitExpect::Any => true,
            ExitExpect::Code(c) => code == Some(*c),
        }
    }

    pub(crate) fn describe(&self) -> String {
        match self {
            ExitExpect::Success => "exits with status 0".into(),
            ExitExpect::Failure => "exits with an error (non-zero status)".into(),
            ExitExpect::Any => "exits".into(),
            ExitExpect::Code(c) => format!("exits with status {c}"),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CheckPlan {
    pub title: String,
    pub points: u32,
    pub kind: CheckKind,
}

impl CheckPlan {
    /// The wire expectation, when this is a wire check.
    pub(crate) fn wire(&self) -> Option<&WireExpect> {
        match &self.kind {
            CheckKind::Wire(e) => Some(e),
            _ => None,
        }
    }
}

/// A wire check resolved to ports, so that it applies to any capture: this run's, or a
/// student's own (`socklab verify`, where [`WireExpect::with_port`] puts the port seen in that
/// capture in place of the scenario's). Program names only serve the messages.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct WireExpect {
    /// The service port the check is about (the server's port, or the port a client sends to).
    pub port: u16,
    /// Name of the program at `port` (the server, or the client's target) for messages.
    pub server: String,
    /// Name of the other program (usually the client).
    pub client: String,
    pub kind: WireKind,
    /// In a topology, the address of the server's computer: only conversations with it count
    /// (a client that reached some other computer, its own loopback say, did not reach the
    /// server). `None` on one host, or when both programs share a computer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_addr: Option<String>,
    /// In a topology, the address of the client's computer, likewise. Equal to `server_addr`
    /// when one program names both sides (`tcp_refused`'s client, `tcp_connections`'s
    /// server): its conversations on either side count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_addr: Option<String>,
}

impl WireExpect {
    /// The expectation in words, e.g. `client's SYN to port 40123 is answered by RST`.
    pub(crate) fn describe(&self) -> String {
        self.kind.describe(self)
    }

    /// The same expectation about another service port.
    pub(crate) fn with_port(&self, port: u16) -> WireExpect {
        WireExpect {
            port,
            ..self.clone()
        }
    }

    /// The same expectation about a capture of other computers (`socklab verify`): the
    /// scenario's hosts are not in it, so its programs are known by port only, and what names
    /// the computers (an ARP exchange) names the server at `server` and its client at
    /// `client` instead, whatever their MAC addresses.
    pub(crate) fn in_foreign_capture(
        &self,
        server: std::net::IpAddr,
        client: Option<std::net::IpAddr>,
    ) -> WireExpect {
        let mut e = WireExpect {
            server_addr: None,
            client_addr: None,
            ..self.clone()
        };
        if let WireKind::ArpResolution(p) = &mut e.kind {
            p.retarget(server, client);
        }
        e
    }

    /// Whether a condition stands for the line a `write` step typed into a program.
    pub(crate) fn has_typed_line(&self) -> bool {
        self.kind
            .clone()
            .typed_line()
            .is_some_and(|m| matches!(m, PayloadMatcher::TypedLine(_)))
    }

    /// The same expectation where the typed line is `line` instead of the scenario's (`None`:
    /// any line). `socklab verify` cannot know what a student typed into their own client.
    pub(crate) fn with_typed_line(&self, line: Option<&str>) -> WireExpect {
        let mut e = self.clone();
        if let Some(m @ PayloadMatcher::TypedLine(_)) = e.kind.typed_line() {
            *m = PayloadMatcher::TypedLine(line.map(str::to_string));
        }
        e
    }
}

/// What a payload check asks of the bytes sent one way.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum PayloadRule {
    /// A condition on the bytes alone.
    Matches(PayloadMatcher),
    /// A relation with what the other side sent in the same conversation.
    Relation(Relation),
}

impl PayloadRule {
    pub(crate) fn describe(&self) -> String {
        match self {
            PayloadRule::Matches(m) => m.describe(),
            PayloadRule::Relation(r) => r.describe(),
        }
    }
}

/// How a reply relates to the request it answers: the scenario's own enum, as with
/// [`StreamName`].
pub(crate) use crate::scenario::PayloadRelation as Relation;

impl Relation {
    pub(crate) fn describe(&self) -> String {
        match self {
            Relation::UppercaseOfRequest => {
                "is the uppercase of the request (a-z → A-Z, every other byte unchanged)".into()
            }
        }
    }

    /// The reply `request` calls for.
    pub(crate) fn reply_to(&self, request: &[u8]) -> Vec<u8> {
        match self {
            Relation::UppercaseOfRequest => request.to_ascii_uppercase(),
        }
    }
}

/// A condition on payload bytes. Regexes were validated when the plan was made.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum PayloadMatcher {
    Contains(String),
    Regex(String),
    Equals(Vec<u8>),
    /// Contains the line a `write` step typed into the sender; `None` (only in `socklab
    /// verify`, which cannot know what was typed): any non-empty payload.
    TypedLine(Option<String>),
}

impl PayloadMatcher {
    pub(crate) fn matches(&self, payload: &[u8]) -> bool {
        match self {
            PayloadMatcher::Contains(s) | PayloadMatcher::TypedLine(Some(s)) => {
                let needle = s.as_bytes();
                needle.is_empty() || payload.windows(needle.len()).any(|w| w == needle)
            }
            PayloadMatcher::TypedLine(None) => !payload.is_empty(),
            PayloadMatcher::Regex(r) => {
                regex::bytes::Regex::new(r).is_ok_and(|re| re.is_match(payload))
            }
            PayloadMatcher::Equals(b) => payload == b.as_slice(),
        }
    }

    pub(crate) fn describe(&self) -> String {
        match self {
            PayloadMatcher::Contains(s) | PayloadMatcher::TypedLine(Some(s)) => {
                format!("contains {s:?}")
            }
            PayloadMatcher::TypedLine(None) => {
                "is not empty (any line typed; `--text LINE` insists on one)".into()
            }
            PayloadMatcher::Regex(r) => format!("matches /{r}/"),
            PayloadMatcher::Equals(b) => format!(
                "equals the {} bytes {}",
                b.len(),
                crate::analysis::escape::escape_bytes(b, false)
            ),
        }
    }
}
