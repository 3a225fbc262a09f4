//! The `upper` lab: uppercase converter over TCP and UDP (LABS.md, seeds 000-002).
//!
//! Purpose: the reference programs every student program is tested against, so their wire
//! behaviour is the contract:
//! - `tcp-upper-server HOST PORT` listens, prints `The server is ready to receive`, then serves
//!   clients one after another forever; per connection it answers every chunk it reads with the
//!   chunk's uppercase until the client closes, then closes. It works with the handout's client
//!   (one line without newline, one `recv(1024)`) and with netcat (lines ending in `\n`).
//! - `tcp-upper-client HOST PORT` reads one line on stdin (no prompt), sends it without its line
//!   ending, prints the reply and a newline, and closes with FIN.
//! - `udp-upper-server HOST PORT` prints the same ready line and answers each datagram.
//! - `udp-upper-client HOST PORT` sends one datagram and waits for the reply with no timeout:
//!   blocking forever when no server answers is the behaviour lab question 2 asks about.
//!
//! Exit codes: 0 success, 1 network or I/O failure (message on stderr naming the address and
//! the OS error, e.g. `cannot bind 127.0.0.1:12000: Address already in use (os error 98)`),
//! 2 bad arguments (the problem and a usage line on stderr).
//!
//! The helpers for arguments, errors and line output are shared with the `hello` lab.

use std::io::{self, BufRead, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs, UdpSocket};
use std::sync::Arc;
use std::time::Duration;

/// The line a server prints once its socket is bound (and listening, for TCP); scenarios wait
/// on it as on the handout's.
pub(crate) const READY_LINE: &str = "The server is ready to receive";

/// Largest read per `recv`: a whole UDP datagram fits, so none is ever truncated.
const CHUNK: usize = 65536;

/// How long a client waits for the rest of a reply after its first chunk, and for the peer's
/// FIN after its own. Short because on the lab's networks the data is already in flight.
const LINGER: Duration = Duration::from_millis(500);

/// Failures of a reference program; `exit_code` maps them to the documented codes.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LabError {
    #[error("{problem}\nusage: {role} {usage}")]
    Usage {
        role: &'static str,
        usage: &'static str,
        problem: String,
    },
    #[error("cannot resolve {addr}: {source}")]
    Resolve { addr: String, source: io::Error },
    #[error("cannot resolve {addr}: no address found")]
    NoAddress { addr: String },
    #[error("cannot bind {addr}: {source}")]
    Bind { addr: String, source: io::Error },
    #[error("cannot connect to {addr}: {source}")]
    Connect { addr: String, source: io::Error },
    #[error("cannot send to {addr}: {source}")]
    Send { addr: String, source: io::Error },
    #[error("cannot receive from {addr}: {source}")]
    Receive { addr: String, source: io::Error },
    #[error("cannot accept a connection on {addr}: {source}")]
    Accept { addr: String, source: io::Error },
    #[error("cannot read a line from stdin: {source}")]
    Stdin { source: io::Error },
    #[error("cannot read a line from stdin: end of input")]
    StdinEmpty,
    #[error("cannot open the working directory: {source}")]
    WorkDir { source: io::Error },
    #[error("{0}")]
    Protocol(String),
}

impl LabError {
    pub(crate) fn exit_code(&self) -> i32 {
        match self {
            LabError::Usage { .. } => 2,
            _ => 1,
        }
    }
}

/// Where a program binds or connects, as the user spelled it (messages quote it back).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoint {
    pub host: String,
    pub port: u16,
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

impl Endpoint {
    /// Parses the `HOST PORT` calling convention of every role of the upper and hello labs.
    pub(crate) fn from_args(role: &'static str, args: &[String]) -> Result<Endpoint, LabError> {
        Endpoint::with_rest(role, "HOST PORT", args).map(|(endpoint, _)| endpoint)
    }

