//! Bollinger bands, with a two-pass deviation.

use super::{window::Window, TalibSma};

/// One Bollinger output.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bands {
    /// `middle + k·sd`.
    pub upper: f64,
    /// The simple moving average.
    pub middle: f64,
    /// `middle − k·sd`.
    pub lower: f64,
}

/// Bollinger bands over `period` samples at `k` population standard deviations, matching
/// TA-Lib's `BBANDS(period, k, k, SMA)` to about 1e-13 relative.
///
/// - `middle` is [`TalibSma`] (TA-Lib's running sum, bit for bit).
/// - `sd` is the **population** deviation (divide by `period`) of the same samples,
///   computed in **two passes** over the window: the mean, then the mean squared
///   distance from it. The one-pass `E[x²] − mean²` cancels catastrophically when the
///   spread is small next to the level: on hourly EUR/USD (level 1.1, deviation ~1e-3)
///   it is off by up to 2e-11 relative, and TA-Lib 0.8.x itself no longer uses it
///   (TA-Lib issues #118, #243, #434).
/// - `k·sd` is computed once and added to and subtracted from `middle`, as TA-Lib does.
///
/// NB: the two passes make an update O(period), not O(1): 20 multiply-adds for the
/// usual period, on a window allocated once in [`BollingerBands::new`]. A sliding
/// update would be O(1) but drifts; [`RollingMeanStd`](super::RollingMeanStd) is that
/// trade made the other way, for statistics with no oracle to match.
///
/// # Examples
/// ```
/// use tickpipe::signal::indicator::BollingerBands;
/// let mut bb = BollingerBands::new(4, 2.0);
/// for x in [1.0, 3.0, 1.0] {
///     assert_eq!(bb.update(x), None);
/// }
/// let bands = bb.update(3.0).unwrap(); // mean 2, population sd 1
/// assert_eq!((bands.lower, bands.middle, bands.upper), (0.0, 2.0, 4.0));
/// ```
#[derive(Debug, Clone)]
pub struct BollingerBands {
    sma: TalibSma,
    window: Window,
    k: f64,
    value: Option<Bands>,
}

impl BollingerBands {
    /// Empty bands over `period` samples, `k` deviations wide on each side.
    ///
    /// # Panics
    /// If `period` is zero.
    pub fn new(period: usize, k: f64) -> BollingerBands {
        BollingerBands {
            sma: TalibSma::new(period),
            window: Window::new(period),
            k,
            value: None,
        }
    }

    /// Adds a sample; returns the bands, or `None` before the `period`-th sample.
    #[inline]
    pub fn update(&mut self, value: f64) -> Option<Bands> {
        self.window.push(value);
        let middle = self.sma.update(value)?;
        let width = self.k * population_std(&self.window);
        self.value = Some(Bands {
            upper: middle + width,
            middle,
            lower: middle - width,
        });
        self.value
    }

    /// The latest bands, or `None` while warming up.
    #[inline]
    pub fn value(&self) -> Option<Bands> {
        self.value
    }

    /// The window length.
    pub fn period(&self) -> usize {
        self.window.len()
    }

    /// Forgets every sample, keeping the allocation.
    pub fn reset(&mut self) {
        self.sma.reset();
        self.window.clear();
        self.value = None;
    }
}

/// The population standard deviation of a full window, in two passes.
fn population_std(window: &Window) -> f64 {
    let n = window.len() as f64;
    let mean = window.iter().sum::<f64>() / n;
    let squares: f64 = window
        .iter()
        .map(|x| {
            let d = x - mean;
            d * d
        })
        .sum();
    (squares / n).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warm_up_and_slide() {
        let mut bb = BollingerBands::new(2, 1.0);
        assert_eq!(bb.update(1.0), None);
        let b = bb.update(3.0).unwrap();
        assert_eq!((b.lower, b.middle, b.upper), (1.0, 2.0, 3.0));
        let b = bb.update(3.0).unwrap();
        assert_eq!((b.lower, b.middle, b.upper), (3.0, 3.0, 3.0));
    }

    #[test]
    fn small_spread_on_a_high_level_stays_accurate() {
        // One-pass E[x²] − mean² loses about half the digits here; two passes do not.
        let base = 1.1;
        let xs: Vec<f64> = (0..20).map(|i| base + 1e-4 * f64::from(i % 5)).collect();
        let mut bb = BollingerBands::new(20, 2.0);
        let bands = xs.iter().filter_map(|&x| bb.update(x)).last().unwrap();
        // Offsets 0..4 ×1e-4, four of each: population sd = √2 · 1e-4.
        let sd = (bands.upper - bands.middle) / 2.0;
        assert!((sd - 2f64.sqrt() * 1e-4).abs() < 1e-15, "{sd}");
    }

    #[test]
    fn reset_starts_over() {
        let mut bb = BollingerBands::new(2, 2.0);
        bb.update(1.0);
        bb.update(2.0);
        bb.reset();
        assert_eq!(bb.value(), None);
        assert_eq!(bb.update(5.0), None);
        assert_eq!(bb.period(), 2);
    }
}
