//! The writing end of a ring.

use std::{cell::Cell, fmt, marker::PhantomData};

use crate::{chunk::WriteChunkUninit, primitive::Arc, shared::Shared, ChunkError, PushError};

/// The writing end of a ring, made by [`channel`](crate::channel()).
///
/// `Send` (when `T` is) but not `Sync`: it moves to the producing thread and stays there.
/// Every method is wait-free: it returns at once, without spinning or blocking.
///
/// ```compile_fail
/// fn shared_between_threads<T: Sync>() {}
/// shared_between_threads::<tickpipe_ringbuf::Producer<u64>>();
/// ```
pub struct Producer<T> {
    shared: Arc<Shared<T>>,
    /// Next position to write; equal to the published tail between calls.
    tail: usize,
    /// The consumer's head as last observed; never ahead of the real head, so
    /// `capacity - (tail - cached_head)` is a lower bound on the free slots.
    cached_head: usize,
    full_events: u64,
    /// Makes the type `!Sync` (while keeping it `Send`).
    _not_sync: PhantomData<Cell<()>>,
}

impl<T> Producer<T> {
    pub(crate) fn new(shared: Arc<Shared<T>>) -> Producer<T> {
        Producer {
            shared,
            tail: 0,
            cached_head: 0,
            full_events: 0,
            _not_sync: PhantomData,
        }
    }

    /// Free slots according to the cached head (a lower bound).
    #[inline(always)]
    fn cached_free(&self) -> usize {
        let len = self.tail.wrapping_sub(self.cached_head);
        debug_assert!(
            len <= self.capacity(),
            "{len} items in {} slots",
            self.capacity()
        );
        self.capacity() - len
    }

    /// Free slots, observing the consumer's head only if the cache shows fewer than `wanted`.
    #[inline(always)]
    fn free_for(&mut self, wanted: usize) -> usize {
        let free = self.cached_free();
        if free >= wanted {
            return free;
        }
        self.refresh_head();
        self.cached_free()
    }

    /// Observes the consumer's head.
    #[inline(always)]
    fn refresh_head(&mut self) {
        let head = self.shared.head.observe();
        debug_assert!(
            head.wrapping_sub(self.cached_head) <= self.tail.wrapping_sub(self.cached_head),
            "head {head} moved backwards from {} or past tail {}",
            self.cached_head,
            self.tail
        );
        self.cached_head = head;
    }

    /// Makes the next `n` written slots visible to the consumer.
    #[inline(always)]
    pub(crate) fn advance(&mut self, n: usize) {
        debug_assert!(
            n <= self.cached_free(),
            "advance by {n} past the free slots"
        );
        self.tail = self.tail.wrapping_add(n);
        self.shared.tail.publish(self.tail);
    }

    /// The next position to write.
    #[inline(always)]
    pub(crate) fn tail(&self) -> usize {
        self.tail
    }

    /// The shared state (for the chunk types).
    #[inline(always)]
    pub(crate) fn shared(&self) -> &Shared<T> {
        &self.shared
    }

    /// Pushes `value` if a slot is free, and publishes it at once.
    ///
    /// Reads the consumer's position only when the cached copy says the ring may be full.
    ///
    /// # Errors
    /// [`PushError::Full`], handing `value` back, when every slot holds an unread item;
    /// the failed attempt is counted in [`full_events`](Producer::full_events).
    ///
    /// # Examples
    /// ```
    /// use tickpipe_ringbuf::{channel, PushError};
    ///
    /// let (mut tx, _rx) = channel(1);
    /// assert_eq!(tx.try_push(7), Ok(()));
    /// assert_eq!(tx.try_push(8), Err(PushError::Full(8)));
    /// assert_eq!(tx.full_events(), 1);
    /// ```
    #[inline]
    pub fn try_push(&mut self, value: T) -> Result<(), PushError<T>> {
        if self.free_for(1) == 0 {
            self.full_events += 1;
            return Err(PushError::Full(value));
        }
        // SAFETY: at least one slot is free per the observed head, so the slot at `tail` is
        // one the consumer has finished with (its head publish is ordered before our observe),
        // and only this producer writes slots.
        unsafe { self.shared.buffer.write(self.tail, value) };
        self.advance(1);
        Ok(())
    }

