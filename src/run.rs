//! `socklab run`: discover and load scenarios, resolve them against the bindings, run each in
//! its own sandbox (several at once), grade, and write the reports.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::check::{self, Outcome};
use crate::cli::RunArgs;
use crate::diagnose::Diagnosis;
use crate::error::AppError;
use crate::exec::limits::ProcessCap;
use crate::exec::RunRequest;
use crate::plan::{self, Bindings, Plan};
use crate::report;
use crate::result::{RunResult, ScenarioResult, Summary, Verdict};
use crate::sandbox::{self, Isolation, SandboxError};
use crate::scenario::{self, Loaded};
use crate::submission::Submission;

/// JSON files socklab writes or reads for other purposes, skipped when a directory is searched
/// for scenarios (a report or a submission kept beside the scenarios is not a bad scenario).
const NOT_SCENARIOS: &[&str] = &["results.json", crate::submission::MANIFEST];

/// Every `*.json` under `paths` (files as given, directories recursively), sorted.
pub(crate) fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, AppError> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut files)
                .map_err(|e| AppError::Input(format!("cannot read {}: {e}", p.display())))?;
        } else if p.is_file() {
            files.push(p.clone());
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

/// The scenarios a command works on: the files and directories in `paths`, or the bundled
/// scenarios (built into the binary, `crate::bundled`) when none are given; then the scenario
/// files under each `extra` directory (`--scenarios DIR`), one with the id of a scenario
/// already there replacing it. Each replacement is said in `notes` (`scenario ID from FILE
/// overrides the bundled one`), except a bundled scenario replaced by the same text (the
/// project's own `scenarios/`). Then only `lab`'s, if given.
pub(crate) fn select(
    paths: &[PathBuf],
    extra: &[PathBuf],
    lab: Option<&str>,
) -> Result<Selected, AppError> {
    let mut loaded = if paths.is_empty() {
        crate::bundled::load_all().map_err(|e| AppError::Input(e.to_string()))?
    } else {
        load_files(&discover(paths)?)?
    };
    let mut notes = Vec::new();
    for dir in extra {
        if !dir.is_dir() {
            return Err(AppError::Input(format!(
                "--scenarios {}: not a directory",
                dir.display()
            )));
        }
        for l in load_files(&discover(std::slice::from_ref(dir))?)? {
            match loaded.iter().position(|o| o.scenario.id == l.scenario.id) {
                Some(i) => {
                    let old = std::mem::replace(&mut loaded[i], l);
                    let new = &loaded[i];
                    let bundled = paths.is_empty();
                    if !(bundled && old.text == new.text) {
                        let what = if bundled {
                            "the bundled one".to_string()
                        } else {
                            old.path.display().to_string()
                        };
                        notes.push(format!(
                            "scenario {} from {} overrides {what}",
                            new.scenario.id,
                            new.path.display()
                        ));
                    }
                }
                None => loaded.push(l),
            }
        }
    }
    Ok(Selected {
        loaded: only_lab(loaded, lab)?,
        notes,
    })
}

/// What [`select`] found.
pub(crate) struct Selected {
    pub loaded: Vec<Loaded>,
    /// One line per scenario of `--scenarios DIR` that replaced another.
    pub notes: Vec<String>,
}

impl Selected {
    /// Writes the notes to standard error, each as `note: ...`.
    pub(crate) fn announce(&self) {
        for n in &self.notes {
            eprintln!("note: {n}");
        }
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "json")
            && !path
                .file_name()
                .is_some_and(|n| NOT_SCENARIOS.iter().any(|x| n == *x))
        {
            out.push(path);
        }
    }
    Ok(())
}

/// Loads every file; all problems are reported together.
fn load_files(files: &[PathBuf]) -> Result<Vec<Loaded>, AppError> {
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
    Ok(loaded)
}

