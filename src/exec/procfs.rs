//! What `/proc` says about the programs of a run: their processes, what each thread is waiting
//! for, their CPU time and their sockets.
//!
//! Readiness and diagnosis never touch the network: a server is ready when a socket owned by one
//! of its processes appears in `/proc/net/{tcp,tcp6,udp,udp6}`, which (through `/proc/self/net`)
//! shows the reader's own network namespace. Hang detection reads each thread's state
//! (`/proc/PID/task/TID/stat`), the system call it sleeps in (`.../syscall`, with `.../wchan` as
//! the fallback where that file cannot be read) and its scheduler counters (`.../schedstat`).
//!
//! The parsers (`parse_*`, [`classify`]) are pure, for tests; the readers return `None` or empty
//! for a process that ended meanwhile, which is always possible.

use std::collections::{BTreeSet, HashMap};
use std::fs;

use crate::evidence::SocketRecord;

/// Every pid in `/proc` (the run's PID namespace, or the host's in host isolation).
pub(crate) fn all_pids() -> Vec<i32> {
    let Ok(dir) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .collect()
}

/// The fields of `/proc/PID/stat` (or `/proc/PID/task/TID/stat`) the supervisor uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stat {
    pub comm: String,
    /// `R`, `S`, `D`, `Z`, `T`, ...
    pub state: char,
    pub ppid: i32,
    pub pgrp: i32,
    pub session: i32,
    /// Clock ticks of user plus system time (coarse: schedstat is preferred).
    pub ticks: u64,
    /// Start time in clock ticks since boot: with the pid, identifies a process.
    pub start: u64,
}

impl Stat {
    /// Ended: a zombie waiting to be reaped, or dead.
    pub(crate) fn ended(&self) -> bool {
        matches!(self.state, 'Z' | 'X' | 'x')
    }
}

/// Parses one `stat` line. The command name may contain spaces and parentheses: the fields
/// start after the last `)`.
pub(crate) fn parse_stat(text: &str) -> Option<Stat> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let comm = text.get(open + 1..close)?.to_string();
    let f: Vec<&str> = text.get(close + 2..)?.split(' ').collect();
    // After the name: state(0) ppid(1) pgrp(2) session(3) ... utime(11) stime(12) ...
    // starttime(19)
    Some(Stat {
        comm,
        state: f.first()?.chars().next()?,
        ppid: f.get(1)?.parse().ok()?,
        pgrp: f.get(2)?.parse().ok()?,
        session: f.get(3)?.parse().ok()?,
        ticks: f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?,
        start: f.get(19)?.parse().ok()?,
    })
}

pub(crate) fn stat(pid: i32) -> Option<Stat> {
    parse_stat(&fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// `/proc/.../schedstat`: nanoseconds on a CPU, nanoseconds waiting for one (runnable but not
/// running), and how many times the task was scheduled in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Schedstat {
    pub run_ns: u64,
    pub delay_ns: u64,
    pub runs: u64,
}

pub(crate) fn parse_schedstat(text: &str) -> Option<Schedstat> {
    let mut f = text.split_whitespace().map(|x| x.parse::<u64>().ok());
    Some(Schedstat {
        run_ns: f.next()??,
        delay_ns: f.next()??,
        runs: f.next()??,
    })
}

/// What `/proc/.../syscall` says: running, blocked outside a system call, or in one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Syscall {
    Running,
    Outside,
    In { nr: i64, args: [u64; 6] },
}

pub(crate) fn parse_syscall(text: &str) -> Option<Syscall> {
    let text = text.trim();
    if text == "running" {
        return Some(Syscall::Running);
    }
    let mut f = text.split_whitespace();
    let nr: i64 = f.next()?.parse().ok()?;
    if nr < 0 {
        return Some(Syscall::Outside);
    }
    let mut args = [0u64; 6];
    for a in &mut args {
        let hex = f.next()?;
        *a = u64::from_str_radix(hex.trim_start_matches("0x"), 16).ok()?;
    }
    Some(Syscall::In { nr, args })
}

