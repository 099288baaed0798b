//! One segment: a pre-allocated, pre-faulted, memory-mapped file.
//!
//! The flusher thread creates a segment ahead of need ([`Segment::create`]: zeros
//! written, map, header (`msync`ed), every page faulted in writable) and hands it to one writer,
//! which then is the only thread that stores into its frames. The flusher reads ranges
//! the writer has published (for the tail copy), and once the writer has left the
//! segment unmaps it and writes it back ([`Segment::unmap_and_sync`]).

use std::{
    fs::{File, OpenOptions},
    io,
    os::unix::fs::FileExt,
    path::Path,
    ptr,
    sync::atomic::{AtomicU64, Ordering},
};

use memmap2::{Advice, MmapOptions, MmapRaw};

use super::format::{encode_header, set_header_first_seq, Seq, HEADER_SIZE};

/// The page size pre-faulting steps by. Touching every 4 KiB also touches every page of
/// any larger page size.
pub(crate) const PAGE: usize = 4096;

/// What a new segment file is filled with, a megabyte per `write`. A static, so making
/// a segment allocates nothing for it.
static ZEROS: [u8; 1 << 20] = [0; 1 << 20];

/// A mapped segment file shared by its writer and the flusher.
#[derive(Debug)]
pub(crate) struct Segment {
    map: MmapRaw,
    /// Kept open so the mapping's file stays the one named at creation.
    _file: File,
    capacity: usize,
    /// Position of the segment in its writer's series (0 for the first).
    index: u32,
    /// The writer's offset when it left the segment (0 while in use). Written by the
    /// writer before it publishes a position in a later segment (Release there), read by
    /// the flusher after it acquired that position.
    sealed_len: AtomicU64,
    /// The first sequence, set by the writer when it enters the segment, read by the
    /// flusher to name the file (same happens-before as `sealed_len`).
    first_seq: AtomicU64,
}

