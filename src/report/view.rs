//! What the people-facing reports (report.md and report.html) read the same way out of a
//! [`ScenarioResult`]: the transcript as lines, the ladder of the capture, how each program was
//! bound and how it ended, and a scenario's points as the student sees them. Pure; each
//! renderer only draws them, so the Markdown and the HTML report cannot tell a run
//! differently. What the student may see at all is decided once, by
//! [`student::view`](super::student::view), before either renders.

use std::collections::BTreeSet;

use crate::check::CheckResult;
use crate::evidence::Stream;
use crate::plan::Binding;
use crate::result::{ProgramResult, RunResult, ScenarioResult};

use super::student::Withheld;

/// One line of a program's transcript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Line<'a> {
    /// Milliseconds since the scenario started, of the chunk that started the line.
    pub t_ms: u64,
    pub program: &'a str,
    pub stream: Stream,
    pub text: String,
}

/// The transcript of a scenario, every program's lines in time order, each program cut to its
/// share so that a flood from one never hides the others.
#[derive(Debug, Clone, Default)]
pub(crate) struct Transcript<'a> {
    pub lines: Vec<Line<'a>>,
    /// Programs whose lines were cut, and how many lines each lost.
    pub cut: Vec<(&'a str, usize)>,
}

/// The transcript of `sc`, with at most about `max_lines` lines (each program keeps at least
/// 12).
pub(crate) fn transcript(sc: &ScenarioResult, max_lines: usize) -> Transcript<'_> {
    let share = (max_lines / sc.programs.len().max(1)).max(12);
    let mut out = Transcript::default();
    for p in &sc.programs {
        let name = p.evidence.name.as_str();
        let mut mine: Vec<Line> = Vec::new();
        // Programs often write a line in several chunks (text, then "\n"): join chunks of one
        // stream until a newline, timestamped by the chunk that started the line.
        let mut open: Vec<(u64, Stream, String)> = Vec::new();
        for e in &p.evidence.transcript {
            let mut text = e.text.as_str();
            while !text.is_empty() {
                let (piece, rest, ends) = match text.find('\n') {
                    Some(i) => (&text[..i], &text[i + 1..], true),
                    None => (text, "", false),
                };
                let (t_ms, mut line) = match open.iter().position(|o| o.1 == e.stream) {
                    Some(i) => {
                        let (t, _, l) = open.remove(i);
                        (t, l)
                    }
                    None => (e.t_ms, String::new()),
                };
                line.push_str(piece);
                if ends {
                    mine.push(Line {
                        t_ms,
                        program: name,
                        stream: e.stream,
                        text: line,
                    });
                } else {
                    open.push((t_ms, e.stream, line));
                }
                text = rest;
            }
        }
        for (t_ms, stream, text) in open {
            mine.push(Line {
                t_ms,
                program: name,
                stream,
                text,
            });
        }
        if mine.len() > share {
            out.cut.push((name, mine.len() - share));
        }
        out.lines.extend(mine.into_iter().take(share));
    }
    out.lines.sort_by_key(|l| l.t_ms);
    out
}

/// The exchange of a capture as a ladder: one lane per program endpoint, one arrow per packet.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Ladder {
    pub lanes: Vec<Lane>,
    pub arrows: Vec<Arrow>,
    /// Packets of the capture not drawn (beyond the arrows' limit).
    pub more: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Lane {
    /// `ADDR:PORT`.
    pub endpoint: String,
    /// The program there (`client`, `server`), or empty when the capture does not say.
    pub name: String,
}

