//! Spin a while, then yield the time slice on every idle round.

use super::{WaitStats, WaitStrategy};
use crate::primitive::{hint, thread};

/// Spins for the first `spin_rounds` idle rounds after work, then yields to the OS
/// scheduler on each further idle round.
///
/// For a thread group that shares its core with other threads but must still react
/// within microseconds.
///
/// ```
/// use tickpipe_ringbuf::wait::{SpinThenYield, WaitStrategy};
///
/// let mut s = SpinThenYield::new(2);
/// for _ in 0..3 {
///     s.wait(&mut || false);
/// }
/// assert_eq!((s.stats().spins, s.stats().yields), (2, 1));
/// s.reset();
/// s.wait(&mut || false);
/// assert_eq!(s.stats().spins, 3);
/// ```
#[derive(Debug)]
pub struct SpinThenYield {
    spin_rounds: u32,
    /// Idle rounds since the last round with work (saturating).
    idle_run: u32,
    stats: WaitStats,
}

impl SpinThenYield {
    /// Idle rounds spent spinning by [`SpinThenYield::default`]: with a round of a few
    /// tens of nanoseconds, some tens of microseconds of spinning before the first yield.
    pub const DEFAULT_SPIN_ROUNDS: u32 = 1_000;

    /// Spins for `spin_rounds` idle rounds, then yields.
    pub fn new(spin_rounds: u32) -> SpinThenYield {
        SpinThenYield {
            spin_rounds,
            idle_run: 0,
            stats: WaitStats::default(),
        }
    }
}

impl Default for SpinThenYield {
    fn default() -> SpinThenYield {
        SpinThenYield::new(SpinThenYield::DEFAULT_SPIN_ROUNDS)
    }
}

impl WaitStrategy for SpinThenYield {
    fn wait(&mut self, _recheck: &mut dyn FnMut() -> bool) {
        self.stats.idle_rounds += 1;
        if self.idle_run < self.spin_rounds {
            self.stats.spins += 1;
            hint::spin_loop();
        } else {
            self.stats.yields += 1;
            thread::yield_now();
        }
        self.idle_run = self.idle_run.saturating_add(1);
    }

    #[inline]
    fn reset(&mut self) {
        self.idle_run = 0;
    }

    fn stats(&self) -> WaitStats {
        self.stats
    }
}
