//! The allocator on its own: review times, the answer, the switches and the routing.

use tickpipe_ringbuf::{channel, Producer};

use super::*;
use crate::{
    model::{InstrumentId, Price, Stamp},
    signal::test_support::trade,
};

const SEC: u64 = 1_000_000_000;
/// 2026-11-25 09:15:00 IST.
const OPEN: u64 = 1_764_042_300 * SEC;

fn config() -> AllocationConfig {
    AllocationConfig {
        review_minutes: 15,
        window: 10,
        min_trades: 3,
        shadow_notional: 10_000.0,
        ..AllocationConfig::default()
    }
}

fn allocator() -> (Allocator, Producer<ReviewAnswer>) {
    let (tx, rx) = channel(8);
    (
        Allocator::new(&config(), vec!["loser", "winner"], 2, rx),
        tx,
    )
}

fn tick_at(ts: u64) -> MarketEvent {
    MarketEvent::Tick(trade(0, ts, 10_000, 1))
}

fn signal(strategy: u16, direction: Direction, rupees: i64) -> Signal {
    Signal {
        exchange_ts: UnixNanos(OPEN),
        ingress: Stamp(0),
        price: Price::from_paise(rupees * 100),
        stop: Price::ZERO,
        target: Price::ZERO,
        instrument: InstrumentId(1),
        strategy: StrategyId(strategy),
        direction,
        weight_pct: Signal::FULL_WEIGHT,
    }
}

fn trips(strategy: u16, pnls: &[i64]) -> ReviewAnswer {
    let mut r = RoundTrips::empty(StrategyId(strategy));
    for &p in pnls {
        r.record(Money::from_rupees(p));
    }
    ReviewAnswer::Strategy(r)
}

/// Holds a review at `ts` with risk's `answer`, and checks it completes.
fn review(a: &mut Allocator, risk: &mut Producer<ReviewAnswer>, ts: u64, answer: &[ReviewAnswer]) {
    assert!(a.is_due(UnixNanos(ts)), "a review is due at {ts}");
    let request = a.begin(tick_at(ts));
    let mut port = ControlPort::detached();
    assert_eq!(a.poll_answers(&mut port), ReviewProgress::Waiting);
    assert!(a.take_held().is_none(), "held until the answer is in");
    for &row in answer {
        risk.try_push(row).unwrap();
    }
    assert_eq!(a.poll_answers(&mut port), ReviewProgress::Waiting);
    risk.try_push(ReviewAnswer::End { seq: request.seq })
        .unwrap();
    assert_eq!(a.poll_answers(&mut port), ReviewProgress::Complete);
    assert_eq!(a.take_held(), Some(tick_at(ts)));
    assert!(!a.is_busy());
}

#[test]
fn reviews_fall_on_the_minutes_of_the_ist_clock_after_the_first_event() {
    let (mut a, _risk) = allocator();
    assert!(
        !a.is_due(UnixNanos(OPEN + SEC)),
        "the first event sets the clock"
    );
    assert!(!a.is_due(UnixNanos(OPEN + 15 * 60 * SEC - 1)));
    assert!(a.is_due(UnixNanos(OPEN + 15 * 60 * SEC)), "09:30:00");
    // After a review at 09:30 the next is 09:45, even when the market skipped ahead.
    assert!(!a.is_due(UnixNanos(OPEN + 29 * 60 * SEC)));
    assert!(
        a.is_due(UnixNanos(OPEN + 52 * 60 * SEC)),
        "10:07, the first after 09:45"
    );
    assert!(!a.is_due(UnixNanos(OPEN + 59 * 60 * SEC)), "next at 10:15");
}

