//! Live orders: one [`Order`] per intent, each worked as up to [`MAX_SLICES`] child
//! orders at the venue, in a [`Slab`] that mirrors the risk stage's in-flight table.

use crate::{
    model::{
        IntentId, Money, OrderIntent, OrderState, Price, Qty, RejectReason, Stamp, TradeId,
        UnixNanos,
    },
    order::venue::OrderType,
    runtime::{Key, Slab},
};

/// Most slices one intent is cut into at the freeze quantity (NSE: at most ten orders
/// per freeze-quantity split, as Kite's iceberg/autoslice caps); larger intents are
/// refused as `freeze_qty`.
pub const MAX_SLICES: usize = 10;

/// Trade ids remembered per intent to drop a fill reported twice.
pub const TRADE_MEMORY: usize = 32;

/// A timer on a slice, in market time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Timer {
    /// None.
    #[default]
    Idle,
    /// Place the slice again (a retriable refusal), at `due`.
    Retry,
    /// Apply the remainder policy to the partly filled slice, at `due`.
    Remainder,
}

/// What happens once a cancel of the slice's child is confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AfterCancel {
    /// The slice ends with what filled.
    #[default]
    End,
    /// Place the rest again as a limit at the touch (the modification budget ran out).
    Replace,
    /// Place the rest again as a market order.
    Market,
}

/// One slice of an intent and its current child order at the venue. A slice is placed
/// again (retry, cancel and re-place) under a new child number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slice {
    /// The current child's number (in its [`ClientOrderId`](crate::model::ClientOrderId)).
    pub child: u8,
    /// Units of the slice.
    pub qty: Qty,
    /// Units of the slice filled, over all its children.
    pub filled: Qty,
    /// Units the current child was placed for.
    pub child_qty: Qty,
    /// Units the current child filled.
    pub child_filled: Qty,
    /// The current child's state.
    pub state: OrderState,
    /// How the current child is priced.
    pub kind: OrderType,
    /// The current child's limit (zero for market orders).
    pub limit: Price,
    /// Modifications of the current child so far.
    pub modifications: u8,
    /// Refused placements retried so far.
    pub attempts: u8,
    /// A request for this slice waits in the queue.
    pub queued: bool,
    /// The timer and when it is due.
    pub timer: Timer,
    /// When the timer is due.
    pub due: UnixNanos,
    /// What a confirmed cancel leads to.
    pub after_cancel: AfterCancel,
    /// A cancel of the current child was asked for.
    pub cancelling: bool,
    /// The last refusal of the slice.
    pub reject: RejectReason,
    /// The trigger of a stop order as the stage wants it (zero for other orders).
    pub trigger: Price,
    /// The trigger last sent to the venue (placed or modified to).
    pub sent_trigger: Price,
    /// A request to move the trigger waits in the queue.
    pub retriggering: bool,
}

impl Slice {
    /// A slice of `qty` not placed yet, as child `child`.
    pub const fn new(child: u8, qty: Qty, kind: OrderType, limit: Price) -> Slice {
        Slice {
            child,
            qty,
            filled: Qty::ZERO,
            child_qty: qty,
            child_filled: Qty::ZERO,
            state: OrderState::New,
            kind,
            limit,
            modifications: 0,
            attempts: 0,
            queued: false,
            timer: Timer::Idle,
            due: UnixNanos(0),
            after_cancel: AfterCancel::End,
            cancelling: false,
            reject: RejectReason::None,
            trigger: Price::ZERO,
            sent_trigger: Price::ZERO,
            retriggering: false,
        }
    }

    /// True when the slice needs nothing more: its child ended and nothing waits to
    /// place it again.
    pub fn is_done(&self) -> bool {
        self.state.is_terminal() && !self.queued && self.timer == Timer::Idle
    }
}

