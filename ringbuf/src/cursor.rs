//! The two shared positions of a ring: the consumer's head and the producer's tail.

use crossbeam_utils::CachePadded;

use crate::primitive::atomic::{AtomicUsize, Ordering};

/// A position one end publishes and the other end observes, alone on its cache line.
///
/// Positions are free-running counters (they wrap at `usize::MAX`, not at the capacity);
/// the slot index is `position & (capacity - 1)`. The producer owns the *tail* (the next
/// position it will write), the consumer owns the *head* (the next position it will read).
/// `tail - head` (wrapping) is the number of items in the ring and never exceeds the
/// capacity.
///
/// The orderings are fixed here, so call sites never choose one:
///
/// - The producer writes a slot, then [`publish`](Cursor::publish)es the tail with
///   **Release**; the consumer [`observe`](Cursor::observe)s the tail with **Acquire**. The
///   pair makes the slot write happen-before the consumer's read of it.
/// - The consumer reads (moves out or drops) a slot, then publishes the head with
///   **Release**; the producer observes the head with **Acquire**. The pair makes the
///   consumer's last access to a slot happen-before the producer overwrites it.
///
/// Each end keeps its own position in a plain field and a cached copy of the other end's,
/// and observes the shared one only when the cached copy says "maybe full" or "maybe empty",
/// so in steady state the other end's cache line is touched once per batch, not per item.
#[derive(Debug)]
pub(crate) struct Cursor(CachePadded<AtomicUsize>);

impl Cursor {
    /// A cursor at position zero.
    pub(crate) fn new() -> Cursor {
        Cursor(CachePadded::new(AtomicUsize::new(0)))
    }

    /// Called by the owning end to make `position` visible to the other end, after it is
    /// done with every slot before `position`.
    #[inline(always)]
    pub(crate) fn publish(&self, position: usize) {
        // Release: pairs with the Acquire in `observe` on the other end (see the type doc).
        self.0.store(position, Ordering::Release);
    }

    /// Called by the other end to learn the owner's position; every slot access the owner
    /// made before publishing it happens-before whatever the caller does next.
    #[inline(always)]
    pub(crate) fn observe(&self) -> usize {
        // Acquire: pairs with the Release in `publish` (see the type doc).
        self.0.load(Ordering::Acquire)
    }

    /// The final position, read when the ring is being torn down.
    pub(crate) fn settled(&mut self) -> usize {
        // Relaxed is enough: `&mut self` proves both ends are gone, and the `Arc` that owned
        // this cursor already ordered their last publish before this drop.
        self.0.load(Ordering::Relaxed)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn cursors_sit_alone_on_their_cache_lines() {
        assert!(std::mem::align_of::<Cursor>() >= 64);
        assert!(std::mem::size_of::<Cursor>() >= 64);
    }

    #[test]
    fn a_published_position_is_observed() {
        let mut c = Cursor::new();
        assert_eq!(c.observe(), 0);
        c.publish(usize::MAX);
        assert_eq!(c.observe(), usize::MAX);
        assert_eq!(c.settled(), usize::MAX);
    }
}
