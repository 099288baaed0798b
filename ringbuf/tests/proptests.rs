//! Property tests: a ring driven by random operations on one thread behaves exactly like a
//! bounded `VecDeque`.
//!
//! Invariants checked after every operation:
//! - every operation returns what the model says (values, counts, errors, slot counts);
//! - the ring holds the model's items in the model's order (checked through a read chunk);
//! - every item is dropped exactly once: when popped, committed, or with the ring.
#![cfg(not(loom))]

use std::{
    collections::VecDeque,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
};

use proptest::prelude::*;
use tickpipe_ringbuf::{channel, ChunkError, PopError, PushError};

/// One call on the ring.
#[derive(Debug, Clone)]
enum Op {
    Push(u32),
    Pop,
    Peek,
    PushSlice(Vec<u32>),
    PopInto(usize),
    WriteChunk { want: usize, fill: usize },
    ReadChunk { want: usize, commit: usize },
    ReadChunkIter { want: usize, take: usize },
    ReadChunkUpTo { max: usize, commit: usize },
    Slots,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        any::<u32>().prop_map(Op::Push),
        Just(Op::Pop),
        Just(Op::Peek),
        prop::collection::vec(any::<u32>(), 0..20).prop_map(Op::PushSlice),
        (0usize..20).prop_map(Op::PopInto),
        (0usize..20, 0usize..20).prop_map(|(want, fill)| Op::WriteChunk { want, fill }),
        (0usize..20, 0usize..20).prop_map(|(want, commit)| Op::ReadChunk { want, commit }),
        (0usize..20, 0usize..20).prop_map(|(want, take)| Op::ReadChunkIter { want, take }),
        (0usize..20, 0usize..20).prop_map(|(max, commit)| Op::ReadChunkUpTo { max, commit }),
        Just(Op::Slots),
    ]
}

fn capacity() -> impl Strategy<Value = usize> {
    (0u32..5).prop_map(|shift| 1usize << shift)
}

/// Cases per property, and the most operations in one: fewer under Miri, which runs each
/// one thousands of times slower.
const CASES: u32 = if cfg!(miri) { 4 } else { 512 };
const MAX_OPS: usize = if cfg!(miri) { 40 } else { 200 };

