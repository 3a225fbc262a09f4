//! `smtp_dialogue` check: one aspect of the SMTP dialogue between a mail client and a mail
//! server, read from the capture as the server read it ([`Dialogue`]). The scenario's fields,
//! their plan, the description and the grading live here together.
//!
//! One fault, its own checks: each aspect judges one behaviour and stops where another aspect's
//! fault begins. `order` follows the client's commands as far as the server let the dialogue go
//! and as far as the message went: a bare LF the server refused (521) is `crlf`'s, a message
//! never ended is `final_dot`'s, and `message` judges the text sent after the 354 whether or
//! not the dot followed. A check never passes on nothing: each needs the client to have said
//! what it judges.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Sides, WireCheck};
use crate::analysis::smtp::{At, Dialogue, Step};
use crate::analysis::{Analysis, TcpStream};
use crate::check::wire::{packets_phrase, port_summary, quote, tcp_streams, WireGraded};
use crate::plan::{CheckCx, WireExpect};

/// `smtp_dialogue` check: `from` is the mail client, `to` the mail server (its port identifies
/// the connection); `aspect` says what is judged.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SmtpDialogueCheck {
    /// The mail client's program name.
    pub from: String,
    /// The mail server's program name.
    pub to: String,
    /// What is judged.
    pub aspect: SmtpAspect,
    /// With `message`: the text the message must contain (placeholders allowed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_contains: Option<String>,
    /// With `order`: the address `MAIL FROM:<...>` must give (placeholders allowed, e.g.
    /// `{from}`). Default: any address the server accepts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mail_from: Option<String>,
    /// With `order`: the address `RCPT TO:<...>` must give. Default: any the server accepts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rcpt_to: Option<String>,
    /// Points. Default: 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<u32>,
    /// Human label for reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

envelope!(SmtpDialogueCheck);

/// One aspect of an SMTP dialogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum SmtpAspect {
    /// The client's commands come in order, each answered with success: HELO or EHLO (250),
    /// MAIL FROM (250), RCPT TO (250/251), DATA (354), the message and its `.` (250), QUIT
    /// (221); judged as far as the server let the dialogue go and the message went.
    Order,
    /// The client sends nothing before the server's greeting has crossed the wire (wire order
    /// of packets, with their times).
    GreetingFirst,
    /// Every line the client sends ends in CRLF; a bare LF is reported with the server's answer
    /// (a strict server refuses it with 521, as real servers do since SMTP smuggling).
    Crlf,
    /// The message ends with a line holding a lone `.`, and the server accepts it (250).
    FinalDot,
    /// The message the client sends after the 354 contains `message_contains` (dot-stuffing
    /// undone), whether or not the dot followed.
    Message,
}

impl SmtpAspect {
    fn name(self) -> &'static str {
        match self {
            SmtpAspect::Order => "order",
            SmtpAspect::GreetingFirst => "greeting_first",
            SmtpAspect::Crlf => "crlf",
            SmtpAspect::FinalDot => "final_dot",
            SmtpAspect::Message => "message",
        }
    }
}

/// The plan of an `smtp_dialogue` check (placeholders filled in).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct SmtpExpect {
    pub aspect: SmtpAspect,
    pub message_contains: Option<String>,
    pub mail_from: Option<String>,
    pub rcpt_to: Option<String>,
}

impl SmtpExpect {
    /// Which fields go with which aspect: a field the aspect does not read is a mistake.
    pub(crate) fn problem(&self) -> Option<String> {
        let a = self.aspect.name();
        match self.aspect {
            SmtpAspect::Message if self.message_contains.is_none() => {
                Some("`aspect: message` needs `message_contains`".into())
            }
            SmtpAspect::Message if self.mail_from.is_some() || self.rcpt_to.is_some() => {
                Some("`mail_from` and `rcpt_to` go with `aspect: order`".into())
            }
            SmtpAspect::Order if self.message_contains.is_some() => {
                Some("`message_contains` goes with `aspect: message`".into())
            }
            SmtpAspect::Order | SmtpAspect::Message => None,
            _ if self.message_contains.is_some()
                || self.mail_from.is_some()
                || self.rcpt_to.is_some() =>
            {
                Some(format!(
                    "`aspect: {a}` takes no `message_contains`, `mail_from` or `rcpt_to`"
                ))
            }
            _ => None,
        }
    }

