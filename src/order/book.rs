//! Live orders in a preallocated slab keyed by intent id.

use crate::{
    model::{IntentId, Money, OrderIntent, Price, Qty},
    order::state::OrderState,
};

/// One live order: the intent it carries out, its state and what has filled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Order {
    /// The approved intent.
    pub intent: OrderIntent,
    /// Where it is in its life.
    pub state: OrderState,
    /// Units filled so far.
    pub cum_qty: Qty,
    /// Sum of `price × qty` over the fills so far, for the average fill price.
    pub filled_value: Money,
}

impl Order {
    /// Average fill price (zero while nothing filled), truncated to the price unit.
    pub fn avg_price(&self) -> Price {
        if self.cum_qty.is_zero() {
            return Price::ZERO;
        }
        let avg = self.filled_value.raw() / i128::from(self.cum_qty.get());
        Price::from_raw(avg.clamp(0, i128::from(i64::MAX)) as i64)
    }

    /// Units still open.
    pub fn leaves_qty(&self) -> Qty {
        if self.state.is_terminal() {
            Qty::ZERO
        } else {
            self.intent.qty.saturating_sub(self.cum_qty)
        }
    }
}

/// The order stage's live orders.
///
/// A fixed slab of `capacity` slots; order `id` lives in slot `id % capacity`. Intent ids
/// are consecutive, so two live orders share a slot only when `capacity` orders are live
/// at once; [`OrderBook::insert`] then refuses. Finished orders leave the book, so it
/// never grows and never allocates after construction.
#[derive(Debug, Clone)]
pub struct OrderBook {
    slots: Vec<Option<Order>>,
    live: usize,
}

impl OrderBook {
    /// A book for `capacity` live orders (at least one).
    pub fn new(capacity: usize) -> OrderBook {
        OrderBook {
            slots: vec![None; capacity.max(1)],
            live: 0,
        }
    }

    fn slot(&self, id: IntentId) -> usize {
        (id.0 % self.slots.len() as u64) as usize
    }

    /// Creates the order for `intent` in state [`OrderState::New`].
    ///
    /// # Errors
    /// The intent back when its slot holds another live order.
    pub fn insert(&mut self, intent: OrderIntent) -> Result<&mut Order, OrderIntent> {
        let slot = self.slot(intent.id);
        if self.slots[slot].is_some() {
            return Err(intent);
        }
        self.live += 1;
        Ok(self.slots[slot].insert(Order {
            intent,
            state: OrderState::New,
            cum_qty: Qty::ZERO,
            filled_value: Money::ZERO,
        }))
    }

    /// The live order `id`.
    pub fn get_mut(&mut self, id: IntentId) -> Option<&mut Order> {
        let slot = self.slot(id);
        self.slots[slot].as_mut().filter(|o| o.intent.id == id)
    }

    /// Takes the order `id` out of the book.
    pub fn remove(&mut self, id: IntentId) -> Option<Order> {
        let slot = self.slot(id);
        if self.slots[slot].is_some_and(|o| o.intent.id == id) {
            self.live -= 1;
            return self.slots[slot].take();
        }
        None
    }

    /// The live orders, in slot order (for the control plane; O(capacity)).
    pub fn iter(&self) -> impl Iterator<Item = &Order> {
        self.slots.iter().flatten()
    }

    /// Live orders.
    pub fn len(&self) -> usize {
        self.live
    }

    /// True when no order is live.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{InstrumentId, IntentReason, Price, Side, Stamp, StrategyId, UnixNanos};

    fn intent(id: u64) -> OrderIntent {
        OrderIntent {
            id: IntentId(id),
            exchange_ts: UnixNanos(0),
            ingress: Stamp(0),
            limit: Price::ZERO,
            qty: Qty::new(10),
            instrument: InstrumentId(0),
            strategy: StrategyId(0),
            side: Side::Buy,
            reason: IntentReason::Entry,
        }
    }

    #[test]
    fn insert_get_remove() {
        let mut book = OrderBook::new(2);
        let order = book.insert(intent(7)).unwrap();
        assert_eq!(order.state, OrderState::New);
        order.cum_qty = Qty::new(4);
        assert_eq!(order.leaves_qty(), Qty::new(6));
        book.insert(intent(8)).unwrap();
        assert_eq!(book.insert(intent(9)), Err(intent(9)), "slot of #7");
        assert!(book.get_mut(IntentId(9)).is_none());
        assert_eq!(book.len(), 2);
        let mut done = book.remove(IntentId(7)).unwrap();
        done.state = OrderState::Filled;
        assert_eq!(done.leaves_qty(), Qty::ZERO);
        assert!(book.remove(IntentId(7)).is_none());
        book.insert(intent(9)).unwrap();
        book.remove(IntentId(8)).unwrap();
        book.remove(IntentId(9)).unwrap();
        assert!(book.is_empty());
    }
}
