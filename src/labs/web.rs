//! The `web` lab: a web server and client (LABS.md, seeds 000, 001, 004).
//!
//! - `web-server HOST PORT` serves the files of its working directory (the harness places the
//!   lab's documents there). It prints `Ready to serve...` once listening, then serves each
//!   connection on a thread of its own, so a client holding an idle connection (a browser's
//!   spare one, seed 004's "multiple tabs") never blocks the next. Per request: `200 OK` with
//!   the file's exact bytes, `Content-Type` and `Content-Length`; `404 Not Found` with an HTML
//!   body; `403 Forbidden` for a path that leaves the directory (`..`, or a symbolic link out of
//!   it): it never serves outside its directory; `405` for methods other than GET and HEAD;
//!   `400` for a malformed request. It reads until the end of the request head however the
//!   client split it. One line per request on stdout: `GET /HelloWorld.html 200 (120 bytes)`.
//! - `web-client HOST PORT FILE` sends `GET /FILE HTTP/1.1` and prints the whole response,
//!   status line, headers and body, as received.
//!
//! Exit codes as in the other labs: 0 success (the client: a whole response arrived, whatever its
//! status, as curl does), 1 network or I/O failure or an incomplete response, 2 bad arguments.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use super::http::{self, Request};
use super::upper::{fail, say, Endpoint, LabError};

/// The line the server prints once listening (the textbook skeleton's).
pub(crate) const READY_LINE: &str = "Ready to serve...";

/// How long a connection may sit idle before the server gives up on it: long enough for any
/// scenario to hold one open, short enough that abandoned ones do not pile up forever.
const IDLE: Duration = Duration::from_secs(120);

pub(crate) fn web_server(args: &[String]) -> i32 {
    let run = || -> Result<(), LabError> {
        let endpoint = Endpoint::from_args("web-server", args)?;
        let listener = endpoint.bind_tcp()?;
        let root = std::env::current_dir()
            .and_then(|d| d.canonicalize())
            .map_err(|source| LabError::WorkDir { source })?;
        say(&mut io::stdout(), READY_LINE);
        serve(&listener, &root, None)
    };
    run().map_or_else(|e| fail(&e), |()| 0)
}

/// Accepts connections (`limit` of them, or forever) and serves each on its own thread.
pub(crate) fn serve(
    listener: &TcpListener,
    root: &Path,
    limit: Option<usize>,
) -> Result<(), LabError> {
    let root = root.to_path_buf();
    super::upper::accept_threads(listener, limit, move |stream, peer| {
        if let Err(e) = serve_one(stream, &root) {
            eprintln!("client {peer}: {e}");
        }
    })
}

/// One connection: one request, one response, then close.
fn serve_one(mut stream: TcpStream, root: &Path) -> io::Result<()> {
    stream.set_read_timeout(Some(IDLE))?;
    let request = match http::read_request(&mut stream) {
        Ok(Some((request, _))) => request,
        Ok(None) => return Ok(()),
        Err(e) if e.kind() == io::ErrorKind::InvalidData => {
            let page = http::error_page(400, &e.to_string());
            http::respond(&mut stream, 400, "text/html; charset=utf-8", &page)?;
            say(&mut io::stdout(), format!("? ? 400 ({e})"));
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    let (status, content_type, body) = answer(&request, root);
    let head_only = request.method == "HEAD";
    if head_only {
        // HEAD: the same head as GET, no body.
        let mut head = Vec::new();
        http::respond(&mut head, status, content_type, &body)?;
        head.truncate(head.len() - body.len());
        stream.write_all(&head)?;
    } else {
        http::respond(&mut stream, status, content_type, &body)?;
    }
    say(
        &mut io::stdout(),
        format!(
            "{} {} {status} ({} bytes)",
            request.method,
            request.target,
            body.len()
        ),
    );
    super::upper::close_gracefully(&mut stream);
    Ok(())
}

/// The status, media type and body for `request`, served from `root`.
pub(crate) fn answer(request: &Request, root: &Path) -> (u16, &'static str, Vec<u8>) {
    const HTML: &str = "text/html; charset=utf-8";
    if request.method != "GET" && request.method != "HEAD" {
        let detail = format!(
            "{} is not supported; this server answers GET and HEAD",
            request.method
        );
        return (405, HTML, http::error_page(405, &detail));
    }
    let Some(relative) = file_path(&request.target) else {
        let detail = format!("{} leaves the server's directory", request.target);
        return (403, HTML, http::error_page(403, &detail));
    };
    let path = root.join(&relative);
    // A symbolic link may point out of the directory: judge where it really leads.
    match path.canonicalize() {
        Ok(real) if !real.starts_with(root) => {
            let detail = format!("{} leaves the server's directory", request.target);
            (403, HTML, http::error_page(403, &detail))
        }
        Ok(real) if real.is_file() => match std::fs::read(&real) {
            Ok(bytes) => (200, http::content_type(&real), bytes),
            Err(e) => (500, HTML, http::error_page(500, &e.to_string())),
        },
        _ => {
            let detail = format!("{} was not found on this server", request.target);
            (404, HTML, http::error_page(404, &detail))
        }
    }
}

/// The file a request target names, relative to the served directory: the path without query
/// or fragment, percent-decoded; `/` is `index.html`. `None` when it would leave the directory.
fn file_path(target: &str) -> Option<PathBuf> {
    let path = target.split(['?', '#']).next().unwrap_or_default();
    let decoded = percent_decode(path)?;
    let mut out = PathBuf::new();
    for part in Path::new(&decoded).components() {
        match part {
            Component::Normal(p) => out.push(p),
            Component::RootDir | Component::CurDir => {}
            Component::ParentDir | Component::Prefix(_) => return None,
        }
    }
    if out.as_os_str().is_empty() {
        out.push("index.html");
    }
    Some(out)
}

/// Decodes `%XX` escapes; `None` for a bad escape or a NUL, which no file name holds.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    if out.contains(&0) {
        return None;
    }
    String::from_utf8(out).ok()
}

