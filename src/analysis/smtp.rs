//! An SMTP dialogue from the two directions of a reassembled TCP stream (pure).
//!
//! The smtp lab is graded on the dialogue as it crossed the wire: the commands in order, each
//! reply's code, the message between `354` and the lone `.`, and how lines ended. [`dialogue`]
//! splits each direction into lines and follows the client's state (commands, then message
//! data after a `DATA` the server answered with 354) the way a server reads it. A line that ends
//! in a bare LF is kept and flagged: real servers refuse it, and the lab asks for CRLF. The
//! order across the two directions comes from the caller (packet numbers), so each line keeps
//! its offset in its direction.

use serde::Serialize;

/// One line of the dialogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Line {
    pub from_client: bool,
    /// Offset of the line's first byte in its direction's payload.
    pub start: usize,
    /// Offset just past its line ending.
    pub end: usize,
    /// The line without its ending.
    pub text: String,
    pub kind: Kind,
    /// It ended in LF alone.
    pub bare_lf: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Kind {
    /// A client command (`HELO x`, `MAIL FROM:<a>`, ...).
    Command,
    /// A line of the message after DATA (dot-stuffing kept as sent).
    Data,
    /// The lone `.` that ends the message.
    EndOfData,
    /// A server reply line; `last` is false for `250-...` continuation lines.
    Reply { code: u16, last: bool },
    /// A server line that is no reply (no three-digit code).
    Unparsed,
}

/// Both directions' lines, each direction in order: the client's, then the server's.
/// Bytes after a direction's last line ending are left out: a line is only a line once ended.
pub(crate) fn dialogue(client: &[u8], server: &[u8]) -> (Vec<Line>, Vec<Line>) {
    let replies: Vec<Line> = lines(server)
        .map(|(start, end, text, bare_lf)| {
            let code = text.get(..3).and_then(|c| c.parse::<u16>().ok());
            let kind = match (code, text.as_bytes().get(3)) {
                (Some(code), None | Some(b' ')) => Kind::Reply { code, last: true },
                (Some(code), Some(b'-')) => Kind::Reply { code, last: false },
                _ => Kind::Unparsed,
            };
            Line {
                from_client: false,
                start,
                end,
                text,
                kind,
                bare_lf,
            }
        })
        .collect();
    // Whether the server accepted a DATA: the client's n-th command is answered by the
    // server's n-th final reply (after the greeting, which answers nothing).
    let finals: Vec<u16> = replies
        .iter()
        .filter_map(|l| match l.kind {
            Kind::Reply { code, last: true } => Some(code),
            _ => None,
        })
        .collect();
    let mut commands = Vec::new();
    let mut in_data = false;
    let mut answered = 1; // the greeting
    for (start, end, text, bare_lf) in lines(client) {
        let kind = if in_data {
            if text == "." {
                in_data = false;
                answered += 1;
                Kind::EndOfData
            } else {
                Kind::Data
            }
        } else {
            let reply = finals.get(answered).copied();
            answered += 1;
            if text.eq_ignore_ascii_case("DATA") && reply == Some(354) {
                in_data = true;
            }
            Kind::Command
        };
        commands.push(Line {
            from_client: true,
            start,
            end,
            text,
            kind,
            bare_lf,
        });
    }
    (commands, replies)
}

/// The lines of one direction: (start, end, text without ending, ended in a bare LF).
fn lines(bytes: &[u8]) -> impl Iterator<Item = (usize, usize, String, bool)> + '_ {
    let mut at = 0;
    std::iter::from_fn(move || {
        let nl = bytes[at..].iter().position(|&b| b == b'\n')?;
        let start = at;
        let end = at + nl + 1;
        at = end;
        let mut body = &bytes[start..end - 1];
        let bare_lf = body.last() != Some(&b'\r');
        if !bare_lf {
            body = &body[..body.len() - 1];
        }
        Some((
            start,
            end,
            String::from_utf8_lossy(body).into_owned(),
            bare_lf,
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVER: &[u8] = b"220 mx ESMTP\r\n250-mx\r\n250 8BITMIME\r\n250 ok\r\n250 ok\r\n354 go\r\n250 queued\r\n221 bye\r\n";

    #[test]
    fn commands_data_and_replies_are_told_apart() {
        let client = b"EHLO me\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\nSubject: hi\r\n\r\n..dot\r\n.\r\nQUIT\r\n";
        let (c, s) = dialogue(client, SERVER);
        let kinds: Vec<(&str, Kind)> = c.iter().map(|l| (l.text.as_str(), l.kind)).collect();
        assert_eq!(
            kinds,
            [
                ("EHLO me", Kind::Command),
                ("MAIL FROM:<a@x>", Kind::Command),
                ("RCPT TO:<b@y>", Kind::Command),
                ("DATA", Kind::Command),
                ("Subject: hi", Kind::Data),
                ("", Kind::Data),
                ("..dot", Kind::Data),
                (".", Kind::EndOfData),
                ("QUIT", Kind::Command),
            ]
        );
        assert!(c.iter().all(|l| !l.bare_lf));
        assert_eq!(
            s[1].kind,
            Kind::Reply {
                code: 250,
                last: false
            }
        );
        assert_eq!(
            s[2].kind,
            Kind::Reply {
                code: 250,
                last: true
            }
        );
        assert_eq!(s.len(), 8);
        assert_eq!((c[1].start, c[1].end), (9, 26));
    }

    #[test]
    fn a_refused_data_keeps_the_following_lines_commands() {
        let server = b"220 mx\r\n250 ok\r\n250 ok\r\n554 no valid recipients\r\n";
        let (c, _) = dialogue(b"HELO me\r\nMAIL FROM:<a@x>\r\nDATA\r\nhello\r\n", server);
        assert_eq!(
            c[3].kind,
            Kind::Command,
            "after a refused DATA the server reads commands"
        );
    }

    #[test]
    fn bare_lf_is_flagged_and_an_unended_line_is_no_line() {
        let (c, _) = dialogue(b"HELO me\nMAIL FROM:<a@x>\r\nQUI", b"220 mx\r\n");
        assert_eq!(c.len(), 2);
        assert!(c[0].bare_lf && !c[1].bare_lf);
        assert_eq!(c[0].text, "HELO me");
        let (_, s) = dialogue(b"", b"220 mx\r\nnot a reply\r\n");
        assert_eq!(s[1].kind, Kind::Unparsed);
    }
}
