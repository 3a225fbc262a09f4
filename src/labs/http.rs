//! HTTP/1.x as the web and proxy labs' reference programs speak it: reading a request head
//! however the client split it into segments, reading a whole response, writing a response.
//!
//! Heads are parsed with `httparse` (the parser hyper uses), which reports a partial head as
//! such, so the programs read until the blank line rather than trusting one `recv` to hold the
//! whole request: the classic student bug the labs' advisory checks look for. Every response
//! these programs write carries `Content-Length` and `Connection: close`, so a client reading to
//! end-of-file always gets the whole object and nothing else.

use std::io::{self, Read, Write};

/// Largest request or response head accepted (headers of real browsers are a few KiB).
pub(crate) const MAX_HEAD: usize = 64 * 1024;
/// Most headers parsed in one head.
const MAX_HEADERS: usize = 100;

/// One request head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Request {
    pub method: String,
    /// The request target as sent: `/HelloWorld.html`, `http://host:port/path`, ...
    pub target: String,
}

fn invalid(message: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.into())
}

/// Reads one request head, however it was split into segments. Returns `None` when the client
/// closed (or sent only blank lines) before a request, and the bytes read past the head (a
/// body, or a pipelined request) with the request.
pub(crate) fn read_request(stream: &mut impl Read) -> io::Result<Option<(Request, Vec<u8>)>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(&buf) {
            Ok(httparse::Status::Complete(len)) => {
                let request = Request {
                    method: req.method.unwrap_or_default().to_string(),
                    target: req.path.unwrap_or_default().to_string(),
                };
                return Ok(Some((request, buf[len..].to_vec())));
            }
            Ok(httparse::Status::Partial) => {}
            Err(e) => return Err(invalid(format!("malformed request: {e}"))),
        }
        if buf.len() > MAX_HEAD {
            return Err(invalid(format!(
                "request head longer than {} KiB",
                MAX_HEAD / 1024
            )));
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return if buf.iter().all(u8::is_ascii_whitespace) {
                Ok(None)
            } else {
                Err(invalid(format!(
                    "the client closed after {} bytes, before the end of the request head",
                    buf.len()
                )))
            };
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// What a response head says about its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ResponseHead {
    pub status: u16,
    /// Bytes of the head, blank line included.
    pub len: usize,
    pub content_length: Option<usize>,
    pub chunked: bool,
}

/// Parses the response head at the start of `bytes`; `None` while it is incomplete.
pub(crate) fn response_head(bytes: &[u8]) -> io::Result<Option<ResponseHead>> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut headers);
    match resp.parse(bytes) {
        Ok(httparse::Status::Complete(len)) => {
            let value = |name: &str| {
                resp.headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case(name))
                    .and_then(|h| std::str::from_utf8(h.value).ok())
                    .map(str::trim)
            };
            let content_length = match value("content-length") {
                Some(v) => Some(
                    v.parse()
                        .map_err(|_| invalid(format!("bad Content-Length {v:?}")))?,
                ),
                None => None,
            };
            let chunked = value("transfer-encoding")
                .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
            Ok(Some(ResponseHead {
                status: resp.code.unwrap_or_default(),
                len,
                content_length,
                chunked,
            }))
        }
        Ok(httparse::Status::Partial) if bytes.len() > MAX_HEAD => Err(invalid(format!(
            "response head longer than {} KiB",
            MAX_HEAD / 1024
        ))),
        Ok(httparse::Status::Partial) => Ok(None),
        Err(e) => Err(invalid(format!("malformed response: {e}"))),
    }
}

impl ResponseHead {
    /// Whether `bytes` (head and body so far, read to end-of-file) hold the whole response: as
    /// long as `Content-Length` says, ending in the last chunk when chunked, else everything
    /// up to the close.
    pub(crate) fn complete(&self, bytes: &[u8]) -> bool {
        let body = &bytes[self.len.min(bytes.len())..];
        if let Some(n) = self.content_length {
            body.len() == n
        } else if self.chunked {
            body.ends_with(b"0\r\n\r\n")
        } else {
            true
        }
    }
}

/// Writes a whole response with `Content-Type`, `Content-Length` and `Connection: close`.
pub(crate) fn respond(
    out: &mut impl Write,
    status: u16,
    content_type: &str,
    body: &[u8],
) -> io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        reason(status),
        body.len()
    );
    out.write_all(head.as_bytes())?;
    out.write_all(body)?;
    out.flush()
}

