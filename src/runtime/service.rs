//! Per-message service time, sampled.

use super::LatencyClock;
use crate::{metrics::LatencyHistogram, model::Stamp};

/// One message in this many has its service time measured.
///
/// Timing a message costs two reads of the time-stamp counter, a few nanoseconds each:
/// at millions of messages a second, timing every message in every stage was a quarter
/// of the engine's cost per event (`latency-reports/pipeline/`). One in 16 still gives
/// over 100 000 samples per stage for a synthetic day, enough for every percentile the
/// reports print.
pub const SERVICE_SAMPLE_EVERY: u32 = 16;

/// Measures how long a stage takes per message, for one message in every
/// [`SERVICE_SAMPLE_EVERY`] (the first, then every 16th), without allocating.
///
/// # Examples
/// ```
/// use tickpipe::runtime::{LatencyClock, ServiceTimer};
/// let clock = LatencyClock::new();
/// let mut timer = ServiceTimer::new();
/// for _ in 0..40 {
///     let start = timer.start(&clock);
///     timer.stop(&clock, start);
/// }
/// assert_eq!(timer.histogram().len(), 3); // messages 1, 17 and 33
/// ```
#[derive(Debug, Clone)]
pub struct ServiceTimer {
    histogram: LatencyHistogram,
    seen: u32,
}

impl ServiceTimer {
    /// A timer with an empty histogram.
    pub fn new() -> ServiceTimer {
        ServiceTimer {
            histogram: LatencyHistogram::new(),
            seen: 0,
        }
    }

    /// Call when a message's handling starts; the stamp is zero for unsampled messages.
    #[inline]
    pub fn start(&mut self, clock: &LatencyClock) -> Stamp {
        let sampled = self.seen % SERVICE_SAMPLE_EVERY == 0;
        self.seen = self.seen.wrapping_add(1);
        if sampled {
            clock.stamp()
        } else {
            Stamp(0)
        }
    }

    /// Call when the message is handled, with the stamp [`ServiceTimer::start`] gave.
    #[inline]
    pub fn stop(&mut self, clock: &LatencyClock, start: Stamp) {
        if start.0 != 0 {
            self.histogram.record(clock.nanos_since(start));
        }
    }

    /// As [`ServiceTimer::stop`], with an end stamp the caller already took.
    #[inline]
    pub fn stop_at(&mut self, clock: &LatencyClock, start: Stamp, end: Stamp) {
        if start.0 != 0 {
            self.histogram.record(clock.nanos_between(start, end));
        }
    }

    /// A timer for the stage timed by `clock`: its histogram is
    /// [`LatencyClock::histogram`]'s (minimal when the clock is off, and then it stays
    /// empty: every start is unstamped).
    pub fn for_clock(clock: &LatencyClock) -> ServiceTimer {
        ServiceTimer {
            histogram: clock.histogram(),
            seen: 0,
        }
    }

    /// The samples so far.
    pub fn histogram(&self) -> &LatencyHistogram {
        &self.histogram
    }

    /// The samples, for a stage report.
    pub fn into_histogram(self) -> LatencyHistogram {
        self.histogram
    }
}

impl Default for ServiceTimer {
    fn default() -> Self {
        ServiceTimer::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_the_first_message_then_every_sixteenth() {
        let clock = LatencyClock::new();
        let mut timer = ServiceTimer::new();
        let sampled: Vec<bool> = (0..33).map(|_| timer.start(&clock).0 != 0).collect();
        let expected: Vec<bool> = (0..33).map(|i| i % 16 == 0).collect();
        assert_eq!(sampled, expected);
    }
}
