use crate::model::{InstrumentId, Price, Stamp, StrategyId, UnixNanos};

/// The position a strategy wants in an instrument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Direction {
    /// Hold a long position.
    Long = 1,
    /// Hold a short position (intraday).
    Short = 2,
    /// Hold nothing.
    Flat = 3,
}

/// A strategy's wish: "be `direction` in `instrument`". The risk stage decides whether
/// and how much, so strategies never size orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct Signal {
    /// Market time of the tick that triggered it.
    pub exchange_ts: UnixNanos,
    /// Ingress stamp of that tick.
    pub ingress: Stamp,
    /// Reference price the strategy decided on.
    pub price: Price,
    /// Protective stop for an entry (zero: none, risk applies its default).
    pub stop: Price,
    /// Profit target for an entry (zero: none). With `risk.partial_exit` on, the risk
    /// stage books part of the position when the mark reaches it and trails the rest;
    /// exits ignore it.
    pub target: Price,
    /// Which instrument.
    pub instrument: InstrumentId,
    /// Which strategy.
    pub strategy: StrategyId,
    /// The wanted position.
    pub direction: Direction,
    /// Share of the full risk budget an entry is sized with, in percent
    /// ([`Signal::FULL_WEIGHT`] = full size). The signal stage sets it from the regime
    /// weights of `[strategy.regime_adaptive.weight]`; exits ignore it.
    pub weight_pct: u8,
}

impl Signal {
    /// The weight of a signal no regime table scales: the whole risk budget.
    pub const FULL_WEIGHT: u8 = 100;
}

// Room is left for nothing else: an ATR would need another 8 bytes, so the risk stage
// measures trailing distances in ATRs by the entry's stop distance instead.
const _: () = assert!(std::mem::size_of::<Signal>() <= 48);
