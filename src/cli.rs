//! Command-line definitions (clap). Parsing only; `main` dispatches.

use std::path::PathBuf;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::report::Format;
use crate::sandbox::Isolation;

const EXIT_CODES: &str = "\
Exit codes:
  0  every check passed
  1  a check failed
  2  bad usage or invalid input (scenario, submission, arguments)
  3  the harness itself failed (sandbox, I/O)";

#[derive(Debug, Parser)]
#[command(
    name = "socklab",
    version,
    about = "Run socket-programming labs in rootless network namespaces, check what they do, grade them.",
    long_about = "socklab runs the client and server programs of computer-networks socket labs \
(socklab's reference implementations, or a student's submission in any language) under \
declarative JSON scenarios, each in its own rootless network namespace, checks their output, \
exit status and behaviour, and writes a report that grades and explains.",
    after_help = EXIT_CODES
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run scenarios and write a report.
    #[command(after_help = "\
Examples:
  socklab run                                   every bundled scenario, reference programs
  socklab run --lab upper                       only the upper lab
  socklab run scenarios/upper/tcp-round-trip.json
                                                one scenario file
  socklab run --scenarios ~/my-scenarios        the bundled scenarios and mine (same id: mine)
  socklab run --submission ~/hw/lab5 --lab upper --report reports/alice
                                                grade a student's programs (a role they lack scores 0)
  socklab run --submission ~/hw/lab5 --lab upper --format junit,gradescope
                                                also junit.xml and gradescope.json for CI and Gradescope

Exit codes: 0 all checks passed, 1 a check failed, 2 bad usage or input, 3 harness failure.")]
    Run(RunArgs),
    /// Grade a class: every subdirectory of DIR is a student's submission.
    #[command(after_help = "\
Each student is graded on every lab they have programs for (their files bind to the roles as
in `socklab run --submission`); scenarios of different students run side by side. Outputs, in
--out (default reports/grades):
  students/<id>/report.md, results.json   the student's report and full result
  students/<id>/<scenario>.pcap           this run's packets, for Wireshark
  summary.md                              students × labs, score distribution, most-lost checks
  grades.csv                              student,total,<lab>... for a gradebook import
  junit.xml                               one testcase per check per student, for CI
A student's directory appears once the student is complete (never half written).

Examples:
  socklab grade ~/submissions                     the whole class, every lab
  socklab grade ~/submissions --lab upper         only the upper lab
  socklab grade ~/submissions --student ada       regrade one student (the class files too)
  socklab grade ~/submissions --resume            after an interruption: skip finished students
  socklab grade ~/submissions --shard=2/3         one machine's third; then `socklab merge`
  socklab grade ~/submissions --format gradescope,junit
                                                 each student's gradescope.json and junit.xml too

Sharding: --shard M/N grades the students whose id hashes to M of N. Without --shard, it is
read from CI_NODE_INDEX/CI_NODE_TOTAL (GitLab `parallel:`), JOB_COMPLETION_INDEX with
--shard-total N (Kubernetes Indexed Job) or SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT (Slurm).

