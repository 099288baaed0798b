//! SMA crossover: long when the fast average of bar closes crosses above the slow one.

mod config;

use std::cmp::Ordering;

pub use config::SmaCrossConfig;

use crate::{
    config::ConfigIssue,
    model::{Direction, Instrument, InstrumentTable, Price},
    signal::{indicator::Sma, Bar, Strategy, StrategyContext},
};

/// The fast/slow simple-moving-average crossover on bar closes.
///
/// On the close of a bar where the fast SMA crosses above the slow one it emits
/// [`Direction::Long`] at the close, with a protective stop `stop_pct` below it (rounded
/// down to the instrument's tick, so it never rounds up into the entry). A cross below
/// emits [`Direction::Short`] (stop above, rounded up) when shorts are allowed, else
/// [`Direction::Flat`].
///
/// It emits only on an actual cross: both averages must be warm, and the first warm bar
/// only records which side the fast average is on. Touching (equal averages) is not
/// crossing, so the side stays as it was until the fast average is strictly on the other
/// side; no signal repeats while the relation holds. Averages compare exactly
/// ([`Sma::cmp_mean`]), so flat prices never read as crosses.
///
/// With `allow_short` the strategy is always in the market once the averages first
/// cross: every cross names the other side, so a position is closed and reversed on
/// each one. Backtests use this mode to compare with other tools' classic SmaCross
/// (`tickpipe backtest`, validated against backtesting.py). That library's `crossover`
/// needs the fast average strictly on the other side on both bars, where this strategy
/// remembers the side through a touch; the two differ only on a bar where the averages
/// are exactly equal.
///
/// Subscribes to every equity in the table, or to the configured symbols. Per-instrument
/// state (two windows) is allocated at construction for subscribed instruments only.
#[derive(Debug)]
pub struct SmaCross {
    bar_secs: u32,
    /// Stop distance in hundredths of a percent.
    stop_bps: u32,
    allow_short: bool,
    /// By instrument index; `None` when not subscribed.
    states: Vec<Option<CrossState>>,
}

/// The strategy's state for one instrument.
#[derive(Debug)]
struct CrossState {
    fast: Sma,
    slow: Sma,
    /// Which side the fast average was last strictly on (true: above), once known.
    above: Option<bool>,
    tick_size: Price,
}

impl SmaCross {
    /// The name in reports and on the control socket.
    pub const NAME: &'static str = "sma_cross";

    /// Builds the strategy for the instruments of `instruments`.
    ///
    /// # Errors
    /// Every problem with `config`, each keyed under `prefix` (`strategy.sma_cross`):
    /// invalid values, and listed symbols that are not in the table or are indices.
    pub fn new(
        config: &SmaCrossConfig,
        instruments: &InstrumentTable,
        prefix: &str,
    ) -> Result<SmaCross, Vec<ConfigIssue>> {
        let mut issues = Vec::new();
        config.validate(prefix, &mut issues);
        let wanted =
            super::symbols::equities_or_listed(&config.symbols, instruments, prefix, &mut issues);
        if !issues.is_empty() {
            return Err(issues);
        }
        let states = instruments
            .iter()
            .map(|instrument| {
                wanted[instrument.id.index()].then(|| CrossState {
                    fast: Sma::new(config.fast),
                    slow: Sma::new(config.slow),
                    above: None,
                    tick_size: instrument.tick_size,
                })
            })
            .collect();
        Ok(SmaCross {
            bar_secs: config.bar_secs,
            stop_bps: config.stop_bps(),
            allow_short: config.allow_short,
            states,
        })
    }

    /// The bar length the averages are computed on; bars of other lengths are ignored.
    pub fn bar_secs(&self) -> u32 {
        self.bar_secs
    }
}

