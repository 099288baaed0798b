//! Orders the paper exchange works: where each stands (in flight, acked, live), its
//! estimated place in the price-time queue, and how a quote or trade fills it.
//!
//! Ticks carry only the touch, so the queue is an estimate:
//!
//! - A limit order that goes live at the touch on its side has the displayed quantity
//!   there ahead of it; one that improves the touch has nothing ahead; one behind the
//!   touch learns its queue when a quote first shows its price at the touch.
//! - A trade at the limit price uses up the queue ahead first; what it traded beyond
//!   that fills the order.
//! - A trade strictly through the limit (a buy's limit above the trade) means every order
//!   at the limit traded: the order fills, up to that trade's size.
//! - A quote whose touch reaches a resting limit (an ask at or below a buy's limit)
//!   fills it at the limit, up to the displayed quantity.
//!
//! Resting fills are at the limit price. An order that is marketable when it goes live
//! (or after a modification) takes liquidity and fills at the touch.

use crate::{
    model::{ClientOrderId, Price, Qty, Side, Tick, TickKind},
    order::venue::{OrderType, VenueOrder},
};

/// Queue ahead not known yet (the order's price is behind the touch).
pub(super) const UNKNOWN_QUEUE: u64 = u64::MAX;

/// Where an order stands at the venue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    /// Sent; the venue has not seen it yet.
    InFlight,
    /// Acked, not yet able to trade (its fill latency runs).
    Acked,
    /// Can trade.
    Live,
}

/// The touch of one instrument as last quoted, and its band reference.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Touch {
    pub bid: Price,
    pub ask: Price,
    pub bid_qty: u32,
    pub ask_qty: u32,
    pub last: Price,
    pub exchange_ts: crate::model::UnixNanos,
    /// The day's reference price for the price band: the first trade or quote seen.
    pub reference: Price,
}

impl Touch {
    /// The price and displayed quantity an order on `side` trades against.
    pub(super) fn opposite(&self, side: Side) -> (Price, u32) {
        match side {
            Side::Buy => (self.ask, self.ask_qty),
            Side::Sell => (self.bid, self.bid_qty),
        }
    }

    /// The price and displayed quantity on `side`'s own side of the book.
    pub(super) fn same(&self, side: Side) -> (Price, u32) {
        match side {
            Side::Buy => (self.bid, self.bid_qty),
            Side::Sell => (self.ask, self.ask_qty),
        }
    }
}

/// One order the venue works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Working {
    /// The order as it stands now (modifications applied).
    pub order: VenueOrder,
    pub filled: Qty,
    pub phase: Phase,
    /// Nanoseconds from the ack until the order can trade.
    pub fill_after: u64,
    /// A stop order whose trigger was reached (it now works as market or limit).
    pub triggered: bool,
    /// The touch when it went live (or triggered): market protection counts from here.
    pub reference: Price,
    /// Estimated quantity ahead of it at its limit price.
    pub queue_ahead: u64,
    /// True until its first matching pass: it takes liquidity at the touch.
    pub aggressor: bool,
    pub modifications: u32,
    /// The ack is held back until the first fill (the reorder fault).
    pub held_ack: bool,
}

impl Working {
    pub(super) fn new(order: VenueOrder, fill_after: u64) -> Working {
        Working {
            order,
            filled: Qty::ZERO,
            phase: Phase::InFlight,
            fill_after,
            triggered: false,
            reference: Price::ZERO,
            queue_ahead: UNKNOWN_QUEUE,
            aggressor: true,
            modifications: 0,
            held_ack: false,
        }
    }

    pub(super) fn leaves(&self) -> Qty {
        self.order.qty.saturating_sub(self.filled)
    }

    /// The price limit it trades at now: the limit, or for a market order the market
    /// protection bound from its reference (`None`: not trading yet, an untriggered stop).
    fn bound(&self, tick: Price) -> Option<Price> {
        match self.order.kind {
            OrderType::Limit => Some(self.order.limit),
            OrderType::StopLimit => self.triggered.then_some(self.order.limit),
            OrderType::Market => Some(protection_bound(
                self.order.side,
                self.reference,
                self.order.protection_bps,
                tick,
            )),
            OrderType::StopMarket => self.triggered.then(|| {
                protection_bound(
                    self.order.side,
                    self.reference,
                    self.order.protection_bps,
                    tick,
                )
            }),
        }
    }

