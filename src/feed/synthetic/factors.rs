//! The common drivers of the synthetic market: the market factor, sector factors and
//! implied volatility, stepped on a fixed market-time grid.

use rand::Rng;
use rand_distr::StandardNormal;

use super::{
    regime::{Regime, RegimeChain},
    volume_curve::VolumeCurve,
};

/// Grid step of the common factors: 200 ms of market time.
pub const STEP_NANOS: u64 = 200_000_000;
const STEP_SECS: f64 = STEP_NANOS as f64 / 1e9;

/// Base volatility of the market factor per √second: 0.85% over a 6¼-hour session, a
/// typical NIFTY day.
const MARKET_VOL: f64 = 0.0085 / 150.0;
/// Volatility of a sector factor per √second (about 0.35% a session).
const SECTOR_VOL: f64 = 0.0035 / 150.0;
/// Sector factors drift back to zero with a two-hour half-life scale.
const SECTOR_REVERSION: f64 = 1.0 / 7200.0;
/// Implied volatility reverts to its regime's level with a 30-minute time scale.
const IV_REVERSION: f64 = 1.0 / 1800.0;
/// Vol points added per unit of market log-return fall: a 1% fall lifts IV by 1.2 points.
const IV_LEVERAGE: f64 = 1.2;
/// Noise of implied volatility per √second.
const IV_NOISE: f64 = 0.000_25;
const IV_FLOOR: f64 = 0.04;
const IV_CAP: f64 = 1.5;

/// The market factor (log level, 0 at the open), one factor per sector, the at-the-money
/// implied volatility and the regime chain that drives them.
#[derive(Debug, Clone)]
pub struct Factors {
    regime: RegimeChain,
    market: f64,
    anchor: f64,
    sectors: Vec<f64>,
    iv: f64,
    base_iv: f64,
    next_step: u64,
}

impl Factors {
    /// Factors at zero from `start_nanos`, with `sectors` sector factors.
    pub fn new(start_nanos: u64, sectors: usize, base_iv: f64, regime: RegimeChain) -> Factors {
        let iv = base_iv * regime.current().params().iv_mult;
        Factors {
            regime,
            market: 0.0,
            anchor: 0.0,
            sectors: vec![0.0; sectors],
            iv,
            base_iv,
            next_step: start_nanos + STEP_NANOS,
        }
    }

    /// Steps the factors through every grid point up to and including `nanos`.
    #[inline]
    pub fn advance_to<R: Rng>(&mut self, nanos: u64, curve: &VolumeCurve, rng: &mut R) {
        while self.next_step <= nanos {
            let activity = curve.at(self.next_step);
            self.step(activity, rng);
            self.next_step += STEP_NANOS;
        }
    }

    fn step<R: Rng>(&mut self, activity: f64, rng: &mut R) {
        if self.regime.step(STEP_SECS, rng) && self.regime.current() == Regime::Range {
            self.anchor = self.market;
        }
        let p = self.regime.current().params();
        // Volatility follows activity: the open and close move more than lunch.
        let vol_scale = libm::sqrt(activity) * libm::sqrt(STEP_SECS);
        let z: f64 = rng.sample(StandardNormal);
        let d_market = p.drift_per_hour / 3600.0 * STEP_SECS
            - p.reversion_per_sec * (self.market - self.anchor) * STEP_SECS
            + MARKET_VOL * p.vol_mult * vol_scale * z;
        self.market += d_market;
        for s in &mut self.sectors {
            let z: f64 = rng.sample(StandardNormal);
            *s += -SECTOR_REVERSION * *s * STEP_SECS + SECTOR_VOL * vol_scale * z;
        }
        let target = self.base_iv * p.iv_mult;
        let z: f64 = rng.sample(StandardNormal);
        self.iv += IV_REVERSION * (target - self.iv) * STEP_SECS - IV_LEVERAGE * d_market
            + IV_NOISE * libm::sqrt(STEP_SECS) * z;
        self.iv = self.iv.clamp(IV_FLOOR, IV_CAP);
    }

    /// Moves the market factor at once by `log_return` (index news), as new information:
    /// the level a range regime reverts to moves with it, and implied volatility answers
    /// as it does to a move of the grid ([`IV_LEVERAGE`]).
    pub fn jump_market(&mut self, log_return: f64) {
        self.market += log_return;
        self.anchor += log_return;
        self.iv = (self.iv - IV_LEVERAGE * log_return).clamp(IV_FLOOR, IV_CAP);
    }

    /// The market factor: log level relative to the open.
    #[inline]
    pub fn market(&self) -> f64 {
        self.market
    }

    /// A sector's factor.
    #[inline]
    pub fn sector(&self, index: usize) -> f64 {
        self.sectors[index]
    }

    /// At-the-money implied volatility (annual, as a fraction).
    #[inline]
    pub fn iv(&self) -> f64 {
        self.iv
    }

    /// The regime chain.
    pub fn regime(&self) -> &RegimeChain {
        &self.regime
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    use super::*;

    #[test]
    fn a_market_jump_moves_the_level_and_where_a_range_reverts_to() {
        let chain = RegimeChain::new(Regime::Range, 45.0 * 60.0);
        let mut f = Factors::new(0, 1, 0.12, chain);
        let iv = f.iv();
        f.jump_market(-0.005);
        assert_eq!(f.market(), -0.005);
        assert!((f.iv() - (iv + IV_LEVERAGE * 0.005)).abs() < 1e-12);
        // A range regime pulls back to its anchor, which moved with the news, so the
        // reversion does not undo the news.
        assert_eq!(f.market - f.anchor, 0.0);
    }

    #[test]
    fn implied_volatility_rises_when_the_market_falls() {
        // Over many seeds, days whose market factor fell end with higher IV than days
        // whose factor rose.
        let curve = VolumeCurve::new(0, 375);
        let (mut up, mut down) = (Vec::new(), Vec::new());
        for seed in 0..40 {
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
            let chain = RegimeChain::new(Regime::Range, 45.0 * 60.0);
            let mut f = Factors::new(0, 3, 0.12, chain);
            f.advance_to(375 * 60 * 1_000_000_000, &curve, &mut rng);
            assert!(f.iv() >= IV_FLOOR && f.iv() <= IV_CAP);
            if f.market() < 0.0 {
                down.push(f.iv());
            } else {
                up.push(f.iv());
            }
        }
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        assert!(!up.is_empty() && !down.is_empty());
        assert!(mean(&down) > mean(&up), "{} {}", mean(&down), mean(&up));
    }
}
