//! Headless Chromium as a test instrument for socklab's HTML pages: load a local file, take a
//! screenshot, and record every network request the page made (Chromium's NetLog) and every
//! message it logged to its console.
//!
//! Nothing may leave the machine, whatever the page says: every request goes to a proxy on
//! loopback that refuses it (a TCP port this process holds bound and never listens on, so no
//! other program can answer there), loopback included (`<-loopback>`), and no name resolves.
//! A request the page makes still shows in the NetLog, refused, which is what the tests look
//! for. Chromium's own background requests (component updates, ...) go the same way; they are
//! told apart from the page's by their initiator, "not an origin".
//!
//! `--screenshot` and `--dump-dom` return once the page has loaded: no wait on a clock decides
//! anything. The budget below is a ceiling against a hung browser, never a verdict.

use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::socket::{bind, getsockname, socket, AddressFamily, SockFlag, SockType, SockaddrIn};
use serde_json::Value;

/// Ceiling for one Chromium run (a loaded machine can take seconds to start it).
const BUDGET: Duration = Duration::from_secs(120);

/// What loading a page showed.
pub struct Loaded {
    /// The screenshot, PNG.
    pub png: Vec<u8>,
    /// URLs the page asked for (the page's own file excepted).
    pub requests: Vec<String>,
    /// Console messages, as Chromium logs them (`"Uncaught Error: ...", source: ...`).
    pub console: Vec<String>,
}

impl std::fmt::Debug for Loaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loaded")
            .field("png", &format_args!("{} bytes", self.png.len()))
            .field("requests", &self.requests)
            .field("console", &self.console)
            .finish()
    }
}

/// Chromium, or a failed test that says how to get it.
pub fn chromium() -> PathBuf {
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|d| d.join("chromium"))
        .find(|p| p.is_file())
        .expect("chromium is needed for the HTML report tests (scripts/test.sh installs it)")
}

/// A loopback TCP port that refuses every connection: bound, never listening.
fn refusing_port() -> (OwnedFd, u16) {
    let fd = socket(
        AddressFamily::Inet,
        SockType::Stream,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .expect("socket");
    bind(fd.as_raw_fd(), &SockaddrIn::new(127, 0, 0, 1, 0)).expect("bind 127.0.0.1:0");
    let addr: SockaddrIn = getsockname(fd.as_raw_fd()).expect("getsockname");
    (fd, addr.port())
}

/// Runs Chromium on `page` with `action` (`--screenshot=...`, `--dump-dom`), offline, with a
/// fresh profile in `dir`; returns its stdout and stderr.
fn run(page: &Path, dir: &Path, action: &str) -> (String, String) {
    let (_proxy, port) = refusing_port();
    let url = file_url(page);
    let mut child = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-default-apps",
            "--disable-extensions",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--no-pings",
            "--hide-scrollbars",
            "--window-size=1280,1600",
            "--enable-logging=stderr",
            "--v=0",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--proxy-bypass-list=<-loopback>",
            "--net-log-capture-mode=Default",
        ])
        .arg(format!("--proxy-server=http://127.0.0.1:{port}"))
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .arg(format!(
            "--log-net-log={}",
            dir.join("netlog.json").display()
        ))
        .arg(action)
        .arg(&url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start chromium");
    // Read both pipes while it runs, so a chatty browser never blocks on a full pipe.
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut s).ok();
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut s).ok();
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for chromium") {
            break status;
        }
        if start.elapsed() > BUDGET {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish loading {url} within {BUDGET:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let (out, err) = (out.join().unwrap(), err.join().unwrap());
    assert!(
        status.success(),
        "chromium failed on {url}: {status}\n{err}"
    );
    (out, err)
}

/// `file:///...` of `page`, absolute.
pub fn file_url(page: &Path) -> String {
    let abs = std::fs::canonicalize(page).expect("the page exists");
    format!("file://{}", abs.display())
}

/// Loads `page`: its screenshot, the requests it made, its console messages.
pub fn load(page: &Path) -> Loaded {
    let dir = tempfile::tempdir().unwrap();
    let shot = dir.path().join("shot.png");
    let (_, stderr) = run(
        page,
        dir.path(),
        &format!("--screenshot={}", shot.display()),
    );
    let png = std::fs::read(&shot).unwrap_or_else(|e| panic!("no screenshot ({e}): {stderr}"));
    let netlog = std::fs::read_to_string(dir.path().join("netlog.json")).expect("the NetLog");
    Loaded {
        png,
        requests: page_requests(&netlog, &file_url(page)),
        console: console_messages(&stderr),
    }
}

/// The page's DOM once loaded, serialized (text is escaped, elements are tags).
pub fn dump_dom(page: &Path) -> String {
    let dir = tempfile::tempdir().unwrap();
    run(page, dir.path(), "--dump-dom").0
}

/// URLs of the requests a document made (its initiator is an origin, or `null` for a file),
/// from a NetLog; Chromium's own requests ("not an origin") and `page` itself are left out.
pub fn page_requests(netlog: &str, page: &str) -> Vec<String> {
    let log: Value = serde_json::from_str(netlog).expect("the NetLog is JSON");
    let start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"].clone();
    assert!(
        start_job.is_number(),
        "NetLog without URL_REQUEST_START_JOB"
    );
    let mut urls: Vec<String> = log["events"]
        .as_array()
        .expect("NetLog events")
        .iter()
        .filter(|e| e["type"] == start_job)
        .filter(|e| e["params"]["initiator"] != "not an origin")
        .filter_map(|e| e["params"]["url"].as_str())
        .filter(|url| *url != page)
        .map(str::to_string)
        .collect();
    urls.dedup();
    urls
}

/// Console messages in Chromium's log (`[...:INFO:CONSOLE:1] "message", source: URL (1)`;
/// older versions write `CONSOLE(1)`).
pub fn console_messages(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter(|l| l.contains(":CONSOLE:") || l.contains(":CONSOLE("))
        .map(str::to_string)
        .collect()
}

/// Distinct colours in a PNG: 1 for a blank page.
pub fn distinct_colours(png: &[u8]) -> usize {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(png));
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("PNG size")];
    let info = reader.next_frame(&mut buf).expect("PNG frame");
    let px = info.color_type.samples();
    let mut colours: Vec<&[u8]> = buf[..info.buffer_size()].chunks(px).collect();
    colours.sort_unstable();
    colours.dedup();
    colours.len()
}

/// Loads `page` and asserts what every socklab page must show: drawn (not blank), no network
/// request, no console message.
pub fn assert_offline_and_clean(page: &Path) -> Loaded {
    let loaded = load(page);
    let colours = distinct_colours(&loaded.png);
    assert!(
        colours > 8,
        "{}: the screenshot is blank ({colours} colours, {} bytes)",
        page.display(),
        loaded.png.len()
    );
    assert!(
        loaded.requests.is_empty(),
        "{}: the page asked the network for {:?}",
        page.display(),
        loaded.requests
    );
    assert!(
        loaded.console.is_empty(),
        "{}: the page logged {:?}",
        page.display(),
        loaded.console
    );
    loaded
}
