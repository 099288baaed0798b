//! A run of ready items borrowed by the consumer.

use std::{fmt, iter::FusedIterator, slice};

use crate::{buffer::Span, Consumer};

/// Ready items borrowed by [`Consumer::read_chunk`], still in their slots.
///
/// Look at them through [`as_slices`](ReadChunk::as_slices), then release some or all with
/// [`commit`](ReadChunk::commit) (which drops them) or move them out by iterating the chunk.
/// Dropping a chunk without committing leaves every item in the ring, unread.
pub struct ReadChunk<'a, T> {
    consumer: &'a mut Consumer<T>,
    span: Span<T>,
}

// SAFETY: a chunk is a `&mut Consumer<T>` (which is `Send` when `T` is) plus raw pointers
// into slots that only that consumer may touch while the borrow lasts; moving the chunk to
// another thread moves that exclusive access with it, and the items it exposes (`&T`
// through `as_slices`, or `T` through its iterator) are used on that one thread, which
// `T: Send` allows. The raw pointers are what make the compiler leave `Send` out.
unsafe impl<T: Send> Send for ReadChunk<'_, T> {}

impl<'a, T> ReadChunk<'a, T> {
    /// Borrows `n` items from the consumer's head; the caller checked they are ready.
    pub(crate) fn new(consumer: &'a mut Consumer<T>, n: usize) -> ReadChunk<'a, T> {
        let head = consumer.head();
        let buffer = &consumer.shared().buffer;
        buffer.track_read(head, n);
        let span = buffer.span(head, n);
        ReadChunk { consumer, span }
    }

    /// The items, oldest first: the run up to the end of the slot array, then the run that
    /// wrapped to its start (often empty).
    ///
    /// # Examples
    /// ```
    /// let (mut tx, mut rx) = tickpipe_ringbuf::channel(4);
    /// tx.push_slice(&[1, 2, 3]);
    /// rx.read_chunk(2).unwrap().commit_all();
    /// tx.push_slice(&[4, 5]); // wraps
    /// let chunk = rx.read_chunk(3).unwrap();
    /// assert_eq!(chunk.as_slices(), (&[3, 4][..], &[5][..]));
    /// ```
    pub fn as_slices(&self) -> (&[T], &[T]) {
        let s = self.span;
        // SAFETY: both runs lie inside the slot array, hold values the producer published
        // (the consumer observed a tail past them), and stay untouched by the producer until
        // the head moves, which needs the `&mut Consumer` this chunk holds.
        unsafe {
            (
                slice::from_raw_parts(s.first.cast::<T>(), s.first_len),
                slice::from_raw_parts(s.second.cast::<T>(), s.second_len),
            )
        }
    }

    /// Items in the chunk.
    pub fn len(&self) -> usize {
        self.span.len()
    }

    /// True for a chunk of zero items.
    pub fn is_empty(&self) -> bool {
        self.span.len() == 0
    }

    /// Drops the first `n` items and releases their slots to the producer with one store;
    /// the rest stay in the ring, unread.
    ///
    /// # Panics
    /// If `n` is greater than [`len`](ReadChunk::len).
    ///
    /// # Examples
    /// ```
    /// let (mut tx, mut rx) = tickpipe_ringbuf::channel(4);
    /// tx.push_slice(&[1, 2, 3]);
    /// rx.read_chunk(3).unwrap().commit(1);
    /// assert_eq!(rx.try_pop(), Ok(2));
    /// ```
    pub fn commit(self, n: usize) {
        assert!(
            n <= self.len(),
            "cannot commit {n} items of a chunk of {}",
            self.len()
        );
        self.release(n);
    }

    /// Drops every item of the chunk and releases the slots with one store.
    pub fn commit_all(self) {
        let n = self.len();
        self.release(n);
    }

    fn release(self, n: usize) {
        let head = self.consumer.head();
        // The local head moves first, and the guard publishes it when the drops are done
        // or when one of them panics (`drop_run` still drops every other item of the run
        // then), so each item is dropped exactly once and its slot is released.
        self.consumer.skip_unpublished(n);
        let consumer = PublishOnExit {
            consumer: self.consumer,
            position: head.wrapping_add(n),
        };
        // SAFETY: the first `n` slots of the chunk hold published values only this consumer
        // touches; each is dropped once here and the head has already moved past them.
        unsafe { consumer.consumer.shared().buffer.drop_run(head, n) };
    }
}

/// Publishes the consumer's head at `position` when it goes out of scope, on unwinding too.
struct PublishOnExit<'a, T> {
    consumer: &'a mut Consumer<T>,
    position: usize,
}

impl<T> Drop for PublishOnExit<'_, T> {
    fn drop(&mut self) {
        self.consumer.publish_head_at(self.position);
    }
}

impl<'a, T> IntoIterator for ReadChunk<'a, T> {
    type Item = T;
    type IntoIter = ReadChunkIntoIter<'a, T>;

    /// Moves the items out one by one; the slots of the items taken are released with one
    /// store when the iterator is dropped.
    ///
    /// ```
    /// let (mut tx, mut rx) = tickpipe_ringbuf::channel(4);
    /// for s in ["a", "b", "c"] {
    ///     tx.try_push(s.to_string()).unwrap();
    /// }
    /// let taken: Vec<String> = rx.read_chunk(3).unwrap().into_iter().take(2).collect();
    /// assert_eq!(taken, ["a", "b"]);
    /// assert_eq!(rx.try_pop().as_deref(), Ok("c"));
    /// ```
    fn into_iter(self) -> ReadChunkIntoIter<'a, T> {
        let len = self.len();
        let consumer = self.consumer;
        let start = consumer.head();
        // Leak amplification: the consumer's own head moves past the whole chunk now, and the
        // iterator's drop moves it back to just past the items taken. If the iterator is
        // forgotten instead, the untaken items are leaked (never read or dropped) rather than
        // the taken ones being read, or dropped, a second time.
        consumer.skip_unpublished(len);
        ReadChunkIntoIter {
            consumer,
            start,
            len,
            taken: 0,
        }
    }
}

/// Moves items out of a [`ReadChunk`]; releases the slots of the items taken when dropped.
pub struct ReadChunkIntoIter<'a, T> {
    consumer: &'a mut Consumer<T>,
    /// Position of the chunk's first item.
    start: usize,
    len: usize,
    taken: usize,
}

impl<T> Iterator for ReadChunkIntoIter<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        if self.taken == self.len {
            return None;
        }
        let position = self.start.wrapping_add(self.taken);
        // SAFETY: the slot is one of the chunk's ready items, not taken before (`taken`
        // only grows); it is released with the others when the iterator is dropped.
        let value = unsafe { self.consumer.shared().buffer.read(position) };
        self.taken += 1;
        Some(value)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.len - self.taken;
        (left, Some(left))
    }
}

impl<T> ExactSizeIterator for ReadChunkIntoIter<'_, T> {}

impl<T> FusedIterator for ReadChunkIntoIter<'_, T> {}

impl<T> Drop for ReadChunkIntoIter<'_, T> {
    fn drop(&mut self) {
        self.consumer
            .publish_head_at(self.start.wrapping_add(self.taken));
    }
}

impl<T> fmt::Debug for ReadChunk<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadChunk")
            .field("first_len", &self.span.first_len)
            .field("second_len", &self.span.second_len)
            .finish()
    }
}

impl<T> fmt::Debug for ReadChunkIntoIter<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadChunkIntoIter")
            .field("len", &self.len)
            .field("taken", &self.taken)
            .finish()
    }
}
