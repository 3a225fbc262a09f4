//! `http_response` check: what a server (or a proxy, as its clients see it) answered on the
//! wire, parsed from the reassembled TCP stream by [`crate::analysis::http`]: the status code,
//! headers it must carry, and the body, equal to a lab document byte for byte (text or binary)
//! or containing a text. Every response on every connection to the server's port is judged;
//! one that satisfies everything passes. A failure names the response by its status line and
//! packets and says what differed ("the body is 1,234 bytes, the file is 2,345; first
//! difference at byte 17 (packet 9)").
//!
//! A response is cut where HTTP says it ends: `Content-Length` bytes after the head, the last
//! chunk, or the close for a response with neither. So a `Content-Length` that does not match
//! what was sent shows as a body cut short (the server closed first) or as bytes left over
//! after it, and both are said so.
//!
//! A response the capture does not hold whole (a snapshot-length cut, segments never captured,
//! or past the analysis's payload cap of 1 MiB per direction, so `large.bin` cannot be judged
//! byte for byte) is not graded, never passed or failed on the bytes kept.
//!
//! `from` is always the answering server, so the check also judges an origin answering a proxy
//! (both are servers there, which `from`/`to` direction guessing refuses).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Sides, WireCheck};
use crate::analysis::http::{responses, Located};
use crate::analysis::{Analysis, TcpStream};
use crate::check::wire::{packets_phrase, port_summary, quote, tcp_streams, WireGraded};
use crate::plan::{CheckCx, WireExpect};

/// `http_response` check: at least one of `status`, `headers`, `body_file`, `body_contains`;
/// not both body conditions. `from` must be the server (the program whose port the client
/// connected to).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct HttpResponseCheck {
    /// The program that answers (the server, or a proxy as its clients see it).
    pub from: String,
    /// The program that asked.
    pub to: String,
    /// The response's status code, e.g. 200 or 404.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Headers the response must carry, by name in any letter case, e.g. `["Content-Type",
    /// "Content-Length"]`. A required `Content-Length` must also be the body's length.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<String>,
    /// The body is this document of the scenario's lab, byte for byte (e.g. `image.png`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_file: Option<String>,
    /// The body contains this text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_contains: Option<String>,
    /// Points. Default: 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<u32>,
    /// Human label for reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}
envelope!(HttpResponseCheck);

/// The resolved check: what the response must be.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct HttpResponseExpect {
    pub status: Option<u16>,
    /// Header names, as the scenario wrote them.
    pub headers: Vec<String>,
    pub body: Option<BodyRule>,
}

/// What the body must be.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum BodyRule {
    /// The lab document `name` of `lab`, byte for byte (the bytes are built into socklab, so
    /// the plan carries the name only).
    File {
        lab: String,
        name: String,
    },
    Contains(String),
}

/// A problem with the check as written: the field it is about, the message, a hint.
pub(crate) struct Problem {
    pub field: Option<&'static str>,
    pub message: String,
    pub help: Option<String>,
}

pub(crate) struct Kind;

impl WireCheck for Kind {
    const NAME: &'static str = "http_response";
    type Spec = HttpResponseCheck;
    type Plan = HttpResponseExpect;

    fn resolve(c: &HttpResponseCheck, cx: &mut CheckCx<'_, '_>) -> Option<Sides<Self::Plan>> {
        // A response comes from the server: `from` gives the port, even when `to` is a server
        // too (a proxy, answered by the origin).
        let f = cx.program("from", &c.from)?;
        cx.program("to", &c.to)?;
        if !cx.is_server(f) {
            cx.error(
                Some("from"),
                format!(
                    "an HTTP response comes from a server, and `{}` is none (no `wait_ready` \
                     step, no server role)",
                    c.from
                ),
                Some(&format!("make `from` the server and `to` `{}`", c.from)),
            );
            return None;
        }
        let lab = cx.lab().to_string();
        match resolve(c, &lab) {
            Ok(plan) => Some(Sides {
                server: c.from.clone(),
                client: c.to.clone(),
                plan,
            }),
            Err(p) => {
                cx.error(p.field, p.message, p.help.as_deref());
                None
            }
        }
    }

