//! Rolling volatility of log returns.

use super::RollingMeanStd;

/// The sample standard deviation (divide by `period − 1`) of the last `period` log
/// returns `ln(pₜ/pₜ₋₁)`, per bar (not annualised: multiply by `√bars_per_year`).
///
/// Log returns add over time and treat up and down moves alike, the usual input of a
/// volatility estimate; the sample deviation is the usual estimator (what pandas'
/// `rolling(n).std()` gives). It needs `period + 1` prices, so the first value is at
/// bar `period`. Prices must be positive.
///
/// O(1) amortised per update (see [`RollingMeanStd`]).
///
/// # Examples
/// ```
/// use tickpipe::signal::indicator::ReturnVolatility;
/// let mut vol = ReturnVolatility::new(2);
/// assert_eq!(vol.update(100.0), None);
/// assert_eq!(vol.update(110.0), None);
/// let v = vol.update(99.0).unwrap();
/// let (a, b) = ((110.0f64 / 100.0).ln(), (99.0f64 / 110.0).ln());
/// let expected = ((a - b).abs()) / 2f64.sqrt(); // sample sd of two values
/// assert!((v - expected).abs() < 1e-15);
/// ```
#[derive(Debug, Clone)]
pub struct ReturnVolatility {
    returns: RollingMeanStd,
    prev_price: Option<f64>,
    value: Option<f64>,
}

impl ReturnVolatility {
    /// An empty estimate over `period` returns.
    ///
    /// # Panics
    /// If `period` is below 2 (one return has no sample deviation).
    pub fn new(period: usize) -> ReturnVolatility {
        assert!(period >= 2, "a volatility needs at least 2 returns");
        ReturnVolatility {
            returns: RollingMeanStd::new(period),
            prev_price: None,
            value: None,
        }
    }

    /// Adds a price; returns the volatility, or `None` before bar `period`.
    #[inline]
    pub fn update(&mut self, price: f64) -> Option<f64> {
        let prev = self.prev_price.replace(price)?;
        self.value = self
            .returns
            .update((price / prev).ln())
            .map(|s| s.sample_std);
        self.value
    }

    /// The latest volatility, or `None` while warming up.
    #[inline]
    pub fn value(&self) -> Option<f64> {
        self.value
    }

    /// Forgets every price, keeping the allocation.
    pub fn reset(&mut self) {
        self.returns.reset();
        self.prev_price = None;
        self.value = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_growth_has_no_volatility() {
        let mut vol = ReturnVolatility::new(3);
        let mut price = 100.0;
        let mut last = None;
        for _ in 0..10 {
            price *= 2.0;
            last = vol.update(price);
        }
        assert!(last.unwrap() < 1e-15, "{last:?}");
    }

    #[test]
    fn first_value_at_bar_period() {
        let mut vol = ReturnVolatility::new(3);
        let out: Vec<_> = [1.0, 2.0, 1.0, 2.0, 1.0]
            .iter()
            .map(|&p| vol.update(p))
            .collect();
        assert!(out[..3].iter().all(Option::is_none));
        assert!(out[3].is_some() && out[4].is_some());
    }

    #[test]
    fn reset_starts_over() {
        let mut vol = ReturnVolatility::new(2);
        for p in [1.0, 2.0, 4.0] {
            vol.update(p);
        }
        vol.reset();
        assert_eq!(vol.value(), None);
        assert_eq!(vol.update(1.0), None);
    }
}
