//! A resumed day at a broker: the orders the broker still works from the run before
//! the restart, held as working again instead of placed a second time (which orders,
//! and with what fills: [`crate::order::takeover`]). Cold: once per order, as a resumed
//! day catches up; and the journaling of a broker's order id, once per acceptance.

use crate::{
    journal::{Placement, Record},
    model::{IntentId, OrderIntent, OrderState, Price, Qty},
    order::{
        book::{Order, Timer},
        desk::Desk,
        takeover::{venue_order, Working},
        venue::{OrderType, VenueReport},
    },
};

impl Desk {
    /// Holds `working` as the live order of `intent` again, placing nothing: each slice
    /// the broker works is an accepted (or part-filled) child under its journaled child
    /// number, with the journaled fills booked (their trade ids remembered, so a fill
    /// reported again is booked once), and a slice the journal shows no placement of
    /// ends unfilled. A `protective` stop takes its instrument's guard again, so the
    /// risk stage's next word about it modifies or cancels this order. An entry's
    /// remainder timer starts again from now.
    ///
    /// False, with nothing changed, when the book cannot hold the order as it was: its
    /// instrument is not traded here, its slicing or units differ from the journal's,
    /// or the book is full. The caller then closes the intent as before.
    #[cold]
    #[inline(never)]
    pub fn take_over(&mut self, intent: &OrderIntent, protective: bool, working: &Working) -> bool {
        let Some(spec) = self
            .specs
            .get(intent.instrument.index())
            .copied()
            .filter(|s| s.tradable)
        else {
            return false;
        };
        let Some((slice_qty, slices)) = Desk::slicing(&spec, intent.qty.get()) else {
            return false;
        };
        if working.cum > intent.qty || working.children.is_empty() {
            return false;
        }
        let kind = if protective {
            OrderType::StopMarket
        } else if intent.is_market() {
            OrderType::Market
        } else {
            OrderType::Limit
        };
        let mut order = Order::new(*intent, Qty::new(slice_qty), slices, kind);
        order.protective = protective;
        order.acked = true;
        order.fill_seen = !working.cum.is_zero();
        order.cum_qty = working.cum;
        order.filled_value = working.value;
        order.state = if working.cum.is_zero() {
            OrderState::Accepted
        } else {
            OrderState::PartiallyFilled
        };
        for &trade in &working.trades {
            order.seen_trade(trade);
        }
        let mut placed = [false; crate::order::MAX_SLICES];
        let mut next_child = slices as u8;
        let due = self.now.0.saturating_add(self.policy.remainder_timeout);
        for (p, filled) in &working.children {
            let i = usize::from(p.slice);
            if i >= slices || placed[i] {
                return false;
            }
            let s = &mut order.slices[i];
            let Ok(covered) = p.prior.checked_add(p.qty) else {
                return false;
            };
            if covered > s.qty || *filled > p.qty {
                return false;
            }
            s.child = p.order.child();
            s.child_qty = p.qty;
            s.child_filled = *filled;
            s.filled = p.prior.checked_add(*filled).unwrap_or(s.qty);
            s.state = if filled.is_zero() {
                OrderState::Accepted
            } else {
                OrderState::PartiallyFilled
            };
            s.kind = venue_order(p).kind;
            s.limit = p.limit;
            s.trigger = p.trigger;
            s.sent_trigger = p.trigger;
            if !protective {
                Desk::arm(&mut self.next_due, s, Timer::Remainder, due);
            }
            placed[i] = true;
            next_child = next_child.max(p.order.child().saturating_add(1));
        }
        for (i, s) in order.slices[..slices].iter_mut().enumerate() {
            if !placed[i] {
                s.state = OrderState::Cancelled;
            }
        }
        order.next_child = next_child;
        if self.book.insert(order).is_err() {
            self.counters.book_full += 1;
            return false;
        }
        if protective {
            self.guard_taken_over(intent, working.cum);
        }
        self.counters.taken_over += 1;
        true
    }

    /// Journals the venue's own id of child `i` of intent `id` as it accepts it (a
    /// broker's acceptance names it), so a resumed day can take the child over: see
    /// [`Placement`]. Nothing for a child that has ended already.
    #[cold]
    #[inline(never)]
    pub(super) fn journal_placed(&mut self, id: IntentId, i: usize, report: &VenueReport) {
        let Some(order) = self.book.get(id) else {
            return;
        };
        let Some(slice) = order.slices().get(i) else {
            return;
        };
        if slice.state.is_terminal() {
            return;
        }
        let limit = matches!(slice.kind, OrderType::Limit | OrderType::StopLimit);
        let stop = matches!(slice.kind, OrderType::StopMarket | OrderType::StopLimit);
        let placed = Placement {
            order: report.order,
            venue_id: report.venue_id,
            limit: if limit { slice.limit } else { Price::ZERO },
            trigger: if stop {
                slice.sent_trigger
            } else {
                Price::ZERO
            },
            qty: slice.child_qty,
            prior: slice.filled.saturating_sub(slice.child_filled),
            instrument: order.intent.instrument,
            slice: i as u8,
            side: order.intent.side,
        };
        self.journal.record(self.now, &Record::Placed(placed));
    }
}
