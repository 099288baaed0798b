//! The reading end of a ring.

use std::{cell::Cell, fmt, marker::PhantomData};

use crate::{
    chunk::ReadChunk,
    primitive::{speculation_barrier, Arc},
    shared::Shared,
    ChunkError, PopError,
};

/// The reading end of a ring, made by [`channel`](crate::channel()).
///
/// `Send` (when `T` is) but not `Sync`: it moves to the consuming thread and stays there.
/// Every method is wait-free: it returns at once, without spinning or blocking.
///
/// ```compile_fail
/// fn shared_between_threads<T: Sync>() {}
/// shared_between_threads::<tickpipe_ringbuf::Consumer<u64>>();
/// ```
pub struct Consumer<T> {
    shared: Arc<Shared<T>>,
    /// Next position to read; equal to the published head between calls.
    head: usize,
    /// The producer's tail as last observed; never ahead of the real tail, so
    /// `cached_tail - head` is a lower bound on the items ready.
    cached_tail: usize,
    empty_events: u64,
    /// How many observations of the producer's tail in a row found new items (saturating):
    /// two or more mean the consumer is keeping up with a producer that is still writing,
    /// rather than taking the odd item from a mostly idle ring.
    found_in_a_row: u8,
    /// Makes the type `!Sync` (while keeping it `Send`).
    _not_sync: PhantomData<Cell<()>>,
}

/// Observations of the tail in a row that must find new items before the next one is fenced
/// (see `Consumer::ready_for`).
const KEEPING_UP: u8 = 2;

impl<T> Consumer<T> {
    pub(crate) fn new(shared: Arc<Shared<T>>) -> Consumer<T> {
        Consumer {
            shared,
            head: 0,
            cached_tail: 0,
            empty_events: 0,
            found_in_a_row: 0,
            _not_sync: PhantomData,
        }
    }

    /// Items ready according to the cached tail (a lower bound).
    #[inline(always)]
    fn cached_ready(&self) -> usize {
        let len = self.cached_tail.wrapping_sub(self.head);
        debug_assert!(
            len <= self.capacity(),
            "{len} items in {} slots",
            self.capacity()
        );
        len
    }

    /// Items ready, observing the producer's tail only if the cache shows fewer than `wanted`.
    #[inline(always)]
    fn ready_for(&mut self, wanted: usize) -> usize {
        let ready = self.cached_ready();
        if ready >= wanted {
            return ready;
        }
        // NB: a consumer that keeps up with a streaming producer runs a few slots behind it.
        // Fencing this load of the tail on both sides once refreshes keep finding items took
        // 8-byte messages one at a time from about 0.6x rtrb's rate to 1.2-1.7x
        // (`latency-reports/ring.md`): each refresh then brings more of the producer's work
        // (unfenced, about 8 items per refresh against rtrb's 16). The likely reason:
        // unfenced, the out-of-order core issues the tail load early, before the items
        // already taken are done with, and loads the next slots on a guess before the tail
        // comes back; both read lines the producer is still writing and take them from it.
        //
        // Only after `KEEPING_UP` finds in a row. The refresh that ends a wait follows an
        // empty one, so a consumer woken by a new item reads it as soon as it sees it (the
        // ping-pong round trip does not change). Fencing the refresh right after a single
        // item cost the engine's one-thread layout about 25 ns of tick-to-risk latency at
        // 100k ticks/s, where every stage takes one tick and then finds its ring empty.
        //
        // The consumer no longer prefetches the next slot while it waits: that read the
        // line the producer was filling on every poll, and bought nothing measurable in the
        // ping-pong.
        let before = self.cached_tail;
        if self.found_in_a_row >= KEEPING_UP {
            speculation_barrier();
            self.refresh_tail();
            speculation_barrier();
        } else {
            self.refresh_tail();
        }
        self.found_in_a_row = if self.cached_tail == before {
            0
        } else {
            self.found_in_a_row.saturating_add(1)
        };
        self.cached_ready()
    }

    /// Observes the producer's tail.
    #[inline(always)]
    fn refresh_tail(&mut self) {
        let tail = self.shared.tail.observe();
        debug_assert!(
            tail.wrapping_sub(self.head) <= self.capacity()
                && tail.wrapping_sub(self.head) >= self.cached_tail.wrapping_sub(self.head),
            "tail {tail} moved backwards from {} or more than the capacity past head {}",
            self.cached_tail,
            self.head
        );
        self.cached_tail = tail;
    }

