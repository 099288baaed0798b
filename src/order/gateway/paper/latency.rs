//! Latency draws: how long, in market time, until the venue answers and until an order
//! can trade.

use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;

use super::config::{LatencyConfig, LatencyModel};

const NANOS_PER_MS: u64 = 1_000_000;

/// σ of the lognormal draw's logarithm.
const LOGNORMAL_SIGMA: f64 = 0.5;

/// The lognormal draw's cap, in multiples of `jitter_ms`, so one draw cannot park an
/// order for the rest of the day.
const LOGNORMAL_CAP: f64 = 20.0;

/// One order's latencies, nanoseconds from its send time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Delays {
    /// Until the venue's ack (or refusal).
    pub ack: u64,
    /// Until the order can trade; never less than `ack`.
    pub fill: u64,
}

/// Draws latencies from a seeded generator of its own, so enabling faults (which draw
/// from another) does not move them.
///
/// Floats appear only inside a draw, which ends as whole nanoseconds.
#[derive(Debug, Clone)]
pub(super) struct Latency {
    model: LatencyModel,
    ack: u64,
    fill: u64,
    jitter: u64,
    rng: Xoshiro256PlusPlus,
}

impl Latency {
    pub(super) fn new(config: &LatencyConfig, seed: u64) -> Latency {
        Latency {
            model: config.model,
            ack: config.ack_ms.saturating_mul(NANOS_PER_MS),
            fill: config.fill_ms.saturating_mul(NANOS_PER_MS),
            jitter: config.jitter_ms.saturating_mul(NANOS_PER_MS),
            rng: Xoshiro256PlusPlus::seed_from_u64(seed),
        }
    }

    /// The random part of one latency, nanoseconds.
    fn extra(&mut self) -> u64 {
        if self.jitter == 0 {
            return 0;
        }
        match self.model {
            LatencyModel::Fixed => 0,
            LatencyModel::Uniform => self.rng.random_range(0..=self.jitter),
            LatencyModel::Lognormal => {
                let z: f64 = self.rng.sample(StandardNormal);
                let factor = libm::exp(LOGNORMAL_SIGMA * z).min(LOGNORMAL_CAP);
                (self.jitter as f64 * factor) as u64
            }
        }
    }

    /// The latencies of one new order.
    pub(super) fn order(&mut self) -> Delays {
        let ack = self.ack.saturating_add(self.extra());
        let fill = self.fill.saturating_add(self.extra()).max(ack);
        Delays { ack, fill }
    }

    /// The latency of one answer to a modify or cancel.
    pub(super) fn answer(&mut self) -> u64 {
        self.ack.saturating_add(self.extra())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(model: LatencyModel, ack: u64, fill: u64, jitter: u64) -> LatencyConfig {
        LatencyConfig {
            model,
            ack_ms: ack,
            fill_ms: fill,
            jitter_ms: jitter,
        }
    }

    #[test]
    fn fixed_latency_is_exact_and_fill_never_precedes_ack() {
        let mut l = Latency::new(&config(LatencyModel::Fixed, 200, 300, 0), 1);
        assert_eq!(
            l.order(),
            Delays {
                ack: 200 * NANOS_PER_MS,
                fill: 300 * NANOS_PER_MS
            }
        );
        let mut l = Latency::new(&config(LatencyModel::Fixed, 300, 100, 0), 1);
        assert_eq!(l.order().fill, 300 * NANOS_PER_MS);
        assert_eq!(l.answer(), 300 * NANOS_PER_MS);
    }

    #[test]
    fn random_latency_repeats_with_its_seed_and_stays_in_range() {
        for model in [LatencyModel::Uniform, LatencyModel::Lognormal] {
            let draws = |seed| {
                let mut l = Latency::new(&config(model, 100, 100, 50), seed);
                (0..200).map(|_| l.order()).collect::<Vec<_>>()
            };
            let a = draws(7);
            assert_eq!(a, draws(7), "{model:?}: same seed, same draws");
            assert_ne!(a, draws(8), "{model:?}: another seed, other draws");
            for d in &a {
                assert!(d.ack >= 100 * NANOS_PER_MS && d.fill >= d.ack);
                let cap = if model == LatencyModel::Uniform {
                    50.0
                } else {
                    1000.0
                };
                assert!(d.ack <= 100 * NANOS_PER_MS + (cap * NANOS_PER_MS as f64) as u64);
            }
            assert!(
                a.windows(2).any(|w| w[0].ack != w[1].ack),
                "{model:?} varies"
            );
        }
    }
}
