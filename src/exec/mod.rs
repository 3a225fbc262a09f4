//! Running a plan's programs and steps (effects): spawning, stdin, readiness, hang detection,
//! limits, teardown. Runs inside the sandbox, as PID 1 of the run's PID namespace.
//!
//! Contract: [`supervise`] never fails as a whole; every problem becomes part of the returned
//! [`Evidence`] (a step that was not met, a program that could not start, a budget that ran
//! out), so the report can say what happened. Waits poll `/proc` and the output recorders every
//! few milliseconds: verdicts come as soon as the condition holds, never after a fixed sleep.
//!
//! Timing does not depend on load:
//! - A program is **blocked** when it waits for input — a socket or its stdin — as the kernel
//!   says, and nothing of it ran between two samples a few milliseconds apart (the rule is in
//!   [`watch`]), and no other program of the run is acting on input it received (woken from
//!   a wait for input and not waiting again, or holding unread input: it may be about to
//!   answer). A program that merely runs without having received anything does not count, so
//!   one busy program cannot keep another from being judged blocked. `expect_blocked` and the
//!   end-of-run `blocked` measure both use it; nothing counts packets or waits for a quiet
//!   window.
//! - The windows of `wait_ready` and `expect_*` steps are ceilings in the program's own time
//!   ([`watch::Clock`]): they start when the step starts (the program has exec'ed: `spawn`
//!   returns only after the `exec` succeeded) and do not count the time the program spent
//!   waiting for a CPU. They return as soon as the condition holds or can no longer hold.
//! - A program is its process group plus every descendant that left it ([`track`]): a
//!   daemonizing server's detached child counts for readiness, for "blocked", for its sockets,
//!   is recorded in [`ProgramEvidence::detached`] and is stopped with the program.

pub(crate) mod limits;
mod output;
pub(crate) mod procfs;
mod track;
mod watch;

use std::collections::HashMap;
use std::io::Write as _;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{ChildStdin, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, killpg, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};

use crate::evidence::{
    DetachedProcess, EndState, Evidence, ExitRecord, ProgramEvidence, SocketRecord, StepOutcome,
    Stream,
};
use crate::plan::{Plan, ProgramPlan, StepPlan};
use crate::roles::Transport;
use crate::scenario::StreamName;
use output::Recorder;
use procfs::{InputWait, WaitOn};
use track::{Known, Place};
use watch::{Blocked, Clock, Judge, ProcSample, Sample};

/// How often waits re-examine the world: every TICK at first, then each pause half again as
/// long as the last, up to TICK_MAX. What happens soon is seen at once; a long wait (a
/// window that runs out, a server that takes its time) costs a look every TICK_MAX instead of
/// every TICK, which matters when many sandboxes share the cores. A verdict never depends on
/// the pace: windows are measured in the program's own time and the condition is looked at
/// once more when its window has run out.
const TICK: Duration = Duration::from_millis(2);
const TICK_MAX: Duration = Duration::from_millis(10);

/// The pauses of one wait (see [`TICK`]).
struct Pace(Duration);

impl Pace {
    fn new() -> Pace {
        Pace(TICK)
    }

    fn pause(&mut self) {
        std::thread::sleep(self.0);
        self.0 = (self.0 * 3 / 2).min(TICK_MAX);
    }
}
/// Grace between SIGTERM and SIGKILL.
const GRACE: Duration = Duration::from_millis(500);
/// Ceiling, in each program's own time, of the wait for programs to settle (blocked or ended)
/// before the end-of-run state is recorded. Settled programs end it early.
const SETTLE_MS: u64 = 3_000;
/// Ceiling of the wait for output pipes to drain after every program was stopped; it returns
/// as soon as they are closed.
const DRAIN: Duration = Duration::from_secs(10);

/// What the sandbox child is asked to do.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct RunRequest {
    pub plan: Plan,
    /// Working directory of every program: a fresh copy of the submission (or empty).
    pub workdir: PathBuf,
    /// How the programs' processes are capped (see [`limits`]).
    #[serde(default)]
    pub cap: limits::CapPlan,
}

/// Programs run this much nicer than the harness, so that when they keep every core busy (a
/// bulk transfer) the capture and the supervisor still get the CPU they need: a starved
/// capture drops packets, a starved supervisor misjudges quiescence. Without contention it
/// changes nothing.
const PROGRAM_NICE: libc::c_int = 5;

/// The nice value for a program: [`PROGRAM_NICE`] above the harness's own. An absolute value
/// would ask for a higher priority than a harness started under `nice` has, which takes a
/// privilege the sandbox lacks: every program then failed to start with EACCES, charged to the
/// student as "cannot start".
fn program_nice() -> libc::c_int {
    // getpriority returns -1 both for nice -1 and for an error: errno tells them apart.
    nix::errno::Errno::clear();
    // SAFETY: a plain syscall on this process.
    let p = unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) };
    let current = if p == -1 && nix::errno::Errno::last_raw() != 0 {
        0
    } else {
        p
    };
    (current + PROGRAM_NICE).min(19)
}

struct Running {
    pid: Pid,
    stdin: Option<ChildStdin>,
    recorder: Arc<Recorder>,
}

/// A process of a program (see [`track`]).
#[derive(Debug, Clone)]
struct Member {
    pid: i32,
    /// Start time, clock ticks since boot: with the pid, identifies the process.
    start: u64,
    comm: String,
    /// Left the program's process group (or session).
    detached: bool,
    gone: bool,
    /// Sockets on the scenario's ports seen held by it (detached members only).
    sockets: Vec<SocketRecord>,
    alive_at_end: bool,
}

struct Slot {
    evidence: ProgramEvidence,
    running: Option<Running>,
    /// The program's own process first, then every process attributed to it.
    members: Vec<Member>,
    /// When its last member was seen gone (clock ticks since boot).
    ended: Option<u64>,
    /// Seen waiting for input at the last tick.
    waiting: bool,
    /// Woken from a wait for input and not waiting again since: it is acting on input (and
    /// may be about to answer another program).
    in_flight: bool,
}

