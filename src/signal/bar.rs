//! Time bars (OHLCV) per instrument, built from ticks by market time.

use crate::model::{InstrumentId, Price, Tick, TickKind, UnixNanos};

const NANOS_PER_SEC: u64 = 1_000_000_000;

/// One closed bar of one instrument: the trades of `[start, start + secs)` in market time.
///
/// Bars come from trades only (quote ticks move no price here), and an interval without
/// trades yields no bar: a gap in trading is a gap in the bar series, never a made-up
/// flat bar.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bar {
    /// Which instrument.
    pub instrument: InstrumentId,
    /// Start of the interval (a multiple of the bar length since the epoch, so one-minute
    /// bars start on IST minute boundaries).
    pub start: UnixNanos,
    /// Length of the interval in seconds.
    pub secs: u32,
    /// First trade price.
    pub open: Price,
    /// Highest trade price.
    pub high: Price,
    /// Lowest trade price.
    pub low: Price,
    /// Last trade price.
    pub close: Price,
    /// Units traded in the interval, from the difference of the day's cumulative volume.
    pub volume: u64,
    /// Trade ticks folded into the bar.
    pub trades: u32,
    /// Turnover in rupees, `Σ price × units` over the bar's trades: the numerator of its
    /// VWAP, and summed over bars the session VWAP's. An `f64` (exact to well below a
    /// paisa for any realistic bar) keeps `Bar` 8-byte aligned and the per-trade update
    /// one multiply-add.
    pub turnover: f64,
}

impl Bar {
    /// End of the interval (exclusive).
    pub fn end(&self) -> UnixNanos {
        self.start
            .add_nanos(u64::from(self.secs).saturating_mul(NANOS_PER_SEC))
    }

    /// Volume-weighted average trade price of the bar in rupees (the close when no
    /// volume traded).
    pub fn vwap(&self) -> f64 {
        if self.volume == 0 {
            return self.close.to_f64();
        }
        self.turnover / self.volume as f64
    }
}

/// What the builder keeps per instrument.
#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    /// Start of the latest interval seen for this instrument, in market nanoseconds
    /// (time never runs backwards).
    clock_start: u64,
    /// End (exclusive) of that interval: a tick stamped before it belongs to it, so
    /// only the first tick of each interval pays for a division. Zero before the first.
    clock_end: u64,
    /// The bar being formed, if a trade has come in the current interval.
    forming: Option<Bar>,
    /// Cumulative day volume at the last trade tick, once one has been seen.
    cum_volume: Option<u32>,
}

/// Builds fixed-length bars for every instrument of the table.
///
/// A bar closes when the first tick (trade or quote) of a later interval arrives for
/// its instrument; [`BarBuilder::update`] hands the closed bar back. A bar whose
/// instrument goes quiet therefore stays open until that instrument ticks again, which
/// keeps the output a pure function of the tick sequence, whatever the thread layout.
///
/// Per tick the cost is one slot lookup by [`InstrumentId::index`]; all memory is
/// allocated in [`BarBuilder::new`].
///
/// Volume is the difference of the cumulative day volume between consecutive trade
/// ticks. For the first trade seen, or when the cumulative volume falls (a new session),
/// the tick's own `last_qty` is used, since the volume before it is unknown.
///
/// A tick stamped earlier than its instrument's latest interval is folded into the
/// current interval rather than reopening a closed bar.
///
/// # Examples
/// ```
/// use tickpipe::model::{InstrumentId, Price, Stamp, Tick, TickKind, UnixNanos};
/// use tickpipe::signal::BarBuilder;
/// let trade = |secs: u64, paise: i64, volume: u32| Tick {
///     exchange_ts: UnixNanos(secs * 1_000_000_000),
///     ingress: Stamp(0),
///     last: Price::from_paise(paise),
///     bid: Price::ZERO,
///     ask: Price::ZERO,
///     instrument: InstrumentId(0),
///     volume,
///     last_qty: 1,
///     bid_qty: 0,
///     ask_qty: 0,
///     kind: TickKind::Trade,
/// };
/// let mut bars = BarBuilder::new(1, 60);
/// assert_eq!(bars.update(&trade(0, 100_00, 10)), None);
/// assert_eq!(bars.update(&trade(30, 101_00, 25)), None);
/// let bar = bars.update(&trade(60, 99_00, 30)).unwrap(); // a later minute closes it
/// assert_eq!((bar.open, bar.close), (Price::from_paise(100_00), Price::from_paise(101_00)));
/// assert_eq!(bar.volume, 1 + 15); // first trade's own qty, then the cumulative difference
/// ```
#[derive(Debug, Clone)]
pub struct BarBuilder {
    secs: u32,
    nanos: u64,
    slots: Vec<Slot>,
}

