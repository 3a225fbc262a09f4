//! socklab: scripted network-lab test harness and grader.
//!
//! `main` parses arguments, dispatches, prints errors and maps them to the documented exit
//! codes (see `error::exit`); everything else lives in the modules.

mod analysis;
mod bundled;
mod capture;
mod check;
mod class;
mod cli;
mod diagnose;
mod documents;
mod error;
mod evidence;
mod exec;
mod grade;
mod inspect;
mod interp;
mod labs;
mod list;
mod peer_record;
mod peers;
mod plan;
mod report;
mod result;
mod roles;
mod rubric;
mod run;
mod sandbox;
mod scenario;
mod submission;
#[cfg(test)]
mod testkit;
mod verify;
mod wire;
mod wire_view;

use std::io::Write;

use cli::Command;
use error::{exit, AppError};

fn main() {
    // The sandbox child must stay single-threaded until it has unshared its namespaces, so it
    // is dispatched before anything else can start a thread.
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("__sandbox") {
        let mode = args.get(2).map_or("", String::as_str);
        let capture = args.get(3).map(|path| sandbox::CaptureSpec {
            path: std::path::Path::new(path),
            ring_mib: args
                .get(4)
                .and_then(|n| n.parse().ok())
                .unwrap_or(capture::RING_MIB),
        });
        std::process::exit(sandbox::child_main(mode, capture));
    }
    let cli = match cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => std::process::exit(usage_error(&e, &args)),
    };
    let json = wants_json(&cli.command);
    let code = match dispatch(cli.command) {
        Ok(code) => code,
        Err(e) => {
            let _ = std::io::stdout().flush();
            let text = e.to_string();
            if json {
                eprintln!(
                    "{}",
                    error::json_error(e.kind(), text.trim_end(), e.exit_code())
                );
            } else {
                eprintln!("{}", text.trim_end());
            }
            e.exit_code()
        }
    };
    std::process::exit(code);
}

/// Whether the command writes JSON, so that its errors are JSON too.
fn wants_json(command: &Command) -> bool {
    match command {
        Command::Inspect(a) => a.json,
        Command::Verify(a) => a.json,
        Command::Report { format, .. } => *format == report::Format::Json,
        _ => false,
    }
}

/// Arguments that do not parse: clap's message and exit code, as JSON when the command line
/// asks for JSON (`--json`, or `--format json` of `report`); `--help` and `--version` as they
/// are. Returns the exit code.
fn usage_error(e: &clap::Error, args: &[String]) -> i32 {
    use clap::error::ErrorKind;
    let asks_json = args
        .iter()
        .skip(1)
        .any(|a| a == "--json" || a == "--format=json")
        || args
            .windows(2)
            .any(|w| w[0] == "--format" && w[1] == "json");
    if asks_json && !matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let text = e.render().to_string();
        let message = text.trim_end().trim_start_matches("error: ");
        eprintln!("{}", error::json_error("usage", message, exit::BAD_INPUT));
        return exit::BAD_INPUT;
    }
    let _ = e.print();
    e.exit_code()
}

/// The exit code of `socklab run`: an advisory failure is not a lost point (0 when every
/// graded check passed); the harness breaking is an error wherever it happens, advisory
/// scenarios included.
fn run_exit_code(s: &result::Summary) -> i32 {
    if s.harness_broke() {
        exit::HARNESS
    } else if s.failed > 0 {
        exit::CHECK_FAILED
    } else {
        exit::OK
    }
}

/// The last lines of `socklab grade` and `merge`, and their exit code: 0 once the class is
/// graded, 3 when socklab failed for some student (their grade must be rerun).
fn class_done(outcome: &class::ClassOutcome) -> i32 {
    let s = &outcome.summary;
    let n = s.students.len();
    let mean = s
        .students
        .iter()
        .map(|r| r.percent())
        .sum::<u32>()
        .checked_div(n as u32)
        .unwrap_or(0);
    let broken: Vec<&str> = s
        .students
        .iter()
        .filter(|r| r.harness_errors > 0)
        .map(|r| r.id.as_str())
        .collect();
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "\n{n} student(s) in the class files; mean {mean}%; summary: {}, grades: {}, junit: {}",
        outcome.out.join("summary.md").display(),
        outcome.out.join("grades.csv").display(),
        outcome.out.join("junit.xml").display()
    );
    if !s.harness_broke() {
        exit::OK
    } else {
        let _ = writeln!(
            out,
            "harness errors (not the students' fault) for: {}; rerun them with --student",
            broken.join(", ")
        );
        exit::HARNESS
    }
}

