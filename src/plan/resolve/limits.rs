//! Limits on each program: the defaults, then the scenario's, then the program's own, each
//! bounded so that a typo cannot switch one off or starve the program.

use super::*;

impl Resolver<'_> {
    /// Program `i`'s limits: its own over the scenario's over the defaults. Each value given
    /// must be at least 1 and at most [`MAX_LIMITS`]' (a typo must not switch a limit off).
    pub(super) fn limits(&mut self, i: usize) -> ProgramLimits {
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
            let (d, m) = (DEFAULT_LIMITS, MAX_LIMITS);
            // (name, value given, where it goes, least value (below it no program could
            // start: an interpreter needs some address space, descriptors for its standard
            // streams, output room for a line), default, most).
            let fields = [
                (
                    "cpu_seconds",
                    given.cpu_seconds,
                    &mut out.cpu_seconds,
                    1,
                    d.cpu_seconds,
                    m.cpu_seconds,
                ),
                (
                    "memory_mib",
                    given.memory_mib,
                    &mut out.memory_mib,
                    16,
                    d.memory_mib,
                    m.memory_mib,
                ),
                (
                    "file_mib",
                    given.file_mib,
                    &mut out.file_mib,
                    1,
                    d.file_mib,
                    m.file_mib,
                ),
                (
                    "open_files",
                    given.open_files,
                    &mut out.open_files,
                    8,
                    d.open_files,
                    m.open_files,
                ),
                (
                    "processes",
                    given.processes,
                    &mut out.processes,
                    1,
                    d.processes,
                    m.processes,
                ),
                (
                    "output_kib",
                    given.output_kib,
                    &mut out.output_kib,
                    1,
                    d.output_kib,
                    m.output_kib,
                ),
            ];
            for (name, value, slot, floor, default, max) in fields {
                let Some(v) = value else { continue };
                if v < floor || v > max {
                    let problem = if v < floor {
                        format!("`{name}` is {v}: at least {floor} is needed for a program to run")
                    } else {
                        format!("`{name}` is {v}: the most socklab allows is {max}")
                    };
                    self.errors.push(self.loaded.diagnostic(
                        &format!("{at}.{name}"),
                        problem,
                        Some(format!("leave it out for the default of {default}")),
                    ));
                } else {
                    *slot = v;
                }
            }
        }
        out
    }
}
