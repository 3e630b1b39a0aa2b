//! Bar charts drawn on the server as inline SVG: no script, readable without colour (every bar
//! carries its value as text), and described for screen readers by a `<title>` and `<desc>`.
//!
//! Amounts are scaled in fen (integers), so a bar's length never suffers from rounding in the
//! scale; a net negative amount (a month whose reversals outweigh its grants) is drawn below
//! or left of the zero line in another colour.

use crate::domain::Money;

use super::super::fmt;

/// One bar: its label, its amount and an id tests and links can find it by.
pub struct Bar {
    /// A stable key, such as `2025-03` or `low_income_urban`.
    pub key: String,
    /// The words under or beside the bar.
    pub label: String,
    /// The amount; the bar shows it in 万元.
    pub value: Money,
}

/// What the chart is, for the reader of the page and for a screen reader.
pub struct Caption<'a> {
    /// The element id of the `<svg>`.
    pub id: &'a str,
    /// A short title.
    pub title: &'a str,
    /// A sentence that says what is drawn and in which unit.
    pub desc: &'a str,
    /// The unit after each value in a bar's tooltip, such as 万元.
    pub unit: &'a str,
}

const WIDTH: i64 = 760;
const INK: &str = "#1d232b";
const MUTED: &str = "#5b6674";
const LINE: &str = "#aab3bf";
const BAR: &str = "#0b57d0";
const NEGATIVE: &str = "#b3261e";

/// Escapes text for an SVG (XML) text node or attribute.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The zero and the ends of the scale: always includes zero, never an empty range.
fn range(bars: &[Bar]) -> (i64, i64) {
    let lo = bars.iter().map(|b| b.value.fen()).min().unwrap_or(0).min(0);
    let hi = bars.iter().map(|b| b.value.fen()).max().unwrap_or(0).max(0);
    if lo == hi { (0, 1) } else { (lo, hi) }
}

/// Where `fen` lies on an axis `len` long that runs from `lo` (at 0) to `hi` (at `len`).
fn scale(fen: i64, lo: i64, hi: i64, len: i64) -> i64 {
    let span = i128::from(hi) - i128::from(lo);
    ((i128::from(fen) - i128::from(lo)) * i128::from(len) / span) as i64
}

fn open(c: &Caption<'_>, height: i64) -> String {
    let id = esc(c.id);
    format!(
        "<svg id=\"{id}\" class=\"chart\" role=\"img\" viewBox=\"0 0 {WIDTH} {height}\" width=\"100%\" \
         aria-labelledby=\"{id}-title {id}-desc\" font-size=\"13\" fill=\"{INK}\">\
         <title id=\"{id}-title\">{}</title><desc id=\"{id}-desc\">{}</desc>",
        esc(c.title),
        esc(c.desc)
    )
}

fn tooltip(c: &Caption<'_>, b: &Bar) -> String {
    format!(
        "<title>{}：{} {}</title>",
        esc(&b.label),
        fmt::wan(b.value),
        esc(c.unit)
    )
}

/// Upright bars side by side (a year's months), the value above each bar and the label under it.
pub fn columns(c: &Caption<'_>, bars: &[Bar]) -> String {
    const HEIGHT: i64 = 300;
    const TOP: i64 = 24;
    const BOTTOM: i64 = 28;
    const SIDE: i64 = 8;
    let plot = HEIGHT - TOP - BOTTOM;
    let (lo, hi) = range(bars);
    // y grows downwards: the largest amount is at TOP.
    let y = |fen: i64| TOP + plot - scale(fen, lo, hi, plot);
    let zero = y(0);
    let n = bars.len().max(1) as i64;
    let slot = (WIDTH - 2 * SIDE) / n;
    let bar_w = slot * 3 / 5;
    let mut out = open(c, HEIGHT);
    for (i, b) in bars.iter().enumerate() {
        let fen = b.value.fen();
        let x = SIDE + i as i64 * slot + (slot - bar_w) / 2;
        let mid = SIDE + i as i64 * slot + slot / 2;
        let (top, bottom) = if fen >= 0 {
            (y(fen), zero)
        } else {
            (zero, y(fen))
        };
        // A negative bar's value sits above the zero line, clear of the labels under the plot.
        let value_y = if fen >= 0 { top - 6 } else { zero - 6 };
        out.push_str(&format!(
            "<g data-key=\"{}\">{}<rect x=\"{x}\" y=\"{top}\" width=\"{bar_w}\" height=\"{}\" fill=\"{}\"/>\
             <text x=\"{mid}\" y=\"{value_y}\" text-anchor=\"middle\" font-size=\"11\">{}</text>\
             <text x=\"{mid}\" y=\"{}\" text-anchor=\"middle\" fill=\"{MUTED}\">{}</text></g>",
            esc(&b.key),
            tooltip(c, b),
            bottom - top,
            if fen < 0 { NEGATIVE } else { BAR },
            fmt::wan(b.value),
            HEIGHT - 8,
            esc(&b.label),
        ));
    }
    out.push_str(&format!(
        "<line x1=\"{SIDE}\" y1=\"{zero}\" x2=\"{}\" y2=\"{zero}\" stroke=\"{LINE}\"/></svg>",
        WIDTH - SIDE
    ));
    out
}

