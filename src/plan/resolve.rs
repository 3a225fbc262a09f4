//! Scenario + bindings + ports → [`Plan`], reporting every problem with its place in the file.

use std::collections::{BTreeMap, BTreeSet};

use regex::Regex;

use super::placeholders::{self, substitute, PlaceholderError};
use super::*;
use crate::roles::{self, Transport};
use crate::scenario::{did_you_mean, Check, Diagnostic, Loaded, Step, StreamName, TransportName};

/// Role → program, for the roles a submission provides. Roles not in it use the reference
/// program when nothing is graded (`graded` false: the reference suite), and are *not
/// submitted* when a submission is: socklab's own programs never earn a student points.
#[derive(Debug, Clone, Default)]
pub(crate) struct Bindings {
    pub roles: BTreeMap<String, RoleBinding>,
    /// A submission is graded.
    pub graded: bool,
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

/// The ports a run assigns: below Linux's ephemeral range (32768-60999), so a client's own
/// ephemeral port can never equal a server port it connects to (a TCP self-connect would
/// "succeed" against no server at all), and in a block Wireshark's port tables leave free, so
/// Wireshark and tshark show the lab's traffic as plain TCP/UDP rather than guessing a game or
/// industrial protocol from the port (a run once drew 26000 and its datagrams read as QUAKE).
/// A unit test checks the block against the installed tshark's `-G decodes`.
pub(crate) const PORTS: std::ops::RangeInclusive<u16> = 30_201..=31_999;

/// Picks distinct ports for `names` from `seed`, in [`PORTS`].
pub(crate) fn choose_ports(names: &[String], seed: u64) -> Vec<PortPlan> {
    let low = u64::from(*PORTS.start());
    let span = u64::from(*PORTS.end()) - low + 1;
    let mut state = seed | 1;
    let mut used = BTreeSet::new();
    names
        .iter()
        .map(|name| loop {
            // xorshift64: deterministic for a seed, good enough to spread ports.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let port = (low + state % span) as u16;
            if used.insert(port) {
                break PortPlan {
                    name: name.clone(),
                    port,
                };
            }
        })
        .collect()
}

/// Names of the ports a scenario declares (default `port`).
pub(crate) fn port_names(loaded: &Loaded) -> Vec<String> {
    if loaded.scenario.ports.is_empty() {
        vec!["port".into()]
    } else {
        loaded.scenario.ports.clone()
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
}

impl Resolver<'_> {
    fn error(&mut self, path: &str, message: impl Into<String>, help: Option<String>) {
        let d = self.loaded.diagnostic(path, message, help);
        self.errors.push(d);
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
        let hosts = self.hosts();
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

        let programs = self.programs(&hosts, &values, bindings, self_exe);
        let steps = self.steps(&programs, ports, &values);
        let checks = self.checks(&programs, &steps, &values);
        self.check_points();
        let final_quiescence = checks.iter().any(|c| {
            matches!(
                c.kind,
                CheckKind::Blocked { .. } | CheckKind::Running { .. }
            )
        });
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
            if let Some(p) = check_points(check).filter(|p| *p > MAX_POINTS) {
                let kind = check_kind_name(check);
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

    fn hosts(&mut self) -> Vec<HostPlan> {
        let s = &self.loaded.scenario;
        if s.hosts.len() > 1 {
            self.error(
                "hosts",
                format!(
                    "this version of socklab runs scenarios on one host; found {}",
                    s.hosts.len()
                ),
                Some("multi-host topologies (veth links between namespaces) are not supported yet; remove all hosts but one".into()),
            );
        }
        let name = s.hosts.first().map_or("local", |h| h.name.as_str());
        vec![HostPlan {
            name: name.to_string(),
            addr: "127.0.0.1".into(),
        }]
    }

    fn check_port_names(&mut self) {
        let names = self.loaded.scenario.ports.clone();
        let mut seen = BTreeSet::new();
        for (i, name) in names.iter().enumerate() {
            let reserved = ["server_addr", "args", "host"].contains(&name.as_str());
            let ident =
                !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !ident || reserved {
                self.error(
                    &format!("ports[{i}]"),
                    format!("invalid port name `{name}`"),
                    Some("use letters, digits and `_`, and not a reserved placeholder name".into()),
                );
            } else if !seen.insert(name) {
                self.error(
                    &format!("ports[{i}]"),
                    format!("duplicate port name `{name}`"),
                    None,
                );
            }
        }
    }

    fn programs(
        &mut self,
        hosts: &[HostPlan],
        values: &BTreeMap<String, String>,
        bindings: &Bindings,
        self_exe: &str,
    ) -> Vec<ProgramPlan> {
        let s = &self.loaded.scenario;
        let mut out = Vec::new();
        let mut names = BTreeSet::new();
        for (i, p) in s.programs.iter().enumerate() {
            let at = |field: &str| format!("programs[{i}].{field}");
            if !names.insert(p.name.clone()) {
                self.error(
                    &at("name"),
                    format!("duplicate program name `{}`", p.name),
                    None,
                );
            }
            let host = match &p.host {
                None => 0,
                Some(h) => hosts.iter().position(|x| &x.name == h).unwrap_or_else(|| {
                    let help = did_you_mean(h, hosts.iter().map(|x| x.name.as_str()));
                    self.error(&at("host"), format!("unknown host `{h}`"), help);
                    0
                }),
            };
            let env = p
                .env
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        self.subst(&format!("programs[{i}].env.{k}"), v, values),
                    )
                })
                .collect();
            let transport_override = p.transport.map(|t| match t {
                TransportName::Tcp => Transport::Tcp,
                TransportName::Udp => Transport::Udp,
            });
            let raw_args = match default_args(p) {
                Ok(args) => args,
                Err(problem) => {
                    self.error(&at("args"), problem, None);
                    Vec::new()
                }
            };
            let args: Vec<String> = raw_args
                .iter()
                .enumerate()
                .map(|(j, a)| self.subst(&format!("programs[{i}].args[{j}]"), a, values))
                .collect();
            let bound = 'bind: {
                if let Some(peer_name) = &p.peer {
                    if p.role.is_some() || p.command.is_some() {
                        self.error(
                            &format!("programs[{i}]"),
                            format!(
                                "program `{}` needs exactly one of `role`, `peer` and `command`",
                                p.name
                            ),
                            None,
                        );
                        break 'bind None;
                    }
                    if crate::peers::peer(peer_name).is_none() {
                        let help =
                            did_you_mean(peer_name, crate::peers::PEERS.iter().map(|p| p.name));
                        self.error(&at("peer"), format!("unknown peer `{peer_name}`"), help);
                        break 'bind None;
                    }
                    let mut argv = vec![self_exe.to_string(), "peer".into(), peer_name.clone()];
                    argv.extend(args.iter().cloned());
                    let binding = Binding::Peer {
                        name: peer_name.clone(),
                    };
                    // Every peer speaks TCP.
                    let transport = transport_override.or(Some(Transport::Tcp));
                    break 'bind Some((argv, Vec::new(), binding, transport, None));
                }
                Some(match (&p.role, &p.command) {
                    (Some(_), Some(_)) | (None, None) => {
                        self.error(
                            &format!("programs[{i}]"),
                            format!(
                                "program `{}` needs exactly one of `role`, `peer` and `command`",
                                p.name
                            ),
                            None,
                        );
                        break 'bind None;
                    }
                    (None, Some(cmd)) => {
                        if cmd.is_empty() {
                            self.error(&at("command"), "empty command", None);
                            break 'bind None;
                        }
                        let mut argv: Vec<String> = cmd
                            .iter()
                            .enumerate()
                            .map(|(j, a)| {
                                self.subst(&format!("programs[{i}].command[{j}]"), a, values)
                            })
                            .collect();
                        if p.args.is_some() {
                            argv.extend(args.iter().cloned());
                        }
                        (argv, Vec::new(), Binding::Command, transport_override, None)
                    }
                    (Some(role_name), None) => {
                        let Some(role) = roles::role(role_name) else {
                            let help = did_you_mean(role_name, roles::ROLES.iter().map(|r| r.name));
                            self.error(&at("role"), format!("unknown role `{role_name}`"), help);
                            break 'bind None;
                        };
                        if role.lab != s.lab {
                            self.error(
                                &at("role"),
                                format!(
                                    "role `{role_name}` belongs to lab `{}`, not `{}`",
                                    role.lab, s.lab
                                ),
                                None,
                            );
                        }
                        let (argv, prelude, binding) = match bindings.roles.get(role_name) {
                            Some(b) => bind_submission(b, &args, role),
                            None if bindings.graded => {
                                (Vec::new(), Vec::new(), Binding::NotSubmitted)
                            }
                            None => {
                                let mut argv =
                                    vec![self_exe.to_string(), "ref".into(), role_name.clone()];
                                argv.extend(args.iter().cloned());
                                (argv, Vec::new(), Binding::Reference)
                            }
                        };
                        let transport = transport_override.or(Some(role.transport));
                        (argv, prelude, binding, transport, Some(role_name.clone()))
                    }
                })
            };
            // A program with errors still gets a stub, so later references to it do not cascade
            // into "unknown program" errors.
            let (argv, stdin_prelude, binding, transport, role) = bound.unwrap_or_else(|| {
                (
                    vec![String::new()],
                    Vec::new(),
                    Binding::Command,
                    None,
                    p.role.clone(),
                )
            });
            out.push(ProgramPlan {
                name: p.name.clone(),
                role,
                argv,
                env,
                stdin_prelude,
                binding,
                transport,
                host,
                interpreter: None,
                limits: self.limits(i),
            });
        }
        out
    }

    /// Program `i`'s limits: its own over the scenario's over the defaults. Each value given
    /// must be at least 1 and at most [`MAX_LIMITS`]' (a typo must not switch a limit off).
    fn limits(&mut self, i: usize) -> ProgramLimits {
        let s = &self.loaded.scenario;
        let layers = [
            ("limits".to_string(), s.limits.clone()),
            (
                format!("programs[{i}].limits"),
                s.programs[i].limits.clone(),
            ),
        ];
        let mut out = DEFAULT_LIMITS;
        for (at, given) in layers {
            let Some(given) = given else { continue };
            let fields = [
                (
                    "cpu_seconds",
                    given.cpu_seconds,
                    &mut out.cpu_seconds,
                    MAX_LIMITS.cpu_seconds,
                ),
                (
                    "memory_mib",
                    given.memory_mib,
                    &mut out.memory_mib,
                    MAX_LIMITS.memory_mib,
                ),
                (
                    "file_mib",
                    given.file_mib,
                    &mut out.file_mib,
                    MAX_LIMITS.file_mib,
                ),
                (
                    "open_files",
                    given.open_files,
                    &mut out.open_files,
                    MAX_LIMITS.open_files,
                ),
                (
                    "processes",
                    given.processes,
                    &mut out.processes,
                    MAX_LIMITS.processes,
                ),
                (
                    "output_kib",
                    given.output_kib,
                    &mut out.output_kib,
                    MAX_LIMITS.output_kib,
                ),
            ];
            for (name, value, slot, max) in fields {
                let Some(v) = value else { continue };
                let floor = LIMIT_FLOORS
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map_or(1, |(_, f)| *f);
                if v < floor || v > max {
                    let problem = if v < floor {
                        format!("`{name}` is {v}: at least {floor} is needed for a program to run")
                    } else {
                        format!("`{name}` is {v}: the most socklab allows is {max}")
                    };
                    self.errors.push(self.loaded.diagnostic(
                        &format!("{at}.{name}"),
                        problem,
                        Some(format!(
                            "leave it out for the default of {}",
                            field_default(name)
                        )),
                    ));
                } else {
                    *slot = v;
                }
            }
        }
        out
    }

    fn program_index(&mut self, path: &str, name: &str, programs: &[ProgramPlan]) -> Option<usize> {
        let found = programs.iter().position(|p| p.name == name);
        if found.is_none() {
            let help = did_you_mean(name, programs.iter().map(|p| p.name.as_str()));
            self.error(path, format!("unknown program `{name}`"), help);
        }
        found
    }

    fn steps(
        &mut self,
        programs: &[ProgramPlan],
        ports: &[PortPlan],
        values: &BTreeMap<String, String>,
    ) -> Vec<PlannedStep> {
        let steps = self.loaded.scenario.steps.clone();
        let raw_programs = self.loaded.scenario.programs.clone();
        let mut started = BTreeSet::new();
        let mut out = Vec::new();
        for (i, step) in steps.iter().enumerate() {
            let (kind, name) = step_kind_and_program(step);
            let at = format!("steps[{i}].{kind}");
            let program = match name {
                Some(name) => match self.program_index(&format!("{at}.program"), name, programs) {
                    Some(p) => Some(p),
                    None => continue,
                },
                None => None,
            };
            let pname = program
                .map_or("", |p| programs[p].name.as_str())
                .to_string();
            if let Some(p) = program {
                let is_start = matches!(step, Step::Start(_));
                if is_start && started.contains(&p) {
                    self.error(&at, format!("program `{pname}` is already started"), None);
                } else if !is_start && !started.contains(&p) {
                    self.error(
                        &format!("{at}.program"),
                        format!("program `{pname}` is not started at this step"),
                        Some(format!("add a `start` step for `{pname}` before this one")),
                    );
                }
                if is_start {
                    started.insert(p);
                }
            }
            let p = program.unwrap_or(0);
            let planned = match step {
                Step::Start(_) => {
                    let role = match (&programs[p].role, &programs[p].binding) {
                        (Some(role), _) => role.clone(),
                        (None, Binding::Peer { name }) => format!("peer {name}"),
                        (None, _) => "command".into(),
                    };
                    PlannedStep {
                        step: StepPlan::Start { program: p },
                        label: format!("start {pname} ({role})"),
                        points: None,
                    }
                }
                Step::WaitReady(w) => {
                    let raw_args = raw_programs
                        .iter()
                        .find(|r| r.name == pname)
                        .map(|r| {
                            let mut all = r.command.clone().unwrap_or_default();
                            all.extend(r.args.clone().unwrap_or_else(|| vec!["{port}".into()]));
                            all
                        })
                        .unwrap_or_default();
                    let port_name = w.port.clone().or_else(|| {
                        raw_args
                            .iter()
                            .flat_map(|a| placeholders::names(a))
                            .find(|n| ports.iter().any(|pp| &pp.name == n))
                    });
                    let Some(port_name) = port_name else {
                        self.error(
                            &at,
                            format!("cannot tell which port `{pname}` serves"),
                            Some("name it with `\"port\": \"port\"`".into()),
                        );
                        continue;
                    };
                    let Some(port) = ports.iter().find(|pp| pp.name == port_name) else {
                        let help =
                            did_you_mean(&port_name, ports.iter().map(|pp| pp.name.as_str()));
                        self.error(
                            &format!("{at}.port"),
                            format!("unknown port `{port_name}`"),
                            help,
                        );
                        continue;
                    };
                    // A program whose own definition was wrong has been reported already.
                    let broken = programs[p].argv.first().is_none_or(|a| a.is_empty());
                    let Some(transport) =
                        programs[p].transport.or(broken.then_some(Transport::Tcp))
                    else {
                        self.error(
                            &at,
                            format!("cannot tell whether `{pname}` serves TCP or UDP"),
                            Some(format!("set `\"transport\"` on program `{pname}`")),
                        );
                        continue;
                    };
                    let within_ms = w.within_ms.unwrap_or(DEFAULT_READY_MS);
                    let verb = match transport {
                        Transport::Tcp => "listens on its assigned TCP port",
                        Transport::Udp => "is bound to its assigned UDP port",
                    };
                    // No port number or time in the label: a check is named the same in every
                    // run (the fixture matrix and gradebooks key on it).
                    let label = w.title.clone().unwrap_or_else(|| {
                        if port_name == "port" {
                            format!("{pname} {verb}")
                        } else {
                            format!("{pname} {verb} `{port_name}`")
                        }
                    });
                    PlannedStep {
                        step: StepPlan::WaitReady {
                            program: p,
                            port_name,
                            port: port.port,
                            transport,
                            within_ms,
                        },
                        label,
                        points: Some(w.points.unwrap_or(1)),
                    }
                }
                Step::Write(w) => {
                    if w.line.contains(['\n', '\r']) {
                        self.error(
                            &format!("{at}.line"),
                            "a `write` line cannot contain a line break: socklab adds the one \
                             newline that ends it",
                            Some("write each line in its own `write` step".into()),
                        );
                    }
                    let line = self.subst(&format!("{at}.line"), &w.line, values);
                    PlannedStep {
                        label: format!("type {line:?} into {pname}"),
                        step: StepPlan::Write { program: p, line },
                        points: None,
                    }
                }
                Step::CloseStdin(_) => PlannedStep {
                    step: StepPlan::CloseStdin { program: p },
                    label: format!("close {pname}'s standard input"),
                    points: None,
                },
                Step::ExpectOutput(e) => {
                    let Some(matcher) = self.matcher(
                        &at,
                        e.contains.as_deref(),
                        None,
                        e.regex.as_deref(),
                        None,
                        values,
                    ) else {
                        continue;
                    };
                    let within_ms = e.within_ms.unwrap_or(DEFAULT_EXPECT_MS);
                    let label = e.title.clone().unwrap_or_else(|| {
                        format!(
                            "{pname}'s {} {} within {within_ms} ms",
                            stream_name(e.stream),
                            matcher.describe()
                        )
                    });
                    PlannedStep {
                        step: StepPlan::ExpectOutput {
                            program: p,
                            stream: e.stream,
                            matcher,
                            within_ms,
                        },
                        label,
                        points: Some(e.points.unwrap_or(1)),
                    }
                }
                Step::ExpectExit(e) => {
                    let expect = ExitExpect::from_parts(e.status, e.code);
                    let within_ms = e.within_ms.unwrap_or(DEFAULT_EXPECT_MS);
                    let label = e.title.clone().unwrap_or_else(|| {
                        format!("{pname} {} within {within_ms} ms", expect.describe())
                    });
                    PlannedStep {
                        step: StepPlan::ExpectExit {
                            program: p,
                            expect,
                            within_ms,
                        },
                        label,
                        points: Some(e.points.unwrap_or(1)),
                    }
                }
                Step::ExpectBlocked(e) => {
                    let within_ms = e.within_ms.unwrap_or(DEFAULT_EXPECT_MS);
                    let label = e
                        .title
                        .clone()
                        .unwrap_or_else(|| format!("{pname} blocks, waiting for input"));
                    PlannedStep {
                        step: StepPlan::ExpectBlocked {
                            program: p,
                            within_ms,
                        },
                        label,
                        points: Some(e.points.unwrap_or(1)),
                    }
                }
                Step::Sleep(s) => PlannedStep {
                    step: StepPlan::Sleep { ms: s.ms },
                    label: format!("sleep {} ms", s.ms),
                    points: None,
                },
                Step::Stop(_) => PlannedStep {
                    step: StepPlan::Stop { program: p },
                    label: format!("stop {pname}"),
                    points: None,
                },
            };
            out.push(planned);
        }
        out
    }

    fn matcher(
        &mut self,
        at: &str,
        contains: Option<&str>,
        not_contains: Option<&str>,
        regex: Option<&str>,
        not_regex: Option<&str>,
        values: &BTreeMap<String, String>,
    ) -> Option<Matcher> {
        let given: Vec<(&str, &str)> = [
            ("contains", contains),
            ("not_contains", not_contains),
            ("regex", regex),
            ("not_regex", not_regex),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect();
        let [(field, value)] = given.as_slice() else {
            let fields: Vec<&str> = given.iter().map(|(k, _)| *k).collect();
            self.error(
                at,
                if fields.is_empty() {
                    "no text condition given".to_string()
                } else {
                    format!("several text conditions given: {}", fields.join(", "))
                },
                Some("give exactly one of `contains`, `regex` (checks also take `not_contains`, `not_regex`)".into()),
            );
            return None;
        };
        let path = format!("{at}.{field}");
        let value = self.subst(&path, value, values);
        if field.ends_with("regex") {
            if let Err(e) = Regex::new(&value) {
                let first = e
                    .to_string()
                    .lines()
                    .last()
                    .unwrap_or("")
                    .trim()
                    .to_string();
                self.error(&path, format!("invalid regular expression: {first}"), None);
                return None;
            }
        }
        Some(match *field {
            "contains" => Matcher::Contains(value),
            "not_contains" => Matcher::NotContains(value),
            "regex" => Matcher::Regex(value),
            _ => Matcher::NotRegex(value),
        })
    }

    fn checks(
        &mut self,
        programs: &[ProgramPlan],
        steps: &[PlannedStep],
        values: &BTreeMap<String, String>,
    ) -> Vec<CheckPlan> {
        let checks = self.loaded.scenario.checks.clone();
        let started: BTreeSet<usize> = steps
            .iter()
            .filter_map(|s| match s.step {
                StepPlan::Start { program } => Some(program),
                _ => None,
            })
            .collect();
        let mut out = Vec::new();
        for (i, check) in checks.iter().enumerate() {
            let (kind, name, points, title) = match check {
                Check::Exit(c) => ("exit", &c.program, c.points, &c.title),
                Check::Output(c) => ("output", &c.program, c.points, &c.title),
                Check::Running(c) => ("running", &c.program, c.points, &c.title),
                Check::Blocked(c) => ("blocked", &c.program, c.points, &c.title),
                wire => {
                    if let Some(plan) = self.wire_check(i, wire, programs, steps, values) {
                        out.push(plan);
                    }
                    continue;
                }
            };
            let at = format!("checks[{i}].{kind}");
            let Some(p) = self.program_index(&format!("{at}.program"), name, programs) else {
                continue;
            };
            if !started.contains(&p) {
                self.error(
                    &format!("{at}.program"),
                    format!("program `{name}` is never started, so this check cannot pass"),
                    None,
                );
            }
            let (kind, default_title) = match check {
                Check::Exit(c) => {
                    let expect = ExitExpect::from_parts(c.status, c.code);
                    let t = format!("{name} {}", expect.describe());
                    (CheckKind::Exit { program: p, expect }, t)
                }
                Check::Output(c) => {
                    let Some(matcher) = self.matcher(
                        &at,
                        c.contains.as_deref(),
                        c.not_contains.as_deref(),
                        c.regex.as_deref(),
                        c.not_regex.as_deref(),
                        values,
                    ) else {
                        continue;
                    };
                    let t = format!("{name}'s {} {}", stream_name(c.stream), matcher.describe());
                    (
                        CheckKind::Output {
                            program: p,
                            stream: c.stream,
                            matcher,
                        },
                        t,
                    )
                }
                Check::Running(_) => (
                    CheckKind::Running { program: p },
                    format!("{name} is still running at the end"),
                ),
                Check::Blocked(_) => (
                    CheckKind::Blocked { program: p },
                    format!("{name} is still running and blocked at the end"),
                ),
                _ => continue,
            };
            out.push(CheckPlan {
                title: title.clone().unwrap_or(default_title),
                points: points.unwrap_or(1),
                kind,
            });
        }
        out
    }
}

