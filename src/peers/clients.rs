//! Clients that test servers: a plain one, and two that misbehave on purpose, as real networks
//! and browsers do.
//!
//! - `http-get HOST PORT FILE` sends `GET /FILE HTTP/1.1` and prints the whole response, as the
//!   reference `web-client` does; as a peer it is the web server's other party, never graded.
//! - `idle-client HOST PORT` connects and sends nothing until it is stopped: a browser's spare
//!   connection, or a slow client. A single-threaded server stuck in its `recv` stops serving
//!   everyone else; a check then shows the second client waiting.
//! - `proxy-client PROXY_HOST PROXY_PORT ORIGIN_HOST ORIGIN_PORT FILE [--form F]` asks a proxy
//!   for `http://ORIGIN_HOST:ORIGIN_PORT/FILE` in absolute form, as `curl -x` does (request line
//!   `GET http://origin:port/FILE HTTP/1.1`, `Host: origin:port`), or with `--form skeleton` in
//!   the textbook skeleton's form (`GET /origin:port/FILE`, `Host:` the proxy, as a browser
//!   pointed at `http://proxy:port/origin:port/FILE` sends), and prints the response.
//! - `trickle-client HOST PORT FILE` sends `GET /FILE HTTP/1.1` one byte per TCP segment and
//!   prints the response. Each byte is written only once the previous one has been acknowledged
//!   (the kernel's count of unacknowledged bytes, `TIOCOUTQ`, is back to 0) and read by the
//!   server (its socket's receive queue in `/proc/net/tcp` is empty, where the server is in the
//!   same network namespace), so the segments are separate and each `recv` of the server gets
//!   one byte, whatever the machine's load; no timer decides it. A server that takes one `recv`
//!   for the whole request sees `G` and answers nonsense or nothing.
//! - `concurrent-clients HOST PORT FILE N` opens N connections, one after another, and only
//!   once all are open sends `GET /FILE` on the last one, reads its whole response, then on the
//!   one before, down to the first. Every connection but the one asking is open and silent
//!   while it is served, so only a server that serves connections concurrently answers them
//!   all: one that serves one connection at a time waits in `recv` on the first and never
//!   reads the last one's request. The order is the client's, fixed; no timer decides it.
//!   Prints `connection I: STATUS LINE (B bytes)` per answer, and `all N connections answered
//!   with 200 OK` when they were.
//! - `slow-reader HOST PORT FILE` sends `GET /FILE` and reads nothing of the response until a
//!   line arrives on its stdin (a client on a slow link, or a stalled browser tab): a server
//!   that writes a large file to it fills the socket buffers and waits in `send`. Then it reads
//!   the whole response and prints its status line and size.
//! - `udp-ask HOST PORT MESSAGE...` sends each message in a datagram of its own, from one
//!   socket, and prints `MESSAGE -> ANSWER` for each, or that none came within
//!   [`UDP_ASK_CEILING`] (a ceiling a silent server meets, never an answering one). It asks a
//!   date/time server what its client may never send: a request in a fixed order, an unknown
//!   one.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use crate::labs::upper::{fail, say, udp_client_socket, udp_round_trip, Endpoint, LabError};

/// How long the trickle client waits for one byte to be acknowledged before sending the next
/// anyway (on loopback an ACK takes microseconds; this only bounds a broken peer).
const ACK_BUDGET: Duration = Duration::from_secs(5);

pub(crate) fn http_get(args: &[String]) -> i32 {
    crate::labs::web::get_and_print("http-get", args, |stream, request| {
        stream.write_all(request)
    })
}

/// How long `udp-ask` waits for each answer: a ceiling, met only by a server that stays silent
/// (a datagram answered on loopback arrives in microseconds, on a loaded machine in a few
/// milliseconds), so that one unanswered request does not keep the next from being asked.
pub(crate) const UDP_ASK_CEILING: Duration = Duration::from_secs(5);

pub(crate) fn udp_ask(args: &[String]) -> i32 {
    let run = || -> Result<(), LabError> {
        let usage = super::usage_of("udp-ask");
        let [host, port, messages @ ..] = args else {
            return Err(LabError::Usage {
                role: "udp-ask",
                usage,
                problem: format!(
                    "expected HOST PORT MESSAGE..., got {} arguments",
                    args.len()
                ),
            });
        };
        let endpoint = Endpoint::parse("udp-ask", usage, host, port)?;
        ask_each(&endpoint, messages, UDP_ASK_CEILING, &mut io::stdout())
    };
    run().map_or_else(|e| fail(&e), |()| 0)
}

