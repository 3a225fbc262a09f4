//! The ports a run assigns and their names, and which port a program serves or sends to.

use super::*;

impl Resolver<'_> {
    pub(super) fn check_port_names(&mut self) {
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

    /// The port a program serves (its `wait_ready` port) or sends to (the first port
    /// placeholder in its command line).
    pub(super) fn program_port(
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
        let raw = self
            .loaded
            .scenario
            .programs
            .get(*self.origin.get(program)?)?;
        let mut all = raw.command.clone().unwrap_or_default();
        all.extend(default_args(raw).unwrap_or_default());
        let ports = port_names(self.loaded);
        all.iter()
            .flat_map(|a| placeholders::names(a))
            .filter(|n| ports.contains(n))
            .find_map(|n| values.get(&n).and_then(|v| v.parse().ok()))
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
