//! Confinement: what a program of a namespaced run sees of the host's files (effects).
//!
//! A program sees a new root made for its run, as bubblewrap makes one, and nothing else of the
//! host's files:
//!
//! | path | what | how |
//! |---|---|---|
//! | `/usr`, `/bin`, `/sbin`, `/lib*` | the system's programs and libraries | read-only binds (symlinks where the host has them: merged `/usr`) |
//! | `/etc/{passwd,hosts,ld.so.cache,...}` | the few files programs and libc read ([`ETC`]) | read-only binds, one per file |
//! | the working copy (same path as on the host) | the fresh copy of the submission | read-write bind |
//! | [`View::read_only`] (same paths) | interpreter prefixes outside `/usr` (pyenv's `versions/3.11.7`), socklab's own executable (reference programs), lab documents | read-only binds |
//! | `/proc` | this run's PID namespace | fresh `proc` |
//! | `/dev` | `null`, `zero`, `full`, `random`, `urandom`, `fd`, `std*`, `pts`, `ptmx`, `shm` | tmpfs, device nodes bound from the host, a new `devpts` |
//! | `/tmp`, `/dev/shm` | scratch | private tmpfs, gone with the run |
//!
//! Everything else is absent: other students' submissions, the scenarios, the reports, the
//! user's home, the submission's original directory. Binds carry `nosuid`/`nodev`; the root
//! itself is a read-only tmpfs. Absent paths that lead to a shown one exist as empty
//! directories (`/root/.pyenv/versions` for pyenv's Python).
//!
//! **How.** The supervisor (PID 1 of the run) builds the root in its own mount namespace
//! ([`enter`]) while the sandbox is prepared ahead of its run, so none of it is on a scenario's
//! critical path (the harness makes the working copy at that time and sends its [`View`] as the
//! sandbox's first line): a tmpfs becomes the root (`pivot_root`), the host's root stays
//! reachable at `/oldroot` while everything is bound under `/newroot`, the new root is made
//! read-only, the supervisor `pivot_root`s into it and detaches the host's root, so that no path
//! leads back to the host's files. The supervisor itself moves in, rather than each program
//! `chroot`ing in its `pre_exec`: a chroot leaves the supervisor's `/proc/1/root` pointing at
//! the host's root, and a chrooted program with capabilities can leave its chroot. The
//! supervisor needs no host path afterwards: the capture file and the pipes to the harness are
//! open descriptors, and the harness removes an unused sandbox's capture file itself.
//!
//! Cost (`benches/confine.sh`, release build, 2 cores): about 2.5 ms of mount work per
//! sandbox, most of it detaching the host's root, which waits for an RCU grace period (up to
//! 20 ms on a loaded machine); prepared ahead, a scenario's own time does not include it.
//!
//! **Capabilities.** Programs still run as uid 0 of the user namespace (that is the only uid
//! mapped without a setuid helper), which on a machine where the harness runs as root is the
//! host's root for file permissions. So after the pivot the supervisor sets
//! `SECBIT_NOROOT` (locked), `no_new_privs` and an empty capability bounding set: every program
//! it starts has no capability at all, so it cannot remount a read-only bind read-write, mount
//! anything, or `ptrace` (or open `/proc/1/fd`, `/proc/1/root` of) the supervisor, which keeps
//! its own. A user namespace of its own gives a program nothing either: it cannot map itself to
//! root there (`unshare -r` fails), and mounts it inherits are locked by the kernel anyway
//! (read-only stays read-only). Without
//! capabilities a program could not bind ports below 1024, so the run's network namespace sets
//! `net.ipv4.ip_unprivileged_port_start` to 0: programs bind what they could before.
//!
//! The capability and securebits calls are `prctl`s through `libc`: nix wraps `no_new_privs`
//! but not the bounding set or the securebits, and the `caps` crate covers the bounding set but
//! not the securebits; four plain syscalls did not justify a dependency.
//!
//! **Environment** ([`program_env`]): nothing passes from the harness's environment; each
//! program gets the fixed list documented there, plus the scenario's own `env`.
//!
//! [`Isolation::Host`](super::Isolation::Host) has no mount namespace: there a program sees the
//! host's files as the user who runs socklab does. Only the environment is scrubbed.

