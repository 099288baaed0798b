//! The strategy on small hand-made markets: each test feeds bars through a shared
//! [`IndicatorBank`] and then the strategy, in the order the signal stage does.

// Paise literals are grouped as rupees_paise: `101_50` is 101.50 rupees.
#![allow(clippy::inconsistent_digit_grouping)]

use super::*;
use crate::{
    model::{Signal, Stamp, StrategyId},
    signal::{
        test_support::{table, trade, MIN, OPEN},
        SignalBatch,
    },
};

const PREFIX: &str = "strategy.momentum_surfer";
/// SBIN in the test table.
const SBIN: u32 = 0;

/// Short windows so a dozen bars make a setup: EMA(3) slope over 2 bars, a 5-bar range,
/// volume scored against 5 bars, ATR(3), 6 warm-up bars.
fn config() -> MomentumSurferConfig {
    MomentumSurferConfig {
        enabled: true,
        ema_period: 3,
        slope_bars: 2,
        min_slope_bps: 1.0,
        range_bars: 5,
        volume_bars: 5,
        volume_z: 2.0,
        atr_period: 3,
        stop_atr: 1.5,
        target_atr: 2.5,
        max_hold_bars: 0,
        reentry_bars: 3,
        warmup_bars: 6,
        allow_short: false,
        ..MomentumSurferConfig::default()
    }
}

/// A one-minute bar of `instrument` starting `minute` minutes after the 09:15 open;
/// prices in paise. Its turnover puts the bar's own VWAP at the close.
fn bar_of(instrument: u32, minute: u64, ohlc: [i64; 4], volume: u64) -> Bar {
    let [open, high, low, close] = ohlc.map(Price::from_paise);
    Bar {
        instrument: InstrumentId(instrument),
        start: UnixNanos(OPEN + minute * MIN),
        secs: 60,
        open,
        high,
        low,
        close,
        volume,
        trades: 10,
        turnover: close.to_f64() * volume as f64,
    }
}

/// The bank, the strategy and a signal batch, driven like the stage drives them.
struct Market {
    bank: IndicatorBank,
    strategy: MomentumSurfer,
    batch: SignalBatch,
}

impl Market {
    fn new(config: MomentumSurferConfig) -> Market {
        let t = table();
        let mut bank = IndicatorBank::new(t.len());
        let strategy = MomentumSurfer::new(&config, &t, PREFIX, &mut bank).unwrap();
        Market {
            bank,
            strategy,
            batch: SignalBatch::new(),
        }
    }

    /// Closes `bar`: the bank first, then the strategy; returns its signals.
    fn bar(&mut self, bar: Bar) -> Vec<Signal> {
        self.bank.on_bar(&bar);
        let mut ctx = self
            .batch
            .context(StrategyId(1), bar.end(), Stamp(7))
            .with_indicators(&self.bank);
        self.strategy.on_bar(&bar, &mut ctx);
        self.drain()
    }

    fn bars(&mut self, bars: &[Bar]) -> Vec<Signal> {
        bars.iter().flat_map(|b| self.bar(*b)).collect()
    }

    /// A trade tick of SBIN at `minute` (plus 30 s) and `paise`.
    fn tick(&mut self, minute: u64, paise: i64) -> Vec<Signal> {
        let tick = trade(SBIN, OPEN + minute * MIN + MIN / 2, paise, 1_000_000);
        let mut ctx = self
            .batch
            .context(StrategyId(1), tick.exchange_ts, tick.ingress)
            .with_indicators(&self.bank);
        self.strategy.on_tick(&tick, &mut ctx);
        self.drain()
    }

    fn drain(&mut self) -> Vec<Signal> {
        let out = self.batch.signals().to_vec();
        self.batch.clear();
        out
    }

    fn state(&self) -> &SurferState {
        self.strategy.states[SBIN as usize].as_ref().unwrap()
    }

    fn value(&self, handle: fn(&Handles) -> IndicatorHandle) -> f64 {
        let handle = handle(&self.state().handles);
        self.bank.value(handle, InstrumentId(SBIN)).unwrap()
    }
}

