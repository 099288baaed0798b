//! Backtests: the engine's strategy code over historical bars, on one thread, in market
//! time taken from the data, with a simulated account; and the files that report them.
//!
//! ```text
//! CSV ──data──▶ OhlcvBar ──StrategyDriver (the real Strategy)──▶ Direction
//!                   │                                              │
//!                   └──────── FillAt (next open / close) ◀─────────┘
//!                                     │
//!                          Account (Sizing, commission) ──▶ trades, equity ──▶ output
//! ```
//!
//! | file | what |
//! | --- | --- |
//! | `data.rs` | [`read_ohlcv`]: OHLCV CSV rows, errors naming file, line and column |
//! | `strategy.rs` | [`StrategyDriver`]: a [`Strategy`](crate::signal::Strategy) fed bar by bar |
//! | `fill.rs` | [`FillAt`]: the next bar's open, or the deciding bar's close |
//! | `sizing.rs` | [`Sizing`]: all-in fraction of equity, as backtesting.py sizes |
//! | `account.rs` | [`Account`]: cash, the open trade, commission, closed trades |
//! | `stats.rs` | [`Stats`]: what `stats.json` and `report.md` say |
//! | `output.rs` | [`write_outputs`]: `trades.csv`, `equity.csv`, `stats.json`, `report.md`, the plots |
//! | `session.rs` | [`run_session`]: synthetic days through the whole pipeline, one thread |
//! | `session_stats.rs` | [`SessionStats`]: a session's trades summed up, its daily curve measured |
//! | `session_output.rs` | [`write_session`]: the trade report's files, `equity.csv`, `stats.json` |
//! | `compare.rs` | [`variants`], [`compare_table`]: each strategy alone and all together |
//!
//! Over bars, between the strategy and the account sits no risk or order stage yet:
//! the signals go straight to the all-in sizing, which is the `--risk none` profile the
//! validation against backtesting.py needs (every output says so). Over synthetic days
//! ([`run_session`]) the whole pipeline runs, risk and order stages included, with the
//! configured risk profile.

mod account;
mod compare;
mod data;
mod fill;
mod output;
mod session;
mod session_output;
mod session_stats;
mod sizing;
mod stats;
mod strategy;

pub use account::{Account, ClosedTrade, OpenTrade};
pub use compare::{compare_csv, compare_markdown, compare_table, variants, CompareRow};
pub use data::{read_ohlcv, DataError, OhlcvBar};
pub use fill::FillAt;
pub use output::write_outputs;
pub use output::TRADES_HEADER;
pub use session::{
    day_config, day_seed, plan, run_session, trading_days, DayOutcome, SessionDay, SessionOutcome,
    SlippageTotal,
};
pub use session_output::{equity_csv, title, write_session, CONFIGURED_RISK};
pub use session_stats::SessionStats;
pub use sizing::{py_floordiv, Sizing, FULL_EQUITY};
pub use stats::{RunInfo, Stats};
pub use strategy::{StrategyDriver, STRATEGIES};

use crate::model::Direction;

/// How a backtest trades, besides the strategy.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Starting cash.
    pub cash: f64,
    /// Commission, a fraction of each fill's notional, on entry and on exit.
    pub commission: f64,
    /// How entries are sized.
    pub sizing: Sizing,
    /// Where market orders fill.
    pub fill: FillAt,
    /// Close a trade still open at the end (at the last bar's open, as backtesting.py's
    /// `finalize_trades` does), so it counts among the trades.
    pub finalize: bool,
}

/// What a backtest produced.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Closed trades, in closing order.
    pub trades: Vec<ClosedTrade>,
    /// The trade still open at the end, if any.
    pub open_at_end: Option<OpenTrade>,
    /// Equity per bar, marked at the bar's close after its fills.
    pub equity: Vec<f64>,
    /// The first bar on which the strategy asked for a position, if any.
    pub first_signal_bar: Option<usize>,
    /// A decision on the last bar that the data ended before filling (next-open fills).
    pub unfilled_at_end: Option<Direction>,
    /// Entries cancelled for want of a whole unit.
    pub skipped_entries: u64,
}

/// Runs `strategy` over `bars`, as backtesting.py's event loop does.
///
/// On each bar, in order: the decision of the bar before fills by the [`FillAt`] rule
/// (at this open, or booked on the bar before at its close); the strategy sees the
/// closed bar and its decision waits for the next bar; the equity is marked at the
/// close. With `settings.finalize`, the last bar is processed again with a close of the
/// open trade queued in front of any waiting decision, so the trade closes by the same
/// rule (at the last open, with next-open fills) and a waiting decision fills after it
/// and stays open; the last equity is marked again.
pub fn run(bars: &[OhlcvBar], strategy: &mut StrategyDriver, settings: &Settings) -> Outcome {
    let mut account = Account::new(settings.cash, settings.commission, settings.sizing);
    let mut equity = Vec::with_capacity(bars.len());
    let mut pending: Option<Direction> = None;
    let mut first_signal_bar = None;
    for (i, bar) in bars.iter().enumerate() {
        if let (Some(target), Some((at, price))) = (pending.take(), settings.fill.fill(bars, i)) {
            account.target(target, at, price);
        }
        if let Some(target) = strategy.on_bar(bar) {
            first_signal_bar.get_or_insert(i);
            pending = Some(target);
        }
        equity.push(account.equity(bar.close_f64()));
    }
    if let (true, Some(last)) = (settings.finalize, bars.len().checked_sub(1)) {
        if let Some((at, price)) = settings.fill.fill(bars, last) {
            account.close(at, price);
            if let Some(target) = pending.take() {
                account.target(target, at, price);
            }
        }
        if let Some(slot) = equity.last_mut() {
            *slot = account.equity(bars[last].close_f64());
        }
    }
    Outcome {
        open_at_end: account.open_trade().copied(),
        skipped_entries: account.skipped_entries(),
        trades: account.into_closed(),
        equity,
        first_signal_bar,
        unfilled_at_end: pending,
    }
}
