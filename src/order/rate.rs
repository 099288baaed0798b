//! Order-rate limits over several sliding windows at once, in market time.

use crate::model::UnixNanos;

/// One window: at most `limit` requests in any `length` of market time.
#[derive(Debug, Clone)]
struct Window {
    length: u64,
    /// Times of the last `limit` requests, oldest at `next` once full.
    times: Vec<UnixNanos>,
    next: usize,
    full: bool,
}

impl Window {
    fn allows(&self, now: UnixNanos) -> bool {
        !self.full || self.times[self.next].0.saturating_add(self.length) <= now.0
    }

    fn record(&mut self, now: UnixNanos) {
        self.times[self.next] = now;
        self.next = (self.next + 1) % self.times.len();
        self.full |= self.next == 0;
    }
}

/// Sliding-window rate limits (per second, per minute, per day) that a request must all
/// pass.
///
/// Each window remembers the times of its last `limit` requests, so a request is allowed
/// when fewer than `limit` were made or the oldest of them has left the window. Times are
/// market time: the same input meets the same limits in a backtest, on every thread
/// layout, and live. Memory is allocated in [`RateLimiter::new`] (one time per allowed
/// request of each window: 40 kB for Kite's 5,000 a day).
///
/// # Examples
/// ```
/// use tickpipe::{model::UnixNanos, order::RateLimiter};
/// let mut limits = RateLimiter::new(&[(2, 1_000)]);
/// limits.record(UnixNanos(0));
/// limits.record(UnixNanos(10));
/// assert!(!limits.allows(UnixNanos(999)));
/// assert!(limits.allows(UnixNanos(1_000)));
/// ```
#[derive(Debug, Clone)]
pub struct RateLimiter {
    windows: Vec<Window>,
    refused: u64,
}

impl RateLimiter {
    /// Windows of `(limit, length in nanoseconds)`; a zero limit is taken as one.
    pub fn new(windows: &[(u32, u64)]) -> RateLimiter {
        RateLimiter {
            windows: windows
                .iter()
                .map(|&(limit, length)| Window {
                    length,
                    times: vec![UnixNanos(0); limit.max(1) as usize],
                    next: 0,
                    full: false,
                })
                .collect(),
            refused: 0,
        }
    }

    /// True when a request at `now` passes every window.
    pub fn allows(&self, now: UnixNanos) -> bool {
        self.windows.iter().all(|w| w.allows(now))
    }

    /// Counts a request made at `now` in every window.
    pub fn record(&mut self, now: UnixNanos) {
        for w in &mut self.windows {
            w.record(now);
        }
    }

    /// Takes a request slot at `now` when every window allows one; counts a refusal
    /// otherwise.
    pub fn try_take(&mut self, now: UnixNanos) -> bool {
        if self.allows(now) {
            self.record(now);
            true
        } else {
            self.refused += 1;
            false
        }
    }

    /// Forgets every request made so far (the dry run's windows start empty each time;
    /// see `order::desk::DryRun`). O(windows): the remembered times are left to be
    /// overwritten.
    pub fn forget(&mut self) {
        for w in &mut self.windows {
            w.next = 0;
            w.full = false;
        }
    }

    /// Times a request had to wait for a window.
    pub fn refused(&self) -> u64 {
        self.refused
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: u64 = 1_000_000_000;

    #[test]
    fn every_window_must_allow() {
        let mut r = RateLimiter::new(&[(10, SEC), (12, 60 * SEC)]);
        for i in 0..10 {
            assert!(r.try_take(UnixNanos(i)));
        }
        assert!(!r.try_take(UnixNanos(SEC - 1)), "11th within the second");
        assert!(r.try_take(UnixNanos(SEC)), "the first left the second");
        assert!(r.try_take(UnixNanos(SEC + 1)));
        assert!(!r.try_take(UnixNanos(5 * SEC)), "12 in the minute");
        assert!(r.try_take(UnixNanos(60 * SEC)));
        assert_eq!(r.refused(), 2);
    }
}
