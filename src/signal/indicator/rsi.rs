//! Wilder's relative strength index, in TA-Lib's arithmetic.

/// TA-Lib's `TA_IS_ZERO`: a denominator this close to zero counts as zero.
pub(super) fn is_zero(value: f64) -> bool {
    -1e-14 < value && value < 1e-14
}

/// Wilder's RSI over `period` changes, matching TA-Lib's `RSI` (default compatibility).
///
/// - The first `period` changes (bars 1..=period) are summed into gains (`d ≥ 0`; a zero
///   change counts as a gain of +0) and losses (`−d` when `d < 0`), and each sum is
///   divided by `period`. The first value is at bar `period`.
/// - After that each average is updated as `(avg·(period − 1) + today)/period`:
///   multiply, add, then divide, the order TA-Lib uses, so the output matches its bits.
/// - RSI is `100·(avgGain/(avgGain + avgLoss))`, or 0 when that denominator is within
///   1e-14 of zero (a flat series).
///
/// O(1) per update, no allocation.
///
/// # Examples
/// ```
/// use tickpipe::signal::indicator::Rsi;
/// let mut rsi = Rsi::new(2);
/// assert_eq!(rsi.update(10.0), None);
/// assert_eq!(rsi.update(12.0), None); // +2
/// assert_eq!(rsi.update(11.0), Some(100.0 * (1.0 / 1.5))); // −1: gain 1, loss 0.5
/// ```
#[derive(Debug, Clone)]
pub struct Rsi {
    period: usize,
    prev_close: Option<f64>,
    /// Changes seen, up to `period` (then the averages are Wilder-smoothed).
    changes: usize,
    /// Sum of gains while seeding, then the average gain.
    gain: f64,
    /// Sum of losses while seeding, then the average loss.
    loss: f64,
    value: Option<f64>,
}

impl Rsi {
    /// An empty RSI over `period` changes.
    ///
    /// # Panics
    /// If `period` is zero.
    pub fn new(period: usize) -> Rsi {
        assert!(period > 0, "an RSI period must be at least 1");
        Rsi {
            period,
            prev_close: None,
            changes: 0,
            gain: 0.0,
            loss: 0.0,
            value: None,
        }
    }

    /// Adds a close; returns the RSI (0..=100), or `None` before bar `period`.
    #[inline]
    pub fn update(&mut self, close: f64) -> Option<f64> {
        let prev = self.prev_close.replace(close)?;
        let change = close - prev;
        let n = self.period as f64;
        if self.changes < self.period {
            self.add_change(change);
            self.changes += 1;
            if self.changes < self.period {
                return None;
            }
        } else {
            self.loss *= n - 1.0;
            self.gain *= n - 1.0;
            self.add_change(change);
        }
        self.loss /= n;
        self.gain /= n;
        let total = self.gain + self.loss;
        let rsi = if is_zero(total) {
            0.0
        } else {
            100.0 * (self.gain / total)
        };
        self.value = Some(rsi);
        self.value
    }

    #[inline]
    fn add_change(&mut self, change: f64) {
        if change < 0.0 {
            self.loss -= change;
        } else {
            self.gain += change;
        }
    }

    /// The latest RSI, or `None` while warming up.
    #[inline]
    pub fn value(&self) -> Option<f64> {
        self.value
    }

    /// The period.
    pub fn period(&self) -> usize {
        self.period
    }

    /// Forgets every close.
    pub fn reset(&mut self) {
        *self = Rsi::new(self.period);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_value_at_bar_period() {
        let mut rsi = Rsi::new(3);
        let closes = [1.0, 2.0, 3.0, 2.0, 4.0];
        let out: Vec<_> = closes.iter().map(|&c| rsi.update(c)).collect();
        assert_eq!(&out[..3], &[None, None, None]);
        // Bars 1..=3: gains 1 + 1, loss 1 → avg 2/3 and 1/3.
        let (g, l) = (2.0 / 3.0, 1.0 / 3.0);
        assert_eq!(out[3], Some(100.0 * (g / (g + l))));
        // Bar 4: +2 → gain (g·2 + 2)/3, loss (l·2)/3.
        let (g, l) = ((g * 2.0 + 2.0) / 3.0, (l * 2.0) / 3.0);
        assert_eq!(out[4], Some(100.0 * (g / (g + l))));
    }

    #[test]
    fn flat_series_is_zero() {
        let mut rsi = Rsi::new(2);
        for _ in 0..5 {
            rsi.update(5.0);
        }
        assert_eq!(rsi.value(), Some(0.0));
    }

    #[test]
    fn only_rises_is_hundred() {
        let mut rsi = Rsi::new(2);
        for c in [1.0, 2.0, 3.0, 4.0] {
            rsi.update(c);
        }
        assert_eq!(rsi.value(), Some(100.0));
    }

    #[test]
    fn reset_starts_over() {
        let mut rsi = Rsi::new(1);
        rsi.update(1.0);
        assert_eq!(rsi.update(2.0), Some(100.0));
        rsi.reset();
        assert_eq!(rsi.update(5.0), None);
        assert_eq!(rsi.update(4.0), Some(0.0));
    }
}