impl Slot {
    fn live_pids(&self) -> Vec<i32> {
        self.members
            .iter()
            .filter(|m| !m.gone)
            .map(|m| m.pid)
            .collect()
    }

    /// Its own process has ended and no process of it is left.
    fn all_gone(&self) -> bool {
        self.evidence.exit.is_some() && self.members.iter().all(|m| m.gone)
    }
}

struct Supervisor<'a> {
    plan: &'a Plan,
    workdir: PathBuf,
    cap: limits::CapPlan,
    epoch: Instant,
    deadline: Instant,
    slots: Vec<Slot>,
    /// This process: PID 1 of the run's namespace (or a subreaper on the host).
    us: i32,
    /// Processes outside our tree (host isolation), by pid and start time; not read again.
    foreign: HashMap<i32, u64>,
    /// Processes of our tree no rule could attribute: (pid, start, comm).
    strays: Vec<(i32, u64, String)>,
    /// The scenario's ports: a detached process's sockets on them are recorded.
    ports: Vec<u16>,
}

/// Runs the plan and returns what happened.
pub(crate) fn supervise(req: &RunRequest) -> Evidence {
    let epoch = Instant::now();
    let plan = &req.plan;
    let mut sup = Supervisor {
        plan,
        workdir: req.workdir.clone(),
        cap: req.cap.clone(),
        epoch,
        deadline: epoch + Duration::from_millis(plan.budget_ms),
        slots: plan
            .programs
            .iter()
            .map(|p| Slot {
                evidence: ProgramEvidence {
                    name: p.name.clone(),
                    argv: p.argv.clone(),
                    interpreter: p.interpreter.clone(),
                    ..ProgramEvidence::default()
                },
                running: None,
                members: Vec::new(),
                ended: None,
                waiting: false,
                in_flight: false,
            })
            .collect(),
        us: std::process::id() as i32,
        foreign: HashMap::new(),
        strays: Vec::new(),
        ports: plan.ports.iter().map(|p| p.port).collect(),
    };
    let mut evidence = Evidence::default();
    if plan.programs.iter().any(|p| p.record.is_some()) {
        let dir = req.workdir.join(crate::peer_record::RECORD_DIR);
        if let Err(e) = std::fs::create_dir_all(&dir) {
            evidence.warnings.push(format!(
                "cannot make the peers' record directory {}: {e}",
                crate::peer_record::RECORD_DIR
            ));
        }
    }
    for planned in &plan.steps {
        let start_ms = sup.now_ms();
        let mut outcome = if Instant::now() >= sup.deadline {
            evidence.budget_exhausted = true;
            StepOutcome {
                skipped: true,
                detail: format!(
                    "not run: the scenario's budget of {} ms was used up",
                    plan.budget_ms
                ),
                ..StepOutcome::default()
            }
        } else {
            sup.step(&planned.step)
        };
        if planned.points.is_some() && outcome.met.is_none() {
            outcome.met = Some(false);
        }
        outcome.start_ms = start_ms;
        outcome.end_ms = sup.now_ms();
        evidence.steps.push(outcome);
    }
    sup.reap();
    sup.record_end_state();
    sup.teardown();
    for (i, slot) in sup.slots.iter_mut().enumerate() {
        if let Some((refused, peak)) = limits::cgroup_record(&sup.cap, i) {
            if refused > 0 {
                let hit = slot
                    .evidence
                    .process_cap
                    .get_or_insert_with(Default::default);
                hit.refused_forks = refused;
                hit.peak = peak;
            }
        }
    }
    evidence.duration_ms = sup.now_ms();
    for name in sup.undrained() {
        evidence.warnings.push(format!(
            "the output of {name} may be incomplete: its pipes were still open {} s after it \
             was stopped (a process it started holds them)",
            DRAIN.as_secs()
        ));
    }
    for (pid, _, comm) in &sup.strays {
        evidence.warnings.push(format!(
            "process {pid} ({comm}) was started by one of the programs, but which one could not \
             be told; it was stopped at the end"
        ));
    }
    let mut programs: Vec<(ProgramEvidence, Option<Arc<Recorder>>)> = sup
        .slots
        .into_iter()
        .map(|mut s| {
            s.evidence.detached = s
                .members
                .iter()
                .filter(|m| m.detached)
                .map(|m| DetachedProcess {
                    pid: m.pid,
                    comm: m.comm.clone(),
                    sockets: m.sockets.clone(),
                    alive_at_end: m.alive_at_end,
                })
                .collect();
            (s.evidence, s.running.map(|r| r.recorder))
        })
        .collect();
    output::fill(&mut programs);
    evidence.programs = programs.into_iter().map(|(e, _)| e).collect();
    for (p, ev) in plan.programs.iter().zip(&mut evidence.programs) {
        ev.record = read_record(p, &req.workdir);
    }
    evidence.supervisor_peak_rss_kib = limits::peak_rss_kib();
    evidence
}

/// Program `p`'s record, read once it has stopped (bounded: see `peer_record`); `None` when it
/// keeps none, or never started and wrote nothing.
fn read_record(
    p: &ProgramPlan,
    workdir: &std::path::Path,
) -> Option<crate::peer_record::PeerRecord> {
    use std::io::Read;
    let (Some(rel), crate::plan::Binding::Peer { name }) = (&p.record, &p.binding) else {
        return None;
    };
    let file = std::fs::File::open(workdir.join(rel)).ok()?;
    let len = file.metadata().map_or(0, |m| m.len());
    let mut text = Vec::new();
    let limit = crate::peer_record::MAX_BYTES as u64;
    if let Err(e) = file.take(limit).read_to_end(&mut text) {
        return Some(crate::peer_record::PeerRecord {
            unreadable: vec![format!("cannot read {rel}: {e}")],
            ..Default::default()
        });
    }
    Some(crate::peer_record::PeerRecord::parse(name, &text, len))
}