    fn describe(e: &WireExpect, p: &HttpResponseExpect) -> String {
        p.describe(&e.server, &e.client, e.port)
    }

    fn grade(e: &WireExpect, p: &HttpResponseExpect, a: &Analysis) -> WireGraded {
        grade(e, p, a)
    }
}

/// Checks the scenario's own fields (the programs are the caller's).
pub(crate) fn resolve(c: &HttpResponseCheck, lab: &str) -> Result<HttpResponseExpect, Problem> {
    if c.body_file.is_some() && c.body_contains.is_some() {
        return Err(Problem {
            field: None,
            message: "give `body_file` or `body_contains`, not both".into(),
            help: Some("a body equal to a file already contains what the file holds".into()),
        });
    }
    if c.status.is_none()
        && c.headers.is_empty()
        && c.body_file.is_none()
        && c.body_contains.is_none()
    {
        return Err(Problem {
            field: None,
            message: "this check asks nothing of the response".into(),
            help: Some(
                "give `status`, `headers`, `body_file` or `body_contains`, e.g. `\"status\": 200`"
                    .into(),
            ),
        });
    }
    if let Some(s) = c.status {
        if !(100..=999).contains(&s) {
            return Err(Problem {
                field: Some("status"),
                message: format!("{s} is no HTTP status code (three digits)"),
                help: None,
            });
        }
    }
    let body = match (&c.body_file, &c.body_contains) {
        (Some(name), _) => {
            if crate::documents::find(lab, name).is_none() {
                let names: Vec<&str> = crate::documents::of(lab).iter().map(|d| d.name).collect();
                let help = if names.is_empty() {
                    format!("the lab `{lab}` has no documents")
                } else {
                    format!("the lab `{lab}` has {}", names.join(", "))
                };
                return Err(Problem {
                    field: Some("body_file"),
                    message: format!("`{name}` is not a document of the lab `{lab}`"),
                    help: Some(help),
                });
            }
            Some(BodyRule::File {
                lab: lab.to_string(),
                name: name.clone(),
            })
        }
        (None, Some(text)) => Some(BodyRule::Contains(text.clone())),
        (None, None) => None,
    };
    Ok(HttpResponseExpect {
        status: c.status,
        headers: c.headers.clone(),
        body,
    })
}

impl HttpResponseExpect {
    /// The expectation in words.
    pub(crate) fn describe(&self, server: &str, client: &str, port: u16) -> String {
        let mut parts = Vec::new();
        if let Some(s) = self.status {
            parts.push(format!("status {s}"));
        }
        if !self.headers.is_empty() {
            parts.push(format!("the header(s) {}", self.headers.join(", ")));
        }
        match &self.body {
            Some(BodyRule::File { name, .. }) => parts.push(format!("{name} as its body")),
            Some(BodyRule::Contains(t)) => parts.push(format!("a body containing {t:?}")),
            None => {}
        }
        format!(
            "{server} (port {port}) answers {client} with an HTTP response with {}",
            parts.join(", ")
        )
    }
}

