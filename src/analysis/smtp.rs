//! An SMTP dialogue read from one reassembled TCP stream (pure).
//!
//! The smtp lab is graded on the dialogue as it crossed the wire: the server's replies (code,
//! text, multi-line `250-...` replies joined), the client's commands, the message between `354`
//! and the lone `.`, how each client line ended, and when each was sent. [`Dialogue::read`]
//! splits each direction of a [`TcpStream`] into lines and follows the client the way a server
//! reads it: commands, then message lines after a `DATA` the server answered with `354`, up to
//! the line holding a lone `.`. Reply *k* answers command *k − 1* (reply 0 is the greeting), so
//! a client that does not wait for replies is followed as well as one that does.
//!
//! Every line carries the packet that completed it (the one holding its line end, where
//! Wireshark shows an SMTP message) and that packet's time. Packets are found from the
//! stream's per-packet list ([`TcpStream::packets`]): the first transmission of each segment,
//! in capture order, covers the next bytes of its direction (retransmissions are skipped), which
//! is exact for the in-order loopback captures of a run. A direction whose capture lacks bytes
//! (`payload_has_gaps`) is parsed as far as it was kept, and [`Dialogue::complete`] says so.
//! What the client sent after the server closed its side (FIN or RST) is left out: no server
//! read it.
//!
//! Hand-written rather than taken from a crate: the SMTP crates (`mailin`, `samotop`,
//! `lettre`) are servers and clients that consume a live session and refuse what the lab wants
//! reported (a bare LF, a missing dot), while this reads both sides of a finished capture and
//! keeps every fault as evidence.

use serde::Serialize;

use super::TcpStream;

/// Where a line crossed the wire: the packet holding its last byte, and that packet's time
/// (seconds since the capture's first frame).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub(crate) struct At {
    pub packet: u64,
    pub time: f64,
}

/// One server reply; a multi-line reply (`250-a`, `250 b`) is one reply.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Reply {
    /// The three-digit code of its last line; `None` when that line has none.
    pub code: Option<u16>,
    /// Its lines without their endings.
    pub lines: Vec<String>,
    /// Where its last line ended.
    pub at: At,
}

impl Reply {
    /// The reply as one line of text, for messages: `250-a / 250 b`.
    pub(crate) fn text(&self) -> String {
        self.lines.join(" / ")
    }
}

/// One client command line (outside a message).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Command {
    /// The line without its ending.
    pub text: String,
    /// The first word, in capitals (`HELO`, `MAIL`, `RCPT`, `DATA`, `QUIT`, ...).
    pub verb: String,
    /// It ended in LF alone.
    pub bare_lf: bool,
    pub at: At,
}

/// The message a client sent after a `DATA` answered by 354.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Message {
    /// Its lines with their endings as sent, dot-stuffing undone, without the final `.` line.
    #[serde(serialize_with = "super::escape::serialize_bytes")]
    pub data: Vec<u8>,
    /// Where its first line ended (`None` for an empty message).
    pub first: Option<At>,
    /// Where its last line ended, the final `.` left out.
    pub last: Option<At>,
    /// The line holding the lone `.`, if it came.
    pub end: Option<At>,
    /// The first of its lines that ended in LF alone (the final `.` line included).
    pub bare_lf: Option<At>,
}

/// One step of the dialogue in wire order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Step {
    Reply(usize),
    Command(usize),
    Message(usize),
}

/// Both sides of one SMTP session.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub(crate) struct Dialogue {
    pub replies: Vec<Reply>,
    pub commands: Vec<Command>,
    /// Messages; one never ended also holds the bytes after its last line end.
    pub messages: Vec<Message>,
    /// Commands, replies and messages in wire order (by the packet that completed each).
    pub steps: Vec<Step>,
    /// The packet that carried the client's first byte, if it sent any.
    pub client_first: Option<At>,
    /// Bytes the client sent after its last line ending (a line it never ended).
    pub client_unended: usize,
    /// Both directions were captured whole.
    pub complete: bool,
}

impl Dialogue {
    /// Reads the dialogue of `stream` (its kept payload each way and its packet list).
    pub(crate) fn read(stream: &TcpStream) -> Dialogue {
        let client_at = Positions::of(stream, true);
        let server_at = Positions::of(stream, false);
        // What the client sent after the server closed its side was read by no server (the
        // client of a server stopped at the end of a run often says QUIT into the void).
        let closed = [stream.to_client.fin_packet, stream.to_client.rst_packet]
            .into_iter()
            .flatten()
            .min();
        let client = &stream.to_server.payload;
        let heard = closed.map_or(client.len(), |c| client_at.before(c).min(client.len()));
        let mut d = Dialogue::parse(
            &client[..heard],
            &stream.to_client.payload,
            &|o| client_at.at(o),
            &|o| server_at.at(o),
        );
        d.complete = !stream.to_server.payload_has_gaps
            && !stream.to_client.payload_has_gaps
            && !stream.to_server.payload_truncated
            && !stream.to_client.payload_truncated;
        d
    }