    fn is_market_like(&self) -> bool {
        matches!(self.order.kind, OrderType::Market | OrderType::StopMarket)
    }

    /// One matching pass against the instrument's `touch` (already updated by `tick`,
    /// when a tick caused the pass). `avail` is what the touch still displays to this
    /// pass, `[bid_qty, ask_qty]`, shared by the orders matched against one tick.
    /// Returns the fill, if any; the caller books it.
    pub(super) fn try_fill(
        &mut self,
        touch: &Touch,
        tick: Option<&Tick>,
        avail: &mut [u32; 2],
        partial: bool,
        tick_size: Price,
    ) -> Option<(Price, Qty)> {
        let side = self.order.side;
        let mut trade = tick
            .filter(|t| t.kind == TickKind::Trade && t.last.is_positive())
            .map(|t| (t.last, t.last_qty));
        if matches!(
            self.order.kind,
            OrderType::StopMarket | OrderType::StopLimit
        ) && !self.triggered
        {
            let (last, _) = trade?;
            let reached = match side {
                Side::Buy => last >= self.order.trigger,
                Side::Sell => last <= self.order.trigger,
            };
            if !reached {
                return None;
            }
            self.triggered = true;
            self.aggressor = true;
            // The order enters the book after the trade that triggered it: that trade
            // does not count against its limit.
            trade = None;
            let (opposite, _) = touch.opposite(side);
            self.reference = if opposite.is_positive() {
                opposite
            } else {
                last
            };
        }
        let bound = self.bound(tick_size)?;
        let leaves = self.leaves();
        let aggressor = std::mem::replace(&mut self.aggressor, false);
        let within = |price: Price| match side {
            Side::Buy => price <= bound,
            Side::Sell => price >= bound,
        };
        // Against the touch.
        let (price, displayed) = touch.opposite(side);
        let slot = match side {
            Side::Buy => 1,
            Side::Sell => 0,
        };
        if price.is_positive() && within(price) {
            let qty = take(leaves, displayed, &mut avail[slot], partial);
            if !qty.is_zero() {
                let at = if aggressor || self.is_market_like() {
                    price
                } else {
                    self.order.limit
                };
                return Some((at, qty));
            }
            return None;
        }
        if self.is_market_like() {
            return None;
        }
        // A resting limit: trades at or through its price, then the queue estimate.
        let limit = self.order.limit;
        let mut fill = None;
        if let Some((last, last_qty)) = trade {
            let through = match side {
                Side::Buy => last < limit,
                Side::Sell => last > limit,
            };
            if through {
                fill = Some(up_to(leaves, u64::from(last_qty), partial));
                self.queue_ahead = 0;
            } else if last == limit && self.queue_ahead != UNKNOWN_QUEUE {
                let traded = u64::from(last_qty);
                if traded > self.queue_ahead {
                    let beyond = traded - self.queue_ahead;
                    self.queue_ahead = 0;
                    fill = Some(up_to(leaves, beyond, partial));
                } else {
                    self.queue_ahead -= traded;
                }
            }
        }
        self.learn_queue(touch);
        fill.filter(|q| !q.is_zero()).map(|q| (limit, q))
    }

    /// Sets the queue estimate from the quote: the displayed quantity when the limit is
    /// at the touch and the queue is not known yet, nothing when the limit improves it.
    pub(super) fn learn_queue(&mut self, touch: &Touch) {
        let (best, displayed) = touch.same(self.order.side);
        let limit = self.order.limit;
        let improves = match self.order.side {
            Side::Buy => limit > best,
            Side::Sell => !best.is_positive() || limit < best,
        };
        if improves {
            self.queue_ahead = 0;
        } else if limit == best && self.queue_ahead == UNKNOWN_QUEUE {
            self.queue_ahead = u64::from(displayed);
        }
    }
}

