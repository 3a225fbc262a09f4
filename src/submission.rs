//! A student's submission: which of its programs play which roles, and which files play none.
//!
//! Where a lab's programs are: the folder the manifest names for it (`"folders": {"upper":
//! "week5"}`), else a subfolder named after the lab in any case (`upper/`, `Hello/`), else the
//! submission's top level (a *flat* submission). Programs run in a fresh copy of that folder.
//!
//! Which file plays a role, in order:
//! 1. a manifest `socklab.json`, in the lab's folder or at the top level (the folder's wins):
//!
//!    ```json
//!    { "roles": {
//!        "tcp-upper-client": { "command": ["python3", "TCPClient.py"],
//!                              "stdin": ["{server_addr}", "{port}"] } } }
//!    ```
//!
//!    `{server_addr}` (or `{host}`) is the first (HOST) argument the scenario gives the role, each
//!    parameter's name its argument (`{port}`; `{file}` for a web client, `{from}` and `{to}` for
//!    a mail client: `socklab list` shows each role's parameters), and a command element
//!    `{args}` stands for all its arguments. `stdin`
//!    lines are written before the scenario's own (answers to prompts such as
//!    `Enter Server Name:`);
//! 2. its file name: lowercased and stripped of `_`, `-`, spaces, digits and copy suffixes like
//!    ` (1)`, it equals one of the role's conventional stems (`TCPServer.py`, `tcp_server.py` →
//!    `tcpserver`); `.py` files run with `python3`, other executable files directly; the role's
//!    arguments follow.
//!
//! Labs that share names never steal each other's files: a stem claimed by roles of several labs
//! (`tcpserver` is the upper lab's TCP server and the hello lab's) is *generic*. In a lab's own
//! folder it binds to that lab's role; in a flat submission only to the first lab of the catalog
//! that claims it (`upper`), and the other labs' roles need their folder, their own names
//! (`TCPHelloServer.py`) or the manifest.
//!
//! A role nothing binds is *not submitted*: the scenarios that need it score 0, and the report
//! says so, naming the files that played no role (with a hint for near names).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::plan::{Bindings, RoleBinding, RoleSource};
use crate::roles;

/// Name of the manifest file.
pub(crate) const MANIFEST: &str = "socklab.json";