    /// The dialogue of `client` (bytes to the server) and `server` (bytes to the client);
    /// `client_at` and `server_at` give where the byte at an offset of each crossed the wire.
    pub(crate) fn parse(
        client: &[u8],
        server: &[u8],
        client_at: &dyn Fn(usize) -> At,
        server_at: &dyn Fn(usize) -> At,
    ) -> Dialogue {
        let replies = replies(server, server_at);
        let mut d = Dialogue {
            client_first: (!client.is_empty()).then(|| client_at(0)),
            complete: true,
            ..Dialogue::default()
        };
        // Reply k answers the client's step k - 1 (a command, or a message with its dot).
        let answer = |k: usize| replies.get(k + 1).and_then(|r| r.code);
        let mut message: Option<Message> = None;
        let mut answered = 0;
        let mut ended_at = 0;
        for (start, end, body, bare_lf) in lines(client) {
            ended_at = end;
            let at = client_at(end - 1);
            if let Some(m) = message.as_mut() {
                if bare_lf {
                    m.bare_lf.get_or_insert(at);
                }
                if body == b"." {
                    m.end = Some(at);
                    d.steps.push(Step::Message(d.messages.len()));
                    d.messages.extend(message.take());
                    answered += 1;
                    continue;
                }
                m.first.get_or_insert(at);
                m.last = Some(at);
                let line = &client[start..end];
                m.data
                    .extend_from_slice(line.strip_prefix(b".").unwrap_or(line));
                continue;
            }
            let text = String::from_utf8_lossy(body).into_owned();
            let verb = text
                .split([' ', ':'])
                .next()
                .unwrap_or_default()
                .to_ascii_uppercase();
            // A DATA the server refused leaves the client in commands; one never answered is
            // taken as the client meant it (it sends the message next).
            if verb == "DATA" && answer(answered).is_none_or(|c| c == 354) {
                message = Some(Message {
                    data: Vec::new(),
                    first: None,
                    last: None,
                    end: None,
                    bare_lf: None,
                });
            }
            answered += 1;
            d.steps.push(Step::Command(d.commands.len()));
            d.commands.push(Command {
                text,
                verb,
                bare_lf,
                at,
            });
        }
        if let Some(mut m) = message {
            // A message never ended: what the client sent of it, its unended last line
            // included, stands last among the client's steps.
            if ended_at < client.len() {
                m.data.extend_from_slice(&client[ended_at..]);
                let at = client_at(client.len() - 1);
                m.first.get_or_insert(at);
                m.last = Some(at);
            }
            d.steps.push(Step::Message(d.messages.len()));
            d.messages.push(m);
        }
        d.client_unended = client.len() - ended_at;
        // Replies go among the client's steps by the packet that completed each.
        let mut merged = Vec::with_capacity(d.steps.len() + replies.len());
        let mut client_steps = d.steps.iter().copied().peekable();
        for (i, r) in replies.iter().enumerate() {
            while let Some(&s) = client_steps.peek() {
                match d.step_at(s) {
                    Some(at) if at.packet > r.at.packet => break,
                    _ => merged.push(s),
                }
                client_steps.next();
            }
            merged.push(Step::Reply(i));
        }
        merged.extend(client_steps);
        d.steps = merged;
        d.replies = replies;
        d
    }

    /// Where a client step crossed the wire (a message: its dot, else its last line).
    fn step_at(&self, s: Step) -> Option<At> {
        match s {
            Step::Command(i) => self.commands.get(i).map(|c| c.at),
            Step::Message(i) => self
                .messages
                .get(i)
                .and_then(|m| m.end.or(m.last).or(m.first)),
            Step::Reply(i) => self.replies.get(i).map(|r| r.at),
        }
    }

    /// The server's greeting: its first reply, when it came before the client said anything.
    pub(crate) fn greeting(&self) -> Option<&Reply> {
        self.replies.first()
    }

    /// The reply that answers client step `k` (0-based over commands and messages in order).
    pub(crate) fn answer_to(&self, k: usize) -> Option<&Reply> {
        self.replies.get(k + 1)
    }

    /// The client's steps (commands and messages) in the order it sent them.
    pub(crate) fn client_steps(&self) -> impl Iterator<Item = Step> + '_ {
        self.steps
            .iter()
            .copied()
            .filter(|s| !matches!(s, Step::Reply(_)))
    }

    /// The first client line that ended in LF alone: a command's or a message line's.
    pub(crate) fn first_bare_lf(&self) -> Option<At> {
        let commands = self.commands.iter().filter(|c| c.bare_lf).map(|c| c.at);
        let messages = self.messages.iter().filter_map(|m| m.bare_lf);
        commands.chain(messages).min_by_key(|at| at.packet)
    }
}

