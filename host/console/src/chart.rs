//! Charts drawn on the server as SVG: bars of integer values (calls, minor
//! units) on a scale rounded up to 1, 2 or 5 times a power of ten. Pure
//! integer arithmetic, so an amount is never a float even when drawn; each
//! bar carries a `<title>` with its exact figure, and the chart a text
//! alternative, so the figures are not only in the picture.

use maud::{Markup, html};

/// One bar: its label on the axis, its value, and the figure as read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bar {
    /// Under the bar (a day, a month).
    pub label: String,
    /// Its height in the chart's unit (calls, minor units); negative
    /// values are drawn as zero.
    pub value: i64,
    /// The value as a person reads it (`EUR 1.08`, `1,234 calls`).
    pub text: String,
}

/// The chart's drawing area, in SVG user units.
const WIDTH: i64 = 640;
const HEIGHT: i64 = 220;
const LEFT: i64 = 8;
const TOP: i64 = 24;
const BOTTOM: i64 = 40;

/// The smallest 1, 2 or 5 × 10ⁿ at or above `max` (1 for nothing to show):
/// the top of the scale.
pub fn nice_ceiling(max: i64) -> i64 {
    if max <= 1 {
        return 1;
    }
    let mut magnitude: i64 = 1;
    loop {
        for step in [1, 2, 5] {
            match magnitude.checked_mul(step) {
                Some(top) if top >= max => return top,
                None => return max,
                _ => {}
            }
        }
        match magnitude.checked_mul(10) {
            Some(next) => magnitude = next,
            None => return max,
        }
    }
}

/// The height in user units of `value` on a scale topped by `ceiling` over
/// `height` units, rounded down; never negative, never above `height`.
pub fn scaled(value: i64, ceiling: i64, height: i64) -> i64 {
    if value <= 0 || ceiling <= 0 {
        return 0;
    }
    let h = i128::from(value.min(ceiling)) * i128::from(height) / i128::from(ceiling);
    // `value ≤ ceiling`, so `h ≤ height`, which is an i64.
    i64::try_from(h).unwrap_or(height)
}

/// A bar chart of `bars`, titled `title` (its accessible name); the top of
/// the scale is labelled with `top_text`.
pub fn bars(title: &str, bars: &[Bar], top_text: impl Fn(i64) -> String) -> Markup {
    let max = bars.iter().map(|b| b.value).max().unwrap_or(0);
    let ceiling = nice_ceiling(max);
    let plot_h = HEIGHT - TOP - BOTTOM;
    let n = i64::try_from(bars.len().max(1)).unwrap_or(1);
    let slot = (WIDTH - LEFT) / n;
    // Bars stay slim when there are few of them.
    let bar_w = (slot * 7 / 10).clamp(2, 48);
    // Label every bar when they fit, else every k-th so labels never overlap.
    let every = usize::try_from((48 / slot.max(1)).max(1)).unwrap_or(1);
    let base = TOP + plot_h;
    html! {
        figure.chart {
            svg xmlns="http://www.w3.org/2000/svg" viewBox=(format!("0 0 {WIDTH} {HEIGHT}"))
                role="img" aria-label=(title) preserveAspectRatio="xMidYMid meet" {
                title { (title) }
                line.axis x1=(LEFT) y1=(base) x2=(WIDTH) y2=(base) {}
                line.grid x1=(LEFT) y1=(TOP) x2=(WIDTH) y2=(TOP) {}
                text.tick x=(LEFT) y=(TOP - 8) { (top_text(ceiling)) }
                @for (i, bar) in bars.iter().enumerate() {
                    @let x = LEFT + i64::try_from(i).unwrap_or(0) * slot + (slot - bar_w) / 2;
                    @let h = scaled(bar.value, ceiling, plot_h);
                    rect.bar x=(x) y=(base - h) width=(bar_w) height=(h) {
                        title { (bar.label) ": " (bar.text) }
                    }
                    @if i % every == 0 {
                        text.label x=(x + bar_w / 2) y=(base + 16) text-anchor="middle" { (bar.label) }
                    }
                }
            }
            figcaption.visually-hidden {
                (title) ": "
                @for (i, bar) in bars.iter().enumerate() {
                    @if i > 0 { "; " }
                    (bar.label) " " (bar.text)
                }
            }
        }
    }
}

/// A progress bar of `part` out of `whole`, with its text alternative.
pub fn progress(label: &str, part: i64, whole: i64) -> Markup {
    let whole = whole.max(1);
    html! {
        progress aria-label=(label) value=(part.clamp(0, whole)) max=(whole) { (part) " / " (whole) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scale_tops_at_one_two_or_five_times_a_power_of_ten() {
        assert_eq!(nice_ceiling(0), 1);
        assert_eq!(nice_ceiling(-5), 1);
        assert_eq!(nice_ceiling(1), 1);
        assert_eq!(nice_ceiling(2), 2);
        assert_eq!(nice_ceiling(3), 5);
        assert_eq!(nice_ceiling(7), 10);
        assert_eq!(nice_ceiling(10), 10);
        assert_eq!(nice_ceiling(11), 20);
        assert_eq!(nice_ceiling(452), 500);
        assert_eq!(nice_ceiling(5001), 10_000);
        // No overflow at the top of i64: the maximum is its own ceiling.
        assert_eq!(nice_ceiling(i64::MAX), i64::MAX);
    }

    #[test]
    fn bars_scale_in_integers_within_the_plot() {
        assert_eq!(scaled(0, 10, 150), 0);
        assert_eq!(scaled(-3, 10, 150), 0);
        assert_eq!(scaled(10, 10, 150), 150);
        assert_eq!(scaled(5, 10, 150), 75);
        assert_eq!(scaled(1, 3, 100), 33);
        assert_eq!(scaled(i64::MAX, i64::MAX, 150), 150);
        assert_eq!(scaled(20, 10, 150), 150);
    }

    #[test]
    fn a_chart_names_every_figure_in_text() {
        let chart = bars(
            "Calls by day",
            &[
                Bar {
                    label: "1 Nov".into(),
                    value: 3,
                    text: "3 calls".into(),
                },
                Bar {
                    label: "2 Nov".into(),
                    value: 0,
                    text: "0 calls".into(),
                },
            ],
            |top| format!("{top} calls"),
        )
        .into_string();
        assert!(chart.contains("role=\"img\""));
        assert!(chart.contains("aria-label=\"Calls by day\""));
        assert!(chart.contains("1 Nov: 3 calls"));
        assert!(chart.contains("5 calls"), "the scale tops at 5: {chart}");
        // The 3-call bar is 3/5 of the 156-unit plot.
        assert!(chart.contains("height=\"93\""), "{chart}");
    }
}