/// Eleven quiet bars from `first` (minutes after the open) drifting up from 100.00 by a
/// tick a bar, each 0.40 from low to high (so every true range, and the ATR, is 0.40),
/// volumes alternating 1000 / 1400.
fn rising_base(first: u64) -> Vec<Bar> {
    (0..11)
        .map(|i| {
            let close = 100_00 + 5 * i as i64;
            let open = if i == 0 { close } else { close - 5 };
            let volume = if i % 2 == 0 { 1000 } else { 1400 };
            bar_of(
                SBIN,
                first + i,
                [open, close + 20, close - 20, close],
                volume,
            )
        })
        .collect()
}

/// The bar after [`rising_base`]: closes at 101.50, far above the base's highs (100.70
/// at most), on `volume`. Its true range is 1.15, so ATR(3) becomes (2 × 0.40 + 1.15) / 3
/// = 0.65.
fn breakout(first: u64, volume: u64) -> Bar {
    bar_of(SBIN, first + 11, [100_50, 101_60, 100_45, 101_50], volume)
}

/// The mirror image of [`rising_base`]: down from 100.50 to 100.00.
fn falling_base(first: u64) -> Vec<Bar> {
    (0..11)
        .map(|i| {
            let close = 100_50 - 5 * i as i64;
            let open = if i == 0 { close } else { close + 5 };
            let volume = if i % 2 == 0 { 1000 } else { 1400 };
            bar_of(
                SBIN,
                first + i,
                [open, close + 20, close - 20, close],
                volume,
            )
        })
        .collect()
}

/// The bar after [`falling_base`]: closes at 99.00 on heavy volume, true range 1.15.
fn breakdown(first: u64) -> Bar {
    bar_of(SBIN, first + 11, [100_00, 100_05, 98_90, 99_00], 5000)
}

fn price(s: &str) -> Price {
    s.parse().unwrap()
}

/// Feeds the rising base and the breakout to a fresh market; returns it with the
/// breakout's signals.
fn entered(config: MomentumSurferConfig) -> (Market, Vec<Signal>) {
    let mut m = Market::new(config);
    assert!(m.bars(&rising_base(0)).is_empty(), "no setup in the base");
    let signals = m.bar(breakout(0, 5000));
    (m, signals)
}

#[test]
fn a_clean_breakout_goes_long_with_atr_stop_and_target_on_the_tick_grid() {
    let (m, signals) = entered(config());
    // The setup, read back from the bank.
    assert!(m.value(|h| h.vwap) < 101.5);
    assert!(m.value(|h| h.volume_z) > 2.0);
    assert!((m.value(|h| h.atr) - 0.65).abs() < 1e-9);
    assert!(m.state().ema_slope_bps().unwrap() > 1.0);
    assert_eq!(signals.len(), 1, "{signals:?}");
    let s = signals[0];
    assert_eq!(
        (s.instrument, s.strategy, s.direction),
        (InstrumentId(SBIN), StrategyId(1), Direction::Long)
    );
    assert_eq!(s.price, price("101.50"));
    // 101.50 − 1.5 × 0.65 = 100.525, rounded down to the 0.05 tick.
    assert_eq!(s.stop, price("100.50"));
    assert_eq!(s.exchange_ts, UnixNanos(OPEN + 12 * MIN));
    // 101.50 + 2.5 × 0.65 = 103.125, rounded up.
    let trade = m.state().trade.unwrap();
    assert_eq!(trade.side, Side::Long);
    assert_eq!(trade.levels.target, price("103.15"));
    assert_eq!(trade.levels.stop, s.stop);
}

#[test]
fn a_breakout_on_ordinary_volume_is_not_traded() {
    let mut m = Market::new(config());
    m.bars(&rising_base(0));
    assert!(m.bar(breakout(0, 1300)).is_empty());
    assert!(m.value(|h| h.volume_z) < 2.0);
}

#[test]
fn no_long_below_the_session_vwap() {
    let mut m = Market::new(config());
    let mut bars = rising_base(0);
    // The day opened much higher on heavy volume, so the session VWAP sits near 108.
    bars[0] = bar_of(SBIN, 0, [110_00, 110_20, 109_80, 110_00], 100_000);
    assert!(m.bars(&bars).is_empty());
    assert!(m.bar(breakout(0, 5000)).is_empty());
    assert!(m.value(|h| h.vwap) > 101.5);
}

