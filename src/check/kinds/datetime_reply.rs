//! `datetime_reply` check: each UDP answer a server sent to one request (`SEND_TIME`) is the
//! current time, the current date, or an error message, judged against the clock of the
//! capture itself.
//!
//! The clock is passed in, never read here: "current" means the kernel's timestamp of the
//! answer's datagram on the wire (the capture's first-frame time plus the packet's offset),
//! read in the server's time zone, which the scenario fixes by giving the server a `TZ` of the
//! form `UTC0` or `<+0530>-5:30` (a fixed offset, no daylight saving) in its `env`: the check
//! reads it from the plan, so the server and the check cannot disagree about the zone whatever
//! the machine's own zone is. A loaded machine only delays when the answer is sent, which the
//! timestamp follows, so the verdict does not depend on load; the tolerance covers the second
//! the server truncates and the time between reading its clock and sending.
//!
//! Formats: a time is `HH:MM:SS` on a 24-hour clock, two digits each, as the handout writes
//! it (`12:5:3` and `08:05:03 PM` are not); a date is the day's year, month and day in any
//! usual spelling: `2026-03-07` (ISO 8601, what Python's `str(date.today())` prints),
//! `07/03/2026`, `03/07/2026`, `7.3.2026`, `March 7, 2026`, `Sat 07 Mar 2026`. An error is a
//! non-empty answer in words that is neither a date nor a time.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Sides, WireCheck};
use crate::analysis::{Analysis, Datagram, UdpFlow};
use crate::check::wire::{quote, udp_flows, WireGraded};
use crate::plan::{CheckCx, WireExpect};

/// What an answer must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum DatetimeAnswer {
    /// The current date.
    Date,
    /// The current time as `HH:MM:SS`.
    Time,
    /// An error message: words, neither a date nor a time.
    Error,
}

/// `datetime_reply` check.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DatetimeReplyCheck {
    /// The server: the program that answers. Its `env` must set `TZ` to a fixed offset
    /// (`UTC0`), the zone its answers are judged in.
    pub from: String,
    /// The program that asks.
    pub to: String,
    /// The request whose answers are judged, as sent (`SEND_TIME`); a trailing line ending
    /// in the datagram is ignored.
    pub request: String,
    /// What each answer to it must be: `date`, `time` or `error`.
    pub answer: DatetimeAnswer,
    /// How far, in seconds, a time or date may lie from the answer's own timestamp. Default: 3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerance_s: Option<u32>,
    /// Points. Default: 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<u32>,
    /// Human label for reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}
envelope!(DatetimeReplyCheck);

/// The resolved `datetime_reply` check.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Plan {
    pub request: String,
    pub answer: DatetimeAnswer,
    pub tolerance_s: u32,
    /// East of Greenwich, in seconds: the server's `TZ`. `None` when nothing says it (`socklab
    /// verify` on a student's own capture): the hours are then not compared, only the minutes
    /// and seconds, modulo the quarter hours every zone's offset is made of, and the date may
    /// be the day before or after the UTC one.
    pub utc_offset_s: Option<i32>,
}

pub(crate) struct Kind;

const DEFAULT_TOLERANCE_S: u32 = 3;

impl WireCheck for Kind {
    const NAME: &'static str = "datetime_reply";
    type Spec = DatetimeReplyCheck;
    type Plan = Plan;

    fn resolve(c: &DatetimeReplyCheck, cx: &mut CheckCx<'_, '_>) -> Option<Sides<Plan>> {
        let (server, client, to_server) = cx.direction(&c.from, &c.to)?;
        if to_server {
            cx.error(
                Some("from"),
                format!(
                    "`{}` is not a server: the answers come from the server",
                    c.from
                ),
                Some("put the server in `from` and the program that asks in `to`"),
            );
            return None;
        }
        let p = cx.program("from", &c.from)?;
        let tz = cx
            .program_plan(p)
            .env
            .iter()
            .find(|(k, _)| k == "TZ")
            .map(|(_, v)| v.clone());
        let Some(utc_offset_s) = tz.as_deref().and_then(fixed_offset) else {
            let found = tz.map_or("no `TZ`".to_string(), |t| format!("`TZ` {t:?}"));
            cx.error(
                Some("from"),
                format!(
                    "`{}` has {found}: the check needs the zone its answers are in",
                    c.from
                ),
                Some("give the server `\"env\": {\"TZ\": \"UTC0\"}` (a fixed offset)"),
            );
            return None;
        };
        Some(Sides {
            server,
            client,
            plan: Plan {
                request: c.request.clone(),
                answer: c.answer,
                tolerance_s: c.tolerance_s.unwrap_or(DEFAULT_TOLERANCE_S),
                utc_offset_s: Some(utc_offset_s),
            },
        })
    }

