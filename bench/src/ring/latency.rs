//! Ping-pong round-trip latency: one thread sends a message through one queue, the other
//! sends it back through a second queue, and the first times the round trip.
//!
//! Both sides spin without a pause hint while waiting, as a latency-critical stage would,
//! and the same loop runs for every queue. The floor replaces the two queues by two
//! `AtomicU64`s (one cache line each way): no queue can beat it, since each queue hop needs
//! at least that one cache-line transfer.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Barrier,
    },
    thread,
};

use crossbeam_utils::CachePadded;
use hdrhistogram::Histogram;
use quanta::Clock;

use super::queues::Queue;
use crate::pin::{pin_current, CorePair};

/// Round trips run before measuring, to warm caches, branch predictors and the clock.
const WARMUP_ROUND_TRIPS: u64 = 10_000;

/// Largest round trip the histogram records exactly; longer ones saturate (a minute).
const MAX_TRACKED_NS: u64 = 60_000_000_000;

/// An empty histogram of round-trip nanoseconds (3 significant digits).
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_TRACKED_NS, 3).expect("valid histogram bounds")
}

/// Times `round_trips` round trips through a pair of `Q` queues.
///
/// # Panics
/// If a message comes back changed, or a thread panics.
pub fn queue<Q: Queue<u64>>(
    round_trips: u64,
    capacity: usize,
    cores: Option<CorePair>,
    clock: &Clock,
) -> Histogram<u64> {
    let (ping_tx, ping_rx) = Q::make(capacity);
    let (pong_tx, pong_rx) = Q::make(capacity);
    let total = WARMUP_ROUND_TRIPS + round_trips;
    let start = Arc::new(Barrier::new(2));
    let echo_start = Arc::clone(&start);
    let echo = thread::spawn(move || {
        pin_current(cores.map(|c| c.second));
        // Own cache lines, on this thread's stack: nothing the other thread writes shares them.
        let (mut ping_rx, mut pong_tx) = (CachePadded::new(ping_rx), CachePadded::new(pong_tx));
        echo_start.wait();
        for _ in 0..total {
            let m = loop {
                if let Some(m) = Q::pop(&mut ping_rx) {
                    break m;
                }
            };
            while !Q::push(&mut pong_tx, m) {}
        }
    });
    let clock = clock.clone();
    let pinger = thread::spawn(move || {
        pin_current(cores.map(|c| c.first));
        let (mut ping_tx, mut pong_rx) = (CachePadded::new(ping_tx), CachePadded::new(pong_rx));
        let mut hist = histogram();
        start.wait();
        for seq in 0..total {
            let t0 = clock.raw();
            while !Q::push(&mut ping_tx, seq) {}
            let back = loop {
                if let Some(m) = Q::pop(&mut pong_rx) {
                    break m;
                }
            };
            let t1 = clock.raw();
            assert_eq!(back, seq, "ping-pong message changed");
            if seq >= WARMUP_ROUND_TRIPS {
                hist.saturating_record(clock.delta_as_nanos(t0, t1));
            }
        }
        hist
    });
    let hist = pinger.join().expect("ping thread panicked");
    echo.join().expect("echo thread panicked");
    hist
}

/// Times `round_trips` round trips through two bare atomics: the floor for any queue.
///
/// # Panics
/// If a thread panics.
pub fn floor(round_trips: u64, cores: Option<CorePair>, clock: &Clock) -> Histogram<u64> {
    let ping = Arc::new(CachePadded::new(AtomicU64::new(0)));
    let pong = Arc::new(CachePadded::new(AtomicU64::new(0)));
    let total = WARMUP_ROUND_TRIPS + round_trips;
    let start = Arc::new(Barrier::new(2));
    let (echo_ping, echo_pong, echo_start) =
        (Arc::clone(&ping), Arc::clone(&pong), Arc::clone(&start));
    let echo = thread::spawn(move || {
        pin_current(cores.map(|c| c.second));
        echo_start.wait();
        for seq in 1..=total {
            while echo_ping.load(Ordering::Acquire) != seq {}
            echo_pong.store(seq, Ordering::Release);
        }
    });
    let clock = clock.clone();
    let pinger = thread::spawn(move || {
        pin_current(cores.map(|c| c.first));
        let mut hist = histogram();
        start.wait();
        for seq in 1..=total {
            let t0 = clock.raw();
            ping.store(seq, Ordering::Release);
            while pong.load(Ordering::Acquire) != seq {}
            let t1 = clock.raw();
            if seq > WARMUP_ROUND_TRIPS {
                hist.saturating_record(clock.delta_as_nanos(t0, t1));
            }
        }
        hist
    });
    let hist = pinger.join().expect("ping thread panicked");
    echo.join().expect("echo thread panicked");
    hist
}