/// What a wire check says in the file, before its programs become ports.
struct WireSpec {
    /// Program whose port is the service port, and the other program.
    server: String,
    client: String,
    points: Option<u32>,
    title: Option<String>,
}

impl Resolver<'_> {
    /// Resolves one wire check: program names become the service port they stand for.
    fn wire_check(
        &mut self,
        i: usize,
        check: &Check,
        programs: &[ProgramPlan],
        steps: &[PlannedStep],
        values: &BTreeMap<String, String>,
    ) -> Option<CheckPlan> {
        let kind_name = check_kind_name(check);
        let at = format!("checks[{i}].{kind_name}");
        // `from`/`to` pairs: the server side gives the port and the direction.
        let pair = |this: &mut Self, from: &str, to: &str| -> Option<(String, String, bool)> {
            let f = this.program_index(&format!("{at}.from"), from, programs)?;
            let t = this.program_index(&format!("{at}.to"), to, programs)?;
            let (fs, ts) = (is_server(f, programs, steps), is_server(t, programs, steps));
            match (fs, ts) {
                (false, true) | (false, false) => Some((to.into(), from.into(), true)),
                (true, false) => Some((from.into(), to.into(), false)),
                (true, true) => {
                    this.error(
                        &at,
                        format!("both `{from}` and `{to}` are servers; cannot tell the direction"),
                        Some("name one server and one client".into()),
                    );
                    None
                }
            }
        };
        let (spec, kind) = match check {
            Check::TcpHandshake(c) | Check::TcpFinTeardown(c) => {
                self.program_index(&format!("{at}.client"), &c.client, programs)?;
                self.program_index(&format!("{at}.server"), &c.server, programs)?;
                let kind = if matches!(check, Check::TcpHandshake(_)) {
                    WireKind::TcpHandshake
                } else {
                    WireKind::TcpFinTeardown
                };
                (
                    WireSpec {
                        server: c.server.clone(),
                        client: c.client.clone(),
                        points: c.points,
                        title: c.title.clone(),
                    },
                    kind,
                )
            }
            Check::TcpRefused(c) => {
                self.program_index(&format!("{at}.client"), &c.client, programs)?;
                (
                    WireSpec {
                        server: c.client.clone(),
                        client: c.client.clone(),
                        points: c.points,
                        title: c.title.clone(),
                    },
                    WireKind::TcpRefused,
                )
            }
            Check::NoTcpHandshake(c) | Check::IcmpPortUnreachable(c) => {
                self.program_index(&format!("{at}.program"), &c.program, programs)?;
                let kind = if matches!(check, Check::NoTcpHandshake(_)) {
                    WireKind::NoTcpHandshake
                } else {
                    WireKind::IcmpPortUnreachable
                };
                (
                    WireSpec {
                        server: c.program.clone(),
                        client: c.program.clone(),
                        points: c.points,
                        title: c.title.clone(),
                    },
                    kind,
                )
            }
            Check::TcpConnections(c) => {
                self.program_index(&format!("{at}.program"), &c.program, programs)?;
                let (min, max) = match (c.count, c.min, c.max) {
                    (Some(n), None, None) => (Some(n), Some(n)),
                    (None, Some(lo), Some(hi)) if lo > hi => {
                        self.error(
                            &at,
                            format!("`min` {lo} is above `max` {hi}: no count can satisfy both"),
                            None,
                        );
                        return None;
                    }
                    (None, min, max) if min.is_some() || max.is_some() => (min, max),
                    _ => {
                        self.error(
                            &at,
                            "give `count`, or `min` and/or `max`",
                            Some("e.g. `\"count\": 1` for one connection to the origin".into()),
                        );
                        return None;
                    }
                };
                (
                    WireSpec {
                        server: c.program.clone(),
                        client: c.program.clone(),
                        points: c.points,
                        title: c.title.clone(),
                    },
                    WireKind::TcpConnections { min, max },
                )
            }
            Check::TcpConcurrent(c) => {
                self.program_index(&format!("{at}.program"), &c.program, programs)?;
                if c.count < 2 {
                    self.error(
                        &format!("{at}.count"),
                        "`count` must be at least 2: one connection is never concurrent",
                        None,
                    );
                    return None;
                }
                (
                    WireSpec {
                        server: c.program.clone(),
                        client: c.program.clone(),
                        points: c.points,
                        title: c.title.clone(),
                    },
                    WireKind::TcpConcurrent { count: c.count },
                )
            }
            Check::TcpPayload(c) => {
                let (server, client, to_server) = pair(self, &c.from, &c.to)?;
                let given: Vec<&str> = [
                    ("contains", c.contains.is_some()),
                    ("regex", c.regex.is_some()),
                    ("equals_hex", c.equals_hex.is_some()),
                    ("relation", c.relation.is_some()),
                ]
                .into_iter()
                .filter_map(|(k, v)| v.then_some(k))
                .collect();
                if given.len() != 1 {
                    self.error(
                        &at,
                        format!("give exactly one payload condition, not {}", given.len()),
                        Some("use one of `contains`, `regex`, `equals_hex`, `relation`".into()),
                    );
                    return None;
                }
                let rule = if let Some(r) = c.relation {
                    PayloadRule::Relation(self.relation(&at, r, to_server, &c.from)?)
                } else if let Some(text) = &c.contains {
                    let text = self.subst(&format!("{at}.contains"), text, values);
                    PayloadRule::Matches(typed_or_contains(text, &c.from, programs, steps))
                } else if let Some(r) = &c.regex {
                    if let Err(e) = regex::bytes::Regex::new(r) {
                        let first = e
                            .to_string()
                            .lines()
                            .last()
                            .unwrap_or("")
                            .trim()
                            .to_string();
                        self.error(
                            &format!("{at}.regex"),
                            format!("invalid regular expression: {first}"),
                            None,
                        );
                        return None;
                    }
                    PayloadRule::Matches(PayloadMatcher::Regex(r.clone()))
                } else {
                    let hex = c.equals_hex.as_deref().unwrap_or("");
                    let Some(bytes) = parse_hex(hex) else {
                        self.error(
                            &format!("{at}.equals_hex"),
                            format!("invalid hex bytes `{hex}`"),
                            Some("write two hex digits per byte, e.g. `48 49 0a`".into()),
                        );
                        return None;
                    };
                    PayloadRule::Matches(PayloadMatcher::Equals(bytes))
                };
                return self.wire_plan(
                    i,
                    programs,
                    steps,
                    values,
                    WireSpec {
                        server,
                        client,
                        points: c.points,
                        title: c.title.clone(),
                    },
                    WireKind::TcpPayload { to_server, rule },
                );
            }
            Check::UdpDatagrams(c) => {
                let (server, client, to_server) = pair(self, &c.from, &c.to)?;
                let rule = match (&c.contains, c.relation) {
                    (Some(_), Some(_)) => {
                        self.error(
                            &at,
                            "give `contains` or `relation`, not both",
                            Some(
                                "a relation already judges what each reply holds; keep `relation`"
                                    .into(),
                            ),
                        );
                        return None;
                    }
                    (Some(t), None) => {
                        let text = self.subst(&format!("{at}.contains"), t, values);
                        Some(PayloadRule::Matches(typed_or_contains(
                            text, &c.from, programs, steps,
                        )))
                    }
                    (None, Some(_)) if c.count == Some(0) => {
                        self.error(
                            &at,
                            "a relation judges replies, but `count: 0` says there are none",
                            Some("drop `relation`, or the `count`".into()),
                        );
                        return None;
                    }
                    (None, Some(r)) => Some(PayloadRule::Relation(
                        self.relation(&at, r, to_server, &c.from)?,
                    )),
                    (None, None) => None,
                };
                return self.wire_plan(
                    i,
                    programs,
                    steps,
                    values,
                    WireSpec {
                        server,
                        client,
                        points: c.points,
                        title: c.title.clone(),
                    },
                    WireKind::UdpDatagrams {
                        to_server,
                        count: c.count,
                        rule,
                    },
                );
            }
            Check::PacketGap(c) => {
                let (server, client, to_server) = pair(self, &c.from, &c.to)?;
                if let (Some(lo), Some(hi)) = (c.min_ms, c.max_ms) {
                    if lo > hi {
                        self.error(&at, format!("`min_ms` {lo} is above `max_ms` {hi}"), None);
                        return None;
                    }
                }
                return self.wire_plan(
                    i,
                    programs,
                    steps,
                    values,
                    WireSpec {
                        server,
                        client,
                        points: c.points,
                        title: c.title.clone(),
                    },
                    WireKind::PacketGap {
                        to_server,
                        min_ms: c.min_ms.unwrap_or(0),
                        max_ms: c.max_ms,
                    },
                );
            }
            Check::Exit(_) | Check::Output(_) | Check::Running(_) | Check::Blocked(_) => {
                return None
            }
        };
        self.wire_plan(i, programs, steps, values, spec, kind)
    }

    /// A relation is about the server's reply to a request: a check from the server.
    fn relation(&mut self, at: &str, r: Relation, to_server: bool, from: &str) -> Option<Relation> {
        if to_server {
            self.error(
                &format!("{at}.relation"),
                format!("a relation judges the server's reply, but `{from}` is not the server"),
                Some("put the relation on the check whose `from` is the server".into()),
            );
            return None;
        }
        Some(r)
    }

    fn wire_plan(
        &mut self,
        i: usize,
        programs: &[ProgramPlan],
        steps: &[PlannedStep],
        values: &BTreeMap<String, String>,
        spec: WireSpec,
        kind: WireKind,
    ) -> Option<CheckPlan> {
        let at = format!("checks[{i}].{}", kind.name());
        let p = programs.iter().position(|p| p.name == spec.server)?;
        let Some(port) = self.program_port(p, steps, values) else {
            self.error(
                &at,
                format!("cannot tell which port `{}` uses", spec.server),
                Some("give the program a port placeholder in its arguments, e.g. `{port}`".into()),
            );
            return None;
        };
        let expect = WireExpect {
            port,
            server: spec.server,
            client: spec.client,
            kind,
        };
        let title = spec.title.unwrap_or_else(|| expect.describe());
        Some(CheckPlan {
            title,
            points: spec.points.unwrap_or(1),
            kind: CheckKind::Wire(expect),
        })
    }

    /// The port a program serves (its `wait_ready` port) or sends to (the first port
    /// placeholder in its command line).
    fn program_port(
        &self,
        program: usize,
        steps: &[PlannedStep],
        values: &BTreeMap<String, String>,
    ) -> Option<u16> {
        let ready = steps.iter().find_map(|s| match &s.step {
            StepPlan::WaitReady {
                program: p, port, ..
            } if *p == program => Some(*port),
            _ => None,
        });
        if ready.is_some() {
            return ready;
        }
        let raw = self.loaded.scenario.programs.get(program)?;
        let mut all = raw.command.clone().unwrap_or_default();
        all.extend(default_args(raw).unwrap_or_default());
        let ports = port_names(self.loaded);
        all.iter()
            .flat_map(|a| placeholders::names(a))
            .filter(|n| ports.contains(n))
            .find_map(|n| values.get(&n).and_then(|v| v.parse().ok()))
    }
}

