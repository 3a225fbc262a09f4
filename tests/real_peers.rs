//! socklab's reference programs and peers against real clients and servers no one here wrote:
//! curl fetching from `web-server` and through `proxy` (`curl -x`, absolute-form requests as
//! browsers send them), the `proxy-client` peer asking a proxy exactly as `curl -x` does, headless Chromium loading the lab's page from `web-server`, Python's
//! `smtplib` delivering to the `smtp-server` peer, and the reference `mail-client` delivering
//! to aiosmtpd, a real SMTP server. On loopback; curl, chromium, python3 and aiosmtpd must be
//! installed (`scripts/test.sh` installs them).

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

/// A port the kernel just handed out and took back: free on loopback for this test.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Program {
    /// Starts `socklab ref ROLE 127.0.0.1 PORT` in `dir` and waits for its ready line.
    fn start(role: &str, dir: &Path) -> Program {
        Program::spawn(&["ref", role], &[], dir, "Ready to serve...")
    }

    /// Starts `socklab COMMAND... 127.0.0.1 PORT EXTRA...` in `dir`; waits for `ready`.
    fn spawn(command: &[&str], extra: &[&str], dir: &Path, ready: &str) -> Program {
        let port = free_port();
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("socklab"))
            .args(command)
            .args(["127.0.0.1", &port.to_string()])
            .args(extra)
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
        assert_eq!(first, ready, "{command:?} did not start");
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
    // One request reached the origin: the second was answered from the cache. The origin logs
    // in the order it serves, so the next line it prints after one more, different request
    // proves no second request for the image came in between.
    assert_eq!(origin.line(), "GET /image.png 200 (200000 bytes)");
    let page = format!("http://127.0.0.1:{}/HelloWorld.html", origin.port);
    curl(&["--proxy", &via, &page]);
    assert!(proxy.line().contains("(miss, "));
    assert_eq!(
        origin.line(),
        "GET /HelloWorld.html 200 (47 bytes)",
        "the origin was asked for the image again"
    );

    // An origin nobody listens on: 502 from the proxy, not a hang.
    let dead = free_port();
    let out = curl(&[
        "--proxy",
        &via,
        "--write-out",
        "%{http_code}",
        &format!("http://127.0.0.1:{dead}/x"),
    ]);
    assert!(String::from_utf8_lossy(&out.stdout).ends_with("502"));
}

/// Accepts one client on `listener`, answers its request with an empty 200, and returns the
/// request line and the Host header it sent.
fn one_request(listener: &std::net::TcpListener) -> (String, String) {
    use std::io::Write;
    let (stream, _) = listener.accept().unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
            break;
        }
        lines.push(line.trim_end().to_string());
    }
    let host = lines
        .iter()
        .find_map(|l| l.strip_prefix("Host: "))
        .unwrap_or_default()
        .to_string();
    let mut stream = stream;
    stream
        .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        .unwrap();
    (lines.first().cloned().unwrap_or_default(), host)
}

#[test]
fn the_proxy_client_peer_asks_a_proxy_as_curl_x_does() {
    // A listener stands in for the proxy: it sees what each client sends to a proxy.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let via = format!("http://127.0.0.1:{port}");
    let object = "http://192.0.2.7:8080/HelloWorld.html";
    let by_curl = std::thread::scope(|s| {
        let seen = s.spawn(|| one_request(&listener));
        curl(&["--proxy", &via, object]);
        seen.join().unwrap()
    });
    assert_eq!(
        by_curl,
        (
            format!("GET {object} HTTP/1.1"),
            "192.0.2.7:8080".to_string()
        )
    );
    for (form, expected) in [
        ("absolute", by_curl.clone()),
        // What a browser sends for http://proxy:port/192.0.2.7:8080/HelloWorld.html.
        (
            "skeleton",
            (
                "GET /192.0.2.7:8080/HelloWorld.html HTTP/1.1".to_string(),
                format!("127.0.0.1:{port}"),
            ),
        ),
    ] {
        let by_peer = std::thread::scope(|s| {
            let seen = s.spawn(|| one_request(&listener));
            let out = Command::new(assert_cmd::cargo::cargo_bin("socklab"))
                .args(["peer", "proxy-client", "127.0.0.1", &port.to_string()])
                .args(["192.0.2.7", "8080", "HelloWorld.html", "--form", form])
                .output()
                .unwrap();
            assert!(out.status.success(), "{out:?}");
            assert!(out.stdout.starts_with(b"HTTP/1.1 200 OK\r\n"), "{out:?}");
            seen.join().unwrap()
        });
        assert_eq!(by_peer, expected, "--form {form}");
    }
}

/// An interpreter that can import `module`: `python3` first, then Debian's own.
fn python_with(module: &str) -> &'static str {
    for python in ["python3", "/usr/bin/python3"] {
        let ok = Command::new(python)
            .args(["-c", &format!("import {module}")])
            .output()
            .is_ok_and(|o| o.status.success());
        if ok {
            return python;
        }
    }
    panic!("no python3 can import {module} (scripts/test.sh installs it)")
}

#[test]
fn python_smtplib_delivers_to_the_smtp_peer_which_records_the_session() {
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("mail.jsonl");
    let mut server = Program::spawn(
        &["peer", "smtp-server"],
        &["--record", record.to_str().unwrap()],
        dir.path(),
        "The server is ready to receive",
    );
    let script = r#"
import smtplib, sys
with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), local_hostname="student.example") as s:
    s.sendmail("alice@example.com", ["bob@example.net"],
               "Subject: lab\n\nI love computer networks!\n.starts with a dot\n")
