//! The tail copy: how the records in the segment a writer is still filling become
//! durable without `msync`ing that segment.
//!
//! Writing back a page of a shared file mapping write-protects it again (the kernel
//! tracks which pages are dirty that way). That costs the writer twice. Its next store
//! into a cleaned page faults and can wait, inside the kernel, for the writeback; and
//! the page table entries changed under a live writer are flushed from every core's
//! TLB, an interrupt on the writer's core. The page cache holds a file in folios of up
//! to 2 MiB, so an `msync` of a few bytes cleans the whole folio around them. Measured
//! on this project's development VM (ext4, Linux 6.18, 2 vCPUs):
//!
//! - `msync` up to the writer's end every 10 ms, writer at 100k records/s: ~2,700 extra
//!   page faults in 5 s and up to 0.7–1.1 ms per store;
//! - `msync` only to the last 2 MiB boundary behind the writer: no extra faults, but at
//!   full speed the shootdowns alone still took append p99.9 from 70–150 ns to 6–8 µs
//!   and throughput from 25 to 15 M records/s (`latency-reports/journal.md`).
//!
//! So while a writer may still store into a segment, the flusher never `msync`s it. It
//! copies the published bytes it has not copied yet into a side file,
//! `WRITER-FIRSTSEQ.tail` beside the segment, with `write` and `fdatasync`, which
//! touches no page table. Once the writer has left the segment, the flusher unmaps it
//! and writes the file back (`fdatasync`, again no page table to clean), then deletes
//! the copy; at shutdown it `msync`s the last segment whole and deletes its copy.
//!
//! Each entry is a copy of published records (immutable once published), so it can
//! only agree with whatever part of them reached the segment file; the reader lays the
//! entries over the segment's bytes ([`overlay`]) before checking records, and resuming
//! a writer writes them into the segment for good.
//!
//! Cost: every record is written to disk twice (once here, once when its segment is
//! written back), and the copy grows to the size of the segment before it is deleted.
//!
//! Entry layout (little-endian): magic `TPJT`, the segment's first sequence (u64), the
//! offset in the segment (u64), the length (u32), CRC-32 of those three fields and the
//! bytes (u32), then the bytes.

use std::{
    fs::{File, OpenOptions},
    io::{self, Write},
    path::{Path, PathBuf},
};

/// The tail copy's file extension.
pub(crate) const TAIL_EXTENSION: &str = "tail";

const MAGIC: &[u8; 4] = b"TPJT";
const ENTRY_HEADER: usize = 4 + 8 + 8 + 4 + 4;

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
}