#[derive(Debug, Clone)]
pub(crate) struct Submission {
    pub dir: PathBuf,
    /// The top-level manifest's roles.
    manifest: BTreeMap<String, ManifestRole>,
    /// Lab → folder (relative), from the manifest's `folders`.
    folders: BTreeMap<String, String>,
    /// The top-level manifest's lab options.
    options: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    #[serde(default)]
    roles: BTreeMap<String, ManifestRole>,
    /// Lab → the folder of the submission that holds its programs.
    #[serde(default)]
    folders: BTreeMap<String, String>,
    /// Lab options (`roles::OPTIONS`) → the value chosen.
    #[serde(default)]
    options: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestRole {
    command: Vec<String>,
    #[serde(default)]
    stdin: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum SubmissionError {
    #[error("cannot read submission directory {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{line}:{column}: invalid manifest: {message}", path.display())]
    Manifest {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{}: unknown role `{role}` in manifest{}", path.display(), help.as_ref().map(|h| format!(" ({h})")).unwrap_or_default())]
    UnknownRole {
        path: PathBuf,
        role: String,
        help: Option<String>,
    },
    #[error("{}: unknown lab `{lab}` in manifest `folders`{}", path.display(), help.as_ref().map(|h| format!(" ({h})")).unwrap_or_default())]
    UnknownLab {
        path: PathBuf,
        lab: String,
        help: Option<String>,
    },
    #[error("{}: the folder `{folder}` of lab `{lab}` {problem}", path.display())]
    BadFolder {
        path: PathBuf,
        lab: String,
        folder: String,
        problem: &'static str,
    },
    #[error("{}: unknown option `{option}` in manifest `options`{}", path.display(), help.as_ref().map(|h| format!(" ({h})")).unwrap_or_default())]
    UnknownOption {
        path: PathBuf,
        option: String,
        help: Option<String>,
    },
    #[error("{}: option `{option}` is `{value}`; it takes one of: {allowed}", path.display())]
    BadOption {
        path: PathBuf,
        option: String,
        value: String,
        allowed: String,
    },
    #[error("{}: role `{role}` has an empty command", path.display())]
    EmptyCommand { path: PathBuf, role: String },
}

/// Which program played a role, for the report's binding table.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct BindingRow {
    pub lab: String,
    pub role: String,
    /// The file (relative to the submission), or None: not submitted.
    pub file: Option<String>,
    /// `file name`, `socklab.json manifest`, or why nothing bound.
    pub how: String,
    /// The interpreter that ran it, when known (`Python 3.11.7 (/usr/bin/python3.11)`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interpreter: Option<String>,
}

/// A file of the submission that played no role.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct UnboundFile {
    pub file: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

/// Where one lab's programs are, and what is there.
struct Scope {
    /// Relative to the submission (empty: the top level).
    folder: String,
    files: Vec<String>,
    /// The folder's own manifest roles, over the top-level ones.
    manifest: BTreeMap<String, ManifestRole>,
    /// The folder's own manifest options, over the top-level ones.
    options: BTreeMap<String, String>,
}

impl Submission {
    /// Reads the directory and its manifest, if any.
    pub(crate) fn open(dir: &Path) -> Result<Submission, SubmissionError> {
        let read_err = |source| SubmissionError::Read {
            path: dir.to_path_buf(),
            source,
        };
        std::fs::read_dir(dir).map_err(read_err)?;
        let manifest_path = dir.join(MANIFEST);
        let manifest = read_manifest(&manifest_path)?.unwrap_or(Manifest {
            roles: BTreeMap::new(),
            folders: BTreeMap::new(),
            options: BTreeMap::new(),
        });
        for (lab, folder) in &manifest.folders {
            if !roles::LABS.iter().any(|(n, _)| n == lab) {
                return Err(SubmissionError::UnknownLab {
                    path: manifest_path,
                    lab: lab.clone(),
                    help: crate::scenario::did_you_mean(lab, roles::LABS.iter().map(|(n, _)| *n)),
                });
            }
            let problem = if Path::new(folder).is_absolute()
                || Path::new(folder)
                    .components()
                    .any(|c| matches!(c, std::path::Component::ParentDir))
            {
                Some("must be a folder inside the submission")
            } else if !dir.join(folder).is_dir() {
                Some("does not exist")
            } else {
                None
            };
            if let Some(problem) = problem {
                return Err(SubmissionError::BadFolder {
                    path: manifest_path,
                    lab: lab.clone(),
                    folder: folder.clone(),
                    problem,
                });
            }
        }
        Ok(Submission {
            dir: dir.to_path_buf(),
            manifest: manifest.roles,
            folders: manifest.folders,
            options: manifest.options,
        })
    }

    /// The folder that holds `lab`'s programs (the submission itself when flat): programs run
    /// in a copy of it.
    pub(crate) fn lab_dir(&self, lab: &str) -> PathBuf {
        self.dir.join(self.folder_of(lab))
    }

    fn folder_of(&self, lab: &str) -> String {
        if let Some(f) = self.folders.get(lab) {
            return f.clone();
        }
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return String::new();
        };
        let mut found: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| n.eq_ignore_ascii_case(lab))
            .collect();
        found.sort();
        found.into_iter().next().unwrap_or_default()
    }

    fn scope(&self, lab: &str) -> Result<Scope, SubmissionError> {
        let folder = self.folder_of(lab);
        let dir = self.dir.join(&folder);
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .map_err(|source| SubmissionError::Read {
                path: dir.clone(),
                source,
            })?
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        files.sort();
        let mut manifest = self.manifest.clone();
        let mut options = self.options.clone();
        if !folder.is_empty() {
            if let Some(m) = read_manifest(&dir.join(MANIFEST))? {
                manifest.extend(m.roles);
                options.extend(m.options);
            }
        }
        Ok(Scope {
            folder,
            files,
            manifest,
            options,
        })
    }

