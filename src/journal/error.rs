//! What can go wrong: the writer's tiny hot-path error, the reader's errors (each naming
//! the file and the byte offset), and the torn tail, which is not an error.

use std::{fmt, io, path::PathBuf};

use super::{
    format::{FrameError, HeaderError, Seq},
    record::DecodeError,
};

/// Why [`JournalWriter::append`](super::JournalWriter::append) did not journal a
/// record. The caller still holds the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppendError {
    /// The segment is full and no next segment can come: the flusher failed to create it
    /// (disk full, permissions; [`Journal::shutdown`](super::Journal::shutdown) returns
    /// its error) or has stopped. Nothing more can be journaled by this writer.
    NoSegment,
}

impl fmt::Display for AppendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppendError::NoSegment => f.write_str(
                "journal segment full and no next segment (the flusher failed or stopped)",
            ),
        }
    }
}

impl std::error::Error for AppendError {}

/// A journal could not be opened, written or read.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// An I/O error on a file or directory.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// A segment header is not one this build reads (bad magic, another format
    /// version, a CRC mismatch). Nothing in the file is read.
    #[error("{}: {error}", path.display())]
    Header {
        /// The segment file.
        path: PathBuf,
        /// What is wrong.
        error: HeaderError,
    },
    /// A record in the middle of the journal is bad (intact records follow it, so it is
    /// not a torn tail), or intact but out of sequence or undecodable. Reading stops
    /// here; nothing after it is skipped to.
    #[error(
        "{} at byte {offset} (sequence {seq}): {reason}; reading stops here, nothing \
         after it is skipped to; run: tickpipe journal verify {}",
        path.display(),
        dir.display()
    )]
    Corrupt {
        /// The journal directory.
        dir: PathBuf,
        /// The segment file.
        path: PathBuf,
        /// Byte offset of the bad record in the file.
        offset: u64,
        /// The sequence the record should have had.
        seq: Seq,
        /// What is wrong.
        reason: Corruption,
    },
    /// Two segments of a writer claim the same first sequence, or a writer's segments
    /// do not follow each other.
    #[error("{}: {what}; run: tickpipe journal verify {}", path.display(), dir.display())]
    Segments {
        /// The journal directory.
        dir: PathBuf,
        /// The segment file.
        path: PathBuf,
        /// What is wrong.
        what: String,
    },
    /// A writer name that cannot be a file name prefix.
    #[error("writer name {0:?}: use 1 to 24 of a-z, 0-9 and _")]
    BadWriterName(String),
    /// The directory already holds segments of this writer: resuming a writer is the
    /// recovery's job, not `writer`'s.
    #[error("{}: writer {writer} already has segments here", dir.display())]
    WriterExists {
        /// The journal directory.
        dir: PathBuf,
        /// The writer.
        writer: String,
    },
    /// A configuration value out of range.
    #[error("journal config: {0}")]
    Config(&'static str),
}

/// What is wrong with a record in the middle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Corruption {
    /// The frame is not intact (length, CRC, or the file ends inside it).
    Frame(FrameError),
    /// The frame is intact but its payload is not a record this build reads.
    Decode(DecodeError),
    /// The frame is intact but out of sequence.
    Sequence {
        /// The sequence it has.
        found: Seq,
    },
    /// A zero length where the data should go on (intact records follow).
    Hole,
}

impl fmt::Display for Corruption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Corruption::Frame(e) => {
                write!(f, "{e}, and intact records follow it (not a torn tail)")
            }
            Corruption::Decode(e) => write!(f, "{e}"),
            Corruption::Sequence { found } => write!(f, "sequence {found} out of order"),
            Corruption::Hole => {
                f.write_str("zeroed bytes where a record should be, and intact records follow")
            }
        }
    }
}

/// A writer's last record was cut short (the process or machine stopped mid-append, or
/// the file was truncated): found at the end of the writer's last segment, with nothing
/// intact after it. The records before it are intact and are read;
/// [`truncate_torn_tail`](super::truncate_torn_tail) clears it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornTail {
    /// The writer.
    pub writer: String,
    /// The segment file.
    pub path: PathBuf,
    /// Byte offset in the file where the torn record starts.
    pub offset: u64,
    /// The sequence the torn record would have had.
    pub seq: Seq,
    /// The segment's capacity (the file's length as written).
    pub capacity: u64,
    /// What is wrong with it.
    pub reason: FrameError,
}

impl fmt::Display for TornTail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: torn tail at byte {} (record {} of writer {}: {}); the records before it are intact",
            self.path.display(),
            self.offset,
            self.seq,
            self.writer,
            self.reason
        )
    }
}