/// What a step's window measured, for its outcome.
struct Window {
    met: bool,
    /// Wall time the step waited.
    wall: Duration,
    /// Time the program spent waiting for a CPU meanwhile (not counted in its window).
    stolen: Duration,
}

impl Window {
    fn note(&self) -> String {
        let stolen = self.stolen.as_millis();
        if stolen >= 10 {
            format!(
                "{} ms, of which it waited {stolen} ms for a CPU",
                self.wall.as_millis()
            )
        } else {
            format!("{} ms", self.wall.as_millis())
        }
    }
}

impl Supervisor<'_> {
    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    fn step(&mut self, step: &StepPlan) -> StepOutcome {
        let p = step.program().unwrap_or(0);
        if step.program().is_some()
            && !matches!(step, StepPlan::Start { .. })
            && self.slots[p].running.is_none()
        {
            let why = self.slots[p]
                .evidence
                .spawn_error
                .clone()
                .unwrap_or_else(|| "it was never started".into());
            return StepOutcome {
                skipped: true,
                detail: format!(
                    "not run: {} could not start: {why}",
                    self.plan.programs[p].name
                ),
                ..StepOutcome::default()
            };
        }
        match step {
            StepPlan::Start { program } => self.start(*program),
            StepPlan::WaitReady {
                program,
                port,
                transport,
                within_ms,
                reachable_at,
                ..
            } => self.wait_ready(
                *program,
                *port,
                *transport,
                *within_ms,
                reachable_at.as_deref(),
            ),
            StepPlan::Write { program, line } => self.write(*program, line),
            StepPlan::CloseStdin { program } => {
                if let Some(r) = self.slots[*program].running.as_mut() {
                    r.stdin = None;
                }
                outcome(None, "standard input closed")
            }
            StepPlan::ExpectOutput {
                program,
                stream,
                matcher,
                within_ms,
            } => {
                let matches = matcher.compile();
                let w = self.wait_program(*program, *within_ms, |s, _| {
                    let text = s.stream_text(*program, *stream);
                    matches(&text) || s.output_finished(*program)
                });
                let text = self.stream_text(*program, *stream);
                let met = w.met && matches(&text);
                // The time of the output that met it, on the transcript's clock.
                let printed_at = self.slots[*program]
                    .running
                    .as_ref()
                    .and_then(|r| r.recorder.last_output_ms());
                let detail = if met {
                    match printed_at {
                        Some(t) => format!("seen: printed at {t} ms (after {})", w.note()),
                        None => format!("seen after {}", w.note()),
                    }
                } else if self.output_finished(*program) {
                    "not seen; the program closed its output".into()
                } else {
                    format!("not seen within {}", w.note())
                };
                let mut o = outcome(Some(met), detail);
                if !met {
                    // What it had printed when the window closed: output that comes later
                    // (once another step unblocks it) is not what this step saw.
                    o.seen_output = Some(head(&text, SEEN_OUTPUT_BYTES));
                }
                timed(o, &w)
            }
            StepPlan::ExpectExit {
                program,
                expect,
                within_ms,
            } => {
                let w = self.wait_program(*program, *within_ms, |s, _| {
                    s.slots[*program].evidence.exit.is_some()
                });
                let o = match &self.slots[*program].evidence.exit {
                    Some(exit) => outcome(
                        Some(expect.accepts(exit.code)),
                        format!(
                            "{} at {} ms (after {})",
                            exit.describe(),
                            exit.at_ms,
                            w.note()
                        ),
                    ),
                    None => outcome(Some(false), format!("still running after {}", w.note())),
                };
                timed(o, &w)
            }
            StepPlan::ExpectBlocked {
                program,
                within_ms,
                or_exit,
            } => self.expect_blocked(*program, *within_ms, *or_exit),
            StepPlan::Sleep { ms } => {
                let limit = self.limit(*ms);
                self.wait_until(limit, |_| false);
                outcome(None, format!("slept {} ms", limit.as_millis()))
            }
            StepPlan::Stop { program } => {
                self.stop(*program);
                let exit = self.slots[*program]
                    .evidence
                    .exit
                    .as_ref()
                    .map_or("still running".to_string(), ExitRecord::describe);
                outcome(None, exit)
            }
        }
    }

    /// A wall-clock limit, cut to what is left of the scenario's budget.
    fn limit(&self, ms: u64) -> Duration {
        Duration::from_millis(ms).min(self.deadline.saturating_duration_since(Instant::now()))
    }

    fn start(&mut self, index: usize) -> StepOutcome {
        let prog = &self.plan.programs[index];
        self.slots[index].evidence.limits = Some(prog.limits);
        let spawned = limits::prepare(prog.limits, &self.cap, index).and_then(|caps| {
            let netns = crate::sandbox::topo::host_netns(prog.host);
            spawn(prog, &self.workdir, caps, netns)
        });
        match spawned {
            Ok(mut child) => {
                let pid = Pid::from_raw(child.id() as i32);
                let recorder = Arc::new(Recorder::with_output_kib(prog.limits.output_kib));
                let mut reader_error = None;
                if let Some(out) = child.stdout.take() {
                    reader_error = recorder.spawn_reader(Stream::Stdout, out, self.epoch).err();
                }
                if let Some(err) = child.stderr.take() {
                    reader_error = reader_error
                        .or_else(|| recorder.spawn_reader(Stream::Stderr, err, self.epoch).err());
                }
                let stat = procfs::stat(pid.as_raw());
                let slot = &mut self.slots[index];
                slot.evidence.started_ms = Some(self.epoch.elapsed().as_millis() as u64);
                slot.members = vec![Member {
                    pid: pid.as_raw(),
                    start: stat.as_ref().map_or(0, |s| s.start),
                    comm: stat.map_or_else(String::new, |s| s.comm),
                    detached: false,
                    gone: false,
                    sockets: Vec::new(),
                    alive_at_end: false,
                }];
                slot.running = Some(Running {
                    pid,
                    stdin: child.stdin.take(),
                    recorder,
                });
                // The child is reaped through waitpid(-1) in `reap`; dropping the handle does
                // not wait for it.
                drop(child);
                for line in &prog.stdin_prelude {
                    self.write(index, line);
                }
                let detail = match reader_error {
                    Some(e) => format!("started (pid {pid}), but output recording failed: {e}"),
                    None => format!("started (pid {pid})"),
                };
                outcome(None, detail)
            }
            Err(e) => {
                let why = spawn_failure(&prog.argv[0], &self.workdir, &e);
                self.slots[index].evidence.spawn_error = Some(why.clone());
                StepOutcome {
                    detail: why,
                    met: Some(false),
                    ..StepOutcome::default()
                }
            }
        }
    }

    fn write(&mut self, index: usize, line: &str) -> StepOutcome {
        let t = self.now_ms();
        let Some(r) = self.slots[index].running.as_mut() else {
            return outcome(None, "not written: the program is not running");
        };
        let data = format!("{line}\n");
        r.recorder.note_stdin(t, &data);
        let result = match r.stdin.as_mut() {
            Some(stdin) => stdin
                .write_all(data.as_bytes())
                .and_then(|()| stdin.flush()),
            None => Err(std::io::Error::other("standard input is closed")),
        };
        match result {
            Ok(()) => outcome(None, format!("wrote {} bytes", data.len())),
            Err(e) => outcome(
                None,
                format!("not written: {e} (the program no longer reads its input)"),
            ),
        }
    }

    fn wait_ready(
        &mut self,
        index: usize,
        port: u16,
        transport: Transport,
        ms: u64,
        reachable_at: Option<&str>,
    ) -> StepOutcome {
        let want = transport.name();
        let on_port = |s: &&SocketRecord| s.transport == want && s.port == port && s.listening;
        let ready = |sockets: &[SocketRecord]| {
            sockets
                .iter()
                .filter(on_port)
                .any(|s| reachable_at.is_none_or(|a| crate::evidence::accepts_at(&s.addr, a)))
        };
        // On the port, but at an address the other computers cannot reach (its loopback).
        let unreachable = |sockets: &[SocketRecord]| -> Option<String> {
            let at = reachable_at?;
            sockets
                .iter()
                .filter(on_port)
                .find(|s| !crate::evidence::accepts_at(&s.addr, at))
                .map(|s| s.addr.clone())
        };
        // A server that waits for input without the port (listening on some other port, the
        // most common fault, or reading its stdin: a prompt) will not change its mind: stop.
        let mut judge = Judge::new(self.gap());
        let mut stuck: Option<(Blocked, Vec<SocketRecord>)> = None;
        // The sockets seen when the server was judged ready: a second look a moment later can
        // miss them (a daemonizing server's parent closing its descriptors as it exits, before
        // its child is tracked), and the verdict must be the one the kernel showed.
        let mut seen_ready: Option<Vec<SocketRecord>> = None;
        let w = self.wait_program(index, ms, |s, sample| {
            if s.slots[index].all_gone() {
                return true;
            }
            let sockets = procfs::sockets(&s.slots[index].live_pids());
            if ready(&sockets) {
                seen_ready = Some(sockets);
                return true;
            }
            if let Some(b) = judge.feed(sample) {
                let elsewhere = sockets
                    .iter()
                    .any(|x| x.transport == want && x.listening && x.port != port);
                if elsewhere || b.wait.on == WaitOn::Stdin || unreachable(&sockets).is_some() {
                    stuck = Some((b, sockets));
                    return true;
                }
            }
            false
        });
        let is_ready = w.met && seen_ready.is_some();
        let sockets = seen_ready.unwrap_or_else(|| procfs::sockets(&self.slots[index].live_pids()));
        let detail = if is_ready {
            let by = self.slots[index]
                .members
                .iter()
                .find(|m| m.detached && !m.gone && m.sockets.iter().any(|s| s.port == port));
            match by {
                Some(m) => format!(
                    "ready after {}, served by its detached process {} ({})",
                    w.note(),
                    m.pid,
                    m.comm
                ),
                None => format!("ready after {}", w.note()),
            }
        } else if let (true, Some(exit)) = (
            self.slots[index].all_gone(),
            &self.slots[index].evidence.exit,
        ) {
            format!("it {} before it was ready", exit.describe())
        } else if let (Some(addr), Some(at)) = (unreachable(&sockets), reachable_at) {
            let verb = match transport {
                Transport::Tcp => "listens on",
                Transport::Udp => "is bound to",
            };
            format!(
                "not ready for the other computers: it {verb} {} only, which another computer \
                 cannot reach; it must bind to its own address {at} (the HOST it is given) or to \
                 0.0.0.0 (every address)",
                crate::evidence::socket_addr(&addr, port)
            )
        } else if let Some((b, _)) = &stuck {
            format!(
                "not ready: after {} it waits for input ({}) without {want} port {port}",
                w.note(),
                describe_wait(&b.wait, &self.slots[index].live_pids())
            )
        } else {
            format!("not ready after {}", w.note())
        };
        let mut o = timed(outcome(Some(is_ready), detail), &w);
        o.sockets = sockets;
        o
    }

    /// The least time between the two samples that judge a program blocked.
    fn gap(&self) -> Duration {
        Duration::from_millis(self.plan.quiet_ms)
    }

    fn expect_blocked(&mut self, index: usize, ms: u64, or_exit: bool) -> StepOutcome {
        let mut judge = Judge::new(self.gap());
        let mut blocked = None;
        let mut peer = None;
        let w = self.wait_program(index, ms, |s, sample| {
            if s.slots[index].evidence.exit.is_some() {
                return true;
            }
            blocked = judge.feed(sample);
            // Waiting, but another program is acting on input and may be about to answer:
            // not settled yet.
            peer = blocked.and_then(|_| s.busy_peer(index));
            if peer.is_some() {
                blocked = None;
            }
            blocked.is_some()
        });
        let (met, detail) = match (&self.slots[index].evidence.exit, &blocked) {
            (Some(exit), _) if or_exit => (
                true,
                format!("done: it {} at {} ms", exit.describe(), exit.at_ms),
            ),
            (Some(exit), _) => (false, format!("not blocked: it {}", exit.describe())),
            (None, Some(b)) => (
                true,
                format!(
                    "blocked: it waits for input ({}) and nothing of it runs (after {})",
                    describe_wait(&b.wait, &self.slots[index].live_pids()),
                    w.note()
                ),
            ),
            (None, None) => (
                false,
                match peer {
                    Some(name) => format!(
                        "not blocked after {}: it waits for input, but {name} kept acting on \
                         input it received (and may answer)",
                        w.note()
                    ),
                    None => format!(
                        "not blocked after {}: {}",
                        w.note(),
                        self.busy_reason(index)
                    ),
                },
            ),
        };
        let mut o = timed(outcome(Some(met), detail), &w);
        o.waiting_since_ms = blocked.map(|b| b.since.as_millis() as u64);
        o
    }

    /// Updates which programs wait for input and which act on input they received; returns
    /// the sample of each program it judged by, for the caller's own rule.
    fn observe(&mut self) -> Vec<Sample> {
        (0..self.slots.len())
            .map(|i| {
                let sample = self.sample(i);
                let slot = &mut self.slots[i];
                if slot.members.iter().all(|m| m.gone) {
                    slot.waiting = false;
                    slot.in_flight = false;
                } else {
                    let waiting = sample.waiting().is_some();
                    slot.in_flight = watch::in_flight(slot.waiting, slot.in_flight, waiting);
                    slot.waiting = waiting;
                }
                sample
            })
            .collect()
    }

    /// Another program that may be about to give `index` input: it was woken by input and has
    /// not waited again since, or it holds input not yet read (a datagram, bytes, a connection
    /// to accept). A program that merely runs (a busy loop) without having received anything
    /// is not one: one busy program does not keep another from being judged blocked.
    fn busy_peer(&self, index: usize) -> Option<String> {
        self.slots
            .iter()
            .enumerate()
            .filter(|(j, s)| *j != index && s.members.iter().any(|m| !m.gone))
            .find(|(_, s)| s.in_flight || procfs::pending_input(&s.live_pids()))
            .map(|(_, s)| s.evidence.name.clone())
    }

    /// Why a program is not blocked, from one more sample.
    fn busy_reason(&self, index: usize) -> String {
        let sample = self.sample(index);
        let tasks: Vec<&procfs::TaskSample> = sample.procs.iter().flat_map(|p| &p.tasks).collect();
        if tasks.iter().any(|t| !matches!(t.state, 'S' | 'D')) {
            "it kept running (using the CPU)".into()
        } else if tasks.iter().all(|t| t.wait.is_none()) {
            "it sleeps, but not waiting for input (a sleep, or waiting for another process)".into()
        } else {
            "it kept waking up (CPU time or output kept changing)".into()
        }
    }

    /// Polls `cond` until it holds or `ms` of the program's own time has passed (see
    /// [`watch::Clock`]), within the scenario's budget; reaps and tracks as it goes.
    fn wait_program(
        &mut self,
        index: usize,
        ms: u64,
        mut cond: impl FnMut(&mut Self, &Sample) -> bool,
    ) -> Window {
        let t0 = Instant::now();
        let limit = Duration::from_millis(ms);
        let mut clock = Clock::new(self.epoch.elapsed());
        let mut pace = Pace::new();
        loop {
            self.reap();
            self.track();
            let sample = self.observe().swap_remove(index);
            clock.feed(&sample);
            let met = cond(self, &sample);
            if met
                || clock.elapsed(self.epoch.elapsed()) >= limit
                || Instant::now() >= self.deadline
            {
                return Window {
                    met,
                    wall: t0.elapsed(),
                    stolen: clock.stolen(),
                };
            }
            pace.pause();
        }
    }

    /// Polls `cond` until it holds or `limit` passes; reaps and tracks as it goes.
    fn wait_until(&mut self, limit: Duration, mut cond: impl FnMut(&mut Self) -> bool) -> bool {
        let end = Instant::now() + limit;
        let mut pace = Pace::new();
        loop {
            self.reap();
            self.track();
            self.observe();
            if cond(self) {
                return true;
            }
            if Instant::now() >= end {
                return false;
            }
            pace.pause();
        }
    }

    /// The program's live processes and output, now.
    fn sample(&self, index: usize) -> Sample {
        let slot = &self.slots[index];
        Sample {
            at: self.epoch.elapsed(),
            procs: slot
                .live_pids()
                .into_iter()
                .map(|pid| ProcSample {
                    pid,
                    tasks: procfs::tasks(pid)
                        .into_iter()
                        .filter(|t| !matches!(t.state, 'Z' | 'X' | 'x'))
                        .collect(),
                })
                .filter(|p| !p.tasks.is_empty())
                .collect(),
            output_bytes: slot
                .running
                .as_ref()
                .map_or(0, |r| r.recorder.output_bytes()),
        }
    }

    /// Brings every program's membership up to date (see [`track`]).
    fn track(&mut self) {
        if self.slots.iter().all(|s| s.members.is_empty()) {
            return;
        }
        let mut table = HashMap::new();
        let pids = procfs::all_pids();
        // A foreign pid that ended may come back as one of ours: forget the ended ones.
        let listed: std::collections::HashSet<i32> = pids.iter().copied().collect();
        self.foreign.retain(|pid, _| listed.contains(pid));
        for pid in pids {
            if pid == self.us || self.foreign.contains_key(&pid) {
                continue;
            }
            if let Some(st) = procfs::stat(pid) {
                table.insert(pid, st);
            }
        }
        let now = boot_ticks();
        for slot in &mut self.slots {
            let leader = slot.members.first().map_or(0, |m| m.pid);
            for m in &mut slot.members {
                if m.start == 0 && !m.gone {
                    // Its stat could not be read at spawn: adopt the first one seen.
                    m.start = table.get(&m.pid).map_or(0, |st| st.start);
                }
                match table.get(&m.pid).filter(|st| st.start == m.start) {
                    Some(st) if !st.ended() => {
                        m.detached |= st.pgrp != leader;
                        m.comm.clone_from(&st.comm);
                    }
                    _ => m.gone = true,
                }
            }
            if !slot.members.is_empty() && slot.members.iter().all(|m| m.gone) {
                slot.ended.get_or_insert(now);
            }
        }
        let known: Vec<Known> = self
            .slots
            .iter()
            .map(|s| Known {
                members: s.members.iter().map(|m| (m.pid, m.start)).collect(),
                ended: s.ended,
            })
            .collect();
        let cap = &self.cap;
        let placed = track::attribute(&table, &known, self.us, |pid| limits::program_of(cap, pid));
        for (pid, place) in placed {
            let st = &table[&pid];
            match place {
                Place::Program(i) => {
                    self.strays
                        .retain(|(p, s, _)| !(*p == pid && *s == st.start));
                    let slot = &mut self.slots[i];
                    let leader = slot.members.first().map_or(0, |m| m.pid);
                    slot.ended = None;
                    slot.members.push(Member {
                        pid,
                        start: st.start,
                        comm: st.comm.clone(),
                        detached: st.pgrp != leader,
                        gone: st.ended(),
                        sockets: Vec::new(),
                        alive_at_end: false,
                    });
                }
                Place::Stray => {
                    if !self
                        .strays
                        .iter()
                        .any(|(p, s, _)| *p == pid && *s == st.start)
                    {
                        self.strays.push((pid, st.start, st.comm.clone()));
                    }
                }
                Place::Foreign => {
                    self.foreign.insert(pid, st.start);
                }
            }
        }
        self.note_detached_sockets();
        self.enforce_process_cap();
    }

    /// The backstop of the process cap (see [`limits`]): a program with more live processes
    /// than its `processes` limit is killed, whole. Where a pids cgroup holds, it never fires.
    fn enforce_process_cap(&mut self) {
        // Slot `i` is program `i` of the plan.
        for (slot, prog) in self.slots.iter_mut().zip(&self.plan.programs) {
            let live = slot.members.iter().filter(|m| !m.gone).count() as u64;
            if live <= prog.limits.processes {
                continue;
            }
            if let Some(r) = &slot.running {
                let _ = killpg(r.pid, Signal::SIGKILL);
            }
            for m in slot.members.iter().filter(|m| !m.gone) {
                let _ = kill(Pid::from_raw(m.pid), Signal::SIGKILL);
            }
            let hit = slot
                .evidence
                .process_cap
                .get_or_insert_with(Default::default);
            hit.killed = true;
            hit.peak = Some(hit.peak.unwrap_or(0).max(live));
        }
    }

    /// Records the sockets on the scenario's ports that live detached processes hold.
    fn note_detached_sockets(&mut self) {
        for slot in &mut self.slots {
            let pids: Vec<i32> = slot
                .members
                .iter()
                .filter(|m| m.detached && !m.gone)
                .map(|m| m.pid)
                .collect();
            if pids.is_empty() {
                continue;
            }
            for (pid, socks) in procfs::sockets_by_pid(&pids) {
                let Some(m) = slot.members.iter_mut().find(|m| m.pid == pid && !m.gone) else {
                    continue;
                };
                for s in socks {
                    if self.ports.contains(&s.port) && !m.sockets.contains(&s) {
                        m.sockets.push(s);
                    }
                }
            }
        }
    }

    fn stream_text(&self, index: usize, stream: StreamName) -> String {
        let Some(r) = self.slots[index].running.as_ref() else {
            return String::new();
        };
        match stream {
            StreamName::Stdout => r.recorder.text(Stream::Stdout).text,
            StreamName::Stderr => r.recorder.text(Stream::Stderr).text,
            StreamName::Any => {
                r.recorder.text(Stream::Stdout).text + &r.recorder.text(Stream::Stderr).text
            }
        }
    }

    /// The program exited and its pipes are drained: its output is final.
    fn output_finished(&self, index: usize) -> bool {
        self.slots[index].evidence.exit.is_some()
            && self.slots[index]
                .running
                .as_ref()
                .is_none_or(|r| r.recorder.closed())
    }

    /// Collects every exited child; orphans re-parented to us (PID 1) are reaped and ignored.
    fn reap(&mut self) {
        loop {
            match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::Exited(pid, code)) => self.record_exit(pid, Some(code), None),
                Ok(WaitStatus::Signaled(pid, sig, _)) => {
                    self.record_exit(pid, None, Some(sig as i32))
                }
                Ok(WaitStatus::StillAlive) | Err(_) => break,
                Ok(_) => {}
            }
        }
    }

    fn record_exit(&mut self, pid: Pid, code: Option<i32>, signal: Option<i32>) {
        let at_ms = self.now_ms();
        for slot in &mut self.slots {
            for m in slot.members.iter_mut().filter(|m| m.pid == pid.as_raw()) {
                m.gone = true;
            }
        }
        if let Some(slot) = self
            .slots
            .iter_mut()
            .find(|s| s.running.as_ref().is_some_and(|r| r.pid == pid) && s.evidence.exit.is_none())
        {
            slot.evidence.exit = Some(ExitRecord {
                code,
                signal,
                at_ms,
                by_harness: false,
            });
        }
    }

    /// Records each program's state after the last step. When a check depends on it, first
    /// let the programs settle (blocked or ended) so a server that is about to exit after its
    /// first client is seen exiting, not caught by chance while still alive.
    fn record_end_state(&mut self) {
        let n = self.slots.len();
        let mut blocked: Vec<Option<bool>> = vec![None; n];
        if self.plan.final_quiescence {
            let mut judges: Vec<Judge> = (0..n).map(|_| Judge::new(self.gap())).collect();
            let mut clocks: Vec<Clock> = (0..n).map(|_| Clock::new(self.epoch.elapsed())).collect();
            let limit = Duration::from_millis(SETTLE_MS);
            let mut pace = Pace::new();
            loop {
                self.reap();
                self.track();
                let samples = self.observe();
                let mut pending = false;
                for i in 0..n {
                    if self.slots[i].running.is_none() || blocked[i].is_some() {
                        continue;
                    }
                    if self.slots[i].evidence.exit.is_some() {
                        blocked[i] = Some(false);
                        continue;
                    }
                    clocks[i].feed(&samples[i]);
                    if judges[i].feed(&samples[i]).is_some() && self.busy_peer(i).is_none() {
                        blocked[i] = Some(true);
                    } else if clocks[i].elapsed(self.epoch.elapsed()) < limit {
                        pending = true;
                    }
                }
                if !pending || Instant::now() >= self.deadline {
                    break;
                }
                pace.pause();
            }
        }
        self.reap();
        self.track();
        for (i, measured) in blocked.into_iter().enumerate() {
            if self.slots[i].running.is_none() {
                continue;
            }
            let alive = self.slots[i].evidence.exit.is_none();
            let sockets = procfs::sockets(&self.slots[i].live_pids());
            for m in &mut self.slots[i].members {
                m.alive_at_end = !m.gone;
            }
            self.slots[i].evidence.at_end = Some(EndState {
                alive,
                blocked: self
                    .plan
                    .final_quiescence
                    .then(|| measured == Some(true) && alive),
                sockets,
            });
        }
    }

    /// SIGTERM, a grace period, then SIGKILL, to the whole process group and to every process
    /// of the program that left it.
    fn stop(&mut self, index: usize) {
        let Some(pid) = self.slots[index].running.as_ref().map(|r| r.pid) else {
            return;
        };
        if self.slots[index].all_gone() {
            // Members of the group that outlived its leader unseen go too.
            let _ = killpg(pid, Signal::SIGKILL);
            return;
        }
        for sig in [Signal::SIGTERM, Signal::SIGKILL] {
            let _ = killpg(pid, sig);
            for m in self.slots[index].members.iter().filter(|m| !m.gone) {
                let _ = kill(Pid::from_raw(m.pid), sig);
            }
            if self.wait_until(GRACE, |s| s.slots[index].all_gone()) {
                break;
            }
        }
        if let Some(exit) = self.slots[index].evidence.exit.as_mut() {
            exit.by_harness = exit.signal.is_some();
        }
        let _ = killpg(pid, Signal::SIGKILL);
    }

    fn teardown(&mut self) {
        for i in 0..self.slots.len() {
            self.stop(i);
        }
        for (pid, start, _) in &self.strays {
            if procfs::stat(*pid).is_some_and(|st| st.start == *start) {
                let _ = kill(Pid::from_raw(*pid), Signal::SIGKILL);
            }
        }
        // Let the reader threads drain the pipes of programs that just ended. Every process
        // holding a write end is gone now, so the pipes close as soon as the readers have read
        // what is left: wait for that, not for a fixed time (on a loaded machine a reader
        // thread may not run for a while, and output cut short would change verdicts).
        self.wait_until(DRAIN, |s| {
            s.slots
                .iter()
                .all(|slot| slot.running.as_ref().is_none_or(|r| r.recorder.closed()))
        });
    }

    /// Programs whose output pipes were still open after [`teardown`](Self::teardown).
    fn undrained(&self) -> Vec<String> {
        self.slots
            .iter()
            .filter(|s| s.running.as_ref().is_some_and(|r| !r.recorder.closed()))
            .map(|s| s.evidence.name.clone())
            .collect()
    }
}

