//! The fuzz targets on the stable toolchain, bounded by count rather than time.
//!
//! `cargo +nightly fuzz run` (see `fuzz/README.md`) explores far more, but needs a
//! nightly toolchain. This runs the same bodies (`tickpipe::fuzzing`) in every test
//! run: each committed seed in `fuzz/corpus/<target>/`, then [`MUTATIONS`] mutations of
//! them (bit flips, interesting bytes and integers, insertions, deletions, truncations,
//! duplicated ranges, splices of two seeds) drawn from a fixed-seed generator, so a run
//! is the same on every machine and a failure reproduces. A crashing input is saved
//! under the target directory and named in the failure, ready for `cargo fuzz run`.
//!
//! It also checks that the journal's committed seeds are what today's writer writes,
//! so a format change cannot leave the fuzzer starting from stale files.

use std::{
    fs,
    panic::{self, AssertUnwindSafe},
    path::{Path, PathBuf},
};

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use tickpipe::{
    fuzzing::{Body, TARGETS},
    journal::{
        Adoption, DailyMark, FlushPolicy, Journal, JournalConfig, JournalReader, LimitChange,
        Record, RiskStateChange, SessionKind, SessionMark,
    },
    model::{
        ControlCommand, Direction, ExecKind, ExecReport, FillRecord, InstrumentId, IntentId,
        IntentReason, LimitKey, LimitValue, OrderIntent, Price, Qty, RejectReason, Side, Signal,
        Stamp, StateReason, StrategyId, Tick, TickKind, TradeId, TradingState, UnixNanos,
    },
};

/// Mutated inputs per target, after the seeds.
const MUTATIONS: usize = 3000;
/// Inputs never grow past this (the largest seed, the default config, is about 25 KiB).
const MAX_LEN: usize = 1 << 16;
/// Bytes worth trying in place of any other: the edges of signed and unsigned bytes,
/// and the separators of the text formats.
const BYTES: [u8; 12] = [
    0, 1, 0x7f, 0x80, 0xff, b'\n', b'\r', b' ', b'"', b'=', b'[', b'.',
];
/// Integers worth writing over any others: zero and extremes, the Kite packet lengths
/// (8, 28, 32, 44, 184) and the journal's frame lengths (32 to 96) and header size (64).
const INTS: [u32; 16] = [
    0,
    1,
    8,
    28,
    32,
    44,
    64,
    96,
    184,
    0x7f,
    0x80,
    0xff,
    0x7fff,
    0xffff,
    0x7fff_ffff,
    u32::MAX,
];

fn corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target)
}

/// The committed seeds of `target`, by file name.
fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = corpus_dir(target);
    let mut seeds: Vec<(String, Vec<u8>)> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, fs::read(&path).unwrap())
        })
        .collect();
    seeds.sort();
    seeds
}

/// Runs `target` on its seeds and on [`MUTATIONS`] mutations of them.
fn run(target: &str) {
    let (_, body) = TARGETS
        .into_iter()
        .find(|(name, _)| *name == target)
        .unwrap_or_else(|| panic!("no fuzz target {target}"));
    let seeds = seeds(target);
    assert!(
        seeds.len() >= 3,
        "{target}: {} seeds in {}",
        seeds.len(),
        corpus_dir(target).display()
    );
    for (name, data) in &seeds {
        check(target, body, &format!("seed-{name}"), data);
    }
    // One fixed stream per target, so adding a target changes no other's inputs.
    let stream = target.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(stream);
    for i in 0..MUTATIONS {
        let input = mutate(&mut rng, &seeds);
        check(target, body, &format!("mutation-{i}"), &input);
    }
}

