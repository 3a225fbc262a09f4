//! Scenario + bindings + ports → [`Plan`], reporting every problem with its place in the file.
//!
//! One file per concern: `ports` (the ports a run assigns, which port a program uses),
//! `programs` (bindings, arguments, hosts), `limits`, `steps`, `checks` (the context each
//! check kind resolves itself through); this one holds the [`Resolver`] and the scenario-wide
//! rules (id, timeout, lab, points).

use std::collections::{BTreeMap, BTreeSet};

use regex::Regex;

use super::placeholders::{self, substitute, PlaceholderError};
use super::*;
use crate::roles::{self, Transport};
use crate::scenario::{did_you_mean, Diagnostic, Loaded, Step, StreamName, TransportName};

mod checks;
mod limits;
mod ports;
mod programs;
mod steps;
#[cfg(test)]
mod tests;

pub(crate) use checks::CheckCx;
pub(crate) use ports::{choose_ports, port_names};
use programs::*;
use steps::*;
pub(crate) use steps::{regex_problem, stream_name};

/// Role → program, for the roles a submission provides. Roles not in it use the reference
/// program when nothing is graded (`graded` false: the reference suite), and are *not
/// submitted* when a submission is: socklab's own programs never earn a student points.
#[derive(Debug, Clone, Default)]
pub(crate) struct Bindings {
    pub roles: BTreeMap<String, RoleBinding>,
    /// A submission is graded.
    pub graded: bool,
    /// Lab options the submission's manifest chose (`request_form`); the others keep their
    /// defaults (see `roles::OPTIONS`).
    pub options: BTreeMap<String, String>,
}

/// A submission's program for one role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RoleBinding {
    /// Command line; in a manifest, `{server_addr}`/`{host}` stand for the role's first (HOST)
    /// argument, each parameter's name for its argument (`{port}`, `{file}`, `{from}`), and an
    /// element `{args}` for all of the role's arguments.
    pub command: Vec<String>,
    /// Lines written to stdin at start (answers to prompts), with the same placeholders.
    pub stdin: Vec<String>,
    /// The submission file it runs, for reports.
    pub file: String,
    pub source: RoleSource,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RoleSource {
    Manifest,
    FileName,
}

impl RoleSource {
    /// How the file was bound, as reports say it.
    pub(crate) fn how(self) -> &'static str {
        match self {
            RoleSource::Manifest => "socklab.json manifest",
            RoleSource::FileName => "file name",
        }
    }
}

/// Resolves a loaded scenario. `self_exe` is the socklab binary that runs reference roles.
pub(crate) fn resolve(
    loaded: &Loaded,
    bindings: &Bindings,
    ports: &[PortPlan],
    self_exe: &str,
) -> Result<Plan, Vec<Diagnostic>> {
    let mut r = Resolver {
        loaded,
        errors: Vec::new(),
        groups: BTreeMap::new(),
        origin: Vec::new(),
        replica: Vec::new(),
        hosts: Vec::new(),
    };
    let plan = r.plan(bindings, ports, self_exe);
    if r.errors.is_empty() {
        Ok(plan)
    } else {
        Err(r.errors)
    }
}

struct Resolver<'a> {
    loaded: &'a Loaded,
    errors: Vec<Diagnostic>,
    /// A replicated program's name → its replicas' indexes in the plan, in order.
    groups: BTreeMap<String, Vec<usize>>,
    /// Plan index → the index of the scenario's program it comes from (replicas share one).
    origin: Vec<usize>,
    /// Plan index → its replica number (1 ..), `None` for a program without `replicas`.
    replica: Vec<Option<u32>>,
    /// The scenario's computers, once resolved (checks ask where a program runs).
    hosts: Vec<HostPlan>,
}

