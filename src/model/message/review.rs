//! The allocation review's round trip between the signal and the risk stage: a marker
//! in the market stream, and the risk book's answer on a ring of its own.
//!
//! The signal stage reviews its strategies at fixed market times. So that the answer is
//! the same on every thread layout, it sends [`ReviewRequest`] in stream order (risk has
//! then handled every earlier tick and signal) and reads no market input until risk has
//! answered with one [`ReviewAnswer::Strategy`] per strategy and [`ReviewAnswer::End`].

use crate::model::{Money, StrategyId, UnixNanos};

/// "Tell me what each strategy realised since the last review": sent by the signal
/// stage at a review time, in the market stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct ReviewRequest {
    /// Market time of the event that made the review due.
    pub exchange_ts: UnixNanos,
    /// Reviews asked so far, this one included (1 for the first): the end marker
    /// echoes it, so a stray answer is never taken for the current one.
    pub seq: u32,
}

/// Completed round trips (a position opened and brought back to flat, or reversed
/// through zero) and what they realised: one strategy's record over some span.
///
/// The same measure serves the risk stage's answer (its real fills since the last
/// review), the signal stage's rolling record, and the shadow book of a strategy that
/// trades on paper only, so the three compare like with like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(C)]
pub struct RoundTrips {
    /// Net realised P&L of the round trips.
    pub net: Money,
    /// Sum of the losing round trips' P&L (zero or negative).
    pub losses: Money,
    /// Whose.
    pub strategy: StrategyId,
    /// Round trips completed.
    pub trips: u32,
    /// Of those, the ones that realised more than zero.
    pub wins: u32,
    /// Of those, the ones that realised less than zero.
    pub losers: u32,
}

impl RoundTrips {
    /// No round trips yet, for `strategy`.
    pub const fn empty(strategy: StrategyId) -> RoundTrips {
        RoundTrips {
            net: Money::ZERO,
            losses: Money::ZERO,
            strategy,
            trips: 0,
            wins: 0,
            losers: 0,
        }
    }

    /// Counts one completed round trip that realised `pnl`.
    pub fn record(&mut self, pnl: Money) {
        self.trips = self.trips.saturating_add(1);
        self.net = self.net.saturating_add(pnl);
        if pnl > Money::ZERO {
            self.wins = self.wins.saturating_add(1);
        } else if pnl.is_negative() {
            self.losers = self.losers.saturating_add(1);
            self.losses = self.losses.saturating_add(pnl);
        }
    }

    /// Adds `other`'s round trips to these.
    pub fn add(&mut self, other: &RoundTrips) {
        self.trips = self.trips.saturating_add(other.trips);
        self.wins = self.wins.saturating_add(other.wins);
        self.losers = self.losers.saturating_add(other.losers);
        self.net = self.net.saturating_add(other.net);
        self.losses = self.losses.saturating_add(other.losses);
    }

    /// Takes `other`'s round trips away from these (the inverse of [`RoundTrips::add`],
    /// for a window that drops its oldest part).
    pub fn remove(&mut self, other: &RoundTrips) {
        self.trips = self.trips.saturating_sub(other.trips);
        self.wins = self.wins.saturating_sub(other.wins);
        self.losers = self.losers.saturating_sub(other.losers);
        self.net = self.net.saturating_add(other.net.neg());
        self.losses = self.losses.saturating_add(other.losses.neg());
    }

    /// Sum of the winning round trips' P&L (`net − losses`).
    pub fn profits(&self) -> Money {
        self.net.saturating_add(self.losses.neg())
    }

    /// Mean P&L per round trip (zero with none).
    pub fn expectancy(&self) -> f64 {
        if self.trips == 0 {
            0.0
        } else {
            self.net.to_f64() / f64::from(self.trips)
        }
    }

    /// Mean loss of the losing round trips, as a positive amount (zero with none).
    pub fn average_loss(&self) -> f64 {
        if self.losers == 0 {
            0.0
        } else {
            -self.losses.to_f64() / f64::from(self.losers)
        }
    }

    /// Gross profit over gross loss: above 1 the strategy made more than it lost.
    /// Infinite with profits and no losses; zero with neither (nothing to go on).
    pub fn profit_factor(&self) -> f64 {
        let loss = -self.losses.to_f64();
        let profit = self.profits().to_f64();
        if loss > 0.0 {
            profit / loss
        } else if profit > 0.0 {
            f64::INFINITY
        } else {
            0.0
        }
    }
}

/// One message of the risk stage's answer to a [`ReviewRequest`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewAnswer {
    /// One strategy's round trips closed since the previous review.
    Strategy(RoundTrips),
    /// The answer is complete.
    End {
        /// The [`ReviewRequest::seq`] answered.
        seq: u32,
    },
}

const _: () = assert!(std::mem::size_of::<ReviewRequest>() <= 16);
const _: () = assert!(std::mem::size_of::<ReviewAnswer>() <= 64);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_count_wins_losses_and_the_profit_factor() {
        let mut r = RoundTrips::empty(StrategyId(2));
        assert_eq!(r.profit_factor(), 0.0);
        r.record(Money::from_rupees(300));
        r.record(Money::from_rupees(-100));
        r.record(Money::ZERO);
        r.record(Money::from_rupees(-50));
        assert_eq!((r.trips, r.wins, r.losers), (4, 1, 2));
        assert_eq!(r.expectancy(), 37.5);
        assert_eq!(r.average_loss(), 75.0);
        assert_eq!(r.net, Money::from_rupees(150));
        assert_eq!(r.losses, Money::from_rupees(-150));
        assert_eq!(r.profits(), Money::from_rupees(300));
        assert_eq!(r.profit_factor(), 2.0);
        let mut only_wins = RoundTrips::empty(StrategyId(2));
        only_wins.record(Money::from_rupees(1));
        assert_eq!(only_wins.profit_factor(), f64::INFINITY);
        let mut sum = r;
        sum.add(&only_wins);
        assert_eq!(
            (sum.trips, sum.wins, sum.net),
            (5, 2, Money::from_rupees(151))
        );
        sum.remove(&only_wins);
        assert_eq!(sum, r);
    }
}
