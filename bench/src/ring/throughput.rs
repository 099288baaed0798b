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
pub fn run<Q: Queue<M>, M: Message>(
    mode: Mode,
    messages: u64,
    capacity: usize,
    cores: Option<CorePair>,
) -> Outcome {
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