    /// The roles of `lab` this submission provides. Roles it lacks are not submitted.
    pub(crate) fn bindings(&self, lab: &str) -> Result<Bindings, SubmissionError> {
        Ok(self.bindings_in(&self.scope(lab)?, lab))
    }

    /// The roles of `lab` that the files of `scope` play.
    fn bindings_in(&self, scope: &Scope, lab: &str) -> Bindings {
        let mut roles = BTreeMap::new();
        for role in roles::ROLES.iter().filter(|r| r.lab == lab) {
            if let Some(m) = scope.manifest.get(role.name) {
                // The file the command runs (`python3 TCPServer.py`, `./server.sh`), for the
                // binding table and the diagnoses.
                let file = m
                    .command
                    .iter()
                    .map(|part| part.trim_start_matches("./"))
                    .find(|part| scope.files.iter().any(|f| f == part))
                    .map(str::to_string)
                    .unwrap_or_else(|| m.command.join(" "));
                roles.insert(
                    role.name.to_string(),
                    RoleBinding {
                        command: m.command.clone(),
                        stdin: m.stdin.clone(),
                        file,
                        source: RoleSource::Manifest,
                    },
                );
                continue;
            }
            let found = scope.files.iter().find(|f| self.plays(scope, f, role));
            if let Some(file) = found {
                let command = if split_ext(file).1 == "py" {
                    vec!["python3".to_string(), file.clone()]
                } else {
                    vec![format!("./{file}")]
                };
                roles.insert(
                    role.name.to_string(),
                    RoleBinding {
                        command,
                        stdin: Vec::new(),
                        file: file.clone(),
                        source: RoleSource::FileName,
                    },
                );
            }
        }
        let options = scope
            .options
            .iter()
            .filter(|(name, _)| roles::option(name).is_some_and(|o| o.lab == lab))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Bindings {
            roles,
            graded: true,
            options,
        }
    }

    /// Whether `file` of `scope` plays `role` by its name.
    fn plays(&self, scope: &Scope, file: &str, r: &roles::Role) -> bool {
        let (stem, ext) = split_ext(file);
        let stem = normalize(stem);
        if !r.stems.contains(&stem.as_str()) {
            return false;
        }
        if !(ext == "py" || self.is_executable(&scope.folder, file)) {
            return false;
        }
        // A generic name in a flat submission belongs to the first lab that claims it.
        !scope.folder.is_empty() || generic_owner(&stem).is_none_or(|lab| lab == r.lab)
    }

    /// The binding table of `labs` (every role: its file or why none) and the files of their
    /// folders that played no role, with a hint where a name comes close.
    pub(crate) fn table(
        &self,
        labs_graded: &[&str],
    ) -> Result<(Vec<BindingRow>, Vec<UnboundFile>), SubmissionError> {
        let mut rows = Vec::new();
        let mut used: BTreeSet<String> = BTreeSet::new();
        let mut candidates: Vec<(String, Scope)> = Vec::new();
        for &lab in labs_graded {
            let scope = self.scope(lab)?;
            let b = self.bindings_in(&scope, lab);
            let prefix = if scope.folder.is_empty() {
                String::new()
            } else {
                format!("{}/", scope.folder)
            };
            for role in roles::ROLES.iter().filter(|r| r.lab == lab) {
                let row = match b.roles.get(role.name) {
                    Some(rb) => {
                        used.insert(format!("{prefix}{}", rb.file));
                        BindingRow {
                            lab: lab.into(),
                            role: role.name.into(),
                            file: Some(format!("{prefix}{}", rb.file)),
                            how: rb.source.how().into(),
                            interpreter: None,
                        }
                    }
                    None => BindingRow {
                        lab: lab.into(),
                        role: role.name.into(),
                        file: None,
                        how: self.why_unbound(&scope, role),
                        interpreter: None,
                    },
                };
                rows.push(row);
            }
            candidates.push((prefix, scope));
        }
        let mut unbound = Vec::new();
        for (prefix, scope) in &candidates {
            for f in &scope.files {
                let path = format!("{prefix}{f}");
                let program = split_ext(f).1 == "py" || self.is_executable(&scope.folder, f);
                if used.contains(&path)
                    || !program
                    || unbound.iter().any(|u: &UnboundFile| u.file == path)
                {
                    continue;
                }
                unbound.push(UnboundFile {
                    hint: hint_for(f, labs_graded),
                    file: path,
                });
            }
        }
        Ok((rows, unbound))
    }

