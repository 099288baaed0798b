//! Round trips and corruption of tick files.
//!
//! Invariants:
//! - a recorded synthetic slice replays to the identical instrument table and events;
//! - each class of corruption gives its own error with the byte offset where it starts;
//! - whatever bytes are flipped or cut, the reader never panics and either fails or
//!   yields only events with a known instrument in non-decreasing time; a single flipped
//!   byte is always caught.

use std::{
    path::{Path, PathBuf},
    sync::atomic::{AtomicU64, Ordering},
};

use proptest::prelude::*;

use super::{format, ReplaySource, TickFileWriter};
use crate::{
    feed::{FeedError, MarketSource, SourcePoll, SyntheticConfig, SyntheticSession},
    model::{InstrumentTable, MarketEvent},
};

/// A file in the temp directory, removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(tag: &str) -> TempFile {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        TempFile(std::env::temp_dir().join(format!(
            "tickpipe-replay-{}-{tag}-{n}.ticks",
            std::process::id()
        )))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The first `count` events of the default synthetic day (all of it up to `end` when
/// `count` is `usize::MAX`), with its table.
fn synthetic_slice(end: &str, count: usize) -> (InstrumentTable, Vec<MarketEvent>) {
    let mut session = SyntheticSession::new(&SyntheticConfig {
        session_end: end.into(),
        ..SyntheticConfig::default()
    })
    .unwrap();
    let table = session.instruments().clone();
    let mut events = Vec::new();
    while events.len() < count {
        match session.poll_event().unwrap() {
            SourcePoll::Event(e) => events.push(e),
            _ => break,
        }
    }
    (table, events)
}

fn record(path: &Path, table: &InstrumentTable, events: &[MarketEvent]) -> u64 {
    let mut w = TickFileWriter::create(path, table).unwrap();
    for e in events {
        w.write(e).unwrap();
    }
    w.finish().unwrap()
}

/// Replays `path` to the end; the first error, from opening or from a record.
fn replay(path: &Path) -> Result<(InstrumentTable, Vec<MarketEvent>), FeedError> {
    let (table, mut source) = ReplaySource::open(path)?;
    let mut events = Vec::new();
    loop {
        match source.poll_event()? {
            SourcePoll::Event(e) => events.push(e),
            SourcePoll::End => break,
            SourcePoll::Pending => panic!("a file is never pending"),
        }
    }
    // Fused: the end stays the end.
    assert_eq!(source.poll_event().unwrap(), SourcePoll::End);
    Ok((table, events))
}

fn replay_bytes(bytes: &[u8]) -> Result<(InstrumentTable, Vec<MarketEvent>), FeedError> {
    let file = TempFile::new("bytes");
    std::fs::write(file.path(), bytes).unwrap();
    replay(file.path())
}

/// A small valid file: its bytes, table, events and the offset of the first record.
fn small_file() -> (Vec<u8>, InstrumentTable, Vec<MarketEvent>, usize) {
    let (table, events) = synthetic_slice("09:16", 200);
    let file = TempFile::new("small");
    record(file.path(), &table, &events);
    let bytes = std::fs::read(file.path()).unwrap();
    let start = format::encode_header(&table).unwrap().len();
    (bytes, table, events, start)
}

fn reseal(bytes: &mut [u8], record_at: usize) {
    let crc = crc32fast::hash(&bytes[record_at..record_at + 60]);
    bytes[record_at + 60..record_at + 64].copy_from_slice(&crc.to_le_bytes());
}

#[test]
fn a_synthetic_slice_replays_identically() {
    let (table, events) = synthetic_slice("09:30", usize::MAX);
    assert!(events.len() > 50_000, "{}", events.len());
    assert!(events.iter().any(|e| matches!(e, MarketEvent::News(_))) || events.len() > 1);
    let file = TempFile::new("roundtrip");
    assert_eq!(record(file.path(), &table, &events), events.len() as u64);
    let size = std::fs::metadata(file.path()).unwrap().len();
    let header = format::encode_header(&table).unwrap().len() as u64;
    assert_eq!(size, header + 64 * (events.len() as u64 + 1));

    let (back, replayed) = replay(file.path()).unwrap();
    assert_eq!(back.len(), table.len());
    assert_eq!(back.sectors(), table.sectors());
    for (a, b) in table.iter().zip(back.iter()) {
        assert_eq!(a, b);
    }
    assert_eq!(replayed, events);
}

#[test]
fn news_round_trips() {
    // A session dense in news, so the slice holds some.
    let mut session = SyntheticSession::new(&SyntheticConfig {
        session_end: "09:45".into(),
        news_per_hour: 120.0,
        tick_rate_scale: 0.1,
        ..SyntheticConfig::default()
    })
    .unwrap();
    let table = session.instruments().clone();
    let mut events = Vec::new();
    while let SourcePoll::Event(e) = session.poll_event().unwrap() {
        events.push(e);
    }
    let news = events
        .iter()
        .filter(|e| matches!(e, MarketEvent::News(_)))
        .count();
    assert!(news >= 10, "{news}");
    let file = TempFile::new("news");
    record(file.path(), &table, &events);
    assert_eq!(replay(file.path()).unwrap().1, events);
}

#[test]
fn every_corruption_class_names_its_offset() {
    let (bytes, table, events, start) = small_file();
    let record_at = |k: usize| start + 64 * k;
    let end_at = record_at(events.len());
    assert_eq!(bytes.len(), end_at + 64);
    assert_eq!(replay_bytes(&bytes).unwrap().1, events);

    // Bad magic.
    let mut b = bytes.clone();
    b[3] = b'X';
    assert!(matches!(
        replay_bytes(&b),
        Err(FeedError::BadMagic { offset: 0 })
    ));
    assert!(matches!(
        replay_bytes(b"hello"),
        Err(FeedError::BadMagic { offset: 0 })
    ));

    // Unsupported version (checked before the header CRC, so it is named as such).
    let mut b = bytes.clone();
    b[8] = 2;
    let e = replay_bytes(&b).unwrap_err();
    assert!(
        matches!(
            e,
            FeedError::UnsupportedVersion {
                offset: 8,
                version: 2,
                ..
            }
        ),
        "{e}"
    );

    // Truncated header: inside the fixed part, then inside the definitions.
    let e = replay_bytes(&bytes[..20]).unwrap_err();
    assert!(
        matches!(e, FeedError::TruncatedHeader { offset: 20, .. }),
        "{e}"
    );
    assert!(matches!(
        replay_bytes(&bytes[..5]),
        Err(FeedError::TruncatedHeader { offset: 5, .. })
    ));
    let e = replay_bytes(&bytes[..start - 10]).unwrap_err();
    assert!(
        matches!(e, FeedError::TruncatedHeader { offset, .. } if offset == (start - 10) as u64),
        "{e}"
    );

    // Header and definitions CRC.
    let mut b = bytes.clone();
    b[13] ^= 0x40;
    assert!(matches!(
        replay_bytes(&b),
        Err(FeedError::CrcMismatch { offset: 0, .. })
    ));
    let mut b = bytes.clone();
    b[40] ^= 0x01;
    assert!(matches!(
        replay_bytes(&b),
        Err(FeedError::CrcMismatch { offset: 28, .. })
    ));

    // A definition out of range, with a valid CRC: the first instrument's exchange code.
    let mut b = bytes.clone();
    let sectors_len: usize = table.sectors().iter().map(|s| 2 + s.len()).sum();
    let exchange_at = 28 + sectors_len + 2 + table.get(crate::model::InstrumentId(0)).symbol.len();
    b[exchange_at] = 9;
    let defs_len = start - 32;
    let crc = crc32fast::hash(&b[28..28 + defs_len]);
    b[28 + defs_len..start].copy_from_slice(&crc.to_le_bytes());
    let e = replay_bytes(&b).unwrap_err();
    assert!(
        matches!(e, FeedError::BadHeader { offset, .. } if offset == exchange_at as u64),
        "{e}"
    );

    // Truncated record.
    let cut = record_at(2) + 30;
    let e = replay_bytes(&bytes[..cut]).unwrap_err();
    assert!(
        matches!(e, FeedError::TruncatedRecord { offset, got: 30, size: 64 } if offset == record_at(2) as u64),
        "{e}"
    );
    assert!(
        e.to_string()
            .contains(&format!("byte offset {}", record_at(2))),
        "{e}"
    );

    // Record CRC.
    let mut b = bytes.clone();
    b[record_at(5) + 20] ^= 0x08;
    let e = replay_bytes(&b).unwrap_err();
    assert!(
        matches!(e, FeedError::CrcMismatch { offset, .. } if offset == record_at(5) as u64),
        "{e}"
    );

    // Unknown record kind.
    let mut b = bytes.clone();
    b[record_at(7)] = 42;
    reseal(&mut b, record_at(7));
    let e = replay_bytes(&b).unwrap_err();
    assert!(
        matches!(e, FeedError::UnknownRecordKind { offset, kind: 42 } if offset == record_at(7) as u64),
        "{e}"
    );

    // Instrument out of range.
    let mut b = bytes.clone();
    b[record_at(9) + 4..record_at(9) + 8].copy_from_slice(&9999u32.to_le_bytes());
    reseal(&mut b, record_at(9));
    let e = replay_bytes(&b).unwrap_err();
    assert!(
        matches!(e, FeedError::InstrumentOutOfRange { offset, index: 9999, .. } if offset == record_at(9) as u64),
        "{e}"
    );

    // Time going backwards.
    let mut b = bytes.clone();
    b[record_at(11) + 8..record_at(11) + 16].copy_from_slice(&1u64.to_le_bytes());
    reseal(&mut b, record_at(11));
    let e = replay_bytes(&b).unwrap_err();
    assert!(
        matches!(e, FeedError::TimeBackwards { offset, ts_nanos: 1, .. } if offset == record_at(11) as u64),
        "{e}"
    );

    // No end record, data after it, a wrong count in it.
    let e = replay_bytes(&bytes[..end_at]).unwrap_err();
    assert!(
        matches!(e, FeedError::MissingEnd { offset } if offset == end_at as u64),
        "{e}"
    );
    let mut b = bytes.clone();
    b.push(0);
    let e = replay_bytes(&b).unwrap_err();
    assert!(
        matches!(e, FeedError::TrailingData { offset } if offset == (end_at + 64) as u64),
        "{e}"
    );
    let mut b = bytes.clone();
    b[end_at + 8..end_at + 16].copy_from_slice(&7u64.to_le_bytes());
    reseal(&mut b, end_at);
    let e = replay_bytes(&b).unwrap_err();
    assert!(
        matches!(e, FeedError::CountMismatch { stated: 7, .. }),
        "{e}"
    );

    // A missing file.
    let e = ReplaySource::open("no/such/file.ticks".as_ref()).unwrap_err();
    assert!(e.to_string().contains("no/such/file.ticks"), "{e}");
}

#[test]
fn the_writer_refuses_what_the_reader_would_reject() {
    let (table, events) = synthetic_slice("09:16", 10);
    let file = TempFile::new("refuse");
    let mut w = TickFileWriter::create(file.path(), &table).unwrap();
    w.write(&events[5]).unwrap();
    assert!(matches!(
        w.write(&events[0]),
        Err(FeedError::Unrecordable(_))
    ));
    let mut foreign = events[6];
    if let MarketEvent::Tick(t) = &mut foreign {
        t.instrument = crate::model::InstrumentId(table.len() as u32);
    }
    assert!(matches!(w.write(&foreign), Err(FeedError::Unrecordable(_))));
    assert_eq!(w.records(), 1);
    assert_eq!(w.finish().unwrap(), 1);
}

/// Every outcome of a corrupted file is an error or a stream of valid events.
fn check_valid_or_error(bytes: &[u8]) {
    if let Ok((table, events)) = replay_bytes(bytes) {
        let mut last = 0;
        for e in events {
            let instrument = e.instrument().expect("a tick file holds market data only");
            assert!(instrument.index() < table.len());
            assert!(e.exchange_ts().0 >= last);
            last = e.exchange_ts().0;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn any_single_flipped_byte_is_caught(at in any::<prop::sample::Index>(), mask in 1u8..=255) {
        let (mut bytes, ..) = small_file_cached();
        let i = at.index(bytes.len());
        bytes[i] ^= mask;
        prop_assert!(replay_bytes(&bytes).is_err(), "flip at {i} went unnoticed");
    }

    #[test]
    fn random_damage_never_panics(
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let (mut bytes, ..) = small_file_cached();
        for (at, mask) in flips {
            let i = at.index(bytes.len());
            bytes[i] ^= mask;
        }
        if truncate {
            bytes.truncate(cut.index(bytes.len()));
        }
        check_valid_or_error(&bytes);
    }
}

/// [`small_file`] built once for the property tests.
fn small_file_cached() -> (Vec<u8>, InstrumentTable, Vec<MarketEvent>, usize) {
    static CACHE: std::sync::OnceLock<(Vec<u8>, InstrumentTable, Vec<MarketEvent>, usize)> =
        std::sync::OnceLock::new();
    CACHE.get_or_init(small_file).clone()
}
