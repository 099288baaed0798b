//! The option chains of the instrument table, indexed once so that choosing a contract
//! on news is a few comparisons and a binary search, without allocation.

use crate::model::{Date, InstrumentId, InstrumentKind, InstrumentTable, OptionType, Price};

/// The listed options of one underlying, by expiry (earliest first), then strike
/// (lowest first).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct OptionChain {
    expiries: Vec<Expiry>,
}

/// The options of one expiry.
#[derive(Debug, Clone, PartialEq)]
struct Expiry {
    /// The expiry date as days since 1970-01-01, to subtract from today's.
    day: i64,
    strikes: Vec<Strike>,
}

/// The call and the put at one strike (either may be missing from the table).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Strike {
    strike: Price,
    call: Option<InstrumentId>,
    put: Option<InstrumentId>,
}

/// Why no contract fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NoContract {
    /// No expiry is at least the required number of days away.
    NoExpiry,
    /// The strike the offset asks for is off the end of the listed strikes, or the
    /// option of the wanted type is not listed at it.
    NoStrike,
}

impl OptionChain {
    /// Every underlying's chain, by the underlying's instrument index (`None` for an
    /// instrument without listed options). Options without an expiry, strike or type, or
    /// whose underlying is not in the table, are left out; of two options with the same
    /// expiry, strike and type the first in the table is kept.
    pub(super) fn index(instruments: &InstrumentTable) -> Vec<Option<OptionChain>> {
        let mut listed: Vec<Vec<(i64, Price, OptionType, InstrumentId)>> =
            vec![Vec::new(); instruments.len()];
        for option in instruments.iter() {
            if option.kind != InstrumentKind::Option {
                continue;
            }
            let (Some(underlying), Some(expiry), Some(strike), Some(kind)) = (
                option.underlying,
                option.expiry,
                option.strike,
                option.option_type,
            ) else {
                continue;
            };
            if let Some(list) = listed.get_mut(underlying.index()) {
                list.push((expiry.days_since_epoch(), strike, kind, option.id));
            }
        }
        listed
            .into_iter()
            .map(|mut list| {
                if list.is_empty() {
                    return None;
                }
                // Stable: among duplicates the table's first stays first.
                list.sort_by_key(|&(day, strike, _, _)| (day, strike));
                let mut expiries: Vec<Expiry> = Vec::new();
                for (day, strike, kind, id) in list {
                    if expiries.last().map_or(true, |e| e.day != day) {
                        expiries.push(Expiry {
                            day,
                            strikes: Vec::new(),
                        });
                    }
                    let last = expiries.len() - 1;
                    let strikes = &mut expiries[last].strikes;
                    if strikes.last().map_or(true, |s| s.strike != strike) {
                        strikes.push(Strike {
                            strike,
                            call: None,
                            put: None,
                        });
                    }
                    let last = strikes.len() - 1;
                    let row = &mut strikes[last];
                    let slot = match kind {
                        OptionType::Call => &mut row.call,
                        OptionType::Put => &mut row.put,
                    };
                    slot.get_or_insert(id);
                }
                Some(OptionChain { expiries })
            })
            .collect()
    }

    /// The option to buy on `today` with the underlying at `spot`: the earliest expiry at
    /// least `min_days` calendar days away, the strike nearest to `spot` (the lower of
    /// two equally near), moved `offset` strikes into the money (down for a call, up for
    /// a put), of type `kind`.
    ///
    /// # Errors
    /// [`NoContract`] when no expiry is far enough or the strike is not listed.
    pub(super) fn pick(
        &self,
        today: Date,
        min_days: u32,
        spot: Price,
        kind: OptionType,
        offset: u32,
    ) -> Result<InstrumentId, NoContract> {
        let today = today.days_since_epoch();
        let expiry = self
            .expiries
            .iter()
            .find(|e| e.day - today >= i64::from(min_days))
            .ok_or(NoContract::NoExpiry)?;
        let strikes = &expiry.strikes;
        // The first strike at or above spot, and the one below it.
        let above = strikes.partition_point(|s| s.strike < spot);
        let atm = match (above.checked_sub(1), strikes.get(above)) {
            (Some(below), Some(up)) => {
                if up.strike.raw() - spot.raw() < spot.raw() - strikes[below].strike.raw() {
                    above
                } else {
                    below
                }
            }
            (Some(below), None) => below,
            (None, _) => 0,
        };
        let offset = offset as usize;
        let row = match kind {
            OptionType::Call => atm.checked_sub(offset).and_then(|i| strikes.get(i)),
            OptionType::Put => strikes.get(atm + offset),
        }
        .ok_or(NoContract::NoStrike)?;
        match kind {
            OptionType::Call => row.call,
            OptionType::Put => row.put,
        }
        .ok_or(NoContract::NoStrike)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Instrument, SectorId, Segment};

