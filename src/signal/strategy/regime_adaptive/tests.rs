//! The strategy over a small market: the index (`NIFTY 50`, id 2) drives a two-state
//! regime model, and `TCS` (id 4) stands in for the ETF.

// Paise literals are grouped as rupees_paise: `101_50` is 101.50 rupees.
#![allow(clippy::inconsistent_digit_grouping)]

use super::*;
use crate::{
    model::{Signal, Stamp, StrategyId, Tick, UnixNanos},
    signal::{
        market_regime::RegimeTracker,
        regime::{GaussianHmm, HmmParams},
        test_support::{table, trade, MIN, OPEN},
        SignalBatch,
    },
};

const ETF: u32 = 4;
const NIFTY: u32 = 2;
const UP: f64 = 0.002;
const DOWN: f64 = -0.002;

/// Rising or falling index minutes, 0.2% either way (σ 0.05%), that persist.
fn model() -> GaussianHmm {
    GaussianHmm::new(HmmParams {
        startprob: vec![0.5, 0.5],
        transmat: vec![vec![0.9, 0.1], vec![0.1, 0.9]],
        means: vec![UP, DOWN],
        variances: vec![0.0005f64.powi(2), 0.0005f64.powi(2)],
    })
    .unwrap()
}

fn config() -> RegimeAdaptiveConfig {
    RegimeAdaptiveConfig {
        enabled: true,
        symbol: "TCS".into(),
        model: model().to_params(),
        states: vec!["up".into(), "down".into()],
        long_regimes: vec!["up".into()],
        short_regimes: vec!["down".into()],
        allow_short: false,
        confirm_bars: 2,
        first_entry: "09:15".into(),
        last_entry: "15:00".into(),
        allow: Default::default(),
        weight: Default::default(),
        ..RegimeAdaptiveConfig::default()
    }
}

fn strategy(config: &RegimeAdaptiveConfig) -> RegimeAdaptive {
    RegimeAdaptive::new(config, &table(), "strategy.regime_adaptive", &["sma_cross"]).unwrap()
}

/// A market: the ETF trades at `etf_paise` at the start of every minute, and the index
/// bar of the minute closes with the given return; returns every signal with the
/// minute of the index bar that caused it.
struct Market {
    tracker: RegimeTracker,
    batch: SignalBatch,
    minute: u64,
}

impl Market {
    fn new() -> Market {
        Market {
            tracker: RegimeTracker::new(
                &model(),
                vec!["up".into(), "down".into()],
                InstrumentId(NIFTY),
                60,
            ),
            batch: SignalBatch::new(),
            minute: 0,
        }
    }

    fn run(
        &mut self,
        s: &mut RegimeAdaptive,
        etf_paise: i64,
        returns: &[f64],
    ) -> Vec<(u64, Signal)> {
        let mut out = Vec::new();
        for &r in returns {
            let m = self.minute;
            self.minute += 1;
            let tick: Tick = trade(ETF, OPEN + m * MIN, etf_paise, 1);
            let mut ctx = self
                .batch
                .context(StrategyId(1), tick.exchange_ts, Stamp(1));
            s.on_tick(&tick, &mut ctx);
            self.tracker.observe(r).unwrap();
            let bar = index_bar(m);
            let mut ctx = self
                .batch
                .context(StrategyId(1), bar.end(), Stamp(1))
                .with_regime(Some(&self.tracker));
            s.on_bar(&bar, &mut ctx);
            out.extend(self.batch.signals().iter().map(|s| (m, *s)));
            self.batch.clear();
        }
        out
    }
}

fn index_bar(minute: u64) -> Bar {
    let level = Price::from_paise(24_000_00);
    Bar {
        instrument: InstrumentId(NIFTY),
        start: UnixNanos(OPEN + minute * MIN),
        secs: 60,
        open: level,
        high: level,
        low: level,
        close: level,
        volume: 0,
        trades: 1,
        turnover: 0.0,
    }
}

