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
