//! The flag that tells the surviving end of a ring that the other end is gone.

use crate::primitive::atomic::{AtomicBool, Ordering};

/// Set by whichever end of the ring is dropped first, so the survivor can tell it is alone.
#[derive(Debug)]
pub(crate) struct Hangup(AtomicBool);

impl Hangup {
    /// Neither end has hung up.
    pub(crate) fn new() -> Hangup {
        Hangup(AtomicBool::new(false))
    }

    /// Called from an end's `Drop`, after its last publish.
    pub(crate) fn hang_up(&self) {
        // Release: pairs with the Acquire in `is_hung_up`, so a consumer that sees the
        // producer gone also sees the producer's final tail, and can drain every item.
        self.0.store(true, Ordering::Release);
    }

    /// True once the *other* end is gone (an end cannot ask after its own drop).
    #[inline]
    pub(crate) fn is_hung_up(&self) -> bool {
        // Acquire: pairs with the Release in `hang_up`.
        self.0.load(Ordering::Acquire)
    }
}