    fn describe(e: &WireExpect, p: &Plan) -> String {
        let what = match p.answer {
            DatetimeAnswer::Date => "the current date".to_string(),
            DatetimeAnswer::Time => {
                format!("the current time as HH:MM:SS (within {} s)", p.tolerance_s)
            }
            DatetimeAnswer::Error => "an error message".to_string(),
        };
        format!(
            "{} answers each {:?} from {} (port {}) with {what}",
            e.server, p.request, e.client, e.port
        )
    }

    fn grade(e: &WireExpect, p: &Plan, a: &Analysis) -> WireGraded {
        grade(e, p, a)
    }
}

/// The offset east of Greenwich, in seconds, of a POSIX `TZ` without daylight saving:
/// `UTC0`, `UTC`, `EST5`, `<+0530>-5:30` (POSIX counts hours west, so the sign flips).
fn fixed_offset(tz: &str) -> Option<i32> {
    let rest = match tz.strip_prefix('<') {
        Some(quoted) => quoted.split_once('>')?.1,
        None => {
            let name_len = tz.bytes().take_while(u8::is_ascii_alphabetic).count();
            if name_len < 3 {
                return None;
            }
            &tz[name_len..]
        }
    };
    if rest.is_empty() {
        return Some(0);
    }
    let (sign, digits) = match rest.as_bytes()[0] {
        b'-' => (1, &rest[1..]),
        b'+' => (-1, &rest[1..]),
        _ => (-1, rest),
    };
    let mut parts = digits.split(':');
    let mut next = |max: i32| -> Option<Option<i32>> {
        match parts.next() {
            None => Some(None),
            Some(p) if !p.is_empty() && p.len() <= 2 && p.bytes().all(|b| b.is_ascii_digit()) => {
                p.parse().ok().filter(|&n| n <= max).map(Some)
            }
            Some(_) => None,
        }
    };
    let hours = next(24)??;
    let minutes = next(59)?.unwrap_or(0);
    let seconds = next(59)?.unwrap_or(0);
    if parts.next().is_some() {
        return None;
    }
    Some(sign * (hours * 3600 + minutes * 60 + seconds))
}

/// A civil date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Ymd {
    year: i64,
    month: u32,
    day: u32,
}