    pub(crate) fn describe(&self, c: &str, s: &str, p: u16) -> String {
        let who = format!("{c} to {s} (port {p}), over SMTP");
        match self.aspect {
            SmtpAspect::Order => {
                let from = self.mail_from.as_deref().unwrap_or("…");
                let to = self.rcpt_to.as_deref().unwrap_or("…");
                format!(
                    "{who}: HELO/EHLO → 250, MAIL FROM:<{from}> → 250, RCPT TO:<{to}> → 250, \
                     DATA → 354, the message and `.` → 250, QUIT → 221, in this order"
                )
            }
            SmtpAspect::GreetingFirst => {
                format!("{who}: {c} sends nothing before {s}'s 220 greeting")
            }
            SmtpAspect::Crlf => format!("{who}: every line {c} sends ends in CRLF"),
            SmtpAspect::FinalDot => {
                format!("{who}: the message ends with a line holding a lone `.`, answered by 250")
            }
            SmtpAspect::Message => format!(
                "{who}: the message sent after the 354 contains {:?}",
                self.message_contains.as_deref().unwrap_or_default()
            ),
        }
    }
}

pub(crate) struct Kind;

impl WireCheck for Kind {
    const NAME: &'static str = "smtp_dialogue";
    type Spec = SmtpDialogueCheck;
    type Plan = SmtpExpect;

    fn resolve(c: &SmtpDialogueCheck, cx: &mut CheckCx<'_, '_>) -> Option<Sides<SmtpExpect>> {
        let (server, client, to_server) = cx.direction(&c.from, &c.to)?;
        if !to_server {
            cx.error(
                None,
                format!(
                    "`from` must be the mail client and `to` the mail server, but `{}` is a \
                     server",
                    c.from
                ),
                Some("swap `from` and `to`"),
            );
            return None;
        }
        let mut fill =
            |field: &str, v: &Option<String>| v.as_ref().map(|text| cx.subst(field, text));
        let plan = SmtpExpect {
            aspect: c.aspect,
            message_contains: fill("message_contains", &c.message_contains),
            mail_from: fill("mail_from", &c.mail_from),
            rcpt_to: fill("rcpt_to", &c.rcpt_to),
        };
        if let Some(problem) = plan.problem() {
            cx.error(None, problem, None);
            return None;
        }
        Some(Sides {
            server,
            client,
            plan,
        })
    }

    fn describe(e: &WireExpect, p: &SmtpExpect) -> String {
        p.describe(&e.client, &e.server, e.port)
    }

    fn grade(e: &WireExpect, p: &SmtpExpect, a: &Analysis) -> WireGraded {
        grade(e, a, p)
    }
}

pub(crate) fn grade(e: &WireExpect, a: &Analysis, x: &SmtpExpect) -> WireGraded {
    let streams = tcp_streams(a, e.port);
    // The session is the first connection that carried anything; a client that connected and
    // said nothing still has its silence judged.
    let Some(stream) = streams
        .iter()
        .find(|s| !s.to_server.payload.is_empty() || !s.to_client.payload.is_empty())
        .or(streams.first())
    else {
        let summary = port_summary(a, e.port);
        return WireGraded::fail(
            summary.clone(),
            format!(
                "no TCP connection from {} to {} on port {}, so no SMTP dialogue: {summary}",
                e.client, e.server, e.port
            ),
            Vec::new(),
        );
    };
    let d = Dialogue::read(stream);
    let mut g = match x.aspect {
        SmtpAspect::Order => order(&d, stream, x),
        SmtpAspect::GreetingFirst => greeting_first(&d),
        SmtpAspect::Crlf => crlf(&d),
        SmtpAspect::FinalDot => final_dot(&d, stream),
        SmtpAspect::Message => message(&d, x.message_contains.as_deref().unwrap_or_default()),
    };
    if !d.complete && (!g.passed || x.aspect == SmtpAspect::Crlf) {
        // Bytes the capture lacks could hold what was not found, or a bare LF.
        g.unjudged = Some(format!(
            "the capture lacks bytes of TCP stream {} (a snapshot length cut packets, or \
             segments were never captured), so the dialogue cannot be read whole",
            stream.index
        ));
    }
    g
}

fn at(x: At) -> String {
    format!("packet {}, {:.6} s", x.packet, x.time)
}

