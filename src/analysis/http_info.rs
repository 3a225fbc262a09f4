//! What Wireshark's packet list says about HTTP packets: which packet completes a message
//! (Protocol `HTTP`, Info `GET /HelloWorld.html HTTP/1.1 ` or `HTTP/1.1 200 OK  (text/html)`),
//! and which only carry part of one (`[TCP segment of a reassembled PDU]`). Pure: one tracker per
//! direction of a TCP stream is fed that direction's in-order segments and its FIN.
//!
//! The rules are tshark 4.0's, as measured on the labs' captures (`tests/tshark.rs` compares them
//! field by field):
//! - while a message's head is incomplete, each segment is shown with the start line seen so far
//!   and `  [TCP segment of a reassembled PDU]` (HTTP asks TCP for one more segment each time);
//! - once the head is complete and the body still needs bytes, segments wholly inside the body
//!   keep their TCP summary, followed by ` [TCP segment of a reassembled PDU]` (TCP knows where
//!   the message ends and does not call HTTP);
//! - the segment that completes the message is `HTTP`: the start line, a space, and for a body
//!   with a `Content-Type` that type without its parameters in parentheses after a second space;
//! - a response with neither `Content-Length` nor chunking ends at the sender's FIN, so the FIN
//!   packet completes it.

/// What one packet of a direction is, as the packet list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Shown {
    /// Not HTTP (or nothing to say): Protocol and Info stay TCP's.
    Tcp,
    /// Part of a message, head incomplete: Info is this text + `  [TCP segment of a
    /// reassembled PDU]`, Protocol TCP.
    HeadSegment(String),
    /// Part of a message's body: TCP's own Info + ` [TCP segment of a reassembled PDU]`.
    BodySegment,
    /// Completes a message: Protocol HTTP, this Info.
    Message(String),
}

#[derive(Debug, Default)]
enum State {
    /// Between messages; nothing buffered.
    #[default]
    Idle,
    /// Inside a head: the bytes so far.
    Head(Vec<u8>),
    /// Inside a body: the message's Info when it completes, and the bytes still to come
    /// (`None`: until the FIN).
    Body {
        info: String,
        remaining: Option<usize>,
        /// A response without `Content-Type` whose body has not started: tshark names it by
        /// its first bytes (see [`sniffed`]).
        sniff: bool,
    },
    /// The direction is not HTTP; nothing more is said about it.
    NotHttp,
}

/// The tracker of one direction.
#[derive(Debug, Default)]
pub(crate) struct Tracker {
    state: State,
    responses: bool,
}

/// Largest head followed; past it the direction is taken as not HTTP.
const MAX_HEAD: usize = 64 * 1024;

impl Tracker {
    /// A tracker for the client's direction (`responses` false) or the server's.
    pub(crate) fn new(responses: bool) -> Tracker {
        Tracker {
            state: State::Idle,
            responses,
        }
    }

    /// The direction turned out not to be HTTP: the tracker has nothing more to say.
    pub(crate) fn is_off(&self) -> bool {
        matches!(self.state, State::NotHttp)
    }

    /// One in-order segment of this direction, with its payload.
    pub(crate) fn segment(&mut self, payload: &[u8]) -> Shown {
        if payload.is_empty() {
            return Shown::Tcp;
        }
        match std::mem::take(&mut self.state) {
            State::NotHttp => {
                self.state = State::NotHttp;
                Shown::Tcp
            }
            State::Idle => {
                if !self.looks_like_start(payload) {
                    self.state = State::NotHttp;
                    return Shown::Tcp;
                }
                self.head(payload.to_vec())
            }
            State::Head(mut buf) => {
                buf.extend_from_slice(payload);
                self.head(buf)
            }
            State::Body {
                mut info,
                remaining,
                sniff,
            } => {
                if sniff {
                    if let Some(name) = sniffed(payload) {
                        info.push_str(&format!(" ({name})"));
                    }
                }
                self.body(info, remaining, payload)
            }
        }
    }

    /// A segment of a body that still needs `remaining` bytes (`None`: until the FIN).
    fn body(&mut self, info: String, remaining: Option<usize>, payload: &[u8]) -> Shown {
        match remaining {
            None => {
                self.state = State::Body {
                    info,
                    remaining,
                    sniff: false,
                };
                Shown::BodySegment
            }
            Some(n) if payload.len() < n => {
                self.state = State::Body {
                    info,
                    remaining: Some(n - payload.len()),
                    sniff: false,
                };
                Shown::BodySegment
            }
            Some(n) => {
                // The message ends in this segment; what follows starts the next one.
                let rest = &payload[n..];
                if rest.is_empty() {
                    Shown::Message(info)
                } else {
                    let next = self.segment(rest);
                    match next {
                        Shown::Message(more) => Shown::Message(format!("{info}{more}")),
                        _ => Shown::Message(info),
                    }
                }
            }
        }
    }

