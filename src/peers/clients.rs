//! Clients that test servers: a plain one, and two that misbehave on purpose, as real networks
//! and browsers do.
//!
//! - `http-get HOST PORT FILE` sends `GET /FILE HTTP/1.1` and prints the whole response, as the
//!   reference `web-client` does; as a peer it is the web server's other party, never graded.
//! - `idle-client HOST PORT` connects and sends nothing until it is stopped: a browser's spare
//!   connection, or a slow client. A single-threaded server stuck in its `recv` stops serving
//!   everyone else; a check then shows the second client waiting.
//! - `trickle-client HOST PORT FILE` sends `GET /FILE HTTP/1.1` one byte per TCP segment and
//!   prints the response. Each byte is written only once the previous one has been acknowledged
//!   (the kernel's count of unacknowledged bytes, `TIOCOUTQ`, is back to 0), so the segments are
//!   separate whatever the machine's load, and no timer decides it. A server that takes one
//!   `recv` for the whole request sees `G` and answers nonsense or nothing.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use crate::labs::upper::{fail, Endpoint, LabError};

/// How long the trickle client waits for one byte to be acknowledged before sending the next
/// anyway (on loopback an ACK takes microseconds; this only bounds a broken peer).
const ACK_BUDGET: Duration = Duration::from_secs(5);

pub(crate) fn http_get(args: &[String]) -> i32 {
    crate::labs::web::get_and_print("http-get", args, |stream, request| {
        stream.write_all(request)
    })
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

pub(crate) fn trickle_client(args: &[String]) -> i32 {
    crate::labs::web::get_and_print("trickle-client", args, trickle)
}

/// Writes `bytes` one per segment: Nagle off, and each byte only after the last was ACKed.
pub(crate) fn trickle(stream: &mut TcpStream, bytes: &[u8]) -> io::Result<()> {
    stream.set_nodelay(true)?;
    for b in bytes {
        stream.write_all(std::slice::from_ref(b))?;
        let start = Instant::now();
        while unacknowledged(stream)? > 0 && start.elapsed() < ACK_BUDGET {
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
