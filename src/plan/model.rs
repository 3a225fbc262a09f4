//! Plan types: what the sandbox executes and what checks grade. Serialized to the sandbox child.

use serde::{Deserialize, Serialize};

use crate::labs::Transport;
use crate::scenario::{ExitStatusName, StreamName};

/// Default wall-clock budget of a scenario.
pub(crate) const DEFAULT_BUDGET_MS: u64 = 20_000;
/// Default limit of `wait_ready`.
pub(crate) const DEFAULT_READY_MS: u64 = 5_000;
/// Default limit of the `expect_*` steps.
pub(crate) const DEFAULT_EXPECT_MS: u64 = 3_000;
/// How long a program must show no CPU progress, output or packets to count as blocked.
/// Long enough to span a scheduler hiccup, short enough that a verdict takes well under 1 s.
pub(crate) const QUIET_WINDOW_MS: u64 = 300;

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

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct HostPlan {
    pub name: String,
    pub addr: String,
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
        match self {
            Matcher::Contains(s) => text.contains(s.as_str()),
            Matcher::NotContains(s) => !text.contains(s.as_str()),
            Matcher::Regex(r) => regex::Regex::new(r).is_ok_and(|re| re.is_match(text)),
            Matcher::NotRegex(r) => regex::Regex::new(r).is_ok_and(|re| !re.is_match(text)),
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

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum CheckKind {
    Exit {
        program: usize,
        expect: ExitExpect,
    },
    Output {
        program: usize,
        stream: StreamName,
        matcher: Matcher,
    },
    Running {
        program: usize,
    },
    Blocked {
        program: usize,
    },
}
