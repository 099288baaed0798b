//! Throughput: one producer thread streams numbered messages to one consumer thread as
//! fast as the queue allows; the consumer checks every message.

use std::{
    hint,
    sync::{
        atomic::{AtomicU64, Ordering::Relaxed},
        Arc, Barrier,
    },
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
    /// Messages received and time taken while the queue held few, some or nearly all of
    /// its capacity: the state the run was in, which moves its speed as much as the
    /// queue's code does (see [`Band`]).
    pub bands: [BandTally; Band::ALL.len()],
}

/// How full the queue was when the consumer looked: the three states a throughput run
/// moves between.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Band {
    /// Fewer than 1/16 of the slots in use: the consumer runs close behind the producer,
    /// refreshing its copy of the producer's position often (and at worst sharing the
    /// lines being written).
    NearEmpty = 0,
    /// Between the other two: neither side waits for the other.
    Partial = 1,
    /// More than 15/16 of the slots in use: the producer runs close behind the consumer,
    /// refreshing its copy of the consumer's position often.
    NearFull = 2,
}

impl Band {
    /// Every band, in table order.
    pub const ALL: [Band; 3] = [Band::NearEmpty, Band::Partial, Band::NearFull];

    /// The band of a queue holding `fill` of `capacity` slots.
    pub fn of(fill: u64, capacity: usize) -> Band {
        let edge = (capacity as u64 / 16).max(1);
        if fill < edge {
            Band::NearEmpty
        } else if fill + edge <= capacity as u64 {
            Band::Partial
        } else {
            Band::NearFull
        }
    }

    /// Column heading for the report.
    pub fn label(self) -> &'static str {
        match self {
            Band::NearEmpty => "under 1/16 full",
            Band::Partial => "between",
            Band::NearFull => "over 15/16 full",
        }
    }
}

/// Messages and time spent in one [`Band`].
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct BandTally {
    /// Messages received.
    pub messages: u64,
    /// Time taken to receive them.
    pub elapsed: Duration,
}

impl BandTally {
    /// Adds another run's tally of the same band.
    pub fn add(&mut self, other: BandTally) {
        self.messages += other.messages;
        self.elapsed += other.elapsed;
    }

    /// Each band's share of all the messages, in percent, or `None` if there were none.
    pub fn shares(tallies: &[BandTally; Band::ALL.len()]) -> Option<[f64; Band::ALL.len()]> {
        let total: u64 = tallies.iter().map(|t| t.messages).sum();
        (total > 0).then(|| tallies.map(|t| t.messages as f64 * 100.0 / total as f64))
    }

    /// Million messages per second in this band, if any time was spent in it.
    pub fn rate(&self) -> Option<f64> {
        (self.messages > 0 && !self.elapsed.is_zero())
            .then(|| self.messages as f64 / self.elapsed.as_secs_f64() / 1e6)
    }
}

/// The producer publishes how many messages it has pushed every `capacity / 64` messages
/// (at least every message), so the consumer can tell how full the queue is without asking
/// the queue: the same measurement for every queue, short by less than 1/64 of the
/// capacity, a quarter of the width of the outer bands.
fn progress_every(capacity: usize) -> u64 {
    (capacity as u64 / 64).max(1)
}

/// The consumer looks at the queue's fill and the clock every this many messages; each
/// segment between two looks is put in the band of the fill seen at its end. A clock read
/// per 4096 messages costs well under a nanosecond per message.
const SAMPLE_EVERY: u64 = 4096;

/// The consumer's record of which band each segment of the run fell in.
struct BandTracker<'a> {
    produced: &'a AtomicU64,
    capacity: usize,
    next_sample: u64,
    last: Instant,
    bands: [BandTally; Band::ALL.len()],
}

