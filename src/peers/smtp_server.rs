//! `socklab peer smtp-server HOST PORT [--record FILE] [--bare-lf refuse|accept]
//! [--greet now|on-input]`: the strict mail server the smtp lab's clients deliver to.
//!
//! Strict as real servers are: it greets first (`220`) and answers only complete CRLF lines;
//! a bare LF, which real servers refuse since the 2023 SMTP smuggling reports (Postfix's
//! `smtpd_forbid_bare_newline`, Exim, Sendmail), gets `521 5.5.2` and the connection is
//! closed. Commands must come in order (HELO/EHLO, MAIL FROM, RCPT TO, DATA; `503` otherwise);
//! the message ends at a lone `.` and is un-dot-stuffed; RSET, NOOP and QUIT work as RFC 5321
//! says. It prints the dialogue (`S: ` and `C: ` lines, the message as one `C: <message ...>`
//! line) and, with `--record`, appends one JSON line per session to FILE: the commands in order,
//! each delivered message (`from`, `to`, `data`), whether a bare LF was seen, and how the
//! session ended. Checks read that record; the dialogue is for people. With `--bare-lf accept`
//! a line ending in LF alone is taken as a line, as servers did before SMTP smuggling (the
//! record still says one came), so that a scenario can judge the rest of a bare-LF client's
//! dialogue apart from its line ends. With `--greet on-input` each connection's greeting waits
//! for a line on the peer's standard input, so that a scenario can let a client block first and
//! see, without racing it, whether it spoke before the greeting (Postfix's postscreen holds its
//! greeting back for the same test).

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};

use serde::Serialize;

use super::Record;
use crate::labs::upper::{fail, say, LabError};

const GREETING: &str = "220 socklab.test ESMTP socklab strict SMTP peer";
/// Longest command or text line accepted (RFC 5321 4.5.3.1.6 allows 1000 with CRLF).
const MAX_LINE: usize = 1000;

/// One session, as `--record` writes it.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub(crate) struct Session {
    pub client: String,
    /// The client's lines outside messages, in order, without CRLF.
    pub commands: Vec<String>,
    pub messages: Vec<Message>,
    /// The client sent a line ending in LF alone.
    pub bare_lf: bool,
    /// `quit`, `closed` (by the client, without QUIT), `bare-lf`, `line-too-long` or `error`.
    pub ended: String,
}

#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub(crate) struct Message {
    pub from: String,
    pub to: Vec<String>,
    /// The message as delivered: dot-stuffing undone, CRLF line endings.
    pub data: String,
}

pub(crate) fn smtp_server(args: &[String]) -> i32 {
    let run = || -> Result<(), LabError> {
        let (endpoint, options) = super::parse_options("smtp-server", args, &["bare-lf", "greet"])?;
        let record = options.record;
        let (mut accept_bare_lf, mut greet_on_input) = (false, false);
        for (key, value) in &options.pairs {
            match (key.as_str(), value.as_str()) {
                ("bare-lf", v @ ("refuse" | "accept")) => accept_bare_lf = v == "accept",
                ("greet", v @ ("now" | "on-input")) => greet_on_input = v == "on-input",
                (key, other) => {
                    let takes = if key == "greet" {
                        "now or on-input"
                    } else {
                        "refuse or accept"
                    };
                    return Err(LabError::Usage {
                        role: "smtp-server",
                        usage: super::usage_of("smtp-server"),
                        problem: format!("--{key} takes {takes}, got {other:?}"),
                    });
                }
            }
        }
        let listener = endpoint.bind_tcp()?;
        say(&mut io::stdout(), "The server is ready to receive");
        let record = Arc::new(Mutex::new(record));
        let input = Mutex::new(());
        crate::labs::upper::accept_threads(&listener, None, move |stream, peer| {
            let mut early = Vec::new();
            if greet_on_input {
                let _one_at_a_time = input.lock().unwrap_or_else(|p| p.into_inner());
                say(
                    &mut io::stdout(),
                    format!("-- {peer} connected; greeting held until a line of input"),
                );
                early = hold_greeting(&stream);
            }
            let session = serve_as(
                stream,
                early,
                &peer.to_string(),
                &mut io::stdout(),
                accept_bare_lf,
            );
            Record::append(&record, &session);
            // Said after the record is written, so a reader of both may rely on the order.
            say(
                &mut io::stdout(),
                format!(
                    "-- session from {peer} ended ({}), {} message(s) delivered",
                    session.ended,
                    session.messages.len()
                ),
            );
        })
    };
    run().map_or_else(|e| fail(&e), |()| 0)
}