    /// Releases the next `n` read slots to the producer.
    #[inline(always)]
    pub(crate) fn advance(&mut self, n: usize) {
        debug_assert!(
            n <= self.cached_ready(),
            "advance by {n} past the ready items"
        );
        self.head = self.head.wrapping_add(n);
        self.shared.head.publish(self.head);
    }

    /// Moves this end's head past `n` ready items without publishing it (see
    /// `ReadChunk::into_iter`).
    #[inline]
    pub(crate) fn skip_unpublished(&mut self, n: usize) {
        debug_assert!(n <= self.cached_ready(), "skip {n} past the ready items");
        self.head = self.head.wrapping_add(n);
    }

    /// Sets this end's head to `position` (at most as far as a preceding
    /// `skip_unpublished`) and publishes it.
    #[inline]
    pub(crate) fn publish_head_at(&mut self, position: usize) {
        debug_assert!(
            self.head.wrapping_sub(position) <= self.capacity(),
            "head {position} is past the local head {}",
            self.head
        );
        self.head = position;
        self.shared.head.publish(position);
    }

    /// The next position to read.
    #[inline(always)]
    pub(crate) fn head(&self) -> usize {
        self.head
    }

    /// The shared state (for the chunk types).
    #[inline(always)]
    pub(crate) fn shared(&self) -> &Shared<T> {
        &self.shared
    }

    /// Pops the oldest item, if there is one, and releases its slot at once.
    ///
    /// Reads the producer's position only when the cached copy says the ring may be empty.
    ///
    /// # Errors
    /// [`PopError::Empty`] when no item is ready; the attempt is counted in
    /// [`empty_events`](Consumer::empty_events).
    ///
    /// # Examples
    /// ```
    /// use tickpipe_ringbuf::{channel, PopError};
    ///
    /// let (mut tx, mut rx) = channel(2);
    /// tx.try_push('a').unwrap();
    /// assert_eq!(rx.try_pop(), Ok('a'));
    /// assert_eq!(rx.try_pop(), Err(PopError::Empty));
    /// assert_eq!(rx.empty_events(), 1);
    /// ```
    #[inline]
    pub fn try_pop(&mut self) -> Result<T, PopError> {
        if self.ready_for(1) == 0 {
            self.empty_events += 1;
            return Err(PopError::Empty);
        }
        // SAFETY: the observed tail is past `head`, so the slot holds a value the producer
        // published (its publish is ordered before our observe); only this consumer reads
        // slots, and advancing the head below means it never reads this one again.
        let value = unsafe { self.shared.buffer.read(self.head) };
        self.advance(1);
        Ok(value)
    }

    /// A reference to the oldest item without removing it, or `None` when the ring is
    /// empty. Reads the producer's position only when the cached copy says it may be empty;
    /// does not count as an empty event.
    ///
    /// # Examples
    /// ```
    /// let (mut tx, mut rx) = tickpipe_ringbuf::channel(2);
    /// assert_eq!(rx.peek(), None);
    /// tx.try_push(5).unwrap();
    /// assert_eq!(rx.peek(), Some(&5));
    /// assert_eq!(rx.try_pop(), Ok(5));
    /// ```
    #[inline]
    pub fn peek(&mut self) -> Option<&T> {
        if self.ready_for(1) == 0 {
            return None;
        }
        // SAFETY: the slot at `head` holds a published value (as in `try_pop`); the
        // reference borrows `self` mutably, so the head cannot move until it is gone.
        Some(unsafe { self.shared.buffer.get(self.head) })
    }

    /// Items ready now: observes the producer's tail (one shared load). The producer may
    /// add more at any moment.
    ///
    /// # Examples
    /// ```
    /// let (mut tx, mut rx) = tickpipe_ringbuf::channel(4);
    /// assert_eq!(rx.slots(), 0);
    /// tx.push_slice(&[1, 2]);
    /// assert_eq!(rx.slots(), 2);
    /// ```
    pub fn slots(&mut self) -> usize {
        self.refresh_tail();
        self.cached_ready()
    }