/// What a file descriptor a thread reads from is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fd {
    Socket(u64),
    Stdin,
    Other,
}

/// What a waiting thread waits on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WaitOn {
    Socket(u64),
    Stdin,
    /// Several descriptors (poll, select, epoll), or unknown (wchan only).
    Any,
}

/// A thread asleep waiting for input: the call (`recvfrom`, `accept4`, `poll`, or the kernel
/// function from `wchan`) and what it waits on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InputWait {
    pub call: &'static str,
    pub on: WaitOn,
}

/// Input-waiting system calls of this architecture, and where their descriptor (or count of
/// descriptors) is.
#[derive(Clone, Copy)]
enum Arg {
    /// arg0 is the descriptor read from.
    Fd,
    /// The number of descriptors watched is in this argument; 0 is a plain sleep.
    Count(usize),
    Epoll,
}

fn input_syscall(nr: i64) -> Option<(&'static str, Arg)> {
    use libc::*;
    let table: &[(c_long, &'static str, Arg)] = &[
        (SYS_read, "read", Arg::Fd),
        (SYS_readv, "readv", Arg::Fd),
        (SYS_recvfrom, "recvfrom", Arg::Fd),
        (SYS_recvmsg, "recvmsg", Arg::Fd),
        (SYS_recvmmsg, "recvmmsg", Arg::Fd),
        (SYS_accept4, "accept4", Arg::Fd),
        (SYS_ppoll, "ppoll", Arg::Count(1)),
        (SYS_pselect6, "pselect6", Arg::Count(0)),
        (SYS_epoll_pwait, "epoll_pwait", Arg::Epoll),
        (SYS_epoll_pwait2, "epoll_pwait2", Arg::Epoll),
        (SYS_accept, "accept", Arg::Fd),
        #[cfg(target_arch = "x86_64")]
        (SYS_poll, "poll", Arg::Count(1)),
        #[cfg(target_arch = "x86_64")]
        (SYS_select, "select", Arg::Count(0)),
        #[cfg(target_arch = "x86_64")]
        (SYS_epoll_wait, "epoll_wait", Arg::Epoll),
    ];
    table
        .iter()
        // c_long is i64 here, but not on every target.
        .find(|(n, _, _)| {
            #[allow(clippy::useless_conversion)]
            let n = i64::from(*n);
            n == nr
        })
        .map(|(_, name, arg)| (*name, *arg))
}

/// Whether a thread blocked in system call `nr` with `args` waits for input: a receive or an
/// accept on a socket, a read of its standard input, or a poll/select/epoll wait on at least one
/// descriptor. A `read` of anything else (a file, another pipe) and a `select` with no
/// descriptors (a sleep) are not. `fd` says what a descriptor is. Pure.
pub(crate) fn classify(
    nr: i64,
    args: [u64; 6],
    mut fd: impl FnMut(i32) -> Fd,
) -> Option<InputWait> {
    let (call, arg) = input_syscall(nr)?;
    let on = match arg {
        Arg::Fd => match fd(args[0] as i32) {
            Fd::Socket(inode) => WaitOn::Socket(inode),
            Fd::Stdin => WaitOn::Stdin,
            Fd::Other => return None,
        },
        Arg::Count(i) if args[i] == 0 => return None,
        Arg::Count(_) | Arg::Epoll => WaitOn::Any,
    };
    Some(InputWait { call, on })
}

/// Kernel functions a thread sleeps in while waiting for input, for kernels where
/// `/proc/.../syscall` cannot be read. Names vary between kernel versions; this is the fallback.
const INPUT_WCHANS: &[&str] = &[
    "wait_woken",
    "sk_wait_data",
    "inet_csk_accept",
    "inet_csk_wait_for_connect",
    "__skb_wait_for_more_packets",
    "__skb_recv_datagram",
    "unix_stream_read_generic",
    "do_sys_poll",
    "do_select",
    "core_sys_select",
    "ep_poll",
    "do_epoll_wait",
    "pipe_read",
];

pub(crate) fn classify_wchan(wchan: &str) -> Option<InputWait> {
    INPUT_WCHANS
        .iter()
        .find(|w| **w == wchan.trim())
        .map(|w| InputWait {
            call: w,
            on: WaitOn::Any,
        })
}

/// One thread, as a hang detector sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TaskSample {
    pub tid: i32,
    pub state: char,
    pub wait: Option<InputWait>,
    pub sched: Schedstat,
    /// Clock ticks (where schedstat is missing).
    pub ticks: u64,
}

