//! The journal's background thread: keeps each writer's next segments prepared ahead of
//! need ([`JournalConfig::segments_ahead`]), names segments once used, and `msync`s on
//! the [`FlushPolicy`].
//!
//! One thread serves every writer of a [`Journal`]. It never blocks a writer: writers
//! publish their committed end with a Release store and the flusher reads it; the only
//! thing a writer ever waits for is a next segment that is not ready yet (see
//! [`JournalWriter`]).
//!
//! What each policy loses (the README says the same):
//!
//! | policy | process crash | power loss or kernel crash |
//! | --- | --- | --- |
//! | `never` | nothing | whatever the kernel had not yet written back on its own (Linux: dirty pages older than `vm.dirty_expire_centisecs`, 30 s by default, are written within `vm.dirty_writeback_centisecs`, 5 s): up to ~35 s |
//! | `every_ms = N` | nothing | up to N ms of records, plus the flush in progress |
//! | `every_record` | nothing | the records appended since the flusher's last pass: it checks every 100 µs and makes whatever is new durable; [`JournalWriter::durable_seq`] says how far it got |
//!
//! While a writer may still store into a segment, the flusher never `msync`s it: the
//! records are made durable by the tail copy instead, and the segment is written back
//! once the writer has left it and it is unmapped (`tail.rs` says why). The table
//! holds for both.
//!
//! A process crash loses nothing under any policy: an append's bytes are in the shared
//! page cache when it returns, and the kernel writes them back after the process dies.
//! After a power loss the reader finds at worst a torn last record (truncated, the
//! records before kept) or, if the device wrote pages out of order, a bad record with
//! intact ones after it, which is reported as corruption, never skipped.

use std::{
    collections::VecDeque,
    fmt,
    fs::{self, File},
    path::{Path, PathBuf},
    str::FromStr,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    thread::{self, JoinHandle},
    time::{Duration, Instant},
};

use super::{
    error::JournalError,
    format::{
        decode_header, SegmentHeader, Seq, HEADER_SIZE, MAX_FRAME, MAX_NAME, SEGMENT_EXTENSION,
    },
    health::Health,
    reader::named_first_seq,
    segment::{Segment, PAGE},
    shared::{Position, WriterShared},
    tail::{restore, tail_path, TailFile},
    writer::JournalWriter,
};

/// When the flusher `msync`s what the writers appended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlushPolicy {
    /// Never: the kernel writes the pages back when it chooses. Cheapest; loses the most
    /// on power loss.
    Never,
    /// Every N milliseconds, when something was appended since the last flush.
    EveryMs(u32),
    /// As soon as the flusher sees new records (it looks every 100 µs). The writer never
    /// waits for the disk: a caller that must not act before its record is on disk
    /// waits for [`JournalWriter::durable_seq`] to reach the record's sequence.
    EveryRecord,
}

impl FlushPolicy {
    /// How long the flusher sleeps between passes.
    fn poll_interval(self) -> Duration {
        match self {
            FlushPolicy::EveryRecord => Duration::from_micros(100),
            FlushPolicy::Never | FlushPolicy::EveryMs(_) => Duration::from_millis(1),
        }
    }
}

impl fmt::Display for FlushPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FlushPolicy::Never => f.write_str("never"),
            FlushPolicy::EveryMs(n) => write!(f, "every_ms={n}"),
            FlushPolicy::EveryRecord => f.write_str("every_record"),
        }
    }
}

impl FromStr for FlushPolicy {
    type Err = String;

    /// Parses `never`, `every_record` or `every_ms=N` (N ≥ 1).
    fn from_str(s: &str) -> Result<FlushPolicy, String> {
        let s = s.trim();
        match s {
            "never" => return Ok(FlushPolicy::Never),
            "every_record" => return Ok(FlushPolicy::EveryRecord),
            _ => {}
        }
        let bad = || format!("flush policy {s:?}: expected never, every_record or every_ms=N");
        let n = s
            .strip_prefix("every_ms")
            .and_then(|rest| rest.trim_start().strip_prefix('='))
            .ok_or_else(bad)?;
        match n.trim().parse::<u32>() {
            Ok(n) if n >= 1 => Ok(FlushPolicy::EveryMs(n)),
            _ => Err(bad()),
        }
    }
}

