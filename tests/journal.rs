//! The journal as the engine and an operator meet it: every record type comes back as
//! written, segments roll, and bad files (cut short, zeroed, flipped bytes, another
//! format version, a missing segment) give clear errors and lose nothing intact.

use std::{
    fs,
    path::{Path, PathBuf},
};

use tickpipe::{
    journal::{
        truncate_torn_tail, verify, Adoption, Corruption, DailyMark, DecodeError, FlushPolicy,
        FrameError, HeaderError, Journal, JournalConfig, JournalError, JournalReader, LimitChange,
        Placement, Record, RiskStateChange, Seq, HEADER_SIZE,
    },
    model::{
        ClientOrderId, ControlCommand, Direction, ExecKind, ExecReport, FillRecord, InstrumentId,
        IntentId, IntentReason, LimitKey, LimitValue, OrderIntent, Price, Qty, RejectReason, Side,
        Signal, Stamp, StateReason, StrategyId, Tick, TickKind, TradeId, TradingState, UnixNanos,
    },
};

/// A fresh directory for one test.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tickpipe-journal-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    dir
}

fn config(segment_bytes: usize) -> JournalConfig {
    JournalConfig {
        segment_bytes,
        flush: FlushPolicy::EveryMs(1),
        ..JournalConfig::DEFAULT
    }
}

const T0: u64 = 1_795_000_000_000_000_000;

/// A signal: 64-byte frames, so record k (from 1) of a segment starts at 64 × k.
fn signal(k: u64) -> Record {
    Record::Signal(Signal {
        exchange_ts: UnixNanos(T0 + k),
        ingress: Stamp(0),
        price: Price::from_paise(245_005 + k as i64),
        stop: Price::from_paise(240_000),
        target: Price::ZERO,
        instrument: InstrumentId((k % 7) as u32),
        strategy: StrategyId(2),
        direction: Direction::Long,
        weight_pct: 100,
    })
}

/// Writes `n` signals with writer `name` into `dir`; returns the records.
fn write_signals(dir: &Path, name: &str, n: u64, segment_bytes: usize) -> Vec<Record> {
    let journal = Journal::open(dir, config(segment_bytes)).unwrap();
    let mut w = journal.writer(name).unwrap();
    let mut out = Vec::new();
    for k in 1..=n {
        let r = signal(k);
        assert_eq!(w.append(UnixNanos(T0 + k), &r).unwrap(), Seq(k));
        out.push(r);
    }
    drop(w);
    journal.shutdown().unwrap();
    out
}

fn only_segment(dir: &Path, name: &str) -> PathBuf {
    let reader = JournalReader::open(dir).unwrap();
    let segments = reader.segments_of(name);
    assert_eq!(segments.len(), 1);
    segments[0].to_owned()
}

fn read_all(dir: &Path) -> (Vec<Record>, Vec<tickpipe::journal::TornTail>) {
    let reader = JournalReader::open(dir).unwrap();
    let mut records = reader.records();
    let got = (&mut records).map(|e| e.unwrap().record).collect();
    (got, records.torn_tails().to_vec())
}

