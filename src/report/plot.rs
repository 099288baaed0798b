//! The report's three plots as SVG: equity, drawdown (under water) and each strategy's
//! cumulative net P&L. Times on the axes are IST, amounts rupees.
//!
//! SVG because it is text: it needs no font files or image codecs (plotters' own
//! font-free text layout is enough), diffs in review, and opens in any browser next to
//! `report.md`. Each series is one `<polyline>` of stroke width 2 (axes and ticks are
//! width 1); the strategies are named in a key of plain text rather than plotters'
//! legend, whose sample lines would be polylines too, so the file holds exactly one
//! width-2 line per strategy.

use plotters::{
    coord::{cartesian::Cartesian2d, types::RangedCoordf64, Shift},
    prelude::{
        AreaSeries, ChartBuilder, Color, DrawingArea, IntoDrawingArea, IntoFont, LineSeries,
        RGBColor, SVGBackend, Text, BLUE, RED, WHITE,
    },
};

use crate::{
    model::{Money, UnixNanos},
    report::PnlSeries,
};

const SIZE: (u32, u32) = (960, 440);
const NANOS: f64 = 1e9;

/// The three SVG files of `series`: `[(file name, text)]`.
///
/// # Errors
/// A message from the plotting library (it only writes to a string, so this would be a
/// bug, not bad input).
pub fn plots(
    series: &PnlSeries,
    strategy_name: &dyn Fn(usize) -> String,
) -> Result<Vec<(&'static str, String)>, String> {
    Ok(vec![
        ("equity.svg", equity(series)?),
        ("drawdown.svg", drawdown(series)?),
        ("strategies.svg", strategies(series, strategy_name)?),
    ])
}

fn secs(ts: UnixNanos) -> f64 {
    ts.0 as f64 / NANOS
}

/// The x range of `series`, at least a minute wide.
fn x_range(series: &PnlSeries) -> (f64, f64) {
    let first = series.equity.first().map_or(0.0, |p| secs(p.0));
    let last = series.equity.last().map_or(0.0, |p| secs(p.0));
    (first, last.max(first + 60.0))
}

/// A y range around `values` with a little air, never empty.
fn y_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if lo > hi {
        return (-1.0, 1.0);
    }
    let pad = ((hi - lo) * 0.08).max(hi.abs().max(1.0) * 1e-4);
    (lo - pad, hi + pad)
}

/// An axis tick as IST `HH:MM`, with the date when the plot spans days.
fn ist_tick(x: f64, span_days: bool) -> String {
    let ts = UnixNanos((x.max(0.0) * NANOS) as u64);
    let time = ts.ist_time_of_day().to_string();
    let hm = time.get(..5).unwrap_or(&time);
    if span_days {
        format!("{} {hm}", ts.ist_date())
    } else {
        hm.to_owned()
    }
}

