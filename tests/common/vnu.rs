//! The W3C's Nu Html Checker (vnu.jar, the validator behind validator.w3.org) on local files:
//! socklab's pages must be valid HTML5, with no error and no warning. scripts/test.sh installs
//! it (npm's `vnu-jar`, run by Java) where [`jar`] looks; without it these tests fail.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Where scripts/test.sh puts vnu.jar: `$SOCKLAB_VNU_JAR`, else under `~/.cache/socklab-tests`.
pub fn jar() -> PathBuf {
    let jar = std::env::var_os("SOCKLAB_VNU_JAR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/socklab-tests/vnu/node_modules/vnu-jar/build/dist/vnu.jar")
        });
    assert!(
        jar.is_file(),
        "the HTML5 checker {} is needed (scripts/test.sh installs it, or set SOCKLAB_VNU_JAR)",
        jar.display()
    );
    jar
}

/// What the checker says of `pages` (errors and warnings), empty when all are valid.
pub fn messages(pages: &[&Path]) -> String {
    let out = Command::new("java")
        .arg("-jar")
        .arg(jar())
        .args(["--format", "text", "--exit-zero-always"])
        .args(pages)
        .output()
        .expect("java runs vnu.jar (scripts/test.sh installs Java)");
    assert!(out.status.success(), "vnu.jar failed: {out:?}");
    // vnu writes its findings on standard error, and a closing line when there are none.
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .filter(|l| !l.starts_with("Document checking completed"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Asserts that every page of `pages` is valid HTML5, without a warning.
pub fn assert_valid(pages: &[&Path]) {
    let found = messages(pages);
    assert!(found.is_empty(), "not valid HTML5:\n{found}");
}
