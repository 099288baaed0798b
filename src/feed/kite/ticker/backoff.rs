//! The wait between reconnection attempts: capped exponential backoff with jitter.

use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// Capped exponential backoff with "equal jitter".
///
/// The `n`-th wait since the last [`reset`](Backoff::reset) is drawn uniformly from
/// `[d/2, d]` with `d = min(initial · 2^n, max)`: the doubling keeps a broken endpoint
/// from being hammered, the cap bounds the time to recover, and the jitter spreads the
/// reconnections of many clients after a server restart (half of `d` stays fixed, so a
/// wait is never near zero by chance).
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use tickpipe::feed::kite::Backoff;
/// let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(4), 7);
/// let waits: Vec<Duration> = (0..4).map(|_| b.next_wait()).collect();
/// assert!(waits[0] >= Duration::from_millis(500) && waits[0] <= Duration::from_secs(1));
/// assert!(waits[3] >= Duration::from_secs(2) && waits[3] <= Duration::from_secs(4));
/// b.reset();
/// assert!(b.next_wait() <= Duration::from_secs(1));
/// ```
#[derive(Debug, Clone)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    failures: u32,
    rng: Xoshiro256PlusPlus,
}

impl Backoff {
    /// A backoff starting at `initial`, capped at `max`, jittered by a generator seeded
    /// with `seed`.
    pub fn new(initial: Duration, max: Duration, seed: u64) -> Backoff {
        Backoff {
            initial,
            max: max.max(initial),
            failures: 0,
            rng: Xoshiro256PlusPlus::seed_from_u64(seed),
        }
    }

    /// The next wait, and one more doubling for the one after.
    pub fn next_wait(&mut self) -> Duration {
        let factor = 1u32.checked_shl(self.failures.min(31)).unwrap_or(u32::MAX);
        let full = self.initial.saturating_mul(factor).min(self.max);
        self.failures = self.failures.saturating_add(1);
        let half = full / 2;
        let spread = u64::try_from((full - half).as_nanos()).unwrap_or(u64::MAX);
        half + Duration::from_nanos(self.rng.random_range(0..=spread))
    }

    /// Back to `initial`, after a connection that delivered data.
    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_the_cap_within_their_jitter() {
        let ms = Duration::from_millis;
        let mut b = Backoff::new(ms(100), ms(1000), 1);
        for full in [100, 200, 400, 800, 1000, 1000, 1000] {
            let w = b.next_wait();
            assert!(w >= ms(full / 2) && w <= ms(full), "{w:?} for {full}");
        }
        for _ in 0..100 {
            assert!(b.next_wait() <= ms(1000));
        }
        b.reset();
        assert!(b.next_wait() <= ms(100));
    }

    #[test]
    fn the_jitter_varies_and_a_seed_repeats_it() {
        let ms = Duration::from_millis;
        let draw = |seed| {
            let mut b = Backoff::new(ms(1000), ms(1000), seed);
            (0..8).map(|_| b.next_wait()).collect::<Vec<_>>()
        };
        let a = draw(3);
        assert_eq!(a, draw(3));
        assert!(a.windows(2).any(|w| w[0] != w[1]), "{a:?}");
    }
}
