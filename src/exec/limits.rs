//! Limits on every program (effects): rlimits set between fork and exec, and a process cap
//! that keeps a fork bomb from reaching the host user's other processes.
//!
//! The rlimits (CPU, address space, file size, open files) come from the program's
//! [`ProgramLimits`] and hold everywhere. The process cap is harder: inside a rootless user
//! namespace the usual tools are not all there, so the harness finds once per run which one the
//! machine has ([`ProcessCap::detect`]), in this order, and says which in the run's header:
//!
//! 1. **cgroup v2 with `pids` delegated to us**: our own cgroup already hands `pids` to its
//!    children (`cgroup.subtree_control`) and we may create them. A child per program.
//! 2. **a writable cgroup v1 `pids` hierarchy** (root on a v1 or hybrid host): a child per
//!    program under `/sys/fs/cgroup/pids/socklab-<harness pid>-<n>/`.
//!
//!    In both cases the harness makes the cgroups before the sandbox starts
//!    ([`ProcessCap::sandbox`]): `<dir>/<program index>/pids.max` is the program's `processes`.
//!    The supervisor opens each `cgroup.procs` before the fork, and the child writes `0`
//!    ("myself") into it before it execs, so the program and all it forks are counted from its
//!    first instruction, whatever the PID namespace or the mount confinement hides later. The
//!    kernel counts tasks (threads too), refuses `fork` beyond the cap (`EAGAIN`), and counts
//!    each refusal in `pids.events`, which the supervisor reads at the end. The harness kills
//!    whatever is left in the cgroups and removes them when the run ends (also when it
//!    unwinds from a panic: [`SandboxCgroup`]'s `Drop`); a harness killed outright leaves
//!    them, and the next run removes every `socklab-<pid>-*` whose harness is gone.
//! 3. **RLIMIT_NPROC**: since Linux 5.14 it is counted per user namespace, so in the sandbox's
//!    fresh namespace it counts only the sandbox's tasks (the supervisor's included, hence the
//!    headroom added at each spawn). The kernel does not enforce it for a host uid 0, so it is
//!    chosen only for other users.
//! 4. **supervision**: the supervisor counts each program's processes at every tick (2 ms) and
//!    kills the program when it has more than its cap. A fast fork bomb can overshoot between
//!    two ticks, so this is the last resort, named as such.
//!
//! The supervision count runs in every mode as a backstop; with a cgroup it never fires.
//! `SOCKLAB_PROCESS_CAP=supervision` (or `nproc`, where it holds) asks for a weaker mechanism
//! than the machine has, to test it or where cgroups must be left alone.

use std::fs::File;

use nix::fcntl::OFlag;
use std::os::fd::{AsRawFd, RawFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::plan::{ProgramLimits, ProgramPlan};

const MIB: u64 = 1024 * 1024;
/// Seconds between SIGXCPU at the CPU limit and SIGKILL at the hard limit.
const CPU_GRACE_SECONDS: u64 = 5;
/// Where a cgroup v1 `pids` hierarchy is mounted on hybrid and v1 hosts.
const V1_PIDS: &str = "/sys/fs/cgroup/pids";
/// Prefix of the cgroups socklab makes: `socklab-<harness pid>-<n>`.
const PREFIX: &str = "socklab-";

/// Which mechanism caps a program's processes on this machine, found once per run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub(crate) enum ProcessCap {
    /// A pids cgroup: `root` is the directory under which each sandbox gets its own.
    Cgroup { version: u8, root: PathBuf },
    /// RLIMIT_NPROC, counted in the sandbox's user namespace.
    Nproc,
    /// The supervisor counts and kills.
    Supervision,
}

