//! What one writer shares with the flusher thread: its published position, the
//! segments prepared ahead, and a few flags. Each atomic's ordering is fixed by the method that touches
//! it, so call sites never spell an `Ordering`.

use std::{
    ptr,
    sync::{
        atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering},
        Arc,
    },
};

use crossbeam_utils::CachePadded;

use super::{health::Health, segment::Segment};

/// A position in a writer's series of segments: segment index in the high 32 bits,
/// byte offset in the segment in the low 32 (segments are smaller than 4 GiB).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Position(pub(crate) u64);

impl Position {
    pub(crate) const fn new(index: u32, offset: usize) -> Position {
        Position(((index as u64) << 32) | offset as u64)
    }
    pub(crate) const fn index(self) -> u32 {
        (self.0 >> 32) as u32
    }
    pub(crate) const fn offset(self) -> usize {
        (self.0 & 0xFFFF_FFFF) as usize
    }
}

/// One writer's state shared with the flusher.
#[derive(Debug)]
pub(crate) struct WriterShared {
    /// The writer's name (file name prefix).
    pub(crate) name: String,
    /// Where the writer's committed data ends. The writer stores it (Release) after the
    /// frame bytes, so the flusher's Acquire load sees every byte before it.
    position: CachePadded<AtomicU64>,
    /// The sequence of the last record committed, stored (Release) after `position`.
    last_seq: CachePadded<AtomicU64>,
    /// The last sequence the flusher has `msync`ed.
    durable_seq: AtomicU64,
    /// The next segments, prepared by the flusher; the writer takes the next when its
    /// segment is full.
    ready: ReadyQueue,
    /// The writer was dropped: flush and forget it.
    closed: AtomicBool,
    /// The flusher cannot prepare segments for this writer any more (it failed or
    /// stopped): a writer waiting for one gives up.
    no_more_segments: AtomicBool,
    /// The whole journal's health (every writer of the journal shares it).
    health: Arc<Health>,
}

impl WriterShared {
    /// Shared state of a writer whose records up to `last_seq` are already on disk (0
    /// for a new writer; a resumed writer's earlier records were synced when it resumed).
    pub(crate) fn new(
        name: String,
        start: Position,
        last_seq: u64,
        ahead: usize,
        health: Arc<Health>,
    ) -> WriterShared {
        WriterShared {
            name,
            position: CachePadded::new(AtomicU64::new(start.0)),
            last_seq: CachePadded::new(AtomicU64::new(last_seq)),
            durable_seq: AtomicU64::new(last_seq),
            ready: ReadyQueue::new(ahead),
            closed: AtomicBool::new(false),
            no_more_segments: AtomicBool::new(false),
            health,
        }
    }

    /// True once the flusher has failed for any writer of this journal.
    #[inline]
    pub(crate) fn journal_failed(&self) -> bool {
        self.health.failed()
    }

    /// Writer: publishes the committed end and the last sequence. Release pairs with
    /// the flusher's Acquire in [`WriterShared::committed`].
    #[inline]
    pub(crate) fn publish(&self, position: Position, seq: u64) {
        self.position.store(position.0, Ordering::Release);
        self.last_seq.store(seq, Ordering::Release);
    }

    /// Flusher: the last sequence committed and a position at or past its end. The
    /// sequence is loaded first: the writer stored the position covering it before, so
    /// the position loaded next is at least that far (Acquire on both).
    pub(crate) fn committed(&self) -> (u64, Position) {
        let seq = self.last_seq.load(Ordering::Acquire);
        let position = Position(self.position.load(Ordering::Acquire));
        (seq, position)
    }

    /// Flusher: records that everything up to `seq` is on disk.
    pub(crate) fn set_durable(&self, seq: u64) {
        self.durable_seq.store(seq, Ordering::Release);
    }

    /// The last sequence known to be on disk.
    pub(crate) fn durable_seq(&self) -> u64 {
        self.durable_seq.load(Ordering::Acquire)
    }

    pub(crate) fn ready(&self) -> &ReadyQueue {
        &self.ready
    }

