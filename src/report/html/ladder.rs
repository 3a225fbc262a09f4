//! The ladder of a capture as inline SVG, drawn from the same [`Ladder`] the Markdown report
//! writes as Mermaid: one lifeline per program endpoint, one arrow per packet, top to bottom,
//! ICMP errors dashed. SVG elements are always written with a closing tag (`<line ...></line>`):
//! in an HTML document a bare `<line ...>` would swallow the elements after it.

use maud::{html, Markup};

use crate::report::view::Ladder;

/// Horizontal distance between two lifelines.
const LANE: u32 = 260;
/// Room left and right of the outer lifelines, for labels.
const MARGIN: u32 = 130;
const HEAD: u32 = 54;
const ROW: u32 = 26;
/// Characters of a label that fit between two neighbouring lifelines (12px monospace).
const LABEL_CHARS: usize = 30;

/// The SVG of `ladder`; `what` names it for screen readers.
pub(super) fn svg(ladder: &Ladder, what: &str) -> Markup {
    let lanes = ladder.lanes.len().max(1) as u32;
    let width = 2 * MARGIN + (lanes - 1) * LANE;
    let rows = ladder.arrows.len() as u32 + u32::from(ladder.more > 0);
    let bottom = HEAD + 20 + rows * ROW;
    let height = bottom + 10;
    let x = |lane: usize| MARGIN + lane as u32 * LANE;
    html! {
        svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label=(what)
            width=(width) height=(height) viewBox={ "0 0 " (width) " " (height) } {
            @for (i, lane) in ladder.lanes.iter().enumerate() {
                rect x=(x(i) - 105) y="4" width="210" height="40" rx="5"
                    fill="#f6f8fa" stroke="#57606a" {}
                text x=(x(i)) y="20" text-anchor="middle" font-size="12" font-weight="bold" {
                    (cut(&lane.name, 28))
                }
                text x=(x(i)) y="36" text-anchor="middle" font-size="11" {
                    (cut(&lane.endpoint, 30))
                }
                line x1=(x(i)) y1=(HEAD - 10) x2=(x(i)) y2=(bottom)
                    stroke="#8c959f" stroke-width="1.5" {}
            }
            @for (i, a) in ladder.arrows.iter().enumerate() {
                @let y = HEAD + 20 + i as u32 * ROW;
                @let label = format!("{}. {}", a.number, a.label);
                @let colour = if a.icmp { "#9a6700" } else { "#0969da" };
                @let dash = if a.icmp { "5 4" } else { "none" };
                g class="arrow" {
                    title { (label) }
                    @if a.from == a.to {
                        // A packet from an endpoint to itself: a small loop to its right.
                        path d={ "M" (x(a.from)) " " (y - 6) " h 28 v 12 h -24" }
                            fill="none" stroke=(colour) stroke-width="1.5" stroke-dasharray=(dash) {}
                        polygon points=(head(x(a.from), y + 6, true)) fill=(colour) {}
                        text x=(x(a.from) + 34) y=(y + 4) font-size="12" { (cut(&label, LABEL_CHARS)) }
                    } @else {
                        @let (x1, x2) = (x(a.from), x(a.to));
                        @let chars = LABEL_CHARS * a.from.abs_diff(a.to);
                        line x1=(x1) y1=(y) x2=(x2) y2=(y)
                            stroke=(colour) stroke-width="1.5" stroke-dasharray=(dash) {}
                        polygon points=(head(x2, y, x2 < x1)) fill=(colour) {}
                        text x=((x1 + x2) / 2) y=(y - 5) text-anchor="middle" font-size="12" {
                            (cut(&label, chars))
                        }
                    }
                }
            }
            @if ladder.more > 0 {
                text x=(MARGIN) y=(HEAD + 20 + ladder.arrows.len() as u32 * ROW) font-size="12"
                    font-style="italic" {
                    "… " (ladder.more) " more packets (see the packet list)"
                }
            }
        }
    }
}

/// The arrowhead at (`x`, `y`), pointing left or right.
fn head(x: u32, y: u32, left: bool) -> String {
    let back = if left { x + 9 } else { x.saturating_sub(9) };
    format!("{x},{y} {back},{} {back},{}", y - 4, y + 4)
}

/// `text` cut to `max` characters, the cut marked.
fn cut(text: &str, max: usize) -> String {
    let flat = text.replace(['\n', '\r'], " ");
    if flat.chars().count() <= max {
        return flat;
    }
    let mut s: String = flat.chars().take(max.saturating_sub(1)).collect();
    s.push('…');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::view::{Arrow, Lane};

    fn ladder() -> Ladder {
        let lane = |name: &str, endpoint: &str| Lane {
            name: name.into(),
            endpoint: endpoint.into(),
        };
        let arrow = |from, to, number, label: &str, icmp| Arrow {
            from,
            to,
            number,
            label: label.into(),
            icmp,
        };
        Ladder {
            lanes: vec![
                lane("client", "127.0.0.1:5000"),
                lane("server", "127.0.0.1:6000"),
            ],
            arrows: vec![
                arrow(0, 1, 1, "[SYN] <script>alert(1)</script>", false),
                arrow(1, 0, 2, "ICMP port unreachable", true),
                arrow(1, 1, 3, "to itself", false),
            ],
            more: 4,
        }
    }

    #[test]
    fn one_lifeline_per_lane_one_arrow_per_packet_and_labels_escaped() {
        let svg = svg(&ladder(), "ladder").into_string();
        assert_eq!(svg.matches("<g class=\"arrow\">").count(), 3);
        assert_eq!(svg.matches("stroke=\"#8c959f\"").count(), 2, "{svg}");
        assert_eq!(svg.matches("stroke-dasharray=\"5 4\"").count(), 1);
        assert!(!svg.contains("<script>"), "{svg}");
        assert!(svg.contains("&lt;script&gt;alert(1)"), "{svg}");
        assert!(svg.contains("4 more packets"));
        // SVG elements are closed: a bare <line> would swallow what follows in HTML.
        assert_eq!(
            svg.matches("<line ").count(),
            svg.matches("</line>").count()
        );
        assert_eq!(
            svg.matches("<polygon ").count(),
            svg.matches("</polygon>").count()
        );
    }

    #[test]
    fn long_labels_are_cut_and_marked() {
        assert_eq!(cut("abcdef", 4), "abc…");
        assert_eq!(cut("a\nb", 4), "a b");
    }
}