use std::ffi::OsString;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Component, Path, PathBuf};

use nix::fcntl::OFlag;
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sys::statvfs::{statvfs, FsFlags};
use serde::{Deserialize, Serialize};

use crate::plan::{Binding, Plan};

/// Top-level system directories bound whole (read-only), or recreated as the host's symlink.
const SYSTEM: &[&str] = &["usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32"];

/// Entries of `/etc` a program may read: users and groups for `getpwuid`, name resolution of
/// `localhost` (`hosts`, `nsswitch.conf`, `host.conf`, `gai.conf`), protocol and service names,
/// the dynamic loader's cache, the time zone, Debian's alternatives symlinks and interpreter
/// configuration, MIME types (web servers). Not `shadow`, not `resolv.conf` (no network to
/// resolve on), not the host's name.
const ETC: &[&str] = &[
    "passwd",
    "group",
    "hosts",
    "host.conf",
    "nsswitch.conf",
    "gai.conf",
    "protocols",
    "services",
    "networks",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "localtime",
    "timezone",
    "alternatives",
    "mime.types",
    "os-release",
    "perl",
    // A browser as a scenario's client (the web lab's real-browser scenario): Debian's
    // `chromium` launcher sources every file of `chromium.d` and stops when it cannot;
    // fontconfig reads `fonts`. Configuration only, nothing of a user.
    "chromium",
    "chromium.d",
    "fonts",
];

/// `/etc` entries whose name starts so: interpreters' versioned configuration directories
/// (`python3.11`, `java-17-openjdk`).
const ETC_PREFIXES: &[&str] = &["python", "java"];

/// Device nodes bound from the host's `/dev`.
const DEVICES: &[&str] = &["null", "zero", "full", "random", "urandom"];

/// The fixed `PATH` of every program.
pub(crate) const SEARCH_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// Where the staging tmpfs is mounted, and where the host's root and the new root are in it.
const STAGE: &str = "/tmp";
const OLD: &str = "/oldroot";
const NEW: &str = "/newroot";

/// What a run's programs see besides the system's directories, chosen by the harness: their
/// working copy, read-write, and host paths shown read-only at the same place. Only what the
/// harness itself trusts, never a path a submission names.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct View {
    pub workdir: PathBuf,
    pub read_only: Vec<PathBuf>,
    /// Host directories the supervisor itself needs after it left the host's root (a run's
    /// pids cgroup, say): kept open for [`host_dir`], never shown to programs.
    #[serde(default)]
    pub held: Vec<PathBuf>,
}

/// The handles [`enter`] kept on [`View::held`], for the rest of the supervisor's life.
static HELD: std::sync::OnceLock<Vec<(PathBuf, OwnedFd)>> = std::sync::OnceLock::new();

/// A handle on host directory `dir`, to reach what is in it with `openat` (read, write, list):
/// the one [`enter`] kept if `dir` was in the view's `held` list, else `dir` opened now (host
/// isolation, or before [`enter`]; after it, a directory not held is not found). The handles
/// are close-on-exec, and programs cannot reach them through `/proc/1/fd` (they lack the
/// capabilities the supervisor has, so the kernel refuses them that access).
pub(crate) fn host_dir(dir: &Path) -> std::io::Result<OwnedFd> {
    if let Some((_, fd)) = HELD.get().and_then(|h| h.iter().find(|(p, _)| p == dir)) {
        return fd.try_clone();
    }
    let flags = OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
    nix::fcntl::open(dir, flags, nix::sys::stat::Mode::empty()).map_err(|e| {
        std::io::Error::new(
            std::io::Error::from(e).kind(),
            format!("cannot open {}: {e}", dir.display()),
        )
    })
}

