//! The tail copy: how the records in the part of a segment a writer is still filling
//! become durable without `msync`ing that part.
//!
//! Writing back a page of a shared file mapping write-protects it again (the kernel
//! tracks which pages are dirty that way), and the page cache holds a file in *folios*
//! of up to 2 MiB (the PMD size; ext4 on Linux 6.x builds them for ordinary files), so
//! an `msync` of a few bytes cleans the whole folio around them. The writer's next store
//! anywhere in that folio then takes a write fault and can wait, inside the kernel, for
//! the writeback to finish. Measured on this project's development VM (ext4, Linux
//! 6.18): a writer storing 64-byte records at 100k/s while a thread `msync`ed up to its
//! end every 10 ms took ~2,700 extra page faults in 5 s and up to 0.7–1.1 ms per store;
//! with `msync` stopping at the last 2 MiB boundary behind the writer, none
//! (`latency-reports/journal-wiring.md` has the engine-level figures).
//!
//! So the flusher `msync`s a segment only up to the last folio boundary behind its
//! writer ([`folio_span`]), and copies the published bytes past that boundary into a
//! side file, `WRITER-FIRSTSEQ.tail` beside the segment, with `write` and `fdatasync`.
//! The writer never meets that file, and its folio stays dirty and writable. Each
//! entry is a copy of published records (immutable once published), so it can only
//! agree with whatever part of them reached the segment file; the reader lays the
//! entries over the segment's bytes ([`overlay`]) before checking records, and
//! resuming a writer writes them into the segment for good. The flusher deletes the
//! file once the whole segment is `msync`ed (when the writer leaves it, or at shutdown).
//!
//! Cost: the records of a busy writer are written to disk twice (once here, once when
//! their folio is `msync`ed); a quiet writer's records mostly only here.
//!
//! Entry layout (little-endian): magic `TPJT`, the segment's first sequence (u64), the
//! offset in the segment (u64), the length (u32), CRC-32 of those three fields and the
//! bytes (u32), then the bytes.

use std::{
    fs::{File, OpenOptions},
    io::{self, Write},
    path::{Path, PathBuf},
};

use super::segment::PAGE;

/// The tail copy's file extension.
pub(crate) const TAIL_EXTENSION: &str = "tail";

const MAGIC: &[u8; 4] = b"TPJT";
const ENTRY_HEADER: usize = 4 + 8 + 8 + 4 + 4;

/// The folio span assumed when the kernel does not say (the PMD size on x86-64).
const DEFAULT_FOLIO: usize = 2 << 20;

/// The largest folio the page cache may build: the transparent huge page size the
/// kernel reports, or 2 MiB when it does not. `msync` stops at a multiple of this.
pub(crate) fn folio_span() -> usize {
    std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size")
        .ok()
        .and_then(|s| s.trim().parse::<usize>().ok())
        .filter(|&n| n >= PAGE && n % PAGE == 0)
        .unwrap_or(DEFAULT_FOLIO)
}

/// The tail copy of the segment at `segment`.
pub(crate) fn tail_path(segment: &Path) -> PathBuf {
    segment.with_extension(TAIL_EXTENSION)
}

/// A segment's tail copy, appended by the flusher.
#[derive(Debug)]
pub(crate) struct TailFile {
    file: File,
    path: PathBuf,
    /// The segment offset up to which the file holds the segment's bytes.
    covered: usize,
    /// One entry, built here before its single `write`.
    scratch: Vec<u8>,
}

impl TailFile {
    /// Creates (or empties) the tail copy at `path`.
    ///
    /// # Errors
    /// The I/O error of creating it.
    pub(crate) fn create(path: PathBuf) -> io::Result<TailFile> {
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)?;
        Ok(TailFile {
            file,
            path,
            covered: 0,
            scratch: Vec::new(),
        })
    }

    /// The file's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The segment offset up to which the file holds the segment's bytes.
    pub(crate) fn covered(&self) -> usize {
        self.covered
    }

    /// Appends `bytes`, the segment's bytes from `offset` on, and waits until they are
    /// on the device (`fdatasync`).
    ///
    /// # Errors
    /// The I/O error of writing or syncing.
    pub(crate) fn append(&mut self, first_seq: u64, offset: usize, bytes: &[u8]) -> io::Result<()> {
        let len = u32::try_from(bytes.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "tail entry over 4 GiB"))?;
        self.scratch.clear();
        self.scratch.extend_from_slice(MAGIC);
        self.scratch.extend_from_slice(&first_seq.to_le_bytes());
        self.scratch
            .extend_from_slice(&(offset as u64).to_le_bytes());
        self.scratch.extend_from_slice(&len.to_le_bytes());
        let crc = entry_crc(&self.scratch[4..24], bytes);
        self.scratch.extend_from_slice(&crc.to_le_bytes());
        self.scratch.extend_from_slice(bytes);
        self.file.write_all(&self.scratch)?;
        self.file.sync_data()?;
        self.covered = offset + bytes.len();
        Ok(())
    }
}

fn entry_crc(fields: &[u8], bytes: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(fields);
    h.update(bytes);
    h.finalize()
}

/// What [`overlay`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Overlaid {
    /// Entries laid over the segment.
    pub entries: usize,
    /// The end of the last entry laid (0 when none).
    pub end: usize,
    /// Bytes after the last intact entry that were not used (a torn last entry, a power
    /// loss in the middle of the copy's own write); 0 when the file was whole.
    pub unused: usize,
}

