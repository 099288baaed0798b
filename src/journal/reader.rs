//! Reading a journal directory: every segment's header, then each writer's records in
//! sequence, checking length, CRC, type and sequence of every record.
//!
//! What the reader decides at a record that is not intact:
//!
//! - **torn tail**: it is in the writer's last segment and no intact record follows it
//!   (the process or machine stopped mid-append, or the file was cut short). The
//!   records before it are returned; the iterator ends and
//!   [`Records::torn_tails`] names file, offset and sequence.
//!   [`truncate_torn_tail`] clears it.
//! - **corruption**: anything else (an intact record follows it, or it is in a segment
//!   that has a successor, or an intact record is out of sequence or undecodable). The
//!   iterator yields [`JournalError::Corrupt`] naming file, offset and sequence, with the
//!   hint `run: tickpipe journal verify DIR`, and then ends: nothing is skipped.
//!
//! A segment file is read whole into memory (one at a time), so reading needs no
//! `unsafe` and a file changed underneath cannot be misread.

use std::{
    fs::{self, OpenOptions},
    path::{Path, PathBuf},
};

use super::{
    error::{Corruption, JournalError, TornTail},
    format::{
        check_frame, decode_header, FrameError, SegmentHeader, Seq, FRAME_ALIGN, FRAME_HEADER,
        HEADER_SIZE, SEGMENT_EXTENSION,
    },
    record::Record,
    tail::{overlay, tail_path},
};
use crate::model::{Tick, UnixNanos};

/// One record read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry<'a> {
    /// The writer that appended it.
    pub writer: &'a str,
    /// Its sequence in that writer's series.
    pub seq: Seq,
    /// Its market time.
    pub ts: UnixNanos,
    /// The record.
    pub record: Record,
}

/// A journal directory opened for reading.
///
/// # Examples
/// See [`JournalWriter`](super::JournalWriter).
#[derive(Debug)]
pub struct JournalReader {
    dir: PathBuf,
    writers: Vec<WriterSegments>,
}

/// One writer's segments, in sequence order.
#[derive(Debug)]
struct WriterSegments {
    name: String,
    segments: Vec<SegmentInfo>,
}

#[derive(Debug)]
struct SegmentInfo {
    path: PathBuf,
    header: SegmentHeader,
    first: Seq,
}

impl JournalReader {
    /// Reads and checks the header of every `*.tpj` file in `dir` and orders each
    /// writer's segments by their first sequence. Segments prepared and never used are
    /// left out.
    ///
    /// # Errors
    /// [`JournalError::Io`]; [`JournalError::Header`] for a file that is not a segment
    /// this build reads (another format version is named with the version found and the
    /// version expected); [`JournalError::Segments`] when two segments of a writer start
    /// at the same sequence.
    pub fn open(dir: &Path) -> Result<JournalReader, JournalError> {
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| JournalError::Io { path, source }
        };
        let mut paths = Vec::new();
        for entry in fs::read_dir(dir).map_err(io(dir))? {
            let path = entry.map_err(io(dir))?.path();
            if path.extension().is_some_and(|e| e == SEGMENT_EXTENSION) && path.is_file() {
                paths.push(path);
            }
        }
        paths.sort();
        let mut writers: Vec<WriterSegments> = Vec::new();
        for path in paths {
            let mut head = Vec::with_capacity(HEADER_SIZE);
            {
                use std::io::Read;
                let file = fs::File::open(&path).map_err(io(&path))?;
                file.take(HEADER_SIZE as u64)
                    .read_to_end(&mut head)
                    .map_err(io(&path))?;
            }
            let header = decode_header(&head).map_err(|error| JournalError::Header {
                path: path.clone(),
                error,
            })?;
            // A segment named by its first sequence whose header does not have it yet:
            // the header's page had not reached the device at a power loss, and the
            // tail copy holds it (laid over when the segment is read).
            let Some(first) = header
                .first_seq
                .or_else(|| named_first_seq(&path, &header.writer))
            else {
                continue;
            };
            let info = SegmentInfo {
                path,
                first,
                header,
            };
            match writers.iter_mut().find(|w| w.name == info.header.writer) {
                Some(w) => w.segments.push(info),
                None => writers.push(WriterSegments {
                    name: info.header.writer.clone(),
                    segments: vec![info],
                }),
            }
        }
        for w in &mut writers {
            w.segments.sort_by_key(|s| s.first);
            for pair in w.segments.windows(2) {
                if pair[0].first == pair[1].first {
                    return Err(JournalError::Segments {
                        dir: dir.to_owned(),
                        path: pair[1].path.clone(),
                        what: format!(
                            "starts at sequence {} like {}",
                            pair[1].first,
                            pair[0].path.display()
                        ),
                    });
                }
            }
        }
        writers.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(JournalReader {
            dir: dir.to_owned(),
            writers,
        })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The writers' names, sorted.
    pub fn writers(&self) -> impl Iterator<Item = &str> {
        self.writers.iter().map(|w| w.name.as_str())
    }