fn dispatch(command: Command) -> Result<i32, AppError> {
    match command {
        Command::Run(args) => {
            let result = run::run(&args)?;
            let s = &result.summary;
            let a = &s.advisory;
            let advisory = if a.scenarios == 0 {
                String::new()
            } else {
                format!(
                    "; advisory (0 points): {} passed, {} failed, {} errors",
                    a.passed, a.failed, a.errors
                )
            };
            let not_graded = match s.not_graded + a.not_graded {
                0 => String::new(),
                n => format!(", {n} not graded (see the warnings)"),
            };
            let _ = writeln!(
                std::io::stdout(),
                "\n{} scenarios: {} passed, {} failed, {} errors{not_graded}; points {}/{}{advisory}; seed {}; report: {}",
                s.scenarios,
                s.passed,
                s.failed,
                s.errors,
                s.points,
                s.max_points,
                result.seed,
                args.report.join("report.md").display()
            );
            Ok(run_exit_code(s))
        }
        Command::Grade(args) => Ok(class_done(&class::grade(&args)?)),
        Command::Merge(args) => Ok(class_done(&class::merge(&args)?)),
        Command::List(args) => {
            list::list(&args, &mut std::io::stdout().lock())?;
            Ok(exit::OK)
        }
        Command::Schema => {
            // A closed pipe (`socklab schema | head`) is not an error.
            let _ = std::io::stdout().write_all(scenario::schema_json().as_bytes());
            Ok(exit::OK)
        }
        Command::Ref { role, args } => match roles::role(&role) {
            Some(r) => Ok((r.main)(&args)),
            None => {
                let help = scenario::did_you_mean(&role, roles::ROLES.iter().map(|r| r.name));
                Err(AppError::Input(format!(
                    "unknown role `{role}`{}; `socklab list` shows the roles",
                    help.map(|h| format!(" ({h})")).unwrap_or_default()
                )))
            }
        },
        Command::Peer { name, args } => match peers::peer(&name) {
            Some(p) => Ok((p.main)(&args)),
            None => {
                let help = scenario::did_you_mean(&name, peers::PEERS.iter().map(|p| p.name));
                let list: Vec<String> = peers::PEERS
                    .iter()
                    .map(|p| format!("  {:<15} {}", p.name, p.summary))
                    .collect();
                Err(AppError::Input(format!(
                    "unknown peer `{name}`{}; the peers are:\n{}",
                    help.map(|h| format!(" ({h})")).unwrap_or_default(),
                    list.join("\n")
                )))
            }
        },
        Command::Report { results, format } => {
            let text = std::fs::read_to_string(&results)
                .map_err(|e| AppError::Input(format!("cannot read {}: {e}", results.display())))?;
            let parsed: result::RunResult = serde_json::from_str(&text).map_err(|e| {
                AppError::Input(format!(
                    "{}: not a socklab results file: {e}",
                    results.display()
                ))
            })?;
            if parsed.schema_version != result::SCHEMA_VERSION {
                return Err(AppError::Input(format!(
                    "{}: results schema version {} is not supported (this socklab reads version {})",
                    results.display(),
                    parsed.schema_version,
                    result::SCHEMA_VERSION
                )));
            }
            let mut out = std::io::stdout().lock();
            let written = match format {
                report::Format::Markdown => report::write_markdown(&parsed, &mut out),
                report::Format::Html => report::write_html(&parsed, &mut out),
                report::Format::Json => report::write_json(&parsed, &mut out),
                report::Format::Junit => report::write_junit(&parsed, &mut out),
                report::Format::Gradescope => report::write_gradescope(&parsed, &mut out),
                report::Format::Prairielearn => report::write_prairielearn(&parsed, &mut out),
            };
            match written {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(exit::OK),
                Err(e) => Err(AppError::Harness(format!("cannot write the report: {e}"))),
                Ok(()) => Ok(exit::OK),
            }
        }
        Command::Inspect(args) => match inspect::run(&args, &mut std::io::stdout().lock()) {
            Ok(()) => Ok(exit::OK),
            Err(e) if e.is_broken_pipe() => Ok(exit::OK),
            // A capture that cannot be read is bad input; failing to write is ours.
            Err(e @ inspect::InspectError::Write(_)) => Err(AppError::Harness(e.to_string())),
            Err(e) => Err(AppError::Input(e.to_string())),
        },
        Command::Verify(args) => match verify::run(&args, &mut std::io::stdout().lock()) {
            Ok(true) => Ok(exit::OK),
            Ok(false) => Ok(exit::CHECK_FAILED),
            Err(verify::VerifyError::Write(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                Ok(exit::OK)
            }
            Err(e @ verify::VerifyError::Write(_)) => Err(AppError::Harness(e.to_string())),
            Err(e) => Err(AppError::Input(e.to_string())),
        },
        Command::Sandbox { .. } => Err(AppError::Input("`__sandbox` is internal".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use result::{Summary, Tally};

    #[test]
    fn advisory_failures_keep_exit_0_but_an_advisory_harness_error_is_exit_3() {
        let graded_pass = Summary {
            scenarios: 1,
            passed: 1,
            ..Summary::default()
        };
        let mut s = graded_pass.clone();
        s.advisory = Tally {
            scenarios: 2,
            failed: 2,
            ..Tally::default()
        };
        assert_eq!(run_exit_code(&s), exit::OK);
        s.advisory.errors = 1;
        assert_eq!(run_exit_code(&s), exit::HARNESS);
        let mut s = graded_pass;
        s.failed = 1;
        assert_eq!(run_exit_code(&s), exit::CHECK_FAILED);
    }
}