/// Lays the intact entries of `tail` (a tail copy's bytes) for the segment starting at
/// `first_seq` over `segment` (that segment's bytes). Stops at the first entry that is
/// cut short, fails its CRC, names another segment or reaches past `segment`: the
/// entries are appended in order, so what follows a bad one was written after it, and
/// whatever records it held show up as the segment's torn tail, with its offset.
pub(crate) fn overlay(segment: &mut [u8], first_seq: u64, tail: &[u8]) -> Overlaid {
    let mut done = Overlaid::default();
    let mut at = 0;
    while at < tail.len() {
        let Some(entry) = entry_at(tail, at, first_seq, segment.len()) else {
            break;
        };
        let (offset, bytes) = entry;
        segment[offset..offset + bytes.len()].copy_from_slice(bytes);
        done.entries += 1;
        done.end = offset + bytes.len();
        at += ENTRY_HEADER + bytes.len();
    }
    done.unused = tail.len() - at;
    done
}

/// Writes the intact entries of the tail copy of `segment` (whose records start at
/// `first_seq`) into the segment file, `fsync`s it and deletes the copy, so the records
/// stay whole when the segment is no longer read with its copy beside it. `None` when
/// there is no copy.
///
/// # Errors
/// The I/O error of reading or writing either file.
pub(crate) fn restore(segment: &Path, first_seq: u64) -> io::Result<Option<Overlaid>> {
    use std::os::unix::fs::FileExt;
    let tail = tail_path(segment);
    let copy = match std::fs::read(&tail) {
        Ok(copy) => copy,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut bytes = std::fs::read(segment)?;
    let done = overlay(&mut bytes, first_seq, &copy);
    let file = OpenOptions::new().write(true).open(segment)?;
    file.write_all_at(&bytes[..done.end], 0)?;
    file.sync_all()?;
    std::fs::remove_file(&tail)?;
    Ok(Some(done))
}

/// The intact entry at `at`, as (segment offset, bytes).
fn entry_at(tail: &[u8], at: usize, first_seq: u64, segment_len: usize) -> Option<(usize, &[u8])> {
    let head = tail.get(at..at + ENTRY_HEADER)?;
    if &head[..4] != MAGIC {
        return None;
    }
    let u64_at = |i: usize| u64::from_le_bytes(head[i..i + 8].try_into().unwrap_or([0; 8]));
    let u32_at = |i: usize| u32::from_le_bytes(head[i..i + 4].try_into().unwrap_or([0; 4]));
    if u64_at(4) != first_seq {
        return None;
    }
    let offset = usize::try_from(u64_at(12)).ok()?;
    let len = u32_at(20) as usize;
    let start = at + ENTRY_HEADER;
    let bytes = tail.get(start..start.checked_add(len)?)?;
    if entry_crc(&head[4..24], bytes) != u32_at(24) || offset.checked_add(len)? > segment_len {
        return None;
    }
    Some((offset, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tickpipe-tail-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("w-00000000000000000001.tail")
    }

    #[test]
    fn entries_are_laid_over_the_segment_in_order() {
        let path = temp("order");
        let mut t = TailFile::create(path.clone()).unwrap();
        t.append(1, 100, &[1, 2, 3]).unwrap();
        t.append(1, 103, &[4, 5]).unwrap();
        assert_eq!(t.covered(), 105);
        let tail = std::fs::read(&path).unwrap();
        let mut seg = vec![0u8; 200];
        let done = overlay(&mut seg, 1, &tail);
        assert_eq!(
            done,
            Overlaid {
                entries: 2,
                end: 105,
                unused: 0
            }
        );
        assert_eq!(&seg[100..105], &[1, 2, 3, 4, 5]);
        assert!(seg[..100].iter().chain(&seg[105..]).all(|&b| b == 0));
    }

    #[test]
    fn a_torn_or_foreign_entry_ends_the_overlay() {
        let path = temp("torn");
        let mut t = TailFile::create(path.clone()).unwrap();
        t.append(7, 64, &[9; 10]).unwrap();
        t.append(7, 74, &[8; 10]).unwrap();
        let tail = std::fs::read(&path).unwrap();
        // Cut inside the second entry: only the first is laid.
        let mut seg = vec![0u8; 128];
        let done = overlay(&mut seg, 7, &tail[..tail.len() - 3]);
        assert_eq!((done.entries, done.end), (1, 74));
        assert_eq!(done.unused, ENTRY_HEADER + 7);
        assert_eq!(seg[74], 0);
        // A flipped byte in the first entry's bytes: nothing is laid.
        let mut bad = tail.clone();
        bad[ENTRY_HEADER + 2] ^= 1;
        let mut seg = vec![0u8; 128];
        assert_eq!(overlay(&mut seg, 7, &bad).entries, 0);
        assert!(seg.iter().all(|&b| b == 0));
        // Another segment's copy, or a segment too short for the entry: nothing.
        assert_eq!(overlay(&mut [0u8; 128], 8, &tail).entries, 0);
        assert_eq!(overlay(&mut [0u8; 70], 7, &tail).entries, 0);
    }

    #[test]
    fn the_folio_span_is_a_whole_number_of_pages() {
        let span = folio_span();
        assert!(span >= PAGE && span % PAGE == 0, "{span}");
    }
}