/// What the programs of `plan` see, besides the system's directories and `workdir`: socklab's
/// own executable for reference programs and peers, the installation prefix of every interpreter socklab
/// resolved (a pyenv version directory), a scenario's own command, and the lab's `documents`.
/// A submission's own absolute command is not exposed: a manifest must not open a window onto
/// another folder. Reads the file system (symlinks of interpreters).
pub(crate) fn view(plan: &Plan, workdir: &Path, documents: &[PathBuf]) -> View {
    let mut paths: Vec<PathBuf> = documents.to_vec();
    for prog in &plan.programs {
        let Some(argv0) = prog.argv.first().map(PathBuf::from) else {
            continue;
        };
        if !argv0.is_absolute() {
            continue;
        }
        if prog.interpreter.is_some() {
            paths.push(install_prefix(&argv0));
            if let Ok(real) = std::fs::canonicalize(&argv0) {
                paths.push(install_prefix(&real));
            }
        } else if matches!(
            prog.binding,
            Binding::Reference | Binding::Peer { .. } | Binding::Command
        ) {
            paths.push(argv0);
        }
    }
    View {
        workdir: workdir.to_path_buf(),
        read_only: minimal(paths),
        held: Vec::new(),
    }
}

/// The installation an executable belongs to: `P` for `P/bin/NAME` (its libraries are in
/// `P/lib`), unless that is `/` or a top-level directory; else the executable alone. Pure.
pub(crate) fn install_prefix(exe: &Path) -> PathBuf {
    let prefix = exe
        .parent()
        .filter(|bin| bin.file_name().is_some_and(|n| n == "bin"))
        .and_then(Path::parent);
    match prefix {
        Some(p) if p.components().count() > 2 => p.to_path_buf(),
        _ => exe.to_path_buf(),
    }
}

/// Whether `path` is inside a system directory every program already sees. Pure.
pub(crate) fn is_system(path: &Path) -> bool {
    let mut parts = path.components();
    matches!(parts.next(), Some(Component::RootDir))
        && matches!(parts.next(), Some(Component::Normal(top)) if SYSTEM.iter().any(|s| top == *s))
}

/// Absolute, normal paths only (no `..`), without those inside a system directory or inside
/// another path of the list, sorted. Pure.
pub(crate) fn minimal(mut paths: Vec<PathBuf>) -> Vec<PathBuf> {
    paths.retain(|p| {
        p.is_absolute()
            && p.components()
                .all(|c| !matches!(c, Component::ParentDir | Component::CurDir))
            && !is_system(p)
    });
    paths.sort();
    paths.dedup();
    let mut kept: Vec<PathBuf> = Vec::new();
    for p in paths {
        if !kept.iter().any(|k| p.starts_with(k)) {
            kept.push(p);
        }
    }
    kept
}

/// The whole environment of a program (before the scenario's own `env`): nothing of the
/// harness's environment passes. `PATH` is [`SEARCH_PATH`] (interpreters are already resolved
/// to absolute paths), `HOME` is the working copy (the only place a program may write besides
/// `/tmp`), `LANG=C.UTF-8`, `TERM=dumb`, `PYTHONUNBUFFERED=1` (output reaches the transcript as
/// it is printed), `PYTHONDONTWRITEBYTECODE=1` (no `__pycache__` in the copy) and `SOCKLAB=1`.
/// Pure.
pub(crate) fn program_env(workdir: &Path) -> Vec<(&'static str, OsString)> {
    vec![
        ("PATH", SEARCH_PATH.into()),
        ("HOME", workdir.as_os_str().to_owned()),
        ("LANG", "C.UTF-8".into()),
        ("TERM", "dumb".into()),
        ("PYTHONUNBUFFERED", "1".into()),
        ("PYTHONDONTWRITEBYTECODE", "1".into()),
        ("SOCKLAB", "1".into()),
    ]
}

type Failed = String;

fn fail(what: impl std::fmt::Display, e: impl std::fmt::Display) -> Failed {
    format!("cannot confine the run: {what}: {e}")
}