/// The threads of process `pid`; empty when it is gone.
pub(crate) fn tasks(pid: i32) -> Vec<TaskSample> {
    let Ok(dir) = fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    let mut fds: HashMap<i32, Fd> = HashMap::new();
    let mut out = Vec::new();
    for tid in dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok()) {
        let base = format!("/proc/{pid}/task/{tid}");
        let Some(st) = fs::read_to_string(format!("{base}/stat"))
            .ok()
            .and_then(|t| parse_stat(&t))
        else {
            continue;
        };
        let sched = fs::read_to_string(format!("{base}/schedstat"))
            .ok()
            .and_then(|t| parse_schedstat(&t))
            .unwrap_or_default();
        let wait = if matches!(st.state, 'S' | 'D') {
            match fs::read_to_string(format!("{base}/syscall"))
                .ok()
                .and_then(|t| parse_syscall(&t))
            {
                Some(Syscall::In { nr, args }) => classify(nr, args, |fd| {
                    *fds.entry(fd).or_insert_with(|| fd_kind(pid, fd))
                }),
                Some(_) => None,
                None => fs::read_to_string(format!("{base}/wchan"))
                    .ok()
                    .and_then(|w| classify_wchan(&w)),
            }
        } else {
            None
        };
        out.push(TaskSample {
            tid,
            state: st.state,
            wait,
            sched,
            ticks: st.ticks,
        });
    }
    out
}

fn fd_kind(pid: i32, fd: i32) -> Fd {
    let link = |n: i32| fs::read_link(format!("/proc/{pid}/fd/{n}")).ok();
    let Some(target) = link(fd) else {
        return Fd::Other;
    };
    if let Some(inode) = socket_inode(&target.to_string_lossy()) {
        return Fd::Socket(inode);
    }
    if fd == 0 || link(0).is_some_and(|stdin| stdin == target) {
        Fd::Stdin
    } else {
        Fd::Other
    }
}

