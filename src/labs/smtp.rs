//! The `smtp` lab: a mail client (LABS.md, seed 001 task 4).
//!
//! `mail-client SERVER PORT FROM TO` reads the message body on stdin (to end of input; the
//! handout's "I love computer networks!" when stdin is empty) and delivers it as the handout's
//! client does, but checking every reply as a real client must:
//! waits for the `220` greeting before saying anything, then `HELO` (250), `MAIL FROM:<FROM>`
//! (250), `RCPT TO:<TO>` (250 or 251), `DATA` (354), the message with `From`, `To` and
//! `Subject` headers, every line ending in CRLF and lines starting with `.` doubled
//! (RFC 5321 4.5.2), the lone `.` (250), `QUIT` (221). Replies may span lines (`250-...`).
//! It prints the dialogue as it goes, `S: ` for what the server said and `C: ` for what it
//! sent (the message itself as one `C: <message, N lines>` line).
//!
//! Exit codes: 0 delivered, 1 network failure, an unexpected reply (naming the command, the code
//! wanted and the reply) or no reply within [`REPLY_BUDGET`], 2 bad arguments.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use super::upper::{fail, say, Endpoint, LabError};

/// How long the client waits for any one reply.
pub(crate) const REPLY_BUDGET: Duration = Duration::from_secs(30);
/// The body sent when stdin is empty: the handout's.
const DEFAULT_BODY: &str = "I love computer networks!";

pub(crate) fn mail_client(args: &[String]) -> i32 {
    const USAGE: &str = "SERVER PORT FROM TO";
    let run = || -> Result<(), LabError> {
        let (endpoint, rest) = Endpoint::with_rest("mail-client", USAGE, args)?;
        let [from, to] = rest else {
            unreachable!("with_rest checked the count")
        };
        for (what, address) in [("FROM", from), ("TO", to)] {
            if address.is_empty() || address.contains(['<', '>', '\r', '\n', ' ']) {
                return Err(LabError::Usage {
                    role: "mail-client",
                    usage: USAGE,
                    problem: format!(
                        "{what} must be a plain address like alice@example.com, got {address:?}"
                    ),
                });
            }
        }
        let mut body = String::new();
        io::stdin()
            .read_to_string(&mut body)
            .map_err(|source| LabError::Stdin { source })?;
        if body.trim().is_empty() {
            body = DEFAULT_BODY.to_string();
        }
        send(&endpoint, from, to, &body, &mut io::stdout())
    };
    run().map_or_else(|e| fail(&e), |()| 0)
}

/// Delivers one message to the server at `endpoint`, writing the dialogue to `log`.
pub(crate) fn send(
    endpoint: &Endpoint,
    from: &str,
    to: &str,
    body: &str,
    log: &mut impl Write,
) -> Result<(), LabError> {
    let stream = endpoint.connect_tcp()?;
    let io_err = |source| LabError::Receive {
        addr: endpoint.to_string(),
        source,
    };
    stream
        .set_read_timeout(Some(REPLY_BUDGET))
        .map_err(io_err)?;
    let helo = match stream.local_addr() {
        Ok(std::net::SocketAddr::V4(a)) => format!("[{}]", a.ip()),
        Ok(std::net::SocketAddr::V6(a)) => format!("[IPv6:{}]", a.ip()),
        Err(_) => "localhost".to_string(),
    };
    let mut session = Session {
        reader: BufReader::new(stream.try_clone().map_err(io_err)?),
        writer: stream,
        endpoint,
        log,
    };
    session.expect("the greeting", &[220])?;
    session.command(&format!("HELO {helo}"), &[250])?;
    session.command(&format!("MAIL FROM:<{from}>"), &[250])?;
    session.command(&format!("RCPT TO:<{to}>"), &[250, 251])?;
    session.command("DATA", &[354])?;
    let message = message(from, to, body);
    let lines = message.matches("\r\n").count();
    session.write(message.as_bytes())?;
    say(session.log, format!("C: <message, {lines} lines>"));
    session.command(".", &[250])?;
    session.command("QUIT", &[221])?;
    Ok(())
}