    /// Segment files of `writer`, in sequence order.
    pub fn segments_of(&self, writer: &str) -> Vec<&Path> {
        self.writers
            .iter()
            .filter(|w| w.name == writer)
            .flat_map(|w| w.segments.iter().map(|s| s.path.as_path()))
            .collect()
    }

    /// Every record, writer after writer (sorted by name), each writer's in sequence.
    pub fn records(&self) -> Records<'_> {
        Records::new(self, (0..self.writers.len()).collect())
    }

    /// The records of one writer, in sequence (empty if there is no such writer).
    pub fn records_of(&self, writer: &str) -> Records<'_> {
        let picked = self
            .writers
            .iter()
            .position(|w| w.name == writer)
            .into_iter()
            .collect();
        Records::new(self, picked)
    }

    /// The ticks of one writer as a tick stream, in the order they were appended (a
    /// replay source can wrap it). Records of other types are passed over.
    pub fn ticks(&self, writer: &str) -> Ticks<'_> {
        Ticks {
            records: self.records_of(writer),
        }
    }
}

/// The records of a [`JournalReader`], checked one by one; see the module docs for
/// what ends it. After an error it yields nothing more.
#[derive(Debug)]
pub struct Records<'a> {
    reader: &'a JournalReader,
    writers: Vec<usize>,
    /// Position in `writers`.
    w: usize,
    /// Segment of the current writer.
    s: usize,
    /// The current segment's bytes (read on first use).
    bytes: Option<Vec<u8>>,
    offset: usize,
    expected: Option<Seq>,
    torn: Vec<TornTail>,
    done: bool,
}

impl<'a> Records<'a> {
    fn new(reader: &'a JournalReader, writers: Vec<usize>) -> Records<'a> {
        Records {
            reader,
            writers,
            w: 0,
            s: 0,
            bytes: None,
            offset: HEADER_SIZE,
            expected: None,
            torn: Vec::new(),
            done: false,
        }
    }

    /// The torn tails found so far (complete once the iterator has ended).
    pub fn torn_tails(&self) -> &[TornTail] {
        &self.torn
    }

    fn next_writer(&mut self) {
        self.w += 1;
        self.s = 0;
        self.bytes = None;
        self.offset = HEADER_SIZE;
        self.expected = None;
    }

    fn fail(&mut self, e: JournalError) -> Option<Result<Entry<'a>, JournalError>> {
        self.done = true;
        Some(Err(e))
    }

