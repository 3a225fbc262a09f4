//! The README's examples are real: every ```` ```text ```` block of README.md is a transcript
//! (`$ command` lines, each followed by what it prints), and this test runs each command with
//! the real binary and compares. Run and seed-dependent values (times, ports, seeds, pids,
//! TCP timestamps) are masked on both sides, whitespace runs count as one space, and a line
//! `...` in the README stands for any number of lines. Blocks run in order in one scratch
//! directory (with the project's scenarios and fixtures), so a later block can read what an
//! earlier one wrote. The `--help` examples are checked too: each names a real subcommand,
//! flag and file.

use std::path::Path;
use std::process::{Child, Command, Stdio};

use assert_cmd::cargo::cargo_bin;

mod common;

use common::root;

/// One README block: the commands and the lines each should print.
struct Block {
    /// Line of the opening fence, for messages.
    line: usize,
    commands: Vec<(String, Vec<String>)>,
}

fn blocks(readme: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut lines = readme.lines().enumerate();
    while let Some((i, l)) = lines.next() {
        if l.trim() != "```text" {
            continue;
        }
        let mut block = Block {
            line: i + 1,
            commands: Vec::new(),
        };
        for (_, l) in lines.by_ref() {
            if l.trim_start().starts_with("```") {
                break;
            }
            match l.strip_prefix("$ ") {
                Some(cmd) => block.commands.push((cmd.to_string(), Vec::new())),
                None => match block.commands.last_mut() {
                    Some((_, expected)) => expected.push(l.to_string()),
                    None => panic!(
                        "README.md:{}: a ```text block must start with a `$ command` line \
                         (use another fence for text that is no program's output)",
                        i + 1
                    ),
                },
            }
        }
        out.push(block);
    }
    out
}

fn normalize(text: &str) -> String {
    common::redact(text).replace(" \n", "\n").trim().to_string()
}

/// Whether `actual` shows `expected`, where a `...` line of `expected` skips any lines.
fn matches(expected: &[String], actual: &[String]) -> Result<(), String> {
    let mut a = 0;
    let mut skipping = false;
    for e in expected {
        if e.trim() == "..." {
            skipping = true;
            continue;
        }
        let want = normalize(e);
        loop {
            let Some(got) = actual.get(a) else {
                return Err(format!("missing line: {e}"));
            };
            a += 1;
            if normalize(got) == want {
                skipping = false;
                break;
            }
            if !skipping {
                return Err(format!("expected: {e}\n     got: {got}"));
            }
        }
    }
    if !skipping && a < actual.len() {
        return Err(format!("unexpected line: {}", actual[a]));
    }
    Ok(())
}

/// A scratch directory laid out like the project root, with a PATH where `socklab` is the
/// binary under test, and the test capture the README's verify examples read.
fn scratch() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for name in ["scenarios", "fixtures", "schema"] {
        std::os::unix::fs::symlink(root().join(name), dir.path().join(name)).unwrap();
    }
    common::pcap::noisy_lab_capture(&dir.path().join("lab.pcap"));
    dir
}

fn shell(dir: &Path, cmd: &str) -> Command {
    let bin = cargo_bin("socklab");
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // The README's main job is `cargo run --release -- run`: the same program.
    let cmd = cmd.replace("cargo run --release -- ", "socklab ");
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg(format!("{cmd} 2>&1"))
        .current_dir(dir)
        .env("PATH", path);
    c
}