    /// Parses a calling convention that starts with `HOST PORT` (`usage`, e.g.
    /// `HOST PORT FILE`): exactly as many arguments as `usage` names; the endpoint and the
    /// arguments after it.
    pub(crate) fn with_rest<'a>(
        role: &'static str,
        usage: &'static str,
        args: &'a [String],
    ) -> Result<(Endpoint, &'a [String]), LabError> {
        let want = usage.split_whitespace().count();
        if args.len() != want {
            return Err(LabError::Usage {
                role,
                usage,
                problem: format!("expected {want} arguments ({usage}), got {}", args.len()),
            });
        }
        // Every convention starts with HOST PORT, so `want` is at least 2.
        Ok((
            Endpoint::parse(role, usage, &args[0], &args[1])?,
            &args[2..],
        ))
    }

    /// Parses the `HOST PORT` at the head of a role's arguments; `usage` is the role's whole
    /// calling convention, quoted back on error.
    pub(crate) fn parse(
        role: &'static str,
        usage: &'static str,
        host: &str,
        port: &str,
    ) -> Result<Endpoint, LabError> {
        let usage = |problem: String| LabError::Usage {
            role,
            usage,
            problem,
        };
        if host.is_empty() {
            return Err(usage("HOST must not be empty".to_string()));
        }
        let port = port
            .parse::<u16>()
            .map_err(|e| usage(format!("invalid port {port:?}: {e}")))?;
        Ok(Endpoint {
            host: host.to_string(),
            port,
        })
    }

    /// All addresses the host resolves to (a bracketed IPv6 literal is accepted too).
    pub(crate) fn addrs(&self) -> Result<Vec<SocketAddr>, LabError> {
        let host = self.host.trim_start_matches('[').trim_end_matches(']');
        let addrs: Vec<SocketAddr> = (host, self.port)
            .to_socket_addrs()
            .map_err(|source| LabError::Resolve {
                addr: self.to_string(),
                source,
            })?
            .collect();
        if addrs.is_empty() {
            return Err(LabError::NoAddress {
                addr: self.to_string(),
            });
        }
        Ok(addrs)
    }

    pub(crate) fn bind_tcp(&self) -> Result<TcpListener, LabError> {
        let addrs = self.addrs()?;
        TcpListener::bind(&addrs[..]).map_err(|source| LabError::Bind {
            addr: self.to_string(),
            source,
        })
    }

    pub(crate) fn bind_udp(&self) -> Result<UdpSocket, LabError> {
        let addrs = self.addrs()?;
        UdpSocket::bind(&addrs[..]).map_err(|source| LabError::Bind {
            addr: self.to_string(),
            source,
        })
    }

    pub(crate) fn connect_tcp(&self) -> Result<TcpStream, LabError> {
        let addrs = self.addrs()?;
        TcpStream::connect(&addrs[..]).map_err(|source| LabError::Connect {
            addr: self.to_string(),
            source,
        })
    }
}

/// Reports a failure the way every reference program does: message on stderr, documented code.
pub(crate) fn fail(err: &LabError) -> i32 {
    eprintln!("{err}");
    err.exit_code()
}

/// Writes one line and flushes at once: the harness reads stdout through a pipe and timestamps
/// each line, so nothing may sit in a buffer. A closed stdout must not stop a server.
pub(crate) fn say(out: &mut impl Write, line: impl AsRef<[u8]>) {
    let _ = out
        .write_all(line.as_ref())
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush());
}

/// Reads the one line a client sends, without its line ending (`\n` or `\r\n`).
pub(crate) fn read_line(input: &mut impl BufRead) -> Result<Vec<u8>, LabError> {
    let mut line = Vec::new();
    let n = input
        .read_until(b'\n', &mut line)
        .map_err(|source| LabError::Stdin { source })?;
    if n == 0 {
        return Err(LabError::StdinEmpty);
    }
    strip_line_ending(&mut line);
    Ok(line)
}

/// Removes one trailing `\n` or `\r\n`.
pub(crate) fn strip_line_ending(line: &mut Vec<u8>) {
    if line.last() == Some(&b'\n') {
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
    }
}

/// The lab's rule: a-z become A-Z; every other byte (uppercase, digits, `&*!`, bytes of non-ASCII
/// characters) is unchanged, so the reply has exactly the length of the request.
pub(crate) fn upper(bytes: &[u8]) -> Vec<u8> {
    bytes.to_ascii_uppercase()
}

