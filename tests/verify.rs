//! `socklab verify` on captures that hold more than the lab: the roles are found from the
//! address and port flags, an ambiguous capture is refused with the flags that would pick each
//! server, and a flag that matches nothing says so and lists the capture's conversations.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Output;

use serde_json::Value;

mod common;

use common::pcap::{self, Pcap};
use common::{check, check_titled, socklab, verify, verify_json};

fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// A two-machine capture, as a student's Wireshark would record it on the client's network
/// (see `common::pcap::noisy_lab_capture`).
fn noisy_capture(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("lab.pcap");
    pcap::noisy_lab_capture(&path);
    path
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// What a `socklab verify` that refused its input (exit code 2) printed on stderr.
fn refused(out: &Output) -> String {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    err
}

#[test]
fn a_capture_with_several_servers_is_refused_with_the_flags_that_pick_each() {
    let dir = tempfile::tempdir().unwrap();
    let cap = noisy_capture(dir.path());
    let out = verify(&cap, "upper-tcp-round-trip", &[]);
    let err = refused(&out);
    assert!(
        err.contains("cannot tell which server in") && err.contains("4 servers fit"),
        "{err}"
    );
    // Each server with the flags that single it out: the port alone where it is unique.
    for parts in [
        [
            "--server-port 53 ",
            "UDP server 198.51.100.53:53: 1 conversation, 2 packets",
        ],
        [
            "--server-addr 192.0.2.20 --server-port 12000 ",
            "TCP server 192.0.2.20:12000: 2 conversations, 20 packets, from packet 3",
        ],
        ["--server-port 80 ", "TCP server 203.0.113.80:80"],
        [
            "--server-addr ::1 --server-port 12000 ",
            "UDP server [::1]:12000",
        ],
    ] {
        assert!(
            err.lines().any(|l| parts.iter().all(|p| l.contains(p))),
            "no line with {parts:?} in:\n{err}"
        );
    }
    // Then every conversation, with its endpoints and packet count.
    let row = err
        .lines()
        .find(|l| l.contains("192.0.2.30:40500"))
        .unwrap_or_else(|| panic!("{err}"));
    let cols: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(
        cols,
        ["23", "TCP", "192.0.2.30:40500", "192.0.2.20:12000", "10"],
        "{err}"
    );

    // The port alone is still two servers here.
    let out = verify(&cap, "upper-tcp-round-trip", &["--server-port", "12000"]);
    let err = refused(&out);
    assert!(err.contains("2 servers fit with the flags given"), "{err}");
}

#[test]
fn address_and_port_flags_pin_the_roles_of_a_two_machine_capture() {
    let dir = tempfile::tempdir().unwrap();
    let cap = noisy_capture(dir.path());
    // The server alone: both its clients count, and the scenario wants one connection.
    let server = ["--server-addr", "192.0.2.20", "--server-port", "12000"];
    let out = verify(&cap, "upper-tcp-round-trip", &server);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("2 clients (192.0.2.10:40000, 192.0.2.30:40500) (inferred)")
            && text.contains("--client-addr or --client-port keeps one client's"),
        "{text}"
    );
    let r = verify_json(&verify(
        &cap,
        "upper-tcp-round-trip",
        &[&server[..], &["--json"]].concat(),
    ));
    let conns = check(&r, "tcp_connections");
    assert_eq!(conns["passed"], false);
    assert_eq!(conns["evidence_packets"], serde_json::json!([3, 23]));

    // With the client's address too, only the lab's conversation is checked.
    let flags = [&server[..], &["--client-addr", "192.0.2.10", "--json"]].concat();
    let out = verify(&cap, "upper-tcp-round-trip", &flags);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let r = verify_json(&out);
    assert_eq!(r["server_port"], 12000);
    assert_eq!(r["server_port_from"], "--server-port");
    assert_eq!(r["roles"]["server"]["ip"], "192.0.2.20");
    assert_eq!(r["roles"]["conversations"].as_array().unwrap().len(), 1);
    assert_eq!(r["roles"]["other_conversations"], 4);
    assert_eq!(r["roles"]["other_packets"], 24);
    assert_eq!(
        check(&r, "tcp_handshake")["evidence_packets"],
        serde_json::json!([3, 4, 5])
    );

    // The client's port is enough on its own: it names one conversation, hence its server.
    let out = verify(&cap, "upper-tcp-round-trip", &["--client-port", "40000"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(
        text.contains(
            "server 192.0.2.20:12000 (inferred from packet 3); client 192.0.2.10:40000 (port given)"
        ),
        "{text}"
    );
    assert!(
        text.contains("left out: 4 other conversations, 24 packets"),
        "{text}"
    );

    // IPv6: the UDP round trip on [::1]:12000.
    let out = verify(
        &cap,
        "upper-udp-round-trip",
        &["--server-addr", "::1", "--server-port", "12000"],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(text.contains("server [::1]:12000 (given)"), "{text}");
}

#[test]
fn a_flag_that_matches_no_traffic_says_so_and_lists_the_conversations() {
    let dir = tempfile::tempdir().unwrap();
    let cap = noisy_capture(dir.path());
    let out = verify(&cap, "upper-tcp-round-trip", &["--server-port", "12001"]);
    let err = refused(&out);
    assert!(
        err.starts_with(&format!(
            "no packet in {} has server port 12001\nthe capture's TCP/UDP conversations are:\n",
            cap.display()
        )),
        "{err}"
    );
    assert!(err.contains("198.51.100.53:53"), "{err}");
    assert_eq!(err.lines().filter(|l| l.contains(" TCP ")).count(), 3);
    assert_eq!(err.lines().filter(|l| l.contains(" UDP ")).count(), 2);

    // A client's value given as the server's gets a hint.
    let out = verify(&cap, "upper-tcp-round-trip", &["--server-port", "40000"]);
    let err = refused(&out);
    assert!(
        err.contains(
            "has server port 40000; port 40000 is the client's in 1 conversation: did you mean --client-port 40000?"
        ),
        "{err}"
    );

    // Each flag matches something, but not together.
    let out = verify(
        &cap,
        "upper-tcp-round-trip",
        &["--server-addr", "203.0.113.80", "--server-port", "12000"],
    );
    let err = refused(&out);
    assert!(
        err.contains("has server address 203.0.113.80 and server port 12000 together"),
        "{err}"
    );
}

#[test]
fn bad_address_and_port_values_are_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let cap = noisy_capture(dir.path());
    for (flags, says) in [
        (
            ["--server-addr", "192.0.2.20:12000"],
            "give the address alone (192.0.2.20) and the port with --server-port 12000",
        ),
        (
            ["--client-addr", "client.example"],
            "`client.example` is not an IPv4 or IPv6 address",
        ),
        (["--server-port", "0"], "give a port from 1 to 65535"),
        (["--client-port", "65536"], "`65536` is not a port number"),
    ] {
        let out = verify(&cap, "upper-tcp-round-trip", &flags);
        let err = refused(&out);
        assert!(err.contains(says), "{flags:?}: {err}");
    }
}

#[test]
fn help_teaches_the_role_flags_with_an_example() {
    let out = socklab().args(["verify", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--server-port <N>",
        "--server-addr <ADDR>",
        "--client-port <N>",
        "--client-addr <ADDR>",
        "--server-addr 192.0.2.20 --server-port 12000 --client-addr 192.0.2.10",
    ] {
        assert!(help.contains(flag), "no {flag} in:\n{help}");
    }
}

/// The server port of the only conversation of a capture, read with `socklab inspect`.
fn server_port(pcap: &Path) -> u64 {
    let out = socklab()
        .arg("inspect")
        .arg(pcap)
        .args(["--streams", "--json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["tcp_streams"][0]["server"]["port"]
        .as_u64()
        .or_else(|| v["udp_flows"][0]["b"]["port"].as_u64())
        .unwrap_or_else(|| panic!("no conversation in {v}"))
}

#[test]
fn two_of_socklabs_own_captures_in_one_file_need_the_server_port() {
    let dir = tempfile::tempdir().unwrap();
    for scenario in ["tcp-round-trip", "udp-round-trip"] {
        let r = common::run_into(
            &dir.path().join(scenario),
            &[&format!("scenarios/upper/{scenario}.json")],
        );
        assert_eq!(r.code, 0, "{}", r.stdout);
    }
    let tcp = dir.path().join("tcp-round-trip/upper-tcp-round-trip.pcap");
    let udp = dir.path().join("udp-round-trip/upper-udp-round-trip.pcap");
    let (tcp_port, udp_port) = (server_port(&tcp), server_port(&udp));
    let both = dir.path().join("both.pcap");
    std::fs::write(
        &both,
        pcap::concat(&std::fs::read(&tcp).unwrap(), &std::fs::read(&udp).unwrap()),
    )
    .unwrap();

    let out = verify(&both, "upper-tcp-round-trip", &[]);
    let err = refused(&out);
    assert!(err.contains("2 servers fit"), "{err}");
    assert!(
        err.contains(&format!("--server-port {tcp_port}"))
            && err.contains(&format!("--server-port {udp_port}")),
        "{err}"
    );

    let out = verify(
        &both,
        "upper-tcp-round-trip",
        &["--server-port", &tcp_port.to_string(), "--json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(verify_json(&out)["roles"]["other_packets"], 2);
    let out = verify(
        &both,
        "upper-udp-round-trip",
        &["--server-port", &udp_port.to_string(), "--json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // Pinned to the UDP server, the TCP conversation is left out.
    assert_eq!(verify_json(&out)["roles"]["other_conversations"], 1);

    let out = verify(&both, "upper-tcp-round-trip", &["--server-port", "1"]);
    let err = refused(&out);
    assert!(err.contains("has server port 1\n"), "{err}");
}

/// A capture of one exchange: TCP (10 packets, request in packet 4, reply in packet 6) or UDP
/// (request in packet 1, reply in packet 2), between 192.0.2.10 and 192.0.2.20:12000.
fn exchange(dir: &Path, tcp: bool, request: &[u8], reply: &[u8]) -> std::path::PathBuf {
    let mut p = Pcap::new();
    let (client, server) = (sa("192.0.2.10:40000"), sa("192.0.2.20:12000"));
    if tcp {
        p.tcp_exchange(client, server, request, reply);
    } else {
        p.udp(client, server, request);
        p.udp(server, client, reply);
    }
    let path = dir.join(if tcp { "tcp.pcap" } else { "udp.pcap" });
    std::fs::write(&path, p.bytes()).unwrap();
    path
}

const TCP_REPLY: &str = "on the wire, the reply is the line in uppercase";
const TCP_REQUEST: &str = "on the wire, the line travels in plain text to the server";

#[test]
fn a_round_trip_with_a_sentence_of_ones_own_passes() {
    let dir = tempfile::tempdir().unwrap();
    let request = b"Sockets are fun, 42 times & more!\n";
    let reply = b"SOCKETS ARE FUN, 42 TIMES & MORE!\n";
    let reports: Vec<Value> = [
        (true, "upper-tcp-round-trip"),
        (false, "upper-udp-round-trip"),
    ]
    .into_iter()
    .map(|(tcp, scenario)| {
        let cap = exchange(dir.path(), tcp, request, reply);
        let out = verify(&cap, scenario, &["--json"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let r = verify_json(&out);
        let text = r.to_string();
        assert!(text.contains("the uppercase of the request"), "{text}");
        r
    })
    .collect();
    let tcp_reply = check_titled(&reports[0], TCP_REPLY);
    assert_eq!(
        tcp_reply["actual"],
        "server sent \"SOCKETS ARE FUN, 42 TIMES & MORE!\\n\" in packet 6, the uppercase of the \
         request \"Sockets are fun, 42 times & more!\\n\" (packet 4)"
    );
    assert_eq!(tcp_reply["evidence_packets"], serde_json::json!([4, 6]));
}

#[test]
fn a_swapcase_reply_fails_naming_the_request_and_the_reply() {
    let dir = tempfile::tempdir().unwrap();
    let cap = exchange(dir.path(), true, b"hello, World", b"HELLO, wORLD");
    let out = verify(&cap, "upper-tcp-round-trip", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(
            "    actual:   server sent \"HELLO, wORLD\" in packet 6, but the uppercase of the \
             request \"hello, World\" (packet 4) is \"HELLO, WORLD\"\n    reason:   server sent \
             \"HELLO, wORLD\" in packet 6, but the uppercase of the request \"hello, World\" \
             (packet 4) is \"HELLO, WORLD\" (byte 8 is \"w\" where \"W\" is due)"
        ),
        "{text}"
    );
    assert!(text.contains("4/5 wire checks passed"), "{text}");

    let cap = exchange(dir.path(), false, b"hello, World", b"HELLO, wORLD");
    let r = verify_json(&verify(&cap, "upper-udp-round-trip", &["--json"]));
    let reply = check_titled(
        &r,
        "on the wire, one datagram carries the line in uppercase back",
    );
    assert_eq!(reply["passed"], false);
    assert_eq!(reply["evidence_packets"], serde_json::json!([1, 2]));
    assert!(
        reply["actual"]
            .as_str()
            .unwrap()
            .contains("in packet 2, but the uppercase of the request \"hello, World\" (packet 1)"),
        "{reply}"
    );
}

#[test]
fn text_insists_on_the_line_the_client_was_given() {
    let dir = tempfile::tempdir().unwrap();
    let cap = exchange(dir.path(), true, b"my own line\n", b"MY OWN LINE\n");
    let out = verify(&cap, "upper-tcp-round-trip", &["--text", "my own line"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let out = verify(
        &cap,
        "upper-tcp-round-trip",
        &["--text", "hello, World &*! 123", "--json"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let r = verify_json(&out);
    assert_eq!(r["text"], "hello, World &*! 123");
    let request = check_titled(&r, TCP_REQUEST);
    assert_eq!(request["passed"], false);
    assert_eq!(
        request["reason"],
        "the payload does not contain \"hello, World &*! 123\"; client sent \"my own line\\n\" to \
         server in packet 4"
    );
    // The reply is still judged against what was sent.
    assert_eq!(check_titled(&r, TCP_REPLY)["passed"], true);

    // Without --text any line will do, and the expectation says so.
    let r = verify_json(&verify(&cap, "upper-tcp-round-trip", &["--json"]));
    let request = check_titled(&r, TCP_REQUEST);
    assert_eq!(request["passed"], true);
    assert!(
        request["expected"]
            .as_str()
            .unwrap()
            .contains("`--text LINE` insists on one"),
        "{request}"
    );

    // A scenario whose client is given no line has nothing for --text to replace.
    let out = verify(&cap, "hello-tcp-knock-knock", &["--text", "x"]);
    let err = refused(&out);
    assert!(err.contains("checks no line typed into a client"), "{err}");
}

/// A date/time server's answers in a student's own capture: nothing in it says the server's
/// time zone (a run gives its server `TZ=UTC0`), so the time is judged by its minutes and
/// seconds, and the date may be the UTC one or a neighbour.
#[test]
fn a_date_time_capture_from_another_time_zone_passes_on_minutes_and_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = Pcap::new();
    let (client, server) = (sa("192.0.2.10:40000"), sa("192.0.2.20:12000"));
    // The capture starts at 2023-11-14 22:13:20 UTC: 03:58:20 on the 15th in Nepal (+05:45).
    for (request, answer) in [
        (&b"SEND_TIME"[..], &b"03:58:20"[..]),
        (b"SEND_DATE", b"2023-11-15"),
        (b"SEND_WEATHER", b"Invalid request"),
    ] {
        p.udp(client, server, request);
        p.udp(server, client, answer);
    }
    let cap = dir.path().join("datetime.pcap");
    std::fs::write(&cap, p.bytes()).unwrap();
    let out = verify(&cap, "datetime-answers", &["--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let r = verify_json(&out);
    let time = check_titled(
        &r,
        "on the wire, SEND_TIME is answered with the current time as HH:MM:SS",
    );
    assert_eq!(
        time["actual"],
        "server answered \"SEND_TIME\": \"03:58:20\" in packet 2 is the time it was sent \
         (22:13:20 UTC, in the minutes and seconds: the capture does not say the server's time \
         zone)"
    );
    // A minute off is off in any zone.
    let mut p = Pcap::new();
    p.udp(client, server, b"SEND_TIME");
    p.udp(server, client, b"03:59:20");
    std::fs::write(&cap, p.bytes()).unwrap();
    let out = verify(&cap, "datetime-answers", &["--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let r = verify_json(&out);
    let time = check_titled(
        &r,
        "on the wire, SEND_TIME is answered with the current time as HH:MM:SS",
    );
    assert_eq!(time["passed"], false, "{time}");
}