impl Segment {
    /// Creates the file at `path` (which must not exist), `capacity` bytes of zeros, maps it,
    /// writes the header (with `first_seq`, or unset for a segment prepared ahead) and
    /// `msync`s it, and stores into every page so that the writer's first store into each page does not
    /// fault.
    ///
    /// # Errors
    /// The I/O error of creating, sizing or mapping the file.
    pub(crate) fn create(
        path: &Path,
        capacity: usize,
        index: u32,
        writer: &str,
        first_seq: Option<Seq>,
    ) -> io::Result<Segment> {
        debug_assert!(capacity % PAGE == 0 && capacity > HEADER_SIZE);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)?;
        // The header first, so that a process killed while the file is being made
        // leaves at most a short file, never one whose first bytes are zeros (a header
        // the reader refuses; resuming the day would stop there).
        let header = encode_header(capacity as u64, first_seq, writer);
        file.write_all_at(&header, 0)?;
        // Then zeros, written through the page cache rather than a sparse `set_len`:
        // the kernel allocates the file's pages (and the file system reserves its
        // blocks) a megabyte per call instead of a page per fault, and the pre-faulting
        // below only maps pages already there. Measured on an 8 MiB segment on this
        // project's development VM (ext4, Linux 6.18), load average 4: 4–5 ms for both
        // steps against 14–15 ms for `set_len` and faulting each page in
        // (`latency-reports/journal.md`; noisier under more load).
        for offset in (HEADER_SIZE..capacity).step_by(ZEROS.len()) {
            let len = ZEROS.len().min(capacity - offset);
            file.write_all_at(&ZEROS[..len], offset as u64)?;
        }
        let map = MmapOptions::new().len(capacity).map_raw(&file)?;
        let base = map.as_mut_ptr();
        // The header reaches the device now, so that after a power loss every segment
        // file at least says whose it is and how long. Before the pre-faulting below:
        // writeback write-protects the pages it cleans (see `tail.rs`), and the stores
        // below make them writable again.
        map.flush_range(0, PAGE)?;
        // One system call faults every page in writable (Linux 5.14 and later): about a
        // third faster here than a store per page, which is what the writer's sustained
        // rate across segments waits on. Older kernels refuse the advice; then a store
        // per page does the same.
        if map.advise(Advice::PopulateWrite).is_err() {
            for page in (0..capacity).step_by(PAGE) {
                // SAFETY: `page < capacity`, inside the mapping; no other thread knows
                // this segment yet. The volatile load and store of the byte already there
                // cannot be elided, so the page is faulted in and dirtied here rather than
                // on the writer's first store.
                unsafe { ptr::write_volatile(base.add(page), ptr::read_volatile(base.add(page))) };
            }
        }
        Ok(Segment {
            map,
            _file: file,
            capacity,
            index,
            sealed_len: AtomicU64::new(0),
            first_seq: AtomicU64::new(first_seq.map_or(0, |s| s.0)),
        })
    }

    /// The file's length.
    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// Position in the writer's series.
    pub(crate) fn index(&self) -> u32 {
        self.index
    }

    /// Copies `bytes` into the mapping at `offset`.
    ///
    /// # Panics
    /// If the range passes the end of the segment.
    ///
    /// # Safety
    /// The caller is the segment's only writer, and no other thread reads the range
    /// until the caller publishes it (the flusher only `msync`s published ranges).
    #[inline]
    pub(crate) unsafe fn write(&self, offset: usize, bytes: &[u8]) {
        assert!(
            offset + bytes.len() <= self.capacity,
            "write past segment end"
        );
        // SAFETY: in bounds (asserted); exclusive access to the range is the caller's
        // obligation; `bytes` is ordinary memory that cannot overlap the mapping.
        unsafe {
            ptr::copy_nonoverlapping(
                bytes.as_ptr(),
                self.map.as_mut_ptr().add(offset),
                bytes.len(),
            )
        };
    }

    /// Stamps the header with the segment's first sequence: the writer is entering it.
    ///
    /// # Safety
    /// As for [`Segment::write`]: the caller is the only writer, and enters the segment
    /// once, before publishing any position in it.
    pub(crate) unsafe fn begin(&self, first: Seq) {
        let mut header = [0u8; HEADER_SIZE];
        // SAFETY: the header lies inside the mapping; the flusher wrote it before handing
        // the segment over (Release/Acquire through the ready queue) and nobody writes it
        // concurrently.
        unsafe { ptr::copy_nonoverlapping(self.map.as_ptr(), header.as_mut_ptr(), HEADER_SIZE) };
        set_header_first_seq(&mut header, first);
        // SAFETY: as `write`'s caller, delegated to ours.
        unsafe { self.write(0, &header) };
        self.first_seq.store(first.0, Ordering::Relaxed);
    }

    /// Records where the writer stopped; the writer's next position store publishes it.
    pub(crate) fn seal(&self, len: usize) {
        self.sealed_len.store(len as u64, Ordering::Relaxed);
    }

    /// Where the writer stopped, once it published a position past this segment.
    pub(crate) fn sealed_len(&self) -> usize {
        self.sealed_len.load(Ordering::Relaxed) as usize
    }

    /// The first sequence, once the writer entered the segment (0 before).
    pub(crate) fn first_seq(&self) -> u64 {
        self.first_seq.load(Ordering::Relaxed)
    }

    /// The bytes `from..to`, which the writer has published.
    ///
    /// # Panics
    /// If `from > to` or the range passes the end of the segment.
    ///
    /// # Safety
    /// `to` is at most a position the writer published (read with Acquire), so the
    /// writer stored every byte of the range before that and never stores into it again.
    pub(crate) unsafe fn published(&self, from: usize, to: usize) -> &[u8] {
        assert!(
            from <= to && to <= self.capacity,
            "range outside the segment"
        );
        // SAFETY: in bounds (asserted); the mapping lives as long as `self`; the bytes are
        // initialised (a mapped file) and, by the caller's obligation, no longer written.
        unsafe { std::slice::from_raw_parts(self.map.as_ptr().add(from), to - from) }
    }

    /// `msync`s bytes `from..to` (rounded out to pages by `memmap2`) and waits for it.
    ///
    /// # Errors
    /// The `msync` error.
    pub(crate) fn flush(&self, from: usize, to: usize) -> io::Result<()> {
        if to > from {
            self.map.flush_range(from, to - from)?;
        }
        Ok(())
    }

    /// Unmaps the segment, then writes its file back and waits for the device
    /// (`fdatasync`). Unmapped first, the kernel writes the pages back with no page
    /// table entry to write-protect, so no other core of this process is interrupted to
    /// flush its TLB; `msync` of a live mapping is.
    ///
    /// # Errors
    /// The `fdatasync` error.
    pub(crate) fn unmap_and_sync(self) -> io::Result<()> {
        let Segment {
            map, _file: file, ..
        } = self;
        drop(map);
        file.sync_data()
    }
}
