//! From TrueData's messages to the engine's ticks: symbol to id, the per-instrument
//! quote that bid/ask and trade messages update in turn, sequence checks, and market
//! time that never goes back.

use std::collections::HashMap;

use super::message::{BestBidAsk, BidAsk, TouchlineRow, Trade};
use crate::model::{InstrumentId, MarketEvent, Price, Tick, TickKind, UnixNanos};

/// One instrument's latest known state: every tick carries all of it, so a tick that
/// replaces an older one (conflation, a lost message) loses no cumulative field.
#[derive(Debug, Clone, Copy, Default)]
struct Quote {
    last: Price,
    last_qty: u32,
    volume: u32,
    best: BestBidAsk,
    /// The last trade's sequence number on the current connection.
    seq: Option<u64>,
}

/// What [`TrueDataMarket`] counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MarketCounts {
    /// Messages for symbol ids no "symbols added" row bound to a subscribed symbol.
    pub unknown: u64,
    /// Ticks whose market time was raised to the previous tick's.
    pub clamped: u64,
    /// Trades repeating the last sequence number of their instrument (skipped).
    pub duplicates: u64,
    /// Trades older than the last sequence number of their instrument (skipped).
    pub out_of_order: u64,
    /// Quantities above `u32::MAX` held at the maximum.
    pub saturated: u64,
}

/// Turns one subscription's messages into [`MarketEvent`]s.
///
/// Subscriptions are by TrueData symbol name; data messages name a numeric symbol id,
/// which the "symbols added" answer binds to the name ([`TrueDataMarket::bind`]).
///
/// * A `trade` is a [`TickKind::Trade`] tick: last price, quantity and day volume from
///   the message, bid/ask from it when the account sends them, else the last known.
/// * A `bidask` is a [`TickKind::Quote`] tick that carries the last trade's fields.
/// * A touchline row (the snapshot at subscription) is a quote tick when it has a price.
///
/// Trades carry a sequence number per symbol: one equal to the last is a duplicate, one
/// below it is out of order; both are counted and skipped. The memory is per
/// connection ([`TrueDataMarket::new_connection`]): a restarted server may count again.
#[derive(Debug, Clone)]
pub struct TrueDataMarket {
    /// Subscribed symbols, sorted, with the id each stands for.
    by_symbol: Vec<(String, InstrumentId)>,
    /// TrueData's symbol ids, bound by "symbols added".
    by_symbol_id: HashMap<u32, InstrumentId>,
    quotes: Vec<Quote>,
    last_ts: UnixNanos,
    counts: MarketCounts,
}

impl TrueDataMarket {
    /// A mapper for `symbols` (TrueData name, id) of a table of `instruments`.
    ///
    /// # Panics
    /// If an id is not below `instruments`.
    pub fn new(symbols: &[(String, InstrumentId)], instruments: usize) -> TrueDataMarket {
        let mut by_symbol = symbols.to_vec();
        by_symbol.sort();
        by_symbol.dedup_by(|a, b| a.0 == b.0);
        assert!(
            by_symbol.iter().all(|(_, id)| id.index() < instruments),
            "an instrument id is outside the table"
        );
        TrueDataMarket {
            by_symbol,
            by_symbol_id: HashMap::new(),
            quotes: vec![Quote::default(); instruments],
            last_ts: UnixNanos::default(),
            counts: MarketCounts::default(),
        }
    }

    /// The subscribed symbols, ascending.
    pub fn symbols(&self) -> impl Iterator<Item = &str> + '_ {
        self.by_symbol.iter().map(|(s, _)| s.as_str())
    }

    /// What was counted so far.
    pub fn counts(&self) -> MarketCounts {
        self.counts
    }

    /// Forgets the sequence numbers: a new connection may start them again.
    pub fn new_connection(&mut self) {
        for quote in &mut self.quotes {
            quote.seq = None;
        }
    }

    /// Binds a touchline row's id to its symbol, and returns the snapshot as a quote
    /// tick when the symbol is subscribed and the row has a price. `None` for a symbol
    /// outside the subscription (counted as unknown).
    pub fn bind(&mut self, row: &TouchlineRow, received: UnixNanos) -> Option<MarketEvent> {
        let Ok(at) = self
            .by_symbol
            .binary_search_by(|(symbol, _)| symbol.as_str().cmp(row.symbol.as_str()))
        else {
            self.counts.unknown += 1;
            return None;
        };
        let id = self.by_symbol[at].1;
        self.by_symbol_id.insert(row.symbol_id, id);
        let ltp = row.ltp.filter(|p| p.is_positive())?;
        let quote = &mut self.quotes[id.index()];
        quote.last = ltp;
        quote.last_qty = saturate(row.ltq, &mut self.counts.saturated);
        quote.volume = saturate(row.ttq, &mut self.counts.saturated);
        if let Some(best) = row.best {
            quote.best = best;
        }
        let ts = row.ts.unwrap_or(received);
        Some(self.tick(id, ts, TickKind::Quote))
    }

    /// The tick of a trade, or `None` (counted) for an unknown id, a duplicate or an
    /// out-of-order trade.
    pub fn trade(&mut self, trade: &Trade) -> Option<MarketEvent> {
        let id = self.id(trade.symbol_id)?;
        let quote = &mut self.quotes[id.index()];
        if let (Some(seq), Some(last)) = (trade.seq, quote.seq) {
            if seq == last {
                self.counts.duplicates += 1;
                return None;
            }
            if seq < last {
                self.counts.out_of_order += 1;
                return None;
            }
        }
        if trade.seq.is_some() {
            quote.seq = trade.seq;
        }
        quote.last = trade.ltp;
        quote.last_qty = saturate(trade.ltq, &mut self.counts.saturated);
        quote.volume = saturate(trade.ttq, &mut self.counts.saturated);
        if let Some(best) = trade.best {
            quote.best = best;
        }
        Some(self.tick(id, trade.ts, TickKind::Trade))
    }

    /// The quote tick of a bid/ask update, or `None` (counted) for an unknown id.
    pub fn bid_ask(&mut self, update: &BidAsk) -> Option<MarketEvent> {
        let id = self.id(update.symbol_id)?;
        self.quotes[id.index()].best = update.best;
        Some(self.tick(id, update.ts, TickKind::Quote))
    }

    /// The instrument a bound symbol id stands for.
    pub fn instrument(&self, symbol_id: u32) -> Option<InstrumentId> {
        self.by_symbol_id.get(&symbol_id).copied()
    }

    fn id(&mut self, symbol_id: u32) -> Option<InstrumentId> {
        let id = self.instrument(symbol_id);
        if id.is_none() {
            self.counts.unknown += 1;
        }
        id
    }

    fn tick(&mut self, id: InstrumentId, ts: UnixNanos, kind: TickKind) -> MarketEvent {
        let q = self.quotes[id.index()];
        let mut exchange_ts = ts;
        if exchange_ts < self.last_ts {
            exchange_ts = self.last_ts;
            self.counts.clamped += 1;
        }
        self.last_ts = exchange_ts;
        let sat = &mut self.counts.saturated;
        MarketEvent::Tick(Tick {
            exchange_ts,
            ingress: Default::default(),
            last: q.last,
            bid: q.best.bid,
            ask: q.best.ask,
            instrument: id,
            volume: q.volume,
            last_qty: q.last_qty,
            bid_qty: saturate(q.best.bid_qty, sat),
            ask_qty: saturate(q.best.ask_qty, sat),
            kind,
        })
    }
}

