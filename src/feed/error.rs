//! Why a market source or its setup failed.

use std::{io, path::PathBuf};

use thiserror::Error;

use super::{instruments::MasterError, universe::UniverseError};

/// A failure of a market source: its configuration, its universe file, or the bytes of a
/// recorded tick file.
///
/// Every variant about file bytes carries the byte `offset` where the problem starts, so
/// a user can look at the file with `xxd -s OFFSET`. All of them are fatal for the source:
/// the feed stage stops and reports the error text.
#[derive(Debug, Error)]
pub enum FeedError {
    /// The configuration of the source is invalid (bad date, empty session, …).
    #[error("invalid feed configuration: {0}")]
    Config(String),
    /// A live source's connection failed for good (for the Kite Ticker: the day's
    /// reconnection attempts are spent); the text names the endpoint and the last error.
    #[error("live feed lost: {0}")]
    Link(String),
    /// The instrument universe could not be loaded.
    #[error(transparent)]
    Universe(#[from] UniverseError),
    /// The instrument master (or its freeze-limit file) could not be loaded.
    #[error(transparent)]
    Master(#[from] MasterError),
    /// A file could not be opened, read or written.
    #[error("{}: {source} (at byte offset {offset})", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Where in the file the operation failed.
        offset: u64,
        /// The operating system's error.
        source: io::Error,
    },
    /// The file does not start with the tick-file magic: it is not a tick file.
    #[error("not a tick file: bad magic at byte offset {offset}")]
    BadMagic {
        /// Always 0.
        offset: u64,
    },
    /// The file was written by a format version this build does not read.
    #[error("unsupported tick file version {version} at byte offset {offset} (this build reads version {supported})")]
    UnsupportedVersion {
        /// Offset of the version field.
        offset: u64,
        /// The version found.
        version: u16,
        /// The version this build reads.
        supported: u16,
    },
    /// The file ends inside its header or instrument definitions.
    #[error("truncated tick file header: {what} needs bytes up to offset {needed}, file ends at byte offset {offset}")]
    TruncatedHeader {
        /// Where the file ends.
        offset: u64,
        /// What was being read.
        what: &'static str,
        /// The offset the read needed to reach.
        needed: u64,
    },
    /// The header or instrument definitions hold a value that makes no sense.
    #[error("bad tick file header at byte offset {offset}: {reason}")]
    BadHeader {
        /// Offset of the offending field.
        offset: u64,
        /// What is wrong.
        reason: &'static str,
    },
    /// The file ends inside a record (a torn write).
    #[error("truncated record at byte offset {offset}: {got} of {size} bytes")]
    TruncatedRecord {
        /// Offset of the record.
        offset: u64,
        /// Bytes present.
        got: usize,
        /// Bytes a record has.
        size: usize,
    },
    /// The file ends without the end record that a finished recording carries.
    #[error(
        "tick file ends at byte offset {offset} without its end record (recording interrupted?)"
    )]
    MissingEnd {
        /// Where the file ends.
        offset: u64,
    },
    /// Bytes follow the end record.
    #[error("unexpected data after the end record at byte offset {offset}")]
    TrailingData {
        /// Offset of the first extra byte.
        offset: u64,
    },
    /// A checksum does not match the bytes it covers.
    #[error(
        "CRC mismatch at byte offset {offset}: stored {stored:#010x}, computed {computed:#010x}"
    )]
    CrcMismatch {
        /// Offset of the checked block (record or header section).
        offset: u64,
        /// The CRC in the file.
        stored: u32,
        /// The CRC of the bytes.
        computed: u32,
    },
    /// A record has a kind byte this build does not know.
    #[error("unknown record kind {kind} at byte offset {offset}")]
    UnknownRecordKind {
        /// Offset of the record.
        offset: u64,
        /// The kind byte.
        kind: u8,
    },
    /// A record names an instrument the file's table does not have.
    #[error("instrument index {index} out of range (table has {count}) at byte offset {offset}")]
    InstrumentOutOfRange {
        /// Offset of the record.
        offset: u64,
        /// The index found.
        index: u32,
        /// Instruments in the table.
        count: u32,
    },
    /// A record is older than the one before it.
    #[error("market time goes backwards at byte offset {offset}: {ts_nanos} ns after {previous_nanos} ns")]
    TimeBackwards {
        /// Offset of the record.
        offset: u64,
        /// The previous record's market time.
        previous_nanos: u64,
        /// This record's market time.
        ts_nanos: u64,
    },
    /// The end record's count disagrees with the records read.
    #[error("end record at byte offset {offset} counts {stated} records, file has {found}")]
    CountMismatch {
        /// Offset of the end record.
        offset: u64,
        /// Count stated by the end record.
        stated: u64,
        /// Records actually read.
        found: u64,
    },
    /// An event cannot be written (instrument not in the file's table, time going back).
    #[error("cannot record event: {0}")]
    Unrecordable(&'static str),
}

impl FeedError {
    /// An I/O error on `path` at `offset`.
    pub fn io(path: impl Into<PathBuf>, offset: u64, source: io::Error) -> FeedError {
        FeedError::Io {
            path: path.into(),
            offset,
            source,
        }
    }
}
