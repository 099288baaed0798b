//! Bars as market events: each OHLCV bar becomes four trade ticks in market time, so the
//! feed, signal, risk and order stages (and the paper exchange) can trade a bar file as
//! they trade a live day.
//!
//! **The intra-bar path.** A bar says where the price went, not in which order, so one
//! order is assumed, the one most bar backtesters assume: an up bar (close at or above the
//! open) went open → low → high → close, and a down bar open → high → low → close. The
//! extreme nearer the close is visited last, so a stop or target between them triggers
//! the way the bar most likely traded. Every bar yields all four legs, repeated prices
//! included, so every bar takes the same number of events.
//!
//! **When.** A bar of `secs` seconds starting at `t` trades its legs at `t`, `t + secs/4`,
//! `t + secs/2` and `t + 3·secs/4`: inside the bar's interval, strictly increasing, the
//! same on every run. The signal stage's bar builder therefore rebuilds the very bar of
//! the file (same interval, open, high, low, close and volume), and closes it when the
//! next bar's open arrives; a strategy deciding on that close trades at the next open, as
//! `--fill next-open` does without the pipeline.
//!
//! **How much.** The bar's volume is spread over the legs: a quarter each, the remainder
//! one unit at a time to the first legs. Each leg is a [`TickKind::Trade`] with that
//! quantity and the day's cumulative volume (saturating at `u32::MAX`). The book shown
//! with it is one tick wide: the bid is the trade price and the ask one tick (the
//! instrument's tick size, from the instrument table) above it, each displaying the leg's
//! quantity, so a buy pays one tick of spread and `[paper] partial_fills` has depth to
//! read. A leg of zero quantity displays zero, which the paper exchange reads as "no
//! depth" and fills in full.

use crate::{
    feed::{FeedError, MarketSource, SourcePoll},
    model::{InstrumentId, MarketEvent, Price, Stamp, Tick, TickKind, UnixNanos},
};

use super::OhlcvBar;

/// Legs per bar.
pub const LEGS: usize = 4;

const NANOS_PER_SEC: u64 = 1_000_000_000;

/// The four prices a bar trades, in order (see the module doc).
///
/// # Examples
/// ```
/// use tickpipe::{backtest::{bar_path, OhlcvBar}, model::Price};
/// let p = Price::from_paise;
/// let up = OhlcvBar { open: p(100_00), high: p(105_00), low: p(99_00), close: p(104_00), ..OhlcvBar::default() };
/// assert_eq!(bar_path(&up), [p(100_00), p(99_00), p(105_00), p(104_00)]);
/// let down = OhlcvBar { close: p(99_50), ..up };
/// assert_eq!(bar_path(&down), [p(100_00), p(105_00), p(99_00), p(99_50)]);
/// ```
pub fn bar_path(bar: &OhlcvBar) -> [Price; LEGS] {
    if bar.close >= bar.open {
        [bar.open, bar.low, bar.high, bar.close]
    } else {
        [bar.open, bar.high, bar.low, bar.close]
    }
}

/// The ticks of one bar of `secs` seconds for `instrument` with tick size `tick`;
/// `cum_volume` is the day's volume before the bar, and is moved past it.
pub fn bar_ticks(
    bar: &OhlcvBar,
    secs: u32,
    instrument: InstrumentId,
    tick: Price,
    cum_volume: &mut u32,
) -> [Tick; LEGS] {
    let step = u64::from(secs) * NANOS_PER_SEC / LEGS as u64;
    let share = bar.volume / LEGS as u64;
    let extra = bar.volume % LEGS as u64;
    let path = bar_path(bar);
    std::array::from_fn(|leg| {
        let qty = share + u64::from((leg as u64) < extra);
        let qty = u32::try_from(qty).unwrap_or(u32::MAX);
        *cum_volume = cum_volume.saturating_add(qty);
        let last = path[leg];
        Tick {
            exchange_ts: bar.at.add_nanos(step * leg as u64),
            ingress: Stamp(0),
            last,
            bid: last,
            ask: Price::from_raw(last.raw().saturating_add(tick.raw())),
            instrument,
            volume: *cum_volume,
            last_qty: qty,
            bid_qty: qty,
            ask_qty: qty,
            kind: TickKind::Trade,
        }
    })
}

/// One trading day of bars as a [`MarketSource`]: the events are worked out when it is
/// built, so polling only hands them out (no allocation, no I/O).
#[derive(Debug, Clone)]
pub struct BarEvents {
    events: Vec<MarketEvent>,
    next: usize,
}

impl BarEvents {
    /// The events of `bars` (one day's, in time order), `secs` seconds each, for
    /// `instrument` whose tick size is `tick`.
    pub fn new(bars: &[OhlcvBar], secs: u32, instrument: InstrumentId, tick: Price) -> BarEvents {
        let mut events = Vec::with_capacity(bars.len() * LEGS);
        let mut cum_volume = 0;
        for bar in bars {
            let ticks = bar_ticks(bar, secs, instrument, tick, &mut cum_volume);
            events.extend(ticks.into_iter().map(MarketEvent::Tick));
        }
        BarEvents { events, next: 0 }
    }

    /// Market time of the first event (the first bar's start); `None` without bars.
    pub fn start(&self) -> Option<UnixNanos> {
        self.events.first().map(MarketEvent::exchange_ts)
    }

    /// How many events it plays.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// True when it plays nothing.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }
}

impl MarketSource for BarEvents {
    fn poll_event(&mut self) -> Result<SourcePoll, FeedError> {
        let Some(&event) = self.events.get(self.next) else {
            return Ok(SourcePoll::End);
        };
        self.next += 1;
        Ok(SourcePoll::Event(event))
    }
}

