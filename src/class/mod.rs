//! Grading a class: `socklab grade DIR` (every subdirectory a student) and `socklab merge`
//! (the shards of a class graded on several machines, combined).
//!
//! Each student is planned as `socklab run --submission` plans one submission
//! ([`crate::run::plan_submission`]), on the labs they have programs for; then every student's
//! scenarios go through one worker pool ([`crate::run::pool`]), so scenarios of different
//! students run side by side and the machine stays busy through a slow student. A student's
//! results are written as soon as their last scenario is done, into a hidden directory renamed
//! into place once complete: `students/<id>/` is always whole, which is what `--resume` trusts.
//! Ctrl-C (SIGINT, SIGTERM) stops new scenarios; the sandboxes end with their namespaces, the
//! students not complete are dropped and their hidden directories removed. The class files
//! (`outputs`) are rendered from the students' results.json files, so a regraded student, a
//! resumed run and a merge of shards all give what one uninterrupted run gives.

pub(crate) mod outputs;
pub(crate) mod shard;
pub(crate) mod summary;

use std::collections::BTreeSet;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use crate::cli::{GradeArgs, MergeArgs};
use crate::diagnose::Diagnosis;
use crate::error::AppError;
use crate::result::RunResult;
use crate::run::pool::{self, Context};
use crate::run::{Finished, Header, Job};
use crate::scenario::Loaded;
use crate::submission::Submission;
use summary::{student_dir, ClassSummary, StudentRun};

/// What a class grading did, for the exit code and the last lines.
pub(crate) struct ClassOutcome {
    pub summary: ClassSummary,
    pub out: PathBuf,
}

/// The students' directory in an output directory.
const STUDENTS: &str = "students";

/// A student being graded: their results so far, until their last scenario is done.
struct Pending {
    id: String,
    header: Option<Header>,
    finished: Vec<Finished>,
    remaining: usize,
    /// The hidden directory their outputs are written into before it is renamed into place.
    partial: PathBuf,
}

