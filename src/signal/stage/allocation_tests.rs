//! The stage with allocation reviews: a strategy that loses is shadowed at a review and
//! its entries stop reaching risk; one whose paper record recovers trades again.

// Paise literals are grouped as rupees_paise: `101_50` is 101.50 rupees.
#![allow(clippy::inconsistent_digit_grouping)]

use std::sync::Arc;

use tickpipe_ringbuf::channel;

use super::*;
use crate::{
    model::{Instrument, InstrumentId, Money, Price, ReviewAnswer, RoundTrips},
    signal::{
        allocation::{AllocationConfig, Allocator},
        test_support::{table, trade, MIN, NANOS_PER_SEC, OPEN},
        StrategyContext,
    },
};

const SBIN: u32 = 0;

/// Alternates on every closed SBIN bar: `entry` at the close, then `Flat` at the next.
struct Flipper {
    name: &'static str,
    entry: Direction,
    holding: bool,
}

impl Strategy for Flipper {
    fn name(&self) -> &'static str {
        self.name
    }
    fn subscribes(&self, instrument: &Instrument) -> bool {
        instrument.id == InstrumentId(SBIN)
    }
    fn on_bar(&mut self, bar: &Bar, ctx: &mut StrategyContext<'_>) {
        let direction = if self.holding {
            Direction::Flat
        } else {
            self.entry
        };
        self.holding = !self.holding;
        ctx.emit(bar.instrument, direction, bar.close, Price::ZERO);
    }
}

/// An hour of SBIN, one trade a minute at +1 s, rising ₹1 a minute: a long held for a
/// bar gains, a short loses.
fn rising_hour() -> Vec<MarketEvent> {
    (0..60u64)
        .map(|m| {
            MarketEvent::Tick(trade(
                SBIN,
                OPEN + m * MIN + NANOS_PER_SEC,
                100_00 + m as i64 * 1_00,
                1,
            ))
        })
        .collect()
}

/// What the stand-in risk stage read, and the stage's report.
struct Run {
    received: Vec<RiskInput>,
    summary: SignalSummary,
}

/// Runs the stage with allocation over `events` against a stand-in risk stage that
/// answers review `n` (from 1) with `answer(n)`'s round trips per strategy.
fn run_reviewed(
    events: &[MarketEvent],
    strategies: Vec<Box<dyn Strategy>>,
    answer: impl Fn(u32) -> Vec<RoundTrips>,
) -> Run {
    let names: Vec<&'static str> = strategies.iter().map(|s| s.name()).collect();
    let (mut feed, input) = channel::<MarketEvent>(1024);
    let (to_risk, mut risk) = channel::<RiskInput>(8);
    let (mut answers, from_risk) = channel::<ReviewAnswer>(4);
    let mut stage = Box::new(
        SignalStage::new(
            &table(),
            strategies,
            &[60],
            input,
            Outbox::new(to_risk),
            LatencyClock::new(),
            Arc::new(Telemetry::default()),
        )
        .with_allocation(Some(Allocator::new(
            &AllocationConfig::default(),
            names,
            table().len(),
            from_risk,
        ))),
    );
    for &event in events {
        feed.try_push(event).unwrap();
    }
    drop(feed);
    let mut received = Vec::new();
    // Rows of the answer not yet pushed (the answer ring holds four).
    let mut unsent: std::collections::VecDeque<ReviewAnswer> = Default::default();
    for _ in 0..100_000 {
        let poll = stage.poll();
        while let Ok(msg) = risk.try_pop() {
            if let RiskInput::Review(request) = msg {
                unsent.extend(answer(request.seq).into_iter().map(ReviewAnswer::Strategy));
                unsent.push_back(ReviewAnswer::End { seq: request.seq });
            }
            received.push(msg);
        }
        while let Some(&row) = unsent.front() {
            if answers.try_push(row).is_err() {
                break;
            }
            unsent.pop_front();
        }
        if poll == Poll::Done {
            let report = stage.finish();
            let summary = report.detail.unwrap().downcast::<SignalSummary>().unwrap();
            return Run {
                received,
                summary: *summary,
            };
        }
    }
    panic!("the stage never finished");
}

fn losses(strategy: u16, n: usize) -> RoundTrips {
    let mut r = RoundTrips::empty(StrategyId(strategy));
    for _ in 0..n {
        r.record(Money::from_rupees(-100));
    }
    r
}

/// Minute of the session (0 = 09:15) of a market time.
fn minute(ts: UnixNanos) -> u64 {
    (ts.0 - OPEN) / MIN
}

