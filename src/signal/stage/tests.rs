//! The stage end to end, in the test thread, over real rings.

// Paise literals are grouped as rupees_paise: `101_50` is 101.50 rupees.
#![allow(clippy::inconsistent_digit_grouping)]

use std::sync::Arc;

use tickpipe_ringbuf::channel;

use super::*;
use crate::{
    model::{Instrument, InstrumentId, Price, Signal, Stamp, TickKind, UnixNanos},
    signal::{
        build_strategies,
        indicator::IndicatorBank,
        test_support::{sma_cross_only, table, trade, MIN, NANOS_PER_SEC, OPEN},
        Bar, StrategyContext,
    },
};

const SBIN: u32 = 0;
const INFY: u32 = 1;
const NIFTY: u32 = 2;

/// SBIN's close of each minute (paise): with fast 2 / slow 4 the bar of minute 5 crosses
/// up and the bar of minute 8 crosses down (see the `sma_cross` tests).
const SBIN_CLOSES: [i64; 11] = [
    104_00, 103_00, 102_00, 101_00, 101_00, 103_00, 104_00, 100_00, 99_00, 98_00, 97_00,
];

/// Eleven minutes of SBIN (one trade a minute), INFY (flat), the NIFTY index and one
/// SBIN news item. Each tick of minute `m + 1` closes its instrument's bar of minute `m`.
fn session() -> Vec<MarketEvent> {
    let mut events = Vec::new();
    for (m, &close) in SBIN_CLOSES.iter().enumerate() {
        let t = OPEN + m as u64 * MIN;
        let volume = 100 * (m as u32 + 1);
        events.push(MarketEvent::Tick(trade(
            SBIN,
            t + NANOS_PER_SEC,
            close,
            volume,
        )));
        events.push(MarketEvent::Tick(trade(
            INFY,
            t + 2 * NANOS_PER_SEC,
            1500_00,
            volume,
        )));
        events.push(MarketEvent::Tick(trade(
            NIFTY,
            t + 3 * NANOS_PER_SEC,
            24_000_00,
            0,
        )));
        if m == 3 {
            events.push(MarketEvent::News(News {
                exchange_ts: UnixNanos(t + 4 * NANOS_PER_SEC),
                ingress: Stamp(9),
                instrument: InstrumentId(SBIN),
                sentiment_milli: 700,
            }));
        }
    }
    events
}

fn sma_cross_2_4() -> Vec<Box<dyn Strategy>> {
    let mut config = sma_cross_only();
    config.sma_cross.fast = 2;
    config.sma_cross.slow = 4;
    build_strategies(&config, &table(), &mut IndicatorBank::new(table().len())).unwrap()
}

/// The SBIN tick of minute `m` in [`session`].
fn sbin_tick(events: &[MarketEvent], m: u64) -> Tick {
    let at = UnixNanos(OPEN + m * MIN + NANOS_PER_SEC);
    events
        .iter()
        .find_map(|e| match e {
            MarketEvent::Tick(t) if t.instrument == InstrumentId(SBIN) && t.exchange_ts == at => {
                Some(*t)
            }
            _ => None,
        })
        .unwrap()
}

/// What the stage must send for [`session`]: every tick in order, and right after the
/// tick that closed the crossing bar, its signal.
fn expected(events: &[MarketEvent]) -> Vec<RiskInput> {
    let long_at = sbin_tick(events, 6);
    let flat_at = sbin_tick(events, 9);
    let signal = |at: Tick, direction, price: i64, stop: i64| Signal {
        exchange_ts: at.exchange_ts,
        ingress: at.ingress,
        price: Price::from_paise(price),
        stop: Price::from_paise(stop),
        target: Price::ZERO,
        instrument: InstrumentId(SBIN),
        strategy: StrategyId(0),
        direction,
        weight_pct: Signal::FULL_WEIGHT,
    };
    let mut out = Vec::new();
    for event in events {
        if let MarketEvent::Tick(t) = event {
            out.push(RiskInput::Tick(*t));
            if *t == long_at {
                out.push(RiskInput::Signal(signal(
                    *t,
                    Direction::Long,
                    103_00,
                    101_95,
                )));
            }
            if *t == flat_at {
                out.push(RiskInput::Signal(signal(*t, Direction::Flat, 99_00, 0)));
            }
        }
    }
    out
}

