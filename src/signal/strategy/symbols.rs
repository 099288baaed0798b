//! Which instruments an equity strategy trades: every equity, or the symbols its section
//! lists.

use crate::{
    config::ConfigIssue,
    model::{InstrumentKind, InstrumentTable},
};

/// By instrument index, true for the instruments to trade: every equity when `symbols` is
/// empty, else exactly the listed ones. A listed symbol that is not in the table, or is an
/// index (which cannot be traded), becomes an issue keyed `{prefix}.symbols`; blank
/// entries are left to the section's own validation.
pub fn equities_or_listed(
    symbols: &[String],
    instruments: &InstrumentTable,
    prefix: &str,
    issues: &mut Vec<ConfigIssue>,
) -> Vec<bool> {
    let mut wanted: Vec<bool> = instruments
        .iter()
        .map(|i| symbols.is_empty() && i.kind == InstrumentKind::Equity)
        .collect();
    for symbol in symbols {
        match instruments.find(symbol) {
            None if symbol.trim().is_empty() => {}
            None => issues.push(ConfigIssue::new(
                format!("{prefix}.symbols"),
                format!("{symbol} is not in the instrument table"),
            )),
            Some(id) if instruments.get(id).kind == InstrumentKind::Index => {
                issues.push(ConfigIssue::new(
                    format!("{prefix}.symbols"),
                    format!("{symbol} is an index, which cannot be traded"),
                ))
            }
            Some(id) => wanted[id.index()] = true,
        }
    }
    wanted
}