impl Strategy for SmaCross {
    fn name(&self) -> &'static str {
        SmaCross::NAME
    }

    fn subscribes(&self, instrument: &Instrument) -> bool {
        self.states
            .get(instrument.id.index())
            .is_some_and(Option::is_some)
    }

    /// It decides on bars only.
    fn wants_ticks(&self, _: &Instrument) -> bool {
        false
    }

    fn on_bar(&mut self, bar: &Bar, ctx: &mut StrategyContext<'_>) {
        if bar.secs != self.bar_secs {
            return;
        }
        let Some(Some(state)) = self.states.get_mut(bar.instrument.index()) else {
            return;
        };
        state.fast.update(bar.close.raw());
        state.slow.update(bar.close.raw());
        let above = match state.fast.cmp_mean(&state.slow) {
            None | Some(Ordering::Equal) => return,
            Some(Ordering::Greater) => true,
            Some(Ordering::Less) => false,
        };
        if state.above.replace(above) != Some(!above) {
            return; // warm-up, or no change of side
        }
        let close = bar.close;
        let (direction, stop) = if above {
            (
                Direction::Long,
                long_stop(close, self.stop_bps, state.tick_size),
            )
        } else if self.allow_short {
            (
                Direction::Short,
                short_stop(close, self.stop_bps, state.tick_size),
            )
        } else {
            (Direction::Flat, Price::ZERO)
        };
        ctx.emit(bar.instrument, direction, close, stop);
    }
}

/// `close` less `bps` hundredths of a percent, rounded down to `tick`; zero (no stop, the
/// risk stage applies its default) if that leaves nothing above zero.
fn long_stop(close: Price, bps: u32, tick: Price) -> Price {
    let raw = i128::from(close.raw()) * i128::from(10_000 - bps.min(10_000)) / 10_000;
    let stop = Price::from_raw(raw as i64).round_down_to_tick(tick);
    if stop.is_positive() {
        stop
    } else {
        Price::ZERO
    }
}