/// Grades the check on the connections to `e.port`.
pub(crate) fn grade(e: &WireExpect, x: &HttpResponseExpect, a: &Analysis) -> WireGraded {
    let (server, client) = (&e.server, &e.client);
    let streams = tcp_streams(a, e.port);
    if streams.is_empty() {
        let summary = port_summary(a, e.port);
        return WireGraded::fail(
            summary.clone(),
            format!(
                "no TCP connection on port {}, so no HTTP response from {server} to {client}: \
                 {summary}",
                e.port
            ),
            Vec::new(),
        );
    }
    let file = match &x.body {
        Some(BodyRule::File { lab, name }) => match crate::documents::find(lab, name) {
            Some(doc) => Some((name.as_str(), doc.contents())),
            None => {
                return WireGraded::unjudged(
                    format!("socklab has no document {name} for the lab {lab}"),
                    format!("the check names the document {name}, which this socklab lacks"),
                    Vec::new(),
                )
            }
        },
        _ => None,
    };
    let mut first_failure: Option<WireGraded> = None;
    let mut unjudged: Option<WireGraded> = None;
    let mut silent = Vec::new();
    for s in &streams {
        let (list, trailing) = responses(s);
        if list.is_empty() {
            silent.push(*s);
        }
        let last = list.len().saturating_sub(1);
        for (i, r) in list.iter().enumerate() {
            let left_over = if i == last { trailing } else { None };
            let j = Judge {
                s,
                r,
                left_over,
                server,
                file: file.as_ref().map(|(n, b)| (*n, b.as_slice())),
            };
            match j.judge(x) {
                Verdict::Pass(actual) => return WireGraded::pass(actual, r.packets.clone()),
                Verdict::Fail(g) => {
                    first_failure.get_or_insert(g);
                }
                Verdict::Unjudged(g) => {
                    unjudged.get_or_insert(g);
                }
            }
        }
    }
    if let Some(g) = unjudged {
        return g;
    }
    if let Some(g) = first_failure {
        return g;
    }
    no_response(&silent, server, client)
}

/// No connection carried an HTTP response: what the server sent instead.
fn no_response(streams: &[&TcpStream], server: &str, client: &str) -> WireGraded {
    if let Some(s) = streams.iter().find(|s| !s.to_client.payload.is_empty()) {
        let dir = &s.to_client;
        let packets = dir.packets_in(0, dir.payload.len() as u64);
        let actual = format!(
            "{server} sent {} byte(s) that do not start an HTTP response: \"{}\" ({})",
            grouped(dir.payload.len()),
            quote(&dir.payload),
            packets_phrase(&packets)
        );
        let reason =
            format!("a response starts with a status line such as `HTTP/1.1 200 OK`; {actual}");
        return WireGraded::fail(actual, reason, packets);
    }
    if let Some(s) = streams.iter().find(|s| s.to_client.payload_has_gaps) {
        return WireGraded::unjudged(
            format!(
                "the capture lacks bytes {server} sent to {client} (TCP stream {})",
                s.index
            ),
            format!("the capture lacks bytes {server} sent to {client}"),
            Vec::new(),
        );
    }
    let first: Vec<u64> = streams.iter().map(|s| s.first_packet).collect();
    let actual = format!(
        "{server} sent no response to {client} on {} connection(s) (starting in {})",
        streams.len(),
        packets_phrase(&first)
    );
    let asked = streams.iter().any(|s| !s.to_server.payload.is_empty());
    let reason = if asked {
        format!("{actual}, though {client} sent a request")
    } else {
        format!("{actual}; {client} sent no request either")
    };
    WireGraded::fail(actual, reason, first)
}

enum Verdict {
    Pass(String),
    Fail(WireGraded),
    Unjudged(WireGraded),
}

/// One response against the expectation.
struct Judge<'a> {
    s: &'a TcpStream,
    r: &'a Located,
    /// Where bytes that are no HTTP response start after this one, if they do.
    left_over: Option<usize>,
    server: &'a str,
    /// The document the body must equal: its name and bytes.
    file: Option<(&'a str, &'a [u8])>,
}