fn socket_inode(link: &str) -> Option<u64> {
    link.strip_prefix("socket:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// Socket inodes held by process `pid`.
fn socket_inodes(pid: i32) -> Vec<u64> {
    let Ok(fds) = fs::read_dir(format!("/proc/{pid}/fd")) else {
        return Vec::new();
    };
    fds.flatten()
        .filter_map(|fd| socket_inode(&fs::read_link(fd.path()).ok()?.to_string_lossy()))
        .collect()
}

/// The TCP and UDP sockets held by each of `pids`, read against one copy of the tables.
pub(crate) fn sockets_by_pid(pids: &[i32]) -> Vec<(i32, Vec<SocketRecord>)> {
    let held: Vec<(i32, Vec<u64>)> = pids.iter().map(|&p| (p, socket_inodes(p))).collect();
    if held.iter().all(|(_, i)| i.is_empty()) {
        return pids.iter().map(|&p| (p, Vec::new())).collect();
    }
    let table = socket_table(pids);
    held.into_iter()
        .map(|(pid, inodes)| {
            let mut socks: Vec<SocketRecord> = inodes
                .iter()
                .filter_map(|i| table.get(i).cloned())
                .collect();
            sort_sockets(&mut socks);
            (pid, socks)
        })
        .collect()
}

/// The TCP and UDP sockets held by any of `pids`, sorted, without duplicates.
pub(crate) fn sockets(pids: &[i32]) -> Vec<SocketRecord> {
    let mut all: Vec<SocketRecord> = sockets_by_pid(pids)
        .into_iter()
        .flat_map(|(_, s)| s)
        .collect();
    sort_sockets(&mut all);
    all
}

fn sort_sockets(socks: &mut Vec<SocketRecord>) {
    socks.sort_by(|a, b| (&a.transport, a.port, &a.addr).cmp(&(&b.transport, b.port, &b.addr)));
    socks.dedup();
}

/// The socket with this inode, if it is a TCP or UDP socket of the namespace of `pids` (the
/// program that holds it).
pub(crate) fn socket(inode: u64, pids: &[i32]) -> Option<SocketRecord> {
    socket_table(pids).remove(&inode)
}

/// inode → socket, from the TCP and UDP tables (IPv4 and IPv6) of `pids`' namespaces.
fn socket_table(pids: &[i32]) -> HashMap<u64, SocketRecord> {
    tables(pids)
        .into_iter()
        .map(|(inode, rec, _)| (inode, rec))
        .collect()
}

/// Every row of the TCP and UDP tables (IPv4 and IPv6), with its receive queue, of each
/// network namespace `pids` are in: the run's own, or in a topology each program's host's
/// (`/proc/PID/net` shows the tables of PID's namespace; `/proc/net`, ours). Socket inodes
/// are unique across namespaces, so the rows of several never clash.
fn tables(pids: &[i32]) -> Vec<(u64, SocketRecord, u64)> {
    let ours = fs::read_link("/proc/self/ns/net").ok();
    let mut dirs = Vec::new();
    let mut seen = BTreeSet::new();
    for &pid in pids {
        let Ok(ns) = fs::read_link(format!("/proc/{pid}/ns/net")) else {
            continue;
        };
        if seen.insert(ns.clone()) {
            dirs.push(if Some(&ns) == ours.as_ref() {
                "/proc/net".to_string()
            } else {
                format!("/proc/{pid}/net")
            });
        }
    }
    if dirs.is_empty() {
        dirs.push("/proc/net".to_string());
    }
    let mut rows = Vec::new();
    for dir in dirs {
        for (file, transport, v6) in [
            ("tcp", "tcp", false),
            ("tcp6", "tcp", true),
            ("udp", "udp", false),
            ("udp6", "udp", true),
        ] {
            if let Ok(text) = fs::read_to_string(format!("{dir}/{file}")) {
                rows.extend(parse_rows(&text, transport, v6));
            }
        }
    }
    rows
}

/// Whether any of `pids` holds a socket with input waiting to be read: bytes or datagrams in
/// its receive queue, or (a listening TCP socket) connections waiting to be accepted.
pub(crate) fn pending_input(pids: &[i32]) -> bool {
    let held: Vec<u64> = pids.iter().flat_map(|&p| socket_inodes(p)).collect();
    !held.is_empty()
        && tables(pids)
            .iter()
            .any(|(inode, _, rx)| *rx > 0 && held.contains(inode))
}

/// Bytes the TCP socket at `local` connected to `remote` has received and its program not read
/// yet (its receive queue), as this network namespace's `/proc/net/tcp[6]` shows it; `None`
/// when there is no such socket here (closed, or in another namespace).
pub(crate) fn tcp_unread(local: std::net::SocketAddr, remote: std::net::SocketAddr) -> Option<u64> {
    [("/proc/net/tcp", false), ("/proc/net/tcp6", true)]
        .iter()
        .find_map(|(path, v6)| unread_in(&std::fs::read_to_string(path).ok()?, *v6, local, remote))
}

/// [`tcp_unread`] in one table's text. Pure.
fn unread_in(
    text: &str,
    v6: bool,
    local: std::net::SocketAddr,
    remote: std::net::SocketAddr,
) -> Option<u64> {
    let is = |field: &str, want: std::net::SocketAddr| {
        field.split_once(':').is_some_and(|(addr, port)| {
            u16::from_str_radix(port, 16) == Ok(want.port())
                // The kernel's v4-mapped v6 addresses read as v4 (`decode_addr`), so do ours.
                && decode_addr(addr, v6) == Some(want.ip().to_canonical().to_string())
        })
    };
    text.lines().skip(1).find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        if !(is(f.get(1)?, local) && is(f.get(2)?, remote)) {
            return None;
        }
        u64::from_str_radix(f.get(4)?.split_once(':')?.1, 16).ok()
    })
}