Exit codes: 0 the class is graded (the students' lost checks are their grades), 2 bad usage or
input, 3 socklab failed for some student (their grade must be rerun), 130 interrupted.")]
    Grade(GradeArgs),
    /// Combine the output directories of `socklab grade --shard` runs into one class.
    #[command(after_help = "\
Examples:
  socklab merge shard-1 shard-2 shard-3 --out reports/grades

Each shard's students/<id>/ is copied into --out, then summary.md, grades.csv and junit.xml
are written for all of them, exactly as one unsharded `socklab grade` writes them. A student
found in two shards is an error (the shards were not made with the same N).")]
    Merge(MergeArgs),
    /// List labs, their roles, and the scenarios with their questions.
    List(ListArgs),
    /// Print the JSON Schema of scenario files.
    Schema,
    /// Run a reference program directly, e.g. to test your client against the reference server.
    Ref {
        /// Role name, e.g. tcp-upper-server.
        role: String,
        /// The role's arguments (usually HOST PORT).
        #[arg(allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Run one of socklab's own peers: the other party a lab needs (origin server, mail server,
    /// misbehaving clients).
    #[command(after_help = "\
Peers:
  smtp-server HOST PORT [--record FILE] [--bare-lf refuse|accept] [--greet now|on-input]
      strict SMTP server: greets first, refuses bare LF, records each session
  http-origin HOST PORT [--record FILE] [--delay PATH=MS]... [--large PATH=BYTES]...
      origin web server: serves its directory, counts requests per path
  http-get HOST PORT FILE
      sends `GET /FILE` and prints the whole response
  proxy-client PROXY_HOST PROXY_PORT ORIGIN_HOST ORIGIN_PORT FILE [--form absolute|skeleton]
      asks a proxy for http://ORIGIN_HOST:ORIGIN_PORT/FILE (absolute form, as curl -x)
  idle-client HOST PORT
      opens a TCP connection and sends nothing until stopped
  trickle-client HOST PORT FILE
      sends `GET /FILE` one byte per TCP segment, prints the response
  concurrent-clients HOST PORT FILE N
      N connections at once, then a GET on each, the last first
  slow-reader HOST PORT FILE
      sends `GET /FILE`, then reads nothing until a stdin line
  udp-ask HOST PORT MESSAGE...
      sends each MESSAGE in a UDP datagram of its own, prints each answer

--record FILE appends one JSON line per session (smtp-server) or request (http-origin). In a
scenario, socklab gives each of them a record file of its own and reads it back as evidence.
--bare-lf accept makes smtp-server take a line ending in LF alone, as servers did before SMTP
smuggling (the default refuses it with 521); --greet on-input holds each greeting until a line
comes on its standard input.

Examples:
  socklab peer smtp-server 127.0.0.1 2525 --record mail.jsonl
  socklab peer http-origin 127.0.0.1 8080 --delay /slow.html=3000")]
    Peer {
        /// Peer name, e.g. smtp-server.
        name: String,
        /// The peer's arguments (HOST PORT, then its options).
        #[arg(allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Re-render a report from a results.json without re-running anything.
    #[command(after_help = "\
Examples:
  socklab report reports/latest/results.json                 Markdown to stdout
  socklab report reports/latest/results.json --format json")]
    Report {
        /// A results.json written by `socklab run`.
        results: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Markdown)]
        format: Format,
    },
    /// Show a capture as Wireshark would: packet list, TCP streams, Follow TCP Stream, ladder.
    Inspect(crate::inspect::InspectArgs),
    /// Check a capture you made (Wireshark, tcpdump) against a scenario's wire checks.
    Verify(crate::verify::VerifyArgs),
    /// (internal) Run one plan inside a sandbox; used by `socklab run`.
    #[command(name = "__sandbox", hide = true)]
    Sandbox { mode: String },
}

#[derive(Debug, clap::Args)]
pub(crate) struct RunArgs {
    /// Scenario files or directories (searched recursively for *.json). Default: the bundled
    /// scenarios (built into socklab, the same from any directory).
    pub paths: Vec<PathBuf>,
    /// A directory of scenario files (searched recursively for *.json) to add to the
    /// scenarios; one with the id of a bundled scenario replaces it (and says so). Repeatable.
    #[arg(long = "scenarios", value_name = "DIR")]
    pub scenarios: Vec<PathBuf>,
    /// Only scenarios of this lab.
    #[arg(long)]
    pub lab: Option<String>,
    /// A student's submission directory to grade: each role is played by the file the
    /// socklab.json manifest names or by its conventional name (TCPServer.py →
    /// tcp-upper-server), from the lab's folder (upper/, hello/) when there is one. A role it
    /// lacks is not submitted: the scenarios that need it score 0.
    #[arg(long, value_name = "DIR")]
    pub submission: Option<PathBuf>,
    /// Where to write report.md and results.json.
    #[arg(long, value_name = "DIR", default_value = "reports/latest")]
    pub report: PathBuf,
    /// Also write, beside report.md: html (report.html, the report as one self-contained
    /// page), and for an autograder or CI junit (junit.xml), gradescope (gradescope.json),
    /// prairielearn (prairielearn.json). Repeatable or a comma
    /// list (`--format junit,gradescope`).
    #[arg(
        long = "format",
        value_enum,
        value_name = "FORMAT",
        value_delimiter = ','
    )]
    pub formats: Vec<crate::report::RunFormat>,
    /// Write Gradescope's results.json to this path too (in Gradescope's autograder:
    /// /autograder/results/results.json); implies `--format gradescope`.
    #[arg(long, value_name = "PATH")]
    pub gradescope_out: Option<PathBuf>,
    #[command(flatten)]
    pub exec: ExecArgs,
}