impl Resolver<'_> {
    fn error(&mut self, path: &str, message: impl Into<String>, help: Option<String>) {
        let d = self.loaded.diagnostic(path, message, help);
        // The replicas of a program share its definition, and so its mistakes: each once.
        if !self.errors.contains(&d) {
            self.errors.push(d);
        }
    }

    fn subst(&mut self, path: &str, text: &str, values: &BTreeMap<String, String>) -> String {
        if text.contains('\0') {
            // No argument, variable or line a program is given can carry one: the OS would
            // refuse the program, and the student would be blamed for the file's mistake.
            self.error(
                path,
                "contains a NUL character (\\u0000), which no program argument, variable or \
                 input line can carry",
                None,
            );
            return text.replace('\0', "");
        }
        match substitute(text, values) {
            Ok(s) => s,
            Err(e) => {
                let help = match &e {
                    PlaceholderError::Unknown(name) => {
                        did_you_mean(name, values.keys().map(String::as_str)).or_else(|| {
                            Some(format!(
                                "known placeholders: {}",
                                values
                                    .keys()
                                    .map(|k| format!("{{{k}}}"))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ))
                        })
                    }
                    PlaceholderError::Unclosed(_) => None,
                };
                self.error(path, e.to_string(), help);
                text.to_string()
            }
        }
    }

    fn plan(&mut self, bindings: &Bindings, ports: &[PortPlan], self_exe: &str) -> Plan {
        let s = &self.loaded.scenario;
        if let Some(problem) = id_problem(&s.id) {
            self.error(
                "id",
                format!("the scenario id {:?} {problem}", s.id),
                Some(
                    "an id is a name such as `upper-tcp-round-trip`: letters, digits, `-`, `_` \
                     and `.`, starting with a letter or digit (it names the capture file)"
                        .into(),
                ),
            );
        }
        if s.timeout_ms == Some(0) {
            self.error(
                "timeout_ms",
                "`timeout_ms` is 0: the scenario would have no time to run",
                Some("leave it out for the default of 20000 ms".into()),
            );
        }
        if !roles::LABS.iter().any(|(name, _)| *name == s.lab) {
            let help = did_you_mean(&s.lab, roles::LABS.iter().map(|(n, _)| *n));
            self.error("lab", format!("unknown lab `{}`", s.lab), help);
        }
        if s.cross && crate::scenario::cross::pair(self.loaded).is_none() {
            self.error(
                "cross",
                "`cross` needs exactly two roles among the programs, one server and one client",
                Some(
                    "cross-testing runs each of the two against socklab's reference program for \
                     the other; leave `cross` out of a scenario with other roles"
                        .into(),
                ),
            );
        }
        let hosts = self.hosts();
        self.hosts = hosts.clone();
        let mut values: BTreeMap<String, String> = ports
            .iter()
            .map(|p| (p.name.clone(), p.port.to_string()))
            .collect();
        self.check_port_names();
        for h in &hosts {
            values.insert(format!("addr:{}", h.name), h.addr.clone());
        }
        let server_host = s
            .programs
            .iter()
            .find(|p| p.name == "server")
            .and_then(|p| p.host.as_deref())
            .and_then(|name| hosts.iter().find(|h| h.name == name))
            .unwrap_or(&hosts[0]);
        values.insert("server_addr".into(), server_host.addr.clone());
        // socklab itself, for a `command` that runs one of its reference programs in a way no
        // role does (bound to 127.0.0.1 whatever the scenario's hosts): never the student's.
        values.insert("socklab".into(), self_exe.to_string());
        for o in roles::OPTIONS.iter().filter(|o| o.lab == s.lab) {
            let chosen = bindings.options.get(o.name).map(String::as_str);
            let value = chosen.unwrap_or(o.values[0]);
            values.insert(o.name.to_string(), value.to_string());
        }

        let programs = self.programs(&hosts, &values, bindings, self_exe);
        let mut steps = self.steps(&programs, ports, &values);
        if hosts.len() > 1 {
            // Between computers, a server must accept at its host's address.
            for planned in &mut steps {
                if let StepPlan::WaitReady {
                    program,
                    reachable_at,
                    ..
                } = &mut planned.step
                {
                    *reachable_at = programs
                        .get(*program)
                        .and_then(|p| hosts.get(p.host))
                        .map(|h| h.addr.clone());
                }
            }
        }
        let checks = self.checks(&programs, &steps, &values);
        self.check_points();
        let final_quiescence = checks.iter().any(|c| c.kind.needs_quiescence());
        Plan {
            id: s.id.clone(),
            lab: s.lab.clone(),
            ports: ports.to_vec(),
            hosts,
            programs,
            steps,
            checks,
            budget_ms: s.timeout_ms.unwrap_or(DEFAULT_BUDGET_MS),
            quiet_ms: QUIET_WINDOW_MS,
            final_quiescence,
        }
    }

    /// Points per item are bounded, so that no sum of them can wrap around.
    fn check_points(&mut self) {
        let s = &self.loaded.scenario;
        let mut too_many = Vec::new();
        for (i, step) in s.steps.iter().enumerate() {
            let points = match step {
                Step::WaitReady(w) => w.points,
                Step::ExpectOutput(e) => e.points,
                Step::ExpectExit(e) => e.points,
                Step::ExpectBlocked(e) => e.points,
                _ => None,
            };
            if let Some(p) = points.filter(|p| *p > MAX_POINTS) {
                let kind = step_kind_and_program(step).0;
                too_many.push((format!("steps[{i}].{kind}.points"), p));
            }
        }
        for (i, check) in s.checks.iter().enumerate() {
            if let Some(p) = check.envelope().points().filter(|p| *p > MAX_POINTS) {
                let kind = check.name();
                too_many.push((format!("checks[{i}].{kind}.points"), p));
            }
        }
        for (path, p) in too_many {
            self.error(
                &path,
                format!("{p} points is more than any check may weigh ({MAX_POINTS} at most)"),
                None,
            );
        }
    }

    /// One host: the run's loopback, as always. Two or more: a topology (see `sandbox::topo`),
    /// each host at its own documentation address.
    fn hosts(&mut self) -> Vec<HostPlan> {
        let s = &self.loaded.scenario;
        if s.hosts.len() > MAX_HOSTS {
            self.error(
                "hosts",
                format!(
                    "{} hosts is more than a scenario may have ({MAX_HOSTS} at most)",
                    s.hosts.len()
                ),
                None,
            );
        }
        if s.hosts.len() <= 1 {
            if s.hosts.first().is_some_and(|h| h.addr.is_some()) {
                self.error(
                    "hosts[0].addr",
                    "one host runs on the run's loopback (127.0.0.1): `addr` needs two hosts or more",
                    Some("remove `addr`, or add the other computer as a second host".into()),
                );
            }
            let name = s.hosts.first().map_or("local", |h| h.name.as_str());
            return vec![HostPlan {
                name: name.to_string(),
                addr: "127.0.0.1".into(),
                mac: String::new(),
            }];
        }
        let mut out: Vec<HostPlan> = Vec::new();
        let hosts = s.hosts.clone();
        for (i, h) in hosts.iter().enumerate() {
            if let Some(problem) = host_name_problem(&h.name) {
                self.error(
                    &format!("hosts[{i}].name"),
                    format!("the host name {:?} {problem}", h.name),
                    None,
                );
            }
            if out.iter().any(|o| o.name == h.name) {
                self.error(
                    &format!("hosts[{i}].name"),
                    format!("duplicate host name `{}`", h.name),
                    None,
                );
            }
            let addr = match &h.addr {
                None => format!("192.0.2.{}", i + 1),
                Some(text) => match documentation_addr(text) {
                    Ok(a) => a.to_string(),
                    Err(problem) => {
                        self.error(
                            &format!("hosts[{i}].addr"),
                            format!("the address {text:?} {problem}"),
                            Some(
                                "simulated hosts use the documentation ranges only: \
                                 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 (RFC 5737)"
                                    .into(),
                            ),
                        );
                        format!("192.0.2.{}", i + 1)
                    }
                },
            };
            if let Some(other) = out.iter().find(|o| o.addr == addr) {
                self.error(
                    &format!("hosts[{i}].addr"),
                    format!("host `{}` has the address {addr} already", other.name),
                    None,
                );
            }
            out.push(HostPlan {
                name: h.name.clone(),
                addr,
                mac: host_mac(i),
            });
        }
        out
    }
}

