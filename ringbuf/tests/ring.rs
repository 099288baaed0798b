//! Edge cases of the ring: capacities, zero-sized items, drops, counters, and two threads.
#![cfg(not(loom))]

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    thread,
};

use tickpipe_ringbuf::{
    channel, try_channel, CapacityError, ChunkError, Consumer, PopError, Producer, PushError,
};

/// Items moved by the two-thread tests (fewer under Miri, which interprets every access).
const STRESS_ITEMS: u64 = if cfg!(miri) { 2_000 } else { 1_000_000 };

#[test]
fn zero_and_non_power_of_two_capacities_are_errors() {
    assert_eq!(try_channel::<u8>(0).unwrap_err(), CapacityError::Zero);
    for n in [3, 5, 6, 7, 100, 1000, usize::MAX] {
        assert_eq!(
            try_channel::<u8>(n).unwrap_err(),
            CapacityError::NotPowerOfTwo(n)
        );
    }
    for n in [1, 2, 4, 1024] {
        let (tx, rx) = try_channel::<u8>(n).unwrap();
        assert_eq!((tx.capacity(), rx.capacity()), (n, n));
    }
}

#[test]
fn capacities_too_large_to_allocate_are_errors() {
    let huge = 1usize << (usize::BITS - 1);
    assert_eq!(
        try_channel::<u64>(huge).unwrap_err(),
        CapacityError::TooLarge(huge)
    );
    let err = try_channel::<[u8; 64]>(1 << 58).unwrap_err();
    assert_eq!(err, CapacityError::TooLarge(1 << 58));
    assert!(err.to_string().contains("isize::MAX"));
}

#[test]
#[should_panic(expected = "power of two")]
fn channel_panics_on_a_non_power_of_two() {
    let _ = channel::<u8>(12);
}

#[test]
#[should_panic(expected = "at least 1")]
fn channel_panics_on_zero() {
    let _ = channel::<u8>(0);
}

#[test]
fn zero_sized_items_count_like_any_other() {
    let (mut tx, mut rx) = channel::<()>(4);
    for _ in 0..4 {
        tx.try_push(()).unwrap();
    }
    assert_eq!(tx.try_push(()), Err(PushError::Full(())));
    assert_eq!(rx.slots(), 4);
    let chunk = rx.read_chunk(3).unwrap();
    assert_eq!(chunk.as_slices().0.len() + chunk.as_slices().1.len(), 3);
    chunk.commit_all();
    assert_eq!(rx.try_pop(), Ok(()));
    assert_eq!(rx.try_pop(), Err(PopError::Empty));
    assert_eq!(tx.push_slice(&[(); 9]), 4);
    let mut out = [(); 9];
    assert_eq!(rx.pop_into(&mut out), 4);
}

/// Counts its drops in a shared counter.
#[derive(Debug)]
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

#[test]
fn every_item_is_dropped_exactly_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let item = || Counted(Arc::clone(&drops));
    let (mut tx, mut rx) = channel::<Counted>(8);
    for _ in 0..6 {
        tx.try_push(item()).unwrap();
    }
    // Popped: dropped by the caller.
    drop(rx.try_pop().unwrap());
    assert_eq!(drops.load(Ordering::Relaxed), 1);
    // Committed from a chunk: dropped by the commit.
    rx.read_chunk(2).unwrap().commit(2);
    assert_eq!(drops.load(Ordering::Relaxed), 3);
    // Looked at and not committed: still in the ring.
    let _ = rx.read_chunk(3).unwrap();
    assert_eq!(drops.load(Ordering::Relaxed), 3);
    // Moved out by iterating a chunk: dropped by the caller.
    let taken: Vec<Counted> = rx.read_chunk(3).unwrap().into_iter().take(1).collect();
    drop(taken);
    assert_eq!(drops.load(Ordering::Relaxed), 4);
    // A full ring pushed into: the value comes back and is dropped by the caller.
    for _ in 0..6 {
        tx.try_push(item()).unwrap();
    }
    let Err(PushError::Full(back)) = tx.try_push(item()) else {
        panic!("ring should be full");
    };
    drop(back);
    assert_eq!(drops.load(Ordering::Relaxed), 5);
    // Eight unread items go with the ring, whichever end goes last.
    drop(rx);
    assert_eq!(drops.load(Ordering::Relaxed), 5);
    drop(tx);
    assert_eq!(drops.load(Ordering::Relaxed), 13);
}

