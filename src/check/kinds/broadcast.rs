//! `broadcast` check: every message typed into one client of a chat room shows on every other
//! client's output, exactly once.
//!
//! The protocol is the student's own, so the check reads what each user sees, not the wire:
//! a message counts as delivered to a client when one line of that client's output (stdout or
//! stderr) contains the typed text, whatever the program puts around it (`alice: hi`,
//! `<alice> hi`, `>> hi (from alice)`). The sender's own output is not judged, so a protocol
//! that echoes a line back to its sender passes, and so does one that does not. Which typed
//! lines are messages (the login name and `quit` are typed too) is the `messages` regex; no
//! message may be part of another (`[c1 #1]` inside `[c1 #10]`), which would make the count
//! ambiguous, and the resolver refuses such a scenario.

use regex::Regex;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{EvidenceCheck, RunView};
use crate::check::{shorten, Graded};
use crate::plan::{regex_problem, CheckCx};
use crate::scenario::StreamName;

/// `broadcast` check.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BroadcastCheck {
    /// The room's clients: program names, a replicated program's name standing for all its
    /// replicas (`["client"]`, `["alice", "bob", "carol"]`). At least two.
    pub programs: Vec<String>,
    /// Which typed lines are messages: a regular expression matched against each line a
    /// `write` step types into one of `programs` (the login name and `quit` are typed too,
    /// and are no messages). Each message must show exactly once, on one line of output, on
    /// every other client; the sender's own output is not judged (a protocol may echo or not).
    pub messages: String,
    /// Points. Default: 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<u32>,
    /// Human label for reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}
envelope!(BroadcastCheck);

/// The resolved `broadcast` check.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Plan {
    /// The clients, by plan index.
    pub programs: Vec<usize>,
    /// Each message: its sender (plan index) and its text.
    pub messages: Vec<(usize, String)>,
}

pub(crate) struct Kind;

impl EvidenceCheck for Kind {
    const NAME: &'static str = "broadcast";
    type Spec = BroadcastCheck;
    type Plan = Plan;

    fn resolve(c: &BroadcastCheck, cx: &mut CheckCx<'_, '_>) -> Option<(Plan, String)> {
        let mut programs = Vec::new();
        for name in &c.programs {
            for p in cx.started_members("programs", name)? {
                if !programs.contains(&p) {
                    programs.push(p);
                }
            }
        }
        if programs.len() < 2 {
            cx.error(
                Some("programs"),
                "a broadcast needs at least two clients",
                Some("name the room's clients, or a replicated client"),
            );
            return None;
        }
        let pattern = cx.subst("messages", &c.messages);
        let regex = match Regex::new(&pattern) {
            Ok(r) => r,
            Err(e) => {
                cx.error(Some("messages"), regex_problem(&e), None);
                return None;
            }
        };
        let messages: Vec<(usize, String)> = programs
            .iter()
            .flat_map(|&p| {
                cx.typed_lines(p)
                    .into_iter()
                    .filter(|l| regex.is_match(l))
                    .map(move |l| (p, l))
            })
            .collect();
        if messages.is_empty() {
            cx.error(
                Some("messages"),
                "no line typed into these programs is a message",
                Some("the regex is matched against the lines of the `write` steps"),
            );
            return None;
        }
        if let Some((a, b)) = ambiguous(&messages) {
            cx.error(
                Some("messages"),
                format!(
                    "the message {a:?} is part of the message {b:?}: a line showing the second \
                     would count as the first as well"
                ),
                Some("make each message distinct, e.g. `[c{replica} #1]` with brackets"),
            );
            return None;
        }
        let title = format!(
            "each of the {} messages shows exactly once on every other client",
            messages.len()
        );
        Some((Plan { programs, messages }, title))
    }

    fn grade(plan: &Plan, run: &RunView<'_>) -> Graded {
        let clients: Vec<Client> = plan
            .programs
            .iter()
            .map(|&p| {
                let (name, ev) = run.program(p);
                Client {
                    p,
                    name: name.to_string(),
                    text: ev.text(StreamName::Any),
                }
            })
            .collect();
        grade(plan, &clients)
    }
}

/// Two messages of which the first is part of the second (or the same text typed twice).
fn ambiguous(messages: &[(usize, String)]) -> Option<(String, String)> {
    messages.iter().enumerate().find_map(|(i, (_, a))| {
        messages
            .iter()
            .enumerate()
            .find(|(j, (_, b))| i != *j && b.contains(a.as_str()))
            .map(|(_, (_, b))| (a.clone(), b.clone()))
    })
}

