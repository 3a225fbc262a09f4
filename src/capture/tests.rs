//! Capture tests that need AF_PACKET. They never capture the host's traffic: each test
//! re-executes this test binary under `unshare -rn` (a fresh user + network namespace, where
//! the test is root and `lo` is its own), with an environment variable telling the inner run to
//! do the real work; the outer run asserts the inner exit status and, where asked, checks the
//! file with tshark (outside the namespace: reading a file needs no privilege).

use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use etherparse::{SlicedPacket, TransportSlice};

use super::{set_link_up, Capture, LINKTYPE_ETHERNET, RING_MIB, SNAPLEN};

/// Set in the inner run: `IFACES|DIR`, interfaces separated by commas.
const INNER_ENV: &str = "SOCKLAB_CAPTURE_TEST_INNER";

/// The inner run's job, if this process is one.
fn inner_job() -> Option<(Vec<String>, PathBuf)> {
    let value = std::env::var(INNER_ENV).ok()?;
    let (ifaces, dir) = value.split_once('|')?;
    Some((
        ifaces.split(',').map(str::to_string).collect(),
        PathBuf::from(dir),
    ))
}

/// Runs test `name` again under `unshare -rn` with `ifaces`; returns the directory holding
/// the capture file and the inner run's packet count.
fn run_in_namespace(name: &str, ifaces: &str) -> (tempfile::TempDir, u64) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let exe = std::env::current_exe().expect("path of the test binary");
    let out = Command::new("unshare")
        .args(["--user", "--map-root-user", "--net", "--"])
        .arg(exe)
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(INNER_ENV, format!("{ifaces}|{}", dir.path().display()))
        .output()
        .expect("cannot run unshare (util-linux): it is required by the capture tests");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "inner run in a new user+net namespace failed ({}); if unshare itself failed, \
         unprivileged user namespaces are disabled on this machine\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        out.status
    );
    // Guards against an inner run that matched no test and so passed without doing anything.
    assert!(
        stdout.contains("1 passed"),
        "inner run ran no test:\n{stdout}"
    );
    let count = std::fs::read_to_string(dir.path().join("packets"))
        .expect("inner run wrote its packet count");
    let count = count.trim().parse().expect("packet count is a number");
    (dir, count)
}

fn capture_file(dir: &Path, ifaces: usize) -> PathBuf {
    dir.join(if ifaces == 1 {
        "capture.pcap"
    } else {
        "capture.pcapng"
    })
}

/// The inner run: traffic on the namespace's loopback, captured and checked.
fn capture_loopback_traffic(ifaces: &[String], dir: &Path) {
    set_link_up("lo").expect("bring lo up");
    let names: Vec<&str> = ifaces.iter().map(String::as_str).collect();
    let path = capture_file(dir, names.len());
    let capture = Capture::start(&names, &path, RING_MIB).expect("start capture");

    let server_port = tcp_round_trip();
    let closed_port = udp_to_closed_port();
    wait_until_quiet(&capture);

    let stats = capture.stop().expect("stop capture");
    let bytes = std::fs::read(&path).expect("read capture file");
    let frames = if names.len() == 1 {
        parse_pcap(&bytes)
    } else {
        parse_pcapng(&bytes, names.len())
    };
    assert_eq!(frames.len() as u64, stats.packets, "file vs stats");
    assert_eq!(stats.dropped, 0, "kernel drops");
    let wire: u64 = frames.iter().map(|f| f.data.len() as u64).sum();
    assert_eq!(stats.bytes, wire, "small packets are kept whole");
    for iface in 0..names.len() {
        let mine: Vec<&[u8]> = frames
            .iter()
            .filter(|f| f.iface == iface)
            .map(|f| &f.data[..])
            .collect();
        check_loopback_frames(&mine, server_port, closed_port);
    }
    std::fs::write(dir.join("packets"), stats.packets.to_string()).expect("write count");
}