/// `n` as a `u32`, held at the maximum (and counted) above it.
fn saturate(n: u64, saturated: &mut u64) -> u32 {
    u32::try_from(n).unwrap_or_else(|_| {
        *saturated += 1;
        u32::MAX
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(symbol: &str, id: u32, ltp: &str) -> TouchlineRow {
        TouchlineRow {
            symbol: symbol.into(),
            symbol_id: id,
            ts: Some(UnixNanos(10)),
            ltp: Some(ltp.parse().unwrap()),
            ltq: 5,
            ttq: 100,
            day: None,
            best: None,
        }
    }

    fn trade(id: u32, ts: u64, ttq: u64, seq: Option<u64>) -> Trade {
        Trade {
            symbol_id: id,
            ts: UnixNanos(ts),
            ltp: Price::from_paise(10_000),
            ltq: 7,
            ttq,
            day: None,
            seq,
            best: None,
        }
    }

    fn tick(event: Option<MarketEvent>) -> Tick {
        match event {
            Some(MarketEvent::Tick(t)) => t,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn ids_are_bound_by_name_and_unknown_ones_counted() {
        let mut m = TrueDataMarket::new(&[("SBIN".into(), InstrumentId(0))], 1);
        assert!(m.trade(&trade(5, 20, 1, None)).is_none());
        assert_eq!(
            tick(m.bind(&row("SBIN", 5, "800"), UnixNanos(1))).volume,
            100
        );
        assert!(m.bind(&row("INFY", 6, "1500"), UnixNanos(1)).is_none());
        assert_eq!(m.counts().unknown, 2);
        let t = tick(m.trade(&trade(5, 20, 150, Some(1))));
        assert_eq!((t.kind, t.volume, t.last_qty), (TickKind::Trade, 150, 7));
    }

    #[test]
    fn sequence_repeats_and_regressions_are_skipped_per_connection() {
        let mut m = TrueDataMarket::new(&[("SBIN".into(), InstrumentId(0))], 1);
        m.bind(&row("SBIN", 5, "800"), UnixNanos(1));
        assert!(m.trade(&trade(5, 20, 150, Some(10))).is_some());
        assert!(m.trade(&trade(5, 21, 150, Some(10))).is_none());
        assert!(m.trade(&trade(5, 22, 140, Some(9))).is_none());
        assert!(m.trade(&trade(5, 23, 160, Some(11))).is_some());
        let c = m.counts();
        assert_eq!((c.duplicates, c.out_of_order), (1, 1));
        m.new_connection();
        assert!(m.trade(&trade(5, 24, 170, Some(1))).is_some());
    }

    #[test]
    fn a_quote_carries_the_last_trade_and_time_never_goes_back() {
        let mut m = TrueDataMarket::new(&[("SBIN".into(), InstrumentId(0))], 1);
        m.bind(&row("SBIN", 5, "800"), UnixNanos(1));
        m.trade(&trade(5, 50, 150, None));
        let best = BestBidAsk {
            bid: Price::from_paise(9_995),
            bid_qty: 3,
            ask: Price::from_paise(10_005),
            ask_qty: 4,
        };
        let q = tick(m.bid_ask(&BidAsk {
            symbol_id: 5,
            ts: UnixNanos(40),
            best,
        }));
        assert_eq!(
            (q.kind, q.last, q.volume),
            (TickKind::Quote, Price::from_paise(10_000), 150)
        );
        assert_eq!((q.bid, q.ask_qty), (best.bid, 4));
        assert_eq!(q.exchange_ts, UnixNanos(50));
        assert_eq!(m.counts().clamped, 1);
        let big = tick(m.trade(&trade(5, 60, u64::from(u32::MAX) + 1, None)));
        assert_eq!(big.volume, u32::MAX);
        assert_eq!(m.counts().saturated, 1);
    }
}
