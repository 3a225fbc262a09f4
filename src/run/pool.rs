//! Running scenarios: a pool of workers takes jobs (one scenario of one submission each) in
//! order, builds the next job's sandbox while the current one runs, grades what each run
//! shows, and hands every result over as soon as it is done. `socklab run` feeds it one
//! submission's scenarios; `socklab grade` a whole class's, so that scenarios of different
//! students run side by side.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::check::{self, Outcome};
use crate::diagnose::Diagnosis;
use crate::error::AppError;
use crate::exec::limits::ProcessCap;
use crate::exec::RunRequest;
use crate::plan::{self, Plan};
use crate::result::{ScenarioResult, Verdict};
use crate::sandbox::{self, Isolation, SandboxError};
use crate::scenario::Loaded;

/// One scenario to run for one submission (or the reference programs).
pub(crate) struct Job {
    /// The role a graded submission does not provide, and why (the binding table's words):
    /// the scenario is not run.
    pub missing: Option<(String, String)>,
    /// A program the scenario `requires` that this machine does not have: the scenario is not
    /// run, and its checks are not graded.
    pub unavailable: Option<String>,
    pub loaded: Loaded,
    pub plan: Plan,
    /// The submission's folder of the lab, copied fresh for each run.
    pub source: Option<PathBuf>,
    /// Where the run's capture goes; None: no capture (`--no-capture`, host isolation).
    pub capture: Option<PathBuf>,
    /// Whether its lost checks are read for causes: a graded submission's, in a scenario that
    /// weighs (an advisory scenario's failures are its own, shown with its checks' reasons:
    /// they never become the student's headline causes).
    pub diagnose: bool,
}

/// How the jobs of one command run, the same for all of them.
pub(crate) struct Context {
    pub isolation: Isolation,
    /// Jobs run at once.
    pub workers: usize,
    ring_mib: u32,
    /// Found once per command, and said once, in results.json and the report's header.
    pub cap: ProcessCap,
    /// Once set (Ctrl-C), no job starts; those running finish.
    pub stop: Arc<AtomicBool>,
    /// Applied to each result before it is diagnosed and scored (`--rubric`).
    pub rubric: Option<crate::rubric::Rubric>,
}

impl Context {
    /// As `exec` says: its `--jobs` at once (default: the number of CPUs).
    pub(crate) fn new(exec: &crate::cli::ExecArgs, stop: Arc<AtomicBool>) -> Context {
        let workers = exec
            .jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
            .clamp(1, 64);
        Context {
            isolation: exec.isolation,
            workers,
            ring_mib: ring_mib(workers),
            cap: ProcessCap::detect(),
            stop,
            rubric: None,
        }
    }

    /// Where captures go: `dir`, unless `exec` declines them (`--no-capture`) or the isolation
    /// cannot capture (host).
    pub(crate) fn capture_dir<'a>(exec: &crate::cli::ExecArgs, dir: &'a Path) -> Option<&'a Path> {
        (exec.isolation == Isolation::Namespace && !exec.no_capture).then_some(dir)
    }

    pub(crate) fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }
}

