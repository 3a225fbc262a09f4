//! Two computers on one machine, through the CLI: the hosts of a scenario are network
//! namespaces joined by a veth pair (a bridge for more), their capture is a pcapng file with one
//! named interface per host in which tshark finds ARP between two MAC addresses and no frame
//! twice; a server bound to localhost fails only what another computer needs; and nothing of
//! the topology (process, interface) outlives the run. tshark is required: `.ci/run` installs
//! it, and without it these tests fail rather than passing unchecked.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;

use common::{root, run_into, submission};

const SERVER_MAC: &str = "02:53:4c:00:00:01";
const CLIENT_MAC: &str = "02:53:4c:00:00:02";

/// `tshark -r FILE -T fields -e F...`, one row per frame; fails the test, saying how to install
/// it, when tshark is missing.
fn tshark_fields(file: &Path, fields: &[&str]) -> Vec<Vec<String>> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-r")
        .arg(file)
        .args(["-T", "fields", "-E", "separator=\t"]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().unwrap_or_else(|e| {
        panic!(
            "tshark is required to read the two-computer capture ({e}): run `.ci/run` as root \
             (it installs tshark), or `apt-get install tshark`"
        )
    });
    assert!(
        out.status.success(),
        "tshark cannot read {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

/// Every frame's bytes, with its interface, read by pcap-file (an independent reader).
fn frames(file: &Path) -> Vec<(u32, Vec<u8>)> {
    use pcap_file::pcapng::{Block, PcapNgReader};
    let mut r = PcapNgReader::new(std::fs::File::open(file).unwrap()).unwrap();
    let mut out = Vec::new();
    while let Some(block) = r.next_block() {
        if let Block::EnhancedPacket(p) = block.unwrap() {
            out.push((p.interface_id, p.data.to_vec()));
        }
    }
    out
}

/// The network interfaces of this machine's (the test's) network namespace.
fn interfaces() -> BTreeSet<String> {
    std::fs::read_dir("/sys/class/net")
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

/// Live processes whose environment holds `needle`.
fn marked(needle: &str) -> Vec<i32> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(env) = std::fs::read(e.path().join("environ")) else {
            continue;
        };
        let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
        let zombie = stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim()
            .starts_with('Z');
        if !zombie && env.split(|b| *b == 0).any(|v| v == needle.as_bytes()) {
            out.push(pid);
        }
    }
    out
}

/// Nothing of the run is left: no process with the run's marker (processes killed with their
/// namespace may take a moment to vanish: the scan repeats up to a ceiling), and no interface
/// added to this machine's network namespace.
fn assert_nothing_left(mark: &str, before: &BTreeSet<String>) {
    let needle = format!("SOCKLAB_TOPO_MARK={mark}");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut left = marked(&needle);
    while !left.is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
        left = marked(&needle);
    }
    assert!(left.is_empty(), "processes left after the run: {left:?}");
    let added: Vec<String> = interfaces().difference(before).cloned().collect();
    // Other tests' runs never add interfaces here either: every topology lives in a namespace.
    assert!(
        added.is_empty(),
        "interfaces left on the machine: {added:?}"
    );
}

/// Writes scenario `s` with a marker in every program's environment into `dir`.
fn marked_scenario(dir: &Path, mut s: Value, mark: &str) -> std::path::PathBuf {
    for p in s["programs"].as_array_mut().unwrap() {
        p["env"] = serde_json::json!({ "SOCKLAB_TOPO_MARK": mark });
    }
    let file = dir.join(format!("{}.json", s["id"].as_str().unwrap()));
    std::fs::write(&file, serde_json::to_string_pretty(&s).unwrap()).unwrap();
    file
}

fn scenario(path: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(root().join(path)).unwrap()).unwrap()
}

