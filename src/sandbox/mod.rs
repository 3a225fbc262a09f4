//! One rootless sandbox per scenario run (effects).
//!
//! The harness re-executes its own binary as a hidden `__sandbox` child ([`prepare`]), sends it
//! on stdin first what its programs will see (a [`confine::View`], one JSON line, at once), then,
//! when the scenario's turn comes ([`Prepared::run`]), the [`RunRequest`] as JSON, and reads the
//! [`Evidence`] as JSON from its stdout. The child
//! ([`child_main`]) is single-threaded when it calls `unshare(CLONE_NEWUSER | CLONE_NEWNET |
//! CLONE_NEWPID | CLONE_NEWNS)` (the kernel refuses a new user namespace to a threaded
//! process), maps its own uid/gid to root inside, then forks the supervisor, which is PID 1 of
//! the new PID namespace: it mounts a fresh `/proc` (so `/proc/<pid>` and `/proc/net` describe
//! this run only), brings `lo` up and runs the plan. When PID 1 returns, the kernel kills every
//! process left in the namespace, daemonized children included, and the network namespace,
//! with every socket in it, disappears.
//!
//! In the namespace, every program is confined ([`confine`]): it sees its working copy, the
//! system's interpreters and libraries and what the harness exposes, read-only where it can be,
//! and nothing else of the host's files; it has no capability.
//!
//! [`Isolation::Host`] is the explicit degraded mode for machines without user namespaces: the
//! same supervisor in a plain child process on the host's loopback, as a child subreaper, with
//! no capture and no confinement (programs see the host's files as the user running socklab).

use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::thread::JoinHandle;

use crate::evidence::Evidence;
use crate::exec::{self, RunRequest};

pub(crate) mod confine;
pub(crate) mod topo;

/// The sandbox child's first line: what its programs see, and the computers they run on (two
/// or more: a topology, see [`topo`]; else the run's own loopback).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Setup {
    view: confine::View,
    #[serde(default)]
    hosts: Vec<crate::plan::HostPlan>,
}

/// Exit code of the sandbox child when user namespaces are not available.
const NO_USERNS: i32 = 70;
/// Exit code of the sandbox child for any other setup failure.
const SETUP_FAILED: i32 = 71;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Isolation {
    /// A fresh rootless user + network + PID + mount namespace per scenario run (default).
    Namespace,
    /// Degraded: the host's loopback, free ports, no isolation, no capture and no confinement
    /// (programs see the host's files).
    Host,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum SandboxError {
    #[error(
        "cannot create a network namespace: unprivileged user namespaces are not available here ({detail})\n\
         fix: allow them, e.g. `sudo sysctl -w kernel.unprivileged_userns_clone=1` (Debian) or \
         `sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0` (Ubuntu 23.10+), \
         check `user.max_user_namespaces` is not 0, or in a container run it with \
         `--security-opt seccomp=unconfined`; or run with `--isolation host` (the host's \
         loopback, no isolation and no capture)"
    )]
    NoUserNamespaces { detail: String },
    #[error("cannot start the sandbox: {0}")]
    Spawn(std::io::Error),
    #[error("the sandbox failed: {0}")]
    Failed(String),
}

/// A sandbox started ahead of its run: namespaces made, `/proc` mounted, `lo` up, the capture
/// running and the programs' root built around their working copy (namespace mode), waiting
/// for its [`RunRequest`]. Setting these up costs milliseconds of waiting on the kernel (an RCU
/// grace period for the capture ring, another for detaching the host's root), so the harness
/// prepares the next scenario's sandbox while the current one runs. Dropped unused, the child
/// sees end-of-file and exits, and its capture file and working copy are removed.
#[derive(Debug)]
pub(crate) struct Prepared {
    parts: Option<Parts>,
    /// The programs' working copy, removed when the sandbox is dropped.
    workdir: tempfile::TempDir,
    /// The capture file, removed if the sandbox is dropped unused.
    capture: Option<PathBuf>,
    /// How its programs' processes are capped; their pids cgroups (made before the sandbox
    /// entered its root, which keeps a handle on them), killed and removed with the sandbox.
    cap: crate::exec::limits::SandboxCap,
}