impl BarBuilder {
    /// A builder of `secs`-second bars for instruments `0..instruments`.
    ///
    /// # Panics
    /// If `secs` is zero (configuration validation rejects that first).
    pub fn new(instruments: usize, secs: u32) -> BarBuilder {
        assert!(secs > 0, "a bar must be at least one second long");
        BarBuilder {
            secs,
            nanos: u64::from(secs) * NANOS_PER_SEC,
            slots: vec![Slot::default(); instruments],
        }
    }

    /// The bar length in seconds.
    pub fn secs(&self) -> u32 {
        self.secs
    }

    /// Folds a tick in and returns the bar it closed, if any. Ticks of instruments
    /// outside the table are ignored.
    #[inline]
    pub fn update(&mut self, tick: &Tick) -> Option<Bar> {
        let nanos = self.nanos;
        let secs = self.secs;
        let slot = self.slots.get_mut(tick.instrument.index())?;
        let ts = tick.exchange_ts.0;
        if ts >= slot.clock_end {
            slot.clock_start = ts - ts % nanos;
            slot.clock_end = slot.clock_start.saturating_add(nanos);
        }

        let closed = match slot.forming {
            Some(bar) if bar.start.0 < slot.clock_start => slot.forming.take(),
            _ => None,
        };
        if tick.kind != TickKind::Trade {
            return closed;
        }

        let volume = match slot.cum_volume {
            Some(before) if tick.volume >= before => u64::from(tick.volume - before),
            _ => u64::from(tick.last_qty),
        };
        slot.cum_volume = Some(tick.volume);
        let price = tick.last;
        match &mut slot.forming {
            Some(bar) => {
                bar.high = bar.high.max(price);
                bar.low = bar.low.min(price);
                bar.close = price;
                bar.volume += volume;
                bar.trades += 1;
                bar.turnover += price.to_f64() * volume as f64;
            }
            None => {
                slot.forming = Some(Bar {
                    instrument: tick.instrument,
                    start: UnixNanos(slot.clock_start),
                    secs,
                    open: price,
                    high: price,
                    low: price,
                    close: price,
                    volume,
                    trades: 1,
                    turnover: price.to_f64() * volume as f64,
                });
            }
        }
        closed
    }

    /// The bar still forming for `instrument`, if a trade has come in its interval.
    pub fn forming(&self, instrument: InstrumentId) -> Option<&Bar> {
        self.slots.get(instrument.index())?.forming.as_ref()
    }
}

#[cfg(test)]
// Paise literals are grouped as rupees_paise: `101_50` is 101.50 rupees.
#[allow(clippy::inconsistent_digit_grouping)]
mod tests {
    use super::*;
    use crate::model::Stamp;

    const MIN: u64 = 60 * NANOS_PER_SEC;
    /// 09:15 IST on some day, a minute boundary.
    const OPEN: u64 = 1_764_042_300 * NANOS_PER_SEC;

    fn tick(instrument: u32, ts: u64, paise: i64, volume: u32, kind: TickKind) -> Tick {
        Tick {
            exchange_ts: UnixNanos(ts),
            ingress: Stamp(0),
            last: Price::from_paise(paise),
            bid: Price::from_paise(paise - 5),
            ask: Price::from_paise(paise + 5),
            instrument: InstrumentId(instrument),
            volume,
            last_qty: 7,
            bid_qty: 10,
            ask_qty: 10,
            kind,
        }
    }

    fn trade(instrument: u32, ts: u64, paise: i64, volume: u32) -> Tick {
        tick(instrument, ts, paise, volume, TickKind::Trade)
    }

    #[test]
    fn ohlcv_of_one_minute() {
        assert_eq!(OPEN % MIN, 0);
        let mut b = BarBuilder::new(1, 60);
        assert_eq!(b.update(&trade(0, OPEN + 1, 100_00, 1000)), None);
        assert_eq!(
            b.update(&trade(0, OPEN + 10 * NANOS_PER_SEC, 102_50, 1010)),
            None
        );
        assert_eq!(
            b.update(&trade(0, OPEN + 20 * NANOS_PER_SEC, 99_05, 1030)),
            None
        );
        assert_eq!(b.update(&trade(0, OPEN + MIN - 1, 101_00, 1031)), None);
        let bar = b.update(&trade(0, OPEN + MIN, 101_10, 1040)).unwrap();
        assert_eq!(
            bar,
            Bar {
                instrument: InstrumentId(0),
                start: UnixNanos(OPEN),
                secs: 60,
                open: Price::from_paise(100_00),
                high: Price::from_paise(102_50),
                low: Price::from_paise(99_05),
                close: Price::from_paise(101_00),
                volume: 7 + 10 + 20 + 1,
                trades: 4,
                turnover: 100.0 * 7.0 + 102.5 * 10.0 + 99.05 * 20.0 + 101.0,
            }
        );
        assert_eq!(bar.end(), UnixNanos(OPEN + MIN));
        assert!((bar.vwap() - 3807.0 / 38.0).abs() < 1e-12);
        // The closing tick opened the next bar.
        let next = b.forming(InstrumentId(0)).unwrap();
        assert_eq!(
            (next.start, next.open, next.volume),
            (UnixNanos(OPEN + MIN), Price::from_paise(101_10), 9)
        );
    }

