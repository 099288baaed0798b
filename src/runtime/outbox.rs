//! A ring producer that never loses a message and never blocks the thread.

use std::collections::VecDeque;

use tickpipe_ringbuf::{Producer, PushError};

/// Most messages the stash holds.
///
/// A stage reads a new input message only when its outbox is clear, and one input yields
/// at most a handful of outputs (a forwarded tick plus a signal per strategy, or an exit
/// and an entry), so in a correct stage the stash never fills and never reallocates.
/// Should a stage break that rule, the outbox does not grow: see [`Outbox::push`].
pub const STASH_CAPACITY: usize = 64;

/// Wraps the producer end of a ring for an edge whose messages must never be dropped
/// (signals, intents, exec reports, and market data from a replayable source).
///
/// When the ring is full the message goes to a small preallocated stash instead of
/// spinning, so a stage that shares a thread with its consumer cannot deadlock: it
/// returns from `poll()`, the consumer runs, and [`Outbox::flush`] moves the stash on.
/// Each push that finds the ring full is counted as a stall.
#[derive(Debug)]
pub struct Outbox<T> {
    producer: Producer<T>,
    stash: VecDeque<T>,
    stalls: u64,
    overflowed: u64,
}

impl<T> Outbox<T> {
    /// An outbox over `producer`.
    pub fn new(producer: Producer<T>) -> Outbox<T> {
        Outbox {
            producer,
            stash: VecDeque::with_capacity(STASH_CAPACITY),
            stalls: 0,
            overflowed: 0,
        }
    }

    /// Sends `value`, or stashes it behind earlier stashed messages (order is kept).
    ///
    /// With the ring full and [`STASH_CAPACITY`] messages already stashed, `value` is
    /// dropped and counted in [`Outbox::overflowed`]: the stash never grows (no
    /// allocation on a stage thread, in any build). A message lost on an edge that must
    /// lose nothing means the stage's picture is wrong, so every stage treats a non-zero
    /// count as a fatal error and halts.
    ///
    /// The common case, an empty stash and room in the ring, is inlined into the stage's
    /// loop; the rest lives in cold functions so that the bounded-stash handling does not
    /// make every push a full call that saves and restores registers.
    #[inline]
    pub fn push(&mut self, value: T) {
        if !self.stash.is_empty() {
            self.push_behind_stash(value);
        } else if let Err(PushError::Full(v)) = self.producer.try_push(value) {
            self.stash_first(v);
        }
    }

    /// The ring was full and the stash empty: `value` starts the stash.
    #[cold]
    #[inline(never)]
    fn stash_first(&mut self, value: T) {
        self.stalls += 1;
        self.stash.push_back(value);
    }

    /// Earlier messages wait in the stash: `value` queues behind them, or is dropped and
    /// counted when the stash is full.
    #[cold]
    #[inline(never)]
    fn push_behind_stash(&mut self, value: T) {
        if self.stash.len() < STASH_CAPACITY {
            self.stash.push_back(value);
        } else {
            self.overflowed += 1;
        }
    }

    /// Messages dropped because the stash was full (zero in a correct stage).
    #[inline]
    pub fn overflowed(&self) -> u64 {
        self.overflowed
    }

    /// True when the consumer end of the ring is gone: nothing pushed will be read.
    pub fn is_abandoned(&self) -> bool {
        self.producer.is_abandoned()
    }

    /// Moves stashed messages into the ring; true when the stash is empty afterwards.
    #[inline]
    pub fn flush(&mut self) -> bool {
        while let Some(v) = self.stash.pop_front() {
            if let Err(PushError::Full(v)) = self.producer.try_push(v) {
                self.stash.push_front(v);
                return false;
            }
        }
        true
    }

    /// True when nothing is stashed.
    #[inline]
    pub fn is_clear(&self) -> bool {
        self.stash.is_empty()
    }

    /// Pushes that found the ring full.
    pub fn stalls(&self) -> u64 {
        self.stalls
    }
}

#[cfg(test)]
mod tests {
    use tickpipe_ringbuf::channel;

    use super::*;

    #[test]
    fn a_full_ring_stashes_in_order_and_flush_moves_the_stash_on() {
        let (tx, mut rx) = channel::<u32>(64);
        let mut out = Outbox::new(tx);
        for i in 0..70 {
            out.push(i);
        }
        assert_eq!(out.stalls(), 1);
        assert!(!out.is_clear());
        let first: Vec<u32> = std::iter::from_fn(|| rx.try_pop().ok()).collect();
        assert_eq!(first, (0..64).collect::<Vec<_>>());
        assert!(out.flush());
        let rest: Vec<u32> = std::iter::from_fn(|| rx.try_pop().ok()).collect();
        assert_eq!(rest, (64..70).collect::<Vec<_>>());
        assert_eq!(out.overflowed(), 0);
    }

    #[test]
    fn the_stash_is_bounded_and_counts_what_it_drops() {
        let (tx, _rx) = channel::<u32>(64);
        let mut out = Outbox::new(tx);
        for i in 0..(64 + STASH_CAPACITY as u32 + 5) {
            out.push(i);
        }
        assert_eq!(out.overflowed(), 5);
    }
}
