//! `socklab list`: labs, roles and scenarios with their questions.

use std::io::Write;

use crate::cli::ListArgs;
use crate::error::AppError;
use crate::roles;
use crate::run;

pub(crate) fn list(args: &ListArgs, out: &mut dyn Write) -> Result<(), AppError> {
    let selected = run::select(&args.paths, &args.scenarios, args.lab.as_deref())?;
    selected.announce();
    let loaded = selected.loaded;
    let io = |e: std::io::Error| AppError::Harness(format!("cannot write: {e}"));
    match write_list(args, &loaded, out) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.map_err(io),
    }
}

fn write_list(
    args: &ListArgs,
    loaded: &[crate::scenario::Loaded],
    out: &mut dyn Write,
) -> std::io::Result<()> {
    for (lab, about) in roles::LABS {
        if args.lab.as_deref().is_some_and(|l| l != *lab) {
            continue;
        }
        writeln!(out, "{lab}: {about}")?;
        writeln!(out, "  roles:")?;
        let roles = || roles::ROLES.iter().filter(|r| r.lab == *lab);
        // The calling conventions line up per lab: `HOST PORT` or `SERVER PORT FROM TO`.
        let width = roles().map(|r| r.usage().len()).max().unwrap_or(0).max(10);
        for r in roles() {
            writeln!(
                out,
                "    {:<18} {:<width$} {}",
                r.name,
                r.usage(),
                r.summary
            )?;
        }
        let options = || roles::OPTIONS.iter().filter(|o| o.lab == *lab);
        if options().next().is_some() {
            writeln!(out, "  options (manifest `options`, default first):")?;
            for o in options() {
                writeln!(out, "    {:<18} {}", o.name, o.values.join(" | "))?;
                writeln!(out, "    {:<18} {}", "", o.summary)?;
            }
        }
        writeln!(out, "  scenarios:")?;
        let mut scenarios = loaded.iter().filter(|l| l.scenario.lab == *lab).peekable();
        if scenarios.peek().is_none() {
            writeln!(
                out,
                "    (none yet: the reference programs above run with `socklab ref`)"
            )?;
        }
        for l in scenarios {
            // Advisory scenarios (beyond the handout, 0 points) say so where they are listed.
            let mark = if l.scenario.advisory {
                "(advisory, 0 points) "
            } else {
                ""
            };
            writeln!(out, "    {:<40} {mark}{}", l.scenario.id, l.scenario.title)?;
            writeln!(out, "    {:<40} Q: {}", "", l.scenario.question)?;
        }
        writeln!(out)?;
    }
    Ok(())
}
