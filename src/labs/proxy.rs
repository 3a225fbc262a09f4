//! The `proxy` lab: a multi-threaded caching web proxy (LABS.md, seeds 001, 002).
//!
//! `proxy HOST PORT` prints `Ready to serve...` once listening and serves each client on a
//! thread of its own, so a slow object never blocks another client. A request names its object
//! in either form the lab allows:
//! - absolute form, what curl (`curl -x`) and browsers send to a proxy:
//!   `GET http://host:port/path HTTP/1.1`;
//! - the textbook skeleton's form, `GET /host:port/path HTTP/1.1` (port 80 when left out).
//!
//! Both name the same cache entry, `http://host:port/path`. On a miss the proxy opens one
//! connection to the origin, sends `GET /path` with `Connection: close`, and passes the bytes to
//! the client as they arrive, byte for byte; a complete `200` response (as long as its
//! `Content-Length` says, or up to the origin's close) is then kept, and the next request for
//! the same object is answered from memory with no connection to the origin: the cache hit lab
//! question 2 asks students to show in Wireshark. An origin that cannot be reached within
//! [`CONNECT_BUDGET`] gets `502 Bad Gateway`, one that stops answering for [`ORIGIN_IDLE`]
//! `504 Gateway Timeout` (when nothing was sent yet), never a hang. Only GET is served.
//! One line per request on stdout: `GET http://h:p/x 200 (miss, 120 bytes)`.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::http;
use super::upper::{close_gracefully, fail, say, Endpoint, LabError};

/// How long the proxy tries to reach an origin.
pub(crate) const CONNECT_BUDGET: Duration = Duration::from_secs(5);
/// How long an origin may stay silent in the middle of a response.
pub(crate) const ORIGIN_IDLE: Duration = Duration::from_secs(30);
/// Largest object kept in the cache; larger ones are passed through, uncached.
const CACHE_OBJECT_MAX: usize = 32 * 1024 * 1024;

const HTML: &str = "text/html; charset=utf-8";

/// Complete `200` responses by object URL, head and body as the origin sent them.
type Cache = Arc<Mutex<HashMap<String, Arc<Vec<u8>>>>>;

pub(crate) fn proxy(args: &[String]) -> i32 {
    let run = || -> Result<(), LabError> {
        let endpoint = Endpoint::from_args("proxy", args)?;
        let listener = endpoint.bind_tcp()?;
        say(&mut io::stdout(), super::web::READY_LINE);
        serve(&listener, None)
    };
    run().map_or_else(|e| fail(&e), |()| 0)
}

/// Accepts clients (`limit` of them, or forever), each on its own thread, sharing one cache.
pub(crate) fn serve(listener: &TcpListener, limit: Option<usize>) -> Result<(), LabError> {
    let cache = Cache::default();
    super::upper::accept_threads(listener, limit, move |stream, peer| {
        if let Err(e) = serve_one(stream, &cache) {
            eprintln!("client {peer}: {e}");
        }
    })
}

/// The object a request names: where its origin is and what to ask it for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Object {
    pub host: String,
    pub port: u16,
    /// Origin-form path, `/` at least.
    pub path: String,
}

