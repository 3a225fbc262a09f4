//! Checks: each kind resolves itself (`check::kinds`) through [`CheckCx`], which gives it
//! what the scenario knows: programs by name, placeholders, servers and their ports.

use super::*;

impl Resolver<'_> {
    pub(super) fn checks(
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
            let mut cx = CheckCx {
                r: self,
                programs,
                steps,
                values,
                started: &started,
                at: format!("checks[{i}].{}", check.name()),
            };
            out.extend(check.resolve(&mut cx));
        }
        out
    }
}

/// What a check kind's `resolve` may ask of the scenario (see `check::kinds`): names looked
/// up, placeholders substituted, problems reported at the check's JSON path, `at`
/// (`checks[2].tcp_payload`).
pub(crate) struct CheckCx<'c, 'a> {
    r: &'c mut Resolver<'a>,
    programs: &'c [ProgramPlan],
    steps: &'c [PlannedStep],
    values: &'c BTreeMap<String, String>,
    started: &'c BTreeSet<usize>,
    at: String,
}

impl CheckCx<'_, '_> {
    /// `checks[i].kind`, or `checks[i].kind.field`.
    fn path(&self, field: Option<&str>) -> String {
        match field {
            Some(f) => format!("{}.{f}", self.at),
            None => self.at.clone(),
        }
    }

    /// Reports a problem with the check (`field`: `None`) or one of its fields.
    pub(crate) fn error(
        &mut self,
        field: Option<&str>,
        message: impl Into<String>,
        help: Option<&str>,
    ) {
        let path = self.path(field);
        self.r.error(&path, message, help.map(str::to_string));
    }

    /// The computer program `p` runs on, when the scenario has several (a topology); `None`
    /// on one host.
    pub(crate) fn host_of(&self, p: usize) -> Option<&HostPlan> {
        if self.r.hosts.len() < 2 {
            return None;
        }
        self.r.hosts.get(self.programs.get(p)?.host)
    }

    /// The plan of program `p` (an index [`CheckCx::program`] returned): its binding, its
    /// peer's record file.
    pub(crate) fn program_plan(&self, p: usize) -> &ProgramPlan {
        &self.programs[p]
    }

    /// The index of the program `name` given in `field`, or `None` after reporting it unknown.
    pub(crate) fn program(&mut self, field: &str, name: &str) -> Option<usize> {
        let path = self.path(Some(field));
        self.r.program_index(&path, name, self.programs)
    }

    /// As [`CheckCx::program`], and reports a program that no step starts (the check could
    /// never pass), still returning it.
    pub(crate) fn started_program(&mut self, field: &str, name: &str) -> Option<usize> {
        let p = self.program(field, name)?;
        if !self.started.contains(&p) {
            self.error(
                Some(field),
                format!("program `{name}` is never started, so this check cannot pass"),
                None,
            );
        }
        Some(p)
    }

    /// The programs `name` given in `field` stands for (a replicated program's name: every
    /// replica), each reported when no step starts it; `None` after reporting it unknown.
    pub(crate) fn started_members(&mut self, field: &str, name: &str) -> Option<Vec<usize>> {
        let path = self.path(Some(field));
        let members = self.r.members(&path, name, self.programs)?;
        for &p in &members {
            if !self.started.contains(&p) {
                let name = self.programs[p].name.clone();
                self.error(
                    Some(field),
                    format!("program `{name}` is never started, so this check cannot pass"),
                    None,
                );
            }
        }
        Some(members)
    }

    /// The lines the scenario's `write` steps type into program `p`, in order.
    pub(crate) fn typed_lines(&self, p: usize) -> Vec<String> {
        self.steps
            .iter()
            .filter_map(|s| match &s.step {
                StepPlan::Write { program, line } if *program == p => Some(line.clone()),
                _ => None,
            })
            .collect()
    }

    /// `text` of `field` with its placeholders substituted.
    pub(crate) fn subst(&mut self, field: &str, text: &str) -> String {
        let path = self.path(Some(field));
        self.r.subst(&path, text, self.values)
    }

