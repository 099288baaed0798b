//! The simple moving average on `f64` samples, summed the way TA-Lib sums it.

use super::window::Window;

/// Simple moving average of the last `period` samples, matching TA-Lib's `SMA` to the bit.
///
/// TA-Lib keeps a running total: each bar it adds the new sample, divides, and only then
/// subtracts the sample that drops out. Floating-point addition is not associative, so
/// the order shows in the last bits (GOOG's SMA(10) at bar 28 is `120.38900000000004`,
/// not `120.389`); this type repeats that order so its output equals TA-Lib's exactly.
/// For exact integer averages (crossovers on raw prices) use [`Sma`](super::Sma).
///
/// O(1) per update; the window is allocated once in [`TalibSma::new`]. The first value
/// is at the `period`-th sample (bar `period − 1`).
///
/// # Examples
/// ```
/// use tickpipe::signal::indicator::TalibSma;
/// let mut sma = TalibSma::new(3);
/// assert_eq!(sma.update(1.0), None);
/// assert_eq!(sma.update(2.0), None);
/// assert_eq!(sma.update(6.0), Some(3.0));
/// assert_eq!(sma.update(10.0), Some(6.0)); // (2 + 6 + 10) / 3
/// assert_eq!(sma.value(), Some(6.0));
/// ```
#[derive(Debug, Clone)]
pub struct TalibSma {
    window: Window,
    /// The sum of the newest `period − 1` samples between updates (TA-Lib's `periodTotal`).
    sum: f64,
    value: Option<f64>,
}

impl TalibSma {
    /// An empty average over `period` samples.
    ///
    /// # Panics
    /// If `period` is zero.
    pub fn new(period: usize) -> TalibSma {
        TalibSma {
            window: Window::new(period),
            sum: 0.0,
            value: None,
        }
    }

    /// Adds a sample; returns the average of the last `period`, or `None` while warming up.
    #[inline]
    pub fn update(&mut self, value: f64) -> Option<f64> {
        self.sum += value;
        self.window.push(value);
        if let Some(oldest) = self.window.oldest() {
            let mean = self.sum / self.window.len() as f64;
            self.sum -= oldest;
            self.value = Some(mean);
        }
        self.value
    }

    /// The latest average, or `None` while warming up.
    #[inline]
    pub fn value(&self) -> Option<f64> {
        self.value
    }

    /// The window length.
    pub fn period(&self) -> usize {
        self.window.len()
    }

    /// Forgets every sample, keeping the allocation.
    pub fn reset(&mut self) {
        self.window.clear();
        self.sum = 0.0;
        self.value = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_value_at_sample_period() {
        let mut sma = TalibSma::new(4);
        for (i, v) in [1.0, 2.0, 3.0, 4.0, 5.0].into_iter().enumerate() {
            let out = sma.update(v);
            assert_eq!(out.is_some(), i >= 3, "bar {i}");
        }
        assert_eq!(sma.value(), Some(3.5)); // (2 + 3 + 4 + 5) / 4
    }

    #[test]
    fn period_one_is_the_sample() {
        let mut sma = TalibSma::new(1);
        assert_eq!(sma.update(7.5), Some(7.5));
        assert_eq!(sma.update(-1.0), Some(-1.0));
    }

    #[test]
    fn running_sum_order_shows_in_the_last_bits() {
        // Add, divide, subtract: the same order as TA-Lib, so the same rounding.
        let values = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6];
        let mut sma = TalibSma::new(3);
        let mut total = 0.0;
        let mut expected = Vec::new();
        for (i, &v) in values.iter().enumerate() {
            total += v;
            if i >= 2 {
                expected.push(total / 3.0);
                total -= values[i - 2];
            }
        }
        let got: Vec<f64> = values.iter().filter_map(|&v| sma.update(v)).collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn reset_starts_over() {
        let mut sma = TalibSma::new(2);
        sma.update(1.0);
        sma.update(3.0);
        sma.reset();
        assert_eq!(sma.value(), None);
        assert_eq!(sma.update(10.0), None);
        assert_eq!(sma.update(20.0), Some(15.0));
    }
}
