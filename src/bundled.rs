//! The bundled scenarios, built into the binary: `socklab list`, `run` and `verify --scenario
//! ID` work from any directory, and a student or CI job that only ran `cargo install` has them.
//!
//! Contract: [`FILES`] is every `scenarios/**/*.json` of the source tree the binary was built
//! from, sorted by name (`scenarios/web/hello-world.json`); `build.rs` writes the list as
//! `include_str!` entries. A bundled scenario loads under the name `NAME (bundled)`, which is
//! what reports and diagnostics show, so it is never mistaken for a file on disk.
//!
//! Outside `src/scenario/` because the fuzz targets build that directory on its own, without
//! this crate's build script.

use std::path::PathBuf;

use crate::scenario::{load_str, Diagnostic, Loaded};

/// `(name under the source tree, text)` of each bundled scenario, sorted by name.
static FILES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/bundled_scenarios.rs"));

/// The name a bundled scenario is shown by: `scenarios/web/hello-world.json (bundled)`.
pub(crate) fn display_name(name: &str) -> String {
    format!("{name} (bundled)")
}

/// Loads every bundled scenario.
pub(crate) fn load_all() -> Result<Vec<Loaded>, Box<Diagnostic>> {
    FILES
        .iter()
        .map(|(name, text)| load_str(&PathBuf::from(display_name(name)), (*text).to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scenario_file_of_the_tree_is_bundled_with_its_text() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        // What `socklab run scenarios/` would load from the tree, sorted.
        let on_disk = crate::run::discover(&[root.join("scenarios")]).unwrap();
        let names: Vec<String> = on_disk
            .iter()
            .map(|p| p.strip_prefix(root).unwrap().display().to_string())
            .collect();
        let bundled: Vec<&str> = FILES.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, bundled);
        for ((_, text), path) in FILES.iter().zip(&on_disk) {
            assert_eq!(
                *text,
                std::fs::read_to_string(path).unwrap(),
                "{}",
                path.display()
            );
        }
        let loaded = load_all().unwrap();
        assert_eq!(loaded.len(), FILES.len());
        assert!(loaded[0]
            .path
            .display()
            .to_string()
            .ends_with(".json (bundled)"));
    }
}
