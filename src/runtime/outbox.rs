//! A ring producer that never loses a message and never blocks the thread.

use std::collections::VecDeque;

use tickpipe_ringbuf::{Producer, PushError};

/// Most messages one input may cause before the stage stops reading input.
///
/// A stage reads a new input message only when its outbox is clear, and one input yields
/// at most a handful of outputs (a forwarded tick plus a signal per strategy, or an exit
/// and an entry), so the stash never grows past this and never reallocates.
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
}

impl<T> Outbox<T> {
    /// An outbox over `producer`.
    pub fn new(producer: Producer<T>) -> Outbox<T> {
        Outbox {
            producer,
            stash: VecDeque::with_capacity(STASH_CAPACITY),
            stalls: 0,
        }
    }

    /// Sends `value`, or stashes it behind earlier stashed messages (order is kept).
    #[inline]
    pub fn push(&mut self, value: T) {
        if self.stash.is_empty() {
            match self.producer.try_push(value) {
                Ok(()) => {}
                Err(PushError::Full(v)) => {
                    self.stalls += 1;
                    self.stash.push_back(v);
                }
            }
        } else {
            debug_assert!(self.stash.len() < STASH_CAPACITY, "outbox stash overflow");
            self.stash.push_back(value);
        }
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