impl<'a> BandTracker<'a> {
    fn new(produced: &'a AtomicU64, capacity: usize, began: Instant) -> BandTracker<'a> {
        BandTracker {
            produced,
            capacity,
            next_sample: SAMPLE_EVERY,
            last: began,
            bands: [BandTally::default(); Band::ALL.len()],
        }
    }

    /// Called with the count of messages received so far, after each receive.
    #[inline(always)]
    fn received(&mut self, received: u64) {
        if received >= self.next_sample {
            self.sample(received);
        }
    }

    #[cold]
    #[inline(never)]
    fn sample(&mut self, received: u64) {
        let now = Instant::now();
        let fill = self.produced.load(Relaxed).saturating_sub(received);
        let i = Band::of(fill, self.capacity) as usize;
        let segment = received - (self.next_sample - SAMPLE_EVERY);
        self.bands[i].messages += segment;
        self.bands[i].elapsed += now - self.last;
        self.last = now;
        self.next_sample = (received / SAMPLE_EVERY + 1) * SAMPLE_EVERY;
    }
}

/// Publishes the producer's count when it crosses a multiple of `every` (a power of two).
#[inline(always)]
fn report_progress(produced: &AtomicU64, every: u64, before: u64, after: u64) {
    if before / every != after / every {
        produced.store(after, Relaxed);
    }
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
    // Alone on its line: written by the producer once per `progress_every` messages, read
    // by the consumer once per `SAMPLE_EVERY`.
    let every = progress_every(capacity);
    let produced = Arc::new(CachePadded::new(AtomicU64::new(0)));
    let producer_count = Arc::clone(&produced);
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
                        report_progress(&producer_count, every, next - 1, next);
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
                    report_progress(&producer_count, every, next, next + pushed as u64);
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
        let mut bands = BandTracker::new(&produced, capacity, began);
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
                            bands.received(expected);
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
                    } else {
                        bands.received(expected);
                    }
                }
            }
        }
        let elapsed = began.elapsed();
        (elapsed, empty_polls, bands.bands)
    });
    let (elapsed, empty_polls, bands) = consumer.join().expect("consumer thread panicked");
    let (tx, full_polls) = producer.join().expect("producer thread panicked");
    drop(tx);
    Outcome {
        elapsed,
        full_polls,
        empty_polls,
        bands,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_split_the_capacity_at_one_sixteenth_from_each_end() {
        assert_eq!(Band::of(0, 4096), Band::NearEmpty);
        assert_eq!(Band::of(255, 4096), Band::NearEmpty);
        assert_eq!(Band::of(256, 4096), Band::Partial);
        assert_eq!(Band::of(3840, 4096), Band::Partial);
        assert_eq!(Band::of(3841, 4096), Band::NearFull);
        assert_eq!(Band::of(4096, 4096), Band::NearFull);
        // A tiny queue still has all three: empty, some, full.
        assert_eq!(Band::of(0, 2), Band::NearEmpty);
        assert_eq!(Band::of(1, 2), Band::Partial);
        assert_eq!(Band::of(2, 2), Band::NearFull);
    }

    #[test]
    fn a_run_accounts_for_its_messages_in_the_bands() {
        let setup = Setup {
            mode: Mode::Single,
            messages: 3 * SAMPLE_EVERY + 5,
            capacity: 64,
            cores: None,
            consumer_work: 0,
        };
        let outcome = run::<super::super::queues::Ours, u64>(&setup);
        let counted: u64 = outcome.bands.iter().map(|b| b.messages).sum();
        // Every whole segment is counted; the tail after the last look is not.
        assert_eq!(counted, 3 * SAMPLE_EVERY);
        let timed: Duration = outcome.bands.iter().map(|b| b.elapsed).sum();
        assert!(timed <= outcome.elapsed);
    }

    #[test]
    fn the_fill_is_measured_finer_than_the_bands() {
        assert_eq!(progress_every(4096), 64);
        assert_eq!(progress_every(64), 1);
        assert_eq!(progress_every(2), 1);
    }

    #[test]
    fn tallies_add_and_give_rates() {
        let mut t = BandTally::default();
        assert_eq!(t.rate(), None);
        t.add(BandTally {
            messages: 2_000_000,
            elapsed: Duration::from_millis(10),
        });
        t.add(BandTally {
            messages: 2_000_000,
            elapsed: Duration::from_millis(10),
        });
        assert_eq!(t.messages, 4_000_000);
        assert!((t.rate().unwrap() - 200.0).abs() < 1e-9);
        let none = BandTally::default();
        assert_eq!(BandTally::shares(&[none; 3]), None);
        assert_eq!(BandTally::shares(&[t, none, t]), Some([50.0, 0.0, 50.0]));
    }
}