/// One TCP exchange with full FIN teardown; returns the server's port.
fn tcp_round_trip() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("local addr").port();
    let server = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().expect("accept");
        let mut buf = [0u8; 16];
        let n = conn.read(&mut buf).expect("server read");
        conn.write_all(&buf[..n].to_ascii_uppercase())
            .expect("server write");
        assert_eq!(conn.read(&mut buf).expect("client FIN"), 0);
    });
    let mut client = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    client.write_all(b"hello").expect("client write");
    let mut reply = [0u8; 5];
    client.read_exact(&mut reply).expect("client read");
    assert_eq!(&reply, b"HELLO");
    client.shutdown(Shutdown::Write).expect("client FIN");
    server.join().expect("server thread");
    assert_eq!(client.read(&mut [0u8; 1]).expect("server FIN"), 0);
    port
}

/// One datagram to a port nothing listens on; returns that port.
fn udp_to_closed_port() -> u16 {
    let port = UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("free port")
        .port();
    let client = UdpSocket::bind("127.0.0.1:0").expect("bind client");
    client.send_to(b"lost", ("127.0.0.1", port)).expect("send");
    port
}

/// Waits until the packet count stops moving, as the harness does, instead of sleeping.
fn wait_until_quiet(capture: &Capture) {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut last = capture.packets_seen();
    let mut quiet_since = Instant::now();
    while Instant::now() < deadline && quiet_since.elapsed() < Duration::from_millis(150) {
        std::thread::sleep(Duration::from_millis(10));
        let now = capture.packets_seen();
        if now != last {
            last = now;
            quiet_since = Instant::now();
        }
    }
    assert!(last >= 10, "only {last} packets seen live");
}

struct Frame {
    iface: usize,
    data: Vec<u8>,
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
}

/// How far back a packet's timestamp may be from the latest before it (see `parse_pcap`).
const MAX_BACKSTEP_NS: u64 = 50_000_000;

fn parse_pcap(bytes: &[u8]) -> Vec<Frame> {
    assert!(bytes.len() >= 24, "pcap header");
    assert_eq!(u32_at(bytes, 0), 0xa1b2_3c4d, "nanosecond magic");
    assert_eq!(u32_at(bytes, 16), SNAPLEN, "snaplen");
    assert_eq!(u32_at(bytes, 20), u32::from(LINKTYPE_ETHERNET), "link type");
    let mut frames = Vec::new();
    let mut at = 24;
    // Kernel timestamps of packets sent a moment ago: within a minute of now.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_nanos() as u64;
    let mut last_ts = now - 60_000_000_000;
    while at < bytes.len() {
        let ts = u64::from(u32_at(bytes, at)) * 1_000_000_000 + u64::from(u32_at(bytes, at + 4));
        assert!(u32_at(bytes, at + 4) < 1_000_000_000, "nanoseconds field");
        // Packets are stamped as they enter the stack, on whichever CPU sent them, and reach
        // the capture in the order the CPUs deliver them: a packet may carry a stamp a few
        // microseconds older than its predecessor's (any capture tool records the same), but
        // never a stamp from much earlier.
        assert!(
            ts + MAX_BACKSTEP_NS >= last_ts,
            "a kernel timestamp {} ns before its predecessor's, at offset {at}",
            last_ts - ts
        );
        last_ts = last_ts.max(ts);
        let caplen = u32_at(bytes, at + 8) as usize;
        assert_eq!(caplen, u32_at(bytes, at + 12) as usize, "whole packets");
        frames.push(Frame {
            iface: 0,
            data: bytes[at + 16..at + 16 + caplen].to_vec(),
        });
        at += 16 + caplen;
    }
    frames
}

fn parse_pcapng(bytes: &[u8], ifaces: usize) -> Vec<Frame> {
    let mut frames = Vec::new();
    let mut idbs = 0;
    let mut at = 0;
    while at < bytes.len() {
        let (kind, len) = (u32_at(bytes, at), u32_at(bytes, at + 4) as usize);
        assert_eq!(u32_at(bytes, at + len - 4) as usize, len, "block length");
        match kind {
            0x0a0d_0d0a => assert_eq!(at, 0, "section header first"),
            1 => {
                assert_eq!(u32_at(bytes, at + 8) & 0xffff, u32::from(LINKTYPE_ETHERNET));
                assert_eq!(u32_at(bytes, at + 12), SNAPLEN);
                idbs += 1;
            }
            6 => {
                let iface = u32_at(bytes, at + 8) as usize;
                assert!(iface < idbs, "packet of an undeclared interface");
                let caplen = u32_at(bytes, at + 20) as usize;
                frames.push(Frame {
                    iface,
                    data: bytes[at + 28..at + 28 + caplen].to_vec(),
                });
            }
            other => panic!("unexpected block type {other:#x}"),
        }
        at += len;
    }
    assert_eq!(idbs, ifaces, "one interface block per interface");
    frames
}

