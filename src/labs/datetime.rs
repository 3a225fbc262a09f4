//! The `datetime` lab: the UDP date and time service of seed 003, question 3 (LABS.md).
//!
//! Purpose: the reference server and client, stateless by design (each datagram stands alone):
//! - `datetime-server HOST PORT` prints `Server started...waiting for requests`, then for each
//!   datagram `Server received MESSAGE= <msg> from ADDR= <ip>:<port>`, and answers it with one
//!   datagram: `SEND_DATE` with the current date as `YYYY-MM-DD` (ISO 8601, what Python's
//!   `str(date.today())` prints), `SEND_TIME` with the current time as `HH:MM:SS` (24-hour,
//!   two digits each), anything else with `ERROR unknown request "<msg>"`, forever.
//! - `datetime-client HOST PORT [COUNT]` sends COUNT requests (default [`DEFAULT_COUNT`]),
//!   `SEND_DATE` and `SEND_TIME` in turn, each in one datagram, waits for its answer and prints
//!   `<request> -> <answer>`; between two requests it sleeps a random 1 to 2 s, as the handout
//!   asks.
//!
//! Date and time are the machine's local time (`localtime_r`, which reads `TZ` and then
//! `/etc/localtime`; the sandbox gives programs the host's `/etc/localtime`, and a scenario
//! can set `TZ` in a program's `env`). A request is read with one trailing line ending
//! removed, so `SEND_TIME\n` is understood too. Exit codes and error messages are those of the
//! upper lab (see [`super::upper`]).

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io::{self, Write};
use std::net::UdpSocket;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::upper::{
    answer_each, fail, say, strip_line_ending, udp_client_socket, udp_round_trip, Endpoint,
    LabError,
};

/// Asks for the date.
pub(crate) const SEND_DATE: &str = "SEND_DATE";
/// Asks for the time.
pub(crate) const SEND_TIME: &str = "SEND_TIME";
/// Requests a client sends when it is not told how many.
pub(crate) const DEFAULT_COUNT: u32 = 4;
/// The shortest and longest pause between two requests, in milliseconds (the handout's 1-2 s).
const GAP_MS: (u64, u64) = (1000, 2000);
/// The ready line the server prints once bound.
pub(crate) const READY_LINE: &str = "Server started...waiting for requests";
const USAGE: &str = "HOST PORT [COUNT]";

/// A moment of the local calendar and clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LocalTime {
    pub year: i32,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

impl LocalTime {
    /// `YYYY-MM-DD`.
    pub(crate) fn date(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    /// `HH:MM:SS`, 24-hour clock.
    pub(crate) fn time(&self) -> String {
        format!("{:02}:{:02}:{:02}", self.hour, self.minute, self.second)
    }
}

/// The local date and time at `secs` seconds after the Unix epoch, as the C library sees the
/// machine's time zone; `None` if it cannot say (a time outside its range).
pub(crate) fn local_time(secs: i64) -> Option<LocalTime> {
    let t: libc::time_t = secs;
    // SAFETY: `tm` is plain old data that localtime_r fills in; both pointers are valid for
    // the call, and localtime_r is the thread-safe variant (no shared static buffer).
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let filled = unsafe { libc::localtime_r(&t, &mut tm) };
    if filled.is_null() {
        return None;
    }
    Some(LocalTime {
        year: tm.tm_year + 1900,
        month: u32::try_from(tm.tm_mon + 1).ok()?,
        day: u32::try_from(tm.tm_mday).ok()?,
        hour: u32::try_from(tm.tm_hour).ok()?,
        minute: u32::try_from(tm.tm_min).ok()?,
        second: u32::try_from(tm.tm_sec).ok()?,
    })
}

/// The answer to one request at local time `now` (`None`: the clock cannot be read).
pub(crate) fn answer(request: &[u8], now: Option<LocalTime>) -> String {
    let mut request = request.to_vec();
    strip_line_ending(&mut request);
    let unknown = || {
        format!(
            "ERROR unknown request {:?}: send {SEND_DATE} or {SEND_TIME}",
            String::from_utf8_lossy(&request)
        )
    };
    match (request.as_slice(), now) {
        (r, Some(now)) if r == SEND_DATE.as_bytes() => now.date(),
        (r, Some(now)) if r == SEND_TIME.as_bytes() => now.time(),
        (r, None) if r == SEND_DATE.as_bytes() || r == SEND_TIME.as_bytes() => {
            "ERROR the server cannot read its clock".to_string()
        }
        _ => unknown(),
    }
}

/// Now, on the local clock.
fn now() -> Option<LocalTime> {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs();
    local_time(i64::try_from(secs).ok()?)
}

pub(crate) fn server(args: &[String]) -> i32 {
    let run = || -> Result<(), LabError> {
        let endpoint = Endpoint::from_args("datetime-server", args)?;
        let socket = endpoint.bind_udp()?;
        let mut out = io::stdout();
        say(&mut out, READY_LINE);
        serve(&socket, &mut out, None, now);
        Ok(())
    };
    run().map_or_else(|e| fail(&e), |()| 0)
}

/// Prints and answers `limit` datagrams (or forever), reading the clock with `clock`.
pub(crate) fn serve(
    socket: &UdpSocket,
    out: &mut impl Write,
    limit: Option<usize>,
    clock: impl Fn() -> Option<LocalTime>,
) {
    answer_each(socket, limit, |data, peer| {
        let mut shown = data.to_vec();
        strip_line_ending(&mut shown);
        say(
            out,
            format!(
                "Server received MESSAGE= {} from ADDR= {peer}",
                String::from_utf8_lossy(&shown)
            ),
        );
        answer(data, clock()).into_bytes()
    });
}

/// `HOST PORT [COUNT]`.
fn client_args(args: &[String]) -> Result<(Endpoint, u32), LabError> {
    let usage = |problem: String| LabError::Usage {
        role: "datetime-client",
        usage: USAGE,
        problem,
    };
    if !(2..=3).contains(&args.len()) {
        return Err(usage(format!(
            "expected 2 or 3 arguments ({USAGE}), got {}",
            args.len()
        )));
    }
    let endpoint = Endpoint::parse("datetime-client", USAGE, &args[0], &args[1])?;
    let count = match args.get(2) {
        None => DEFAULT_COUNT,
        Some(c) => c
            .parse::<u32>()
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| usage(format!("invalid COUNT {c:?}: a whole number above 0")))?,
    };
    Ok((endpoint, count))
}