    /// The one text condition among the fields given (see the `output` check).
    pub(crate) fn matcher(
        &mut self,
        contains: Option<&str>,
        not_contains: Option<&str>,
        regex: Option<&str>,
        not_regex: Option<&str>,
    ) -> Option<Matcher> {
        let at = self.at.clone();
        self.r
            .matcher(&at, contains, not_contains, regex, not_regex, self.values)
    }

    /// A `from`/`to` pair: (server, client, whether `from` sends to the server). The server
    /// side gives the port; when neither is a server, `to` does.
    pub(crate) fn direction(&mut self, from: &str, to: &str) -> Option<(String, String, bool)> {
        let f = self.program("from", from)?;
        let t = self.program("to", to)?;
        match (self.is_server(f), self.is_server(t)) {
            (false, true) | (false, false) => Some((to.into(), from.into(), true)),
            (true, false) => Some((from.into(), to.into(), false)),
            (true, true) => {
                self.error(
                    None,
                    format!("both `{from}` and `{to}` are servers; cannot tell the direction"),
                    Some("name one server and one client"),
                );
                None
            }
        }
    }

    /// Whether program `p` is a server (a `wait_ready` step or a `*-server` role).
    pub(crate) fn is_server(&self, p: usize) -> bool {
        self.steps
            .iter()
            .any(|s| matches!(s.step, StepPlan::WaitReady { program, .. } if program == p))
            || self.programs[p]
                .role
                .as_deref()
                .is_some_and(|r| r.ends_with("-server"))
    }

    /// The scenario's lab (whose documents a check may name).
    pub(crate) fn lab(&self) -> &str {
        &self.r.loaded.scenario.lab
    }

    /// `contains` a text: the typed line when a `write` step types exactly that line into the
    /// sender `from` (`socklab verify` then checks the student's own line instead), else a
    /// plain text.
    pub(crate) fn typed_or_contains(&self, text: String, from: &str) -> PayloadMatcher {
        let sender = self.programs.iter().position(|p| p.name == from);
        let typed = self.steps.iter().any(|s| {
            matches!(&s.step, StepPlan::Write { program, line }
                if Some(*program) == sender && *line == text)
        });
        if typed {
            PayloadMatcher::TypedLine(Some(text))
        } else {
            PayloadMatcher::Contains(text)
        }
    }

    /// The wire expectation at `server`'s port, or `None` after reporting that its port is
    /// unknown.
    pub(crate) fn wire_expect(
        &mut self,
        server: String,
        client: String,
        kind: WireKind,
    ) -> Option<WireExpect> {
        let p = self.programs.iter().position(|p| p.name == server)?;
        let Some(port) = self.r.program_port(p, self.steps, self.values) else {
            self.error(
                None,
                format!("cannot tell which port `{server}` uses"),
                Some("give the program a port placeholder in its arguments, e.g. `{port}`"),
            );
            return None;
        };
        // Between computers, each side is known by its address as well as its port.
        let c = self.programs.iter().position(|p| p.name == client);
        let addr = |i: Option<usize>| {
            let host = self.programs.get(i?)?.host;
            Some(self.r.hosts.get(host)?.addr.clone())
        };
        let (mut server_addr, mut client_addr) = (None, None);
        let networked = self.r.hosts.len() > 1;
        if networked && c != Some(p) {
            let same_host = c.is_some_and(|c| self.programs[c].host == self.programs[p].host);
            if !same_host {
                (server_addr, client_addr) = (addr(Some(p)), addr(c));
            }
        } else if networked {
            // One program names both sides (a client and the port it sends to, a server and
            // its connections): its own address, on whichever side it is.
            (server_addr, client_addr) = (addr(c), addr(c));
        }
        Some(WireExpect {
            port,
            server,
            client,
            kind,
            server_addr,
            client_addr,
        })
    }
}
