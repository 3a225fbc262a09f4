//! `socklab run`: discover and load scenarios, resolve them against the bindings, run each in
//! its own sandbox (several at once), grade, and write the reports.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::check;
use crate::cli::RunArgs;
use crate::error::AppError;
use crate::exec::RunRequest;
use crate::plan::{self, Bindings, Plan};
use crate::report;
use crate::result::{ProgramResult, RunResult, ScenarioResult, StepResult, Summary, Verdict};
use crate::sandbox::{self, Isolation, SandboxError};
use crate::scenario::{self, Loaded};
use crate::submission::Submission;

/// Default scenario directory.
pub(crate) const SCENARIO_DIR: &str = "scenarios";

/// Every `*.json` under `paths` (files as given, directories recursively), sorted.
pub(crate) fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, AppError> {
    let defaults = [PathBuf::from(SCENARIO_DIR)];
    let paths = if paths.is_empty() {
        &defaults[..]
    } else {
        paths
    };
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut files)
                .map_err(|e| AppError::Input(format!("cannot read {}: {e}", p.display())))?;
        } else if p.is_file() {
            files.push(p.clone());
        } else if p.as_path() == Path::new(SCENARIO_DIR) {
            return Err(AppError::Input(
                "no `scenarios/` directory here: run socklab from the project root, or pass scenario files or directories".into(),
            ));
        } else {
            return Err(AppError::Input(format!(
                "no such scenario file or directory: {}",
                p.display()
            )));
        }
    }
    files.sort();
    files.dedup();
    Ok(files)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    Ok(())
}

/// Loads every file; all problems are reported together.
pub(crate) fn load_all(files: &[PathBuf], lab: Option<&str>) -> Result<Vec<Loaded>, AppError> {
    let mut loaded = Vec::new();
    let mut problems = Vec::new();
    for f in files {
        match scenario::load(f) {
            Ok(l) => loaded.push(l),
            Err(e) => problems.push(e.to_string()),
        }
    }
    if !problems.is_empty() {
        return Err(AppError::Input(problems.join("\n")));
    }
    let mut ids = std::collections::BTreeMap::new();
    for l in &loaded {
        if let Some(other) = ids.insert(l.scenario.id.clone(), l.path.clone()) {
            problems.push(format!(
                "duplicate scenario id `{}` in {} and {}",
                l.scenario.id,
                other.display(),
                l.path.display()
            ));
        }
    }
    if !problems.is_empty() {
        return Err(AppError::Input(problems.join("\n")));
    }
    if let Some(lab) = lab {
        if !crate::labs::LABS.iter().any(|(n, _)| *n == lab) {
            let help = scenario::did_you_mean(lab, crate::labs::LABS.iter().map(|(n, _)| *n));
            return Err(AppError::Input(format!(
                "unknown lab `{lab}`{}",
                help.map(|h| format!(" ({h})")).unwrap_or_default()
            )));
        }
        loaded.retain(|l| l.scenario.lab == lab);
    }
    Ok(loaded)
}

struct Job {
    loaded: Loaded,
    plan: Plan,
    source: Option<PathBuf>,
}

