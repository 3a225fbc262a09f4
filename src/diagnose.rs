//! Diagnoses (pure): the causes behind a submission's lost checks, each named once.
//!
//! One fault of a student's program usually costs several checks: a server that cannot start
//! fails every scenario it is in; a server that ignores its assigned port leaves its clients
//! nothing to talk to. A report that listed each lost check on its own would bury the one
//! sentence the student needs under a wall of symptoms. So each scenario's evidence is read for
//! a known cause, in this order (the first found claims the scenario's lost checks):
//!
//! 1. a role not submitted (set when the run is planned: the scenario is not run at all);
//! 2. a program that cannot start (spawn error, or it exits with a Python start-up error such as
//!    `SyntaxError` or `ModuleNotFoundError`): the checks it made impossible become `not_run`;
//!    then a program that met one of its limits (`exec::limits`: out of memory, CPU time, file
//!    size, process cap, open files), named with the limit's value; a limit met without a
//!    lost check is still named, like a flood;
//! 3. a server that ignores its assigned port (it listens or is bound elsewhere);
//! 4. a client that prompts for its server on stdin instead of taking HOST PORT;
//! 5. a program whose process exited while a detached child (a new session) kept running or
//!    serving its port (a daemonizing server);
//! 6. a server that stopped on its own while the scenario still needed it.
//!
//! Causes are merged across scenarios by id (`cannot-start:tcp-upper-server`), so the report
//! says "TCPServer.py cannot start: SyntaxError at line 7 (26 checks)" once. Lost checks that no
//! cause explains stay on their own, with their own reason. A flood of output is a diagnosis
//! with no check: it is named, and never hides what else happened.

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::check::{error_line, Outcome};
use crate::plan::{Binding, RoleSource};
use crate::result::{ProgramResult, ScenarioResult};

/// One cause, and every check it cost.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Diagnosis {
    /// Stable id, `KIND:ROLE` (`cannot-start:tcp-upper-server`).
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// One sentence, for the top of the report and the console.
    pub summary: String,
    /// What to do about it, or the evidence behind it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// `<scenario id>: <check title>` of every check this cause cost.
    pub checks: Vec<String>,
}

/// Checks of a program's state at a moment, which pass by standing still.
const STATE_KINDS: &[&str] = &["running", "blocked", "expect_blocked"];

/// Output above this many bytes on one stream is named as a flood.
const FLOOD_BYTES: u64 = 1024 * 1024;

/// Reads `sc` for a cause, marks its lost checks with it, and returns the causes it found
/// (with this scenario's checks only; [`merge`] joins them across scenarios).
pub(crate) fn scenario(sc: &mut ScenarioResult) -> Vec<Diagnosis> {
    let mut found = Vec::new();
    // A cause set when the run was planned (a role not submitted) is kept; its checks' reason
    // already says it in the binding table's words.
    let preset = sc.checks.iter().find_map(|c| c.cause.clone());
    if let Some(id) = preset {
        found.push(Diagnosis {
            role: id.split_once(':').map(|(_, r)| r.to_string()),
            summary: sc
                .checks
                .iter()
                .find_map(|c| c.reason.clone())
                .unwrap_or_default(),
            detail: Some("the scenarios that need it were not run and score 0".into()),
            checks: lost_titles(sc, &id),
            id,
        });
    } else if let Some(mut d) = claim(sc) {
        // A program that cannot start makes every check of its scenario meaningless, the
        // passed ones too (a client that dies of a SyntaxError "exits with an error").
        let not_run = d.id.starts_with("cannot-start:");
        // The exchange did not happen when a check beyond readiness was lost.
        let exchange_lost = sc
            .checks
            .iter()
            .any(|c| c.outcome.lost() && c.kind != "wait_ready");
        for c in sc.checks.iter_mut() {
            if not_run && c.outcome.counts() {
                c.set_unjudged(Outcome::NotRun, d.summary.clone());
            }
            // "Still running" or "blocked" at the end says nothing when the exchange it
            // presupposes never happened (no client reached the server): not earned. A
            // 0-point step that only lets programs settle earns nothing to withhold, and
            // stays what it saw.
            if exchange_lost
                && c.outcome == Outcome::Passed
                && c.points > 0
                && STATE_KINDS.contains(&c.kind.as_str())
            {
                c.set_unjudged(Outcome::NotRun, format!("not judged: {}", d.summary));
            }
            if c.outcome.lost() {
                c.cause = Some(d.id.clone());
            }
        }
        d.checks = lost_titles(sc, &d.id);
        found.push(d);
    }
    for p in student_programs(sc) {
        // A limit met without a lost check (a fork bomb capped, the server still serving) is
        // still named: it is what the program did.
        if let Some(d) = limit_hit(p).filter(|d| !found.iter().any(|f| f.id == d.id)) {
            found.push(d);
        }
        for (stream, text) in [
            ("stdout", &p.evidence.stdout),
            ("stderr", &p.evidence.stderr),
        ] {
            if text.bytes > FLOOD_BYTES {
                found.push(Diagnosis {
                    id: format!("flood:{}", role_of(p)),
                    role: p.role.clone(),
                    summary: format!(
                        "{} printed {} on {stream} (the report keeps its first and last lines)",
                        who(p),
                        human_bytes(text.bytes)
                    ),
                    detail: Some(
                        "printing that much slows the program and its grader; print one line \
                         per request"
                            .into(),
                    ),
                    checks: Vec::new(),
                });
            }
        }
    }
    found
}

