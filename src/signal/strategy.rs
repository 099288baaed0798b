//! The seam every strategy implements, and the strategies themselves (one per file in
//! `strategy/`).
//!
//! | strategy | what |
//! | --- | --- |
//! | [`SmaCross`] | long when the fast SMA of bar closes crosses above the slow one |
//! | [`MomentumSurfer`] | intraday breakout of the recent range with VWAP, EMA slope and volume behind it; ATR stop and target |
//! | [`VolumeScalper`] | a bar of unusual volume whose close confirms a side; out within minutes (target or time stop) |
//! | [`NewsImpactScalper`] | buys the at-the-money call (put) on strong good (bad) news about its underlying, for minutes |
//! | [`RegimeAdaptive`] | holds the index ETF in the market regimes that favour it |

mod checks;
pub mod momentum_surfer;
pub mod news_impact_scalper;
pub mod regime_adaptive;
pub mod sma_cross;
mod symbols;
pub mod volume_scalper;

pub use momentum_surfer::{MomentumSurfer, MomentumSurferConfig};
pub use news_impact_scalper::{NewsImpactScalper, NewsImpactScalperConfig, ScalperCounts};
pub(crate) use regime_adaptive::first_index;
pub use regime_adaptive::{RegimeAdaptive, RegimeAdaptiveConfig};
pub use sma_cross::{SmaCross, SmaCrossConfig};
pub use volume_scalper::{VolumeScalper, VolumeScalperConfig};

use super::{Bar, StrategyContext};
use crate::model::{Instrument, News, Tick};

/// A trading strategy: turns market events into [`Signal`](crate::model::Signal)s,
/// "be long / short / flat in this instrument".
///
/// Strategies never size orders or see positions; the risk stage decides whether and
/// how much. The signal stage owns every strategy, calls it on its own thread in
/// [`StrategyId`](crate::model::StrategyId) order, and only for the instruments it
/// subscribed to, so callbacks run on the hot path: no allocation (state is sized at
/// construction), no locks, no logging, and no wall clock (use
/// [`StrategyContext::now`]).
///
/// When a tick closes bars, every strategy sees [`Strategy::on_bar`] for each closed bar
/// (of every length the stage builds, after the shared indicators took it in) before any
/// strategy sees [`Strategy::on_tick`] for the tick, which is their order in market time.
pub trait Strategy: Send {
    /// Short, stable name for reports and the control socket (`sma_cross`).
    fn name(&self) -> &'static str;

    /// Called once at construction for every instrument; true to receive its events.
    fn subscribes(&self, instrument: &Instrument) -> bool;

    /// Called once at construction for every subscribed instrument: true (the default)
    /// to receive every one of its ticks from the start. A strategy that needs an
    /// instrument's ticks only some of the time (while it holds a trade there) answers
    /// false: its entry signals then watch the instrument's ticks for it, and it calls
    /// [`StrategyContext::unwatch_ticks`] when it no longer needs them (see
    /// [`TickWatch`](super::TickWatch)).
    fn wants_ticks(&self, instrument: &Instrument) -> bool {
        let _ = instrument;
        true
    }

    /// A bar of a subscribed instrument closed.
    fn on_bar(&mut self, bar: &Bar, ctx: &mut StrategyContext<'_>) {
        let _ = (bar, ctx);
    }

    /// A tick of an instrument the strategy watches arrived (see
    /// [`Strategy::wants_ticks`]).
    fn on_tick(&mut self, tick: &Tick, ctx: &mut StrategyContext<'_>) {
        let _ = (tick, ctx);
    }

    /// A news item about a subscribed instrument arrived.
    fn on_news(&mut self, news: &News, ctx: &mut StrategyContext<'_>) {
        let _ = (news, ctx);
    }
}
