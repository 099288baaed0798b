//! The synthetic NSE session: a deterministic, seeded trading day for paper runs,
//! backtests of the pipeline itself and benchmarks.
//!
//! | file | what |
//! | --- | --- |
//! | [`session`](SyntheticSession) | the [`MarketSource`](super::MarketSource): scheduling and tick generation |
//! | [`config`](SyntheticConfig) | the `[feed.synthetic]` section |
//! | [`regime`] | market regimes and their Markov chain |
//! | `factors` | market, sector and implied-volatility factors on a market-time grid |
//! | [`VolumeCurve`] | the U-shaped intraday activity curve |
//! | [`chain`] | the weekly option chain: expiry, strikes, symbols |
//! | [`etf`] | the index ETF (NIFTYBEES): its instrument and quotes |
//! | [`black_scholes`] | option prices |

pub mod black_scholes;
pub mod chain;
mod config;
pub mod etf;
mod factors;
pub mod regime;
mod session;
#[cfg(test)]
mod tests;
mod volume_curve;

pub use config::{SessionHours, SyntheticConfig};
pub use regime::Regime;
pub use session::SyntheticSession;
pub use volume_curve::VolumeCurve;