/// Runs `jobs` in their order on `ctx.workers` threads. `done` is called, from the worker that
/// ran it, with each job's tag, its scored result and the causes found in it, as soon as it is
/// done. Jobs not started when `ctx.stop` is set are dropped. A harness failure that makes
/// every run impossible (no user namespaces) stops everything and is returned.
pub(crate) fn execute<T: Send>(
    jobs: Vec<(T, Job)>,
    ctx: &Context,
    done: &(dyn Fn(T, ScenarioResult, Vec<Diagnosis>) + Sync),
) -> Result<(), AppError> {
    let total = jobs.len();
    let queue: Mutex<VecDeque<(T, Job, Option<sandbox::Prepared>)>> = Mutex::new(
        jobs.into_iter()
            .map(|(tag, job)| (tag, job, None))
            .collect(),
    );
    let fatal: Mutex<Option<AppError>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..ctx.workers.min(total) {
            scope.spawn(|| loop {
                if ctx.stopped() || fatal.lock().is_ok_and(|f| f.is_some()) {
                    break;
                }
                let next = queue.lock().ok().and_then(|mut q| q.pop_front());
                let Some((tag, job, prepared)) = next else {
                    break;
                };
                // Build the sandbox of the job next in line while this one runs, so its
                // set-up is off the critical path. A failure here is left for its own run to
                // meet and report.
                if let Ok(mut q) = queue.lock() {
                    if let Some((_, head, slot @ None)) = q.front_mut() {
                        // A scenario that will not run needs no sandbox.
                        if head.missing.is_none() && head.unavailable.is_none() {
                            *slot = prepare(head, ctx).ok();
                        }
                    }
                }
                match run_one(&job, prepared, ctx) {
                    Ok(mut result) => {
                        if let Some(r) = &ctx.rubric {
                            r.apply(&mut result);
                        }
                        // Diagnoses may turn lost checks into not-run ones: score after them.
                        let found = if job.diagnose && result.weighs() {
                            crate::diagnose::scenario(&mut result)
                        } else {
                            Vec::new()
                        };
                        score(&mut result);
                        done(tag, result, found);
                    }
                    Err(e) => {
                        if let Ok(mut f) = fatal.lock() {
                            f.get_or_insert(e);
                        }
                    }
                }
            });
        }
    });
    // Sandboxes built ahead for jobs that will not run now are dropped here, cleaning up.
    drop(queue);
    match fatal.into_inner() {
        Ok(Some(e)) => Err(e),
        Ok(None) => Ok(()),
        Err(_) => Err(AppError::Harness("a worker panicked".into())),
    }
}

/// Ports for one run. In a namespace any port is free; on the host, skip ports in use.
/// On a host with nearly every port taken the last draw is used as is: its server then fails
/// to bind, which the report says plainly, rather than the harness spinning forever.
pub(super) fn choose_ports(
    names: &[String],
    seed: u64,
    isolation: Isolation,
) -> Vec<plan::PortPlan> {
    let mut seed = seed;
    for _ in 0..1000 {
        let ports = plan::choose_ports(names, seed);
        let free = isolation == Isolation::Namespace
            || ports.iter().all(|p| {
                std::net::TcpListener::bind(("127.0.0.1", p.port)).is_ok()
                    && std::net::UdpSocket::bind(("127.0.0.1", p.port)).is_ok()
            });
        if free {
            return ports;
        }
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    }
    plan::choose_ports(names, seed)
}

/// Kernel memory all capture rings of a run may hold at once, in MiB.
const RING_BUDGET_MIB: u32 = 256;
/// No ring smaller than this: a hundred full-size loopback segments.
const RING_MIN_MIB: u32 = 8;

/// Each sandbox's capture ring: at most `capture::RING_MIB`, shared out so that every worker's
/// running and prepared sandbox together stay within RING_BUDGET_MIB.
fn ring_mib(workers: usize) -> u32 {
    let sandboxes = u32::try_from(workers * 2).unwrap_or(u32::MAX);
    (RING_BUDGET_MIB / sandboxes.max(1)).clamp(RING_MIN_MIB, crate::capture::RING_MIB)
}

/// Starts the sandbox of `job`, its capture ring of `ring_mib` MiB, around a fresh working copy
/// of the submission.
fn prepare(job: &Job, ctx: &Context) -> Result<sandbox::Prepared, SandboxError> {
    let spec = job.capture.as_deref().map(|path| sandbox::CaptureSpec {
        path,
        ring_mib: ctx.ring_mib,
    });
    // The lab's documents are written into the working copy, which the program sees anyway.
    let workdir = sandbox::prepare_workdir(job.source.as_deref())
        .and_then(|dir| crate::documents::place(&job.plan.lab, dir.path()).map(|()| dir))
        .map_err(|e| SandboxError::Failed(format!("cannot prepare a working directory: {e}")))?;
    let mut view = sandbox::confine::view(&job.plan, workdir.path(), &[]);
    // The cgroups are made now, so the sandbox keeps a handle on them when it leaves the
    // host's files. A machine where they cannot be made caps by supervision, and says so.
    let cap = ctx.cap.sandbox(&job.plan.programs);
    if let crate::exec::limits::CapPlan::Cgroup(dir) = &cap.plan {
        view.held.push(dir.clone());
    }
    sandbox::prepare(ctx.isolation, spec, workdir, &view, cap, &job.plan.hosts)
}