#[test]
#[cfg_attr(miri, ignore = "leaks two items on purpose, which Miri reports")]
fn a_forgotten_chunk_iterator_leaks_instead_of_dropping_twice() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (mut tx, mut rx) = channel::<Counted>(4);
    for _ in 0..4 {
        tx.try_push(Counted(Arc::clone(&drops))).unwrap();
    }
    let mut iter = rx.read_chunk(3).unwrap().into_iter();
    drop(iter.next());
    std::mem::forget(iter);
    assert_eq!(drops.load(Ordering::Relaxed), 1);
    // The two untaken items of the chunk are leaked; the fourth is still readable.
    drop(rx.try_pop().unwrap());
    assert!(rx.try_pop().is_err());
    assert_eq!(drops.load(Ordering::Relaxed), 2);
    // Every slot is free again (the leaked items' slots are reused without a drop).
    assert_eq!(tx.slots(), 4);
    for _ in 0..4 {
        tx.try_push(Counted(Arc::clone(&drops))).unwrap();
    }
    drop((tx, rx));
    assert_eq!(drops.load(Ordering::Relaxed), 6);
}

#[test]
fn unread_items_are_dropped_after_wrapping() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (mut tx, mut rx) = channel::<Counted>(4);
    for round in 0..10 {
        tx.try_push(Counted(Arc::clone(&drops))).unwrap();
        if round % 3 != 2 {
            drop(rx.try_pop().unwrap());
        }
    }
    let left = rx.slots();
    assert_eq!(left, 3);
    drop((tx, rx));
    assert_eq!(drops.load(Ordering::Relaxed), 10);
}

#[test]
fn an_uncommitted_write_chunk_publishes_nothing() {
    let (mut tx, mut rx) = channel::<u32>(4);
    {
        let mut chunk = tx.write_chunk_uninit(3).unwrap();
        chunk.as_mut_slices().0[0].write(1);
    }
    assert!(rx.is_empty());
    let chunk = tx.write_chunk_uninit(4).unwrap();
    assert_eq!(chunk.len(), 4);
    assert_eq!(chunk.fill_from_iter(0..10), 4);
    let mut out = [0; 4];
    assert_eq!(rx.pop_into(&mut out), 4);
    assert_eq!(out, [0, 1, 2, 3]);
}

#[test]
#[should_panic(expected = "cannot commit 3 items of a chunk of 2")]
fn committing_more_than_the_read_chunk_panics() {
    let (mut tx, mut rx) = channel::<u32>(4);
    tx.push_slice(&[1, 2]);
    rx.read_chunk(2).unwrap().commit(3);
}

#[test]
fn chunks_report_how_many_slots_there_are() {
    let (mut tx, mut rx) = channel::<u32>(4);
    assert_eq!(rx.read_chunk(1).unwrap_err(), ChunkError::TooFewSlots(0));
    assert_eq!(tx.push_slice(&[1, 2, 3]), 3);
    assert_eq!(
        tx.write_chunk_uninit(2).unwrap_err(),
        ChunkError::TooFewSlots(1)
    );
    assert_eq!(rx.read_chunk(4).unwrap_err(), ChunkError::TooFewSlots(3));
    assert_eq!(
        tx.write_chunk_uninit(5).unwrap_err(),
        ChunkError::TooFewSlots(1)
    );
    assert!(tx.write_chunk_uninit(0).unwrap().is_empty());
    assert!(rx.read_chunk(0).unwrap().is_empty());
    assert_eq!((tx.full_events(), rx.empty_events()), (2, 2));
}