impl Object {
    /// Parses an absolute-form target (`http://host[:port]/path`) or the skeleton's
    /// (`/host[:port]/path`).
    pub(crate) fn from_target(target: &str) -> Option<Object> {
        let rest = match target.get(..7) {
            Some(scheme) if scheme.eq_ignore_ascii_case("http://") => &target[7..],
            _ => target.strip_prefix('/')?,
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => (h, p.parse().ok()?),
            _ => (authority, 80),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() || host.contains(['@', ' ']) {
            return None;
        }
        Some(Object {
            host: host.to_string(),
            port,
            path: path.to_string(),
        })
    }

    /// The cache key: one per object, whichever form named it.
    pub(crate) fn url(&self) -> String {
        if self.host.contains(':') {
            format!("http://[{}]:{}{}", self.host, self.port, self.path)
        } else {
            format!("http://{}:{}{}", self.host, self.port, self.path)
        }
    }
}

fn serve_one(mut client: TcpStream, cache: &Cache) -> io::Result<()> {
    client.set_read_timeout(Some(ORIGIN_IDLE))?;
    let Some((request, _)) = http::read_request(&mut client)? else {
        return Ok(());
    };
    let log = |what: String| {
        say(
            &mut io::stdout(),
            format!("{} {} {what}", request.method, request.target),
        )
    };
    if request.method != "GET" {
        let page = http::error_page(
            501,
            &format!("this proxy forwards GET only, not {}", request.method),
        );
        http::respond(&mut client, 501, HTML, &page)?;
        log("501".into());
        return Ok(());
    }
    let Some(object) = Object::from_target(&request.target) else {
        let page = http::error_page(
            400,
            &format!(
                "{} names no object: send http://host:port/path or /host:port/path",
                request.target
            ),
        );
        http::respond(&mut client, 400, HTML, &page)?;
        log("400".into());
        return Ok(());
    };
    let url = object.url();
    let cached = cache
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&url)
        .cloned();
    if let Some(bytes) = cached {
        client.write_all(&bytes)?;
        log(format!("200 (hit, {} bytes)", bytes.len()));
        close_gracefully(&mut client);
        return Ok(());
    }
    match forward(&object, &mut client) {
        Ok(Forwarded {
            status,
            bytes,
            complete,
            sent,
        }) => {
            let keep = status == 200 && complete && bytes.len() <= CACHE_OBJECT_MAX;
            log(format!(
                "{status} (miss, {sent} bytes{})",
                if keep { "" } else { ", not cached" }
            ));
            if keep {
                cache
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(url, Arc::new(bytes));
            }
        }
        Err(Failed {
            status,
            detail,
            sent,
        }) => {
            if sent == 0 {
                http::respond(
                    &mut client,
                    status,
                    HTML,
                    &http::error_page(status, &detail),
                )?;
            }
            log(format!("{status} ({detail})"));
        }
    }
    close_gracefully(&mut client);
    Ok(())
}

/// A response passed on from the origin.
struct Forwarded {
    status: u16,
    /// What was passed on, kept for the cache while small enough (empty once too large).
    bytes: Vec<u8>,
    complete: bool,
    sent: usize,
}

/// Why the origin's response could not be passed on, and the status for the client.
struct Failed {
    status: u16,
    detail: String,
    /// Bytes already passed on (then no error response can follow).
    sent: usize,
}

/// Fetches `object` from its origin over one connection and passes each chunk on to `client`
/// as it arrives.
fn forward(object: &Object, client: &mut TcpStream) -> Result<Forwarded, Failed> {
    let origin = format!("{}:{}", object.host, object.port);
    let fail = |status, detail: String, sent| Failed {
        status,
        detail,
        sent,
    };
    let mut upstream = connect(&object.host, object.port)
        .map_err(|e| fail(502, format!("cannot reach {origin}: {e}"), 0))?;
    let _ = upstream.set_read_timeout(Some(ORIGIN_IDLE));
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {origin}\r\nUser-Agent: socklab-proxy\r\nConnection: close\r\n\r\n",
        object.path
    );
    upstream
        .write_all(request.as_bytes())
        .map_err(|e| fail(502, format!("cannot send to {origin}: {e}"), 0))?;
    let mut bytes = Vec::new();
    let mut sent = 0;
    let mut cacheable = true;
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let n = match upstream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                let detail = format!("{origin} sent nothing for {} s", ORIGIN_IDLE.as_secs());
                return Err(fail(504, detail, sent));
            }
            Err(e) => return Err(fail(502, format!("reading from {origin}: {e}"), sent)),
        };
        client
            .write_all(&chunk[..n])
            .map_err(|e| fail(502, format!("the client went away: {e}"), sent))?;
        sent += n;
        if cacheable {
            bytes.extend_from_slice(&chunk[..n]);
            cacheable = bytes.len() <= CACHE_OBJECT_MAX;
        }
    }
    if sent == 0 {
        return Err(fail(502, format!("{origin} closed without a response"), 0));
    }
    let head = http::response_head(&bytes).ok().flatten();
    let (status, complete) = match head {
        Some(h) => (h.status, cacheable && h.complete(&bytes)),
        None => (0, false),
    };
    if !cacheable {
        bytes.clear();
    }
    Ok(Forwarded {
        status,
        bytes,
        complete,
        sent,
    })
}