    /// True when no item is ready. Reads the producer's position only when the cached copy
    /// says the ring may be empty.
    ///
    /// # Examples
    /// ```
    /// let (mut tx, mut rx) = tickpipe_ringbuf::channel(2);
    /// assert!(rx.is_empty());
    /// tx.try_push(1).unwrap();
    /// assert!(!rx.is_empty());
    /// ```
    #[inline]
    pub fn is_empty(&mut self) -> bool {
        self.ready_for(1) == 0
    }

    /// Number of slots, fixed at construction.
    #[inline]
    pub fn capacity(&self) -> usize {
        self.shared.buffer.capacity()
    }

    /// True once the [`Producer`](crate::Producer) has been dropped. Every item it pushed
    /// is visible by then, so a consumer that sees `true` and then drains the ring has read
    /// everything.
    ///
    /// # Examples
    /// ```
    /// let (mut tx, mut rx) = tickpipe_ringbuf::channel(2);
    /// tx.try_push(1).unwrap();
    /// drop(tx);
    /// assert!(rx.is_abandoned());
    /// assert_eq!(rx.try_pop(), Ok(1));
    /// ```
    pub fn is_abandoned(&self) -> bool {
        self.shared.hangup.is_hung_up()
    }

    /// True once the [`Producer`](crate::Producer) is gone and every item it pushed has been
    /// read: the ring will never yield anything again.
    ///
    /// Checks the hang-up before the ring, which is the order that makes the answer final:
    /// the producer's last publish happens before its hang-up, so a ring found empty after
    /// the hang-up was seen stays empty. (Checked the other way round, an item pushed
    /// between the two checks would be missed.)
    ///
    /// # Examples
    /// ```
    /// let (mut tx, mut rx) = tickpipe_ringbuf::channel(2);
    /// tx.try_push(1).unwrap();
    /// assert!(!rx.is_finished());
    /// drop(tx);
    /// assert!(!rx.is_finished(), "one item still to read");
    /// assert_eq!(rx.try_pop(), Ok(1));
    /// assert!(rx.is_finished());
    /// ```
    pub fn is_finished(&mut self) -> bool {
        self.is_abandoned() && self.is_empty()
    }

    /// How many times this consumer found nothing to read: failed
    /// [`try_pop`](Consumer::try_pop) and [`read_chunk`](Consumer::read_chunk) calls, and
    /// [`read_chunk_up_to`](Consumer::read_chunk_up_to) and
    /// [`pop_into`](Consumer::pop_into) calls that found nothing for a non-zero limit.
    pub fn empty_events(&self) -> u64 {
        self.empty_events
    }

    /// Borrows the next `n` items for reading in place; committing the chunk releases its
    /// slots to the producer with one store (dropping the items it covers).
    ///
    /// Reads the producer's position only when the cached copy shows fewer than `n` items.
    /// To take whatever is there (up to a limit), use
    /// [`read_chunk_up_to`](Consumer::read_chunk_up_to).
    ///
    /// # Errors
    /// [`ChunkError::TooFewSlots`] with the number of ready items when fewer than `n` are
    /// ready (counted in [`empty_events`](Consumer::empty_events)).
    ///
    /// # Examples
    /// ```
    /// let (mut tx, mut rx) = tickpipe_ringbuf::channel(4);
    /// tx.push_slice(&[1, 2, 3]);
    /// assert!(rx.read_chunk(4).is_err());
    /// let chunk = rx.read_chunk(2).unwrap();
    /// let (a, b) = chunk.as_slices();
    /// assert_eq!(a.iter().chain(b).sum::<i32>(), 3);
    /// chunk.commit_all();
    /// assert_eq!(rx.try_pop(), Ok(3));
    /// ```
    pub fn read_chunk(&mut self, n: usize) -> Result<ReadChunk<'_, T>, ChunkError> {
        let ready = self.ready_for(n);
        if ready < n {
            self.empty_events += 1;
            return Err(ChunkError::TooFewSlots(ready));
        }
        Ok(ReadChunk::new(self, n))
    }

    /// Borrows every ready item, up to `max`, for reading in place (an empty chunk when
    /// there are none); committing it releases its slots as for
    /// [`read_chunk`](Consumer::read_chunk).
    ///
    /// Reads the producer's position only when the cached copy shows fewer than `max`
    /// items, so a consumer draining a busy ring in batches mostly works from the cache
    /// (asking [`slots`](Consumer::slots) first would read the shared position every time).
    /// An empty chunk for a non-zero `max` counts in
    /// [`empty_events`](Consumer::empty_events).
    ///
    /// # Examples
    /// ```
    /// let (mut tx, mut rx) = tickpipe_ringbuf::channel(4);
    /// tx.push_slice(&[1, 2, 3]);
    /// let chunk = rx.read_chunk_up_to(64);
    /// let (a, b) = chunk.as_slices();
    /// assert_eq!(a.iter().chain(b).sum::<i32>(), 6);
    /// chunk.commit_all();
    /// assert!(rx.read_chunk_up_to(64).is_empty());
    /// assert_eq!(rx.empty_events(), 1);
    /// ```
    pub fn read_chunk_up_to(&mut self, max: usize) -> ReadChunk<'_, T> {
        let n = self.ready_for(max).min(max);
        if n == 0 && max != 0 {
            self.empty_events += 1;
        }
        ReadChunk::new(self, n)
    }
}