#[test]
fn counters_count_refusals_only() {
    let (mut tx, mut rx) = channel::<u8>(2);
    assert_eq!(rx.pop_into(&mut []), 0);
    assert_eq!(tx.push_slice(&[]), 0);
    assert_eq!(rx.peek(), None);
    assert_eq!((tx.full_events(), rx.empty_events()), (0, 0));
    assert_eq!(tx.push_slice(&[1, 2, 3]), 2);
    assert_eq!(tx.full_events(), 0, "a partial push is not a refusal");
    assert_eq!(tx.push_slice(&[3]), 0);
    assert!(tx.try_push(3).is_err());
    assert_eq!(tx.full_events(), 2);
    assert_eq!(rx.pop_into(&mut [0; 2]), 2);
    assert_eq!(rx.pop_into(&mut [0; 2]), 0);
    assert!(rx.try_pop().is_err());
    assert_eq!(rx.empty_events(), 2);
}

#[test]
fn abandonment_is_seen_from_both_ends() {
    let (tx, rx) = channel::<u8>(2);
    assert!(!tx.is_abandoned() && !rx.is_abandoned());
    drop(tx);
    assert!(rx.is_abandoned());
    let (tx, rx) = channel::<u8>(2);
    drop(rx);
    assert!(tx.is_abandoned());
}

#[test]
fn ends_are_send() {
    fn is_send<T: Send>() {}
    is_send::<Producer<String>>();
    is_send::<Consumer<String>>();
    is_send::<tickpipe_ringbuf::wait::Waker>();
    is_send::<Box<dyn tickpipe_ringbuf::wait::WaitStrategy>>();
    is_send::<tickpipe_ringbuf::ReadChunk<'static, String>>();
    is_send::<tickpipe_ringbuf::WriteChunkUninit<'static, String>>();
    is_send::<tickpipe_ringbuf::ReadChunkIntoIter<'static, String>>();
}

#[test]
fn chunks_move_to_another_thread() {
    let (mut tx, mut rx) = channel::<String>(4);
    thread::scope(|scope| {
        let chunk = tx.write_chunk_uninit(2).unwrap();
        let written = scope
            .spawn(move || chunk.fill_from_iter(["a".to_string(), "b".to_string()]))
            .join()
            .unwrap();
        assert_eq!(written, 2);
        let chunk = rx.read_chunk(2).unwrap();
        let seen = scope
            .spawn(move || {
                let (a, b) = chunk.as_slices();
                let seen: Vec<String> = a.iter().chain(b).cloned().collect();
                chunk.commit_all();
                seen
            })
            .join()
            .unwrap();
        assert_eq!(seen, ["a", "b"]);
    });
    assert!(rx.is_empty());
}

#[test]
fn read_chunk_up_to_takes_what_is_ready() {
    let (mut tx, mut rx) = channel::<u32>(4);
    assert!(rx.read_chunk_up_to(0).is_empty());
    assert_eq!(
        rx.empty_events(),
        0,
        "a limit of zero finds nothing to miss"
    );
    assert!(rx.read_chunk_up_to(3).is_empty());
    assert_eq!(rx.empty_events(), 1);
    tx.push_slice(&[1, 2, 3]);
    rx.read_chunk_up_to(2).commit_all();
    tx.push_slice(&[4, 5]); // wraps
    let chunk = rx.read_chunk_up_to(8);
    assert_eq!(chunk.as_slices(), (&[3, 4][..], &[5][..]));
    chunk.commit(1);
    assert_eq!(rx.try_pop(), Ok(4));
    assert_eq!(rx.read_chunk_up_to(8).into_iter().collect::<Vec<_>>(), [5]);
    assert_eq!(tx.slots(), 4);
}

#[test]
fn two_threads_move_a_million_items_in_order() {
    let (mut tx, mut rx) = channel::<u64>(1024);
    let producer = thread::spawn(move || {
        let mut next = 0;
        while next < STRESS_ITEMS {
            match tx.try_push(next) {
                Ok(()) => next += 1,
                Err(PushError::Full(_)) => thread::yield_now(),
            }
        }
    });
    let mut expected = 0;
    while expected < STRESS_ITEMS {
        match rx.try_pop() {
            Ok(v) => {
                assert_eq!(v, expected);
                expected += 1;
            }
            Err(PopError::Empty) => thread::yield_now(),
        }
    }
    producer.join().unwrap();
    assert_eq!(rx.try_pop(), Err(PopError::Empty));
}

