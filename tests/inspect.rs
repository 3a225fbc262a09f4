//! `socklab inspect` over socklab's own captures.

use std::process::Command;

use assert_cmd::cargo::cargo_bin;

/// Regression: on loopback both ends are 127.0.0.1, and the ladder drew every packet from the
/// client to the server, the RST and the ICMP error included.
#[test]
fn ladder_on_loopback_draws_replies_back_to_the_client() {
    let dir = tempfile::tempdir().unwrap();
    let run = Command::new(cargo_bin("socklab"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "run",
            "scenarios/upper/tcp-client-before-server.json",
            "scenarios/upper/udp-client-before-server.json",
            "--report",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stdout)
    );
    for (id, reply) in [
        ("upper-tcp-client-before-server", "[RST, ACK]"),
        ("upper-udp-client-before-server", "Port unreachable"),
    ] {
        let out = Command::new(cargo_bin("socklab"))
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
