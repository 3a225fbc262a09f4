//! Interpreters resolved once per run (effects: `PATH` lookups and one probe per interpreter).
//!
//! A program whose `argv[0]` is a bare name (`python3`, `node`, `ruby`, `perl`, `java`, ...) is
//! run through the real executable, found once per run, not through a version manager's shim
//! on each start: pyenv's shim is a bash script that costs 100 ms or more per start (much more
//! on a loaded machine), which would count against the program's readiness. The rule:
//!
//! - find the name on `PATH`, as `execvp` would;
//! - for a known interpreter (Python always; the others when what was found is a shim: a `#!`
//!   script under a `shims` directory), ask the interpreter itself for its executable and its
//!   version (`python3 -c 'import sys; print(sys.executable); ...'`), and run that executable;
//! - any other bare name is replaced by the path found, without a probe.
//!
//! The plan records `interpreter` ("Python 3.11.7 (/usr/bin/python3)") for the report. A known
//! interpreter that is missing, or whose probe fails, is a harness error: the machine lacks a
//! tool the submission needs, which is not the student's fault. An unknown bare name that is not
//! found is left as is: the program then fails to start, as the report says. Reference programs
//! (socklab's own binary, an absolute path) need nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::AppError;
use crate::plan::{Binding, Plan};

/// How to ask a known interpreter for its executable (first line) and its version (second).
struct Probe {
    /// Matches the bare name (`python3.11` is a Python too).
    family: fn(&str) -> bool,
    /// Shown in the report: "Python 3.11.7 (...)".
    label: &'static str,
    args: &'static [&'static str],
    /// Whether to probe even when what `PATH` gives is not a shim.
    always: bool,
    /// Debian/Ubuntu package that provides it, for the fix.
    package: &'static str,
}

const PROBES: &[Probe] = &[
    Probe {
        family: |n| n == "python" || n.starts_with("python3") || n.starts_with("python2"),
        label: "Python",
        args: &[
            "-c",
            "import sys; print(sys.executable); print(sys.version.split()[0])",
        ],
        always: true,
        package: "python3",
    },
    Probe {
        family: |n| n == "node" || n == "nodejs",
        label: "Node.js",
        args: &[
            "-e",
            "console.log(process.execPath); console.log(process.version)",
        ],
        always: false,
        package: "nodejs",
    },
    Probe {
        family: |n| n == "ruby",
        label: "Ruby",
        args: &["-e", "puts RbConfig.ruby; puts RUBY_VERSION"],
        always: false,
        package: "ruby",
    },
    Probe {
        family: |n| n == "perl",
        label: "Perl",
        args: &["-e", "print \"$^X\\n\", substr(\"$^V\", 1), \"\\n\""],
        always: false,
        package: "perl",
    },
    Probe {
        family: |n| n == "java",
        label: "Java",
        args: &[],
        always: false,
        package: "default-jre-headless",
    },
];

/// What a bare name resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Resolved {
    pub path: String,
    /// "Python 3.11.7 (/usr/bin/python3)"; None for a name that is not a known interpreter.
    pub interpreter: Option<String>,
}

/// Resolves the bare `argv[0]` of every submission and scenario program of `plans`, each name
/// once, and rewrites the plans.
pub(crate) fn resolve_plans<'a>(
    plans: impl IntoIterator<Item = &'a mut Plan>,
) -> Result<(), AppError> {
    let path_var = std::env::var_os("PATH").unwrap_or_default();
    let dirs: Vec<PathBuf> = std::env::split_paths(&path_var).collect();
    let mut cache: BTreeMap<String, Option<Resolved>> = BTreeMap::new();
    for plan in plans {
        for prog in &mut plan.programs {
            if matches!(prog.binding, Binding::Reference | Binding::Peer { .. }) {
                continue;
            }
            let Some(name) = prog.argv.first().filter(|n| is_bare(n)).cloned() else {
                continue;
            };
            let resolved = match cache.get(&name) {
                Some(r) => r.clone(),
                None => {
                    let r = resolve(&name, &dirs)?;
                    cache.insert(name.clone(), r.clone());
                    r
                }
            };
            if let Some(r) = resolved {
                prog.argv[0] = r.path;
                prog.interpreter = r.interpreter;
            }
        }
    }
    Ok(())
}

/// A command name `execvp` would look up on `PATH`. Pure.
pub(crate) fn is_bare(name: &str) -> bool {
    !name.is_empty() && !name.contains('/')
}

