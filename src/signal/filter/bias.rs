//! Market directional bias from the index trend.

use super::{FilterRefusal, SignalFilter};
use crate::{
    model::{Direction, InstrumentId, Signal},
    signal::{indicator::Sma, Bar},
};

/// Which way the index trends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bias {
    /// The index closes above its average by more than the band.
    Up,
    /// Below it by more than the band.
    Down,
    /// Within the band, or not enough bars yet.
    Neutral,
}

/// Refuses longs while the index trends down and shorts while it trends up.
///
/// The trend compares the index's last bar close with the simple moving average of its
/// last `bars` closes: more than `band_pct` percent above is up, as much below is down.
/// Until the average is warm the bias is neutral and everything passes.
///
/// # Examples
/// ```
/// use tickpipe::{model::*, signal::{Bar, filter::*}};
/// let index = InstrumentId(0);
/// let mut bias = MarketBias::new(index, 3, 0.1);
/// for close in ["100", "99", "98", "95"] {
///     let c = close.parse().unwrap();
///     bias.on_bar(&Bar { instrument: index, start: UnixNanos(0), secs: 60, open: c,
///         high: c, low: c, close: c, volume: 1, trades: 1,
///         turnover: 0.0 });
/// }
/// assert_eq!(bias.bias(), Bias::Down);
/// ```
#[derive(Debug, Clone)]
pub struct MarketBias {
    index: InstrumentId,
    average: Sma,
    last: i64,
    /// The band in parts per million of the average, so the comparison stays integer.
    band_ppm: i128,
}

impl MarketBias {
    /// A bias on `index` from a `bars`-bar average and a `band_pct` percent band.
    ///
    /// # Panics
    /// If `bars` is zero (configuration validation rejects it first).
    pub fn new(index: InstrumentId, bars: usize, band_pct: f64) -> MarketBias {
        MarketBias {
            index,
            average: Sma::new(bars),
            last: 0,
            band_ppm: (band_pct * 10_000.0).round() as i128,
        }
    }

    /// The bias now.
    pub fn bias(&self) -> Bias {
        if !self.average.is_warm() || self.last <= 0 {
            return Bias::Neutral;
        }
        // last vs mean × (1 ± band), in integers: last × n × 1e6 against sum × (1e6 ± band).
        let n = self.average.period() as i128;
        let sum = self.average.sum();
        let last = i128::from(self.last) * n * 1_000_000;
        if last > sum * (1_000_000 + self.band_ppm) {
            Bias::Up
        } else if last < sum * (1_000_000 - self.band_ppm) {
            Bias::Down
        } else {
            Bias::Neutral
        }
    }
}

impl SignalFilter for MarketBias {
    fn on_bar(&mut self, bar: &Bar) {
        if bar.instrument == self.index {
            self.average.update(bar.close.raw());
            self.last = bar.close.raw();
        }
    }

    fn check(&self, signal: &Signal) -> Result<(), FilterRefusal> {
        match (signal.direction, self.bias()) {
            (Direction::Long, Bias::Down) | (Direction::Short, Bias::Up) => {
                Err(FilterRefusal::AGAINST_BIAS)
            }
            _ => Ok(()),
        }
    }
}