    /// Why no file plays `role`: the names it would take, and a generic name that went to
    /// another lab.
    fn why_unbound(&self, scope: &Scope, role: &roles::Role) -> String {
        let taken = scope.files.iter().find(|f| {
            let stem = normalize(split_ext(f).0);
            role.stems.contains(&stem.as_str())
        });
        let example = role.example.to_string();
        match taken {
            Some(f) if scope.folder.is_empty() => format!(
                "not submitted: in a flat submission `{f}` plays the {} lab's role; put the {} \
                 lab's programs in a `{}/` folder, name this one `{example}`, or bind it in \
                 socklab.json",
                generic_owner(&normalize(split_ext(f).0)).unwrap_or("other"),
                role.lab,
                role.lab
            ),
            Some(f) => format!("not submitted: `{f}` is neither a .py file nor executable"),
            None => {
                format!("not submitted: no file named like `{example}` and no socklab.json entry")
            }
        }
    }

    fn is_executable(&self, folder: &str, file: &str) -> bool {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(self.dir.join(folder).join(file))
            .is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
    }
}

fn read_manifest(path: &Path) -> Result<Option<Manifest>, SubmissionError> {
    if !path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(path).map_err(|source| SubmissionError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let m: Manifest = serde_json::from_str(&text).map_err(|e| SubmissionError::Manifest {
        path: path.to_path_buf(),
        line: e.line(),
        column: e.column(),
        message: e
            .to_string()
            .split(" at line ")
            .next()
            .unwrap_or("")
            .to_string(),
    })?;
    for (role, spec) in &m.roles {
        if roles::role(role).is_none() {
            return Err(SubmissionError::UnknownRole {
                path: path.to_path_buf(),
                role: role.clone(),
                help: crate::scenario::did_you_mean(role, roles::ROLES.iter().map(|r| r.name)),
            });
        }
        if spec.command.is_empty() {
            return Err(SubmissionError::EmptyCommand {
                path: path.to_path_buf(),
                role: role.clone(),
            });
        }
    }
    for (name, value) in &m.options {
        let Some(option) = roles::option(name) else {
            return Err(SubmissionError::UnknownOption {
                path: path.to_path_buf(),
                option: name.clone(),
                help: crate::scenario::did_you_mean(name, roles::OPTIONS.iter().map(|o| o.name)),
            });
        };
        if !option.values.contains(&value.as_str()) {
            return Err(SubmissionError::BadOption {
                path: path.to_path_buf(),
                option: name.clone(),
                value: value.clone(),
                allowed: option.values.join(", "),
            });
        }
    }
    Ok(Some(m))
}

/// The lab a generic stem (claimed by roles of several labs) binds to in a flat submission:
/// the first of the catalog. None for a stem only one lab claims.
fn generic_owner(stem: &str) -> Option<&'static str> {
    let claims: Vec<&str> = roles::ROLES
        .iter()
        .filter(|r| r.stems.contains(&stem))
        .map(|r| r.lab)
        .collect();
    let distinct = claims.iter().any(|l| *l != claims[0]);
    distinct
        .then(|| {
            roles::LABS
                .iter()
                .map(|(n, _)| *n)
                .find(|n| claims.contains(n))
        })
        .flatten()
}