#[test]
fn no_long_while_the_ema_falls() {
    // A slide from 104.50 on light volume, a tight base at 100, then a break of the
    // base on heavy volume: above the VWAP and the range, but a slow EMA still falls.
    let mut bars: Vec<Bar> = (0..10)
        .map(|i| {
            let close = 104_50 - 50 * i as i64;
            bar_of(SBIN, i, [close, close + 20, close - 20, close], 100)
        })
        .collect();
    for i in 10..15 {
        let close = if i % 2 == 0 { 100_00 } else { 100_05 };
        let volume = if i % 2 == 0 { 1000 } else { 1400 };
        bars.push(bar_of(
            SBIN,
            i,
            [close, close + 20, close - 20, close],
            volume,
        ));
    }
    bars.push(bar_of(SBIN, 15, [100_00, 100_70, 99_95, 100_60], 5000));

    let slow = MomentumSurferConfig {
        ema_period: 10,
        ..config()
    };
    let mut m = Market::new(slow);
    assert!(m.bars(&bars).is_empty());
    assert!(m.value(|h| h.vwap) < 100.6 && m.value(|h| h.volume_z) > 2.0);
    assert!(m.state().ema_slope_bps().unwrap() < 0.0);

    // The same bars with a fast EMA, which has turned up: long.
    let mut m = Market::new(config());
    let signals = m.bars(&bars);
    assert_eq!(signals.len(), 1);
    assert_eq!(signals[0].direction, Direction::Long);
}

#[test]
fn a_slope_below_the_minimum_is_not_enough() {
    let steep = MomentumSurferConfig {
        min_slope_bps: 1000.0,
        ..config()
    };
    let (m, signals) = entered(steep);
    assert!(signals.is_empty());
    assert!(m.state().ema_slope_bps().unwrap() > 0.0);
}

#[test]
fn the_target_on_a_tick_exits_once() {
    let (mut m, _) = entered(config());
    assert!(m.tick(12, 103_10).is_empty(), "short of the target");
    let exit = m.tick(12, 103_15);
    assert_eq!(exit.len(), 1);
    assert_eq!(
        (exit[0].direction, exit[0].price, exit[0].stop),
        (Direction::Flat, price("103.15"), Price::ZERO)
    );
    assert!(m.tick(12, 103_50).is_empty(), "out already");
    assert!(m.state().trade.is_none());
}

#[test]
fn with_targets_to_risk_the_entry_carries_the_target_and_the_trend_break_still_exits() {
    let (_, own) = entered(config());
    assert_eq!(
        own[0].target,
        price("103.15"),
        "the entry always carries it"
    );
    let mut m = Market::new(config());
    m.strategy = std::mem::replace(
        &mut m.strategy,
        MomentumSurfer::new(
            &config(),
            &table(),
            PREFIX,
            &mut IndicatorBank::new(table().len()),
        )
        .unwrap(),
    )
    .with_targets_to_risk(true);
    m.bars(&rising_base(0));
    assert_eq!(m.bar(breakout(0, 5000))[0].target, price("103.15"));
    assert!(
        m.tick(12, 103_50).is_empty(),
        "the risk stage books the target"
    );
    assert!(m.state().trade.is_some(), "the trade stays on record");
    let exit = m.bar(bar_of(SBIN, 12, [103_50, 103_55, 99_90, 100_00], 30_000));
    assert_eq!(exit.len(), 1, "a close back under the VWAP still exits");
    assert_eq!(exit[0].direction, Direction::Flat);
}

#[test]
fn a_close_back_below_the_vwap_exits() {
    let (mut m, _) = entered(config());
    // Two strong bars on big volume pull the session VWAP up to about 101.63 ...
    let strong = [
        bar_of(SBIN, 12, [101_50, 102_20, 101_45, 102_00], 20_000),
        bar_of(SBIN, 13, [102_00, 102_40, 101_95, 102_20], 20_000),
    ];
    assert!(m.bars(&strong).is_empty(), "above the VWAP: hold");
    // ... and a bar closing at 101.40 (above the 100.50 stop) falls back under it.
    let exit = m.bar(bar_of(SBIN, 14, [102_20, 102_25, 101_35, 101_40], 1000));
    assert!(m.value(|h| h.vwap) > 101.4);
    assert_eq!(exit.len(), 1);
    assert_eq!(
        (exit[0].direction, exit[0].price),
        (Direction::Flat, price("101.40"))
    );
    assert!(m.state().trade.is_none());
}

