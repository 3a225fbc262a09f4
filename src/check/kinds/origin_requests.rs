//! `origin_requests` check: how many times socklab's origin server (the `http-origin` peer) was
//! asked for a path, read from the origin's own record (typed evidence, see `peer_record`).
//!
//! This is the proxy lab's cache question seen from the origin: two clients asked the proxy for
//! the same object, and a caching proxy asked the origin once. The record names each request
//! (its client address and port, so the report can tie it to the capture's connections); a
//! failure says what the origin saw ("was asked for /HelloWorld.html 2 times") and, with
//! `too_many`, what that means for the program under test.
//!
//! socklab's origin not running, or a record it cannot read, is socklab's failure: the check
//! is then a harness error ([`EvidenceCheck::unjudged`]), never the student's loss nor a pass.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{EvidenceCheck, RunView};
use crate::check::Graded;
use crate::evidence::ProgramEvidence;
use crate::plan::{Binding, CheckCx, ProgramPlan};

/// `origin_requests` check: at least one of `count`, `min`, `max`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct OriginRequestsCheck {
    /// The `http-origin` peer program whose record is read.
    pub program: String,
    /// The path asked for, e.g. `/HelloWorld.html` (query left out).
    pub path: String,
    /// Exact number of requests for `path`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    /// At least this many requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<u32>,
    /// At most this many requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<u32>,
    /// What it means when the origin was asked more often than `max`, said after what the
    /// origin saw, e.g. `the proxy did not serve the second request from its cache`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub too_many: Option<String>,
    /// Points. Default: 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<u32>,
    /// Human label for reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}
envelope!(OriginRequestsCheck);

/// The check resolved: the origin is program `program` of the plan.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Plan {
    pub program: usize,
    pub path: String,
    pub min: Option<u32>,
    pub max: Option<u32>,
    pub too_many: Option<String>,
}

pub(crate) struct Kind;

impl EvidenceCheck for Kind {
    const NAME: &'static str = "origin_requests";
    type Spec = OriginRequestsCheck;
    type Plan = Plan;

    fn resolve(c: &OriginRequestsCheck, cx: &mut CheckCx<'_, '_>) -> Option<(Plan, String)> {
        let program = cx.started_program("program", &c.program)?;
        match plan_for(c, program, cx.program_plan(program)) {
            Ok(plan) => {
                let title = plan.describe(&c.program);
                Some((plan, title))
            }
            Err((field, problem, help)) => {
                cx.error(field, problem, help.as_deref());
                None
            }
        }
    }

    fn grade(plan: &Plan, run: &RunView<'_>) -> Graded {
        let (origin, ev) = run.program(plan.program);
        grade(plan, origin, &ev)
    }

    fn unjudged(plan: &Plan, run: &RunView<'_>) -> Option<String> {
        let (origin, ev) = run.program(plan.program);
        unjudged(origin, &ev)
    }
}

