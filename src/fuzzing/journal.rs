//! Journal segment files: the byte-level header and frame checks, the record decoder,
//! and the reader, `verify` and torn-tail truncation on a real file.

use std::{
    fs,
    path::{Path, PathBuf},
    sync::atomic::{AtomicUsize, Ordering},
};

use crate::{
    journal::{
        format::{
            check_frame, decode_header, frame_len, FRAME_ALIGN, FRAME_CRC, FRAME_HEADER, MAX_NAME,
            MIN_FRAME,
        },
        named_first_seq, truncate_torn_tail, verify, JournalReader, Record, Seq, HEADER_SIZE,
        MAX_FRAME,
    },
    model::UnixNanos,
};

/// Fix-up flag: recompute the segment header's CRC before reading.
pub const RESEAL_HEADER: u8 = 1;
/// Fix-up flag: recompute the CRC of every frame with a plausible length.
pub const RESEAL_FRAMES: u8 = 2;
/// The file name the segment is written under (any `*.tpj` name is read).
const SEGMENT_NAME: &str = "fuzz-00000000000000000001.tpj";
/// Largest capacity a torn tail is truncated back to: truncation extends the file to
/// the capacity its header claims, and a fuzzed header may claim anything.
const MAX_TRUNCATE_CAPACITY: u64 = 1 << 20;

/// A journal segment: the first byte holds fix-up flags, the rest is the file.
///
/// Every record is protected by a CRC, so random bytes almost never reach the record
/// decoder or the reader's sequence logic. The flags let the fuzzer get past them:
/// `RESEAL_HEADER` recomputes the header CRC and `RESEAL_FRAMES` the CRC of each
/// frame from the header on, as long as the lengths are plausible. With no flag set
/// the bytes are read as they are.
///
/// Checks, besides not panicking:
/// - a header that decodes names a writer of 1 to 24 bytes;
/// - an intact frame lies within the data, its length is aligned, in range and matches
///   its payload length; a record that decodes encodes back to a frame that decodes to
///   the same record;
/// - the reader opens the file exactly when its header decodes; the records it returns
///   are intact frames in sequence from the header's first sequence, never more than
///   the frames there are, with at most one torn tail;
/// - [`verify`] agrees with the reader (error or not, records, torn tails);
/// - after [`truncate_torn_tail`], the file verifies with the same records and no torn
///   tail.
///
/// The file is written into a scratch directory of this thread (in `/dev/shm` when it
/// can: see `Scratch::new`),
/// removed when the thread ends.
pub fn journal_reader(data: &[u8]) {
    let Some((&flags, file)) = data.split_first() else {
        return;
    };
    let mut bytes = file.to_vec();
    if flags & RESEAL_HEADER != 0 {
        reseal_header(&mut bytes);
    }
    if flags & RESEAL_FRAMES != 0 {
        reseal_frames(&mut bytes);
    }
    let intact = walk_frames(&bytes);
    SCRATCH.with(|scratch| read_back(scratch, &bytes, intact));
}

fn reseal_header(bytes: &mut [u8]) {
    if bytes.len() >= HEADER_SIZE {
        let crc = crc32fast::hash(&bytes[..60]);
        bytes[60..64].copy_from_slice(&crc.to_le_bytes());
    }
}

fn reseal_frames(bytes: &mut [u8]) {
    let mut at = HEADER_SIZE;
    while let Some(prefix) = bytes.get(at..at + FRAME_HEADER) {
        let len = u32::from_le_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]) as usize;
        let payload = usize::from(u16::from_le_bytes([prefix[6], prefix[7]]));
        if len % FRAME_ALIGN != 0
            || !(MIN_FRAME..=MAX_FRAME).contains(&len)
            || frame_len(payload) != len
            || at + len > bytes.len()
        {
            return;
        }
        let crc = crc32fast::hash(&bytes[at..at + len - FRAME_CRC]);
        bytes[at + len - FRAME_CRC..at + len].copy_from_slice(&crc.to_le_bytes());
        at += len;
    }
}

/// Checks the header and the intact frames that follow it, in memory, as the reader
/// would meet them; returns how many there are.
fn walk_frames(bytes: &[u8]) -> u64 {
    if let Ok(header) = decode_header(bytes) {
        assert!(
            (1..=MAX_NAME).contains(&header.writer.len()),
            "writer name `{}`",
            header.writer
        );
    }
    let mut at = HEADER_SIZE;
    let mut intact = 0;
    while let Some(rest) = bytes.get(at..) {
        let Ok(h) = check_frame(rest) else {
            break;
        };
        assert!(
            h.len % FRAME_ALIGN == 0 && (MIN_FRAME..=MAX_FRAME).contains(&h.len),
            "frame length {}",
            h.len
        );
        assert!(at + h.len <= bytes.len(), "a frame past the end at {at}");
        assert_eq!(frame_len(h.payload_len), h.len, "payload length");
        let ts = UnixNanos(h.ts);
        let payload = &rest[FRAME_HEADER..FRAME_HEADER + h.payload_len];
        if let Ok(record) = Record::decode(h.ty, h.version, ts, payload) {
            let mut frame = [0u8; MAX_FRAME];
            let len = record.encode_frame(h.seq, ts, &mut frame);
            let again = check_frame(&frame[..len])
                .unwrap_or_else(|e| panic!("{record:?} encodes to a bad frame: {e}"));
            assert_eq!((again.seq, again.ts, again.len), (h.seq, h.ts, h.len));
            let back = Record::decode(
                again.ty,
                again.version,
                ts,
                &frame[FRAME_HEADER..FRAME_HEADER + again.payload_len],
            );
            assert_eq!(back, Ok(record), "a record does not survive its encoding");
        }
        intact += 1;
        at += h.len;
    }
    intact
}