/// A program's arguments as the scenario writes them: its `args`, else (for a role) each
/// parameter's default (`{server_addr}`, `{port}`); an error names the parameters that have
/// none (`FILE`), which the scenario must then give.
fn default_args(p: &crate::scenario::Program) -> Result<Vec<String>, String> {
    if let Some(args) = &p.args {
        return Ok(args.clone());
    }
    if p.peer.is_some() {
        return Ok(vec!["{server_addr}".into(), "{port}".into()]);
    }
    let Some(role) = p.role.as_deref().and_then(roles::role) else {
        return Ok(Vec::new());
    };
    let missing: Vec<&str> = role
        .params
        .iter()
        .filter(|a| a.default.is_none())
        .map(|a| a.usage)
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "role `{}` is called with {}: give `args` ({} has no default)",
            role.name,
            role.usage(),
            missing.join(" and ")
        ));
    }
    Ok(role
        .params
        .iter()
        .filter_map(|a| a.default.map(str::to_string))
        .collect())
}

/// The submission's command line for a role: the manifest's command with the role's
/// parameters filled in by name (`{host}` or `{server_addr}` for the first, `{port}`,
/// `{file}`, `{from}`, ...; `{args}` for all of them), or the file's command with the
/// arguments after it.
fn bind_submission(
    b: &RoleBinding,
    args: &[String],
    role: &roles::Role,
) -> (Vec<String>, Vec<String>, Binding) {
    let mut values = BTreeMap::new();
    if let Some(host) = args.first() {
        values.insert("server_addr".to_string(), host.clone());
        values.insert("host".to_string(), host.clone());
    }
    for (param, arg) in role.params.iter().zip(args) {
        values.insert(param.name.to_string(), arg.clone());
    }
    // Manifest placeholders were validated when the manifest was read; unknown ones stay as
    // written so the student sees them verbatim in the report.
    let fill = |s: &String| substitute(s, &values).unwrap_or_else(|_| s.clone());
    let mut argv = Vec::new();
    for part in &b.command {
        if part == "{args}" {
            argv.extend(args.iter().cloned());
        } else {
            argv.push(fill(part));
        }
    }
    if b.source == RoleSource::FileName {
        argv.extend(args.iter().cloned());
    }
    (
        argv,
        b.stdin.iter().map(fill).collect(),
        Binding::Submission {
            file: b.file.clone(),
            how: b.source.how().into(),
        },
    )
}