fn directions(signals: &[(u64, Signal)]) -> Vec<(u64, Direction)> {
    signals.iter().map(|(m, s)| (*m, s.direction)).collect()
}

#[test]
fn long_after_confirmed_up_bars_and_flat_when_the_regime_switches() {
    let mut s = strategy(&config());
    let mut market = Market::new();
    let signals = market.run(&mut s, 250_00, &[UP, UP, UP, UP, DOWN, DOWN, UP]);
    // Confirmed on the second up bar; out on the first down bar; the lone up bar at
    // the end is not yet confirmed.
    assert_eq!(
        directions(&signals),
        [(1, Direction::Long), (4, Direction::Flat)]
    );
    let (_, long) = signals[0];
    assert_eq!(long.instrument, InstrumentId(ETF));
    assert_eq!(long.strategy, StrategyId(1));
    assert_eq!(long.price, Price::from_paise(250_00));
    // 1% below 250.00, on the 0.05 grid of the stand-in.
    assert_eq!(long.stop, Price::from_paise(247_50));
    assert_eq!(long.exchange_ts, index_bar(1).end());
    assert_eq!(signals[1].1.stop, Price::ZERO);
    assert_eq!(s.held(), Direction::Flat);
    assert_eq!(s.entry(), None);
}

#[test]
fn records_what_it_holds() {
    let mut s = strategy(&config());
    let mut market = Market::new();
    market.run(&mut s, 250_00, &[UP, UP]);
    assert_eq!(s.held(), Direction::Long);
    assert_eq!(
        s.entry(),
        Some((Price::from_paise(250_00), index_bar(1).end()))
    );
}

#[test]
fn short_in_down_regimes_when_allowed_and_straight_reversals() {
    let mut s = strategy(&RegimeAdaptiveConfig {
        allow_short: true,
        confirm_bars: 1,
        ..config()
    });
    let mut market = Market::new();
    let signals = market.run(&mut s, 250_00, &[DOWN, DOWN, UP, UP]);
    // With one bar of confirmation the switch is a reversal, not an exit then an entry.
    assert_eq!(
        directions(&signals),
        [(0, Direction::Short), (2, Direction::Long)]
    );
    // 1% above 250.00, rounded up to the tick.
    assert_eq!(signals[0].1.stop, Price::from_paise(252_50));
    // Without shorts the down regime is only an exit.
    let mut s = strategy(&RegimeAdaptiveConfig {
        confirm_bars: 1,
        ..config()
    });
    let signals = Market::new().run(&mut s, 250_00, &[UP, DOWN, DOWN, UP]);
    assert_eq!(
        directions(&signals),
        [
            (0, Direction::Long),
            (1, Direction::Flat),
            (3, Direction::Long)
        ]
    );
}

#[test]
fn an_uncertain_regime_neither_enters_nor_exits_above_exit_prob() {
    // MID is 6 times likelier under "down" than under "up": after an up bar (0.9 up
    // before the return) it leaves "up" the most likely at 0.6, below enter_prob
    // (0.8) and above exit_prob (0.55); a second one makes "down" the most likely.
    const MID: f64 = -0.000_112;
    let mut s = strategy(&RegimeAdaptiveConfig {
        exit_prob: 0.55,
        ..config()
    });
    let mut market = Market::new();
    let signals = market.run(&mut s, 250_00, &[UP, MID, UP, MID, UP, UP]);
    // Never two confident up bars in a row until the end.
    assert_eq!(directions(&signals), [(5, Direction::Long)]);
    let signals = market.run(&mut s, 250_00, &[MID]);
    assert!(
        signals.is_empty(),
        "held through an uncertain bar: {signals:?}"
    );
    let p = market.tracker.probability();
    assert!(p > 0.55 && p < 0.8, "{p}");
    assert_eq!(
        (market.tracker.label_now(), s.held()),
        (Some("up"), Direction::Long)
    );
    let signals = market.run(&mut s, 250_00, &[MID]);
    assert_eq!(market.tracker.label_now(), Some("down"));
    assert_eq!(directions(&signals), [(7, Direction::Flat)]);
}