/// Waits for a line on standard input before the greeting, reading (and returning) whatever
/// the client sends meanwhile without answering it: a client that speaks first is then seen
/// doing so on the wire, and both sides wait for input in the kernel's view (nothing unread),
/// so a scenario can judge the client blocked before it types the line that releases the
/// greeting. Standard input at its end releases it too.
fn hold_greeting(stream: &TcpStream) -> Vec<u8> {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    use std::os::fd::AsFd;
    let mut early = Vec::new();
    let mut client_open = true;
    let stdin = io::stdin();
    loop {
        let mut fds = vec![PollFd::new(stdin.as_fd(), PollFlags::POLLIN)];
        if client_open {
            fds.push(PollFd::new(stream.as_fd(), PollFlags::POLLIN));
        }
        if poll(&mut fds, PollTimeout::NONE).is_err() {
            return early;
        }
        let ready = |i: usize| {
            fds.get(i)
                .and_then(PollFd::revents)
                .is_some_and(|r| !r.is_empty())
        };
        let (line_ready, client_ready) = (ready(0), ready(1));
        drop(fds);
        if client_ready {
            let mut chunk = [0u8; 4096];
            match (&*stream).read(&mut chunk) {
                Ok(0) | Err(_) => client_open = false,
                Ok(n) if early.len() < 64 * 1024 => early.extend_from_slice(&chunk[..n]),
                Ok(_) => client_open = false,
            }
        }
        if line_ready {
            let _ = stdin.lock().read_line(&mut String::new());
            return early;
        }
    }
}

/// What a line read from the client was.
enum Line {
    Text(String),
    BareLf,
    TooLong,
    Closed,
}

/// Reads one line, its CRLF dropped. A line that ends in LF alone, or holds a CR elsewhere, is
/// [`Line::BareLf`]; when `accept`, a bare-LF line is a line instead (and `seen` is set).
fn read_line_as<R: BufRead>(reader: &mut R, accept: bool, seen: &mut bool) -> Line {
    let mut raw = Vec::new();
    match Read::take(&mut *reader, MAX_LINE as u64 + 1).read_until(b'\n', &mut raw) {
        Ok(0) | Err(_) => return Line::Closed,
        Ok(_) => {}
    }
    if raw.last() != Some(&b'\n') {
        return if raw.len() > MAX_LINE {
            Line::TooLong
        } else {
            Line::Closed
        };
    }
    raw.pop();
    let crlf = raw.last() == Some(&b'\r');
    if crlf {
        raw.pop();
    }
    if !accept && (!crlf || raw.contains(&b'\r')) {
        return Line::BareLf;
    }
    if !crlf {
        *seen = true;
    }
    Line::Text(String::from_utf8_lossy(&raw).into_owned())
}