/// What one interface's frames must show: each packet once, the handshake, the payloads both
/// ways, the FIN teardown, and the datagram with its ICMP port unreachable.
fn check_loopback_frames(frames: &[&[u8]], server: u16, closed: u16) {
    let distinct: HashSet<&[u8]> = frames.iter().copied().collect();
    assert_eq!(
        distinct.len(),
        frames.len(),
        "duplicate frames on one interface"
    );
    let (mut syn, mut syn_ack, mut ack, mut fin, mut rst) = (0, 0, 0, 0, 0);
    let (mut hello, mut upper, mut datagram, mut unreachable) = (0, 0, 0, 0);
    for frame in frames {
        let packet = SlicedPacket::from_ethernet(frame).expect("ethernet frame");
        match packet.transport {
            Some(TransportSlice::Tcp(tcp)) => {
                let to_server = tcp.destination_port() == server;
                match (tcp.syn(), tcp.ack()) {
                    (true, false) if to_server => syn += 1,
                    (true, true) if !to_server => syn_ack += 1,
                    (false, true) if to_server && syn_ack == 1 && ack == 0 => {
                        assert!(tcp.payload().is_empty(), "third packet is the bare ACK");
                        ack += 1;
                    }
                    _ => {}
                }
                fin += usize::from(tcp.fin());
                rst += usize::from(tcp.rst());
                hello += usize::from(to_server && tcp.payload() == b"hello");
                upper += usize::from(!to_server && tcp.payload() == b"HELLO");
            }
            Some(TransportSlice::Udp(udp)) => {
                assert_eq!(udp.destination_port(), closed);
                assert_eq!(udp.payload(), b"lost");
                datagram += 1;
            }
            Some(TransportSlice::Icmpv4(icmp)) => {
                // Destination unreachable (3), port unreachable (3).
                assert_eq!((icmp.type_u8(), icmp.code_u8()), (3, 3));
                unreachable += 1;
            }
            _ => panic!("unexpected frame {frame:02x?}"),
        }
    }
    assert_eq!(
        (syn, syn_ack, ack),
        (1, 1, 1),
        "three-way handshake, once each"
    );
    assert_eq!((hello, upper), (1, 1), "payload once each way");
    assert_eq!((fin, rst), (2, 0), "FIN teardown both ways, no RST");
    assert_eq!(
        (datagram, unreachable),
        (1, 1),
        "datagram and ICMP port unreachable"
    );
}