/// Joins the causes found in each scenario: one entry per id, in order of first appearance.
pub(crate) fn merge(per_scenario: Vec<Diagnosis>) -> Vec<Diagnosis> {
    let mut out: Vec<Diagnosis> = Vec::new();
    for d in per_scenario {
        match out.iter_mut().find(|have| have.id == d.id) {
            Some(have) => have.checks.extend(d.checks),
            None => out.push(d),
        }
    }
    out
}

fn lost_titles(sc: &ScenarioResult, id: &str) -> Vec<String> {
    sc.checks
        .iter()
        .filter(|c| c.outcome.lost() && c.cause.as_deref() == Some(id))
        .map(|c| format!("{}: {}", sc.id, c.title))
        .collect()
}

/// The first cause found in the scenario, if any of its checks was lost.
fn claim(sc: &ScenarioResult) -> Option<Diagnosis> {
    if !sc.checks.iter().any(|c| c.outcome.lost()) {
        return None;
    }
    let programs: Vec<&ProgramResult> = student_programs(sc).collect();
    programs
        .iter()
        .find_map(|p| cannot_start(p))
        .or_else(|| programs.iter().find_map(|p| limit_hit(p)))
        .or_else(|| ignores_port(sc, &programs))
        .or_else(|| client_ignores_port(sc, &programs))
        .or_else(|| serves_loopback_only(sc, &programs))
        .or_else(|| programs.iter().find_map(|p| prompts(p)))
        .or_else(|| programs.iter().find_map(|p| detached(p)))
        .or_else(|| programs.iter().find_map(|p| stopped_early(p)))
}

fn student_programs(sc: &ScenarioResult) -> impl Iterator<Item = &ProgramResult> {
    sc.programs
        .iter()
        .filter(|p| matches!(p.binding, Binding::Submission { .. }))
}

fn role_of(p: &ProgramResult) -> String {
    p.role.clone().unwrap_or_else(|| p.evidence.name.clone())
}

/// The submission file a program ran (its scenario name for any other program).
fn file_of(p: &ProgramResult) -> &str {
    match &p.binding {
        Binding::Submission { file, .. } => file,
        _ => &p.evidence.name,
    }
}

/// `` `TCPServer.py` (tcp-upper-server) ``.
fn who(p: &ProgramResult) -> String {
    let file = file_of(p);
    match &p.role {
        Some(r) => format!("`{file}` ({r})"),
        None => format!("`{file}`"),
    }
}

fn is_server(p: &ProgramResult) -> bool {
    p.role.as_deref().is_some_and(|r| r.ends_with("-server"))
}

/// Python's start-up failures: the program never ran a line of its logic.
const STARTUP_ERRORS: &[&str] = &[
    "SyntaxError",
    "IndentationError",
    "TabError",
    "ModuleNotFoundError",
    "ImportError",
];

fn cannot_start(p: &ProgramResult) -> Option<Diagnosis> {
    let ev = &p.evidence;
    let why = if let Some(e) = &ev.spawn_error {
        e.clone()
    } else {
        let exit = ev
            .exit
            .as_ref()
            .filter(|e| !e.by_harness && e.code != Some(0))?;
        let stderr = &ev.stderr.text;
        let last = error_line(stderr)?;
        let startup = STARTUP_ERRORS.iter().any(|e| last.starts_with(e))
            || stderr.contains("can't open file");
        if !startup {
            return None;
        }
        static NO_FILE: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(r"can't open file '([^']*)'").expect("a valid regex"));
        if let Some(c) = NO_FILE.captures(stderr) {
            format!(
                "python3 finds no file `{}` in the submission (check its name and folder)",
                &c[1]
            )
        } else {
            match python_error_line(stderr) {
                Some(line) => at_line(&last, line),
                None => format!("it {} with: {last}", exit.describe()),
            }
        }
    };
    Some(Diagnosis {
        id: format!("cannot-start:{}", role_of(p)),
        role: p.role.clone(),
        summary: format!("{} cannot start: {why}", who(p)),
        detail: Some(format!(
            "every check that needs this program was not run; fix this first{}",
            if ev.spawn_error.is_none() {
                " (run it yourself with python3 to see the error)"
            } else {
                ""
            }
        )),
        checks: Vec::new(),
    })
}