/// One live intent: its slices, what has filled, and what risk has been told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Order {
    /// The approved intent.
    pub intent: OrderIntent,
    /// Where the intent is in its life, as risk sees it.
    pub state: OrderState,
    /// Units filled so far, over every slice.
    pub cum_qty: Qty,
    /// Sum of `price × qty` over the fills so far, for the average fill price.
    pub filled_value: Money,
    /// The slices; the first `slice_count` are used.
    pub slices: [Slice; MAX_SLICES],
    /// Slices in use.
    pub slice_count: u8,
    /// The next child number to hand out.
    pub next_child: u8,
    /// Trade ids of the latest fills, to drop a fill reported twice.
    pub trades: [TradeId; TRADE_MEMORY],
    /// Where the next trade id is written in `trades`.
    pub trade_next: u8,
    /// Risk has been told the venue accepted it.
    pub acked: bool,
    /// A fill has been measured for latency.
    pub fill_seen: bool,
    /// A broker-side protective stop (`[order] protective_stop`), not an intent risk
    /// sent: no remainder policy works it, and once cancelled it is not placed again.
    pub protective: bool,
    /// When the order stage took the intent, by its latency clock: execution latencies
    /// at a broker are timed from here (zero when they are timed in market time).
    pub arrived: Stamp,
}

impl Order {
    /// The order for `intent` cut into `slices` of at most `slice_qty` (the last takes
    /// the rest), none placed yet.
    pub fn new(intent: OrderIntent, slice_qty: Qty, slices: usize, kind: OrderType) -> Order {
        let mut order = Order {
            intent,
            state: OrderState::New,
            cum_qty: Qty::ZERO,
            filled_value: Money::ZERO,
            slices: [Slice::new(0, Qty::ZERO, kind, intent.limit); MAX_SLICES],
            slice_count: slices.min(MAX_SLICES) as u8,
            next_child: 0,
            trades: [TradeId(0); TRADE_MEMORY],
            trade_next: 0,
            acked: false,
            fill_seen: false,
            protective: false,
            arrived: Stamp(0),
        };
        let mut left = intent.qty;
        for i in 0..usize::from(order.slice_count) {
            let qty = if i + 1 == usize::from(order.slice_count) {
                left
            } else {
                slice_qty.min(left)
            };
            left = left.saturating_sub(qty);
            let child = order.new_child();
            order.slices[i] = Slice::new(child, qty, kind, intent.limit);
        }
        order
    }

    /// A fresh child number.
    pub fn new_child(&mut self) -> u8 {
        let n = self.next_child;
        self.next_child = self.next_child.saturating_add(1);
        n
    }

    /// The slices in use.
    pub fn slices(&self) -> &[Slice] {
        &self.slices[..usize::from(self.slice_count)]
    }

    /// The index of the slice whose current child is `child`.
    pub fn slice_of(&self, child: u8) -> Option<usize> {
        self.slices().iter().position(|s| s.child == child)
    }

    /// True when `trade` was booked already; remembers it otherwise. Trade id zero
    /// (a venue that gives none) is never taken for a duplicate.
    pub fn seen_trade(&mut self, trade: TradeId) -> bool {
        if trade == TradeId(0) {
            return false;
        }
        if self.trades.contains(&trade) {
            return true;
        }
        self.trades[usize::from(self.trade_next)] = trade;
        self.trade_next = ((usize::from(self.trade_next) + 1) % TRADE_MEMORY) as u8;
        false
    }

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

    /// True when every slice is done.
    pub fn is_done(&self) -> bool {
        self.slices().iter().all(Slice::is_done)
    }
}

/// An intent the book has no slot for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookFull;

/// The order stage's live orders, under the risk stage's intent ids.
///
/// The intent id is the key of the intent in the risk stage's in-flight [`Slab`], so the
/// book stores each order under that same key ([`Slab::insert_at`]): an answer's
/// [`ClientOrderId`](crate::model::ClientOrderId) names its intent, and the intent's slot
/// finds the order in O(1). The slot is always free when an intent arrives: risk reuses
/// a slot only after it booked the intent's final report, and the order stage frees the
/// slot before it sends that report. The book is as large as risk's table, so it is never
/// fuller than risk lets it be; one order the venue never answers holds one slot.
#[derive(Debug, Clone)]
pub struct OrderBook {
    slab: Slab<Order>,
}