/// Runs `body` on `input`; on a panic, saves the input and fails naming it.
fn check(target: &str, body: Body, what: &str, input: &[u8]) {
    if panic::catch_unwind(AssertUnwindSafe(|| body(input))).is_ok() {
        return;
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-failures");
    fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{target}-{what}"));
    fs::write(&path, input).unwrap();
    panic!(
        "fuzz target {target} failed on {what} (panic above); the input is {}; \
         replay it with `cargo +nightly fuzz run {target} {}`",
        path.display(),
        path.display()
    );
}

/// A seed with one to four mutations applied.
fn mutate(rng: &mut Xoshiro256PlusPlus, seeds: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut data = seeds[rng.random_range(0..seeds.len())].1.clone();
    for _ in 0..rng.random_range(1..=4) {
        let len = data.len();
        let at = rng.random_range(0..=len);
        match rng.random_range(0..9) {
            0 if at < len => data[at] ^= 1 << rng.random_range(0..8),
            1 if at < len => data[at] = BYTES[rng.random_range(0..BYTES.len())],
            2 => {
                let end = (at + rng.random_range(1..=8)).min(len);
                rng.fill(&mut data[at..end]);
            }
            3 => {
                let mut bytes = vec![0u8; rng.random_range(1..=16)];
                rng.fill(&mut bytes[..]);
                data.splice(at..at, bytes);
            }
            4 => {
                let end = (at + rng.random_range(1..=len.max(2) / 2)).min(len);
                data.drain(at..end);
            }
            5 => data.truncate(at),
            6 if at < len => {
                let end = (at + rng.random_range(1..=64)).min(len);
                let chunk = data[at..end].to_vec();
                let to = rng.random_range(0..=len);
                data.splice(to..to, chunk);
            }
            7 => {
                let other = &seeds[rng.random_range(0..seeds.len())].1;
                let from = rng.random_range(0..=other.len());
                data.truncate(at);
                data.extend_from_slice(&other[from..]);
            }
            8 => {
                let value = INTS[rng.random_range(0..INTS.len())];
                let bytes = match rng.random_range(0..4) {
                    0 => value.to_be_bytes().to_vec(),
                    1 => value.to_le_bytes().to_vec(),
                    2 => (value as u16).to_be_bytes().to_vec(),
                    _ => (value as u16).to_le_bytes().to_vec(),
                };
                let end = (at + bytes.len()).min(len);
                data[at..end].copy_from_slice(&bytes[..end - at]);
            }
            _ => {}
        }
        data.truncate(MAX_LEN);
    }
    data
}

#[test]
fn kite_ticker() {
    run("kite_ticker");
}

#[test]
fn truedata() {
    run("truedata");
}

#[test]
fn control_command() {
    run("control_command");
}

#[test]
fn config() {
    run("config");
}

#[test]
fn journal_reader() {
    run("journal_reader");
}

#[test]
fn every_target_has_seeds_and_a_libfuzzer_target() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let manifest = fs::read_to_string(root.join("Cargo.toml")).unwrap();
    for (target, _) in TARGETS {
        assert!(corpus_dir(target).is_dir(), "no seeds for {target}");
        let source = fs::read_to_string(root.join(format!("fuzz_targets/{target}.rs")))
            .unwrap_or_else(|e| panic!("fuzz target {target}: {e}"));
        assert!(
            source.contains(&format!("tickpipe::fuzzing::{target}(data)")),
            "fuzz/fuzz_targets/{target}.rs does not call its body"
        );
        assert!(
            manifest.contains(&format!("name = \"{target}\"")),
            "fuzz/Cargo.toml has no [[bin]] {target}"
        );
    }
}

/// Set to rewrite the journal seeds instead of comparing them.
const WRITE_SEEDS: &str = "TICKPIPE_WRITE_FUZZ_SEEDS";

#[test]
fn journal_seeds_are_what_the_writer_writes() {
    let segment = written_segment();
    let mut end = tickpipe::journal::HEADER_SIZE;
    while let Some(len) = segment.get(end..end + 4) {
        let len = u32::from_le_bytes(len.try_into().unwrap()) as usize;
        if len == 0 {
            break;
        }
        end += len;
    }
    assert!(end > 1000, "only {end} bytes of records");
    let with_flags = |flags: u8, file: &[u8]| [&[flags][..], file].concat();
    // Flag 3 reseals header and frames (see `tickpipe::fuzzing::journal_reader`).
    let wanted = [
        ("segment-every-type", with_flags(3, &segment)),
        ("segment-as-is", with_flags(0, &segment)),
        ("segment-torn", with_flags(3, &segment[..end - 10])),
    ];
    let dir = corpus_dir("journal_reader");
    for (name, bytes) in wanted {
        let path = dir.join(name);
        if std::env::var_os(WRITE_SEEDS).is_some() {
            fs::write(&path, &bytes).unwrap();
            continue;
        }
        let committed = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            committed == bytes,
            "{} is not what the journal writer writes today; refresh it with \
             `{WRITE_SEEDS}=1 cargo test --test fuzz_bounded journal_seeds`",
            path.display()
        );
    }
}