#[test]
fn the_two_computer_capture_shows_arp_two_macs_named_interfaces_and_no_frame_twice() {
    let dir = tempfile::tempdir().unwrap();
    let before = interfaces();
    let mark = format!("two-{}", std::process::id());
    let file = marked_scenario(
        dir.path(),
        scenario("scenarios/upper/tcp-two-computers.json"),
        &mark,
    );
    let report = dir.path().join("report");
    let run = run_into(&report, &[file.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let s = &run.results["scenarios"][0];
    assert_eq!(s["verdict"], "pass", "{}", run.report);
    let pcap = report.join(s["capture"]["file"].as_str().unwrap());
    assert_eq!(pcap.extension().unwrap(), "pcapng");

    let rows = tshark_fields(
        &pcap,
        &[
            "frame.interface_name",
            "eth.src",
            "eth.dst",
            "arp.opcode",
            "arp.src.proto_ipv4",
            "arp.dst.proto_ipv4",
            "ip.src",
        ],
    );
    assert_eq!(rows.len() as u64, s["capture"]["packets"].as_u64().unwrap());
    let names: BTreeSet<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        names,
        BTreeSet::from(["client/eth0", "server/eth0"]),
        "one named interface per computer (their own loopbacks carried nothing)"
    );
    // Each frame is kept where it was sent: on a host's interface, only its own MAC sends.
    let mac_of = BTreeMap::from([("server/eth0", SERVER_MAC), ("client/eth0", CLIENT_MAC)]);
    for r in &rows {
        assert_eq!(
            r[1],
            mac_of[r[0].as_str()],
            "a frame on {} from {}",
            r[0],
            r[1]
        );
    }
    let macs: BTreeSet<&str> = rows.iter().map(|r| r[1].as_str()).collect();
    assert_eq!(macs, BTreeSet::from([SERVER_MAC, CLIENT_MAC]));
    // ARP as between two machines: the client's computer asks, the server's answers.
    let request = rows
        .iter()
        .position(|r| r[3] == "1" && r[4] == "192.0.2.2" && r[5] == "192.0.2.1")
        .expect("an ARP request for the server's address");
    assert_eq!(rows[request][2], "ff:ff:ff:ff:ff:ff");
    let reply = rows
        .iter()
        .position(|r| r[3] == "2" && r[1] == SERVER_MAC && r[5] == "192.0.2.2")
        .expect("an ARP reply from the server's MAC");
    assert!(request < reply, "the reply follows the request");
    let first_ip = rows.iter().position(|r| !r[6].is_empty()).unwrap();
    assert!(reply < first_ip, "ARP comes before the first IP packet");
    // Frames are numbered in time order, across the interfaces.
    let times = tshark_fields(&pcap, &["frame.time_epoch"]);
    let t: Vec<f64> = times.iter().map(|r| r[0].parse().unwrap()).collect();
    assert!(
        t.windows(2).all(|w| w[0] <= w[1]),
        "frames out of time order: {t:?}"
    );

    // No frame twice: an independent reader sees no two frames with the same bytes.
    let all = frames(&pcap);
    assert_eq!(all.len(), rows.len());
    let distinct: BTreeSet<&Vec<u8>> = all.iter().map(|(_, d)| d).collect();
    assert_eq!(distinct.len(), all.len(), "a frame was captured twice");
    // The check that says so in the report, with this run's packets.
    let arp = s["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "arp_resolution")
        .unwrap();
    assert_eq!(arp["outcome"], "passed");
    assert!(
        arp["actual"]
            .as_str()
            .unwrap()
            .contains("192.0.2.1 is at 02:53:4c:00:00:01"),
        "{arp}"
    );
    // A capture of two computers is a capture like any other for `socklab verify`.
    let out = common::socklab()
        .arg("verify")
        .arg(&pcap)
        .args(["--scenario", "upper-tcp-two-computers"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("3/3 wire checks passed"), "{text}");
    assert_nothing_left(&mark, &before);
}

#[test]
fn three_computers_with_their_own_addresses_meet_through_a_bridge_and_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let before = interfaces();
    let mark = format!("three-{}", std::process::id());
    // Three documentation ranges: no two hosts share a /24, so each reaches the others by a
    // route of its own, and still by ARP.
    let s = serde_json::json!({
        "id": "upper-three-computers",
        "lab": "upper",
        "title": "two clients on two computers reach a server on a third",
        "question": "q",
        "explanation": "e",
        "hosts": [
            { "name": "server", "addr": "203.0.113.10" },
            { "name": "alice", "addr": "198.51.100.20" },
            { "name": "bob" }
        ],
        "programs": [
            { "name": "server", "role": "tcp-upper-server", "host": "server" },
            { "name": "alice", "role": "tcp-upper-client", "host": "alice" },
            { "name": "bob", "role": "tcp-upper-client", "host": "bob",
              "args": ["{addr:server}", "{port}"] }
        ],
        "steps": [
            { "start": { "program": "server" } },
            { "wait_ready": { "program": "server", "title": "ready" } },
            { "start": { "program": "alice" } },
            { "write": { "program": "alice", "line": "from alice" } },
            { "expect_output": { "program": "alice", "contains": "FROM ALICE", "title": "alice" } },
            { "start": { "program": "bob" } },
            { "write": { "program": "bob", "line": "from bob" } },
            { "expect_output": { "program": "bob", "contains": "FROM BOB", "title": "bob" } }
        ],
        "checks": [
            { "arp_resolution": { "from": "alice", "to": "server", "title": "alice's ARP" } },
            { "arp_resolution": { "from": "bob", "to": "server", "title": "bob's ARP" } },
            { "tcp_connections": { "program": "server", "count": 2, "title": "two connections" } }
        ]
    });
    let file = marked_scenario(dir.path(), s, &mark);
    let report = dir.path().join("report");
    let run = run_into(&report, &[file.to_str().unwrap()]);
    let s = &run.results["scenarios"][0];
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.report);
    assert_eq!(s["verdict"], "pass", "{}", run.report);
    let pcap = report.join(s["capture"]["file"].as_str().unwrap());
    let rows = tshark_fields(&pcap, &["frame.interface_name", "eth.src", "ip.src"]);
    let names: BTreeSet<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        names,
        BTreeSet::from(["alice/eth0", "bob/eth0", "server/eth0"])
    );
    let sources: BTreeSet<&str> = rows
        .iter()
        .filter(|r| r[0] == "server/eth0")
        .map(|r| r[2].as_str())
        .filter(|ip| !ip.is_empty())
        .collect();
    assert_eq!(sources, BTreeSet::from(["203.0.113.10"]));
    let macs: BTreeSet<&str> = rows.iter().map(|r| r[1].as_str()).collect();
    assert_eq!(
        macs.len(),
        3,
        "three computers, three MAC addresses: {macs:?}"
    );
    assert_nothing_left(&mark, &before);
}

