//! Embeds the bundled scenarios: writes `$OUT_DIR/bundled_scenarios.rs`, one
//! `(name, include_str!(file))` entry per `scenarios/**/*.json`, sorted by name, so `socklab`
//! installed with `cargo install` has them without the source tree (see `src/bundled.rs`).
//!
//! A build script rather than a crate such as `include_dir`: `rerun-if-changed` on the directory
//! makes cargo rebuild when a scenario is added or removed (not only edited), and the list costs
//! no dependency.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// JSON files that are not scenarios, as `socklab run` skips them when it searches a directory
/// (`run::NOT_SCENARIOS`): a report or a manifest left under `scenarios/` is not bundled.
const NOT_SCENARIOS: &[&str] = &["results.json", "socklab.json"];

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            walk(&path, out);
        } else if path.extension().is_some_and(|e| e == "json")
            && !path
                .file_name()
                .is_some_and(|n| NOT_SCENARIOS.iter().any(|x| n == *x))
        {
            out.push(path);
        }
    }
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=scenarios");
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    walk(&root.join("scenarios"), &mut files);
    files.sort();
    let mut code = String::from("&[\n");
    for f in &files {
        let name = f
            .strip_prefix(&root)
            .expect("under the manifest directory")
            .to_str()
            .expect("scenario paths are UTF-8");
        let abs = f.to_str().expect("scenario paths are UTF-8");
        writeln!(code, "    ({name:?}, include_str!({abs:?})),").unwrap();
    }
    code.push_str("]\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    std::fs::write(out.join("bundled_scenarios.rs"), code).expect("write bundled_scenarios.rs");
}
