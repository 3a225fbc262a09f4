//! `results.json`: the whole [`RunResult`], pretty-printed.

use std::io;

use crate::result::RunResult;

pub(crate) fn write_json(result: &RunResult, out: &mut dyn io::Write) -> io::Result<()> {
    // serde_json hands an I/O error back as it was (a closed pipe stays BrokenPipe).
    serde_json::to_writer_pretty(&mut *out, result).map_err(io::Error::from)?;
    writeln!(out)
}
