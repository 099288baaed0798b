//! Kite's instrument master: the day's CSV of every listed contract, read into rows and
//! turned into the engine's instrument table.
//!
//! Kite publishes the master once a day (`GET /instruments`); a saved copy is read with
//! [`load`] (or `tickpipe run --instruments FILE`). The master, not a constant, is the
//! source of each instrument's tick size: NSE's ticks are per security and change
//! monthly (0.01 below ₹250 since June 2024, price bands since 2025).
//!
//! | item | what |
//! | --- | --- |
//! | [`row`] | one parsed line: [`MasterRow`], [`MasterType`], [`load`], [`parse`] |
//! | [`select`] | which rows the engine trades, as an [`InstrumentTable`] with tokens |
//! | [`freeze`] | F&O quantity freeze limits from `config/freeze_qty.csv` |
//! | [`MasterError`] | file, line, column and reason of a rejected master |
//!
//! [`InstrumentTable`]: crate::model::InstrumentTable

mod error;
pub mod freeze;
pub mod row;
pub mod select;

pub use error::MasterError;
pub use freeze::FreezeLimits;
pub use row::{load, parse, MasterRow, MasterType};
pub use select::{build_table, MasterTable};

#[cfg(test)]
mod tests;
