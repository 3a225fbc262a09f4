//! Cross-testing: the runs a scenario with `"cross": true` adds to itself.
//!
//! Where a lab fixes the wire protocol (upper, hello, web, ...), a submission's server and
//! client that work together prove only that they agree with each other. Run against socklab's
//! reference program for the other side, each is tested against the lab's protocol alone, so a
//! report can tell which side is wrong. A `cross` scenario therefore stands for three runs: as
//! written (end to end), `ID.socklab-client` (the submission's server, socklab's client) and
//! `ID.socklab-server` (socklab's server, the submission's client). The added runs are
//! ordinary scenarios from here on (listed, selected by `--scenario`, named by rubrics, graded),
//! marked with their [`Cross`] so that the planner binds the reference role to socklab's
//! program by design and the report can draw the matrix.
//!
//! A scenario whose roles are not exactly one `*-server` and one `*-client` gets no added
//! runs here; the planner refuses its `cross` at its JSON path.

use super::{Check, Cross, Loaded, Step};

/// The side a role plays, from its name: `server` for `tcp-upper-server`.
pub(crate) fn side(role: &str) -> &str {
    role.rsplit('-').next().unwrap_or(role)
}

/// The (server, client) roles of a scenario that can be cross-tested: exactly two distinct
/// roles among its programs, one ending in `-server` and one in `-client`.
pub(crate) fn pair(loaded: &Loaded) -> Option<(String, String)> {
    let mut roles: Vec<&str> = loaded
        .scenario
        .programs
        .iter()
        .filter_map(|p| p.role.as_deref())
        .collect();
    roles.sort_unstable();
    roles.dedup();
    match roles.as_slice() {
        [a, b] => {
            let (server, client) = if side(a) == "server" { (a, b) } else { (b, a) };
            (side(server) == "server" && side(client) == "client")
                .then(|| (server.to_string(), client.to_string()))
        }
        _ => None,
    }
}

/// The id of the run in which socklab's reference program plays `reference`.
pub(crate) fn variant_id(base: &str, reference: &str) -> String {
    format!("{base}.socklab-{}", side(reference))
}

/// `loaded` with, after each `cross` scenario, its two cross-test runs.
pub(crate) fn expand(loaded: Vec<Loaded>) -> Vec<Loaded> {
    let expanded: Vec<String> = loaded
        .iter()
        .filter_map(|l| l.cross.as_ref().map(|c| c.base.clone()))
        .collect();
    let mut out = Vec::with_capacity(loaded.len());
    for l in loaded {
        let fresh = l.scenario.cross && l.cross.is_none() && !expanded.contains(&l.scenario.id);
        let added = match (fresh, pair(&l)) {
            (true, Some((server, client))) => {
                vec![variant(&l, &server, &client), variant(&l, &client, &server)]
            }
            _ => Vec::new(),
        };
        out.push(l);
        out.extend(added);
    }
    out
}

/// The run of `base` in which the submission plays `yours` and socklab plays `reference`.
fn variant(base: &Loaded, yours: &str, reference: &str) -> Loaded {
    let mut v = base.clone();
    let id = &base.scenario.id;
    v.scenario.id = variant_id(id, reference);
    v.scenario.title = format!(
        "{} (your {} with socklab's {})",
        base.scenario.title,
        side(yours),
        side(reference)
    );
    let socklabs: Vec<&str> = base
        .scenario
        .programs
        .iter()
        .filter(|p| p.role.as_deref() == Some(reference))
        .map(|p| p.name.as_str())
        .collect();
    for step in &mut v.scenario.steps {
        zero_step(step, &socklabs);
    }
    for check in &mut v.scenario.checks {
        zero_check(check, &socklabs);
    }
    v.cross = Some(Cross {
        base: id.clone(),
        yours: yours.to_string(),
        reference: reference.to_string(),
    });
    v
}

/// Weighs a graded step 0 points when its program is socklab's: in a cross-test run,
/// socklab's own program never earns the student a point (the step stays, as evidence of what
/// the student's program did to it).
fn zero_step(step: &mut Step, socklabs: &[&str]) {
    let (program, points) = match step {
        Step::WaitReady(s) => (&s.program, &mut s.points),
        Step::ExpectOutput(s) => (&s.program, &mut s.points),
        Step::ExpectExit(s) => (&s.program, &mut s.points),
        Step::ExpectBlocked(s) => (&s.program, &mut s.points),
        _ => return,
    };
    if socklabs.contains(&program.as_str()) {
        *points = Some(0);
    }
}

