//! docs/grading.md and its examples (docs/examples/) say what socklab accepts:
//!
//! - every example file is, byte for byte, a code block of docs/grading.md (the page shows what
//!   the files hold), and every `examples/...` link of the page names a file;
//! - every YAML example parses (PyYAML, a real YAML reader; without it the test fails and says
//!   how to install it, as scripts/test.sh does), and the shard counts agree within each: the
//!   GitHub matrix and its `--shard M/N`, GitLab's `parallel:`, the Kubernetes Job's
//!   `completions` and its `--shard-total`, the Slurm array and the shards the merge reads;
//! - every shell example passes `bash -n`;
//! - every `socklab` command, in the page's code and in the examples, is accepted by socklab's
//!   argument parser: it is run with `--help` appended (clap stops at the first unknown flag or
//!   bad value, before it reaches `--help`), CI variables replaced by sample values; and every
//!   flag the page names in its prose (`--resume`, `socklab run --submission`) is one of
//!   `socklab grade`, `merge` or `run`.

use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::cargo::cargo_bin;
use regex::Regex;
use serde_json::Value;

mod common;

use common::root;

fn page() -> String {
    std::fs::read_to_string(root().join("docs/grading.md")).unwrap()
}

fn examples() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("docs/examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 7, "docs/examples holds {files:?}");
    files
}

/// The fenced code blocks of a Markdown text, and the text outside them.
fn blocks(md: &str) -> (Vec<String>, String) {
    let mut code = Vec::new();
    let mut prose = String::new();
    let mut current: Option<String> = None;
    for line in md.lines() {
        if line.starts_with("```") {
            match current.take() {
                Some(block) => code.push(block),
                None => current = Some(String::new()),
            }
            continue;
        }
        match current.as_mut() {
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
            None => {
                prose.push_str(line);
                prose.push('\n');
            }
        }
    }
    assert!(
        current.is_none(),
        "an unclosed code block in docs/grading.md"
    );
    (code, prose)
}

/// Inline code spans of prose.
fn spans(prose: &str) -> Vec<String> {
    Regex::new(r"`([^`\n]+)`")
        .unwrap()
        .captures_iter(prose)
        .map(|c| c[1].to_string())
        .collect()
}

fn name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn every_example_is_on_the_page_and_every_link_names_one() {
    let page = page();
    let (code, _) = blocks(&page);
    for file in examples() {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            code.contains(&text),
            "docs/examples/{} is not a code block of docs/grading.md: the page and the file \
             must hold the same text",
            name(&file)
        );
    }
    for link in Regex::new(r"\]\((examples/[^)]+)\)")
        .unwrap()
        .captures_iter(&page)
    {
        assert!(
            root().join("docs").join(&link[1]).is_file(),
            "docs/grading.md links {}, which does not exist",
            &link[1]
        );
    }
}