impl Judge<'_> {
    /// `"HTTP/1.1 200 OK" (packets 6, 8, completed in packet 8)`.
    fn named(&self) -> String {
        let m = &self.r.message;
        let mut at = packets_phrase(&self.r.packets);
        if let Some(done) = self.r.completed_in {
            if self.r.packets.len() > 1 || self.r.packets.last() != Some(&done) {
                at.push_str(&format!(", completed in packet {done}"));
            }
        }
        let asked = match &self.r.request {
            Some((line, Some(p))) => format!(" to \"{}\" (packet {p})", quote(line.as_bytes())),
            Some((line, None)) => format!(" to \"{}\"", quote(line.as_bytes())),
            None => String::new(),
        };
        format!("\"{}\" ({at}){asked}", quote(m.start_line.as_bytes()))
    }

    fn fail(&self, why: String) -> Verdict {
        let actual = format!("{} answered {}: {why}", self.server, self.named());
        Verdict::Fail(WireGraded::fail(
            actual.clone(),
            actual,
            self.r.packets.clone(),
        ))
    }

    fn judge(&self, x: &HttpResponseExpect) -> Verdict {
        let m = &self.r.message;
        let dir = &self.s.to_client;
        let Some(status) = m.status else {
            if dir.payload_truncated || dir.payload_has_gaps {
                return self.cut_by_capture();
            }
            return self.fail(
                "its head never ends: no blank line (CRLF CRLF) follows the status line and \
                 headers"
                    .into(),
            );
        };
        let mut said = Vec::new();
        if let Some(want) = x.status {
            if status != want {
                return self.fail(format!("the status is {status}, not {want}"));
            }
            said.push(format!("status {status}"));
        }
        let mut wants_length = false;
        for name in &x.headers {
            let Some(value) = m.header(name) else {
                let have: Vec<&str> = m.headers.iter().map(|(n, _)| n.as_str()).collect();
                let have = if have.is_empty() {
                    "it has no header at all".to_string()
                } else {
                    format!("its headers are {}", have.join(", "))
                };
                return self.fail(format!("there is no {name} header ({have})"));
            };
            // Said only if it passes, so the body's length is checked below before this holds.
            let mut text = format!("{name}: {}", quote(value.as_bytes()));
            if name.eq_ignore_ascii_case("content-length") {
                wants_length = true;
                text.push_str(" (the body's length)");
            }
            said.push(text);
        }
        if x.body.is_none() && !wants_length {
            return Verdict::Pass(format!(
                "{} answered {}: {}",
                self.server,
                self.named(),
                said.join(", ")
            ));
        }
        if !m.complete {
            if dir.payload_truncated || dir.payload_has_gaps {
                return self.cut_by_capture();
            }
            return self.fail(self.incomplete());
        }
        if let (Some(at), Some(n)) = (self.left_over, m.header("content-length")) {
            let more = dir.payload.len() - at;
            let packets = dir.packets_in(at as u64, dir.payload.len() as u64);
            return self.fail(format!(
                "its Content-Length says {} byte(s), but {} more followed them ({}): \"{}\"",
                n.trim(),
                grouped(more),
                packets_phrase(&packets),
                quote(&dir.payload[at..])
            ));
        }
        match (&x.body, self.file) {
            (Some(BodyRule::File { name, .. }), Some((_, want))) => {
                if let Some(why) = self.differs(&m.body, want) {
                    return self.fail(why);
                }
                said.push(format!(
                    "the body is {name} byte for byte ({} bytes)",
                    grouped(want.len())
                ));
            }
            (Some(BodyRule::Contains(text)), _) => {
                let found = m
                    .body
                    .windows(text.len().max(1))
                    .any(|w| w == text.as_bytes());
                if !found {
                    return self.fail(format!(
                        "the body ({} bytes) does not contain {text:?}: \"{}\"",
                        grouped(m.body.len()),
                        quote(&m.body)
                    ));
                }
                said.push(format!("the body contains {text:?}"));
            }
            _ => {}
        }
        Verdict::Pass(format!(
            "{} answered {}: {}",
            self.server,
            self.named(),
            said.join(", ")
        ))
    }

    /// Why a response whose head is whole never ended.
    fn incomplete(&self) -> String {
        let m = &self.r.message;
        let dir = &self.s.to_client;
        let got = grouped(m.body.len());
        let ended = match dir.fin_packet {
            Some(fin) => format!("{} closed the connection (packet {fin})", self.server),
            None => "the capture ended, the connection still open".to_string(),
        };
        if m.chunked {
            return format!(
                "its chunked body never ends with the last (zero-size) chunk: {got} byte(s) of \
                 data came before {ended}"
            );
        }
        match m.header("content-length") {
            Some(n) => format!(
                "its Content-Length says {} byte(s), but {got} came before {ended}",
                n.trim()
            ),
            None => format!(
                "it has no Content-Length, so its body runs to the close, but {} never closed \
                 the connection ({got} body byte(s) so far)",
                self.server
            ),
        }
    }

    /// How the body departs from the document, if it does.
    fn differs(&self, got: &[u8], want: &[u8]) -> Option<String> {
        if got == want {
            return None;
        }
        let m = &self.r.message;
        let at = got
            .iter()
            .zip(want)
            .position(|(g, w)| g != w)
            .unwrap_or_else(|| got.len().min(want.len()));
        // In a chunked body offsets are not the stream's: cite no single packet then.
        let packet = |i: usize| {
            (!m.chunked)
                .then(|| self.s.to_client.packet_at((m.body_start + i) as u64))
                .flatten()
                .map(|p| format!(" (packet {p})"))
                .unwrap_or_default()
        };
        let sizes = format!(
            "the body is {} bytes, the file is {}",
            grouped(got.len()),
            grouped(want.len())
        );
        Some(match (got.get(at), want.get(at)) {
            (Some(g), Some(w)) => format!(
                "{sizes}; first difference at byte {}{}: {} where the file has {}",
                grouped(at + 1),
                packet(at),
                byte(*g),
                byte(*w)
            ),
            (None, Some(_)) if got.is_empty() => format!("{sizes}: the body is empty"),
            (None, Some(_)) => format!(
                "{sizes}: the body stops after byte {}{}",
                grouped(at),
                packet(at - 1)
            ),
            _ => format!(
                "{sizes}: the body goes on after the file's last byte with \"{}\"{}",
                quote(&got[at..]),
                packet(at)
            ),
        })
    }

    /// The capture lacks bytes of the response: not graded.
    fn cut_by_capture(&self) -> Verdict {
        let dir = &self.s.to_client;
        let how = match dir.first_gap.as_deref() {
            Some(g) if g.snaplen => format!(
                "packet {} was cut short by the capture's snapshot length",
                g.packet
            ),
            Some(g) => format!(
                "{} bytes before packet {} were never captured",
                g.missing, g.packet
            ),
            None => format!(
                "the capture kept only the first {} bytes of what {} sent",
                grouped(dir.payload.len()),
                self.server
            ),
        };
        let actual = format!(
            "{} answered {}, but the capture does not hold all of it",
            self.server,
            self.named()
        );
        Verdict::Unjudged(WireGraded::unjudged(actual, how, self.r.packets.clone()))
    }
}