#[test]
fn a_losing_strategy_goes_to_shadow_and_its_entries_stay_on_paper() {
    let (mut a, mut risk) = allocator();
    assert!(!a.is_due(UnixNanos(OPEN)));
    // Before any review: full weight, sent.
    let long = a.route(&signal(0, Direction::Long, 100), 60).unwrap();
    assert_eq!(long.weight_pct, 60);
    // Two losses: too few to judge.
    review(
        &mut a,
        &mut risk,
        OPEN + 15 * 60 * SEC,
        &[trips(0, &[-100, -100])],
    );
    assert!(!a.is_shadow(StrategyId(0)));
    assert_eq!(a.weight_pct(StrategyId(0)), 100);
    // A third: three losing trips, profit factor 0.
    review(
        &mut a,
        &mut risk,
        OPEN + 30 * 60 * SEC,
        &[trips(0, &[-100]), trips(1, &[50, -10, 20])],
    );
    assert!(a.is_shadow(StrategyId(0)));
    assert!(!a.is_shadow(StrategyId(1)));
    assert_eq!(a.weight_pct(StrategyId(0)), config().min_weight_pct);
    assert_eq!(a.weight_pct(StrategyId(1)), 100);
    // Its new entry stays on paper; the long it asked for before the switch is closed
    // by its Flat, which goes to risk.
    assert_eq!(a.route(&signal(0, Direction::Long, 100), 100), None);
    let exit = a.route(&signal(0, Direction::Flat, 101), 100).unwrap();
    assert_eq!((exit.direction, exit.weight_pct), (Direction::Flat, 100));
    // Now nothing real is left: its signals all stay on paper.
    assert_eq!(a.route(&signal(0, Direction::Short, 101), 100), None);
    assert_eq!(a.route(&signal(0, Direction::Flat, 100), 100), None);
    let report = a.report();
    assert_eq!(report.reviews, 2);
    let loser = &report.strategies[0];
    assert!(loser.shadow);
    assert_eq!((loser.shadowed, loser.switches), (2, 1));
    // Paper: long at 100 out at 101 (+₹100 on 100 units), short at 101 out at 100.
    assert_eq!(loser.shadow_trips.trips, 2);
    assert_eq!(loser.shadow_trips.net, Money::from_rupees(199));
    assert_eq!(a.shadow_pnl(StrategyId(0)), Money::from_rupees(199));
    // The other strategy's signals carry the regime weight only.
    assert_eq!(
        a.route(&signal(1, Direction::Long, 10), 40)
            .unwrap()
            .weight_pct,
        40
    );
}

#[test]
fn a_shadowed_strategy_trades_again_once_its_shadow_record_recovers() {
    let (mut a, mut risk) = allocator();
    assert!(!a.is_due(UnixNanos(OPEN)));
    review(
        &mut a,
        &mut risk,
        OPEN + 15 * 60 * SEC,
        &[trips(0, &[-100, -100, -100])],
    );
    assert!(a.is_shadow(StrategyId(0)));
    // Two winning paper trips: not enough yet.
    for (entry, exit) in [(100, 102), (100, 103)] {
        assert_eq!(a.route(&signal(0, Direction::Long, entry), 100), None);
        assert_eq!(a.route(&signal(0, Direction::Flat, exit), 100), None);
    }
    review(&mut a, &mut risk, OPEN + 30 * 60 * SEC, &[]);
    assert!(a.is_shadow(StrategyId(0)));
    // Two more, a loss and a win: net +500, profit factor (200 + 300 + 100) / 100 = 6.
    for (entry, exit) in [(100, 101), (100, 99)] {
        assert_eq!(a.route(&signal(0, Direction::Short, entry), 100), None);
        assert_eq!(a.route(&signal(0, Direction::Flat, exit), 100), None);
    }
    review(&mut a, &mut risk, OPEN + 45 * 60 * SEC, &[]);
    assert!(!a.is_shadow(StrategyId(0)), "restored");
    assert_eq!(a.weight_pct(StrategyId(0)), 100);
    let entry = a.route(&signal(0, Direction::Long, 100), 100).unwrap();
    assert_eq!(entry.direction, Direction::Long);
    let report = a.report();
    let s = &report.strategies[0];
    assert_eq!((s.switches, s.shadowed), (2, 4));
    // The rolling record restarted from the shadow record.
    assert_eq!((s.live.trips, s.live.wins), (4, 3));
    assert_eq!(s.live.net, Money::from_rupees(500));
}

#[test]
fn a_stray_end_marker_is_not_taken_for_the_answer_and_a_gone_risk_ends_the_wait() {
    let (mut a, mut risk) = allocator();
    assert!(!a.is_due(UnixNanos(OPEN)));
    assert!(a.is_due(UnixNanos(OPEN + 15 * 60 * SEC)));
    let request = a.begin(tick_at(OPEN + 15 * 60 * SEC));
    let mut port = ControlPort::detached();
    risk.try_push(ReviewAnswer::End {
        seq: request.seq + 7,
    })
    .unwrap();
    assert_eq!(a.poll_answers(&mut port), ReviewProgress::Waiting);
    drop(risk);
    assert_eq!(a.poll_answers(&mut port), ReviewProgress::RiskGone);
    assert!(a.take_held().is_some());
    assert_eq!(a.reviews(), 0);
}