    /// Free slots now: observes the consumer's head (one shared load) and returns
    /// `capacity - items in the ring`. The consumer may free more at any moment.
    ///
    /// # Examples
    /// ```
    /// let (mut tx, mut rx) = tickpipe_ringbuf::channel(4);
    /// tx.try_push(1).unwrap();
    /// assert_eq!(tx.slots(), 3);
    /// rx.try_pop().unwrap();
    /// assert_eq!(tx.slots(), 4);
    /// ```
    pub fn slots(&mut self) -> usize {
        self.refresh_head();
        self.cached_free()
    }

    /// Number of slots, fixed at construction.
    #[inline]
    pub fn capacity(&self) -> usize {
        self.shared.buffer.capacity()
    }

    /// True once the [`Consumer`](crate::Consumer) has been dropped: nothing pushed from
    /// now on will be read.
    ///
    /// # Examples
    /// ```
    /// let (tx, rx) = tickpipe_ringbuf::channel::<u8>(2);
    /// assert!(!tx.is_abandoned());
    /// drop(rx);
    /// assert!(tx.is_abandoned());
    /// ```
    pub fn is_abandoned(&self) -> bool {
        self.shared.hangup.is_hung_up()
    }

    /// How many times this producer was refused for lack of room: failed
    /// [`try_push`](Producer::try_push) and [`write_chunk_uninit`](Producer::write_chunk_uninit)
    /// calls, and [`push_slice`](Producer::push_slice) calls that stored nothing of a
    /// non-empty slice.
    pub fn full_events(&self) -> u64 {
        self.full_events
    }

    /// Reserves the next `n` free slots for writing; nothing is visible to the consumer until
    /// the chunk is committed, and then all of it is published with one store.
    ///
    /// Reads the consumer's position only when the cached copy shows fewer than `n` free
    /// slots.
    ///
    /// # Errors
    /// [`ChunkError::TooFewSlots`] with the number of free slots when fewer than `n` are free
    /// (counted in [`full_events`](Producer::full_events)).
    ///
    /// # Examples
    /// ```
    /// let (mut tx, mut rx) = tickpipe_ringbuf::channel(4);
    /// let chunk = tx.write_chunk_uninit(3).unwrap();
    /// assert_eq!(chunk.fill_from_iter([10, 20, 30]), 3);
    /// assert_eq!(rx.slots(), 3);
    /// assert!(tx.write_chunk_uninit(2).is_err());
    /// ```
    pub fn write_chunk_uninit(&mut self, n: usize) -> Result<WriteChunkUninit<'_, T>, ChunkError> {
        let free = self.free_for(n);
        if free < n {
            self.full_events += 1;
            return Err(ChunkError::TooFewSlots(free));
        }
        Ok(WriteChunkUninit::new(self, n))
    }
}

impl<T: Copy> Producer<T> {
    /// Copies as many items from the front of `items` as there are free slots, publishes
    /// them with one store, and returns how many were pushed.
    ///
    /// Reads the consumer's position only when the cached copy shows fewer than
    /// `items.len()` free slots. Pushing nothing of a non-empty slice counts in
    /// [`full_events`](Producer::full_events).
    ///
    /// # Examples
    /// ```
    /// let (mut tx, mut rx) = tickpipe_ringbuf::channel(4);
    /// assert_eq!(tx.push_slice(&[1, 2, 3, 4, 5, 6]), 4);
    /// let mut out = [0; 8];
    /// assert_eq!(rx.pop_into(&mut out), 4);
    /// assert_eq!(out[..4], [1, 2, 3, 4]);
    /// ```
    #[inline]
    pub fn push_slice(&mut self, items: &[T]) -> usize {
        let n = self.free_for(items.len()).min(items.len());
        if n == 0 {
            if !items.is_empty() {
                self.full_events += 1;
            }
            return 0;
        }
        // SAFETY: `n` slots from `tail` are free per the observed head and only this
        // producer writes slots.
        unsafe { self.shared.buffer.copy_in(self.tail, &items[..n]) };
        self.advance(n);
        n
    }
}

impl<T> Drop for Producer<T> {
    fn drop(&mut self) {
        // After our last publish, so a consumer that sees the hang-up also sees every item.
        self.shared.hangup.hang_up();
    }
}

impl<T> fmt::Debug for Producer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Producer")
            .field("capacity", &self.capacity())
            .field("tail", &self.tail)
            .field("cached_head", &self.cached_head)
            .field("full_events", &self.full_events)
            .finish()
    }
}