/// Rows of one `/proc/net/{tcp,udp}[6]` table: inode, socket, receive queue (bytes; for a listening TCP socket, the
/// connections waiting to be accepted). Pure.
fn parse_rows(text: &str, transport: &str, v6: bool) -> Vec<(u64, SocketRecord, u64)> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let (addr_hex, port_hex) = f.get(1)?.split_once(':')?;
            let state = u8::from_str_radix(f.get(3)?, 16).ok()?;
            let rx = u64::from_str_radix(f.get(4)?.split_once(':')?.1, 16).ok()?;
            let inode: u64 = f.get(9)?.parse().ok()?;
            let port = u16::from_str_radix(port_hex, 16).ok()?;
            // TCP 0x0A is LISTEN; for UDP 0x07 (TCP_CLOSE) means bound and not connected.
            let listening = match transport {
                "tcp" => state == 0x0A,
                _ => state == 0x07,
            };
            Some((
                inode,
                SocketRecord {
                    transport: transport.to_string(),
                    addr: decode_addr(addr_hex, v6)?,
                    port,
                    listening,
                },
                rx,
            ))
        })
        .collect()
}

/// The kernel prints addresses as 32-bit words in host byte order.
fn decode_addr(hex: &str, v6: bool) -> Option<String> {
    let words: Vec<u32> = (0..hex.len() / 8)
        .map(|i| u32::from_str_radix(&hex[i * 8..i * 8 + 8], 16).ok())
        .collect::<Option<_>>()?;
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_ne_bytes()).collect();
    if v6 {
        let arr: [u8; 16] = bytes.try_into().ok()?;
        let ip = std::net::Ipv6Addr::from(arr);
        Some(match ip.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => ip.to_string(),
        })
    } else {
        let arr: [u8; 4] = bytes.try_into().ok()?;
        Some(std::net::Ipv4Addr::from(arr).to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unread_bytes_of_one_connection_are_read_from_its_row() {
        let tcp = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:2EE0 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0\n   1: 0100007F:2EE0 0100007F:9C40 01 00000000:00000003 00:00000000 00000000     0        0 12346 1 0000000000000000 100 0 0 10 0\n";
        let server: std::net::SocketAddr = "127.0.0.1:12000".parse().unwrap();
        let client: std::net::SocketAddr = "127.0.0.1:40000".parse().unwrap();
        assert_eq!(unread_in(tcp, false, server, client), Some(3));
        assert_eq!(unread_in(tcp, false, client, server), None);
        let other: std::net::SocketAddr = "127.0.0.1:40001".parse().unwrap();
        assert_eq!(unread_in(tcp, false, server, other), None);
    }

    #[test]
    fn parses_listen_and_bound_sockets() {
        let tcp = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:2EE0 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0\n";
        let rows = parse_rows(tcp, "tcp", false);
        assert_eq!(rows.len(), 1);
        let (inode, rec, _) = &rows[0];
        assert_eq!(*inode, 12345);
        if cfg!(target_endian = "little") {
            assert_eq!(rec.addr, "127.0.0.1");
        }
        assert_eq!(rec.port, 12000);
        assert!(rec.listening);
        let udp6 = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n  1: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 777 2 0000000000000000 0\n";
        let rows = parse_rows(udp6, "udp", true);
        assert_eq!(rows[0].1.addr, "::");
        assert_eq!(rows[0].1.port, 8080);
        assert!(rows[0].1.listening);
        let queued = udp6.replace("00000000:00000000 00:", "00000000:00000540 00:");
        assert_eq!(parse_rows(&queued, "udp", true)[0].2, 0x540);
        assert_eq!(parse_rows(udp6, "udp", true)[0].2, 0);
    }

    #[test]
    fn parses_stat_with_a_name_full_of_parentheses() {
        let line = "42 (my (odd) prog) S 1 42 7 0 -1 4194560 100 0 0 0 12 3 0 0 25 5 1 0 \
                    98765 10000 200 18446744073709551615";
        let st = parse_stat(line).unwrap();
        assert_eq!(st.comm, "my (odd) prog");
        assert_eq!((st.state, st.ppid, st.pgrp, st.session), ('S', 1, 42, 7));
        assert_eq!(st.ticks, 15);
        assert_eq!(st.start, 98765);
        assert!(!st.ended());
        assert!(parse_stat("42 (x) Z 1").is_none());
    }

    #[test]
    fn parses_schedstat_and_syscall() {
        assert_eq!(
            parse_schedstat("46233896 32140172 28\n"),
            Some(Schedstat {
                run_ns: 46233896,
                delay_ns: 32140172,
                runs: 28
            })
        );
        assert_eq!(parse_syscall("running\n"), Some(Syscall::Running));
        assert_eq!(parse_syscall("-1 0x7ffd 0x7f35\n"), Some(Syscall::Outside));
        let s = parse_syscall(
            "45 0x3 0x7f354bf99d30 0xa 0x0 0x7ffd4432ae30 0x7ffd4432ae24 0x7ffd4432ade8 0x7f35\n",
        );
        assert_eq!(
            s,
            Some(Syscall::In {
                nr: 45,
                args: [3, 0x7f354bf99d30, 10, 0, 0x7ffd4432ae30, 0x7ffd4432ae24]
            })
        );
    }

    #[test]
    fn input_waits_are_receives_accepts_polls_and_reads_of_stdin() {
        #[allow(clippy::useless_conversion)]
        let nr = |n: libc::c_long| i64::from(n);
        let sock = |fd: i32| {
            if fd == 3 {
                Fd::Socket(99)
            } else if fd == 0 {
                Fd::Stdin
            } else {
                Fd::Other
            }
        };
        let args = |a0: u64, a1: u64| [a0, a1, 0, 0, 0, 0];
        let w = classify(nr(libc::SYS_recvfrom), args(3, 0), sock).unwrap();
        assert_eq!((w.call, w.on), ("recvfrom", WaitOn::Socket(99)));
        let w = classify(nr(libc::SYS_accept4), args(3, 0), sock).unwrap();
        assert_eq!(w.on, WaitOn::Socket(99));
        let w = classify(nr(libc::SYS_read), args(0, 0), sock).unwrap();
        assert_eq!(w.on, WaitOn::Stdin);
        // A read of a file or another pipe is not waiting for input.
        assert_eq!(classify(nr(libc::SYS_read), args(5, 0), sock), None);
        // ppoll on one descriptor waits; on none it is a sleep.
        assert!(classify(nr(libc::SYS_ppoll), args(0x7ff0, 1), sock).is_some());
        assert_eq!(classify(nr(libc::SYS_ppoll), args(0, 0), sock), None);
        assert_eq!(classify(nr(libc::SYS_pselect6), args(0, 0), sock), None);
        assert!(classify(nr(libc::SYS_epoll_pwait), args(4, 0), sock).is_some());
        assert_eq!(
            classify(nr(libc::SYS_clock_nanosleep), args(0, 0), sock),
            None
        );
        assert_eq!(classify(nr(libc::SYS_wait4), args(0, 0), sock), None);
        assert!(classify_wchan("sk_wait_data\n").is_some());
        assert_eq!(classify_wchan("hrtimer_nanosleep"), None);
    }

    #[test]
    fn sees_own_listening_socket() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let socks = sockets(&[std::process::id() as i32]);
        assert!(
            socks
                .iter()
                .any(|s| s.port == port && s.listening && s.transport == "tcp"),
            "{socks:?}"
        );
    }
}