/// The server's replies: lines grouped until one whose fourth byte is not `-`.
fn replies(server: &[u8], at: &dyn Fn(usize) -> At) -> Vec<Reply> {
    let mut out = Vec::new();
    let mut lines_so_far = Vec::new();
    for (_, end, body, _) in lines(server) {
        let text = String::from_utf8_lossy(body).into_owned();
        let more = body.get(3) == Some(&b'-');
        lines_so_far.push(text);
        if !more {
            let last = lines_so_far
                .last()
                .map(String::as_bytes)
                .unwrap_or_default();
            let code = last
                .get(..3)
                .filter(|c| c.iter().all(u8::is_ascii_digit))
                .and_then(|c| std::str::from_utf8(c).ok())
                .and_then(|c| c.parse().ok());
            out.push(Reply {
                code,
                lines: std::mem::take(&mut lines_so_far),
                at: at(end - 1),
            });
        }
    }
    out
}

/// The lines of one direction: (start, end past the LF, body without its ending, ended in LF
/// alone). Bytes after the last LF are no line yet.
fn lines(bytes: &[u8]) -> impl Iterator<Item = (usize, usize, &[u8], bool)> + '_ {
    let mut at = 0;
    std::iter::from_fn(move || {
        let nl = bytes.get(at..)?.iter().position(|&b| b == b'\n')?;
        let (start, end) = (at, at + nl + 1);
        at = end;
        let with_cr = &bytes[start..end - 1];
        Some(match with_cr.strip_suffix(b"\r") {
            Some(body) => (start, end, body, false),
            None => (start, end, with_cr, true),
        })
    })
}

/// Where each byte of one direction crossed the wire: the first transmission of each
/// payload-carrying segment, in capture order, covers the next bytes.
struct Positions {
    /// (offset of the segment's first byte, where it crossed).
    starts: Vec<(usize, At)>,
}

impl Positions {
    fn of(stream: &TcpStream, to_server: bool) -> Positions {
        let dir = if to_server {
            &stream.to_server
        } else {
            &stream.to_client
        };
        let mut offset = 0usize;
        let mut starts = Vec::new();
        for p in &stream.packets {
            if p.forward != to_server
                || p.payload_len == 0
                || dir.retransmission_packets.contains(&p.number)
            {
                continue;
            }
            starts.push((
                offset,
                At {
                    packet: p.number,
                    time: p.time,
                },
            ));
            offset += p.payload_len as usize;
        }
        Positions { starts }
    }

    /// The bytes sent in packets before `packet`.
    fn before(&self, packet: u64) -> usize {
        self.starts
            .iter()
            .find(|(_, at)| at.packet > packet)
            .map_or(usize::MAX, |(o, _)| *o)
    }