pub(crate) fn grade(args: &GradeArgs) -> Result<ClassOutcome, AppError> {
    let class = list_students(&args.dir)?;
    if class.is_empty() {
        return Err(AppError::Input(format!(
            "{}: no student in it: every subdirectory of the class is one student's \
             submission (to grade one submission: socklab run --submission {})",
            args.dir.display(),
            args.dir.display()
        )));
    }
    let shard = shard::resolve(args.shard.as_deref(), args.shard_total, &|name| {
        std::env::var(name).ok()
    })?;
    // The class of this invocation: the shard's students (all without a shard).
    let class: Vec<String> = class
        .into_iter()
        .filter(|id| shard.as_ref().is_none_or(|s| s.owns(id)))
        .collect();
    if let Some(s) = &shard {
        println!(
            "Shard {}/{} (from {}): {} student(s) of {}.",
            s.index,
            s.total,
            s.source,
            class.len(),
            args.dir.display()
        );
    }
    for id in &args.student {
        if !class.contains(id) {
            let help = crate::scenario::did_you_mean(id, class.iter().map(String::as_str));
            return Err(AppError::Input(format!(
                "--student {id}: no such student in {}{}{}",
                args.dir.display(),
                shard
                    .as_ref()
                    .map(|s| format!(" (shard {}/{})", s.index, s.total))
                    .unwrap_or_default(),
                help.map(|h| format!(" ({h})")).unwrap_or_default()
            )));
        }
    }
    let selected = crate::run::select(&[], &args.scenarios, args.lab.as_deref())?;
    selected.announce();
    let loaded = only_scenarios(selected.loaded, &args.scenario)?;
    if loaded.is_empty() {
        return Err(AppError::Input("no scenarios to run".into()));
    }
    let rubric = crate::rubric::for_run(args.exec.rubric.as_deref(), &[], &args.scenarios)?;

    let students_dir = args.out.join(STUDENTS);
    std::fs::create_dir_all(&students_dir)
        .map_err(|e| AppError::Harness(format!("cannot create {}: {e}", students_dir.display())))?;
    remove_partials(&students_dir);

    let mut to_grade: Vec<&String> = class
        .iter()
        .filter(|id| args.student.is_empty() || args.student.contains(id))
        .collect();
    if args.resume {
        let (done, left): (Vec<&String>, Vec<&String>) = to_grade
            .into_iter()
            .partition(|id| read_student(&args.out, id).is_ok());
        if !done.is_empty() {
            let names: Vec<&str> = done.iter().map(|s| s.as_str()).collect();
            println!(
                "Resuming: {} student(s) already graded in {}, skipped: {}.",
                done.len(),
                args.out.display(),
                names.join(", ")
            );
        }
        to_grade = left;
    }

    // Every student gets report.html too (the page to hand them), and the --format files.
    let mut formats = args.formats.clone();
    formats.push(crate::report::RunFormat::Html);
    formats.sort_by_key(|f| f.file_name());
    formats.dedup();

    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // A second Ctrl-C ends socklab at once (the sandboxes still end with their namespaces).
        signal_hook::flag::register_conditional_shutdown(signal, 130, Arc::clone(&stop))
            .and_then(|_| signal_hook::flag::register(signal, Arc::clone(&stop)))
            .map_err(|e| AppError::Harness(format!("cannot handle Ctrl-C: {e}")))?;
    }
    let mut ctx = Context::new(&args.exec, Arc::clone(&stop));
    let base_seed = args.exec.seed.unwrap_or_else(crate::run::fresh_seed);

    // Plan every student; those with nothing to run are written at once.
    let mut pending: Vec<Pending> = Vec::new();
    let mut jobs: Vec<((usize, usize), Job)> = Vec::new();
    for id in to_grade {
        let partial = students_dir.join(format!(".{id}.partial"));
        let _ = std::fs::remove_dir_all(&partial);
        std::fs::create_dir_all(&partial)
            .map_err(|e| AppError::Harness(format!("cannot create {}: {e}", partial.display())))?;
        let seed = base_seed ^ shard_seed(id);
        match plan_student(
            &args.dir.join(id),
            &loaded,
            seed,
            args,
            &partial,
            rubric.as_ref(),
        ) {
            Ok(planned) if planned.jobs.is_empty() => {
                let result = planned.header.assemble(Vec::new(), &ctx);
                let result = nothing_submitted(result, &some_files(&args.dir.join(id)));
                finish_student(&args.out, id, &partial, &result, &formats)?;
                report_line(None, id, &result);
            }
            Ok(planned) => {
                let index = pending.len();
                pending.push(Pending {
                    id: id.clone(),
                    remaining: planned.jobs.len(),
                    header: Some(planned.header),
                    finished: Vec::new(),
                    partial,
                });
                jobs.extend(
                    planned
                        .jobs
                        .into_iter()
                        .enumerate()
                        .map(|(i, job)| ((index, i), job)),
                );
            }
            Err(AppError::Input(why)) => {
                // The student's own input (a manifest that does not parse, a folder that is
                // not there) is their grade's problem, not the class's: 0, with why.
                let result = unreadable(&args.dir.join(id), &why);
                finish_student(&args.out, id, &partial, &result, &formats)?;
                report_line(None, id, &result);
            }
            Err(e) => return Err(e),
        }
    }

    ctx.rubric = rubric;
    let total_jobs = jobs.len() as u64;
    let bar = progress_bar(total_jobs, pending.len());
    let pending = Mutex::new(pending);
    let write_error: Mutex<Option<AppError>> = Mutex::new(None);
    let ran = pool::execute(jobs, &ctx, &|(student, index), result, found| {
        if let Some(bar) = &bar {
            bar.inc(1);
        }
        let complete = {
            let Ok(mut p) = pending.lock() else { return };
            let p = &mut p[student];
            p.finished.push((index, result, found));
            p.remaining -= 1;
            (p.remaining == 0).then(|| {
                (
                    p.id.clone(),
                    p.partial.clone(),
                    p.header.take(),
                    std::mem::take(&mut p.finished),
                )
            })
        };
        let Some((id, partial, Some(header), finished)) = complete else {
            return;
        };
        // A student whose scenarios were cut short by Ctrl-C is not written: --resume
        // grades them again, whole.
        if ctx.stopped() {
            return;
        }
        let result = header.assemble(finished, &ctx);
        match finish_student(&args.out, &id, &partial, &result, &formats) {
            Ok(()) => report_line(bar.as_ref(), &id, &result),
            Err(e) => {
                if let Ok(mut w) = write_error.lock() {
                    w.get_or_insert(e);
                }
            }
        }
    });
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    // Students not complete (interrupted, or a harness failure) leave no partial directory.
    remove_partials(&students_dir);
    if ctx.stopped() {
        return Err(AppError::Interrupted(format!(
            "interrupted: the students graded so far are in {}; `socklab grade {} --out {} \
             --resume` grades the rest",
            students_dir.display(),
            args.dir.display(),
            args.out.display()
        )));
    }
    ran?;
    if let Some(e) = write_error.into_inner().ok().flatten() {
        return Err(e);
    }

    // The class files cover every student of this class (or shard) graded in --out.
    let runs = read_class(&args.out, &class)?;
    let summary = ClassSummary::of(&runs);
    outputs::write_class(&args.out, &runs, &summary)?;
    Ok(ClassOutcome {
        summary,
        out: args.out.clone(),
    })
}