/// Clock ticks since boot, the unit of a process's start time.
fn boot_ticks() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    std::fs::read_to_string("/proc/uptime")
        .ok()
        .and_then(|t| t.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0, |secs| (secs * hz) as u64)
}

/// "recvfrom on UDP port 40000", "read on its standard input", "poll".
fn describe_wait(w: &InputWait, pids: &[i32]) -> String {
    match w.on {
        WaitOn::Socket(inode) => match procfs::socket(inode, pids) {
            Some(s) if s.listening || s.transport == "udp" => {
                format!("{} on {} port {}", w.call, s.transport, s.port)
            }
            Some(s) => format!("{} on a {} socket", w.call, s.transport),
            None => format!("{} on a socket", w.call),
        },
        WaitOn::Stdin => format!("{} on its standard input", w.call),
        WaitOn::Any => w.call.to_string(),
    }
}

fn timed(mut o: StepOutcome, w: &Window) -> StepOutcome {
    o.cpu_wait_ms = Some(w.stolen.as_millis() as u64);
    o
}

fn outcome(met: Option<bool>, detail: impl Into<String>) -> StepOutcome {
    StepOutcome {
        met,
        detail: detail.into(),
        ..StepOutcome::default()
    }
}

/// How much of what a program had printed an unmet `expect_output` keeps (its report quotes
/// less).
const SEEN_OUTPUT_BYTES: usize = 4096;

