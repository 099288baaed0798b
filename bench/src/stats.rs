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

#[cfg(test)]
mod tests {
    use super::*;

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