/// Runs a stage over `events` in this thread: the feed pushes what fits in a ring of
/// `in_slots`, the stage polls, the risk side drains a ring of `out_slots`; the feed
/// drops its end after the last event. Returns what risk read and the stage's report.
fn run(
    events: &[MarketEvent],
    strategies: Vec<Box<dyn Strategy>>,
    in_slots: usize,
    out_slots: usize,
    pause: &[StrategyId],
) -> (Vec<RiskInput>, StageReport, Arc<Telemetry>) {
    run_with_regime(events, strategies, in_slots, out_slots, pause, None)
}

/// [`run`] with a regime tracker and gate.
fn run_with_regime(
    events: &[MarketEvent],
    strategies: Vec<Box<dyn Strategy>>,
    in_slots: usize,
    out_slots: usize,
    pause: &[StrategyId],
    regime: Option<MarketRegime>,
) -> (Vec<RiskInput>, StageReport, Arc<Telemetry>) {
    let (feed, input) = channel::<MarketEvent>(in_slots);
    let (to_risk, mut risk) = channel::<RiskInput>(out_slots);
    let telemetry = Arc::new(Telemetry::default());
    let mut stage = Box::new(
        SignalStage::new(
            &table(),
            strategies,
            &[60],
            input,
            Outbox::new(to_risk),
            LatencyClock::new(),
            telemetry.clone(),
        )
        .with_regime(regime),
    );
    for &id in pause {
        assert!(stage.set_paused(id, true));
    }
    let mut feed = Some(feed);
    let mut pending = events.iter().peekable();
    let mut received = Vec::new();
    for _ in 0..100_000 {
        if let Some(producer) = &mut feed {
            while let Some(&&event) = pending.peek() {
                if producer.try_push(event).is_err() {
                    break;
                }
                pending.next();
            }
            if pending.peek().is_none() {
                feed = None; // the feed is done: drop its end
            }
        }
        let poll = stage.poll();
        while let Ok(msg) = risk.try_pop() {
            received.push(msg);
        }
        if poll == Poll::Done {
            assert!(risk.is_empty());
            return (received, stage.finish(), telemetry);
        }
    }
    panic!("the stage never finished");
}

#[test]
fn forwards_ticks_in_order_with_each_signal_right_after_its_tick() {
    let events = session();
    let (received, report, telemetry) = run(&events, sma_cross_2_4(), 64, 1024, &[]);
    assert_eq!(received, expected(&events));
    assert_eq!(report.name, "signal");
    assert_eq!(report.counter("ticks"), 33);
    assert_eq!(report.counter("news"), 1);
    // Ten closed bars for each of the three instruments (minute 10's stay open).
    assert_eq!(report.counter("bars"), 30);
    assert_eq!(report.counter("signals"), 2);
    assert_eq!(report.counter("ring_full"), 0);
    assert_eq!(report.counter("unknown"), 0);
    // One event in every 16 is timed, the first of them included.
    assert_eq!(report.service.len(), 34_u64.div_ceil(16));
    assert_eq!(telemetry.signal.signals.get(), 2);
}

#[test]
fn a_full_ring_to_risk_holds_input_back_and_loses_nothing() {
    let events = session();
    let (received, report, _) = run(&events, sma_cross_2_4(), 4, 2, &[]);
    assert_eq!(received, expected(&events));
    assert!(report.counter("ring_full") > 0);
    assert_eq!(report.counter("signals"), 2);
}