proptest! {
    #![proptest_config(ProptestConfig {
        cases: CASES,
        // Under Miri's isolation the regressions file cannot be read or written.
        failure_persistence: if cfg!(miri) { None } else { ProptestConfig::default().failure_persistence },
        ..ProptestConfig::default()
    })]

    #[test]
    fn copy_items_behave_like_a_bounded_deque(
        cap in capacity(),
        ops in prop::collection::vec(op(), 0..MAX_OPS),
    ) {
        let (mut tx, mut rx) = channel::<u32>(cap);
        let mut model: VecDeque<u32> = VecDeque::new();
        let mut next = 0u32;
        for op in ops {
            match op {
                Op::Push(v) => {
                    let got = tx.try_push(v);
                    if model.len() < cap {
                        prop_assert_eq!(got, Ok(()));
                        model.push_back(v);
                    } else {
                        prop_assert_eq!(got, Err(PushError::Full(v)));
                    }
                }
                Op::Pop => {
                    prop_assert_eq!(rx.try_pop().ok(), model.pop_front());
                }
                Op::Peek => {
                    prop_assert_eq!(rx.peek(), model.front());
                }
                Op::PushSlice(items) => {
                    let n = tx.push_slice(&items);
                    prop_assert_eq!(n, items.len().min(cap - model.len()));
                    model.extend(&items[..n]);
                }
                Op::PopInto(len) => {
                    let mut out = vec![0; len];
                    let n = rx.pop_into(&mut out);
                    prop_assert_eq!(n, len.min(model.len()));
                    let expected: Vec<u32> = model.drain(..n).collect();
                    prop_assert_eq!(&out[..n], &expected[..]);
                }
                Op::WriteChunk { want, fill } => {
                    let free = cap - model.len();
                    match tx.write_chunk_uninit(want) {
                        Ok(chunk) => {
                            prop_assert!(want <= free);
                            prop_assert_eq!(chunk.len(), want);
                            let values: Vec<u32> = (next..).take(fill).collect();
                            next = next.wrapping_add(fill as u32);
                            let n = chunk.fill_from_iter(values.iter().copied());
                            prop_assert_eq!(n, want.min(fill));
                            model.extend(&values[..n]);
                        }
                        Err(e) => {
                            prop_assert!(want > free);
                            prop_assert_eq!(e, ChunkError::TooFewSlots(free));
                        }
                    }
                }
                Op::ReadChunk { want, commit } => match rx.read_chunk(want) {
                    Ok(chunk) => {
                        prop_assert!(want <= model.len());
                        let (a, b) = chunk.as_slices();
                        let seen: Vec<u32> = a.iter().chain(b).copied().collect();
                        let expected: Vec<u32> = model.iter().take(want).copied().collect();
                        prop_assert_eq!(seen, expected);
                        let commit = commit.min(want);
                        chunk.commit(commit);
                        model.drain(..commit);
                    }
                    Err(e) => {
                        prop_assert!(want > model.len());
                        prop_assert_eq!(e, ChunkError::TooFewSlots(model.len()));
                    }
                },
                Op::ReadChunkIter { want, take } => {
                    if let Ok(chunk) = rx.read_chunk(want) {
                        let taken: Vec<u32> = chunk.into_iter().take(take).collect();
                        let expected: Vec<u32> = model.drain(..take.min(want)).collect();
                        prop_assert_eq!(taken, expected);
                    } else {
                        prop_assert!(want > model.len());
                    }
                }
                Op::ReadChunkUpTo { max, commit } => {
                    let chunk = rx.read_chunk_up_to(max);
                    let (a, b) = chunk.as_slices();
                    let seen: Vec<u32> = a.iter().chain(b).copied().collect();
                    let expected: Vec<u32> = model.iter().take(max).copied().collect();
                    prop_assert_eq!(seen, expected);
                    let commit = commit.min(chunk.len());
                    chunk.commit(commit);
                    model.drain(..commit);
                }
                Op::Slots => {
                    prop_assert_eq!(rx.slots(), model.len());
                    prop_assert_eq!(tx.slots(), cap - model.len());
                    prop_assert_eq!(rx.is_empty(), model.is_empty());
                }
            }
            // The whole content, in order, without consuming it.
            let len = model.len();
            let chunk = rx.read_chunk(len).expect("the ring holds the model's items");
            let (a, b) = chunk.as_slices();
            prop_assert!(a.iter().chain(b).eq(model.iter()));
        }
        if model.is_empty() {
            prop_assert_eq!(rx.try_pop(), Err(PopError::Empty));
        }
    }

    #[test]
    fn owned_items_are_dropped_exactly_once(
        cap in capacity(),
        ops in prop::collection::vec(op(), 0..MAX_OPS.min(120)),
        drop_consumer_first in any::<bool>(),
    ) {
        let drops = Arc::new(AtomicUsize::new(0));
        let made = AtomicUsize::new(0);
        let item = |v: u32| {
            made.fetch_add(1, Ordering::Relaxed);
            Tracked(v, Arc::clone(&drops))
        };
        let (mut tx, mut rx) = channel::<Tracked>(cap);
        let mut model: VecDeque<u32> = VecDeque::new();
        for op in ops {
            match op {
                Op::Push(v) => {
                    if tx.try_push(item(v)).is_ok() {
                        model.push_back(v);
                    }
                }
                Op::PushSlice(values) => {
                    let n = tx.slots().min(values.len());
                    let chunk = tx.write_chunk_uninit(n).expect("slots() were free");
                    prop_assert_eq!(chunk.fill_from_iter(values.iter().map(|&v| item(v))), n);
                    model.extend(&values[..n]);
                }
                Op::Pop => {
                    prop_assert_eq!(rx.try_pop().ok().map(|t| t.0), model.pop_front());
                }
                Op::PopInto(len) => {
                    let n = rx.slots().min(len);
                    let chunk = rx.read_chunk(n).expect("slots() were ready");
                    let taken: Vec<u32> = chunk.into_iter().map(|t| t.0).collect();
                    let expected: Vec<u32> = model.drain(..n).collect();
                    prop_assert_eq!(taken, expected);
                }
                Op::Peek => {
                    prop_assert_eq!(rx.peek().map(|t| t.0), model.front().copied());
                }
                Op::WriteChunk { want, fill } => {
                    if let Ok(chunk) = tx.write_chunk_uninit(want) {
                        let n = chunk.fill_from_iter((0..fill as u32).map(item));
                        model.extend(0..n as u32);
                    }
                }
                Op::ReadChunk { want, commit } => {
                    if let Ok(chunk) = rx.read_chunk(want) {
                        let commit = commit.min(want);
                        chunk.commit(commit);
                        model.drain(..commit);
                    }
                }
                Op::ReadChunkIter { want, take } => {
                    if let Ok(chunk) = rx.read_chunk(want) {
                        let taken: Vec<u32> = chunk.into_iter().take(take).map(|t| t.0).collect();
                        let expected: Vec<u32> = model.drain(..take.min(want)).collect();
                        prop_assert_eq!(taken, expected);
                    }
                }
                Op::ReadChunkUpTo { max, commit } => {
                    let chunk = rx.read_chunk_up_to(max);
                    prop_assert_eq!(chunk.len(), max.min(model.len()));
                    let commit = commit.min(chunk.len());
                    chunk.commit(commit);
                    model.drain(..commit);
                }
                Op::Slots => {
                    prop_assert_eq!(rx.slots(), model.len());
                }
            }
            prop_assert_eq!(
                made.load(Ordering::Relaxed) - drops.load(Ordering::Relaxed),
                model.len(),
                "items alive outside the ring"
            );
        }
        if drop_consumer_first {
            drop(rx);
            drop(tx);
        } else {
            drop(tx);
            drop(rx);
        }
        prop_assert_eq!(drops.load(Ordering::Relaxed), made.load(Ordering::Relaxed));
    }
}

/// An owned item that counts its drops.
#[derive(Debug)]
struct Tracked(u32, Arc<AtomicUsize>);

impl Drop for Tracked {
    fn drop(&mut self) {
        self.1.fetch_add(1, Ordering::Relaxed);
    }
}