/// The child and its pipes; taken out by `run`, or ended by `drop`.
#[derive(Debug)]
struct Parts {
    child: Child,
    stdin: ChildStdin,
    stdout: ChildStdout,
    /// The thread reading the child's stderr.
    errors: JoinHandle<String>,
}

/// Where and how a sandbox captures.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CaptureSpec<'a> {
    pub path: &'a Path,
    /// Size of the capture ring, in MiB.
    pub ring_mib: u32,
}

/// Starts a sandbox that captures as `capture` says and whose programs see `view` (namespace
/// mode only) on `hosts` (two or more: a topology); `workdir` is `view`'s working copy, kept
/// as long as the sandbox.
pub(crate) fn prepare(
    isolation: Isolation,
    capture: Option<CaptureSpec<'_>>,
    workdir: tempfile::TempDir,
    view: &confine::View,
    cap: crate::exec::limits::SandboxCap,
    hosts: &[crate::plan::HostPlan],
) -> Result<Prepared, SandboxError> {
    if hosts.len() > 1 && isolation == Isolation::Host {
        // Never the host's own network with addresses of simulated computers.
        return Err(SandboxError::Failed(format!(
            "this scenario runs {} computers, each in a network namespace of its own, which \
             `--isolation host` cannot make: run it with the default `--isolation namespace`",
            hosts.len()
        )));
    }
    let hosts = if hosts.len() > 1 {
        hosts.to_vec()
    } else {
        Vec::new()
    };
    // The child reads this first line before anything else: it builds the root ahead.
    let setup = Setup {
        view: view.clone(),
        hosts,
    };
    let mut setup = serde_json::to_vec(&setup).map_err(|e| SandboxError::Failed(e.to_string()))?;
    setup.push(b'\n');
    let exe = std::env::current_exe().map_err(SandboxError::Spawn)?;
    let mode = match isolation {
        Isolation::Namespace => "namespace",
        Isolation::Host => "host",
    };
    let mut cmd = Command::new(exe);
    cmd.args(["__sandbox", mode]);
    if let Some(spec) = capture {
        cmd.arg(spec.path).arg(spec.ring_mib.to_string());
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(SandboxError::Spawn)?;
    let missing = |what: &str| SandboxError::Failed(format!("no {what}"));
    let mut stdin = child.stdin.take().ok_or_else(|| missing("stdin"))?;
    // A line far smaller than a pipe's buffer: this never blocks. A child that died already
    // is met, with its error, by `run`.
    let _ = stdin.write_all(&setup);
    let stdout = child.stdout.take().ok_or_else(|| missing("stdout"))?;
    let mut stderr = child.stderr.take().ok_or_else(|| missing("stderr"))?;
    // Read stderr from a thread from the start, so the pipe cannot fill up and stall the child.
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    Ok(Prepared {
        parts: Some(Parts {
            child,
            stdin,
            stdout,
            errors,
        }),
        workdir,
        capture: capture.map(|c| c.path.to_path_buf()),
        cap,
    })
}

impl Prepared {
    /// The programs' working copy.
    pub(crate) fn workdir(&self) -> &Path {
        self.workdir.path()
    }

    /// How the programs' processes are capped in this sandbox.
    pub(crate) fn cap(&self) -> &crate::exec::limits::CapPlan {
        &self.cap.plan
    }

    /// Why the cap is weaker than the machine's best (its cgroups could not be made), if so.
    pub(crate) fn cap_warning(&self) -> Option<&str> {
        self.cap.warning.as_deref()
    }

    /// Hands the request over and waits for the evidence.
    pub(crate) fn run(mut self, req: &RunRequest) -> Result<Evidence, SandboxError> {
        let input = serde_json::to_vec(req).map_err(|e| SandboxError::Failed(e.to_string()))?;
        let Some(Parts {
            mut child,
            mut stdin,
            mut stdout,
            errors,
        }) = self.parts.take()
        else {
            unreachable!("a Prepared is run once: run takes it by value");
        };
        // Write from a thread: the child may have failed and never read.
        let writer = std::thread::spawn(move || stdin.write_all(&input));
        let mut output = Vec::new();
        let read = stdout.read_to_end(&mut output);
        let _ = writer.join();
        // The sandbox closes its stdout once the evidence is written; everything in it is
        // already stopped. Its exit (the kernel tearing the namespaces down) can take a while
        // and is nobody's business: reap it in the background and go on grading.
        if read.is_ok() {
            if let Ok(evidence) = serde_json::from_slice::<Evidence>(&output) {
                std::thread::spawn(move || {
                    let _ = child.wait();
                    let _ = errors.join();
                });
                return Ok(evidence);
            }
        }
        let status = child.wait().map_err(SandboxError::Spawn)?;
        let stderr = errors.join().unwrap_or_default().trim().to_string();
        match status.code() {
            Some(NO_USERNS) => Err(SandboxError::NoUserNamespaces { detail: stderr }),
            Some(0) => Err(SandboxError::Failed(format!(
                "unreadable evidence; {stderr}"
            ))),
            _ => Err(SandboxError::Failed(if stderr.is_empty() {
                format!("sandbox child ended with {status}")
            } else {
                stderr
            })),
        }
    }
}

impl Drop for Prepared {
    /// An unused sandbox: end-of-file on its stdin tells it to clean up and exit.
    fn drop(&mut self) {
        if let Some(Parts {
            mut child,
            stdin,
            stdout,
            errors,
        }) = self.parts.take()
        {
            drop((stdin, stdout));
            let _ = child.wait();
            let _ = errors.join();
            // The child no longer sees the host's files: its capture file is removed here.
            if let Some(path) = &self.capture {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}

/// Entry point of the hidden `__sandbox MODE [CAPTURE RING_MIB]` subcommand. Must run before
/// any thread starts.
pub(crate) fn child_main(mode: &str, capture: Option<CaptureSpec<'_>>) -> i32 {
    let result = match mode {
        "namespace" => enter_namespaces(),
        "host" => become_subreaper(),
        other => Err((SETUP_FAILED, format!("unknown sandbox mode `{other}`"))),
    };
    match result {
        Ok(()) => supervisor_main(mode == "namespace", capture),
        Err((code, msg)) => {
            eprintln!("{msg}");
            code
        }
    }
}

fn become_subreaper() -> Result<(), (i32, String)> {
    // Orphans of the run's programs are re-parented to us, so teardown can reap them.
    nix::sys::prctl::set_child_subreaper(true).map_err(|e| {
        (
            SETUP_FAILED,
            format!("cannot become a child subreaper: {e}"),
        )
    })
}

/// unshare + id maps + fork; returns only in the child that is PID 1 of the new namespace.
fn enter_namespaces() -> Result<(), (i32, String)> {
    use nix::sched::{unshare, CloneFlags};
    let uid = nix::unistd::getuid();
    let gid = nix::unistd::getgid();
    let flags = CloneFlags::CLONE_NEWUSER
        | CloneFlags::CLONE_NEWNET
        | CloneFlags::CLONE_NEWPID
        | CloneFlags::CLONE_NEWNS;
    unshare(flags).map_err(|e| (NO_USERNS, format!("unshare failed: {e}")))?;
    let write = |path: &str, text: String| {
        std::fs::write(path, text).map_err(|e| (SETUP_FAILED, format!("cannot write {path}: {e}")))
    };
    write("/proc/self/setgroups", "deny".into())?;
    write("/proc/self/uid_map", format!("0 {uid} 1"))?;
    write("/proc/self/gid_map", format!("0 {gid} 1"))?;

    // SAFETY: single-threaded here; the child only continues with ordinary Rust code.
    match unsafe { nix::unistd::fork() } {
        Err(e) => Err((SETUP_FAILED, format!("cannot fork: {e}"))),
        Ok(nix::unistd::ForkResult::Child) => {
            // The harness's `__sandbox` process, our parent outside the namespace, dies with a
            // Ctrl-C at the terminal (it is in the harness's process group; we, PID 1 of the
            // namespace, ignore such signals): take the whole namespace down with it, so that
            // nothing of the run outlives an interrupted `socklab grade`.
            nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL).map_err(|e| {
                (
                    SETUP_FAILED,
                    format!("cannot set the parent-death signal: {e}"),
                )
            })?;
            mount_proc()?;
            crate::capture::set_link_up("lo")
                .map_err(|e| (SETUP_FAILED, format!("cannot bring lo up: {e}")))?;
            Ok(())
        }
        Ok(nix::unistd::ForkResult::Parent { child }) => {
            // Only PID 1 talks to the harness: let go of stdin and stdout so the harness sees
            // end-of-file as soon as PID 1 has written its evidence.
            if let Ok(null) = std::fs::File::open("/dev/null") {
                use std::os::fd::AsRawFd;
                // SAFETY: dup2 onto our own standard descriptors.
                unsafe {
                    libc::dup2(null.as_raw_fd(), 0);
                    libc::dup2(null.as_raw_fd(), 1);
                }
            }
            // Relay PID 1's exit status; its end ends everything in the namespace.
            let code = loop {
                match nix::sys::wait::waitpid(child, None) {
                    Ok(nix::sys::wait::WaitStatus::Exited(_, c)) => break c,
                    Ok(nix::sys::wait::WaitStatus::Signaled(_, s, _)) => break 128 + s as i32,
                    Ok(_) => continue,
                    Err(nix::errno::Errno::EINTR) => continue,
                    Err(_) => break SETUP_FAILED,
                }
            };
            std::process::exit(code);
        }
    }
}

fn mount_proc() -> Result<(), (i32, String)> {
    use nix::mount::{mount, MsFlags};
    let fail = |what: &str, e: nix::Error| (SETUP_FAILED, format!("cannot {what}: {e}"));
    // Keep our mounts from propagating back to the host.
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .map_err(|e| fail("make / private", e))?;
    mount(
        Some("proc"),
        "/proc",
        Some("proc"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        None::<&str>,
    )
    .map_err(|e| fail("mount /proc", e))
}

fn supervisor_main(namespaced: bool, spec: Option<CaptureSpec<'_>>) -> i32 {
    let mut stdin = std::io::stdin().lock();
    let mut line = String::new();
    let Setup { view, hosts } = match stdin
        .read_line(&mut line)
        .map(|_| serde_json::from_str(&line))
    {
        Ok(Ok(v)) => v,
        // Dropped before it was even set up.
        Ok(Err(_)) if line.is_empty() => return 0,
        Ok(Err(e)) => {
            eprintln!("invalid sandbox set-up: {e}");
            return SETUP_FAILED;
        }
        Err(e) => {
            eprintln!("cannot read the sandbox set-up: {e}");
            return SETUP_FAILED;
        }
    };
    // The computers of a topology, made before the capture that watches their links.
    if namespaced && hosts.len() > 1 {
        if let Err(e) = topo::build(&hosts) {
            eprintln!("cannot make the scenario's computers: {e}");
            return SETUP_FAILED;
        }
    }
    // The capture starts before the request is read: it is running by the time the harness
    // hands a prepared sandbox its request.
    let capture_path = spec.map(|s| s.path);
    let mut warnings = Vec::new();
    let capture = match spec {
        Some(CaptureSpec { path, ring_mib }) if namespaced => {
            match start_capture(&hosts, path, ring_mib) {
                Ok(c) => Some(c),
                Err(e) => {
                    warnings.push(format!("no capture: {e}"));
                    None
                }
            }
        }
        _ => None,
    };
    // The programs' root, built and entered while the sandbox waits for its request. From here
    // on this process sees no host path: the capture file and the pipes are open descriptors.
    if namespaced {
        if let Err(e) = confine::enter(&view) {
            eprintln!("{e}");
            return SETUP_FAILED;
        }
    }
    let mut input = Vec::new();
    if let Err(e) = stdin.read_to_end(&mut input) {
        eprintln!("cannot read the run request: {e}");
        return SETUP_FAILED;
    }
    drop(stdin);
    if input.is_empty() {
        // A prepared sandbox the harness did not need (the harness removes its capture file).
        return 0;
    }
    let req: RunRequest = match serde_json::from_slice(&input) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("invalid run request: {e}");
            return SETUP_FAILED;
        }
    };
    if req.workdir != view.workdir {
        eprintln!(
            "the run request's working directory {} is not the one the sandbox was built around",
            req.workdir.display()
        );
        return SETUP_FAILED;
    }
    let mut evidence = exec::supervise(&req);
    evidence.warnings.extend(warnings);
    if let (Some(c), Some(path)) = (capture, capture_path) {
        match c.stop() {
            Ok(stats) => {
                if stats.headers_only > 0 {
                    evidence.warnings.push(format!(
                        "the capture keeps whole packets up to its size cap; the last {} \
                         packet(s) kept their headers only",
                        stats.headers_only
                    ));
                }
                evidence.capture = Some(crate::evidence::CaptureEvidence {
                    file: path.display().to_string(),
                    packets: stats.packets,
                    bytes: stats.bytes,
                    dropped: stats.dropped,
                })
            }
            Err(e) => evidence.warnings.push(format!("capture failed: {e}")),
        }
    }
    let written = serde_json::to_vec(&evidence)
        .map_err(std::io::Error::other)
        .and_then(|bytes| {
            let mut out = std::io::stdout().lock();
            out.write_all(&bytes)?;
            out.flush()
        });
    // Close stdout now: the harness has everything it needs, and what remains (the kernel
    // releasing sockets and namespaces as this process exits) need not keep it waiting.
    // SAFETY: closing our own stdout; nothing writes to it afterwards.
    unsafe { libc::close(1) };
    match written {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("cannot write evidence: {e}");
            SETUP_FAILED
        }
    }
}

/// The run's capture: `lo` alone on one host; in a topology, each host's `eth0` (the frames it
/// sends: each frame once, see [`crate::capture::Tap::outgoing_only`]) and its own `lo`, named
/// `HOST/eth0` and `HOST/lo`, the rings sharing `ring_mib` between them.
fn start_capture(
    hosts: &[crate::plan::HostPlan],
    path: &Path,
    ring_mib: u32,
) -> Result<crate::capture::Capture, crate::capture::CaptureError> {
    use crate::capture::{Capture, Tap};
    if hosts.len() <= 1 {
        return Capture::start_taps(&[Tap::here("lo")], path, ring_mib);
    }
    let taps: Vec<Tap<'_>> = capture_interfaces(hosts)
        .into_iter()
        .map(|(host, iface, label, outgoing_only)| Tap {
            iface,
            label,
            netns: topo::host_netns(host),
            outgoing_only,
        })
        .collect();
    let share = (ring_mib / taps.len() as u32).max(1);
    Capture::start_taps(&taps, path, share)
}

/// The interfaces a topology's capture records, in the file's order: per host, `eth0` (the
/// frames it sends) then `lo`, as (host index, interface, name in the file, outgoing only).
pub(crate) fn capture_interfaces(
    hosts: &[crate::plan::HostPlan],
) -> Vec<(usize, &'static str, String, bool)> {
    let mut out = Vec::new();
    for (i, h) in hosts.iter().enumerate() {
        for (iface, outgoing_only) in [(topo::HOST_IFACE, true), ("lo", false)] {
            out.push((i, iface, format!("{}/{iface}", h.name), outgoing_only));
        }
    }
    out
}

/// A fresh working directory for one run: a copy of `source` (the submission), or empty.
pub(crate) fn prepare_workdir(source: Option<&Path>) -> std::io::Result<tempfile::TempDir> {
    let dir = tempfile::Builder::new().prefix("socklab-run-").tempdir()?;
    if let Some(src) = source {
        copy_tree(src, dir.path())?;
    }
    Ok(dir)
}

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let target: PathBuf = to.join(entry.file_name());
        if kind.is_dir() {
            std::fs::create_dir_all(&target)?;
            copy_tree(&entry.path(), &target)?;
        } else if kind.is_file() {
            std::fs::copy(entry.path(), &target)?;
        }
        // Symlinks are not followed: a submission must not reach outside its directory.
    }
    Ok(())
}