// Prices in the tests are written as rupees_paise.
#[cfg(test)]
#[allow(clippy::inconsistent_digit_grouping)]
mod tests {
    use super::*;
    use crate::model::{Date, TimeOfDay};

    fn p(paise: i64) -> Price {
        Price::from_paise(paise)
    }

    fn bar(minute: u32, ohlc: [i64; 4], volume: u64) -> OhlcvBar {
        OhlcvBar {
            at: UnixNanos::from_ist(Date::new(2026, 11, 25), TimeOfDay::hm(9, 15 + minute)),
            date: Date::new(2026, 11, 25),
            open: p(ohlc[0]),
            high: p(ohlc[1]),
            low: p(ohlc[2]),
            close: p(ohlc[3]),
            volume,
            ..OhlcvBar::default()
        }
    }

    fn ticks(source: &mut BarEvents) -> Vec<Tick> {
        let mut out = Vec::new();
        loop {
            match source.poll_event().unwrap() {
                SourcePoll::Event(MarketEvent::Tick(t)) => out.push(t),
                SourcePoll::Event(other) => panic!("not a tick: {other:?}"),
                SourcePoll::Pending => panic!("a bar file never waits"),
                SourcePoll::End => return out,
            }
        }
    }

    #[test]
    fn up_bars_dip_first_and_down_bars_rally_first() {
        let up = bar(0, [100_00, 102_00, 99_50, 101_00], 0);
        assert_eq!(bar_path(&up), [p(100_00), p(99_50), p(102_00), p(101_00)]);
        let down = bar(0, [100_00, 102_00, 99_50, 99_75], 0);
        assert_eq!(bar_path(&down), [p(100_00), p(102_00), p(99_50), p(99_75)]);
        // Unchanged close counts as up: low first.
        let flat = bar(0, [100_00, 100_50, 99_90, 100_00], 0);
        assert_eq!(bar_path(&flat), [p(100_00), p(99_90), p(100_50), p(100_00)]);
    }

    #[test]
    fn legs_sit_inside_the_bar_in_order_and_bars_follow_each_other() {
        let bars = [
            bar(0, [100_00, 102_00, 99_50, 101_00], 10),
            bar(1, [101_00, 101_50, 98_00, 98_50], 10),
        ];
        let mut source = BarEvents::new(&bars, 60, InstrumentId(3), p(5));
        assert_eq!(source.len(), 8);
        assert_eq!(source.start(), Some(bars[0].at));
        let got = ticks(&mut source);
        let offsets: Vec<u64> = got.iter().map(|t| t.exchange_ts.0 - bars[0].at.0).collect();
        let s = NANOS_PER_SEC;
        assert_eq!(
            offsets,
            [0, 15 * s, 30 * s, 45 * s, 60 * s, 75 * s, 90 * s, 105 * s]
        );
        let prices: Vec<Price> = got.iter().map(|t| t.last).collect();
        assert_eq!(
            prices,
            [
                p(100_00),
                p(99_50),
                p(102_00),
                p(101_00),
                p(101_00),
                p(101_50),
                p(98_00),
                p(98_50)
            ]
        );
        assert!(got.iter().all(|t| t.kind == TickKind::Trade
            && t.instrument == InstrumentId(3)
            && t.bid == t.last
            && t.ask == Price::from_raw(t.last.raw() + p(5).raw())));
        // Exhausted for good.
        assert_eq!(source.poll_event().unwrap(), SourcePoll::End);
    }

    #[test]
    fn volume_is_spread_over_the_legs_and_accumulates() {
        let bars = [
            bar(0, [100_00, 101_00, 99_00, 100_50], 10),
            bar(1, [100_50, 101_00, 100_00, 100_00], 3),
        ];
        let got = ticks(&mut BarEvents::new(&bars, 60, InstrumentId(0), p(5)));
        let qty: Vec<u32> = got.iter().map(|t| t.last_qty).collect();
        assert_eq!(qty, [3, 3, 2, 2, 1, 1, 1, 0]);
        let cum: Vec<u32> = got.iter().map(|t| t.volume).collect();
        assert_eq!(cum, [3, 6, 8, 10, 11, 12, 13, 13]);
        assert!(got
            .iter()
            .all(|t| t.bid_qty == t.last_qty && t.ask_qty == t.last_qty));
    }

    #[test]
    fn the_signal_stage_rebuilds_the_bar_of_the_file() {
        let bars = [
            bar(0, [100_00, 102_00, 99_50, 101_00], 1_000),
            bar(1, [101_00, 101_50, 98_00, 98_50], 7),
        ];
        let mut builder = crate::signal::BarBuilder::new(1, 60);
        let mut closed = Vec::new();
        for t in ticks(&mut BarEvents::new(&bars, 60, InstrumentId(0), p(5))) {
            closed.extend(builder.update(&t));
        }
        // The second bar closes only when a later one opens; the first is whole.
        assert_eq!(closed.len(), 1);
        let built = closed[0];
        assert_eq!(built.start, bars[0].at);
        assert_eq!(
            (built.open, built.high, built.low, built.close, built.volume),
            (p(100_00), p(102_00), p(99_50), p(101_00), 1_000)
        );
        let forming = builder.forming(InstrumentId(0)).unwrap();
        assert_eq!(
            (
                forming.open,
                forming.high,
                forming.low,
                forming.close,
                forming.volume
            ),
            (p(101_00), p(101_50), p(98_00), p(98_50), 7)
        );
    }
}