    /// Writer, when dropped. Release: the flusher that sees it sees the last position.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Flusher: no further segment will come.
    pub(crate) fn stop_segments(&self) {
        self.no_more_segments.store(true, Ordering::Release);
    }

    /// Writer, while waiting for a segment.
    pub(crate) fn segments_stopped(&self) -> bool {
        self.no_more_segments.load(Ordering::Acquire)
    }
}

/// The hand-off of prepared segments from the flusher to the writer: a few places, one
/// per segment prepared ahead, each segment in the place of its index modulo their
/// number.
///
/// Each place holds an `Arc<Segment>` turned into a raw pointer (or null). Segments are
/// prepared and taken in index order, and the flusher puts segment `i` only into an
/// empty place, so when the writer looks for segment `i` its place holds `i` or nothing:
/// segment `i + places` can only go there once `i` has been taken. `put` stores with
/// Release, so the writer's Acquire in `take` sees the segment's header and pre-faulted
/// pages; `take` swaps in null, so each segment is taken once.
#[derive(Debug)]
pub(crate) struct ReadyQueue {
    places: Box<[AtomicPtr<Segment>]>,
}

impl ReadyQueue {
    /// Room for `places` (at least 1) segments prepared ahead.
    pub(crate) fn new(places: usize) -> ReadyQueue {
        ReadyQueue {
            places: (0..places.max(1))
                .map(|_| AtomicPtr::new(ptr::null_mut()))
                .collect(),
        }
    }

    fn place(&self, index: u32) -> &AtomicPtr<Segment> {
        &self.places[index as usize % self.places.len()]
    }

    /// Flusher: offers `segment`; gives it back if its place is still taken (the writer
    /// has not yet taken the segment `places` before it).
    pub(crate) fn put(&self, segment: Arc<Segment>) -> Result<(), Arc<Segment>> {
        let place = self.place(segment.index());
        let raw = Arc::into_raw(segment).cast_mut();
        match place.compare_exchange(ptr::null_mut(), raw, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => Ok(()),
            // SAFETY: `raw` came from `Arc::into_raw` just above and was not stored.
            Err(_) => Err(unsafe { Arc::from_raw(raw) }),
        }
    }

    /// Writer: takes segment `index`, if it is ready.
    #[inline]
    pub(crate) fn take(&self, index: u32) -> Option<Arc<Segment>> {
        let raw = self.place(index).swap(ptr::null_mut(), Ordering::AcqRel);
        if raw.is_null() {
            None
        } else {
            // SAFETY: a non-null pointer in a place came from `Arc::into_raw` in `put`,
            // and the swap gave it to this caller alone.
            let segment = unsafe { Arc::from_raw(raw) };
            debug_assert_eq!(segment.index(), index, "segments are taken in order");
            Some(segment)
        }
    }

    /// Flusher, when the writer is done: takes every segment still waiting.
    pub(crate) fn drain(&self) -> impl Iterator<Item = Arc<Segment>> + '_ {
        self.places.iter().filter_map(|place| {
            let raw = place.swap(ptr::null_mut(), Ordering::AcqRel);
            // SAFETY: as in `take`: the pointer came from `put`, and the swap gave it to
            // this caller alone.
            (!raw.is_null()).then(|| unsafe { Arc::from_raw(raw) })
        })
    }

    /// Writer: how many segments wait prepared (all past the one it is in: every earlier
    /// one has been taken).
    pub(crate) fn ready_count(&self) -> usize {
        self.places
            .iter()
            .filter(|place| !place.load(Ordering::Acquire).is_null())
            .count()
    }

    /// Writer: true while segment `index`, the next it will enter, waits in its place
    /// (a place holds the next segment or nothing: see the type's docs).
    pub(crate) fn is_ready(&self, index: u32) -> bool {
        !self.place(index).load(Ordering::Acquire).is_null()
    }
}

impl Drop for ReadyQueue {
    fn drop(&mut self) {
        self.drain().for_each(drop);
    }
}
