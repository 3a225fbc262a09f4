//! A student's submission: which of its programs play which roles.
//!
//! Two ways, in order: a manifest file `socklab.json` in the submission directory, then
//! conventional file names. Manifest format:
//!
//! ```json
//! { "roles": {
//!     "tcp-upper-client": { "command": ["python3", "TCPClient.py"],
//!                           "stdin": ["{server_addr}", "{port}"] } } }
//! ```
//!
//! In a manifest, `{server_addr}` (or `{host}`) is the HOST argument the scenario gives the role,
//! `{port}` its PORT argument, and a command element `{args}` stands for all its arguments.
//! `stdin` lines are written before the scenario's own (answers to prompts such as
//! `Enter Server Name:`). Without a manifest entry, a file binds to a role when its name,
//! lowercased and stripped of `_`, `-`, spaces, digits and copy suffixes like ` (1)`, equals one
//! of the role's conventional stems (`TCPServer.py`, `tcp_server.py` → `tcpserver`); `.py` files
//! run with `python3`, other executable files directly; the role's arguments follow.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::labs;
use crate::plan::{Bindings, RoleBinding, RoleSource};

/// Name of the manifest file.
pub(crate) const MANIFEST: &str = "socklab.json";

#[derive(Debug, Clone)]
pub(crate) struct Submission {
    pub dir: PathBuf,
    manifest: BTreeMap<String, ManifestRole>,
    /// Top-level file names.
    files: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    roles: BTreeMap<String, ManifestRole>,
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
    #[error("{}: role `{role}` has an empty command", path.display())]
    EmptyCommand { path: PathBuf, role: String },
}

impl Submission {
    /// Reads the directory and its manifest, if any.
    pub(crate) fn open(dir: &Path) -> Result<Submission, SubmissionError> {
        let read_err = |source| SubmissionError::Read {
            path: dir.to_path_buf(),
            source,
        };
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .map_err(read_err)?
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        files.sort();
        let manifest_path = dir.join(MANIFEST);
        let manifest = if manifest_path.is_file() {
            let text = std::fs::read_to_string(&manifest_path).map_err(read_err)?;
            let m: Manifest =
                serde_json::from_str(&text).map_err(|e| SubmissionError::Manifest {
                    path: manifest_path.clone(),
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
                if labs::role(role).is_none() {
                    return Err(SubmissionError::UnknownRole {
                        path: manifest_path.clone(),
                        role: role.clone(),
                        help: crate::scenario::did_you_mean(
                            role,
                            labs::ROLES.iter().map(|r| r.name),
                        ),
                    });
                }
                if spec.command.is_empty() {
                    return Err(SubmissionError::EmptyCommand {
                        path: manifest_path.clone(),
                        role: role.clone(),
                    });
                }
            }
            m.roles
        } else {
            BTreeMap::new()
        };
        Ok(Submission {
            dir: dir.to_path_buf(),
            manifest,
            files,
        })
    }

    /// The roles of `lab` this submission provides.
    pub(crate) fn bindings(&self, lab: &str) -> Bindings {
        let mut roles = BTreeMap::new();
        for role in labs::ROLES.iter().filter(|r| r.lab == lab) {
            if let Some(m) = self.manifest.get(role.name) {
                let file = m
                    .command
                    .iter()
                    .find(|part| self.files.contains(part))
                    .cloned()
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
            let found = self.files.iter().find(|f| {
                let (stem, ext) = split_ext(f);
                role.stems.contains(&normalize(stem).as_str())
                    && (ext == "py" || self.is_executable(f))
            });
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
        Bindings { roles }
    }

    fn is_executable(&self, file: &str) -> bool {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(self.dir.join(file)).is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
    }
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

    #[test]
    fn binds_by_file_name_per_lab() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("TCPServer.py"), "").unwrap();
        std::fs::write(dir.path().join("udp_client.py"), "").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "").unwrap();
        let sub = Submission::open(dir.path()).unwrap();
        let upper = sub.bindings("upper");
        assert_eq!(
            upper.roles["tcp-upper-server"].command,
            ["python3", "TCPServer.py"]
        );
        assert_eq!(upper.roles["udp-upper-client"].file, "udp_client.py");
        assert!(!upper.roles.contains_key("tcp-upper-client"));
        assert!(sub.bindings("hello").roles.contains_key("tcp-hello-server"));
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
        let b = Submission::open(dir.path()).unwrap().bindings("upper");
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
}
