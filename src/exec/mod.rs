//! Running a plan's programs and steps (effects): spawning, stdin, readiness, quiescence,
//! limits, teardown. Runs inside the sandbox, as PID 1 of the run's PID namespace.
//!
//! Contract: [`supervise`] never fails as a whole; every problem becomes part of the returned
//! [`Evidence`] (a step that was not met, a program that could not start, a budget that ran
//! out), so the report can say what happened. Waits poll `/proc` and the output recorders every
//! few milliseconds: verdicts come as soon as the condition holds, never after a fixed sleep.

mod output;
pub(crate) mod procfs;

use std::io::Write as _;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{ChildStdin, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::sys::signal::{killpg, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};

use crate::evidence::{EndState, Evidence, ExitRecord, ProgramEvidence, StepOutcome, Stream};
use crate::labs::Transport;
use crate::plan::{Plan, ProgramPlan, StepPlan};
use crate::scenario::StreamName;
use output::Recorder;

/// How often waits re-examine the world.
const TICK: Duration = Duration::from_millis(2);
/// Grace between SIGTERM and SIGKILL.
const GRACE: Duration = Duration::from_millis(500);

/// What the sandbox child is asked to do.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct RunRequest {
    pub plan: Plan,
    /// Working directory of every program: a fresh copy of the submission (or empty).
    pub workdir: PathBuf,
}

/// Limits applied to every program (rlimits), so untrusted code cannot take the machine.
const CPU_SECONDS: u64 = 60;
const FILE_BYTES: u64 = 256 * 1024 * 1024;
const OPEN_FILES: u64 = 1024;
/// Programs run this much nicer than the harness, so that when they keep every core busy (a
/// bulk transfer) the capture and the supervisor still get the CPU they need: a starved
/// capture drops packets, a starved supervisor misjudges quiescence. Without contention it
/// changes nothing.
const PROGRAM_NICE: libc::c_int = 5;

struct Running {
    pid: Pid,
    stdin: Option<ChildStdin>,
    recorder: Arc<Recorder>,
}

struct Slot {
    evidence: ProgramEvidence,
    running: Option<Running>,
}

/// A live packet counter (the capture), for quiescence.
pub(crate) type PacketCounter<'a> = &'a dyn Fn() -> u64;

struct Supervisor<'a> {
    plan: &'a Plan,
    workdir: PathBuf,
    epoch: Instant,
    deadline: Instant,
    slots: Vec<Slot>,
    packets: PacketCounter<'a>,
}

