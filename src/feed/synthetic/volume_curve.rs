//! The U-shaped intraday activity curve: busy open, quiet lunch, busy close.

/// Relative market activity through the session, averaging 1.0 over the session.
///
/// Tick arrival rates and trade sizes are multiplied by it. The shape is a flat base plus
/// a decaying burst after the open, a rising burst into the close and a dip around the
/// middle of the session, which is what NSE's intraday volume profile looks like: the
/// first and last half hours trade several times the lunch-hour rate.
///
/// Tabulated once per minute at construction, so reading it on the hot path is an
/// index into a `Vec`.
#[derive(Debug, Clone)]
pub struct VolumeCurve {
    per_minute: Vec<f64>,
    start_nanos: u64,
}

const NANOS_PER_MINUTE: u64 = 60_000_000_000;

impl VolumeCurve {
    /// The curve for a session starting at `start_nanos` (market time) and lasting
    /// `minutes` minutes.
    pub fn new(start_nanos: u64, minutes: u32) -> VolumeCurve {
        let minutes = minutes.max(1);
        let mut per_minute: Vec<f64> = (0..minutes)
            .map(|m| shape((f64::from(m) + 0.5) / f64::from(minutes)))
            .collect();
        let mean = per_minute.iter().sum::<f64>() / f64::from(minutes);
        for v in &mut per_minute {
            *v /= mean;
        }
        VolumeCurve {
            per_minute,
            start_nanos,
        }
    }

    /// Activity at market time `nanos` (clamped to the session).
    #[inline]
    pub fn at(&self, nanos: u64) -> f64 {
        let minute = (nanos.saturating_sub(self.start_nanos) / NANOS_PER_MINUTE) as usize;
        self.per_minute[minute.min(self.per_minute.len() - 1)]
    }
}

/// The unnormalised curve at session fraction `tau` in `[0, 1]`.
pub fn shape(tau: f64) -> f64 {
    let open_burst = 1.8 * libm::exp(-tau / 0.06);
    let close_burst = 1.3 * libm::exp(-(1.0 - tau) / 0.07);
    let lunch = (tau - 0.5) / 0.12;
    let lunch_dip = 0.15 * libm::exp(-lunch * lunch);
    0.6 + open_burst + close_burst - lunch_dip
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn u_shaped_with_unit_mean() {
        let curve = VolumeCurve::new(0, 375);
        let at_minute = |m: u64| curve.at(m * NANOS_PER_MINUTE);
        let mean = (0..375).map(at_minute).sum::<f64>() / 375.0;
        assert!((mean - 1.0).abs() < 1e-9);
        let open: f64 = (0..30).map(at_minute).sum();
        let close: f64 = (345..375).map(at_minute).sum();
        let lunch: f64 = (165..225).map(at_minute).sum(); // 12:00–13:00
        assert!(
            open > 1.5 * lunch && close > 1.3 * lunch,
            "{open} {close} {lunch}"
        );
        assert!(at_minute(0) > 2.0 * at_minute(180));
        assert_eq!(at_minute(10_000), at_minute(374));
    }
}