/// `close` plus `bps` hundredths of a percent, rounded up to `tick` (saturating).
fn short_stop(close: Price, bps: u32, tick: Price) -> Price {
    let scaled = i128::from(close.raw()) * i128::from(10_000 + bps);
    let raw = (scaled + 9_999).div_euclid(10_000);
    Price::from_raw(i64::try_from(raw).unwrap_or(i64::MAX)).round_up_to_tick(tick)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        model::{InstrumentId, Signal, Stamp, StrategyId, UnixNanos},
        signal::{
            test_support::{table, MIN, OPEN},
            SignalBatch,
        },
    };

    fn bar(instrument: u32, minute: u64, close_paise: i64) -> Bar {
        let close = Price::from_paise(close_paise);
        Bar {
            instrument: InstrumentId(instrument),
            start: UnixNanos(OPEN + minute * MIN),
            secs: 60,
            open: close,
            high: close,
            low: close,
            close,
            volume: 10,
            trades: 1,
            turnover: 0.0,
        }
    }

    /// Feeds closes (rupees) to instrument 0, one bar a minute; returns the signals with
    /// the index of the bar that caused each.
    fn run(strategy: &mut SmaCross, closes: &[f64]) -> Vec<(usize, Signal)> {
        let mut out = Vec::new();
        let mut batch = SignalBatch::new();
        for (i, &close) in closes.iter().enumerate() {
            let b = bar(0, i as u64, (close * 100.0).round() as i64);
            let mut ctx = batch.context(StrategyId(3), b.end(), Stamp(i as u64 + 1));
            strategy.on_bar(&b, &mut ctx);
            out.extend(batch.signals().iter().map(|s| (i, *s)));
            batch.clear();
        }
        out
    }

    fn strategy(fast: usize, slow: usize, allow_short: bool) -> SmaCross {
        let config = SmaCrossConfig {
            fast,
            slow,
            allow_short,
            ..SmaCrossConfig::default()
        };
        SmaCross::new(&config, &table(), "strategy.sma_cross").unwrap()
    }

    /// Fast 2 / slow 4. Warm at bar 3 with fast below slow (no signal); bar 5 crosses up;
    /// bar 7 touches (equal averages); bar 8 crosses down; the rest stay below.
    const SERIES: [f64; 10] = [
        104.0, 103.0, 102.0, 101.0, 101.0, 103.0, 104.0, 100.0, 99.0, 98.0,
    ];

    #[test]
    fn long_on_up_cross_and_flat_on_down_cross() {
        let mut s = strategy(2, 4, false);
        let signals = run(&mut s, &SERIES);
        let summary: Vec<_> = signals
            .iter()
            .map(|(i, s)| (*i, s.direction, s.price.to_string(), s.stop.to_string()))
            .collect();
        assert_eq!(
            summary,
            [
                // 103 × 0.99 = 101.97, rounded down to the 0.05 tick.
                (5, Direction::Long, "103.00".into(), "101.95".into()),
                (8, Direction::Flat, "99.00".into(), "0.00".into()),
            ]
        );
        let (_, long) = signals[0];
        assert_eq!(long.instrument, InstrumentId(0));
        assert_eq!(long.strategy, StrategyId(3));
        assert_eq!(long.exchange_ts, UnixNanos(OPEN + 6 * MIN));
        assert_eq!(long.ingress, Stamp(6));
    }

    #[test]
    fn short_on_down_cross_when_allowed() {
        let mut s = strategy(2, 4, true);
        let signals = run(&mut s, &SERIES);
        let (i, short) = signals[1];
        assert_eq!((i, short.direction), (8, Direction::Short));
        // 99 × 1.01 = 99.99, rounded up to the 0.05 tick.
        assert_eq!(short.stop.to_string(), "100.00");
    }

    #[test]
    fn with_shorts_allowed_every_cross_reverses() {
        let mut s = strategy(2, 4, true);
        let mut closes = SERIES.to_vec();
        closes.extend([101.0, 104.0, 106.0, 100.0, 95.0]);
        let directions: Vec<_> = run(&mut s, &closes)
            .iter()
            .map(|(i, s)| (*i, s.direction))
            .collect();
        assert_eq!(
            directions,
            [
                (5, Direction::Long),
                (8, Direction::Short),
                (11, Direction::Long),
                (14, Direction::Short)
            ]
        );
    }

    #[test]
    fn nothing_during_warm_up_even_when_the_partial_averages_cross() {
        let mut s = strategy(2, 4, false);
        // The fast average swings around the partial slow one, and the first warm bar
        // has fast above slow: still no signal, since no cross was seen.
        let signals = run(&mut s, &[100.0, 90.0, 110.0, 120.0, 125.0]);
        assert!(signals.is_empty(), "{signals:?}");
    }

    #[test]
    fn no_repeats_while_the_relation_holds_and_touching_is_not_crossing() {
        let mut s = strategy(2, 4, false);
        let mut closes = vec![104.0, 103.0, 102.0, 101.0, 101.0, 103.0];
        closes.extend((0..50).map(|i| 104.0 + f64::from(i))); // a long rally
        let signals = run(&mut s, &closes);
        assert_eq!(signals.len(), 1);
        // Flat prices: the averages become equal and stay equal, no signal either way.
        let mut s = strategy(2, 4, false);
        let mut closes = vec![104.0, 103.0, 102.0, 101.0, 101.0, 103.0];
        closes.extend([100.0; 30]);
        closes.extend([101.0, 102.0]);
        let signals = run(&mut s, &closes);
        let directions: Vec<_> = signals.iter().map(|(i, s)| (*i, s.direction)).collect();
        // Up at bar 5; down at bar 7 (fast 100 < slow 101); from bar 9 the averages
        // are equal (no signal) until the rise at bar 36 lifts fast above slow again.
        assert_eq!(
            directions,
            [
                (5, Direction::Long),
                (7, Direction::Flat),
                (36, Direction::Long)
            ]
        );
    }

    #[test]
    fn default_windows_five_and_twenty() {
        let mut s = SmaCross::new(&SmaCrossConfig::default(), &table(), "s").unwrap();
        // 25 falling bars, then a steady rise: the cross comes when the 5-bar average of
        // the rise overtakes the 20-bar average.
        let mut closes: Vec<f64> = (0..25).map(|i| 200.0 - f64::from(i)).collect();
        closes.extend((1..=20).map(|i| 176.0 + 2.0 * f64::from(i)));
        let signals = run(&mut s, &closes);
        assert_eq!(signals.len(), 1);
        let (i, long) = signals[0];
        assert_eq!(long.direction, Direction::Long);
        // Check against the definition, computed naively in paise.
        let paise: Vec<i64> = closes.iter().map(|c| (c * 100.0) as i64).collect();
        let mean =
            |end: usize, n: usize| paise[end + 1 - n..=end].iter().sum::<i64>() * 20 / n as i64;
        assert!(mean(i, 5) > mean(i, 20));
        assert!(mean(i - 1, 5) <= mean(i - 1, 20));
    }

    #[test]
    fn ignores_bars_of_another_length_and_other_instruments() {
        let mut s = strategy(2, 4, false);
        let mut batch = SignalBatch::new();
        for (i, close) in SERIES.iter().enumerate() {
            let mut b = bar(0, i as u64, (close * 100.0) as i64);
            b.secs = 300;
            s.on_bar(&b, &mut batch.context(StrategyId(0), b.end(), Stamp(1)));
            let b = bar(2, i as u64, (close * 100.0) as i64); // the index: not subscribed
            s.on_bar(&b, &mut batch.context(StrategyId(0), b.end(), Stamp(1)));
            let b = bar(99, i as u64, (close * 100.0) as i64); // not in the table
            s.on_bar(&b, &mut batch.context(StrategyId(0), b.end(), Stamp(1)));
        }
        assert!(batch.signals().is_empty());
    }

    #[test]
    fn subscribes_to_equities_or_the_listed_symbols() {
        let t = table();
        let subscribed = |s: &SmaCross| -> Vec<&str> {
            t.iter()
                .filter(|i| s.subscribes(i))
                .map(|i| i.symbol.as_str())
                .collect()
        };
        let all = SmaCross::new(&SmaCrossConfig::default(), &t, "s").unwrap();
        assert_eq!(subscribed(&all), ["SBIN", "INFY", "TCS"]);
        let config = SmaCrossConfig {
            symbols: vec!["TCS".into(), "NIFTY25DEC24000CE".into()],
            ..SmaCrossConfig::default()
        };
        let listed = SmaCross::new(&config, &t, "s").unwrap();
        assert_eq!(subscribed(&listed), ["NIFTY25DEC24000CE", "TCS"]);
    }

    #[test]
    fn unknown_and_index_symbols_are_config_issues() {
        let config = SmaCrossConfig {
            symbols: vec!["SBIN".into(), "NOPE".into(), "NIFTY 50".into()],
            fast: 30,
            ..SmaCrossConfig::default()
        };
        let issues = SmaCross::new(&config, &table(), "strategy.sma_cross").unwrap_err();
        let text: Vec<String> = issues.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "strategy.sma_cross.fast: is 30, must be smaller than slow (20)",
                "strategy.sma_cross.symbols: NOPE is not in the instrument table",
                "strategy.sma_cross.symbols: NIFTY 50 is an index, which cannot be traded",
            ]
        );
    }

    #[test]
    fn stops_round_away_from_the_entry() {
        let tick = Price::from_paise(5);
        let p = |s: &str| s.parse::<Price>().unwrap();
        assert_eq!(long_stop(p("2450.05"), 100, tick), p("2425.50")); // 2425.5495
        assert_eq!(short_stop(p("2450.05"), 100, tick), p("2474.60")); // 2474.5505
        assert_eq!(long_stop(p("100"), 2000, tick), p("80"));
        assert_eq!(short_stop(p("100"), 2000, tick), p("120"));
        // A stop that would round to zero is left to the risk stage's default.
        assert_eq!(long_stop(p("0.05"), 100, tick), Price::ZERO);
        assert_eq!(
            short_stop(Price::MAX, 100, tick),
            Price::MAX.round_up_to_tick(tick)
        );
    }
}
