//! Which rows of the master the engine trades, built into an [`InstrumentTable`].
//!
//! The engine trades NSE, so the table holds:
//!
//! - NSE cash instruments (`exchange` and `segment` `NSE`, type `EQ`), lot 1;
//! - NSE indices (`segment` `INDICES`, exchange `NSE`), not tradable but the underlying
//!   of index options;
//! - NFO options (`NFO-OPT`, `CE`/`PE`) and futures (`NFO-FUT`, `FUT`), with lot size,
//!   expiry and strike from the master, their underlying when the master's `name` (or
//!   its index alias, `NIFTY` → `NIFTY 50`) is in the table, and the freeze quantity of
//!   their root from [`FreezeLimits`].
//!
//! Every other row (BSE, BFO, currency, commodity) is parsed and checked but left out and
//! counted in [`MasterTable::skipped`]: BSE shares carry the same symbols as NSE ones,
//! and the table is keyed by symbol. Each instrument keeps its Kite token
//! ([`InstrumentTable::find_token`]) and its own `tick_size`.

use std::collections::BTreeMap;

use super::{FreezeLimits, MasterError, MasterRow, MasterType};
use crate::model::{
    Exchange, Instrument, InstrumentId, InstrumentKind, InstrumentTable, OptionType, Segment,
};

/// Sector given to master instruments: Kite's master has no sector column.
pub const MASTER_SECTOR: &str = "Unclassified";

/// Kite names an index option's underlying by its root; the index's own symbol differs.
const INDEX_ALIASES: [(&str, &str); 5] = [
    ("NIFTY", "NIFTY 50"),
    ("BANKNIFTY", "NIFTY BANK"),
    ("FINNIFTY", "NIFTY FIN SERVICE"),
    ("MIDCPNIFTY", "NIFTY MID SELECT"),
    ("NIFTYNXT50", "NIFTY NEXT 50"),
];

/// The instruments selected from a master.
#[derive(Debug, Clone)]
pub struct MasterTable {
    /// Cash instruments and indices first (file order), then derivatives (file order).
    pub table: InstrumentTable,
    /// Rows left out, per `exchange` value.
    pub skipped: BTreeMap<String, usize>,
}

/// Selects the rows the engine trades (see the module notes) into a table.
///
/// # Errors
/// [`MasterError`] on the line of a symbol or token that appears twice among the
/// selected rows.
pub fn build_table(
    rows: &[MasterRow],
    freeze: &FreezeLimits,
    file: &str,
) -> Result<MasterTable, MasterError> {
    let mut table = InstrumentTable::new();
    let sector = table.sector(MASTER_SECTOR);
    let mut skipped = BTreeMap::new();
    let mut derivatives = Vec::new();
    for row in rows {
        let (exchange, segment, kind) = match (
            row.exchange.as_str(),
            row.segment.as_str(),
            row.instrument_type,
        ) {
            ("NSE", "NSE", MasterType::Equity) => {
                (Exchange::Nse, Segment::Cash, InstrumentKind::Equity)
            }
            ("NSE", "INDICES", MasterType::Equity) => {
                (Exchange::Nse, Segment::Indices, InstrumentKind::Index)
            }
            ("NFO", "NFO-OPT", MasterType::Call | MasterType::Put)
            | ("NFO", "NFO-FUT", MasterType::Future) => {
                derivatives.push(row);
                continue;
            }
            _ => {
                *skipped.entry(row.exchange.clone()).or_insert(0) += 1;
                continue;
            }
        };
        let instrument = Instrument {
            id: InstrumentId(0),
            symbol: row.tradingsymbol.clone(),
            exchange,
            segment,
            kind,
            underlying: None,
            expiry: None,
            strike: None,
            option_type: None,
            lot_size: row.lot_size,
            tick_size: row.tick_size,
            freeze_qty: 0,
            sector,
        };
        push(&mut table, instrument, row, file)?;
    }
    for row in derivatives {
        let root = underlying_root(row, freeze);
        let underlying = root.as_deref().and_then(|root| {
            let alias = INDEX_ALIASES
                .iter()
                .find(|(r, _)| *r == root)
                .map_or(root, |(_, index)| index);
            table.find(alias)
        });
        let option_type = match row.instrument_type {
            MasterType::Call => Some(OptionType::Call),
            MasterType::Put => Some(OptionType::Put),
            _ => None,
        };
        let instrument = Instrument {
            id: InstrumentId(0),
            symbol: row.tradingsymbol.clone(),
            exchange: Exchange::Nse,
            segment: Segment::Fno,
            kind: if option_type.is_some() {
                InstrumentKind::Option
            } else {
                InstrumentKind::Future
            },
            underlying,
            expiry: row.expiry,
            strike: option_type.map(|_| row.strike),
            option_type,
            lot_size: row.lot_size,
            tick_size: row.tick_size,
            freeze_qty: root.as_deref().and_then(|r| freeze.get(r)).unwrap_or(0),
            sector,
        };
        push(&mut table, instrument, row, file)?;
    }
    Ok(MasterTable { table, skipped })
}

/// The derivative's root: the master's `name` when Kite filled it in (current masters
/// do), else the longest root of the freeze-limit file that starts the symbol (older
/// masters, such as the fixture's, leave `name` empty for derivatives).
fn underlying_root(row: &MasterRow, freeze: &FreezeLimits) -> Option<String> {
    if !row.name.is_empty() {
        return Some(row.name.clone());
    }
    freeze
        .roots()
        .filter(|root| {
            row.tradingsymbol.starts_with(root)
                && row.tradingsymbol[root.len()..].starts_with(|c: char| c.is_ascii_digit())
        })
        .max_by_key(|root| root.len())
        .map(str::to_owned)
}

fn push(
    table: &mut InstrumentTable,
    instrument: Instrument,
    row: &MasterRow,
    file: &str,
) -> Result<InstrumentId, MasterError> {
    let id = table.push(instrument).map_err(|symbol| {
        MasterError::new(
            file,
            row.line,
            None,
            format!("tradingsymbol `{symbol}` appears twice among the selected rows"),
        )
    })?;
    table.set_token(id, row.instrument_token).map_err(|other| {
        MasterError::new(
            file,
            row.line,
            None,
            format!(
                "instrument_token {} is also {}'s",
                row.instrument_token,
                table.get(other).symbol
            ),
        )
    })?;
    Ok(id)
}
