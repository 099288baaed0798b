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
//! | `data.rs` | [`OhlcvReader`]: OHLCV CSV rows as a stream, errors naming file, line and column |
//! | `source.rs` | [`BarSource`]: a CSV streamed, or Kite's candles JSON |
//! | `bar_run.rs` | [`run_stream`]: the event loop, one row at a time; [`Outcome`] |
//! | `strategy.rs` | [`StrategyDriver`]: a [`Strategy`](crate::signal::Strategy) fed bar by bar |
//! | `fill.rs` | [`FillAt`]: the next bar's open, or the deciding bar's close |
//! | `sizing.rs` | [`Sizing`]: all-in fraction of equity, as backtesting.py sizes |
//! | `account.rs` | [`Account`]: cash, the open trade, commission, closed trades |
//! | `stats.rs` | [`Stats`]: what `stats.json` and `report.md` say |
//! | `output.rs` | [`write_outputs`]: `trades.csv`, `equity.csv`, `stats.json`, `report.md`, the plots |
//! | `session.rs` | [`run_session`]: synthetic days through the whole pipeline, one thread |
//! | `bar_events.rs` | [`BarEvents`]: each bar as four trade ticks, a [`MarketSource`](crate::feed::MarketSource) |
//! | `bar_session.rs` | [`BarDays`], [`run_bar_days`]: a bar file's days through the whole pipeline |
//! | `session_stats.rs` | [`SessionStats`]: a session's trades summed up, its daily curve measured |
//! | `session_output.rs` | [`write_session`]: the trade report's files, `equity.csv`, `stats.json` |
//! | `compare.rs` | [`variants`], [`compare_table`]: each strategy alone and all together |
//! | `day_events.rs` | [`DayEvents`], [`DayReplay`]: a synthetic day generated once, played again |
//! | `shared_days.rs` | [`run_shared_days`]: several sessions over the same days, each day generated once; [`run_session_on`]: one, the next day generated while a day is traded |
//! | `sweep.rs` | [`SweepAxis`], [`grid`], [`Shard`], [`merge`]: parameter sweeps and their table |
//! | `parallel.rs` | [`parallel_map`]: independent runs over cores, results in order |
//! | `walk_forward.rs` | [`walk_forward()`]: fit on a training window, judge on the next, roll on |
//!
//! Over bars, two risk profiles. `configured` (the default over intraday bars): the bars
//! are played as market events ([`BarEvents`]) through the whole pipeline, day by day
//! ([`run_bar_days`]), so the configured risk stage sizes, caps, stops and squares off,
//! and the paper exchange fills. `none` (asked for, implied by `--sizing equity`, and the
//! only profile daily bars can run, having no intraday path; [`holds_intraday_bars`]
//! tells them apart): between the strategy and the account sits no risk or order stage,
//! the signals go straight to the all-in sizing the validation against backtesting.py
//! needs. Over synthetic days ([`run_session`]) the whole pipeline runs, always with the
//! configured risk profile. Every output says which profile ran, and a sweep
//! ([`grid`]) runs either.

mod account;
mod bar_events;
mod bar_run;
mod bar_session;
mod compare;
mod data;
mod day_events;
mod fill;
mod output;
mod parallel;
mod session;
mod session_output;
mod session_stats;
mod shared_days;
mod sizing;
mod source;
mod stats;
mod strategy;
mod sweep;
mod walk_forward;

pub use account::{Account, ClosedTrade, OpenTrade};
pub use bar_events::{bar_path, bar_ticks, BarEvents, LEGS};
pub use bar_run::{
    run, run_stream, BarRows, BarStamp, CurveSummary, EquityCsv, EquitySink, NoEquityRows, Outcome,
    TradeTimes, EQUITY_HEADER,
};
pub use bar_session::{bar_config, holds_intraday_bars, run_bar_days, BarDays};
pub use compare::{compare_csv, compare_markdown, compare_table, variants, CompareRow};
pub use data::{read_ohlcv, DataError, OhlcvBar, OhlcvReader};
pub use day_events::{DayEvents, DayReplay};
pub use fill::FillAt;
pub use output::TRADES_HEADER;
pub use output::{trades_csv, write_outputs, Staging};
pub use parallel::{available_jobs, parallel_map};
pub use session::{
    day_config, day_seed, plan, run_days, run_session, trading_days, DayOutcome, SessionDay,
    SessionMarket, SessionOutcome, SlippageTotal,
};
pub use session_output::{equity_csv, title, write_session, CONFIGURED_RISK};
pub use session_stats::SessionStats;
pub use shared_days::{run_session_on, run_shared_days, WINDOW};
pub use sizing::{py_floordiv, Sizing, FULL_EQUITY};
pub use source::{read_kite_candles, BarSource};
pub use stats::{RunInfo, Stats};
pub use strategy::{StrategyDriver, STRATEGIES};
pub use sweep::{
    figure_cells, grid, merge, read_sweep, session_figure_cells, sweep_csv, sweep_header,
    sweep_info, sweep_markdown, write_sweep, Shard, SweepAxis, SweepRow, FIGURES, MAX_POINTS,
};
pub use walk_forward::{
    walk_forward, walk_forward_csv, walk_forward_markdown, Fold, FoldFit, WalkForward,
    WalkForwardOutcome, MIN_WEIGHT_PCT,
};

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
