//! The monotonic clock for latency stamps.

use quanta::Clock;

use crate::{metrics::LatencyHistogram, model::Stamp};

/// A cheap monotonic clock for latency stamps: the CPU's time-stamp counter, calibrated
/// against the OS clock at start, where the CPU has an invariant TSC; the OS monotonic
/// clock otherwise (`quanta` decides and calibrates).
///
/// Only used to *measure*; strategy and risk logic read market time from the events.
/// Clones share the calibration, so stamps from one thread can be compared on another.
///
/// A clock may also be [off](LatencyClock::off): for a backtest, which reports no
/// latency, every reading is the unstamped `Stamp(0)`, which the stages already skip
/// (no histogram records, no sampled service times).
#[derive(Clone, Debug)]
pub struct LatencyClock {
    clock: Clock,
    on: bool,
}

impl LatencyClock {
    /// Calibrates a clock (takes a few milliseconds, once).
    pub fn new() -> LatencyClock {
        LatencyClock {
            clock: Clock::new(),
            on: true,
        }
    }

    /// A clock that never reads the time: every [`stamp`](LatencyClock::stamp) is
    /// `Stamp(0)` (unstamped), so every interval measured is zero.
    ///
    /// Why: a backtest on one thread reports no latency, and at millions of events a
    /// second the reads of the time-stamp counter and the histogram records they feed
    /// were about a tenth of its time (`latency-reports/backtest.md`). It costs the
    /// live clock nothing: `quanta`'s mock clock, which is never advanced, is one more
    /// arm of the match every reading already goes through.
    ///
    /// # Examples
    /// ```
    /// use tickpipe::{model::Stamp, runtime::LatencyClock};
    /// let off = LatencyClock::off();
    /// assert!(!off.is_on());
    /// assert_eq!(off.stamp(), Stamp(0));
    /// assert_eq!(off.nanos_since(off.stamp()), 0);
    /// assert!(LatencyClock::new().is_on());
    /// ```
    pub fn off() -> LatencyClock {
        // The mock's handle is dropped: nothing can advance it, so it reads 0 forever.
        let (clock, _mock) = Clock::mock();
        LatencyClock { clock, on: false }
    }

    /// False for a clock [off](LatencyClock::off).
    pub fn is_on(&self) -> bool {
        self.on
    }

    /// An empty histogram for the latencies this clock measures: full range and
    /// precision, or, when the clock is off and nothing will be measured, a
    /// [minimal](LatencyHistogram::minimal) one, so that a pipeline built for every day of
    /// a backtest does not allocate and zero the counters of histograms it never fills.
    pub fn histogram(&self) -> LatencyHistogram {
        if self.on {
            LatencyHistogram::new()
        } else {
            LatencyHistogram::minimal()
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