    fn corrupt(
        &self,
        seg: &SegmentInfo,
        offset: usize,
        seq: Seq,
        reason: Corruption,
    ) -> JournalError {
        JournalError::Corrupt {
            dir: self.reader.dir.clone(),
            path: seg.path.clone(),
            offset: offset as u64,
            seq,
            reason,
        }
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<Entry<'a>, JournalError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.done {
                return None;
            }
            let Some(&wi) = self.writers.get(self.w) else {
                self.done = true;
                return None;
            };
            let reader = self.reader;
            let writer = &reader.writers[wi];
            let Some(seg) = writer.segments.get(self.s) else {
                self.next_writer();
                continue;
            };
            let is_last = self.s + 1 == writer.segments.len();
            if self.bytes.is_none() {
                let bytes = match read_segment(seg) {
                    Ok(b) => b,
                    Err(e) => return self.fail(e),
                };
                // The header was checked at open; check again what is read now.
                if let Err(error) = decode_header(&bytes) {
                    return self.fail(JournalError::Header {
                        path: seg.path.clone(),
                        error,
                    });
                }
                if let Some(expected) = self.expected {
                    if seg.first != expected {
                        let what = format!(
                            "starts at sequence {}, the previous segment ended before {} \
                             (a segment is missing or was cut short)",
                            seg.first, expected
                        );
                        return self.fail(JournalError::Segments {
                            dir: self.reader.dir.clone(),
                            path: seg.path.clone(),
                            what,
                        });
                    }
                }
                if !is_last && (bytes.len() as u64) < seg.header.capacity {
                    let what = format!(
                        "{} bytes, its header says {} and later segments follow",
                        bytes.len(),
                        seg.header.capacity
                    );
                    return self.fail(JournalError::Segments {
                        dir: self.reader.dir.clone(),
                        path: seg.path.clone(),
                        what,
                    });
                }
                self.expected = Some(seg.first);
                self.offset = HEADER_SIZE;
                self.bytes = Some(bytes);
            }
            let Some(bytes) = self.bytes.as_deref() else {
                unreachable!("read just above");
            };
            let offset = self.offset;
            let expected = self.expected.unwrap_or(seg.first);
            match check_frame(&bytes[offset..]) {
                Ok(h) => {
                    // NB: no writer numbers a record u64::MAX (that takes 2^64 appends)
                    // and no sequence follows it, so a header and frame claiming it are
                    // damaged even though their CRCs pass. Found while writing the
                    // `journal_reader` fuzz target (the `+ 1` below overflowed).
                    if h.seq != expected || h.seq.0 == u64::MAX {
                        let e = self.corrupt(
                            seg,
                            offset,
                            expected,
                            Corruption::Sequence { found: h.seq },
                        );
                        return self.fail(e);
                    }
                    let payload =
                        &bytes[offset + FRAME_HEADER..offset + FRAME_HEADER + h.payload_len];
                    let record = match Record::decode(h.ty, h.version, UnixNanos(h.ts), payload) {
                        Ok(r) => r,
                        Err(d) => {
                            let e = self.corrupt(seg, offset, expected, Corruption::Decode(d));
                            return self.fail(e);
                        }
                    };
                    self.offset += h.len;
                    self.expected = Some(Seq(expected.0 + 1));
                    return Some(Ok(Entry {
                        writer: &writer.name,
                        seq: h.seq,
                        ts: UnixNanos(h.ts),
                        record,
                    }));
                }
                Err(FrameError::End) => {
                    let rest_zero = bytes[offset..].iter().all(|&b| b == 0);
                    if !rest_zero {
                        if intact_frame_after(bytes, offset) {
                            let e = self.corrupt(seg, offset, expected, Corruption::Hole);
                            return self.fail(e);
                        }
                        if is_last {
                            // Bytes after a zero length and nothing intact: the length
                            // field of the last record did not reach the disk.
                            self.torn.push(torn(
                                writer,
                                seg,
                                offset,
                                expected,
                                FrameError::BadLength,
                            ));
                            self.next_writer();
                            continue;
                        }
                        let e = self.corrupt(seg, offset, expected, Corruption::Hole);
                        return self.fail(e);
                    }
                    if is_last && (bytes.len() as u64) < seg.header.capacity {
                        // Cut short exactly at a record boundary: report it, as the
                        // file is not as it was written.
                        self.torn
                            .push(torn(writer, seg, bytes.len(), expected, FrameError::Short));
                    }
                    self.s += 1;
                    self.bytes = None;
                    if is_last {
                        self.next_writer();
                    }
                }
                Err(reason) => {
                    if is_last && !intact_frame_after(bytes, offset) {
                        self.torn.push(torn(writer, seg, offset, expected, reason));
                        self.next_writer();
                        continue;
                    }
                    let e = self.corrupt(seg, offset, expected, Corruption::Frame(reason));
                    return self.fail(e);
                }
            }
        }
    }
}