    /// The direction's FIN: completes a body that runs to the close.
    pub(crate) fn fin(&mut self) -> Shown {
        match std::mem::take(&mut self.state) {
            State::Body {
                info,
                remaining: None,
                ..
            } => Shown::Message(info),
            other => {
                self.state = other;
                Shown::Tcp
            }
        }
    }

    /// Whether `payload` starts as a request or status line would (tshark's heuristic looks at
    /// the first line's shape).
    fn looks_like_start(&self, payload: &[u8]) -> bool {
        if self.responses {
            payload.starts_with(b"HTTP/1.")
        } else {
            const METHODS: &[&[u8]] = &[
                b"GET ",
                b"HEAD ",
                b"POST ",
                b"PUT ",
                b"DELETE ",
                b"OPTIONS ",
                b"CONNECT ",
                b"PATCH ",
                b"TRACE ",
            ];
            METHODS.iter().any(|m| payload.starts_with(m))
        }
    }

    /// The head so far is `buf`: still incomplete, complete with a body to come, or a whole
    /// message.
    fn head(&mut self, buf: Vec<u8>) -> Shown {
        let start_line = buf
            .windows(2)
            .position(|w| w == b"\r\n")
            .map(|i| String::from_utf8_lossy(&buf[..i]).into_owned());
        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4) else {
            if buf.len() > MAX_HEAD {
                self.state = State::NotHttp;
                return Shown::Tcp;
            }
            let shown = start_line.unwrap_or_else(|| String::from_utf8_lossy(&buf).into_owned());
            self.state = State::Head(buf);
            return Shown::HeadSegment(shown);
        };
        let start_line = start_line.unwrap_or_default();
        let head = &buf[..end];
        let header = |name: &str| {
            head.split(|&b| b == b'\n').skip(1).find_map(|line| {
                let line = String::from_utf8_lossy(line);
                let (n, v) = line.split_once(':')?;
                n.trim()
                    .eq_ignore_ascii_case(name)
                    .then(|| v.trim().to_string())
            })
        };
        let length = header("content-length").and_then(|v| v.parse::<usize>().ok());
        let chunked =
            header("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
        let status = start_line
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse::<u16>().ok());
        let bodiless = matches!(status, Some(100..=199 | 204 | 304));
        let remaining = match (self.responses, length, chunked) {
            (_, Some(n), _) => Some(n),
            // Chunked bodies are not followed here: taken as ending with this segment.
            (_, None, true) => Some(buf.len() - end),
            (true, None, false) if !bodiless => None,
            _ => Some(0),
        };
        let mut info = format!("{start_line} ");
        if let Some(t) = header("content-type") {
            if remaining != Some(0) {
                let media = t.split(';').next().unwrap_or_default().trim();
                if let Some(shown) = media_note(media) {
                    info.push_str(&format!(" ({shown})"));
                }
            }
        }
        let body_here = buf.len() - end;
        let sniff = self.responses && header("content-type").is_none() && remaining != Some(0);
        if sniff && body_here > 0 {
            if let Some(name) = sniffed(&buf[end..]) {
                info.push_str(&format!(" ({name})"));
            }
        }
        let sniff = sniff && body_here == 0;
        match remaining {
            None => {
                self.state = State::Body {
                    info,
                    remaining: None,
                    sniff,
                };
                Shown::HeadSegment(start_line)
            }
            Some(n) if body_here < n => {
                self.state = State::Body {
                    info,
                    remaining: Some(n - body_here),
                    sniff,
                };
                Shown::HeadSegment(start_line)
            }
            Some(n) => {
                self.state = State::Idle;
                let rest = buf[end + n..].to_vec();
                if rest.is_empty() {
                    Shown::Message(info)
                } else {
                    match self.segment(&rest) {
                        Shown::Message(more) => Shown::Message(format!("{info}{more}")),
                        _ => Shown::Message(info),
                    }
                }
            }
        }
    }
}