/// Closes a client's side cleanly: FIN first, then wait (briefly) for the peer's FIN, reading
/// whatever is left, because closing with unread data makes Linux send RST instead of FIN and
/// the capture would show an abort rather than the teardown the lab asks students to observe.
/// The wait is bounded in time and bytes ([`DRAIN_MAX`]): a server that never stops sending
/// (a hostile one) gets its connection closed with the RST it earned, and the client goes on.
pub(crate) fn close_gracefully(stream: &mut TcpStream) {
    let _ = stream.shutdown(Shutdown::Write);
    let _ = stream.set_read_timeout(Some(LINGER));
    let start = std::time::Instant::now();
    let mut drained = 0usize;
    let mut sink = [0u8; 4096];
    while drained < DRAIN_MAX && start.elapsed() < LINGER {
        match stream.read(&mut sink) {
            Ok(n) if n > 0 => drained += n,
            _ => break,
        }
    }
}

/// The most bytes [`close_gracefully`] reads after the reply before it closes anyway.
const DRAIN_MAX: usize = 1 << 20;

pub(crate) fn tcp_server(args: &[String]) -> i32 {
    let run = || -> Result<(), LabError> {
        let endpoint = Endpoint::from_args("tcp-upper-server", args)?;
        let listener = endpoint.bind_tcp()?;
        say(&mut io::stdout(), READY_LINE);
        serve_tcp(&listener, None)
    };
    run().map_or_else(|e| fail(&e), |()| 0)
}

/// Serves clients one after another (`limit` clients, or forever). A client's failure is
/// reported on stderr and never stops the server: the next client must still be served.
pub(crate) fn serve_tcp(listener: &TcpListener, limit: Option<usize>) -> Result<(), LabError> {
    accept_each(listener, limit, |stream, _| answer_tcp(stream))
}

/// The accept loop of every reference TCP server: `handle` serves one client; its failure is
/// that client's problem, reported on stderr, and the loop goes on to the next.
pub(crate) fn accept_each(
    listener: &TcpListener,
    limit: Option<usize>,
    mut handle: impl FnMut(&mut TcpStream, SocketAddr) -> io::Result<()>,
) -> Result<(), LabError> {
    let mut served = 0;
    while below(limit, served) {
        let Some((mut stream, peer)) = accept(listener)? else {
            continue;
        };
        served += 1;
        if let Err(e) = handle(&mut stream, peer) {
            eprintln!("client {peer}: {e}");
        }
    }
    Ok(())
}

/// The accept loop of the reference servers and peers that serve clients at once: each
/// connection (`limit` of them, or forever) on its own thread. With a limit (tests), returns
/// once the last one is served.
pub(crate) fn accept_threads(
    listener: &TcpListener,
    limit: Option<usize>,
    handle: impl Fn(TcpStream, SocketAddr) + Send + Sync + 'static,
) -> Result<(), LabError> {
    let handle = Arc::new(handle);
    let mut served = 0;
    let mut threads = Vec::new();
    while below(limit, served) {
        let Some((stream, peer)) = accept(listener)? else {
            continue;
        };
        served += 1;
        let handle = Arc::clone(&handle);
        threads.push(std::thread::spawn(move || handle(stream, peer)));
    }
    for t in threads {
        let _ = t.join();
    }
    Ok(())
}

/// The next connection; `None` for one the client reset before it was accepted (the client's
/// problem, not the server's: the loop goes on).
fn accept(listener: &TcpListener) -> Result<Option<(TcpStream, SocketAddr)>, LabError> {
    match listener.accept() {
        Ok(conn) => Ok(Some(conn)),
        Err(e) if e.kind() == io::ErrorKind::ConnectionAborted => Ok(None),
        Err(source) => Err(LabError::Accept {
            addr: local_addr(listener.local_addr()),
            source,
        }),
    }
}

/// Whether a server may take one more client (no limit: always). Kept apart from
/// `Option::is_none_or`, which is newer than the crate's minimum Rust version.
pub(crate) fn below(limit: Option<usize>, served: usize) -> bool {
    match limit {
        Some(l) => served < l,
        None => true,
    }
}

pub(crate) fn local_addr(addr: io::Result<SocketAddr>) -> String {
    addr.map_or_else(|_| "the listening socket".to_string(), |a| a.to_string())
}

