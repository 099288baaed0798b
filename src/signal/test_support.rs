//! Shared fixtures for the signal stage's unit tests: a small instrument table and tick
//! builders.

// Paise literals are grouped as rupees_paise: `101_50` is 101.50 rupees.
#![allow(clippy::inconsistent_digit_grouping)]

use crate::model::{
    Instrument, InstrumentId, InstrumentKind, InstrumentTable, OptionType, Price, SectorId,
    Segment, Stamp, Tick, TickKind, UnixNanos,
};

pub(crate) const NANOS_PER_SEC: u64 = 1_000_000_000;
pub(crate) const MIN: u64 = 60 * NANOS_PER_SEC;
/// 2025-11-25 09:15:00 IST, a minute boundary.
pub(crate) const OPEN: u64 = 1_764_042_300 * NANOS_PER_SEC;

/// `SBIN` (0), `INFY` (1): equities; `NIFTY 50` (2): index; `NIFTY25DEC24000CE` (3):
/// option; `TCS` (4): equity.
pub(crate) fn table() -> InstrumentTable {
    let mut t = InstrumentTable::new();
    let sector = t.sector("BANKS");
    let equity = |symbol: &str| Instrument::nse_equity(symbol, sector);
    t.push(equity("SBIN")).unwrap();
    t.push(equity("INFY")).unwrap();
    let index = t
        .push(Instrument {
            kind: InstrumentKind::Index,
            segment: Segment::Indices,
            tick_size: Price::from_paise(1),
            ..equity("NIFTY 50")
        })
        .unwrap();
    t.push(Instrument {
        kind: InstrumentKind::Option,
        segment: Segment::Fno,
        underlying: Some(index),
        strike: Some(Price::from_paise(24_000_00)),
        option_type: Some(OptionType::Call),
        lot_size: 75,
        sector: SectorId(0),
        ..equity("NIFTY25DEC24000CE")
    })
    .unwrap();
    t.push(equity("TCS")).unwrap();
    t
}

/// A trade tick of `instrument` at `ts` and `paise`, with cumulative volume `volume`.
pub(crate) fn trade(instrument: u32, ts: u64, paise: i64, volume: u32) -> Tick {
    Tick {
        exchange_ts: UnixNanos(ts),
        ingress: Stamp(ts / 1000 + 1),
        last: Price::from_paise(paise),
        bid: Price::from_paise(paise - 5),
        ask: Price::from_paise(paise + 5),
        instrument: InstrumentId(instrument),
        volume,
        last_qty: 1,
        bid_qty: 100,
        ask_qty: 100,
        kind: TickKind::Trade,
    }
}

/// Only `sma_cross` on: the strategy set these tests were written against (the shipped
/// default runs the other four instead).
pub(crate) fn sma_cross_only() -> crate::signal::SignalConfig {
    let mut config = crate::signal::SignalConfig::default();
    crate::signal::enable_only(&mut config, "sma_cross");
    config
}