#[test]
fn same_input_same_output_whatever_the_ring_sizes() {
    let events = session();
    let (first, _, _) = run(&events, sma_cross_2_4(), 64, 1024, &[]);
    let (second, _, _) = run(&events, sma_cross_2_4(), 64, 1024, &[]);
    let (tight, _, _) = run(&events, sma_cross_2_4(), 2, 2, &[]);
    assert_eq!(first, second);
    assert_eq!(first, tight);
}

#[test]
fn done_only_after_the_feed_is_gone_and_everything_is_sent() {
    let (mut feed, input) = channel::<MarketEvent>(8);
    let (to_risk, mut risk) = channel::<RiskInput>(1);
    let mut stage = SignalStage::new(
        &table(),
        sma_cross_2_4(),
        &[60],
        input,
        Outbox::new(to_risk),
        LatencyClock::new(),
        Arc::new(Telemetry::default()),
    );
    assert_eq!(stage.poll(), Poll::Idle); // nothing yet, feed alive
    let a = trade(SBIN, OPEN, 100_00, 1);
    let b = trade(INFY, OPEN, 200_00, 1);
    feed.try_push(MarketEvent::Tick(a)).unwrap();
    feed.try_push(MarketEvent::Tick(b)).unwrap();
    drop(feed);
    // The ring to risk has one slot: the first tick goes in, the second is stashed,
    // and the stage stops reading.
    assert_eq!(stage.poll(), Poll::Work(2));
    assert_eq!(stage.poll(), Poll::Idle); // the stash cannot move: not done
    assert_eq!(stage.poll(), Poll::Idle);
    assert_eq!(risk.try_pop(), Ok(RiskInput::Tick(a)));
    // The stash moves into the ring; input drained and abandoned: done. What is in the
    // ring stays readable after the stage is dropped.
    assert_eq!(stage.poll(), Poll::Done);
    let report = Box::new(stage).finish();
    assert_eq!(report.counter("ring_full"), 1);
    assert_eq!(risk.try_pop(), Ok(RiskInput::Tick(b)));
    assert!(risk.is_abandoned());
}

/// Emits a signal on every callback so the tests can see the call order: `on_bar` a
/// Long at the bar's close, `on_tick` a Flat at the tick's price, `on_news` a Short at
/// the sentiment (in paise).
struct Recorder {
    instrument: InstrumentId,
}

impl Strategy for Recorder {
    fn name(&self) -> &'static str {
        "recorder"
    }
    fn subscribes(&self, instrument: &Instrument) -> bool {
        instrument.id == self.instrument
    }
    fn on_bar(&mut self, bar: &Bar, ctx: &mut StrategyContext<'_>) {
        ctx.emit(bar.instrument, Direction::Long, bar.close, Price::ZERO);
    }
    fn on_tick(&mut self, tick: &Tick, ctx: &mut StrategyContext<'_>) {
        ctx.emit(tick.instrument, Direction::Flat, tick.last, Price::ZERO);
    }
    fn on_news(&mut self, news: &News, ctx: &mut StrategyContext<'_>) {
        let price = Price::from_paise(i64::from(news.sentiment_milli));
        ctx.emit(news.instrument, Direction::Short, price, Price::ZERO);
    }
}

fn recorders() -> Vec<Box<dyn Strategy>> {
    vec![
        Box::new(Recorder {
            instrument: InstrumentId(INFY),
        }),
        Box::new(Recorder {
            instrument: InstrumentId(SBIN),
        }),
        Box::new(Recorder {
            instrument: InstrumentId(INFY),
        }),
    ]
}

/// `(strategy, direction, price in paise)` of each signal, `None` for a tick.
fn shape(received: &[RiskInput]) -> Vec<Option<(u16, Direction, i64)>> {
    received
        .iter()
        .map(|m| match m {
            RiskInput::Tick(_) | RiskInput::Control(_) | RiskInput::Review(_) => None,
            RiskInput::Signal(s) => Some((s.strategy.0, s.direction, s.price.raw() / 1_000_000)),
        })
        .collect()
}