/// A small HTML page for an error status, naming what went wrong.
pub(crate) fn error_page(status: u16, detail: &str) -> Vec<u8> {
    let title = format!("{status} {}", reason(status));
    let detail = detail
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    format!(
        "<!DOCTYPE html>\n<html><head><title>{title}</title></head>\n\
         <body><h1>{title}</h1><p>{detail}</p></body></html>\n"
    )
    .into_bytes()
}

/// The reason phrase of the statuses these programs send.
pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        504 => "Gateway Timeout",
        _ => "Unknown",
    }
}

/// The media type of a file from its extension. A table, not a crate: the labs serve a handful
/// of kinds (their documents are HTML, text and images), and an unknown extension is served
/// as bytes, which every client accepts.
pub(crate) fn content_type(path: &std::path::Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("html" | "htm") => "text/html; charset=utf-8",
        Some("txt") => "text/plain; charset=utf-8",
        Some("css") => "text/css",
        Some("js") => "text/javascript",
        Some("json") => "application/json",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("svg") => "image/svg+xml",
        Some("ico") => "image/x-icon",
        Some("pdf") => "application/pdf",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out its bytes `step` at a time, as a client sending small segments.
    struct Trickle<'a> {
        bytes: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.step.min(buf.len()).min(self.bytes.len());
            buf[..n].copy_from_slice(&self.bytes[..n]);
            self.bytes = &self.bytes[n..];
            Ok(n)
        }
    }

    #[test]
    fn a_request_sent_one_byte_at_a_time_is_read_whole() {
        let text = b"GET /HelloWorld.html HTTP/1.1\r\nHost: h\r\n\r\nextra";
        let (req, rest) = read_request(&mut Trickle {
            bytes: text,
            step: 1,
        })
        .unwrap()
        .unwrap();
        assert_eq!(req.method, "GET");
        assert_eq!(req.target, "/HelloWorld.html");
        // One byte at a time, the parser stops at the blank line: nothing past it is read.
        assert_eq!(rest, b"");
        let (_, rest) = read_request(&mut Trickle {
            bytes: text,
            step: 4096,
        })
        .unwrap()
        .unwrap();
        assert_eq!(rest, b"extra");
    }

    #[test]
    fn a_client_that_closes_early_is_told_apart_from_one_that_sent_nothing() {
        let mut empty = Trickle {
            bytes: b"\r\n",
            step: 10,
        };
        assert!(read_request(&mut empty).unwrap().is_none());
        let mut cut = Trickle {
            bytes: b"GET / HTTP/1.1\r\nHo",
            step: 10,
        };
        let err = read_request(&mut cut).unwrap_err();
        assert!(
            err.to_string()
                .contains("before the end of the request head"),
            "{err}"
        );
        let mut junk = Trickle {
            bytes: b"\x00\x01\x02 nonsense\r\n\r\n",
            step: 10,
        };
        assert!(read_request(&mut junk).is_err());
    }

    #[test]
    fn response_completeness_follows_the_head() {
        let full = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc";
        let head = response_head(full).unwrap().unwrap();
        assert_eq!((head.status, head.content_length), (200, Some(3)));
        assert!(head.complete(full));
        assert!(!head.complete(&full[..full.len() - 1]));
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
        let head = response_head(chunked).unwrap().unwrap();
        assert!(head.chunked && head.complete(chunked));
        assert!(!head.complete(&chunked[..chunked.len() - 2]));
        assert!(response_head(b"HTTP/1.1 200 OK\r\n").unwrap().is_none());
        assert!(response_head(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n").is_err());
    }

    #[test]
    fn responses_carry_their_length_and_error_pages_escape_their_detail() {
        let mut out = Vec::new();
        respond(&mut out, 404, "text/html", &error_page(404, "no <x>")).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("HTTP/1.1 404 Not Found\r\n"), "{text}");
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(
            head.contains(&format!("Content-Length: {}", body.len())),
            "{head}"
        );
        assert!(
            body.contains("no &lt;x&gt;") && !body.contains("<x>"),
            "{body}"
        );
        assert_eq!(
            content_type("a/B.HTML".as_ref()),
            "text/html; charset=utf-8"
        );
        assert_eq!(content_type("x.bin".as_ref()), "application/octet-stream");
    }
}