#[test]
fn entries_only_inside_the_window_and_after_the_etf_traded() {
    // The window opens at 09:17: the bars of 09:15 and 09:16 confirm, but only the
    // bar ending 09:18 (minute 2) may enter.
    let mut s = strategy(&RegimeAdaptiveConfig {
        first_entry: "09:17:30".into(),
        ..config()
    });
    let signals = Market::new().run(&mut s, 250_00, &[UP, UP, UP]);
    assert_eq!(directions(&signals), [(2, Direction::Long)]);
    // After last_entry nothing new, but exits still go out.
    let mut s = strategy(&RegimeAdaptiveConfig {
        last_entry: "09:17:30".into(),
        ..config()
    });
    let mut market = Market::new();
    let signals = market.run(&mut s, 250_00, &[UP, UP, DOWN, UP, UP, UP]);
    assert_eq!(
        directions(&signals),
        [(1, Direction::Long), (2, Direction::Flat)]
    );
    // No price for the ETF yet: no entry.
    let mut s = strategy(&config());
    let mut market = Market::new();
    let signals = market.run(&mut s, 0, &[UP, UP, UP]);
    assert!(signals.is_empty());
    let signals = market.run(&mut s, 251_00, &[UP]);
    assert_eq!(directions(&signals), [(3, Direction::Long)]);
}

#[test]
fn ignores_other_bars_and_a_stage_without_regimes() {
    let mut s = strategy(&config());
    let mut market = Market::new();
    market.run(&mut s, 250_00, &[UP]);
    market.tracker.observe(UP).unwrap();
    let mut batch = SignalBatch::new();
    let five_minutes = Bar {
        secs: 300,
        ..index_bar(1)
    };
    let etf_bar = Bar {
        instrument: InstrumentId(ETF),
        ..index_bar(1)
    };
    for bar in [five_minutes, etf_bar] {
        let mut ctx = batch
            .context(StrategyId(0), bar.end(), Stamp(1))
            .with_regime(Some(&market.tracker));
        s.on_bar(&bar, &mut ctx);
    }
    // The right bar, but no tracker.
    s.on_bar(
        &index_bar(1),
        &mut batch.context(StrategyId(0), index_bar(1).end(), Stamp(1)),
    );
    assert!(batch.signals().is_empty());
}

#[test]
fn subscribes_to_the_index_and_the_etf_only() {
    let t = table();
    let s = strategy(&config());
    let subscribed: Vec<&str> = t
        .iter()
        .filter(|i| s.subscribes(i))
        .map(|i| i.symbol.as_str())
        .collect();
    assert_eq!(subscribed, ["NIFTY 50", "TCS"]);
}

#[test]
fn an_etf_missing_from_the_table_or_an_index_is_an_issue() {
    let keys_and_reasons = |symbol: &str| -> Vec<String> {
        let config = RegimeAdaptiveConfig {
            symbol: symbol.into(),
            stop_pct: 0.0,
            ..config()
        };
        RegimeAdaptive::new(&config, &table(), "strategy.regime_adaptive", &[])
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect()
    };
    assert_eq!(
        keys_and_reasons("NIFTYBEES"),
        [
            "strategy.regime_adaptive.stop_pct: is 0, must be above 0 and at most 20 (percent)",
            "strategy.regime_adaptive.symbol: NIFTYBEES is not in the instrument table",
        ]
    );
    assert_eq!(
        keys_and_reasons("NIFTY 50")[1],
        "strategy.regime_adaptive.symbol: NIFTY 50 is an index, which cannot be traded"
    );
}

#[test]
fn stops_round_away_from_the_entry() {
    let paisa = Price::from_paise(1);
    let p = |s: &str| s.parse::<Price>().unwrap();
    assert_eq!(long_stop(p("293.47"), 100, paisa), p("290.53")); // 290.5353
    assert_eq!(short_stop(p("293.47"), 100, paisa), p("296.41")); // 296.4047
    assert_eq!(long_stop(p("0.01"), 100, paisa), Price::ZERO);
}