/// How a journal writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JournalConfig {
    /// Bytes per segment file: a multiple of 4096, at least 8192, below 4 GiB.
    pub segment_bytes: usize,
    /// When to `msync`.
    pub flush: FlushPolicy,
    /// Segments kept prepared (created and pre-faulted) ahead of each writer, 1 to
    /// [`JournalConfig::MAX_SEGMENTS_AHEAD`]. A writer waits at a roll only when it has
    /// filled all of them faster than the flusher prepares more (about 1 GB/s on a
    /// small VM: only a writer at full speed does); each costs `segment_bytes` of disk
    /// and page cache per writer until it is used, and is removed unused at the end.
    pub segments_ahead: usize,
}

impl JournalConfig {
    /// 64 MiB segments (a million 64-byte records), `msync` every 10 ms, two segments
    /// prepared ahead.
    pub const DEFAULT: JournalConfig = JournalConfig {
        segment_bytes: 64 << 20,
        flush: FlushPolicy::EveryMs(10),
        segments_ahead: 2,
    };

    /// The most segments a writer can have prepared ahead.
    pub const MAX_SEGMENTS_AHEAD: usize = 16;

    fn validate(&self) -> Result<(), JournalError> {
        if !(1..=JournalConfig::MAX_SEGMENTS_AHEAD).contains(&self.segments_ahead) {
            return Err(JournalError::Config("segments_ahead must be 1 to 16"));
        }
        if self.segment_bytes % PAGE != 0
            || self.segment_bytes < 2 * PAGE
            || self.segment_bytes < HEADER_SIZE + MAX_FRAME
            || self.segment_bytes as u64 >= 1 << 32
        {
            return Err(JournalError::Config(
                "segment_bytes must be a multiple of 4096, at least 8192 and below 4 GiB",
            ));
        }
        Ok(())
    }
}

impl Default for JournalConfig {
    fn default() -> Self {
        JournalConfig::DEFAULT
    }
}

/// A journal directory being written: owns the flusher thread and makes writers.
///
/// One directory per trading day is the intended use (see [`day_dir`](super::day_dir)).
/// Dropping it (or [`Journal::shutdown`]) makes a last flush pass and stops the thread.
#[derive(Debug)]
pub struct Journal {
    dir: PathBuf,
    config: JournalConfig,
    inner: Arc<Inner>,
    thread: Option<JoinHandle<()>>,
}

#[derive(Debug)]
struct Inner {
    dir: PathBuf,
    config: JournalConfig,
    /// Writers made since the flusher's last pass.
    pending: Mutex<Vec<Tracked>>,
    stop: AtomicBool,
    /// The flusher's first error.
    error: Mutex<Option<JournalError>>,
    /// Marked at the flusher's first error; every writer reads it.
    health: Arc<Health>,
}

impl Journal {
    /// Creates `dir` if needed and starts the flusher.
    ///
    /// # Errors
    /// [`JournalError::Config`] for a bad segment size; [`JournalError::Io`] when the
    /// directory cannot be made or the thread cannot start.
    pub fn open(dir: &Path, config: JournalConfig) -> Result<Journal, JournalError> {
        Journal::open_pinned(dir, config, None)
    }

