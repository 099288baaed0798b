//! Spin, then yield, then sleep until a producer wakes the thread.

use std::time::Duration;

use super::{doorbell::Doorbell, WaitStats, WaitStrategy};
use crate::primitive::{hint, thread, Arc};

/// Spins for `spin_rounds` idle rounds, yields for `yield_rounds` more, then parks the
/// thread until a [`Waker`] wakes it or `park_timeout` passes.
///
/// For thread groups that idle for long stretches (outside market hours, control and
/// journal stages): an idle group costs no CPU. Every producer that feeds the group must
/// call [`Waker::wake`] (from [`SpinThenPark::waker`]) after a round in which it pushed;
/// the timeout is only a safety net.
///
/// Each sleep registers the thread it runs on as the one to unpark, so the strategy may
/// move to another thread between calls.
///
/// ```
/// use std::time::Duration;
/// use tickpipe_ringbuf::wait::{SpinThenPark, WaitStrategy};
///
/// let mut s = SpinThenPark::new(0, 0, Duration::from_millis(1));
/// s.wait(&mut || false); // sleeps about a millisecond: no waker rang
/// s.wait(&mut || true); // the recheck found work: does not sleep
/// let stats = s.stats();
/// assert_eq!((stats.idle_rounds, stats.parks, stats.wakeups), (2, 1, 0));
/// ```
#[derive(Debug)]
pub struct SpinThenPark {
    spin_rounds: u32,
    yield_rounds: u32,
    park_timeout: Duration,
    /// Idle rounds since the last round with work (saturating).
    idle_run: u32,
    bell: Arc<Doorbell>,
    stats: WaitStats,
}

impl SpinThenPark {
    /// Idle rounds spent spinning by [`SpinThenPark::default`].
    pub const DEFAULT_SPIN_ROUNDS: u32 = 1_000;
    /// Idle rounds spent yielding by [`SpinThenPark::default`].
    pub const DEFAULT_YIELD_ROUNDS: u32 = 100;
    /// The safety-net park timeout of [`SpinThenPark::default`]: a producer that forgot to
    /// wake delays its consumer by at most this, and an idle thread wakes this often.
    pub const DEFAULT_PARK_TIMEOUT: Duration = Duration::from_millis(1);

    /// Spins `spin_rounds` idle rounds, yields `yield_rounds` more, then parks for at most
    /// `park_timeout` per idle round.
    pub fn new(spin_rounds: u32, yield_rounds: u32, park_timeout: Duration) -> SpinThenPark {
        SpinThenPark {
            spin_rounds,
            yield_rounds,
            park_timeout,
            idle_run: 0,
            bell: Arc::new(Doorbell::default()),
            stats: WaitStats::default(),
        }
    }

    /// A handle for producers to wake this strategy's thread. Clone it for each producer.
    pub fn waker(&self) -> Waker {
        Waker {
            bell: Arc::clone(&self.bell),
        }
    }
}

impl Default for SpinThenPark {
    fn default() -> SpinThenPark {
        SpinThenPark::new(
            SpinThenPark::DEFAULT_SPIN_ROUNDS,
            SpinThenPark::DEFAULT_YIELD_ROUNDS,
            SpinThenPark::DEFAULT_PARK_TIMEOUT,
        )
    }
}

impl WaitStrategy for SpinThenPark {
    fn wait(&mut self, recheck: &mut dyn FnMut() -> bool) {
        self.stats.idle_rounds += 1;
        let run = self.idle_run;
        self.idle_run = run.saturating_add(1);
        if run < self.spin_rounds {
            self.stats.spins += 1;
            hint::spin_loop();
        } else if run - self.spin_rounds < self.yield_rounds {
            self.stats.yields += 1;
            thread::yield_now();
        } else {
            let outcome = self.bell.sleep(recheck, self.park_timeout);
            self.stats.parks += u64::from(outcome.parked);
            self.stats.wakeups += u64::from(outcome.notified);
        }
    }

    #[inline]
    fn reset(&mut self) {
        self.idle_run = 0;
    }

    fn stats(&self) -> WaitStats {
        self.stats
    }
}

/// Wakes a [`SpinThenPark`] thread group; held by the producers that feed it.
///
/// `Send + Sync + Clone`. [`wake`](Waker::wake) costs one fence and one load while the
/// group is awake, and a compare-exchange plus an unpark system call when it sleeps.
#[derive(Debug, Clone)]
pub struct Waker {
    bell: Arc<Doorbell>,
}

impl Waker {
    /// Wakes the group if it is asleep or about to sleep. Call it after a round in which
    /// this thread pushed into any ring the group reads.
    #[inline]
    pub fn wake(&self) {
        self.bell.ring();
    }
}
