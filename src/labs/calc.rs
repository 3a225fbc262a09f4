//! The `calc` lab: the TCP calculator session of seed 003, question 6 (LABS.md).
//!
//! Purpose: the reference server and client of a stateful protocol, one line per message
//! (each ends in `\n`):
//! - the client connects and sends the user's name (the first line on its stdin); then each
//!   line the user types is checked: a well-formed expression `NUMBER OP NUMBER` (spaces
//!   between, OP one of `+ - * /`) is sent and the server's answer printed as
//!   `<expression> = <answer>`; anything else gets the warning `Invalid expression "<line>": type
//!   NUMBER OP NUMBER, e.g. 12 + 42` and is not sent; `q` is sent and ends the client (exit
//!   0), as does the end of its input.
//! - the server (`calc-server HOST PORT`) prints `Server started...waiting for a connection
//!   from the client`, then serves sessions one after another: `Connection initiated from
//!   <ip>:<port>`, `Session of <name>` for the first line, `<name> requested: <expression>` for
//!   each request, which it answers with the result, and `Session ended` on `q`. The name is
//!   the session's state: the server keeps it for the connection, the client never sends it
//!   again.
//!
//! Numbers are printed as Python's `str(float)` prints them, without the `.0` of a whole
//! number (`54`, `-41.76`, `-0.75`): the shortest text that reads back as the same `f64`.
//! Division by zero, and a request that is not an expression, get an answer that starts with
//! `ERROR`, never a crash. Exit codes and error messages are those of the upper lab (see
//! [`super::upper`]).

use std::io::{self, BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};

use super::upper::{accept_each, close_gracefully, fail, say, Endpoint, LabError};

/// What ends a session.
pub(crate) const QUIT: &str = "q";
/// What the server prints when a session ends with `q`.
pub(crate) const SESSION_ENDED: &str = "Session ended";
/// The ready line the server prints once listening (the TCP template's).
pub(crate) const READY_LINE: &str = "Server started...waiting for a connection from the client";

/// An arithmetic operation of the handout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Add,
    Sub,
    Mul,
    Div,
}

/// A well-formed request: `NUMBER OP NUMBER`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Expression {
    pub a: f64,
    pub op: Op,
    pub b: f64,
}

/// A decimal number as people type it: an optional sign, digits with at most one point
/// (`12`, `-6`, `3.24`, `.5`). Not `inf`, `nan` or exponents, which `f64::from_str` takes.
fn number(text: &str) -> Option<f64> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    let mut parts = digits.splitn(2, '.');
    let whole = parts.next().unwrap_or("");
    let frac = parts.next().unwrap_or("");
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.len() + frac.len() == 0 || !all_digits(whole) || !all_digits(frac) {
        return None;
    }
    text.parse().ok()
}

/// The line as an expression, or `None` if it is not one.
pub(crate) fn parse(line: &str) -> Option<Expression> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let [a, op, b] = words.as_slice() else {
        return None;
    };
    let op = match *op {
        "+" => Op::Add,
        "-" => Op::Sub,
        "*" => Op::Mul,
        "/" => Op::Div,
        _ => return None,
    };
    Some(Expression {
        a: number(a)?,
        op,
        b: number(b)?,
    })
}

/// A number as Python prints a float, without the `.0` of a whole one.
pub(crate) fn format_number(x: f64) -> String {
    if x == 0.0 {
        // No `-0`.
        return "0".into();
    }
    format!("{x}")
}

/// The server's answer to one request line.
pub(crate) fn evaluate(line: &str) -> String {
    let Some(e) = parse(line) else {
        return format!("ERROR not an expression: {line:?} (expected NUMBER OP NUMBER)");
    };
    let value = match e.op {
        Op::Add => e.a + e.b,
        Op::Sub => e.a - e.b,
        Op::Mul => e.a * e.b,
        Op::Div if e.b == 0.0 => return "ERROR division by zero".into(),
        Op::Div => e.a / e.b,
    };
    if value.is_finite() {
        format_number(value)
    } else {
        "ERROR the result is too large".into()
    }
}

pub(crate) fn server(args: &[String]) -> i32 {
    let run = || -> Result<(), LabError> {
        let endpoint = Endpoint::from_args("calc-server", args)?;
        let listener = endpoint.bind_tcp()?;
        let mut out = io::stdout();
        say(&mut out, READY_LINE);
        serve(&listener, &mut out, None)
    };
    run().map_or_else(|e| fail(&e), |()| 0)
}

/// Serves `limit` sessions (or forever), one after another; a session's failure is reported on
/// stderr and the server goes on with the next client.
pub(crate) fn serve(
    listener: &TcpListener,
    out: &mut impl Write,
    limit: Option<usize>,
) -> Result<(), LabError> {
    accept_each(listener, limit, |stream, peer| {
        say(out, format!("Connection initiated from {peer}"));
        session(stream, out)
    })
}