/// What tshark adds to a response's Info for its media type: the name of the dissector that
/// takes the body. Text types go to the line-based text dissector, which names the type; a PNG
/// goes to the PNG dissector (`PNG`); a type no dissector takes (`application/octet-stream`)
/// adds nothing. Measured with tshark 4.0 on the web lab's captures.
/// The name tshark gives a body without `Content-Type` by its first bytes (its heuristic
/// dissectors): a PNG's signature. Other bodies get no name.
fn sniffed(body: &[u8]) -> Option<&'static str> {
    body.starts_with(b"\x89PNG\r\n\x1a\n").then_some("PNG")
}

fn media_note(media: &str) -> Option<&str> {
    match media.to_ascii_lowercase().as_str() {
        "image/png" => Some("PNG"),
        "application/octet-stream" => None,
        _ => Some(media),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_in_one_segment_is_one_http_packet() {
        let mut t = Tracker::new(false);
        assert_eq!(
            t.segment(b"GET /HelloWorld.html HTTP/1.1\r\nHost: h\r\n\r\n"),
            Shown::Message("GET /HelloWorld.html HTTP/1.1 ".into())
        );
    }

    #[test]
    fn a_response_in_head_and_body_segments_completes_on_its_last_byte() {
        let mut t = Tracker::new(true);
        assert_eq!(
            t.segment(b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 5\r\n\r\n"),
            Shown::HeadSegment("HTTP/1.1 200 OK".into())
        );
        assert_eq!(t.segment(b"ab"), Shown::BodySegment);
        assert_eq!(
            t.segment(b"cde"),
            Shown::Message("HTTP/1.1 200 OK  (text/html)".into())
        );
    }

    #[test]
    fn a_head_sent_in_pieces_shows_its_start_line_on_each() {
        let mut t = Tracker::new(true);
        assert_eq!(
            t.segment(b"HTTP/1.1 200 OK\r\n"),
            Shown::HeadSegment("HTTP/1.1 200 OK".into())
        );
        assert_eq!(
            t.segment(b"Content-Length: 3\r\n\r\n"),
            Shown::HeadSegment("HTTP/1.1 200 OK".into())
        );
        assert_eq!(t.segment(b"abc"), Shown::Message("HTTP/1.1 200 OK ".into()));
    }

    #[test]
    fn a_response_without_length_is_completed_by_the_fin() {
        let mut t = Tracker::new(true);
        assert_eq!(
            t.segment(b"HTTP/1.1 404 Not Found\r\n\r\n"),
            Shown::HeadSegment("HTTP/1.1 404 Not Found".into())
        );
        assert_eq!(t.segment(b"<html>404</html>"), Shown::BodySegment);
        assert_eq!(t.fin(), Shown::Message("HTTP/1.1 404 Not Found ".into()));
    }

    #[test]
    fn other_protocols_are_left_alone() {
        let mut t = Tracker::new(false);
        assert_eq!(t.segment(b"hello, World"), Shown::Tcp);
        assert_eq!(t.segment(b"GET / HTTP/1.1\r\n\r\n"), Shown::Tcp);
        let mut t = Tracker::new(true);
        assert_eq!(t.segment(b"HELLO"), Shown::Tcp);
        assert_eq!(t.fin(), Shown::Tcp);
    }

    #[test]
    fn the_media_note_is_what_tshark_names_the_body_by() {
        let note = |ct: &str| {
            let mut t = Tracker::new(true);
            t.segment(
                format!("HTTP/1.1 200 OK\r\nContent-Type: {ct}\r\nContent-Length: 1\r\n\r\nx")
                    .as_bytes(),
            )
        };
        assert_eq!(
            note("image/png"),
            Shown::Message("HTTP/1.1 200 OK  (PNG)".into())
        );
        assert_eq!(
            note("application/octet-stream"),
            Shown::Message("HTTP/1.1 200 OK ".into())
        );
        assert_eq!(
            note("text/plain; charset=utf-8"),
            Shown::Message("HTTP/1.1 200 OK  (text/plain)".into())
        );
    }

    /// web-good's server sends no `Content-Type`; tshark still names its image by the PNG
    /// signature that starts the body, here in the segment after the head.
    #[test]
    fn a_body_without_content_type_is_named_by_its_png_signature() {
        let mut t = Tracker::new(true);
        assert_eq!(
            t.segment(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"),
            Shown::HeadSegment("HTTP/1.1 200 OK".into())
        );
        assert_eq!(
            t.segment(b"\x89PNG\r\n\x1a\nab"),
            Shown::Message("HTTP/1.1 200 OK  (PNG)".into())
        );
        let mut t = Tracker::new(true);
        assert_eq!(
            t.segment(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"),
            Shown::Message("HTTP/1.1 200 OK ".into())
        );
    }
}
