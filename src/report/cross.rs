//! The cross-test matrix: for each `cross` scenario, how the submission's pair did end to end,
//! how its server did with socklab's client and how its client did with socklab's server, and
//! the sentence that says which side is wrong.
//!
//! Pure: read from a [`RunResult`] (the student's view of it, so that a run the rubric hides is
//! no cell here either) and rendered by report.md and report.html alike. The sentence quotes
//! the first check each side lost, as the run graded it, so it never says more than the
//! evidence: a side is called right only when it passed with socklab's program, and wrong only
//! when it lost a check there.

use crate::check::Outcome;
use crate::result::{RunResult, ScenarioResult, Verdict};
use crate::scenario::cross::side;

/// The section's heading.
pub(crate) const HEADING: &str = "Cross-tests: which side is wrong";

/// What the section is, before the table.
pub(crate) const INTRO: &str = "Each of these scenarios was also run with socklab's reference \
    program on one side, by design: your server with socklab's client, and socklab's server \
    with your client. Those runs test each of your programs against the lab's protocol alone.";

/// The table's columns.
pub(crate) const COLUMNS: [&str; 4] = [
    "Scenario",
    "your server + your client",
    "your server + socklab's client",
    "socklab's server + your client",
];

/// How one run of a cross-tested scenario went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Cell {
    /// Every check passed.
    Passed { points: u32, max: u32 },
    /// The program lost checks; `first` says which (the first one's title, and how many).
    Lost {
        points: u32,
        max: u32,
        first: String,
    },
    /// The submission has no program for the role: not run.
    NotSubmitted,
    /// socklab could not grade it (a harness error, a missing tool, no capture).
    NotGraded,
    /// No such run in this result (left out by a filter or a rubric).
    Absent,
}

impl Cell {
    fn of(sc: Option<&ScenarioResult>) -> Cell {
        let Some(sc) = sc else {
            return Cell::Absent;
        };
        if !sc.checks.is_empty() && sc.checks.iter().all(|c| c.outcome == Outcome::NotSubmitted) {
            return Cell::NotSubmitted;
        }
        match sc.verdict {
            Verdict::Pass => Cell::Passed {
                points: sc.points,
                max: sc.max_points,
            },
            Verdict::Fail => {
                // What cost points first: a 0-point check is socklab's program's, lost only
                // as a consequence (it stays in the scenario's own list).
                let (costly, free): (Vec<_>, Vec<_>) = sc
                    .checks
                    .iter()
                    .filter(|c| c.outcome.lost())
                    .partition(|c| c.points > 0);
                let lost: Vec<&str> = if costly.is_empty() { free } else { costly }
                    .iter()
                    .map(|c| c.title.as_str())
                    .collect();
                let first = match lost.as_slice() {
                    [] => String::new(),
                    [one] => format!("“{one}”"),
                    [one, rest @ ..] => format!("{} checks, the first “{one}”", rest.len() + 1),
                };
                Cell::Lost {
                    points: sc.points,
                    max: sc.max_points,
                    first,
                }
            }
            Verdict::Error | Verdict::NotGraded => Cell::NotGraded,
        }
    }

    /// The cell as a table shows it: `✅ 9/9`, `❌ 4/9`, `not submitted`, ...
    pub(crate) fn label(&self) -> String {
        match self {
            Cell::Passed { points, max } => format!("✅ {points}/{max}"),
            Cell::Lost { points, max, .. } => format!("❌ {points}/{max}"),
            Cell::NotSubmitted => "not submitted".into(),
            Cell::NotGraded => "not graded".into(),
            Cell::Absent => "—".into(),
        }
    }
}

/// One cross-tested scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Row {
    /// The scenario as written.
    pub id: String,
    pub title: String,
    /// The submission's pair (end to end).
    pub pair: Cell,
    /// The submission's server with socklab's client.
    pub your_server: Cell,
    /// socklab's server with the submission's client.
    pub your_client: Cell,
    /// Which side is wrong, in plain words; empty when there is nothing to tell.
    pub sentence: String,
}

/// The rows, in the order of the scenarios as written.
pub(crate) fn matrix(r: &RunResult) -> Vec<Row> {
    let mut rows = Vec::new();
    for sc in &r.scenarios {
        let Some(c) = &sc.cross else { continue };
        if rows.iter().any(|row: &Row| row.id == c.base) {
            continue;
        }
        let run = |yours: &str| {
            r.scenarios.iter().find(|s| {
                s.cross
                    .as_ref()
                    .is_some_and(|x| x.base == c.base && side(&x.yours) == yours)
            })
        };
        // Without the scenario as written (filtered out, or not shown to the student) there is
        // no row: its title and id are its own to show.
        let Some(base) = r.scenarios.iter().find(|s| s.id == c.base) else {
            continue;
        };
        let (pair, your_server, your_client) = (
            Cell::of(Some(base)),
            Cell::of(run("server")),
            Cell::of(run("client")),
        );
        let sentence = sentence(&pair, &your_server, &your_client);
        rows.push(Row {
            id: c.base.clone(),
            title: base.title.clone(),
            pair,
            your_server,
            your_client,
            sentence,
        });
    }
    rows
}