#[test]
fn two_threads_move_a_million_items_in_batches() {
    let (mut tx, mut rx) = channel::<u64>(256);
    let producer = thread::spawn(move || {
        let mut next = 0;
        let mut batch = [0u64; 37];
        while next < STRESS_ITEMS {
            // Alternate the two batch writers, with odd sizes so runs wrap at every offset.
            let want = ((STRESS_ITEMS - next) as usize).min(batch.len());
            if next % 2 == 0 {
                for (i, slot) in batch[..want].iter_mut().enumerate() {
                    *slot = next + i as u64;
                }
                let pushed = tx.push_slice(&batch[..want]);
                if pushed == 0 {
                    thread::yield_now();
                }
                next += pushed as u64;
            } else {
                let free = tx.slots().min(want);
                if free == 0 {
                    thread::yield_now();
                } else if let Ok(chunk) = tx.write_chunk_uninit(free) {
                    next += chunk.fill_from_iter(next..next + free as u64) as u64;
                }
            }
        }
        // Drop with items possibly still unread: the consumer must still get them all.
    });
    let mut expected = 0;
    let mut out = [0u64; 29];
    while expected < STRESS_ITEMS {
        if expected % 3 == 0 {
            let n = rx.pop_into(&mut out);
            if n == 0 {
                thread::yield_now();
            }
            for &v in &out[..n] {
                assert_eq!(v, expected);
                expected += 1;
            }
        } else {
            let n = rx.slots().min(53);
            if n == 0 {
                thread::yield_now();
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
    assert!(rx.is_abandoned());
    assert!(rx.is_empty());
}

#[test]
fn a_consumer_that_sees_the_producer_gone_can_drain_everything() {
    for _ in 0..if cfg!(miri) { 5 } else { 200 } {
        let (mut tx, mut rx) = channel::<u32>(64);
        let producer = thread::spawn(move || {
            for v in 0..50 {
                tx.try_push(v).unwrap();
            }
        });
        while !rx.is_abandoned() {
            thread::yield_now();
        }
        let mut out = [0; 64];
        assert_eq!(rx.pop_into(&mut out), 50);
        producer.join().unwrap();
    }
}

/// Panics in its drop when its flag says so.
struct PanicsOnDrop(bool, Arc<AtomicUsize>);

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        self.1.fetch_add(1, Ordering::Relaxed);
        if self.0 {
            panic!("drop panicked");
        }
    }
}

/// A commit whose second item panics in its `drop` still drops every other item of the
/// run exactly once, on both sides of the wrap, and releases all their slots.
#[test]
fn a_panicking_drop_in_a_commit_drops_the_rest_of_the_run_once() {
    // The chunk starts at `offset`: 0 keeps it in one run, 2 and 3 split it at the wrap
    // after the panicking item or before it.
    for offset in [0, 2, 3] {
        let drops = Arc::new(AtomicUsize::new(0));
        let (mut tx, mut rx) = channel::<PanicsOnDrop>(4);
        for _ in 0..offset {
            assert!(tx.try_push(PanicsOnDrop(false, Arc::clone(&drops))).is_ok());
            drop(rx.try_pop().unwrap());
        }
        for fails in [false, true, false, false] {
            assert!(tx.try_push(PanicsOnDrop(fails, Arc::clone(&drops))).is_ok());
        }
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            rx.read_chunk(4).unwrap().commit(3);
        }));
        assert!(result.is_err(), "offset {offset}");
        assert_eq!(drops.load(Ordering::Relaxed), offset + 3, "offset {offset}");
        // The three slots are released; the fourth item is still there, and nothing
        // committed is dropped again by the ring's teardown.
        assert_eq!(tx.slots(), 3, "offset {offset}");
        assert_eq!(rx.slots(), 1, "offset {offset}");
        drop((tx, rx));
        assert_eq!(drops.load(Ordering::Relaxed), offset + 4, "offset {offset}");
    }
}