    /// [`Journal::open`] with the flusher thread pinned to `core` (best effort). On a
    /// host whose stage threads busy-spin on their own cores, an unpinned flusher is run
    /// now and then on a stage's core, and the stage waits behind its page faults and
    /// `msync`s for milliseconds; pinned to a housekeeping core it cannot be.
    ///
    /// # Errors
    /// As [`Journal::open`].
    pub fn open_pinned(
        dir: &Path,
        config: JournalConfig,
        core: Option<usize>,
    ) -> Result<Journal, JournalError> {
        config.validate()?;
        fs::create_dir_all(dir).map_err(|source| JournalError::Io {
            path: dir.to_owned(),
            source,
        })?;
        let inner = Arc::new(Inner {
            dir: dir.to_owned(),
            config,
            pending: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
            error: Mutex::new(None),
            health: Arc::new(Health::default()),
        });
        let thread = {
            let inner = Arc::clone(&inner);
            thread::Builder::new()
                .name("journal-flush".to_owned())
                .spawn(move || {
                    if let Some(core) = core {
                        // Best effort: validation checked the core exists, and an
                        // unpinned flusher still keeps the journal.
                        core_affinity::set_for_current(core_affinity::CoreId { id: core });
                    }
                    run(&inner)
                })
                .map_err(|source| JournalError::Io {
                    path: dir.to_owned(),
                    source,
                })?
        };
        Ok(Journal {
            dir: dir.to_owned(),
            config,
            inner,
            thread: Some(thread),
        })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The configuration.
    pub fn config(&self) -> JournalConfig {
        self.config
    }

    /// A writer named `name` (1 to 24 of `a-z`, `0-9`, `_`), its first sequence 1. Its
    /// first segment and the next are created here, before it appends anything.
    ///
    /// # Errors
    /// [`JournalError::BadWriterName`]; [`JournalError::WriterExists`] when the directory
    /// already holds segments of that writer; [`JournalError::Io`] when a segment cannot
    /// be created.
    pub fn writer(&self, name: &str) -> Result<JournalWriter, JournalError> {
        check_name(name)?;
        let prefix = format!("{name}-");
        for entry in fs::read_dir(&self.dir).map_err(io(&self.dir))? {
            let entry = entry.map_err(io(&self.dir))?;
            let file = entry.file_name();
            let file = file.to_string_lossy();
            if file.starts_with(&prefix) && file.ends_with(SEGMENT_EXTENSION) {
                return Err(JournalError::WriterExists {
                    dir: self.dir.clone(),
                    writer: name.to_owned(),
                });
            }
        }
        self.start_writer(name, Seq(1))
    }

    /// The writer named `name` continuing its series in this directory after a restart:
    /// its next record is numbered `next`, in a new segment named by that sequence
    /// (the reader follows a writer from a segment it did not fill into the next).
    ///
    /// The caller has read the writer's records and cut any torn tail
    /// ([`truncate_torn_tail`](super::truncate_torn_tail)), so `next` is one past its
    /// last intact record. Left-overs of the run that stopped are tidied first: a
    /// segment prepared and never entered is removed, one entered but not yet named by
    /// its first sequence is renamed, and a segment holding nothing from `next` on (its
    /// only record was torn) is removed. Every remaining segment is `fsync`ed, so the
    /// records before `next` are on disk before anything new is appended after them.
    ///
    /// # Errors
    /// [`JournalError::BadWriterName`]; [`JournalError::Io`]; [`JournalError::Header`]
    /// for a segment of the writer this build cannot read.
    pub fn resume_writer(&self, name: &str, next: Seq) -> Result<JournalWriter, JournalError> {
        check_name(name)?;
        let prefix = format!("{name}-");
        let mut files = Vec::new();
        for entry in fs::read_dir(&self.dir).map_err(io(&self.dir))? {
            let path = entry.map_err(io(&self.dir))?.path();
            let file = path.file_name().map(|f| f.to_string_lossy().into_owned());
            if file.is_some_and(|f| f.starts_with(&prefix) && f.ends_with(SEGMENT_EXTENSION)) {
                files.push(path);
            }
        }
        for path in files {
            let header = read_header(&path)?;
            if header.writer != name {
                continue;
            }
            let first = header.first_seq.or_else(|| named_first_seq(&path, name));
            if let Some(first) = first {
                // The tail copy's records go into the segment for good (its header too,
                // when only the copy had it).
                restore(&path, first.0).map_err(io(&path))?;
            }
            match first {
                None => fs::remove_file(&path).map_err(io(&path))?,
                Some(first) if first >= next => {
                    fs::remove_file(&path).map_err(io(&path))?;
                    let _ = fs::remove_file(tail_path(&path));
                }
                Some(first) => {
                    let named = segment_path(&self.dir, name, first);
                    if named != path {
                        fs::rename(&path, &named).map_err(io(&named))?;
                    }
                    File::open(&named)
                        .and_then(|f| f.sync_all())
                        .map_err(io(&named))?;
                }
            }
        }
        self.start_writer(name, next)
    }

    /// Creates a writer's first segment (numbered from `first`) and the next, and hands
    /// both to the flusher, which prepares the rest of its
    /// [`JournalConfig::segments_ahead`] on its own thread.
    fn start_writer(&self, name: &str, first_seq: Seq) -> Result<JournalWriter, JournalError> {
        let capacity = self.config.segment_bytes;
        let first_path = segment_path(&self.dir, name, first_seq);
        let first = Segment::create(&first_path, capacity, 0, name, Some(first_seq))
            .map_err(io(&first_path))?;
        let next_path = next_path(&self.dir, name, 1);
        let next = Segment::create(&next_path, capacity, 1, name, None).map_err(io(&next_path))?;
        sync_dir(&self.dir)?;
        let first = Arc::new(first);
        let next = Arc::new(next);
        let shared = Arc::new(WriterShared::new(
            name.to_owned(),
            Position::new(0, HEADER_SIZE),
            first_seq.0 - 1,
            self.config.segments_ahead,
            Arc::clone(&self.inner.health),
        ));
        if shared.ready().put(Arc::clone(&next)).is_err() {
            unreachable!("a new writer's ready queue is empty");
        }
        let tracked = Tracked {
            shared: Arc::clone(&shared),
            current: Arc::clone(&first),
            prepared: VecDeque::from([next]),
            synced: Position::new(0, 0),
            durable: Position::new(0, 0),
            tail: None,
            last_flush: Instant::now(),
        };
        lock(&self.inner.pending).push(tracked);
        if let Some(t) = &self.thread {
            t.thread().unpark();
        }
        Ok(JournalWriter::new(shared, first, first_seq))
    }

    /// Makes a last flush pass, stops the flusher and returns its first error.
    ///
    /// Writers still alive keep their current segment (appends go on into the page
    /// cache, unflushed) but get no further segment.
    ///
    /// # Errors
    /// The flusher's first error: a segment it could not create, name or `msync`.
    pub fn shutdown(mut self) -> Result<(), JournalError> {
        self.stop();
        match lock(&self.inner.error).take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn stop(&mut self) {
        self.inner.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            // A panic on the flusher thread already printed its message; the writers
            // see no further segment either way.
            let _ = t.join();
        }
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Checks a writer's name: 1 to 24 of `a-z`, `0-9`, `_`.
fn check_name(name: &str) -> Result<(), JournalError> {
    let valid = !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if valid {
        Ok(())
    } else {
        Err(JournalError::BadWriterName(name.to_owned()))
    }
}

/// An I/O error about `path`.
fn io(path: &Path) -> impl FnOnce(std::io::Error) -> JournalError {
    let path = path.to_owned();
    move |source| JournalError::Io { path, source }
}

/// Reads and decodes a segment file's header.
fn read_header(path: &Path) -> Result<SegmentHeader, JournalError> {
    use std::io::Read;
    let mut head = Vec::with_capacity(HEADER_SIZE);
    File::open(path)
        .and_then(|f| f.take(HEADER_SIZE as u64).read_to_end(&mut head))
        .map_err(io(path))?;
    decode_header(&head).map_err(|error| JournalError::Header {
        path: path.to_owned(),
        error,
    })
}

/// `DIR/NAME-SEQ.tpj`, the sequence zero-padded to 20 digits so names sort.
pub(crate) fn segment_path(dir: &Path, writer: &str, first: Seq) -> PathBuf {
    dir.join(format!("{writer}-{:020}.{SEGMENT_EXTENSION}", first.0))
}

/// `DIR/NAME-next-INDEX.tpj`: a segment prepared and not yet named by its first
/// sequence (its header's first sequence is 0 until the writer enters it).
pub(crate) fn next_path(dir: &Path, writer: &str, index: u32) -> PathBuf {
    dir.join(format!("{writer}-next-{index}.{SEGMENT_EXTENSION}"))
}

fn sync_dir(dir: &Path) -> Result<(), JournalError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|source| JournalError::Io {
            path: dir.to_owned(),
            source,
        })
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The flusher's view of one writer.
#[derive(Debug)]
struct Tracked {
    shared: Arc<WriterShared>,
    /// The segment the writer is in (the flusher's own reference: the unmap happens
    /// here when it is dropped).
    current: Arc<Segment>,
    /// The segments prepared ahead and offered to the writer, in index order, that it
    /// has not yet published a position in (it may have taken the first already).
    prepared: VecDeque<Arc<Segment>>,
    /// How far `msync` got.
    synced: Position,
    /// How far records are durable: `msync`ed, or copied into the tail copy.
    durable: Position,
    /// The current segment's tail copy, once one was needed.
    tail: Option<TailFile>,
    last_flush: Instant,
}

fn run(inner: &Inner) {
    let mut writers: Vec<Tracked> = Vec::new();
    let policy = inner.config.flush;
    loop {
        let stopping = inner.stop.load(Ordering::Acquire);
        writers.append(&mut lock(&inner.pending));
        let mut short = false;
        writers.retain_mut(|w| {
            let closed = w.shared.is_closed();
            let last = closed || stopping;
            if let Err(e) = pass(inner, w, last) {
                w.shared.stop_segments();
                lock(&inner.error).get_or_insert(e);
                // After the error is stored: a writer that sees the mark finds it.
                inner.health.mark_failed();
            }
            if last {
                w.shared.stop_segments();
                // Segments prepared and never entered are removed (one the writer
                // took is its to keep, entered or not; resuming tidies it).
                for ready in w.shared.ready().drain() {
                    let path = next_path(&inner.dir, &w.shared.name, ready.index());
                    drop(ready);
                    let _ = fs::remove_file(path);
                }
                w.prepared.clear();
            }
            short |= !last && wants_segments(inner, w);
            !last
        });
        if stopping {
            return;
        }
        // A writer whose queue is short gets its next segment on the next pass at once.
        if !short {
            thread::park_timeout(policy.poll_interval());
        }
    }
}

/// One pass over one writer: follow it into its next segment, then flush if due.
fn pass(inner: &Inner, w: &mut Tracked, last: bool) -> Result<(), JournalError> {
    let policy = inner.config.flush;
    let (seq, position) = w.shared.committed();
    let io = |path: PathBuf| move |source| JournalError::Io { path, source };
    if position.index() != w.current.index() {
        let shared = Arc::clone(&w.shared);
        let name = &shared.name;
        // The writer may have entered more than one segment since the last pass (it
        // fills a prepared one in a few milliseconds at full speed): follow it through
        // each, naming each by its first sequence. The ones it left are written back
        // below, after the queue is refilled.
        let mut left = Vec::new();
        while w.current.index() != position.index() {
            let Some(next) = w.prepared.pop_front() else {
                unreachable!("the writer entered a segment the flusher did not prepare");
            };
            debug_assert_eq!(next.index(), w.current.index() + 1);
            left.push(std::mem::replace(&mut w.current, next));
            let used_path = next_path(&inner.dir, name, w.current.index());
            let final_path = segment_path(&inner.dir, name, Seq(w.current.first_seq()));
            fs::rename(&used_path, &final_path).map_err(io(final_path.clone()))?;
        }
        // Prepare the next segment first: the writer is already filling the one it just
        // entered, and writing the left ones back below waits on the device for
        // milliseconds. Prepared after that wait, the next segment would often come too
        // late and the writer would spin at its end (a roll wait).
        if !last {
            refill(inner, w)?;
        }
        // The writer sealed each left segment and dropped its reference before
        // publishing a position past it, and never stores into it again: all of it can
        // be written back now, which makes the tail copy redundant.
        if policy != FlushPolicy::Never {
            let mut from = w.synced.offset();
            for old in left {
                let old_path = segment_path(&inner.dir, name, Seq(old.first_seq()));
                write_back(old, from).map_err(io(old_path))?;
                from = 0;
            }
        }
        drop_tail(w);
        w.synced = Position::new(w.current.index(), 0);
        w.durable = w.synced;
        sync_dir(&inner.dir)?;
    } else if !last {
        // Topping the queue up: a new writer starts with one segment prepared ahead,
        // and a roll above prepares one; the rest are made here, pass after pass.
        refill(inner, w)?;
    }
    // At the last pass the tail copy's part is `msync`ed too, and the copy dropped.
    let behind = position != w.durable || (last && w.tail.is_some());
    let due = behind
        && match policy {
            FlushPolicy::Never => false,
            FlushPolicy::EveryRecord => true,
            FlushPolicy::EveryMs(n) => {
                last || w.last_flush.elapsed() >= Duration::from_millis(u64::from(n))
            }
        };
    if due {
        let end = position.offset();
        let path = || segment_path(&inner.dir, &w.shared.name, Seq(w.current.first_seq()));
        if last {
            // The writer stores no more: the segment itself can be written back.
            w.current
                .flush(w.synced.offset(), end)
                .map_err(io(path()))?;
            w.synced = position;
            drop_tail(w);
        } else if end > w.synced.offset() {
            // While the writer may still store into the segment, its new bytes go to
            // the tail copy, never through `msync` (see `tail.rs`).
            let tail = match &mut w.tail {
                Some(t) => t,
                None => w
                    .tail
                    .insert(TailFile::create(tail_path(&path())).map_err(io(tail_path(&path())))?),
            };
            let from = w.synced.offset().max(tail.covered());
            // SAFETY: `end` is a position the writer published (read with Acquire in
            // `committed`), in the segment this pass tracks.
            let bytes = unsafe { w.current.published(from, end) };
            tail.append(w.current.first_seq(), from, bytes)
                .map_err(io(tail.path().to_owned()))?;
        }
        w.durable = position;
        w.shared.set_durable(seq);
        w.last_flush = Instant::now();
    }
    Ok(())
}

/// Prepares one more segment for `w` if fewer than `segments_ahead` wait ahead of the
/// one it is in, and offers it to the writer. One per pass, so that filling a writer's
/// queue never holds up the other writers' flushes for long; the flusher does not sleep
/// between passes while a queue is short ([`wants_segments`]).
///
/// Once the flusher has failed for this writer (it stopped its segments) nothing more
/// is prepared: the writer uses what is ready, then gets
/// [`AppendError::NoSegment`](super::AppendError::NoSegment).
fn refill(inner: &Inner, w: &mut Tracked) -> Result<(), JournalError> {
    if !wants_segments(inner, w) {
        return Ok(());
    }
    let name = &w.shared.name;
    let index = w.prepared.back().unwrap_or(&w.current).index() + 1;
    let path = next_path(&inner.dir, name, index);
    let prepared =
        Segment::create(&path, inner.config.segment_bytes, index, name, None).map_err(io(&path))?;
    let prepared = Arc::new(prepared);
    // Its place is free: the queue holds fewer than `segments_ahead` segments past the
    // one the writer is in, and every segment up to that one has been taken.
    if w.shared.ready().put(Arc::clone(&prepared)).is_err() {
        unreachable!("the place of segment {index} still holds an earlier segment");
    }
    w.prepared.push_back(prepared);
    Ok(())
}

/// True while `w`'s queue of prepared segments is short and can still be filled.
fn wants_segments(inner: &Inner, w: &Tracked) -> bool {
    w.prepared.len() < inner.config.segments_ahead && !w.shared.segments_stopped()
}

/// Writes a segment the writer has left back to the device, from `from` on.
///
/// Unmapped first when the flusher holds the last reference (it always should): the
/// kernel then writes the file's pages back with no mapping to write-protect, so no
/// TLB shootdown interrupts the writer's core, which shares this address space.
/// `msync` of the mapping (the fallback) cleans page table entries and does.
fn write_back(segment: Arc<Segment>, from: usize) -> std::io::Result<()> {
    match Arc::try_unwrap(segment) {
        Ok(segment) => segment.unmap_and_sync(),
        Err(shared) => shared.flush(from, shared.sealed_len()),
    }
}

/// Deletes the current segment's tail copy once the segment is `msync`ed through the
/// end of what it covers. A copy left behind (the deletion failed, or a power loss undid
/// it) is harmless: it holds the same bytes as the segment.
fn drop_tail(w: &mut Tracked) {
    if let Some(tail) = w.tail.take() {
        let _ = fs::remove_file(tail.path());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        journal::{format::encode_header, DailyMark, JournalReader, Record},
        model::{InstrumentId, Price, UnixNanos},
    };

    fn mark(k: i64) -> Record {
        Record::DailyMark(DailyMark {
            instrument: InstrumentId(1),
            mark: Price::from_paise(100_000 + k),
        })
    }

    fn temp(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("tickpipe-flusher-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    fn files(dir: &Path, extension: &str) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == extension))
            .collect();
        out.sort();
        out
    }

    fn marks(dir: &Path) -> (usize, usize) {
        let reader = JournalReader::open(dir).unwrap();
        let mut records = reader.records();
        let n = records
            .by_ref()
            .inspect(|r| assert!(r.is_ok(), "{r:?}"))
            .count();
        (n, records.torn_tails().len())
    }

    /// A power loss while the writer is in the middle of a segment: the device holds the
    /// segments it left (written back whole), the current segment's header as created
    /// (a prepared segment's has no first sequence) and nothing after it (a segment in
    /// use is never written back), and the tail copy. Every record the flusher called durable
    /// comes back, and resuming writes them into the segment for good.
    #[test]
    fn after_a_power_loss_the_tail_copy_brings_back_every_durable_record() {
        let dir = temp("tail-live");
        let image = temp("tail-image");
        fs::create_dir_all(&image).unwrap();
        let config = JournalConfig {
            segment_bytes: 8192,
            flush: FlushPolicy::EveryRecord,
            ..JournalConfig::DEFAULT
        };
        let journal = Journal::open(&dir, config).unwrap();
        let mut w = journal.writer("risk").unwrap();
        let mut last = Seq(0);
        for k in 1..=300 {
            last = w.append(UnixNanos(k as u64), &mark(k)).unwrap();
        }
        // Liveness, not speed: the pause only spaces the polls out.
        while w.durable_seq() < last {
            thread::sleep(Duration::from_millis(1));
        }
        // Named by first sequence: used segments; the one prepared ahead is left out
        // (the device holds its header, with no first sequence, and it is skipped).
        let mut segments = files(&dir, SEGMENT_EXTENSION);
        segments.retain(|p| named_first_seq(p, "risk").is_some());
        let (current, left) = segments.split_last().unwrap();
        assert!(!left.is_empty(), "the writer rolled: {segments:?}");
        let tails = files(&dir, "tail");
        assert_eq!(
            tails,
            vec![tail_path(current)],
            "one copy, the current segment's"
        );
        for path in left.iter().chain(&tails) {
            fs::copy(path, image.join(path.file_name().unwrap())).unwrap();
        }
        let mut device = vec![0u8; config.segment_bytes];
        device[..HEADER_SIZE].copy_from_slice(&encode_header(8192, None, "risk"));
        fs::write(image.join(current.file_name().unwrap()), &device).unwrap();

        assert_eq!(marks(&image), (300, 0), "read with the copy laid over");
        let copy = image.join(tails[0].file_name().unwrap());
        let saved = fs::read(&copy).unwrap();
        fs::remove_file(&copy).unwrap();
        // Without it the segment simply ends after its header (zeros are unwritten space).
        assert_eq!(marks(&image), (203, 0), "without the copy");
        fs::write(&copy, saved).unwrap();

        let resumed = Journal::open(&image, config).unwrap();
        drop(resumed.resume_writer("risk", Seq(301)).unwrap());
        resumed.shutdown().unwrap();
        assert!(
            files(&image, "tail").is_empty(),
            "the copy went into the segment"
        );
        assert_eq!(marks(&image), (300, 0));

        drop(w);
        journal.shutdown().unwrap();
        assert!(
            files(&dir, "tail").is_empty(),
            "shutdown msyncs all and drops the copy"
        );
        assert_eq!(marks(&dir), (300, 0));
        fs::remove_dir_all(&dir).unwrap();
        fs::remove_dir_all(&image).unwrap();
    }
}