#[test]
fn strategies_see_the_bar_then_the_tick_in_id_order_and_news_is_routed() {
    let first = trade(INFY, OPEN, 1500_00, 10);
    let closing = trade(INFY, OPEN + MIN, 1501_00, 20);
    let news = News {
        exchange_ts: UnixNanos(OPEN + MIN + 1),
        ingress: Stamp(3),
        instrument: InstrumentId(SBIN),
        sentiment_milli: -250,
    };
    let events = [
        MarketEvent::Tick(first),
        MarketEvent::Tick(closing),
        MarketEvent::News(news),
    ];
    let (received, report, _) = run(&events, recorders(), 8, 64, &[]);
    use Direction::{Flat, Long, Short};
    assert_eq!(
        shape(&received),
        [
            None,
            Some((0, Flat, 1500_00)),
            Some((2, Flat, 1500_00)),
            None,
            Some((0, Long, 1500_00)), // the closed bar first, to every strategy,
            Some((2, Long, 1500_00)),
            Some((0, Flat, 1501_00)), // then the tick that closed it
            Some((2, Flat, 1501_00)),
            Some((1, Short, -250)), // news: only SBIN's subscriber, not forwarded
        ]
    );
    let RiskInput::Signal(from_news) = received[8] else {
        panic!("a signal")
    };
    assert_eq!(
        (from_news.exchange_ts, from_news.ingress),
        (news.exchange_ts, news.ingress)
    );
    assert_eq!(report.counter("news"), 1);
    assert_eq!(report.counter("signals"), 7);
}

#[test]
fn a_paused_strategy_sends_exits_but_no_entries() {
    let events = [
        MarketEvent::Tick(trade(INFY, OPEN, 1500_00, 10)),
        MarketEvent::Tick(trade(INFY, OPEN + MIN, 1501_00, 20)),
    ];
    let (received, report, _) = run(&events, recorders(), 8, 64, &[StrategyId(0)]);
    use Direction::{Flat, Long};
    assert_eq!(
        shape(&received),
        [
            None,
            Some((0, Flat, 1500_00)),
            Some((2, Flat, 1500_00)),
            None,
            // strategy 0's Long on the bar is suppressed
            Some((2, Long, 1500_00)),
            Some((0, Flat, 1501_00)),
            Some((2, Flat, 1501_00)),
        ]
    );
    assert_eq!(report.counter("suppressed"), 1);
}

#[test]
fn pause_and_resume_by_id() {
    let (_feed, input) = channel::<MarketEvent>(2);
    let (to_risk, _risk) = channel::<RiskInput>(2);
    let mut stage = SignalStage::new(
        &table(),
        recorders(),
        &[60],
        input,
        Outbox::new(to_risk),
        LatencyClock::new(),
        Arc::new(Telemetry::default()),
    );
    assert_eq!(stage.strategy_names(), ["recorder"; 3]);
    assert!(stage.set_paused(StrategyId(1), true));
    assert!(stage.is_paused(StrategyId(1)));
    assert!(stage.set_paused(StrategyId(1), false));
    assert!(!stage.is_paused(StrategyId(1)));
    assert!(!stage.set_paused(StrategyId(3), true));
    assert!(!stage.is_paused(StrategyId(3)));
}

#[test]
fn events_of_unknown_instruments_are_dropped_and_counted() {
    let mut stray = trade(SBIN, OPEN, 100_00, 1);
    stray.instrument = InstrumentId(99);
    let quote = Tick {
        kind: TickKind::Quote,
        ..trade(SBIN, OPEN + 1, 100_00, 1)
    };
    let news = News {
        exchange_ts: UnixNanos(OPEN + 2),
        ingress: Stamp(1),
        instrument: InstrumentId(1234),
        sentiment_milli: 1,
    };
    let events = [
        MarketEvent::Tick(stray),
        MarketEvent::Tick(quote),
        MarketEvent::News(news),
    ];
    let (received, report, _) = run(&events, sma_cross_2_4(), 8, 8, &[]);
    assert_eq!(received, [RiskInput::Tick(quote)]);
    assert_eq!(report.counter("unknown"), 2);
    assert_eq!(report.counter("ticks"), 1);
    assert_eq!(report.service.len(), 3_u64.div_ceil(16));
}