pub(crate) fn client(args: &[String]) -> i32 {
    let run = || -> Result<(), LabError> {
        let (endpoint, count) = client_args(args)?;
        let mut out = io::stdout();
        ask(&endpoint, count, &mut out, random_gap)
    };
    run().map_or_else(|e| fail(&e), |()| 0)
}

/// The request number `i` (from 0) of a client: the date and the time in turn.
pub(crate) fn request(i: u32) -> &'static str {
    if i % 2 == 0 {
        SEND_DATE
    } else {
        SEND_TIME
    }
}

/// Sends `count` requests from one socket, printing each answer, with `gap()` between them.
pub(crate) fn ask(
    endpoint: &Endpoint,
    count: u32,
    out: &mut impl Write,
    gap: impl Fn() -> Duration,
) -> Result<(), LabError> {
    let (socket, server) = udp_client_socket(endpoint)?;
    for i in 0..count {
        if i > 0 {
            std::thread::sleep(gap());
        }
        let req = request(i);
        let answer = udp_round_trip(&socket, server, endpoint, req.as_bytes())?;
        say(
            out,
            format!("{req} -> {}", String::from_utf8_lossy(&answer).trim_end()),
        );
    }
    Ok(())
}

/// A pause drawn uniformly from [1, 2) s (seeded by the standard library's per-process random
/// hash keys: no random-number crate for one draw per request).
fn random_gap() -> Duration {
    let mut h = RandomState::new().build_hasher();
    h.write_u64(0);
    let span = GAP_MS.1 - GAP_MS.0;
    Duration::from_millis(GAP_MS.0 + h.finish() % span)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::thread;

    const NOON: LocalTime = LocalTime {
        year: 2026,
        month: 3,
        day: 7,
        hour: 9,
        minute: 5,
        second: 3,
    };

    #[test]
    fn answers_date_time_and_an_error() {
        assert_eq!(answer(b"SEND_DATE", Some(NOON)), "2026-03-07");
        assert_eq!(answer(b"SEND_TIME\n", Some(NOON)), "09:05:03");
        assert_eq!(
            answer(b"SEND_WEATHER", Some(NOON)),
            "ERROR unknown request \"SEND_WEATHER\": send SEND_DATE or SEND_TIME"
        );
        assert!(answer(b"send_time", Some(NOON)).starts_with("ERROR unknown request"));
        assert!(answer(b"SEND_TIME", None).starts_with("ERROR"));
    }

    #[test]
    fn local_time_of_the_epoch_is_a_real_calendar_day() {
        // The machine's zone decides the day (31 Dec 1969 west of Greenwich, 1 Jan 1970
        // east of it), not the shape of the answer.
        let t = local_time(0).expect("epoch in range");
        assert!(matches!((t.year, t.month), (1969, 12) | (1970, 1)), "{t:?}");
        assert!(t.hour < 24 && t.minute < 60 && t.second < 60, "{t:?}");
    }

    #[test]
    fn client_sends_date_and_time_in_turn_and_prints_each_answer() {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind loopback");
        let addr = socket.local_addr().expect("local addr");
        let endpoint = Endpoint {
            host: addr.ip().to_string(),
            port: addr.port(),
        };
        let server = thread::spawn(move || {
            let mut out = Vec::new();
            serve(&socket, &mut out, Some(3), || Some(NOON));
            out
        });
        let mut out = Vec::new();
        ask(&endpoint, 3, &mut out, || Duration::ZERO).expect("ask");
        assert_eq!(
            String::from_utf8(out).expect("utf-8"),
            "SEND_DATE -> 2026-03-07\nSEND_TIME -> 09:05:03\nSEND_DATE -> 2026-03-07\n"
        );
        let log = String::from_utf8(server.join().expect("server")).expect("utf-8");
        assert_eq!(log.lines().count(), 3, "{log}");
        assert!(log.starts_with("Server received MESSAGE= SEND_DATE from ADDR= 127.0.0.1:"));
    }

    #[test]
    fn gaps_lie_within_one_to_two_seconds() {
        for _ in 0..200 {
            let g = random_gap();
            assert!(
                g >= Duration::from_secs(1) && g < Duration::from_secs(2),
                "{g:?}"
            );
        }
    }

    #[test]
    fn count_is_optional_and_must_be_positive() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let (_, n) = client_args(&args(&["h", "1"])).expect("two args");
        assert_eq!(n, DEFAULT_COUNT);
        let (_, n) = client_args(&args(&["h", "1", "2"])).expect("three args");
        assert_eq!(n, 2);
        assert!(client_args(&args(&["h", "1", "0"])).is_err());
        assert!(client_args(&args(&["h"])).is_err());
        assert_eq!(client(&args(&["h", "1", "x"])), 2);
    }
}
