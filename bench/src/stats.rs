//! Small statistics over repetitions.

/// The median of `values` (the mean of the middle two for an even count), or NaN when empty.
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// A distribution-free confidence interval for the median of `values`: the order
/// statistics `[x(k), x(n+1-k)]` for the largest `k` whose coverage, from the binomial
/// distribution of how many values fall below the true median, is still at least `coverage`
/// (the sign-test interval). Returns `(low, high, coverage reached)`, or `None` when even the
/// full range covers less (fewer than 6 values for 95%).
pub fn median_interval(values: &[f64], coverage: f64) -> Option<(f64, f64, f64)> {
    let n = values.len();
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    // P(B <= j) for B ~ Binomial(n, 1/2), accumulated term by term.
    let total = 2f64.powi(n as i32);
    let mut term = 1.0; // C(n, 0)
    let mut below = term / total; // P(B <= 0)
    let mut best = None;
    for k in 1..=n / 2 {
        let reached = 1.0 - 2.0 * below;
        if reached < coverage {
            break;
        }
        best = Some((sorted[k - 1], sorted[n - k], reached));
        term = term * (n - k + 1) as f64 / k as f64; // C(n, k)
        below += term / total;
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_intervals_follow_the_sign_test() {
        let v: Vec<f64> = (1..=7).map(f64::from).collect();
        // n = 7: only the full range reaches 95% (1 - 2/128 = 98.4%).
        let (lo, hi, c) = median_interval(&v, 0.95).unwrap();
        assert_eq!((lo, hi), (1.0, 7.0));
        assert!((c - (1.0 - 2.0 / 128.0)).abs() < 1e-12);
        // n = 31: [x(10), x(22)] (1 - 2 * P(B <= 9) = 97.1%).
        let v: Vec<f64> = (1..=31).rev().map(f64::from).collect();
        let (lo, hi, c) = median_interval(&v, 0.95).unwrap();
        assert_eq!((lo, hi), (10.0, 22.0));
        assert!(c > 0.95 && c < 0.975, "{c}");
        // Five values cannot give 95% (the full range covers 1 - 2/32).
        assert_eq!(median_interval(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.95), None);
        assert_eq!(median_interval(&[], 0.95), None);
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&[]).is_nan());
    }
}

use hdrhistogram::Histogram;
use tickpipe::metrics::format_nanos;

/// The percentiles every latency row of a report shows, as (column header, quantile);
/// `max` and `count` follow them.
pub const PERCENTILES: [(&str, f64); 5] = [
    ("p50", 0.50),
    ("p90", 0.90),
    ("p99", 0.99),
    ("p99.9", 0.999),
    ("p99.99", 0.9999),
];

/// Column headers of a percentile row after its label: the percentiles, `max`, `count`.
pub fn percentile_headers() -> Vec<&'static str> {
    PERCENTILES
        .iter()
        .map(|(name, _)| *name)
        .chain(["max", "count"])
        .collect()
}

/// The cells of a percentile row for `h` (nanoseconds): each percentile and the max
/// formatted with a unit, then the sample count. An empty histogram gives dashes.
pub fn percentile_cells(h: &Histogram<u64>) -> Vec<String> {
    if h.is_empty() {
        return PERCENTILES
            .iter()
            .map(|_| "–".to_owned())
            .chain(["–".to_owned(), "0".to_owned()])
            .collect();
    }
    PERCENTILES
        .iter()
        .map(|(_, q)| format_nanos(h.value_at_quantile(*q)))
        .chain([format_nanos(h.max()), h.len().to_string()])
        .collect()
}

/// One histogram holding every sample of `parts` (nanoseconds, 1 ns to 60 s).
pub fn merge_all<'a>(parts: impl IntoIterator<Item = &'a Histogram<u64>>) -> Histogram<u64> {
    let mut all = Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3)
        .expect("static histogram bounds are valid");
    for h in parts {
        // Values outside the bounds are impossible for the harness's histograms, which
        // share these bounds; were one to appear, it is clamped by the per-value add.
        if all.add(h).is_err() {
            for v in h.iter_recorded() {
                let value = v.value_iterated_to().clamp(1, 60_000_000_000);
                let _ = all.record_n(value, v.count_at_value());
            }
        }
    }
    all
}

#[cfg(test)]
mod histogram_tests {
    use super::*;

    fn h(values: &[u64]) -> Histogram<u64> {
        let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).unwrap();
        for v in values {
            h.record(*v).unwrap();
        }
        h
    }

    #[test]
    fn merge_keeps_every_sample() {
        let a = h(&[100, 200, 300]);
        let b = h(&[1_000_000, 5]);
        let m = merge_all([&a, &b]);
        assert_eq!(m.len(), 5);
        assert_eq!(m.min(), 5);
        assert_eq!(m.value_at_quantile(0.5), 200);
        assert!(m.max() >= 1_000_000 && m.max() < 1_001_000);
        assert_eq!(merge_all([]).len(), 0);
    }

    #[test]
    fn percentile_row_formats_each_column() {
        let values: Vec<u64> = (1..=10_000).collect();
        let cells = percentile_cells(&h(&values));
        assert_eq!(
            cells,
            vec!["5.0 µs", "9.0 µs", "9.9 µs", "10.0 µs", "10.0 µs", "10.0 µs", "10000"]
        );
        assert_eq!(cells.len(), percentile_headers().len());
        let empty = percentile_cells(&h(&[]));
        assert_eq!(empty.last().unwrap(), "0");
        assert_eq!(empty.len(), percentile_headers().len());
    }
}