/// Only `lab`'s scenarios (all without `lab`); an unknown lab is an input error.
fn only_lab(mut loaded: Vec<Loaded>, lab: Option<&str>) -> Result<Vec<Loaded>, AppError> {
    if let Some(lab) = lab {
        if !crate::roles::LABS.iter().any(|(n, _)| *n == lab) {
            let help = scenario::did_you_mean(lab, crate::roles::LABS.iter().map(|(n, _)| *n));
            let labs: Vec<&str> = crate::roles::LABS.iter().map(|(n, _)| *n).collect();
            return Err(AppError::Input(format!(
                "unknown lab `{lab}`{}; the labs are: {}",
                help.map(|h| format!(" ({h})")).unwrap_or_default(),
                labs.join(", ")
            )));
        }
        loaded.retain(|l| l.scenario.lab == lab);
    }
    Ok(loaded)
}

/// A scenario's place in the run, its result, and the causes found in it.
type Finished = (usize, ScenarioResult, Vec<Diagnosis>);

struct Job {
    /// The role a graded submission does not provide, and why (the binding table's words):
    /// the scenario is not run.
    missing: Option<(String, String)>,
    /// A program the scenario `requires` that this machine does not have: the scenario is not
    /// run, and its checks are not graded.
    unavailable: Option<String>,
    loaded: Loaded,
    plan: Plan,
    source: Option<PathBuf>,
}

/// Runs and writes the reports; when it stops before grading (exit 2 or 3), the `--format`
/// files still say so (an autograder then shows why, never a score).
pub(crate) fn run(args: &RunArgs) -> Result<RunResult, AppError> {
    let result = run_and_report(args);
    if let Err(e) = &result {
        write_aborted(e, args);
    }
    result
}