impl Lane {
    /// `client 127.0.0.1:45978`, or the endpoint alone.
    pub(crate) fn label(&self) -> String {
        if self.name.is_empty() {
            self.endpoint.clone()
        } else {
            format!("{} {}", self.name, self.endpoint)
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Arrow {
    /// Indexes into [`Ladder::lanes`].
    pub from: usize,
    pub to: usize,
    /// The packet's number, as Wireshark numbers it.
    pub number: u64,
    pub label: String,
    /// An ICMP error: drawn dashed, from the refused port back to the sender.
    pub icmp: bool,
}

/// The ladder of `sc`'s packets, at most `max_arrows` of them; None without packets.
pub(crate) fn ladder(sc: &ScenarioResult, max_arrows: usize) -> Option<Ladder> {
    if sc.packets.is_empty() {
        return None;
    }
    let mut endpoints: Vec<String> = Vec::new();
    let mut lane_of = |ep: &str| -> usize {
        // ICMP rows have bare addresses: draw them at the first endpoint on that address.
        let found = endpoints.iter().position(|x| x == ep).or_else(|| {
            (!ep.contains(':') || ep.starts_with('['))
                .then(|| {
                    endpoints
                        .iter()
                        .position(|x| x.starts_with(&format!("{ep}:")))
                })
                .flatten()
        });
        found.unwrap_or_else(|| {
            endpoints.push(ep.to_string());
            endpoints.len() - 1
        })
    };
    // A frame without addresses (ARP, between a topology's computers) has no lane: the
    // packet list shows it, the ladder is the programs' exchange.
    let drawn: Vec<_> = sc
        .packets
        .iter()
        .filter(|p| !p.arrow_from.is_empty() && !p.arrow_to.is_empty())
        .collect();
    if drawn.is_empty() {
        return None;
    }
    let arrows: Vec<Arrow> = drawn
        .iter()
        .take(max_arrows)
        .map(|p| Arrow {
            from: lane_of(&p.arrow_from),
            to: lane_of(&p.arrow_to),
            number: p.number,
            label: p.label.clone(),
            icmp: p.protocol.starts_with("ICMP"),
        })
        .collect();
    let lanes = endpoints
        .into_iter()
        .map(|endpoint| Lane {
            name: sc
                .participants
                .iter()
                .find(|x| x.endpoint == endpoint)
                .map(|x| x.name.clone())
                .unwrap_or_default(),
            endpoint,
        })
        .collect();
    Some(Ladder {
        lanes,
        arrows,
        more: drawn.len().saturating_sub(max_arrows),
    })
}

/// How a program came to play in the scenario, in words; `code` marks up a file or peer name
/// (report.md puts it in backticks).
pub(crate) fn program_how(p: &ProgramResult, code: fn(&str) -> String) -> String {
    match &p.binding {
        Binding::Reference => "socklab reference".to_string(),
        Binding::Submission { file, how } => {
            format!("submission {} (bound by {how})", code(file))
        }
        Binding::Command => "scenario command".to_string(),
        Binding::Peer { name } => {
            format!(
                "socklab peer {} (the other party, never graded)",
                code(name)
            )
        }
        Binding::NotSubmitted => "not submitted".to_string(),
    }
}

/// How a program ended (or that it never started), in words.
pub(crate) fn program_state(p: &ProgramResult) -> String {
    match (
        &p.evidence.exit,
        &p.evidence.spawn_error,
        p.evidence.started_ms,
    ) {
        (_, Some(e), _) => format!("could not start: {e}"),
        (Some(e), _, _) => e.describe(),
        (None, None, Some(_)) => "running at the end".into(),
        (None, None, None) => "not started".into(),
    }
}

/// The program's command line as a user types it: the reference and peers run as
/// `<path to socklab> ref ROLE ...`, shown as `socklab ref ROLE ...`.
pub(crate) fn program_command(p: &ProgramResult) -> String {
    let mut argv = p.evidence.argv.clone();
    if matches!(p.binding, Binding::Reference | Binding::Peer { .. }) {
        if let Some(first) = argv.first_mut() {
            *first = "socklab".into();
        }
    }
    argv.join(" ")
}

/// A check's expectation with its title when the two differ (`title: expected`).
pub(crate) fn expectation(c: &CheckResult) -> String {
    if c.title == c.expected {
        c.expected.clone()
    } else {
        format!("{}: {}", c.title, c.expected)
    }
}

/// The roles a scenario of the run needs, a hidden one too: a role missing there costs points.
/// Read from the whole run, not the student's view of it.
pub(crate) fn roles_needed(r: &RunResult) -> BTreeSet<String> {
    r.scenarios
        .iter()
        .flat_map(|sc| sc.programs.iter().filter_map(|p| p.role.clone()))
        .collect()
}

/// `3/4`, or for an advisory scenario `3/4, advisory: 0 points`; with the checks the student
/// view leaves out (`3/4 + 1 check not shown`).
pub(crate) fn points(sc: &ScenarioResult, withheld: &Withheld) -> String {
    let mut text = if !sc.weighs() {
        format!("{}/{}, advisory: 0 points", sc.points, sc.max_points)
    } else if sc.advisory {
        format!(
            "{}/{}, advisory, counted by the rubric",
            sc.points, sc.max_points
        )
    } else {
        format!("{}/{}", sc.points, sc.max_points)
    };
    match withheld.in_scenario.get(&sc.id) {
        Some(1) => text.push_str(" + 1 check not shown"),
        Some(n) => text.push_str(&format!(" + {n} checks not shown")),
        None => {}
    }
    text
}

/// Programs for the reports' unit tests.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use crate::evidence::{ProgramEvidence, TranscriptEntry};
    use crate::result::PacketRow;

    /// A reference program that printed `lines` on its standard output, one chunk each.
    pub(crate) fn program(name: &str, lines: &[&str]) -> ProgramResult {
        ProgramResult {
            role: None,
            binding: Binding::Reference,
            evidence: ProgramEvidence {
                name: name.into(),
                started_ms: Some(0),
                transcript: lines
                    .iter()
                    .enumerate()
                    .map(|(i, text)| TranscriptEntry {
                        t_ms: i as u64,
                        stream: Stream::Stdout,
                        text: format!("{text}\n"),
                    })
                    .collect(),
                ..ProgramEvidence::default()
            },
        }
    }

    /// Packet `n` from `from` to `to`, labelled `p{n}`.
    pub(crate) fn packet(n: u64, from: &str, to: &str, protocol: &str) -> PacketRow {
        PacketRow {
            number: n,
            time: 0.0,
            src: from.into(),
            dst: to.into(),
            protocol: protocol.into(),
            length: 60,
            info: String::new(),
            label: format!("p{n}"),
            arrow_from: from.into(),
            arrow_to: to.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::TranscriptEntry;
    use crate::result::Participant;
    use testing::packet;

    #[test]
    fn an_icmp_error_from_a_bare_address_is_drawn_at_that_address_s_lane() {
        let sc = ScenarioResult {
            packets: vec![
                packet(1, "127.0.0.1:5000", "127.0.0.1:6000", "UDP"),
                packet(2, "127.0.0.1", "127.0.0.1:5000", "ICMP"),
                packet(3, "127.0.0.2:7", "127.0.0.1:6000", "UDP"),
            ],
            participants: vec![Participant {
                endpoint: "127.0.0.1:5000".into(),
                name: "client".into(),
            }],
            ..ScenarioResult::default()
        };
        let l = ladder(&sc, 2).unwrap();
        let lanes: Vec<String> = l.lanes.iter().map(Lane::label).collect();
        assert_eq!(lanes, ["client 127.0.0.1:5000", "127.0.0.1:6000"]);
        assert_eq!(
            (l.arrows[1].from, l.arrows[1].to, l.arrows[1].icmp),
            (0, 0, true)
        );
        assert_eq!(l.more, 1);
    }

    #[test]
    fn frames_without_addresses_stay_in_the_packet_list_and_out_of_the_ladder() {
        let sc = ScenarioResult {
            packets: vec![
                packet(1, "", "", "ARP"),
                packet(2, "", "", "ARP"),
                packet(3, "192.0.2.2:5000", "192.0.2.1:6000", "TCP"),
            ],
            ..ScenarioResult::default()
        };
        let l = ladder(&sc, 10).unwrap();
        let lanes: Vec<String> = l.lanes.iter().map(Lane::label).collect();
        assert_eq!(lanes, ["192.0.2.2:5000", "192.0.2.1:6000"]);
        assert_eq!(l.arrows.len(), 1);
        assert_eq!(l.arrows[0].number, 3);
        assert_eq!(l.more, 0);
        // ARP alone: no exchange to draw.
        let only = ScenarioResult {
            packets: vec![packet(1, "", "", "ARP")],
            ..ScenarioResult::default()
        };
        assert!(ladder(&only, 10).is_none());
    }

    #[test]
    fn chunks_of_one_stream_join_into_lines_and_a_flood_is_cut_to_its_share() {
        let mut sc = ScenarioResult::default();
        let mut p = testing::program("server", &[]);
        let chunk = |t_ms, text: &str| TranscriptEntry {
            t_ms,
            stream: Stream::Stdout,
            text: text.into(),
        };
        p.evidence.transcript = vec![chunk(5, "HEL"), chunk(7, "LO\nnext")];
        for i in 0..20 {
            p.evidence.transcript.push(chunk(10 + i, "\n"));
        }
        sc.programs.push(p);
        let t = transcript(&sc, 12);
        assert_eq!(t.lines[0].text, "HELLO");
        assert_eq!(t.lines[0].t_ms, 5);
        assert_eq!(t.lines[1].text, "next");
        assert_eq!(t.lines.len(), 12);
        assert_eq!(t.cut, [("server", 9)]);
    }
}
