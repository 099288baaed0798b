//! The per-stage appender: one writer per stage, so no writer ever locks.
//!
//! An append encodes the frame on the stack, copies it into the current segment's
//! pre-faulted mapping and publishes the new end with one Release store: no allocation,
//! no lock, no system call, no formatting. When the frame does not fit, the writer
//! takes the next segment the flusher prepared (a pointer swap), stamps its header and
//! goes on.
//!
//! **No segment ready.** The flusher keeps
//! [`JournalConfig::segments_ahead`](super::JournalConfig::segments_ahead) segments
//! prepared ahead of the writer, and prepares another as soon as the writer enters
//! one. If none is ready at a roll (the writer filled the prepared ones faster than
//! the flusher creates and pre-faults segments, about 1 GB/s on a small VM, or the
//! flusher was waiting on the device to write a left segment back), the writer
//! spin-waits for the next and counts the wait in [`WriterStats::roll_waits`]. It does
//! not create the file itself: that would put file creation, `mmap` and 16 384 page
//! faults on the stage's thread, and allocate. If the flusher has failed or stopped,
//! the wait ends with [`AppendError::NoSegment`] once the prepared segments are used.

use std::sync::Arc;

use super::{
    error::AppendError,
    format::{Seq, HEADER_SIZE, MAX_FRAME},
    record::Record,
    segment::Segment,
    shared::{Position, WriterShared},
};
use crate::model::UnixNanos;

/// Counters of one writer, read with [`JournalWriter::stats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriterStats {
    /// Records appended.
    pub records: u64,
    /// Frame bytes appended.
    pub bytes: u64,
    /// Segments entered after the first.
    pub rolls: u64,
    /// Rolls that found no segment ready and spun until the flusher had one.
    pub roll_waits: u64,
}

/// Appends records to one writer's segments. Made by
/// [`Journal::writer`](super::Journal::writer); owned by one stage thread (`Send`, not
/// `Sync`).
///
/// # Examples
/// ```
/// use tickpipe::journal::{FlushPolicy, Journal, JournalConfig, JournalReader, Record, DailyMark};
/// use tickpipe::model::{InstrumentId, Price, UnixNanos};
///
/// let dir = std::env::temp_dir().join(format!("tickpipe-doc-writer-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
/// let journal = Journal::open(&dir, JournalConfig { segment_bytes: 1 << 16, flush: FlushPolicy::Never, ..JournalConfig::DEFAULT })?;
/// let mut writer = journal.writer("risk")?;
/// let mark = Record::DailyMark(DailyMark { instrument: InstrumentId(3), mark: Price::from_paise(245_005) });
/// let seq = writer.append(UnixNanos(1), &mark)?;
/// assert_eq!(seq.0, 1);
/// drop(writer);
/// journal.shutdown()?;
///
/// let reader = JournalReader::open(&dir)?;
/// let entries: Vec<_> = reader.records().collect::<Result<_, _>>()?;
/// assert_eq!(entries.len(), 1);
/// assert_eq!(entries[0].record, mark);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct JournalWriter {
    shared: Arc<WriterShared>,
    segment: Arc<Segment>,
    index: u32,
    offset: usize,
    capacity: usize,
    next_seq: u64,
    stats: WriterStats,
}

impl JournalWriter {
    /// A writer appending from `first`'s start, its next record numbered `next_seq`.
    pub(crate) fn new(
        shared: Arc<WriterShared>,
        first: Arc<Segment>,
        next_seq: Seq,
    ) -> JournalWriter {
        JournalWriter {
            index: first.index(),
            capacity: first.capacity(),
            segment: first,
            shared,
            offset: HEADER_SIZE,
            next_seq: next_seq.0,
            stats: WriterStats::default(),
        }
    }