impl OrderBook {
    /// A book for intents in slots below `capacity`.
    pub fn new(capacity: usize) -> OrderBook {
        OrderBook {
            slab: Slab::with_capacity(capacity),
        }
    }

    /// Slots.
    pub fn capacity(&self) -> usize {
        self.slab.capacity()
    }

    /// Stores `order` under its intent id.
    ///
    /// # Errors
    /// [`BookFull`] when the id's slot is beyond the book or taken (risk and the book
    /// disagree about capacity).
    pub fn insert(&mut self, order: Order) -> Result<(), BookFull> {
        let key = Key::from_u64(order.intent.id.0);
        self.slab.insert_at(key, order).map_err(|_| BookFull)
    }

    /// The live order of intent `id`.
    pub fn get(&self, id: IntentId) -> Option<&Order> {
        self.slab.get(Key::from_u64(id.0))
    }

    /// The live order of intent `id`.
    pub fn get_mut(&mut self, id: IntentId) -> Option<&mut Order> {
        self.slab.get_mut(Key::from_u64(id.0))
    }

    /// Takes the order of intent `id` out of the book.
    pub fn remove(&mut self, id: IntentId) -> Option<Order> {
        self.slab.remove(Key::from_u64(id.0))
    }

    /// The live orders, in slot order (O(capacity)).
    pub fn iter(&self) -> impl Iterator<Item = &Order> {
        self.slab.iter().map(|(_, o)| o)
    }

    /// The live orders, mutably, in slot order (O(capacity)).
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut Order> {
        self.slab.iter_mut().map(|(_, o)| o)
    }

    /// Live orders.
    pub fn len(&self) -> usize {
        self.slab.len()
    }

    /// True when no order is live.
    pub fn is_empty(&self) -> bool {
        self.slab.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{InstrumentId, IntentReason, Side, Stamp, StrategyId};

    fn intent(id: IntentId, qty: u32) -> OrderIntent {
        OrderIntent {
            id,
            exchange_ts: UnixNanos(0),
            ingress: Stamp(0),
            limit: Price::ZERO,
            qty: Qty::new(qty),
            instrument: InstrumentId(0),
            strategy: StrategyId(0),
            side: Side::Buy,
            reason: IntentReason::Entry,
            reference: Price::ZERO,
        }
    }

    #[test]
    fn orders_live_under_their_intent_ids() {
        let mut book = OrderBook::new(2);
        let (a, b) = (IntentId::new(1, 0), IntentId::new(2, 1));
        book.insert(Order::new(
            intent(a, 10),
            Qty::new(10),
            1,
            OrderType::Market,
        ))
        .unwrap();
        book.insert(Order::new(
            intent(b, 10),
            Qty::new(10),
            1,
            OrderType::Market,
        ))
        .unwrap();
        let c = IntentId::new(3, 0);
        assert!(book
            .insert(Order::new(intent(c, 1), Qty::new(1), 1, OrderType::Market))
            .is_err());
        assert!(book.get_mut(c).is_none());
        book.remove(a).unwrap();
        book.insert(Order::new(intent(c, 1), Qty::new(1), 1, OrderType::Market))
            .unwrap();
        assert!(
            book.get(a).is_none(),
            "a stale id does not see the new order"
        );
        assert_eq!(book.len(), 2);
        let beyond = IntentId::new(4, 2);
        assert!(book
            .insert(Order::new(
                intent(beyond, 1),
                Qty::new(1),
                1,
                OrderType::Market
            ))
            .is_err());
    }

    #[test]
    fn slices_and_trades() {
        let mut o = Order::new(
            intent(IntentId::new(1, 0), 475),
            Qty::new(200),
            3,
            OrderType::Market,
        );
        let qty: Vec<u32> = o.slices().iter().map(|s| s.qty.get()).collect();
        assert_eq!(qty, [200, 200, 75]);
        assert_eq!(o.slice_of(2), Some(2));
        assert_eq!(o.new_child(), 3);
        assert!(!o.seen_trade(TradeId(5)));
        assert!(o.seen_trade(TradeId(5)));
        assert!(!o.seen_trade(TradeId(0)));
        assert!(!o.seen_trade(TradeId(0)));
    }
}