/// "did you mean" for a program file that played no role: `server.py` → the lab's servers.
fn hint_for(file: &str, labs_graded: &[&str]) -> Option<String> {
    let stem = normalize(split_ext(file).0);
    let roles: Vec<&roles::Role> = roles::ROLES
        .iter()
        .filter(|r| labs_graded.contains(&r.lab))
        .collect();
    let close: Vec<String> = roles
        .iter()
        .filter(|r| {
            let side = if r.name.ends_with("-server") {
                "server"
            } else {
                "client"
            };
            stem.contains(side)
                || r.stems
                    .iter()
                    .any(|s| strsim::jaro_winkler(&stem, s) >= 0.85)
        })
        .map(|r| format!("`{}` ({})", r.example, r.name))
        .collect();
    let mut close = close;
    close.dedup();
    (!close.is_empty()).then(|| {
        format!(
            "did you mean {}? Rename the file, or bind it in socklab.json",
            close.join(" or ")
        )
    })
}

fn split_ext(file: &str) -> (&str, &str) {
    match file.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => (stem, ext),
        _ => (file, ""),
    }
}

/// `TCP_Server (1)` → `tcpserver`.
pub(crate) fn normalize(stem: &str) -> String {
    let without_copy = match stem.rfind(" (") {
        Some(i) if stem.ends_with(')') => &stem[..i],
        _ => stem,
    };
    without_copy
        .chars()
        .filter(|c| c.is_ascii_alphabetic())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_student_file_names() {
        for name in [
            "TCPServer",
            "tcp_server",
            "TCP_Server (1)",
            "tcp-server2",
            "TCP Server",
        ] {
            assert_eq!(normalize(name), "tcpserver", "{name}");
        }
    }

    fn write(dir: &Path, files: &[&str]) {
        for f in files {
            let path = dir.join(f);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "").unwrap();
        }
    }

    #[test]
    fn binds_by_file_name_per_lab() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), &["TCPServer.py", "udp_client.py", "notes.txt"]);
        let sub = Submission::open(dir.path()).unwrap();
        let upper = sub.bindings("upper").unwrap();
        assert_eq!(
            upper.roles["tcp-upper-server"].command,
            ["python3", "TCPServer.py"]
        );
        assert_eq!(upper.roles["udp-upper-client"].file, "udp_client.py");
        assert!(!upper.roles.contains_key("tcp-upper-client"));
    }

    #[test]
    fn a_flat_submission_gives_the_generic_names_to_one_lab_only() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), &["TCPServer.py", "UDPHelloClient.py"]);
        let sub = Submission::open(dir.path()).unwrap();
        assert!(sub
            .bindings("upper")
            .unwrap()
            .roles
            .contains_key("tcp-upper-server"));
        let hello = sub.bindings("hello").unwrap();
        assert!(!hello.roles.contains_key("tcp-hello-server"), "{hello:?}");
        assert!(hello.roles.contains_key("udp-hello-client"));
        let (rows, _) = sub.table(&["hello"]).unwrap();
        let server = rows.iter().find(|r| r.role == "tcp-hello-server").unwrap();
        assert_eq!(server.file, None);
        assert!(server.how.contains("`hello/` folder"), "{}", server.how);
        assert!(server.how.contains("TCPHelloServer.py"), "{}", server.how);
    }

    #[test]
    fn lab_folders_in_any_case_hold_their_labs_programs() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            &[
                "Upper/TCPServer.py",
                "hello/TCPServer.py",
                "hello/TCPClient.py",
            ],
        );
        let sub = Submission::open(dir.path()).unwrap();
        assert_eq!(sub.lab_dir("upper"), dir.path().join("Upper"));
        assert!(sub
            .bindings("upper")
            .unwrap()
            .roles
            .contains_key("tcp-upper-server"));
        let hello = sub.bindings("hello").unwrap();
        assert_eq!(hello.roles["tcp-hello-server"].file, "TCPServer.py");
        assert_eq!(hello.roles["tcp-hello-client"].file, "TCPClient.py");
        let (rows, unbound) = sub.table(&["upper", "hello"]).unwrap();
        let f = |role: &str| rows.iter().find(|r| r.role == role).unwrap().file.clone();
        assert_eq!(f("tcp-upper-server").as_deref(), Some("Upper/TCPServer.py"));
        assert_eq!(f("tcp-hello-server").as_deref(), Some("hello/TCPServer.py"));
        assert!(unbound.is_empty(), "{unbound:?}");
    }

    #[test]
    fn the_manifest_names_a_labs_folder() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), &["week5/UDPServer.py"]);
        std::fs::write(
            dir.path().join(MANIFEST),
            r#"{"folders": {"upper": "week5"}}"#,
        )
        .unwrap();
        let sub = Submission::open(dir.path()).unwrap();
        assert_eq!(sub.lab_dir("upper"), dir.path().join("week5"));
        assert!(sub
            .bindings("upper")
            .unwrap()
            .roles
            .contains_key("udp-upper-server"));
        std::fs::write(
            dir.path().join(MANIFEST),
            r#"{"folders": {"upper": "../x"}}"#,
        )
        .unwrap();
        let err = Submission::open(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("must be a folder inside the submission"),
            "{err}"
        );
    }

    #[test]
    fn files_that_play_no_role_are_listed_with_a_hint() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), &["server.py", "client.py", "notes.txt"]);
        let sub = Submission::open(dir.path()).unwrap();
        assert!(sub.bindings("upper").unwrap().roles.is_empty());
        let (rows, unbound) = sub.table(&["upper"]).unwrap();
        assert!(rows.iter().all(|r| r.file.is_none()));
        let files: Vec<&str> = unbound.iter().map(|u| u.file.as_str()).collect();
        assert_eq!(files, ["client.py", "server.py"]);
        let hint = unbound[1].hint.as_deref().unwrap();
        assert!(hint.contains("`TCPServer.py` (tcp-upper-server)"), "{hint}");
        assert!(hint.contains("`UDPServer.py` (udp-upper-server)"), "{hint}");
    }

    #[test]
    fn manifest_wins_and_is_validated() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("TCPClient.py"), "").unwrap();
        std::fs::write(
            dir.path().join(MANIFEST),
            r#"{"roles": {"tcp-upper-client": {"command": ["python3", "TCPClient.py"], "stdin": ["{server_addr}", "{port}"]}}}"#,
        )
        .unwrap();
        let b = Submission::open(dir.path())
            .unwrap()
            .bindings("upper")
            .unwrap();
        let c = &b.roles["tcp-upper-client"];
        assert_eq!(
            (c.source, c.stdin.len(), c.file.as_str()),
            (RoleSource::Manifest, 2, "TCPClient.py")
        );

        std::fs::write(
            dir.path().join(MANIFEST),
            r#"{"roles": {"tcp-uper-client": {"command": ["x"]}}}"#,
        )
        .unwrap();
        let err = Submission::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("did you mean `tcp-upper-client`?"), "{err}");
    }

    #[test]
    fn manifest_options_bind_their_lab_only_and_are_validated() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ProxyServer.py"), "").unwrap();
        let manifest = |text: &str| std::fs::write(dir.path().join(MANIFEST), text).unwrap();
        manifest(r#"{"options": {"request_form": "skeleton"}}"#);
        let sub = Submission::open(dir.path()).unwrap();
        let proxy = sub.bindings("proxy").unwrap();
        assert_eq!(proxy.options["request_form"], "skeleton");
        assert!(proxy.roles.contains_key("proxy"));
        // Another lab's bindings do not carry the proxy lab's option.
        assert!(sub.bindings("web").unwrap().options.is_empty());

        manifest(r#"{"options": {"request_from": "skeleton"}}"#);
        let err = Submission::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("did you mean `request_form`?"), "{err}");
        manifest(r#"{"options": {"request_form": "origin"}}"#);
        let err = Submission::open(dir.path()).unwrap_err().to_string();
        assert!(
            err.ends_with("option `request_form` is `origin`; it takes one of: absolute, skeleton"),
            "{err}"
        );
    }
}