/// The civil date of day `days` after 1970-01-01.
fn civil(days: i64) -> Ymd {
    let (year, month, day) = crate::result::civil_from_days(days);
    Ymd { year, month, day }
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// Whether `text` spells the date `d`.
fn is_date(text: &str, d: Ymd) -> bool {
    let lower = text.to_ascii_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let numbers: Vec<&str> = words
        .iter()
        .copied()
        .filter(|w| w.bytes().all(|b| b.is_ascii_digit()))
        .collect();
    let month_word = words.iter().find_map(|w| {
        w.bytes().all(|b| b.is_ascii_alphabetic()).then_some(())?;
        let i = MONTHS.iter().position(|m| w.starts_with(m))?;
        let full = [
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ][i];
        (w.len() == 3 || full.starts_with(w) || *w == "sept").then_some(i as u32 + 1)
    });
    let num = |s: &str| s.parse::<i64>().ok();
    let year_ok = |s: &str| s.len() == 4 && num(s) == Some(d.year);
    let is = |s: &str, v: u32| s.len() <= 2 && num(s) == Some(i64::from(v));
    match (month_word, numbers.as_slice()) {
        // `March 7, 2026`, `7 March 2026`, `Sat 07 Mar 2026`
        (Some(m), [x, y]) => {
            m == d.month && ((is(x, d.day) && year_ok(y)) || (year_ok(x) && is(y, d.day)))
        }
        // `2026-03-07`, `2026/03/07`, `07/03/2026`, `03/07/2026`, `7.3.2026`
        (None, [x, y, z]) => {
            (year_ok(x) && is(y, d.month) && is(z, d.day))
                || (year_ok(z) && is(x, d.day) && is(y, d.month))
                || (year_ok(z) && is(x, d.month) && is(y, d.day))
        }
        _ => false,
    }
}

/// `HH:MM:SS` (two digits each, 24-hour) as seconds of the day.
fn parse_time(text: &str) -> Option<u32> {
    let b = text.as_bytes();
    if b.len() != 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    let two = |i: usize| -> Option<u32> {
        let (x, y) = (b[i], b[i + 1]);
        (x.is_ascii_digit() && y.is_ascii_digit())
            .then(|| u32::from(x - b'0') * 10 + u32::from(y - b'0'))
    };
    let (h, m, s) = (two(0)?, two(3)?, two(6)?);
    (h < 24 && m < 60 && s < 60).then_some(h * 3600 + m * 60 + s)
}

/// Something that looks like a clock reading or a date, right or wrong: not an error message.
fn looks_like_date_or_time(text: &str) -> bool {
    let re = regex::Regex::new(r"\d{1,2}:\d{1,2}|\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}")
        .expect("a valid regex");
    re.is_match(text)
}

/// One answer against the time it was sent, `utc_s` (seconds since the epoch), read in the
/// server's zone when it is known.
fn judge(p: &Plan, text: &str, utc_s: i64) -> Result<String, String> {
    let tol = i64::from(p.tolerance_s);
    let local_s = utc_s + i64::from(p.utc_offset_s.unwrap_or(0));
    let day_of = |s: i64| civil(s.div_euclid(86_400));
    let date_text = |d: Ymd| format!("{:04}-{:02}-{:02}", d.year, d.month, d.day);
    let clock = {
        let s = local_s.rem_euclid(86_400);
        let zone = if p.utc_offset_s.is_some() { "" } else { " UTC" };
        format!("{:02}:{:02}:{:02}{zone}", s / 3600, s / 60 % 60, s % 60)
    };
    match p.answer {
        DatetimeAnswer::Time => {
            let Some(said) = parse_time(text) else {
                return Err(format!("is not a time as HH:MM:SS (it was {clock})"));
            };
            // Around midnight 23:59:59 and 00:00:01 are two seconds apart; in an unknown zone
            // only the place within the quarter hour counts.
            let period = if p.utc_offset_s.is_some() {
                86_400
            } else {
                900
            };
            let diff = (local_s - i64::from(said) + period / 2).rem_euclid(period) - period / 2;
            let unknown = if p.utc_offset_s.is_some() {
                ""
            } else {
                ", in the minutes and seconds: the capture does not say the server's time zone"
            };
            if diff.abs() <= tol {
                Ok(format!("the time it was sent ({clock}{unknown})"))
            } else {
                Err(format!(
                    "is {} s off: the datagram was sent at {clock}{unknown}",
                    diff.abs()
                ))
            }
        }
        DatetimeAnswer::Date => {
            let days: Vec<Ymd> = match p.utc_offset_s {
                Some(_) => vec![day_of(local_s), day_of(local_s - tol)],
                None => vec![
                    day_of(utc_s),
                    day_of(utc_s - 86_400),
                    day_of(utc_s + 86_400),
                ],
            };
            if days.iter().any(|&d| is_date(text, d)) {
                Ok(format!("the date it was sent ({})", date_text(days[0])))
            } else {
                Err(format!(
                    "is not the date it was sent ({}, as YYYY-MM-DD)",
                    date_text(days[0])
                ))
            }
        }
        DatetimeAnswer::Error => {
            let words = text.chars().any(char::is_alphabetic);
            if words && !looks_like_date_or_time(text) {
                Ok("an error message".to_string())
            } else if words {
                Err("is a date or a time, not an error message".to_string())
            } else {
                Err("is not an error message in words".to_string())
            }
        }
    }
}

/// The datagram's text without a trailing line ending.
fn text(d: &Datagram) -> String {
    String::from_utf8_lossy(&d.payload)
        .trim_end_matches(['\r', '\n'])
        .to_string()
}

/// The requests to judge in `f` and the first answer after each (before the next request).
fn exchanges<'f>(e: &WireExpect, f: &'f UdpFlow, request: &str) -> Vec<Exchange<'f>> {
    let a_is_server = f.a.port == e.port && f.b.port != e.port;
    let (requests, replies) = if a_is_server {
        (&f.b_to_a, &f.a_to_b)
    } else {
        (&f.a_to_b, &f.b_to_a)
    };
    let mut out = Vec::new();
    for (i, q) in requests.payloads.iter().enumerate() {
        if text(q) != request {
            continue;
        }
        let next = requests.payloads.get(i + 1).map(|n| n.packet);
        let reply = replies
            .payloads
            .iter()
            .find(|r| r.packet > q.packet && next.is_none_or(|n| r.packet < n));
        out.push(Exchange {
            request: q,
            reply,
            last: next.is_none(),
        });
    }
    out
}