/// The message as sent after DATA: headers, a blank line, the body with CRLF line endings and
/// dot-stuffed, ending in CRLF (the lone `.` follows as its own command).
pub(crate) fn message(from: &str, to: &str, body: &str) -> String {
    let mut out = format!("From: <{from}>\r\nTo: <{to}>\r\nSubject: socklab mail-client\r\n\r\n");
    for line in body.lines() {
        if line.starts_with('.') {
            out.push('.');
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out
}

struct Session<'a, W: Write> {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    endpoint: &'a Endpoint,
    log: &'a mut W,
}

impl<W: Write> Session<'_, W> {
    fn write(&mut self, bytes: &[u8]) -> Result<(), LabError> {
        self.writer
            .write_all(bytes)
            .map_err(|source| LabError::Send {
                addr: self.endpoint.to_string(),
                source,
            })
    }

    /// Sends `line` (CRLF-terminated) and checks the reply's code.
    fn command(&mut self, line: &str, want: &[u16]) -> Result<(), LabError> {
        say(self.log, format!("C: {line}"));
        self.write(format!("{line}\r\n").as_bytes())?;
        self.expect(&format!("the reply to {line}"), want)
    }

    /// Reads one reply (all its lines) and checks its code is one of `want`.
    fn expect(&mut self, what: &str, want: &[u16]) -> Result<(), LabError> {
        let wanted = want
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join(" or ");
        let last = loop {
            let mut raw = Vec::new();
            let n = self.reader.read_until(b'\n', &mut raw).map_err(|e| {
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) {
                    LabError::Protocol(format!(
                        "no {what} from {} within {} s (wanted {wanted})",
                        self.endpoint,
                        REPLY_BUDGET.as_secs()
                    ))
                } else {
                    LabError::Receive {
                        addr: self.endpoint.to_string(),
                        source: e,
                    }
                }
            })?;
            if n == 0 {
                return Err(LabError::Protocol(format!(
                    "{} closed the connection instead of {what} (wanted {wanted})",
                    self.endpoint
                )));
            }
            let line = String::from_utf8_lossy(&raw)
                .trim_end_matches(['\r', '\n'])
                .to_string();
            say(self.log, format!("S: {line}"));
            // `250-...` continues the reply; `250 ...` (or a bare `250`) ends it.
            if line.as_bytes().get(3) != Some(&b'-') {
                break line;
            }
        };
        let code = last.get(..3).and_then(|c| c.parse::<u16>().ok());
        match code {
            Some(c) if want.contains(&c) => Ok(()),
            _ => Err(LabError::Protocol(format!(
                "{what}: wanted {wanted}, got {last:?}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// A scripted server: sends each reply after reading one line (the greeting first), and
    /// returns everything the client sent.
    fn scripted(replies: &'static [&'static str]) -> (Endpoint, std::thread::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let t = std::thread::spawn(move || {
            let (s, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(s.try_clone().unwrap());
            let mut w = s;
            let mut got = String::new();
            let mut in_data = false;
            w.write_all(replies[0].as_bytes()).unwrap();
            for reply in &replies[1..] {
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap() == 0 {
                        return got;
                    }
                    got.push_str(&line);
                    if line == "DATA\r\n" {
                        in_data = true;
                        break;
                    }
                    if !in_data || line == ".\r\n" {
                        in_data = false;
                        break;
                    }
                }
                w.write_all(reply.as_bytes()).unwrap();
            }
            // Whatever the client says after the script ends is kept too.
            let mut rest = String::new();
            let _ = reader.read_to_string(&mut rest);
            got + &rest
        });
        (
            Endpoint {
                host: "127.0.0.1".into(),
                port,
            },
            t,
        )
    }

    #[test]
    fn a_whole_dialogue_delivers_a_dot_stuffed_crlf_message() {
        let (endpoint, server) = scripted(&[
            "220 mx ready\r\n",
            "250-mx\r\n250 ok\r\n",
            "250 ok\r\n",
            "251 will forward\r\n",
            "354 go ahead\r\n",
            "250 queued\r\n",
            "221 bye\r\n",
        ]);
        let mut log = Vec::new();
        send(
            &endpoint,
            "a@example.com",
            "b@example.net",
            "hi\n.dot\n",
            &mut log,
        )
        .unwrap();
        let sent = server.join().unwrap();
        assert!(sent.starts_with("HELO [127.0.0.1]\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n"), "{sent}");
        assert!(
            sent.contains("\r\n\r\nhi\r\n..dot\r\n.\r\nQUIT\r\n"),
            "{sent}"
        );
        assert!(
            !sent.replace("\r\n", "").contains('\n'),
            "a bare LF was sent: {sent:?}"
        );
        let log = String::from_utf8(log).unwrap();
        assert!(
            log.contains("S: 250-mx\nS: 250 ok\nC: MAIL FROM:<a@example.com>\n"),
            "{log}"
        );
    }

    #[test]
    fn an_unexpected_reply_is_named_with_its_command() {
        let (endpoint, server) = scripted(&["220 ok\r\n", "250 ok\r\n", "550 no such sender\r\n"]);
        let err = send(&endpoint, "a@x", "b@y", "m", &mut Vec::new()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the reply to MAIL FROM:<a@x>: wanted 250, got \"550 no such sender\""
        );
        let sent = server.join().unwrap();
        assert!(
            !sent.contains("RCPT"),
            "the client went on after a refusal: {sent}"
        );
    }

    #[test]
    fn nothing_is_said_before_the_greeting() {
        let (endpoint, server) = scripted(&["554 go away\r\n"]);
        let err = send(&endpoint, "a@x", "b@y", "m", &mut Vec::new()).unwrap_err();
        assert!(
            err.to_string().starts_with("the greeting: wanted 220"),
            "{err}"
        );
        assert_eq!(
            server.join().unwrap(),
            "",
            "the client spoke after a refused greeting"
        );
    }
}