/// Runs the plan and returns what happened.
pub(crate) fn supervise(req: &RunRequest, packets: PacketCounter<'_>) -> Evidence {
    let epoch = Instant::now();
    let plan = &req.plan;
    let mut sup = Supervisor {
        plan,
        workdir: req.workdir.clone(),
        epoch,
        deadline: epoch + Duration::from_millis(plan.budget_ms),
        slots: plan
            .programs
            .iter()
            .map(|p| Slot {
                evidence: ProgramEvidence {
                    name: p.name.clone(),
                    argv: p.argv.clone(),
                    ..ProgramEvidence::default()
                },
                running: None,
            })
            .collect(),
        packets,
    };
    let mut evidence = Evidence::default();
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
    evidence.duration_ms = sup.now_ms();
    evidence.programs = sup
        .slots
        .into_iter()
        .map(|mut s| {
            if let Some(r) = s.running.take() {
                s.evidence.stdout = r.recorder.text(Stream::Stdout);
                s.evidence.stderr = r.recorder.text(Stream::Stderr);
                s.evidence.transcript = r.recorder.transcript();
            }
            s.evidence
        })
        .collect();
    evidence
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
                ..
            } => self.wait_ready(*program, *port, *transport, *within_ms),
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
                let limit = self.limit(*within_ms);
                let t0 = Instant::now();
                let matches = matcher.compile();
                let met = self.wait_until(limit, |s| {
                    let text = s.stream_text(*program, *stream);
                    matches(&text) || s.output_finished(*program)
                });
                let text = self.stream_text(*program, *stream);
                let met = met && matches(&text);
                let detail = if met {
                    format!("seen after {} ms", t0.elapsed().as_millis())
                } else if self.output_finished(*program) {
                    "not seen; the program closed its output".into()
                } else {
                    format!("not seen within {} ms", t0.elapsed().as_millis())
                };
                outcome(Some(met), detail)
            }
            StepPlan::ExpectExit {
                program,
                expect,
                within_ms,
            } => {
                let limit = self.limit(*within_ms);
                let t0 = Instant::now();
                self.wait_until(limit, |s| s.slots[*program].evidence.exit.is_some());
                match &self.slots[*program].evidence.exit {
                    Some(exit) => outcome(
                        Some(expect.accepts(exit.code)),
                        format!("{} after {} ms", exit.describe(), t0.elapsed().as_millis()),
                    ),
                    None => outcome(
                        Some(false),
                        format!("still running after {} ms", t0.elapsed().as_millis()),
                    ),
                }
            }
            StepPlan::ExpectBlocked { program, within_ms } => {
                let limit = self.limit(*within_ms);
                let t0 = Instant::now();
                let blocked = self.wait_quiescent(*program, limit);
                let detail = match (&self.slots[*program].evidence.exit, blocked) {
                    (Some(exit), _) => format!("not blocked: it {}", exit.describe()),
                    (None, true) => format!(
                        "blocked: no CPU progress, output or packets for {} ms (after {} ms)",
                        self.plan.quiet_ms,
                        t0.elapsed().as_millis()
                    ),
                    (None, false) => format!(
                        "still busy after {} ms (CPU time or output kept changing)",
                        t0.elapsed().as_millis()
                    ),
                };
                outcome(Some(blocked), detail)
            }
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

    /// A step's limit, cut to what is left of the scenario's budget.
    fn limit(&self, ms: u64) -> Duration {
        Duration::from_millis(ms).min(self.deadline.saturating_duration_since(Instant::now()))
    }

    fn start(&mut self, index: usize) -> StepOutcome {
        let prog = &self.plan.programs[index];
        match spawn(prog, &self.workdir) {
            Ok(mut child) => {
                let pid = Pid::from_raw(child.id() as i32);
                let recorder = Arc::new(Recorder::default());
                let mut reader_error = None;
                if let Some(out) = child.stdout.take() {
                    reader_error = recorder.spawn_reader(Stream::Stdout, out, self.epoch).err();
                }
                if let Some(err) = child.stderr.take() {
                    reader_error = reader_error
                        .or_else(|| recorder.spawn_reader(Stream::Stderr, err, self.epoch).err());
                }
                let slot = &mut self.slots[index];
                slot.evidence.started_ms = Some(self.epoch.elapsed().as_millis() as u64);
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
                let why = format!("cannot start `{}`: {e}", prog.argv[0]);
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
    ) -> StepOutcome {
        let limit = self.limit(ms);
        let t0 = Instant::now();
        let want = match transport {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
        };
        let pgid = self.slots[index]
            .running
            .as_ref()
            .map_or(0, |r| r.pid.as_raw());
        let ready = |sockets: &[crate::evidence::SocketRecord]| {
            sockets
                .iter()
                .any(|s| s.transport == want && s.port == port && s.listening)
        };
        // A server that sits quiet while listening on some other port of the same transport
        // (a hard-coded port, the most common fault) will not change its mind: stop waiting.
        let quiet = Duration::from_millis(self.plan.quiet_ms);
        let recorder = self.slots[index]
            .running
            .as_ref()
            .map(|r| Arc::clone(&r.recorder));
        let mut last = (u64::MAX, u64::MAX);
        let mut quiet_since = Instant::now();
        let met = self.wait_until(limit, |s| {
            if s.slots[index].evidence.exit.is_some() {
                return true;
            }
            let sockets = procfs::group_sockets(pgid);
            if ready(&sockets) {
                return true;
            }
            let elsewhere = sockets
                .iter()
                .any(|x| x.transport == want && x.listening && x.port != port);
            let sample = (
                procfs::group_cpu_ns(pgid),
                recorder.as_ref().map_or(0, |r| r.output_bytes()),
            );
            if sample != last {
                last = sample;
                quiet_since = Instant::now();
            }
            elsewhere && quiet_since.elapsed() >= quiet
        });
        let sockets = procfs::group_sockets(pgid);
        let is_ready = met && ready(&sockets);
        let detail = if is_ready {
            format!("ready after {} ms", t0.elapsed().as_millis())
        } else if let Some(exit) = &self.slots[index].evidence.exit {
            format!("it {} before it was ready", exit.describe())
        } else {
            format!("not ready after {} ms", t0.elapsed().as_millis())
        };
        StepOutcome {
            met: Some(is_ready),
            detail,
            sockets,
            ..StepOutcome::default()
        }
    }

    /// Blocked: alive, and neither its CPU time, its output nor the packet count moved during
    /// a full quiet window.
    fn wait_quiescent(&mut self, index: usize, limit: Duration) -> bool {
        let quiet = Duration::from_millis(self.plan.quiet_ms);
        let Some(r) = self.slots[index].running.as_ref() else {
            return false;
        };
        let (pgid, recorder) = (r.pid.as_raw(), Arc::clone(&r.recorder));
        let sample = |packets: PacketCounter<'_>| {
            (
                procfs::group_cpu_ns(pgid),
                recorder.output_bytes(),
                packets(),
            )
        };
        let mut last = sample(self.packets);
        let mut quiet_since = Instant::now();
        let end = Instant::now() + limit;
        loop {
            self.reap();
            if self.slots[index].evidence.exit.is_some() {
                return false;
            }
            let now = sample(self.packets);
            if now != last {
                last = now;
                quiet_since = Instant::now();
            } else if quiet_since.elapsed() >= quiet {
                return true;
            }
            if Instant::now() >= end {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Polls `cond` until it holds or `limit` passes; reaps exited children as it goes.
    fn wait_until(&mut self, limit: Duration, mut cond: impl FnMut(&mut Self) -> bool) -> bool {
        let end = Instant::now() + limit;
        loop {
            self.reap();
            if cond(self) {
                return true;
            }
            if Instant::now() >= end {
                return false;
            }
            std::thread::sleep(TICK);
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
    /// let the programs settle (quiescent or exited) so a server that is about to exit after
    /// its first client is seen exiting, not caught by chance while still alive.
    fn record_end_state(&mut self) {
        let measure = self.plan.final_quiescence;
        let window = Duration::from_millis(self.plan.quiet_ms * 3);
        for i in 0..self.slots.len() {
            if self.slots[i].running.is_none() {
                continue;
            }
            let blocked = (measure && self.slots[i].evidence.exit.is_none())
                .then(|| self.wait_quiescent(i, window));
            self.reap();
            let alive = self.slots[i].evidence.exit.is_none();
            let pgid = self.slots[i].running.as_ref().map_or(0, |r| r.pid.as_raw());
            let sockets = if alive {
                procfs::group_sockets(pgid)
            } else {
                Vec::new()
            };
            self.slots[i].evidence.at_end = Some(EndState {
                alive,
                blocked: blocked.map(|b| b && alive),
                sockets,
            });
        }
    }

    /// SIGTERM, a grace period, then SIGKILL, to the whole process group.
    fn stop(&mut self, index: usize) {
        let Some(pid) = self.slots[index].running.as_ref().map(|r| r.pid) else {
            return;
        };
        if self.slots[index].evidence.exit.is_some() {
            return;
        }
        let _ = killpg(pid, Signal::SIGTERM);
        self.wait_until(GRACE, |s| s.slots[index].evidence.exit.is_some());
        if self.slots[index].evidence.exit.is_none() {
            let _ = killpg(pid, Signal::SIGKILL);
            self.wait_until(GRACE, |s| s.slots[index].evidence.exit.is_some());
        }
        if let Some(exit) = self.slots[index].evidence.exit.as_mut() {
            exit.by_harness = exit.signal.is_some();
        }
        // Members of the group that outlived its leader go too.
        let _ = killpg(pid, Signal::SIGKILL);
    }

    fn teardown(&mut self) {
        for i in 0..self.slots.len() {
            self.stop(i);
        }
        // Give reader threads a moment to drain the pipes of programs that just ended.
        let limit = Duration::from_millis(200);
        self.wait_until(limit, |s| {
            s.slots
                .iter()
                .all(|slot| slot.running.as_ref().is_none_or(|r| r.recorder.closed()))
        });
    }
}

fn outcome(met: Option<bool>, detail: impl Into<String>) -> StepOutcome {
    StepOutcome {
        met,
        detail: detail.into(),
        ..StepOutcome::default()
    }
}

/// Environment variables passed through from the harness; everything else is scrubbed.
const PASS_ENV: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "PYENV_ROOT",
    "PYENV_VERSION",
];

fn spawn(prog: &ProgramPlan, workdir: &std::path::Path) -> std::io::Result<std::process::Child> {
    let mut cmd = Command::new(&prog.argv[0]);
    cmd.args(&prog.argv[1..])
        .current_dir(workdir)
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for key in PASS_ENV {
        if let Some(v) = std::env::var_os(key) {
            cmd.env(key, v);
        }
    }
    cmd.env("LANG", "C.UTF-8")
        .env("PYTHONUNBUFFERED", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("TERM", "dumb")
        .env("SOCKLAB", "1");
    for (k, v) in &prog.env {
        cmd.env(k, v);
    }
    // SAFETY: between fork and exec only async-signal-safe calls: setpgid and setrlimit.
    unsafe {
        cmd.pre_exec(|| {
            nix::unistd::setpgid(Pid::from_raw(0), Pid::from_raw(0))?;
            use nix::sys::resource::{setrlimit, Resource};
            setrlimit(Resource::RLIMIT_CPU, CPU_SECONDS, CPU_SECONDS + 5)?;
            setrlimit(Resource::RLIMIT_FSIZE, FILE_BYTES, FILE_BYTES)?;
            setrlimit(Resource::RLIMIT_NOFILE, OPEN_FILES, OPEN_FILES)?;
            // SAFETY: setpriority is async-signal-safe; it only lowers this process's priority.
            if libc::setpriority(libc::PRIO_PROCESS, 0, PROGRAM_NICE) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd.spawn()
}