pub(crate) fn web_client(args: &[String]) -> i32 {
    get_and_print("web-client", args, |stream, request| {
        stream.write_all(request)
    })
}

/// The `HOST PORT FILE` clients (`web-client`, and the `http-get` and `trickle-client` peers):
/// `send` writes the request; the whole response is printed as received.
pub(crate) fn get_and_print(
    role: &'static str,
    args: &[String],
    send: impl FnOnce(&mut TcpStream, &[u8]) -> io::Result<()>,
) -> i32 {
    let run = || -> Result<(), LabError> {
        let (endpoint, rest) = Endpoint::with_rest(role, "HOST PORT FILE", args)?;
        let response = fetch_with(&endpoint, &rest[0], send)?;
        let mut out = io::stdout().lock();
        let _ = out.write_all(&response).and_then(|()| out.flush());
        Ok(())
    };
    run().map_or_else(|e| fail(&e), |()| 0)
}

/// Sends `GET /FILE` and returns the whole response (an incomplete one is an error); `send`
/// writes the request (all at once, byte by byte, or then waiting).
pub(crate) fn fetch_with(
    endpoint: &Endpoint,
    file: &str,
    send: impl FnOnce(&mut TcpStream, &[u8]) -> io::Result<()>,
) -> Result<Vec<u8>, LabError> {
    let mut stream = endpoint.connect_tcp()?;
    let request = request_for(endpoint, file);
    send(&mut stream, request.as_bytes()).map_err(|source| LabError::Send {
        addr: endpoint.to_string(),
        source,
    })?;
    read_response(&mut stream, endpoint)
}

/// The request head socklab's clients send for `file`: `GET /FILE HTTP/1.1`, `Host`,
/// `User-Agent`, `Connection: close`, and the blank line.
pub(crate) fn request_for(endpoint: &Endpoint, file: &str) -> String {
    let target = if file.starts_with('/') {
        file.to_string()
    } else {
        format!("/{file}")
    };
    format!(
        "GET {target} HTTP/1.1\r\nHost: {endpoint}\r\nUser-Agent: socklab-web-client\r\n\
         Connection: close\r\n\r\n"
    )
}