/// What the reader made of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Reading {
    records: u64,
    failed: bool,
    torn: usize,
}

fn read_back(scratch: &Scratch, bytes: &[u8], intact: u64) {
    let path = scratch.dir.join(SEGMENT_NAME);
    fs::write(&path, bytes)
        .unwrap_or_else(|e| panic!("cannot write the scratch segment {}: {e}", path.display()));
    let header = decode_header(bytes);
    let reader = match JournalReader::open(&scratch.dir) {
        Ok(reader) => reader,
        Err(e) => {
            assert!(header.is_err(), "a good header refused: {e}");
            assert!(
                verify(&scratch.dir).is_err(),
                "verify accepts what open refuses"
            );
            return;
        }
    };
    let Ok(header) = header else {
        panic!("opened a segment whose header does not decode");
    };
    // The reader's first sequence: the header's, else (a header whose page never reached
    // the device) the one the segment's name gives for its writer.
    let first = header
        .first_seq
        .or_else(|| named_first_seq(&path, &header.writer));
    let mut records = reader.records();
    let mut reading = Reading {
        records: 0,
        failed: false,
        torn: 0,
    };
    for entry in &mut records {
        match entry {
            Ok(entry) => {
                assert_eq!(
                    Some(entry.seq),
                    first
                        .map_or(0, |s| s.0)
                        .checked_add(reading.records)
                        .map(Seq),
                    "out of sequence"
                );
                reading.records += 1;
            }
            Err(e) => {
                assert!(!e.to_string().is_empty());
                reading.failed = true;
            }
        }
    }
    reading.torn = records.torn_tails().len();
    assert!(
        reading.records <= intact,
        "{reading:?} from {intact} intact frames"
    );
    assert!(reading.torn <= 1, "{reading:?}");
    assert!(!reading.failed || reading.torn == 0, "{reading:?}");
    if first.is_none() {
        assert_eq!(reading.records, 0, "records read from an unused segment");
    }
    check_verify(scratch, reading, "the reader");
    let torn = records.torn_tails().first().cloned();
    if let Some(torn) = torn.filter(|t| t.capacity <= MAX_TRUNCATE_CAPACITY) {
        truncate_torn_tail(&torn).unwrap_or_else(|e| panic!("cannot truncate {torn}: {e}"));
        check_verify(
            scratch,
            Reading { torn: 0, ..reading },
            &format!("truncating {torn}"),
        );
    }
}

/// `verify` fails exactly when `expected` says the reader failed, and otherwise finds
/// the same records and torn tails.
fn check_verify(scratch: &Scratch, expected: Reading, after: &str) {
    match verify(&scratch.dir) {
        Ok(report) => {
            assert!(!expected.failed, "verify passes after {after} failed");
            let records: u64 = report.writers.iter().map(|w| w.records).sum();
            assert_eq!(
                (records, report.torn_tails.len()),
                (expected.records, expected.torn),
                "verify disagrees with {after}"
            );
        }
        Err(e) => assert!(expected.failed, "verify fails ({e}) after {after} passed"),
    }
}

/// A directory of this thread's own, so bodies running on several threads never read
/// each other's files.
struct Scratch {
    dir: PathBuf,
}

impl Scratch {
    /// A new directory in `/dev/shm` when that is a usable directory, else in the
    /// system's temporary directory.
    ///
    /// NB: every run writes the segment, and truncating a torn tail `fsync`s it. On a
    /// disk that costs milliseconds a run (the stable runner took over a minute for
    /// 3,000 runs on a busy host); on a RAM-backed file system (Linux mounts one at
    /// `/dev/shm`) it costs microseconds.
    fn new() -> Scratch {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "tickpipe-fuzz-journal-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let shm = Path::new("/dev/shm").join(&name);
        if fs::create_dir(&shm).is_ok() {
            return Scratch { dir: shm };
        }
        let dir = std::env::temp_dir().join(name);
        fs::create_dir_all(&dir).unwrap_or_else(|e| {
            panic!("cannot create the scratch directory {}: {e}", dir.display())
        });
        Scratch { dir }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

thread_local! {
    static SCRATCH: Scratch = Scratch::new();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::format::{encode_header, seal_frame, RecordType};

    #[test]
    fn empty_cut_and_resealed_segments_pass() {
        journal_reader(&[]);
        journal_reader(&[RESEAL_HEADER | RESEAL_FRAMES]);
        let mut file = encode_header(4096, Some(Seq(1)), "risk").to_vec();
        let mut frame = [0u8; MAX_FRAME];
        frame[FRAME_HEADER..FRAME_HEADER + 3].copy_from_slice(&[1, 2, 3]);
        let len = seal_frame(&mut frame, RecordType::RiskState, 3, Seq(1), 7);
        file.extend_from_slice(&frame[..len]);
        for flags in [0, RESEAL_FRAMES] {
            let mut data = vec![flags];
            data.extend_from_slice(&file);
            journal_reader(&data);
            journal_reader(&data[..data.len() - 5]);
        }
    }
}
