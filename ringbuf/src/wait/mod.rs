//! How a thread that found no work waits for more.
//!
//! One engine thread runs several stages round-robin (a *thread group*). After a round in
//! which no stage did any work it calls [`WaitStrategy::wait`]; after a round with work,
//! [`WaitStrategy::reset`]. The strategies trade latency for CPU:
//!
//! | strategy | idle thread | wake-up latency | needs a [`Waker`] |
//! |---|---|---|---|
//! | [`BusySpin`] | spins on a core, forever | lowest (one poll) | no |
//! | [`SpinThenYield`] | spins, then yields its time slice | low; a yield can cost a scheduler tick when the core is shared | no |
//! | [`SpinThenPark`] | spins, yields, then sleeps in the kernel | a futex wake (microseconds) once asleep | yes: producers call [`Waker::wake`] after pushing |
//!
//! [`WaitKind`] names them for configuration and builds one.
//!
//! # No lost wake-ups
//!
//! [`SpinThenPark`] uses a Dekker-style handshake: before sleeping it announces "sleeping",
//! issues a `SeqCst` fence and polls every stage once more (the `recheck` argument); a
//! producer publishes its items, issues a `SeqCst` fence and reads the announcement. The
//! fences are totally ordered, so either the recheck sees the items or the producer sees the
//! announcement and unparks the thread. A bounded park timeout is kept as a safety net for a
//! producer that forgets to wake.
//!
//! # Examples
//! ```
//! use tickpipe_ringbuf::{channel, wait::{WaitKind, WaitStrategy}};
//!
//! let (mut tx, mut rx) = channel::<u64>(64);
//! let (mut strategy, waker) = "spin_then_park".parse::<WaitKind>().unwrap().build();
//! let waker = waker.expect("a parking strategy has a waker");
//!
//! let consumer = std::thread::spawn(move || {
//!     let mut sum = 0;
//!     while sum < 10 {
//!         match rx.try_pop() {
//!             Ok(v) => { sum += v; strategy.reset(); }
//!             Err(_) => strategy.wait(&mut || !rx.is_empty()),
//!         }
//!     }
//!     sum
//! });
//! for v in 1..=4 {
//!     tx.try_push(v).unwrap();
//!     waker.wake();
//! }
//! assert_eq!(consumer.join().unwrap(), 10);
//! ```

mod busy_spin;
mod doorbell;
mod kind;
mod spin_then_park;
mod spin_then_yield;

pub use busy_spin::BusySpin;
pub use kind::{ParseWaitKindError, WaitKind};
pub use spin_then_park::{SpinThenPark, Waker};
pub use spin_then_yield::SpinThenYield;

/// What a thread group does when a round of polling found no work.
pub trait WaitStrategy: Send {
    /// Called after a round in which no stage did work. `recheck` polls every stage once
    /// more and returns true if any did work; a parking strategy must call it after
    /// announcing that it is about to sleep and before sleeping, so no wake-up is lost.
    fn wait(&mut self, recheck: &mut dyn FnMut() -> bool);

    /// Called after a round with work: the next idle round starts the escalation (spin,
    /// then yield, then park) from the beginning.
    fn reset(&mut self);

    /// Counters so far.
    fn stats(&self) -> WaitStats;
}

/// Counters a [`WaitStrategy`] keeps, for telemetry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WaitStats {
    /// Calls to [`WaitStrategy::wait`] (rounds in which no stage did work).
    pub idle_rounds: u64,
    /// Idle rounds answered with a CPU spin hint.
    pub spins: u64,
    /// Idle rounds answered by yielding the time slice to the OS scheduler.
    pub yields: u64,
    /// Times the thread went to sleep (its recheck found no work).
    pub parks: u64,
    /// Wake-ups received: times a [`Waker`] found the thread asleep or about to sleep and
    /// signalled it.
    pub wakeups: u64,
}
