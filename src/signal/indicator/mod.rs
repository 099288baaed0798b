//! Indicators: incremental statistics over a series, O(1) per update, allocated once.
//!
//! | type | what |
//! | --- | --- |
//! | [`Sma`] | simple moving average over a fixed window, exact on integer samples |

mod sma;

pub use sma::Sma;