"#;
    let out = Command::new(python_with("smtplib"))
        .args(["-c", script, &server.port.to_string()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The peer logs the dialogue as it goes, and a last line once the session is recorded.
    let mut said = Vec::new();
    loop {
        let line = server.line();
        if line.starts_with("-- session from ") {
            assert!(
                line.ends_with("ended (quit), 1 message(s) delivered"),
                "{line}"
            );
            break;
        }
        said.push(line);
    }
    assert_eq!(
        said.last().map(String::as_str),
        Some("S: 221 2.0.0 Bye"),
        "{said:?}"
    );
    let text = std::fs::read_to_string(&record).unwrap();
    let session: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
    assert_eq!(session["ended"], "quit", "{session}");
    assert_eq!(session["bare_lf"], false);
    assert_eq!(session["commands"][0], "ehlo student.example");
    let message = &session["messages"][0];
    assert_eq!(message["from"], "alice@example.com");
    assert_eq!(message["to"][0], "bob@example.net");
    assert_eq!(
        message["data"],
        "Subject: lab\r\n\r\nI love computer networks!\r\n.starts with a dot\r\n"
    );
}

#[test]
fn the_reference_mail_client_delivers_intact_to_aiosmtpd() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    // aiosmtpd's own SMTP server; the handler writes what it received, as received.
    let script = r#"
import asyncio, json, sys
from aiosmtpd.controller import Controller
class Keep:
    async def handle_DATA(self, server, session, envelope):
        print(json.dumps({"from": envelope.mail_from, "to": envelope.rcpt_tos,
                          "data": envelope.original_content.decode()}), flush=True)
        return "250 OK"
c = Controller(Keep(), hostname="127.0.0.1", port=int(sys.argv[1]))
c.start()
print("ready", flush=True)
sys.stdin.read()
c.stop()
"#;
    let mut server = Command::new(python_with("aiosmtpd"))
        .args(["-c", script, &port.to_string()])
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    assert_eq!(lines.next().unwrap().unwrap(), "ready");
    let mut client = common::socklab()
        .args(["ref", "mail-client", "127.0.0.1", &port.to_string()])
        .args(["alice@example.com", "bob@example.net"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    client
        .stdin
        .take()
        .unwrap()
        .write_all(b"I love computer networks!\n.a line with a dot\n")
        .unwrap();
    let out = client.wait_with_output().unwrap();
    let dialogue = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{dialogue}");
    assert!(dialogue.starts_with("S: 220 "), "{dialogue}");
    assert!(dialogue.contains("C: QUIT\nS: 221"), "{dialogue}");
    let got: serde_json::Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    drop(server.stdin.take());
    let _ = server.wait();
    assert_eq!(got["from"], "alice@example.com");
    assert_eq!(got["to"][0], "bob@example.net");
    let data = got["data"].as_str().unwrap();
    assert!(
        data.ends_with("\r\n\r\nI love computer networks!\r\n.a line with a dot\r\n"),
        "{data:?}"
    );
    assert!(
        data.starts_with("From: <alice@example.com>\r\n"),
        "{data:?}"
    );
}

/// Headless Chromium as the machine notes say it runs here: a fresh profile, and nothing of its
/// own on the network (no background requests, no component updates, no QUIC).
fn chromium(profile: &Path) -> Command {
    let mut cmd = Command::new("chromium");
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    cmd
}

#[test]
fn headless_chromium_loads_the_labs_page_and_its_image_from_the_reference_web_server() {
    let dir = tempfile::tempdir().unwrap();
    let www = dir.path().join("www");
    std::fs::create_dir(&www).unwrap();
    // The lab's own documents, as `socklab run` places them.
    std::fs::copy(
        common::root().join("fixtures/labs/web/HelloWorld.html"),
        www.join("HelloWorld.html"),
    )
    .unwrap();
    std::fs::copy(
        common::root().join("fixtures/labs/web/image.png"),
        www.join("image.png"),
    )
    .unwrap();
    let server = Program::start("web-server", &www);
    let url = format!("http://127.0.0.1:{}/HelloWorld.html", server.port);
    let out = chromium(&dir.path().join("profile"))
        .args(["--dump-dom", &url])
        .output()
        .unwrap_or_else(|e| panic!("chromium is needed (scripts/test.sh installs it): {e}"));
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "chromium: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dom.contains("<h1>Hello World</h1>"), "{dom}");
    // The page was fetched, and the browser fetched its image before its load event.
    // Chromium has exited, so every request it made was answered; the lines may trail the
    // answers by a moment. The ceiling only ends a test that would otherwise hang.
    let mut seen = Vec::new();
    while !(seen
        .iter()
        .any(|l: &String| l.starts_with("GET /HelloWorld.html 200"))
        && seen.iter().any(|l| l.starts_with("GET /image.png 200")))
    {
        match server
            .lines
            .recv_timeout(std::time::Duration::from_secs(60))
        {
            Ok(line) => seen.push(line),
            Err(_) => panic!("the server did not serve the page and its image: {seen:?}"),
        }
    }
    assert!(
        seen.iter().all(|l| !l.contains(" 400 ")),
        "the server could not read one of the browser's requests: {seen:?}"
    );
}