/// How scenarios run: the same options for `run` and `grade`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ExecArgs {
    /// Scenarios run in parallel (each has its own namespace, so they cannot collide; `grade`
    /// runs scenarios of different students side by side). Default: the number of CPUs.
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// How runs are isolated. `host` is a degraded mode for machines without user namespaces.
    #[arg(long, value_enum, default_value_t = Isolation::Namespace)]
    pub isolation: Isolation,
    /// Do not capture packets (faster; wire checks then cannot be graded).
    #[arg(long)]
    pub no_capture: bool,
    /// Seed for the per-run port choice (printed in the report; `grade` derives each
    /// student's from it); default: random.
    #[arg(long)]
    pub seed: Option<u64>,
    /// A rubric file (JSON, docs/rubric.md): points per check, which scenarios and checks
    /// students may see (visible, hidden, after_due_date, after_published), and which
    /// advisory scenarios count. Checked against every scenario before anything runs.
    #[arg(long, value_name = "FILE")]
    pub rubric: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub(crate) struct GradeArgs {
    /// The class: one subdirectory per student (its name is the student's id).
    pub dir: PathBuf,
    /// Where to write the students' reports and the class files.
    #[arg(long, value_name = "DIR", default_value = "reports/grades")]
    pub out: PathBuf,
    /// Only this lab.
    #[arg(long)]
    pub lab: Option<String>,
    /// Only this student (repeatable): regrade one; the class files still cover everyone
    /// graded in --out.
    #[arg(long, value_name = "ID")]
    pub student: Vec<String>,
    /// Only this scenario (repeatable).
    #[arg(long, value_name = "ID")]
    pub scenario: Vec<String>,
    /// A directory of scenario files to add; one with the id of a bundled scenario replaces it.
    /// Repeatable.
    #[arg(long = "scenarios", value_name = "DIR")]
    pub scenarios: Vec<PathBuf>,
    /// Also write, for every student: junit (junit.xml), gradescope (gradescope.json),
    /// prairielearn (prairielearn.json). Repeatable or a comma list.
    #[arg(
        long = "format",
        value_enum,
        value_name = "FORMAT",
        value_delimiter = ','
    )]
    pub formats: Vec<crate::report::RunFormat>,
    /// Skip the students --out already has a complete result for (after an interruption).
    #[arg(long)]
    pub resume: bool,
    /// Grade only shard M of N of the class (students split by a stable hash of their id);
    /// `socklab merge` combines the shards.
    #[arg(long, value_name = "M/N")]
    pub shard: Option<String>,
    /// The number of shards when the index comes from JOB_COMPLETION_INDEX (a Kubernetes
    /// Indexed Job: its `completions`).
    #[arg(long, value_name = "N")]
    pub shard_total: Option<u32>,
    #[command(flatten)]
    pub exec: ExecArgs,
}

#[derive(Debug, clap::Args)]
pub(crate) struct MergeArgs {
    /// The --out directories of `socklab grade --shard` runs.
    #[arg(required = true)]
    pub shards: Vec<PathBuf>,
    /// Where to write the merged class.
    #[arg(long, value_name = "DIR", default_value = "reports/grades")]
    pub out: PathBuf,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ListArgs {
    /// Scenario files or directories. Default: the bundled scenarios.
    pub paths: Vec<PathBuf>,
    /// A directory of scenario files (searched recursively for *.json) to add to the
    /// scenarios; one with the id of a bundled scenario replaces it (and says so). Repeatable.
    #[arg(long = "scenarios", value_name = "DIR")]
    pub scenarios: Vec<PathBuf>,
    /// Only this lab.
    #[arg(long)]
    pub lab: Option<String>,
}

/// Parses the command line, with `ref --help` listing the registry's roles and their arguments.
/// An error (including `--help` and `--version`, which clap reports as errors) is returned for
/// `main` to show: as JSON when the command line asks for JSON.
pub(crate) fn try_parse() -> Result<Cli, clap::Error> {
    let command = Cli::command().mut_subcommand("ref", |c| c.after_help(ref_help()));
    Cli::from_arg_matches(&command.try_get_matches()?)
}

/// The examples and the roles, lab by lab, each with its calling convention.
fn ref_help() -> String {
    let mut text = String::from(
        "Examples:
  socklab ref tcp-upper-server 127.0.0.1 12000   reference server; then run your client against it
  echo 'hello, World' | socklab ref tcp-upper-client 127.0.0.1 12000
  socklab ref web-client 127.0.0.1 8080 HelloWorld.html

Roles:",
    );
    for (lab, _) in crate::roles::LABS {
        for r in crate::roles::ROLES.iter().filter(|r| r.lab == *lab) {
            text.push_str(&format!(
                "\n  {} {}\n      {} ({lab} lab)",
                r.name,
                r.usage(),
                r.summary
            ));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    #[test]
    fn ref_help_lists_every_role_with_its_arguments() {
        let help = super::ref_help();
        for r in crate::roles::ROLES {
            let line = format!("  {} {}\n      {}", r.name, r.usage(), r.summary);
            assert!(help.contains(&line), "{line:?} missing from:\n{help}");
        }
        assert!(help.contains("  web-client HOST PORT FILE\n"), "{help}");
    }
}
