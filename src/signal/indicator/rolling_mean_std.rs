//! Rolling mean and standard deviation over a window, and the z-score built on them.

use super::window::Window;

/// Mean and standard deviations of a full window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeanStd {
    /// The mean of the window.
    pub mean: f64,
    /// The population standard deviation (divide by `n`).
    pub std: f64,
    /// The sample standard deviation (divide by `n − 1`); 0 for a window of one.
    pub sample_std: f64,
}

/// Mean and standard deviation of the last `period` samples, in O(1) amortised per update.
///
/// A sliding Welford update keeps the mean and the sum of squared distances `M2`
/// (never the raw `Σx²`, whose `E[x²] − mean²` cancels catastrophically when the spread is
/// small next to the level). Rounding still accumulates a little each slide, so every
/// `period` slides the window is re-read in two passes: the drift is bounded by one
/// window's worth of updates, at an amortised cost of two operations per sample. The
/// window is allocated once in [`RollingMeanStd::new`].
///
/// # Examples
/// ```
/// use tickpipe::signal::indicator::RollingMeanStd;
/// let mut stats = RollingMeanStd::new(4);
/// for x in [2.0, 4.0, 4.0] {
///     assert_eq!(stats.update(x), None);
/// }
/// let s = stats.update(6.0).unwrap();
/// assert_eq!(s.mean, 4.0);
/// assert_eq!(s.std, 2f64.sqrt()); // √(8/4)
/// assert!((s.sample_std - (8.0f64 / 3.0).sqrt()).abs() < 1e-15);
/// ```
#[derive(Debug, Clone)]
pub struct RollingMeanStd {
    window: Window,
    mean: f64,
    /// Sum of squared distances from `mean`.
    m2: f64,
    /// Slides since the last two-pass re-read.
    since_anchor: usize,
}

impl RollingMeanStd {
    /// Empty statistics over `period` samples.
    ///
    /// # Panics
    /// If `period` is zero.
    pub fn new(period: usize) -> RollingMeanStd {
        RollingMeanStd {
            window: Window::new(period),
            mean: 0.0,
            m2: 0.0,
            since_anchor: 0,
        }
    }

    /// Adds a sample; returns the statistics of the last `period`, or `None` while warming up.
    #[inline]
    pub fn update(&mut self, value: f64) -> Option<MeanStd> {
        match self.window.push(value) {
            None => {
                // Welford's insertion while the window fills.
                let count = self.window.filled() as f64;
                let delta = value - self.mean;
                self.mean += delta / count;
                self.m2 += delta * (value - self.mean);
            }
            Some(old) => {
                self.since_anchor += 1;
                if self.since_anchor >= self.window.len() {
                    self.anchor();
                } else {
                    // Replace `old` by `value`: Welford's update for a sliding window.
                    let old_mean = self.mean;
                    self.mean += (value - old) / self.window.len() as f64;
                    self.m2 += (value - old) * (value - self.mean + old - old_mean);
                    self.m2 = self.m2.max(0.0);
                }
            }
        }
        self.value()
    }

    /// Re-reads the full window in two passes, dropping the drift of the sliding updates.
    fn anchor(&mut self) {
        let n = self.window.len() as f64;
        self.mean = self.window.iter().sum::<f64>() / n;
        let mean = self.mean;
        self.m2 = self.window.iter().map(|x| (x - mean) * (x - mean)).sum();
        self.since_anchor = 0;
    }

    /// The statistics of the full window, or `None` while warming up.
    #[inline]
    pub fn value(&self) -> Option<MeanStd> {
        if !self.window.is_full() {
            return None;
        }
        let n = self.window.len();
        Some(MeanStd {
            mean: self.mean,
            std: (self.m2 / n as f64).sqrt(),
            sample_std: if n > 1 {
                (self.m2 / (n - 1) as f64).sqrt()
            } else {
                0.0
            },
        })
    }

    /// The window length.
    pub fn period(&self) -> usize {
        self.window.len()
    }

    /// Forgets every sample, keeping the allocation.
    pub fn reset(&mut self) {
        self.window.clear();
        self.mean = 0.0;
        self.m2 = 0.0;
        self.since_anchor = 0;
    }
}

/// How unusual a sample is next to the `period` before it: `(x − mean)/std`, with the
/// population deviation. For volume spikes: `ZScore::new(20).update(volume)`.
///
/// NB: the sample is scored against the window *before* it and only then added, so a
/// spike does not dilute its own score (scored against a window holding it, a lone spike
/// can never exceed `√(period − 1)`).
///
/// O(1) amortised per update (see [`RollingMeanStd`]). `None` for the first `period`
/// samples, and when the window is flat (a deviation of 0 has no z-score).
///
/// # Examples
/// ```
/// use tickpipe::signal::indicator::ZScore;
/// let mut z = ZScore::new(4);
/// for v in [100.0, 300.0, 100.0, 300.0] {
///     assert_eq!(z.update(v), None);
/// }
/// assert_eq!(z.update(500.0), Some(3.0)); // mean 200, sd 100
/// ```
#[derive(Debug, Clone)]
pub struct ZScore {
    stats: RollingMeanStd,
}

impl ZScore {
    /// An empty z-score against the `period` previous samples.
    ///
    /// # Panics
    /// If `period` is zero.
    pub fn new(period: usize) -> ZScore {
        ZScore {
            stats: RollingMeanStd::new(period),
        }
    }

    /// Scores a sample against the previous `period`, then adds it to the window.
    #[inline]
    pub fn update(&mut self, value: f64) -> Option<f64> {
        let z = self
            .stats
            .value()
            .filter(|s| s.std > 0.0)
            .map(|s| (value - s.mean) / s.std);
        self.stats.update(value);
        z
    }

    /// Forgets every sample, keeping the allocation.
    pub fn reset(&mut self) {
        self.stats.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(xs: &[f64]) -> (f64, f64) {
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
        (mean, var.sqrt())
    }

    #[test]
    fn slides_like_a_batch_recomputation() {
        let xs: Vec<f64> = (0..200)
            .map(|i| 1_000_000.0 + f64::from((i * 7919) % 101) * 3.0)
            .collect();
        let mut stats = RollingMeanStd::new(7);
        for (i, &x) in xs.iter().enumerate() {
            let got = stats.update(x);
            if i < 6 {
                assert_eq!(got, None);
                continue;
            }
            let (mean, std) = batch(&xs[i - 6..=i]);
            let got = got.unwrap();
            assert!((got.mean - mean).abs() <= 1e-9 * mean.abs(), "bar {i}");
            assert!((got.std - std).abs() <= 1e-9 * std.max(1.0), "bar {i}");
        }
    }

    #[test]
    fn window_of_one() {
        let mut stats = RollingMeanStd::new(1);
        let s = stats.update(5.0).unwrap();
        assert_eq!((s.mean, s.std, s.sample_std), (5.0, 0.0, 0.0));
        assert_eq!(stats.update(-1.0).unwrap().mean, -1.0);
    }

    #[test]
    fn flat_window_has_no_z_score() {
        let mut z = ZScore::new(3);
        for _ in 0..5 {
            assert_eq!(z.update(7.0), None);
        }
    }

    #[test]
    fn reset_starts_over() {
        let mut stats = RollingMeanStd::new(2);
        stats.update(1.0);
        stats.update(2.0);
        stats.reset();
        assert_eq!(stats.value(), None);
        assert_eq!(stats.update(4.0), None);
        assert_eq!(stats.update(6.0).unwrap().mean, 5.0);
        let mut z = ZScore::new(1);
        z.update(1.0);
        z.reset();
        assert_eq!(z.update(2.0), None);
    }
}
