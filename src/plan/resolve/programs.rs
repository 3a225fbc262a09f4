//! Programs: a role bound to the reference program, a submission's file or a peer, or a
//! plain command, with its arguments, environment and host.

use super::*;

impl Resolver<'_> {
    pub(super) fn programs(
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
            let copies = self.replicas(i);
            if copies.is_some() && !names.insert(p.name.clone()) {
                self.error(
                    &format!("programs[{i}].name"),
                    format!("duplicate program name `{}`", p.name),
                    None,
                );
            }
            let members: Vec<(String, Option<u32>)> = match copies {
                None => vec![(p.name.clone(), None)],
                Some(n) => (1..=n)
                    .map(|k| (format!("{}{k}", p.name), Some(k)))
                    .collect(),
            };
            for (name, replica) in members {
                if !names.insert(name.clone()) {
                    let what = match replica {
                        Some(_) => format!(
                            "program name `{name}` is both a replica of `{}` and another program",
                            p.name
                        ),
                        None => format!("duplicate program name `{name}`"),
                    };
                    self.error(&format!("programs[{i}].name"), what, None);
                }
                let mut values = values.clone();
                if let Some(k) = replica {
                    values.insert("replica".into(), k.to_string());
                    self.groups
                        .entry(p.name.clone())
                        .or_default()
                        .push(out.len());
                }
                self.origin.push(i);
                self.replica.push(replica);
                let plan = self.program(i, name, hosts, &values, bindings, self_exe);
                out.push(plan);
            }
        }
        out
    }

    /// Program `i`'s `replicas`, when it has some and they are a number it may have.
    fn replicas(&mut self, i: usize) -> Option<u32> {
        let n = self.loaded.scenario.programs[i].replicas?;
        if !(2..=MAX_REPLICAS).contains(&n) {
            self.error(
                &format!("programs[{i}].replicas"),
                format!("{n} replicas: a replicated program has from 2 to {MAX_REPLICAS}"),
                Some("leave `replicas` out for one program".into()),
            );
            return None;
        }
        Some(n)
    }

    /// Program `i` of the scenario as the program named `name` (itself, or one replica of it).
    fn program(
        &mut self,
        i: usize,
        name: String,
        hosts: &[HostPlan],
        values: &BTreeMap<String, String>,
        bindings: &Bindings,
        self_exe: &str,
    ) -> ProgramPlan {
        let s = &self.loaded.scenario;
        let p = &s.programs[i];
        {
            let at = |field: &str| format!("programs[{i}].{field}");
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
            let mut record = None;
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
                    // A peer that keeps a record gets a file of its own, read back as evidence;
                    // a scenario that names one itself keeps it (and reads nothing back).
                    if crate::peer_record::readable(peer_name)
                        && !args.iter().any(|a| a == "--record")
                    {
                        let path = crate::peer_record::record_path(&name);
                        argv.extend(["--record".to_string(), path.clone()]);
                        record = Some(path);
                    }
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
                        // A cross-test run: socklab's program plays this role by design,
                        // whatever the submission has for it.
                        let by_design = self
                            .loaded
                            .cross
                            .as_ref()
                            .is_some_and(|c| &c.reference == role_name);
                        let found = bindings.roles.get(role_name).filter(|_| !by_design);
                        let (argv, prelude, binding) = match found {
                            Some(b) => bind_submission(b, &args, role),
                            None if bindings.graded && !by_design => {
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
            ProgramPlan {
                name,
                role,
                argv,
                env,
                stdin_prelude,
                binding,
                transport,
                host,
                interpreter: None,
                limits: self.limits(i),
                record,
            }
        }
    }

    pub(super) fn program_index(
        &mut self,
        path: &str,
        name: &str,
        programs: &[ProgramPlan],
    ) -> Option<usize> {
        let found = programs.iter().position(|p| p.name == name);
        if found.is_none() {
            if let Some(group) = self.groups.get(name) {
                let (first, last) = (group[0], group[group.len() - 1]);
                let (first, last) = (&programs[first].name, &programs[last].name);
                let message = format!(
                    "`{name}` names {} replicas ({first} .. {last}), and this takes one program",
                    group.len()
                );
                let help = format!("name one replica, e.g. `{first}`");
                self.error(path, message, Some(help));
                return None;
            }
            self.unknown_program(path, name, programs);
        }
        found
    }

    /// The programs `name` stands for: the program of that name, or every replica of a
    /// replicated program in order; `None` after reporting an unknown name.
    pub(super) fn members(
        &mut self,
        path: &str,
        name: &str,
        programs: &[ProgramPlan],
    ) -> Option<Vec<usize>> {
        if let Some(p) = programs.iter().position(|p| p.name == name) {
            return Some(vec![p]);
        }
        if let Some(group) = self.groups.get(name) {
            return Some(group.clone());
        }
        self.unknown_program(path, name, programs);
        None
    }

    fn unknown_program(&mut self, path: &str, name: &str, programs: &[ProgramPlan]) {
        let known = programs
            .iter()
            .map(|p| p.name.as_str())
            .chain(self.groups.keys().map(String::as_str));
        let help = did_you_mean(name, known);
        self.error(path, format!("unknown program `{name}`"), help);
    }

    /// Program `p`'s `{replica}` number as a placeholder value beside `values`, when it is a
    /// replica.
    pub(super) fn values_for(
        &self,
        p: usize,
        values: &BTreeMap<String, String>,
    ) -> BTreeMap<String, String> {
        let mut values = values.clone();
        if let Some(k) = self.replica.get(p).copied().flatten() {
            values.insert("replica".into(), k.to_string());
        }
        values
    }
}

/// A program's arguments as the scenario writes them: its `args`, else (for a role) each
/// parameter's default (`{server_addr}`, `{port}`; an optional one without a default, such as
/// the date/time client's `COUNT`, is left out); an error names the parameters that have none
/// (`FILE`), which the scenario must then give.
pub(super) fn default_args(p: &crate::scenario::Program) -> Result<Vec<String>, String> {
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
        .filter(|a| a.default.is_none() && !a.optional)
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
pub(super) fn bind_submission(
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
