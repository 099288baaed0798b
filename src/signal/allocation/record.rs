//! A strategy's rolling record: its most recent round trips, kept as review batches.

use std::collections::VecDeque;

use crate::model::{RoundTrips, StrategyId};

/// The round trips of a strategy's most recent reviews, covering at least `window`
/// round trips when it has had that many.
///
/// The risk stage answers a review with one tally per strategy (count, wins, net P&L,
/// losses), not trip by trip, so the window moves in whole reviews: a review's batch is
/// added at the newest end, and the oldest batch is dropped once the newer ones alone
/// hold `window` round trips. The record then holds from `window` round trips up to
/// `window` plus the oldest batch's count less one; a single review with more than
/// `window` round trips is kept whole. Reviews without a round trip change nothing.
///
/// Every batch kept has at least one round trip, and all but the oldest hold fewer than
/// `window` together, so at most `window + 1` batches are ever stored: the buffer is
/// sized once and a review never allocates.
#[derive(Debug, Clone)]
pub struct RollingRecord {
    batches: VecDeque<RoundTrips>,
    totals: RoundTrips,
    window: u32,
}

impl RollingRecord {
    /// An empty record for `strategy` over `window` round trips (at least 1).
    pub fn new(strategy: StrategyId, window: u32) -> RollingRecord {
        let window = window.max(1);
        RollingRecord {
            batches: VecDeque::with_capacity(window as usize + 1),
            totals: RoundTrips::empty(strategy),
            window,
        }
    }

    /// Adds one review's round trips, dropping the oldest batches the window no longer
    /// needs.
    pub fn push(&mut self, batch: &RoundTrips) {
        if batch.trips == 0 {
            return;
        }
        self.batches.push_back(*batch);
        self.totals.add(batch);
        while let Some(oldest) = self.batches.front().copied() {
            if self.totals.trips.saturating_sub(oldest.trips) < self.window {
                break;
            }
            self.batches.pop_front();
            self.totals.remove(&oldest);
        }
        debug_assert!(self.batches.len() <= self.window as usize);
    }

    /// The round trips in the window, summed.
    pub fn totals(&self) -> &RoundTrips {
        &self.totals
    }

    /// Forgets every round trip.
    pub fn clear(&mut self) {
        self.batches.clear();
        self.totals = RoundTrips::empty(self.totals.strategy);
    }

    /// Becomes a copy of `other` (same window), without allocating.
    pub fn copy_from(&mut self, other: &RollingRecord) {
        self.clear();
        for batch in &other.batches {
            self.push(batch);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Money;

    fn batch(pnls: &[i64]) -> RoundTrips {
        let mut b = RoundTrips::empty(StrategyId(1));
        for &p in pnls {
            b.record(Money::from_rupees(p));
        }
        b
    }

    #[test]
    fn the_window_moves_in_whole_reviews_and_keeps_at_least_window_trips() {
        let mut r = RollingRecord::new(StrategyId(1), 4);
        r.push(&batch(&[10, -5]));
        r.push(&batch(&[]));
        assert_eq!(r.totals().trips, 2);
        r.push(&batch(&[-1]));
        r.push(&batch(&[-2]));
        // Four trips: all kept.
        assert_eq!(
            (r.totals().trips, r.totals().net),
            (4, Money::from_rupees(2))
        );
        r.push(&batch(&[-3]));
        // The newer three batches hold 3 < 4: the oldest (two trips) stays.
        assert_eq!(r.totals().trips, 5);
        r.push(&batch(&[-4]));
        // Now the newer ones hold 4: the first batch goes.
        assert_eq!(
            (r.totals().trips, r.totals().wins, r.totals().net),
            (4, 0, Money::from_rupees(-10))
        );
        // A review with more than the window is kept whole, alone.
        r.push(&batch(&[1, 1, 1, 1, 1, 1]));
        assert_eq!((r.totals().trips, r.totals().wins), (6, 6));
        assert_eq!(r.totals().losses, Money::ZERO);
    }

    #[test]
    fn copy_and_clear() {
        let mut a = RollingRecord::new(StrategyId(1), 3);
        a.push(&batch(&[5, -1]));
        let mut b = RollingRecord::new(StrategyId(1), 3);
        b.push(&batch(&[-9]));
        b.copy_from(&a);
        assert_eq!(b.totals(), a.totals());
        b.clear();
        assert_eq!(*b.totals(), RoundTrips::empty(StrategyId(1)));
    }
}