/// `contains` a text: the typed line when a `write` step types exactly that line into the
/// sender (`socklab verify` then checks the student's own line instead), else a plain text.
fn typed_or_contains(
    text: String,
    from: &str,
    programs: &[ProgramPlan],
    steps: &[PlannedStep],
) -> PayloadMatcher {
    let sender = programs.iter().position(|p| p.name == from);
    let typed = steps.iter().any(|s| {
        matches!(&s.step, StepPlan::Write { program, line }
            if Some(*program) == sender && *line == text)
    });
    if typed {
        PayloadMatcher::TypedLine(Some(text))
    } else {
        PayloadMatcher::Contains(text)
    }
}

/// A server: started and awaited with `wait_ready`, or bound to a `*-server` role.
fn is_server(program: usize, programs: &[ProgramPlan], steps: &[PlannedStep]) -> bool {
    steps
        .iter()
        .any(|s| matches!(s.step, StepPlan::WaitReady { program: p, .. } if p == program))
        || programs[program]
            .role
            .as_deref()
            .is_some_and(|r| r.ends_with("-server"))
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

/// `48 45 4c` or `48454c` → bytes.
fn parse_hex(text: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if digits.len() % 2 != 0 {
        return None;
    }
    digits
        .chunks(2)
        .map(|pair| {
            let s = std::str::from_utf8(pair).ok()?;
            u8::from_str_radix(s, 16).ok()
        })
        .collect()
}

fn check_kind_name(check: &Check) -> &'static str {
    match check {
        Check::Exit(_) => "exit",
        Check::Output(_) => "output",
        Check::Running(_) => "running",
        Check::Blocked(_) => "blocked",
        Check::TcpHandshake(_) => "tcp_handshake",
        Check::TcpRefused(_) => "tcp_refused",
        Check::TcpPayload(_) => "tcp_payload",
        Check::TcpFinTeardown(_) => "tcp_fin_teardown",
        Check::NoTcpHandshake(_) => "no_tcp_handshake",
        Check::UdpDatagrams(_) => "udp_datagrams",
        Check::IcmpPortUnreachable(_) => "icmp_port_unreachable",
        Check::TcpConnections(_) => "tcp_connections",
        Check::TcpConcurrent(_) => "tcp_concurrent",
        Check::PacketGap(_) => "packet_gap",
    }
}