/// Sends each message from one socket and prints `<message> -> <answer>`, or that no answer
/// came within `ceiling`.
pub(crate) fn ask_each(
    endpoint: &Endpoint,
    messages: &[String],
    ceiling: Duration,
    out: &mut impl Write,
) -> Result<(), LabError> {
    let (socket, server) = udp_client_socket(endpoint)?;
    socket
        .set_read_timeout(Some(ceiling))
        .map_err(|source| LabError::Receive {
            addr: endpoint.to_string(),
            source,
        })?;
    for m in messages {
        let line = match udp_round_trip(&socket, server, endpoint, m.as_bytes()) {
            Ok(answer) => format!("{m} -> {}", String::from_utf8_lossy(&answer).trim_end()),
            Err(LabError::Receive { source, .. })
                if matches!(
                    source.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                format!("{m} -> no answer within {} ms", ceiling.as_millis())
            }
            Err(e) => format!("{m} -> {e}"),
        };
        let _ = writeln!(out, "{line}").and_then(|()| out.flush());
    }
    Ok(())
}

pub(crate) fn idle_client(args: &[String]) -> i32 {
    let run = || -> Result<(), LabError> {
        let endpoint = Endpoint::from_args("idle-client", args)?;
        let mut stream = endpoint.connect_tcp()?;
        println!("connected to {endpoint}; sending nothing");
        // Reads until the server closes; an answer to nothing is printed as received.
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let mut out = io::stdout().lock();
                    let _ = out.write_all(&buf[..n]).and_then(|()| out.flush());
                }
            }
        }
        println!("the server closed the connection");
        Ok(())
    };
    run().map_or_else(|e| fail(&e), |()| 0)
}

/// `proxy-client`'s calling convention.
pub(crate) const PROXY_CLIENT_USAGE: &str =
    "PROXY_HOST PROXY_PORT ORIGIN_HOST ORIGIN_PORT FILE [--form absolute|skeleton]";

/// How a client names the object it asks a proxy for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RequestForm {
    /// `GET http://origin:port/FILE`, with `Host: origin:port`: what `curl -x` and browsers
    /// configured with a proxy send (RFC 9112 3.2.2).
    Absolute,
    /// `GET /origin:port/FILE`, with `Host: proxy:port`: what a browser sends when it is pointed
    /// at the textbook skeleton's URL `http://proxy:port/origin:port/FILE`.
    Skeleton,
}

impl RequestForm {
    pub(crate) fn parse(word: &str) -> Option<RequestForm> {
        match word {
            "absolute" => Some(RequestForm::Absolute),
            "skeleton" => Some(RequestForm::Skeleton),
            _ => None,
        }
    }
}

/// The request `proxy-client` sends for `file` at `origin` through `proxy`, in `form`.
pub(crate) fn proxy_request(
    form: RequestForm,
    proxy: &Endpoint,
    origin: &Endpoint,
    file: &str,
) -> String {
    let file = file.trim_start_matches('/');
    let (target, host) = match form {
        RequestForm::Absolute => (format!("http://{origin}/{file}"), origin.to_string()),
        RequestForm::Skeleton => (format!("/{origin}/{file}"), proxy.to_string()),
    };
    format!(
        "GET {target} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: socklab-proxy-client\r\n\
         Accept: */*\r\nConnection: close\r\n\r\n"
    )
}

