//! The monotonic clock for latency stamps.

use quanta::Clock;

use crate::model::Stamp;

/// A cheap monotonic clock for latency stamps: the CPU's time-stamp counter, calibrated
/// against the OS clock at start, where the CPU has an invariant TSC; the OS monotonic
/// clock otherwise (`quanta` decides and calibrates).
///
/// Only used to *measure*; strategy and risk logic read market time from the events.
/// Clones share the calibration, so stamps from one thread can be compared on another.
#[derive(Clone, Debug)]
pub struct LatencyClock {
    clock: Clock,
}

impl LatencyClock {
    /// Calibrates a clock (takes a few milliseconds, once).
    pub fn new() -> LatencyClock {
        LatencyClock {
            clock: Clock::new(),
        }
    }

    /// A raw reading, for [`LatencyClock::nanos_between`].
    #[inline]
    pub fn stamp(&self) -> Stamp {
        Stamp(self.clock.raw())
    }

    /// Nanoseconds from `start` to `end` (zero if `end` is earlier or unstamped).
    #[inline]
    pub fn nanos_between(&self, start: Stamp, end: Stamp) -> u64 {
        if start.0 == 0 || end.0 <= start.0 {
            return 0;
        }
        self.clock.delta_as_nanos(start.0, end.0)
    }

    /// Nanoseconds since `start`.
    #[inline]
    pub fn nanos_since(&self, start: Stamp) -> u64 {
        self.nanos_between(start, self.stamp())
    }
}

impl Default for LatencyClock {
    fn default() -> Self {
        LatencyClock::new()
    }
}
