//! The weekly index option chain: its expiry, strikes and trading symbols.

use crate::{
    feed::universe::{IndexSpec, INDEX_OPTION_TICK},
    model::{
        Date, Exchange, Instrument, InstrumentId, InstrumentKind, InstrumentTable, OptionType,
        Price, SectorId, Segment,
    },
};

/// Day of week NIFTY's weekly options expire on: Tuesday (0 = Monday), since NSE moved
/// index and stock derivative expiries from Thursday to Tuesday in September 2025.
/// Exchange holidays, which pull an expiry to the previous trading day, are not modelled.
pub const WEEKLY_EXPIRY_WEEKDAY: u8 = 1;

/// The first weekly expiry strictly after `date`.
///
/// Strictly after, so that even on an expiry day the chain has days to run and prices
/// stay well-behaved all session.
///
/// # Examples
/// ```
/// use tickpipe::{feed::synthetic::chain::weekly_expiry_after, model::Date};
/// assert_eq!(weekly_expiry_after(Date::new(2026, 11, 25)), Date::new(2026, 12, 1));
/// assert_eq!(weekly_expiry_after(Date::new(2026, 12, 1)), Date::new(2026, 12, 8));
/// ```
pub fn weekly_expiry_after(date: Date) -> Date {
    let ahead = (i64::from(WEEKLY_EXPIRY_WEEKDAY) - i64::from(date.weekday())).rem_euclid(7);
    date.add_days(if ahead == 0 { 7 } else { ahead })
}

/// True when `expiry` is the last weekly expiry of its month, which NSE lists as the
/// monthly contract.
pub fn is_monthly(expiry: Date) -> bool {
    expiry.add_days(7).month != expiry.month
}

/// The exchange trading symbol of an index option, as NSE and Kite spell it.
///
/// Monthly contracts: `NIFTY26DEC26000CE` (year, month name). Weekly contracts:
/// `NIFTY26D0126000CE` (year, one-character month `1`–`9`, `O`, `N`, `D`, then the day).
///
/// # Examples
/// ```
/// use tickpipe::{feed::synthetic::chain::option_symbol, model::{Date, OptionType}};
/// assert_eq!(
///     option_symbol("NIFTY", Date::new(2026, 12, 1), 26_000, OptionType::Call),
///     "NIFTY26D0126000CE"
/// );
/// assert_eq!(
///     option_symbol("NIFTY", Date::new(2026, 12, 29), 25_950, OptionType::Put),
///     "NIFTY26DEC25950PE"
/// );
/// ```
pub fn option_symbol(root: &str, expiry: Date, strike: u32, kind: OptionType) -> String {
    const MONTHS: [&str; 12] = [
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ];
    const WEEKLY_MONTHS: [char; 12] = ['1', '2', '3', '4', '5', '6', '7', '8', '9', 'O', 'N', 'D'];
    let yy = expiry.year.rem_euclid(100);
    let month = usize::from(expiry.month.clamp(1, 12) - 1);
    let suffix = match kind {
        OptionType::Call => "CE",
        OptionType::Put => "PE",
    };
    if is_monthly(expiry) {
        format!("{root}{yy:02}{}{strike}{suffix}", MONTHS[month])
    } else {
        format!(
            "{root}{yy:02}{}{:02}{strike}{suffix}",
            WEEKLY_MONTHS[month], expiry.day
        )
    }
}

/// One option of the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainOption {
    /// Its instrument.
    pub id: InstrumentId,
    /// Strike in index points.
    pub strike: u32,
    /// Call or put.
    pub kind: OptionType,
    /// Strike steps from the at-the-money strike (negative below it).
    pub offset: i32,
}

/// Adds calls and puts at `strikes` steps of `step` points either side of `atm` to
/// `table`, expiring on `expiry`, with the index's F&O lot size and freeze quantity.
///
/// # Errors
/// The symbol of an option already in the table.
pub fn add_chain(
    table: &mut InstrumentTable,
    index: &IndexSpec,
    sector: SectorId,
    expiry: Date,
    atm: u32,
    strikes: u32,
    step: u32,
) -> Result<Vec<ChainOption>, String> {
    let mut chain = Vec::with_capacity(2 * (2 * strikes as usize + 1));
    let strikes = strikes as i32;
    for offset in -strikes..=strikes {
        let strike_points = i64::from(atm) + i64::from(offset) * i64::from(step);
        let Ok(strike) = u32::try_from(strike_points) else {
            continue;
        };
        if strike == 0 {
            continue;
        }
        for kind in [OptionType::Call, OptionType::Put] {
            let instrument = Instrument {
                id: InstrumentId(0),
                symbol: option_symbol(&index.fno_symbol, expiry, strike, kind),
                exchange: Exchange::Nse,
                segment: Segment::Fno,
                kind: InstrumentKind::Option,
                underlying: Some(index.id),
                expiry: Some(expiry),
                strike: Some(Price::from_paise(i64::from(strike) * 100)),
                option_type: Some(kind),
                lot_size: index.lot_size,
                tick_size: INDEX_OPTION_TICK,
                freeze_qty: index.freeze_qty,
                sector,
            };
            let id = table.push(instrument)?;
            chain.push(ChainOption {
                id,
                strike,
                kind,
                offset,
            });
        }
    }
    Ok(chain)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feed::universe;

    #[test]
    fn expiry_is_the_next_tuesday() {
        // 2026-11-23 is a Monday.
        let monday = Date::new(2026, 11, 23);
        for (d, expect) in [(0, 24), (1, 1), (2, 1), (3, 1), (4, 1)] {
            let e = weekly_expiry_after(monday.add_days(d));
            assert_eq!(e.weekday(), 1);
            assert_eq!(e.day, expect, "{}", monday.add_days(d));
        }
        assert!(!is_monthly(Date::new(2026, 12, 22)));
        assert!(is_monthly(Date::new(2026, 12, 29)));
    }

    #[test]
    fn chain_has_calls_and_puts_with_index_specs() {
        let (mut table, index, _) = universe::load_default().unwrap().into_parts();
        let sector = table.get(index.id).sector;
        let before = table.len();
        let expiry = Date::new(2026, 12, 1);
        let chain = add_chain(&mut table, &index, sector, expiry, 26_000, 10, 50).unwrap();
        assert_eq!(chain.len(), 42);
        assert_eq!(table.len(), before + 42);
        let atm_call = table.find("NIFTY26D0126000CE").unwrap();
        let i = table.get(atm_call);
        assert_eq!((i.lot_size, i.freeze_qty), (65, 1800));
        assert_eq!(i.strike, Some("26000".parse().unwrap()));
        assert_eq!(i.underlying, Some(index.id));
        assert!(table.find("NIFTY26D0125500PE").is_some());
        assert!(table.find("NIFTY26D0126500CE").is_some());
        assert!(table.find("NIFTY26D0126550CE").is_none());
    }
}