fn greeting_first(d: &Dialogue) -> WireGraded {
    let Some(first) = d.client_first else {
        return WireGraded::fail(
            "the client sent nothing".into(),
            "the client sent nothing on the connection, so it never spoke after the greeting \
             either"
                .into(),
            Vec::new(),
        );
    };
    let said = d.commands.first().map_or("its first bytes".into(), |c| {
        format!("\"{}\"", quote(c.text.as_bytes()))
    });
    match d.greeting() {
        Some(g) if g.at.packet < first.packet => WireGraded::pass(
            format!(
                "the server greeted with \"{}\" ({}); the client spoke after it: {said} ({})",
                quote(g.text().as_bytes()),
                at(g.at),
                at(first)
            ),
            vec![g.at.packet, first.packet],
        ),
        Some(g) => WireGraded::fail(
            format!(
                "the client sent {said} ({}) before the server's greeting \"{}\" ({})",
                at(first),
                quote(g.text().as_bytes()),
                at(g.at)
            ),
            format!(
                "the client spoke first: {said} crossed the wire in packet {}, before the \
                 server's greeting (packet {}); an SMTP client reads the 220 greeting before \
                 it sends anything",
                first.packet, g.at.packet
            ),
            vec![first.packet, g.at.packet],
        ),
        None => WireGraded::fail(
            format!(
                "the client sent {said} ({}); the server never greeted",
                at(first)
            ),
            format!(
                "the client sent {said} (packet {}) and the server sent no greeting at all",
                first.packet
            ),
            vec![first.packet],
        ),
    }
}

fn crlf(d: &Dialogue) -> WireGraded {
    let mut packets: Vec<u64> = d.commands.iter().map(|c| c.at.packet).collect();
    packets.extend(
        d.messages
            .iter()
            .flat_map(|m| [m.first, m.last, m.end])
            .flatten()
            .map(|a| a.packet),
    );
    packets.sort_unstable();
    packets.dedup();
    if packets.is_empty() {
        return WireGraded::fail(
            "the client sent no complete line".into(),
            "the client ended no line at all, so none of its lines ended in CRLF".into(),
            Vec::new(),
        );
    }
    let Some(bare) = d.first_bare_lf() else {
        return WireGraded::pass(
            format!(
                "every line the client sent ended in CRLF ({})",
                packets_phrase(&packets)
            ),
            packets,
        );
    };
    let which = d
        .commands
        .iter()
        .find(|c| c.bare_lf)
        .filter(|c| c.at.packet == bare.packet)
        .map_or("a line of the message".to_string(), |c| {
            format!("\"{}\"", quote(c.text.as_bytes()))
        });
    let refusal = d
        .replies
        .iter()
        .find(|r| r.at.packet > bare.packet && r.code.is_some_and(|c| c >= 500));
    let (answer, mut evidence) = match refusal {
        Some(r) => (
            format!(
                "the server refused it with {} (packet {}), as real servers do since SMTP \
                 smuggling",
                r.code.unwrap_or_default(),
                r.at.packet
            ),
            vec![bare.packet, r.at.packet],
        ),
        None => (
            "strict servers refuse it (521), as real servers do since SMTP smuggling".into(),
            vec![bare.packet],
        ),
    };
    evidence.dedup();
    WireGraded::fail(
        format!(
            "the client ended {which} with a bare LF (packet {})",
            bare.packet
        ),
        format!(
            "the client ended a line with a bare LF (packet {}); {answer}; SMTP lines end in \
             CRLF (\\r\\n)",
            bare.packet
        ),
        evidence,
    )
}

/// What the client was to send next, and the reply codes that accept it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Due {
    Hello,
    Mail,
    Rcpt,
    RcptOrData,
    Message,
    Quit,
    Done,
}

impl Due {
    fn says(self) -> &'static str {
        match self {
            Due::Hello => "HELO or EHLO",
            Due::Mail => "MAIL FROM",
            Due::Rcpt => "RCPT TO",
            Due::RcptOrData => "DATA (or another RCPT TO)",
            Due::Message => "the message",
            Due::Quit => "QUIT",
            Due::Done => "nothing",
        }
    }
}

