//! The sleep/wake handshake between a parking thread group and its producers.

use std::time::Duration;

use crate::primitive::{
    atomic::{fence, AtomicU8, Ordering},
    thread, ThreadSlot,
};

/// The sleeper is running (or has not slept yet).
const AWAKE: u8 = 0;
/// The sleeper announced it is about to sleep, or is asleep.
const SLEEPING: u8 = 1;
/// A waker saw `SLEEPING` and is unparking (or has unparked) the sleeper.
const NOTIFIED: u8 = 2;

/// The shared state of one parking thread and any number of wakers.
///
/// State goes `AWAKE → SLEEPING` (sleeper announces), `SLEEPING → NOTIFIED` (one waker wins
/// the compare-exchange and unparks), and back to `AWAKE` (sleeper, after its recheck or
/// its park). Only the sleeper writes `AWAKE` and `SLEEPING`; only wakers write `NOTIFIED`.
#[derive(Debug, Default)]
pub(crate) struct Doorbell {
    state: AtomicU8,
    thread: ThreadSlot,
}

/// What happened in one [`Doorbell::sleep`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SleepOutcome {
    /// The recheck found no work, so the thread parked.
    pub(crate) parked: bool,
    /// A waker signalled this sleep.
    pub(crate) notified: bool,
}

impl Doorbell {
    /// Announces sleep, rechecks for work, and parks the calling thread for at most
    /// `timeout` if there is none.
    pub(crate) fn sleep(
        &self,
        recheck: &mut dyn FnMut() -> bool,
        timeout: Duration,
    ) -> SleepOutcome {
        debug_assert_eq!(self.state.load(Ordering::Relaxed), AWAKE);
        // The calling thread is the one to unpark for this sleep (the strategy may have
        // moved to another thread since the last one). The slot's lock orders the handle
        // with the waker's read of it.
        self.thread.register_current();
        // Release, pairing with the Acquire of the waker's compare-exchange: not needed for
        // the handle, which the lock orders, but free on x86 and it keeps the announcement
        // after everything the sleeper did before it.
        self.state.store(SLEEPING, Ordering::Release);
        // SeqCst fence, pairing with the one in `ring`: the two fences are totally ordered.
        // If ours is first, the waker's load of `state` sees SLEEPING (or later) and it
        // unparks us; if the waker's is first, the pushes it made before its fence are
        // visible to the ring loads in `recheck`. Either way the work is not missed.
        fence(Ordering::SeqCst);
        let parked = !recheck();
        if parked {
            thread::park_timeout(timeout);
        }
        // Relaxed: this only resets the handshake; the items themselves are ordered by the
        // rings' own Release/Acquire cursors, which the caller polls next.
        let notified = self.state.swap(AWAKE, Ordering::Relaxed) == NOTIFIED;
        SleepOutcome { parked, notified }
    }

    /// Wakes the sleeper if it is asleep or about to sleep. When it is not, this costs one
    /// fence and one load of a line that is only written when the sleeper sleeps.
    #[inline]
    pub(crate) fn ring(&self) {
        // SeqCst fence: pairs with the one in `sleep` (see there). The caller's pushes are
        // sequenced before it.
        fence(Ordering::SeqCst);
        if self.state.load(Ordering::Relaxed) != SLEEPING {
            return;
        }
        // Only one waker wins and unparks. Acquire: pairs with the Release store of
        // SLEEPING, making the registered thread handle visible.
        if self
            .state
            .compare_exchange(SLEEPING, NOTIFIED, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
        {
            self.thread.unpark();
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::thread;

    use super::*;

    #[test]
    fn a_recheck_that_finds_work_prevents_the_park() {
        let bell = Doorbell::default();
        let outcome = bell.sleep(&mut || true, Duration::from_secs(60));
        assert_eq!(
            outcome,
            SleepOutcome {
                parked: false,
                notified: false
            }
        );
        assert_eq!(bell.state.load(Ordering::Relaxed), AWAKE);
    }

    #[test]
    fn ringing_an_awake_bell_changes_nothing() {
        let bell = Doorbell::default();
        bell.ring();
        assert_eq!(bell.state.load(Ordering::Relaxed), AWAKE);
    }

    /// The timeout is an hour: a ring that failed to unpark the sleeper would hang the test
    /// rather than pass late, and no wall-clock bound is needed.
    #[test]
    fn a_ring_wakes_a_sleeper_before_its_timeout() {
        let bell = std::sync::Arc::new(Doorbell::default());
        let sleeper_bell = std::sync::Arc::clone(&bell);
        let sleeper = thread::spawn(move || loop {
            let outcome = sleeper_bell.sleep(&mut || false, Duration::from_secs(3600));
            if outcome.notified {
                return outcome;
            }
        });
        while !sleeper.is_finished() {
            bell.ring();
            thread::sleep(Duration::from_millis(1));
        }
        let outcome = sleeper.join().unwrap();
        assert!(outcome.parked && outcome.notified);
    }
}
