//! The web and proxy labs' reference programs against real clients no one here wrote: curl
//! fetching from `web-server`, and curl through `proxy` (`curl -x`, absolute-form requests as
//! browsers send them). On loopback; curl must be installed (`scripts/test.sh` installs it).

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::{channel, Receiver};

/// A reference program started with `socklab ref`, its stdout lines arriving on `lines`.
struct Program {
    child: Child,
    lines: Receiver<String>,
    port: u16,
}

impl Program {
    /// Starts `socklab ref ROLE 127.0.0.1 PORT` in `dir` and waits for its ready line.
    fn start(role: &str, dir: &Path) -> Program {
        // A port the kernel just handed out and took back: free on loopback for this test.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("socklab"))
            .args(["ref", role, "127.0.0.1", &port.to_string()])
            .current_dir(dir)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, lines) = channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut program = Program { child, lines, port };
        let first = program.line();
        assert_eq!(first, "Ready to serve...", "{role} did not start");
        program
    }

    /// The next line the program prints (it prints one per request it answers).
    fn line(&mut self) -> String {
        self.lines.recv().unwrap_or_else(|_| {
            let status = self.child.wait().unwrap();
            panic!("the program ended ({status}) without printing the line")
        })
    }
}

impl Drop for Program {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn curl(args: &[&str]) -> Output {
    let out = Command::new("curl")
        .args(["--silent", "--show-error", "--max-time", "60"])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("curl is needed (scripts/test.sh installs it): {e}"));
    assert!(
        out.status.success(),
        "curl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A served directory: the lab's page, a binary object and, outside it, a secret.
fn documents() -> (tempfile::TempDir, Vec<u8>) {
    let outer = tempfile::tempdir().unwrap();
    let www = outer.path().join("www");
    std::fs::create_dir(&www).unwrap();
    std::fs::write(
        www.join("HelloWorld.html"),
        "<html><body><h1>Hello World</h1></body></html>\n",
    )
    .unwrap();
    let image: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(www.join("image.png"), &image).unwrap();
    std::fs::write(outer.path().join("secret.txt"), "the grader's secret\n").unwrap();
    (outer, image)
}

#[test]
fn curl_gets_exact_bytes_404_pages_and_no_file_outside_from_the_reference_web_server() {
    let (outer, image) = documents();
    let mut server = Program::start("web-server", &outer.path().join("www"));
    let base = format!("http://127.0.0.1:{}", server.port);

    let page = curl(&["--include", &format!("{base}/HelloWorld.html")]);
    let text = String::from_utf8(page.stdout).unwrap();
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(text.contains("Content-Type: text/html"), "{text}");
    assert!(text.ends_with("\r\n\r\n<html><body><h1>Hello World</h1></body></html>\n"));
    assert_eq!(server.line(), "GET /HelloWorld.html 200 (47 bytes)");

    let got = curl(&[&format!("{base}/image.png")]).stdout;
    assert_eq!(got.len(), image.len());
    assert!(got == image, "the binary object differs");
    server.line();

    let missing = curl(&["--write-out", "%{http_code}", &format!("{base}/nope.html")]);
    let text = String::from_utf8(missing.stdout).unwrap();
    assert!(text.ends_with("404"), "{text}");
    assert!(text.contains("<h1>404 Not Found</h1>"), "{text}");
    server.line();

    // curl normalizes `..` away unless told not to: --path-as-is sends it as typed.
    let out = curl(&[
        "--path-as-is",
        "--write-out",
        "%{http_code}",
        &format!("{base}/../secret.txt"),
    ]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.ends_with("403"), "{text}");
    assert!(!text.contains("the grader's secret"), "{text}");
}

#[test]
fn curl_through_the_reference_proxy_gets_the_origin_bytes_and_the_second_time_the_cache() {
    let (outer, image) = documents();
    let mut origin = Program::start("web-server", &outer.path().join("www"));
    let mut proxy = Program::start("proxy", outer.path());
    let via = format!("http://127.0.0.1:{}", proxy.port);
    let object = format!("http://127.0.0.1:{}/image.png", origin.port);

    for (round, how) in [(1, "miss"), (2, "hit")] {
        let got = curl(&["--proxy", &via, &object]).stdout;
        assert!(
            got == image,
            "round {round}: the object differs ({} bytes)",
            got.len()
        );
        let said = proxy.line();
        assert!(
            said.starts_with(&format!("GET {object} 200 ({how}, ")),
            "round {round}: {said}"
        );
    }
    // One request reached the origin: the second was answered from the cache.
    assert_eq!(origin.line(), "GET /image.png 200 (200000 bytes)");
    assert!(
        origin.lines.try_recv().is_err(),
        "the origin was asked twice"
    );

    // An origin nobody listens on: 502 from the proxy, not a hang.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = curl(&[
        "--proxy",
        &via,
        "--write-out",
        "%{http_code}",
        &format!("http://127.0.0.1:{dead}/x"),
    ]);
    assert!(String::from_utf8_lossy(&out.stdout).ends_with("502"));
}
