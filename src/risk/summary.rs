//! What the risk stage reports at the end of a run: the book and the day's fills.

use crate::{
    charges::ChargeBreakdown,
    model::{InstrumentId, IntentReason, Money, Price, StateReason, StrategyId, TradingState},
    risk::{
        exit::{ForcedExits, FORCED_KINDS},
        limits::{RiskEvents, StateChange},
    },
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
    /// Engine exits (stops, targets, square-off, retries) that waited because trading
    /// was halted with `risk.halt_exits = "manual"`: each time one was due and held.
    pub exits_held_by_halt: u64,
    /// Adds to winning positions sent (`risk.scale_in`).
    pub scale_ins: u64,
    /// Adds to winning positions that a check refused.
    pub scale_ins_refused: u64,
    /// State changes, limit hits and forced exits.
    pub risk_events: RiskEventSummary,
}

/// The risk events of a run, for the summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RiskEventSummary {
    /// The trading state at the end, and why.
    pub final_state: TradingState,
    /// Why the final state is what it is.
    pub final_reason: StateReason,
    /// Every logged change of trading state, in order.
    pub state_changes: Vec<StateChange>,
    /// All changes, including any beyond the log.
    pub state_change_count: u64,
    /// Days the daily loss limit was hit.
    pub daily_loss_hits: u64,
    /// Drawdown warnings.
    pub drawdown_warnings: u64,
    /// Drawdown halts.
    pub drawdown_halts: u64,
    /// Exits the risk stage sent on its own or for the operator, by reason name (the
    /// forced kinds of [`FORCED_KINDS`], each decision once as in
    /// [`TradingSummary::forced_exits`], then `manual`), those that happened.
    pub forced_exits: Vec<(&'static str, u64)>,
}

impl RiskEventSummary {
    /// The summary of `events` and the stage's `forced` exits, ending in `state` for
    /// `reason` (off the hot path).
    pub fn of(
        events: &RiskEvents,
        forced: &ForcedExits,
        state: TradingState,
        reason: StateReason,
    ) -> RiskEventSummary {
        RiskEventSummary {
            final_state: state,
            final_reason: reason,
            state_changes: events.changes().to_vec(),
            state_change_count: events.change_count(),
            daily_loss_hits: events.daily_loss_hits,
            drawdown_warnings: events.drawdown_warnings,
            drawdown_halts: events.drawdown_halts,
            forced_exits: FORCED_KINDS
                .iter()
                .map(|&r| (r.as_str(), forced.get(r)))
                .chain([(
                    IntentReason::Manual.as_str(),
                    events.forced_exits(IntentReason::Manual),
                )])
                .filter(|(_, n)| *n > 0)
                .collect(),
        }
    }
}