/// Serves one session on `stream`, writing the dialogue to `log`; returns its record. A line
/// that ends in LF alone is taken as a line when `accept_bare_lf` (as servers did before SMTP
/// smuggling; the record still says a bare LF came). `early` is what the client sent before
/// the greeting, read first.
pub(crate) fn serve_as(
    stream: TcpStream,
    early: Vec<u8>,
    client: &str,
    log: &mut impl Write,
    accept_bare_lf: bool,
) -> Session {
    let mut session = Session {
        client: client.to_string(),
        ..Session::default()
    };
    let Ok(read_half) = stream.try_clone() else {
        session.ended = "error".into();
        return session;
    };
    let mut reader = BufReader::new(io::Cursor::new(early).chain(read_half));
    let mut out = stream;
    // Sends one reply (its lines joined by CRLF) and logs it; false when the client is gone.
    fn reply(out: &mut TcpStream, log: &mut impl Write, text: &str) -> bool {
        for line in text.split("\r\n") {
            say(log, format!("S: {line}"));
        }
        out.write_all(format!("{text}\r\n").as_bytes()).is_ok()
    }
    if !reply(&mut out, log, GREETING) {
        session.ended = "error".into();
        return session;
    }
    let mut helo = false;
    let mut from: Option<String> = None;
    let mut to: Vec<String> = Vec::new();
    session.ended = loop {
        let line = match read_line_as(&mut reader, accept_bare_lf, &mut session.bare_lf) {
            Line::Text(t) => t,
            Line::BareLf => {
                session.bare_lf = true;
                reply(
                    &mut out,
                    log,
                    "521 5.5.2 bare LF received; SMTP lines end in CRLF (RFC 5321 2.3.8)",
                );
                break "bare-lf";
            }
            Line::TooLong => {
                reply(&mut out, log, "500 5.5.6 line too long");
                break "line-too-long";
            }
            Line::Closed => break "closed",
        };
        say(log, format!("C: {line}"));
        session.commands.push(line.clone());
        let upper = line.to_ascii_uppercase();
        let verb = upper.split(' ').next().unwrap_or_default();
        let answer = match verb {
            "HELO" | "EHLO" if line.len() > 5 => {
                helo = true;
                (from, to) = (None, Vec::new());
                if verb == "EHLO" {
                    "250-socklab.test\r\n250 8BITMIME".to_string()
                } else {
                    "250 socklab.test".to_string()
                }
            }
            "HELO" | "EHLO" => "501 5.5.4 HELO and EHLO need a domain".into(),
            "MAIL" if !helo => "503 5.5.1 send HELO or EHLO first".into(),
            "MAIL" => match address(&line, "MAIL FROM:") {
                Some(a) => {
                    (from, to) = (Some(a), Vec::new());
                    "250 2.1.0 Ok".into()
                }
                None => "501 5.5.4 syntax: MAIL FROM:<address>".into(),
            },
            "RCPT" if from.is_none() => "503 5.5.1 send MAIL FROM first".into(),
            "RCPT" => match address(&line, "RCPT TO:") {
                Some(a) if !a.is_empty() => {
                    to.push(a);
                    "250 2.1.5 Ok".into()
                }
                _ => "501 5.5.4 syntax: RCPT TO:<address>".into(),
            },
            "DATA" if to.is_empty() => "503 5.5.1 send RCPT TO first".into(),
            "DATA" => {
                if !reply(&mut out, log, "354 End data with <CR><LF>.<CR><LF>") {
                    break "error";
                }
                match read_data(&mut reader, accept_bare_lf, &mut session.bare_lf) {
                    Ok(data) => {
                        let lines = data.matches("\r\n").count();
                        say(log, format!("C: <message, {lines} lines>"));
                        say(log, "C: .");
                        session.messages.push(Message {
                            from: from.take().unwrap_or_default(),
                            to: std::mem::take(&mut to),
                            data,
                        });
                        format!("250 2.0.0 Ok: queued as {}", session.messages.len())
                    }
                    Err(Line::BareLf) => {
                        session.bare_lf = true;
                        reply(
                            &mut out,
                            log,
                            "521 5.5.2 bare LF received; SMTP lines end in CRLF (RFC 5321 2.3.8)",
                        );
                        break "bare-lf";
                    }
                    Err(Line::TooLong) => {
                        reply(&mut out, log, "500 5.5.6 line too long");
                        break "line-too-long";
                    }
                    Err(_) => break "closed",
                }
            }
            "RSET" => {
                (from, to) = (None, Vec::new());
                "250 2.0.0 Ok".into()
            }
            "NOOP" => "250 2.0.0 Ok".into(),
            "QUIT" => {
                reply(&mut out, log, "221 2.0.0 Bye");
                break "quit";
            }
            _ => "500 5.5.2 command not recognized".into(),
        };
        if !reply(&mut out, log, &answer) {
            break "error";
        }
    }
    .to_string();
    session
}

/// The address in `MAIL FROM:<a>` / `RCPT TO:<a>` (case-insensitive verb, optional space after
/// the colon, parameters after the address ignored).
fn address(line: &str, prefix: &str) -> Option<String> {
    let head = line.get(..prefix.len())?;
    if !head.eq_ignore_ascii_case(prefix) {
        return None;
    }
    let rest = line[prefix.len()..].trim_start();
    let inner = rest.strip_prefix('<')?;
    let end = inner.find('>')?;
    Some(inner[..end].to_string())
}

