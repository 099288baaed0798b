//! Market regimes and the Markov chain that switches between them in market time.

use std::fmt;

use rand::Rng;

/// The state of the whole market, which sets the drift and volatility of the common
/// factor and the level implied volatility reverts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Regime {
    /// Steady buying: positive drift, calm volatility.
    TrendUp,
    /// Steady selling: negative drift, slightly higher volatility.
    TrendDown,
    /// Sideways: no drift, low volatility, prices pulled back towards where the range began.
    Range,
    /// Stress: volatility about twice normal, implied volatility bid up.
    HighVolatility,
}

/// How a regime drives the market factor and implied volatility.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RegimeParams {
    /// Drift of the market factor's log level, per hour.
    pub drift_per_hour: f64,
    /// Multiplier on the factor's base volatility.
    pub vol_mult: f64,
    /// Pull back to the level at regime entry, per second (0: none).
    pub reversion_per_sec: f64,
    /// Multiplier on the base implied volatility the options revert to.
    pub iv_mult: f64,
    /// Multiplier on the configured mean duration of a regime.
    pub duration_mult: f64,
    /// Extra ticks of bid–ask spread.
    pub extra_spread_ticks: i64,
}

impl Regime {
    /// All regimes, in index order.
    pub const ALL: [Regime; 4] = [
        Regime::TrendUp,
        Regime::TrendDown,
        Regime::Range,
        Regime::HighVolatility,
    ];

    /// Dense index 0–3.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The regime's parameters.
    pub const fn params(self) -> RegimeParams {
        match self {
            Regime::TrendUp => RegimeParams {
                drift_per_hour: 0.004,
                vol_mult: 0.9,
                reversion_per_sec: 0.0,
                iv_mult: 0.92,
                duration_mult: 1.0,
                extra_spread_ticks: 0,
            },
            Regime::TrendDown => RegimeParams {
                drift_per_hour: -0.0045,
                vol_mult: 1.15,
                reversion_per_sec: 0.0,
                iv_mult: 1.12,
                duration_mult: 1.0,
                extra_spread_ticks: 0,
            },
            Regime::Range => RegimeParams {
                drift_per_hour: 0.0,
                vol_mult: 0.7,
                reversion_per_sec: 1.0 / 900.0,
                iv_mult: 0.95,
                duration_mult: 1.2,
                extra_spread_ticks: 0,
            },
            Regime::HighVolatility => RegimeParams {
                drift_per_hour: -0.001,
                vol_mult: 2.2,
                reversion_per_sec: 0.0,
                iv_mult: 1.45,
                duration_mult: 0.5,
                extra_spread_ticks: 1,
            },
        }
    }

    /// Where the chain goes when it leaves this regime: probabilities over
    /// [`Regime::ALL`], zero for itself.
    const fn exits(self) -> [f64; 4] {
        match self {
            Regime::TrendUp => [0.0, 0.25, 0.55, 0.20],
            Regime::TrendDown => [0.25, 0.0, 0.45, 0.30],
            Regime::Range => [0.35, 0.35, 0.0, 0.30],
            Regime::HighVolatility => [0.20, 0.30, 0.50, 0.0],
        }
    }
}

impl fmt::Display for Regime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Regime::TrendUp => "trend up",
            Regime::TrendDown => "trend down",
            Regime::Range => "range",
            Regime::HighVolatility => "high volatility",
        })
    }
}

/// A continuous-time Markov chain over [`Regime`]s, stepped on a fixed market-time grid.
///
/// In each step of `dt` seconds the chain leaves its regime with probability
/// `dt / mean_duration` (mean duration scaled per regime), then picks the next regime
/// from the regime's exit probabilities.
#[derive(Debug, Clone)]
pub struct RegimeChain {
    current: Regime,
    mean_secs: f64,
    switches: u32,
}

impl RegimeChain {
    /// A chain in `start` whose regimes last `mean_secs` on average.
    pub fn new(start: Regime, mean_secs: f64) -> RegimeChain {
        RegimeChain {
            current: start,
            mean_secs,
            switches: 0,
        }
    }

    /// A starting regime drawn from `rng` (range and trends more likely than stress).
    pub fn draw_start<R: Rng>(rng: &mut R) -> Regime {
        pick(rng, [0.3, 0.25, 0.35, 0.1])
    }

    /// The current regime.
    pub fn current(&self) -> Regime {
        self.current
    }

    /// Switches so far.
    pub fn switches(&self) -> u32 {
        self.switches
    }

    /// Advances `dt_secs`; true when the regime changed.
    pub fn step<R: Rng>(&mut self, dt_secs: f64, rng: &mut R) -> bool {
        let mean = self.mean_secs * self.current.params().duration_mult;
        let leave = rng.random::<f64>() < dt_secs / mean;
        if leave {
            self.current = pick(rng, self.current.exits());
            self.switches += 1;
        }
        leave
    }
}

fn pick<R: Rng>(rng: &mut R, probabilities: [f64; 4]) -> Regime {
    let mut u = rng.random::<f64>();
    for (i, p) in probabilities.iter().enumerate() {
        if u < *p {
            return Regime::ALL[i];
        }
        u -= p;
    }
    // Rounding left a sliver: take the last regime with a non-zero probability.
    let last = probabilities.iter().rposition(|p| *p > 0.0).unwrap_or(0);
    Regime::ALL[last]
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    use super::*;

    #[test]
    fn exits_are_distributions_without_self_loops() {
        for r in Regime::ALL {
            let exits = r.exits();
            assert!((exits.iter().sum::<f64>() - 1.0).abs() < 1e-12);
            assert_eq!(exits[r.index()], 0.0);
        }
    }

    #[test]
    fn switches_at_the_configured_rate_and_visits_every_regime() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        let mut chain = RegimeChain::new(Regime::Range, 600.0);
        let mut seen = [0u32; 4];
        let dt = 0.2;
        let steps = 500_000; // 100 000 s, about 170 mean durations
        for _ in 0..steps {
            if chain.step(dt, &mut rng) {
                seen[chain.current().index()] += 1;
            }
        }
        assert!(seen.iter().all(|&n| n > 10), "{seen:?}");
        // Durations are scaled per regime (0.5 to 1.2), so the switch count lies
        // between the bounds those scalings imply.
        let n = f64::from(chain.switches());
        assert!(
            n > 100_000.0 / (600.0 * 1.2) && n < 100_000.0 / (600.0 * 0.5),
            "{n}"
        );
    }
}