impl ProcessCap {
    /// Finds the best mechanism that works here (see the module docs), and removes the
    /// cgroups of earlier runs whose harness is gone.
    pub(crate) fn detect() -> ProcessCap {
        // A weaker mechanism can be asked for (to test it, or where a cgroup must not be
        // touched); never a stronger one than the machine has.
        match std::env::var("SOCKLAB_PROCESS_CAP").as_deref() {
            Ok("supervision") => return ProcessCap::Supervision,
            Ok("nproc") if nproc_holds() => return ProcessCap::Nproc,
            _ => {}
        }
        let found = v2_delegated()
            .map(|root| (2, root))
            .or_else(|| v1_writable().map(|root| (1, root)));
        if let Some((version, root)) = found {
            sweep_stale(&root);
            return ProcessCap::Cgroup { version, root };
        }
        if nproc_holds() {
            ProcessCap::Nproc
        } else {
            ProcessCap::Supervision
        }
    }

    /// One line for the run's header and `results.json`.
    pub(crate) fn describe(&self) -> String {
        match self {
            ProcessCap::Cgroup { version, root } => format!(
                "a pids cgroup per program (cgroup v{version}, under {}): the kernel refuses \
                 forks beyond the cap",
                root.display()
            ),
            ProcessCap::Nproc => "RLIMIT_NPROC in each sandbox's user namespace: the kernel \
                                  refuses forks beyond the cap"
                .into(),
            ProcessCap::Supervision => "supervision only (no writable pids cgroup here, and \
                                        RLIMIT_NPROC does not bind root): a program with more \
                                        processes than its cap is killed at the next 2 ms tick"
                .into(),
        }
    }

    /// What the sandbox of one run is given: with a cgroup, a fresh one per program (removed
    /// when the returned guard drops). A cgroup that cannot be made falls back to supervision
    /// for this run, with the reason.
    pub(crate) fn sandbox(&self, programs: &[ProgramPlan]) -> SandboxCap {
        let (plan, cgroup, warning) = match self {
            ProcessCap::Cgroup { root, .. } => match SandboxCgroup::make(root, programs) {
                Ok(cg) => (CapPlan::Cgroup(cg.dir.clone()), Some(cg), None),
                Err(e) => (
                    CapPlan::Supervision,
                    None,
                    Some(format!(
                        "cannot make a pids cgroup under {}: {e}; processes were capped by \
                         supervision only",
                        root.display()
                    )),
                ),
            },
            ProcessCap::Nproc => (CapPlan::Nproc, None, None),
            ProcessCap::Supervision => (CapPlan::Supervision, None, None),
        };
        SandboxCap {
            plan,
            warning,
            _cgroup: cgroup,
        }
    }
}

/// How one sandbox caps its programs' processes, kept as long as the sandbox: dropping it
/// kills what is left in its cgroups and removes them.
#[derive(Debug)]
pub(crate) struct SandboxCap {
    pub plan: CapPlan,
    /// Why `plan` is weaker than the machine's best (its cgroups could not be made), if so.
    pub warning: Option<String>,
    /// The cgroups `plan` names, if any; held for its `Drop` only.
    _cgroup: Option<SandboxCgroup>,
}

/// How the supervisor caps the processes of one sandbox's programs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum CapPlan {
    /// Program `i` goes into `<dir>/<i>`.
    Cgroup(PathBuf),
    Nproc,
    #[default]
    Supervision,
}

/// The cgroups of one sandbox: `<root>/socklab-<pid>-<n>/<program index>`. Dropping it kills
/// what is left in them and removes them.
#[derive(Debug)]
pub(crate) struct SandboxCgroup {
    dir: PathBuf,
    programs: usize,
}

impl SandboxCgroup {
    fn make(root: &Path, programs: &[ProgramPlan]) -> std::io::Result<SandboxCgroup> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = root.join(format!("{PREFIX}{}-{n}", std::process::id()));
        std::fs::create_dir(&dir)?;
        let cg = SandboxCgroup {
            dir,
            programs: programs.len(),
        };
        for (i, p) in programs.iter().enumerate() {
            let sub = cg.dir.join(i.to_string());
            std::fs::create_dir(&sub)?;
            std::fs::write(sub.join("pids.max"), p.limits.processes.to_string())?;
        }
        Ok(cg)
    }
}

impl Drop for SandboxCgroup {
    fn drop(&mut self) {
        for i in 0..self.programs {
            remove(&self.dir.join(i.to_string()));
        }
        remove(&self.dir);
    }
}