/// Builds the programs' root for `view` and moves this process into it for good; from then on
/// every program it starts has no capability. Needs a private mount namespace (mounts made
/// private) and the capabilities of its user namespace.
pub(crate) fn enter(view: &View) -> Result<(), Failed> {
    if minimal(vec![view.workdir.clone()]).is_empty() {
        return Err(fail(
            view.workdir.display(),
            "not a working directory socklab made",
        ));
    }
    let nosuid_nodev = MsFlags::MS_NOSUID | MsFlags::MS_NODEV;
    tmpfs(STAGE, "mode=0755", nosuid_nodev)?;
    for dir in [OLD, NEW] {
        mkdir(&Path::new(STAGE).join(&dir[1..]))?;
    }
    nix::unistd::pivot_root(STAGE, &*format!("{STAGE}{OLD}"))
        .map_err(|e| fail("pivot_root into the staging tmpfs", e))?;
    nix::unistd::chdir("/").map_err(|e| fail("chdir /", e))?;
    tmpfs(NEW, "mode=0755", nosuid_nodev)?;

    let mut read_only = Vec::new();
    for name in SYSTEM {
        show_system(&Path::new("/").join(name), &mut read_only)?;
    }
    mkdir(&Path::new(NEW).join("etc"))?;
    let etc = std::fs::read_dir(format!("{OLD}/etc")).map_err(|e| fail("read /etc", e))?;
    let mut names: Vec<OsString> = etc.filter_map(|e| e.ok().map(|e| e.file_name())).collect();
    names.sort();
    for name in names {
        let text = name.to_string_lossy();
        if ETC.contains(&text.as_ref()) || ETC_PREFIXES.iter().any(|p| text.starts_with(p)) {
            show_system(&Path::new("/etc").join(&name), &mut read_only)?;
        }
    }
    make_dev()?;
    mkdir(&Path::new(NEW).join("proc"))?;
    mount(
        Some("proc"),
        &*format!("{NEW}/proc"),
        Some("proc"),
        nosuid_nodev | MsFlags::MS_NOEXEC,
        None::<&str>,
    )
    .map_err(|e| fail("mount /proc", e))?;
    mkdir(&Path::new(NEW).join("tmp"))?;
    tmpfs(&format!("{NEW}/tmp"), "mode=1777", nosuid_nodev)?;

    let host = nix::fcntl::open(
        OLD,
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .map_err(|e| fail("open the host's root", e))?;
    show_host(&host, &view.workdir, true, &mut read_only)?;
    for path in minimal(view.read_only.clone()) {
        show_host(&host, &path, false, &mut read_only)?;
    }
    let mut held = Vec::new();
    for dir in &view.held {
        let fd = open_in_host(&host, dir, OFlag::O_DIRECTORY)
            .map_err(|e| fail(format_args!("open {}", dir.display()), e))?;
        held.push((dir.clone(), fd));
    }
    let _ = HELD.set(held);
    drop(host);
    lock_submounts(&read_only)?;
    // Read-only from here: a program writes only to its copy, /tmp and /dev/shm.
    remount(Path::new(NEW), nosuid_nodev | MsFlags::MS_RDONLY)?;

    nix::unistd::chdir(NEW).map_err(|e| fail("chdir to the new root", e))?;
    // pivot_root(".", "."): the new root becomes `/` with the staging root stacked on it;
    // detaching the top of `.` takes the staging tmpfs and the host's root with it.
    nix::unistd::pivot_root(".", ".").map_err(|e| fail("pivot_root into the new root", e))?;
    umount2(".", MntFlags::MNT_DETACH).map_err(|e| fail("detach the host's root", e))?;
    nix::unistd::chdir("/").map_err(|e| fail("chdir /", e))?;
    // Programs bind what they could with CAP_NET_BIND_SERVICE. Best effort: a kernel without
    // this sysctl (before 4.11) only keeps programs from ports below 1024.
    let _ = std::fs::write("/proc/sys/net/ipv4/ip_unprivileged_port_start", "0");
    drop_privileges_of_programs()
}

fn tmpfs(at: &str, mode: &str, flags: MsFlags) -> Result<(), Failed> {
    mount(Some("tmpfs"), at, Some("tmpfs"), flags, Some(mode))
        .map_err(|e| fail(format_args!("mount a tmpfs on {at}"), e))
}

/// Shows system entry `path` in the new root: a symlink (merged `/usr`'s `/bin -> usr/bin`,
/// `/etc/localtime`) as the same symlink, resolved inside the new root; anything else as a
/// read-only bind. Missing entries are skipped.
fn show_system(path: &Path, read_only: &mut Vec<PathBuf>) -> Result<(), Failed> {
    let src = under(OLD, path);
    let Ok(meta) = std::fs::symlink_metadata(&src) else {
        return Ok(());
    };
    if meta.file_type().is_symlink() {
        let target = std::fs::read_link(&src).map_err(|e| fail(path.display(), e))?;
        return std::os::unix::fs::symlink(&target, under(NEW, path))
            .map_err(|e| fail(format_args!("symlink {}", path.display()), e));
    }
    bind(&src, path, meta.is_dir(), false, read_only)
}

/// Shows host path `path` at the same place in the new root, bound from what it resolves to
/// on the host: its symlinks, even absolute ones, are taken relative to the host's root
/// (`host`), not to the staging root (`openat2(RESOLVE_IN_ROOT)`; before Linux 5.6 plain
/// `openat`, and an absolute symlink on the way then fails to resolve). A missing read-only
/// path is skipped: the program that needs it then says so.
fn show_host(
    host: &OwnedFd,
    path: &Path,
    writable: bool,
    read_only: &mut Vec<PathBuf>,
) -> Result<(), Failed> {
    let fd = match open_in_host(host, path, OFlag::empty()) {
        Ok(fd) => fd,
        Err(nix::errno::Errno::ENOENT) if !writable => return Ok(()),
        Err(e) => return Err(fail(format_args!("open {}", path.display()), e)),
    };
    let meta = nix::sys::stat::fstat(&fd).map_err(|e| fail(path.display(), e))?;
    let is_dir = meta.st_mode & libc::S_IFMT == libc::S_IFDIR;
    // The descriptor's magic link in the new root's /proc names exactly what was opened.
    let src = PathBuf::from(format!("{NEW}/proc/self/fd/{}", fd.as_raw_fd()));
    bind(&src, path, is_dir, writable, read_only)
}

/// Opens host path `path` (`O_PATH` plus `extra`) as the host resolves it, relative to the
/// host's root `host` (see [`show_host`]).
fn open_in_host(host: &OwnedFd, path: &Path, extra: OFlag) -> nix::Result<OwnedFd> {
    use nix::fcntl::{openat, openat2, OpenHow, ResolveFlag};
    let flags = OFlag::O_PATH | OFlag::O_CLOEXEC | extra;
    let relative = path.strip_prefix("/").unwrap_or(path);
    let how = OpenHow::new()
        .flags(flags)
        .resolve(ResolveFlag::RESOLVE_IN_ROOT);
    match openat2(host, relative, how) {
        Err(nix::errno::Errno::ENOSYS) => {
            openat(host, relative, flags, nix::sys::stat::Mode::empty())
        }
        other => other,
    }
}

/// Binds `src` (with its submounts) at `path` in the new root, made first as a directory or an
/// empty file; `nosuid`, `nodev`, and read-only unless `writable`.
fn bind(
    src: &Path,
    path: &Path,
    is_dir: bool,
    writable: bool,
    read_only: &mut Vec<PathBuf>,
) -> Result<(), Failed> {
    let dst = under(NEW, path);
    if is_dir {
        std::fs::create_dir_all(&dst).map_err(|e| fail(dst.display(), e))?;
    } else {
        if let Some(parent) = dst.parent() {
            std::fs::create_dir_all(parent).map_err(|e| fail(parent.display(), e))?;
        }
        std::fs::File::create(&dst).map_err(|e| fail(dst.display(), e))?;
    }
    mount(
        Some(src),
        &dst,
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None::<&str>,
    )
    .map_err(|e| fail(format_args!("bind {}", path.display()), e))?;
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV;
    if writable {
        remount(&dst, flags)
    } else {
        read_only.push(dst.clone());
        remount(&dst, flags | MsFlags::MS_RDONLY)
    }
}

/// `/dev` on a tmpfs: the harmless device nodes, bound from the host (a user namespace cannot
/// `mknod`), the usual symlinks, a private `devpts` and `shm`.
fn make_dev() -> Result<(), Failed> {
    let dev = Path::new(NEW).join("dev");
    mkdir(&dev)?;
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC;
    mount(Some("tmpfs"), &dev, Some("tmpfs"), flags, Some("mode=0755"))
        .map_err(|e| fail("mount a tmpfs on /dev", e))?;
    for name in DEVICES {
        let src = Path::new(OLD).join("dev").join(name);
        let dst = dev.join(name);
        std::fs::File::create(&dst).map_err(|e| fail(dst.display(), e))?;
        mount(
            Some(&src),
            &dst,
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        )
        .map_err(|e| fail(format_args!("bind /dev/{name}"), e))?;
    }
    for (name, target) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
        ("ptmx", "pts/ptmx"),
    ] {
        std::os::unix::fs::symlink(target, dev.join(name))
            .map_err(|e| fail(format_args!("symlink /dev/{name}"), e))?;
    }
    mkdir(&dev.join("pts"))?;
    mount(
        Some("devpts"),
        &dev.join("pts"),
        Some("devpts"),
        flags,
        Some("newinstance,ptmxmode=0666,mode=620"),
    )
    .map_err(|e| fail("mount /dev/pts", e))?;
    mkdir(&dev.join("shm"))?;
    mount(
        Some("tmpfs"),
        &dev.join("shm"),
        Some("tmpfs"),
        flags | MsFlags::MS_NODEV,
        Some("mode=1777"),
    )
    .map_err(|e| fail("mount /dev/shm", e))?;
    remount(&dev, flags | MsFlags::MS_RDONLY)
}