/// Emits far more signals per tick than the stage can carry.
struct Flood;

impl Strategy for Flood {
    fn name(&self) -> &'static str {
        "flood"
    }
    fn subscribes(&self, _: &Instrument) -> bool {
        true
    }
    fn on_tick(&mut self, tick: &Tick, ctx: &mut StrategyContext<'_>) {
        for _ in 0..100 {
            ctx.emit(tick.instrument, Direction::Flat, tick.last, Price::ZERO);
        }
    }
}

#[test]
fn a_flood_of_signals_is_capped_per_event_even_against_a_one_slot_ring() {
    let events = [
        MarketEvent::Tick(trade(SBIN, OPEN, 100_00, 1)),
        MarketEvent::Tick(trade(INFY, OPEN, 200_00, 1)),
    ];
    let (received, report, _) = run(&events, vec![Box::new(Flood)], 2, 1, &[]);
    let cap = crate::signal::MAX_SIGNALS_PER_EVENT;
    assert_eq!(received.len(), 2 * (1 + cap));
    assert_eq!(received[0], RiskInput::Tick(trade(SBIN, OPEN, 100_00, 1)));
    assert_eq!(
        received[1 + cap],
        RiskInput::Tick(trade(INFY, OPEN, 200_00, 1))
    );
    assert_eq!(report.counter("signals"), 2 * cap as u64);
    assert_eq!(report.counter("overflow"), 2 * (100 - cap as u64));
}

/// Emits a Long on each of its instrument's bars and a Flat on each of its ticks, and
/// on each index bar a Long on the index priced at the number of bars the regime
/// tracker has taken (in paise), to show the tracker is updated before strategies.
struct RegimeProbe {
    instrument: InstrumentId,
}

impl Strategy for RegimeProbe {
    fn name(&self) -> &'static str {
        "probe"
    }
    fn subscribes(&self, instrument: &Instrument) -> bool {
        instrument.id == self.instrument || instrument.id == InstrumentId(NIFTY)
    }
    fn on_bar(&mut self, bar: &Bar, ctx: &mut StrategyContext<'_>) {
        if bar.instrument == InstrumentId(NIFTY) {
            let bars = ctx.regime().map_or(0, |r| r.bars() as i64);
            ctx.emit(
                bar.instrument,
                Direction::Flat,
                Price::from_paise(bars),
                Price::ZERO,
            );
        } else {
            ctx.emit(bar.instrument, Direction::Long, bar.close, Price::ZERO);
        }
    }
    fn on_tick(&mut self, tick: &Tick, ctx: &mut StrategyContext<'_>) {
        if tick.instrument == self.instrument {
            ctx.emit(tick.instrument, Direction::Flat, tick.last, Price::ZERO);
        }
    }
}

/// Calm (σ 0.01%) or stormy (σ 1%) index minutes; `probe` may enter only when stormy,
/// at 40% of its risk budget.
fn calm_or_stormy() -> MarketRegime {
    use std::collections::BTreeMap;

    use crate::signal::{
        market_regime::{RegimeGate, RegimeTracker},
        regime::{GaussianHmm, HmmParams},
    };
    let model = GaussianHmm::new(HmmParams {
        startprob: vec![0.5, 0.5],
        transmat: vec![vec![0.9, 0.1], vec![0.1, 0.9]],
        means: vec![0.0, 0.0],
        variances: vec![1e-8, 1e-4],
    })
    .unwrap();
    let labels = vec!["calm".to_owned(), "stormy".to_owned()];
    let allow = BTreeMap::from([("probe".to_owned(), vec!["stormy".to_owned()])]);
    let weight = BTreeMap::from([(
        "probe".to_owned(),
        BTreeMap::from([("stormy".to_owned(), 40)]),
    )]);
    MarketRegime {
        gate: RegimeGate::new(&["probe"], &labels, &allow, &weight),
        tracker: RegimeTracker::new(&model, labels, InstrumentId(NIFTY), 60),
    }
}