#[test]
fn a_server_bound_to_localhost_fails_only_what_another_computer_needs_in_plain_words() {
    let dir = tempfile::tempdir().unwrap();
    let run = run_into(
        dir.path(),
        &[
            "--lab",
            "upper",
            "--submission",
            &submission("upper-server-localhost"),
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    let failed: BTreeSet<&str> = run.results["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["verdict"] != "pass")
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        failed,
        BTreeSet::from(["upper-tcp-two-computers", "upper-udp-two-computers"])
    );
    assert!(
        run.report.contains("listens on 127.0.0.1:")
            && run
                .report
                .contains("only, which another computer cannot reach"),
        "{}",
        run.report
    );
    assert!(
        run.stdout
            .contains("serves its own computer only: it binds to 127.0.0.1:"),
        "{}",
        run.stdout
    );
}

#[test]
fn host_isolation_refuses_a_scenario_of_several_computers_as_a_harness_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = common::socklab()
        .args([
            "run",
            "scenarios/upper/tcp-two-computers.json",
            "--isolation",
            "host",
        ])
        .arg("--report")
        .arg(dir.path())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(3), "{text}");
    let results: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("results.json")).unwrap())
            .unwrap();
    let error = results["scenarios"][0]["error"]
        .as_str()
        .unwrap_or_default();
    assert!(
        error.contains("`--isolation host` cannot make"),
        "{error}\n{text}"
    );
}
