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
}

/// Least value of a limit below which no program could start (an interpreter needs some
/// address space, descriptors for its standard streams, output room for a line).
pub(super) const LIMIT_FLOORS: &[(&str, u64)] =
    &[("memory_mib", 16), ("open_files", 8), ("output_kib", 1)];

pub(super) fn field_default(name: &str) -> u64 {
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