/// A recursive bind brings the source's submounts along, writable as they were: make those
/// under a read-only bind (`read_only`, staging paths) read-only too.
fn lock_submounts(read_only: &[PathBuf]) -> Result<(), Failed> {
    // The new root's own /proc: the staging root has none.
    let text = std::fs::read_to_string(format!("{NEW}/proc/self/mountinfo"))
        .map_err(|e| fail("read /proc/self/mountinfo", e))?;
    for point in mount_points(&text) {
        if read_only
            .iter()
            .any(|ro| point != *ro && point.starts_with(ro))
        {
            remount(
                &point,
                MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
            )?;
        }
    }
    Ok(())
}

/// `path` (absolute) re-rooted under `root`. Pure.
fn under(root: &str, path: &Path) -> PathBuf {
    Path::new(root).join(path.strip_prefix("/").unwrap_or(path))
}

fn mkdir(path: &Path) -> Result<(), Failed> {
    std::fs::create_dir(path).map_err(|e| fail(format_args!("mkdir {}", path.display()), e))
}

/// Remounts the bind at `at` with `flags` added to those it has. A user namespace may not clear
/// the flags of a mount it inherited (`nosuid`, `nodev`, `noexec`, read-only, the atime mode),
/// so they are read back (`statvfs`) and kept.
fn remount(at: &Path, flags: MsFlags) -> Result<(), Failed> {
    let have = statvfs(at)
        .map_err(|e| fail(format_args!("statvfs {}", at.display()), e))?
        .flags();
    let all = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | flags | kept_flags(have);
    mount(None::<&str>, at, None::<&str>, all, None::<&str>)
        .map_err(|e| fail(format_args!("remount {}", at.display()), e))
}

