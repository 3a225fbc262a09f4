//! What Wireshark's packet list says about SMTP packets (pure): Protocol `SMTP` with Info
//! `S: 220 ...`, `C: EHLO ...`, `C: DATA fragment, N bytes`, and `SMTP/IMF` with the Internet
//! Message Format's summary on the packet that ends the message (`.`). One tracker per TCP
//! stream is fed both directions' in-order segments: the dialogue's state (commands, then the
//! message after `DATA` and `354`) spans both.
//!
//! tshark dissects SMTP on port 25 only; the labs' servers listen on ports chosen per run, so
//! the caller says which ports carry SMTP ([`super::DecodeAs`]), as `tshark -d
//! tcp.port==N,smtp` does. A segment sent to such a port is the client's (`C:`), one sent from
//! it the server's (`S:`).
//!
//! The rules are tshark 4.0.17's, measured with `-d tcp.port==N,smtp` on captures of socklab's
//! `mail-client`, Python's smtplib and hand-written clients against the `smtp-server` peer
//! (`tests/tshark.rs` compares them field by field):
//! - a segment's complete lines (ending in LF, a CR before it dropped) are shown after `C: ` or
//!   `S: `, joined by ` | ` (pipelined commands, multi-line replies); a reply's lines after the
//!   first lose their code (`S: 250-socklab.test | 8BITMIME`);
//! - a segment without a line end waits for the next one (Protocol TCP, its TCP summary and
//!   ` [TCP segment of a reassembled PDU]`); the line is shown on the packet that completes it;
//! - after the client's `DATA` (whatever the server answers: after a `503` tshark reads on as
//!   the message), each client segment is `C: DATA fragment, N bytes` (a
//!   segment without a line end waits, as above) until the end of the message: a segment that
//!   starts with `.` CRLF after a segment that ended in CRLF, or that starts with CRLF `.` CRLF,
//!   or that holds CRLF `.` CRLF. That packet is `SMTP/IMF`, and its Info is IMF's: `from: V,
//!   subject: V, ` for those headers (lower-case names, leading blanks of the value dropped),
//!   then each line of the body after the blank line, joined by `, `, its CR and LF shown as
//!   spaces (a tab too). A message that starts with no header (the textbook's `\r\n I love
//!   computer networks!`) is all body. The CRLF before the final `.` belongs to the message,
//!   except in a segment that starts with CRLF `.` CRLF, where tshark drops it.
//!
//! Not measured, so not claimed: commands or data after the final `.` in the same segment,
//! folded header lines, non-ASCII text, STARTTLS and BDAT. Memory is bounded per stream: a
//! line still waiting for its end, and the message kept for IMF's summary, stop at 64 KiB
//! (tshark would show such a line or message whole).

/// What one packet is, as the packet list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Shown {
    /// Not SMTP's to say: TCP's Protocol and Info.
    Tcp,
    /// A part of a line, waiting for its end: TCP's Info + ` [TCP segment of a reassembled
    /// PDU]`.
    Pending,
    /// Protocol `SMTP`, this Info.
    Smtp(String),
    /// Protocol `SMTP/IMF`, this Info: the packet that ends the message.
    Imf(String),
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Mode {
    #[default]
    Commands,
    /// The message, up to the final `.`: from the client's `DATA` on, whatever the server
    /// answers (tshark reads on as the message after a `503` too).
    Data,
}

/// Most bytes kept for IMF's summary, and of a line waiting for its end; past it, the rest is
/// not shown.
const MAX_MESSAGE: usize = 64 * 1024;

/// The tracker of one TCP stream.
#[derive(Debug, Default)]
pub(crate) struct Tracker {
    mode: Mode,
    /// Bytes of each side waiting for a line end: the client's and the server's.
    pending: [Vec<u8>; 2],
    /// The message so far.
    message: Vec<u8>,
    /// The last data segment ended with CRLF (so `.` CRLF at the start of the next ends it).
    crlf_seen: bool,
}