pub(crate) fn run(args: &RunArgs) -> Result<RunResult, AppError> {
    let started = SystemTime::now();
    let t0 = Instant::now();
    let files = discover(&args.paths)?;
    let loaded = load_all(&files, args.lab.as_deref())?;
    if loaded.is_empty() {
        return Err(AppError::Input("no scenarios to run".into()));
    }
    let submission = match &args.submission {
        Some(dir) => Some(Submission::open(dir).map_err(|e| AppError::Input(e.to_string()))?),
        None => None,
    };
    let exe = std::env::current_exe()
        .map_err(|e| AppError::Harness(format!("cannot find socklab's own binary: {e}")))?
        .display()
        .to_string();
    let seed = args.seed.unwrap_or_else(|| {
        let nanos = started
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        nanos ^ (u64::from(std::process::id()) << 32)
    });

    let mut jobs = Vec::new();
    let mut problems = Vec::new();
    for (i, l) in loaded.into_iter().enumerate() {
        let bindings = submission
            .as_ref()
            .map_or_else(Bindings::default, |s| s.bindings(&l.scenario.lab));
        let names = plan::port_names(&l);
        let ports = choose_ports(
            &names,
            seed.wrapping_add(i as u64 * 0x9E37_79B9),
            args.isolation,
        );
        match plan::resolve(&l, &bindings, &ports, &exe) {
            Ok(plan) => jobs.push(Job {
                plan,
                source: submission.as_ref().map(|s| s.dir.clone()),
                loaded: l,
            }),
            Err(diags) => problems.extend(diags.iter().map(|d| d.to_string())),
        }
    }
    if !problems.is_empty() {
        return Err(AppError::Input(problems.join("\n")));
    }
    // Interpreters (`python3`, ...) resolve once per run, not through a shim at each start.
    crate::interp::resolve_plans(jobs.iter_mut().map(|j| &mut j.plan))?;

    std::fs::create_dir_all(&args.report)
        .map_err(|e| AppError::Harness(format!("cannot create {}: {e}", args.report.display())))?;
    let width = jobs.iter().map(|j| j.plan.id.len()).max().unwrap_or(10);
    let total = jobs.len();
    let workers = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
        .clamp(1, 64);
    let ring_mib = ring_mib(workers);
    let queue = Arc::new(Mutex::new(
        jobs.into_iter()
            .enumerate()
            .map(|(i, job)| (i, job, None::<sandbox::Prepared>))
            .collect::<Vec<_>>(),
    ));
    let results: Arc<Mutex<Vec<(usize, ScenarioResult)>>> = Arc::default();
    let fatal: Arc<Mutex<Option<AppError>>> = Arc::default();
    std::thread::scope(|scope| {
        for _ in 0..workers.min(total) {
            scope.spawn(|| loop {
                if fatal.lock().is_ok_and(|f| f.is_some()) {
                    break;
                }
                let next = queue
                    .lock()
                    .ok()
                    .and_then(|mut q| (!q.is_empty()).then(|| q.remove(0)));
                let Some((index, job, prepared)) = next else {
                    break;
                };
                // Build the sandbox of the scenario next in line while this one runs, so its
                // set-up is off the critical path. A failure here is left for its own run to
                // meet and report.
                if let Ok(mut q) = queue.lock() {
                    if let Some((_, head, slot @ None)) = q.first_mut() {
                        *slot = prepare(head, ring_mib, args).ok();
                    }
                }
                match run_one(&job, prepared, ring_mib, args) {
                    Ok(result) => {
                        print_line(&result, width);
                        if let Ok(mut r) = results.lock() {
                            r.push((index, result));
                        }
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
    if let Some(e) = fatal.lock().ok().and_then(|mut f| f.take()) {
        return Err(e);
    }
    let mut scenarios: Vec<(usize, ScenarioResult)> = std::mem::take(
        &mut *results
            .lock()
            .map_err(|_| AppError::Harness("a worker panicked".into()))?,
    );
    scenarios.sort_by_key(|(i, _)| *i);
    let scenarios: Vec<ScenarioResult> = scenarios.into_iter().map(|(_, s)| s).collect();
    let result = RunResult {
        schema_version: crate::result::SCHEMA_VERSION,
        socklab_version: env!("CARGO_PKG_VERSION").into(),
        started_at: crate::result::rfc3339(
            started
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        ),
        duration_ms: t0.elapsed().as_millis() as u64,
        isolation: match args.isolation {
            Isolation::Namespace => "namespace".into(),
            Isolation::Host => "host (degraded: no isolation, no capture)".into(),
        },
        submission: submission.as_ref().map(|s| s.dir.display().to_string()),
        summary: Summary::of(&scenarios),
        scenarios,
    };
    write_reports(&result, &args.report)?;
    Ok(result)
}

/// Ports for one run. In a namespace any port is free; on the host, skip ports in use.
/// On a host with nearly every port taken the last draw is used as is: its server then fails
/// to bind, which the report says plainly, rather than the harness spinning forever.
fn choose_ports(names: &[String], seed: u64, isolation: Isolation) -> Vec<plan::PortPlan> {
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

/// Starts the sandbox of `job`, its capture ring of `ring_mib` MiB.
fn prepare(job: &Job, ring_mib: u32, args: &RunArgs) -> Result<sandbox::Prepared, SandboxError> {
    let path = capture_path(job, args);
    let spec = path
        .as_deref()
        .map(|path| sandbox::CaptureSpec { path, ring_mib });
    sandbox::prepare(args.isolation, spec)
}

/// Where a job's capture goes: beside the report, one per scenario; host mode cannot capture.
fn capture_path(job: &Job, args: &RunArgs) -> Option<PathBuf> {
    (args.isolation == Isolation::Namespace && !args.no_capture)
        .then(|| args.report.join(format!("{}.pcap", job.plan.id)))
}

fn run_one(
    job: &Job,
    prepared: Option<sandbox::Prepared>,
    ring_mib: u32,
    args: &RunArgs,
) -> Result<ScenarioResult, AppError> {
    let t0 = Instant::now();
    let workdir = sandbox::prepare_workdir(job.source.as_deref())
        .map_err(|e| AppError::Harness(format!("cannot prepare a working directory: {e}")))?;
    let req = RunRequest {
        plan: job.plan.clone(),
        workdir: workdir.path().to_path_buf(),
    };
    let capture = capture_path(job, args);
    let s = &job.loaded.scenario;
    let mut result = ScenarioResult {
        id: s.id.clone(),
        lab: s.lab.clone(),
        title: s.title.clone(),
        question: s.question.clone(),
        explanation: s.explanation.clone(),
        file: job.loaded.path.display().to_string(),
        verdict: Verdict::Error,
        duration_ms: 0,
        points: 0,
        max_points: 0,
        error: None,
        ports: job.plan.ports.clone(),
        programs: Vec::new(),
        steps: Vec::new(),
        checks: Vec::new(),
        capture: None,
        capture_frames: None,
        packets: Vec::new(),
        packets_truncated: false,
        participants: Vec::new(),
        warnings: Vec::new(),
    };
    let ran = match prepared {
        Some(sandbox) => Ok(sandbox),
        None => prepare(job, ring_mib, args),
    }
    .and_then(|sandbox| sandbox.run(&req));
    match ran {
        Ok(mut evidence) => {
            hide_workdir(&mut evidence, workdir.path());
            let analysis = match (&capture, &evidence.capture) {
                (Some(path), Some(_)) => analyze_capture(path),
                (Some(_), None) => {
                    Err("the capture could not be started (see the harness warnings)".to_string())
                }
                (None, _) if args.isolation == Isolation::Host => {
                    Err("host isolation cannot capture packets; run in a namespace".to_string())
                }
                (None, _) => Err("the run was made with --no-capture".to_string()),
            };
            let checks = check::evaluate(
                &job.plan,
                &evidence,
                analysis.as_ref().map_err(String::as_str),
            );
            if let Ok(a) = &analysis {
                result.capture_frames = Some(a.frames);
                (result.packets, result.packets_truncated) = crate::wire_view::rows(a);
                result.participants = crate::wire_view::participants(a, &job.plan);
            }
            // Wire checks a run without capture cannot grade (the user chose --no-capture or
            // host isolation) count neither way; the report lists them as not graded.
            let graded = || checks.iter().filter(|c| !c.ungraded);
            result.max_points = graded().map(|c| c.points).sum();
            result.points = graded().map(|c| c.awarded).sum();
            let skipped = checks.iter().filter(|c| c.ungraded).count();
            let lost = evidence.capture.as_ref().map_or(0, |c| c.dropped);
            if lost > 0 {
                let mut warning = format!(
                    "the capture lost {lost} packet(s): the kernel dropped them because the \
                     capture could not keep up"
                );
                if skipped > 0 {
                    warning += &format!("; its {skipped} wire check(s) are not graded");
                }
                result.warnings.push(warning);
            } else if skipped > 0 {
                result.warnings.push(format!(
                    "{skipped} wire check(s) not graded: this run has no capture"
                ));
            }
            result.verdict = if graded().all(|c| c.passed) {
                Verdict::Pass
            } else {
                Verdict::Fail
            };
            result.checks = checks;
            result.steps = job
                .plan
                .steps
                .iter()
                .zip(&evidence.steps)
                .map(|(p, o)| StepResult {
                    label: p.label.clone(),
                    start_ms: o.start_ms,
                    end_ms: o.end_ms,
                    met: o.met,
                    detail: o.detail.clone(),
                    skipped: o.skipped,
                    waiting_since_ms: o.waiting_since_ms,
                    cpu_wait_ms: o.cpu_wait_ms,
                })
                .collect();
            result.programs = job
                .plan
                .programs
                .iter()
                .zip(evidence.programs)
                .map(|(p, ev)| ProgramResult {
                    role: p.role.clone(),
                    binding: p.binding.clone(),
                    evidence: ev,
                })
                .collect();
            result.capture = evidence.capture.map(|mut c| {
                // Reports sit beside their captures: name the file, not the path.
                c.file = Path::new(&c.file)
                    .file_name()
                    .map_or(c.file.clone(), |n| n.to_string_lossy().into_owned());
                c
            });
            result.warnings.splice(0..0, evidence.warnings);
        }
        Err(e @ SandboxError::NoUserNamespaces { .. }) => {
            return Err(AppError::Harness(e.to_string()))
        }
        Err(e) => result.error = Some(e.to_string()),
    }
    result.duration_ms = t0.elapsed().as_millis() as u64;
    Ok(result)
}

/// Reads back this run's capture; keeps every packet summary (scenario captures are small).
fn analyze_capture(path: &Path) -> Result<crate::analysis::Analysis, String> {
    let file = std::fs::File::open(path)
        .map_err(|e| format!("cannot open the capture {}: {e}", path.display()))?;
    let name = path.display().to_string();
    crate::analysis::analyze(
        std::io::BufReader::new(file),
        &name,
        crate::analysis::AnalyzerOptions::default(),
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

fn print_line(r: &ScenarioResult, width: usize) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "{:<5} {:<width$}  {:>6} ms  {}/{}",
        r.verdict.label(),
        r.id,
        r.duration_ms,
        r.points,
        r.max_points
    );
    for c in r.checks.iter().filter(|c| !c.passed && !c.ungraded) {
        let _ = writeln!(out, "        ✗ {}", c.reason.as_deref().unwrap_or(&c.title));
    }
    if let Some(e) = &r.error {
        let _ = writeln!(out, "        ! {e}");
    }
    // Warnings that change what the points mean (checks left ungraded) belong on the console
    // too, not only in the report.
    if r.checks.iter().any(|c| c.ungraded) {
        for w in &r.warnings {
            let _ = writeln!(out, "        ! {w}");
        }
    }
}

fn write_reports(result: &RunResult, dir: &Path) -> Result<(), AppError> {
    let write = |name: &str, render: &dyn Fn(&mut dyn Write) -> std::io::Result<()>| {
        let path = dir.join(name);
        let mut buf = Vec::new();
        render(&mut buf)
            .and_then(|()| std::fs::write(&path, buf))
            .map_err(|e| AppError::Harness(format!("cannot write {}: {e}", path.display())))
    };
    write("report.md", &|out| report::write_markdown(result, out))?;
    write("results.json", &|out| report::write_json(result, out))
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
