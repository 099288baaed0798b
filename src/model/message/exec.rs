use crate::model::{
    InstrumentId, IntentId, Price, Qty, Side, Stamp, StrategyId, TradeId, UnixNanos,
};

/// What happened to an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ExecKind {
    /// The venue accepted the order; it is working.
    Accepted = 1,
    /// Part of the order filled; more may follow.
    PartialFill = 2,
    /// The order filled completely (terminal).
    Filled = 3,
    /// The order was refused (terminal); see [`RejectReason`].
    Rejected = 4,
    /// The order was cancelled with `leaves` unfilled (terminal).
    Cancelled = 5,
    /// The venue ended the order unfilled at its validity's end, e.g. a day order at the
    /// close (terminal).
    Expired = 6,
}

impl ExecKind {
    /// True when no further report will come for the order.
    pub const fn is_terminal(self) -> bool {
        matches!(
            self,
            ExecKind::Filled | ExecKind::Rejected | ExecKind::Cancelled | ExecKind::Expired
        )
    }
}

/// Why an order was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum RejectReason {
    /// Not rejected.
    None = 0,
    /// The paper exchange had no quote on the needed side.
    NoQuote = 1,
    /// Zero quantity.
    ZeroQty = 2,
    /// The gateway's rate limit or capacity refused it.
    Throttled = 3,
    /// The broker or venue refused it.
    Venue = 4,
    /// A limit order that would not fill at once: the paper exchange does not rest
    /// orders yet, so a limit buy below the ask (or sell above the bid) is refused.
    NotMarketable = 5,
    /// The order named an instrument the order stage does not know.
    UnknownInstrument = 6,
    /// The venue's or broker's order-rate limit refused it (retriable after a wait).
    RateLimited = 7,
    /// The broker could not be reached or did not answer in time (retriable).
    Network = 8,
    /// The price is outside the day's price band or circuit limit (retriable after
    /// re-pricing inside the band).
    PriceBand = 9,
    /// Not enough margin or funds (not retriable).
    Margin = 10,
    /// Larger than the instrument's freeze quantity (not retriable as sent: slice it).
    FreezeQty = 11,
    /// A market or stop-market order without market protection (not retriable as sent).
    MarketProtection = 12,
    /// The venue refused the order's fields: lot size, tick size, product (not retriable).
    Invalid = 13,
    /// The order was modified as often as the venue allows (cancel and re-place instead).
    ModifyLimit = 14,
}

impl RejectReason {
    /// A short lowercase name for reports.
    pub const fn as_str(self) -> &'static str {
        match self {
            RejectReason::None => "none",
            RejectReason::NoQuote => "no_quote",
            RejectReason::ZeroQty => "zero_qty",
            RejectReason::Throttled => "throttled",
            RejectReason::Venue => "venue",
            RejectReason::NotMarketable => "not_marketable",
            RejectReason::UnknownInstrument => "unknown_instrument",
            RejectReason::RateLimited => "rate_limited",
            RejectReason::Network => "network",
            RejectReason::PriceBand => "price_band",
            RejectReason::Margin => "margin",
            RejectReason::FreezeQty => "freeze_qty",
            RejectReason::MarketProtection => "market_protection",
            RejectReason::Invalid => "invalid",
            RejectReason::ModifyLimit => "modify_limit",
        }
    }

    /// True when sending the same order again later may succeed: the refusal was about
    /// timing or a price that moved, not about the order itself.
    pub const fn is_retriable(self) -> bool {
        matches!(
            self,
            RejectReason::RateLimited
                | RejectReason::Network
                | RejectReason::PriceBand
                | RejectReason::NoQuote
                | RejectReason::NotMarketable
                | RejectReason::Throttled
        )
    }

    /// Every reason, in code order (for per-reason counters).
    pub const ALL: [RejectReason; 15] = [
        RejectReason::None,
        RejectReason::NoQuote,
        RejectReason::ZeroQty,
        RejectReason::Throttled,
        RejectReason::Venue,
        RejectReason::NotMarketable,
        RejectReason::UnknownInstrument,
        RejectReason::RateLimited,
        RejectReason::Network,
        RejectReason::PriceBand,
        RejectReason::Margin,
        RejectReason::FreezeQty,
        RejectReason::MarketProtection,
        RejectReason::Invalid,
        RejectReason::ModifyLimit,
    ];
}

/// The order stage's answer to an intent, sent back to the risk stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct ExecReport {
    /// The intent answered.
    pub intent: IntentId,
    /// Market time of the report (the venue's time for a fill).
    pub exchange_ts: UnixNanos,
    /// The ingress stamp carried by the intent.
    pub ingress: Stamp,
    /// Price of this fill (zero when nothing filled).
    pub last_price: Price,
    /// Which instrument.
    pub instrument: InstrumentId,
    /// Quantity of this fill.
    pub last_qty: Qty,
    /// Total filled so far.
    pub cum_qty: Qty,
    /// Still open (zero once terminal).
    pub leaves_qty: Qty,
    /// The owning strategy.
    pub strategy: StrategyId,
    /// Buy or sell.
    pub side: Side,
    /// What happened.
    pub kind: ExecKind,
    /// Why, when rejected.
    pub reject: RejectReason,
    /// The venue's trade id of this fill (zero when nothing filled): a fill seen twice
    /// is the same trade, so it is booked once.
    pub trade: TradeId,
}

const _: () = assert!(std::mem::size_of::<ExecReport>() <= 64);