#[test]
fn the_regime_gate_refuses_entries_outside_their_regimes_and_weights_the_rest() {
    // INFY trades at +2 s of each minute, the index at +3 s: INFY's bar of minute m
    // closes before the index's, so it sees the regime of the index bars up to m - 1.
    // The index is calm for four minutes (±0.01%), then swings 2% a minute.
    let mut events = Vec::new();
    let mut level = 24_000_00i64;
    for m in 0..9u64 {
        let t = OPEN + m * MIN;
        events.push(MarketEvent::Tick(trade(
            INFY,
            t + 2 * NANOS_PER_SEC,
            1500_00,
            1,
        )));
        level += match (m < 4, m % 2 == 0) {
            (true, true) => 2_40,
            (true, false) => -2_40,
            (false, true) => 480_00,
            (false, false) => -480_00,
        };
        events.push(MarketEvent::Tick(trade(
            NIFTY,
            t + 3 * NANOS_PER_SEC,
            level,
            0,
        )));
    }
    let probe = vec![Box::new(RegimeProbe {
        instrument: InstrumentId(INFY),
    }) as Box<dyn Strategy>];
    let (received, report, _) =
        run_with_regime(&events, probe, 64, 64, &[], Some(calm_or_stormy()));
    let signals: Vec<Signal> = received
        .iter()
        .filter_map(|m| match m {
            RiskInput::Signal(s) => Some(*s),
            _ => None,
        })
        .collect();
    // The index bars: the tracker had taken each before the probe saw it.
    let index_bars: Vec<i64> = signals
        .iter()
        .filter(|s| s.instrument == InstrumentId(NIFTY))
        .map(|s| s.price.raw() / Price::from_paise(1).raw())
        .collect();
    assert_eq!(index_bars, [1, 2, 3, 4, 5, 6, 7, 8]);
    // INFY's entries: bars of minutes 0-7 close at minutes 1-8. The regime is unknown
    // for the first (refused), calm for the next four (refused), stormy after that.
    let entries: Vec<(u64, u8)> = signals
        .iter()
        .filter(|s| s.instrument == InstrumentId(INFY) && s.direction == Direction::Long)
        .map(|s| ((s.exchange_ts.0 - OPEN) / MIN, s.weight_pct))
        .collect();
    assert_eq!(entries, [(6, 40), (7, 40), (8, 40)]);
    // Exits pass in every regime, at full weight.
    let exits = signals
        .iter()
        .filter(|s| s.instrument == InstrumentId(INFY) && s.direction == Direction::Flat)
        .inspect(|s| assert_eq!(s.weight_pct, Signal::FULL_WEIGHT))
        .count();
    assert_eq!(exits, 9);
    assert_eq!(report.counter("filtered"), 5);
    let summary = report
        .detail
        .as_ref()
        .unwrap()
        .downcast_ref::<SignalSummary>()
        .unwrap();
    assert_eq!(summary.strategies[0].filtered, [("regime_disabled", 5)]);
    let regime = summary.regime.as_ref().unwrap();
    assert_eq!((regime.bars, regime.switches), (8, 1));
    assert_eq!(
        regime.last.as_ref().map(|(l, _)| l.as_str()),
        Some("stormy")
    );
    assert_eq!(
        regime.bars_by_regime,
        [("calm".to_owned(), 4), ("stormy".to_owned(), 4)]
    );
}

