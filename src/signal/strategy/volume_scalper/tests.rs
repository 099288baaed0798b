//! The scalper on a small market, fed as the stage feeds it: each closed bar goes to the
//! shared indicators first, then to the strategy; ticks go to the strategy alone.
//!
//! The warm-up volumes alternate 900 and 1100, so once twenty of them fill the lookback
//! the volume z-score of a bar is `(volume − 1000) / 100`: 1300 scores exactly 3.

// Paise literals are grouped as rupees_paise: `100_25` is 100.25 rupees.
#![allow(clippy::inconsistent_digit_grouping)]

use super::*;
use crate::{
    model::{InstrumentId, Signal, Stamp, StrategyId, TickKind, UnixNanos},
    signal::{
        test_support::{table, MIN, NANOS_PER_SEC, OPEN},
        SignalBatch,
    },
};

const SBIN: u32 = 0;
const PREFIX: &str = "strategy.volume_scalper";

fn config() -> VolumeScalperConfig {
    VolumeScalperConfig {
        enabled: true,
        ..VolumeScalperConfig::default()
    }
}

/// A one-minute bar of `instrument` starting `minute` minutes after 09:15 IST.
fn bar(instrument: u32, minute: u64, ohlc: [i64; 4], volume: u64) -> Bar {
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

/// A quote of SBIN at `ts` with the given last, bid and ask (paise).
fn quote(ts: u64, last: i64, bid: i64, ask: i64) -> Tick {
    Tick {
        exchange_ts: UnixNanos(ts),
        ingress: Stamp(1),
        last: Price::from_paise(last),
        bid: Price::from_paise(bid),
        ask: Price::from_paise(ask),
        instrument: InstrumentId(SBIN),
        volume: 0,
        last_qty: 0,
        bid_qty: 100,
        ask_qty: 100,
        kind: TickKind::Quote,
    }
}

/// A quiet bar at 100.00 with a 0.05 range either side: never confirms a side.
const QUIET: [i64; 4] = [100_00, 100_05, 99_95, 100_00];
/// An up bar: +25 bps, closing 0.05 under a 0.35 range's high.
const UP: [i64; 4] = [100_00, 100_30, 99_95, 100_25];
/// Its mirror image.
const DOWN: [i64; 4] = [100_00, 100_05, 99_70, 99_75];

/// The strategy, the bank it reads and a signal buffer: what the stage holds.
struct Market {
    strategy: VolumeScalper,
    bank: IndicatorBank,
    batch: SignalBatch,
}

impl Market {
    fn new(config: &VolumeScalperConfig) -> Market {
        let table = table();
        let mut bank = IndicatorBank::new(table.len());
        let strategy = VolumeScalper::new(config, &table, PREFIX, &mut bank).unwrap();
        Market {
            strategy,
            bank,
            batch: SignalBatch::new(),
        }
    }

    /// Closes `bar` at its end; returns the signals it caused.
    fn bar(&mut self, bar: Bar) -> Vec<Signal> {
        self.bank.on_bar(&bar);
        let mut ctx = self
            .batch
            .context(StrategyId(1), bar.end(), Stamp(1))
            .with_indicators(&self.bank);
        self.strategy.on_bar(&bar, &mut ctx);
        let signals = self.batch.signals().to_vec();
        self.batch.clear();
        signals
    }

    fn tick(&mut self, tick: Tick) -> Vec<Signal> {
        let mut ctx = self
            .batch
            .context(StrategyId(1), tick.exchange_ts, tick.ingress)
            .with_indicators(&self.bank);
        self.strategy.on_tick(&tick, &mut ctx);
        let signals = self.batch.signals().to_vec();
        self.batch.clear();
        signals
    }

    /// Quiet SBIN bars for minutes `from..to`, volumes alternating 900 / 1100; none
    /// may signal.
    fn quiet(&mut self, from: u64, to: u64) {
        for minute in from..to {
            let volume = if minute % 2 == 0 { 900 } else { 1100 };
            let signals = self.bar(bar(SBIN, minute, QUIET, volume));
            assert!(signals.is_empty(), "minute {minute}: {signals:?}");
        }
    }

    /// The volume z-score the bank holds for SBIN after the last bar.
    fn z(&self) -> Option<f64> {
        let handle = self.strategy.volume_z.expect("SBIN is subscribed");
        self.bank.value(handle, InstrumentId(SBIN))
    }
}

/// A market warmed up with twenty quiet bars before `minute`.
fn warm(config: &VolumeScalperConfig, minute: u64) -> Market {
    let mut market = Market::new(config);
    market.quiet(minute - 20, minute);
    market
}

/// What the tests compare: direction, price and stop as text.
fn summary(signals: &[Signal]) -> Vec<(Direction, String, String)> {
    signals
        .iter()
        .map(|s| (s.direction, s.price.to_string(), s.stop.to_string()))
        .collect()
}

fn long_at(price: &str, stop: &str) -> Vec<(Direction, String, String)> {
    vec![(Direction::Long, price.into(), stop.into())]
}

fn flat_at(price: &str) -> Vec<(Direction, String, String)> {
    vec![(Direction::Flat, price.into(), "0.00".into())]
}

#[test]
fn a_confirmed_spike_goes_long_with_its_stop_beyond_the_low() {
    let mut m = warm(&config(), 20); // the spike closes at 09:36
    let signals = m.bar(bar(SBIN, 20, UP, 5000));
    assert!((m.z().unwrap() - 40.0).abs() < 1e-9);
    // One tick under the bar's 99.95 low; the 50 bps cap (99.74875) is farther.
    assert_eq!(summary(&signals), long_at("100.25", "99.90"));
    let long = signals[0];
    assert_eq!(long.instrument, InstrumentId(SBIN));
    assert_eq!(long.strategy, StrategyId(1));
    assert_eq!(long.exchange_ts, UnixNanos(OPEN + 21 * MIN));
}

#[test]
fn a_wide_spike_bar_gets_its_stop_pulled_in_to_the_cap() {
    let mut m = warm(&config(), 20);
    let signals = m.bar(bar(SBIN, 20, [100_00, 100_30, 99_00, 100_25], 5000));
    // 100.25 less 50 bps is 99.74875, rounded down (away from the entry) to the tick.
    assert_eq!(summary(&signals), long_at("100.25", "99.70"));
}

#[test]
fn normal_volume_breakouts_are_ignored() {
    for (volume, expected) in [(1000, 0), (1100, 0), (1250, 0), (1350, 1)] {
        let mut m = warm(&config(), 20);
        let signals = m.bar(bar(SBIN, 20, UP, volume));
        let z = m.z().unwrap();
        assert!((z - (volume as f64 - 1000.0) / 100.0).abs() < 1e-9, "{z}");
        assert_eq!(signals.len(), expected, "volume {volume}: {signals:?}");
    }
}

#[test]
fn a_z_score_equal_to_min_z_qualifies() {
    // The z-score the bank computes for 1300, whatever its last bit, as the threshold.
    let mut probe = warm(&config(), 20);
    probe.bar(bar(SBIN, 20, QUIET, 1300));
    let z = probe.z().unwrap();
    assert!((z - 3.0).abs() < 1e-9, "{z}");
    let just_above = f64::from_bits(z.to_bits() + 1);
    for (min_z, expected) in [(z, 1), (just_above, 0)] {
        let mut m = warm(&VolumeScalperConfig { min_z, ..config() }, 20);
        assert_eq!(m.bar(bar(SBIN, 20, UP, 1300)).len(), expected, "{min_z}");
    }
}

#[test]
fn spike_volume_without_price_confirmation_is_ignored() {
    for (why, ohlc) in [
        ("doji", [100_00, 100_30, 99_70, 100_00]),
        ("close low in the range", [100_00, 100_60, 99_95, 100_25]),
        ("move under 10 bps", [100_00, 100_05, 99_95, 100_05]),
        ("close under the open", [100_25, 100_30, 99_95, 100_20]),
    ] {
        let mut m = warm(&config(), 20);
        let signals = m.bar(bar(SBIN, 20, ohlc, 5000));
        assert!(signals.is_empty(), "{why}: {signals:?}");
    }
    // Up on the bar but not above the previous close.
    let mut m = warm(&config(), 20);
    m.quiet(20, 21);
    m.bar(bar(SBIN, 21, [100_30, 100_30, 100_30, 100_30], 1000));
    let signals = m.bar(bar(SBIN, 22, UP, 50_000));
    assert!(m.z().unwrap() >= 3.0);
    assert!(signals.is_empty(), "{signals:?}");
}

#[test]
fn the_time_stop_exits_at_exactly_hold_secs() {
    let mut m = warm(&config(), 20);
    assert_eq!(m.bar(bar(SBIN, 20, UP, 5000)).len(), 1);
    let entry = OPEN + 21 * MIN;
    let deadline = entry + 300 * NANOS_PER_SEC;
    // Between stop and target, up to a nanosecond before the deadline: hold.
    for ts in [entry, entry + MIN, deadline - 1] {
        let signals = m.tick(quote(ts, 100_40, 100_35, 100_45));
        assert!(signals.is_empty(), "{ts}: {signals:?}");
    }
    let signals = m.tick(quote(deadline, 100_40, 100_35, 100_45));
    assert_eq!(summary(&signals), flat_at("100.35")); // at the bid
    assert_eq!(signals[0].exchange_ts, UnixNanos(deadline));
    // Exited: nothing more.
    assert!(m
        .tick(quote(deadline + 1, 100_40, 100_35, 100_45))
        .is_empty());
}

#[test]
fn the_target_exits_when_the_bid_reaches_it() {
    let mut m = warm(&config(), 20);
    m.bar(bar(SBIN, 20, UP, 5000));
    let t = OPEN + 21 * MIN + NANOS_PER_SEC;
    // Risk 0.35; 1.5 R is 0.525 above 100.25, rounded up to 100.80. A trade print there
    // with the bid below is not enough.
    assert!(m.tick(quote(t, 100_80, 100_75, 100_85)).is_empty());
    let signals = m.tick(quote(t + 1, 100_85, 100_80, 100_90));
    assert_eq!(summary(&signals), flat_at("100.80"));
}

#[test]
fn with_targets_to_risk_the_entry_carries_the_target_and_only_the_clock_exits() {
    let mut m = warm(&config(), 20);
    let fresh = VolumeScalper::new(&config(), &table(), PREFIX, &mut IndicatorBank::new(8));
    m.strategy = std::mem::replace(&mut m.strategy, fresh.unwrap()).with_targets_to_risk(true);
    let entry = m.bar(bar(SBIN, 20, UP, 5000));
    assert_eq!(entry[0].target, "100.80".parse().unwrap());
    let t = OPEN + 21 * MIN + NANOS_PER_SEC;
    assert!(
        m.tick(quote(t, 100_85, 100_80, 100_90)).is_empty(),
        "the risk stage books the target"
    );
    let deadline = OPEN + 21 * MIN + 300 * NANOS_PER_SEC;
    let signals = m.tick(quote(deadline, 100_95, 100_90, 101_00));
    assert_eq!(
        summary(&signals),
        flat_at("100.90"),
        "the rest ends at hold_secs"
    );
}

#[test]
fn without_a_target_only_the_clock_exits() {
    let mut m = warm(
        &VolumeScalperConfig {
            target_r: 0.0,
            ..config()
        },
        20,
    );
    m.bar(bar(SBIN, 20, UP, 5000));
    let entry = OPEN + 21 * MIN;
    assert!(m.tick(quote(entry + 1, 110_00, 109_95, 110_05)).is_empty());
    let signals = m.tick(quote(entry + 300 * NANOS_PER_SEC, 110_00, 109_95, 110_05));
    assert_eq!(summary(&signals), flat_at("109.95"));
}

#[test]
fn a_downside_spike_goes_short_the_mirror_image() {
    let mut m = warm(&config(), 20);
    let signals = m.bar(bar(SBIN, 20, DOWN, 5000));
    // One tick above the 100.05 high; the target 1.5 × 0.35 below 99.75, rounded down.
    assert_eq!(
        summary(&signals),
        [(Direction::Short, "99.75".into(), "100.10".into())]
    );
    let t = OPEN + 21 * MIN + 1;
    assert!(m.tick(quote(t, 99_20, 99_15, 99_25)).is_empty()); // ask above 99.20
    assert_eq!(
        summary(&m.tick(quote(t + 1, 99_15, 99_10, 99_20))),
        flat_at("99.20")
    );
    // Without shorts, the same bar is nothing.
    let mut m = warm(
        &VolumeScalperConfig {
            allow_short: false,
            ..config()
        },
        20,
    );
    assert!(m.bar(bar(SBIN, 20, DOWN, 5000)).is_empty());
}

#[test]
fn the_opening_window_is_skipped() {
    let skip_30 = VolumeScalperConfig {
        skip_open_mins: 30,
        ..config()
    };
    // The bar of 09:44 is inside the window even though it closes at 09:45.
    let mut m = warm(&skip_30, 29);
    assert!(m.bar(bar(SBIN, 29, UP, 5000)).is_empty());
    assert!(m.z().unwrap() > 3.0, "the spike qualified on volume");
    let mut m = warm(&skip_30, 30);
    assert_eq!(m.bar(bar(SBIN, 30, UP, 5000)).len(), 1);
}

#[test]
fn no_entry_at_or_after_last_entry() {
    // The bar of 14:59 closes at 15:00, the default last entry.
    let at_close = 14 * 60 + 59 - (9 * 60 + 15);
    let mut m = warm(&config(), at_close);
    assert!(m.bar(bar(SBIN, at_close, UP, 5000)).is_empty());
    let mut m = warm(&config(), at_close - 1);
    assert_eq!(m.bar(bar(SBIN, at_close - 1, UP, 5000)).len(), 1);
}

#[test]
fn one_scalp_per_instrument_then_a_cooldown_after_the_exit() {
    let mut m = warm(&config(), 20);
    assert_eq!(m.bar(bar(SBIN, 20, UP, 5000)).len(), 1);
    // Another spike while the scalp is open: nothing.
    let higher = [100_25, 100_55, 100_20, 100_50];
    assert!(m.bar(bar(SBIN, 21, higher, 50_000)).is_empty());
    assert!(m.z().unwrap() >= 3.0);
    // The time stop at 09:41 starts a three-minute cooldown, to 09:44.
    let exit = OPEN + 26 * MIN;
    assert_eq!(m.tick(quote(exit, 100_50, 100_45, 100_55)).len(), 1);
    for minute in 22..27 {
        let flat = [100_50, 100_55, 100_45, 100_50];
        assert!(m.bar(bar(SBIN, minute, flat, 1000)).is_empty());
    }
    // The 09:42 spike closes at 09:43, inside the cooldown.
    assert!(m
        .bar(bar(SBIN, 27, [100_50, 100_80, 100_45, 100_75], 500_000))
        .is_empty());
    assert!(m.z().unwrap() >= 3.0);
    // The 09:43 spike closes at 09:44, when the cooldown ends.
    let signals = m.bar(bar(SBIN, 28, [100_75, 101_05, 100_70, 101_00], 5_000_000));
    assert!(m.z().unwrap() >= 3.0);
    assert_eq!(summary(&signals), long_at("101.00", "100.65"));
}

#[test]
fn a_stop_hit_ends_the_scalp_silently_and_starts_the_cooldown() {
    let mut m = warm(&config(), 20);
    m.bar(bar(SBIN, 20, UP, 5000));
    let t = OPEN + 21 * MIN + NANOS_PER_SEC;
    assert!(m.tick(quote(t, 99_95, 99_90, 100_00)).is_empty()); // above the stop
                                                                // The risk stage closes the position at its stop; the strategy sends nothing.
    assert!(m.tick(quote(t + 1, 99_90, 99_85, 99_95)).is_empty());
    // A spike closing within three minutes of the stop is ignored.
    let signals = m.bar(bar(SBIN, 21, [99_90, 100_50, 99_85, 100_45], 50_000));
    assert!(m.z().unwrap() >= 3.0);
    assert!(signals.is_empty(), "{signals:?}");
    // No time-stop exit later, since the scalp is gone.
    let deadline = OPEN + 26 * MIN;
    assert!(m.tick(quote(deadline, 100_45, 100_40, 100_50)).is_empty());
}

#[test]
fn ignores_bars_of_another_length_and_unsubscribed_instruments() {
    let mut m = warm(&config(), 20);
    let mut five = bar(SBIN, 20, UP, 5000);
    five.secs = 300;
    assert!(m.bar(five).is_empty());
    assert!(m.bar(bar(2, 20, UP, 5000)).is_empty()); // the index
    assert!(m.bar(bar(99, 20, UP, 5000)).is_empty()); // not in the table
    let mut other = quote(OPEN, 100_00, 99_95, 100_05);
    other.instrument = InstrumentId(99);
    assert!(m.tick(other).is_empty());
    // SBIN itself still trades.
    assert_eq!(m.bar(bar(SBIN, 20, UP, 5000)).len(), 1);
}

#[test]
fn subscribes_to_equities_or_the_listed_symbols_and_shares_one_indicator() {
    let t = table();
    let subscribed = |s: &VolumeScalper| -> Vec<&str> {
        t.iter()
            .filter(|i| s.subscribes(i))
            .map(|i| i.symbol.as_str())
            .collect()
    };
    let mut bank = IndicatorBank::new(t.len());
    let all = VolumeScalper::new(&config(), &t, PREFIX, &mut bank).unwrap();
    assert_eq!(subscribed(&all), ["SBIN", "INFY", "TCS"]);
    assert_eq!((bank.specs(), bank.instances()), (1, 3));
    assert_eq!(bank.bar_lengths(), [60]);
    let listed = VolumeScalperConfig {
        symbols: vec!["TCS".into()],
        bar_secs: 300,
        ..config()
    };
    let mut bank = IndicatorBank::new(t.len());
    let s = VolumeScalper::new(&listed, &t, PREFIX, &mut bank).unwrap();
    assert_eq!(subscribed(&s), ["TCS"]);
    assert_eq!(s.bar_secs(), 300);
    assert_eq!((bank.instances(), bank.bar_lengths()), (1, vec![300]));
}

#[test]
fn invalid_sections_and_symbols_are_every_one_an_issue() {
    let config = VolumeScalperConfig {
        symbols: vec!["SBIN".into(), "NOPE".into(), "NIFTY 50".into()],
        min_z: -1.0,
        ..config()
    };
    let mut bank = IndicatorBank::new(table().len());
    let issues = VolumeScalper::new(&config, &table(), PREFIX, &mut bank).unwrap_err();
    let text: Vec<String> = issues.iter().map(ToString::to_string).collect();
    assert_eq!(
        text,
        [
            "strategy.volume_scalper.min_z: is -1, must be above 0 and at most 50 (standard deviations)",
            "strategy.volume_scalper.symbols: NOPE is not in the instrument table",
            "strategy.volume_scalper.symbols: NIFTY 50 is an index, which cannot be traded",
        ]
    );
    assert_eq!(bank.specs(), 0, "nothing requested for an invalid section");
}