/// The line number of the innermost `File "...", line N` of a Python traceback.
fn python_error_line(stderr: &str) -> Option<u32> {
    static LINE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#"File "[^"]*", line (\d+)"#).expect("a valid regex"));
    LINE.captures_iter(stderr)
        .last()
        .and_then(|c| c.get(1)?.as_str().parse().ok())
}

/// The first lost `wait_ready` whose reason (the grader's own words, check/steps.rs) matches
/// `re`, whose first group names a student program: that program and the other groups.
fn not_ready_because<'p>(
    sc: &ScenarioResult,
    programs: &[&'p ProgramResult],
    re: &Regex,
) -> Option<(&'p ProgramResult, Vec<String>)> {
    sc.checks
        .iter()
        .filter(|c| c.kind == "wait_ready" && c.outcome.lost())
        .find_map(|c| {
            let caps = re.captures(c.reason.as_deref()?)?;
            let name = caps.get(1)?.as_str();
            let p = programs.iter().find(|p| p.evidence.name == name)?;
            let groups = caps
                .iter()
                .skip(2)
                .map(|g| g.map_or_else(String::new, |g| g.as_str().to_string()))
                .collect();
            Some((*p, groups))
        })
}

fn ignores_port(sc: &ScenarioResult, programs: &[&ProgramResult]) -> Option<Diagnosis> {
    static NOT_READY: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"^(\S+) never (?:listened|bound) on the assigned port (\d+) \(it (?:listens|is bound) on ([\d, ]+)\)",
        )
        .expect("a valid regex")
    });
    let (p, groups) = not_ready_because(sc, programs, &NOT_READY)?;
    let [assigned, actual] = &groups[..] else {
        return None;
    };
    Some(port_ignored(
        p,
        format!(
            "uses {actual}, not the port socklab gave it on the command line ({assigned} in `{}`)",
            sc.id
        ),
    ))
}

/// The one diagnosis of a program that ignores its port, a server's or a client's: `how` says
/// what it did instead (`uses 12000, not ...`).
fn port_ignored(p: &ProgramResult, how: String) -> Diagnosis {
    Diagnosis {
        id: format!("ignores-port:{}", role_of(p)),
        role: p.role.clone(),
        summary: format!("{} ignores the assigned port: it {how}", who(p)),
        detail: Some(
            "ports are chosen per run, so a program must take its port from its arguments \
             (sys.argv), never hard-code it"
                .into(),
        ),
        checks: Vec::new(),
    }
}

/// A server of a topology bound to its loopback (`localhost`, 127.0.0.1): the other
/// computers cannot reach it, and every check that needs them to is charged here, once.
fn serves_loopback_only(sc: &ScenarioResult, programs: &[&ProgramResult]) -> Option<Diagnosis> {
    static UNREACHABLE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"^(\S+) (?:listens on|is bound to) (\S+) only, which another computer cannot reach",
        )
        .expect("a valid regex")
    });
    let (p, groups) = not_ready_because(sc, programs, &UNREACHABLE)?;
    let at = groups.first()?;
    Some(Diagnosis {
        id: format!("loopback-only:{}", role_of(p)),
        role: p.role.clone(),
        summary: format!(
            "{} serves its own computer only: it binds to {at} (localhost), which another \
             computer cannot reach (in `{}`)",
            who(p),
            sc.id
        ),
        detail: Some(
            "bind the server to the HOST it is given (its computer's own address) or to 0.0.0.0 \
             (every address), as seed 004 found: 127.0.0.1 never leaves the computer it is on"
                .into(),
        ),
        checks: Vec::new(),
    })
}

/// A client that ignores its port, seen where it is the submission's only program (a cross-test
/// run against socklab's server, which listens where it is told): its first connection or
/// datagram goes to a port the scenario did not assign. Where the submission's server is there
/// too, the server's `wait_ready` names the fault instead ([`ignores_port`]).
fn client_ignores_port(sc: &ScenarioResult, programs: &[&ProgramResult]) -> Option<Diagnosis> {
    let [p] = programs else { return None };
    if is_server(p) {
        return None;
    }
    let assigned: Vec<u16> = sc.ports.iter().map(|x| x.port).collect();
    let opening = sc
        .packets
        .iter()
        .find(|k| (k.protocol == "TCP" && k.info.contains("[SYN]")) || k.protocol == "UDP")?;
    let port: u16 = opening.dst.rsplit_once(':')?.1.parse().ok()?;
    if assigned.contains(&port) {
        return None;
    }
    let given = assigned.first()?;
    Some(port_ignored(
        p,
        format!(
            "sends to {port}, not the port socklab gave it on the command line ({given} in `{}`, \
             packet {})",
            sc.id, opening.number
        ),
    ))
}

