//! The `hello` lab: the template programs of seed 003 (LABS.md), parts 1 and 4.
//!
//! Purpose: reference peers for the two templates, printing exactly the lines of the handout so
//! a student's output can be compared with them:
//! - `udp-hello-server HOST PORT` prints `Server started...waiting for a connection from the
//!   client`, then for each datagram `Server received MESSAGE= <msg> from ADDR= <ip>:<port>` and
//!   replies `Ok`, forever.
//! - `udp-hello-client HOST PORT` sends the joke [`JOKE`] and prints
//!   `Client received MESSAGE= <reply>` (no timeout, as in the upper lab's UDP client).
//! - `tcp-hello-server HOST PORT` prints the same ready line, then for each client, one after
//!   another, `Connection initiated from <ip>:<port>` and `SERVER RECEIVED: <msg>`, answers
//!   `Whose there?` and closes.
//! - `tcp-hello-client HOST PORT` sends `Knock Knock..` and prints `CLIENT RECEIVED: <reply>`.
//!
//! Messages are sent without a newline, as the templates do; a received message is printed
//! with one trailing line ending removed and invalid UTF-8 replaced, so each print is one line.
//! Exit codes and error messages are those of the upper lab (see [`super::upper`]).

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};

use super::upper::{
    self, accept_each, answer_each, close_gracefully, fail, say, strip_line_ending, Endpoint,
    LabError,
};

/// What the UDP client sends (seed 003).
pub(crate) const JOKE: &str = "I could tell you a UDP joke but I'm not sure you'll get it.";
/// The UDP server's answer to every datagram.
pub(crate) const UDP_REPLY: &str = "Ok";
/// What the TCP client sends.
pub(crate) const KNOCK: &str = "Knock Knock..";
/// The TCP server's answer.
pub(crate) const WHOSE: &str = "Whose there?";
/// The ready line both servers print once bound, as the template does.
pub(crate) const READY_LINE: &str = "Server started...waiting for a connection from the client";

const CHUNK: usize = 65536;

/// A received message as one printable line.
fn printable(bytes: &[u8]) -> String {
    let mut bytes = bytes.to_vec();
    strip_line_ending(&mut bytes);
    String::from_utf8_lossy(&bytes).into_owned()
}

pub(crate) fn udp_server(args: &[String]) -> i32 {
    let run = || -> Result<(), LabError> {
        let endpoint = Endpoint::from_args("udp-hello-server", args)?;
        let socket = endpoint.bind_udp()?;
        let mut out = io::stdout();
        say(&mut out, READY_LINE);
        serve_udp(&socket, &mut out, None);
        Ok(())
    };
    run().map_or_else(|e| fail(&e), |()| 0)
}

/// Prints and answers `limit` datagrams (or forever); errors are reported and skipped.
pub(crate) fn serve_udp(socket: &UdpSocket, out: &mut impl Write, limit: Option<usize>) {
    answer_each(socket, limit, |data, peer| {
        say(
            out,
            format!(
                "Server received MESSAGE= {} from ADDR= {peer}",
                printable(data)
            ),
        );
        UDP_REPLY.as_bytes().to_vec()
    });
}

pub(crate) fn udp_client(args: &[String]) -> i32 {
    let run = || -> Result<(), LabError> {
        let endpoint = Endpoint::from_args("udp-hello-client", args)?;
        let reply = udp_exchange(&endpoint)?;
        say(
            &mut io::stdout(),
            format!("Client received MESSAGE= {}", printable(&reply)),
        );
        Ok(())
    };
    run().map_or_else(|e| fail(&e), |()| 0)
}

/// Sends the joke and returns the first datagram that comes back (no timeout, on purpose).
pub(crate) fn udp_exchange(endpoint: &Endpoint) -> Result<Vec<u8>, LabError> {
    upper::udp_exchange(endpoint, JOKE.as_bytes())
}

pub(crate) fn tcp_server(args: &[String]) -> i32 {
    let run = || -> Result<(), LabError> {
        let endpoint = Endpoint::from_args("tcp-hello-server", args)?;
        let listener = endpoint.bind_tcp()?;
        let mut out = io::stdout();
        say(&mut out, READY_LINE);
        serve_tcp(&listener, &mut out, None)
    };
    run().map_or_else(|e| fail(&e), |()| 0)
}

