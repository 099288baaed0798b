//! Throughput: one producer thread streams numbered messages to one consumer thread as
//! fast as the queue allows; the consumer checks every message.

use std::{
    hint,
    sync::{Arc, Barrier},
    thread,
    time::{Duration, Instant},
};

use crossbeam_utils::CachePadded;

use super::{message::Message, queues::Queue};
use crate::pin::{pin_current, CorePair};

/// How messages cross the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// One push and one pop per message.
    Single,
    /// Chunks of up to this many messages per publish and per release.
    Batch(usize),
}

/// What one run does.
#[derive(Debug, Clone, Copy)]
pub struct Setup {
    /// One at a time or batched.
    pub mode: Mode,
    /// Messages to move.
    pub messages: u64,
    /// Slots in the queue.
    pub capacity: usize,
    /// Where the two threads run.
    pub cores: Option<CorePair>,
    /// Dummy work steps the consumer does per message (0: none), to see how the result
    /// depends on which side is faster.
    pub consumer_work: u32,
}

/// Stands for a stage's work on one message: `steps` dependent operations the optimiser
/// cannot remove.
#[inline(always)]
fn work(steps: u32, seed: u64) {
    let mut x = seed;
    for _ in 0..steps {
        x = hint::black_box(x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1));
    }
}

/// What one run measured.
#[derive(Debug, Clone, Copy)]
pub struct Outcome {
    /// From the start signal to the consumer receiving the last message.
    pub elapsed: Duration,
    /// Producer attempts that found the queue full.
    pub full_polls: u64,
    /// Consumer attempts that found the queue empty.
    pub empty_polls: u64,
}

/// Moves `messages` messages through `Q` and reports the time and how often each side found
/// the queue full or empty (which tells whether the run was producer- or consumer-bound).
///
/// # Panics
/// If a message arrives out of order or torn (the queue is broken), or a thread panics.
pub fn run<Q: Queue<M>, M: Message>(setup: &Setup) -> Outcome {
    let Setup {
        mode,
        messages,
        capacity,
        cores,
        consumer_work,
    } = *setup;
    let (tx, rx) = Q::make(capacity);
    let start = Arc::new(Barrier::new(2));
    let producer_start = Arc::clone(&start);
    let producer = thread::spawn(move || {
        pin_current(cores.map(|c| c.first));
        // Own cache line, on this thread's stack: nothing the other thread writes shares it.
        let mut padded_tx = CachePadded::new(tx);
        let tx = &mut *padded_tx;
        producer_start.wait();
        let mut next = 0u64;
        let mut full_polls = 0u64;
        match mode {
            Mode::Single => {
                while next < messages {
                    if Q::push(tx, M::new(next)) {
                        next += 1;
                    } else {
                        full_polls += 1;
                        hint::spin_loop();
                    }
                }
            }
            Mode::Batch(batch) => {
                while next < messages {
                    let want = (messages - next).min(batch as u64) as usize;
                    let pushed = Q::push_batch(tx, next, want);
                    if pushed == 0 {
                        full_polls += 1;
                        hint::spin_loop();
                    }
                    next += pushed as u64;
                }
            }
        }
        // Keep the producer end alive until the consumer is done, as a stage would.
        (padded_tx, full_polls)
    });
    let consumer = thread::spawn(move || {
        pin_current(cores.map(|c| c.second));
        let mut rx = CachePadded::new(rx);
        let rx = &mut *rx;
        start.wait();
        let began = Instant::now();
        let mut expected = 0u64;
        let mut empty_polls = 0u64;
        match mode {
            Mode::Single => {
                while expected < messages {
                    match Q::pop(rx) {
                        Some(m) => {
                            assert!(m.is(expected), "message {expected} lost or torn");
                            work(consumer_work, expected);
                            expected += 1;
                        }
                        None => {
                            empty_polls += 1;
                            hint::spin_loop();
                        }
                    }
                }
            }
            Mode::Batch(batch) => {
                while expected < messages {
                    let got = Q::pop_batch(rx, batch, &mut |m: &M| {
                        assert!(m.is(expected), "message {expected} lost or torn");
                        work(consumer_work, expected);
                        expected += 1;
                    });
                    if got == 0 {
                        empty_polls += 1;
                        hint::spin_loop();
                    }
                }
            }
        }
        (began.elapsed(), empty_polls)
    });
    let (elapsed, empty_polls) = consumer.join().expect("consumer thread panicked");
    let (tx, full_polls) = producer.join().expect("producer thread panicked");
    drop(tx);
    Outcome {
        elapsed,
        full_polls,
        empty_polls,
    }
}