/// tshark's packet count for `path`, with `filter` if given. Fails, never skips, without tshark.
fn tshark_count(path: &Path, filter: Option<&str>) -> u64 {
    let mut cmd = Command::new("tshark");
    cmd.arg("-r")
        .arg(path)
        .args(["-T", "fields", "-e", "frame.number"]);
    if let Some(f) = filter {
        cmd.args(["-Y", f]);
    }
    let out = cmd.output().unwrap_or_else(|e| {
        panic!(
            "tshark is required by this test and could not be run ({e}); install it \
             (DEBIAN_FRONTEND=noninteractive apt-get install -y tshark), as the CI script does"
        )
    });
    assert!(
        out.status.success(),
        "tshark cannot read {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).lines().count() as u64
}

#[test]
fn loopback_capture_writes_each_packet_once_as_pcap() {
    if let Some((ifaces, dir)) = inner_job() {
        return capture_loopback_traffic(&ifaces, &dir);
    }
    let (_dir, packets) = run_in_namespace(
        "capture::tests::loopback_capture_writes_each_packet_once_as_pcap",
        "lo",
    );
    assert!(packets >= 10, "{packets} packets");
}

#[test]
fn two_interfaces_write_pcapng_with_one_block_each() {
    // `lo` twice stands for two interfaces: a fresh namespace has no other, and each socket
    // must see every packet once.
    if let Some((ifaces, dir)) = inner_job() {
        return capture_loopback_traffic(&ifaces, &dir);
    }
    let (_dir, packets) = run_in_namespace(
        "capture::tests::two_interfaces_write_pcapng_with_one_block_each",
        "lo,lo",
    );
    assert_eq!(packets % 2, 0, "{packets} packets");
}

#[test]
fn tshark_reads_pcap_and_pcapng_with_the_same_counts() {
    if let Some((ifaces, dir)) = inner_job() {
        return capture_loopback_traffic(&ifaces, &dir);
    }
    let name = "capture::tests::tshark_reads_pcap_and_pcapng_with_the_same_counts";
    for (ifaces, n) in [("lo", 1u64), ("lo,lo", 2)] {
        let (dir, packets) = run_in_namespace(name, ifaces);
        let path = capture_file(dir.path(), n as usize);
        assert_eq!(tshark_count(&path, None), packets, "{}", path.display());
        let filter = "tcp.flags.syn == 1 && tcp.flags.ack == 0";
        assert_eq!(tshark_count(&path, Some(filter)), n, "{filter}");
        let filter = "icmp.type == 3 && icmp.code == 3";
        assert_eq!(tshark_count(&path, Some(filter)), n, "{filter}");
    }
}

/// Bytes of the burst: far more than a packet socket's queue may hold (net.core.rmem_max caps
/// it, 208 KiB by default), well within the capture ring.
const BURST: usize = 16 << 20;

/// The inner run of the burst test: one connection pushes BURST bytes as fast as loopback
/// goes, and the capture must hold every segment.
fn capture_burst(dir: &Path) {
    set_link_up("lo").expect("bring lo up");
    let path = capture_file(dir, 1);
    let capture = Capture::start(&["lo"], &path, RING_MIB).expect("start capture");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("local addr").port();
    let server = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().expect("accept");
        let mut sink = Vec::new();
        conn.read_to_end(&mut sink).expect("server read");
        sink.len()
    });
    let mut client = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    client.write_all(&vec![b'x'; BURST]).expect("client write");
    drop(client);
    assert_eq!(server.join().expect("server thread"), BURST);
    wait_until_quiet(&capture);
    let stats = capture.stop().expect("stop capture");
    assert_eq!(stats.dropped, 0, "kernel drops during the burst");
    let frames = parse_pcap(&std::fs::read(&path).expect("read capture file"));
    assert_eq!(frames.len() as u64, stats.packets, "file vs stats");
    // Loopback may drop and TCP retransmit under such a burst: count each byte of the stream
    // once, by sequence number, from the SYN on.
    let mut isn = None;
    let mut ranges: Vec<(u64, u64)> = Vec::new();
    for f in &frames {
        let Ok(packet) = SlicedPacket::from_ethernet(&f.data) else {
            continue;
        };
        let Some(TransportSlice::Tcp(tcp)) = packet.transport else {
            continue;
        };
        if tcp.destination_port() != port {
            continue;
        }
        if tcp.syn() {
            isn = Some(tcp.sequence_number());
        } else if let (Some(isn), false) = (isn, tcp.payload().is_empty()) {
            let start = u64::from(tcp.sequence_number().wrapping_sub(isn).wrapping_sub(1));
            ranges.push((start, start + tcp.payload().len() as u64));
        }
    }
    ranges.sort_unstable();
    let mut covered = 0u64;
    let mut end = 0u64;
    for (start, stop) in ranges {
        assert!(
            start <= end,
            "bytes {end}..{start} of the stream are missing"
        );
        covered += stop.saturating_sub(end.max(start));
        end = end.max(stop);
    }
    assert_eq!(
        covered, BURST as u64,
        "every byte of the burst is in the file"
    );
    std::fs::write(dir.join("packets"), stats.packets.to_string()).expect("write count");
}

#[test]
fn a_burst_beyond_the_socket_queue_is_captured_whole() {
    if let Some((_, dir)) = inner_job() {
        return capture_burst(&dir);
    }
    let (_dir, packets) = run_in_namespace(
        "capture::tests::a_burst_beyond_the_socket_queue_is_captured_whole",
        "lo",
    );
    // At most 64 KiB per segment on loopback.
    assert!(packets as usize >= BURST / 65536, "{packets} packets");
}

#[test]
fn capture_without_interfaces_is_refused() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let err = Capture::start(&[], &dir.path().join("x.pcap"), RING_MIB).unwrap_err();
    assert_eq!(err.to_string(), "no interface to capture on");
}
