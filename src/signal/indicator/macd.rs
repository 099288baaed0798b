//! Moving average convergence/divergence, with TA-Lib's aligned seeding.

use super::Ema;

/// One MACD output: the line, its signal average and their difference.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MacdValue {
    /// `fast EMA − slow EMA`.
    pub macd: f64,
    /// EMA of `macd` over the signal period.
    pub signal: f64,
    /// `macd − signal`.
    pub hist: f64,
}

/// MACD(fast, slow, signal), matching TA-Lib's `MACD`, including its seeding.
///
/// TA-Lib lines the two averages up so both start at bar `slow − 1`:
///
/// - the slow EMA is seeded as usual, with the mean of closes `0..slow`;
/// - the **fast EMA is seeded with the mean of the `fast` closes ending at bar
///   `slow − 1`**, not at bar `fast − 1` as a standalone [`Ema`] would be. On GOOG the
///   two ways differ by about 0.085 at bar 40 (see `tests/fixtures/indicators/README.md`);
/// - the signal EMA of the macd line is seeded with the mean of its first `signal`
///   values, so every output (the line too) starts at bar `slow + signal − 2`
///   (33 for 12/26/9).
///
/// O(1) per update, no allocation.
///
/// # Examples
/// ```
/// use tickpipe::signal::indicator::Macd;
/// let mut macd = Macd::new(12, 26, 9);
/// let mut first = None;
/// for bar in 0..40 {
///     if macd.update(100.0 + bar as f64).is_some() && first.is_none() {
///         first = Some(bar);
///     }
/// }
/// assert_eq!(first, Some(33));
/// let out = macd.value().unwrap();
/// assert_eq!(out.hist, out.macd - out.signal);
/// ```
#[derive(Debug, Clone)]
pub struct Macd {
    fast: Ema,
    slow: Ema,
    signal: Ema,
    /// Closes the fast EMA skips so that it is seeded on the slow EMA's first bar.
    skip: usize,
    /// Closes seen, counted only up to `skip`.
    seen: usize,
    value: Option<MacdValue>,
}

impl Macd {
    /// An empty MACD: `Macd::new(12, 26, 9)` is the usual one.
    ///
    /// # Panics
    /// If a period is zero or `fast > slow`.
    pub fn new(fast: usize, slow: usize, signal: usize) -> Macd {
        assert!(
            fast > 0 && slow > 0 && signal > 0,
            "MACD periods must be at least 1"
        );
        assert!(
            fast <= slow,
            "the fast MACD period must not exceed the slow"
        );
        Macd {
            fast: Ema::new(fast),
            slow: Ema::new(slow),
            signal: Ema::new(signal),
            skip: slow - fast,
            seen: 0,
            value: None,
        }
    }

    /// Adds a close; returns the three outputs, or `None` before bar `slow + signal − 2`.
    #[inline]
    pub fn update(&mut self, close: f64) -> Option<MacdValue> {
        let slow = self.slow.update(close);
        if self.seen < self.skip {
            self.seen += 1;
            return None;
        }
        let fast = self.fast.update(close);
        let (Some(fast), Some(slow)) = (fast, slow) else {
            return None;
        };
        let macd = fast - slow;
        let signal = self.signal.update(macd)?;
        self.value = Some(MacdValue {
            macd,
            signal,
            hist: macd - signal,
        });
        self.value
    }

    /// The latest outputs, or `None` while warming up.
    #[inline]
    pub fn value(&self) -> Option<MacdValue> {
        self.value
    }

    /// Forgets every close.
    pub fn reset(&mut self) {
        self.fast.reset();
        self.slow.reset();
        self.signal.reset();
        self.seen = 0;
        self.value = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// MACD(2, 4, 2) by hand on closes 1, 2, 4, 8, 16, 32.
    #[test]
    fn aligned_seeding_by_hand() {
        let closes = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0];
        let mut macd = Macd::new(2, 4, 2);
        let out: Vec<_> = closes.iter().map(|&c| macd.update(c)).collect();
        assert!(out[..4].iter().all(Option::is_none));
        // Bar 3: slow = mean(1, 2, 4, 8) = 3.75; fast seeded with mean(4, 8) = 6 (not
        // with mean(1, 2) as a standalone EMA(2) would be). macd = 2.25.
        // Bar 4: slow = (16 − 3.75)·0.4 + 3.75 = 8.65; fast = (16 − 6)·⅔ + 6.
        let slow4 = (16.0 - 3.75) * 0.4 + 3.75;
        let fast4 = (16.0 - 6.0) * (2.0 / 3.0) + 6.0;
        let m3 = 6.0 - 3.75;
        let m4 = fast4 - slow4;
        let signal4 = (m3 + m4) / 2.0;
        assert_eq!(
            out[4],
            Some(MacdValue {
                macd: m4,
                signal: signal4,
                hist: m4 - signal4,
            })
        );
        let slow5 = (32.0 - slow4) * 0.4 + slow4;
        let fast5 = (32.0 - fast4) * (2.0 / 3.0) + fast4;
        let m5 = fast5 - slow5;
        let signal5 = (m5 - signal4) * (2.0 / 3.0) + signal4;
        assert_eq!(out[5].map(|v| (v.macd, v.signal)), Some((m5, signal5)));
    }

    #[test]
    fn equal_periods_give_zero() {
        let mut macd = Macd::new(3, 3, 1);
        assert_eq!(macd.update(1.0), None);
        assert_eq!(macd.update(5.0), None);
        let out = macd.update(2.0).unwrap();
        assert_eq!((out.macd, out.signal, out.hist), (0.0, 0.0, 0.0));
    }

    #[test]
    fn reset_starts_over() {
        let mut macd = Macd::new(1, 2, 1);
        macd.update(1.0);
        assert!(macd.update(2.0).is_some());
        macd.reset();
        assert_eq!(macd.value(), None);
        assert_eq!(macd.update(1.0), None);
        assert!(macd.update(2.0).is_some());
    }
}
