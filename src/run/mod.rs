//! `socklab run`: discover and load scenarios, resolve them against the bindings, run each in
//! its own sandbox (several at once, [`pool`]), grade, and write the reports. `socklab grade`
//! (`crate::class`) plans each student with [`plan_submission`] and runs them all through the
//! same pool.

mod console;
pub(crate) mod pool;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::cli::RunArgs;
use crate::diagnose::Diagnosis;
use crate::error::AppError;
use crate::plan::{self, Bindings};
use crate::report;
use crate::result::{RunResult, ScenarioResult, Summary};
use crate::sandbox::Isolation;
use crate::scenario::{self, Loaded};
use crate::submission::{BindingRow, Submission, UnboundFile};

pub(crate) use pool::Job;

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
        loaded: only_lab(scenario::cross::expand(loaded), lab)?,
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

/// Runs and writes the reports; when it stops before grading (exit 2 or 3), the `--format`
/// files still say so (an autograder then shows why, never a score).
pub(crate) fn run(args: &RunArgs) -> Result<RunResult, AppError> {
    let result = run_and_report(args);
    if let Err(e) = &result {
        write_aborted(e, args);
    }
    result
}

/// A seed for the per-run port choice when none is given: different for every run.
pub(crate) fn fresh_seed() -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    nanos ^ (u64::from(std::process::id()) << 32)
}

fn run_and_report(args: &RunArgs) -> Result<RunResult, AppError> {
    let selected = select(&args.paths, &args.scenarios, args.lab.as_deref())?;
    selected.announce();
    if selected.loaded.is_empty() {
        return Err(AppError::Input("no scenarios to run".into()));
    }
    // Against every scenario known, whatever `--lab` selects (see `rubric::for_run`).
    let rubric = crate::rubric::for_run(args.exec.rubric.as_deref(), &args.paths, &args.scenarios)?;
    let submission = match &args.submission {
        Some(dir) => Some(Submission::open(dir).map_err(|e| AppError::Input(e.to_string()))?),
        None => None,
    };
    let seed = args.exec.seed.unwrap_or_else(fresh_seed);
    let capture_dir = pool::Context::capture_dir(&args.exec, &args.report);
    let planned = plan_submission(
        selected.loaded,
        submission,
        seed,
        args.exec.isolation,
        capture_dir,
        rubric.as_ref(),
    )?;
    if let Some(s) = &planned.header.submission {
        console::print_bindings(
            &s.dir,
            &planned.header.bindings,
            &planned.header.unbound_files,
        );
    }
    std::fs::create_dir_all(&args.report)
        .map_err(|e| AppError::Harness(format!("cannot create {}: {e}", args.report.display())))?;

    let Planned { mut header, jobs } = planned;
    header.overrides = selected.notes;
    let first_advisory = jobs
        .iter()
        .position(|j| apart(j, rubric.as_ref()))
        .unwrap_or(usize::MAX);
    let width = jobs.iter().map(|j| j.plan.id.len()).max().unwrap_or(10);
    let mut ctx = pool::Context::new(&args.exec, Arc::default());
    ctx.rubric = rubric;
    let results: Mutex<Vec<Finished>> = Mutex::default();
    let printed: Mutex<usize> = Mutex::new(0);
    let tagged = jobs.into_iter().enumerate().collect();
    pool::execute(tagged, &ctx, &|index, result, found| {
        let Ok(mut r) = results.lock() else { return };
        r.push((index, result, found));
        // Lines come out in scenario order, each as soon as every scenario before it is done:
        // the same run prints the same lines.
        if let Ok(mut next) = printed.lock() {
            while let Some((_, done, _)) = r.iter().find(|(i, _, _)| *i == *next) {
                if *next == first_advisory {
                    console::print_advisory_header();
                }
                console::print_line(done, width);
                *next += 1;
            }
        }
    })?;
    let finished = results
        .into_inner()
        .map_err(|_| AppError::Harness("a worker panicked".into()))?;
    let result = header.assemble(finished, &ctx);
    console::print_diagnoses(&result.diagnoses);
    write_reports(&result, &args.report, &formats(args))?;
    write_gradescope_out(&result, args)?;
    Ok(result)
}

/// A scenario's place in its submission's run, its result, and the causes found in it.
pub(crate) type Finished = (usize, ScenarioResult, Vec<Diagnosis>);

/// One submission's scenarios, ready to run, and what its `RunResult` says besides them.
pub(crate) struct Planned {
    /// In running order: the graded scenarios, then the advisory ones.
    pub jobs: Vec<Job>,
    pub header: Header,
}

/// What a run's result says besides its scenarios, known before they run.
pub(crate) struct Header {
    started: SystemTime,
    t0: Instant,
    isolation: Isolation,
    pub submission: Option<Submission>,
    pub seed: u64,
    pub overrides: Vec<String>,
    pub bindings: Vec<BindingRow>,
    pub unbound_files: Vec<UnboundFile>,
}