fn run_one(
    job: &Job,
    prepared: Option<sandbox::Prepared>,
    ctx: &Context,
) -> Result<ScenarioResult, AppError> {
    let t0 = Instant::now();
    let s = &job.loaded.scenario;
    let mut result = ScenarioResult {
        id: s.id.clone(),
        lab: s.lab.clone(),
        title: s.title.clone(),
        question: s.question.clone(),
        explanation: s.explanation.clone(),
        file: job.loaded.path.display().to_string(),
        advisory: s.advisory,
        cross: job.loaded.cross.clone(),
        ports: job.plan.ports.clone(),
        ..ScenarioResult::default()
    };
    if let Some((role, reason)) = &job.missing {
        // Nothing earned by default: socklab's own program never stands in for the student's.
        drop(prepared);
        result.checks = check::unjudged(&job.plan, Outcome::NotSubmitted, reason);
        for c in &mut result.checks {
            c.cause = Some(format!("not-submitted:{role}"));
        }
        result.programs = crate::grade::program_rows(&job.plan, Vec::new());
        result.duration_ms = t0.elapsed().as_millis() as u64;
        return Ok(result);
    }
    if let Some(name) = &job.unavailable {
        // Not the student's failure, and not the harness breaking: the machine lacks a program
        // the scenario needs. Said on the console and in the report, with the fix.
        drop(prepared);
        let reason = format!("`{name}` is not installed on this machine");
        result.checks = check::unjudged(&job.plan, Outcome::NotGraded, &reason);
        result.warnings.push(format!(
            "not graded: this scenario needs `{name}`, which is not installed on this machine \
             (not on PATH); install it (Debian: `apt-get install {name}`; scripts/test.sh \
             installs what the bundled scenarios need) and run again"
        ));
        result.programs = crate::grade::program_rows(&job.plan, Vec::new());
        result.duration_ms = t0.elapsed().as_millis() as u64;
        return Ok(result);
    }
    let capture = &job.capture;
    let mut workdir = None;
    let ran = match prepared {
        Some(sandbox) => Ok(sandbox),
        None => prepare(job, ctx),
    }
    .and_then(|sandbox| {
        result
            .warnings
            .extend(sandbox.cap_warning().map(str::to_string));
        let req = RunRequest {
            plan: job.plan.clone(),
            workdir: sandbox.workdir().to_path_buf(),
            cap: sandbox.cap().clone(),
        };
        workdir = Some(req.workdir.clone());
        // Running drops the sandbox, and with it the cgroups: whatever is left in them is
        // killed and they are removed.
        sandbox.run(&req)
    });
    match ran {
        Ok(mut evidence) => {
            if let Some(dir) = &workdir {
                hide_workdir(&mut evidence, dir);
            }
            if let (Some(path), Some(_), true) = (&capture, &evidence.capture, job.plan.networked())
            {
                // Each interface's packets were written as their ring gave them: in time order
                // only within an interface. Frame numbers must follow time across them.
                let ifaces: Vec<crate::capture::InterfaceDesc> =
                    sandbox::capture_interfaces(&job.plan.hosts)
                        .into_iter()
                        .map(|(_, _, name, _)| crate::capture::InterfaceDesc {
                            name,
                            linktype: crate::capture::LINKTYPE_ETHERNET,
                        })
                        .collect();
                if let Err(e) = crate::capture::sort_by_time(path, &ifaces) {
                    evidence.warnings.push(format!(
                        "the capture's packets could not be put in time order: {e}"
                    ));
                }
            }
            let analysis = match (&capture, &evidence.capture) {
                (Some(path), Some(_)) => {
                    analyze_capture(path, decode_as(&job.plan)).map_err(|e| (e, true))
                }
                (Some(_), None) => Err((
                    "the capture could not be started (see the harness warnings)".to_string(),
                    true,
                )),
                (None, _) if ctx.isolation == Isolation::Host => Err((
                    "host isolation cannot capture packets; run in a namespace".to_string(),
                    false,
                )),
                (None, _) => Err(("the run was made with --no-capture".to_string(), false)),
            };
            let capture_view = match &analysis {
                Ok(a) => check::Capture::Analysed(a),
                Err((why, true)) => check::Capture::Broken(why),
                Err((why, false)) => check::Capture::Declined(why),
            };
            crate::grade::scenario(&job.plan, evidence, capture_view).into_result(&mut result);
        }
        Err(e @ SandboxError::NoUserNamespaces { .. }) => {
            return Err(AppError::Harness(e.to_string()))
        }
        Err(e) => result.error = Some(e.to_string()),
    }
    result.duration_ms = t0.elapsed().as_millis() as u64;
    Ok(result)
}

