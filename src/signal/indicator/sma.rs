//! The simple moving average.

use std::cmp::Ordering;

/// Simple moving average of the last `period` samples, updated in O(1).
///
/// Samples are integers: raw [`Price`](crate::model::Price) units (10^-8 rupee) or
/// volumes. The window is a ring allocated once in [`Sma::new`], and the running sum is
/// an `i128`, so the average never drifts however long the run, and two averages
/// compare *exactly* ([`Sma::cmp_mean`]). That matters for crossover strategies: on a
/// flat series the fast and slow averages are equal, and a float sum's last-bit noise
/// would read as a cross.
///
/// # Examples
/// ```
/// use tickpipe::signal::indicator::Sma;
/// let mut sma = Sma::new(3);
/// for v in [10, 20, 30, 40] {
///     sma.update(v);
/// }
/// assert!(sma.is_warm());
/// assert_eq!(sma.mean(), Some(30.0)); // (20 + 30 + 40) / 3
/// ```
#[derive(Debug, Clone)]
pub struct Sma {
    window: Box<[i64]>,
    /// Slot the next sample overwrites.
    next: usize,
    /// Samples held, up to `window.len()`.
    filled: usize,
    sum: i128,
}

impl Sma {
    /// An empty average over `period` samples.
    ///
    /// # Panics
    /// If `period` is zero (configuration validation rejects that first).
    pub fn new(period: usize) -> Sma {
        assert!(period > 0, "an SMA period must be at least 1");
        Sma {
            window: vec![0; period].into_boxed_slice(),
            next: 0,
            filled: 0,
            sum: 0,
        }
    }

    /// Adds a sample, dropping the oldest once the window is full.
    #[inline]
    pub fn update(&mut self, value: i64) {
        let period = self.window.len();
        let slot = &mut self.window[self.next];
        if self.filled == period {
            self.sum -= i128::from(*slot);
        } else {
            self.filled += 1;
        }
        *slot = value;
        self.sum += i128::from(value);
        self.next += 1;
        if self.next == period {
            self.next = 0;
        }
        debug_assert!(self.next < period && self.filled <= period);
    }

    /// The window length.
    pub fn period(&self) -> usize {
        self.window.len()
    }

    /// True once `period` samples have been seen, so the average covers a full window.
    #[inline]
    pub fn is_warm(&self) -> bool {
        self.filled == self.window.len()
    }

    /// Sum of the samples in the window (exact).
    pub fn sum(&self) -> i128 {
        self.sum
    }

    /// The average of the full window, or `None` while warming up.
    pub fn mean(&self) -> Option<f64> {
        self.is_warm()
            .then(|| self.sum as f64 / self.window.len() as f64)
    }

    /// Compares this average with `other`'s exactly (by cross-multiplying the sums), or
    /// `None` while either is warming up.
    ///
    /// Cannot overflow for any window a configuration accepts: a sum of `n` samples is
    /// below `n · 2^63`, times the other period `m` stays below `2^127` while
    /// `n · m < 2^64`.
    #[inline]
    pub fn cmp_mean(&self, other: &Sma) -> Option<Ordering> {
        if !self.is_warm() || !other.is_warm() {
            return None;
        }
        let lhs = self.sum * other.window.len() as i128;
        let rhs = other.sum * self.window.len() as i128;
        Some(lhs.cmp(&rhs))
    }

    /// Forgets every sample (a new session), keeping the allocation.
    pub fn reset(&mut self) {
        self.next = 0;
        self.filled = 0;
        self.sum = 0;
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The average of the last `period` values, the slow obvious way.
    fn naive(values: &[i64], period: usize) -> Option<(i128, f64)> {
        if values.len() < period {
            return None;
        }
        let sum: i128 = values[values.len() - period..]
            .iter()
            .map(|&v| i128::from(v))
            .sum();
        Some((sum, sum as f64 / period as f64))
    }

    #[test]
    fn warms_up_then_slides() {
        let mut sma = Sma::new(4);
        let values = [5, 7, 9, 11, 13, -2, 0, 100];
        for (i, &v) in values.iter().enumerate() {
            sma.update(v);
            let seen = &values[..=i];
            match naive(seen, 4) {
                None => {
                    assert!(!sma.is_warm());
                    assert_eq!(sma.mean(), None);
                }
                Some((sum, mean)) => {
                    assert!(sma.is_warm());
                    assert_eq!(sma.sum(), sum);
                    assert_eq!(sma.mean(), Some(mean));
                }
            }
        }
    }

    #[test]
    fn period_one_is_the_last_sample() {
        let mut sma = Sma::new(1);
        sma.update(3);
        sma.update(-8);
        assert_eq!(sma.mean(), Some(-8.0));
    }

    #[test]
    fn equal_averages_compare_equal_exactly() {
        // 100.05 rupees in raw units: a float running sum of this would not be exact.
        let raw = 10_005_000_000;
        let mut fast = Sma::new(5);
        let mut slow = Sma::new(20);
        for _ in 0..1000 {
            fast.update(raw);
            slow.update(raw);
            if slow.is_warm() {
                assert_eq!(fast.cmp_mean(&slow), Some(Ordering::Equal));
            } else {
                assert_eq!(fast.cmp_mean(&slow), None);
            }
        }
        fast.update(raw + 1);
        assert_eq!(fast.cmp_mean(&slow), Some(Ordering::Greater));
        assert_eq!(slow.cmp_mean(&fast), Some(Ordering::Less));
    }

    #[test]
    fn reset_starts_over() {
        let mut sma = Sma::new(2);
        sma.update(1);
        sma.update(2);
        sma.reset();
        assert!(!sma.is_warm());
        sma.update(10);
        sma.update(20);
        assert_eq!(sma.sum(), 30);
    }

    proptest! {
        /// Invariant: after every update, the incremental sum and mean equal the naive
        /// ones over the last `period` samples, and the comparison of two averages equals
        /// the comparison of their exact rational values.
        #[test]
        fn matches_naive(
            values in proptest::collection::vec(-1_000_000_000_000i64..1_000_000_000_000, 1..300),
            period in 1usize..40,
            other_period in 1usize..40,
        ) {
            let mut sma = Sma::new(period);
            let mut other = Sma::new(other_period);
            for i in 0..values.len() {
                sma.update(values[i]);
                other.update(values[i]);
                let seen = &values[..=i];
                match naive(seen, period) {
                    None => prop_assert_eq!(sma.mean(), None),
                    Some((sum, mean)) => {
                        prop_assert_eq!(sma.sum(), sum);
                        prop_assert_eq!(sma.mean(), Some(mean));
                    }
                }
                if let (Some((a, _)), Some((b, _))) = (naive(seen, period), naive(seen, other_period)) {
                    let expected = (a * other_period as i128).cmp(&(b * period as i128));
                    prop_assert_eq!(sma.cmp_mean(&other), Some(expected));
                } else {
                    prop_assert_eq!(sma.cmp_mean(&other), None);
                }
            }
        }
    }
}
