//! What trading costs: a broker's and the exchange's charges on every fill.
//!
//! Gross P&L is what the prices made; the account sees it less brokerage, securities
//! transaction tax, exchange transaction charges, the SEBI fee, stamp duty and GST. This
//! module holds that cost model, for the risk stage (which charges every fill it books)
//! and for backtests alike; it depends on [`model`](crate::model) alone.
//!
//! | file | what |
//! | --- | --- |
//! | `config.rs` | [`ChargesConfig`], the `[charges]` section: one [`RateSet`] per kind of trade |
//! | `breakdown.rs` | [`ChargeBreakdown`]: the six components, exact, and their contract-note rounding |
//! | `model.rs` | [`ChargeModel`] and [`OrderCharges`]: the charge of one fill, brokerage per order |
//! | `decimal.rs` | reading exact decimals from TOML |
//!
//! # Examples
//! ```
//! use tickpipe::{charges::{ChargeClass, ChargeModel, ChargesConfig, OrderCharges},
//!                model::{Qty, Side}};
//! let model = ChargeModel::new(&ChargesConfig::default());
//! let mut order = OrderCharges::default();
//! let buy = model
//!     .fill(ChargeClass::EquityIntraday, Side::Buy, Qty::new(100), "2500".parse().unwrap(), &mut order)
//!     .unwrap();
//! assert_eq!(buy.brokerage, "20".parse().unwrap()); // 0.03 % of ₹2.5 lakh is ₹75: capped at ₹20
//! assert_eq!(buy.stamp, "7.50".parse().unwrap());   // 0.003 % on the buy side
//! ```

mod breakdown;
mod config;
mod model;

pub use breakdown::ChargeBreakdown;
pub use config::{ChargesConfig, EquityProduct, RateSet};
pub use model::{ChargeClass, ChargeModel, Charger, OrderCharges};
