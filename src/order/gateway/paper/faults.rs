//! Faults injected on purpose, for tests and drills: retriable refusals, timeouts, a
//! disconnection window, duplicated and out-of-order reports.
//!
//! Every draw comes from a seeded generator of its own, and a rate of zero draws
//! nothing, so a run without faults is the same stream of answers as before faults
//! existed, and a drill repeats exactly.

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use super::config::FaultConfig;
use crate::model::{RejectReason, TimeOfDay, UnixNanos};

/// Mixed into the seed so the fault stream differs from the latency stream.
const STREAM: u64 = 0x9E37_79B9_7F4A_7C15;

/// Which fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fault {
    Reject,
    Timeout,
    Duplicate,
    Reorder,
}

#[derive(Debug, Clone)]
pub(super) struct Faults {
    reject: f64,
    timeout: f64,
    duplicate: f64,
    reorder: f64,
    /// Nanoseconds a timed-out order's answers are late; zero: never answered.
    pub timeout_nanos: u64,
    /// Disconnection window, IST seconds after midnight, `[from, to)`.
    disconnect: Option<(u32, u32)>,
    rng: Xoshiro256PlusPlus,
}

impl Faults {
    pub(super) fn new(config: &FaultConfig, seed: u64) -> Faults {
        let disconnect = TimeOfDay::parse(&config.disconnect_at).map(|from| {
            let secs = u32::try_from(config.disconnect_secs).unwrap_or(u32::MAX);
            (from.secs(), from.secs().saturating_add(secs))
        });
        Faults {
            reject: config.reject_rate,
            timeout: config.timeout_rate,
            duplicate: config.duplicate_rate,
            reorder: config.reorder_rate,
            timeout_nanos: config.timeout_ms.saturating_mul(1_000_000),
            disconnect,
            rng: Xoshiro256PlusPlus::seed_from_u64(seed ^ STREAM),
        }
    }

    /// True when `fault` strikes this time.
    pub(super) fn strikes(&mut self, fault: Fault) -> bool {
        let rate = match fault {
            Fault::Reject => self.reject,
            Fault::Timeout => self.timeout,
            Fault::Duplicate => self.duplicate,
            Fault::Reorder => self.reorder,
        };
        rate > 0.0 && self.rng.random::<f64>() < rate
    }

    /// A retriable refusal reason, `Network` or `RateLimited` evenly.
    pub(super) fn retriable(&mut self) -> RejectReason {
        if self.rng.random::<bool>() {
            RejectReason::Network
        } else {
            RejectReason::RateLimited
        }
    }

    /// True while the venue cannot be reached.
    pub(super) fn disconnected(&self, now: UnixNanos) -> bool {
        self.disconnect.is_some_and(|(from, to)| {
            let t = now.ist_time_of_day().secs();
            (from..to).contains(&t)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Date;

    #[test]
    fn zero_rates_never_strike_and_rates_repeat_with_the_seed() {
        let mut none = Faults::new(&FaultConfig::default(), 1);
        assert!((0..1000).all(|_| !none.strikes(Fault::Reject)));
        let config = FaultConfig {
            duplicate_rate: 0.25,
            ..FaultConfig::default()
        };
        let draw = |seed| {
            let mut f = Faults::new(&config, seed);
            (0..400)
                .map(|_| f.strikes(Fault::Duplicate))
                .collect::<Vec<_>>()
        };
        let a = draw(3);
        assert_eq!(a, draw(3));
        let hits = a.iter().filter(|h| **h).count();
        assert!((60..140).contains(&hits), "{hits} of 400 at 25%");
    }

    #[test]
    fn the_disconnection_window_is_in_ist_market_time() {
        let f = Faults::new(
            &FaultConfig {
                disconnect_at: "11:00".to_owned(),
                disconnect_secs: 90,
                ..FaultConfig::default()
            },
            1,
        );
        let at = |h, m, s: u64| {
            UnixNanos::from_ist(Date::new(2026, 11, 25), TimeOfDay::hm(h, m))
                .add_nanos(s * 1_000_000_000)
        };
        assert!(!f.disconnected(at(10, 59, 59)));
        assert!(f.disconnected(at(11, 0, 0)));
        assert!(f.disconnected(at(11, 1, 29)));
        assert!(!f.disconnected(at(11, 1, 30)));
    }
}
