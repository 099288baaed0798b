//! What the limits need to know about one instrument, copied out of the table once so
//! the hot path reads a small `Copy` value by id.

use crate::model::{Instrument, InstrumentKind, Price, SectorId, Tick};

/// The static facts a limit reads about an instrument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstrumentSpec {
    /// Equity, option, future or index.
    pub kind: InstrumentKind,
    /// Units per lot; zero for an instrument that cannot be traded (an index).
    pub lot_size: u32,
    /// Minimum price increment (zero: no grid known).
    pub tick_size: Price,
    /// The sector its exposure counts against.
    pub sector: SectorId,
    /// False for instruments on a whole index (index options and futures, index ETFs):
    /// they are diversified by construction, so the sector cap does not apply to them.
    pub sector_capped: bool,
    /// Largest quantity one exchange order may carry; 0 for none. The order stage
    /// slices larger orders; the limits do not refuse them.
    pub freeze_qty: u32,
}

impl InstrumentSpec {
    /// The spec of `instrument`; `index_sector` says whether its sector is the one an
    /// index of the table is in.
    pub fn of(instrument: &Instrument, index_sector: bool) -> InstrumentSpec {
        InstrumentSpec {
            kind: instrument.kind,
            lot_size: match instrument.kind {
                InstrumentKind::Index => 0,
                _ => instrument.lot_size.max(1),
            },
            tick_size: instrument.tick_size,
            sector: instrument.sector,
            sector_capped: !index_sector,
            freeze_qty: instrument.freeze_qty,
        }
    }

    /// A cash-market share: lot 1, tick 0.05, sector 0, capped (tests and examples).
    pub const fn equity() -> InstrumentSpec {
        InstrumentSpec {
            kind: InstrumentKind::Equity,
            lot_size: 1,
            tick_size: Price::from_paise(5),
            sector: SectorId(0),
            sector_capped: true,
            freeze_qty: 0,
        }
    }

    /// True for an option, whose premium is what is at risk.
    pub const fn is_option(&self) -> bool {
        matches!(self.kind, InstrumentKind::Option)
    }
}

/// The latest touch and trade of an instrument, as the risk stage last saw them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Quote {
    /// Best bid (zero: none).
    pub bid: Price,
    /// Best ask (zero: none).
    pub ask: Price,
    /// Last trade (zero: none yet).
    pub last: Price,
}

impl Quote {
    /// The quote a tick carries.
    pub const fn of(tick: &Tick) -> Quote {
        Quote {
            bid: tick.bid,
            ask: tick.ask,
            last: tick.last,
        }
    }
}