fn order(d: &Dialogue, stream: &TcpStream, x: &SmtpExpect) -> WireGraded {
    let mut due = Due::Hello;
    let mut done: Vec<String> = Vec::new();
    let mut packets = Vec::new();
    let fail = |done: &[String], packets: Vec<u64>, why: String| {
        let so_far = if done.is_empty() {
            "nothing in order".to_string()
        } else {
            done.join(", ")
        };
        WireGraded::fail(format!("{so_far}; then {why}"), why, packets)
    };
    for (k, step) in d.client_steps().enumerate() {
        let answer = d.answer_to(k);
        let code = answer.and_then(|r| r.code);
        let (said, step_at, ok_codes, next): (String, At, &[u16], Due) = match step {
            Step::Command(i) => {
                let c = &d.commands[i];
                let want: Option<(&[u16], Due)> = match (due, c.verb.as_str()) {
                    (Due::Hello, "HELO" | "EHLO") => Some((&[250], Due::Mail)),
                    (Due::Mail, "MAIL") => Some((&[250], Due::Rcpt)),
                    (Due::Rcpt | Due::RcptOrData, "RCPT") => Some((&[250, 251], Due::RcptOrData)),
                    (Due::RcptOrData, "DATA") => Some((&[354], Due::Message)),
                    (Due::Quit, "QUIT") => Some((&[221], Due::Done)),
                    _ => None,
                };
                let said = format!("\"{}\"", quote(c.text.as_bytes()));
                let Some((ok, next)) = want else {
                    packets.push(c.at.packet);
                    return fail(
                        &done,
                        packets,
                        format!(
                            "the client sent {said} (packet {}) where {} was due",
                            c.at.packet,
                            due.says()
                        ),
                    );
                };
                let address = match c.verb.as_str() {
                    "MAIL" => Some(("MAIL FROM", x.mail_from.as_deref())),
                    "RCPT" => Some(("RCPT TO", x.rcpt_to.as_deref())),
                    _ => None,
                };
                if let Some((what, Some(want))) = address {
                    if envelope(&c.text) != Some(want) {
                        packets.push(c.at.packet);
                        return fail(
                            &done,
                            packets,
                            format!(
                                "the client sent {said} (packet {}) where {what}:<{want}> was due",
                                c.at.packet
                            ),
                        );
                    }
                }
                (said, c.at, ok, next)
            }
            Step::Message(i) => {
                let m = &d.messages[i];
                let Some(end) = m.end else {
                    // A message never ended is the final dot's fault, judged there.
                    done.push("the message (its `.` never came: judged apart)".into());
                    packets.extend(m.first.map(|a| a.packet));
                    return WireGraded::pass(done.join(", "), packets);
                };
                ("the message and its `.`".into(), end, &[250][..], Due::Quit)
            }
            Step::Reply(_) => continue,
        };
        if matches!(step, Step::Message(_)) && due != Due::Message {
            packets.push(step_at.packet);
            return fail(
                &done,
                packets,
                format!(
                    "a message (packet {}) where {} was due",
                    step_at.packet,
                    due.says()
                ),
            );
        }
        packets.push(step_at.packet);
        match (answer, code) {
            (Some(r), Some(code)) if ok_codes.contains(&code) => {
                packets.push(r.at.packet);
                done.push(format!("{said} (packet {}) → {code}", step_at.packet));
            }
            (Some(r), Some(521)) => {
                // A bare LF refused: the crlf aspect's fault; the dialogue ends there.
                packets.push(r.at.packet);
                done.push(format!(
                    "{said} (packet {}) → 521 (a bare LF, judged apart)",
                    step_at.packet
                ));
                return WireGraded::pass(done.join(", "), packets);
            }
            (Some(r), _) => {
                packets.push(r.at.packet);
                return fail(
                    &done,
                    packets,
                    format!(
                        "the server answered {said} (packet {}) with \"{}\" (packet {})",
                        step_at.packet,
                        quote(r.text().as_bytes()),
                        r.at.packet
                    ),
                );
            }
            (None, _) => {
                done.push(format!("{said} (packet {})", step_at.packet));
                let closed = stream.to_client.fin_packet.or(stream.to_client.rst_packet);
                return fail(
                    &done,
                    packets,
                    match closed {
                        Some(p) => format!(
                            "the server closed the connection (packet {p}) without answering it"
                        ),
                        None => "the server's answer never came".into(),
                    },
                );
            }
        }
        due = next;
    }
    if due == Due::Done {
        return WireGraded::pass(done.join(", "), packets);
    }
    let last = d.client_steps().count();
    let stopped = if last == 0 {
        "the client sent no command".to_string()
    } else {
        "the client sent nothing more".to_string()
    };
    fail(&done, packets, format!("{stopped}; {} was due", due.says()))
}

/// The address of `MAIL FROM:<a>` / `RCPT TO:<a>`.
fn envelope(line: &str) -> Option<&str> {
    let (_, rest) = line.split_once(':')?;
    let rest = rest.trim_start().strip_prefix('<')?;
    rest.split_once('>').map(|(a, _)| a)
}

/// The first message the client started (after a DATA answered by 354), and its client step.
fn first_message(d: &Dialogue) -> Option<(usize, &crate::analysis::smtp::Message)> {
    d.client_steps().enumerate().find_map(|(k, s)| match s {
        Step::Message(i) => d.messages.get(i).map(|m| (k, m)),
        _ => None,
    })
}

fn no_message(d: &Dialogue) -> WireGraded {
    let data = d.commands.iter().find(|c| c.verb == "DATA");
    let why = match data {
        Some(c) => format!(
            "the client's DATA (packet {}) was not answered by 354, so no message followed",
            c.at.packet
        ),
        None if d.commands.is_empty() => "the client sent no command".into(),
        None => format!(
            "the client never sent DATA (its last command: \"{}\", packet {})",
            quote(
                d.commands
                    .last()
                    .map(|c| c.text.as_bytes())
                    .unwrap_or_default()
            ),
            d.commands.last().map_or(0, |c| c.at.packet)
        ),
    };
    let packets = data.map(|c| vec![c.at.packet]).unwrap_or_default();
    WireGraded::fail(format!("no message: {why}"), why, packets)
}