    fn at(&self, offset: usize) -> At {
        let i = self.starts.partition_point(|(o, _)| *o <= offset);
        self.starts.get(i.saturating_sub(1)).map_or(
            At {
                packet: 0,
                time: 0.0,
            },
            |(_, at)| *at,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each line is its own packet: client lines are packets 100, 101, ...; server lines 200,
    /// 201, ... unless `order` interleaves them.
    fn parse_lines(client: &[&str], server: &[&str]) -> Dialogue {
        let c: String = client.concat();
        let s: String = server.concat();
        let at_line = |text: &str, base: u64| {
            let ends: Vec<usize> = text.match_indices('\n').map(|(i, _)| i).collect();
            move |o: usize| {
                let n = ends.partition_point(|&e| e < o) as u64;
                At {
                    packet: base + 2 * n,
                    time: (base + 2 * n) as f64 / 1000.0,
                }
            }
        };
        // Client line n in packet 11 + 2n, server line n in packet 10 + 2n: a lock-step
        // dialogue where the server speaks first.
        Dialogue::parse(
            c.as_bytes(),
            s.as_bytes(),
            &at_line(&c, 11),
            &at_line(&s, 10),
        )
    }

    const SERVER: &[&str] = &[
        "220 mx ESMTP\r\n",
        "250-mx\r\n",
        "250 8BITMIME\r\n",
        "250 ok\r\n",
        "250 ok\r\n",
        "354 go\r\n",
        "250 queued\r\n",
        "221 bye\r\n",
    ];

    #[test]
    fn commands_message_and_replies_in_wire_order() {
        let d = parse_lines(
            &[
                "EHLO me\r\n",
                "MAIL FROM:<a@x>\r\n",
                "RCPT TO:<b@y>\r\n",
                "DATA\r\n",
                "Subject: hi\r\n",
                "\r\n",
                "..dot\r\n",
                ".\r\n",
                "QUIT\r\n",
            ],
            SERVER,
        );
        let verbs: Vec<&str> = d.commands.iter().map(|c| c.verb.as_str()).collect();
        assert_eq!(verbs, ["EHLO", "MAIL", "RCPT", "DATA", "QUIT"]);
        assert_eq!(d.replies.len(), 7, "the EHLO reply is one reply");
        assert_eq!(d.replies[1].lines, ["250-mx", "250 8BITMIME"]);
        assert_eq!(d.replies[1].code, Some(250));
        assert_eq!(d.messages.len(), 1);
        let m = &d.messages[0];
        assert_eq!(
            m.data, b"Subject: hi\r\n\r\n.dot\r\n",
            "dot-stuffing undone"
        );
        assert_eq!(m.end.map(|a| a.packet), Some(11 + 2 * 7));
        assert!(m.bare_lf.is_none() && d.first_bare_lf().is_none());
        assert_eq!(d.greeting().and_then(|r| r.code), Some(220));
        // The 354 answers DATA (client step 3), the 250 answers the message (step 4).
        assert_eq!(d.answer_to(3).and_then(|r| r.code), Some(354));
        assert_eq!(d.answer_to(4).and_then(|r| r.code), Some(250));
        assert_eq!(d.steps[0], Step::Reply(0));
        assert_eq!(d.steps[1], Step::Command(0));
        assert_eq!(d.client_first.map(|a| a.packet), Some(11));
    }

    #[test]
    fn a_refused_data_keeps_the_following_lines_commands() {
        let d = parse_lines(
            &[
                "HELO me\r\n",
                "MAIL FROM:<a@x>\r\n",
                "DATA\r\n",
                "hello\r\n",
            ],
            &[
                "220 mx\r\n",
                "250 ok\r\n",
                "250 ok\r\n",
                "554 no valid recipients\r\n",
            ],
        );
        assert_eq!(
            d.commands.len(),
            4,
            "after a refused DATA the server reads commands"
        );
        assert!(d.messages.is_empty());
    }

    #[test]
    fn a_message_without_its_dot_is_kept_unended() {
        let d = parse_lines(
            &[
                "HELO me\r\n",
                "MAIL FROM:<a@x>\r\n",
                "RCPT TO:<b@y>\r\n",
                "DATA\r\n",
                "\r\n",
                " I love computer networks!",
            ],
            &[
                "220 mx\r\n",
                "250 ok\r\n",
                "250 ok\r\n",
                "250 ok\r\n",
                "354 go\r\n",
            ],
        );
        assert_eq!(d.messages.len(), 1);
        let m = &d.messages[0];
        assert_eq!(m.end, None);
        assert_eq!(m.data, b"\r\n I love computer networks!");
        assert_eq!(d.client_unended, " I love computer networks!".len());
        assert_eq!(d.steps.last(), Some(&Step::Message(0)));
    }

    #[test]
    fn bare_lf_is_flagged_where_it_was_sent() {
        let d = parse_lines(
            &["HELO me\n", "MAIL FROM:<a@x>\r\n"],
            &["220 mx\r\n", "521 bare LF\r\n"],
        );
        assert!(d.commands[0].bare_lf && !d.commands[1].bare_lf);
        assert_eq!(d.commands[0].text, "HELO me");
        assert_eq!(d.first_bare_lf().map(|a| a.packet), Some(11));
        assert_eq!(d.answer_to(0).and_then(|r| r.code), Some(521));
        // A bare LF inside the message is found too.
        let d = parse_lines(
            &["HELO me\r\n", "DATA\r\n", "line\n", ".\r\n"],
            &["220 mx\r\n", "250 ok\r\n", "354 go\r\n"],
        );
        assert_eq!(d.first_bare_lf().map(|a| a.packet), Some(15));
    }

    #[test]
    fn a_client_that_speaks_first_is_seen_before_the_greeting() {
        // The client's HELO in packet 4, the greeting in packet 6.
        let c = b"HELO me\r\n";
        let s = b"220 mx\r\n250 ok\r\n";
        let d = Dialogue::parse(
            c,
            s,
            &|_| At {
                packet: 4,
                time: 0.004,
            },
            &|o| At {
                packet: if o < 8 { 6 } else { 8 },
                time: 0.006,
            },
        );
        assert_eq!(d.steps[0], Step::Command(0));
        assert_eq!(d.steps[1], Step::Reply(0));
        assert!(d.client_first.unwrap().packet < d.greeting().unwrap().at.packet);
    }

    #[test]
    fn a_reply_without_a_code_is_kept_without_one() {
        let d = parse_lines(&[], &["hello there\r\n"]);
        assert_eq!(d.replies[0].code, None);
        assert_eq!(d.client_first, None);
    }
}
