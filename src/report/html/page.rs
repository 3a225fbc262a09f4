//! The page every HTML report shares: one self-contained HTML5 document with its CSS inline,
//! no script, and a Content-Security-Policy that forbids loading anything (`default-src
//! 'none'`): even if some text ever escaped escaping, the page could run no script and fetch
//! nothing. Colours always come with words (PASS, FAIL, lost), so a page printed in black and
//! white says the same.

use maud::{html, Markup, PreEscaped, DOCTYPE};

use crate::check::Outcome;
use crate::result::Verdict;

/// Everything inline: no font, image or stylesheet is fetched (the CSP below forbids it).
const CSS: &str = r#"
:root { color-scheme: light; --pass: #1a7f37; --fail: #cf222e; --warn: #9a6700; --skip: #57606a;
  --line: #d0d7de; --soft: #f6f8fa; --ink: #1f2328; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif;
  color: var(--ink); margin: 0 auto; padding: 1.5rem; max-width: 72rem; }
h1 { font-size: 1.6rem; margin: 0 0 .5rem; }
h2 { font-size: 1.3rem; margin: 2rem 0 .5rem; border-bottom: 1px solid var(--line); padding-bottom: .25rem; }
h3 { font-size: 1.05rem; margin: 1.2rem 0 .4rem; }
section.scenario { margin-top: 2.5rem; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: .88em; }
pre { background: var(--soft); border: 1px solid var(--line); padding: .6rem .8rem; overflow-x: auto;
  white-space: pre-wrap; word-break: break-word; }
table { border-collapse: collapse; margin: .5rem 0 1rem; width: 100%; }
th, td { border: 1px solid var(--line); padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: var(--soft); }
td.num, th.num { text-align: right; white-space: nowrap; }
.nowrap { white-space: nowrap; }
.meta { color: var(--skip); font-size: .9em; }
.badge { display: inline-block; font-weight: 700; font-size: .8em; padding: .05rem .45rem; border-radius: .3rem;
  border: 1px solid currentColor; white-space: nowrap; }
.pass { color: var(--pass); } .fail { color: var(--fail); } .error { color: var(--warn); } .skip { color: var(--skip); }
.hidden-note { color: var(--skip); font-style: italic; }
.totals { font-size: 1.1rem; }
.cause { margin-bottom: .6rem; }
.ladder { overflow-x: auto; margin: .5rem 0 1rem; }
.ladder svg, .chart svg { max-width: 100%; height: auto; }
svg text { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace; }
tr.broke td { background: #fff8c5; }
@media print {
  body { padding: 0; max-width: none; font-size: 11pt; }
  a { color: inherit; text-decoration: none; }
  pre { white-space: pre-wrap; }
  tr, .cause, svg { break-inside: avoid; }
  h2, h3 { break-after: avoid; }
  .ladder { overflow: visible; }
}
"#;

/// The policy of every page: nothing but the inline style; images only as `data:`.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

/// A whole document: `title` in the tab, `body` inside.
pub(super) fn page(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="Content-Security-Policy" content=(CSP);
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (PreEscaped(CSS)) }
            }
            body { (body) }
        }
    }
}

/// The verdict as a coloured word.
pub(super) fn verdict(v: Verdict) -> Markup {
    let class = match v {
        Verdict::Pass => "badge pass",
        Verdict::Fail => "badge fail",
        Verdict::Error => "badge error",
        Verdict::NotGraded => "badge skip",
    };
    html! { span class=(class) { (v.label()) } }
}

/// A check's outcome as a coloured word.
pub(super) fn outcome(o: Outcome) -> Markup {
    let class = match o {
        Outcome::Passed => "badge pass",
        Outcome::Failed | Outcome::NotRun | Outcome::NotSubmitted => "badge fail",
        Outcome::HarnessError => "badge error",
        Outcome::NotGraded => "badge skip",
    };
    let word = match o {
        Outcome::Failed => "lost",
        o => o.label(),
    };
    html! { span class=(class) { (word) } }
}

/// Writes `markup` to `out`.
pub(super) fn write(markup: Markup, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    out.write_all(markup.into_string().as_bytes())
}
