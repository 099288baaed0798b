//! The queues under test, behind one trait so every scenario runs the same loop on each.

use std::sync::Arc;

use crossbeam_queue::ArrayQueue;

use super::message::Message;

/// A bounded single-producer single-consumer queue of `M`.
pub trait Queue<M: Message> {
    /// The writing end.
    type Tx: Send + 'static;
    /// The reading end.
    type Rx: Send + 'static;

    /// Whether the queue has a batch API; without one the batched rows say so.
    const HAS_BATCH: bool;

    /// A queue of `capacity` slots (a power of two).
    fn make(capacity: usize) -> (Self::Tx, Self::Rx);

    /// Pushes one message; false if the queue is full.
    fn push(tx: &mut Self::Tx, m: M) -> bool;

    /// Pops one message, if any.
    fn pop(rx: &mut Self::Rx) -> Option<M>;

    /// Pushes the messages `first..first + n` (fewer if fewer slots are free) with one
    /// publish; returns how many.
    fn push_batch(tx: &mut Self::Tx, first: u64, n: usize) -> usize;

    /// Reads up to `n` messages in place with one release, passing each to `visit`;
    /// returns how many.
    fn pop_batch(rx: &mut Self::Rx, n: usize, visit: &mut impl FnMut(&M)) -> usize;
}

/// This crate's ring, `tickpipe-ringbuf`.
#[derive(Debug)]
pub struct Ours;

impl<M: Message> Queue<M> for Ours {
    type Tx = tickpipe_ringbuf::Producer<M>;
    type Rx = tickpipe_ringbuf::Consumer<M>;
    const HAS_BATCH: bool = true;

    fn make(capacity: usize) -> (Self::Tx, Self::Rx) {
        tickpipe_ringbuf::channel(capacity)
    }

    #[inline(always)]
    fn push(tx: &mut Self::Tx, m: M) -> bool {
        tx.try_push(m).is_ok()
    }

    #[inline(always)]
    fn pop(rx: &mut Self::Rx) -> Option<M> {
        rx.try_pop().ok()
    }

    #[inline(always)]
    fn push_batch(tx: &mut Self::Tx, first: u64, n: usize) -> usize {
        use tickpipe_ringbuf::ChunkError::TooFewSlots;
        let free = match tx.write_chunk_uninit(n) {
            Ok(chunk) => return chunk.fill_from_iter((first..first + n as u64).map(M::new)),
            Err(TooFewSlots(0)) => return 0,
            Err(TooFewSlots(free)) => free,
        };
        match tx.write_chunk_uninit(free) {
            Ok(chunk) => chunk.fill_from_iter((first..first + free as u64).map(M::new)),
            Err(_) => 0,
        }
    }

    #[inline(always)]
    fn pop_batch(rx: &mut Self::Rx, n: usize, visit: &mut impl FnMut(&M)) -> usize {
        use tickpipe_ringbuf::ChunkError::TooFewSlots;
        let ready = match rx.read_chunk(n) {
            Ok(chunk) => return consume_ours(chunk, visit),
            Err(TooFewSlots(0)) => return 0,
            Err(TooFewSlots(ready)) => ready,
        };
        match rx.read_chunk(ready) {
            Ok(chunk) => consume_ours(chunk, visit),
            Err(_) => 0,
        }
    }
}

#[inline(always)]
fn consume_ours<M>(chunk: tickpipe_ringbuf::ReadChunk<'_, M>, visit: &mut impl FnMut(&M)) -> usize {
    let (a, b) = chunk.as_slices();
    a.iter().chain(b).for_each(visit);
    let n = chunk.len();
    chunk.commit_all();
    n
}

/// `rtrb`, the realtime ring this design follows.
#[derive(Debug)]
pub struct Rtrb;

impl<M: Message> Queue<M> for Rtrb {
    type Tx = rtrb::Producer<M>;
    type Rx = rtrb::Consumer<M>;
    const HAS_BATCH: bool = true;

    fn make(capacity: usize) -> (Self::Tx, Self::Rx) {
        rtrb::RingBuffer::new(capacity)
    }

    #[inline(always)]
    fn push(tx: &mut Self::Tx, m: M) -> bool {
        tx.push(m).is_ok()
    }

    #[inline(always)]
    fn pop(rx: &mut Self::Rx) -> Option<M> {
        rx.pop().ok()
    }

    #[inline(always)]
    fn push_batch(tx: &mut Self::Tx, first: u64, n: usize) -> usize {
        use rtrb::chunks::ChunkError::TooFewSlots;
        let free = match tx.write_chunk_uninit(n) {
            Ok(chunk) => return chunk.fill_from_iter((first..first + n as u64).map(M::new)),
            Err(TooFewSlots(0)) => return 0,
            Err(TooFewSlots(free)) => free,
        };
        match tx.write_chunk_uninit(free) {
            Ok(chunk) => chunk.fill_from_iter((first..first + free as u64).map(M::new)),
            Err(_) => 0,
        }
    }

    #[inline(always)]
    fn pop_batch(rx: &mut Self::Rx, n: usize, visit: &mut impl FnMut(&M)) -> usize {
        use rtrb::chunks::ChunkError::TooFewSlots;
        let ready = match rx.read_chunk(n) {
            Ok(chunk) => return consume_rtrb(chunk, visit),
            Err(TooFewSlots(0)) => return 0,
            Err(TooFewSlots(ready)) => ready,
        };
        match rx.read_chunk(ready) {
            Ok(chunk) => consume_rtrb(chunk, visit),
            Err(_) => 0,
        }
    }
}

#[inline(always)]
fn consume_rtrb<M>(chunk: rtrb::chunks::ReadChunk<'_, M>, visit: &mut impl FnMut(&M)) -> usize {
    let (a, b) = chunk.as_slices();
    a.iter().chain(b).for_each(visit);
    let n = chunk.len();
    chunk.commit_all();
    n
}

/// crossbeam's bounded MPMC `ArrayQueue`, used single-producer single-consumer.
#[derive(Debug)]
pub struct CrossbeamArrayQueue;

impl<M: Message> Queue<M> for CrossbeamArrayQueue {
    type Tx = Arc<ArrayQueue<M>>;
    type Rx = Arc<ArrayQueue<M>>;
    const HAS_BATCH: bool = false;

    fn make(capacity: usize) -> (Self::Tx, Self::Rx) {
        let q = Arc::new(ArrayQueue::new(capacity));
        (Arc::clone(&q), q)
    }

    #[inline(always)]
    fn push(tx: &mut Self::Tx, m: M) -> bool {
        tx.push(m).is_ok()
    }

    #[inline(always)]
    fn pop(rx: &mut Self::Rx) -> Option<M> {
        rx.pop()
    }

    fn push_batch(_tx: &mut Self::Tx, _first: u64, _n: usize) -> usize {
        unreachable!("ArrayQueue has no batch API; HAS_BATCH is false")
    }

    fn pop_batch(_rx: &mut Self::Rx, _n: usize, _visit: &mut impl FnMut(&M)) -> usize {
        unreachable!("ArrayQueue has no batch API; HAS_BATCH is false")
    }
}
