//! The journal: memory-mapped, append-only, segmented files, one series per writer.
//!
//! Each stage that journals owns one [`JournalWriter`], so no writer ever locks. An
//! append stores one frame (length, type, sequence, market time, payload, CRC-32) into a
//! pre-faulted mapped page and publishes the new end with a Release store: no
//! allocation, lock, system call or formatting. A background thread (the flusher, owned
//! by [`Journal`]) keeps each writer's next segments prepared ahead of need
//! ([`JournalConfig::segments_ahead`]) and `msync`s on the [`FlushPolicy`]. [`JournalReader`] reads a directory back, checking every record;
//! a torn tail is reported and can be cut ([`truncate_torn_tail`]), corruption in the
//! middle is an error, never skipped.
//!
//! ```text
//! stage thread ── append ──▶ mapped segment (page cache) ◀── msync ── flusher thread
//!                 (store + Release)            ▲                     (Acquire, prepare next,
//!                                              └── ready queue ─────  name used segments)
//! ```
//!
//! | file | holds |
//! | --- | --- |
//! | `format.rs` | the file format: segment header, record frame, CRC, [`Seq`], [`RecordType`] |
//! | `record.rs` | [`Record`] and its typed payloads, encoded field by field, little-endian |
//! | `segment.rs` | one mapped, pre-allocated, pre-faulted segment file |
//! | `shared.rs` | what a writer shares with the flusher: published position, the queue of prepared segments |
//! | `tail.rs` | the tail copy: the records of the segment a writer is filling, made durable without `msync`ing that segment |
//! | `health.rs` | whether the journal as a whole still keeps the record (the flusher's first failure) |
//! | `writer.rs` | [`JournalWriter`], the per-stage appender with segment rolling |
//! | `flusher.rs` | [`Journal`] (the flusher thread), [`JournalConfig`], [`FlushPolicy`] |
//! | `reader.rs` | [`JournalReader`]: iteration, torn-tail and corruption detection, truncation |
//! | `verify.rs` | [`verify()`]: check a whole directory and sum it up |
//! | `tap.rs` | [`JournalTap`]: a stage's writer, on or off, failures counted; checks records made again when a day resumes |
//! | `resume.rs` | [`DayJournal`]: a day's journal read back whole to resume the day |
//! | `manifest.rs` | [`Manifest`]: the strategy and instrument names a run's records number |
//! | `settings.rs` | [`JournalSettings`]: the `[journal]` config section, the run's directory |
//! | `error.rs` | [`AppendError`], [`JournalError`], [`TornTail`] |
//!
//! Segment files are `DIR/WRITER-FIRSTSEQ.tpj` (the sequence zero-padded to 20 digits,
//! so names sort), and `DIR/WRITER-next-N.tpj` for those prepared ahead. One directory
//! per trading day: [`day_dir`].
//!
//! # Using it
//!
//! ```no_run
//! use tickpipe::journal::{day_dir, Journal, JournalConfig, JournalReader, Record};
//! use tickpipe::model::{
//!     Date, Direction, InstrumentId, Price, Signal, Stamp, StrategyId, TimeOfDay, UnixNanos,
//! };
//!
//! let dir = day_dir("var/journal".as_ref(), Date::new(2026, 11, 25));
//! let journal = Journal::open(&dir, JournalConfig::default())?;
//! let mut signals = journal.writer("signal")?; // move it to the stage's thread
//! let s = Signal {
//!     exchange_ts: UnixNanos::from_ist(Date::new(2026, 11, 25), TimeOfDay::hm(9, 20)),
//!     ingress: Stamp(0),
//!     price: Price::from_paise(245_005),
//!     stop: Price::from_paise(243_000),
//!     target: Price::ZERO,
//!     instrument: InstrumentId(3),
//!     strategy: StrategyId(0),
//!     direction: Direction::Long,
//!     weight_pct: Signal::FULL_WEIGHT,
//! };
//! signals.append(s.exchange_ts, &Record::Signal(s))?;
//!
//! // Later, or in another process:
//! let reader = JournalReader::open(&dir)?;
//! let mut records = reader.records();
//! for entry in &mut records {
//!     let entry = entry?; // corruption in the middle ends here, with file and offset
//!     println!("{} {} {:?}", entry.writer, entry.seq, entry.record);
//! }
//! for torn in records.torn_tails() {
//!     eprintln!("{torn}");
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

mod error;
// `unsafe` (with the three below): reading the bytes a writer published, for the tail
// copy.
#[allow(unsafe_code)]
mod flusher;
pub(crate) mod format;
mod health;
mod manifest;
mod reader;
mod record;
mod resume;
mod settings;
mod tap;
// The other files with `unsafe`: stores into the mapping and the ready queue's pointers.
#[allow(unsafe_code)]
mod segment;
#[allow(unsafe_code)]
mod shared;
mod tail;
mod verify;
#[allow(unsafe_code)]
mod writer;

use std::path::{Path, PathBuf};

pub use error::{AppendError, Corruption, JournalError, TornTail};
pub use flusher::{FlushPolicy, Journal, JournalConfig};
pub use format::{
    frame_len, FrameError, HeaderError, RecordType, Seq, FORMAT_VERSION, HEADER_SIZE, MAX_FRAME,
};
pub use manifest::{Manifest, MANIFEST_FILE, MANIFEST_FORMAT};
pub(crate) use reader::named_first_seq;
pub use reader::{truncate_torn_tail, Entry, JournalReader, Records, Ticks};
pub use record::{
    payload_len, Adoption, DailyMark, DecodeError, LimitChange, Placement, Record, RiskStateChange,
    SessionKind, SessionMark,
};
pub use resume::{DayJournal, ENGINE_WRITER};
pub use settings::JournalSettings;
pub use tap::JournalTap;
pub use verify::{verify, VerifyReport, WriterSummary};
pub use writer::{JournalWriter, WriterStats};

use crate::model::Date;

/// The journal directory of one trading day under `root`: `root/YYYY-MM-DD`.
pub fn day_dir(root: &Path, day: Date) -> PathBuf {
    root.join(day.to_string())
}