/// Whole rupees with Indian digit grouping: `₹1,23,45,678`, `-₹2,500`.
pub fn inr(x: f64) -> String {
    let whole = x.abs().round() as u64;
    let digits = whole.to_string();
    let mut grouped = String::new();
    let n = digits.len();
    for (i, c) in digits.chars().enumerate() {
        let left = n - i;
        if i > 0 && (left == 3 || (left > 3 && (left - 3) % 2 == 0)) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if x < 0.0 && whole > 0 { "-" } else { "" };
    format!("{sign}₹{grouped}")
}

/// Realised P&L moves only when a trade closes: hold each level until the next point
/// (a step), rather than drawing a slope that suggests P&L accrued in between.
fn steps(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(points.len() * 2);
    for (i, &(x, y)) in points.iter().enumerate() {
        if i > 0 {
            out.push((x, points[i - 1].1));
        }
        out.push((x, y));
    }
    out
}

/// A percentage tick, without the `-0.00 %` that rounding a tiny negative gives.
fn pct_tick(v: f64) -> String {
    let v = if v.abs() < 0.005 { 0.0 } else { v };
    format!("{v:.2} %")
}

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type Chart<'a, 'b> =
    plotters::chart::ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

fn err(e: impl std::fmt::Display) -> String {
    format!("plot: {e}")
}

/// Draws a chart with IST ticks on x and `y_label` on y, then `draw` on it.
fn chart(
    caption: &str,
    x: (f64, f64),
    y: (f64, f64),
    y_label: &dyn Fn(&f64) -> String,
    draw: impl FnOnce(&mut Chart<'_, '_>) -> Result<(), String>,
) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root: Area<'_> = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let span_days = x.1 - x.0 > 86_400.0;
        let mut chart = ChartBuilder::on(&root)
            .caption(caption, ("sans-serif", 20).into_font())
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(96)
            .build_cartesian_2d(x.0..x.1, y.0..y.1)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_labels(8)
            .y_labels(8)
            .x_label_formatter(&|v| ist_tick(*v, span_days))
            .y_label_formatter(y_label)
            .x_desc("IST")
            .draw()
            .map_err(err)?;
        draw(&mut chart)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

fn equity(series: &PnlSeries) -> Result<String, String> {
    let points: Vec<(f64, f64)> = series
        .equity
        .iter()
        .map(|&(t, e)| (secs(t), e.to_f64()))
        .collect();
    let y = y_range(points.iter().map(|p| p.1));
    chart(
        "Equity (capital + closed trades' net P&L)",
        x_range(series),
        y,
        &|v| inr(*v),
        |c| {
            c.draw_series(LineSeries::new(steps(&points), BLUE.stroke_width(2)))
                .map_err(err)?;
            Ok(())
        },
    )
}

fn drawdown(series: &PnlSeries) -> Result<String, String> {
    let points: Vec<(f64, f64)> = series
        .underwater()
        .iter()
        .map(|&(t, d)| (secs(t), d * 100.0))
        .collect();
    let low = points.iter().map(|p| p.1).fold(0.0, f64::min);
    let y = y_range([low, 0.0].into_iter());
    chart(
        "Drawdown from the running peak (%)",
        x_range(series),
        y,
        &|v| pct_tick(*v),
        |c| {
            c.draw_series(
                AreaSeries::new(steps(&points), 0.0, RED.mix(0.25))
                    .border_style(RED.stroke_width(2)),
            )
            .map_err(err)?;
            Ok(())
        },
    )
}

/// Readable on white, in order; strategies past the eighth reuse them.
const COLORS: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
];

fn strategies(
    series: &PnlSeries,
    strategy_name: &dyn Fn(usize) -> String,
) -> Result<String, String> {
    let x = x_range(series);
    let y = y_range(
        series
            .strategies
            .iter()
            .flat_map(|(_, points)| points.iter().map(|p| p.1.to_f64())),
    );
    chart("Cumulative net P&L by strategy", x, y, &|v| inr(*v), |c| {
        for (i, (id, points)) in series.strategies.iter().enumerate() {
            let color = COLORS[i % COLORS.len()];
            let line: Vec<(f64, f64)> =
                points.iter().map(|&(t, m)| (secs(t), m.to_f64())).collect();
            c.draw_series(LineSeries::new(steps(&line), color.stroke_width(2)))
                .map_err(err)?;
            // The key, top left, one name a row in the line's colour.
            let last = points.last().map_or(Money::ZERO, |p| p.1);
            let label = format!("{} {}", strategy_name(id.index()), inr(last.to_f64()));
            let at = (
                x.0 + (x.1 - x.0) * 0.02,
                y.1 - (y.1 - y.0) * 0.06 * (i as f64 + 0.5),
            );
            c.draw_series(std::iter::once(Text::new(
                label,
                at,
                ("sans-serif", 13).into_font().color(&color),
            )))
            .map_err(err)?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_hold_until_the_next_close() {
        assert_eq!(
            steps(&[(0.0, 1.0), (5.0, 3.0), (9.0, 2.0)]),
            [(0.0, 1.0), (5.0, 1.0), (5.0, 3.0), (9.0, 3.0), (9.0, 2.0)]
        );
        assert_eq!(pct_tick(-0.001), "0.00 %");
        assert_eq!(pct_tick(-0.25), "-0.25 %");
    }

    #[test]
    fn rupees_are_grouped_the_indian_way() {
        assert_eq!(inr(12_345_678.0), "₹1,23,45,678");
        assert_eq!(inr(100_000.0), "₹1,00,000");
        assert_eq!(inr(999.4), "₹999");
        assert_eq!(inr(-2_500.0), "-₹2,500");
        assert_eq!(inr(0.0), "₹0");
    }
}
