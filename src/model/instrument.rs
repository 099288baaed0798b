//! Instruments and the dense table that numbers them.

use std::{collections::HashMap, fmt};

use super::{Date, Price};

/// Dense index of an instrument in the [`InstrumentTable`], so per-instrument state in
/// every stage is a `Vec` indexed by id: no hashing on the hot path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(transparent)]
pub struct InstrumentId(pub u32);

impl InstrumentId {
    /// The id as an index.
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for InstrumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "i{}", self.0)
    }
}

/// Index of a sector name in [`InstrumentTable::sectors`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(transparent)]
pub struct SectorId(pub u16);

/// Exchange the instrument is listed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Exchange {
    /// National Stock Exchange.
    Nse,
    /// Bombay Stock Exchange.
    Bse,
}

/// Market segment, which decides tick size conventions and Kite's price divisor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Segment {
    /// Cash equity.
    Cash,
    /// Equity futures and options.
    Fno,
    /// Currency derivatives.
    Currency,
    /// Indices (not tradable; computed or disseminated).
    Indices,
}

/// What kind of instrument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InstrumentKind {
    /// A listed share.
    Equity,
    /// An index such as NIFTY 50 (not tradable).
    Index,
    /// An option on an underlying.
    Option,
    /// A future on an underlying.
    Future,
}

/// Call or put.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OptionType {
    /// Right to buy.
    Call,
    /// Right to sell.
    Put,
}

/// Static description of a tradable (or index) instrument.
#[derive(Debug, Clone, PartialEq)]
pub struct Instrument {
    /// Dense id, equal to its position in the table.
    pub id: InstrumentId,
    /// Trading symbol as the exchange spells it (`RELIANCE`, `NIFTY26DEC24000CE`).
    pub symbol: String,
    /// Listing exchange.
    pub exchange: Exchange,
    /// Segment.
    pub segment: Segment,
    /// Kind.
    pub kind: InstrumentKind,
    /// The underlying of a derivative.
    pub underlying: Option<InstrumentId>,
    /// Expiry date of a derivative.
    pub expiry: Option<Date>,
    /// Strike of an option.
    pub strike: Option<Price>,
    /// Call or put, for an option.
    pub option_type: Option<OptionType>,
    /// Units per lot (1 for cash equity).
    pub lot_size: u32,
    /// Minimum price increment.
    pub tick_size: Price,
    /// Largest quantity the exchange accepts in one order (larger orders must be sliced);
    /// 0 when there is no freeze limit.
    pub freeze_qty: u32,
    /// Sector, for sector limits and the synthetic market's sector factors.
    pub sector: SectorId,
}

impl Instrument {
    /// An NSE cash-market share: lot 1, tick 0.05 (a share of ₹250 or more; real ticks
    /// come from the universe CSV or the instrument master), no freeze limit. The id is
    /// set when the instrument is pushed into an [`InstrumentTable`].
    ///
    /// # Examples
    /// ```
    /// use tickpipe::model::{Instrument, InstrumentTable, Price, SectorId};
    /// let mut table = InstrumentTable::new();
    /// let id = table.push(Instrument::nse_equity("SBIN", SectorId(0))).unwrap();
    /// assert_eq!(table.get(id).tick_size, Price::from_paise(5));
    /// ```
    pub fn nse_equity(symbol: &str, sector: SectorId) -> Instrument {
        Instrument {
            id: InstrumentId(0),
            symbol: symbol.to_owned(),
            exchange: Exchange::Nse,
            segment: Segment::Cash,
            kind: InstrumentKind::Equity,
            underlying: None,
            expiry: None,
            strike: None,
            option_type: None,
            lot_size: 1,
            tick_size: Price::from_paise(5),
            freeze_qty: 0,
            sector,
        }
    }
}

/// All instruments of a run, numbered densely from zero.
///
/// Built once before the pipeline starts; stages keep `Vec`s indexed by
/// [`InstrumentId`] and never look symbols up on the hot path.
#[derive(Debug, Clone, Default)]
pub struct InstrumentTable {
    instruments: Vec<Instrument>,
    by_symbol: HashMap<String, InstrumentId>,
    /// Exchange (Kite) instrument tokens, for feeds that name instruments by token.
    by_token: HashMap<u32, InstrumentId>,
    sectors: Vec<String>,
}

impl InstrumentTable {
    /// An empty table.
    pub fn new() -> InstrumentTable {
        InstrumentTable::default()
    }

    /// Interns a sector name.
    pub fn sector(&mut self, name: &str) -> SectorId {
        if let Some(i) = self.sectors.iter().position(|s| s == name) {
            return SectorId(i as u16);
        }
        self.sectors.push(name.to_owned());
        SectorId((self.sectors.len() - 1) as u16)
    }

    /// Adds an instrument, giving it the next id (its `id` field is overwritten).
    ///
    /// # Errors
    /// The symbol when it is already in the table.
    pub fn push(&mut self, mut instrument: Instrument) -> Result<InstrumentId, String> {
        if self.by_symbol.contains_key(&instrument.symbol) {
            return Err(instrument.symbol);
        }
        let id = InstrumentId(self.instruments.len() as u32);
        instrument.id = id;
        self.by_symbol.insert(instrument.symbol.clone(), id);
        self.instruments.push(instrument);
        Ok(id)
    }

    /// The instrument with this id.
    ///
    /// # Panics
    /// If the id is not from this table.
    pub fn get(&self, id: InstrumentId) -> &Instrument {
        &self.instruments[id.index()]
    }

    /// Replaces an instrument's tick size, for a master read after the table was built
    /// (the exchange's tick changes monthly, the universe file does not). Only before
    /// the pipeline starts: stages copy tick sizes when they are built.
    ///
    /// # Panics
    /// If the id is not from this table.
    pub fn set_tick_size(&mut self, id: InstrumentId, tick_size: Price) {
        self.instruments[id.index()].tick_size = tick_size;
    }

    /// Looks a symbol up (off the hot path).
    pub fn find(&self, symbol: &str) -> Option<InstrumentId> {
        self.by_symbol.get(symbol).copied()
    }

    /// Records the exchange token a live feed uses for `id` (Kite's `instrument_token`),
    /// so a decoded tick can be mapped to the dense id once, off the hot path.
    ///
    /// # Errors
    /// The instrument already holding the token, when it is another one.
    pub fn set_token(&mut self, id: InstrumentId, token: u32) -> Result<(), InstrumentId> {
        match self.by_token.insert(token, id) {
            Some(other) if other != id => {
                self.by_token.insert(token, other);
                Err(other)
            }
            _ => Ok(()),
        }
    }

    /// The instrument a feed token stands for.
    pub fn find_token(&self, token: u32) -> Option<InstrumentId> {
        self.by_token.get(&token).copied()
    }

    /// The token recorded for `id`, if any (a scan: for reports and tests).
    pub fn token_of(&self, id: InstrumentId) -> Option<u32> {
        self.by_token
            .iter()
            .find_map(|(&token, &i)| (i == id).then_some(token))
    }

    /// Number of instruments.
    pub fn len(&self) -> usize {
        self.instruments.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.instruments.is_empty()
    }

    /// All instruments in id order.
    pub fn iter(&self) -> impl Iterator<Item = &Instrument> {
        self.instruments.iter()
    }

    /// Sector names, indexed by [`SectorId`].
    pub fn sectors(&self) -> &[String] {
        &self.sectors
    }

    /// The name of a sector.
    pub fn sector_name(&self, id: SectorId) -> &str {
        self.sectors.get(id.0 as usize).map_or("", String::as_str)
    }
}
