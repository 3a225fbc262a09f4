//! `socklab inspect` over socklab's own captures.

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