/// Answers every chunk until the client closes. Chunks, not lines: the handout's client sends
/// its sentence without a newline and waits, so waiting for a line would deadlock.
fn answer_tcp(stream: &mut TcpStream) -> io::Result<()> {
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        stream.write_all(&upper(&buf[..n]))?;
    }
}

pub(crate) fn tcp_client(args: &[String]) -> i32 {
    let run = || -> Result<(), LabError> {
        let endpoint = Endpoint::from_args("tcp-upper-client", args)?;
        let line = read_line(&mut io::stdin().lock())?;
        let reply = tcp_exchange(&endpoint, &line)?;
        say(&mut io::stdout(), reply);
        Ok(())
    };
    run().map_or_else(|e| fail(&e), |()| 0)
}

/// Sends `line` over a new connection and returns the reply. The reply is complete when it is
/// as long as the request (the rule keeps lengths), when the server closes, or when nothing more
/// arrives shortly after a first chunk — so a server that answers short still gets reported
/// rather than hanging the client.
pub(crate) fn tcp_exchange(endpoint: &Endpoint, line: &[u8]) -> Result<Vec<u8>, LabError> {
    let mut stream = endpoint.connect_tcp()?;
    let addr = endpoint.to_string();
    let send_err = |source| LabError::Send {
        addr: addr.clone(),
        source,
    };
    let recv_err = |source| LabError::Receive {
        addr: addr.clone(),
        source,
    };
    if line.is_empty() {
        // Nothing to send: half-close so the server sees end of input and answers (nothing)
        // instead of both sides waiting for each other forever.
        stream.shutdown(Shutdown::Write).map_err(send_err)?;
    } else {
        stream.write_all(line).map_err(send_err)?;
    }
    let mut reply = Vec::new();
    let mut buf = vec![0u8; CHUNK];
    let n = stream.read(&mut buf).map_err(recv_err)?;
    reply.extend_from_slice(&buf[..n]);
    if n > 0 && reply.len() < line.len() {
        stream.set_read_timeout(Some(LINGER)).map_err(recv_err)?;
        while reply.len() < line.len() {
            match stream.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => reply.extend_from_slice(&buf[..n]),
                Err(e) if is_timeout(&e) => break,
                Err(e) => return Err(recv_err(e)),
            }
        }
    }
    close_gracefully(&mut stream);
    Ok(reply)
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

pub(crate) fn udp_server(args: &[String]) -> i32 {
    let run = || -> Result<(), LabError> {
        let endpoint = Endpoint::from_args("udp-upper-server", args)?;
        let socket = endpoint.bind_udp()?;
        say(&mut io::stdout(), READY_LINE);
        serve_udp(&socket, None);
        Ok(())
    };
    run().map_or_else(|e| fail(&e), |()| 0)
}

/// Answers `limit` datagrams (or forever) with their uppercase.
pub(crate) fn serve_udp(socket: &UdpSocket, limit: Option<usize>) {
    answer_each(socket, limit, |data, _| upper(data));
}

/// The receive loop of every reference UDP server: `answer` makes the reply to one datagram
/// from its sender. Errors are reported and skipped: one bad exchange must not stop a server
/// that other clients rely on.
pub(crate) fn answer_each(
    socket: &UdpSocket,
    limit: Option<usize>,
    mut answer: impl FnMut(&[u8], SocketAddr) -> Vec<u8>,
) {
    let mut buf = vec![0u8; CHUNK];
    let mut served = 0;
    while below(limit, served) {
        let (n, peer) = match socket.recv_from(&mut buf) {
            Ok(got) => got,
            Err(e) => {
                eprintln!("cannot receive on {}: {e}", local_addr(socket.local_addr()));
                continue;
            }
        };
        served += 1;
        if let Err(e) = socket.send_to(&answer(&buf[..n], peer), peer) {
            eprintln!("cannot send to {peer}: {e}");
        }
    }
}

pub(crate) fn udp_client(args: &[String]) -> i32 {
    let run = || -> Result<(), LabError> {
        let endpoint = Endpoint::from_args("udp-upper-client", args)?;
        let line = read_line(&mut io::stdin().lock())?;
        let reply = udp_exchange(&endpoint, &line)?;
        say(&mut io::stdout(), reply);
        Ok(())
    };
    run().map_or_else(|e| fail(&e), |()| 0)
}