/// Connects to the first address of `host` that answers within the budget.
fn connect(host: &str, port: u16) -> io::Result<TcpStream> {
    let addrs: Vec<SocketAddr> = (host, port).to_socket_addrs()?.collect();
    let mut last = io::Error::new(io::ErrorKind::NotFound, "no address found");
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, CONNECT_BUDGET) {
            Ok(s) => return Ok(s),
            Err(e) => last = e,
        }
    }
    Err(last)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// An origin on loopback answering `clients` requests with `body`, counting connections.
    fn origin(
        body: &'static [u8],
        clients: usize,
    ) -> (u16, Arc<AtomicUsize>, std::thread::JoinHandle<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let count = Arc::new(AtomicUsize::new(0));
        let seen = Arc::clone(&count);
        let t = std::thread::spawn(move || {
            for _ in 0..clients {
                let (mut s, _) = listener.accept().unwrap();
                seen.fetch_add(1, Ordering::SeqCst);
                let (req, _) = http::read_request(&mut s).unwrap().unwrap();
                assert!(
                    req.target.starts_with('/'),
                    "origin-form expected: {}",
                    req.target
                );
                http::respond(&mut s, 200, "application/octet-stream", body).unwrap();
            }
        });
        (port, count, t)
    }

    fn proxy_on_loopback(clients: usize) -> (Endpoint, std::thread::JoinHandle<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let t = std::thread::spawn(move || serve(&listener, Some(clients)).unwrap());
        (
            Endpoint {
                host: "127.0.0.1".into(),
                port,
            },
            t,
        )
    }

    fn get(proxy: &Endpoint, target: &str) -> Vec<u8> {
        let mut s = proxy.connect_tcp().unwrap();
        write!(s, "GET {target} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let mut out = Vec::new();
        s.read_to_end(&mut out).unwrap();
        out
    }

    #[test]
    fn the_second_request_is_a_cache_hit_in_either_form() {
        let body: &'static [u8] = b"\x00\x01binary\xffobject";
        let (port, count, origin) = origin(body, 1);
        let (proxy, t) = proxy_on_loopback(2);
        let first = get(&proxy, &format!("http://127.0.0.1:{port}/x.bin"));
        let second = get(&proxy, &format!("/127.0.0.1:{port}/x.bin"));
        assert!(first.ends_with(body), "{}", String::from_utf8_lossy(&first));
        assert_eq!(
            first, second,
            "the hit is byte for byte the origin's response"
        );
        assert_eq!(
            count.load(Ordering::SeqCst),
            1,
            "one connection to the origin"
        );
        origin.join().unwrap();
        t.join().unwrap();
    }

    #[test]
    fn an_unreachable_origin_gets_502_not_a_hang() {
        // A port just closed on loopback: connecting is refused at once.
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let (proxy, t) = proxy_on_loopback(1);
        let reply = get(&proxy, &format!("http://127.0.0.1:{port}/"));
        let text = String::from_utf8_lossy(&reply);
        assert!(text.starts_with("HTTP/1.1 502 Bad Gateway\r\n"), "{text}");
        assert!(
            text.contains(&format!("cannot reach 127.0.0.1:{port}")),
            "{text}"
        );
        t.join().unwrap();
    }

    #[test]
    fn targets_in_both_forms_name_the_same_object() {
        let abs = Object::from_target("http://example.test:8080/a/b.html").unwrap();
        let skel = Object::from_target("/example.test:8080/a/b.html").unwrap();
        assert_eq!(abs, skel);
        assert_eq!(abs.url(), "http://example.test:8080/a/b.html");
        let bare = Object::from_target("/example.test").unwrap();
        assert_eq!((bare.port, bare.path.as_str()), (80, "/"));
        let v6 = Object::from_target("http://[::1]:81/x").unwrap();
        assert_eq!((v6.host.as_str(), v6.port), ("::1", 81));
        assert_eq!(Object::from_target("/"), None);
        assert_eq!(Object::from_target("/host:notaport/x"), None);
        assert_eq!(Object::from_target("ftp://x/y"), None);
    }
}