    /// `NIFTY 50` (0); options on it: 2026-12-08 24000 CE (1), 2026-12-01 24000 CE (2)
    /// and PE (3), 2026-12-01 24100 CE (4), 23900 PE (5); an option without expiry (6);
    /// a duplicate of (2) (7).
    fn table() -> InstrumentTable {
        let mut t = InstrumentTable::new();
        let index = t
            .push(Instrument {
                kind: InstrumentKind::Index,
                segment: Segment::Indices,
                ..Instrument::nse_equity("NIFTY 50", SectorId(0))
            })
            .unwrap();
        let option = |symbol: &str, expiry: Option<Date>, strike: i64, kind| Instrument {
            kind: InstrumentKind::Option,
            segment: Segment::Fno,
            underlying: Some(index),
            expiry,
            strike: Some(Price::from_paise(strike * 100)),
            option_type: Some(kind),
            lot_size: 65,
            ..Instrument::nse_equity(symbol, SectorId(0))
        };
        let (dec1, dec8) = (Some(Date::new(2026, 12, 1)), Some(Date::new(2026, 12, 8)));
        let (call, put) = (OptionType::Call, OptionType::Put);
        for o in [
            option("A", dec8, 24_000, call),
            option("B", dec1, 24_000, call),
            option("C", dec1, 24_000, put),
            option("D", dec1, 24_100, call),
            option("E", dec1, 23_900, put),
            option("F", None, 24_000, call),
            option("G", dec1, 24_000, call),
        ] {
            t.push(o).unwrap();
        }
        t
    }

    fn spot(rupees: i64) -> Price {
        Price::from_paise(rupees * 100)
    }

    #[test]
    fn indexes_by_underlying_expiry_and_strike() {
        let chains = OptionChain::index(&table());
        assert_eq!(chains.len(), 8);
        assert!(chains[1..].iter().all(Option::is_none));
        let chain = chains[0].as_ref().unwrap();
        let days: Vec<i64> = chain.expiries.iter().map(|e| e.day).collect();
        assert_eq!(
            days,
            [
                Date::new(2026, 12, 1).days_since_epoch(),
                Date::new(2026, 12, 8).days_since_epoch()
            ]
        );
        let near = &chain.expiries[0].strikes;
        let rows: Vec<_> = near.iter().map(|s| (s.strike, s.call, s.put)).collect();
        let id = |i| Some(InstrumentId(i));
        assert_eq!(
            rows,
            [
                (spot(23_900), None, id(5)),
                (spot(24_000), id(2), id(3)), // the first of the duplicates
                (spot(24_100), id(4), None),
            ]
        );
    }

    #[test]
    fn picks_the_nearest_far_enough_expiry_and_strike() {
        let chains = OptionChain::index(&table());
        let chain = chains[0].as_ref().unwrap();
        let call = OptionType::Call;
        let today = Date::new(2026, 11, 25);
        // 6 days to the 1st, 13 to the 8th.
        assert_eq!(
            chain.pick(today, 6, spot(24_010), call, 0),
            Ok(InstrumentId(2))
        );
        assert_eq!(
            chain.pick(today, 7, spot(24_010), call, 0),
            Ok(InstrumentId(1))
        );
        assert_eq!(
            chain.pick(today, 14, spot(24_010), call, 0),
            Err(NoContract::NoExpiry)
        );
        // On the 1st itself: 0 days allows it, 1 does not.
        let expiry_day = Date::new(2026, 12, 1);
        assert_eq!(
            chain.pick(expiry_day, 0, spot(24_000), call, 0),
            Ok(InstrumentId(2))
        );
        assert_eq!(
            chain.pick(expiry_day, 1, spot(24_000), call, 0),
            Ok(InstrumentId(1))
        );
        // After the 1st, the 1st is never picked.
        assert_eq!(
            chain.pick(Date::new(2026, 12, 2), 0, spot(24_000), call, 0),
            Ok(InstrumentId(1))
        );
    }

    #[test]
    fn at_the_money_is_the_nearest_strike_and_offsets_go_into_the_money() {
        let chains = OptionChain::index(&table());
        let chain = chains[0].as_ref().unwrap();
        let today = Date::new(2026, 11, 25);
        let (call, put) = (OptionType::Call, OptionType::Put);
        let pick = |s: Price, kind, offset| chain.pick(today, 1, s, kind, offset);
        assert_eq!(pick(spot(24_060), call, 0), Ok(InstrumentId(4))); // 24100
        assert_eq!(pick(spot(24_049), call, 0), Ok(InstrumentId(2))); // 24000
        assert_eq!(pick(spot(24_050), call, 0), Ok(InstrumentId(2))); // a tie: lower
        assert_eq!(pick(spot(30_000), call, 0), Ok(InstrumentId(4))); // above the chain
        assert_eq!(pick(spot(20_000), put, 0), Ok(InstrumentId(5))); // below it
                                                                     // One strike in the money: lower for a call, higher for a put.
        assert_eq!(pick(spot(24_090), call, 1), Ok(InstrumentId(2)));
        assert_eq!(pick(spot(23_910), put, 1), Ok(InstrumentId(3)));
        // Off the end of the strikes, or the type not listed at the strike.
        assert_eq!(pick(spot(24_000), call, 2), Err(NoContract::NoStrike));
        assert_eq!(pick(spot(24_000), put, 1), Err(NoContract::NoStrike)); // 24100 PE
        assert_eq!(pick(spot(23_900), call, 0), Err(NoContract::NoStrike));
    }
}