/// A real segment: one writer's 8 KiB segment holding a record of every type (and
/// several control commands), written by the journal writer.
fn written_segment() -> Vec<u8> {
    let dir = std::env::temp_dir().join(format!("tickpipe-fuzz-seed-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    let config = JournalConfig {
        segment_bytes: 8192,
        flush: FlushPolicy::EveryRecord,
        ..JournalConfig::DEFAULT
    };
    let journal = Journal::open(&dir, config).unwrap();
    let mut writer = journal.writer("risk").unwrap();
    for (ts, record) in every_record() {
        writer.append(ts, &record).unwrap();
    }
    drop(writer);
    journal.shutdown().unwrap();
    let reader = JournalReader::open(&dir).unwrap();
    let segments = reader.segments_of("risk");
    assert_eq!(segments.len(), 1);
    let bytes = fs::read(segments[0]).unwrap();
    fs::remove_dir_all(&dir).unwrap();
    assert_eq!(bytes.len(), 8192);
    bytes
}

fn every_record() -> Vec<(UnixNanos, Record)> {
    let ts = |k: u64| UnixNanos(1_795_000_000_000_000_000 + k * 1_000_000);
    let instrument = InstrumentId(3);
    let strategy = StrategyId(1);
    let exec = |kind, reject, k| ExecReport {
        intent: IntentId(7),
        exchange_ts: ts(k),
        ingress: Stamp(0),
        last_price: Price::from_paise(81_235),
        instrument,
        last_qty: Qty::new(50),
        cum_qty: Qty::new(100),
        leaves_qty: Qty::new(50),
        strategy,
        side: Side::Buy,
        kind,
        reject,
        trade: TradeId(11),
    };
    let mut records = vec![
        Record::Session(SessionMark {
            kind: SessionKind::Start,
            config: 0x5eed,
            strategies: 4,
            instruments: 50,
        }),
        Record::Tick(Tick {
            exchange_ts: ts(2),
            ingress: Stamp(0),
            last: Price::from_paise(81_235),
            bid: Price::from_paise(81_230),
            ask: Price::from_paise(81_240),
            instrument,
            volume: 120_000,
            last_qty: 50,
            bid_qty: 700,
            ask_qty: 350,
            kind: TickKind::Trade,
        }),
        Record::Signal(Signal {
            exchange_ts: ts(3),
            ingress: Stamp(0),
            price: Price::from_paise(81_235),
            stop: Price::from_paise(80_425),
            target: Price::ZERO,
            instrument,
            strategy,
            direction: Direction::Long,
            weight_pct: Signal::FULL_WEIGHT,
        }),
        Record::Intent(OrderIntent {
            id: IntentId(7),
            exchange_ts: ts(4),
            ingress: Stamp(0),
            limit: Price::from_paise(81_300),
            qty: Qty::new(150),
            instrument,
            strategy,
            side: Side::Buy,
            reason: IntentReason::Entry,
            reference: Price::from_paise(81_235),
        }),
        Record::Exec(exec(ExecKind::Accepted, RejectReason::None, 5)),
        Record::Exec(exec(ExecKind::PartialFill, RejectReason::None, 6)),
        Record::Exec(exec(ExecKind::Rejected, RejectReason::FreezeQty, 7)),
        Record::Fill(FillRecord {
            intent: IntentId(7),
            exchange_ts: ts(8),
            instrument,
            strategy,
            side: Side::Buy,
            qty: Qty::new(100),
            price: Price::from_paise(81_235),
            reason: IntentReason::Entry,
        }),
        Record::RiskState(RiskStateChange {
            state: TradingState::Reducing,
            previous: TradingState::Active,
            reason: StateReason::Operator,
        }),
        Record::Limit(LimitChange {
            key: LimitKey::MaxExposurePct,
            value: LimitValue(-1),
            previous: LimitValue(i64::MAX),
        }),
        Record::DailyMark(DailyMark {
            instrument,
            mark: Price::from_paise(81_500),
        }),
        Record::Adopt(Adoption {
            instrument,
            broker_net: -150,
            broker_avg: Price::from_paise(81_240),
            book_net: 100,
            book_avg: Price::from_paise(81_235),
        }),
    ];
    records.extend(
        [
            ControlCommand::Status,
            ControlCommand::Pause(strategy),
            ControlCommand::Close {
                instrument,
                qty: Qty::new(25),
            },
            ControlCommand::SetState(TradingState::Halted),
            ControlCommand::SetLimit {
                key: LimitKey::SquareOff,
                value: LimitValue(55_800),
            },
            ControlCommand::News {
                instrument,
                sentiment_milli: -750,
            },
            ControlCommand::FeedStale(true),
        ]
        .map(Record::Control),
    );
    records
        .into_iter()
        .enumerate()
        .map(|(i, r)| (r.exchange_ts().unwrap_or(ts(i as u64 + 1)), r))
        .collect()
}