fn torn(
    w: &WriterSegments,
    seg: &SegmentInfo,
    offset: usize,
    seq: Seq,
    reason: FrameError,
) -> TornTail {
    TornTail {
        writer: w.name.clone(),
        path: seg.path.clone(),
        offset: offset as u64,
        seq,
        capacity: seg.header.capacity,
        reason,
    }
}

/// The first sequence in the name of a segment of `writer` named by it
/// (`WRITER-SEQ.tpj`); `None` for a segment prepared ahead (`WRITER-next-N.tpj`).
pub(crate) fn named_first_seq(path: &Path, writer: &str) -> Option<Seq> {
    let stem = path.file_stem()?.to_str()?;
    let digits = stem.strip_prefix(writer)?.strip_prefix('-')?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|&s| s > 0).map(Seq)
}

/// A segment's bytes, with its tail copy (if the flusher left one) laid over them:
/// after a power loss the copy holds records whose part of the segment never reached
/// the device (see `tail.rs`).
fn read_segment(seg: &SegmentInfo) -> Result<Vec<u8>, JournalError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| JournalError::Io { path, source }
    };
    let mut bytes = fs::read(&seg.path).map_err(io(&seg.path))?;
    let tail = tail_path(&seg.path);
    match fs::read(&tail) {
        Ok(copy) => {
            overlay(&mut bytes, seg.first.0, &copy);
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(&tail)(e)),
    }
    Ok(bytes)
}

/// True when an intact frame starts at any aligned offset after `offset`.
fn intact_frame_after(bytes: &[u8], offset: usize) -> bool {
    (offset + FRAME_ALIGN..bytes.len())
        .step_by(FRAME_ALIGN)
        .any(|p| check_frame(&bytes[p..]).is_ok())
}

/// The ticks of one writer; see [`JournalReader::ticks`].
#[derive(Debug)]
pub struct Ticks<'a> {
    records: Records<'a>,
}

impl Ticks<'_> {
    /// The torn tails found so far.
    pub fn torn_tails(&self) -> &[TornTail] {
        self.records.torn_tails()
    }
}

impl Iterator for Ticks<'_> {
    type Item = Result<Tick, JournalError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.records.next()? {
                Ok(Entry {
                    record: Record::Tick(t),
                    ..
                }) => return Some(Ok(t)),
                Ok(_) => continue,
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

/// Clears a torn tail: cuts the file at the torn record and extends it with zeros back
/// to its capacity, so the segment is whole again and ends where the intact records end.
/// Then `fsync`s it.
///
/// # Errors
/// [`JournalError::Io`].
pub fn truncate_torn_tail(torn: &TornTail) -> Result<(), JournalError> {
    let io = |source| JournalError::Io {
        path: torn.path.clone(),
        source,
    };
    let file = OpenOptions::new()
        .write(true)
        .open(&torn.path)
        .map_err(io)?;
    file.set_len(torn.offset).map_err(io)?;
    file.set_len(torn.capacity.max(torn.offset)).map_err(io)?;
    file.sync_all().map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::format::{encode_header, seal_frame, RecordType, MAX_FRAME};

    #[test]
    fn the_last_possible_sequence_is_corruption_not_an_overflow() {
        let dir = std::env::temp_dir().join(format!("tickpipe-reader-seq-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let mut file = encode_header(4096, Some(Seq(u64::MAX)), "risk").to_vec();
        let mut frame = [0u8; MAX_FRAME];
        frame[FRAME_HEADER..FRAME_HEADER + 3].copy_from_slice(&[1, 1, 1]);
        let len = seal_frame(&mut frame, RecordType::RiskState, 3, Seq(u64::MAX), 7);
        file.extend_from_slice(&frame[..len]);
        fs::write(dir.join("risk-18446744073709551615.tpj"), &file).unwrap();
        let reader = JournalReader::open(&dir).unwrap();
        let first = reader.records().next().unwrap();
        assert!(
            matches!(
                first,
                Err(JournalError::Corrupt {
                    reason: Corruption::Sequence {
                        found: Seq(u64::MAX)
                    },
                    offset: 64,
                    ..
                })
            ),
            "{first:?}"
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