fn every_record() -> Vec<(UnixNanos, Record)> {
    let ts = |k: u64| UnixNanos(T0 + k * 1_000);
    let intent = OrderIntent {
        id: IntentId(41),
        exchange_ts: ts(1),
        ingress: Stamp(0),
        limit: Price::from_paise(245_005),
        qty: Qty::new(75),
        instrument: InstrumentId(12),
        strategy: StrategyId(3),
        side: Side::Sell,
        reason: IntentReason::TrailingStop,
        reference: Price::from_paise(245_120),
    };
    let exec = |kind, reject, k| ExecReport {
        intent: IntentId(41),
        exchange_ts: ts(k),
        ingress: Stamp(0),
        last_price: Price::from_raw(-7),
        instrument: InstrumentId(12),
        last_qty: Qty::new(25),
        cum_qty: Qty::new(50),
        leaves_qty: Qty::new(25),
        strategy: StrategyId(3),
        side: Side::Sell,
        kind,
        reject,
        trade: TradeId(u64::MAX),
    };
    let mut out = vec![
        (ts(1), Record::Intent(intent)),
        (
            ts(2),
            Record::Exec(exec(ExecKind::Accepted, RejectReason::None, 2)),
        ),
        (
            ts(3),
            Record::Exec(exec(ExecKind::PartialFill, RejectReason::None, 3)),
        ),
        (
            ts(4),
            Record::Exec(exec(ExecKind::Rejected, RejectReason::FreezeQty, 4)),
        ),
        (
            ts(5),
            Record::Exec(exec(ExecKind::Cancelled, RejectReason::None, 5)),
        ),
        (
            ts(6),
            Record::Fill(FillRecord {
                intent: IntentId(41),
                exchange_ts: ts(6),
                instrument: InstrumentId(12),
                strategy: StrategyId(3),
                side: Side::Buy,
                qty: Qty::new(u32::MAX),
                price: Price::MAX,
                reason: IntentReason::Emergency,
            }),
        ),
        (
            ts(7),
            Record::RiskState(RiskStateChange {
                state: TradingState::Halted,
                previous: TradingState::Reducing,
                reason: StateReason::DrawdownHalt,
            }),
        ),
        (
            ts(8),
            Record::Limit(LimitChange {
                key: LimitKey::MaxOrderValue,
                value: LimitValue(i64::MAX),
                previous: LimitValue(-1),
            }),
        ),
        (ts(9), signal(9)),
        (
            ts(10),
            Record::DailyMark(DailyMark {
                instrument: InstrumentId(u32::MAX),
                mark: Price::from_paise(1),
            }),
        ),
        (
            ts(11),
            Record::Tick(Tick {
                exchange_ts: ts(11),
                ingress: Stamp(0),
                last: Price::from_paise(100),
                bid: Price::from_paise(99),
                ask: Price::from_paise(101),
                instrument: InstrumentId(5),
                volume: 1,
                last_qty: 2,
                bid_qty: 3,
                ask_qty: 4,
                kind: TickKind::Quote,
            }),
        ),
    ];
    if let (_, Record::Signal(s)) = &mut out[8] {
        s.exchange_ts = ts(9);
    }
    use ControlCommand as C;
    let commands = [
        C::Status,
        C::Positions,
        C::Orders,
        C::Pnl,
        C::Limits,
        C::Latency,
        C::Counters,
        C::Pause(StrategyId(9)),
        C::Resume(StrategyId(u16::MAX)),
        C::Close {
            instrument: InstrumentId(4),
            qty: Qty::new(u32::MAX),
        },
        C::Flatten,
        C::SetState(TradingState::Reducing),
        C::SetLimit {
            key: LimitKey::SquareOff,
            value: LimitValue(55_800),
        },
        C::News {
            instrument: InstrumentId(8),
            sentiment_milli: -1000,
        },
        C::FeedStale(true),
        C::FeedStale(false),
    ];
    for (i, c) in commands.into_iter().enumerate() {
        out.push((ts(20 + i as u64), Record::Control(c)));
    }
    out.push((
        ts(40),
        Record::Adopt(Adoption {
            instrument: InstrumentId(12),
            broker_net: i64::MIN,
            broker_avg: Price::MAX,
            book_net: 7,
            book_avg: Price::from_raw(-1),
        }),
    ));
    out.push((
        ts(41),
        Record::Placed(Placement {
            order: ClientOrderId::new(IntentId::new(9, 3), 255),
            venue_id: u64::MAX,
            limit: Price::from_raw(-1),
            trigger: Price::MAX,
            qty: Qty::new(u32::MAX),
            prior: Qty::new(1),
            instrument: InstrumentId(12),
            slice: 9,
            side: Side::Sell,
        }),
    ));
    out
}