fn final_dot(d: &Dialogue, stream: &TcpStream) -> WireGraded {
    let Some((k, m)) = first_message(d) else {
        return no_message(d);
    };
    let sent: Vec<u64> = [m.first, m.last]
        .into_iter()
        .flatten()
        .map(|a| a.packet)
        .collect();
    let Some(end) = m.end else {
        let mut packets = sent.clone();
        packets.dedup();
        // Who closed first tells a client that gave up from one stopped when the budget ran
        // out: the server never closes in the middle of a message on its own.
        let client_closed = stream.to_server.fin_packet.or(stream.to_server.rst_packet);
        let server_closed = stream.to_client.fin_packet.or(stream.to_client.rst_packet);
        let how = match client_closed {
            Some(p) if server_closed.is_none_or(|s| p < s) => {
                format!("it closed the connection (packet {p}) without it")
            }
            _ => "the server waited for it until the scenario's budget ran out".into(),
        };
        return WireGraded::fail(
            format!(
                "the message ({} bytes, {}) was never ended: no line holding a lone `.` followed",
                m.data.len(),
                packets_phrase(&packets)
            ),
            format!(
                "the client sent the message but never the final line `.`: {how}; a message \
                 ends with \"\\r\\n.\\r\\n\""
            ),
            packets,
        );
    };
    match d.answer_to(k) {
        Some(r) if r.code == Some(250) => WireGraded::pass(
            format!(
                "the client ended the message with a lone `.` (packet {}); the server accepted \
                 it: \"{}\" (packet {})",
                end.packet,
                quote(r.text().as_bytes()),
                r.at.packet
            ),
            vec![end.packet, r.at.packet],
        ),
        Some(r) => WireGraded::fail(
            format!(
                "the client ended the message with a lone `.` (packet {}); the server answered \
                 \"{}\" (packet {})",
                end.packet,
                quote(r.text().as_bytes()),
                r.at.packet
            ),
            format!(
                "the server did not accept the message: it answered \"{}\" (packet {})",
                quote(r.text().as_bytes()),
                r.at.packet
            ),
            vec![end.packet, r.at.packet],
        ),
        None => WireGraded::fail(
            format!(
                "the client ended the message with a lone `.` (packet {}); no answer came",
                end.packet
            ),
            format!(
                "the server never answered the final `.` (packet {}) with 250",
                end.packet
            ),
            vec![end.packet],
        ),
    }
}