/// A free port on the host's loopback, for examples that start a server there.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn every_output_in_the_readme_is_what_the_program_prints() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let blocks = blocks(&readme);
    assert!(blocks.len() >= 8, "only {} blocks", blocks.len());
    let dir = scratch();
    let port = free_port().to_string();
    let mut background: Vec<Child> = Vec::new();
    let mut problems = Vec::new();
    for b in &blocks {
        for (cmd, expected) in &b.commands {
            // Reference programs on the host's loopback use the handout's port 12000; here a
            // free one.
            let cmd = if cmd.contains("socklab ref ") {
                cmd.replace("12000", &port)
            } else {
                cmd.clone()
            };
            if let Some(cmd) = cmd.strip_suffix('&') {
                // A server started in the background: its lines are checked as they come, up
                // to a generous ceiling that returns as soon as they are all there.
                let mut child = shell(dir.path(), &format!("exec {}", cmd.trim()))
                    .stdout(Stdio::piped())
                    .spawn()
                    .unwrap();
                let mut out = child.stdout.take().unwrap();
                let want = expected.len();
                let reader = std::thread::spawn(move || {
                    use std::io::Read;
                    let mut seen = String::new();
                    let mut buf = [0u8; 256];
                    while seen.lines().count() < want {
                        match out.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => seen.push_str(&String::from_utf8_lossy(&buf[..n])),
                        }
                    }
                    seen
                });
                let seen = reader.join().unwrap();
                let got: Vec<String> = seen.lines().map(str::to_string).collect();
                if let Err(e) = matches(expected, &got) {
                    problems.push(format!("README.md:{} `$ {cmd}&`:\n{e}", b.line));
                }
                background.push(child);
                continue;
            }
            let out = shell(dir.path(), &cmd).output().unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            let got: Vec<String> = text.lines().map(str::to_string).collect();
            if let Err(e) = matches(expected, &got) {
                problems.push(format!(
                    "README.md:{} `$ {cmd}`:\n{e}\n--- the program printed:\n{text}",
                    b.line
                ));
            }
        }
        for mut child in background.drain(..) {
            // Only our own child, by its handle.
            let _ = child.kill();
            let _ = child.wait();
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[test]
fn normalizing_masks_run_values_and_nothing_else() {
    assert_eq!(
        normalize("PASS  upper-tcp-round-trip   385 ms  6/6"),
        "PASS upper-tcp-round-trip N ms 6/6"
    );
    assert_eq!(
        normalize("127.0.0.1:57414 → 24135"),
        "127.0.0.1:PORT → PORT"
    );
    assert_ne!(normalize("points 90/90"), normalize("points 89/90"));
    let e = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert!(matches(&e(&["a", "...", "z"]), &e(&["a", "b", "c", "z"])).is_ok());
    assert!(matches(&e(&["a", "z"]), &e(&["a", "b", "z"])).is_err());
    assert!(matches(&e(&["a", "..."]), &e(&["a", "b"])).is_ok());
    assert!(matches(&e(&["a"]), &e(&["a", "b"])).is_err());
}

/// Every `Examples:` line of every `--help` names real subcommands, flags and files.
#[test]
fn help_examples_name_real_commands_flags_and_files() {
    let help = |args: &[&str]| {
        let out = common::socklab().args(args).arg("--help").output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let top = help(&[]);
    let subcommands: Vec<String> = top
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .filter(|c| c != "help")
        .collect();
    assert!(subcommands.len() >= 6, "{subcommands:?}");
    let mut checked = 0;
    for sub in &subcommands {
        let text = help(&[sub]);
        // The flags the options list declares (`  -j, --jobs <N>`), not any `--x` of the text:
        // the examples themselves are part of the text.
        // Also the options a usage synopsis declares in brackets (`[--record FILE]`): `peer`
        // passes them to the peer it runs.
        let declared: Vec<String> = text
            .lines()
            .map(str::trim_start)
            .filter(|l| l.starts_with('-'))
            .flat_map(|l| l.split([' ', ',', '=']))
            .filter(|w| w.starts_with("--"))
            .map(str::to_string)
            .chain(
                text.split("[--")
                    .skip(1)
                    .filter_map(|rest| rest.split([' ', ']']).next())
                    .map(|name| format!("--{name}")),
            )
            .collect();
        for line in text
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with("socklab "))
        {
            let words: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(words[1], sub, "`{line}` in `socklab {sub} --help`");
            for w in &words[2..] {
                if w.starts_with("--") {
                    let flag = w.split('=').next().unwrap();
                    assert!(
                        declared.iter().any(|d| d == flag),
                        "`{line}`: `{flag}` is no flag of {sub} ({declared:?})"
                    );
                } else if w.contains('/')
                    && !w.starts_with('~')
                    && !w.contains("path/to")
                    && !w.contains('=')
                {
                    let path = w.trim_end_matches(',');
                    assert!(
                        root().join(path).exists() || path.starts_with("reports/"),
                        "`{line}` in `socklab {sub} --help`: no such file {path}"
                    );
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 6, "only {checked} examples");
}