#[test]
fn the_time_stop_exits_after_max_hold_bars() {
    let held = MomentumSurferConfig {
        max_hold_bars: 2,
        ..config()
    };
    let (mut m, _) = entered(held);
    assert!(m
        .bar(bar_of(SBIN, 12, [101_50, 101_70, 101_45, 101_60], 1200))
        .is_empty());
    let exit = m.bar(bar_of(SBIN, 13, [101_60, 101_80, 101_55, 101_70], 1200));
    assert_eq!(exit.len(), 1);
    assert_eq!(exit[0].direction, Direction::Flat);
}

#[test]
fn the_stop_is_left_to_risk_and_ends_the_trade_here() {
    let (mut m, _) = entered(config());
    assert!(m.tick(12, 100_50).is_empty(), "risk closes at the stop");
    assert!(m.state().trade.is_none());
    // So a later close under the VWAP has nothing to exit.
    assert!(m
        .bar(bar_of(SBIN, 12, [100_50, 100_55, 100_20, 100_25], 1000))
        .is_empty());
}

#[test]
fn no_reentry_in_the_same_direction_until_the_pause_is_over() {
    // Out at the target during the bar after the entry, then another breakout on the
    // very next bar.
    let again = bar_of(SBIN, 12, [101_50, 103_60, 101_45, 103_50], 8000);
    for (pause, expected) in [(3, 0), (1, 1), (0, 1)] {
        let (mut m, _) = entered(MomentumSurferConfig {
            reentry_bars: pause,
            ..config()
        });
        assert_eq!(m.tick(12, 103_15).len(), 1);
        let signals = m.bar(again);
        assert_eq!(signals.len(), expected, "pause {pause}: {signals:?}");
        if expected == 1 {
            assert_eq!(signals[0].direction, Direction::Long);
        }
    }
}

#[test]
fn shorts_the_mirror_image_only_when_allowed() {
    let mut m = Market::new(config());
    m.bars(&falling_base(0));
    assert!(m.bar(breakdown(0)).is_empty(), "shorts are off");

    let mut m = Market::new(MomentumSurferConfig {
        allow_short: true,
        ..config()
    });
    assert!(m.bars(&falling_base(0)).is_empty());
    let signals = m.bar(breakdown(0));
    assert_eq!(signals.len(), 1);
    let s = signals[0];
    assert_eq!((s.direction, s.price), (Direction::Short, price("99.00")));
    // 99.00 + 1.5 × 0.65 = 99.975, rounded up; target 99.00 − 2.5 × 0.65 = 97.375,
    // rounded down.
    assert_eq!(s.stop, price("100.00"));
    assert_eq!(m.state().trade.unwrap().levels.target, price("97.35"));
    assert!(m.tick(12, 97_40).is_empty());
    let exit = m.tick(12, 97_35);
    assert_eq!(
        (exit[0].direction, exit[0].price),
        (Direction::Flat, price("97.35"))
    );
}

#[test]
fn nothing_during_the_warm_up_bars() {
    // The breakout is the day's twelfth bar.
    let late = MomentumSurferConfig {
        warmup_bars: 12,
        ..config()
    };
    assert!(entered(late).1.is_empty());
    let early = MomentumSurferConfig {
        warmup_bars: 11,
        ..config()
    };
    assert_eq!(entered(early).1.len(), 1);
}

#[test]
fn no_entries_after_last_entry() {
    // From 14:33 the breakout bar ends at 14:45, from 14:34 at 14:46.
    let from_0933 = 14 * 60 + 33 - (9 * 60 + 15);
    for (first, expected) in [(from_0933, 1), (from_0933 + 1, 0)] {
        let mut m = Market::new(config());
        m.bars(&rising_base(first));
        assert_eq!(m.bar(breakout(first, 5000)).len(), expected, "{first}");
    }
}

