//! What one writer shares with the flusher thread: its published position, the next
//! segment, and a few flags. Each atomic's ordering is fixed by the method that touches
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
    /// The next segment, prepared by the flusher; the writer takes it when its segment
    /// is full.
    ready: ReadySlot,
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
        health: Arc<Health>,
    ) -> WriterShared {
        WriterShared {
            name,
            position: CachePadded::new(AtomicU64::new(start.0)),
            last_seq: CachePadded::new(AtomicU64::new(last_seq)),
            durable_seq: AtomicU64::new(last_seq),
            ready: ReadySlot::default(),
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

    pub(crate) fn ready(&self) -> &ReadySlot {
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

/// A one-place hand-off of a prepared segment from the flusher to the writer.
///
/// Holds an `Arc<Segment>` turned into a raw pointer (or null). `put` stores it with
/// Release, so the writer's Acquire in `take` sees the segment's header and pre-faulted
/// pages; `take` swaps in null, so each segment is taken once.
#[derive(Debug, Default)]
pub(crate) struct ReadySlot {
    ptr: AtomicPtr<Segment>,
}

impl ReadySlot {
    /// Flusher: offers `segment`; gives it back if the slot is full.
    pub(crate) fn put(&self, segment: Arc<Segment>) -> Result<(), Arc<Segment>> {
        let raw = Arc::into_raw(segment).cast_mut();
        match self
            .ptr
            .compare_exchange(ptr::null_mut(), raw, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => Ok(()),
            // SAFETY: `raw` came from `Arc::into_raw` just above and was not stored.
            Err(_) => Err(unsafe { Arc::from_raw(raw) }),
        }
    }

    /// Writer: takes the segment, if one is ready.
    #[inline]
    pub(crate) fn take(&self) -> Option<Arc<Segment>> {
        let raw = self.ptr.swap(ptr::null_mut(), Ordering::AcqRel);
        if raw.is_null() {
            None
        } else {
            // SAFETY: a non-null pointer in the slot came from `Arc::into_raw` in `put`,
            // and the swap gave it to this caller alone.
            Some(unsafe { Arc::from_raw(raw) })
        }
    }

    /// True while a segment waits in the slot.
    pub(crate) fn is_full(&self) -> bool {
        !self.ptr.load(Ordering::Acquire).is_null()
    }
}

impl Drop for ReadySlot {
    fn drop(&mut self) {
        drop(self.take());
    }
}
