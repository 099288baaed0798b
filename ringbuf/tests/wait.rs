//! The wait strategies on real threads: escalation, counters, and prompt wake-ups.
#![cfg(not(loom))]

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    thread,
    time::Duration,
};

use tickpipe_ringbuf::{
    channel,
    wait::{BusySpin, SpinThenPark, SpinThenYield, WaitKind, WaitStats, WaitStrategy},
};

#[test]
fn spin_then_park_escalates_and_resets() {
    let mut s = SpinThenPark::new(2, 1, Duration::from_micros(50));
    for _ in 0..5 {
        s.wait(&mut || false);
    }
    assert_eq!(
        s.stats(),
        WaitStats {
            idle_rounds: 5,
            spins: 2,
            yields: 1,
            parks: 2,
            wakeups: 0
        }
    );
    s.reset();
    s.wait(&mut || false);
    assert_eq!(s.stats().spins, 3);
}

#[test]
fn a_recheck_that_finds_work_skips_the_park() {
    let mut s = SpinThenPark::new(0, 0, Duration::from_secs(60));
    let mut polls = 0;
    s.wait(&mut || {
        polls += 1;
        true
    });
    assert_eq!((polls, s.stats().parks), (1, 0));
}

#[test]
fn spinning_strategies_never_call_the_recheck() {
    let mut strategies: [Box<dyn WaitStrategy>; 2] =
        [Box::new(BusySpin::new()), Box::new(SpinThenYield::new(1))];
    for s in &mut strategies {
        for _ in 0..3 {
            s.wait(&mut || panic!("only a parking strategy rechecks"));
        }
        assert_eq!(s.stats().idle_rounds, 3);
    }
}

#[test]
fn wait_kinds_parse_and_build() {
    for kind in WaitKind::ALL {
        assert_eq!(kind.name().parse::<WaitKind>(), Ok(kind));
        let (strategy, waker) = kind.build();
        assert_eq!(waker.is_some(), kind == WaitKind::SpinThenPark);
        assert_eq!(strategy.stats(), WaitStats::default());
    }
    let err = "spin".parse::<WaitKind>().unwrap_err().to_string();
    assert!(
        err.contains("\"spin\"") && err.contains("spin_then_park"),
        "{err}"
    );
}

#[test]
fn waking_a_strategy_that_never_slept_is_harmless() {
    let s = SpinThenPark::default();
    let waker = s.waker();
    waker.clone().wake();
    waker.wake();
    assert_eq!(s.stats(), WaitStats::default());
}

/// A consumer that parks between items must be woken by every push: the park timeout is an
/// hour, so a single lost wake-up would hang the test. Every third item is pushed only once
/// the consumer has found the ring empty in its last recheck (so it parks, or is about to),
/// which makes the parks happen however fast or slow either thread runs.
#[test]
fn a_parked_consumer_wakes_for_every_push() {
    const ITEMS: u64 = if cfg!(miri) { 30 } else { 300 };
    let (mut tx, mut rx) = channel::<u64>(8);
    let mut strategy = SpinThenPark::new(10, 2, Duration::from_secs(3600));
    let waker = strategy.waker();
    // Rechecks that found the ring empty, so the consumer went on to park.
    let parking = Arc::new(AtomicU64::new(0));
    let consumer_parking = Arc::clone(&parking);
    let consumer = thread::spawn(move || {
        let mut expected = 0;
        while expected < ITEMS {
            match rx.try_pop() {
                Ok(v) => {
                    assert_eq!(v, expected);
                    expected += 1;
                    strategy.reset();
                }
                Err(_) => strategy.wait(&mut || {
                    let found = !rx.is_empty();
                    if !found {
                        consumer_parking.fetch_add(1, Ordering::SeqCst);
                    }
                    found
                }),
            }
        }
        strategy.stats()
    });
    let mut pauses = 0;
    let mut seen = 0;
    for v in 0..ITEMS {
        if v % 3 == 0 {
            // Wait for a recheck after the last item that found nothing.
            while parking.load(Ordering::SeqCst) == seen {
                thread::yield_now();
            }
            seen = parking.load(Ordering::SeqCst);
            pauses += 1;
        }
        while tx.try_push(v).is_err() {
            thread::yield_now();
        }
        waker.wake();
    }
    let stats = consumer.join().unwrap();
    assert!(stats.parks >= pauses, "{pauses} pauses: {stats:?}");
    // A wake-up is counted whenever the push found the consumer announced as sleeping,
    // which every pause arranges (only a spurious return from the park undoes it).
    assert!(stats.wakeups > 0, "no wake-up was received: {stats:?}");
}

/// The strategy may move to another thread between waits: a sleep registers the thread it
/// runs on, so the wake reaches it there (with an hour's timeout, a wake sent to the first
/// thread would hang the test).
#[test]
fn a_strategy_moved_to_another_thread_is_woken_there() {
    let mut strategy = SpinThenPark::new(0, 0, Duration::from_secs(3600));
    let waker = strategy.waker();
    strategy.wait(&mut || true); // announces on this thread, finds work, does not park
    let sleeper = thread::spawn(move || {
        while strategy.stats().wakeups == 0 {
            strategy.wait(&mut || false);
        }
        strategy.stats()
    });
    while !sleeper.is_finished() {
        waker.wake();
        thread::yield_now();
    }
    let stats = sleeper.join().unwrap();
    assert!(stats.parks > 0 && stats.wakeups == 1, "{stats:?}");
}

#[test]
fn wakers_are_send_sync_and_clone() {
    fn shareable<T: Send + Sync + Clone>() {}
    shareable::<tickpipe_ringbuf::wait::Waker>();
}