/// One client of the room: its plan index, name and output.
struct Client {
    p: usize,
    name: String,
    text: String,
}

/// How one receiver fared.
struct Receipt<'a> {
    name: &'a str,
    p: usize,
    /// Messages of others it never showed.
    missed: Vec<&'a (usize, String)>,
    /// Messages it showed more than once, with how often.
    repeated: Vec<(&'a (usize, String), usize)>,
    /// Messages of others it should have shown.
    expected: usize,
}

/// `a, b and c`, at most eight names and then how many more.
fn list(names: &[&str]) -> String {
    const MOST: usize = 8;
    let shown = &names[..names.len().min(MOST)];
    let rest = names.len() - shown.len();
    match (shown, rest) {
        ([one], 0) => (*one).to_string(),
        (_, 0) => format!(
            "{} and {}",
            shown[..shown.len() - 1].join(", "),
            shown[shown.len() - 1]
        ),
        _ => format!("{} and {rest} more", shown.join(", ")),
    }
}

/// The verdict from each client's output.
fn grade(plan: &Plan, clients: &[Client]) -> Graded {
    let name_of = |p: usize| {
        clients
            .iter()
            .find(|c| c.p == p)
            .map_or("?", |c| c.name.as_str())
    };
    let mut total = 0;
    let mut delivered = 0;
    let receipts: Vec<Receipt<'_>> = clients
        .iter()
        .map(|c| {
            let lines: Vec<&str> = c.text.lines().collect();
            let mut r = Receipt {
                name: &c.name,
                p: c.p,
                missed: Vec::new(),
                repeated: Vec::new(),
                expected: 0,
            };
            for m in plan.messages.iter().filter(|(s, _)| *s != c.p) {
                total += 1;
                r.expected += 1;
                match lines.iter().filter(|l| l.contains(m.1.as_str())).count() {
                    0 => r.missed.push(m),
                    1 => delivered += 1,
                    n => r.repeated.push((m, n)),
                }
            }
            r
        })
        .collect();
    let passed = delivered == total;
    let expected = format!(
        "each of the {} messages typed into {} clients shows exactly once on each other \
         client's output ({total} deliveries)",
        plan.messages.len(),
        clients.len()
    );
    let actual = format!("{delivered} of {total} deliveries exactly once");
    let mut problems = Vec::new();
    // A sender none of whose lines reached anyone, and a receiver that showed none of the
    // others' lines, are each said once, in a list, rather than once per pair.
    let silent: Vec<usize> = plan
        .programs
        .iter()
        .copied()
        .filter(|&s| {
            let own = plan.messages.iter().filter(|(f, _)| *f == s).count();
            own > 0
                && receipts
                    .iter()
                    .filter(|r| r.p != s)
                    .all(|r| r.missed.iter().filter(|(f, _)| *f == s).count() == own)
        })
        .collect();
    if !silent.is_empty() && silent.len() < clients.len() {
        let names: Vec<&str> = silent.iter().map(|&p| name_of(p)).collect();
        problems.push(format!(
            "the lines typed into {} reached no other client",
            list(&names)
        ));
    }
    let deaf: Vec<&str> = receipts
        .iter()
        .filter(|r| !r.missed.is_empty() && r.missed.len() == r.expected)
        .map(|r| r.name)
        .collect();
    if !deaf.is_empty() {
        problems.push(format!("{} showed none of the others' lines", list(&deaf)));
    }
    for r in receipts.iter().filter(|r| !deaf.contains(&r.name)) {
        let missed: Vec<_> = r
            .missed
            .iter()
            .filter(|(f, _)| !silent.contains(f))
            .collect();
        if let Some((p, text)) = missed.first() {
            problems.push(format!(
                "{} never showed {} of the {} lines of the others (e.g. {:?} from {})",
                r.name,
                missed.len(),
                r.expected,
                shorten(text, 60),
                name_of(*p)
            ));
        }
    }
    for r in &receipts {
        if let Some(((p, text), n)) = r.repeated.first() {
            problems.push(format!(
                "{} showed {} line(s) more than once (e.g. {:?} from {}, {n} times)",
                r.name,
                r.repeated.len(),
                shorten(text, 60),
                name_of(*p)
            ));
        }
    }
    const SHOWN: usize = 4;
    let more = problems.len().saturating_sub(SHOWN);
    problems.truncate(SHOWN);
    if more > 0 {
        problems.push(format!("and {more} more like these"));
    }
    Graded {
        passed,
        expected,
        actual,
        reason: (!passed).then(|| problems.join("; ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room(outputs: &[&str]) -> (Plan, Vec<Client>) {
        let plan = Plan {
            programs: vec![1, 2, 3],
            messages: vec![
                (1, "[c1 #1]".into()),
                (1, "[c1 #2]".into()),
                (2, "[c2 #1]".into()),
                (3, "[c3 #1]".into()),
            ],
        };
        let clients = outputs
            .iter()
            .zip(1..)
            .map(|(o, p)| Client {
                p,
                name: format!("client{p}"),
                text: o.to_string(),
            })
            .collect();
        (plan, clients)
    }

    #[test]
    fn every_other_clients_line_once_passes_whatever_surrounds_it_and_echoes_are_not_judged() {
        let (plan, clients) = room(&[
            "* welcome u1\nu2: [c2 #1]\n<u3> [c3 #1]\n[c1 #1]\n[c1 #1]\n",
            "u1: [c1 #1]\nu1: [c1 #2]\nu3: [c3 #1]\n",
            "[c1 #1] (from u1)\n>> u1: [c1 #2]\nu2: [c2 #1]\n",
        ]);
        let g = grade(&plan, &clients);
        assert!(g.passed, "{:?}", g.reason);
        assert_eq!(g.actual, "8 of 8 deliveries exactly once");
    }

    #[test]
    fn a_missed_or_repeated_line_fails_naming_the_client_the_line_and_its_sender() {
        let (plan, clients) = room(&[
            "u2: [c2 #1]\nu3: [c3 #1]\n",
            "u1: [c1 #1]\nu3: [c3 #1]\n",
            "u1: [c1 #1]\nu1: [c1 #2]\nu2: [c2 #1]\nu2: [c2 #1]\n",
        ]);
        let g = grade(&plan, &clients);
        assert!(!g.passed);
        assert_eq!(g.actual, "6 of 8 deliveries exactly once");
        assert_eq!(
            g.reason.unwrap(),
            "client2 never showed 1 of the 3 lines of the others (e.g. \"[c1 #2]\" from \
             client1); client3 showed 1 line(s) more than once (e.g. \"[c2 #1]\" from \
             client2, 2 times)"
        );
    }

    #[test]
    fn a_client_that_shows_nothing_loses_every_delivery_to_it() {
        let (plan, clients) = room(&[
            "u2: [c2 #1]\nu3: [c3 #1]\n",
            "",
            "[c1 #1]\n[c1 #2]\n[c2 #1]\n",
        ]);
        let g = grade(&plan, &clients);
        assert!(!g.passed);
        assert_eq!(g.actual, "5 of 8 deliveries exactly once");
        assert_eq!(
            g.reason.unwrap(),
            "client2 showed none of the others' lines"
        );
    }

    #[test]
    fn clients_cut_off_from_the_room_are_named_once_in_a_list() {
        // client3 was never served: its line reached no one, and it saw nothing.
        let (plan, clients) = room(&["u2: [c2 #1]\n", "u1: [c1 #1]\nu1: [c1 #2]\n", ""]);
        let g = grade(&plan, &clients);
        assert_eq!(g.actual, "3 of 8 deliveries exactly once");
        assert_eq!(
            g.reason.unwrap(),
            "the lines typed into client3 reached no other client; client3 showed none of the \
             others' lines"
        );
        assert_eq!(list(&["a", "b", "c"]), "a, b and c");
        let many: Vec<String> = (1..=10).map(|k| format!("c{k}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert_eq!(list(&many), "c1, c2, c3, c4, c5, c6, c7, c8 and 2 more");
    }

    #[test]
    fn a_message_inside_another_or_typed_twice_is_ambiguous() {
        let m = |s: &str| (1usize, s.to_string());
        assert_eq!(
            ambiguous(&[m("[c1 #1]"), m("[c1 #10]"), m("[c11 #1]")]),
            None
        );
        assert_eq!(
            ambiguous(&[m("c1 #1"), m("[c1 #10]"), m("[c1 #1]")]),
            Some(("c1 #1".into(), "[c1 #10]".into()))
        );
        assert_eq!(
            ambiguous(&[m("hi"), m("hi")]),
            Some(("hi".into(), "hi".into()))
        );
    }
}