#[test]
fn without_a_regime_strategies_read_none_and_signals_leave_at_full_weight() {
    let events: Vec<MarketEvent> = (0..3u64)
        .flat_map(|m| {
            let t = OPEN + m * MIN;
            [
                MarketEvent::Tick(trade(INFY, t + 2 * NANOS_PER_SEC, 1500_00, 1)),
                MarketEvent::Tick(trade(NIFTY, t + 3 * NANOS_PER_SEC, 24_000_00, 0)),
            ]
        })
        .collect();
    let probe = vec![Box::new(RegimeProbe {
        instrument: InstrumentId(INFY),
    }) as Box<dyn Strategy>];
    let (received, report, _) = run(&events, probe, 64, 64, &[]);
    let mut longs = 0;
    for m in &received {
        if let RiskInput::Signal(s) = m {
            assert_eq!(s.weight_pct, Signal::FULL_WEIGHT);
            if s.instrument == InstrumentId(NIFTY) {
                assert_eq!(s.price, Price::ZERO, "no tracker: zero bars");
            }
            longs += usize::from(s.direction == Direction::Long);
        }
    }
    assert_eq!(longs, 2);
    assert_eq!(report.counter("filtered"), 0);
}

/// Wants no ticks from the start: an entry on each closed bar (when it holds nothing)
/// makes the stage send it the instrument's ticks; on a tick it says `Flat` and, the
/// trade over, unwatches on the next tick.
struct OnDemand {
    holding: bool,
}

impl Strategy for OnDemand {
    fn name(&self) -> &'static str {
        "on_demand"
    }
    fn subscribes(&self, instrument: &Instrument) -> bool {
        instrument.id == InstrumentId(INFY)
    }
    fn wants_ticks(&self, _: &Instrument) -> bool {
        false
    }
    fn on_bar(&mut self, bar: &Bar, ctx: &mut StrategyContext<'_>) {
        if !self.holding {
            ctx.emit(bar.instrument, Direction::Long, bar.close, Price::ZERO);
            self.holding = true;
        }
    }
    fn on_tick(&mut self, tick: &Tick, ctx: &mut StrategyContext<'_>) {
        if self.holding {
            ctx.emit(tick.instrument, Direction::Flat, tick.last, Price::ZERO);
            self.holding = false;
        } else {
            ctx.unwatch_ticks(tick.instrument);
        }
    }
}

#[test]
fn a_strategy_that_wants_ticks_on_demand_sees_them_only_while_it_watches() {
    // One INFY trade a minute, each a second after the minute starts, then two more
    // within the fourth minute: every tick of a new minute closes the previous bar.
    let mut events: Vec<MarketEvent> = (0..4)
        .map(|m| {
            MarketEvent::Tick(trade(
                INFY,
                OPEN + m * MIN + NANOS_PER_SEC,
                1500_00 + 100 * m as i64,
                10,
            ))
        })
        .collect();
    for s in [20, 40] {
        events.push(MarketEvent::Tick(trade(
            INFY,
            OPEN + 3 * MIN + s * NANOS_PER_SEC,
            1510_00,
            10,
        )));
    }
    let strategies: Vec<Box<dyn Strategy>> = vec![Box::new(OnDemand { holding: false })];
    let (received, _, _) = run(&events, strategies, 8, 64, &[]);
    use Direction::{Flat, Long};
    assert_eq!(
        shape(&received),
        [
            None, // minute 0: no bar closed yet, no ticks watched
            None, // minute 1 closes minute 0's bar: the entry watches INFY,
            Some((0, Long, 1500_00)),
            Some((0, Flat, 1501_00)), // so this very tick reaches on_tick
            None,                     // minute 2: a new entry on the bar, the tick after it
            Some((0, Long, 1501_00)),
            Some((0, Flat, 1502_00)),
            None,
            Some((0, Long, 1502_00)),
            Some((0, Flat, 1503_00)),
            None, // flat again: this tick unwatches,
            None, // and this one is not seen at all
        ]
    );
}

/// Forwards every callback to the strategy inside, but takes every tick of every
/// subscribed instrument whatever it watches: the stage as it was before tick watches.
struct EveryTick(Box<dyn Strategy>);