/// The first `max` bytes of `text`, cut at a character boundary.
fn head(text: &str, max: usize) -> String {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

/// Why a program could not be started, in the words a student needs: a script without the
/// execute permission, a `#!` line naming an interpreter this machine does not have (Python 2,
/// a Windows line ending), or a file that is not there. The file is looked at here, in the
/// sandbox, where the program's copy is.
fn spawn_failure(program: &str, workdir: &std::path::Path, e: &std::io::Error) -> String {
    let path = workdir.join(program);
    let name = program.trim_start_matches("./");
    let plain = format!("cannot start `{program}`: {e}");
    if !program.contains('/') {
        return plain;
    }
    match e.kind() {
        std::io::ErrorKind::PermissionDenied if path.is_file() => format!(
            "`{name}` is not executable: give it the execute permission (`chmod +x {name}`) or \
             name its interpreter in socklab.json (e.g. `[\"sh\", \"{name}\"]`)"
        ),
        std::io::ErrorKind::NotFound if path.is_file() => {
            let first = std::fs::read(&path)
                .ok()
                .and_then(|b| {
                    let line = b.split(|c| *c == b'\n').next()?.to_vec();
                    String::from_utf8(line).ok()
                })
                .unwrap_or_default();
            match first.strip_prefix("#!") {
                Some(rest) if rest.ends_with('\r') => format!(
                    "`{name}`'s `#!` line ends in a Windows line ending (CR LF), so the system \
                     looks for an interpreter named `{}\\r`: save the file with Unix line endings",
                    rest.trim()
                ),
                Some(rest) => {
                    let mut words = rest.split_whitespace();
                    let first = words.next().unwrap_or_default();
                    let interpreter = if first.ends_with("/env") {
                        words.next().unwrap_or(first)
                    } else {
                        first
                    };
                    format!(
                        "`{name}`'s `#!` line asks for `{interpreter}`, which is not installed \
                         here{}",
                        if interpreter.contains("python2") || interpreter.ends_with("python") {
                            " (the labs run Python 3: `#!/usr/bin/env python3`)"
                        } else {
                            ""
                        }
                    )
                }
                None => plain,
            }
        }
        std::io::ErrorKind::NotFound => {
            format!("`{name}` does not exist in the submission (check its name in socklab.json)")
        }
        _ => plain,
    }
}

/// Starts `prog`; in a topology, in its host's network namespace `netns`.
fn spawn(
    prog: &ProgramPlan,
    workdir: &std::path::Path,
    caps: limits::Prepared,
    netns: Option<std::os::fd::RawFd>,
) -> std::io::Result<std::process::Child> {
    let mut cmd = Command::new(&prog.argv[0]);
    cmd.args(&prog.argv[1..])
        .current_dir(workdir)
        .env_clear()
        .envs(crate::sandbox::confine::program_env(workdir))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in &prog.env {
        cmd.env(k, v);
    }
    let nice = program_nice();
    // SAFETY: between fork and exec only async-signal-safe calls: setns, setpgid, write
    // (joining the pids cgroup), setrlimit and setpriority.
    unsafe {
        cmd.pre_exec(move || {
            // While it still has the supervisor's capabilities: exec drops them all.
            if let Some(fd) = netns {
                crate::sandbox::topo::join(fd)?;
            }
            nix::unistd::setpgid(Pid::from_raw(0), Pid::from_raw(0))?;
            caps.apply()?;
            // SAFETY: setpriority is async-signal-safe; it only lowers this process's priority.
            if libc::setpriority(libc::PRIO_PROCESS, 0, nice) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd.spawn()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_program_that_cannot_start_is_told_why_in_plain_words() {
        use std::io::{Error, ErrorKind};
        let dir = tempfile::tempdir().unwrap();
        let w = dir.path();
        std::fs::write(w.join("client.sh"), "#!/bin/sh\necho hi\n").unwrap();
        std::fs::write(w.join("old.py"), "#!/usr/bin/env python2\nprint 'x'\n").unwrap();
        std::fs::write(w.join("dos.py"), "#!/usr/bin/python3\r\nprint('x')\r\n").unwrap();
        let denied = Error::from(ErrorKind::PermissionDenied);
        let missing = Error::from(ErrorKind::NotFound);
        let said = super::spawn_failure("./client.sh", w, &denied);
        assert!(
            said.contains("`client.sh` is not executable") && said.contains("chmod +x client.sh"),
            "{said}"
        );
        let said = super::spawn_failure("./old.py", w, &missing);
        assert!(
            said.contains("asks for `python2`, which is not installed"),
            "{said}"
        );
        let said = super::spawn_failure("./dos.py", w, &missing);
        assert!(said.contains("Windows line ending"), "{said}");
        let said = super::spawn_failure("./gone.sh", w, &missing);
        assert!(said.contains("`gone.sh` does not exist"), "{said}");
        // A command on PATH (`python3`) that is missing: the system's words.
        let said = super::spawn_failure("python9", w, &missing);
        assert!(said.starts_with("cannot start `python9`"), "{said}");
    }

    /// Regression: programs got the absolute nice value 5, so a harness run under `nice` (10)
    /// asked to lower theirs, which fails without CAP_SYS_NICE (as in the sandbox): every
    /// program failed to start with "Permission denied".
    #[test]
    fn programs_are_niced_relative_to_a_harness_started_under_nice() {
        // A thread of its own: the nice value raised here must not outlive the test.
        std::thread::spawn(niced_spawn).join().unwrap();
    }

    fn niced_spawn() {
        let prog = ProgramPlan {
            name: "p".into(),
            role: None,
            argv: vec!["sleep".into(), "5".into()],
            env: Vec::new(),
            stdin_prelude: Vec::new(),
            binding: crate::plan::Binding::Command,
            transport: None,
            host: 0,
            interpreter: None,
            limits: crate::plan::ProgramLimits::default(),
            record: None,
        };
        // Nice is per thread on Linux: only this thread is raised (never lowered, which would
        // need a privilege: a test run already under `nice 15` stays at 15), and the child
        // inherits it.
        // SAFETY: getpriority and setpriority on this thread only; no memory is involved.
        let own = unsafe {
            let before = libc::getpriority(libc::PRIO_PROCESS, 0);
            assert_eq!(libc::setpriority(libc::PRIO_PROCESS, 0, before.max(12)), 0);
            libc::getpriority(libc::PRIO_PROCESS, 0)
        };
        assert!(own >= 12, "this thread runs at nice {own}");
        let caps =
            limits::prepare(prog.limits, &limits::CapPlan::Supervision, 0).expect("no cgroup");
        let dir = std::env::temp_dir();
        let mut child = spawn(&prog, &dir, caps, None).expect("the program starts");
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", child.id())).unwrap();
        let _ = child.kill();
        let _ = child.wait();
        // Field 19 of /proc/PID/stat, counted after the parenthesised command name.
        let after_comm = stat.rsplit_once(") ").map(|(_, rest)| rest).unwrap();
        let nice: i32 = after_comm.split(' ').nth(16).unwrap().parse().unwrap();
        assert_eq!(nice, (own + PROGRAM_NICE).min(19));
    }
}