/// A problem with the check as written: (field, problem, help).
type Problem = (Option<&'static str>, String, Option<String>);

/// The plan for check `c`, whose `program` is program `index`, `origin`, of the plan.
fn plan_for(c: &OriginRequestsCheck, index: usize, origin: &ProgramPlan) -> Result<Plan, Problem> {
    let is_origin = matches!(&origin.binding, Binding::Peer { name } if name == "http-origin");
    if !is_origin || origin.record.is_none() {
        return Err((
            Some("program"),
            format!(
                "`{}` is not an `http-origin` peer that keeps its record, so it has no requests \
                 to count",
                c.program
            ),
            Some(
                "name a program `\"peer\": \"http-origin\"` without `--record` in its args".into(),
            ),
        ));
    }
    if !c.path.starts_with('/') {
        return Err((
            Some("path"),
            format!("the path `{}` must start with /", c.path),
            Some(format!("`/{}`", c.path)),
        ));
    }
    let (min, max) = match (c.count, c.min, c.max) {
        (Some(n), None, None) => (Some(n), Some(n)),
        (None, Some(lo), Some(hi)) if lo > hi => {
            return Err((
                None,
                format!("`min` {lo} is above `max` {hi}: no count can satisfy both"),
                None,
            ))
        }
        (None, min, max) if min.is_some() || max.is_some() => (min, max),
        _ => {
            return Err((
                None,
                "give `count`, or `min` and/or `max`".into(),
                Some("e.g. `\"count\": 1` for an object the proxy must cache".into()),
            ))
        }
    };
    if max == Some(0) || min.is_none_or(|m| m == 0) {
        // Nothing earned by default: a count that an origin nobody reached satisfies would
        // pass a proxy that never ran.
        return Err((
            None,
            "the check would pass if the origin was never asked".into(),
            Some("require at least one request (`count` or `min` of 1 or more)".into()),
        ));
    }
    Ok(Plan {
        program: index,
        path: c.path.clone(),
        min,
        max,
        too_many: c.too_many.clone(),
    })
}

impl Plan {
    /// The expectation in words: `origin is asked for /a.html exactly once`.
    pub(crate) fn describe(&self, origin: &str) -> String {
        format!(
            "{origin} is asked for {} {}",
            self.path,
            range_words(self.min, self.max)
        )
    }
}

fn times(n: u32) -> String {
    match n {
        0 => "never".into(),
        1 => "once".into(),
        2 => "twice".into(),
        n => format!("{n} times"),
    }
}

fn range_words(min: Option<u32>, max: Option<u32>) -> String {
    match (min, max) {
        (Some(a), Some(b)) if a == b => format!("exactly {}", times(a)),
        (Some(a), Some(b)) => format!("{a} to {b} times"),
        (Some(a), None) => format!("at least {}", times(a)),
        (None, Some(b)) => format!("at most {}", times(b)),
        (None, None) => "any number of times".into(),
    }
}

/// Why socklab cannot grade the check: its origin never ran, or left a record it cannot read.
fn unjudged(origin: &str, ev: &ProgramEvidence) -> Option<String> {
    if ev.started_ms.is_none() {
        let why = ev.spawn_error.as_deref().unwrap_or("it was never started");
        return Some(format!(
            "socklab's origin server {origin} did not run: {why}"
        ));
    }
    let problem = ev.record.as_ref()?.unreadable.first()?;
    Some(format!(
        "the record of socklab's origin server {origin} could not be read ({problem})"
    ))
}

/// Grades the check from the origin's record (see [`unjudged`] for when it cannot be).
fn grade(plan: &Plan, origin: &str, ev: &ProgramEvidence) -> Graded {
    let record = ev.record.clone().unwrap_or_default();
    let asked: Vec<&crate::peer_record::OriginRequest> = record
        .origin_requests()
        .filter(|r| r.path == plan.path)
        .collect();
    let n = asked.len() as u32;
    let clients: Vec<&str> = asked.iter().map(|r| r.client.as_str()).collect();
    let actual = if n == 0 {
        format!("{origin} was never asked for {}", plan.path)
    } else {
        format!(
            "{origin} was asked for {} {} (by {})",
            plan.path,
            times(n),
            clients.join(", ")
        )
    };
    let passed = plan.min.is_none_or(|m| n >= m) && plan.max.is_none_or(|m| n <= m);
    let reason = (!passed).then(|| {
        let mut reason = format!("{actual}; expected {}", range_words(plan.min, plan.max));
        if let (Some(max), Some(meaning)) = (plan.max, &plan.too_many) {
            if n > max {
                reason = format!("{actual}: {meaning}");
            }
        }
        reason
    });
    Graded {
        passed,
        expected: plan.describe(origin),
        actual,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::peer_record::{OriginRequest, PeerRecord, PeerRecordEntry};

    fn origin() -> ProgramPlan {
        ProgramPlan {
            name: "origin".into(),
            role: None,
            argv: vec!["socklab".into()],
            env: Vec::new(),
            stdin_prelude: Vec::new(),
            binding: Binding::Peer {
                name: "http-origin".into(),
            },
            transport: None,
            host: 0,
            interpreter: None,
            limits: crate::plan::ProgramLimits::default(),
            record: Some(crate::peer_record::record_path("origin")),
        }
    }

    fn check(json: serde_json::Value) -> OriginRequestsCheck {
        serde_json::from_value(json).unwrap()
    }

    fn plan(json: serde_json::Value) -> Result<Plan, Problem> {
        plan_for(&check(json), 0, &origin())
    }

    fn asked(paths: &[&str]) -> ProgramEvidence {
        ProgramEvidence {
            started_ms: Some(5),
            record: Some(PeerRecord {
                entries: paths
                    .iter()
                    .enumerate()
                    .map(|(i, p)| {
                        PeerRecordEntry::HttpOrigin(OriginRequest {
                            path: p.to_string(),
                            status: 200,
                            bytes: 10,
                            count: 1 + i as u32,
                            client: format!("192.0.2.1:{}", 40000 + i),
                        })
                    })
                    .collect(),
                ..PeerRecord::default()
            }),
            ..ProgramEvidence::default()
        }
    }

    #[test]
    fn the_origin_asked_twice_fails_a_cache_check_saying_what_it_saw() {
        let plan = plan(serde_json::json!({
            "program": "origin", "path": "/HelloWorld.html", "count": 1,
            "too_many": "the proxy did not serve the second request from its cache",
        }))
        .unwrap();
        let once = grade(&plan, "origin", &asked(&["/HelloWorld.html", "/other"]));
        assert!(once.passed, "{:?}", once.reason);
        assert_eq!(
            once.actual,
            "origin was asked for /HelloWorld.html once (by 192.0.2.1:40000)"
        );
        let twice = grade(&plan, "origin", &asked(&["/HelloWorld.html"; 2]));
        assert!(!twice.passed);
        assert_eq!(
            twice.reason.as_deref(),
            Some(
                "origin was asked for /HelloWorld.html twice (by 192.0.2.1:40000, \
                 192.0.2.1:40001): the proxy did not serve the second request from its cache"
            )
        );
        // Never asked is a failure too: the proxy did not forward at all.
        let never = grade(&plan, "origin", &asked(&[]));
        assert!(!never.passed);
        assert!(never
            .reason
            .unwrap()
            .starts_with("origin was never asked for /HelloWorld.html; expected exactly once"));
    }

    #[test]
    fn an_origin_that_did_not_run_or_left_a_broken_record_is_socklabs_problem() {
        assert_eq!(unjudged("origin", &asked(&["/a"])), None);
        let never = unjudged("origin", &ProgramEvidence::default()).unwrap();
        assert!(never.contains("did not run"), "{never}");
        let mut broken = asked(&["/a"]);
        if let Some(r) = broken.record.as_mut() {
            r.unreadable.push("expected value".into());
        }
        let why = unjudged("origin", &broken).unwrap();
        assert!(why.contains("could not be read"), "{why}");
    }

    #[test]
    fn checks_that_cannot_judge_are_refused_when_the_scenario_is_read() {
        let err = |json| plan(json).unwrap_err().1;
        assert!(
            err(serde_json::json!({ "program": "origin", "path": "a", "count": 1 }))
                .contains("must start with /")
        );
        assert!(
            err(serde_json::json!({ "program": "origin", "path": "/a" })).contains("give `count`")
        );
        for json in [
            serde_json::json!({ "program": "origin", "path": "/a", "count": 0 }),
            serde_json::json!({ "program": "origin", "path": "/a", "max": 3 }),
            serde_json::json!({ "program": "origin", "path": "/a", "min": 0 }),
        ] {
            assert!(err(json).contains("never asked"));
        }
        let mut plain = origin();
        plain.record = None;
        let c = check(serde_json::json!({ "program": "origin", "path": "/a", "count": 1 }));
        assert!(plan_for(&c, 0, &plain)
            .unwrap_err()
            .1
            .contains("keeps its record"));
    }
}