#[test]
fn every_record_type_comes_back_as_written() {
    let dir = temp_dir("round-trip");
    let records = every_record();
    let journal = Journal::open(&dir, config(1 << 16)).unwrap();
    let mut w = journal.writer("risk").unwrap();
    for (ts, r) in &records {
        w.append(*ts, r).unwrap();
    }
    drop(w);
    journal.shutdown().unwrap();

    let reader = JournalReader::open(&dir).unwrap();
    let got: Vec<_> = reader.records().collect::<Result<_, _>>().unwrap();
    assert_eq!(got.len(), records.len());
    for (i, (entry, (ts, record))) in got.iter().zip(&records).enumerate() {
        assert_eq!(entry.writer, "risk");
        assert_eq!(entry.seq, Seq(i as u64 + 1));
        assert_eq!(entry.ts, *ts);
        assert_eq!(entry.record, *record, "record {}", i + 1);
    }
    let report = verify(&dir).unwrap();
    assert_eq!(report.writers.len(), 1);
    assert_eq!(report.writers[0].records, records.len() as u64);
    assert!(report.torn_tails.is_empty());
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_tick_journal_reads_back_as_a_tick_stream() {
    let dir = temp_dir("ticks");
    let journal = Journal::open(&dir, config(8192)).unwrap();
    let mut w = journal.writer("feed").unwrap();
    let ticks: Vec<Tick> = (0..500u32)
        .map(|k| Tick {
            exchange_ts: UnixNanos(T0 + u64::from(k)),
            ingress: Stamp(0),
            last: Price::from_paise(10_000 + i64::from(k)),
            bid: Price::from_paise(9_995),
            ask: Price::from_paise(10_005),
            instrument: InstrumentId(k % 3),
            volume: k * 10,
            last_qty: k,
            bid_qty: 1,
            ask_qty: 2,
            kind: TickKind::Trade,
        })
        .collect();
    for t in &ticks {
        w.append(t.exchange_ts, &Record::Tick(*t)).unwrap();
    }
    drop(w);
    journal.shutdown().unwrap();
    let reader = JournalReader::open(&dir).unwrap();
    let back: Vec<Tick> = reader.ticks("feed").collect::<Result<_, _>>().unwrap();
    assert_eq!(back, ticks);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn segments_roll_and_read_back_in_sequence() {
    let dir = temp_dir("rolling");
    // 8 KiB segments hold 127 signals each: 1000 records take 8 segments.
    let journal = Journal::open(&dir, config(8192)).unwrap();
    let mut a = journal.writer("signal").unwrap();
    let mut b = journal.writer("order").unwrap();
    let mut written = Vec::new();
    for k in 1..=1000 {
        let r = signal(k);
        a.append(UnixNanos(T0 + k), &r).unwrap();
        if k % 10 == 0 {
            b.append(UnixNanos(T0 + k), &r).unwrap();
        }
        written.push(r);
    }
    assert_eq!(a.stats().rolls, 7);
    assert_eq!(a.stats().records, 1000);
    drop((a, b));
    journal.shutdown().unwrap();

    let mut names: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let signal_files: Vec<&String> = names.iter().filter(|n| n.starts_with("signal-")).collect();
    assert_eq!(signal_files.len(), 8, "{names:?}");
    assert_eq!(signal_files[0], "signal-00000000000000000001.tpj");
    assert_eq!(signal_files[1], "signal-00000000000000000128.tpj");
    assert!(!names.iter().any(|n| n.contains("next")), "{names:?}");

    let reader = JournalReader::open(&dir).unwrap();
    assert_eq!(reader.writers().collect::<Vec<_>>(), ["order", "signal"]);
    let back: Vec<_> = reader
        .records_of("signal")
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(back.len(), 1000);
    for (i, e) in back.iter().enumerate() {
        assert_eq!(e.seq, Seq(i as u64 + 1));
        assert_eq!(e.record, written[i]);
    }
    assert_eq!(reader.records_of("order").count(), 100);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_missing_segment_breaks_the_sequence_and_says_so() {
    let dir = temp_dir("gap");
    write_signals(&dir, "signal", 400, 8192);
    fs::remove_file(dir.join("signal-00000000000000000128.tpj")).unwrap();
    let reader = JournalReader::open(&dir).unwrap();
    let results: Vec<_> = reader.records().collect();
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 127);
    let err = results.last().unwrap().as_ref().unwrap_err().to_string();
    assert!(err.contains("signal-00000000000000000255.tpj"), "{err}");
    assert!(err.contains("starts at sequence 255"), "{err}");
    assert!(err.contains("run: tickpipe journal verify"), "{err}");
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_intact_record_out_of_sequence_is_an_error() {
    let dir = temp_dir("out-of-sequence");
    write_signals(&dir, "signal", 10, 8192);
    let path = only_segment(&dir, "signal");
    let mut bytes = fs::read(&path).unwrap();
    // Record 4 claims sequence 5, with its CRC made good again.
    let at = HEADER_SIZE + 3 * 64;
    bytes[at + 8..at + 16].copy_from_slice(&5u64.to_le_bytes());
    let crc = crc32fast::hash(&bytes[at..at + 60]);
    bytes[at + 60..at + 64].copy_from_slice(&crc.to_le_bytes());
    fs::write(&path, &bytes).unwrap();
    let reader = JournalReader::open(&dir).unwrap();
    let results: Vec<_> = reader.records().collect();
    assert_eq!(results.len(), 4);
    match &results[3] {
        Err(JournalError::Corrupt {
            offset,
            seq,
            reason,
            ..
        }) => {
            assert_eq!(*offset, at as u64);
            assert_eq!(*seq, Seq(4));
            assert_eq!(*reason, Corruption::Sequence { found: Seq(5) });
        }
        other => panic!("expected corruption, got {other:?}"),
    }
    fs::remove_dir_all(&dir).unwrap();
}

/// A record type is added by taking the next code, the file format's version unchanged:
/// so a build that meets a code it does not know (a journal of a newer build) must
/// refuse it by name, even as the writer's last record, never read it as something
/// else nor cut it as a torn tail.
#[test]
fn a_record_of_a_type_this_build_does_not_know_is_refused_never_cut() {
    let dir = temp_dir("unknown-type");
    write_signals(&dir, "signal", 10, 8192);
    let path = only_segment(&dir, "signal");
    let mut bytes = fs::read(&path).unwrap();
    // The last record, its type byte a code no build has used yet, its CRC made good.
    let at = HEADER_SIZE + 9 * 64;
    bytes[at + 4] = 200;
    let crc = crc32fast::hash(&bytes[at..at + 60]);
    bytes[at + 60..at + 64].copy_from_slice(&crc.to_le_bytes());
    fs::write(&path, &bytes).unwrap();
    let reader = JournalReader::open(&dir).unwrap();
    let mut records = reader.records();
    for k in 1..=9 {
        assert_eq!(records.next().unwrap().unwrap().seq, Seq(k));
    }
    let err = records.next().unwrap().unwrap_err();
    match &err {
        JournalError::Corrupt { seq, reason, .. } => {
            assert_eq!(*seq, Seq(10));
            assert_eq!(*reason, Corruption::Decode(DecodeError::UnknownType(200)));
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(err.to_string().contains("unknown record type 200"), "{err}");
    assert!(records.torn_tails().is_empty(), "not a torn tail");
    assert!(verify(&dir).is_err());
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_file_cut_mid_record_is_a_torn_tail_and_truncated() {
    let dir = temp_dir("cut");
    let written = write_signals(&dir, "signal", 10, 8192);
    let path = only_segment(&dir, "signal");
    let torn_at = HEADER_SIZE + 9 * 64;
    let file = fs::OpenOptions::new().write(true).open(&path).unwrap();
    file.set_len((torn_at + 20) as u64).unwrap();
    drop(file);

    let (records, torn) = read_all(&dir);
    assert_eq!(records, written[..9]);
    assert_eq!(torn.len(), 1);
    assert_eq!(torn[0].offset, torn_at as u64);
    assert_eq!(torn[0].seq, Seq(10));
    assert_eq!(torn[0].reason, FrameError::Short);
    let shown = torn[0].to_string();
    assert!(
        shown.contains("torn tail at byte 640") && shown.contains("signal-"),
        "{shown}"
    );

    truncate_torn_tail(&torn[0]).unwrap();
    assert_eq!(fs::metadata(&path).unwrap().len(), 8192);
    let (again, torn) = read_all(&dir);
    assert_eq!(again, written[..9]);
    assert!(torn.is_empty(), "{torn:?}");
    let report = verify(&dir).unwrap();
    assert_eq!(report.writers[0].seqs, Some((Seq(1), Seq(9))));
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_zeroed_last_record_is_a_torn_tail_and_truncated() {
    let dir = temp_dir("zeroed");
    let written = write_signals(&dir, "signal", 10, 8192);
    let path = only_segment(&dir, "signal");
    let torn_at = HEADER_SIZE + 9 * 64;
    let mut bytes = fs::read(&path).unwrap();
    // The first 8 bytes (length, type, payload length) reached the disk, the rest of
    // the record did not.
    bytes[torn_at + 8..torn_at + 64].fill(0);
    fs::write(&path, &bytes).unwrap();

    let (records, torn) = read_all(&dir);
    assert_eq!(records, written[..9]);
    assert_eq!(torn.len(), 1);
    assert_eq!(torn[0].offset, torn_at as u64);
    assert_eq!(torn[0].reason, FrameError::Crc);
    truncate_torn_tail(&torn[0]).unwrap();
    let (again, torn) = read_all(&dir);
    assert_eq!(again, written[..9]);
    assert!(torn.is_empty());
    // The cut is exact: the bytes of record 9 are untouched, record 10's are zero.
    let after = fs::read(&path).unwrap();
    assert_eq!(after[..torn_at], bytes[..torn_at]);
    assert!(after[torn_at..].iter().all(|&b| b == 0));
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_flipped_byte_in_the_middle_is_corruption_never_skipped() {
    let dir = temp_dir("flipped");
    write_signals(&dir, "signal", 10, 8192);
    let path = only_segment(&dir, "signal");
    let bad_at = HEADER_SIZE + 4 * 64;
    let mut bytes = fs::read(&path).unwrap();
    bytes[bad_at + 30] ^= 0x04;
    fs::write(&path, &bytes).unwrap();

    let reader = JournalReader::open(&dir).unwrap();
    let mut records = reader.records();
    for k in 1..=4 {
        assert_eq!(records.next().unwrap().unwrap().seq, Seq(k));
    }
    let err = records.next().unwrap().unwrap_err();
    match &err {
        JournalError::Corrupt {
            offset,
            seq,
            reason,
            path: p,
            ..
        } => {
            assert_eq!(*offset, bad_at as u64);
            assert_eq!(*seq, Seq(5));
            assert_eq!(*reason, Corruption::Frame(FrameError::Crc));
            assert_eq!(p, &path);
        }
        other => panic!("expected corruption, got {other:?}"),
    }
    let msg = err.to_string();
    assert!(msg.contains("at byte 320 (sequence 5)"), "{msg}");
    assert!(
        msg.contains(&format!("run: tickpipe journal verify {}", dir.display())),
        "{msg}"
    );
    assert!(records.next().is_none(), "nothing after the corruption");
    assert!(records.torn_tails().is_empty());
    assert!(verify(&dir).is_err());
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_zeroed_record_in_the_middle_is_corruption_not_the_end() {
    let dir = temp_dir("hole");
    write_signals(&dir, "signal", 10, 8192);
    let path = only_segment(&dir, "signal");
    let hole_at = HEADER_SIZE + 2 * 64;
    let mut bytes = fs::read(&path).unwrap();
    bytes[hole_at..hole_at + 64].fill(0);
    fs::write(&path, &bytes).unwrap();
    let reader = JournalReader::open(&dir).unwrap();
    let results: Vec<_> = reader.records().collect();
    assert_eq!(results.len(), 3);
    match &results[2] {
        Err(JournalError::Corrupt { offset, reason, .. }) => {
            assert_eq!(*offset, hole_at as u64);
            assert_eq!(*reason, Corruption::Hole);
        }
        other => panic!("expected corruption, got {other:?}"),
    }
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_flipped_byte_in_an_earlier_segment_is_corruption() {
    let dir = temp_dir("flipped-early");
    write_signals(&dir, "signal", 300, 8192);
    // The last record of the first segment: a bad frame at the end of a segment that has
    // a successor is not a torn tail.
    let path = dir.join("signal-00000000000000000001.tpj");
    let at = HEADER_SIZE + 126 * 64;
    let mut bytes = fs::read(&path).unwrap();
    bytes[at + 40] ^= 0xFF;
    fs::write(&path, &bytes).unwrap();
    let err = verify(&dir).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("signal-00000000000000000001.tpj") && msg.contains("sequence 127"),
        "{msg}"
    );
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn another_format_version_is_refused_with_both_versions_named() {
    let dir = temp_dir("version");
    write_signals(&dir, "signal", 3, 8192);
    let path = only_segment(&dir, "signal");
    let mut bytes = fs::read(&path).unwrap();
    bytes[8..10].copy_from_slice(&2u16.to_le_bytes());
    fs::write(&path, &bytes).unwrap();
    let err = JournalReader::open(&dir).unwrap_err();
    match &err {
        JournalError::Header { path: p, error } => {
            assert_eq!(p, &path);
            assert_eq!(*error, HeaderError::Version { found: 2 });
        }
        other => panic!("expected a header error, got {other:?}"),
    }
    let msg = err.to_string();
    assert!(
        msg.contains(&path.display().to_string())
            && msg.contains("journal format version 2")
            && msg.contains("this build reads version 1"),
        "{msg}"
    );
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_writer_name_is_checked_and_never_reused() {
    let dir = temp_dir("names");
    let journal = Journal::open(&dir, config(8192)).unwrap();
    assert!(matches!(
        journal.writer("Risk-1"),
        Err(JournalError::BadWriterName(_))
    ));
    let w = journal.writer("risk").unwrap();
    drop(w);
    assert!(matches!(
        journal.writer("risk"),
        Err(JournalError::WriterExists { .. })
    ));
    journal.shutdown().unwrap();
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn every_record_policy_makes_records_durable_without_the_writer_waiting() {
    let dir = temp_dir("durable");
    let journal = Journal::open(
        &dir,
        JournalConfig {
            segment_bytes: 8192,
            flush: FlushPolicy::EveryRecord,
            ..JournalConfig::DEFAULT
        },
    )
    .unwrap();
    let mut w = journal.writer("order").unwrap();
    let mut last = Seq(0);
    for k in 1..=300 {
        last = w.append(UnixNanos(T0 + k), &signal(k)).unwrap();
    }
    // Liveness, not speed: the flusher gets there eventually, however slow the host (a
    // flusher that never does hangs the test). The pause only spaces the polls out.
    while w.durable_seq() < last {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    drop(w);
    journal.shutdown().unwrap();
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn flush_policies_parse_from_their_config_spelling() {
    assert_eq!("never".parse(), Ok(FlushPolicy::Never));
    assert_eq!("every_record".parse(), Ok(FlushPolicy::EveryRecord));
    assert_eq!("every_ms = 25".parse(), Ok(FlushPolicy::EveryMs(25)));
    assert_eq!("every_ms=1".parse(), Ok(FlushPolicy::EveryMs(1)));
    assert!("every_ms=0".parse::<FlushPolicy>().is_err());
    assert!("sometimes".parse::<FlushPolicy>().is_err());
    assert_eq!(FlushPolicy::EveryMs(5).to_string(), "every_ms=5");
}

/// With `segments_ahead = 3` the flusher prepares two more segments beyond the one made
/// with the writer; once they are offered, the writer rolls through all three without
/// waiting, however late the flusher comes afterwards. The flusher follows a writer that
/// rolled several times between two of its passes, names each segment by its first
/// sequence, and removes the segments prepared and never entered at the end.
#[test]
fn a_writer_rolls_through_the_segments_prepared_ahead_without_waiting() {
    let dir = temp_dir("ahead");
    let journal = Journal::open(
        &dir,
        JournalConfig {
            segment_bytes: 8192,
            flush: FlushPolicy::Never,
            segments_ahead: 3,
        },
    )
    .unwrap();
    let mut w = journal.writer("signal").unwrap();
    // Liveness, not speed: the flusher gets there however slow the host (one that never
    // prepares the rest of the queue hangs the test). The pause only spaces the polls.
    while w.segments_ready() < 3 {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    assert_eq!(w.segments_ready(), 3, "never more than segments_ahead");
    assert!(w.next_segment_ready());
    // 127 signals fill an 8 KiB segment: 4 × 127 take the writer through three rolls,
    // at full speed, well inside one of the flusher's passes on most hosts.
    let n = 4 * 127;
    let mut written = Vec::new();
    for k in 1..=n {
        let r = signal(k);
        w.append(UnixNanos(T0 + k), &r).unwrap();
        written.push(r);
    }
    assert_eq!(w.stats().rolls, 3);
    assert_eq!(w.stats().roll_waits, 0);
    drop(w);
    journal.shutdown().unwrap();

    let mut names: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [1, 128, 255, 382].map(|first| format!("signal-{first:020}.tpj")),
        "named by first sequence; the prepared ones never entered are gone"
    );
    let (back, torn) = read_all(&dir);
    assert!(torn.is_empty());
    assert_eq!(back, written);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn segments_ahead_out_of_range_is_refused() {
    let dir = temp_dir("ahead-bad");
    for ahead in [0, JournalConfig::MAX_SEGMENTS_AHEAD + 1] {
        let config = JournalConfig {
            segments_ahead: ahead,
            ..JournalConfig::DEFAULT
        };
        let e = Journal::open(&dir, config).unwrap_err();
        assert!(
            e.to_string().contains("segments_ahead must be 1 to 16"),
            "{e}"
        );
    }
    assert!(!dir.exists(), "refused before anything is made");
}
