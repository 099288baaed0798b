//! Stage 3: the book (positions, P&L), limits and exits.

mod summary;

pub use summary::{FillRecord, PositionSnapshot, StrategyPnl, TradingSummary};