/// The points a check gives itself in the file, if any.
fn check_points(check: &Check) -> Option<u32> {
    match check {
        Check::Exit(c) => c.points,
        Check::Output(c) => c.points,
        Check::Running(c) | Check::Blocked(c) => c.points,
        Check::TcpHandshake(c) | Check::TcpFinTeardown(c) => c.points,
        Check::TcpRefused(c) => c.points,
        Check::TcpPayload(c) => c.points,
        Check::NoTcpHandshake(c) | Check::IcmpPortUnreachable(c) => c.points,
        Check::UdpDatagrams(c) => c.points,
        Check::TcpConnections(c) => c.points,
        Check::TcpConcurrent(c) => c.points,
        Check::PacketGap(c) => c.points,
    }
}

fn step_kind_and_program(step: &Step) -> (&'static str, Option<&str>) {
    match step {
        Step::Start(r) => ("start", Some(&r.program)),
        Step::WaitReady(w) => ("wait_ready", Some(&w.program)),
        Step::Write(w) => ("write", Some(&w.program)),
        Step::CloseStdin(r) => ("close_stdin", Some(&r.program)),
        Step::ExpectOutput(e) => ("expect_output", Some(&e.program)),
        Step::ExpectExit(e) => ("expect_exit", Some(&e.program)),
        Step::ExpectBlocked(e) => ("expect_blocked", Some(&e.program)),
        Step::Sleep(_) => ("sleep", None),
        Step::Stop(r) => ("stop", Some(&r.program)),
    }
}

