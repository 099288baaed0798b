//! Wilder's average directional index, with TA-Lib's directional-movement rules.

use super::{rsi::is_zero, true_range::true_range};

/// Average directional index over `period` bars, matching TA-Lib's `ADX`.
///
/// For each bar after the first, with `up = high − prev_high` and `dn = prev_low − low`:
/// −DM is `dn` when `dn > 0 && up < dn`; otherwise +DM is `up` when `up > 0 && up > dn`;
/// otherwise neither moves (an inside bar, or a tie).
///
/// - Bars 1..period−1 are plain sums of +DM, −DM and true range.
/// - From bar `period` each sum becomes `S − S/period + today`, and gives
///   `DI± = 100·(S±/S_tr)` and `DX = 100·(|DI− − DI+|/(DI− + DI+))`; a bar whose `S_tr`
///   or `DI− + DI+` is within 1e-14 of zero has no DX.
/// - The first ADX, at bar `2·period − 1`, is the sum of the DX values of bars
///   `period..=2·period − 1` divided by `period`; after that
///   `adx = (adx·(period − 1) + DX)/period`, and a bar with no DX keeps the previous ADX.
///
/// O(1) per update, no allocation.
///
/// # Examples
/// ```
/// use tickpipe::signal::indicator::Adx;
/// let mut adx = Adx::new(2);
/// // A steady climb: every bar's move is +DM, so DI− = 0 and DX = 100.
/// let mut out = Vec::new();
/// for i in 0..5 {
///     let base = f64::from(i);
///     out.push(adx.update(base + 1.0, base, base + 0.5));
/// }
/// assert_eq!(out[..3], [None, None, None]);
/// assert_eq!(out[3], Some(100.0)); // bar 2·2 − 1
/// assert_eq!(out[4], Some(100.0));
/// ```
#[derive(Debug, Clone)]
pub struct Adx {
    period: usize,
    prev: Option<(f64, f64, f64)>,
    /// Bars after the first seen, counted up to `2·period − 1`.
    bars: usize,
    plus_dm: f64,
    minus_dm: f64,
    tr: f64,
    /// Sum of DX while seeding, then the ADX.
    adx: f64,
    value: Option<f64>,
}

impl Adx {
    /// An empty ADX over `period` bars.
    ///
    /// # Panics
    /// If `period` is zero.
    pub fn new(period: usize) -> Adx {
        assert!(period > 0, "an ADX period must be at least 1");
        Adx {
            period,
            prev: None,
            bars: 0,
            plus_dm: 0.0,
            minus_dm: 0.0,
            tr: 0.0,
            adx: 0.0,
            value: None,
        }
    }

    /// Adds a bar; returns the ADX, or `None` before bar `2·period − 1`.
    #[inline]
    pub fn update(&mut self, high: f64, low: f64, close: f64) -> Option<f64> {
        let (prev_high, prev_low, prev_close) = self.prev.replace((high, low, close))?;
        let up = high - prev_high;
        let dn = prev_low - low;
        let tr = true_range(high, low, prev_close);
        let n = self.period as f64;
        self.bars += 1;
        if self.bars < self.period {
            // Bars 1..period−1: plain sums.
            self.add_dm(up, dn);
            self.tr += tr;
            return None;
        }
        self.minus_dm -= self.minus_dm / n;
        self.plus_dm -= self.plus_dm / n;
        self.add_dm(up, dn);
        self.tr = self.tr - self.tr / n + tr;
        let dx = self.dx();
        let seeded = 2 * self.period - 1;
        if self.bars < seeded {
            self.adx += dx.unwrap_or(0.0);
        } else if self.bars == seeded {
            self.adx += dx.unwrap_or(0.0);
            self.adx /= n;
            self.value = Some(self.adx);
        } else {
            if let Some(dx) = dx {
                self.adx = (self.adx * (n - 1.0) + dx) / n;
            }
            self.value = Some(self.adx);
            // Keep `bars` from growing without bound on a long run.
            self.bars = seeded + 1;
        }
        self.value
    }

    /// Adds today's directional movement to the sums, by TA-Lib's rules.
    #[inline]
    fn add_dm(&mut self, up: f64, dn: f64) {
        if dn > 0.0 && up < dn {
            self.minus_dm += dn;
        } else if up > 0.0 && up > dn {
            self.plus_dm += up;
        }
    }

    /// Today's DX from the smoothed sums, or `None` when a denominator is zero.
    #[inline]
    fn dx(&self) -> Option<f64> {
        if is_zero(self.tr) {
            return None;
        }
        let minus_di = 100.0 * (self.minus_dm / self.tr);
        let plus_di = 100.0 * (self.plus_dm / self.tr);
        let sum = minus_di + plus_di;
        (!is_zero(sum)).then(|| 100.0 * ((minus_di - plus_di).abs() / sum))
    }

    /// The latest ADX, or `None` while warming up.
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
        *self = Adx::new(self.period);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_value_at_bar_two_period_minus_one() {
        let mut adx = Adx::new(3);
        for i in 0..5 {
            let x = f64::from(i);
            assert_eq!(adx.update(x + 1.0, x, x), None, "bar {i}");
        }
        assert!(adx.update(6.0, 5.0, 5.0).is_some());
    }

    #[test]
    fn dm_rules() {
        let mut adx = Adx::new(5);
        adx.update(10.0, 9.0, 9.5);
        // up 1, dn −1: +DM 1.
        adx.update(11.0, 10.0, 10.5);
        assert_eq!((adx.plus_dm, adx.minus_dm), (1.0, 0.0));
        // up −2, dn 2: −DM 2.
        adx.update(9.0, 8.0, 8.5);
        assert_eq!((adx.plus_dm, adx.minus_dm), (1.0, 2.0));
        // Outside bar, up 1 = dn 1: a tie moves neither.
        adx.update(10.0, 7.0, 8.5);
        assert_eq!((adx.plus_dm, adx.minus_dm), (1.0, 2.0));
        // Inside bar: up −1, dn −1: neither.
        adx.update(9.0, 8.0, 8.5);
        assert_eq!((adx.plus_dm, adx.minus_dm), (1.0, 2.0));
    }

    #[test]
    fn flat_series_has_no_dx_and_keeps_zero() {
        let mut adx = Adx::new(2);
        for _ in 0..6 {
            adx.update(1.0, 1.0, 1.0);
        }
        assert_eq!(adx.value(), Some(0.0));
    }

    #[test]
    fn reset_starts_over() {
        let mut adx = Adx::new(1);
        adx.update(2.0, 1.0, 1.5);
        assert!(adx.update(3.0, 2.0, 2.5).is_some());
        adx.reset();
        assert_eq!(adx.value(), None);
        assert_eq!(adx.update(3.0, 2.0, 2.5), None);
    }
}
