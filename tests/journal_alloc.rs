//! Appending to the journal allocates nothing: a counting global allocator watches a
//! writer append every record type, across segment rolls.
//!
//! Only the test thread's allocations are counted: the flusher thread allocates (file
//! names, segments) by design, off the writer's path. This file holds one test so no
//! other test thread runs beside it.

mod counting;

use std::sync::atomic::Ordering;

use counting::{ALLOCATIONS, COUNTED};

use tickpipe::{
    journal::{DailyMark, FlushPolicy, Journal, JournalConfig, Record},
    model::{Direction, InstrumentId, Price, Signal, Stamp, StrategyId, Tick, TickKind, UnixNanos},
};

#[global_allocator]
static GLOBAL: counting::Counting = counting::Counting;

fn tick(k: u64) -> Record {
    Record::Tick(Tick {
        exchange_ts: UnixNanos(k),
        ingress: Stamp(0),
        last: Price::from_paise(10_000),
        bid: Price::from_paise(9_995),
        ask: Price::from_paise(10_005),
        instrument: InstrumentId(1),
        volume: k as u32,
        last_qty: 1,
        bid_qty: 2,
        ask_qty: 3,
        kind: TickKind::Trade,
    })
}

fn signal(k: u64) -> Record {
    Record::Signal(Signal {
        exchange_ts: UnixNanos(k),
        ingress: Stamp(0),
        price: Price::from_paise(245_005),
        stop: Price::ZERO,
        target: Price::ZERO,
        instrument: InstrumentId(2),
        strategy: StrategyId(0),
        direction: Direction::Flat,
        weight_pct: 100,
    })
}

#[test]
fn appending_allocates_nothing_even_across_segment_rolls() {
    let dir = std::env::temp_dir().join(format!("tickpipe-journal-alloc-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let journal = Journal::open(
        &dir,
        JournalConfig {
            segment_bytes: 16 << 10,
            flush: FlushPolicy::EveryMs(1),
            ..JournalConfig::DEFAULT
        },
    )
    .unwrap();
    let mut w = journal.writer("feed").unwrap();
    COUNTED.with(|c| c.set(true));
    let mut k = 0u64;
    let mut counted = 0u64;
    // Each round fills most of a 16 KiB segment, so every round rolls once; before the
    // counted stretch the writer waits (uncounted) until the flusher has the next
    // segment ready, so the roll itself is what is measured.
    for _ in 0..5 {
        while !w.next_segment_ready() {
            std::thread::yield_now();
        }
        let rolls_before = w.stats().rolls;
        let before = ALLOCATIONS.load(Ordering::SeqCst);
        for _ in 0..150 {
            k += 1;
            w.append(UnixNanos(k), &tick(k)).unwrap();
            w.append(UnixNanos(k), &signal(k)).unwrap();
            let mark = Record::DailyMark(DailyMark {
                instrument: InstrumentId(1),
                mark: Price::from_paise(10_000),
            });
            w.append(UnixNanos(k), &mark).unwrap();
        }
        counted += ALLOCATIONS.load(Ordering::SeqCst) - before;
        assert!(
            w.stats().rolls > rolls_before,
            "the stretch must cross a roll"
        );
    }
    COUNTED.with(|c| c.set(false));
    assert_eq!(counted, 0, "appends allocated {counted} times");
    assert_eq!(w.stats().records, 5 * 450);
    drop(w);
    journal.shutdown().unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}
