//! Stage 2: bars, indicators and strategies turn market events into signals.
//!
//! ```text
//! MarketEvent ──▶ BarBuilder ──Bar──▶ Strategy::on_bar ─┐
//!      │                              Strategy::on_tick ├─▶ Signal ──▶ RiskInput
//!      └──────────── tick, as a mark ───────────────────┴────────────▶ RiskInput
//! ```
//!
//! | item | what |
//! | --- | --- |
//! | [`SignalStage`] | the stage: forwards ticks to risk, feeds bars and events to the strategies, sends their signals |
//! | [`Bar`], [`BarBuilder`] | fixed-length OHLCV bars per instrument, by market time |
//! | [`indicator`] | incremental indicators ([`indicator::Sma`]) |
//! | [`filter`] | orchestration filters over every strategy's entries (market bias, relative strength, multi-day overbought/oversold) |
//! | [`regime`] | market regimes: a Gaussian hidden Markov model (online filter, smoothing, Viterbi, Baum–Welch) |
//! | [`market_regime`] | the stage's regime now (one tracker every strategy reads) and the gate that enables and weights strategies per regime |
//! | [`Strategy`], [`StrategyContext`] | the seam a strategy implements, and its handle on the stage |
//! | [`TickWatch`] | which strategies are called with which instrument's ticks now |
//! | [`SmaCross`] | the SMA crossover strategy |
//! | [`MomentumSurfer`] | the intraday momentum breakout strategy |
//! | [`VolumeScalper`] | the volume-spike scalper |
//! | [`NewsImpactScalper`] | buys index calls or puts on strong news, for minutes |
//! | [`RegimeAdaptive`] | the regime-switch strategy on the index ETF |
//! | [`allocation`] | adaptive allocation: reviews of each strategy's realised record, its weight, and shadow (paper-only) trading |
//! | [`SignalConfig`] | the `[strategy.*]` sections |
//! | [`SignalSection`] | the `[signal]` section: the stage's own settings (`[signal.allocation]`) |
//! | [`build_strategies`], [`strategy_names`] | the enabled strategies, numbered by [`StrategyId`](crate::model::StrategyId) |

pub mod allocation;
mod bar;
mod config;
mod context;
pub mod filter;
pub mod indicator;
pub mod market_regime;
pub mod regime;
mod registry;
mod stage;
mod strategy;
mod subscriptions;
#[cfg(test)]
pub(crate) mod test_support;
mod tick_watch;

pub use bar::{Bar, BarBuilder};
pub use config::{SignalConfig, SignalSection};
pub use context::{SignalBatch, StrategyContext, MAX_SIGNALS_PER_EVENT};
pub use registry::{build_strategies, catalogue_names, enable_only, strategy_names};
pub use stage::{
    RegimeSummary, SignalStage, SignalSummary, StrategySignals, EVENTS_PER_POLL, MAX_BAR_LENGTHS,
};
/// The index the regimes are read from (a walk-forward fits its model to the same bars).
pub(crate) use strategy::regime_adaptive::first_index;
pub use strategy::{
    MomentumSurfer, MomentumSurferConfig, NewsImpactScalper, NewsImpactScalperConfig,
    RegimeAdaptive, RegimeAdaptiveConfig, ScalperCounts, SmaCross, SmaCrossConfig, Strategy,
    VolumeScalper, VolumeScalperConfig,
};
pub use tick_watch::TickWatch;
