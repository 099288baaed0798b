//! The exponential moving average, seeded as TA-Lib seeds it.

/// Exponential moving average with `k = 2/(period + 1)`, matching TA-Lib's `EMA`.
///
/// TA-Lib (default compatibility) seeds the average with the **plain mean of the first
/// `period` samples**, so the first value is at the `period`-th sample (bar
/// `period − 1`); after that `ema = (x − prev)·k + prev`, in that order. Every value
/// depends on the whole history, so two EMAs started on different bars never agree
/// exactly; [`Macd`](super::Macd) relies on that to line its averages up as TA-Lib does.
///
/// O(1) per update, no allocation.
///
/// # Examples
/// ```
/// use tickpipe::signal::indicator::Ema;
/// let mut ema = Ema::new(3); // k = 0.5
/// assert_eq!(ema.update(1.0), None);
/// assert_eq!(ema.update(2.0), None);
/// assert_eq!(ema.update(3.0), Some(2.0)); // the seed: mean(1, 2, 3)
/// assert_eq!(ema.update(6.0), Some(4.0)); // (6 − 2)·0.5 + 2
/// ```
#[derive(Debug, Clone)]
pub struct Ema {
    period: usize,
    k: f64,
    /// Samples seen while seeding, up to `period`.
    seen: usize,
    /// Sum of the seeding samples, in arrival order.
    seed_sum: f64,
    value: Option<f64>,
}

impl Ema {
    /// An empty average over `period` samples.
    ///
    /// # Panics
    /// If `period` is zero.
    pub fn new(period: usize) -> Ema {
        assert!(period > 0, "an EMA period must be at least 1");
        Ema {
            period,
            // TA-Lib's PER_TO_K.
            k: 2.0 / (period as f64 + 1.0),
            seen: 0,
            seed_sum: 0.0,
            value: None,
        }
    }

    /// Adds a sample; returns the average, or `None` while the seed is gathered.
    #[inline]
    pub fn update(&mut self, value: f64) -> Option<f64> {
        match self.value {
            Some(prev) => self.value = Some((value - prev) * self.k + prev),
            None => {
                self.seed_sum += value;
                self.seen += 1;
                if self.seen == self.period {
                    self.value = Some(self.seed_sum / self.period as f64);
                }
            }
        }
        self.value
    }

    /// The latest average, or `None` while the seed is gathered.
    #[inline]
    pub fn value(&self) -> Option<f64> {
        self.value
    }

    /// The period.
    pub fn period(&self) -> usize {
        self.period
    }

    /// Forgets every sample.
    pub fn reset(&mut self) {
        self.seen = 0;
        self.seed_sum = 0.0;
        self.value = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_with_the_mean_then_smoothed() {
        let mut ema = Ema::new(4); // k = 0.4
        assert_eq!(ema.update(2.0), None);
        assert_eq!(ema.update(4.0), None);
        assert_eq!(ema.update(6.0), None);
        assert_eq!(ema.update(8.0), Some(5.0));
        // (10 − 5)·0.4 + 5 = 7
        assert_eq!(ema.update(10.0), Some((10.0 - 5.0) * 0.4 + 5.0));
        assert_eq!(ema.value(), Some(7.0));
    }

    #[test]
    fn period_one_follows_the_sample() {
        let mut ema = Ema::new(1); // k = 1
        assert_eq!(ema.update(3.0), Some(3.0));
        assert_eq!(ema.update(-2.0), Some(-2.0));
    }

    #[test]
    fn reset_reseeds() {
        let mut ema = Ema::new(2);
        ema.update(1.0);
        ema.update(3.0);
        ema.reset();
        assert_eq!(ema.update(10.0), None);
        assert_eq!(ema.update(20.0), Some(15.0));
    }
}