/// A request to judge and the first answer after it (before the client's next request).
struct Exchange<'f> {
    request: &'f Datagram,
    reply: Option<&'f Datagram>,
    /// No request follows it in its flow.
    last: bool,
}

pub(crate) fn grade(e: &WireExpect, p: &Plan, a: &Analysis) -> WireGraded {
    let (server, client) = (&e.server, &e.client);
    let mut packets = Vec::new();
    let mut good = Vec::new();
    let flows = udp_flows(a, e.port);
    let all: Vec<(&UdpFlow, Exchange<'_>)> = flows
        .iter()
        .flat_map(|f| {
            exchanges(e, f, &p.request)
                .into_iter()
                .map(move |x| (*f, x))
        })
        .collect();
    if all.is_empty() {
        return WireGraded::fail(
            format!(
                "no {:?} from {client} to {server} on port {}",
                p.request, e.port
            ),
            format!(
                "the capture has no datagram {:?} from {client} to {server} on port {}, so no \
                 answer to judge",
                p.request, e.port
            ),
            Vec::new(),
        );
    }
    for (f, x) in all {
        let q = x.request;
        packets.push(q.packet);
        let Some(r) = x.reply else {
            let when = if x.last {
                ""
            } else {
                " before the next request"
            };
            return WireGraded::fail(
                format!(
                    "{server} never answered {:?} (packet {})",
                    p.request, q.packet
                ),
                format!(
                    "{client} sent {:?} in packet {} and {server} sent nothing back{when}",
                    p.request, q.packet
                ),
                packets,
            );
        };
        packets.push(r.packet);
        let sent = f.packets.iter().find(|x| x.number == r.packet);
        let (Some(first), Some(sent)) = (a.first_ts_ns, sent) else {
            return WireGraded::unjudged(
                format!("no timestamp for packet {}", r.packet),
                format!(
                    "the capture keeps no time for packet {}, so the answer cannot be compared \
                     with the clock",
                    r.packet
                ),
                packets,
            );
        };
        let utc_s = first.div_euclid(1_000_000_000) as f64
            + first.rem_euclid(1_000_000_000) as f64 / 1e9
            + sent.time;
        let said = text(r);
        match judge(p, &said, utc_s.floor() as i64) {
            Ok(what) => good.push(format!(
                "\"{}\" in packet {} is {what}",
                quote(said.as_bytes()),
                r.packet
            )),
            Err(why) => {
                let actual = format!(
                    "{server} answered {:?} (packet {}) with \"{}\" (packet {})",
                    p.request,
                    q.packet,
                    quote(said.as_bytes()),
                    r.packet
                );
                return WireGraded::fail(actual.clone(), format!("{actual}, which {why}"), packets);
            }
        }
    }
    let more = match good.len() {
        1 => String::new(),
        n => format!(" (and {} more answer(s), each right)", n - 1),
    };
    WireGraded::pass(
        format!("{server} answered {:?}: {}{more}", p.request, good[0]),
        packets,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::wire::testing::*;
    use crate::plan::WireKind;

    /// 2026-03-07 09:05:03 UTC, in nanoseconds since the epoch.
    const AT: i64 = 1_772_874_303_000_000_000;

    fn plan(request: &str, answer: DatetimeAnswer, utc_offset_s: i32) -> Plan {
        zoned(request, answer, Some(utc_offset_s))
    }

    fn zoned(request: &str, answer: DatetimeAnswer, utc_offset_s: Option<i32>) -> Plan {
        Plan {
            request: request.into(),
            answer,
            tolerance_s: 3,
            utc_offset_s,
        }
    }

    /// The exchanges, the capture's first frame at `first_ns` (frames 1 ms apart).
    fn capture(first_ns: i64, pairs: &[(&[u8], Option<&[u8]>)]) -> Analysis {
        let mut a = udp_exchanges(SERVER, pairs);
        let shift = first_ns - a.first_ts_ns.expect("timestamps");
        a.first_ts_ns = Some(a.first_ts_ns.unwrap_or_default() + shift);
        a
    }

    fn run(p: &Plan, a: &Analysis) -> WireGraded {
        grade(&expect(WireKind::DatetimeReply(p.clone())), p, a)
    }

    #[test]
    fn civil_dates_and_the_clock_of_the_fixture() {
        assert_eq!(
            civil(0),
            Ymd {
                year: 1970,
                month: 1,
                day: 1
            }
        );
        assert_eq!(
            civil(20_519),
            Ymd {
                year: 2026,
                month: 3,
                day: 7
            }
        );
        assert_eq!(
            civil(-1),
            Ymd {
                year: 1969,
                month: 12,
                day: 31
            }
        );
        assert_eq!(AT / 1_000_000_000 % 86_400, 9 * 3600 + 5 * 60 + 3);
    }

    #[test]
    fn the_time_is_judged_against_the_answers_own_timestamp() {
        let p = plan("SEND_TIME", DatetimeAnswer::Time, 0);
        let g = run(&p, &capture(AT, &[(b"SEND_TIME", Some(b"09:05:03\n"))]));
        assert!(g.passed, "{:?}", g.reason);
        assert_eq!(g.packets, vec![1, 2]);
        assert!(
            g.actual.contains("the time it was sent (09:05:03)"),
            "{}",
            g.actual
        );
        // Two seconds late is within the tolerance, ten is not.
        assert!(run(&p, &capture(AT, &[(b"SEND_TIME", Some(b"09:05:01"))])).passed);
        let g = run(&p, &capture(AT, &[(b"SEND_TIME", Some(b"09:04:53"))]));
        assert!(!g.passed);
        assert!(g
            .reason
            .unwrap()
            .ends_with("which is 10 s off: the datagram was sent at 09:05:03"));
        // The server's zone, not the machine's: UTC+05:30.
        let p = plan("SEND_TIME", DatetimeAnswer::Time, 19_800);
        assert!(run(&p, &capture(AT, &[(b"SEND_TIME", Some(b"14:35:03"))])).passed);
    }

    #[test]
    fn a_time_not_as_hh_mm_ss_fails_whatever_its_value() {
        let p = plan("SEND_TIME", DatetimeAnswer::Time, 0);
        for bad in [
            &b"9:5:3"[..],
            b"09:05:03 AM",
            b"9:05:03",
            b"",
            b"2026-03-07",
        ] {
            let g = run(&p, &capture(AT, &[(b"SEND_TIME", Some(bad))]));
            assert!(!g.passed, "{bad:?}");
            assert!(g.reason.unwrap().contains("is not a time as HH:MM:SS"));
        }
    }

    #[test]
    fn around_midnight_the_time_wraps_and_yesterday_is_still_today() {
        let midnight = (AT / 1_000_000_000 / 86_400 + 1) * 86_400 * 1_000_000_000;
        let p = plan("SEND_TIME", DatetimeAnswer::Time, 0);
        assert!(run(&p, &capture(midnight, &[(b"SEND_TIME", Some(b"23:59:59"))])).passed);
        let p = plan("SEND_DATE", DatetimeAnswer::Date, 0);
        assert!(
            run(
                &p,
                &capture(midnight, &[(b"SEND_DATE", Some(b"2026-03-07"))])
            )
            .passed
        );
        assert!(
            run(
                &p,
                &capture(midnight, &[(b"SEND_DATE", Some(b"2026-03-08"))])
            )
            .passed
        );
        assert!(
            !run(
                &p,
                &capture(midnight, &[(b"SEND_DATE", Some(b"2026-03-06"))])
            )
            .passed
        );
    }

    #[test]
    fn usual_spellings_of_the_date_pass_and_other_days_fail() {
        let p = plan("SEND_DATE", DatetimeAnswer::Date, 0);
        for good in [
            "2026-03-07",
            "2026/3/7",
            "07/03/2026",
            "03/07/2026",
            "7.3.2026",
            "March 7, 2026",
            "Sat 07 Mar 2026",
            "Date: 2026-03-07",
        ] {
            let g = run(&p, &capture(AT, &[(b"SEND_DATE", Some(good.as_bytes()))]));
            assert!(g.passed, "{good}: {:?}", g.reason);
        }
        for bad in [
            "2026-03-08",
            "2025-03-07",
            "07/04/2026",
            "March 8, 2026",
            "09:05:03",
            "26-3-7",
        ] {
            let g = run(&p, &capture(AT, &[(b"SEND_DATE", Some(bad.as_bytes()))]));
            assert!(!g.passed, "{bad}");
        }
    }

    #[test]
    fn an_unknown_request_needs_an_answer_in_words() {
        let p = plan("HELLO", DatetimeAnswer::Error, 0);
        let g = run(
            &p,
            &capture(AT, &[(b"HELLO\n", Some(b"ERROR unknown request"))]),
        );
        assert!(g.passed, "{:?}", g.reason);
        let g = run(&p, &capture(AT, &[(b"HELLO", None)]));
        assert!(!g.passed);
        assert_eq!(g.actual, "server never answered \"HELLO\" (packet 1)");
        assert_eq!(
            g.reason.unwrap(),
            "client sent \"HELLO\" in packet 1 and server sent nothing back"
        );
        let g = run(
            &p,
            &capture(AT, &[(b"HELLO", None), (b"SEND_TIME", Some(b"x"))]),
        );
        assert!(g
            .reason
            .unwrap()
            .ends_with("sent nothing back before the next request"));
        assert!(!run(&p, &capture(AT, &[(b"HELLO", Some(b"09:05:03"))])).passed);
        assert!(!run(&p, &capture(AT, &[(b"HELLO", Some(b""))])).passed);
    }

    #[test]
    fn every_answer_to_the_request_is_judged_and_one_is_needed() {
        let p = plan("SEND_TIME", DatetimeAnswer::Time, 0);
        let g = run(
            &p,
            &capture(
                AT,
                &[
                    (b"SEND_TIME", Some(b"09:05:03")),
                    (b"SEND_DATE", Some(b"garbage")),
                    (b"SEND_TIME", Some(b"9:05:03")),
                ],
            ),
        );
        assert!(!g.passed);
        assert_eq!(g.packets, vec![1, 2, 5, 6]);
        let g = run(&p, &capture(AT, &[(b"SEND_DATE", Some(b"2026-03-07"))]));
        assert!(!g.passed);
        assert!(g
            .reason
            .unwrap()
            .starts_with("the capture has no datagram \"SEND_TIME\""));
    }

    #[test]
    fn in_an_unknown_zone_minutes_seconds_and_a_neighbouring_day_count() {
        // A student's own capture, its server in UTC+05:45 (Nepal).
        let p = zoned("SEND_TIME", DatetimeAnswer::Time, None);
        let g = run(&p, &capture(AT, &[(b"SEND_TIME", Some(b"14:50:03"))]));
        assert!(g.passed, "{:?}", g.reason);
        assert!(
            g.actual
                .contains("09:05:03 UTC, in the minutes and seconds"),
            "{}",
            g.actual
        );
        let g = run(&p, &capture(AT, &[(b"SEND_TIME", Some(b"14:51:03"))]));
        assert!(g.reason.unwrap().contains("is 60 s off"));
        assert!(!run(&p, &capture(AT, &[(b"SEND_TIME", Some(b"2:50:03 PM"))])).passed);
        let p = zoned("SEND_DATE", DatetimeAnswer::Date, None);
        for day in ["2026-03-06", "2026-03-07", "2026-03-08"] {
            assert!(run(&p, &capture(AT, &[(b"SEND_DATE", Some(day.as_bytes()))])).passed);
        }
        assert!(!run(&p, &capture(AT, &[(b"SEND_DATE", Some(b"2026-03-09"))])).passed);
    }

    #[test]
    fn posix_fixed_offsets() {
        assert_eq!(fixed_offset("UTC0"), Some(0));
        assert_eq!(fixed_offset("UTC"), Some(0));
        assert_eq!(fixed_offset("EST5"), Some(-5 * 3600));
        assert_eq!(fixed_offset("<+0530>-5:30"), Some(19_800));
        assert_eq!(fixed_offset("CET-1"), Some(3600));
        for bad in [
            "",
            "U0",
            "Europe/Paris",
            "CET-1CEST,M3.5.0,M10.5.0/3",
            "UTC+25",
            "UTC1:2:3:4",
        ] {
            assert_eq!(fixed_offset(bad), None, "{bad}");
        }
    }
}