/// The documents of a YAML file, read by PyYAML and handed over as JSON.
fn yaml(path: &Path) -> Vec<Value> {
    let script = "import json, sys, yaml\n\
                  print(json.dumps(list(yaml.safe_load_all(open(sys.argv[1])))))";
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(path)
        .output()
        .expect("python3 is missing: the YAML examples are read with PyYAML");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !err.contains("No module named 'yaml'"),
        "PyYAML is missing: install it (apt-get install python3-yaml, or pip install pyyaml; \
         scripts/test.sh does)"
    );
    assert!(
        out.status.success(),
        "{} is not valid YAML:\n{err}",
        path.display()
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The `M/N` of every `--shard M/N` and the N of every `--shard-total N` in a text.
fn shard_totals(text: &str) -> Vec<u64> {
    Regex::new(r"--shard-total[ =](\d+)|--shard[ =][^\n]*?/(\d+)")
        .unwrap()
        .captures_iter(text)
        .map(|c| c.get(1).or(c.get(2)).unwrap().as_str().parse().unwrap())
        .collect()
}

#[test]
fn the_yaml_examples_parse_and_agree_on_their_shards() {
    let dir = root().join("docs/examples");
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();

    let gha = &yaml(&dir.join("github-actions-shards.yml"))[0];
    let matrix = gha["jobs"]["grade"]["strategy"]["matrix"]["shard"]
        .as_array()
        .expect("the GitHub workflow's grade job has a matrix of shards");
    let n = matrix.len() as u64;
    let want: Vec<Value> = (1..=n).map(Value::from).collect();
    assert_eq!(matrix, &want, "the matrix numbers the shards 1 to N");
    assert_eq!(shard_totals(&read("github-actions-shards.yml")), vec![n]);
    assert_eq!(gha["jobs"]["merge"]["needs"], "grade");
    let merge = read("github-actions-shards.yml");
    for m in 1..=n {
        assert!(
            merge.contains(&format!("shards/shard-{m}")),
            "the merge job reads shard {m}"
        );
    }

    let gitlab = &yaml(&dir.join("gitlab-ci.yml"))[0];
    assert_eq!(gitlab["grade"]["parallel"], 3);
    assert_eq!(gitlab["merge"]["needs"][0], "grade");
    assert_eq!(gitlab["stages"], serde_json::json!(["grade", "merge"]));

    let job = &yaml(&dir.join("k8s-grade-job.yaml"))[0];
    assert_eq!(job["kind"], "Job");
    assert_eq!(job["spec"]["completionMode"], "Indexed");
    let completions = job["spec"]["completions"].as_u64().unwrap();
    assert_eq!(
        shard_totals(&read("k8s-grade-job.yaml")),
        vec![completions],
        "--shard-total is the Job's completions"
    );
    let merge = read("k8s-merge-job.yaml");
    assert_eq!(yaml(&dir.join("k8s-merge-job.yaml"))[0]["kind"], "Job");
    for i in 0..completions {
        assert!(
            merge.contains(&format!("/grading/shards/{i}")),
            "the merge Job reads shard {i}"
        );
    }

    let classroom = &yaml(&dir.join("github-classroom.yml"))[0];
    let steps = classroom["jobs"]["run-autograding-tests"]["steps"]
        .as_array()
        .unwrap();
    let reporter = steps
        .iter()
        .find(|s| s["uses"].as_str().is_some_and(|u| u.contains("reporter")))
        .expect("the Classroom workflow reports its results");
    for runner in reporter["with"]["runners"].as_str().unwrap().split(',') {
        let var = format!("{}_RESULTS", runner.trim().to_uppercase());
        assert!(
            reporter["env"][&var]
                .as_str()
                .is_some_and(|v| v.contains(&format!("steps.{}.outputs.result", runner.trim()))),
            "the reporter reads runner {runner} from {var}"
        );
    }

    let slurm = read("slurm-grade.sh");
    let array = Regex::new(r"#SBATCH --array=1-(\d+)")
        .unwrap()
        .captures(&slurm)
        .expect("the Slurm script is an array 1-N");
    assert!(array[1].parse::<u64>().unwrap() >= 2);
}

#[test]
fn the_shell_examples_are_valid_bash() {
    for file in examples().into_iter().filter(|f| name(f).ends_with(".sh")) {
        let out = Command::new("bash").arg("-n").arg(&file).output().unwrap();
        assert!(
            out.status.success(),
            "{}: {}",
            file.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The `socklab` commands of a text: continued lines joined, cut where the shell would end
/// the command, CI variables replaced by sample values and quotes removed.
fn commands(text: &str) -> Vec<Vec<String>> {
    let text = text.replace("\\\n", " ");
    let vars = Regex::new(r"\$\{\{[^}]*\}\}|\$\{?[A-Za-z_][A-Za-z0-9_]*\}?").unwrap();
    Regex::new(r"\bsocklab ((?:grade|merge|run|list|report)\b[^\n`|;&>#]*)")
        .unwrap()
        .captures_iter(&text)
        .map(|c| {
            vars.replace_all(&c[1], "1")
                .replace(['"', '\''], "")
                .split_whitespace()
                .map(String::from)
                .collect()
        })
        .collect()
}

#[test]
fn every_socklab_command_and_flag_of_the_docs_is_accepted() {
    let page = page();
    let (code, prose) = blocks(&page);
    let mut texts: Vec<(String, String)> = code
        .into_iter()
        .map(|b| ("docs/grading.md".to_string(), b))
        .collect();
    for file in examples() {
        let text = std::fs::read_to_string(&file).unwrap();
        texts.push((format!("docs/examples/{}", name(&file)), text));
    }
    let mut checked = 0;
    for (from, text) in &texts {
        for args in commands(text) {
            let out = Command::new(cargo_bin("socklab"))
                .current_dir(root())
                .args(&args)
                .arg("--help")
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{from}: `socklab {}` is refused:\n{}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr)
            );
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} socklab commands found");

    let help: String = ["grade", "merge", "run"]
        .iter()
        .map(|sub| {
            let out = Command::new(cargo_bin("socklab"))
                .args([sub, "--help"])
                .output()
                .unwrap();
            String::from_utf8_lossy(&out.stdout).into_owned()
        })
        .collect();
    // Prose names flags without their values (`socklab run --submission`): their names are
    // checked, not parsed.
    let flag = Regex::new(r"(?:^|\s)--([a-z][a-z-]*)").unwrap();
    for span in spans(&prose) {
        if !(span.starts_with("--") || span.starts_with("socklab ")) {
            continue;
        }
        for f in flag.captures_iter(&span) {
            let flag = &f[1];
            let known = Regex::new(&format!(r"(?m)^\s+(-\w, )?--{}\b", regex::escape(flag)))
                .unwrap()
                .is_match(&help);
            assert!(
                known,
                "docs/grading.md names `--{flag}`, which no socklab grade, merge or run accepts"
            );
        }
    }
}
