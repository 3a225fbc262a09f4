//! A peer's own record, read back as typed evidence for checks (pure: bytes in, values out).
//!
//! A peer that takes `--record FILE` (see `peers`) appends one JSON line per request or
//! session. The planner gives every such peer a record file of its own, under
//! [`RECORD_DIR`] in the run's working directory; the supervisor reads it back once every
//! program has stopped, and it travels in the program's evidence as [`PeerRecord`]: what the
//! origin server was asked, what the mail server was told. Checks read these entries instead of
//! parsing the peers' stdout, which is for people.
//!
//! The entry types mirror what the peers write (`peers::http_origin::Served`,
//! `peers::smtp_server::Session`) instead of reusing them, so that evidence and checks, which
//! are pure, do not import the peers, which are programs; a test in each peer's direction
//! proves a written line reads back here. A record is bounded ([`MAX_ENTRIES`], [`MAX_BYTES`])
//! so that results.json stays small whatever a run did; what was cut is counted, not lost
//! silently.
//!
//! The working directory is shared with the student's programs (the sandbox has one per run),
//! so a hostile submission could write into the record; the checks that read it are therefore
//! paired with wire checks that judge the same behaviour from the capture (the origin asked
//! once, and one TCP connection to the origin's port).

use serde::{Deserialize, Serialize};

/// Where record files go, relative to the working directory of the run.
pub(crate) const RECORD_DIR: &str = ".socklab-records";
/// Entries kept per record.
pub(crate) const MAX_ENTRIES: usize = 200;
/// Bytes of a record file read.
pub(crate) const MAX_BYTES: usize = 256 * 1024;

/// The record file of program `program`, relative to the working directory.
pub(crate) fn record_path(program: &str) -> String {
    format!("{RECORD_DIR}/{program}.jsonl")
}

/// One request the origin server answered (written by `http-origin --record`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct OriginRequest {
    /// The path asked for, query left out.
    pub path: String,
    pub status: u16,
    pub bytes: u64,
    /// How many requests for this path the origin had had, this one included.
    pub count: u32,
    /// The client's address and port, as the origin saw it.
    pub client: String,
}

/// One SMTP session (written by `smtp-server --record`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct SmtpSession {
    pub client: String,
    pub commands: Vec<String>,
    pub messages: Vec<SmtpMessage>,
    pub bare_lf: bool,
    pub ended: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct SmtpMessage {
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
}

/// One entry of a peer's record, by the peer that wrote it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum PeerRecordEntry {
    HttpOrigin(OriginRequest),
    SmtpServer(SmtpSession),
}

/// What a peer recorded during the run.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct PeerRecord {
    pub entries: Vec<PeerRecordEntry>,
    /// Entries (or bytes) past the bounds, left out.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub cut: u64,
    /// Lines that were not an entry of this peer (a broken write, or someone else's).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unreadable: Vec<String>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Whether peer `peer` writes a record this module can read.
pub(crate) fn readable(peer: &str) -> bool {
    matches!(peer, "http-origin" | "smtp-server")
}

impl PeerRecord {
    /// Parses the JSON lines `text` that peer `peer` wrote, within the bounds; `text` may end in
    /// the middle of a line (the file was cut at [`MAX_BYTES`]), which is then counted as cut.
    pub(crate) fn parse(peer: &str, text: &[u8], file_len: u64) -> PeerRecord {
        let mut record = PeerRecord::default();
        let whole = text.len() as u64 >= file_len;
        let mut lines = text.split(|b| *b == b'\n').peekable();
        while let Some(line) = lines.next() {
            let last = lines.peek().is_none();
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            if last && !whole {
                record.cut += 1;
                break;
            }
            if record.entries.len() >= MAX_ENTRIES {
                record.cut += 1;
                continue;
            }
            let entry = match peer {
                "http-origin" => serde_json::from_slice(line).map(PeerRecordEntry::HttpOrigin),
                "smtp-server" => serde_json::from_slice(line).map(PeerRecordEntry::SmtpServer),
                _ => continue,
            };
            match entry {
                Ok(e) => record.entries.push(e),
                Err(e) => {
                    if record.unreadable.len() < 5 {
                        record.unreadable.push(e.to_string());
                    }
                }
            }
        }
        record
    }

    /// The origin requests recorded, in order.
    pub(crate) fn origin_requests(&self) -> impl Iterator<Item = &OriginRequest> {
        self.entries.iter().filter_map(|e| match e {
            PeerRecordEntry::HttpOrigin(r) => Some(r),
            PeerRecordEntry::SmtpServer(_) => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str = r#"{"path":"/HelloWorld.html","status":200,"bytes":120,"count":1,"client":"192.0.2.1:4000"}"#;

    #[test]
    fn origin_lines_read_back_as_typed_entries() {
        let text = format!("{LINE}\n{}\n", LINE.replace("\"count\":1", "\"count\":2"));
        let r = PeerRecord::parse("http-origin", text.as_bytes(), text.len() as u64);
        let counts: Vec<u32> = r.origin_requests().map(|e| e.count).collect();
        assert_eq!(counts, [1, 2]);
        assert_eq!(r.cut, 0);
        assert!(r.unreadable.is_empty());
    }

    #[test]
    fn a_record_is_bounded_and_says_what_it_left_out() {
        let text = format!("{LINE}\n").repeat(MAX_ENTRIES + 3);
        let r = PeerRecord::parse("http-origin", text.as_bytes(), text.len() as u64);
        assert_eq!((r.entries.len(), r.cut), (MAX_ENTRIES, 3));
        // A file read only in part: its last, partial line is counted as cut, not misread.
        let part = &text.as_bytes()[..LINE.len() + 10];
        let r = PeerRecord::parse("http-origin", part, text.len() as u64);
        assert_eq!((r.entries.len(), r.cut), (1, 1));
        assert!(r.unreadable.is_empty());
    }

    #[test]
    fn an_smtp_session_as_the_peer_writes_it_reads_back() {
        let session = crate::peers::smtp_server::Session {
            client: "192.0.2.1:4000".into(),
            commands: vec!["HELO x".into(), "QUIT".into()],
            bare_lf: false,
            ended: "quit".into(),
            ..Default::default()
        };
        let line = serde_json::to_string(&session).unwrap();
        let r = PeerRecord::parse("smtp-server", line.as_bytes(), line.len() as u64);
        assert!(r.unreadable.is_empty(), "{r:?}");
        let [PeerRecordEntry::SmtpServer(got)] = &r.entries[..] else {
            panic!("{r:?}");
        };
        assert_eq!((got.commands.len(), got.ended.as_str()), (2, "quit"));
    }

    #[test]
    fn a_foreign_line_is_unreadable_not_an_entry() {
        let text = "{\"path\": 3}\nnot json\n";
        let r = PeerRecord::parse("http-origin", text.as_bytes(), text.len() as u64);
        assert!(r.entries.is_empty());
        assert_eq!(r.unreadable.len(), 2);
    }
}