/// `socklab merge`: every shard's students into `--out`, then the class files over them all.
pub(crate) fn merge(args: &MergeArgs) -> Result<ClassOutcome, AppError> {
    let mut seen: Vec<(String, PathBuf)> = Vec::new();
    for dir in &args.shards {
        let students = dir.join(STUDENTS);
        let ids = list_students(&students).map_err(|_| {
            AppError::Input(format!(
                "{}: not a `socklab grade` output directory (no {STUDENTS}/ in it)",
                dir.display()
            ))
        })?;
        for id in ids {
            if let Some((_, other)) = seen.iter().find(|(s, _)| *s == id) {
                return Err(AppError::Input(format!(
                    "student {id} is in both {} and {}: were the shards graded with the same \
                     number of shards?",
                    other.display(),
                    dir.display()
                )));
            }
            read_student(dir, &id)?;
            seen.push((id, dir.clone()));
        }
    }
    let students_dir = args.out.join(STUDENTS);
    std::fs::create_dir_all(&students_dir)
        .map_err(|e| AppError::Harness(format!("cannot create {}: {e}", students_dir.display())))?;
    for (id, from) in &seen {
        let source = from.join(STUDENTS).join(id);
        let target = students_dir.join(id);
        if same_dir(&source, &target) {
            continue;
        }
        let partial = students_dir.join(format!(".{id}.partial"));
        let _ = std::fs::remove_dir_all(&partial);
        copy_dir(&source, &partial).map_err(|e| {
            AppError::Harness(format!(
                "cannot copy {} to {}: {e}",
                source.display(),
                partial.display()
            ))
        })?;
        replace_dir(&partial, &target)?;
    }
    let ids: Vec<String> = seen.into_iter().map(|(id, _)| id).collect();
    let runs = read_class(&args.out, &ids)?;
    let summary = ClassSummary::of(&runs);
    outputs::write_class(&args.out, &runs, &summary)?;
    Ok(ClassOutcome {
        summary,
        out: args.out.clone(),
    })
}

/// The students of a class directory: its subdirectories, by name. Hidden ones (`.git`) are
/// not students; a symbolic link is not followed (a submission stays inside the class).
fn list_students(dir: &Path) -> Result<Vec<String>, AppError> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| AppError::Input(format!("cannot read the class {}: {e}", dir.display())))?;
    let mut ids = Vec::new();
    for entry in entries.filter_map(Result::ok) {
        let Ok(name) = entry.file_name().into_string() else {
            eprintln!(
                "warning: {}: a student's directory name must be UTF-8; skipped",
                entry.path().display()
            );
            continue;
        };
        if name.starts_with('.') {
            continue;
        }
        match entry.file_type() {
            Ok(t) if t.is_dir() => ids.push(name),
            Ok(t) if t.is_symlink() => eprintln!(
                "warning: {}: a symbolic link is not a student's directory; skipped",
                entry.path().display()
            ),
            _ => {}
        }
    }
    ids.sort();
    Ok(ids)
}

/// Only the scenarios named (all when none is): an unknown id is an input error.
fn only_scenarios(loaded: Vec<Loaded>, ids: &[String]) -> Result<Vec<Loaded>, AppError> {
    for id in ids {
        if !loaded.iter().any(|l| &l.scenario.id == id) {
            let help =
                crate::scenario::did_you_mean(id, loaded.iter().map(|l| l.scenario.id.as_str()));
            return Err(AppError::Input(format!(
                "--scenario {id}: no such scenario{}; `socklab list` shows them",
                help.map(|h| format!(" ({h})")).unwrap_or_default()
            )));
        }
    }
    Ok(if ids.is_empty() {
        loaded
    } else {
        loaded
            .into_iter()
            .filter(|l| ids.contains(&l.scenario.id))
            .collect()
    })
}

