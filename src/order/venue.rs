//! What the order stage and a venue say to each other: orders as the venue takes them,
//! and the venue's answers.
//!
//! An [`OrderIntent`](crate::model::OrderIntent) is what risk wants done; a
//! [`VenueOrder`] is one order a venue works. They differ because one intent can become
//! several venue orders (freeze-quantity slices, a re-placed order after the
//! modification budget ran out), and a venue order carries what the exchange needs and
//! risk does not decide: order type, product, market protection, the algo tag.

use crate::model::{
    ClientOrderId, InstrumentId, Price, Qty, RejectReason, Side, TradeId, UnixNanos,
};

/// How the venue prices an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum OrderType {
    /// At the best available prices, bounded by market protection.
    Market,
    /// At the limit price or better; rests when not marketable.
    Limit,
    /// Becomes a market order when the last trade reaches the trigger price (SL-M).
    StopMarket,
    /// Becomes a limit order when the last trade reaches the trigger price (SL).
    StopLimit,
}

/// The product an order is placed under (Zerodha's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(u8)]
pub enum Product {
    /// Intraday, squared off by the broker before the close (15:20 equity, 15:25 F&O).
    #[default]
    Mis,
    /// Equity delivery.
    Cnc,
    /// Derivatives carried overnight.
    Nrml,
}

impl Product {
    /// The name brokers use (`MIS`, `CNC`, `NRML`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Product::Mis => "MIS",
            Product::Cnc => "CNC",
            Product::Nrml => "NRML",
        }
    }
}

/// One order as a venue works it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VenueOrder {
    /// The order stage's id for it; every answer names it.
    pub id: ClientOrderId,
    /// Market time it was sent.
    pub sent_ts: UnixNanos,
    /// Limit price (`Limit`, `StopLimit`); zero otherwise.
    pub limit: Price,
    /// Trigger price (`StopMarket`, `StopLimit`); zero otherwise.
    pub trigger: Price,
    /// Units.
    pub qty: Qty,
    /// Which instrument.
    pub instrument: InstrumentId,
    /// Market protection in basis points for `Market` and `StopMarket` orders: the
    /// furthest from the reference price a fill may go (zero: none, which exchanges
    /// refuse for market orders).
    pub protection_bps: u16,
    /// Buy or sell.
    pub side: Side,
    /// How it is priced.
    pub kind: OrderType,
    /// Intraday or carried.
    pub product: Product,
}

/// An order a venue works already, placed before a restart, that a resumed day takes
/// over under the same client id instead of placing it again (see `order::takeover`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TakeOver {
    /// The order as it was placed (its id is the client id the venue's answers name).
    pub order: VenueOrder,
    /// The venue's own id of it (a broker's order id).
    pub venue_id: u64,
    /// Units of it already reported as filled (the journal holds them): only fills
    /// beyond these are reported.
    pub filled: Qty,
    /// The average price of those units.
    pub avg_price: Price,
}

/// A change to a working order: the new quantity and prices (unchanged fields repeat
/// the order's current values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Amend {
    /// New total quantity (at least what has filled).
    pub qty: Qty,
    /// New limit price.
    pub limit: Price,
    /// New trigger price.
    pub trigger: Price,
}

/// What a venue says about one of its orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum VenueEvent {
    /// Accepted and working.
    Accepted,
    /// Some units traded (`last_qty` at `last_price`, trade id `trade`).
    Fill,
    /// Refused (terminal), see `reject`.
    Rejected,
    /// Cancelled, on request or by the venue (terminal).
    Cancelled,
    /// Ended at its validity's end unfilled (terminal).
    Expired,
    /// A modification took effect.
    Modified,
    /// A modification was refused (the order works on unchanged), see `reject`.
    ModifyRejected,
    /// A cancel request was refused (the order works on, or has already ended).
    CancelRejected,
}

/// One answer from a venue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VenueReport {
    /// The order it is about.
    pub order: ClientOrderId,
    /// Market time of the event at the venue.
    pub exchange_ts: UnixNanos,
    /// Fill price (fills only).
    pub last_price: Price,
    /// Fill quantity (fills only).
    pub last_qty: Qty,
    /// Trade id (fills only): a fill reported twice carries the same id.
    pub trade: TradeId,
    /// What happened.
    pub event: VenueEvent,
    /// Why, for refusals.
    pub reject: RejectReason,
    /// The venue's own id of the order, on a broker's acceptance (Kite's order ids are
    /// numeric); zero when the venue names none (a paper exchange) or on other answers.
    /// The order stage journals it, so a resumed day takes the order over instead of
    /// placing it again (see `order::takeover`).
    pub venue_id: u64,
}

impl VenueReport {
    /// A report of `event` about `order` at `exchange_ts`, with no fill and no reason.
    pub const fn new(order: ClientOrderId, exchange_ts: UnixNanos, event: VenueEvent) -> Self {
        VenueReport {
            order,
            exchange_ts,
            last_price: Price::ZERO,
            last_qty: Qty::ZERO,
            trade: TradeId(0),
            event,
            reject: RejectReason::None,
            venue_id: 0,
        }
    }

    /// A refusal of `order` for `reason`.
    pub const fn rejected(
        order: ClientOrderId,
        exchange_ts: UnixNanos,
        reason: RejectReason,
    ) -> Self {
        VenueReport {
            reject: reason,
            ..VenueReport::new(order, exchange_ts, VenueEvent::Rejected)
        }
    }

    /// A fill of `qty` at `price`, trade `trade`.
    pub const fn fill(
        order: ClientOrderId,
        exchange_ts: UnixNanos,
        price: Price,
        qty: Qty,
        trade: TradeId,
    ) -> Self {
        VenueReport {
            last_price: price,
            last_qty: qty,
            trade,
            ..VenueReport::new(order, exchange_ts, VenueEvent::Fill)
        }
    }
}
