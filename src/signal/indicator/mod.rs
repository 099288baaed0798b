//! Indicators: incremental statistics over a series, O(1) per update, allocated once.
//!
//! Two families. [`Sma`] works on integer samples (raw prices) and compares exactly, for
//! strategies that act on crossings. The `f64` indicators reproduce TA-Lib's output
//! (its warm-up, seeding and order of arithmetic), so a strategy researched against
//! TA-Lib trades the same numbers here; `tests/indicators.rs` checks them against a
//! TA-Lib fixture. Each returns `None` during its warm-up, on the bars where TA-Lib
//! returns NaN.
//!
//! | type | what | first value (0-based bar) |
//! | --- | --- | --- |
//! | [`Sma`] | simple moving average, exact on integer samples | `n − 1` |
//! | [`TalibSma`] | TA-Lib `SMA`: running sum in TA-Lib's order | `n − 1` |
//! | [`Ema`] | TA-Lib `EMA`: seeded with the SMA of the first `n` | `n − 1` |
//! | [`Rsi`] | TA-Lib `RSI`: Wilder's averages of gains and losses | `n` |
//! | [`Atr`] | TA-Lib `ATR`: Wilder's average of the true range | `n` |
//! | [`Macd`] | TA-Lib `MACD`: EMAs lined up at bar `slow − 1`, then a signal EMA | `slow + signal − 2` |
//! | [`BollingerBands`] | TA-Lib `BBANDS` with an SMA and a two-pass population deviation | `n − 1` |
//! | [`Adx`] | TA-Lib `ADX`: Wilder's directional movement | `2n − 1` |
//! | [`Obv`] | TA-Lib `OBV`: starts at the first bar's volume | `0` |
//! | [`Vwap`] | session volume-weighted average price, reset each day | first volume |
//! | [`RollingMeanStd`] | mean and deviation of a window (sliding Welford, re-anchored) | `n − 1` |
//! | [`ZScore`] | a sample against the window before it (volume spikes) | `n` |
//! | [`ReturnVolatility`] | sample deviation of the last `n` log returns | `n` |
//!
//! Strategies do not own these: they ask the signal stage's [`IndicatorBank`] for an
//! [`IndicatorSpec`] per instrument while they are built, and every strategy asking for
//! the same spec reads the same instance, updated once per closed bar.

mod adx;
mod atr;
mod bank;
mod bollinger;
mod ema;
mod macd;
mod obv;
mod return_volatility;
mod rolling_mean_std;
mod rsi;
mod sma;
mod talib_sma;
mod true_range;
mod vwap;
mod window;

pub use adx::Adx;
pub use atr::Atr;
pub use bank::{IndicatorBank, IndicatorHandle, IndicatorKind, IndicatorSpec, Reading};
pub use bollinger::{Bands, BollingerBands};
pub use ema::Ema;
pub use macd::{Macd, MacdValue};
pub use obv::Obv;
pub use return_volatility::ReturnVolatility;
pub use rolling_mean_std::{MeanStd, RollingMeanStd, ZScore};
pub use rsi::Rsi;
pub use sma::Sma;
pub use talib_sma::TalibSma;
pub use vwap::Vwap;
pub(crate) use window::Window;
