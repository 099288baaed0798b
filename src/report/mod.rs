//! Performance reports: the figures a trader judges a strategy by, computed the way the
//! reference libraries compute them, so a number here means what it means elsewhere.
//!
//! | file | what |
//! | --- | --- |
//! | `curve.rs` | [`EquityCurve`]: a daily equity curve read from `date,equity` CSV, its returns |
//! | `metrics.rs` | [`RiskMetrics`]: Sharpe, Sortino, drawdown, CAGR and the rest, as empyrical defines them |
//! | `drawdown.rs` | [`Drawdowns`]: every under-water episode, its depth, duration and recovery |
//! | `trades.rs` | [`TradeBook`]: round trips rebuilt from fills (and adoptions of a broker's position), with P&L and charges |
//! | `tables.rs` | [`StrategyStats`], [`DayRow`]: the trades per strategy and per day |
//! | `table.rs` | [`Table`]: the trade, day and strategy tables as typed rows, for CSV, JSON and SQL |
//! | `series.rs` | [`PnlSeries`]: equity, under-water and per-strategy P&L over time |
//! | `plot.rs` | [`plots`]: those series as SVG (`equity.svg`, `drawdown.svg`, `strategies.svg`) |
//! | `write.rs` | [`write_trade_report`]: the tables as CSV, JSON and Markdown, and the plots |

mod curve;
mod drawdown;
pub mod figure;
mod metrics;
mod plot;
mod series;
mod table;
mod tables;
mod trades;
mod write;

pub use curve::{CurveError, EquityCurve};
pub use drawdown::{Drawdowns, Episode};
pub use metrics::{percentile, RiskMetrics, TRADING_DAYS_PER_YEAR};
pub use plot::{inr, plots};
pub use series::PnlSeries;
pub use table::{
    daily_table, exit_reason, ist, paise, rupees, strategies_table, trades_table, Cell, Column,
    Kind, Table,
};
pub use tables::{by_day, by_strategy, DayRow, StrategyStats};
pub use trades::{Adopted, Booking, Trade, TradeBook};
pub use write::{write_report_files, write_trade_report, ReportContext};
