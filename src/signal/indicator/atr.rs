//! Wilder's average true range, as TA-Lib computes it.

use super::true_range::true_range;

/// Average true range over `period` bars, matching TA-Lib's `ATR`.
///
/// The true range needs the previous close, so bar 0 has none. The first ATR, at bar
/// `period`, is the plain mean of the true ranges of bars 1..=period; after that
/// `atr = (atr·(period − 1) + tr)/period` (multiply, add, divide, TA-Lib's order).
///
/// O(1) per update, no allocation.
///
/// # Examples
/// ```
/// use tickpipe::signal::indicator::Atr;
/// let mut atr = Atr::new(2);
/// assert_eq!(atr.update(11.0, 9.0, 10.0), None); // bar 0: no true range
/// assert_eq!(atr.update(12.0, 10.0, 11.0), None); // tr 2
/// assert_eq!(atr.update(15.0, 13.0, 14.0), Some(3.0)); // tr 4 (gap): mean(2, 4)
/// assert_eq!(atr.update(15.0, 14.0, 14.5), Some(2.0)); // tr 1: (3·1 + 1)/2
/// ```
#[derive(Debug, Clone)]
pub struct Atr {
    period: usize,
    prev_close: Option<f64>,
    /// True ranges seen, up to `period`.
    ranges: usize,
    /// Sum of true ranges while seeding, then the ATR.
    atr: f64,
    value: Option<f64>,
}

impl Atr {
    /// An empty ATR over `period` bars.
    ///
    /// # Panics
    /// If `period` is zero.
    pub fn new(period: usize) -> Atr {
        assert!(period > 0, "an ATR period must be at least 1");
        Atr {
            period,
            prev_close: None,
            ranges: 0,
            atr: 0.0,
            value: None,
        }
    }

    /// Adds a bar; returns the ATR, or `None` before bar `period`.
    #[inline]
    pub fn update(&mut self, high: f64, low: f64, close: f64) -> Option<f64> {
        let prev = self.prev_close.replace(close)?;
        let tr = true_range(high, low, prev);
        let n = self.period as f64;
        if self.ranges < self.period {
            self.atr += tr;
            self.ranges += 1;
            if self.ranges < self.period {
                return None;
            }
            self.atr /= n;
        } else {
            self.atr *= n - 1.0;
            self.atr += tr;
            self.atr /= n;
        }
        self.value = Some(self.atr);
        self.value
    }

    /// The latest ATR, or `None` while warming up.
    #[inline]
    pub fn value(&self) -> Option<f64> {
        self.value
    }

    /// The period.
    pub fn period(&self) -> usize {
        self.period
    }

    /// Forgets every bar.
    pub fn reset(&mut self) {
        *self = Atr::new(self.period);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_value_at_bar_period() {
        let mut atr = Atr::new(3);
        let bars = [(2.0, 1.0, 1.5); 5];
        let out: Vec<_> = bars.iter().map(|&(h, l, c)| atr.update(h, l, c)).collect();
        assert_eq!(&out[..3], &[None, None, None]);
        assert_eq!(out[3], Some(1.0));
        assert_eq!(out[4], Some(1.0));
    }

    #[test]
    fn period_one_is_the_true_range() {
        let mut atr = Atr::new(1);
        assert_eq!(atr.update(10.0, 9.0, 9.5), None);
        assert_eq!(atr.update(12.0, 11.0, 11.5), Some(2.5)); // |12 − 9.5|
    }

    #[test]
    fn reset_starts_over() {
        let mut atr = Atr::new(1);
        atr.update(10.0, 9.0, 9.5);
        atr.update(10.0, 9.0, 9.5);
        atr.reset();
        assert_eq!(atr.value(), None);
        assert_eq!(atr.update(10.0, 9.0, 9.5), None);
    }
}