fn prompts(p: &ProgramResult) -> Option<Diagnosis> {
    // With a manifest, its `stdin` answers the prompts.
    if !matches!(&p.binding, Binding::Submission { how, .. } if how == RoleSource::FileName.how()) {
        return None;
    }
    // Within one prompt: `Input lowercase sentence:From Server: ...` is no prompt for a server.
    static PROMPT: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"(?i)\b(enter|input|type)\b[^\n:]{0,30}\b(server|host|port|address|ip)\b[^\n:]*:?",
        )
        .expect("a valid regex")
    });
    let prompt = PROMPT
        .find(&p.evidence.stdout.text)?
        .as_str()
        .trim()
        .to_string();
    let role = role_of(p);
    let file = file_of(p);
    Some(Diagnosis {
        id: format!("prompts:{role}"),
        role: p.role.clone(),
        summary: format!(
            "{} prompts for its server (`{prompt}`) instead of taking HOST PORT on the command line",
            who(p)
        ),
        detail: Some(format!(
            "take them from sys.argv, or add a socklab.json manifest that answers the prompts: \
             {{\"roles\": {{\"{role}\": {{\"command\": [\"python3\", \"{file}\"], \"stdin\": \
             [\"{{server_addr}}\", \"{{port}}\"]}}}}}}"
        )),
        checks: Vec::new(),
    })
}

fn detached(p: &ProgramResult) -> Option<Diagnosis> {
    let exit = p.evidence.exit.as_ref().filter(|e| !e.by_harness)?;
    let child = p
        .evidence
        .detached
        .iter()
        .find(|d| !d.sockets.is_empty())
        .or_else(|| p.evidence.detached.first())?;
    // The ports it served on: its listening sockets, each port once (its connections share
    // the port, and whether one was open when it was seen is a matter of timing).
    let mut ports: Vec<u16> = child
        .sockets
        .iter()
        .filter(|s| s.listening)
        .map(|s| s.port)
        .collect();
    ports.sort_unstable();
    ports.dedup();
    let port = ports
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let serving = if port.is_empty() {
        "kept running".to_string()
    } else {
        format!("kept serving on port {port}")
    };
    Some(Diagnosis {
        id: format!("detached:{}", role_of(p)),
        role: p.role.clone(),
        summary: format!(
            "{}'s process {} but its detached child (pid {}, `{}`) {serving}",
            who(p),
            exit.describe(),
            child.pid,
            child.comm
        ),
        detail: Some(
            "a lab server runs in the foreground until it is stopped: don't fork into the \
             background (the grader, like a terminal, sees the server end when its process does)"
                .into(),
        ),
        checks: Vec::new(),
    })
}

fn stopped_early(p: &ProgramResult) -> Option<Diagnosis> {
    if !is_server(p) {
        return None;
    }
    let exit = p.evidence.exit.as_ref().filter(|e| !e.by_harness)?;
    if p.evidence.at_end.as_ref().is_some_and(|s| s.alive) {
        return None;
    }
    if let Some(crash) = python_crash(&p.evidence.stderr.text) {
        // An exception it did not catch, not a missing loop: say which and where.
        return Some(Diagnosis {
            id: format!("crashed:{}", role_of(p)),
            role: p.role.clone(),
            summary: format!(
                "{} crashes with {crash} while clients still need it",
                who(p)
            ),
            detail: Some(
                "an exception the server does not catch ends it, in the middle of a client's \
                 session: catch it (try/except) and answer with an error message instead"
                    .into(),
            ),
            checks: Vec::new(),
        });
    }
    Some(Diagnosis {
        id: format!("stopped-early:{}", role_of(p)),
        role: p.role.clone(),
        summary: format!(
            "{} stops on its own ({}) while clients still need it",
            who(p),
            exit.describe()
        ),
        detail: Some(
            "a server serves one client after another: put the accept/receive and the reply \
             in a `while True:` loop"
                .into(),
        ),
        checks: Vec::new(),
    })
}

/// `ZeroDivisionError at line 12: float division by zero` when `stderr` ends in a Python
/// traceback.
fn python_crash(stderr: &str) -> Option<String> {
    if !stderr.contains("Traceback (most recent call last)") {
        return None;
    }
    let line = python_error_line(stderr)?;
    Some(at_line(&error_line(stderr)?, line))
}

/// A Python exception's last line (`ZeroDivisionError: float division by zero`) with the line
/// it was raised at: `ZeroDivisionError at line 12: float division by zero`.
fn at_line(last: &str, line: u32) -> String {
    let (kind, message) = last.split_once(": ").unwrap_or((last, ""));
    format!("{kind} at line {line}: {message}")
}