impl Strategy for EveryTick {
    fn name(&self) -> &'static str {
        self.0.name()
    }
    fn subscribes(&self, instrument: &Instrument) -> bool {
        self.0.subscribes(instrument)
    }
    fn on_bar(&mut self, bar: &Bar, ctx: &mut StrategyContext<'_>) {
        self.0.on_bar(bar, ctx);
    }
    fn on_tick(&mut self, tick: &Tick, ctx: &mut StrategyContext<'_>) {
        self.0.on_tick(tick, ctx);
        ctx.watch_ticks(tick.instrument); // undo an unwatch
    }
    fn on_news(&mut self, news: &News, ctx: &mut StrategyContext<'_>) {
        self.0.on_news(news, ctx);
    }
}

/// The signals of the shipped strategies over the first two hours of the default
/// synthetic day, with their tick watches honoured or with every tick delivered.
fn synthetic_signals(every_tick: bool) -> Vec<Signal> {
    use crate::{
        feed::{MarketSource, SourcePoll, SyntheticConfig, SyntheticSession},
        model::MarketEvent,
        signal::market_regime::build_market_regime,
    };
    let shipped = crate::engine::EngineConfig::embedded_default();
    let mut session = SyntheticSession::new(&SyntheticConfig {
        session_end: "11:15".to_owned(),
        ..shipped.feed.synthetic.clone()
    })
    .unwrap();
    let instruments = session.instruments().clone();
    let config = shipped.strategy;
    let mut bank = IndicatorBank::new(instruments.len());
    let mut strategies = build_strategies(&config, &instruments, &mut bank).unwrap();
    let names: Vec<_> = strategies.iter().map(|s| s.name()).collect();
    let regime = build_market_regime(&config, &instruments, &names).unwrap();
    if every_tick {
        strategies = strategies
            .into_iter()
            .map(|s| Box::new(EveryTick(s)) as Box<dyn Strategy>)
            .collect();
    }
    let (mut feed, input) = channel::<MarketEvent>(1024);
    let (to_risk, mut risk) = channel::<RiskInput>(1024);
    let mut stage = SignalStage::new(
        &instruments,
        strategies,
        &config.bar_lengths(),
        input,
        Outbox::new(to_risk),
        LatencyClock::new(),
        Arc::new(Telemetry::default()),
    )
    .with_indicators(bank)
    .with_regime(regime);
    let mut signals = Vec::new();
    let mut next = None;
    let mut feed_done = false;
    loop {
        while !feed_done {
            let event = match next.take() {
                Some(e) => e,
                None => match session.poll_event().unwrap() {
                    SourcePoll::Event(e) => e,
                    SourcePoll::End => {
                        feed_done = true;
                        break;
                    }
                    SourcePoll::Pending => unreachable!("a synthetic session never waits"),
                },
            };
            if feed.try_push(event).is_err() {
                next = Some(event);
                break;
            }
        }
        if feed_done {
            // Dropping the producer tells the stage the feed is over.
            let (dead, _) = channel::<MarketEvent>(1);
            drop(std::mem::replace(&mut feed, dead));
        }
        let poll = stage.poll();
        while let Ok(msg) = risk.try_pop() {
            if let RiskInput::Signal(s) = msg {
                signals.push(s);
            }
        }
        if poll == Poll::Done {
            return signals;
        }
    }
}

#[test]
fn watching_ticks_on_demand_changes_no_signal_of_the_shipped_strategies() {
    let watched = synthetic_signals(false);
    let every = synthetic_signals(true);
    let flats = |signals: &[Signal]| {
        signals
            .iter()
            .filter(|s| s.direction == Direction::Flat)
            .count()
    };
    // Not vacuous: entries, and exits decided on ticks, by more than one strategy.
    let strategies: std::collections::BTreeSet<_> = watched.iter().map(|s| s.strategy).collect();
    assert!(strategies.len() >= 2, "signals from {strategies:?}");
    assert!(flats(&watched) > 5, "{} exits", flats(&watched));
    assert_eq!(watched.len(), every.len());
    assert_eq!(watched, every);
}
