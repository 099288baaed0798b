//! The hot path does not allocate: a counting global allocator watches a steady-state
//! stretch of the synthetic day through all four stages, while control commands of every
//! kind arrive on the stages' control rings and are answered.
//!
//! This file holds one test so no other test thread allocates while it counts.

mod common;

mod counting;

use std::sync::atomic::Ordering;

use counting::{ALLOCATIONS, COUNTED};

use tickpipe::{
    control::Incoming,
    model::{ControlCommand, LimitKey, LimitValue, Money, StrategyId, TradingState},
};

#[global_allocator]
static GLOBAL: counting::Counting = counting::Counting;

/// Commands for each stage in turn, answered on the stage thread; state changes are
/// undone by the next command so the day trades as usual.
fn commands() -> Vec<(usize, ControlCommand)> {
    use ControlCommand as C;
    let (feed, signal, risk, order) = (0, 1, 2, 3);
    let same_limit = C::SetLimit {
        key: LimitKey::MaxExposurePct,
        value: LimitValue::from_money(Money::from_rupees(70)).unwrap(),
    };
    vec![
        (feed, C::Status),
        (feed, C::Latency),
        (signal, C::Status),
        (signal, C::Pause(StrategyId(0))),
        (signal, C::Resume(StrategyId(0))),
        (signal, C::Counters),
        (risk, C::Status),
        (risk, C::Positions),
        (risk, C::Pnl),
        (risk, C::Limits),
        (risk, same_limit),
        (risk, C::SetState(TradingState::Reducing)),
        (risk, C::SetState(TradingState::Active)),
        (risk, C::Latency),
        (risk, C::Counters),
        (order, C::Status),
        (order, C::Orders),
        (order, C::Latency),
    ]
}

#[test]
fn steady_state_ticks_allocate_nothing() {
    let mut cfg = common::config(3, "");
    cfg.control.enabled = true;
    // The regime tracker, the gate and the ETF strategy run on the signal stage's
    // thread too.
    cfg.strategy.regime_adaptive.enabled = true;
    // Every stage journals, ticks included, into 1 MiB segments: the window below rolls
    // segments dozens of times.
    let journal = std::env::temp_dir().join(format!("tickpipe-alloc-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&journal);
    cfg.journal.enabled = true;
    cfg.journal.dir = journal.clone();
    cfg.journal.ticks = true;
    cfg.journal.segment_mib = 1;
    let (mut pipeline, _) = common::pipeline(&cfg);
    let mut links = pipeline.take_control().expect("control rings").links;
    let script = commands();
    let telemetry = pipeline.telemetry();
    // The flusher must outlive the group: it prepares the segments the stages roll into.
    let flusher = pipeline.take_journal().expect("journaling is on");
    let mut group = pipeline.into_single_group();
    let mut reports = Vec::with_capacity(8);

    // Warm up: past the strategies' warm-up and the first trades, so every buffer has
    // reached its working size.
    while telemetry.feed.ticks.get() < 400_000 {
        group.round(&mut reports);
    }
    let ticks_before = telemetry.feed.ticks.get();
    let orders_before = telemetry.order.orders.get();
    let allocations_before = ALLOCATIONS.load(Ordering::Relaxed);
    COUNTED.with(|c| c.set(true));

    let (mut next, mut job, mut rows, mut answered) = (0, 0u64, 0u64, 0u64);
    let mut rounds = 0u64;
    while telemetry.feed.ticks.get() < ticks_before + 600_000 {
        group.round(&mut reports);
        rounds += 1;
        if rounds % 64 == 0 {
            let (stage, command) = script[next % script.len()];
            job += 1;
            if links[stage].send(job, command) {
                next += 1;
            }
        }
        for link in &mut links {
            while let Some(incoming) = link.poll() {
                rows += 1;
                if let Incoming::Row { last: true, .. } = incoming {
                    answered += 1;
                }
            }
        }
    }
    COUNTED.with(|c| c.set(false));
    let allocations = ALLOCATIONS.load(Ordering::Relaxed) - allocations_before;
    assert!(
        answered as usize >= 2 * script.len(),
        "every kind of command was answered ({answered} answers, {rows} rows)"
    );
    let ticks = telemetry.feed.ticks.get() - ticks_before;
    let orders = telemetry.order.orders.get() - orders_before;
    assert!(reports.is_empty(), "no stage may finish inside the window");
    assert!(
        orders > 0,
        "the window must include orders through all four stages"
    );
    assert_eq!(
        allocations, 0,
        "{allocations} heap allocations over {ticks} ticks and {orders} orders"
    );
    drop(group);
    flusher.shutdown().expect("the flusher kept up");
    std::fs::remove_dir_all(&journal).unwrap();
}
