//! Whether the journal as a whole still keeps the record of the day.
//!
//! The flusher is the only thread that meets the file system after start-up (it
//! creates the next segments, names them and `msync`s). When it fails (a full disk,
//! a file system turned read-only, a path it cannot create), every writer is soon
//! unable to go on, and a stage that only notices when its own segment runs out
//! would go on trading for a while on records that can no longer be made durable.
//! The flusher marks the journal failed at its first error, and the stage that owns
//! the book checks the mark between events (one load of a line that changes once).

use std::sync::atomic::{AtomicBool, Ordering};

/// The journal's health, shared by the flusher (which marks it) and every writer.
#[derive(Debug, Default)]
pub(crate) struct Health {
    failed: AtomicBool,
}

impl Health {
    /// Flusher: the journal cannot keep the record any more. Release pairs with the
    /// Acquire in [`Health::failed`], so a writer that sees the mark also sees the
    /// flusher's error stored before it.
    pub(crate) fn mark_failed(&self) {
        self.failed.store(true, Ordering::Release);
    }

    /// True once the flusher has failed.
    #[inline]
    pub(crate) fn failed(&self) -> bool {
        self.failed.load(Ordering::Acquire)
    }
}