/// Kills every process in cgroup `dir` and removes it, waiting (a bounded while) for the
/// killed ones to be gone: the kernel refuses to remove a cgroup with tasks.
fn remove(dir: &Path) {
    if !dir.exists() {
        return;
    }
    for _ in 0..400 {
        if std::fs::remove_dir(dir).is_ok() {
            return;
        }
        let procs = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
        for pid in procs.lines().filter_map(|l| l.trim().parse::<i32>().ok()) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// Removes the cgroups of earlier runs whose harness is no longer running.
fn sweep_stale(root: &Path) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split('-').next())
            .and_then(|p| p.parse::<i32>().ok())
        else {
            continue;
        };
        if Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        if let Ok(subs) = std::fs::read_dir(e.path()) {
            for s in subs.flatten().filter(|s| s.path().is_dir()) {
                remove(&s.path());
            }
        }
        remove(&e.path());
    }
}

/// Our cgroup v2 directory, when it hands `pids` to children we may create.
fn v2_delegated() -> Option<PathBuf> {
    let ours = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let rel = ours.lines().find_map(|l| l.strip_prefix("0::"))?;
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    let mount = mounts.lines().find_map(|l| {
        let (left, right) = l.split_once(" - ")?;
        right
            .starts_with("cgroup2 ")
            .then(|| left.split(' ').nth(4).map(PathBuf::from))?
    })?;
    let dir = under(&mount, rel);
    let delegated = std::fs::read_to_string(dir.join("cgroup.subtree_control"))
        .is_ok_and(|c| c.split_whitespace().any(|w| w == "pids"));
    (delegated && can_make_child(&dir)).then_some(dir)
}

/// The cgroup v1 `pids` hierarchy, when we may make cgroups in it.
fn v1_writable() -> Option<PathBuf> {
    let root = PathBuf::from(V1_PIDS);
    // Our own cgroup in it: children go beside us, where our permissions are.
    let ours = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let rel = ours.lines().find_map(|l| {
        let mut f = l.splitn(3, ':');
        let (_, ctl, path) = (f.next()?, f.next()?, f.next()?);
        ctl.split(',').any(|c| c == "pids").then_some(path)
    })?;
    let dir = under(&root, rel);
    can_make_child(&dir).then_some(dir)
}

/// `base` joined with the cgroup path `rel` (`/` is `base` itself, without a trailing slash).
fn under(base: &Path, rel: &str) -> PathBuf {
    match rel.trim_matches('/') {
        "" => base.to_path_buf(),
        rel => base.join(rel),
    }
}

/// Whether a cgroup with a `pids.max` can be made under `dir` (made and removed at once).
fn can_make_child(dir: &Path) -> bool {
    let probe = dir.join(format!("{PREFIX}{}-probe", std::process::id()));
    let made = std::fs::create_dir(&probe).is_ok();
    let works = made && std::fs::write(probe.join("pids.max"), "max").is_ok();
    if made {
        let _ = std::fs::remove_dir(&probe);
    }
    works
}

/// RLIMIT_NPROC binds us in a user namespace: not for a host uid 0, which the kernel
/// exempts, nor before Linux 5.14, which counted it per host user (a cap on the sandbox would
/// then count every process of the user on the machine).
fn nproc_holds() -> bool {
    if nix::unistd::getuid().is_root() {
        return false;
    }
    let release = nix::sys::utsname::uname()
        .map(|u| u.release().to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut nums = release
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse::<u32>().ok());
    let (major, minor) = (nums.next().unwrap_or(0), nums.next().unwrap_or(0));
    (major, minor) >= (5, 14)
}

/// What `spawn` prepares before the fork, so the child only makes async-signal-safe calls.
pub(crate) struct Prepared {
    limits: ProgramLimits,
    /// The program's `cgroup.procs`, opened close-on-exec.
    procs: Option<File>,
    /// RLIMIT_NPROC to set: the cap plus the tasks the sandbox has already.
    nproc: Option<u64>,
}