/// What the last line of stderr says when an allocation failed, by language.
const OUT_OF_MEMORY: &[&str] = &[
    "MemoryError",
    "java.lang.OutOfMemoryError",
    "std::bad_alloc",
    "Cannot allocate memory",
    "out of memory",
];
const SIGXCPU: i32 = libc::SIGXCPU;
const SIGXFSZ: i32 = libc::SIGXFSZ;

/// A program that met one of its limits (`exec::limits`): the limit, in plain words, with
/// its value.
fn limit_hit(p: &ProgramResult) -> Option<Diagnosis> {
    let ev = &p.evidence;
    let limits = ev.limits?;
    let role = role_of(p);
    // The words do not depend on whether the program ended before the harness stopped it: a
    // program dying of its limit as the scenario ends reads the same as one that died earlier.
    let exit = ev.exit.as_ref().filter(|e| !e.by_harness);
    let last = error_line(&ev.stderr.text).unwrap_or_default();
    let (kind, summary, detail) = if exit.is_some_and(|e| e.signal == Some(SIGXCPU)) {
        (
            "cpu",
            format!(
                "{} was killed after {} s of CPU time (its limit)",
                who(p),
                limits.cpu_seconds
            ),
            "a lab program waits for its peer most of the time: look for a loop that never \
             blocks (busy waiting, or a loop that never ends)",
        )
    } else if OUT_OF_MEMORY.iter().any(|m| last.contains(m)) {
        (
            "memory",
            format!(
                "{} ran out of memory (limit {} MiB): `{last}`",
                who(p),
                limits.memory_mib
            ),
            "look for a list or buffer that grows without end",
        )
    } else if exit.is_some_and(|e| e.signal == Some(SIGXFSZ)) || last.contains("File too large") {
        (
            "file-size",
            format!(
                "{} wrote a file larger than its limit ({} MiB)",
                who(p),
                limits.file_mib
            ),
            "a lab program writes no large files",
        )
    } else if let Some(hit) = &ev.process_cap {
        // The counts are in results.json; the sentence stays the same from run to run.
        let what = if hit.killed {
            "it was stopped for running more processes than that"
        } else {
            "the kernel refused its forks beyond it"
        };
        (
            "processes",
            format!(
                "{} hit the process limit ({}): {what}",
                who(p),
                limits.processes
            ),
            "a lab program needs one process (or one per client): look for fork() in a loop",
        )
    } else if last.contains("Too many open files") {
        (
            "open-files",
            format!(
                "{} ran out of file descriptors (limit {})",
                who(p),
                limits.open_files
            ),
            "close each connection's socket when its client is served",
        )
    } else {
        return None;
    };
    Some(Diagnosis {
        id: format!("limit-{kind}:{role}"),
        role: p.role.clone(),
        summary,
        detail: Some(detail.into()),
        checks: Vec::new(),
    })
}

