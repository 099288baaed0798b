//! A latency histogram that never allocates after construction.

use std::fmt;

use hdrhistogram::Histogram;

/// Nanosecond latencies from 1 ns to 60 s at three significant digits.
///
/// All memory is allocated in [`LatencyHistogram::new`]; [`LatencyHistogram::record`]
/// only increments a counter, so stages may record on the hot path. Values above the
/// range are clamped to it and counted in [`LatencyHistogram::clamped`].
///
/// # Examples
/// ```
/// use tickpipe::metrics::LatencyHistogram;
/// let mut h = LatencyHistogram::new();
/// for v in [100, 200, 300] { h.record(v); }
/// assert_eq!(h.summary().count, 3);
/// assert_eq!(h.summary().max, 300);
/// ```
pub struct LatencyHistogram {
    histogram: Histogram<u64>,
    clamped: u64,
}

/// The highest trackable value: 60 s in nanoseconds.
const HIGHEST_NANOS: u64 = 60_000_000_000;

impl LatencyHistogram {
    /// An empty histogram.
    pub fn new() -> LatencyHistogram {
        LatencyHistogram {
            histogram: Histogram::new_with_bounds(1, HIGHEST_NANOS, 3)
                .expect("static histogram bounds are valid"),
            clamped: 0,
        }
    }

    /// A histogram of the same range at no significant digit (each sample kept only to
    /// within a factor of two), in a few hundred bytes instead of about 220 kB: for one
    /// that is expected to stay empty, such as those of a backtest, which measures no
    /// latency and builds its stages afresh every day.
    ///
    /// # Examples
    /// ```
    /// use tickpipe::metrics::LatencyHistogram;
    /// let mut h = LatencyHistogram::minimal();
    /// assert!(h.is_empty());
    /// h.record(1_000);
    /// assert_eq!(h.len(), 1);
    /// ```
    pub fn minimal() -> LatencyHistogram {
        LatencyHistogram {
            histogram: Histogram::new_with_bounds(1, HIGHEST_NANOS, 0)
                .expect("static histogram bounds are valid"),
            clamped: 0,
        }
    }

    /// Records one latency in nanoseconds (zero counts as 1 ns).
    #[inline]
    pub fn record(&mut self, nanos: u64) {
        let v = nanos.clamp(1, HIGHEST_NANOS);
        if v != nanos && nanos != 0 {
            self.clamped += 1;
        }
        // Cannot fail: `v` is inside the bounds given at construction.
        let _ = self.histogram.record(v);
    }

    /// Adds every sample of `other`.
    pub fn merge(&mut self, other: &LatencyHistogram) {
        // Same bounds on both sides, so the add cannot fail.
        let _ = self.histogram.add(&other.histogram);
        self.clamped += other.clamped;
    }

    /// Samples above the 60 s range that were clamped.
    pub fn clamped(&self) -> u64 {
        self.clamped
    }

    /// Number of samples.
    pub fn len(&self) -> u64 {
        self.histogram.len()
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.histogram.is_empty()
    }

    /// The value at quantile `q` (0.0–1.0), in nanoseconds.
    pub fn value_at_quantile(&self, q: f64) -> u64 {
        self.histogram.value_at_quantile(q)
    }

    /// The underlying histogram, for percentile files.
    pub fn histogram(&self) -> &Histogram<u64> {
        &self.histogram
    }

    /// The usual percentiles.
    pub fn summary(&self) -> LatencySummary {
        let h = &self.histogram;
        LatencySummary {
            count: h.len(),
            p50: h.value_at_quantile(0.50),
            p90: h.value_at_quantile(0.90),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            p9999: h.value_at_quantile(0.9999),
            max: h.max(),
            mean: h.mean(),
        }
    }
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        LatencyHistogram::new()
    }
}

impl Clone for LatencyHistogram {
    fn clone(&self) -> Self {
        LatencyHistogram {
            histogram: self.histogram.clone(),
            clamped: self.clamped,
        }
    }
}

impl fmt::Debug for LatencyHistogram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LatencyHistogram")
            .field("summary", &self.summary())
            .finish()
    }
}

/// Percentiles of a [`LatencyHistogram`], in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LatencySummary {
    /// Samples.
    pub count: u64,
    /// Median.
    pub p50: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile.
    pub p999: u64,
    /// 99.99th percentile.
    pub p9999: u64,
    /// Largest sample.
    pub max: u64,
    /// Mean.
    pub mean: f64,
}

/// Formats nanoseconds with a unit a reader takes in at a glance (`850 ns`, `12.3 µs`).
pub fn format_nanos(nanos: u64) -> String {
    match nanos {
        n if n < 1_000 => format!("{n} ns"),
        n if n < 1_000_000 => format!("{:.1} µs", n as f64 / 1e3),
        n if n < 1_000_000_000 => format!("{:.1} ms", n as f64 / 1e6),
        n => format!("{:.2} s", n as f64 / 1e9),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_adds_counts_and_keeps_extremes() {
        let mut a = LatencyHistogram::new();
        let mut b = LatencyHistogram::new();
        for v in 1..=1000 {
            a.record(v);
        }
        b.record(1_000_000);
        a.merge(&b);
        let s = a.summary();
        assert_eq!(s.count, 1001);
        assert!(s.max >= 999_000 && s.max <= 1_001_000);
        assert!((495..=505).contains(&s.p50));
    }

    #[test]
    fn out_of_range_is_clamped_and_counted() {
        let mut h = LatencyHistogram::new();
        h.record(0);
        h.record(u64::MAX);
        assert_eq!(h.len(), 2);
        assert_eq!(h.clamped(), 1);
    }

    #[test]
    fn nanos_format() {
        assert_eq!(format_nanos(850), "850 ns");
        assert_eq!(format_nanos(12_345), "12.3 µs");
        assert_eq!(format_nanos(2_500_000), "2.5 ms");
    }
}