/// `proxy-client PROXY_HOST PROXY_PORT ORIGIN_HOST ORIGIN_PORT FILE [--form F]`: asks the proxy
/// for `http://ORIGIN_HOST:ORIGIN_PORT/FILE` and prints the response as it arrives (so that an
/// expectation sees the status line even from a proxy that never closes), until the proxy
/// closes.
pub(crate) fn proxy_client(args: &[String]) -> i32 {
    let run = || -> Result<(), LabError> {
        let usage = |problem: String| LabError::Usage {
            role: "proxy-client",
            usage: PROXY_CLIENT_USAGE,
            problem,
        };
        let (positional, form) = match args {
            [head @ .., flag, value] if flag == "--form" => {
                let form = RequestForm::parse(value).ok_or_else(|| {
                    usage(format!("--form takes absolute or skeleton, not {value:?}"))
                })?;
                (head, form)
            }
            _ => (args, RequestForm::Absolute),
        };
        let [proxy_host, proxy_port, origin_host, origin_port, file] = positional else {
            return Err(usage(format!(
                "expected 5 arguments before the options, got {}",
                positional.len()
            )));
        };
        let proxy = Endpoint::parse("proxy-client", PROXY_CLIENT_USAGE, proxy_host, proxy_port)?;
        let origin = Endpoint::parse("proxy-client", PROXY_CLIENT_USAGE, origin_host, origin_port)?;
        let mut stream = proxy.connect_tcp()?;
        let request = proxy_request(form, &proxy, &origin, file);
        stream
            .write_all(request.as_bytes())
            .map_err(|source| LabError::Send {
                addr: proxy.to_string(),
                source,
            })?;
        let mut buf = [0u8; 16 * 1024];
        loop {
            match stream.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    let mut out = io::stdout().lock();
                    let _ = out.write_all(&buf[..n]).and_then(|()| out.flush());
                }
                Err(source) => {
                    return Err(LabError::Receive {
                        addr: proxy.to_string(),
                        source,
                    })
                }
            }
        }
        Ok(())
    };
    run().map_or_else(|e| fail(&e), |()| 0)
}

pub(crate) fn trickle_client(args: &[String]) -> i32 {
    crate::labs::web::get_and_print("trickle-client", args, trickle)
}

pub(crate) fn concurrent_clients(args: &[String]) -> i32 {
    const USAGE: &str = "HOST PORT FILE N";
    let run = || -> Result<(), LabError> {
        let (endpoint, rest) = Endpoint::with_rest("concurrent-clients", USAGE, args)?;
        let n: usize = rest[1]
            .parse()
            .ok()
            .filter(|n| (1..=64).contains(n))
            .ok_or_else(|| LabError::Usage {
                role: "concurrent-clients",
                usage: USAGE,
                problem: format!("N must be a number from 1 to 64, not {:?}", rest[1]),
            })?;
        let mut connections = Vec::with_capacity(n);
        for _ in 0..n {
            connections.push(endpoint.connect_tcp()?);
        }
        say(
            &mut io::stdout(),
            format!("{n} connections open; asking on the last one first"),
        );
        let request = crate::labs::web::request_for(&endpoint, &rest[0]);
        let mut all_ok = true;
        for (i, stream) in connections.iter_mut().enumerate().rev() {
            stream
                .write_all(request.as_bytes())
                .map_err(|source| LabError::Send {
                    addr: endpoint.to_string(),
                    source,
                })?;
            let response = crate::labs::web::read_response(stream, &endpoint)?;
            let status = status_line(&response);
            all_ok &= is_200(&status);
            say(
                &mut io::stdout(),
                format!("connection {}: {status} ({} bytes)", i + 1, response.len()),
            );
        }
        if all_ok {
            say(
                &mut io::stdout(),
                format!("all {n} connections answered with 200 OK"),
            );
        }
        Ok(())
    };
    run().map_or_else(|e| fail(&e), |()| 0)
}

pub(crate) fn slow_reader(args: &[String]) -> i32 {
    let run = || -> Result<(), LabError> {
        let (endpoint, rest) = Endpoint::with_rest("slow-reader", "HOST PORT FILE", args)?;
        let response = crate::labs::web::fetch_with(&endpoint, &rest[0], |stream, request| {
            stream.write_all(request)?;
            say(
                &mut io::stdout(),
                "request sent; reading nothing until a line on stdin",
            );
            let mut line = String::new();
            // End of input reads too: the scenario decides when, by a line or by closing stdin.
            let _ = io::stdin().read_line(&mut line);
            Ok(())
        })?;
        let status = status_line(&response);
        say(
            &mut io::stdout(),
            format!("{status}; the whole response: {} bytes", response.len()),
        );
        Ok(())
    };
    run().map_or_else(|e| fail(&e), |()| 0)
}

/// The response's first line (its status line), as text.
fn status_line(response: &[u8]) -> std::borrow::Cow<'_, str> {
    response
        .split(|&b| b == b'\r' || b == b'\n')
        .next()
        .map(String::from_utf8_lossy)
        .unwrap_or_default()
}

fn is_200(status: &str) -> bool {
    status.starts_with("HTTP/1.") && status.split(' ').nth(1) == Some("200")
}