#[test]
fn each_day_starts_afresh() {
    let (mut m, signals) = entered(config());
    assert_eq!(signals.len(), 1);
    // The next day: yesterday's trade is forgotten (squared off), the warm-up, range
    // and EMA window start again, and the same setup trades again.
    let day = 24 * 60;
    let base = rising_base(day);
    assert!(m.bars(&base[..3]).is_empty());
    assert_eq!(m.state().bars_today, 3);
    assert!(m.state().trade.is_none());
    assert!(m.bars(&base[3..]).is_empty());
    let signals = m.bar(breakout(day, 5000));
    assert_eq!(signals.len(), 1);
    assert_eq!(signals[0].direction, Direction::Long);
}

#[test]
fn a_stale_trade_does_not_exit_on_the_next_days_ticks() {
    let (mut m, _) = entered(config());
    assert!(m.tick(24 * 60, 110_00).is_empty());
    assert!(m.state().trade.is_none());
}

#[test]
fn ignores_bars_of_another_length_and_other_instruments() {
    let mut m = Market::new(config());
    let mut bars = rising_base(0);
    bars.push(breakout(0, 5000));
    for b in &bars {
        let mut five = *b;
        five.secs = 300;
        assert!(m.bar(five).is_empty());
        for other in [2, 99] {
            // The index (not subscribed) and an instrument outside the table.
            assert!(m
                .bar(Bar {
                    instrument: InstrumentId(other),
                    ..*b
                })
                .is_empty());
        }
    }
    assert_eq!(m.state().bars_today, 0);
    // INFY's bars do not touch SBIN's state, and the other way round.
    let mut infy = Market::new(config());
    for b in &bars {
        infy.bar(Bar {
            instrument: InstrumentId(1),
            ..*b
        });
    }
    assert_eq!(infy.state().bars_today, 0);
    assert!(infy.strategy.states[1].as_ref().unwrap().trade.is_some());
}

#[test]
fn requests_its_indicators_for_each_subscribed_instrument() {
    let t = table();
    let mut bank = IndicatorBank::new(t.len());
    let s = MomentumSurfer::new(&config(), &t, PREFIX, &mut bank).unwrap();
    assert_eq!(bank.specs(), 4, "VWAP, EMA, ATR, volume z-score");
    assert_eq!(bank.instances(), 4 * 3, "for SBIN, INFY and TCS");
    assert_eq!(bank.bar_lengths(), [60]);
    assert_eq!(s.bar_secs(), 60);
    let subscribed: Vec<_> = t
        .iter()
        .filter(|i| s.subscribes(i))
        .map(|i| i.symbol.as_str())
        .collect();
    assert_eq!(subscribed, ["SBIN", "INFY", "TCS"]);
    let listed = MomentumSurferConfig {
        symbols: vec!["TCS".into()],
        ..config()
    };
    let mut bank = IndicatorBank::new(t.len());
    let s = MomentumSurfer::new(&listed, &t, PREFIX, &mut bank).unwrap();
    assert_eq!(bank.instances(), 4);
    assert!(t
        .iter()
        .filter(|i| s.subscribes(i))
        .all(|i| i.symbol == "TCS"));
}

#[test]
fn every_problem_is_a_config_issue_at_build_time() {
    let bad = MomentumSurferConfig {
        symbols: vec!["SBIN".into(), "NOPE".into(), "NIFTY 50".into()],
        stop_atr: 4.0,
        last_entry: "noon".into(),
        ..config()
    };
    let mut bank = IndicatorBank::new(table().len());
    let issues = MomentumSurfer::new(&bad, &table(), PREFIX, &mut bank).unwrap_err();
    let text: Vec<String> = issues.iter().map(ToString::to_string).collect();
    assert_eq!(
        text,
        [
            "strategy.momentum_surfer.stop_atr: is 4, must be smaller than target_atr (2.5): \
             a trend trade risks less than it aims for",
            "strategy.momentum_surfer.last_entry: is \"noon\", must be a time of day, \
             \"HH:MM\" or \"HH:MM:SS\" (IST)",
            "strategy.momentum_surfer.symbols: NOPE is not in the instrument table",
            "strategy.momentum_surfer.symbols: NIFTY 50 is an index, which cannot be traded",
        ]
    );
    assert_eq!(bank.specs(), 0, "nothing requested for an invalid section");
}