/// Resolves `loaded` against `submission`'s programs (socklab's reference programs without
/// one), each scenario with its own ports drawn from `seed`; a scenario that needs a role the
/// submission lacks is planned as not submitted, one that needs a program this machine lacks
/// as not graded. Captures go to `capture_dir`, one `<scenario id>.pcap` each (None: no
/// capture). A scenario that does not resolve is an input error, all of them said at once.
pub(crate) fn plan_submission(
    loaded: Vec<Loaded>,
    submission: Option<Submission>,
    seed: u64,
    isolation: Isolation,
    capture_dir: Option<&Path>,
    rubric: Option<&crate::rubric::Rubric>,
) -> Result<Planned, AppError> {
    let started = SystemTime::now();
    let t0 = Instant::now();
    let exe = std::env::current_exe()
        .map_err(|e| AppError::Harness(format!("cannot find socklab's own binary: {e}")))?
        .display()
        .to_string();
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
        let ports =
            pool::choose_ports(&names, seed.wrapping_add(i as u64 * 0x9E37_79B9), isolation);
        match plan::resolve(&l, &bindings, &ports, &exe) {
            Ok(plan) => jobs.push(Job {
                // Said in the binding table's words: why no file plays the role.
                missing: pool::not_submitted(&plan).map(|role| {
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
                // Several computers: one named interface block each, which only pcapng has.
                capture: capture_dir.map(|d| {
                    let ext = if plan.networked() { "pcapng" } else { "pcap" };
                    d.join(format!("{}.{ext}", plan.id))
                }),
                plan,
                source: submission.as_ref().map(|s| s.lab_dir(&l.scenario.lab)),
                diagnose: submission.is_some(),
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
    // Advisory scenarios run and print last, under their own header: the graded ones read as
    // one block, as the totals count them.
    jobs.sort_by_key(|j| apart(j, rubric));
    Ok(Planned {
        jobs,
        header: Header {
            started,
            t0,
            isolation,
            submission,
            seed,
            overrides: Vec::new(),
            bindings: bindings_table,
            unbound_files,
        },
    })
}

/// Whether a job is shown apart, with the advisory scenarios: an advisory scenario the rubric
/// makes count is graded among the others.
fn apart(job: &Job, rubric: Option<&crate::rubric::Rubric>) -> bool {
    job.loaded.scenario.advisory && !rubric.is_some_and(|r| r.counts(&job.plan.id))
}

impl Header {
    /// The run's result from its finished scenarios (any order): in running order, with the
    /// causes merged across scenarios and the totals.
    pub(crate) fn assemble(self, mut finished: Vec<Finished>, ctx: &pool::Context) -> RunResult {
        finished.sort_by_key(|(i, _, _)| *i);
        let mut found = Vec::new();
        let scenarios: Vec<ScenarioResult> = finished
            .into_iter()
            .map(|(_, s, d)| {
                found.extend(d);
                s
            })
            .collect();
        RunResult {
            schema_version: crate::result::SCHEMA_VERSION,
            socklab_version: env!("CARGO_PKG_VERSION").into(),
            started_at: crate::result::rfc3339(
                self.started
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs()),
            ),
            duration_ms: self.t0.elapsed().as_millis() as u64,
            isolation: match self.isolation {
                Isolation::Namespace => "namespace".into(),
                Isolation::Host => "host (degraded: no isolation, no capture)".into(),
            },
            submission: self
                .submission
                .as_ref()
                .map(|s| s.dir.display().to_string()),
            process_cap: ctx.cap.describe(),
            peak_rss_kib: crate::exec::limits::peak_rss_kib(),
            overrides: self.overrides,
            seed: self.seed,
            bindings: self.bindings,
            unbound_files: self.unbound_files,
            diagnoses: crate::diagnose::merge(found),
            summary: Summary::of(&scenarios),
            scenarios,
        }
    }
}

/// Writes `result` into `dir` (which exists): report.md, results.json and the file of each of
/// `formats`.
pub(crate) fn write_reports(
    result: &RunResult,
    dir: &Path,
    formats: &[report::RunFormat],
) -> Result<(), AppError> {
    let write = |name: &str, render: &dyn Fn(&mut dyn Write) -> std::io::Result<()>| {
        let path = dir.join(name);
        let mut buf = Vec::new();
        render(&mut buf)
            .and_then(|()| std::fs::write(&path, buf))
            .map_err(|e| AppError::Harness(format!("cannot write {}: {e}", path.display())))
    };
    write("report.md", &|out| report::write_markdown(result, out))?;
    write("results.json", &|out| report::write_json(result, out))?;
    for format in formats {
        write(format.file_name(), &|out| format.writer()(result, out))?;
    }
    Ok(())
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

/// `--gradescope-out`: Gradescope's file where its autograder reads it.
fn write_gradescope_out(result: &RunResult, args: &RunArgs) -> Result<(), AppError> {
    let Some(path) = &args.gradescope_out else {
        return Ok(());
    };
    let mut buf = Vec::new();
    report::write_gradescope(result, &mut buf)
        .and_then(|()| std::fs::write(path, buf))
        .map_err(|e| AppError::Harness(format!("cannot write {}: {e}", path.display())))
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