pub(crate) fn stream_name(s: StreamName) -> &'static str {
    match s {
        StreamName::Stdout => "stdout",
        StreamName::Stderr => "stderr",
        StreamName::Any => "output",
    }
}

/// Parses scenario `text` and resolves it for the reference suite, its one port at `port`;
/// else the diagnostics, one a line. For unit tests that write a scenario inline.
/// Least value of a limit below which no program could start (an interpreter needs some
/// address space, descriptors for its standard streams, output room for a line).
const LIMIT_FLOORS: &[(&str, u64)] = &[("memory_mib", 16), ("open_files", 8), ("output_kib", 1)];

fn field_default(name: &str) -> u64 {
    let d = DEFAULT_LIMITS;
    match name {
        "cpu_seconds" => d.cpu_seconds,
        "memory_mib" => d.memory_mib,
        "file_mib" => d.file_mib,
        "open_files" => d.open_files,
        "processes" => d.processes,
        _ => d.output_kib,
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_parameter_without_a_default_must_be_given_in_args() {
        let scenario = |args: &str| {
            format!(
                r#"{{ "id": "w", "lab": "web", "title": "t", "question": "q", "explanation": "e",
                  "programs": [ {{ "name": "server", "role": "web-server" }},
                                {{ "name": "client", "role": "web-client" {args} }} ],
                  "steps": [ {{ "start": {{ "program": "server" }} }},
                             {{ "wait_ready": {{ "program": "server" }} }},
                             {{ "start": {{ "program": "client" }} }} ] }}"#
            )
        };
        let err = resolve_text(scenario(""), 30_500).unwrap_err();
        assert!(
            err.contains("role `web-client` is called with HOST PORT FILE: give `args` (FILE has no default)"),
            "{err}"
        );
        let plan = resolve_text(
            scenario(r#", "args": ["{server_addr}", "{port}", "HelloWorld.html"]"#),
            30_500,
        )
        .unwrap();
        let client = plan.programs.iter().find(|p| p.name == "client").unwrap();
        assert_eq!(
            client.argv[client.argv.len() - 3..],
            ["127.0.0.1", "30500", "HelloWorld.html"]
        );
    }

    #[test]
    fn a_peer_runs_as_socklab_peer_and_is_never_the_students() {
        let scenario = |program: &str| {
            format!(
                r#"{{ "id": "p", "lab": "web", "title": "t", "question": "q", "explanation": "e",
                  "programs": [ {{ "name": "server", "role": "web-server" }}, {program} ],
                  "steps": [ {{ "start": {{ "program": "server" }} }},
                             {{ "wait_ready": {{ "program": "server" }} }},
                             {{ "start": {{ "program": "idle" }} }} ] }}"#
            )
        };
        let plan = resolve_text(
            scenario(r#"{ "name": "idle", "peer": "idle-client" }"#),
            30_700,
        )
        .unwrap();
        let idle = plan.programs.iter().find(|p| p.name == "idle").unwrap();
        assert_eq!(
            idle.argv[1..],
            ["peer", "idle-client", "127.0.0.1", "30700"]
        );
        assert_eq!(
            idle.binding,
            Binding::Peer {
                name: "idle-client".into()
            }
        );
        assert_eq!(plan.steps[2].label, "start idle (peer idle-client)");
        let err = resolve_text(
            scenario(r#"{ "name": "idle", "peer": "idle-clint" }"#),
            30_700,
        )
        .unwrap_err();
        assert!(err.contains("unknown peer `idle-clint`"), "{err}");
        assert!(err.contains("idle-client"), "{err}");
        let err = resolve_text(
            scenario(r#"{ "name": "idle", "peer": "idle-client", "role": "web-client" }"#),
            30_700,
        )
        .unwrap_err();
        assert!(
            err.contains("needs exactly one of `role`, `peer` and `command`"),
            "{err}"
        );
    }

    #[test]
    fn a_manifest_places_each_parameter_by_name() {
        let binding = RoleBinding {
            command: vec![
                "python3".into(),
                "mail.py".into(),
                "{to}".into(),
                "{server}:{port}".into(),
            ],
            stdin: vec!["{from}".into()],
            file: "mail.py".into(),
            source: RoleSource::Manifest,
        };
        let role = roles::role("mail-client").unwrap();
        let args: Vec<String> = ["192.0.2.1", "30600", "a@example.com", "b@example.net"]
            .map(String::from)
            .to_vec();
        let (argv, stdin, _) = bind_submission(&binding, &args, role);
        assert_eq!(
            argv,
            ["python3", "mail.py", "b@example.net", "192.0.2.1:30600"]
        );
        assert_eq!(stdin, ["a@example.com"]);
    }

    #[test]
    fn assigned_ports_are_ones_wireshark_decodes_as_plain_tcp_and_udp() {
        let out = std::process::Command::new("tshark")
            .args(["-G", "decodes"])
            .output()
            .expect("tshark is needed (scripts/test.sh installs it)");
        assert!(out.status.success(), "tshark -G decodes failed");
        let text = String::from_utf8_lossy(&out.stdout);
        let claimed: Vec<&str> = text
            .lines()
            .filter_map(|line| {
                let mut f = line.split('\t');
                let table = f.next()?;
                let port: u16 = f.next()?.parse().ok()?;
                let ours = (table == "tcp.port" || table == "udp.port") && PORTS.contains(&port);
                ours.then_some(line)
            })
            .collect();
        assert!(text.lines().count() > 100, "tshark listed too few decodes");
        assert!(
            claimed.is_empty(),
            "tshark claims ports socklab may assign: {claimed:?}"
        );
        let names: Vec<String> = (0..50).map(|i| format!("p{i}")).collect();
        for seed in [1, 2, 0xdead_beef, u64::MAX] {
            assert!(choose_ports(&names, seed)
                .iter()
                .all(|p| PORTS.contains(&p.port)));
        }
    }

    /// Resolves a round trip whose checks are `checks` (JSON), the port at 30000.
    fn resolve_checks(checks: &str) -> Result<Plan, String> {
        let text = format!(
            r#"{{
              "id": "t", "lab": "upper", "title": "t", "question": "q", "explanation": "e",
              "programs": [
                {{ "name": "server", "role": "udp-upper-server" }},
                {{ "name": "client", "role": "udp-upper-client" }}
              ],
              "steps": [
                {{ "start": {{ "program": "server" }} }},
                {{ "wait_ready": {{ "program": "server" }} }},
                {{ "start": {{ "program": "client" }} }},
                {{ "write": {{ "program": "client", "line": "hello, World" }} }}
              ],
              "checks": {checks}
            }}"#
        );
        resolve_text(text, 30_000)
    }

    #[test]
    fn a_text_the_scenario_types_into_the_sender_is_the_typed_line() {
        let plan = resolve_checks(
            r#"[
              { "udp_datagrams": { "from": "client", "to": "server", "contains": "hello, World" } },
              { "udp_datagrams": { "from": "client", "to": "server", "contains": "hello" } },
              { "udp_datagrams": { "from": "server", "to": "client",
                                   "relation": "uppercase_of_request" } }
            ]"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let rules: Vec<Option<&PayloadRule>> = plan
            .checks
            .iter()
            .filter_map(CheckPlan::wire)
            .map(|e| match &e.kind {
                WireKind::UdpDatagrams { rule, .. } => rule.as_ref(),
                _ => None,
            })
            .collect();
        assert_eq!(
            rules,
            [
                Some(&PayloadRule::Matches(PayloadMatcher::TypedLine(Some(
                    "hello, World".into()
                )))),
                // Part of the line is a condition of its own: kept as written.
                Some(&PayloadRule::Matches(PayloadMatcher::Contains(
                    "hello".into()
                ))),
                Some(&PayloadRule::Relation(Relation::UppercaseOfRequest)),
            ]
        );
        assert!(plan
            .checks
            .iter()
            .filter_map(CheckPlan::wire)
            .any(WireExpect::has_typed_line));
    }

    #[test]
    fn an_id_of_60_non_ascii_letters_is_refused_for_its_characters_not_its_length() {
        let id = format!("a{}", "é".repeat(59));
        assert_eq!(
            id_problem(&id),
            Some("may hold only letters, digits, `-`, `_` and `.` (no `/`, spaces or line breaks)")
        );
        assert_eq!(
            id_problem(&"a".repeat(101)),
            Some("is longer than 100 characters")
        );
        assert_eq!(id_problem(&"a".repeat(100)), None);
    }

    #[test]
    fn a_wire_check_weighing_too_many_points_is_located() {
        let Err(text) = resolve_checks(
            r#"[{ "udp_datagrams": { "from": "client", "to": "server", "points": 1001 } }]"#,
        ) else {
            panic!("1001 points resolved");
        };
        assert!(
            text.contains("1001 points is more than any check may weigh (1000 at most)")
                && text.contains("checks[0].udp_datagrams.points"),
            "{text}"
        );
    }

    #[test]
    fn a_relation_is_on_the_servers_reply_and_alone() {
        for (checks, says) in [
            (
                r#"[{ "tcp_payload": { "from": "client", "to": "server",
                                        "relation": "uppercase_of_request" } }]"#,
                "a relation judges the server's reply, but `client` is not the server",
            ),
            (
                r#"[{ "tcp_payload": { "from": "server", "to": "client", "contains": "A",
                                        "relation": "uppercase_of_request" } }]"#,
                "give exactly one payload condition, not 2",
            ),
            (
                r#"[{ "udp_datagrams": { "from": "server", "to": "client", "contains": "A",
                                          "relation": "uppercase_of_request" } }]"#,
                "give `contains` or `relation`, not both",
            ),
            (
                r#"[{ "udp_datagrams": { "from": "server", "to": "client", "count": 0,
                                          "relation": "uppercase_of_request" } }]"#,
                "a relation judges replies, but `count: 0` says there are none",
            ),
            (
                r#"[{ "udp_datagrams": { "from": "server", "to": "client",
                                          "relation": "lowercase_of_request" } }]"#,
                "unknown variant `lowercase_of_request`",
            ),
        ] {
            let Err(text) = resolve_checks(checks) else {
                panic!("{checks} resolved");
            };
            assert!(text.contains(says), "{checks}: {text}");
        }
    }

    /// A round trip with `limits` on the scenario and `server_limits` on the server (JSON
    /// objects, or `null` for none).
    fn resolve_limits(limits: &str, server_limits: &str) -> Result<Plan, String> {
        let text = format!(
            r#"{{
              "id": "t", "lab": "upper", "title": "t", "question": "q", "explanation": "e",
              "limits": {limits},
              "programs": [
                {{ "name": "server", "role": "udp-upper-server", "limits": {server_limits} }},
                {{ "name": "client", "role": "udp-upper-client" }}
              ],
              "steps": [ {{ "start": {{ "program": "server" }} }} ]
            }}"#
        );
        resolve_text(text, 30_000)
    }

    #[test]
    fn limits_default_then_scenario_then_program() {
        let plan = resolve_limits("null", "null").unwrap();
        assert_eq!(plan.programs[0].limits, DEFAULT_LIMITS);
        let plan = resolve_limits(
            r#"{ "cpu_seconds": 5, "processes": 8 }"#,
            r#"{ "processes": 2, "output_kib": 4 }"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let (server, client) = (plan.programs[0].limits, plan.programs[1].limits);
        assert_eq!(
            server,
            ProgramLimits {
                cpu_seconds: 5,
                processes: 2,
                output_kib: 4,
                ..DEFAULT_LIMITS
            }
        );
        assert_eq!(
            client,
            ProgramLimits {
                cpu_seconds: 5,
                processes: 8,
                ..DEFAULT_LIMITS
            }
        );
    }

    #[test]
    fn a_limit_that_would_switch_itself_off_or_starve_the_program_is_refused() {
        for (limits, server, says) in [
            (
                r#"{ "processes": 0 }"#,
                "null",
                "`processes` is 0: at least 1",
            ),
            (
                "null",
                r#"{ "memory_mib": 8 }"#,
                "`memory_mib` is 8: at least 16",
            ),
            (
                r#"{ "cpu_seconds": 100000 }"#,
                "null",
                "the most socklab allows is 3600",
            ),
            (
                "null",
                r#"{ "open_files": 2 }"#,
                "`open_files` is 2: at least 8",
            ),
        ] {
            let err = resolve_limits(limits, server).unwrap_err();
            assert!(err.contains(says), "{limits} {server}: {err}");
            assert!(err.contains("leave it out for the default"), "{err}");
        }
        let err = resolve_limits(r#"{ "memory": 5 }"#, "null").unwrap_err();
        assert!(err.contains("memory_mib"), "did-you-mean expected: {err}");
    }
}