/// What a marketable order takes from a touch displaying `displayed`, of which `avail`
/// is left this pass. Zero displayed means the feed does not say (unknown depth): the
/// order fills in full, as it does with partial fills off.
fn take(leaves: Qty, displayed: u32, avail: &mut u32, partial: bool) -> Qty {
    if !partial || displayed == 0 {
        return leaves;
    }
    let qty = leaves.get().min(*avail);
    *avail -= qty;
    Qty::new(qty)
}

/// At most `size` of `leaves`; all of it when partial fills are off or the size is not
/// reported.
fn up_to(leaves: Qty, size: u64, partial: bool) -> Qty {
    if !partial || size == 0 {
        return leaves;
    }
    Qty::new(u64::from(leaves.get()).min(size) as u32)
}

/// The furthest price a market order on `side` may fill at: `reference` moved by
/// `bps` basis points against the order, rounded to the tick inwards.
pub(super) fn protection_bound(side: Side, reference: Price, bps: u16, tick: Price) -> Price {
    let raw = i128::from(reference.raw());
    let bps = i128::from(bps);
    match side {
        Side::Buy => {
            let up = raw * (10_000 + bps) / 10_000;
            Price::from_raw(up.min(i128::from(i64::MAX)) as i64).round_down_to_tick(tick)
        }
        Side::Sell => {
            // Rounded up: the bound never goes below what the protection allows.
            let down = (raw * (10_000 - bps.min(10_000)) + 9_999).div_euclid(10_000);
            Price::from_raw(down.max(0) as i64).round_up_to_tick(tick)
        }
    }
}

/// Working orders in a preallocated slab, with a count per instrument so a quote for an
/// instrument with nothing working costs one comparison.
#[derive(Debug, Clone)]
pub(super) struct Book {
    slots: Vec<Option<Working>>,
    free: Vec<u32>,
    /// Slots below this index may be in use.
    high: usize,
    per_instrument: Vec<u32>,
    len: usize,
}

impl Book {
    pub(super) fn new(capacity: usize, instruments: usize) -> Book {
        Book {
            slots: vec![None; capacity],
            free: (0..capacity as u32).rev().collect(),
            high: 0,
            per_instrument: vec![0; instruments],
            len: 0,
        }
    }

    /// Takes a slot for `working`; `None` when the book is full.
    pub(super) fn insert(&mut self, working: Working) -> Option<u32> {
        let slot = self.free.pop()?;
        let index = slot as usize;
        self.slots[index] = Some(working);
        self.high = self.high.max(index + 1);
        if let Some(n) = self
            .per_instrument
            .get_mut(working.order.instrument.index())
        {
            *n += 1;
        }
        self.len += 1;
        Some(slot)
    }

    /// The order in `slot`, if it is still `id`.
    pub(super) fn get_mut(&mut self, slot: u32, id: ClientOrderId) -> Option<&mut Working> {
        self.slots
            .get_mut(slot as usize)?
            .as_mut()
            .filter(|w| w.order.id == id)
    }

    /// The order in `slot`, whoever it is.
    pub(super) fn at(&mut self, slot: usize) -> Option<&mut Working> {
        self.slots.get_mut(slot)?.as_mut()
    }

    pub(super) fn remove(&mut self, slot: u32) -> Option<Working> {
        let working = self.slots.get_mut(slot as usize)?.take()?;
        if let Some(n) = self
            .per_instrument
            .get_mut(working.order.instrument.index())
        {
            *n = n.saturating_sub(1);
        }
        self.free.push(slot);
        self.len -= 1;
        while self.high > 0 && self.slots[self.high - 1].is_none() {
            self.high -= 1;
        }
        Some(working)
    }

    /// The slot of order `id`.
    pub(super) fn find(&self, id: ClientOrderId) -> Option<u32> {
        self.slots[..self.high]
            .iter()
            .position(|w| w.is_some_and(|w| w.order.id == id))
            .map(|i| i as u32)
    }

    /// Slots that may be in use: `0..high()`.
    pub(super) fn high(&self) -> usize {
        self.high
    }

    pub(super) fn working_on(&self, instrument: usize) -> u32 {
        self.per_instrument.get(instrument).copied().unwrap_or(0)
    }

    pub(super) fn len(&self) -> usize {
        self.len
    }
}
