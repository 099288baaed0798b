//! Performance reports: the figures a trader judges a strategy by, computed the way the
//! reference libraries compute them, so a number here means what it means elsewhere.
//!
//! | file | what |
//! | --- | --- |
//! | `curve.rs` | [`EquityCurve`]: a daily equity curve read from `date,equity` CSV, its returns |
//! | `metrics.rs` | [`RiskMetrics`]: Sharpe, Sortino, drawdown, CAGR and the rest, as empyrical defines them |
//! | `drawdown.rs` | [`Drawdowns`]: every under-water episode, its depth, duration and recovery |

mod curve;
mod drawdown;
mod metrics;

pub use curve::{CurveError, EquityCurve};
pub use drawdown::{Drawdowns, Episode};
pub use metrics::{percentile, RiskMetrics, TRADING_DAYS_PER_YEAR};
