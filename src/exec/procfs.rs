//! What `/proc` says about the programs of a run: their process groups, CPU time and sockets.
//!
//! Readiness and diagnosis never touch the network: a server is ready when a socket owned by its
//! process group appears in `/proc/net/{tcp,tcp6,udp,udp6}`, which (through `/proc/self/net`)
//! shows the reader's own network namespace.

use std::collections::HashMap;
use std::fs;

use crate::evidence::SocketRecord;

/// Pids of every process in process group `pgid`.
pub(crate) fn group_pids(pgid: i32) -> Vec<i32> {
    let Ok(dir) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| stat_fields(pid).is_some_and(|f| f.pgrp == pgid))
        .collect()
}

struct StatFields {
    pgrp: i32,
    ticks: u64,
}

fn stat_fields(pid: i32) -> Option<StatFields> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may contain spaces and parentheses: fields start after the last ')'.
    let rest = &text[text.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    // After the name: state(0) ppid(1) pgrp(2) ... utime(11) stime(12)
    Some(StatFields {
        pgrp: f.get(2)?.parse().ok()?,
        ticks: f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?,
    })
}

/// CPU time used so far by the processes of a group, in nanoseconds where the kernel keeps
/// schedstats (exact), else in clock ticks scaled to nanoseconds.
pub(crate) fn group_cpu_ns(pgid: i32) -> u64 {
    group_pids(pgid)
        .into_iter()
        .map(|pid| {
            fs::read_to_string(format!("/proc/{pid}/schedstat"))
                .ok()
                .and_then(|s| s.split(' ').next()?.parse::<u64>().ok())
                .or_else(|| stat_fields(pid).map(|f| f.ticks * 10_000_000))
                .unwrap_or(0)
        })
        .sum()
}

/// Sockets owned by the processes of a group.
pub(crate) fn group_sockets(pgid: i32) -> Vec<SocketRecord> {
    let mut inodes = Vec::new();
    for pid in group_pids(pgid) {
        let Ok(fds) = fs::read_dir(format!("/proc/{pid}/fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            if let Ok(target) = fs::read_link(fd.path()) {
                let t = target.to_string_lossy();
                if let Some(inode) = t.strip_prefix("socket:[").and_then(|s| s.strip_suffix(']')) {
                    if let Ok(n) = inode.parse::<u64>() {
                        inodes.push(n);
                    }
                }
            }
        }
    }
    if inodes.is_empty() {
        return Vec::new();
    }
    let table = socket_table();
    let mut out: Vec<SocketRecord> = inodes
        .iter()
        .filter_map(|i| table.get(i).cloned())
        .collect();
    out.sort_by(|a, b| (&a.transport, a.port, &a.addr).cmp(&(&b.transport, b.port, &b.addr)));
    out.dedup();
    out
}

/// inode → socket, from the namespace's TCP and UDP tables (IPv4 and IPv6).
fn socket_table() -> HashMap<u64, SocketRecord> {
    let mut map = HashMap::new();
    for (file, transport, v6) in [
        ("/proc/net/tcp", "tcp", false),
        ("/proc/net/tcp6", "tcp", true),
        ("/proc/net/udp", "udp", false),
        ("/proc/net/udp6", "udp", true),
    ] {
        if let Ok(text) = fs::read_to_string(file) {
            for (inode, rec) in parse_table(&text, transport, v6) {
                map.insert(inode, rec);
            }
        }
    }
    map
}

/// Parses one `/proc/net/{tcp,udp}[6]` table. Pure, for tests.
pub(crate) fn parse_table(text: &str, transport: &str, v6: bool) -> Vec<(u64, SocketRecord)> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let (addr_hex, port_hex) = f.get(1)?.split_once(':')?;
            let state = u8::from_str_radix(f.get(3)?, 16).ok()?;
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
    fn parses_listen_and_bound_sockets() {
        let tcp = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:2EE0 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0\n";
        let rows = parse_table(tcp, "tcp", false);
        assert_eq!(rows.len(), 1);
        let (inode, rec) = &rows[0];
        assert_eq!(*inode, 12345);
        if cfg!(target_endian = "little") {
            assert_eq!(rec.addr, "127.0.0.1");
        }
        assert_eq!(rec.port, 12000);
        assert!(rec.listening);
        let udp6 = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n  1: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 777 2 0000000000000000 0\n";
        let rows = parse_table(udp6, "udp", true);
        assert_eq!(rows[0].1.addr, "::");
        assert_eq!(rows[0].1.port, 8080);
        assert!(rows[0].1.listening);
    }

    #[test]
    fn sees_own_listening_socket() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let pgid = nix::unistd::getpgrp().as_raw();
        let socks = group_sockets(pgid);
        assert!(
            socks
                .iter()
                .any(|s| s.port == port && s.listening && s.transport == "tcp"),
            "{socks:?}"
        );
    }
}