/// A student's scenarios: those of the labs they have a program for.
fn plan_student(
    dir: &Path,
    loaded: &[Loaded],
    seed: u64,
    args: &GradeArgs,
    partial: &Path,
    rubric: Option<&crate::rubric::Rubric>,
) -> Result<crate::run::Planned, AppError> {
    let submission = Submission::open(dir).map_err(|e| AppError::Input(e.to_string()))?;
    let labs: BTreeSet<&str> = loaded.iter().map(|l| l.scenario.lab.as_str()).collect();
    let mut theirs = BTreeSet::new();
    for lab in labs {
        let bindings = submission
            .bindings(lab)
            .map_err(|e| AppError::Input(e.to_string()))?;
        if !bindings.roles.is_empty() {
            theirs.insert(lab.to_string());
        }
    }
    let mine: Vec<Loaded> = loaded
        .iter()
        .filter(|l| theirs.contains(&l.scenario.lab))
        .cloned()
        .collect();
    let capture_dir = Context::capture_dir(&args.exec, partial);
    let nothing = mine.is_empty();
    let mut planned = crate::run::plan_submission(
        mine,
        Some(submission.clone()),
        seed,
        args.exec.isolation,
        capture_dir,
        rubric,
    )?;
    if nothing {
        // Nothing binds: the report names the programs that look like one, with hints.
        let labs: Vec<&str> = crate::roles::LABS.iter().map(|(n, _)| *n).collect();
        planned.header.unbound_files = submission
            .table(&labs)
            .map_err(|e| AppError::Input(e.to_string()))?
            .1;
    }
    Ok(planned)
}

/// How many of a submission's files a report names.
const FILES_NAMED: usize = 12;

/// The files of a submission (relative, two levels deep), for a report that found no program.
fn some_files(dir: &Path) -> Vec<String> {
    let mut files = Vec::new();
    let mut dirs = vec![(dir.to_path_buf(), String::new(), 0)];
    while let Some((d, prefix, depth)) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.filter_map(Result::ok) {
            let name = format!("{prefix}{}", e.file_name().to_string_lossy());
            match e.file_type() {
                Ok(t) if t.is_dir() && depth < 1 => dirs.push((e.path(), format!("{name}/"), 1)),
                Ok(t) if t.is_file() => files.push(name),
                _ => {}
            }
        }
    }
    files.sort();
    files
}

/// Each student's ports differ from the others' (only the host isolation needs it, and only
/// then is it seen): the seed mixed with the student's id, hashed as shards hash it.
fn shard_seed(id: &str) -> u64 {
    shard::fnv1a(id.as_bytes())
}

/// A student with no program for any lab graded: 0, and the report says what was found.
fn nothing_submitted(mut result: RunResult, files: &[String]) -> RunResult {
    let more = files.len().saturating_sub(FILES_NAMED);
    result.diagnoses.push(Diagnosis {
        id: "nothing-submitted".into(),
        role: None,
        summary: if files.is_empty() {
            "no program of any lab was found: the directory is empty".into()
        } else {
            format!(
                "no program of any lab was found among: {}{}",
                files[..files.len().min(FILES_NAMED)].join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            )
        },
        detail: Some(
            "name the files as the handout does (TCPServer.py, WebServer.py, ...), put each \
             lab's programs in a folder named after it, or name them in a socklab.json \
             manifest; `socklab list` shows every role and its file names"
                .into(),
        ),
        checks: Vec::new(),
    });
    result
}

/// A student whose submission cannot be read (a manifest that does not parse, ...): 0, and why.
fn unreadable(dir: &Path, why: &str) -> RunResult {
    let result = RunResult {
        schema_version: crate::result::SCHEMA_VERSION,
        socklab_version: env!("CARGO_PKG_VERSION").into(),
        started_at: crate::result::rfc3339(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        ),
        duration_ms: 0,
        isolation: String::new(),
        submission: Some(dir.display().to_string()),
        process_cap: String::new(),
        peak_rss_kib: None,
        overrides: Vec::new(),
        seed: 0,
        bindings: Vec::new(),
        unbound_files: Vec::new(),
        diagnoses: vec![Diagnosis {
            id: "unreadable-submission".into(),
            role: None,
            summary: format!("the submission cannot be graded: {why}"),
            detail: Some("fix it and grade the student again with --student".into()),
            checks: Vec::new(),
        }],
        summary: crate::result::Summary::default(),
        scenarios: Vec::new(),
    };
    result
}

/// Writes the student's reports into `partial`, then renames it to `students/<id>`.
fn finish_student(
    out: &Path,
    id: &str,
    partial: &Path,
    result: &RunResult,
    formats: &[crate::report::RunFormat],
) -> Result<(), AppError> {
    crate::run::write_reports(result, partial, formats)?;
    replace_dir(partial, &out.join(student_dir(id)))
}