/// The most replicas a program may have (`programs[].replicas`).
pub(crate) const MAX_REPLICAS: u32 = 100;
/// The most hosts a scenario may have: each is a network namespace and a port of the bridge.
pub(crate) const MAX_HOSTS: usize = 16;

/// The MAC address of the `index`-th host's `eth0`: locally administered (bit 1 of the first
/// byte), unicast, distinct per host, and the same every run, so that reports and the
/// tests can name it.
pub(crate) fn host_mac(index: usize) -> String {
    format!("02:53:4c:00:00:{:02x}", index + 1)
}

/// Why `name` is no usable host name, if it is not: it names interfaces in the capture file.
fn host_name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("is empty")
    } else if name.len() > 32 {
        Some("is longer than 32 characters")
    } else if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
    {
        Some("may hold only letters, digits, `-` and `_`")
    } else {
        None
    }
}

/// `text` as an address of the documentation ranges (RFC 5737), neither a range's network
/// nor its broadcast address; else why not. Pure.
pub(crate) fn documentation_addr(text: &str) -> Result<std::net::Ipv4Addr, &'static str> {
    let addr: std::net::Ipv4Addr = text
        .parse()
        .map_err(|_| "is not an IPv4 address such as 192.0.2.10")?;
    let [a, b, c, d] = addr.octets();
    if !matches!((a, b, c), (192, 0, 2) | (198, 51, 100) | (203, 0, 113)) {
        return Err("is outside the documentation ranges");
    }
    if d == 0 || d == 255 {
        return Err("is its range's network or broadcast address, which no host may have");
    }
    Ok(addr)
}

/// The most points one step or check may weigh: sums of them cannot wrap around.
pub(crate) const MAX_POINTS: u32 = 1000;

/// Why `id` is no usable scenario id, if it is not: it names files (`<id>.pcap` beside the
/// report), so it must be a plain name, never a path.
fn id_problem(id: &str) -> Option<&'static str> {
    let Some(first) = id.chars().next() else {
        return Some("is empty");
    };
    // The characters before the length: `len` counts bytes, which only ASCII makes characters.
    if !first.is_ascii_alphanumeric() {
        Some("must start with a letter or digit")
    } else if !id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        Some("may hold only letters, digits, `-`, `_` and `.` (no `/`, spaces or line breaks)")
    } else if id.len() > 100 {
        Some("is longer than 100 characters")
    } else {
        None
    }
}

/// Parses scenario `text` and resolves it for the reference suite, its one port at `port`;
/// else the diagnostics, one a line. For unit tests that write a scenario inline.
#[cfg(test)]
pub(crate) fn resolve_text(text: String, port: u16) -> Result<Plan, String> {
    let loaded = crate::scenario::load_str(std::path::Path::new("t.json"), text)
        .map_err(|e| e.to_string())?;
    let ports = [PortPlan {
        name: "port".into(),
        port,
    }];
    resolve(&loaded, &Bindings::default(), &ports, "socklab").map_err(|errors| {
        let text: Vec<String> = errors.iter().map(|d| d.to_string()).collect();
        text.join("\n")
    })
}