/// Weighs a check 0 points when every program it judges is socklab's (see [`zero_step`]). The
/// programs a check judges are read from its fields as the scenario format names them, so that
/// every kind, present and future, is covered: the sender (`from`) of what it judges on the
/// wire when it has one, else every program it names (`program`, `client`, `server`, `to`).
fn zero_check(check: &mut Check, socklabs: &[&str]) {
    let Ok(mut value) = serde_json::to_value(&*check) else {
        return;
    };
    let Some(inner) = value
        .as_object_mut()
        .and_then(|o| o.values_mut().next())
        .and_then(|v| v.as_object_mut())
    else {
        return;
    };
    let field = |k: &str| inner.get(k).and_then(|v| v.as_str());
    let judged: Vec<&str> = match field("from") {
        Some(from) => vec![from],
        None => ["program", "client", "server", "to"]
            .iter()
            .filter_map(|k| field(k))
            .collect(),
    };
    if judged.is_empty() || !judged.iter().all(|p| socklabs.contains(p)) {
        return;
    }
    inner.insert("points".into(), serde_json::Value::from(0));
    if let Ok(zeroed) = serde_json::from_value(value) {
        *check = zeroed;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loaded(roles: &[&str], cross: bool) -> Loaded {
        let programs: Vec<String> = roles
            .iter()
            .enumerate()
            .map(|(i, r)| format!(r#"{{"name": "p{i}", "role": "{r}"}}"#))
            .collect();
        let text = format!(
            r#"{{"id": "upper-x", "lab": "upper", "title": "T", "question": "Q",
                "explanation": "E", "cross": {cross}, "programs": [{}], "steps": []}}"#,
            programs.join(",")
        );
        super::super::load_str(std::path::Path::new("x.json"), text).unwrap()
    }

    #[test]
    fn a_cross_scenario_is_followed_by_one_run_per_side_with_socklab_on_the_other() {
        let out = expand(vec![loaded(
            &["tcp-upper-client", "tcp-upper-server"],
            true,
        )]);
        let ids: Vec<&str> = out.iter().map(|l| l.scenario.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "upper-x",
                "upper-x.socklab-client",
                "upper-x.socklab-server"
            ]
        );
        assert_eq!(out[0].cross, None);
        let c = out[1].cross.as_ref().unwrap();
        assert_eq!(
            (c.base.as_str(), c.yours.as_str(), c.reference.as_str()),
            ("upper-x", "tcp-upper-server", "tcp-upper-client")
        );
        assert_eq!(
            out[1].scenario.title,
            "T (your server with socklab's client)"
        );
        assert_eq!(out[2].cross.as_ref().unwrap().yours, "tcp-upper-client");
        // Expanding again adds nothing.
        assert_eq!(expand(out).len(), 3);
    }

    #[test]
    fn only_one_server_and_one_client_role_can_be_cross_tested() {
        // Several programs of the same role are still one role.
        let same = loaded(
            &["tcp-upper-server", "tcp-upper-client", "tcp-upper-client"],
            true,
        );
        assert!(pair(&same).is_some());
        for roles in [
            &["tcp-upper-server"][..],
            &["tcp-upper-server", "udp-upper-server"],
            &["tcp-upper-server", "tcp-upper-client", "udp-upper-client"],
        ] {
            assert_eq!(pair(&loaded(roles, true)), None, "{roles:?}");
            assert_eq!(expand(vec![loaded(roles, true)]).len(), 1, "{roles:?}");
        }
        // Without `cross`, nothing is added.
        let plain = loaded(&["tcp-upper-client", "tcp-upper-server"], false);
        assert_eq!(expand(vec![plain]).len(), 1);
    }

    /// Points of each step and check with a title, by title.
    fn points(l: &Loaded) -> Vec<(String, Option<u32>)> {
        let mut out = Vec::new();
        for step in &l.scenario.steps {
            let (title, points) = match step {
                Step::WaitReady(s) => (s.title.clone(), s.points),
                Step::ExpectOutput(s) => (s.title.clone(), s.points),
                Step::ExpectExit(s) => (s.title.clone(), s.points),
                _ => continue,
            };
            out.push((title.unwrap_or_default(), points));
        }
        for c in &l.scenario.checks {
            let e = c.envelope();
            out.push((e.title().unwrap_or_default().to_string(), e.points()));
        }
        out
    }

    #[test]
    fn what_only_socklabs_program_does_weighs_nothing_in_a_cross_run() {
        let bundled = crate::bundled::load_all().unwrap();
        let base = bundled
            .into_iter()
            .find(|l| l.scenario.id == "upper-tcp-round-trip")
            .unwrap();
        let before = points(&base);
        let out = expand(vec![base]);
        let zeroed = |l: &Loaded| -> Vec<String> {
            points(l)
                .into_iter()
                .zip(&before)
                .filter(|((_, now), (_, was))| now != was)
                .map(|((title, now), _)| {
                    assert_eq!(now, Some(0), "{title}");
                    title
                })
                .collect()
        };
        // The student's server with socklab's client: what socklab's client prints, how it
        // exits and what it sends earn nothing; the handshake, the teardown (both sides), the
        // reply (the server's) and the server's readiness still count.
        assert_eq!(
            zeroed(&out[1]),
            [
                "the client prints the server's reply",
                "the client exits normally after the reply",
                "on the wire, the line travels in plain text to the server"
            ]
        );
        // socklab's server with the student's client: socklab's readiness and its reply.
        assert_eq!(
            zeroed(&out[2]),
            [
                "the server listens on the assigned port",
                "on the wire, the reply is the line in uppercase",
                "on the wire, one connection carries the exchange"
            ]
        );
    }
}