#[test]
fn a_loser_is_shadowed_at_a_review_and_trades_again_once_its_paper_record_recovers() {
    let strategies: Vec<Box<dyn Strategy>> = vec![
        Box::new(Flipper {
            name: "long_flipper",
            entry: Direction::Long,
            holding: false,
        }),
        Box::new(Flipper {
            name: "short_flipper",
            entry: Direction::Short,
            holding: false,
        }),
    ];
    // At the first review (09:30) risk reports five losing round trips for each.
    let run = run_reviewed(&rising_hour(), strategies, |seq| match seq {
        1 => vec![losses(0, 5), losses(1, 5)],
        _ => vec![
            RoundTrips::empty(StrategyId(0)),
            RoundTrips::empty(StrategyId(1)),
        ],
    });

    // Reviews at 09:30, 09:45 and 10:00: each marker goes out in place of the first
    // tick at or after its time, and that tick follows it once risk has answered.
    let reviews: Vec<(u32, u64, RiskInput)> = run
        .received
        .windows(2)
        .filter_map(|w| match w[0] {
            RiskInput::Review(r) => Some((r.seq, minute(r.exchange_ts), w[1])),
            _ => None,
        })
        .collect();
    assert_eq!(reviews.len(), 3, "{reviews:?}");
    for (i, &(seq, at, next)) in reviews.iter().enumerate() {
        assert_eq!((seq, at), (i as u32 + 1, 15 * (i as u64 + 1)));
        let RiskInput::Tick(tick) = next else {
            panic!("the held tick follows the review marker");
        };
        assert_eq!(minute(tick.exchange_ts), at);
    }
    let ticks = run
        .received
        .iter()
        .filter(|m| matches!(m, RiskInput::Tick(_)))
        .count();
    assert_eq!(ticks, 60, "no tick is lost or repeated");

    let entries = |strategy: u16| -> Vec<u64> {
        run.received
            .iter()
            .filter_map(|m| match m {
                RiskInput::Signal(s)
                    if s.strategy == StrategyId(strategy) && s.direction != Direction::Flat =>
                {
                    Some(minute(s.exchange_ts))
                }
                _ => None,
            })
            .collect()
    };
    // Entries go out on odd minutes (the bar of minute m closes at minute m + 1).
    // long_flipper: live until the 09:30 review, shadowed until the 09:45 one, during
    // which its paper longs all gain; then it trades again.
    let long_entries = entries(0);
    assert_eq!(long_entries[..7], [1, 3, 5, 7, 9, 11, 13]);
    assert!(
        long_entries.iter().all(|&m| !(15..30).contains(&m)),
        "no entry reached risk while in shadow: {long_entries:?}"
    );
    assert_eq!(
        long_entries[7..],
        [31, 33, 35, 37, 39, 41, 43, 45, 47, 49, 51, 53, 55, 57, 59]
    );
    // short_flipper: its paper shorts lose on the rising market, so it stays shadowed.
    assert_eq!(entries(1), [1, 3, 5, 7, 9, 11, 13]);

    let allocation = run.summary.allocation.as_ref().unwrap();
    assert_eq!(allocation.reviews, 3);
    let (long, short) = (&allocation.strategies[0], &allocation.strategies[1]);
    assert!(!long.shadow);
    assert_eq!((long.switches, long.shadowed, long.weight_pct), (2, 8, 100));
    // Eight paper longs from minute 15 to 29, each held a minute: seven closed, all
    // winners; the eighth was open at the 09:45 review and is dropped with the book.
    assert_eq!(long.shadow_trips.trips, 7);
    assert_eq!(long.shadow_trips.wins, 7);
    assert!(short.shadow);
    assert_eq!(short.switches, 1);
    assert_eq!(short.shadowed, 23, "entries on odd minutes 15 to 59");
    assert!(short.shadow_trips.net.is_negative());
    assert_eq!(short.shadow_trips.wins, 0);
    // Sent signals count only what reached risk.
    assert_eq!(run.summary.strategies[1].entries, 7);
}

#[test]
fn before_min_trades_nobody_is_judged_and_weights_stay_full() {
    let strategies: Vec<Box<dyn Strategy>> = vec![Box::new(Flipper {
        name: "long_flipper",
        entry: Direction::Long,
        holding: false,
    })];
    // Two losing round trips reported at every review; the default `min_trades` is 5.
    let run = run_reviewed(&rising_hour(), strategies, |_| vec![losses(0, 2)]);
    let weights: Vec<(u64, u8)> = run
        .received
        .iter()
        .filter_map(|m| match m {
            RiskInput::Signal(s) if s.direction == Direction::Long => {
                Some((minute(s.exchange_ts), s.weight_pct))
            }
            _ => None,
        })
        .collect();
    // Two trips at 09:30 and four at 09:45: not judged, full weight; six at 10:00:
    // shadow, and no entry after it.
    assert!(weights.iter().all(|&(_, w)| w == 100), "{weights:?}");
    assert_eq!(weights.last().map(|&(m, _)| m), Some(43));
    let allocation = run.summary.allocation.as_ref().unwrap();
    assert!(allocation.strategies[0].shadow);
    assert_eq!(allocation.strategies[0].live.trips, 6);
}
