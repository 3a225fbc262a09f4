//! Steps: names become program indexes, texts are substituted, waits get their ports and
//! limits, and every step gets its label.

use super::*;

impl Resolver<'_> {
    pub(super) fn steps(
        &mut self,
        programs: &[ProgramPlan],
        ports: &[PortPlan],
        values: &BTreeMap<String, String>,
    ) -> Vec<PlannedStep> {
        let steps = self.loaded.scenario.steps.clone();
        let mut started = BTreeSet::new();
        let mut out = Vec::new();
        let mut i = 0;
        while i < steps.len() {
            let (kind, name) = step_kind_and_program(&steps[i]);
            let at = format!("steps[{i}].{kind}");
            // A step naming a replicated program acts on each replica in turn; a run of
            // consecutive steps naming it is done replica by replica (start client1 and wait
            // for it, then client2, ...), so that the replicas act in a known order.
            let mut end = i + 1;
            let (targets, group) = match name {
                Some(name) => match self.members(&format!("{at}.program"), name, programs) {
                    Some(ps) => {
                        let group = ps.len() > 1 || programs[ps[0]].name != name;
                        if group {
                            while end < steps.len()
                                && step_kind_and_program(&steps[end]).1 == Some(name)
                            {
                                end += 1;
                            }
                        }
                        (ps.into_iter().map(Some).collect(), group)
                    }
                    None => {
                        i += 1;
                        continue;
                    }
                },
                None => (vec![None], false),
            };
            for program in targets {
                let values =
                    &program.map_or_else(|| values.clone(), |p| self.values_for(p, values));
                for (k, step) in steps.iter().enumerate().take(end).skip(i) {
                    let at = format!("steps[{k}].{}", step_kind_and_program(step).0);
                    let planned =
                        self.step(step, &at, program, &mut started, programs, ports, values);
                    if let Some(mut planned) = planned {
                        if let (true, Some(_), Some(p)) = (group, step_title(step), program) {
                            planned.label = format!("{} ({})", planned.label, programs[p].name);
                        }
                        out.push(planned);
                    }
                }
            }
            i = end;
        }
        out
    }

    /// Step `i` acting on `program` (one replica of a replicated program when it names them).
    #[allow(clippy::too_many_arguments)]
    fn step(
        &mut self,
        step: &Step,
        at: &str,
        program: Option<usize>,
        started: &mut BTreeSet<usize>,
        programs: &[ProgramPlan],
        ports: &[PortPlan],
        values: &BTreeMap<String, String>,
    ) -> Option<PlannedStep> {
        let at = at.to_string();
        let loaded = self.loaded;
        let raw_programs = &loaded.scenario.programs;
        {
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
                        .get(self.origin[p])
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
                        return None;
                    };
                    let Some(port) = ports.iter().find(|pp| pp.name == port_name) else {
                        let help =
                            did_you_mean(&port_name, ports.iter().map(|pp| pp.name.as_str()));
                        self.error(
                            &format!("{at}.port"),
                            format!("unknown port `{port_name}`"),
                            help,
                        );
                        return None;
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
                        return None;
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
                            reachable_at: None,
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
                    let matcher = self.matcher(
                        &at,
                        e.contains.as_deref(),
                        None,
                        e.regex.as_deref(),
                        None,
                        values,
                    )?;
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
                            or_exit: e.or_exit,
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
            Some(planned)
        }
    }

    pub(super) fn matcher(
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
                self.error(&path, regex_problem(&e), None);
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
}

/// The title a graded step was given, if any.
fn step_title(step: &Step) -> Option<&str> {
    match step {
        Step::WaitReady(w) => w.title.as_deref(),
        Step::ExpectOutput(e) => e.title.as_deref(),
        Step::ExpectExit(e) => e.title.as_deref(),
        Step::ExpectBlocked(e) => e.title.as_deref(),
        _ => None,
    }
}

pub(super) fn step_kind_and_program(step: &Step) -> (&'static str, Option<&str>) {
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

/// A regex error in one line: the regex crate's message ends with the line that names the
/// problem, after a drawing of where it is.
pub(crate) fn regex_problem(e: &regex::Error) -> String {
    let last = e
        .to_string()
        .lines()
        .last()
        .unwrap_or("")
        .trim()
        .to_string();
    format!("invalid regular expression: {last}")
}