impl<T: Copy> Consumer<T> {
    /// Copies as many of the oldest items into the front of `dst` as are ready (up to
    /// `dst.len()`), releases their slots with one store, and returns how many were copied.
    ///
    /// Reads the producer's position only when the cached copy shows fewer than
    /// `dst.len()` items. Copying nothing into a non-empty slice counts in
    /// [`empty_events`](Consumer::empty_events).
    ///
    /// # Examples
    /// ```
    /// let (mut tx, mut rx) = tickpipe_ringbuf::channel(8);
    /// tx.push_slice(&[1, 2, 3]);
    /// let mut out = [0; 2];
    /// assert_eq!(rx.pop_into(&mut out), 2);
    /// assert_eq!(out, [1, 2]);
    /// assert_eq!(rx.try_pop(), Ok(3));
    /// ```
    #[inline]
    pub fn pop_into(&mut self, dst: &mut [T]) -> usize {
        let n = self.ready_for(dst.len()).min(dst.len());
        if n == 0 {
            if !dst.is_empty() {
                self.empty_events += 1;
            }
            return 0;
        }
        // SAFETY: `n` slots from `head` hold published values only this consumer reads, and
        // advancing the head below releases them.
        unsafe { self.shared.buffer.copy_out(self.head, &mut dst[..n]) };
        self.advance(n);
        n
    }
}

impl<T> Drop for Consumer<T> {
    fn drop(&mut self) {
        // The local head can be ahead of the published one when a chunk iterator was
        // forgotten; publish it so the ring's teardown does not drop the items that iterator
        // moved out.
        self.shared.head.publish(self.head);
        self.shared.hangup.hang_up();
    }
}

impl<T> fmt::Debug for Consumer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Consumer")
            .field("capacity", &self.capacity())
            .field("head", &self.head)
            .field("cached_tail", &self.cached_tail)
            .field("empty_events", &self.empty_events)
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use crate::{channel, PopError};

    #[test]
    fn only_refreshes_after_a_run_of_finds_are_fenced() {
        let (mut tx, mut rx) = channel(8);
        let fenced = |rx: &crate::Consumer<i32>| rx.found_in_a_row >= super::KEEPING_UP;
        assert_eq!(rx.try_pop(), Err(PopError::Empty));
        assert_eq!(rx.found_in_a_row, 0);
        // One item after a wait, then the ring is empty again: the odd item of a quiet
        // ring, never fenced.
        tx.try_push(1).unwrap();
        assert_eq!(rx.try_pop(), Ok(1));
        assert!(!fenced(&rx));
        assert_eq!(rx.try_pop(), Err(PopError::Empty));
        assert_eq!(rx.found_in_a_row, 0);
        // Items found on every refresh: the consumer is keeping up with the producer.
        for i in 2..=4 {
            tx.try_push(i).unwrap();
            assert_eq!(rx.try_pop(), Ok(i));
        }
        assert!(fenced(&rx));
        // Served from the cache: no refresh, no change.
        tx.push_slice(&[5, 6]);
        assert_eq!(rx.try_pop(), Ok(5));
        assert_eq!(rx.try_pop(), Ok(6));
        assert!(fenced(&rx));
        assert_eq!(rx.try_pop(), Err(PopError::Empty));
        assert_eq!(rx.found_in_a_row, 0);
    }
}