    #[test]
    fn gaps_yield_no_bars_and_the_next_bar_starts_at_its_own_minute() {
        let mut b = BarBuilder::new(1, 60);
        b.update(&trade(0, OPEN, 100_00, 10));
        // Five quiet minutes, then a trade at 09:21:30.
        let bar = b
            .update(&trade(0, OPEN + 6 * MIN + MIN / 2, 103_00, 50))
            .unwrap();
        assert_eq!(bar.start, UnixNanos(OPEN));
        assert_eq!(bar.close, Price::from_paise(100_00));
        let bar = b.update(&trade(0, OPEN + 7 * MIN, 104_00, 51)).unwrap();
        assert_eq!(bar.start, UnixNanos(OPEN + 6 * MIN));
        assert_eq!((bar.open, bar.volume), (Price::from_paise(103_00), 40));
    }

    #[test]
    fn quotes_close_bars_but_do_not_form_them() {
        let mut b = BarBuilder::new(1, 60);
        assert_eq!(b.update(&tick(0, OPEN, 100_00, 0, TickKind::Quote)), None);
        assert_eq!(b.forming(InstrumentId(0)), None);
        b.update(&trade(0, OPEN + 5, 100_00, 10));
        let bar = b
            .update(&tick(0, OPEN + MIN, 250_00, 999, TickKind::Quote))
            .unwrap();
        assert_eq!((bar.high, bar.volume), (Price::from_paise(100_00), 7));
        assert_eq!(b.forming(InstrumentId(0)), None);
        // The quote's volume field is ignored: the next trade's volume is measured from
        // the last trade's cumulative volume.
        b.update(&trade(0, OPEN + MIN + 1, 100_05, 12));
        assert_eq!(b.forming(InstrumentId(0)).unwrap().volume, 2);
    }

    #[test]
    fn instruments_are_independent() {
        let mut b = BarBuilder::new(2, 60);
        b.update(&trade(0, OPEN, 100_00, 10));
        b.update(&trade(1, OPEN, 500_00, 10));
        // Instrument 1 moves into the next minute; instrument 0's bar stays open.
        let bar = b.update(&trade(1, OPEN + MIN, 501_00, 20)).unwrap();
        assert_eq!(bar.instrument, InstrumentId(1));
        assert!(b.forming(InstrumentId(0)).is_some());
        assert_eq!(b.forming(InstrumentId(0)).unwrap().start, UnixNanos(OPEN));
        let bar = b.update(&trade(0, OPEN + 2 * MIN, 100_50, 30)).unwrap();
        assert_eq!(
            (bar.instrument, bar.start),
            (InstrumentId(0), UnixNanos(OPEN))
        );
    }

    #[test]
    fn late_ticks_fold_into_the_current_bar() {
        let mut b = BarBuilder::new(1, 60);
        b.update(&trade(0, OPEN, 100_00, 10));
        let closed = b.update(&trade(0, OPEN + MIN, 101_00, 20)).unwrap();
        assert_eq!(closed.start, UnixNanos(OPEN));
        // Stamped in the closed minute: counted in the current one, nothing reopens.
        assert_eq!(b.update(&trade(0, OPEN + MIN - 1, 99_00, 25)), None);
        let bar = b.forming(InstrumentId(0)).unwrap();
        assert_eq!(
            (bar.start, bar.low, bar.trades),
            (UnixNanos(OPEN + MIN), Price::from_paise(99_00), 2)
        );
    }

    #[test]
    fn falling_cumulative_volume_starts_a_new_session() {
        let mut b = BarBuilder::new(1, 60);
        b.update(&trade(0, OPEN, 100_00, 5000));
        b.update(&trade(0, OPEN + 1, 100_00, 3));
        assert_eq!(b.forming(InstrumentId(0)).unwrap().volume, 7 + 7);
    }

    #[test]
    fn bar_length_is_configurable() {
        let mut b = BarBuilder::new(1, 5);
        assert_eq!(b.secs(), 5);
        b.update(&trade(0, OPEN + 4 * NANOS_PER_SEC, 100_00, 10));
        let bar = b
            .update(&trade(0, OPEN + 5 * NANOS_PER_SEC, 100_00, 11))
            .unwrap();
        assert_eq!((bar.start, bar.secs), (UnixNanos(OPEN), 5));
        assert_eq!(bar.end(), UnixNanos(OPEN + 5 * NANOS_PER_SEC));
    }

    #[test]
    fn unknown_instruments_are_ignored() {
        let mut b = BarBuilder::new(1, 60);
        assert_eq!(b.update(&trade(3, OPEN, 100_00, 10)), None);
        assert_eq!(b.forming(InstrumentId(3)), None);
    }
}
