//! `socklab inspect` through the CLI, over socklab's own captures and public ones (tshark is
//! required where a test compares with it).

mod common;

/// Regression: on loopback both ends are 127.0.0.1, and the ladder drew every packet from the
/// client to the server, the RST and the ICMP error included.
#[test]
fn ladder_on_loopback_draws_replies_back_to_the_client() {
    let dir = tempfile::tempdir().unwrap();
    let run = common::run_into(
        dir.path(),
        &[
            "scenarios/upper/tcp-client-before-server.json",
            "scenarios/upper/udp-client-before-server.json",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    for (id, reply) in [
        ("upper-tcp-client-before-server", "[RST, ACK]"),
        ("upper-udp-client-before-server", "Port unreachable"),
    ] {
        let out = common::socklab()
            .args(["inspect", "--ladder"])
            .arg(dir.path().join(format!("{id}.pcap")))
            .output()
            .unwrap();
        assert!(out.status.success());
        let text = String::from_utf8_lossy(&out.stdout);
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[1].contains("-->|"),
            "first packet goes to the server:\n{text}"
        );
        assert!(
            lines[2].contains(reply) && lines[2].contains("|<-"),
            "the reply goes back to the client:\n{text}"
        );
    }
}

/// Regression (issue 11, part 8): the warning that a capture is cut short went to stdout, mixed
/// into the packet list; tshark prints it on stderr, and so does socklab now.
#[test]
fn the_truncation_warning_goes_to_stderr_not_into_the_packet_list() {
    let whole =
        std::fs::read(common::root().join("../shared/captures/public/cs_tcp_handshake.pcapng"))
            .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("cut.pcapng");
    std::fs::write(&cut, &whole[..whole.len() - 20]).unwrap();
    for flags in [&[][..], &["--streams"][..], &["--ladder"][..]] {
        let out = common::socklab()
            .arg("inspect")
            .args(flags)
            .arg(&cut)
            .output()
            .unwrap();
        assert!(out.status.success(), "{flags:?}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stdout.contains("warning"), "{flags:?}: {stdout}");
        assert!(stderr.starts_with("warning: "), "{flags:?}: {stderr}");
    }
}

/// Regression (issue 11, part 8): `--ladder` drew only the capture's first connection (10 of
/// its 20 packets) without saying so. It now says how many it drew of how many, and both
/// numbers are tshark's: the frames of that connection (`tcp.stream == 0`) and of the file.
#[test]
fn a_ladder_of_one_connection_says_how_many_of_the_captures_packets_it_drew() {
    let pcap = common::root().join("../shared/captures/public/cs_http_ip4and6.pcapng");
    let count = |filter: &[&str]| -> usize {
        let out = std::process::Command::new("tshark")
            .arg("-r")
            .arg(&pcap)
            .args(filter)
            .output()
            .unwrap_or_else(|e| panic!("tshark is required ({e}): run scripts/test.sh"));
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stdout).lines().count()
    };
    let (drawn, total) = (count(&["-Y", "tcp.stream == 0"]), count(&[]));
    assert!(drawn < total, "{drawn} of {total}");
    let out = common::socklab()
        .args(["inspect", "--ladder"])
        .arg(&pcap)
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let rows = text.lines().filter(|l| l.contains('|')).count();
    assert_eq!(rows, drawn, "{text}");
    assert_eq!(
        text.lines().last(),
        Some(
            format!(
                "({drawn} of the capture's {total} packets are between these two endpoints; \
                 `--between A B` draws others, `--streams` lists the conversations)"
            )
            .as_str()
        ),
        "{text}"
    );
}

/// Regression (issue 11, part 8): `--between` with hosts that are not in the capture printed
/// nothing and exited 0. It is bad input (exit 2), naming the endpoints the capture has.
#[test]
fn between_hosts_not_in_the_capture_exits_2_naming_the_endpoints() {
    let pcap = common::root().join("../shared/captures/public/cs_tcp_refuseconnection.pcapng");
    let out = common::socklab()
        .args([
            "inspect",
            "--ladder",
            "--between",
            "192.0.2.1",
            "192.0.2.2:80",
        ])
        .arg(&pcap)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.trim_end(),
        "no packet of the capture is between 192.0.2.1 and 192.0.2.2:80; its endpoints are: \
         192.168.100.138:3372, 192.168.100.1:80 (`socklab inspect FILE --streams` lists its \
         conversations)"
    );
    // One side right, the other not: still nothing between them.
    let out = common::socklab()
        .args([
            "inspect",
            "--ladder",
            "--between",
            "192.168.100.138",
            "192.0.2.2",
        ])
        .arg(&pcap)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