/// Prepares program `index`'s limits under `cap`. Fails when its cgroup cannot be joined:
/// running it uncapped would be worse than not running it.
pub(crate) fn prepare(
    limits: ProgramLimits,
    cap: &CapPlan,
    index: usize,
) -> std::io::Result<Prepared> {
    let procs = match cap {
        CapPlan::Cgroup(dir) => {
            let name = format!("{index}/cgroup.procs");
            let file = in_cgroup(dir, &name, OFlag::O_WRONLY).map_err(|e| {
                std::io::Error::new(
                    e.kind(),
                    format!("cannot join {}: {e}", dir.join(&name).display()),
                )
            })?;
            Some(file)
        }
        _ => None,
    };
    let nproc = matches!(cap, CapPlan::Nproc).then(|| limits.processes + tasks_in_namespace());
    Ok(Prepared {
        limits,
        procs,
        nproc,
    })
}

impl Prepared {
    /// Between fork and exec: joins the cgroup and sets the rlimits. Only async-signal-safe
    /// calls (write, setrlimit).
    pub(crate) fn apply(&self) -> std::io::Result<()> {
        use nix::sys::resource::{setrlimit, Resource};
        if let Some(f) = &self.procs {
            write_all(f.as_raw_fd(), b"0")?;
        }
        let l = &self.limits;
        setrlimit(
            Resource::RLIMIT_CPU,
            l.cpu_seconds,
            l.cpu_seconds + CPU_GRACE_SECONDS,
        )?;
        setrlimit(Resource::RLIMIT_AS, l.memory_mib * MIB, l.memory_mib * MIB)?;
        setrlimit(Resource::RLIMIT_FSIZE, l.file_mib * MIB, l.file_mib * MIB)?;
        setrlimit(Resource::RLIMIT_NOFILE, l.open_files, l.open_files)?;
        if let Some(n) = self.nproc {
            setrlimit(Resource::RLIMIT_NPROC, n, n)?;
        }
        Ok(())
    }
}