/// Reads message lines up to the lone `.`, undoing dot-stuffing.
fn read_data<R: BufRead>(reader: &mut R, accept: bool, seen: &mut bool) -> Result<String, Line> {
    let mut data = String::new();
    loop {
        match read_line_as(reader, accept, seen) {
            Line::Text(t) if t == "." => return Ok(data),
            Line::Text(t) => {
                data.push_str(t.strip_prefix('.').unwrap_or(&t));
                data.push_str("\r\n");
            }
            other => return Err(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::net::TcpListener;

    /// Runs one session against `client`, which gets the connected stream.
    fn session(client: impl FnOnce(TcpStream) + Send + 'static) -> (Session, String) {
        session_as(client, false)
    }

    fn session_as(
        client: impl FnOnce(TcpStream) + Send + 'static,
        accept_bare_lf: bool,
    ) -> (Session, String) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let t = std::thread::spawn(move || client(TcpStream::connect(addr).unwrap()));
        let (stream, peer) = listener.accept().unwrap();
        let mut log = Vec::new();
        let s = serve_as(
            stream,
            Vec::new(),
            &peer.to_string(),
            &mut log,
            accept_bare_lf,
        );
        t.join().unwrap();
        (s, String::from_utf8(log).unwrap())
    }

    /// Sends `lines` one at a time, each after reading the server's reply to the previous.
    fn dialogue(lines: &'static [&'static str]) -> impl FnOnce(TcpStream) + Send {
        move |s| {
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut w = s;
            let mut line = String::new();
            r.read_line(&mut line).unwrap();
            for l in lines {
                w.write_all(l.as_bytes()).unwrap();
                loop {
                    line.clear();
                    if r.read_line(&mut line).unwrap() == 0 || line.as_bytes().get(3) != Some(&b'-')
                    {
                        break;
                    }
                }
            }
            let mut rest = Vec::new();
            let _ = r.read_to_end(&mut rest);
        }
    }

    #[test]
    fn a_client_that_leaves_without_quit_is_recorded_as_closed() {
        let (s, log) = session(drop);
        assert_eq!((s.ended.as_str(), s.commands.len()), ("closed", 0), "{log}");
        assert!(log.starts_with("S: 220 "), "{log}");
    }

    #[test]
    fn the_reference_mail_client_delivers_intact() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let client = std::thread::spawn(move || {
            let endpoint = crate::labs::upper::Endpoint {
                host: "127.0.0.1".into(),
                port,
            };
            crate::labs::smtp::send(
                &endpoint,
                "a@example.com",
                "b@example.net",
                "Hi\n.dot\n",
                &mut Vec::new(),
            )
        });
        let (stream, peer) = listener.accept().unwrap();
        let s = serve_as(
            stream,
            Vec::new(),
            &peer.to_string(),
            &mut Vec::new(),
            false,
        );
        client.join().unwrap().unwrap();
        assert_eq!(s.ended, "quit");
        assert!(!s.bare_lf);
        assert_eq!(s.messages.len(), 1);
        let m = &s.messages[0];
        assert_eq!(
            (m.from.as_str(), m.to.clone()),
            ("a@example.com", vec!["b@example.net".to_string()])
        );
        assert!(m.data.ends_with("\r\n\r\nHi\r\n.dot\r\n"), "{:?}", m.data);
    }

    #[test]
    fn a_bare_lf_is_refused_and_ends_the_session() {
        let (s, log) = session(dialogue(&["HELO x\r\n", "MAIL FROM:<a@x>\n"]));
        assert!(s.bare_lf);
        assert_eq!(s.ended, "bare-lf");
        assert!(log.contains("S: 521 5.5.2 bare LF received"), "{log}");
        let (s, _) = session(dialogue(&[
            "HELO x\r\n",
            "MAIL FROM:<a@x>\r\n",
            "RCPT TO:<b@y>\r\n",
            "DATA\r\n",
            "line one\nline two\r\n.\r\n",
        ]));
        assert!(s.bare_lf && s.messages.is_empty(), "{s:?}");
    }

    #[test]
    fn with_bare_lf_accept_a_bare_lf_line_is_a_line_and_recorded() {
        let (s, log) = session_as(
            dialogue(&[
                "HELO x\n",
                "MAIL FROM:<a@x>\n",
                "RCPT TO:<b@y>\n",
                "DATA\n",
                "line one\nline two\r\n.\n",
                "QUIT\n",
            ]),
            true,
        );
        assert!(s.bare_lf, "the record still says a bare LF came");
        assert_eq!(s.ended, "quit", "{log}");
        assert_eq!(s.messages.len(), 1, "{log}");
        assert_eq!(s.messages[0].data, "line one\r\nline two\r\n");
        assert!(!log.contains("521"), "{log}");
    }

    #[test]
    fn commands_out_of_order_get_503_and_the_order_is_recorded() {
        let (s, log) = session(dialogue(&[
            "MAIL FROM:<a@x>\r\n",
            "EHLO x\r\n",
            "RCPT TO:<b@y>\r\n",
            "DATA\r\n",
            "mail from: <a@x> SIZE=10\r\n",
            "QUIT\r\n",
        ]));
        assert_eq!(s.ended, "quit");
        assert_eq!(s.commands[0], "MAIL FROM:<a@x>");
        let replies: Vec<&str> = log
            .lines()
            .filter(|l| l.starts_with("S: "))
            .map(|l| &l[3..6])
            .collect();
        assert_eq!(
            replies,
            ["220", "503", "250", "250", "503", "503", "250", "221"],
            "{log}"
        );
    }

    #[test]
    fn addresses_are_read_as_rfc_5321_writes_them() {
        assert_eq!(address("MAIL FROM:<a@b>", "MAIL FROM:"), Some("a@b".into()));
        assert_eq!(
            address("mail from: <a@b> SIZE=1", "MAIL FROM:"),
            Some("a@b".into())
        );
        assert_eq!(address("MAIL FROM:<>", "MAIL FROM:"), Some(String::new()));
        assert_eq!(address("MAIL FROM:a@b", "MAIL FROM:"), None);
        assert_eq!(address("RCPT TO:<a@b", "RCPT TO:"), None);
    }
}
