//! Checks every strategy section shares, returning the reason a value is wrong so each
//! section keys it under its own prefix.

/// Why `bar_secs` cannot be a bar length: bars must tile the hour (and so the session),
/// which a length that does not divide 3600 would not.
pub fn bar_secs(secs: u32) -> Option<String> {
    (!(1..=3600).contains(&secs) || 3600 % secs != 0).then(|| {
        format!("is {secs}, must be between 1 and 3600 and divide 3600 evenly (e.g. 15, 60, 300)")
    })
}

/// Why entries of a `symbols` list are wrong: blank, or listed twice. Whether they exist
/// is checked against the instrument table when the strategy is built.
pub fn symbol_list(symbols: &[String]) -> Vec<String> {
    symbols
        .iter()
        .enumerate()
        .filter_map(|(i, symbol)| {
            if symbol.trim().is_empty() {
                Some(format!(
                    "entry {} is empty, must be a trading symbol",
                    i + 1
                ))
            } else if symbols[..i].contains(symbol) {
                Some(format!("{symbol} is listed twice"))
            } else {
                None
            }
        })
        .collect()
}
