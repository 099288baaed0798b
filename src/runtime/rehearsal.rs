//! When a stage rehearses its order path: a dry run that changes nothing, so that the
//! next real order finds its code, branch history and data in the caches.
//!
//! With the shipped strategies an order follows one tick in tens of thousands. Between
//! two orders the ticks' own work pushes the order path out of the caches, and the
//! order pays for it: on the 2-core VM of `latency-reports/`, an intent took about 3 µs
//! from arriving at the order stage to leaving for the venue when orders were rare,
//! against 0.5 µs when they came every few hundred ticks. A stage with nothing to do
//! may instead walk the pure part of that path (checks, sizing, slicing, the request it
//! would send) on a made-up order and throw the result away.
//!
//! Rehearsals run only in a poll that found no work, at most once per interval of
//! wall time: at saturation there are no idle polls, and at a live rate they take a
//! fraction of a percent of an idle core. The interval is wall time on purpose: a
//! rehearsal decides nothing, so market time has no say in it, and determinism is
//! untouched (no rehearsal writes any state but this gate's).

use super::LatencyClock;
use crate::model::Stamp;

/// The gate: due once per `every_nanos` of wall time, or never.
///
/// # Examples
/// ```
/// use tickpipe::runtime::{LatencyClock, Rehearsal};
/// let clock = LatencyClock::new();
/// let mut off = Rehearsal::OFF;
/// assert!(!off.due(&clock));
/// let mut gate = Rehearsal::every_micros(1_000_000);
/// assert!(gate.due(&clock)); // the first idle poll rehearses
/// assert!(!gate.due(&clock)); // then not again within the second
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rehearsal {
    every_nanos: u64,
    last: Stamp,
}

impl Rehearsal {
    /// Never due.
    pub const OFF: Rehearsal = Rehearsal {
        every_nanos: 0,
        last: Stamp(0),
    };

    /// Due once per `micros` microseconds (0: never).
    pub const fn every_micros(micros: u64) -> Rehearsal {
        Rehearsal {
            every_nanos: micros.saturating_mul(1_000),
            last: Stamp(0),
        }
    }

    /// True when a rehearsal is due now; it is then counted as done.
    ///
    /// One read of the time-stamp counter when on: called from idle polls only.
    #[inline]
    pub fn due(&mut self, clock: &LatencyClock) -> bool {
        if self.every_nanos == 0 {
            return false;
        }
        let now = clock.stamp();
        // A clock that is off reads zero: it cannot tell when the interval is up.
        if now == Stamp(0) {
            return false;
        }
        if self.last != Stamp(0) && clock.nanos_between(self.last, now) < self.every_nanos {
            return false;
        }
        self.last = now;
        true
    }

    /// True when rehearsals are on.
    pub fn is_on(&self) -> bool {
        self.every_nanos > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_is_never_due_and_an_interval_is_due_once_then_waits() {
        let clock = LatencyClock::new();
        let mut off = Rehearsal::every_micros(0);
        assert!(!off.is_on());
        assert!((0..100).all(|_| !off.due(&clock)));
        // An hour: the second call cannot be an hour after the first.
        let mut gate = Rehearsal::every_micros(3_600_000_000);
        assert!(gate.is_on());
        assert!(gate.due(&clock));
        assert!((0..100).all(|_| !gate.due(&clock)));
    }

    #[test]
    fn a_clock_that_is_off_never_makes_a_rehearsal_due() {
        let off = LatencyClock::off();
        let mut gate = Rehearsal::every_micros(1);
        assert!((0..100).all(|_| !gate.due(&off)));
    }
}
