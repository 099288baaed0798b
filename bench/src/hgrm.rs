//! HdrHistogram's percentile distribution text format (`.hgrm`), as its
//! `outputPercentileDistribution` writes it, so the files load in HdrHistogram's own
//! plotter (<https://hdrhistogram.github.io/HdrHistogram/plotFiles.html>).

use std::fmt::Write as _;

use hdrhistogram::Histogram;

/// Reporting steps per halving of the distance to 100 %, as HdrHistogram's default.
const TICKS_PER_HALF_DISTANCE: u32 = 5;

/// The percentile distribution of `h` (values in nanoseconds) with values printed in
/// microseconds: one row per quantile step (value, percentile as a fraction, cumulative
/// count, `1/(1-percentile)`), then the mean/deviation/max/count footer.
pub fn format_hgrm(h: &Histogram<u64>) -> String {
    const SCALE: f64 = 1_000.0;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:>12} {:>14} {:>10} {:>14}\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    );
    if !h.is_empty() {
        let mut total = 0u64;
        for step in h.iter_quantiles(TICKS_PER_HALF_DISTANCE) {
            total += step.count_since_last_iteration();
            let value = h.highest_equivalent(step.value_iterated_to()) as f64 / SCALE;
            let q = step.quantile_iterated_to();
            if q < 1.0 {
                let _ = writeln!(
                    out,
                    "{value:12.3} {q:2.12} {total:10} {:14.2}",
                    1.0 / (1.0 - q)
                );
            } else {
                let _ = writeln!(out, "{value:12.3} {q:2.12} {total:10}");
            }
        }
    }
    let (mean, stdev, max) = if h.is_empty() {
        (0.0, 0.0, 0.0)
    } else {
        (h.mean() / SCALE, h.stdev() / SCALE, h.max() as f64 / SCALE)
    };
    let _ = writeln!(
        out,
        "#[Mean    = {mean:12.3}, StdDeviation   = {stdev:12.3}]"
    );
    let _ = writeln!(
        out,
        "#[Max     = {max:12.3}, Total count    = {:12}]",
        h.len()
    );
    let _ = writeln!(
        out,
        "#[Buckets = {:12}, SubBuckets     = {:12}]",
        h.buckets(),
        sub_buckets(h.sigfig())
    );
    out
}

/// Sub-buckets per bucket for `sigfig` significant digits, as HdrHistogram sizes them:
/// the power of two at or above `2 × 10^sigfig`.
fn sub_buckets(sigfig: u8) -> u64 {
    (2 * 10u64.pow(u32::from(sigfig))).next_power_of_two()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn histogram(values: impl IntoIterator<Item = u64>) -> Histogram<u64> {
        let mut h = Histogram::new_with_bounds(1, 60_000_000_000, 3).unwrap();
        for v in values {
            h.record(v).unwrap();
        }
        h
    }

    #[test]
    fn rows_climb_to_the_total_and_end_at_the_max() {
        let h = histogram(1..=10_000u64);
        let text = format_hgrm(&h);
        let mut lines = text.lines();
        assert_eq!(
            lines.next().unwrap(),
            "       Value     Percentile TotalCount 1/(1-Percentile)"
        );
        assert_eq!(lines.next().unwrap(), "");
        let rows: Vec<Vec<&str>> = text
            .lines()
            .skip(2)
            .take_while(|l| !l.starts_with('#'))
            .map(|l| l.split_whitespace().collect())
            .collect();
        assert!(rows.len() > 20, "{text}");
        let counts: Vec<u64> = rows.iter().map(|r| r[2].parse().unwrap()).collect();
        assert!(counts.windows(2).all(|w| w[0] <= w[1]));
        let last = rows.last().unwrap();
        assert_eq!(last.len(), 3, "the 100 % row has no 1/(1-p) column");
        assert_eq!(last[1], "1.000000000000");
        assert_eq!(last[2], "10000");
        // 10 000 ns is 10 µs; the histogram's resolution puts it in a bucket ending at 10.007.
        let max: f64 = last[0].parse().unwrap();
        assert!((10.0..10.01).contains(&max), "{max}");
        // The median row: half the samples, value near 5 µs, 1/(1-p) = 2.
        let median = rows.iter().find(|r| r[1] == "0.500000000000").unwrap();
        assert_eq!(median[3], "2.00");
        let v: f64 = median[0].parse().unwrap();
        assert!((4.99..5.01).contains(&v), "{v}");
        assert!(text.contains("Total count    =        10000]"), "{text}");
        assert!(text.contains("SubBuckets     =         2048]"), "{text}");
    }

    #[test]
    fn an_empty_histogram_has_a_header_and_footer_only() {
        let text = format_hgrm(&histogram([]));
        assert_eq!(text.lines().filter(|l| !l.starts_with('#')).count(), 2);
        assert!(text.contains("Total count    =            0]"));
    }
}
