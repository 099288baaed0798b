//! What the two ends of a ring share: the slots, the two cursors and the hang-up flag.

use crate::{buffer::Buffer, cursor::Cursor, hangup::Hangup};

/// The state both ends hold through an `Arc`; it is freed when the second end is dropped.
#[derive(Debug)]
pub(crate) struct Shared<T> {
    /// Next position the consumer reads; published by the consumer.
    pub(crate) head: Cursor,
    /// Next position the producer writes; published by the producer.
    pub(crate) tail: Cursor,
    /// Set when the first end is dropped.
    pub(crate) hangup: Hangup,
    /// The slots; `head..tail` hold values, the rest are free.
    pub(crate) buffer: Buffer<T>,
}

impl<T> Shared<T> {
    /// An empty ring of `capacity` slots (a power of two, checked by the caller).
    pub(crate) fn new(capacity: usize) -> Shared<T> {
        Shared {
            head: Cursor::new(),
            tail: Cursor::new(),
            hangup: Hangup::new(),
            buffer: Buffer::new(capacity),
        }
    }
}

// SAFETY: a `Shared` owns its slots' values of `T` and a heap allocation; moving it to
// another thread moves them, which `T: Send` allows.
unsafe impl<T: Send> Send for Shared<T> {}

// SAFETY: the ends share a `Shared` across threads. Its cursors and flag are atomics; its
// slots are touched by one end at a time, as the cursor protocol (Release publish, Acquire
// observe; see `Cursor`) hands each slot from producer to consumer and back. Values of `T`
// move from the producer's thread to the consumer's, so `T: Send` is required; no `&T` is
// ever shared between threads (only the consumer sees `&T`), so `T: Sync` is not.
unsafe impl<T: Send> Sync for Shared<T> {}

impl<T> Drop for Shared<T> {
    fn drop(&mut self) {
        let head = self.head.settled();
        let tail = self.tail.settled();
        let len = tail.wrapping_sub(head);
        debug_assert!(
            len <= self.buffer.capacity(),
            "{len} items in {} slots",
            self.buffer.capacity()
        );
        // SAFETY: both ends are gone (`&mut self`), the slots `head..tail` hold the values
        // published and never consumed, and each is dropped exactly once here.
        unsafe { self.buffer.drop_run(head, len) };
    }
}