/// Which side is wrong, from the two cross-test runs (and the pair, when both sides lost).
fn sentence(pair: &Cell, server: &Cell, client: &Cell) -> String {
    let right =
        |who: &str, other: &str| format!("Your {who} is right: it passes with socklab's {other}.");
    let wrong = |who: &str, other: &str, first: &str| {
        format!("Your {who} is wrong: with socklab's {other} it loses {first}.")
    };
    match (server, client) {
        (Cell::Passed { .. }, Cell::Passed { .. }) => String::new(),
        (Cell::Lost { first, .. }, Cell::Passed { .. }) => {
            format!(
                "{} {}",
                right("client", "server"),
                wrong("server", "client", first)
            )
        }
        (Cell::Passed { .. }, Cell::Lost { first, .. }) => {
            format!(
                "{} {}",
                right("server", "client"),
                wrong("client", "server", first)
            )
        }
        (Cell::Lost { first: s, .. }, Cell::Lost { first: c, .. }) => {
            let both = format!(
                "with socklab's client your server loses {s}, and with socklab's server your \
                 client loses {c}."
            );
            if matches!(pair, Cell::Passed { .. }) {
                format!(
                    "Your server and your client work together, but neither speaks the lab's \
                     protocol: {both}"
                )
            } else {
                format!("Both sides are wrong: {both}")
            }
        }
        (Cell::Lost { first, .. }, Cell::NotSubmitted) => wrong("server", "client", first),
        (Cell::NotSubmitted, Cell::Lost { first, .. }) => wrong("client", "server", first),
        (Cell::Passed { .. }, Cell::NotSubmitted) => right("server", "client"),
        (Cell::NotSubmitted, Cell::Passed { .. }) => right("client", "server"),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testing;
    use crate::scenario::Cross;

    const TITLES: [&str; 2] = ["the client prints the reply", "the reply is upper"];

    fn one(id: &str, cross: Option<(&str, &str)>, lost: &[&str]) -> ScenarioResult {
        let checks = TITLES
            .iter()
            .map(|t| {
                let outcome = if lost.contains(t) {
                    Outcome::Failed
                } else {
                    Outcome::Passed
                };
                testing::check(t, outcome, 1)
            })
            .collect();
        let full_id = cross.map_or(id.to_string(), |(_, r)| format!("{id}.socklab-{}", side(r)));
        let mut sc = testing::scenario(&full_id, false, checks);
        sc.cross = cross.map(|(yours, reference)| Cross {
            base: id.into(),
            yours: yours.into(),
            reference: reference.into(),
        });
        sc
    }

    fn rows(pair: &[&str], server: &[&str], client: &[&str]) -> Vec<Row> {
        matrix(&testing::run(vec![
            one("upper-rt", None, pair),
            one(
                "upper-rt",
                Some(("tcp-upper-server", "tcp-upper-client")),
                server,
            ),
            one(
                "upper-rt",
                Some(("tcp-upper-client", "tcp-upper-server")),
                client,
            ),
        ]))
    }

    #[test]
    fn a_server_that_loses_with_socklabs_client_is_the_wrong_side() {
        let m = rows(&[], &[TITLES[0]], &[]);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].pair, Cell::Passed { points: 2, max: 2 });
        assert_eq!(m[0].your_server.label(), "❌ 1/2");
        assert_eq!(m[0].your_client.label(), "✅ 2/2");
        assert_eq!(
            m[0].sentence,
            "Your client is right: it passes with socklab's server. Your server is wrong: with \
             socklab's client it loses “the client prints the reply”."
        );
    }

    #[test]
    fn a_client_that_loses_with_socklabs_server_is_the_wrong_side() {
        let m = rows(&[TITLES[1]], &[], &TITLES);
        assert_eq!(
            m[0].sentence,
            "Your server is right: it passes with socklab's client. Your client is wrong: with \
             socklab's server it loses 2 checks, the first “the client prints the reply”."
        );
    }

    #[test]
    fn a_pair_that_only_speaks_its_own_protocol_is_told_so() {
        let both = rows(&[], &[TITLES[1]], &[TITLES[0]]);
        assert!(
            both[0]
                .sentence
                .starts_with("Your server and your client work together"),
            "{}",
            both[0].sentence
        );
        let broken = rows(&[TITLES[1]], &[TITLES[1]], &[TITLES[1]]);
        assert!(broken[0].sentence.starts_with("Both sides are wrong"));
    }

    #[test]
    fn a_side_not_submitted_is_judged_alone_and_nothing_is_said_when_both_pass() {
        assert_eq!(rows(&[], &[], &[])[0].sentence, "");
        let mut r = testing::run(vec![
            one("upper-rt", None, &[]),
            one(
                "upper-rt",
                Some(("tcp-upper-server", "tcp-upper-client")),
                &[TITLES[1]],
            ),
            one(
                "upper-rt",
                Some(("tcp-upper-client", "tcp-upper-server")),
                &[],
            ),
        ]);
        for c in &mut r.scenarios[2].checks {
            c.outcome = Outcome::NotSubmitted;
        }
        let m = matrix(&r);
        assert_eq!(m[0].your_client, Cell::NotSubmitted);
        assert_eq!(
            m[0].sentence,
            "Your server is wrong: with socklab's client it loses “the reply is upper”."
        );
        let plain = testing::run(vec![one("upper-rt", None, &[])]);
        assert!(matrix(&plain).is_empty(), "no cross runs, no row");
        let orphans = testing::run(vec![one(
            "upper-rt",
            Some(("tcp-upper-server", "tcp-upper-client")),
            &[],
        )]);
        assert!(
            matrix(&orphans).is_empty(),
            "no scenario as written, no row"
        );
    }
}
