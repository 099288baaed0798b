//! Rolling correlation of per-instrument returns, for the correlated-cluster limit.

use crate::model::{InstrumentId, Price, UnixNanos};

/// Most returns a window may hold; the ring is sized for it at construction, so
/// `risk.correlation_window` can change at run time without allocating.
pub const MAX_CORRELATION_WINDOW: usize = 240;

/// Fewest returns in the window before a correlation is read: below it the estimate
/// says nothing and the pair counts as uncorrelated.
pub const MIN_CORRELATION_SAMPLES: usize = 10;

/// Length of one return period: one minute of market time.
const PERIOD_NANOS: u64 = 60_000_000_000;

/// Rolling Pearson correlation of one-minute log returns between instruments.
///
/// Every tick stores the instrument's price (one store); when market time enters a new
/// minute, every instrument's return over the minute that ended is pushed into a ring
/// of the last `window` returns, all instruments aligned on the same minutes, with
/// running sums of x and x² per instrument (O(1) per instrument). An instrument
/// without a trade in a minute has a zero return for it. A correlation is computed
/// only when asked (an entry decision), over the shared window: O(window). A gap in
/// market time (a halt, the night) counts as one period. `f64` is used only here,
/// inside the statistic.
///
/// # Examples
/// ```
/// use tickpipe::{model::*, risk::ReturnCorrelation};
/// let mut c = ReturnCorrelation::new(2, 20);
/// let minute = |m: u64| UnixNanos(m * 60_000_000_000);
/// for m in 0..30u64 {
///     let wiggle = if m % 2 == 0 { 100 } else { 103 } + m as i64 % 5;
///     c.on_time(minute(m));
///     c.on_price(InstrumentId(0), Price::from_paise(wiggle * 100));
///     c.on_price(InstrumentId(1), Price::from_paise(wiggle * 250));
/// }
/// c.on_time(minute(30));
/// assert!(c.correlation(InstrumentId(0), InstrumentId(1)).unwrap() > 0.99);
/// ```
#[derive(Debug, Clone)]
pub struct ReturnCorrelation {
    window: usize,
    /// Minute index of the period now open (`None` before the first event).
    period: Option<u64>,
    /// Market time at which the open period ends: before it, [`ReturnCorrelation::on_time`]
    /// is one compare, not a division on every tick.
    period_end: u64,
    /// True once closes have been taken at the end of a first period.
    primed: bool,
    last: Vec<Price>,
    close: Vec<Price>,
    /// `instruments × MAX_CORRELATION_WINDOW` returns, one ring per instrument, all
    /// written at the same slot.
    returns: Vec<f64>,
    head: usize,
    /// Returns in the window.
    filled: usize,
    /// Returns in the ring (at most [`MAX_CORRELATION_WINDOW`]).
    written: usize,
    sum: Vec<f64>,
    sum_sq: Vec<f64>,
}

impl ReturnCorrelation {
    /// A tracker of `instruments` instruments over the last `window` one-minute returns
    /// (clamped to [`MAX_CORRELATION_WINDOW`]).
    pub fn new(instruments: usize, window: usize) -> ReturnCorrelation {
        ReturnCorrelation {
            window: window.min(MAX_CORRELATION_WINDOW),
            period: None,
            period_end: 0,
            primed: false,
            last: vec![Price::ZERO; instruments],
            close: vec![Price::ZERO; instruments],
            returns: vec![0.0; instruments * MAX_CORRELATION_WINDOW],
            head: 0,
            filled: 0,
            written: 0,
            sum: vec![0.0; instruments],
            sum_sq: vec![0.0; instruments],
        }
    }

    /// The latest trade price of `id`.
    pub fn on_price(&mut self, id: InstrumentId, price: Price) {
        if let Some(last) = self.last.get_mut(id.index()) {
            if price.is_positive() {
                *last = price;
            }
        }
    }