/// The mount flags to keep on a remount of a mount that has `have`. Pure.
fn kept_flags(have: FsFlags) -> MsFlags {
    let pairs = [
        (FsFlags::ST_RDONLY, MsFlags::MS_RDONLY),
        (FsFlags::ST_NOSUID, MsFlags::MS_NOSUID),
        (FsFlags::ST_NODEV, MsFlags::MS_NODEV),
        (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
        (FsFlags::ST_NOATIME, MsFlags::MS_NOATIME),
        (FsFlags::ST_NODIRATIME, MsFlags::MS_NODIRATIME),
        (FsFlags::ST_RELATIME, MsFlags::MS_RELATIME),
    ];
    let mut out = MsFlags::empty();
    for (st, ms) in pairs {
        if have.contains(st) {
            out |= ms;
        }
    }
    // No atime flag at all means strictatime, which a remount must then say.
    if !have.intersects(FsFlags::ST_NOATIME | FsFlags::ST_RELATIME) {
        out |= MsFlags::MS_STRICTATIME;
    }
    out
}

/// The mount points of a `/proc/PID/mountinfo` text (field 5, octal escapes decoded). Pure.
pub(crate) fn mount_points(mountinfo: &str) -> Vec<PathBuf> {
    use std::os::unix::ffi::OsStringExt;
    mountinfo
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(|field| PathBuf::from(OsString::from_vec(unescape(field))))
        .collect()
}

/// Decodes mountinfo's `\NNN` octal escapes (space, tab, newline, backslash). Pure.
fn unescape(field: &str) -> Vec<u8> {
    let b = field.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let octal = b
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match octal {
            Some(d) if b[i] == b'\\' => {
                let v = d.iter().fold(0u32, |v, c| v * 8 + u32::from(c - b'0'));
                out.push(u8::try_from(v).unwrap_or(b'?'));
                i += 4;
            }
            _ => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    out
}

/// Securebits (linux/securebits.h): root gets no capabilities on exec, locked.
const SECBIT_NOROOT: libc::c_ulong = 1 << 0;
const SECBIT_NOROOT_LOCKED: libc::c_ulong = 1 << 1;
const SECBIT_NO_CAP_AMBIENT_RAISE: libc::c_ulong = 1 << 6;
const SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED: libc::c_ulong = 1 << 7;

/// Every program started from here on gets no capability: the supervisor keeps its own (it
/// does not exec), but root's execs grant none (`SECBIT_NOROOT`), the bounding set is empty
/// and `no_new_privs` ignores set-user-ID bits.
fn drop_privileges_of_programs() -> Result<(), Failed> {
    let bits = SECBIT_NOROOT
        | SECBIT_NOROOT_LOCKED
        | SECBIT_NO_CAP_AMBIENT_RAISE
        | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
    // SAFETY: prctl with integer arguments only.
    if unsafe { libc::prctl(libc::PR_SET_SECUREBITS, bits, 0, 0, 0) } != 0 {
        return Err(fail("set securebits", std::io::Error::last_os_error()));
    }
    for cap in 0.. {
        // SAFETY: prctl with integer arguments only; EINVAL past the last capability.
        if unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong, 0, 0, 0) } != 0 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EINVAL) && cap > 0 {
                break;
            }
            return Err(fail(format_args!("drop capability {cap}"), e));
        }
    }
    nix::sys::prctl::set_no_new_privs().map_err(|e| fail("set no_new_privs", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interpreter_is_shown_with_its_installation() {
        assert_eq!(
            install_prefix(Path::new("/root/.pyenv/versions/3.11.7/bin/python3")),
            Path::new("/root/.pyenv/versions/3.11.7")
        );
        assert_eq!(
            install_prefix(Path::new("/home/u/venv/bin/python3")),
            Path::new("/home/u/venv")
        );
        // Never `/` nor a whole top-level directory: then the executable alone.
        assert_eq!(
            install_prefix(Path::new("/opt/bin/python3")),
            Path::new("/opt/bin/python3")
        );
        assert_eq!(install_prefix(Path::new("/bin/sh")), Path::new("/bin/sh"));
        assert_eq!(
            install_prefix(Path::new("/work/target/debug/socklab")),
            Path::new("/work/target/debug/socklab")
        );
    }

    #[test]
    fn the_exposed_list_is_minimal_and_safe() {
        let paths = [
            "/root/.pyenv/versions/3.11.7",
            "/root/.pyenv/versions/3.11.7/bin/python3",
            "/usr/bin/python3",
            "/lib/x86_64-linux-gnu/libc.so.6",
            "relative/file",
            "/work/../etc/shadow",
            "/work/target/debug/socklab",
            "/root/.pyenv/versions/3.11.7",
        ];
        assert_eq!(
            minimal(paths.iter().map(PathBuf::from).collect()),
            vec![
                PathBuf::from("/root/.pyenv/versions/3.11.7"),
                PathBuf::from("/work/target/debug/socklab"),
            ]
        );
        assert!(is_system(Path::new("/usr")));
        assert!(is_system(Path::new("/lib64/ld-linux-x86-64.so.2")));
        assert!(!is_system(Path::new("/usrx/bin")));
        assert!(!is_system(Path::new("/root/.pyenv")));
    }

    #[test]
    fn the_environment_is_a_fixed_documented_list() {
        let env = program_env(Path::new("/tmp/socklab-run-x"));
        let names: Vec<&str> = env.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            names,
            [
                "PATH",
                "HOME",
                "LANG",
                "TERM",
                "PYTHONUNBUFFERED",
                "PYTHONDONTWRITEBYTECODE",
                "SOCKLAB"
            ]
        );
        assert!(env.contains(&("HOME", "/tmp/socklab-run-x".into())));
        assert!(env.contains(&("PATH", SEARCH_PATH.into())));
    }

    #[test]
    fn remounts_keep_the_flags_a_namespace_cannot_clear() {
        let have = FsFlags::ST_NOSUID | FsFlags::ST_NODEV | FsFlags::ST_RELATIME;
        assert_eq!(
            kept_flags(have),
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_RELATIME
        );
        assert_eq!(
            kept_flags(FsFlags::ST_RDONLY | FsFlags::ST_NOEXEC | FsFlags::ST_NOATIME),
            MsFlags::MS_RDONLY | MsFlags::MS_NOEXEC | MsFlags::MS_NOATIME
        );
        assert_eq!(kept_flags(FsFlags::empty()), MsFlags::MS_STRICTATIME);
    }

    #[test]
    fn a_host_directory_is_reached_through_its_handle() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("0")).unwrap();
        std::fs::write(dir.path().join("0/pids.max"), "64\n").unwrap();
        let handle = host_dir(dir.path()).unwrap();
        let fd = nix::fcntl::openat(
            &handle,
            "0/pids.max",
            OFlag::O_RDONLY | OFlag::O_CLOEXEC,
            nix::sys::stat::Mode::empty(),
        )
        .unwrap();
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::fs::File::from(fd), &mut text).unwrap();
        assert_eq!(text, "64\n");
        let missing = dir.path().join("gone");
        let err = host_dir(&missing).unwrap_err();
        assert!(err.to_string().contains("gone"), "{err}");
    }

    #[test]
    fn mount_points_are_read_from_mountinfo_with_escapes() {
        let text = "22 1 0:21 / / rw,relatime - ext4 /dev/vda rw\n\
                    23 22 0:5 / /proc rw - proc proc rw\n\
                    24 22 0:30 /x /tmp/a\\040b\\134c rw - tmpfs tmpfs rw\n";
        assert_eq!(
            mount_points(text),
            vec![
                PathBuf::from("/"),
                PathBuf::from("/proc"),
                PathBuf::from("/tmp/a b\\c")
            ]
        );
        assert_eq!(unescape("a\\01x"), b"a\\01x");
    }
}