impl Tracker {
    /// One in-order segment, sent by the client (to the SMTP port) or by the server.
    pub(crate) fn segment(&mut self, from_client: bool, payload: &[u8]) -> Shown {
        if payload.is_empty() {
            return Shown::Tcp;
        }
        let side = usize::from(!from_client);
        let mut buf = std::mem::take(&mut self.pending[side]);
        buf.extend_from_slice(payload);
        if from_client && self.mode == Mode::Data {
            return self.data(buf);
        }
        let Some(last) = buf.iter().rposition(|&b| b == b'\n') else {
            // Bounded: a peer that never ends its line does not grow the analysis.
            buf.truncate(MAX_MESSAGE);
            self.pending[side] = buf;
            return Shown::Pending;
        };
        self.pending[side] = buf[last + 1..].to_vec();
        let lines: Vec<&[u8]> = buf[..last]
            .split(|&b| b == b'\n')
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
            .collect();
        if from_client {
            if lines
                .iter()
                .any(|l| l.trim_ascii().eq_ignore_ascii_case(b"DATA"))
            {
                self.mode = Mode::Data;
                self.crlf_seen = true;
                self.message.clear();
            }
            let text: Vec<String> = lines.iter().map(|l| format_text(l)).collect();
            Shown::Smtp(format!("C: {}", text.join(" | ")))
        } else {
            let text: Vec<String> = lines
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    let l = if i == 0 {
                        l
                    } else {
                        l.get(4..).unwrap_or_default()
                    };
                    format_text(l)
                })
                .collect();
            Shown::Smtp(format!("S: {}", text.join(" | ")))
        }
    }

    /// A client segment of the message.
    fn data(&mut self, buf: Vec<u8>) -> Shown {
        // At the start of a segment, tshark's CRLF `.` CRLF drops the CRLF from the message.
        let at_start =
            (self.crlf_seen && buf.starts_with(b".\r\n")) || buf.starts_with(b"\r\n.\r\n");
        let end = if at_start {
            Some(0)
        } else {
            find(&buf, b"\r\n.\r\n").map(|i| i + 2)
        };
        if let Some(end) = end {
            self.keep(&buf[..end]);
            self.mode = Mode::Commands;
            self.crlf_seen = false;
            return Shown::Imf(imf_info(&std::mem::take(&mut self.message)));
        }
        if !buf.contains(&b'\n') {
            let mut buf = buf;
            buf.truncate(MAX_MESSAGE);
            self.pending[0] = buf;
            return Shown::Pending;
        }
        self.crlf_seen = buf.ends_with(b"\r\n");
        self.keep(&buf);
        let n = buf.len();
        Shown::Smtp(format!(
            "C: DATA fragment, {n} byte{}",
            if n == 1 { "" } else { "s" }
        ))
    }

    fn keep(&mut self, bytes: &[u8]) {
        let room = MAX_MESSAGE.saturating_sub(self.message.len());
        self.message
            .extend_from_slice(&bytes[..bytes.len().min(room)]);
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// IMF's Info for a message: `from` and `subject` headers, then the body's lines.
fn imf_info(message: &[u8]) -> String {
    let mut info = String::new();
    let mut at = 0;
    // Headers, unless the message starts with no header line at all.
    let has_headers = !message.starts_with(b"\r\n")
        && message
            .iter()
            .position(|&b| b == b'\n')
            .is_some_and(|nl| message[..nl].contains(&b':'));
    if has_headers {
        while at < message.len() {
            if message[at..].starts_with(b"\r\n") {
                at += 2;
                break;
            }
            let Some(nl) = message[at..].iter().position(|&b| b == b'\n') else {
                at = message.len();
                break;
            };
            let line = &message[at..at + nl];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if let Some(colon) = line.iter().position(|&b| b == b':') {
                let name = String::from_utf8_lossy(&line[..colon]).to_ascii_lowercase();
                if name == "from" || name == "subject" {
                    let value = line[colon + 1..].trim_ascii_start();
                    info.push_str(&format!("{name}: {}, ", format_text(value)));
                }
            }
            at += nl + 1;
        }
    }
    let mut rest = &message[at.min(message.len())..];
    while !rest.is_empty() {
        let end = rest
            .iter()
            .position(|&b| b == b'\n')
            .map_or(rest.len(), |i| i + 1);
        if !info.is_empty() {
            info.push_str(", ");
        }
        info.push_str(&format_text_wsp(&rest[..end]));
        rest = &rest[end..];
    }
    info
}

/// Text as Wireshark's `format_text` shows it: C escapes for control characters.
fn format_text(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x0b' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\x7f' => out.push_str(&format!("\\{:03o}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// `format_text_wsp`: white space (CR, LF, tab) shown as a space.
fn format_text_wsp(bytes: &[u8]) -> String {
    let spaced: Vec<u8> = bytes
        .iter()
        .map(|&b| {
            if matches!(b, b'\r' | b'\n' | b'\t') {
                b' '
            } else {
                b
            }
        })
        .collect();
    format_text(&spaced)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn smtp(s: &str) -> Shown {
        Shown::Smtp(s.into())
    }

    /// The dialogue of socklab's mail-client with the smtp-server peer (measured capture).
    #[test]
    fn a_whole_dialogue_reads_as_tshark_shows_it() {
        let mut t = Tracker::default();
        let s = |t: &mut Tracker, b: &[u8]| t.segment(false, b);
        let c = |t: &mut Tracker, b: &[u8]| t.segment(true, b);
        assert_eq!(
            s(
                &mut t,
                b"220 socklab.test ESMTP socklab strict SMTP peer\r\n"
            ),
            smtp("S: 220 socklab.test ESMTP socklab strict SMTP peer")
        );
        assert_eq!(c(&mut t, b"EHLO x\r\n"), smtp("C: EHLO x"));
        assert_eq!(
            s(&mut t, b"250-socklab.test\r\n250 8BITMIME\r\n"),
            smtp("S: 250-socklab.test | 8BITMIME")
        );
        assert_eq!(
            c(
                &mut t,
                b"MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\n"
            ),
            smtp("C: MAIL FROM:<a@example.org> | RCPT TO:<b@example.org>")
        );
        assert_eq!(c(&mut t, b"DATA\r\n"), smtp("C: DATA"));
        assert_eq!(
            s(&mut t, b"354 End data with <CR><LF>.<CR><LF>\r\n"),
            smtp("S: 354 End data with <CR><LF>.<CR><LF>")
        );
        let msg = b"From: <alice@example.org>\r\nTo: <bob@example.org>\r\nSubject: socklab mail-client\r\n\r\nSubject: hi\r\n\r\nI love computer networks!\r\n..leading dot\r\n";
        assert_eq!(
            c(&mut t, msg),
            smtp(&format!("C: DATA fragment, {} bytes", msg.len()))
        );
        assert_eq!(
            c(&mut t, b".\r\n"),
            Shown::Imf(
                "from: <alice@example.org>, subject: socklab mail-client, , Subject: hi  ,   , \
                 I love computer networks!  , ..leading dot  "
                    .into()
            )
        );
        assert_eq!(
            s(&mut t, b"250 2.0.0 Ok: queued as 1\r\n"),
            smtp("S: 250 2.0.0 Ok: queued as 1")
        );
        assert_eq!(c(&mut t, b"QUIT\r\n"), smtp("C: QUIT"));
    }

    #[test]
    fn split_lines_wait_for_their_end() {
        let mut t = Tracker::default();
        assert_eq!(t.segment(true, b"HE"), Shown::Pending);
        assert_eq!(t.segment(true, b"LO Alice\r\n"), smtp("C: HELO Alice"));
        // A bare LF ends a line too.
        assert_eq!(t.segment(true, b"HELO x\n"), smtp("C: HELO x"));
    }

    #[test]
    fn the_textbook_message_and_its_end_in_one_segment() {
        let mut t = Tracker::default();
        t.segment(true, b"DATA\r\n");
        t.segment(false, b"354 go ahead\r\n");
        assert_eq!(
            t.segment(true, b"\r\n I love computer networks!"),
            smtp("C: DATA fragment, 28 bytes")
        );
        assert_eq!(
            t.segment(true, b"\r\n.\r\n"),
            Shown::Imf("  ,  I love computer networks!".into())
        );
        // Headers, a body and the end in one segment, after a first byte that waited.
        t.segment(true, b"DATA\r\n");
        t.segment(false, b"354 go ahead\r\n");
        assert_eq!(t.segment(true, b"F"), Shown::Pending);
        assert_eq!(
            t.segment(
                true,
                b"rom: Alice <a@example.org>\r\nTo: b@example.org\r\nDate: today\r\nSubject:   Hello there\r\nX-Mailer: me\r\n\r\nline one\r\n\ttabbed\r\n.\r\n"
            ),
            Shown::Imf("from: Alice <a@example.org>, subject: Hello there, , line one  ,  tabbed  ".into())
        );
        assert_eq!(t.segment(true, b"NOOP\r\n"), smtp("C: NOOP"));
    }

    #[test]
    fn a_line_that_never_ends_is_held_bounded() {
        let mut t = Tracker::default();
        for _ in 0..40 {
            assert_eq!(t.segment(true, &[b'x'; 4096]), Shown::Pending);
        }
        assert_eq!(t.pending[0].len(), MAX_MESSAGE);
        // In the message too.
        let mut t = Tracker::default();
        t.segment(true, b"DATA\r\n");
        for _ in 0..40 {
            assert_eq!(t.segment(true, &[b'y'; 4096]), Shown::Pending);
        }
        assert_eq!(t.pending[0].len(), MAX_MESSAGE);
    }

    #[test]
    fn after_data_refused_tshark_still_reads_the_message() {
        let mut t = Tracker::default();
        t.segment(true, b"DATA\r\n");
        assert_eq!(
            t.segment(false, b"503 5.5.1 need RCPT\r\n"),
            smtp("S: 503 5.5.1 need RCPT")
        );
        assert_eq!(
            t.segment(true, b"QUIT\r\n"),
            smtp("C: DATA fragment, 6 bytes")
        );
        let mut t = Tracker::default();
        assert_eq!(t.segment(true, b"x\x01\ty\r\n"), smtp("C: x\\001\\ty"));
    }
}