/// `177 MB`, `512 KiB`.
fn human_bytes(n: u64) -> String {
    if n >= 1_000_000 {
        format!("{} MB", n / 1_000_000)
    } else {
        format!("{} KiB", n / 1024)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{CheckResult, Graded};
    use crate::evidence::{ExitRecord, ProgramEvidence, StreamText};

    fn program(name: &str, role: &str, file: &str, ev: ProgramEvidence) -> ProgramResult {
        ProgramResult {
            role: Some(role.into()),
            binding: Binding::Submission {
                file: file.into(),
                how: "file name".into(),
            },
            evidence: ProgramEvidence {
                name: name.into(),
                ..ev
            },
        }
    }

    fn check(title: &str, kind: &str, passed: bool, reason: &str) -> CheckResult {
        let graded = Graded {
            passed,
            expected: String::new(),
            actual: String::new(),
            reason: Some(reason.to_string()),
        };
        CheckResult::graded(title, "check 1".into(), kind, 1, graded)
    }

    fn scenario_with(
        id: &str,
        programs: Vec<ProgramResult>,
        checks: Vec<CheckResult>,
    ) -> ScenarioResult {
        ScenarioResult {
            id: id.into(),
            lab: "upper".into(),
            programs,
            checks,
            ..ScenarioResult::default()
        }
    }

    /// A scenario whose student server listens on 12000 instead of its assigned port.
    fn hard_coded(id: &str, more: Vec<CheckResult>) -> ScenarioResult {
        let mut checks = vec![check(
            "ready",
            "wait_ready",
            false,
            "server never listened on the assigned port 28468 (it listens on 12000)",
        )];
        checks.extend(more);
        scenario_with(id, vec![server(ProgramEvidence::default())], checks)
    }

    /// A program's evidence with only what it wrote on stdout: `bytes` in all, `text` kept.
    fn printed(text: &str, bytes: u64, truncated: bool) -> ProgramEvidence {
        ProgramEvidence {
            stdout: StreamText {
                text: text.into(),
                bytes,
                truncated,
            },
            ..ProgramEvidence::default()
        }
    }

    fn server(ev: ProgramEvidence) -> ProgramResult {
        program("server", "tcp-upper-server", "TCPServer.py", ev)
    }

    fn python2_server() -> ProgramEvidence {
        ProgramEvidence {
            exit: Some(ExitRecord {
                code: Some(1),
                signal: None,
                at_ms: 40,
                by_harness: false,
            }),
            stderr: StreamText {
                text: "  File \"TCPServer.py\", line 7\n    print 'x'\nSyntaxError: Missing parentheses in call to 'print'. Did you mean print(...)?\n".into(),
                bytes: 90,
                truncated: false,
            },
            ..ProgramEvidence::default()
        }
    }

    /// A program that exited by itself with `code`, having written `stderr`.
    fn exited(code: i32, stderr: &str) -> ProgramEvidence {
        ProgramEvidence {
            exit: Some(ExitRecord {
                code: Some(code),
                signal: None,
                at_ms: 300,
                by_harness: false,
            }),
            stderr: StreamText {
                text: stderr.into(),
                bytes: stderr.len() as u64,
                truncated: false,
            },
            ..ProgramEvidence::default()
        }
    }

    #[test]
    fn a_state_check_is_not_earned_after_a_lost_exchange_but_a_settling_step_stays() {
        let ended = exited(0, "");
        let mut settle = check("the server has read the name", "expect_blocked", true, "");
        settle.points = 0;
        settle.awarded = 0;
        let mut sc = scenario_with(
            "s",
            vec![server(ended)],
            vec![
                check("answer", "tcp_payload", false, "no answer"),
                check("still blocked", "blocked", true, ""),
                settle,
            ],
        );
        let found = scenario(&mut sc);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].id, "stopped-early:tcp-upper-server");
        let outcomes: Vec<Outcome> = sc.checks.iter().map(|c| c.outcome).collect();
        assert_eq!(
            outcomes,
            [Outcome::Failed, Outcome::NotRun, Outcome::Passed],
            "{:?}",
            sc.checks
        );
        assert_eq!(found[0].checks, ["s: answer", "s: still blocked"]);
    }

    #[test]
    fn a_server_that_crashes_mid_session_is_named_with_its_exception_not_a_missing_loop() {
        let crashed = exited(
            1,
            "Traceback (most recent call last):\n  File \"CalcServer.py\", line 38, in <module>\n    \
             result = perform_operation(float(a), op, float(b))\n  File \"CalcServer.py\", line \
             12, in perform_operation\n    return a / b\nZeroDivisionError: float division by \
             zero\n",
        );
        let p = program("server", "calc-server", "CalcServer.py", crashed);
        let d = stopped_early(&p).expect("a diagnosis");
        assert_eq!(d.id, "crashed:calc-server");
        assert_eq!(
            d.summary,
            "`CalcServer.py` (calc-server) crashes with ZeroDivisionError at line 12: float \
             division by zero while clients still need it"
        );
        assert!(d.detail.unwrap().contains("try/except"));
        // Without a traceback it is the missing loop.
        let ended = exited(0, "");
        let d = stopped_early(&program("server", "calc-server", "CalcServer.py", ended));
        assert!(d.expect("a diagnosis").summary.contains("stops on its own"));
    }

    #[test]
    fn a_server_that_cannot_start_is_named_once_with_its_line_and_its_checks_are_not_run() {
        let mut scenarios: Vec<ScenarioResult> = ["a", "b"]
            .iter()
            .map(|id| {
                scenario_with(
                    id,
                    vec![program(
                        "server",
                        "tcp-upper-server",
                        "TCPServer.py",
                        python2_server(),
                    )],
                    vec![
                        check("ready", "wait_ready", false, "server failed to start"),
                        check("reply", "expect_output", false, "client printed nothing"),
                        check("refused", "tcp_refused", true, ""),
                    ],
                )
            })
            .collect();
        let found: Vec<Diagnosis> = scenarios.iter_mut().flat_map(scenario).collect();
        let merged = merge(found);
        assert_eq!(merged.len(), 1, "{merged:?}");
        let d = &merged[0];
        assert_eq!(d.id, "cannot-start:tcp-upper-server");
        assert_eq!(
            d.summary,
            "`TCPServer.py` (tcp-upper-server) cannot start: SyntaxError at line 7: Missing \
             parentheses in call to 'print'. Did you mean print(...)?"
        );
        assert_eq!(
            d.checks,
            [
                "a: ready",
                "a: reply",
                "a: refused",
                "b: ready",
                "b: reply",
                "b: refused"
            ]
        );
        // Even the check that "passed" is not run: nothing in the scenario could be judged.
        let outcomes: Vec<Outcome> = scenarios[0].checks.iter().map(|c| c.outcome).collect();
        assert_eq!(outcomes, [Outcome::NotRun; 3]);
        assert!(scenarios[0].checks.iter().all(|c| c.awarded == 0));
    }

    #[test]
    fn a_server_on_its_loopback_in_a_topology_is_one_cause_for_the_scenario() {
        let mut sc = scenario_with(
            "two",
            vec![server(ProgramEvidence::default())],
            vec![
                check(
                    "ready",
                    "wait_ready",
                    false,
                    "server listens on 127.0.0.1:30950 only, which another computer cannot \
                     reach: it must bind to its own address 192.0.2.1 (the HOST it is given) or \
                     to 0.0.0.0 (every address)",
                ),
                check(
                    "reply",
                    "expect_output",
                    false,
                    "client printed (nothing) instead",
                ),
            ],
        );
        let d = scenario(&mut sc);
        assert_eq!(d[0].id, "loopback-only:tcp-upper-server");
        assert!(
            d[0].summary
                .contains("binds to 127.0.0.1:30950 (localhost)"),
            "{}",
            d[0].summary
        );
        assert!(sc
            .checks
            .iter()
            .all(|c| c.cause.as_deref() == Some("loopback-only:tcp-upper-server")));
    }

    #[test]
    fn a_hard_coded_port_is_read_from_the_readiness_check() {
        let mut sc = hard_coded(
            "rt",
            vec![check(
                "reply",
                "expect_output",
                false,
                "client printed nothing",
            )],
        );
        let d = scenario(&mut sc);
        assert_eq!(d[0].id, "ignores-port:tcp-upper-server");
        assert!(d[0].summary.contains("it uses 12000"), "{}", d[0].summary);
        assert!(sc.checks.iter().all(|c| c.outcome == Outcome::Failed));
        assert!(sc
            .checks
            .iter()
            .all(|c| c.cause.as_deref() == Some("ignores-port:tcp-upper-server")));
        // A server still running after clients that never reached it earns nothing.
        let mut sc = hard_coded(
            "several",
            vec![
                check("still running", "running", true, ""),
                check(
                    "answer",
                    "expect_output",
                    false,
                    "client2 printed (nothing)",
                ),
            ],
        );
        scenario(&mut sc);
        assert_eq!(sc.checks[1].outcome, Outcome::NotRun);
        // When the clients did get their answers (on the port the server chose), it stands.
        sc.checks[1].outcome = Outcome::Passed;
        sc.checks[2].outcome = Outcome::Passed;
        sc.checks[0].cause = None;
        scenario(&mut sc);
        assert_eq!(sc.checks[1].outcome, Outcome::Passed);
    }

    #[test]
    fn the_grader_words_this_module_reads_are_the_ones_steps_writes() {
        // check/steps.rs writes the readiness reason; if its wording changes, this fails.
        let text = crate::check::not_ready_reason_for_tests(40123, 12000);
        let mut sc = scenario_with(
            "rt",
            vec![program(
                "server",
                "tcp-upper-server",
                "TCPServer.py",
                ProgramEvidence::default(),
            )],
            vec![check("ready", "wait_ready", false, &text)],
        );
        assert_eq!(scenario(&mut sc)[0].id, "ignores-port:tcp-upper-server");
    }

    #[test]
    fn a_daemonizing_server_is_named_with_its_detached_child() {
        let ev = ProgramEvidence {
            exit: Some(ExitRecord {
                code: Some(0),
                signal: None,
                at_ms: 30,
                by_harness: false,
            }),
            detached: vec![crate::evidence::DetachedProcess {
                pid: 7,
                comm: "python3".into(),
                sockets: vec![
                    crate::evidence::SocketRecord {
                        transport: "tcp".into(),
                        addr: "0.0.0.0".into(),
                        port: 24000,
                        listening: true,
                    },
                    // A connection it had accepted when it was seen: the same port, once.
                    crate::evidence::SocketRecord {
                        transport: "tcp".into(),
                        addr: "127.0.0.1".into(),
                        port: 24000,
                        listening: false,
                    },
                ],
                alive_at_end: true,
            }],
            ..ProgramEvidence::default()
        };
        let mut sc = scenario_with(
            "several",
            vec![program("server", "tcp-upper-server", "TCPServer.py", ev)],
            vec![check(
                "still running",
                "running",
                false,
                "server exited with status 0",
            )],
        );
        let d = scenario(&mut sc);
        assert_eq!(d[0].id, "detached:tcp-upper-server");
        assert!(
            d[0].summary.ends_with(
                "process exited with status 0 but its detached child (pid 7, `python3`) kept \
                 serving on port 24000"
            ),
            "{}",
            d[0].summary
        );
    }

    #[test]
    fn a_prompting_client_gets_the_manifest_it_needs() {
        let ev = printed("Enter Server Name: ", 19, false);
        let mut sc = scenario_with(
            "rt",
            vec![program("client", "tcp-upper-client", "TCPClient.py", ev)],
            vec![check("reply", "expect_output", false, "client printed ...")],
        );
        let d = scenario(&mut sc);
        assert_eq!(d[0].id, "prompts:tcp-upper-client");
        assert!(
            d[0].summary.contains("(`Enter Server Name:`)"),
            "{}",
            d[0].summary
        );
        assert!(d[0].detail.as_deref().unwrap().contains("\"stdin\""));
        // A prompt for the sentence followed by the server's reply is not a prompt for a server.
        let mut sc = scenario_with(
            "rt",
            vec![program(
                "client",
                "tcp-upper-client",
                "TCPClient.py",
                printed("Input lowercase sentence:From Server: ABC", 41, false),
            )],
            vec![check("reply", "expect_output", false, "client printed ...")],
        );
        assert!(scenario(&mut sc).is_empty());
    }

    #[test]
    fn unexplained_failures_stay_on_their_own_and_a_flood_is_named() {
        let ev = printed("x", 177_000_000, true);
        let mut sc = scenario_with(
            "rt",
            vec![program("server", "tcp-upper-server", "TCPServer.py", ev)],
            vec![check(
                "reply",
                "expect_output",
                false,
                "client printed \"hELLO\"",
            )],
        );
        let d = scenario(&mut sc);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].id, "flood:tcp-upper-server");
        assert!(
            d[0].summary.contains("177 MB on stdout"),
            "{}",
            d[0].summary
        );
        assert_eq!(sc.checks[0].cause, None);
    }

    fn limited(ev: ProgramEvidence) -> ProgramEvidence {
        ProgramEvidence {
            limits: Some(crate::plan::DEFAULT_LIMITS),
            ..ev
        }
    }

    #[test]
    fn a_server_out_of_memory_is_named_with_its_limit_and_claims_the_lost_checks() {
        let ev = limited(ProgramEvidence {
            stderr: StreamText {
                text: "Traceback (most recent call last):\n  File \"TCPServer.py\", line 16, in \
                       <module>\nMemoryError\n"
                    .into(),
                bytes: 80,
                truncated: false,
            },
            exit: Some(ExitRecord {
                code: Some(1),
                signal: None,
                at_ms: 5,
                by_harness: false,
            }),
            ..ProgramEvidence::default()
        });
        let mut sc = scenario_with(
            "rt",
            vec![server(ev)],
            vec![check(
                "reply",
                "expect_output",
                false,
                "client printed nothing",
            )],
        );
        let d = scenario(&mut sc);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].id, "limit-memory:tcp-upper-server");
        assert_eq!(
            d[0].summary,
            "`TCPServer.py` (tcp-upper-server) ran out of memory (limit 1024 MiB): `MemoryError`"
        );
        assert_eq!(d[0].checks, ["rt: reply"]);
        assert_eq!(
            sc.checks[0].cause.as_deref(),
            Some("limit-memory:tcp-upper-server")
        );
    }

    #[test]
    fn cpu_time_and_a_capped_fork_bomb_are_named_even_without_a_lost_check() {
        let cpu = limited(ProgramEvidence {
            exit: Some(ExitRecord {
                code: None,
                signal: Some(SIGXCPU),
                at_ms: 60_000,
                by_harness: false,
            }),
            ..ProgramEvidence::default()
        });
        let bomb = limited(ProgramEvidence {
            process_cap: Some(crate::evidence::ProcessCapHit {
                refused_forks: 1,
                peak: Some(128),
                killed: false,
            }),
            ..ProgramEvidence::default()
        });
        let mut sc = scenario_with(
            "rt",
            vec![
                server(bomb),
                program("client", "tcp-upper-client", "TCPClient.py", cpu),
            ],
            vec![check("reply", "expect_output", true, "")],
        );
        let d = scenario(&mut sc);
        let summaries: Vec<&str> = d.iter().map(|d| d.summary.as_str()).collect();
        assert_eq!(
            summaries,
            [
                "`TCPServer.py` (tcp-upper-server) hit the process limit (128): the kernel \
                 refused its forks beyond it",
                "`TCPClient.py` (tcp-upper-client) was killed after 60 s of CPU time (its limit)",
            ]
        );
        assert!(d.iter().all(|d| d.checks.is_empty()));
        // The advice is plain prose: no run of spaces left by a line break without its `\`.
        for d in &d {
            let detail = d.detail.as_deref().unwrap_or_default();
            assert!(!detail.is_empty() && !detail.contains("  "), "{detail:?}");
        }
        // Without its limits recorded (an older results.json), nothing is claimed.
        let mut old = scenario_with(
            "rt",
            vec![server(ProgramEvidence {
                limits: None,
                ..sc.programs[0].evidence.clone()
            })],
            Vec::new(),
        );
        assert!(scenario(&mut old).is_empty());
    }
}