/// A byte for messages: `"A" (0x41)`.
fn byte(b: u8) -> String {
    format!("\"{}\" (0x{b:02x})", quote(&[b]))
}

/// `12345` → `12,345`.
pub(crate) fn grouped(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::time::Duration;

    use super::*;
    use crate::analysis::{analyze, AnalyzerOptions};
    use crate::check::wire::testing::{expect, SERVER};
    use crate::plan::WireKind;
    use crate::testkit::{self, flags::*, Capture, Link};

    const GET: &[u8] = b"GET /image.png HTTP/1.1\r\nHost: x\r\n\r\n";

    /// Handshake (packets 1-3), `request` (4), the server's `segments` (5, 6, ...), then the
    /// server's FIN if `close`, and the client's FIN.
    fn served(request: &[u8], segments: &[&[u8]], close: bool) -> Analysis {
        let c = SocketAddr::from(([127, 0, 0, 1], 45_000));
        let s = SocketAddr::from(([127, 0, 0, 1], SERVER));
        let (mut cs, mut ss) = (1_000u32, 5_000u32);
        let mut frames = vec![
            testkit::tcp(c, s, cs, 0, SYN, b""),
            testkit::tcp(s, c, ss, cs + 1, SYN | ACK, b""),
            testkit::tcp(c, s, cs + 1, ss + 1, ACK, b""),
        ];
        cs += 1;
        ss += 1;
        frames.push(testkit::tcp(c, s, cs, ss, PSH | ACK, request));
        cs += request.len() as u32;
        for seg in segments {
            frames.push(testkit::tcp(s, c, ss, cs, PSH | ACK, seg));
            ss += seg.len() as u32;
        }
        if close {
            frames.push(testkit::tcp(s, c, ss, cs, FIN | ACK, b""));
            ss += 1;
        }
        frames.push(testkit::tcp(c, s, cs, ss, FIN | ACK, b""));
        let mut cap = Capture::new(Link::Ethernet).step(Duration::from_millis(1));
        for f in &frames {
            cap.push(f);
        }
        analyze(&cap.pcap()[..], "t.pcap", AnalyzerOptions::default()).expect("valid pcap")
    }

    fn png() -> Vec<u8> {
        crate::documents::find("web", "image.png")
            .expect("the web lab has image.png")
            .contents()
    }

    fn head(len: usize) -> Vec<u8> {
        format!("HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: {len}\r\n\r\n")
            .into_bytes()
    }

    fn image(status: Option<u16>, headers: &[&str]) -> HttpResponseExpect {
        HttpResponseExpect {
            status,
            headers: headers.iter().map(|h| h.to_string()).collect(),
            body: Some(BodyRule::File {
                lab: "web".into(),
                name: "image.png".into(),
            }),
        }
    }

    fn check(a: &Analysis, x: HttpResponseExpect) -> WireGraded {
        let e = expect(WireKind::HttpResponse(x.clone()));
        crate::check::wire::grade(&e, a, &Default::default())
    }

    #[test]
    fn a_binary_body_sent_in_pieces_passes_byte_for_byte_citing_its_packets() {
        let body = png();
        let (a, b) = body.split_at(4_000);
        let a = served(GET, &[&head(body.len()), a, b], true);
        let g = check(&a, image(Some(200), &["Content-Type", "Content-Length"]));
        assert!(g.passed, "{:?}", g.reason);
        assert_eq!(g.packets, vec![5, 6, 7]);
        assert_eq!(
            g.actual,
            "server answered \"HTTP/1.1 200 OK\" (packets 5, 6, 7, completed in packet 7) to \
             \"GET /image.png HTTP/1.1\" (packet 4): status 200, Content-Type: image/png, \
             Content-Length: 10362 (the body's length), the body is image.png byte for byte \
             (10,362 bytes)"
        );
    }

    #[test]
    fn a_changed_byte_is_named_with_the_packet_that_carried_it() {
        let mut body = png();
        body[5_016] ^= 0xff;
        let (a, b) = body.split_at(4_000);
        let an = served(GET, &[&head(body.len()), a, b], true);
        let g = check(&an, image(None, &[]));
        assert!(!g.passed);
        let reason = g.reason.expect("a reason");
        assert!(
            reason.ends_with(&format!(
                "the body is 10,362 bytes, the file is 10,362; first difference at byte 5,017 \
                 (packet 7): {} where the file has {}",
                byte(png()[5_016] ^ 0xff),
                byte(png()[5_016])
            )),
            "{reason}"
        );
    }

    #[test]
    fn a_body_cut_short_or_running_on_is_told_apart() {
        let body = png();
        // Content-Length promises the whole file, the server closes after 4,000 bytes.
        let a = served(GET, &[&head(body.len()), &body[..4_000]], true);
        let g = check(&a, image(Some(200), &[]));
        assert!(!g.passed);
        assert!(
            g.actual.ends_with(
                "its Content-Length says 10362 byte(s), but 4,000 came before server closed \
                 the connection (packet 7)"
            ),
            "{}",
            g.actual
        );
        // No length at all and a close: the body runs to the close, with a CRLF too many.
        let mut more = body.clone();
        more.extend_from_slice(b"\r\n");
        let a = served(GET, &[b"HTTP/1.1 200 OK\r\n\r\n", &more], true);
        let g = check(&a, image(None, &[]));
        assert!(!g.passed);
        assert!(
            g.actual.ends_with(
                "the body is 10,364 bytes, the file is 10,362: the body goes on after the \
                 file's last byte with \"\\r\\n\" (packet 6)"
            ),
            "{}",
            g.actual
        );
        // The same without the CRLF passes, completed by the FIN (packet 7).
        let a = served(GET, &[b"HTTP/1.1 200 OK\r\n\r\n", &body], true);
        let g = check(&a, image(Some(200), &[]));
        assert!(g.passed, "{:?}", g.reason);
        assert!(g.actual.contains("completed in packet 7"), "{}", g.actual);
        // ...but not while the connection stays open: its end cannot be told.
        let a = served(GET, &[b"HTTP/1.1 200 OK\r\n\r\n", &body], false);
        let g = check(&a, image(Some(200), &[]));
        assert!(!g.passed);
        assert!(
            g.actual.contains("never closed the connection"),
            "{}",
            g.actual
        );
        // A Content-Length shorter than what was sent leaves bytes over.
        let a = served(GET, &[&head(10), &body], true);
        let g = check(&a, image(None, &["Content-Length"]));
        assert!(!g.passed);
        assert!(
            g.actual.contains(
                "its Content-Length says 10 byte(s), but 10,352 more followed them (packet 6)"
            ),
            "{}",
            g.actual
        );
    }

    #[test]
    fn a_body_past_the_payload_cap_is_not_graded_but_its_status_is() {
        let body = png();
        let mut a = served(GET, &[&head(body.len()), &body], true);
        let d = &mut a.tcp_streams[0].to_client;
        d.payload.truncate(2_000);
        d.payload_truncated = true;
        let g = check(&a, image(Some(200), &[]));
        assert!(!g.passed);
        assert_eq!(
            g.unjudged.as_deref(),
            Some("the capture kept only the first 2,000 bytes of what server sent")
        );
        let status = HttpResponseExpect {
            status: Some(200),
            headers: Vec::new(),
            body: None,
        };
        assert!(check(&a, status).passed);
    }

    #[test]
    fn status_and_headers_are_named_when_wrong() {
        let page = b"HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\n404";
        let a = served(b"GET /x.html HTTP/1.1\r\n\r\n", &[page], true);
        let g = check(&a, image(Some(200), &[]));
        assert!(!g.passed);
        assert_eq!(
            g.actual,
            "server answered \"HTTP/1.1 404 Not Found\" (packet 5) to \"GET /x.html HTTP/1.1\" \
             (packet 4): the status is 404, not 200"
        );
        let want = HttpResponseExpect {
            status: Some(404),
            headers: vec!["Content-Type".into()],
            body: None,
        };
        let g = check(&a, want);
        assert!(g
            .actual
            .ends_with("there is no Content-Type header (its headers are Content-Length)"));
        let want = HttpResponseExpect {
            status: Some(404),
            headers: Vec::new(),
            body: Some(BodyRule::Contains("404".into())),
        };
        assert!(check(&a, want).passed);
    }

    #[test]
    fn no_response_says_what_came_instead() {
        let a = served(GET, &[b"hello there"], true);
        let g = check(&a, image(Some(200), &[]));
        assert!(!g.passed);
        assert_eq!(
            g.actual,
            "server sent 11 byte(s) that do not start an HTTP response: \"hello there\" (packet 5)"
        );
        let a = served(GET, &[], true);
        let g = check(&a, image(Some(200), &[]));
        assert_eq!(
            g.reason.as_deref(),
            Some(
                "server sent no response to client on 1 connection(s) (starting in packet 1), \
                 though client sent a request"
            )
        );
        let a = served(GET, &[], true);
        let e = expect(WireKind::HttpResponse(image(Some(200), &[]))).with_port(9);
        let g = crate::check::wire::grade(&e, &a, &Default::default());
        assert!(g.actual.contains("holds nothing on port 9"), "{}", g.actual);
    }

    #[test]
    fn of_several_responses_one_that_fits_passes() {
        let body = png();
        let mut second = head(body.len());
        second.extend_from_slice(&body);
        let a = served(
            b"GET /a HTTP/1.1\r\n\r\nGET /image.png HTTP/1.1\r\n\r\n",
            &[
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
                &second,
            ],
            true,
        );
        let g = check(&a, image(Some(200), &[]));
        assert!(g.passed, "{:?}", g.reason);
        assert!(
            g.actual
                .contains("to \"GET /image.png HTTP/1.1\" (packet 4)"),
            "{}",
            g.actual
        );
    }

    fn scenario(from: &str, to: &str, extra: &str) -> Result<crate::plan::Plan, String> {
        let text = format!(
            r#"{{
              "id": "t", "lab": "web", "title": "t", "question": "q", "explanation": "e",
              "programs": [
                {{ "name": "server", "role": "web-server" }},
                {{ "name": "origin", "peer": "http-origin" }},
                {{ "name": "browser", "peer": "http-get",
                   "args": ["{{server_addr}}", "{{port}}", "image.png"] }}
              ],
              "steps": [
                {{ "start": {{ "program": "server" }} }},
                {{ "wait_ready": {{ "program": "server" }} }},
                {{ "start": {{ "program": "origin" }} }},
                {{ "wait_ready": {{ "program": "origin" }} }},
                {{ "start": {{ "program": "browser" }} }}
              ],
              "checks": [
                {{ "http_response": {{ "from": "{from}", "to": "{to}", {extra} }} }}
              ]
            }}"#
        );
        crate::plan::resolve_text(text, SERVER)
    }

    #[test]
    fn a_scenario_names_the_server_as_from_and_a_document_of_its_lab() {
        let plan = scenario(
            "server",
            "browser",
            r#""status": 200, "body_file": "image.png""#,
        )
        .expect("resolves");
        let e = plan.checks[0].wire().expect("a wire check");
        assert_eq!(e.port, SERVER);
        assert_eq!(
            e.describe(),
            format!(
                "server (port {SERVER}) answers browser with an HTTP response with status 200, \
                 image.png as its body"
            )
        );
        // Two servers (a proxy and its origin): `from` is the one that answers.
        let plan = scenario("origin", "server", r#""status": 200"#).expect("resolves");
        assert_eq!(
            plan.checks[0].wire().map(|e| e.server.as_str()),
            Some("origin")
        );
        let err = scenario("browser", "server", r#""status": 200"#).expect_err("refused");
        assert!(
            err.contains("an HTTP response comes from a server, and `browser` is none"),
            "{err}"
        );
        let err = scenario("server", "browser", r#""body_file": "nope.png""#).expect_err("refused");
        assert!(
            err.contains("`nope.png` is not a document of the lab `web`")
                && err.contains("checks[0].http_response.body_file"),
            "{err}"
        );
    }

    #[test]
    fn resolution_refuses_what_cannot_be_judged() {
        let base = HttpResponseCheck {
            from: "server".into(),
            to: "client".into(),
            status: None,
            headers: Vec::new(),
            body_file: None,
            body_contains: None,
            points: None,
            title: None,
        };
        let err = |c: &HttpResponseCheck| resolve(c, "web").err().map(|p| (p.field, p.message));
        assert_eq!(
            err(&base),
            Some((None, "this check asks nothing of the response".into()))
        );
        let unknown = HttpResponseCheck {
            body_file: Some("image.jpg".into()),
            ..base.clone()
        };
        let p = resolve(&unknown, "web").expect_err("refused");
        assert_eq!(p.field, Some("body_file"));
        assert_eq!(
            p.help.as_deref(),
            Some("the lab `web` has HelloWorld.html, image.png, large.bin")
        );
        let both = HttpResponseCheck {
            body_file: Some("image.png".into()),
            body_contains: Some("PNG".into()),
            ..base.clone()
        };
        assert!(err(&both).is_some());
        let ok = HttpResponseCheck {
            status: Some(200),
            body_file: Some("image.png".into()),
            ..base
        };
        assert!(resolve(&ok, "web").is_ok());
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1_234_567), "1,234,567");
    }
}