fn message(d: &Dialogue, want: &str) -> WireGraded {
    let Some((_, m)) = first_message(d) else {
        return no_message(d);
    };
    let packets: Vec<u64> = {
        let mut p: Vec<u64> = [m.first, m.last]
            .into_iter()
            .flatten()
            .map(|a| a.packet)
            .collect();
        p.dedup();
        p
    };
    let text = quote(&m.data);
    let found = m
        .data
        .windows(want.len().max(1))
        .any(|w| w == want.as_bytes());
    if found && !want.is_empty() {
        WireGraded::pass(
            format!(
                "the message \"{text}\" crossed the wire in {}",
                packets_phrase(&packets)
            ),
            packets,
        )
    } else {
        let actual = if m.data.is_empty() {
            "the client sent an empty message".to_string()
        } else {
            format!(
                "the message \"{text}\" crossed the wire in {}",
                packets_phrase(&packets)
            )
        };
        WireGraded::fail(
            actual.clone(),
            format!("the message does not contain {want:?}; {actual}"),
            packets,
        )
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::time::Duration;

    use super::*;
    use crate::analysis::{analyze, AnalyzerOptions};
    use crate::check::wire::testing::{expect, SERVER};
    use crate::plan::WireKind;
    use crate::testkit::{self, Capture, Link};

    const CLIENT: u16 = 45_000;
    const ACK: u16 = 0x10;
    const PSH: u16 = 0x08;

    /// A capture of one connection: handshake (packets 1-3), then each segment in order, one
    /// packet each (packet 4 onwards), `true` for the client's.
    fn session(segments: &[(bool, &str)]) -> Analysis {
        let c = SocketAddr::from(([127, 0, 0, 1], CLIENT));
        let s = SocketAddr::from(([127, 0, 0, 1], SERVER));
        let (mut cs, mut ss) = (101u32, 501u32);
        let mut frames = vec![
            testkit::tcp(c, s, 100, 0, 0x02, b""),
            testkit::tcp(s, c, 500, 101, 0x12, b""),
            testkit::tcp(c, s, 101, 501, ACK, b""),
        ];
        for (from_client, text) in segments {
            let data = text.as_bytes();
            if *from_client {
                frames.push(testkit::tcp(c, s, cs, ss, PSH | ACK, data));
                cs += data.len() as u32;
            } else {
                frames.push(testkit::tcp(s, c, ss, cs, PSH | ACK, data));
                ss += data.len() as u32;
            }
        }
        let mut cap = Capture::new(Link::Ethernet).step(Duration::from_millis(1));
        for f in &frames {
            cap.push(f);
        }
        analyze(&cap.pcap()[..], "t.pcap", AnalyzerOptions::default()).expect("valid pcap")
    }

    fn check(a: &Analysis, aspect: SmtpAspect, contains: Option<&str>) -> WireGraded {
        let x = SmtpExpect {
            aspect,
            message_contains: contains.map(str::to_string),
            mail_from: None,
            rcpt_to: None,
        };
        grade(&expect(WireKind::SmtpDialogue(x.clone())), a, &x)
    }

    const S: bool = false;
    const C: bool = true;

    /// The handout's client, each line in its own segment (packets 4-18), with `eol` ending
    /// every line; `dot` sends the final line.
    fn handout(eol: &str, dot: bool) -> Vec<(bool, String)> {
        let mut v = vec![
            (S, "220 mx ESMTP\r\n".to_string()),
            (C, format!("HELO Alice{eol}")),
            (S, "250 mx\r\n".into()),
            (C, format!("MAIL FROM:<alice@crepes.fr>{eol}")),
            (S, "250 ok\r\n".into()),
            (C, format!("RCPT TO:<bob@hamburger.edu>{eol}")),
            (S, "250 ok\r\n".into()),
            (C, format!("DATA{eol}")),
            (S, "354 go ahead\r\n".into()),
            (C, format!("{eol} I love computer networks!")),
        ];
        if dot {
            v.extend([
                (C, format!("{eol}.{eol}")),
                (S, "250 queued\r\n".into()),
                (C, format!("QUIT{eol}")),
                (S, "221 bye\r\n".into()),
            ]);
        }
        v
    }

    fn run(v: &[(bool, String)]) -> Analysis {
        let segs: Vec<(bool, &str)> = v.iter().map(|(c, t)| (*c, t.as_str())).collect();
        session(&segs)
    }

    #[test]
    fn the_handouts_dialogue_passes_every_aspect_with_its_packets() {
        let a = run(&handout("\r\n", true));
        for aspect in [
            SmtpAspect::Order,
            SmtpAspect::GreetingFirst,
            SmtpAspect::Crlf,
            SmtpAspect::FinalDot,
        ] {
            let g = check(&a, aspect, None);
            assert!(g.passed, "{aspect:?}: {:?}", g.reason);
        }
        let g = check(&a, SmtpAspect::Message, Some("I love computer networks!"));
        assert!(g.passed, "{:?}", g.reason);
        let g = check(&a, SmtpAspect::Order, None);
        assert_eq!(
            g.actual,
            "\"HELO Alice\" (packet 5) → 250, \"MAIL FROM:<alice@crepes.fr>\" (packet 7) → 250, \
             \"RCPT TO:<bob@hamburger.edu>\" (packet 9) → 250, \"DATA\" (packet 11) → 354, the \
             message and its `.` (packet 14) → 250, \"QUIT\" (packet 16) → 221"
        );
        let g = check(&a, SmtpAspect::GreetingFirst, None);
        assert_eq!(g.packets, vec![4, 5]);
        let g = check(&a, SmtpAspect::FinalDot, None);
        assert_eq!(g.packets, vec![14, 15]);
    }

    #[test]
    fn a_bare_lf_is_reported_with_the_servers_refusal() {
        let a = session(&[
            (S, "220 mx\r\n"),
            (C, "HELO Alice\n"),
            (S, "521 5.5.2 bare LF received\r\n"),
        ]);
        let g = check(&a, SmtpAspect::Crlf, None);
        assert!(!g.passed);
        assert_eq!(
            g.reason.as_deref(),
            Some(
                "the client ended a line with a bare LF (packet 5); the server refused it with \
                 521 (packet 6), as real servers do since SMTP smuggling; SMTP lines end in CRLF \
                 (\\r\\n)"
            )
        );
        assert_eq!(
            g.actual,
            "the client ended \"HELO Alice\" with a bare LF (packet 5)"
        );
        assert_eq!(g.packets, vec![5, 6]);
        // The refusal ends the dialogue: the order is judged as far as it went.
        assert!(check(&a, SmtpAspect::Order, None).passed);
        // A lenient server takes the whole bare-LF dialogue: only CRLF fails.
        let a = run(&handout("\n", true));
        assert!(!check(&a, SmtpAspect::Crlf, None).passed);
        for aspect in [
            SmtpAspect::Order,
            SmtpAspect::GreetingFirst,
            SmtpAspect::FinalDot,
        ] {
            assert!(check(&a, aspect, None).passed, "{aspect:?}");
        }
        let g = check(&a, SmtpAspect::Message, Some("I love computer networks!"));
        assert!(g.passed, "{:?}", g.reason);
    }

    #[test]
    fn a_missing_final_dot_fails_that_aspect_alone_and_names_the_dot() {
        let a = run(&handout("\r\n", false));
        let g = check(&a, SmtpAspect::FinalDot, None);
        assert!(!g.passed);
        assert_eq!(
            g.reason.as_deref(),
            Some(
                "the client sent the message but never the final line `.`: the server waited \
                 for it until the scenario's budget ran out; a message ends with \"\\r\\n.\\r\\n\""
            )
        );
        assert_eq!(g.packets, vec![13]);
        // A client that gives up and closes first is told so instead.
        let mut a = run(&handout("\r\n", false));
        a.tcp_streams[0].to_server.fin_packet = Some(14);
        let g = check(&a, SmtpAspect::FinalDot, None);
        assert!(
            g.reason.as_deref().unwrap_or_default().contains(
                "never the final line `.`: it closed the connection (packet 14) without it"
            ),
            "{:?}",
            g.reason
        );
        a.tcp_streams[0].to_client.fin_packet = Some(13);
        let g = check(&a, SmtpAspect::FinalDot, None);
        assert!(
            g.reason
                .as_deref()
                .unwrap_or_default()
                .contains("budget ran out"),
            "the server stopped first: {:?}",
            g.reason
        );
        let a = run(&handout("\r\n", false));
        for aspect in [
            SmtpAspect::Order,
            SmtpAspect::GreetingFirst,
            SmtpAspect::Crlf,
        ] {
            let g = check(&a, aspect, None);
            assert!(g.passed, "{aspect:?}: {:?}", g.reason);
        }
        let g = check(&a, SmtpAspect::Message, Some("I love computer networks!"));
        assert!(g.passed, "the text crossed the wire: {:?}", g.reason);
    }

    #[test]
    fn a_client_that_speaks_before_the_greeting_fails_that_aspect_alone() {
        let mut v = handout("\r\n", true);
        v.swap(0, 1);
        let a = run(&v);
        let g = check(&a, SmtpAspect::GreetingFirst, None);
        assert!(!g.passed);
        assert!(
            g.reason
                .as_deref()
                .unwrap_or_default()
                .starts_with("the client spoke first: \"HELO Alice\" crossed the wire in packet 4, before the server's greeting (packet 5)"),
            "{:?}",
            g.reason
        );
        assert!(check(&a, SmtpAspect::Order, None).passed);
    }

    #[test]
    fn commands_out_of_order_or_refused_fail_the_order() {
        let a = session(&[
            (S, "220 mx\r\n"),
            (C, "HELO Alice\r\n"),
            (S, "250 mx\r\n"),
            (C, "RCPT TO:<b@y>\r\n"),
            (S, "503 send MAIL FROM first\r\n"),
        ]);
        let g = check(&a, SmtpAspect::Order, None);
        assert!(!g.passed);
        assert_eq!(
            g.reason.as_deref(),
            Some("the client sent \"RCPT TO:<b@y>\" (packet 7) where MAIL FROM was due")
        );
        // A client that stops half way does not pass on what it did.
        let a = session(&[(S, "220 mx\r\n"), (C, "HELO Alice\r\n"), (S, "250 mx\r\n")]);
        let g = check(&a, SmtpAspect::Order, None);
        assert_eq!(
            g.reason.as_deref(),
            Some("the client sent nothing more; MAIL FROM was due")
        );
        // Nothing said is nothing passed.
        let a = session(&[(S, "220 mx\r\n")]);
        for aspect in [
            SmtpAspect::Order,
            SmtpAspect::GreetingFirst,
            SmtpAspect::Crlf,
            SmtpAspect::FinalDot,
        ] {
            assert!(!check(&a, aspect, None).passed, "{aspect:?}");
        }
        assert!(!check(&a, SmtpAspect::Message, Some("x")).passed);
    }

    #[test]
    fn envelope_addresses_are_checked_when_given() {
        let a = run(&handout("\r\n", true));
        let x = SmtpExpect {
            aspect: SmtpAspect::Order,
            message_contains: None,
            mail_from: Some("alice@crepes.fr".into()),
            rcpt_to: Some("carol@example.net".into()),
        };
        let g = grade(&expect(WireKind::SmtpDialogue(x.clone())), &a, &x);
        assert_eq!(
            g.reason.as_deref(),
            Some(
                "the client sent \"RCPT TO:<bob@hamburger.edu>\" (packet 9) where \
                 RCPT TO:<carol@example.net> was due"
            )
        );
    }

    /// The scenario's fields resolve into the plan; fields an aspect does not read are refused.
    #[test]
    fn a_scenario_names_the_aspect_and_only_its_fields() {
        let scenario = |check: &str| {
            format!(
                r#"{{
                  "id": "t", "lab": "smtp", "title": "t", "question": "q", "explanation": "e",
                  "programs": [
                    {{ "name": "server", "peer": "smtp-server" }},
                    {{ "name": "client", "role": "mail-client",
                       "args": ["{{server_addr}}", "{{port}}", "a@x", "b@y"] }}
                  ],
                  "steps": [
                    {{ "start": {{ "program": "server" }} }},
                    {{ "wait_ready": {{ "program": "server", "points": 0 }} }},
                    {{ "start": {{ "program": "client" }} }}
                  ],
                  "checks": [ {{ "smtp_dialogue": {check} }} ]
                }}"#
            )
        };
        let plan = crate::plan::resolve_text(
            scenario(
                r#"{ "from": "client", "to": "server", "aspect": "message",
                     "message_contains": "hi {port}" }"#,
            ),
            SERVER,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let e = plan.checks[0].wire().expect("a wire check");
        assert_eq!((e.port, e.client.as_str()), (SERVER, "client"));
        let WireKind::SmtpDialogue(x) = &e.kind else {
            panic!("{:?}", e.kind)
        };
        assert_eq!(x.message_contains, Some(format!("hi {SERVER}")));
        for (check, error) in [
            (
                r#"{ "from": "client", "to": "server", "aspect": "message" }"#,
                "`aspect: message` needs `message_contains`",
            ),
            (
                r#"{ "from": "client", "to": "server", "aspect": "crlf", "mail_from": "a@x" }"#,
                "`aspect: crlf` takes no `message_contains`, `mail_from` or `rcpt_to`",
            ),
            (
                r#"{ "from": "server", "to": "client", "aspect": "order" }"#,
                "`from` must be the mail client",
            ),
            (
                r#"{ "from": "client", "to": "server", "aspect": "dot" }"#,
                "unknown variant `dot`",
            ),
        ] {
            let err = crate::plan::resolve_text(scenario(check), SERVER).unwrap_err();
            assert!(err.contains(error), "{check}: {err}");
        }
    }

    /// Regression: the QUIT a no-dot client sends once the server is stopped (its FIN) was
    /// read as part of the message, which no server ever received.
    #[test]
    fn what_the_client_says_after_the_server_closed_is_left_out() {
        let mut v = handout("\r\n", false);
        v.push((C, "QUIT\r\n".into()));
        let mut a = run(&v);
        // The server's FIN as if it came between the message (13) and the QUIT (14).
        a.tcp_streams[0].to_client.fin_packet = Some(13);
        let g = check(&a, SmtpAspect::Message, Some("I love computer networks!"));
        assert_eq!(
            g.actual,
            "the message \"\\r\\n I love computer networks!\" crossed the wire in packet 13"
        );
        let g = check(&a, SmtpAspect::FinalDot, None);
        assert!(g.reason.unwrap().contains("budget ran out"));
    }

    /// A dialogue the capture holds only part of decides nothing it could be missing.
    #[test]
    fn a_cut_capture_grades_only_what_its_bytes_prove() {
        let mut a = run(&handout("\r\n", false));
        a.tcp_streams[0].to_server.payload_has_gaps = true;
        let g = check(&a, SmtpAspect::FinalDot, None);
        assert!(
            g.unjudged.is_some(),
            "the dot could be in the bytes not captured"
        );
        let g = check(&a, SmtpAspect::Crlf, None);
        assert!(
            g.unjudged.is_some(),
            "a bare LF could be in the bytes not captured"
        );
        let g = check(&a, SmtpAspect::Message, Some("I love computer networks!"));
        assert!(g.passed && g.unjudged.is_none(), "the text was captured");
    }

    #[test]
    fn no_connection_means_no_dialogue() {
        let g = check(&Analysis::default(), SmtpAspect::Order, None);
        assert!(!g.passed);
        assert!(g
            .reason
            .unwrap()
            .starts_with("no TCP connection from client to server"),);
    }
}