    /// Market time moved to `now`: closes the minute that ended, if one did.
    #[inline]
    pub fn on_time(&mut self, now: UnixNanos) {
        if self.period.is_some() && now.0 < self.period_end {
            return;
        }
        self.next_period(now);
    }

    /// [`ReturnCorrelation::on_time`] at or past the open period's end (or first).
    fn next_period(&mut self, now: UnixNanos) {
        let period = now.0 / PERIOD_NANOS;
        match self.period {
            Some(open) if period > open => {
                self.roll();
                self.period = Some(period);
            }
            None => self.period = Some(period),
            _ => {}
        }
        if let Some(open) = self.period {
            self.period_end = (open + 1).saturating_mul(PERIOD_NANOS);
        }
    }

    /// Changes the window (clamped to [`MAX_CORRELATION_WINDOW`]); the returns kept
    /// stay, and the running sums are recounted over the new window. No allocation.
    pub fn set_window(&mut self, window: usize) {
        let window = window.min(MAX_CORRELATION_WINDOW);
        if window == self.window {
            return;
        }
        // The ring holds the last MAX_CORRELATION_WINDOW periods written, so a wider
        // window takes back returns already out of the old one.
        self.window = window;
        self.filled = self.written.min(window);
        for i in 0..self.sum.len() {
            let (mut s, mut q) = (0.0, 0.0);
            for k in 0..self.filled {
                let x = self.returns[self.slot(i, k)];
                s += x;
                q += x * x;
            }
            self.sum[i] = s;
            self.sum_sq[i] = q;
        }
    }

    /// The window in periods.
    pub fn window(&self) -> usize {
        self.window
    }

    /// Returns in the window now.
    pub fn samples(&self) -> usize {
        self.filled
    }

    /// Index in `returns` of instrument `i`'s `k`-th return of the window (0: oldest).
    fn slot(&self, i: usize, k: usize) -> usize {
        debug_assert!(k < self.filled.max(1));
        let ring = (self.head + MAX_CORRELATION_WINDOW - self.filled + k) % MAX_CORRELATION_WINDOW;
        i * MAX_CORRELATION_WINDOW + ring
    }

    fn roll(&mut self) {
        if !self.primed {
            self.close.copy_from_slice(&self.last);
            self.primed = true;
            return;
        }
        if self.window == 0 {
            self.close.copy_from_slice(&self.last);
            return;
        }
        let full = self.filled == self.window;
        for i in 0..self.last.len() {
            let (close, last) = (self.close[i], self.last[i]);
            let r = if close.is_positive() && last.is_positive() {
                (last.to_f64() / close.to_f64()).ln()
            } else {
                0.0
            };
            if full {
                let old = self.returns[self.slot(i, 0)];
                self.sum[i] -= old;
                self.sum_sq[i] -= old * old;
            }
            self.returns[i * MAX_CORRELATION_WINDOW + self.head] = r;
            self.sum[i] += r;
            self.sum_sq[i] += r * r;
            self.close[i] = last;
        }
        self.head = (self.head + 1) % MAX_CORRELATION_WINDOW;
        self.written = (self.written + 1).min(MAX_CORRELATION_WINDOW);
        if !full {
            self.filled += 1;
        }
    }

