//! An SVG plot of latency against percentile on HdrHistogram's log "nines" axis.

use std::fmt::Write as _;

use hdrhistogram::Histogram;

/// One line on the plot.
#[derive(Debug)]
pub struct Series<'a> {
    /// Legend text.
    pub label: String,
    /// Values in nanoseconds.
    pub histogram: &'a Histogram<u64>,
}

const WIDTH: f64 = 860.0;
const HEIGHT: f64 = 480.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 60.0;
/// The x axis ends at 99.9999 % (six nines).
const MAX_NINES: f64 = 6.0;
const COLOURS: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
];

/// Where percentile `q` (0–1) sits on the nines axis: `log10(1/(1-q))`, capped at
/// [`MAX_NINES`] (so 90 % → 1, 99 % → 2, 99.9 % → 3).
pub fn nines(q: f64) -> f64 {
    if q >= 1.0 {
        MAX_NINES
    } else {
        (1.0 / (1.0 - q)).log10().min(MAX_NINES)
    }
}

/// The points of one series: (nines, nanoseconds), from HdrHistogram's quantile iteration.
pub fn points(h: &Histogram<u64>) -> Vec<(f64, u64)> {
    h.iter_quantiles(5)
        .map(|s| {
            (
                nines(s.quantile_iterated_to()),
                h.highest_equivalent(s.value_iterated_to()),
            )
        })
        .collect()
}

/// A standalone SVG: latency (log scale, µs) against percentile (log "nines" scale).
/// A log latency axis, unlike HdrHistogram's plotter, keeps the median readable beside
/// millisecond host stalls.
pub fn render_svg(title: &str, series: &[Series<'_>]) -> String {
    let all: Vec<Vec<(f64, u64)>> = series.iter().map(|s| points(s.histogram)).collect();
    let max_ns = all
        .iter()
        .flatten()
        .map(|p| p.1)
        .max()
        .unwrap_or(1000)
        .max(10);
    let min_ns = all.iter().flatten().map(|p| p.1).min().unwrap_or(1).max(1);
    let lo = 10f64.powf((min_ns as f64).log10().floor());
    let hi = 10f64.powf((max_ns as f64).log10().ceil()).max(lo * 10.0);
    let pw = WIDTH - LEFT - RIGHT;
    let ph = HEIGHT - TOP - BOTTOM;
    let x = |n: f64| LEFT + n / MAX_NINES * pw;
    let y = |ns: u64| TOP + ph - ((ns.max(1) as f64 / lo).log10() / (hi / lo).log10()) * ph;

    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(
        out,
        r#"<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>"#
    );
    // The run's name on the first line, its provenance (after the first ` · `) smaller
    // on the second, so long CPU names stay inside the picture.
    let (name, detail) = title.split_once(" · ").unwrap_or((title, ""));
    let _ = writeln!(
        out,
        r#"<text x="{}" y="17" text-anchor="middle" font-size="14">{}</text>"#,
        WIDTH / 2.0,
        escape(name)
    );
    let _ = writeln!(
        out,
        r##"<text x="{}" y="31" text-anchor="middle" font-size="10" fill="#555">{}</text>"##,
        WIDTH / 2.0,
        escape(detail)
    );
    for (i, label) in ["0%", "90%", "99%", "99.9%", "99.99%", "99.999%", "99.9999%"]
        .iter()
        .enumerate()
    {
        let xi = x(i as f64);
        let _ = writeln!(
            out,
            r##"<line x1="{xi:.1}" y1="{TOP}" x2="{xi:.1}" y2="{:.1}" stroke="#ddd"/><text x="{xi:.1}" y="{:.1}" text-anchor="middle">{label}</text>"##,
            TOP + ph,
            TOP + ph + 16.0
        );
    }
    let mut decade = lo;
    while decade <= hi * 1.001 {
        let yi = y(decade as u64);
        let _ = writeln!(
            out,
            r##"<line x1="{LEFT}" y1="{yi:.1}" x2="{:.1}" y2="{yi:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
            LEFT + pw,
            LEFT - 6.0,
            yi + 4.0,
            tickpipe::metrics::format_nanos(decade as u64)
        );
        decade *= 10.0;
    }
    let _ = writeln!(
        out,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">percentile</text>"#,
        LEFT + pw / 2.0,
        HEIGHT - 12.0
    );
    let _ = writeln!(
        out,
        r#"<text x="16" y="{:.1}" text-anchor="middle" transform="rotate(-90 16 {:.1})">latency (log scale)</text>"#,
        TOP + ph / 2.0,
        TOP + ph / 2.0
    );
    for (i, (s, pts)) in series.iter().zip(&all).enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let path: Vec<String> = pts
            .iter()
            .map(|(n, v)| format!("{:.1},{:.1}", x(*n), y(*v)))
            .collect();
        let _ = writeln!(
            out,
            r#"<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{}"/>"#,
            path.join(" ")
        );
        let ly = TOP + 14.0 + 16.0 * i as f64;
        let _ = writeln!(
            out,
            r#"<line x1="{:.1}" y1="{ly:.1}" x2="{:.1}" y2="{ly:.1}" stroke="{colour}" stroke-width="2"/><text x="{:.1}" y="{:.1}">{}</text>"#,
            LEFT + 10.0,
            LEFT + 30.0,
            LEFT + 36.0,
            ly + 4.0,
            escape(&s.label)
        );
    }
    out.push_str("</svg>\n");
    out
}

/// Escapes text for an XML element body or attribute.
pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nines_axis_puts_each_nine_one_unit_apart() {
        assert_eq!(nines(0.0), 0.0);
        assert!((nines(0.9) - 1.0).abs() < 1e-9);
        assert!((nines(0.999) - 3.0).abs() < 1e-9);
        assert_eq!(nines(1.0), MAX_NINES);
    }

    #[test]
    fn svg_has_one_polyline_per_series_and_escapes_labels() {
        let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).unwrap();
        for v in 1..1000u64 {
            h.record(v * 100).unwrap();
        }
        let svg = render_svg(
            "a < b",
            &[
                Series {
                    label: "one".into(),
                    histogram: &h,
                },
                Series {
                    label: "two & three".into(),
                    histogram: &h,
                },
            ],
        );
        assert!(svg.starts_with("<svg"));
        assert!(svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert!(svg.contains("a &lt; b"));
        assert!(svg.contains("two &amp; three"));
        assert!(svg.contains("99.99%"));
    }
}
