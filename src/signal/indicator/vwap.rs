//! The session volume-weighted average price.

/// Volume-weighted average price since the last [`reset`](Vwap::reset):
/// `Σ price·volume / Σ volume`.
///
/// A session indicator: call [`reset`](Vwap::reset) at each session's open (each trading
/// day), since yesterday's volume says nothing about where today's flow traded. The
/// price is the caller's choice: the trade price for ticks, or the typical price
/// `(high + low + close)/3` for bars.
///
/// O(1) per update, no allocation. `None` until some volume has traded.
///
/// # Examples
/// ```
/// use tickpipe::signal::indicator::Vwap;
/// let mut vwap = Vwap::new();
/// assert_eq!(vwap.update(100.0, 0.0), None);
/// assert_eq!(vwap.update(100.0, 10.0), Some(100.0));
/// assert_eq!(vwap.update(103.0, 20.0), Some(102.0)); // (1000 + 2060) / 30
/// vwap.reset(); // a new day
/// assert_eq!(vwap.value(), None);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Vwap {
    notional: f64,
    volume: f64,
}

impl Vwap {
    /// A VWAP that has seen no trade.
    pub fn new() -> Vwap {
        Vwap::default()
    }

    /// Adds a trade (or a bar at its typical price); returns the VWAP, or `None` while
    /// the session's volume is zero.
    #[inline]
    pub fn update(&mut self, price: f64, volume: f64) -> Option<f64> {
        self.notional += price * volume;
        self.volume += volume;
        self.value()
    }

    /// The session's VWAP, or `None` while its volume is zero.
    #[inline]
    pub fn value(&self) -> Option<f64> {
        (self.volume > 0.0).then(|| self.notional / self.volume)
    }

    /// The session's volume so far.
    pub fn volume(&self) -> f64 {
        self.volume
    }

    /// Starts a new session.
    pub fn reset(&mut self) {
        *self = Vwap::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_by_volume() {
        let mut vwap = Vwap::new();
        vwap.update(10.0, 1.0);
        assert_eq!(vwap.update(20.0, 3.0), Some(17.5));
        assert_eq!(vwap.volume(), 4.0);
    }

    #[test]
    fn reset_forgets_the_session() {
        let mut vwap = Vwap::new();
        vwap.update(10.0, 5.0);
        vwap.reset();
        assert_eq!(vwap.value(), None);
        assert_eq!(vwap.update(12.0, 1.0), Some(12.0));
    }
}