    /// Pearson correlation of the returns of `a` and `b` over the window; `None` with
    /// fewer than [`MIN_CORRELATION_SAMPLES`] returns or when either did not move.
    pub fn correlation(&self, a: InstrumentId, b: InstrumentId) -> Option<f64> {
        let (i, j) = (a.index(), b.index());
        if i >= self.sum.len() || j >= self.sum.len() || self.filled < MIN_CORRELATION_SAMPLES {
            return None;
        }
        let n = self.filled as f64;
        let mut sxy = 0.0;
        for k in 0..self.filled {
            sxy += self.returns[self.slot(i, k)] * self.returns[self.slot(j, k)];
        }
        let cov = n * sxy - self.sum[i] * self.sum[j];
        let var_i = n * self.sum_sq[i] - self.sum[i] * self.sum[i];
        let var_j = n * self.sum_sq[j] - self.sum[j] * self.sum[j];
        // Below this the series is flat up to rounding of the running sums.
        const FLAT: f64 = 1e-18;
        if var_i <= FLAT || var_j <= FLAT {
            return None;
        }
        Some((cov / (var_i * var_j).sqrt()).clamp(-1.0, 1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minute(m: u64) -> UnixNanos {
        UnixNanos(m * PERIOD_NANOS + 1)
    }

    /// Batch Pearson over two slices, to check the running version against.
    fn pearson(x: &[f64], y: &[f64]) -> f64 {
        let n = x.len() as f64;
        let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
        let cov: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
        let vx: f64 = x.iter().map(|a| (a - mx).powi(2)).sum();
        let vy: f64 = y.iter().map(|b| (b - my).powi(2)).sum();
        cov / (vx * vy).sqrt()
    }

    /// Feeds 3 instruments for `minutes` minutes: 1 follows 0, 2 zigzags on its own.
    fn feed(c: &mut ReturnCorrelation, minutes: u64) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let (mut r0, mut r1, mut r2) = (Vec::new(), Vec::new(), Vec::new());
        let mut prev: Option<[f64; 3]> = None;
        for m in 0..minutes {
            c.on_time(minute(m));
            let a = 100.0 + ((m * 7919) % 13) as f64;
            let b = 2.0 * a + ((m * 31) % 3) as f64 * 0.05;
            let z = 50.0 + if m % 3 == 0 { 1.0 } else { 0.0 };
            let prices = [a, b, z];
            for (i, p) in prices.iter().enumerate() {
                let px = Price::from_f64(*p).unwrap();
                c.on_price(InstrumentId(i as u32), px);
            }
            if let Some(p) = prev {
                r0.push((a / p[0]).ln());
                r1.push((b / p[1]).ln());
                r2.push((z / p[2]).ln());
            }
            prev = Some(prices);
        }
        c.on_time(minute(minutes));
        (r0, r1, r2)
    }

    #[test]
    fn the_running_window_matches_a_batch_pearson() {
        let mut c = ReturnCorrelation::new(3, 30);
        let (r0, r1, r2) = feed(&mut c, 80);
        assert_eq!(c.samples(), 30);
        let tail = |r: &[f64]| r[r.len() - 30..].to_vec();
        let want01 = pearson(&tail(&r0), &tail(&r1));
        let got01 = c.correlation(InstrumentId(0), InstrumentId(1)).unwrap();
        assert!((got01 - want01).abs() < 1e-9, "{got01} vs {want01}");
        assert!(got01 > 0.95);
        let want02 = pearson(&tail(&r0), &tail(&r2));
        let got02 = c.correlation(InstrumentId(0), InstrumentId(2)).unwrap();
        assert!((got02 - want02).abs() < 1e-9, "{got02} vs {want02}");
        // A narrower window recounts from the ring.
        c.set_window(12);
        let want = pearson(&r0[r0.len() - 12..], &r1[r1.len() - 12..]);
        let got = c.correlation(InstrumentId(0), InstrumentId(1)).unwrap();
        assert!((got - want).abs() < 1e-9, "{got} vs {want}");
    }

    #[test]
    fn too_few_returns_or_a_flat_series_say_nothing() {
        let mut c = ReturnCorrelation::new(3, 30);
        feed(&mut c, MIN_CORRELATION_SAMPLES as u64);
        // n minutes give n - 1 returns (the first minute only primes the closes).
        assert_eq!(c.samples(), MIN_CORRELATION_SAMPLES - 1);
        assert_eq!(c.correlation(InstrumentId(0), InstrumentId(1)), None);
        let mut c = ReturnCorrelation::new(4, 30);
        feed(&mut c, 40);
        assert_eq!(
            c.correlation(InstrumentId(0), InstrumentId(3)),
            None,
            "never traded"
        );
        assert_eq!(
            c.correlation(InstrumentId(0), InstrumentId(9)),
            None,
            "not in the table"
        );
    }
}
