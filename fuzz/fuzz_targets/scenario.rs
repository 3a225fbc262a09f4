//! Scenario text of any bytes: loading ends with a scenario or one located diagnostic, which
//! renders without panicking.
#![no_main]
#![allow(dead_code, unused_imports)]

#[path = "../../src/scenario/mod.rs"]
mod scenario;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    match scenario::load_str(std::path::Path::new("fuzz.json"), text) {
        Ok(loaded) => {
            let _ = loaded.locator;
        }
        Err(diag) => {
            assert!(diag.line >= 1 && diag.column >= 1, "{diag:?}");
            let _ = diag.to_string();
        }
    }
});