/// Serves `limit` clients (or forever), one after another; a client's failure is reported on
/// stderr and the server goes on with the next one.
pub(crate) fn serve_tcp(
    listener: &TcpListener,
    out: &mut impl Write,
    limit: Option<usize>,
) -> Result<(), LabError> {
    accept_each(listener, limit, |stream, peer| {
        say(out, format!("Connection initiated from {peer}"));
        answer_knock(stream, out)
    })
}

/// One exchange, as in the template: one message in, one answer out, then close. A client that
/// closes without saying anything gets no answer and no `SERVER RECEIVED` line.
fn answer_knock(stream: &mut TcpStream, out: &mut impl Write) -> io::Result<()> {
    let mut buf = vec![0u8; CHUNK];
    let n = stream.read(&mut buf)?;
    if n == 0 {
        return Ok(());
    }
    say(out, format!("SERVER RECEIVED: {}", printable(&buf[..n])));
    stream.write_all(WHOSE.as_bytes())?;
    close_gracefully(stream);
    Ok(())
}

pub(crate) fn tcp_client(args: &[String]) -> i32 {
    let run = || -> Result<(), LabError> {
        let endpoint = Endpoint::from_args("tcp-hello-client", args)?;
        let reply = tcp_exchange(&endpoint)?;
        say(
            &mut io::stdout(),
            format!("CLIENT RECEIVED: {}", printable(&reply)),
        );
        Ok(())
    };
    run().map_or_else(|e| fail(&e), |()| 0)
}

/// Knocks and returns the first chunk of the answer (empty if the server closes silently).
pub(crate) fn tcp_exchange(endpoint: &Endpoint) -> Result<Vec<u8>, LabError> {
    let mut stream = endpoint.connect_tcp()?;
    stream
        .write_all(KNOCK.as_bytes())
        .map_err(|source| LabError::Send {
            addr: endpoint.to_string(),
            source,
        })?;
    let mut buf = vec![0u8; CHUNK];
    let n = stream.read(&mut buf).map_err(|source| LabError::Receive {
        addr: endpoint.to_string(),
        source,
    })?;
    close_gracefully(&mut stream);
    Ok(buf[..n].to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::thread;

    fn endpoint_of(addr: std::net::SocketAddr) -> Endpoint {
        Endpoint {
            host: addr.ip().to_string(),
            port: addr.port(),
        }
    }

    fn lines(out: Vec<u8>) -> Vec<String> {
        String::from_utf8(out)
            .expect("utf-8 output")
            .lines()
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn udp_joke_gets_ok() {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind loopback");
        let endpoint = endpoint_of(socket.local_addr().expect("local addr"));
        let server = thread::spawn(move || {
            let mut out = Vec::new();
            serve_udp(&socket, &mut out, Some(1));
            out
        });
        let reply = udp_exchange(&endpoint).expect("exchange");
        assert_eq!(reply, b"Ok");
        let out = lines(server.join().expect("server thread"));
        assert_eq!(out.len(), 1, "{out:?}");
        let prefix = format!("Server received MESSAGE= {JOKE} from ADDR= 127.0.0.1:");
        assert!(out[0].starts_with(&prefix), "{out:?}");
        let port = &out[0][prefix.len()..];
        assert!(port.parse::<u16>().is_ok_and(|p| p != 0), "{out:?}");
    }

    #[test]
    fn tcp_knock_knock_twice() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let endpoint = endpoint_of(listener.local_addr().expect("local addr"));
        let server = thread::spawn(move || {
            let mut out = Vec::new();
            serve_tcp(&listener, &mut out, Some(2)).map(|()| out)
        });
        for _ in 0..2 {
            assert_eq!(tcp_exchange(&endpoint).expect("exchange"), b"Whose there?");
        }
        let out = lines(server.join().expect("server thread").expect("server"));
        assert_eq!(out.len(), 4, "{out:?}");
        for pair in out.chunks(2) {
            assert!(pair[0].starts_with("Connection initiated from 127.0.0.1:"));
            assert_eq!(pair[1], "SERVER RECEIVED: Knock Knock..");
        }
    }

    #[test]
    fn printable_strips_one_line_ending_and_replaces_bad_utf8() {
        assert_eq!(printable(b"hi\r\n"), "hi");
        assert_eq!(printable(b"a\xffb"), "a\u{fffd}b");
    }

    #[test]
    fn bad_args_exit_2() {
        assert_eq!(udp_server(&["x".to_string()]), 2);
        assert_eq!(tcp_client(&["h".to_string(), "p".to_string()]), 2);
    }
}