fn resolve(name: &str, dirs: &[PathBuf]) -> Result<Option<Resolved>, AppError> {
    let probe = PROBES.iter().find(|p| (p.family)(name));
    let Some(found) = find_on_path(name, dirs) else {
        return match probe {
            Some(p) => Err(AppError::Harness(format!(
                "`{name}` is not installed on this machine (not found on PATH), and the \
                 submission needs it to run\nfix: install it (e.g. `sudo apt-get install {}`) \
                 or put it on PATH, then run socklab again",
                p.package
            ))),
            None => Ok(None),
        };
    };
    let Some(probe) = probe else {
        return Ok(Some(Resolved {
            path: found.display().to_string(),
            interpreter: None,
        }));
    };
    let shim = is_shim(&found, &std::fs::read(&found).unwrap_or_default());
    // Not a shim and not always probed, or no cheap way to ask (java): keep what PATH gave.
    if (!probe.always && !shim) || probe.args.is_empty() {
        return Ok(Some(Resolved {
            path: found.display().to_string(),
            interpreter: Some(format!("{} ({})", probe.label, found.display())),
        }));
    }
    let out = Command::new(&found)
        .args(probe.args)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .map_err(|e| {
            AppError::Harness(format!(
                "cannot run `{}` to resolve `{name}`: {e}",
                found.display()
            ))
        })?;
    let text = String::from_utf8_lossy(&out.stdout);
    match parse_probe(&text) {
        Some((exe, version)) if out.status.success() && Path::new(&exe).is_absolute() => {
            Ok(Some(Resolved {
                interpreter: Some(format!("{} {version} ({exe})", probe.label)),
                path: exe,
            }))
        }
        _ => Err(AppError::Harness(format!(
            "`{name}` ({}) does not run on this machine: {}\nfix: check the installation \
             (a version manager such as pyenv may name a version that is not installed), or \
             install it (e.g. `sudo apt-get install {}`)",
            found.display(),
            last_line(&String::from_utf8_lossy(&out.stderr))
                .unwrap_or_else(|| format!("it ended with {}", out.status)),
            probe.package
        ))),
    }
}

/// The first executable file named `name` in `dirs`.
/// Whether a program `name` is installed: found on the harness's `PATH` or the programs'
/// fixed search path, as a scenario's command would be. Reads the file system.
pub(crate) fn installed(name: &str) -> bool {
    let path_var = std::env::var_os("PATH").unwrap_or_default();
    let dirs: Vec<PathBuf> = std::env::split_paths(&path_var)
        .chain(std::env::split_paths(crate::sandbox::confine::SEARCH_PATH))
        .collect();
    find_on_path(name, &dirs).is_some()
}

fn find_on_path(name: &str, dirs: &[PathBuf]) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    dirs.iter().map(|d| d.join(name)).find(|p| {
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}

/// A version manager's shim: a `#!` script in a directory named `shims` (pyenv, rbenv, nodenv,
/// asdf). Pure over the path and the file's first bytes.
pub(crate) fn is_shim(path: &Path, head: &[u8]) -> bool {
    head.starts_with(b"#!")
        && path
            .parent()
            .and_then(Path::file_name)
            .is_some_and(|d| d == "shims")
}

/// The executable and the version, from a probe's two lines. Pure.
pub(crate) fn parse_probe(text: &str) -> Option<(String, String)> {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let exe = lines.next()?.to_string();
    let version = lines.next()?.trim_start_matches('v').to_string();
    Some((exe, version))
}

/// The last non-empty line: where a failing interpreter puts its error (a traceback's last line,
/// pyenv's "version ... is not installed").
fn last_line(text: &str) -> Option<String> {
    text.lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shims_are_scripts_in_a_shims_directory() {
        let sh = b"#!/usr/bin/env bash\nset -e\n";
        assert!(is_shim(Path::new("/root/.pyenv/shims/python3"), sh));
        assert!(is_shim(Path::new("/home/u/.asdf/shims/node"), sh));
        assert!(!is_shim(Path::new("/usr/bin/python3"), sh));
        assert!(!is_shim(
            Path::new("/root/.pyenv/shims/python3"),
            b"\x7fELF\x02"
        ));
    }

    #[test]
    fn probe_output_gives_executable_and_version() {
        assert_eq!(
            parse_probe("/root/.pyenv/versions/3.11.7/bin/python3\n3.11.7\n"),
            Some((
                "/root/.pyenv/versions/3.11.7/bin/python3".into(),
                "3.11.7".into()
            ))
        );
        assert_eq!(
            parse_probe("/usr/bin/node\nv18.19.0\n"),
            Some(("/usr/bin/node".into(), "18.19.0".into()))
        );
        assert_eq!(parse_probe("/usr/bin/python3\n"), None);
        assert_eq!(parse_probe(""), None);
    }

    #[test]
    fn bare_names_are_those_path_resolves() {
        assert!(is_bare("python3"));
        assert!(!is_bare("./server"));
        assert!(!is_bare("/usr/bin/python3"));
        assert!(!is_bare(""));
    }

    #[test]
    fn families() {
        let python = &PROBES[0];
        for n in ["python", "python3", "python3.11", "python2"] {
            assert!((python.family)(n), "{n}");
        }
        assert!(!(python.family)("pythonista"));
    }

    #[test]
    fn a_missing_interpreter_is_a_harness_error_naming_it() {
        let err = resolve("python3", &[PathBuf::from("/nonexistent")]).unwrap_err();
        assert_eq!(err.exit_code(), crate::error::exit::HARNESS);
        assert!(
            err.to_string().contains("`python3` is not installed"),
            "{err}"
        );
        assert_eq!(
            resolve("frobnicate", &[PathBuf::from("/nonexistent")]).unwrap(),
            None
        );
    }
}