/// One session: the name, then requests until `q` or the client leaves.
fn session(stream: &mut TcpStream, out: &mut impl Write) -> io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(());
    }
    let name = line.trim().to_string();
    say(out, format!("Session of {name}"));
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            say(out, format!("{name} left without q"));
            return Ok(());
        }
        let request = line.trim();
        if request == QUIT {
            say(out, SESSION_ENDED);
            close_gracefully(stream);
            return Ok(());
        }
        say(out, format!("{name} requested: {request}"));
        let mut answer = evaluate(request);
        answer.push('\n');
        stream.write_all(answer.as_bytes())?;
    }
}

pub(crate) fn client(args: &[String]) -> i32 {
    let run = || -> Result<(), LabError> {
        let endpoint = Endpoint::from_args("calc-client", args)?;
        let stdin = io::stdin();
        talk(&endpoint, &mut stdin.lock(), &mut io::stdout())
    };
    run().map_or_else(|e| fail(&e), |()| 0)
}

/// The client's session: the name from `input`'s first line, then each line of it.
pub(crate) fn talk(
    endpoint: &Endpoint,
    input: &mut impl BufRead,
    out: &mut impl Write,
) -> Result<(), LabError> {
    let mut name = String::new();
    let n = input
        .read_line(&mut name)
        .map_err(|source| LabError::Stdin { source })?;
    if n == 0 {
        return Err(LabError::StdinEmpty);
    }
    let mut stream = endpoint.connect_tcp()?;
    let send_err = |source| LabError::Send {
        addr: endpoint.to_string(),
        source,
    };
    stream
        .write_all(format!("{}\n", name.trim()).as_bytes())
        .map_err(send_err)?;
    let mut replies = BufReader::new(stream.try_clone().map_err(send_err)?);
    let mut line = String::new();
    loop {
        line.clear();
        if input
            .read_line(&mut line)
            .map_err(|source| LabError::Stdin { source })?
            == 0
        {
            break;
        }
        let typed = line.trim();
        if typed == QUIT {
            stream
                .write_all(format!("{QUIT}\n").as_bytes())
                .map_err(send_err)?;
            break;
        }
        if parse(typed).is_none() {
            say(
                out,
                format!("Invalid expression {typed:?}: type NUMBER OP NUMBER, e.g. 12 + 42"),
            );
            continue;
        }
        stream
            .write_all(format!("{typed}\n").as_bytes())
            .map_err(send_err)?;
        let mut answer = String::new();
        let got = replies
            .read_line(&mut answer)
            .map_err(|source| LabError::Receive {
                addr: endpoint.to_string(),
                source,
            })?;
        if got == 0 {
            return Err(LabError::Protocol(format!(
                "{endpoint} closed the session without answering {typed:?}"
            )));
        }
        say(out, format!("{typed} = {}", answer.trim_end()));
    }
    close_gracefully(&mut stream);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::thread;

    #[test]
    fn the_handouts_expressions() {
        assert_eq!(evaluate("12 + 42"), "54");
        assert_eq!(evaluate("3.24 - 45"), "-41.76");
        assert_eq!(evaluate("4.5 / -6"), "-0.75");
        assert_eq!(evaluate("2 * 3.5"), "7");
        assert_eq!(evaluate("0 * -1"), "0");
        assert_eq!(evaluate("7 / 0"), "ERROR division by zero");
        assert!(evaluate("12(10").starts_with("ERROR not an expression"));
    }

    #[test]
    fn only_number_op_number_is_an_expression() {
        assert!(parse("  12   +  .5 ").is_some());
        for bad in [
            "12+42",
            "12 + ",
            "12 % 5",
            "inf + 1",
            "1e3 + 1",
            "1 + nan",
            "1.2.3 + 1",
            "- + 1",
            "a + b",
            "12(10",
            "1 + 2 + 3",
        ] {
            assert!(parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn a_session_keeps_the_name_and_ends_on_q() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let endpoint = Endpoint {
            host: addr.ip().to_string(),
            port: addr.port(),
        };
        let server = thread::spawn(move || {
            let mut out = Vec::new();
            serve(&listener, &mut out, Some(2)).map(|()| out)
        });
        for (name, typed) in [("Alice", "12 + 42"), ("Bob", "7 / 0")] {
            let mut input = format!("{name}\n{typed}\n12(10\nq\n").into_bytes();
            let mut out = Vec::new();
            talk(&endpoint, &mut input.as_slice(), &mut out).expect("talk");
            input.clear();
            let out = String::from_utf8(out).expect("utf-8");
            let lines: Vec<&str> = out.lines().collect();
            assert_eq!(lines.len(), 2, "{out}");
            assert_eq!(lines[0], format!("{typed} = {}", evaluate(typed)));
            assert!(
                lines[1].starts_with("Invalid expression \"12(10\""),
                "{out}"
            );
        }
        let log = String::from_utf8(server.join().expect("thread").expect("server")).unwrap();
        let lines: Vec<&str> = log.lines().collect();
        assert_eq!(lines.len(), 8, "{log}");
        assert!(lines[0].starts_with("Connection initiated from 127.0.0.1:"));
        assert_eq!(
            lines[1..4],
            [
                "Session of Alice",
                "Alice requested: 12 + 42",
                "Session ended"
            ]
        );
        assert_eq!(
            lines[5..8],
            ["Session of Bob", "Bob requested: 7 / 0", "Session ended"]
        );
    }
}
