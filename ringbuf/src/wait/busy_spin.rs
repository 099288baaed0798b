//! Spin forever: the lowest latency, a whole core per thread group.

use super::{WaitStats, WaitStrategy};
use crate::primitive::hint;

/// Answers every idle round with a CPU spin hint and never gives up the core.
///
/// For a thread group pinned to a core of its own, on the latency-critical path.
///
/// ```
/// use tickpipe_ringbuf::wait::{BusySpin, WaitStrategy};
///
/// let mut s = BusySpin::new();
/// s.wait(&mut || false);
/// assert_eq!(s.stats().spins, 1);
/// ```
#[derive(Debug, Default)]
pub struct BusySpin {
    stats: WaitStats,
}

impl BusySpin {
    /// A busy-spinning strategy.
    pub fn new() -> BusySpin {
        BusySpin::default()
    }
}

impl WaitStrategy for BusySpin {
    #[inline]
    fn wait(&mut self, _recheck: &mut dyn FnMut() -> bool) {
        self.stats.idle_rounds += 1;
        self.stats.spins += 1;
        hint::spin_loop();
    }

    #[inline]
    fn reset(&mut self) {}

    fn stats(&self) -> WaitStats {
        self.stats
    }
}
