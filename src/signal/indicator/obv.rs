//! On-balance volume, as TA-Lib starts it.

/// On-balance volume, matching TA-Lib's `OBV`.
///
/// NB: TA-Lib starts at the **first bar's volume** (`OBV[0] = volume[0]`), not at 0, so
/// the whole series is offset by it. After that the bar's volume is added when the close
/// rises, subtracted when it falls, and ignored when it is equal.
///
/// O(1) per update, no allocation, and no warm-up: every bar has a value.
///
/// # Examples
/// ```
/// use tickpipe::signal::indicator::Obv;
/// let mut obv = Obv::new();
/// assert_eq!(obv.update(10.0, 500.0), 500.0);
/// assert_eq!(obv.update(11.0, 200.0), 700.0);
/// assert_eq!(obv.update(10.5, 300.0), 400.0);
/// assert_eq!(obv.update(10.5, 900.0), 400.0);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Obv {
    /// The previous close and the OBV, once a bar has been seen.
    state: Option<(f64, f64)>,
}

impl Obv {
    /// An OBV that has seen no bar.
    pub fn new() -> Obv {
        Obv::default()
    }

    /// Adds a bar; returns the OBV.
    #[inline]
    pub fn update(&mut self, close: f64, volume: f64) -> f64 {
        let obv = match self.state {
            None => volume,
            Some((prev, obv)) if close > prev => obv + volume,
            Some((prev, obv)) if close < prev => obv - volume,
            Some((_, obv)) => obv,
        };
        self.state = Some((close, obv));
        obv
    }

    /// The latest OBV, or `None` before the first bar.
    #[inline]
    pub fn value(&self) -> Option<f64> {
        self.state.map(|(_, obv)| obv)
    }

    /// Forgets every bar.
    pub fn reset(&mut self) {
        self.state = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_at_the_first_volume() {
        let mut obv = Obv::new();
        assert_eq!(obv.value(), None);
        assert_eq!(obv.update(5.0, 100.0), 100.0);
        assert_eq!(obv.value(), Some(100.0));
    }

    #[test]
    fn reset_starts_over() {
        let mut obv = Obv::new();
        obv.update(5.0, 100.0);
        obv.update(6.0, 100.0);
        obv.reset();
        assert_eq!(obv.update(1.0, 7.0), 7.0);
    }
}