    /// Appends `record` at market time `ts`; returns its sequence number.
    ///
    /// `ts` is the record's market time; for a message that carries its own
    /// `exchange_ts` it must be that time (the journal stores it once; debug builds
    /// check it).
    ///
    /// Cost: encoding and CRC of at most 96 bytes on the stack, one copy into a mapped,
    /// pre-faulted page, one Release store. The stored bytes are in the page cache as
    /// soon as this returns, so a crash of the process loses nothing appended; what a
    /// power loss loses depends on the [`FlushPolicy`](super::FlushPolicy).
    ///
    /// # Errors
    /// [`AppendError::NoSegment`] when the segment is full and the flusher cannot provide
    /// another.
    #[inline]
    pub fn append(&mut self, ts: UnixNanos, record: &Record) -> Result<Seq, AppendError> {
        debug_assert!(
            !matches!(record.exchange_ts(), Some(t) if t != ts),
            "journal timestamp differs from the message's exchange_ts"
        );
        let seq = self.next_seq;
        let mut frame = [0u8; MAX_FRAME];
        let len = record.encode_frame(Seq(seq), ts, &mut frame);
        if self.offset + len > self.capacity {
            self.roll()?;
        }
        // SAFETY: this writer is the segment's only writer (it took it from the ready
        // queue, or was made with it), and bytes past `offset` are published only below.
        unsafe { self.segment.write(self.offset, &frame[..len]) };
        self.offset += len;
        self.next_seq = seq + 1;
        self.stats.records += 1;
        self.stats.bytes += len as u64;
        self.shared
            .publish(Position::new(self.index, self.offset), seq);
        Ok(Seq(seq))
    }

    /// Moves to the next segment. Cold: once per segment.
    #[cold]
    fn roll(&mut self) -> Result<(), AppendError> {
        let mut waited = false;
        let next = loop {
            if let Some(next) = self.shared.ready().take(self.index + 1) {
                break next;
            }
            if self.shared.segments_stopped() {
                return Err(AppendError::NoSegment);
            }
            waited = true;
            std::hint::spin_loop();
        };
        if waited {
            self.stats.roll_waits += 1;
        }
        // SAFETY: the segment came out of the ready queue, so this writer is its only
        // writer, and no position in it is published yet.
        unsafe { next.begin(Seq(self.next_seq)) };
        self.segment.seal(self.offset);
        // The old segment's `Arc` is dropped before the next position is published: the
        // flusher keeps its own and drops it only after seeing that position, so the
        // unmap happens on the flusher's thread, never here.
        let old = std::mem::replace(&mut self.segment, next);
        drop(old);
        self.index = self.segment.index();
        self.capacity = self.segment.capacity();
        self.offset = HEADER_SIZE;
        self.stats.rolls += 1;
        Ok(())
    }

    /// The writer's name.
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// True once the journal's flusher has failed (for this writer or any other of
    /// the same journal): a full disk, a path it could not create, an `msync` error.
    /// Appends may still succeed for a while (into segments already made), but the
    /// journal can no longer promise to keep the day. One atomic load.
    #[inline]
    pub fn journal_failed(&self) -> bool {
        self.shared.journal_failed()
    }

    /// The sequence the next record will get.
    pub fn next_seq(&self) -> Seq {
        Seq(self.next_seq)
    }

    /// The last sequence the flusher has `msync`ed (0: none yet). With
    /// [`FlushPolicy::Never`](super::FlushPolicy::Never) it stays 0.
    pub fn durable_seq(&self) -> Seq {
        Seq(self.shared.durable_seq())
    }

    /// True while the next segment is prepared and waiting, so the next roll will not
    /// wait.
    pub fn next_segment_ready(&self) -> bool {
        self.shared.ready().is_ready(self.index + 1)
    }

    /// How many segments the flusher has prepared and offered ahead of the one this
    /// writer is in: the rolls it can make without waiting, at most
    /// [`JournalConfig::segments_ahead`](super::JournalConfig::segments_ahead).
    pub fn segments_ready(&self) -> usize {
        self.shared.ready().ready_count()
    }

    /// The writer's counters.
    pub fn stats(&self) -> WriterStats {
        self.stats
    }
}

impl Drop for JournalWriter {
    fn drop(&mut self) {
        self.shared.close();
    }
}