/// Bars lying down, one per line (the groups), the label on the left and the value at the end
/// of the bar.
pub fn rows(c: &Caption<'_>, bars: &[Bar]) -> String {
    const ROW: i64 = 36;
    const PAD: i64 = 8;
    const LABEL: i64 = 150;
    const VALUE: i64 = 110;
    let height = 2 * PAD + ROW * bars.len().max(1) as i64;
    let plot = WIDTH - LABEL - VALUE - PAD;
    let (lo, hi) = range(bars);
    let x = |fen: i64| LABEL + scale(fen, lo, hi, plot);
    let zero = x(0);
    let mut out = open(c, height);
    for (i, b) in bars.iter().enumerate() {
        let fen = b.value.fen();
        let top = PAD + i as i64 * ROW;
        let (left, right) = if fen >= 0 {
            (zero, x(fen))
        } else {
            (x(fen), zero)
        };
        let text_y = top + ROW / 2 + 5;
        out.push_str(&format!(
            "<g data-key=\"{}\">{}<text x=\"{}\" y=\"{text_y}\" text-anchor=\"end\">{}</text>\
             <rect x=\"{left}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"/>\
             <text x=\"{}\" y=\"{text_y}\">{}</text></g>",
            esc(&b.key),
            tooltip(c, b),
            LABEL - 10,
            esc(&b.label),
            top + 6,
            right - left,
            ROW - 12,
            if fen < 0 { NEGATIVE } else { BAR },
            right.max(zero) + 6,
            fmt::wan(b.value),
        ));
    }
    out.push_str(&format!(
        "<line x1=\"{zero}\" y1=\"{PAD}\" x2=\"{zero}\" y2=\"{}\" stroke=\"{LINE}\"/></svg>",
        height - PAD
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(key: &str, yuan: i64) -> Bar {
        Bar {
            key: key.into(),
            label: key.into(),
            value: Money::from_yuan(yuan),
        }
    }

    const CAPTION: Caption<'static> = Caption {
        id: "c",
        title: "By month <all>",
        desc: "Subsidy & more",
        unit: "万元",
    };

    fn rect_of(svg: &str, key: &str) -> (i64, i64, i64, i64) {
        let g = svg.split(&format!("data-key=\"{key}\"")).nth(1).unwrap();
        let rect = g
            .split("<rect ")
            .nth(1)
            .unwrap()
            .split("/>")
            .next()
            .unwrap();
        let attr = |name: &str| -> i64 {
            rect.split(&format!("{name}=\""))
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap()
                .parse()
                .unwrap()
        };
        (attr("x"), attr("y"), attr("width"), attr("height"))
    }

    #[test]
    fn column_heights_follow_the_amounts_and_values_are_written_out() {
        let svg = columns(&CAPTION, &[bar("a", 10_000), bar("b", 5_000), bar("c", 0)]);
        assert!(
            svg.contains("<title id=\"c-title\">By month &lt;all&gt;</title>"),
            "{svg}"
        );
        assert!(svg.contains("<desc id=\"c-desc\">Subsidy &amp; more</desc>"));
        let (_, _, _, a) = rect_of(&svg, "a");
        let (_, _, _, b) = rect_of(&svg, "b");
        let (_, _, _, c) = rect_of(&svg, "c");
        assert_eq!(a, 300 - 24 - 28, "the largest bar fills the plot");
        assert_eq!(b, a / 2);
        assert_eq!(c, 0);
        assert!(svg.contains(">1.00</text>") && svg.contains(">0.50</text>"));
        assert!(svg.contains("<title>a：1.00 万元</title>"));
    }

    #[test]
    fn a_negative_amount_hangs_below_the_zero_line() {
        let svg = columns(&CAPTION, &[bar("up", 3_000), bar("down", -1_000)]);
        let (_, up_y, _, up_h) = rect_of(&svg, "up");
        let (_, down_y, _, down_h) = rect_of(&svg, "down");
        assert_eq!(up_y + up_h, down_y, "both start at zero");
        assert_eq!(up_h, 3 * down_h);
        assert!(svg.contains(">-0.10</text>"));
        assert!(svg.contains(NEGATIVE));
    }

    #[test]
    fn nothing_to_draw_is_still_a_chart() {
        let svg = rows(&CAPTION, &[bar("x", 0)]);
        assert_eq!(rect_of(&svg, "x").2, 0);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        let empty = columns(&CAPTION, &[]);
        assert!(empty.ends_with("</svg>"));
    }

    #[test]
    fn row_lengths_follow_the_amounts() {
        let svg = rows(&CAPTION, &[bar("a", 2_000), bar("b", 500)]);
        let (ax, _, aw, _) = rect_of(&svg, "a");
        let (bx, _, bw, _) = rect_of(&svg, "b");
        assert_eq!(ax, bx);
        assert_eq!(aw, 4 * bw);
        assert!(svg.contains(">0.20</text>") && svg.contains(">0.05</text>"));
    }
}