/// Writes `bytes` one per segment: Nagle off, and each byte only after the last was ACKed.
pub(crate) fn trickle(stream: &mut TcpStream, bytes: &[u8]) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let (server, client) = (stream.peer_addr()?, stream.local_addr()?);
    for b in bytes {
        stream.write_all(std::slice::from_ref(b))?;
        let start = Instant::now();
        // Acknowledged, then read by the server: a byte that waits in the server's receive
        // queue would be read together with the next ones by a single `recv`, so a server
        // that is slow to call it (a loaded machine) would get the request whole.
        let unread = || crate::exec::procfs::tcp_unread(server, client);
        while (unacknowledged(stream)? > 0 || unread().is_some_and(|n| n > 0))
            && start.elapsed() < ACK_BUDGET
        {
            // A server that answered after the first bytes and closed resets the connection
            // at the next one: that is the end of the request, not a byte to wait for.
            if let Some(e) = stream.take_error()? {
                return Err(e);
            }
            std::thread::sleep(Duration::from_micros(200));
        }
    }
    Ok(())
}

/// Bytes written to `stream` and not yet acknowledged by the peer (`TIOCOUTQ`, tcp(7)).
fn unacknowledged(stream: &TcpStream) -> io::Result<libc::c_int> {
    let mut n: libc::c_int = 0;
    // SAFETY: TIOCOUTQ writes one int through the pointer, which is valid for the call.
    let rc = unsafe { libc::ioctl(stream.as_raw_fd(), libc::TIOCOUTQ, &mut n) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn udp_ask_prints_each_answer_and_a_silence() {
        let server = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind loopback");
        let addr = server.local_addr().expect("local addr");
        let answering = std::thread::spawn(move || {
            let mut buf = [0u8; 64];
            let (n, peer) = server.recv_from(&mut buf).expect("first request");
            server
                .send_to(&buf[..n].to_ascii_lowercase(), peer)
                .expect("answer");
            // The second request is read and left unanswered.
            server.recv_from(&mut buf).expect("second request");
        });
        let endpoint = Endpoint {
            host: addr.ip().to_string(),
            port: addr.port(),
        };
        let messages = ["HELLO".to_string(), "SILENCE".to_string()];
        let mut out = Vec::new();
        ask_each(&endpoint, &messages, Duration::from_millis(300), &mut out).expect("ask");
        answering.join().expect("server thread");
        assert_eq!(
            String::from_utf8(out).expect("utf-8"),
            "HELLO -> hello\nSILENCE -> no answer within 300 ms\n"
        );
    }

    #[test]
    fn a_proxy_request_names_the_object_as_curl_or_the_skeleton_does() {
        let proxy = Endpoint {
            host: "192.0.2.1".into(),
            port: 8888,
        };
        let origin = Endpoint {
            host: "192.0.2.2".into(),
            port: 8080,
        };
        let abs = proxy_request(RequestForm::Absolute, &proxy, &origin, "HelloWorld.html");
        assert!(
            abs.starts_with(
                "GET http://192.0.2.2:8080/HelloWorld.html HTTP/1.1\r\nHost: 192.0.2.2:8080\r\n"
            ),
            "{abs}"
        );
        let skel = proxy_request(RequestForm::Skeleton, &proxy, &origin, "/HelloWorld.html");
        assert!(
            skel.starts_with(
                "GET /192.0.2.2:8080/HelloWorld.html HTTP/1.1\r\nHost: 192.0.2.1:8888\r\n"
            ),
            "{skel}"
        );
        assert!(abs.ends_with("\r\n\r\n") && skel.ends_with("\r\n\r\n"));
        // The proxy under test must understand what it is sent: the reference does, either way.
        for request in [&abs, &skel] {
            let target = request.split(' ').nth(1).unwrap();
            let object = crate::labs::proxy::Object::from_target(target).unwrap();
            assert_eq!(object.url(), "http://192.0.2.2:8080/HelloWorld.html");
        }
    }

    #[test]
    fn a_trickled_request_arrives_whole_once_every_byte_is_acknowledged() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let request = b"GET /a HTTP/1.1\r\n\r\n";
        let client = std::thread::spawn(move || {
            let mut s = TcpStream::connect(addr).unwrap();
            trickle(&mut s, request).unwrap();
        });
        let (mut s, _) = listener.accept().unwrap();
        client.join().unwrap();
        // The client returned only once every byte was acknowledged (so each went in its own
        // segment; the web lab's wire checks count them), and nothing was lost or reordered.
        let mut got = Vec::new();
        s.read_to_end(&mut got).unwrap();
        assert_eq!(got, request);
    }
}
