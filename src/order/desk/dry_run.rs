//! A dry run of the whole order path on a desk of its own, while the stage is idle.
//!
//! With the shipped strategies an intent is rare (tens in a million ticks), and the code
//! that takes one (the slicing, the book's insert, the send queue, the rate limit, the
//! request) has left the instruction cache and the branch predictors by the time the
//! next one comes. Measured on the bench's pipeline scenario, the order stage's own share
//! of a rare intent's tick→intent was about 4.5 µs against 0.4 µs when intents are
//! frequent. Prefetching the book's next slot did not move it; running the same path on
//! a scratch desk did (to about 1.9 µs): what is cold is the code, not the data.
//!
//! So an idle stage runs a one-lot market buy through the same functions a real intent
//! meets ([`Desk::on_intent`], [`Desk::take_request`]: the queue's checks,
//! [`RateLimiter::try_take`], [`Desk::prepare`]) on a desk that shares nothing with the real one: its own book,
//! queue, rate windows and outbox, which no venue and no risk stage ever reads. The real
//! desk is only read (its touch, market time and instruments), so a dry run changes
//! nothing a run reports, and the same input gives the same orders with or without it.
//!
//! [`RateLimiter::try_take`]: crate::order::RateLimiter::try_take

use tickpipe_ringbuf::{channel, Consumer};

use crate::{
    model::{
        InstrumentId, IntentId, IntentReason, OrderIntent, OrderOutput, Price, Qty, Side, Stamp,
        StrategyId,
    },
    order::desk::{Desk, Prepared, Taken},
    runtime::{Key, Outbox},
};

/// The dry run's intent: the one slot of its desk's book.
const DRY_RUN_INTENT: IntentId = IntentId(Key::new(1, 0).to_u64());

/// A scratch desk, and the end of its outbox (a refusal is answered through it).
pub struct DryRun {
    desk: Box<Desk>,
    answers: Consumer<OrderOutput>,
}

impl DryRun {
    /// A dry run of `real`'s order path: its instruments, policy and rate windows, with
    /// a book of one slot. Allocates; call when setting the stage up.
    pub fn new(real: &Desk) -> DryRun {
        let (to_risk, answers) = channel(8);
        DryRun {
            desk: Box::new(real.scratch(Outbox::new(to_risk))),
            answers,
        }
    }

    /// Takes a one-lot market buy of `instrument` at `real`'s touch and market time,
    /// prepares its first placement, and empties the scratch desk again. Returns the
    /// request a real intent would have sent (`None`: not traded here, or no touch).
    pub fn run(&mut self, real: &Desk, instrument: InstrumentId) -> Option<Prepared> {
        let i = instrument.index();
        let spec = real.specs.get(i).copied().filter(|s| s.tradable)?;
        let (bid, ask) = real.touches.get(i).copied()?;
        if !ask.is_positive() {
            return None;
        }
        let desk = &mut self.desk;
        desk.now = real.now;
        desk.on_quote(i, bid, ask);
        desk.rate.forget();
        let intent = OrderIntent {
            id: DRY_RUN_INTENT,
            exchange_ts: real.now,
            ingress: Stamp(0),
            limit: Price::ZERO,
            qty: Qty::new(spec.lot),
            instrument,
            strategy: StrategyId(0),
            side: Side::Buy,
            reason: IntentReason::Entry,
            reference: ask,
        };
        desk.on_intent(&intent);
        // As `OrderStage::pump_queue` takes a request off the queue (the scratch desk
        // never arms a timer, so its `run_timers` would do nothing).
        let request = match desk.take_request() {
            Taken::Request(_, request) => Some(request),
            Taken::Nothing | Taken::Skipped => None,
        };
        desk.book.remove(intent.id);
        desk.queue.clear();
        desk.out.flush();
        while self.answers.try_pop().is_ok() {}
        request
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        model::{Instrument, InstrumentKind, InstrumentTable, SectorId, UnixNanos},
        order::{config::OrderConfig, desk::Prepared, venue::OrderType},
    };

    fn desk() -> (Desk, Consumer<OrderOutput>) {
        let mut table = InstrumentTable::new();
        table
            .push(Instrument::nse_equity("ABC", SectorId(0)))
            .unwrap();
        table
            .push(Instrument {
                kind: InstrumentKind::Index,
                ..Instrument::nse_equity("NIFTY 50", SectorId(0))
            })
            .unwrap();
        let (tx, rx) = channel(64);
        let desk = Desk::new(&table, 8, 1, &OrderConfig::default(), Outbox::new(tx));
        (desk, rx)
    }

    #[test]
    fn a_dry_run_prepares_a_placement_and_leaves_the_real_desk_as_it_was() {
        let (mut real, mut to_risk) = desk();
        real.advance(UnixNanos(1_000));
        real.on_quote(0, "100.00".parse().unwrap(), "100.05".parse().unwrap());
        let mut dry = DryRun::new(&real);
        for _ in 0..3 {
            let Some(Prepared::Submit(order)) = dry.run(&real, InstrumentId(0)) else {
                panic!("the dry run prepares a placement every time");
            };
            assert_eq!(order.kind, OrderType::Market);
            assert_eq!(order.qty, Qty::new(1));
        }
        assert!(
            dry.run(&real, InstrumentId(1)).is_none(),
            "an index is not traded"
        );
        assert!(real.book.is_empty() && real.queue.is_empty());
        assert_eq!(real.counters.intents, 0);
        assert_eq!(real.counters.orders, 0);
        assert!(real.rate.allows(real.now));
        real.out.flush();
        assert!(to_risk.try_pop().is_err(), "nothing reaches risk");
    }
}
