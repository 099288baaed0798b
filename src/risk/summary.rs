//! What the risk stage reports at the end of a run: the book and the day's fills.

use crate::{
    charges::ChargeBreakdown,
    model::{InstrumentId, Money, Price, StrategyId},
};

pub use crate::model::FillRecord;

/// One position at the end of the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PositionSnapshot {
    /// Which instrument.
    pub instrument: InstrumentId,
    /// Owning strategy.
    pub strategy: StrategyId,
    /// Signed units: positive long, negative short.
    pub net: i64,
    /// Average entry price of the open units.
    pub avg_price: Price,
    /// Last mark.
    pub mark: Price,
    /// Realised P&L of this instrument over the day, before charges.
    pub realized: Money,
    /// Charges paid on its fills.
    pub charges: Money,
    /// Unrealised P&L of the open units at the last mark.
    pub unrealized: Money,
}

/// P&L and activity of one strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StrategyPnl {
    /// Which strategy.
    pub strategy: StrategyId,
    /// Realised P&L, before charges.
    pub realized: Money,
    /// Charges paid on its fills.
    pub charges: Money,
    /// Unrealised P&L at the last marks.
    pub unrealized: Money,
    /// Fills booked.
    pub fills: u64,
    /// Positions opened and fully closed again.
    pub round_trips: u64,
}

/// The risk stage's end-of-run book.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TradingSummary {
    /// Every fill in booking order.
    pub fills: Vec<FillRecord>,
    /// Fills that happened but did not fit the preallocated log (counted, not kept).
    pub fills_not_logged: u64,
    /// Every instrument that was traded, open or flat.
    pub positions: Vec<PositionSnapshot>,
    /// Per strategy.
    pub strategies: Vec<StrategyPnl>,
    /// Total realised P&L, before charges.
    pub realized: Money,
    /// Charges paid on every fill, by component.
    pub charges: ChargeBreakdown,
    /// Equity at the end: capital + realised net of charges + unrealised (with
    /// `risk.sizing_basis = "capital"` too).
    pub equity: Money,
    /// Total unrealised P&L.
    pub unrealized: Money,
    /// Signals refused, by reason.
    pub refusals: Vec<(&'static str, u64)>,
    /// Signals refused, by reason, per strategy (indexed by `StrategyId`).
    pub refusals_by_strategy: Vec<Vec<(&'static str, u64)>>,
    /// The stage's own exits sent, by kind (`stop_loss`, `trailing_stop`, `target`,
    /// `time_stop`, `square_off`, `emergency`; zeros included), each decision once.
    pub forced_exits: Vec<(&'static str, u64)>,
    /// Refused exits sent again.
    pub exit_retries: u64,
    /// Exits that failed `risk.exit_max_attempts` times (their positions were flagged).
    pub exits_failed: u64,
}
