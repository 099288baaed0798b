//! A reject storm: many orders refused within a short window of market time.
//!
//! One refusal is routine (a price band, a retriable network error); many in a short
//! while mean the broker or the venue is in trouble (a lost session, throttling, a
//! margin problem) and an operator should look, even while retries still get the orders
//! through. The order stage, which sees every refusal (retried or final), feeds each
//! into a [`RejectStorm`], which says when `count` of them fell within `secs` seconds of
//! market time; the stage then raises a `reject_storm` alert.

use crate::model::UnixNanos;

/// Watches refusals for a storm: `count` within a window of market time.
///
/// The last `count` refusal times are kept in a ring preallocated at start, so noting
/// one is a store and a subtraction: no allocation on the stage's thread. After a storm
/// is reported the ring starts over, so a storm that goes on reports again only once
/// `count` more refusals have fallen within the window (and the alert limiter holds back
/// repeats of the same kind on top of that).
///
/// # Examples
/// ```
/// use tickpipe::{model::UnixNanos, order::RejectStorm};
/// let secs = |s: u64| UnixNanos(s * 1_000_000_000);
/// let mut storm = RejectStorm::new(3, 10);
/// assert!(!storm.note(secs(100)));
/// assert!(!storm.note(secs(105)));
/// assert!(storm.note(secs(109)), "3 refusals within 10 s");
/// assert!(!storm.note(secs(110)), "counting starts over after a storm");
/// ```
#[derive(Debug, Clone)]
pub struct RejectStorm {
    /// Market times of the latest refusals, oldest at `next` once full.
    times: Vec<u64>,
    /// Where the next time goes.
    next: usize,
    /// How many of `times` hold a refusal (up to its length).
    held: usize,
    window_nanos: u64,
}

impl RejectStorm {
    /// A storm is `count` refusals within `secs` seconds of market time; a count or a
    /// window of zero watches nothing.
    pub fn new(count: u32, secs: u32) -> RejectStorm {
        let count = if secs == 0 { 0 } else { count as usize };
        RejectStorm {
            times: vec![0; count],
            next: 0,
            held: 0,
            window_nanos: u64::from(secs) * 1_000_000_000,
        }
    }

    /// Notes a refusal at market time `at`; true when it completes a storm.
    #[inline]
    pub fn note(&mut self, at: UnixNanos) -> bool {
        let n = self.times.len();
        if n == 0 {
            return false;
        }
        self.times[self.next] = at.0;
        self.next = (self.next + 1) % n;
        self.held = (self.held + 1).min(n);
        if self.held < n {
            return false;
        }
        // Full: `next` now indexes the oldest of the last `n` refusals.
        let oldest = self.times[self.next];
        if at.0.saturating_sub(oldest) <= self.window_nanos {
            self.held = 0;
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> UnixNanos {
        UnixNanos(s * 1_000_000_000)
    }

    #[test]
    fn refusals_spread_wider_than_the_window_are_no_storm() {
        let mut storm = RejectStorm::new(3, 60);
        let hits: Vec<bool> = [0, 40, 80, 120, 160].map(|s| storm.note(secs(s))).into();
        assert_eq!(hits, [false; 5]);
        // One close to the last two: 120, 160 and 170 fall within 60 s.
        assert!(storm.note(secs(170)));
    }

    #[test]
    fn a_storm_that_goes_on_reports_again_after_count_more() {
        let mut storm = RejectStorm::new(2, 10);
        let hits: Vec<bool> = (0..6).map(|s| storm.note(secs(s))).collect();
        assert_eq!(hits, [false, true, false, true, false, true]);
    }

    #[test]
    fn zero_count_or_window_watches_nothing() {
        for (count, window) in [(0, 60), (5, 0)] {
            let mut storm = RejectStorm::new(count, window);
            assert!((0..100).all(|s| !storm.note(secs(s))));
        }
        let mut one = RejectStorm::new(1, 60);
        assert!(one.note(secs(5)), "a count of one: every refusal");
    }
}