/// The first role of the plan a graded submission does not provide, if any.
pub(super) fn not_submitted(plan: &Plan) -> Option<String> {
    plan.programs
        .iter()
        .find(|p| p.binding == crate::plan::Binding::NotSubmitted)
        .map(|p| p.role.clone().unwrap_or_else(|| p.name.clone()))
}

/// Points and verdict from the checks' outcomes: a harness error makes the verdict `error`
/// whatever else happened; not-graded checks count neither way.
pub(crate) fn score(result: &mut ScenarioResult) {
    let counted = || result.checks.iter().filter(|c| c.outcome.counts());
    result.max_points = counted().map(|c| c.points).fold(0, u32::saturating_add);
    result.points = counted().map(|c| c.awarded).fold(0, u32::saturating_add);
    result.verdict = if result.error.is_some()
        || result
            .checks
            .iter()
            .any(|c| c.outcome == Outcome::HarnessError)
    {
        Verdict::Error
    } else if result.checks.iter().any(|c| c.outcome.lost()) {
        Verdict::Fail
    } else if !result.checks.is_empty() && result.checks.iter().all(|c| !c.outcome.counts()) {
        // Nothing was judged (a program the scenario requires is not installed, or every
        // check is on a capture the user declined): not a pass.
        Verdict::NotGraded
    } else {
        Verdict::Pass
    };
}

/// The plan's programs with what each did (nothing, for a run that did not happen).
/// The ports this run's packet list reads as SMTP: the smtp lab's servers (the ports its
/// `wait_ready` steps wait on), where tshark would need `-d tcp.port==N,smtp` too.
fn decode_as(plan: &Plan) -> crate::analysis::DecodeAs {
    if plan.lab != "smtp" {
        return crate::analysis::DecodeAs::default();
    }
    let ports: Vec<u16> = plan
        .steps
        .iter()
        .filter_map(|s| match s.step {
            crate::plan::StepPlan::WaitReady {
                port,
                transport: crate::roles::Transport::Tcp,
                ..
            } => Some(port),
            _ => None,
        })
        .collect();
    crate::analysis::DecodeAs::smtp(&ports)
}

/// Reads back this run's capture; keeps every packet summary (scenario captures are small).
fn analyze_capture(
    path: &Path,
    decode_as: crate::analysis::DecodeAs,
) -> Result<crate::analysis::Analysis, String> {
    let file = std::fs::File::open(path)
        .map_err(|e| format!("cannot open the capture {}: {e}", path.display()))?;
    let name = path.display().to_string();
    crate::analysis::analyze(
        std::io::BufReader::new(file),
        &name,
        crate::analysis::AnalyzerOptions {
            decode_as,
            ..crate::analysis::AnalyzerOptions::default()
        },
    )
    .map_err(|e| format!("cannot read the capture {name}: {e}"))
}

/// Programs print their temporary working directory in tracebacks; reports show paths
/// relative to the submission instead, so they read the same on every run.
fn hide_workdir(evidence: &mut crate::evidence::Evidence, workdir: &Path) {
    let prefix = format!("{}/", workdir.display());
    for p in &mut evidence.programs {
        for text in [&mut p.stdout.text, &mut p.stderr.text]
            .into_iter()
            .chain(p.transcript.iter_mut().map(|e| &mut e.text))
        {
            if text.contains(&prefix) {
                *text = text.replace(&prefix, "");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_rings_share_a_fixed_budget() {
        assert_eq!(ring_mib(1), crate::capture::RING_MIB);
        assert_eq!(ring_mib(2), crate::capture::RING_MIB);
        assert_eq!(ring_mib(8), 16);
        assert_eq!(ring_mib(64), RING_MIN_MIB);
        for workers in 1..=256 {
            let total = ring_mib(workers) * 2 * workers as u32;
            assert!(
                total <= RING_BUDGET_MIB || ring_mib(workers) == RING_MIN_MIB,
                "{workers} workers hold {total} MiB"
            );
        }
    }
}