/// Sends one datagram from an unconnected socket, like the handout's client, and returns the
/// first datagram that comes back. No timeout, on purpose: see the module docs. Being
/// unconnected, the socket never reports the ICMP port unreachable either.
pub(crate) fn udp_exchange(endpoint: &Endpoint, line: &[u8]) -> Result<Vec<u8>, LabError> {
    let (socket, server) = udp_client_socket(endpoint)?;
    udp_round_trip(&socket, server, endpoint, line)
}

/// Sends `message` in one datagram to `server` (which `endpoint` names, for messages) and
/// returns the first datagram that comes back, waiting as long as the socket's read timeout.
pub(crate) fn udp_round_trip(
    socket: &UdpSocket,
    server: SocketAddr,
    endpoint: &Endpoint,
    message: &[u8],
) -> Result<Vec<u8>, LabError> {
    socket
        .send_to(message, server)
        .map_err(|source| LabError::Send {
            addr: endpoint.to_string(),
            source,
        })?;
    let mut buf = vec![0u8; CHUNK];
    let (n, _) = socket
        .recv_from(&mut buf)
        .map_err(|source| LabError::Receive {
            addr: endpoint.to_string(),
            source,
        })?;
    Ok(buf[..n].to_vec())
}

/// An unconnected socket on an ephemeral port of the server address's family.
pub(crate) fn udp_client_socket(endpoint: &Endpoint) -> Result<(UdpSocket, SocketAddr), LabError> {
    let server = endpoint.addrs()?[0];
    let any: SocketAddr = if server.is_ipv4() {
        (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket = UdpSocket::bind(any).map_err(|source| LabError::Bind {
        addr: any.to_string(),
        source,
    })?;
    Ok((socket, server))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::thread;

    fn args(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn endpoint_of(addr: SocketAddr) -> Endpoint {
        Endpoint {
            host: addr.ip().to_string(),
            port: addr.port(),
        }
    }

    #[test]
    fn upper_changes_only_ascii_lowercase() {
        assert_eq!(upper(b"hello, World &*! 123"), b"HELLO, WORLD &*! 123");
        assert_eq!(upper(b"ALREADY UP"), b"ALREADY UP");
        let accented = "caf\u{e9} \u{e0} l'\u{e9}t\u{e9}".as_bytes();
        let expected = "CAF\u{e9} \u{e0} L'\u{e9}T\u{e9}".as_bytes();
        assert_eq!(upper(accented), expected);
        assert_eq!(upper(&[0xff, b'a', 0x00]), [0xff, b'A', 0x00]);
    }

    #[test]
    fn args_are_host_and_port() {
        let e = Endpoint::from_args("tcp-upper-server", &args(&["127.0.0.1", "12000"]));
        assert_eq!(
            e.ok(),
            Some(Endpoint {
                host: "127.0.0.1".into(),
                port: 12000
            })
        );
        for bad in [
            &["127.0.0.1"][..],
            &["h", "70000"],
            &["h", "x"],
            &["a", "1", "2"],
        ] {
            let err = Endpoint::from_args("tcp-upper-server", &args(bad)).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{bad:?}");
            assert!(err
                .to_string()
                .contains("usage: tcp-upper-server HOST PORT"));
        }
        assert_eq!(tcp_server(&args(&["only-host"])), 2);
        assert_eq!(udp_client(&[]), 2);
    }

    #[test]
    fn ipv6_endpoint_is_bracketed() {
        let e = Endpoint {
            host: "::1".into(),
            port: 9,
        };
        assert_eq!(e.to_string(), "[::1]:9");
    }

    #[test]
    fn read_line_strips_one_line_ending() {
        assert_eq!(
            read_line(&mut &b"hello\r\nnext\n"[..]).ok(),
            Some(b"hello".to_vec())
        );
        assert_eq!(
            read_line(&mut &b"no newline"[..]).ok(),
            Some(b"no newline".to_vec())
        );
        assert_eq!(read_line(&mut &b"\n"[..]).ok(), Some(Vec::new()));
        assert!(matches!(
            read_line(&mut &b""[..]),
            Err(LabError::StdinEmpty)
        ));
    }

    #[test]
    fn tcp_round_trips_serve_clients_one_after_another() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let endpoint = endpoint_of(listener.local_addr().expect("local addr"));
        let server = thread::spawn(move || serve_tcp(&listener, Some(3)));
        let reply = tcp_exchange(&endpoint, b"hello, World &*! 123").expect("first client");
        assert_eq!(reply, b"HELLO, WORLD &*! 123");
        let reply = tcp_exchange(&endpoint, b"second client").expect("second client");
        assert_eq!(reply, b"SECOND CLIENT");
        let reply = tcp_exchange(&endpoint, b"").expect("empty line");
        assert_eq!(reply, b"");
        server.join().expect("server thread").expect("server");
    }

    #[test]
    fn tcp_server_answers_netcat_style_lines_on_one_connection() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let server = thread::spawn(move || serve_tcp(&listener, Some(1)));
        let mut stream = TcpStream::connect(addr).expect("connect");
        let mut buf = [0u8; 64];
        for line in [&b"first line\n"[..], b"Second Line\n"] {
            stream.write_all(line).expect("send");
            let n = stream.read(&mut buf).expect("recv");
            assert_eq!(&buf[..n], &upper(line)[..]);
        }
        stream.shutdown(Shutdown::Write).expect("half-close");
        assert_eq!(stream.read(&mut buf).expect("server closes"), 0);
        server.join().expect("server thread").expect("server");
    }

    #[test]
    fn tcp_bind_conflict_names_address_and_os_error() {
        let first = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let endpoint = endpoint_of(first.local_addr().expect("local addr"));
        let err = endpoint.bind_tcp().unwrap_err();
        assert_eq!(err.exit_code(), 1);
        let msg = err.to_string();
        assert!(
            msg.starts_with(&format!("cannot bind {endpoint}: ")),
            "{msg}"
        );
        assert!(msg.contains("Address already in use"), "{msg}");
    }

    #[test]
    fn tcp_connect_refused_names_address() {
        // A port just freed on loopback: nothing listens there, so the SYN is answered by RST.
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("ephemeral port")
            .port();
        let endpoint = Endpoint {
            host: "127.0.0.1".into(),
            port,
        };
        let err = tcp_exchange(&endpoint, b"x").unwrap_err();
        let msg = err.to_string();
        assert_eq!(
            msg,
            format!("cannot connect to 127.0.0.1:{port}: Connection refused (os error 111)")
        );
    }

    #[test]
    fn udp_round_trip() {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind loopback");
        let endpoint = endpoint_of(socket.local_addr().expect("local addr"));
        let server = thread::spawn(move || serve_udp(&socket, Some(2)));
        let reply = udp_exchange(&endpoint, b"hello, World &*! 123").expect("exchange");
        assert_eq!(reply, b"HELLO, WORLD &*! 123");
        let reply = udp_exchange(&endpoint, b"again").expect("exchange");
        assert_eq!(reply, b"AGAIN");
        server.join().expect("server thread");
    }

    #[test]
    fn udp_client_without_server_blocks_instead_of_failing() {
        let port = UdpSocket::bind("127.0.0.1:0")
            .and_then(|s| s.local_addr())
            .expect("ephemeral port")
            .port();
        let endpoint = Endpoint {
            host: "127.0.0.1".into(),
            port,
        };
        let (socket, server) = udp_client_socket(&endpoint).expect("client socket");
        socket.send_to(b"lost", server).expect("send succeeds");
        // The ICMP port unreachable comes back at once; an unconnected socket must not report
        // it, so the only outcome is a timeout.
        socket
            .set_read_timeout(Some(Duration::from_millis(200)))
            .expect("timeout");
        let err = socket.recv_from(&mut [0u8; 16]).unwrap_err();
        assert!(is_timeout(&err), "{err}");
    }

    /// The handout-style Python programs of fixture `upper-good`, run by python3.
    mod python {
        use super::*;
        use std::io::BufReader;
        use std::path::PathBuf;
        use std::process::{Child, Command, Stdio};

        fn fixture(file: &str) -> PathBuf {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures/submissions/upper-good")
                .join(file)
        }

        fn python(file: &str, args: &[String]) -> Command {
            let mut cmd = Command::new("python3");
            cmd.arg(fixture(file))
                .args(args)
                .env("PYTHONUNBUFFERED", "1");
            cmd
        }

        fn spawn(mut cmd: Command) -> Child {
            cmd.stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| panic!("python3 is required by this test: {e}"))
        }

        /// Kills the server when the test ends, passed or not.
        struct Server(Child);
        impl Drop for Server {
            fn drop(&mut self) {
                let _ = self.0.kill();
                let _ = self.0.wait();
            }
        }

        fn free_port() -> String {
            TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("free port")
                .port()
                .to_string()
        }

        /// Starts a fixture server and waits for its ready line (no probing connection).
        fn start_server(file: &str, port: &str) -> Server {
            let mut child = spawn(python(file, &args(&["127.0.0.1", port])));
            let stdout = child.stdout.take().expect("piped stdout");
            let mut server = Server(child);
            let mut line = String::new();
            BufReader::new(stdout)
                .read_line(&mut line)
                .expect("ready line");
            if line.trim_end() != READY_LINE {
                let mut err = String::new();
                if let Some(mut e) = server.0.stderr.take() {
                    let _ = e.read_to_string(&mut err);
                }
                panic!("{file} did not get ready: {line:?} {err}");
            }
            server
        }

        fn run_client(file: &str, addr: SocketAddr, input: &str) -> String {
            let mut child = spawn(python(
                file,
                &args(&["127.0.0.1", &addr.port().to_string()]),
            ));
            if let Some(mut stdin) = child.stdin.take() {
                stdin.write_all(input.as_bytes()).expect("client stdin");
            }
            let out = child.wait_with_output().expect("client output");
            assert!(out.status.success(), "{file}: {out:?}");
            String::from_utf8_lossy(&out.stdout).into_owned()
        }

        #[test]
        fn python_tcp_client_against_reference_server() {
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
            let addr = listener.local_addr().expect("local addr");
            let server = thread::spawn(move || serve_tcp(&listener, Some(1)));
            let out = run_client("TCPClient.py", addr, "hello, World &*! 123\n");
            assert_eq!(
                out,
                "Input lowercase sentence:From Server: HELLO, WORLD &*! 123\n"
            );
            server.join().expect("server thread").expect("server");
        }

        #[test]
        fn python_udp_client_against_reference_server() {
            let socket = UdpSocket::bind("127.0.0.1:0").expect("bind loopback");
            let addr = socket.local_addr().expect("local addr");
            let server = thread::spawn(move || serve_udp(&socket, Some(1)));
            let out = run_client("UDPClient.py", addr, "hello, World &*! 123\n");
            assert_eq!(out, "Input lowercase sentence:HELLO, WORLD &*! 123\n");
            server.join().expect("server thread");
        }

        #[test]
        fn reference_tcp_client_against_python_server() {
            let port = free_port();
            let _server = start_server("TCPServer.py", &port);
            let endpoint = Endpoint::from_args("tcp-upper-client", &args(&["127.0.0.1", &port]))
                .expect("endpoint");
            for line in [&b"hello, World &*! 123"[..], b"second client"] {
                let reply = tcp_exchange(&endpoint, line).expect("exchange");
                assert_eq!(reply, upper(line));
            }
        }

        #[test]
        fn reference_udp_client_against_python_server() {
            let port = free_port();
            let _server = start_server("UDPServer.py", &port);
            let endpoint = Endpoint::from_args("udp-upper-client", &args(&["127.0.0.1", &port]))
                .expect("endpoint");
            // udp_exchange has no timeout by design; a broken fixture must not hang the test.
            let (socket, server) = udp_client_socket(&endpoint).expect("client socket");
            socket
                .set_read_timeout(Some(Duration::from_secs(5)))
                .expect("timeout");
            socket
                .send_to(b"hello, World &*! 123", server)
                .expect("send");
            let mut buf = [0u8; 64];
            let (n, _) = socket.recv_from(&mut buf).expect("reply");
            assert_eq!(&buf[..n], b"HELLO, WORLD &*! 123");
        }
    }
}