/// Reads a response until the server closes; an incomplete one (cut in its head, or short of
/// its `Content-Length`) is an error.
pub(crate) fn read_response(
    stream: &mut TcpStream,
    endpoint: &Endpoint,
) -> Result<Vec<u8>, LabError> {
    let receive = |source| LabError::Receive {
        addr: endpoint.to_string(),
        source,
    };
    let mut response = Vec::new();
    stream.read_to_end(&mut response).map_err(receive)?;
    let incomplete = |why: String| receive(io::Error::new(io::ErrorKind::UnexpectedEof, why));
    match http::response_head(&response).map_err(receive)? {
        Some(head) if head.complete(&response) => Ok(response),
        Some(head) => Err(incomplete(format!(
            "the server closed after {} of the {} body bytes its Content-Length announced",
            response.len() - head.len,
            head.content_length.unwrap_or_default()
        ))),
        None => Err(incomplete(format!(
            "the server closed after {} bytes, before the end of the response head",
            response.len()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fetch(endpoint: &Endpoint, file: &str) -> Result<Vec<u8>, LabError> {
        fetch_with(endpoint, file, |stream, request| stream.write_all(request))
    }

    /// A server on loopback for `clients` connections, serving `dir`.
    fn server(dir: &Path, clients: usize) -> (Endpoint, std::thread::JoinHandle<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let root = dir.canonicalize().unwrap();
        let t = std::thread::spawn(move || serve(&listener, &root, Some(clients)).unwrap());
        let endpoint = Endpoint {
            host: "127.0.0.1".into(),
            port,
        };
        (endpoint, t)
    }

    fn split(response: &[u8]) -> (String, Vec<u8>) {
        let head = http::response_head(response).unwrap().unwrap();
        (
            String::from_utf8_lossy(&response[..head.len]).into_owned(),
            response[head.len..].to_vec(),
        )
    }

    #[test]
    fn files_are_served_byte_for_byte_with_their_type_and_length() {
        let dir = tempfile::tempdir().unwrap();
        let image: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
        std::fs::write(dir.path().join("HelloWorld.html"), "<h1>Hello</h1>\n").unwrap();
        std::fs::write(dir.path().join("pic.png"), &image).unwrap();
        let (endpoint, t) = server(dir.path(), 2);
        let (head, body) = split(&fetch(&endpoint, "HelloWorld.html").unwrap());
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
        assert!(head.contains("Content-Type: text/html"), "{head}");
        assert_eq!(body, b"<h1>Hello</h1>\n");
        let (head, body) = split(&fetch(&endpoint, "/pic.png").unwrap());
        assert!(
            head.contains("Content-Type: image/png\r\nContent-Length: 70000"),
            "{head}"
        );
        assert_eq!(body, image);
        t.join().unwrap();
    }

    #[test]
    fn a_missing_file_is_404_with_an_html_body_and_no_path_leaves_the_directory() {
        let outer = tempfile::tempdir().unwrap();
        let dir = outer.path().join("www");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(outer.path().join("secret.txt"), "secret").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(outer.path().join("secret.txt"), dir.join("link.txt")).unwrap();
        let (endpoint, t) = server(&dir, 4);
        let (head, body) = split(&fetch(&endpoint, "nope.html").unwrap());
        assert!(head.starts_with("HTTP/1.1 404 Not Found\r\n"), "{head}");
        assert!(String::from_utf8_lossy(&body).contains("<h1>404 Not Found</h1>"));
        for sneaky in ["../secret.txt", "%2e%2e/secret.txt", "link.txt"] {
            let response = fetch(&endpoint, sneaky).unwrap();
            let (head, body) = split(&response);
            assert!(
                head.starts_with("HTTP/1.1 403 Forbidden\r\n"),
                "{sneaky}: {head}"
            );
            assert!(
                !String::from_utf8_lossy(&body).contains("secret\n"),
                "{sneaky}"
            );
        }
        t.join().unwrap();
    }

    #[test]
    fn an_idle_connection_does_not_block_the_next_client() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), "a").unwrap();
        let (endpoint, t) = server(dir.path(), 2);
        // Holds a connection open with half a request, as a browser's spare connection does.
        let mut idle = endpoint.connect_tcp().unwrap();
        idle.write_all(b"GET /a.txt HT").unwrap();
        let (head, body) = split(&fetch(&endpoint, "a.txt").unwrap());
        assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
        assert_eq!(body, b"a");
        // The held connection is still served once it finishes its request.
        idle.write_all(b"TP/1.1\r\n\r\n").unwrap();
        let mut rest = Vec::new();
        idle.read_to_end(&mut rest).unwrap();
        assert!(rest.starts_with(b"HTTP/1.1 200 OK"));
        t.join().unwrap();
    }

    #[test]
    fn request_targets_map_inside_the_directory_only() {
        assert_eq!(
            file_path("/a/b.html?x=1#f"),
            Some(PathBuf::from("a/b.html"))
        );
        assert_eq!(file_path("/"), Some(PathBuf::from("index.html")));
        assert_eq!(file_path("/a%20b.txt"), Some(PathBuf::from("a b.txt")));
        assert_eq!(file_path("/a/../../etc/passwd"), None);
        assert_eq!(file_path("/%2E%2E/x"), None);
        assert_eq!(file_path("/x%00.html"), None);
        assert_eq!(file_path("/bad%zz"), None);
    }
}