/// `write(2)` of a whole small buffer, without allocating.
fn write_all(fd: RawFd, bytes: &[u8]) -> std::io::Result<()> {
    // SAFETY: write(2) on a descriptor we own, from a live buffer.
    let n = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
    if n < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Tasks (threads) in this PID namespace now: what RLIMIT_NPROC counts besides a program's.
fn tasks_in_namespace() -> u64 {
    super::procfs::all_pids()
        .into_iter()
        .map(|pid| std::fs::read_dir(format!("/proc/{pid}/task")).map_or(1, |d| d.count() as u64))
        .sum()
}

/// What a program's pids cgroup saw: forks refused at the cap, and the most tasks at once.
pub(crate) fn cgroup_record(cap: &CapPlan, index: usize) -> Option<(u64, Option<u64>)> {
    let CapPlan::Cgroup(dir) = cap else {
        return None;
    };
    let read = |name: &str| {
        let mut text = String::new();
        in_cgroup(dir, &format!("{index}/{name}"), OFlag::O_RDONLY)
            .and_then(|mut f| std::io::Read::read_to_string(&mut f, &mut text))
            .ok()
            .map(|_| text)
    };
    let events = read("pids.events")?;
    let refused = events
        .lines()
        .find_map(|l| l.strip_prefix("max ")?.trim().parse::<u64>().ok())
        .unwrap_or(0);
    let peak = read("pids.peak").and_then(|t| t.trim().parse::<u64>().ok());
    Some((refused, peak))
}

/// Opens `name` inside the sandbox's cgroup `dir`, close-on-exec. The supervisor no longer sees
/// the host's `/sys` once confined: it goes through the handle it kept on `dir` (see
/// `confine::host_dir`); programs are never shown `/sys`, so they cannot raise their own cap.
fn in_cgroup(dir: &std::path::Path, name: &str, flags: OFlag) -> std::io::Result<File> {
    let base = crate::sandbox::confine::host_dir(dir)?;
    let fd = nix::fcntl::openat(
        &base,
        name,
        flags | OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .map_err(std::io::Error::from)?;
    Ok(File::from(fd))
}

/// The program whose pids cgroup holds process `pid`, under a cgroup cap: `/proc/PID/cgroup`
/// names `<dir>/<index>` (cgroup v1's `pids` line, or v2's unified one).
pub(crate) fn program_of(cap: &CapPlan, pid: i32) -> Option<usize> {
    let CapPlan::Cgroup(dir) = cap else {
        return None;
    };
    let text = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    program_in(&text, dir.file_name()?.to_str()?)
}

/// The program index in a `/proc/PID/cgroup` text whose pids path ends in `<sandbox>/<index>`.
fn program_in(text: &str, sandbox: &str) -> Option<usize> {
    text.lines().find_map(|line| {
        let mut f = line.splitn(3, ':');
        let (_, controllers, path) = (f.next()?, f.next()?, f.next()?);
        if !(controllers.split(',').any(|c| c == "pids") || controllers.is_empty()) {
            return None;
        }
        let (parent, index) = path.trim_end().rsplit_once('/')?;
        let parent = parent.rsplit('/').next()?;
        (parent == sandbox).then(|| index.parse().ok()).flatten()
    })
}

/// This process's peak resident memory (`VmHWM`), in KiB.
pub(crate) fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

#[cfg(test)]
mod program_in_tests {
    #[test]
    fn a_process_is_placed_by_its_pids_cgroup_path() {
        let v1 = "9:name=systemd:/\n8:pids:/socklab-7-3/2\n4:memory:/x\n";
        assert_eq!(super::program_in(v1, "socklab-7-3"), Some(2));
        assert_eq!(super::program_in(v1, "socklab-7-4"), None);
        let v2 = "0::/user.slice/socklab-7-3/0\n";
        assert_eq!(super::program_in(v2, "socklab-7-3"), Some(0));
        assert_eq!(super::program_in("8:pids:/\n", "socklab-7-3"), None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    /// Writes `text` to an existing cgroup file.
    fn write_file(path: &Path, text: &str) -> std::io::Result<()> {
        std::fs::OpenOptions::new()
            .write(true)
            .open(path)?
            .write_all(text.as_bytes())
    }

    #[test]
    fn the_machine_gets_a_cap_and_a_cgroup_is_removed_with_what_runs_in_it() {
        let cap = ProcessCap::detect();
        assert!(!cap.describe().is_empty());
        let ProcessCap::Cgroup { root, .. } = &cap else {
            // Nothing to make on this machine; the describe line says why.
            return;
        };
        let prog = ProgramPlan {
            name: "p".into(),
            role: None,
            argv: vec!["sleep".into()],
            env: Vec::new(),
            stdin_prelude: Vec::new(),
            binding: crate::plan::Binding::Command,
            transport: None,
            host: 0,
            interpreter: None,
            limits: ProgramLimits {
                processes: 3,
                ..ProgramLimits::default()
            },
            record: None,
        };
        let cg = SandboxCgroup::make(root, &[prog]).expect("make the cgroup");
        let dir = cg.dir.clone();
        assert!(dir.starts_with(root));
        let max = std::fs::read_to_string(dir.join("0/pids.max")).unwrap();
        assert_eq!(max.trim(), "3");
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        write_file(&dir.join("0/cgroup.procs"), &child.id().to_string()).unwrap();
        drop(cg);
        assert!(!dir.exists(), "the cgroup was not removed");
        // Removing it killed the sleep.
        let status = child.wait().unwrap();
        assert!(!status.success());
    }

    #[test]
    fn a_stale_cgroup_of_a_gone_harness_is_swept() {
        let ProcessCap::Cgroup { root, .. } = ProcessCap::detect() else {
            return;
        };
        // A pid that is not running: past pid_max.
        let stale = root.join(format!("{PREFIX}4194399-0"));
        std::fs::create_dir(&stale).unwrap();
        std::fs::create_dir(stale.join("0")).unwrap();
        sweep_stale(&root);
        assert!(!stale.exists());
    }
}
