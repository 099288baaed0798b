//! A run of free slots reserved by the producer.

use std::{fmt, mem::MaybeUninit, slice};

use crate::{buffer::Span, Producer};

/// Free slots reserved by [`Producer::write_chunk_uninit`], not yet visible to the consumer.
///
/// Write values into [`as_mut_slices`](WriteChunkUninit::as_mut_slices) and then
/// [`commit`](WriteChunkUninit::commit), or hand an iterator to
/// [`fill_from_iter`](WriteChunkUninit::fill_from_iter), which does both safely. Dropping a
/// chunk without committing publishes nothing; values written into it are then leaked
/// (never dropped), not read.
pub struct WriteChunkUninit<'a, T> {
    producer: &'a mut Producer<T>,
    span: Span<T>,
}

// SAFETY: a chunk is a `&mut Producer<T>` (which is `Send` when `T` is) plus raw pointers
// into free slots that only that producer may touch while the borrow lasts; moving the
// chunk to another thread moves that exclusive access with it, and values of `T` written
// there were moved in on that thread, which `T: Send` allows. The raw pointers are what
// make the compiler leave `Send` out.
unsafe impl<T: Send> Send for WriteChunkUninit<'_, T> {}

impl<'a, T> WriteChunkUninit<'a, T> {
    /// Reserves `n` slots from the producer's tail; the caller checked they are free.
    pub(crate) fn new(producer: &'a mut Producer<T>, n: usize) -> WriteChunkUninit<'a, T> {
        let tail = producer.tail();
        let buffer = &producer.shared().buffer;
        buffer.track_write(tail, n);
        let span = buffer.span(tail, n);
        WriteChunkUninit { producer, span }
    }

    /// The reserved slots, in order: the run up to the end of the slot array, then the run
    /// that wrapped to its start (often empty).
    ///
    /// # Examples
    /// ```
    /// use std::mem::MaybeUninit;
    ///
    /// let (mut tx, mut rx) = tickpipe_ringbuf::channel(4);
    /// let mut chunk = tx.write_chunk_uninit(2).unwrap();
    /// let (first, second) = chunk.as_mut_slices();
    /// for (slot, v) in first.iter_mut().chain(second).zip([5, 6]) {
    ///     *slot = MaybeUninit::new(v);
    /// }
    /// // SAFETY: both slots were written just above.
    /// unsafe { chunk.commit_all() };
    /// assert_eq!(rx.try_pop(), Ok(5));
    /// ```
    pub fn as_mut_slices(&mut self) -> (&mut [MaybeUninit<T>], &mut [MaybeUninit<T>]) {
        let s = self.span;
        // SAFETY: both runs lie inside the slot array and do not overlap (the chunk is at
        // most `capacity` long, so the wrapped run ends before the first one starts). The
        // slots are free, reserved for this chunk, and the chunk borrows the producer
        // mutably, so nothing else reads or writes them until it is gone.
        unsafe {
            (
                slice::from_raw_parts_mut(s.first, s.first_len),
                slice::from_raw_parts_mut(s.second, s.second_len),
            )
        }
    }

    /// Slots in the chunk.
    pub fn len(&self) -> usize {
        self.span.len()
    }

    /// True for a chunk of zero slots.
    pub fn is_empty(&self) -> bool {
        self.span.len() == 0
    }

    /// Publishes the first `n` slots of the chunk with one store.
    ///
    /// # Safety
    /// The first `n` slots (in the order of [`as_mut_slices`](WriteChunkUninit::as_mut_slices))
    /// must have been initialised.
    ///
    /// # Panics
    /// If `n` is greater than [`len`](WriteChunkUninit::len).
    pub unsafe fn commit(self, n: usize) {
        assert!(
            n <= self.len(),
            "cannot commit {n} slots of a chunk of {}",
            self.len()
        );
        self.publish(n);
    }

    /// Publishes the whole chunk with one store.
    ///
    /// # Safety
    /// Every slot of the chunk must have been initialised.
    pub unsafe fn commit_all(self) {
        let n = self.len();
        self.publish(n);
    }

    /// Moves items from `iter` into the chunk's slots until either runs out, publishes
    /// them with one store, and returns how many were moved.
    ///
    /// # Examples
    /// ```
    /// let (mut tx, mut rx) = tickpipe_ringbuf::channel(8);
    /// let chunk = tx.write_chunk_uninit(4).unwrap();
    /// assert_eq!(chunk.fill_from_iter(["a", "b"]), 2);
    /// assert_eq!(rx.slots(), 2);
    /// ```
    pub fn fill_from_iter<I>(self, iter: I) -> usize
    where
        I: IntoIterator<Item = T>,
    {
        let mut iter = iter.into_iter();
        let mut written = 0;
        'runs: for (ptr, len) in [
            (self.span.first, self.span.first_len),
            (self.span.second, self.span.second_len),
        ] {
            for i in 0..len {
                let Some(value) = iter.next() else {
                    break 'runs;
                };
                // SAFETY: `ptr + i` is a reserved free slot of this chunk (see
                // `as_mut_slices`), written once here.
                unsafe { ptr.add(i).write(MaybeUninit::new(value)) };
                written += 1;
            }
        }
        self.publish(written);
        written
    }

    fn publish(self, n: usize) {
        debug_assert!(n <= self.len());
        let tail = self.producer.tail();
        self.producer.shared().buffer.track_write(tail, n);
        self.producer.advance(n);
    }
}

impl<T> fmt::Debug for WriteChunkUninit<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteChunkUninit")
            .field("first_len", &self.span.first_len)
            .field("second_len", &self.span.second_len)
            .finish()
    }
}
