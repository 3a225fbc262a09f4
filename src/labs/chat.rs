//! The `chat` lab: a multi-client chat room over TCP (seed 003 question 8, LABS.md).
//!
//! Purpose: reference programs for the chat room, whose protocol is the students' own; the
//! scenarios therefore never talk to a chat server themselves, they drive several copies of a
//! submission's client and read what each one shows its user. This module's protocol is one
//! of the many a student may invent:
//!
//! - `chat-server HOST PORT` prints `Chat server started on port PORT` once it listens, then
//!   serves every client at once, a thread each. Lines (`\n`, or `\r\n`) are the messages,
//!   both ways. To a new connection it sends `* enter your login name`; the first line that is
//!   a free name (trimmed, not empty) logs the client in: it gets `* welcome NAME`, and every
//!   other logged-in client `* NAME joined the chat`. A taken name gets `* the name NAME is
//!   taken; enter another login name`, an empty one `* a login name cannot be empty; enter
//!   your login name`, and the client may try again. Once logged in, each line `LINE` is sent
//!   as `NAME: LINE` to every other logged-in client (never back to its sender); the line
//!   `quit` (or the end of the connection) logs the client out: every other one gets
//!   `* NAME left the chat`, the leaver gets `* bye NAME` and the connection is closed. The
//!   server prints one line per connection, login and leave (`NAME joined from ADDR`).
//! - `chat-client HOST PORT` connects and forwards every line typed on stdin to the server
//!   (the login name first, then the chat lines, then `quit`), while printing every line the
//!   server sends as soon as it comes (a thread each way, as the handout's example does). The
//!   end of stdin is a `quit`. It exits 0 when the server closes the connection.
//!
//! Every write to a client is made under the room's lock, so two broadcasts never interleave
//! and every client sees the room's events in one order.

use std::io::{self, BufRead, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};

use super::upper::{accept_threads, fail, say, strip_line_ending, Endpoint, LabError};

/// The line that logs a client out.
pub(crate) const QUIT: &str = "quit";

/// The logged-in clients: name and connection, in the order they joined.
#[derive(Default)]
struct Room {
    members: Vec<(String, TcpStream)>,
}

impl Room {
    /// Sends `line` to every member but `except`; a member whose connection fails is left
    /// for its own thread to remove (its read fails too).
    fn broadcast(&mut self, line: &str, except: Option<&str>) {
        for (name, stream) in &mut self.members {
            if Some(name.as_str()) != except {
                let _ = send(stream, line);
            }
        }
    }
}

fn send(stream: &mut TcpStream, line: &str) -> io::Result<()> {
    let mut bytes = Vec::with_capacity(line.len() + 1);
    bytes.extend_from_slice(line.as_bytes());
    bytes.push(b'\n');
    stream.write_all(&bytes)
}

pub(crate) fn chat_server(args: &[String]) -> i32 {
    let run = || -> Result<(), LabError> {
        let endpoint = Endpoint::from_args("chat-server", args)?;
        let listener = endpoint.bind_tcp()?;
        say(
            &mut io::stdout(),
            format!("Chat server started on port {}", endpoint.port),
        );
        let room = Arc::new(Mutex::new(Room::default()));
        accept_threads(&listener, None, move |stream, peer| {
            if let Err(e) = serve(&room, stream, peer) {
                eprintln!("client {peer}: {e}");
            }
        })
    };
    run().map_or_else(|e| fail(&e), |()| 0)
}

/// One client, from its connection to its leaving.
fn serve(room: &Mutex<Room>, stream: TcpStream, peer: SocketAddr) -> io::Result<()> {
    let mut lines = BufReader::new(stream.try_clone()?);
    let mut writer = stream.try_clone()?;
    send(&mut writer, "* enter your login name")?;
    let Some(name) = login(room, &mut lines, &stream, peer)? else {
        return Ok(());
    };
    loop {
        let line = next_line(&mut lines)?;
        let Some(line) = line.filter(|l| l.trim() != QUIT) else {
            break;
        };
        let mut room = room.lock().unwrap_or_else(|e| e.into_inner());
        room.broadcast(&format!("{name}: {line}"), Some(&name));
    }
    let mut room = room.lock().unwrap_or_else(|e| e.into_inner());
    room.members.retain(|(n, _)| *n != name);
    room.broadcast(&format!("* {name} left the chat"), None);
    drop(room);
    say(&mut io::stdout(), format!("{name} left"));
    let _ = send(&mut writer, &format!("* bye {name}"));
    let _ = writer.shutdown(Shutdown::Both);
    Ok(())
}

/// Reads login names until one is free; `None` when the client leaves first.
fn login(
    room: &Mutex<Room>,
    lines: &mut impl BufRead,
    stream: &TcpStream,
    peer: SocketAddr,
) -> io::Result<Option<String>> {
    let mut writer = stream.try_clone()?;
    loop {
        let Some(line) = next_line(lines)? else {
            return Ok(None);
        };
        let name = line.trim().to_string();
        if name.is_empty() {
            send(
                &mut writer,
                "* a login name cannot be empty; enter your login name",
            )?;
            continue;
        }
        let mut room = room.lock().unwrap_or_else(|e| e.into_inner());
        if room.members.iter().any(|(n, _)| *n == name) {
            drop(room);
            send(
                &mut writer,
                &format!("* the name {name} is taken; enter another login name"),
            )?;
            continue;
        }
        room.broadcast(&format!("* {name} joined the chat"), None);
        send(&mut writer, &format!("* welcome {name}"))?;
        room.members.push((name.clone(), stream.try_clone()?));
        drop(room);
        say(&mut io::stdout(), format!("{name} joined from {peer}"));
        return Ok(Some(name));
    }
}

/// The next line without its line ending (invalid UTF-8 replaced); `None` at the end.
fn next_line(lines: &mut impl BufRead) -> io::Result<Option<String>> {
    let mut line = Vec::new();
    if lines.read_until(b'\n', &mut line)? == 0 {
        return Ok(None);
    }
    strip_line_ending(&mut line);
    Ok(Some(String::from_utf8_lossy(&line).into_owned()))
}

pub(crate) fn chat_client(args: &[String]) -> i32 {
    let run = || -> Result<std::convert::Infallible, LabError> {
        let endpoint = Endpoint::from_args("chat-client", args)?;
        let stream = endpoint.connect_tcp()?;
        let addr = endpoint.to_string();
        let receive = |source| LabError::Receive {
            addr: addr.clone(),
            source,
        };
        let reader = stream.try_clone().map_err(receive)?;
        std::thread::spawn(move || show(reader));
        let mut writer = stream;
        let stdin = io::stdin();
        let mut input = stdin.lock();
        loop {
            let line = next_line(&mut input).map_err(|source| LabError::Stdin { source })?;
            let line = line.unwrap_or_else(|| QUIT.to_string());
            if send(&mut writer, &line).is_err() || line.trim() == QUIT {
                break;
            }
        }
        // The server says goodbye and closes the connection; the reader ends the client then.
        loop {
            std::thread::park();
        }
    };
    match run() {
        Err(e) => fail(&e),
    }
}

/// Prints every line the server sends until it closes the connection, then ends the client:
/// the user has nothing left to type into a room that is gone.
fn show(stream: TcpStream) {
    let mut lines = BufReader::new(stream);
    let mut out = io::stdout();
    while let Ok(Some(line)) = next_line(&mut lines) {
        say(&mut out, line);
    }
    std::process::exit(0);
}