/// Renames `from` to `to`, replacing what was there (a regraded student): the old directory is
/// moved aside first, so that `to` is never missing nor mixed.
fn replace_dir(from: &Path, to: &Path) -> Result<(), AppError> {
    let fail = |e: std::io::Error| {
        AppError::Harness(format!(
            "cannot move {} to {}: {e}",
            from.display(),
            to.display()
        ))
    };
    if to.exists() {
        let name = to
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let old = to.with_file_name(format!(".{name}.old"));
        let _ = std::fs::remove_dir_all(&old);
        std::fs::rename(to, &old).map_err(fail)?;
        std::fs::rename(from, to).map_err(fail)?;
        let _ = std::fs::remove_dir_all(&old);
    } else {
        std::fs::rename(from, to).map_err(fail)?;
    }
    Ok(())
}

/// Removes the hidden directories of students not complete (`.ID.partial`, `.ID.old`).
fn remove_partials(students_dir: &Path) {
    let Ok(entries) = std::fs::read_dir(students_dir) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') && (name.ends_with(".partial") || name.ends_with(".old")) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// A student's complete result in an output directory.
fn read_student(out: &Path, id: &str) -> Result<RunResult, AppError> {
    let path = out.join(student_dir(id)).join("results.json");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| AppError::Input(format!("cannot read {}: {e}", path.display())))?;
    let result: RunResult = serde_json::from_str(&text).map_err(|e| {
        AppError::Input(format!(
            "{}: not a socklab results file: {e}",
            path.display()
        ))
    })?;
    if result.schema_version != crate::result::SCHEMA_VERSION {
        return Err(AppError::Input(format!(
            "{}: results schema version {} (this socklab reads {}): grade the student again",
            path.display(),
            result.schema_version,
            crate::result::SCHEMA_VERSION
        )));
    }
    Ok(result)
}

/// The results of the students of `ids` that `out` has.
fn read_class(out: &Path, ids: &[String]) -> Result<Vec<StudentRun>, AppError> {
    let mut runs = Vec::new();
    for id in ids {
        if !out.join(student_dir(id)).is_dir() {
            continue;
        }
        runs.push(StudentRun {
            id: id.clone(),
            result: read_student(out, id)?,
        });
    }
    Ok(runs)
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Copies a student's output directory (files and folders; nothing else is written there).
fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let t = entry.file_type()?;
        let target = to.join(entry.file_name());
        if t.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else if t.is_file() {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// A progress bar with ETA on a terminal; None elsewhere (plain lines, one per student).
fn progress_bar(jobs: u64, students: usize) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() || jobs == 0 {
        return None;
    }
    let bar = indicatif::ProgressBar::new(jobs);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{bar:30} {pos}/{len} scenarios ({msg}) {elapsed_precise}, about {eta} left",
    ) {
        bar.set_style(style);
    }
    bar.set_message(format!("{students} students"));
    Some(bar)
}

/// One line per student graded: `bao  51/55  <what they should read first>` (the summary's
/// headline).
fn report_line(bar: Option<&indicatif::ProgressBar>, id: &str, result: &RunResult) {
    let s = &result.summary;
    let mut line = format!("{id:<16} {:>4}/{:<4}", s.points, s.max_points);
    if s.harness_broke() {
        line.push_str("  ! harness error: rerun this student");
    } else if let Some(headline) = summary::headline(result) {
        line.push_str(&format!("  {headline}"));
    }
    match bar {
        Some(bar) => bar.println(line),
        None => {
            let _ = writeln!(std::io::stdout().lock(), "{line}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn students_are_the_visible_subdirectories_and_links_are_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        for d in ["bob", "ada", ".git"] {
            std::fs::create_dir(dir.path().join(d)).unwrap();
        }
        std::fs::write(dir.path().join("README.md"), "class").unwrap();
        std::os::unix::fs::symlink("/etc", dir.path().join("eve")).unwrap();
        assert_eq!(list_students(dir.path()).unwrap(), ["ada", "bob"]);
    }

    #[test]
    fn a_regraded_student_replaces_the_old_directory_whole() {
        let dir = tempfile::tempdir().unwrap();
        let (new, target) = (dir.path().join(".ada.partial"), dir.path().join("ada"));
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("stale.pcap"), "old").unwrap();
        std::fs::create_dir(&new).unwrap();
        std::fs::write(new.join("results.json"), "new").unwrap();
        replace_dir(&new, &target).unwrap();
        assert!(!target.join("stale.pcap").exists());
        assert_eq!(
            std::fs::read_to_string(target.join("results.json")).unwrap(),
            "new"
        );
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1);
    }
}
