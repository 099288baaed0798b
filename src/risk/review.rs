//! The risk stage's side of the allocation review: the round trips each strategy closed
//! since the last review, answered to the signal stage on request.
//!
//! The signal stage asks with [`RiskInput::Review`](crate::model::RiskInput::Review) in
//! the market stream. The answer must count every fill of every order sent before that
//! marker, or it would depend on how fast the order stage answered: so the stage reads
//! no further input while a request waits ([`ReviewDesk::is_waiting`]), and with
//! market-time sync the desk answers only once the order stage has confirmed every
//! answer due by then ([`OrderInput::Sync`](crate::model::OrderInput::Sync)). Orders
//! still working then (a resting limit) count when they fill, at a later review.

use crate::{
    model::{InstrumentId, Money, ReviewAnswer, ReviewRequest, RoundTrips, StrategyId},
    risk::position::FillEffect,
    runtime::Outbox,
};

/// Counts round trips per strategy from booked fills and answers review requests.
///
/// Sized at construction (a tally per strategy, a running P&L per instrument); nothing
/// allocates afterwards.
#[derive(Debug)]
pub struct ReviewDesk {
    /// Per strategy: round trips closed since the last answer.
    since: Vec<RoundTrips>,
    /// Per instrument: P&L realised so far by the round trip in progress (a trip
    /// closed in parts realises in parts).
    open_trip: Vec<Money>,
    out: Outbox<ReviewAnswer>,
    pending: Option<ReviewRequest>,
    answered: u64,
}

impl ReviewDesk {
    /// A desk for `strategies` strategies and `instruments` instruments, answering on
    /// `out`. The ring behind `out` should hold a strategy row per strategy and the end
    /// marker; a smaller one only spreads the answer over more polls.
    pub fn new(strategies: usize, instruments: usize, out: Outbox<ReviewAnswer>) -> ReviewDesk {
        ReviewDesk {
            since: (0..strategies)
                .map(|i| RoundTrips::empty(StrategyId(i as u16)))
                .collect(),
            open_trip: vec![Money::ZERO; instruments],
            out,
            pending: None,
            answered: 0,
        }
    }

    /// A fill on `instrument` for `strategy` was booked with `effect`.
    pub fn on_fill(&mut self, instrument: InstrumentId, strategy: StrategyId, effect: FillEffect) {
        let Some(open) = self.open_trip.get_mut(instrument.index()) else {
            return;
        };
        *open = open.saturating_add(effect.realized);
        if effect.closed {
            let pnl = std::mem::replace(open, Money::ZERO);
            if let Some(tally) = self.since.get_mut(strategy.index()) {
                tally.record(pnl);
            }
        }
    }

    /// The signal stage asked for a review: answered by [`ReviewDesk::answer`] once
    /// every answer due by then is booked.
    pub fn on_request(&mut self, request: ReviewRequest) {
        self.pending = Some(request);
    }

    /// True while a request waits for its answer: the stage reads no input meanwhile.
    #[inline]
    pub fn is_waiting(&self) -> bool {
        self.pending.is_some()
    }

    /// Answers the waiting request when `all_booked`: a row per strategy, then
    /// the end marker, and the tallies start again. Returns the messages sent (zero
    /// while there is nothing to answer or an earlier answer still fills the ring).
    pub fn answer(&mut self, all_booked: bool) -> usize {
        if !self.out.flush() {
            return 0;
        }
        let Some(request) = self.pending else {
            return 0;
        };
        if !all_booked {
            return 0;
        }
        for tally in &mut self.since {
            self.out.push(ReviewAnswer::Strategy(*tally));
            *tally = RoundTrips::empty(tally.strategy);
        }
        self.out.push(ReviewAnswer::End { seq: request.seq });
        self.pending = None;
        self.answered += 1;
        self.since.len() + 1
    }

    /// Requests answered.
    pub fn answered(&self) -> u64 {
        self.answered
    }

    /// Answer messages lost because the ring and the outbox's stash were both full
    /// (zero unless the answer ring is far smaller than the strategy count).
    pub fn overflowed(&self) -> u64 {
        self.out.overflowed()
    }
}

#[cfg(test)]
mod tests {
    use tickpipe_ringbuf::channel;

    use super::*;

    fn effect(rupees: i64, closed: bool) -> FillEffect {
        FillEffect {
            realized: Money::from_rupees(rupees),
            closed,
        }
    }

    #[test]
    fn answers_round_trips_since_the_last_review_once_all_is_booked() {
        let (tx, mut rx) = channel::<ReviewAnswer>(64);
        let mut desk = ReviewDesk::new(2, 3, Outbox::new(tx));
        // Strategy 0: a trip closed in two parts (+30 then -10), and a loss of 5.
        desk.on_fill(InstrumentId(0), StrategyId(0), effect(0, false));
        desk.on_fill(InstrumentId(0), StrategyId(0), effect(30, false));
        desk.on_fill(InstrumentId(0), StrategyId(0), effect(-10, true));
        desk.on_fill(InstrumentId(2), StrategyId(0), effect(-5, true));
        // Strategy 1: a trip still open.
        desk.on_fill(InstrumentId(1), StrategyId(1), effect(7, false));
        assert!(!desk.is_waiting());
        assert_eq!(desk.answer(true), 0, "nothing asked");
        let request = ReviewRequest {
            exchange_ts: crate::model::UnixNanos(1),
            seq: 4,
        };
        desk.on_request(request);
        assert!(desk.is_waiting());
        assert_eq!(desk.answer(false), 0, "an order is in flight");
        assert!(rx.try_pop().is_err());
        assert_eq!(desk.answer(true), 3);
        assert!(!desk.is_waiting());
        let ReviewAnswer::Strategy(first) = rx.try_pop().unwrap() else {
            panic!("a strategy row first");
        };
        assert_eq!(
            (first.strategy, first.trips, first.wins),
            (StrategyId(0), 2, 1)
        );
        assert_eq!(first.net, Money::from_rupees(15));
        assert_eq!(first.losses, Money::from_rupees(-5));
        let ReviewAnswer::Strategy(second) = rx.try_pop().unwrap() else {
            panic!("a row per strategy");
        };
        assert_eq!((second.strategy, second.trips), (StrategyId(1), 0));
        assert_eq!(rx.try_pop(), Ok(ReviewAnswer::End { seq: 4 }));
        // The next review counts from here; strategy 1's open trip carries its +7.
        desk.on_fill(InstrumentId(1), StrategyId(1), effect(3, true));
        desk.on_request(ReviewRequest { seq: 5, ..request });
        assert_eq!(desk.answer(true), 3);
        assert_eq!(
            rx.try_pop(),
            Ok(ReviewAnswer::Strategy(RoundTrips::empty(StrategyId(0))))
        );
        let ReviewAnswer::Strategy(later) = rx.try_pop().unwrap() else {
            panic!("a row per strategy");
        };
        assert_eq!((later.trips, later.net), (1, Money::from_rupees(10)));
        assert_eq!(desk.answered(), 2);
    }
}
