//! Loom model tests: every interleaving (and every memory-ordering outcome loom models) of
//! the ring's two ends, and of the park/wake handshake.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p tickpipe-ringbuf --release --test loom`.
//! Each slot access is checked by loom's cell tracker (see the crate's `primitive` module),
//! so a slot read or written without the Release/Acquire handoff fails the test.
#![cfg(loom)]

use std::{
    sync::atomic::{AtomicUsize, Ordering},
    time::Duration,
};

use loom::{sync::Arc, thread};
use tickpipe_ringbuf::{
    channel,
    wait::{SpinThenPark, WaitStrategy},
    Consumer, Producer,
};

/// Pushes `v`, yielding to the other threads while the ring is full.
fn push<T>(tx: &mut Producer<T>, mut v: T) {
    loop {
        match tx.try_push(v) {
            Ok(()) => return,
            Err(tickpipe_ringbuf::PushError::Full(back)) => {
                v = back;
                thread::yield_now();
            }
        }
    }
}

/// Pops one item, yielding to the other threads while the ring is empty.
fn pop<T>(rx: &mut Consumer<T>) -> T {
    loop {
        if let Ok(v) = rx.try_pop() {
            return v;
        }
        thread::yield_now();
    }
}

#[test]
fn push_and_pop_across_threads() {
    loom::model(|| {
        let (mut tx, mut rx) = channel::<u32>(2);
        let producer = thread::spawn(move || {
            for v in 0..3 {
                push(&mut tx, v);
            }
        });
        for expected in 0..3 {
            assert_eq!(pop(&mut rx), expected);
        }
        producer.join().unwrap();
        assert!(rx.is_empty());
    });
}

/// Four items through two slots: every slot is reused twice. Exhaustive exploration of
/// this one takes over a minute, so it is bounded to four preemptions per execution (the
/// bound tokio and crossbeam use in CI); unbounded wrap-around of three items is covered by
/// `push_and_pop_across_threads`.
#[test]
fn wrap_around_with_capacity_two() {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(4);
    builder.check(|| {
        let (mut tx, mut rx) = channel::<u32>(2);
        let producer = thread::spawn(move || {
            for v in 0..4 {
                push(&mut tx, v);
            }
        });
        for expected in 0..4 {
            // Peek first: the reference must see the same published value the pop takes.
            let seen = loop {
                if let Some(&v) = rx.peek() {
                    break v;
                }
                thread::yield_now();
            };
            assert_eq!(seen, expected);
            assert_eq!(rx.try_pop(), Ok(expected));
        }
        producer.join().unwrap();
    });
}

#[test]
fn batches_across_threads() {
    loom::model(|| {
        let (mut tx, mut rx) = channel::<u32>(4);
        let producer = thread::spawn(move || {
            let items = [0, 1, 2];
            let mut sent = 0;
            while sent < items.len() {
                sent += tx.push_slice(&items[sent..]);
                if sent < items.len() {
                    thread::yield_now();
                }
            }
            // A second batch through an uninitialised chunk; it wraps the 4-slot array.
            let mut next = 3;
            while next < 6 {
                let n = tx.slots().min(6 - next as usize);
                if n == 0 {
                    thread::yield_now();
                    continue;
                }
                let chunk = tx.write_chunk_uninit(n).unwrap();
                next += chunk.fill_from_iter(next..next + n as u32) as u32;
            }
        });
        let mut expected = 0;
        let mut turn = 0;
        while expected < 6 {
            turn += 1;
            if turn % 2 == 0 {
                let mut out = [0; 4];
                let n = rx.pop_into(&mut out);
                for &v in &out[..n] {
                    assert_eq!(v, expected);
                    expected += 1;
                }
                if n == 0 {
                    thread::yield_now();
                }
            } else {
                let n = rx.slots();
                if n == 0 {
                    thread::yield_now();
                    continue;
                }
                let chunk = rx.read_chunk(n).unwrap();
                let (a, b) = chunk.as_slices();
                for &v in a.iter().chain(b) {
                    assert_eq!(v, expected);
                    expected += 1;
                }
                chunk.commit_all();
            }
        }
        producer.join().unwrap();
    });
}

/// Counts its drops.
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

#[test]
fn unread_items_are_dropped_once_whichever_end_goes_last() {
    loom::model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let (mut tx, mut rx) = channel::<Counted>(4);
        let counter = Arc::clone(&drops);
        let producer = thread::spawn(move || {
            for _ in 0..3 {
                push(&mut tx, Counted(Arc::clone(&counter)));
            }
            // `tx` is dropped here, possibly before or after the consumer's end.
        });
        let consumer = thread::spawn(move || {
            drop(pop(&mut rx));
            // Borrow one more in a chunk and leave it unread; `rx` is dropped here.
            if let Ok(chunk) = rx.read_chunk(1) {
                assert_eq!(chunk.len(), 1);
            }
        });
        producer.join().unwrap();
        consumer.join().unwrap();
        assert_eq!(drops.load(Ordering::Relaxed), 3);
    });
}

#[test]
fn a_consumer_that_sees_the_producer_gone_sees_every_item() {
    loom::model(|| {
        let (mut tx, mut rx) = channel::<u32>(2);
        let producer = thread::spawn(move || {
            push(&mut tx, 7);
            push(&mut tx, 8);
        });
        while !rx.is_abandoned() {
            thread::yield_now();
        }
        let mut out = [0; 2];
        assert_eq!(rx.pop_into(&mut out), 2);
        assert_eq!(out, [7, 8]);
        producer.join().unwrap();
    });
}

#[test]
fn a_parked_consumer_is_always_woken() {
    loom::model(|| {
        let (mut tx, mut rx) = channel::<u32>(2);
        // Park at the first idle round. Under loom the park has no timeout, so a lost
        // wake-up leaves the consumer parked forever and loom reports a deadlock.
        let mut strategy = SpinThenPark::new(0, 0, Duration::from_secs(3600));
        let waker = strategy.waker();
        let consumer = thread::spawn(move || {
            for expected in 0..2 {
                loop {
                    if let Ok(v) = rx.try_pop() {
                        assert_eq!(v, expected);
                        strategy.reset();
                        break;
                    }
                    strategy.wait(&mut || !rx.is_empty());
                }
            }
        });
        for v in 0..2 {
            push(&mut tx, v);
            waker.wake();
        }
        consumer.join().unwrap();
    });
}