fn run_and_report(args: &RunArgs) -> Result<RunResult, AppError> {
    let started = SystemTime::now();
    let t0 = Instant::now();
    let selected = select(&args.paths, &args.scenarios, args.lab.as_deref())?;
    selected.announce();
    let overrides = selected.notes;
    let loaded = selected.loaded;
    if loaded.is_empty() {
        return Err(AppError::Input("no scenarios to run".into()));
    }
    // Against every scenario known, whatever `--lab` selects (see `rubric::for_run`).
    let rubric = crate::rubric::for_run(args.rubric.as_deref(), &args.paths, &args.scenarios)?;
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

    let labs_graded: Vec<&str> = crate::roles::LABS
        .iter()
        .map(|(n, _)| *n)
        .filter(|n| loaded.iter().any(|l| l.scenario.lab == *n))
        .collect();
    // Each lab's bindings, read from the submission once.
    let mut per_lab: BTreeMap<&str, Bindings> = BTreeMap::new();
    for &lab in &labs_graded {
        let bindings = match &submission {
            Some(s) => s
                .bindings(lab)
                .map_err(|e| AppError::Input(e.to_string()))?,
            None => Bindings::default(),
        };
        per_lab.insert(lab, bindings);
    }
    let (mut bindings_table, unbound_files) = match &submission {
        Some(s) => s
            .table(&labs_graded)
            .map_err(|e| AppError::Input(e.to_string()))?,
        None => Default::default(),
    };

    let mut jobs = Vec::new();
    let mut problems = Vec::new();
    for (i, l) in loaded.into_iter().enumerate() {
        let bindings = per_lab
            .get(l.scenario.lab.as_str())
            .cloned()
            .unwrap_or_default();
        let names = plan::port_names(&l);
        let ports = choose_ports(
            &names,
            seed.wrapping_add(i as u64 * 0x9E37_79B9),
            args.isolation,
        );
        match plan::resolve(&l, &bindings, &ports, &exe) {
            Ok(plan) => jobs.push(Job {
                // Said in the binding table's words: why no file plays the role.
                missing: not_submitted(&plan).map(|role| {
                    let row = bindings_table.iter().find(|r| r.role == role);
                    let how = row.map_or("not submitted", |r| r.how.as_str());
                    (role.clone(), format!("`{role}` {how}"))
                }),
                unavailable: l
                    .scenario
                    .requires
                    .iter()
                    .find(|name| !crate::interp::installed(name))
                    .cloned(),
                plan,
                source: submission.as_ref().map(|s| s.lab_dir(&l.scenario.lab)),
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
    for row in &mut bindings_table {
        row.interpreter = jobs
            .iter()
            .flat_map(|j| &j.plan.programs)
            .find(|p| p.role.as_deref() == Some(row.role.as_str()))
            .and_then(|p| p.interpreter.clone());
    }
    if let Some(s) = &submission {
        print_bindings(&s.dir, &bindings_table, &unbound_files);
    }

    std::fs::create_dir_all(&args.report)
        .map_err(|e| AppError::Harness(format!("cannot create {}: {e}", args.report.display())))?;
    // Advisory scenarios run and print last, under their own header: the graded ones read as
    // one block, as the totals count them.
    // An advisory scenario the rubric makes count is graded here.
    let apart = |j: &Job| {
        j.loaded.scenario.advisory && !rubric.as_ref().is_some_and(|r| r.counts(&j.plan.id))
    };
    jobs.sort_by_key(apart);
    let first_advisory = jobs.iter().position(apart).unwrap_or(usize::MAX);
    let width = jobs.iter().map(|j| j.plan.id.len()).max().unwrap_or(10);
    let total = jobs.len();
    let workers = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
        .clamp(1, 64);
    let ring_mib = ring_mib(workers);
    // Found once per run, and said once, in results.json and the report's header.
    let cap = ProcessCap::detect();
    let queue = Arc::new(Mutex::new(
        jobs.into_iter()
            .enumerate()
            .map(|(i, job)| (i, job, None::<sandbox::Prepared>))
            .collect::<Vec<_>>(),
    ));
    let graded = submission.is_some();
    let results: Arc<Mutex<Vec<Finished>>> = Arc::default();
    let printed: Mutex<usize> = Mutex::new(0);
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
                        // A scenario that will not run needs no sandbox.
                        if head.missing.is_none() && head.unavailable.is_none() {
                            *slot = prepare(head, ring_mib, args, &cap).ok();
                        }
                    }
                }
                match run_one(&job, prepared, ring_mib, args, &cap) {
                    Ok(mut result) => {
                        if let Some(r) = &rubric {
                            r.apply(&mut result);
                        }
                        // Diagnoses may turn lost checks into not-run ones: score after them.
                        // An advisory scenario's failures are its own, shown with its checks'
                        // reasons: they never become the student's headline causes.
                        let found = if graded && result.weighs() {
                            crate::diagnose::scenario(&mut result)
                        } else {
                            Vec::new()
                        };
                        score(&mut result);
                        if let Ok(mut r) = results.lock() {
                            r.push((index, result, found));
                            // Lines come out in scenario order, each as soon as every scenario
                            // before it is done: the same run prints the same lines.
                            if let Ok(mut next) = printed.lock() {
                                while let Some((_, done, _)) =
                                    r.iter().find(|(i, _, _)| *i == *next)
                                {
                                    if *next == first_advisory {
                                        print_advisory_header();
                                    }
                                    print_line(done, width);
                                    *next += 1;
                                }
                            }
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
    let mut scenarios: Vec<Finished> = std::mem::take(
        &mut *results
            .lock()
            .map_err(|_| AppError::Harness("a worker panicked".into()))?,
    );
    scenarios.sort_by_key(|(i, _, _)| *i);
    let mut found = Vec::new();
    let scenarios: Vec<ScenarioResult> = scenarios
        .into_iter()
        .map(|(_, s, d)| {
            found.extend(d);
            s
        })
        .collect();
    let diagnoses = crate::diagnose::merge(found);
    print_diagnoses(&diagnoses);
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
        process_cap: cap.describe(),
        peak_rss_kib: crate::exec::limits::peak_rss_kib(),
        overrides,
        seed,
        bindings: bindings_table,
        unbound_files,
        diagnoses,
        summary: Summary::of(&scenarios),
        scenarios,
    };
    write_reports(&result, &args.report)?;
    write_formats(&result, args)?;
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

/// Starts the sandbox of `job`, its capture ring of `ring_mib` MiB, around a fresh working copy
/// of the submission.
fn prepare(
    job: &Job,
    ring_mib: u32,
    args: &RunArgs,
    cap: &ProcessCap,
) -> Result<sandbox::Prepared, SandboxError> {
    let path = capture_path(job, args);
    let spec = path
        .as_deref()
        .map(|path| sandbox::CaptureSpec { path, ring_mib });
    // The lab's documents are written into the working copy, which the program sees anyway.
    let workdir = sandbox::prepare_workdir(job.source.as_deref())
        .and_then(|dir| crate::documents::place(&job.plan.lab, dir.path()).map(|()| dir))
        .map_err(|e| SandboxError::Failed(format!("cannot prepare a working directory: {e}")))?;
    let mut view = sandbox::confine::view(&job.plan, workdir.path(), &[]);
    // The cgroups are made now, so the sandbox keeps a handle on them when it leaves the
    // host's files. A machine where they cannot be made caps by supervision, and says so.
    let cap = cap.sandbox(&job.plan.programs);
    if let crate::exec::limits::CapPlan::Cgroup(dir) = &cap.plan {
        view.held.push(dir.clone());
    }
    sandbox::prepare(args.isolation, spec, workdir, &view, cap)
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
    cap: &ProcessCap,
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
    let capture = capture_path(job, args);
    let mut workdir = None;
    let ran = match prepared {
        Some(sandbox) => Ok(sandbox),
        None => prepare(job, ring_mib, args, cap),
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
            let analysis = match (&capture, &evidence.capture) {
                (Some(path), Some(_)) => {
                    analyze_capture(path, decode_as(&job.plan)).map_err(|e| (e, true))
                }
                (Some(_), None) => Err((
                    "the capture could not be started (see the harness warnings)".to_string(),
                    true,
                )),
                (None, _) if args.isolation == Isolation::Host => Err((
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
fn not_submitted(plan: &Plan) -> Option<String> {
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

fn print_advisory_header() {
    let _ = writeln!(
        std::io::stdout(),
        "\nAdvisory, beyond the handout (graded with evidence, 0 points):"
    );
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
    // A cause that cost several checks is one line; the rest, one line each.
    let mut causes: Vec<(&str, usize, &str)> = Vec::new();
    for c in r.checks.iter().filter(|c| c.outcome.lost()) {
        match c.cause.as_deref() {
            Some(id) if c.outcome != Outcome::Failed || causes.iter().any(|x| x.0 == id) => {
                if let Some(x) = causes.iter_mut().find(|x| x.0 == id) {
                    x.1 += 1;
                } else {
                    causes.push((id, 1, c.outcome.label()));
                }
            }
            Some(id) => causes.push((id, 1, "lost")),
            None => {
                let _ = writeln!(out, "        ✗ {}", c.reason.as_deref().unwrap_or(&c.title));
            }
        }
    }
    for (id, n, label) in causes {
        let why = r
            .checks
            .iter()
            .find(|c| c.cause.as_deref() == Some(id))
            .and_then(|c| c.reason.as_deref())
            .unwrap_or(id);
        let label = if label == "failed" { "lost" } else { label };
        let _ = writeln!(
            out,
            "        ✗ {n} check(s) {label}: {}",
            cause_line(id, why)
        );
    }
    if let Some(e) = &r.error {
        let _ = writeln!(out, "        ! {e}");
    }
    for c in r
        .checks
        .iter()
        .filter(|c| c.outcome == Outcome::HarnessError)
        .take(1)
    {
        let _ = writeln!(out, "        ! {}", c.reason.as_deref().unwrap_or(&c.title));
    }
    // Warnings that change what the points mean (checks left ungraded) belong on the console
    // too, not only in the report.
    if r.checks.iter().any(|c| !c.outcome.counts()) {
        for w in &r.warnings {
            let _ = writeln!(out, "        ! {w}");
        }
    }
}

/// The console's words for a cause: its kind in plain words (the diagnoses below the
/// scenarios say it in full).
fn cause_line(id: &str, reason: &str) -> String {
    let (kind, role) = id.split_once(':').unwrap_or((id, ""));
    match kind {
        "not-submitted" => format!("{role} not submitted"),
        "cannot-start" => format!("{role} cannot start (see the diagnoses below)"),
        "ignores-port" => format!("{role} ignores the assigned port (see the diagnoses below)"),
        "prompts" => {
            format!("{role} prompts instead of taking HOST PORT (see the diagnoses below)")
        }
        "stopped-early" => format!("{role} stops on its own (see the diagnoses below)"),
        "detached" => format!(
            "{role}'s process ended while a detached child kept running (see the diagnoses below)"
        ),
        _ => reason.to_string(),
    }
}

/// Which file plays which role, before anything runs.
fn print_bindings(
    dir: &Path,
    rows: &[crate::submission::BindingRow],
    unbound: &[crate::submission::UnboundFile],
) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "Submission {}:", dir.display());
    let width = rows.iter().map(|r| r.role.len()).max().unwrap_or(10);
    for r in rows {
        let run_by = r
            .interpreter
            .as_deref()
            .map(|i| format!(", run by {i}"))
            .unwrap_or_default();
        let _ = match &r.file {
            Some(f) => writeln!(out, "  {:<width$}  {f} (by {}{run_by})", r.role, r.how),
            None => writeln!(out, "  {:<width$}  {}", r.role, r.how),
        };
    }
    for u in unbound {
        let _ = writeln!(
            out,
            "  {:<width$}  {} plays no role{}",
            "",
            u.file,
            u.hint
                .as_deref()
                .map(|h| format!(": {h}"))
                .unwrap_or_default()
        );
    }
    let _ = writeln!(out);
}

/// Every cause once, with what it cost.
fn print_diagnoses(diagnoses: &[crate::diagnose::Diagnosis]) {
    let shown: Vec<_> = diagnoses
        .iter()
        .filter(|d| !d.id.starts_with("not-submitted:"))
        .collect();
    if shown.is_empty() {
        return;
    }
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "\nDiagnoses (each cause once, and the checks it cost):"
    );
    for (i, d) in shown.iter().enumerate() {
        let cost = match d.checks.len() {
            0 => String::new(),
            1 => " (1 check)".to_string(),
            n => format!(" ({n} checks)"),
        };
        let _ = writeln!(out, "  {}. {}{cost}", i + 1, d.summary);
        if let Some(detail) = &d.detail {
            let _ = writeln!(out, "     {detail}");
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

/// The `--format` files to write, each once (`--gradescope-out` implies gradescope).
fn formats(args: &RunArgs) -> Vec<report::RunFormat> {
    let mut formats = args.formats.clone();
    if args.gradescope_out.is_some() {
        formats.push(report::RunFormat::Gradescope);
    }
    formats.sort_by_key(|f| f.file_name());
    formats.dedup();
    formats
}

/// Where each `--format` file goes: beside report.md, and `--gradescope-out`.
fn format_files(args: &RunArgs) -> Vec<(PathBuf, report::RunFormat)> {
    let mut files: Vec<_> = formats(args)
        .into_iter()
        .map(|format| (args.report.join(format.file_name()), format))
        .collect();
    if let Some(path) = &args.gradescope_out {
        files.push((path.clone(), report::RunFormat::Gradescope));
    }
    files
}

/// The `--format` files beside report.md, and `--gradescope-out`.
fn write_formats(result: &RunResult, args: &RunArgs) -> Result<(), AppError> {
    for (path, format) in format_files(args) {
        let mut buf = Vec::new();
        format.writer()(result, &mut buf)
            .and_then(|()| std::fs::write(&path, buf))
            .map_err(|e| AppError::Harness(format!("cannot write {}: {e}", path.display())))?;
    }
    Ok(())
}

/// The `--format` files of a run that stopped before grading: best effort, since the error
/// itself is what the run reports (on standard error, exit 2 or 3).
fn write_aborted(error: &AppError, args: &RunArgs) {
    let files = format_files(args);
    if files.is_empty() {
        return;
    }
    let _ = std::fs::create_dir_all(&args.report);
    for (path, format) in files {
        let mut buf = Vec::new();
        if format.aborted_writer()(error, &mut buf).is_ok() {
            let _ = std::fs::write(&path, buf);
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
