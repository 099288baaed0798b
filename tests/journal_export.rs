//! The offline journal commands on a hand-built journal, through the real binary:
//! `journal export --sqlite` (read back with rusqlite), `journal archive` and
//! `report --journal` with its SVG plots.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use rusqlite::Connection;
use tickpipe::{
    engine::{EngineConfig, DEFAULT_TOML},
    journal::{FlushPolicy, Journal, JournalConfig, Record, HEADER_SIZE},
    model::{
        Date, Direction, ExecKind, ExecReport, FillRecord, InstrumentId, IntentId, IntentReason,
        OrderIntent, Price, Qty, RejectReason, Side, Signal, Stamp, StrategyId, TimeOfDay, TradeId,
        UnixNanos,
    },
};

fn tickpipe() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tickpipe"))
}

/// Runs the binary; `(success, stdout, stderr)`.
fn run(args: &[&std::ffi::OsStr]) -> (bool, String, String) {
    let out = tickpipe().args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

macro_rules! args {
    ($($a:expr),* $(,)?) => { &[$(std::ffi::OsStr::new($a)),*] };
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "tickpipe-journal-export-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn at(h: u32, m: u32) -> UnixNanos {
    UnixNanos::from_ist(Date::new(2026, 11, 25), TimeOfDay::hm(h, m))
}

fn paise(p: i64) -> Price {
    Price::from_paise(p)
}

/// One order: `(intent, strategy, instrument, side, qty, fill price in paise,
/// reference in paise (0: none), reason, time)`.
type Order = (u64, u16, u32, Side, u32, i64, i64, IntentReason, (u32, u32));

/// Three round trips on 2026-11-25, fills booked by writer `risk`, intents by `risk`,
/// execution reports by `order`, plus an order of strategy 1 that was rejected:
///
/// | strategy | instrument | trade | gross |
/// | --- | --- | --- | --- |
/// | 0 | 1 | long 10: 100.00 → 103.25 | +32.50 |
/// | 1 | 2 | short 5: 200.10 → 201.37 | −6.35 |
/// | 0 | 1 | long 4: 50.05 → 50.00 | −0.20 |
const ORDERS: [Order; 6] = [
    (
        1,
        0,
        1,
        Side::Buy,
        10,
        10_000,
        9_990,
        IntentReason::Entry,
        (9, 20),
    ),
    (
        2,
        0,
        1,
        Side::Sell,
        10,
        10_325,
        10_330,
        IntentReason::Exit,
        (9, 40),
    ),
    (
        3,
        1,
        2,
        Side::Sell,
        5,
        20_010,
        20_000,
        IntentReason::Entry,
        (10, 0),
    ),
    (
        4,
        1,
        2,
        Side::Buy,
        5,
        20_137,
        20_140,
        IntentReason::StopLoss,
        (10, 30),
    ),
    (
        5,
        0,
        1,
        Side::Buy,
        4,
        5_005,
        0,
        IntentReason::Entry,
        (11, 0),
    ),
    (
        6,
        0,
        1,
        Side::Sell,
        4,
        5_000,
        0,
        IntentReason::Exit,
        (11, 15),
    ),
];

fn trading_journal(dir: &Path) {
    let journal = Journal::open(
        dir,
        JournalConfig {
            segment_bytes: 8192,
            flush: FlushPolicy::EveryMs(1),
            ..JournalConfig::DEFAULT
        },
    )
    .unwrap();
    let mut risk = journal.writer("risk").unwrap();
    let mut order = journal.writer("order").unwrap();
    let intent =
        |id: u64, strategy: u16, instrument: u32, side, qty, reference, reason, ts| OrderIntent {
            id: IntentId::new(id, 0),
            exchange_ts: ts,
            ingress: Stamp(0),
            limit: Price::ZERO,
            qty: Qty::new(qty),
            instrument: InstrumentId(instrument),
            strategy: StrategyId(strategy),
            side,
            reason,
            reference: paise(reference),
        };
    let exec = |i: &OrderIntent, kind, price, reject| ExecReport {
        intent: i.id,
        exchange_ts: i.exchange_ts,
        ingress: Stamp(0),
        last_price: price,
        instrument: i.instrument,
        last_qty: if kind == ExecKind::Filled {
            i.qty
        } else {
            Qty::ZERO
        },
        cum_qty: if kind == ExecKind::Filled {
            i.qty
        } else {
            Qty::ZERO
        },
        leaves_qty: Qty::ZERO,
        strategy: i.strategy,
        side: i.side,
        kind,
        reject,
        trade: TradeId(i.id.sequence()),
    };
    for (id, strategy, instrument, side, qty, price, reference, reason, (h, m)) in ORDERS {
        let ts = at(h, m);
        let i = intent(id, strategy, instrument, side, qty, reference, reason, ts);
        risk.append(ts, &Record::Intent(i)).unwrap();
        order
            .append(
                ts,
                &Record::Exec(exec(&i, ExecKind::Filled, paise(price), RejectReason::None)),
            )
            .unwrap();
        let f = FillRecord {
            intent: i.id,
            exchange_ts: ts,
            instrument: i.instrument,
            strategy: i.strategy,
            side,
            qty: Qty::new(qty),
            price: paise(price),
            reason,
        };
        risk.append(ts, &Record::Fill(f)).unwrap();
    }
    let ts = at(12, 0);
    let rejected = intent(7, 1, 2, Side::Buy, 7, 20_000, IntentReason::Entry, ts);
    risk.append(ts, &Record::Intent(rejected)).unwrap();
    order
        .append(
            ts,
            &Record::Exec(exec(
                &rejected,
                ExecKind::Rejected,
                Price::ZERO,
                RejectReason::NoQuote,
            )),
        )
        .unwrap();
    drop((risk, order));
    journal.shutdown().unwrap();
}

/// The embedded default configuration with charges off, so net equals gross and the
/// figures can be checked to the paisa by hand.
fn free_config(dir: &Path) -> PathBuf {
    let text = DEFAULT_TOML.replacen("[charges]\nenabled = true", "[charges]\nenabled = false", 1);
    assert_ne!(text, DEFAULT_TOML, "the default's [charges] section moved");
    let path = dir.join("free.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Strategy names and instrument symbols the default configuration gives.
fn default_names() -> (Vec<&'static str>, String, String) {
    let config = EngineConfig::embedded_default();
    let names = tickpipe::signal::strategy_names(&config.strategy);
    let opened = config.feed.open().unwrap();
    let symbol = |i: u32| opened.instruments.get(InstrumentId(i)).symbol.to_string();
    (names, symbol(1), symbol(2))
}

/// orders, ordered_qty, fills, filled_qty, fill_rate, filled, rejected, slippage.
type Quality = (i64, i64, i64, i64, f64, i64, i64, f64);

fn count(db: &Connection, table: &str) -> i64 {
    db.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

fn paise_of(x: f64) -> i64 {
    (x * 100.0).round() as i64
}

#[test]
fn sqlite_export_holds_every_table_with_the_figures_to_the_paisa() {
    let root = scratch("sqlite");
    let dir = root.join("2026-11-25");
    trading_journal(&dir);
    let config = free_config(&root);
    let db_path = root.join("journal.db");
    let (ok, _, err) = run(args![
        "journal", "export", &dir, "--sqlite", &db_path, "--config", &config
    ]);
    assert!(ok, "{err}");
    assert!(err.contains("trade_performance 3 row(s)"), "{err}");
    let db = Connection::open(&db_path).unwrap();
    let (names, symbol1, symbol2) = default_names();
    let strategies = names.len().max(2) as i64;

    assert_eq!(count(&db, "trades"), 6);
    assert_eq!(count(&db, "trade_performance"), 3);
    assert_eq!(count(&db, "daily_performance"), 1);
    assert_eq!(count(&db, "strategy_performance"), strategies);
    assert_eq!(count(&db, "execution_quality"), 2);

    let (time, instrument, side, qty, price): (String, String, String, i64, String) = db
        .query_row(
            "SELECT time_ist, instrument, side, qty, price FROM trades WHERE intent = 4",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .unwrap();
    assert_eq!(time, "2026-11-25 10:30:00");
    assert_eq!(
        (instrument, side, qty, price.as_str()),
        (symbol2.clone(), "BUY".to_owned(), 5, "201.37")
    );

    let rows: Vec<(i64, String, String, f64, f64, i64, String)> = db
        .prepare("SELECT trade, instrument, side, net, gross, holding_minutes, exit_reason FROM trade_performance ORDER BY trade")
        .unwrap()
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let summary: Vec<(i64, &str, &str, i64, i64, &str)> = rows
        .iter()
        .map(|r| {
            (
                r.0,
                r.1.as_str(),
                r.2.as_str(),
                paise_of(r.3),
                r.5,
                r.6.as_str(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (1, symbol1.as_str(), "long", 3250, 20, "exit"),
            (2, symbol2.as_str(), "short", -635, 30, "stop_loss"),
            (3, symbol1.as_str(), "long", -20, 15, "exit"),
        ]
    );
    assert!(
        rows.iter().all(|r| paise_of(r.3) == paise_of(r.4)),
        "charges are off"
    );

    let day: (i64, i64, i64, f64, f64, f64) = db
        .query_row(
            "SELECT trades, winners, losers, net, largest_win, largest_loss FROM daily_performance",
            [],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            },
        )
        .unwrap();
    assert_eq!((day.0, day.1, day.2), (3, 1, 2));
    assert_eq!(
        (paise_of(day.3), paise_of(day.4), paise_of(day.5)),
        (2595, 3250, -635)
    );

    let first: (i64, i64, f64, f64, f64) = db
        .query_row(
            "SELECT trades, winners, win_rate, net, expectancy FROM strategy_performance WHERE rowid = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .unwrap();
    assert_eq!((first.0, first.1), (2, 1));
    assert!((first.2 - 0.5).abs() < 1e-12);
    assert_eq!((paise_of(first.3), paise_of(first.4)), (3230, 1615));

    // Strategy 0: 4 orders of 28 units, all filled; paid 10 × 0.10 above and sold
    // 10 × 0.05 below the reference. Strategy 1: 3 orders (17 units), 2 fills (10
    // units), one reject; sold 5 × 0.10 above and bought 5 × 0.03 below: −0.65.
    let quality: Vec<Quality> = db
        .prepare("SELECT orders, ordered_qty, fills, filled_qty, fill_rate, filled, rejected, slippage FROM execution_quality ORDER BY rowid")
        .unwrap()
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(quality.len(), 2);
    let q0 = quality[0];
    assert_eq!((q0.0, q0.1, q0.2, q0.3, q0.5, q0.6), (4, 28, 4, 28, 4, 0));
    assert!((q0.4 - 1.0).abs() < 1e-12);
    assert_eq!(paise_of(q0.7), 150);
    let q1 = quality[1];
    assert_eq!((q1.0, q1.1, q1.2, q1.3, q1.5, q1.6), (3, 17, 2, 10, 2, 1));
    assert!((q1.4 - 10.0 / 17.0).abs() < 1e-12);
    assert_eq!(paise_of(q1.7), -65);
    // Each round trip carries its own fills' slippage. The third trade's intents have
    // no reference price, so its slippage is unknown (NULL), not zero; the others add
    // up, per strategy, to the execution_quality figures above.
    let per_trade: Vec<Option<f64>> = db
        .prepare("SELECT slippage FROM trade_performance ORDER BY trade")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let paise_or_none: Vec<Option<i64>> = per_trade.iter().map(|x| x.map(paise_of)).collect();
    assert_eq!(paise_or_none, [Some(150), Some(-65), None]);

    // With the default cost model every trade's net is its gross less its charges.
    let (ok, _, err) = run(args!["journal", "export", &dir, "--sqlite", &db_path]);
    assert!(ok, "{err}");
    let db = Connection::open(&db_path).unwrap();
    let priced: Vec<(f64, f64, f64)> = db
        .prepare("SELECT gross, charges, net FROM trade_performance")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(priced.len(), 3);
    assert_eq!(paise_of(priced[0].0), 3250);
    for (gross, charges, net) in priced {
        assert!(charges > 0.0);
        assert!((paise_of(gross) - paise_of(charges) - paise_of(net)).abs() <= 1);
    }
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn sqlite_export_refuses_bad_input_and_leaves_no_file() {
    let root = scratch("sqlite-bad");
    let db_path = root.join("out.db");

    let missing = root.join("no-such-day");
    let (ok, _, err) = run(args!["journal", "export", &missing, "--sqlite", &db_path]);
    assert!(!ok);
    assert!(
        err.contains("no-such-day") && err.contains("not a journal directory"),
        "{err}"
    );
    assert!(!db_path.exists());

    let dir = root.join("2026-11-25");
    trading_journal(&dir);
    let (ok, _, err) = run(args![
        "journal",
        "export",
        &dir,
        "--sqlite",
        &root.join("missing-folder").join("out.db")
    ]);
    assert!(!ok);
    assert!(err.contains("missing-folder"), "{err}");

    // A flipped byte in the first intent, with intact records after it.
    let path = dir.join("risk-00000000000000000001.tpj");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[HEADER_SIZE + 30] ^= 1;
    std::fs::write(&path, &bytes).unwrap();
    let (ok, _, err) = run(args!["journal", "export", &dir, "--sqlite", &db_path]);
    assert!(!ok);
    assert!(
        err.contains("risk-00000000000000000001.tpj at byte 64"),
        "{err}"
    );
    assert!(!db_path.exists());
    let leftovers: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().contains("partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn a_fill_outside_the_configured_universe_is_named() {
    let root = scratch("universe");
    let dir = root.join("2026-11-25");
    let journal = Journal::open(&dir, JournalConfig::default()).unwrap();
    let mut risk = journal.writer("risk").unwrap();
    let f = FillRecord {
        intent: IntentId::new(1, 0),
        exchange_ts: at(9, 30),
        instrument: InstrumentId(60_000),
        strategy: StrategyId(0),
        side: Side::Buy,
        qty: Qty::new(1),
        price: paise(100),
        reason: IntentReason::Entry,
    };
    risk.append(at(9, 30), &Record::Fill(f)).unwrap();
    drop(risk);
    journal.shutdown().unwrap();
    let out = root.join("report");
    let (ok, _, err) = run(args!["report", "--journal", &dir, "--out", &out]);
    assert!(!ok);
    assert!(
        err.contains("fill 1 of writer risk (2026-11-25 09:30:00.000 IST): instrument i60000 is not in the universe"),
        "{err}"
    );
    assert!(err.contains("i60000") && err.contains("--config"), "{err}");
    assert!(!out.exists());
    std::fs::remove_dir_all(&root).unwrap();
}

/// A journal whose `signal` writer filled three segments (127 records each fit).
fn segmented_journal(dir: &Path) {
    let journal = Journal::open(
        dir,
        JournalConfig {
            segment_bytes: 8192,
            flush: FlushPolicy::EveryMs(1),
            ..JournalConfig::DEFAULT
        },
    )
    .unwrap();
    let mut signals = journal.writer("signal").unwrap();
    for n in 0..300u32 {
        let ts = at(9, 15).add_nanos(u64::from(n) * 1_000_000_000);
        let s = Signal {
            exchange_ts: ts,
            ingress: Stamp(0),
            price: paise(245_005),
            stop: Price::ZERO,
            target: Price::ZERO,
            instrument: InstrumentId(n % 3),
            strategy: StrategyId(0),
            direction: Direction::Long,
            weight_pct: 100,
        };
        signals.append(ts, &Record::Signal(s)).unwrap();
    }
    drop(signals);
    journal.shutdown().unwrap();
}

#[test]
fn archive_copies_sealed_segments_checks_them_and_is_idempotent() {
    let root = scratch("archive");
    let dir = root.join("2026-11-25");
    segmented_journal(&dir);
    let backup = root.join("backup");
    let (ok, out, err) = run(args!["journal", "archive", &dir, "--to", &backup]);
    assert!(ok, "{err}");
    assert!(out.contains("archived 2 sealed segment(s)"), "{out}");
    assert!(out.contains("2 copied now"), "{out}");
    assert!(out.contains("254 record(s) read back"), "{out}");
    assert!(
        out.contains("active  signal-00000000000000000255.tpj"),
        "{out}"
    );
    let archived = backup.join("2026-11-25");
    for first in [1, 128] {
        let name = format!("signal-{first:020}.tpj");
        assert_eq!(
            std::fs::read(archived.join(&name)).unwrap(),
            std::fs::read(dir.join(&name)).unwrap(),
            "{name}"
        );
    }
    assert!(!archived.join("signal-00000000000000000255.tpj").exists());

    let (ok, out, err) = run(args!["journal", "archive", &dir, "--to", &backup]);
    assert!(ok, "{err}");
    assert!(
        out.contains("0 copied now (0 bytes), 2 already there"),
        "{out}"
    );

    // A damaged copy is never overwritten, and the run says so.
    let copy = archived.join(format!("signal-{:020}.tpj", 128));
    let mut bytes = std::fs::read(&copy).unwrap();
    bytes[HEADER_SIZE + 10] ^= 1;
    std::fs::write(&copy, &bytes).unwrap();
    let (ok, _, err) = run(args!["journal", "archive", &dir, "--to", &backup]);
    assert!(!ok);
    assert!(err.contains("already archived with other content"), "{err}");

    let (ok, _, err) = run(args![
        "journal",
        "archive",
        &dir,
        "--to",
        &dir.join("inside")
    ]);
    assert!(!ok);
    assert!(
        err.contains("must be outside the journal directory"),
        "{err}"
    );
    assert!(!dir.join("inside").exists());

    // The folder that holds DIR would archive DIR onto itself.
    let (ok, _, err) = run(args!["journal", "archive", &dir, "--to", &root]);
    assert!(!ok);
    assert!(err.contains("onto itself"), "{err}");

    let file = root.join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let (ok, _, err) = run(args!["journal", "archive", &dir, "--to", &file.join("sub")]);
    assert!(!ok);
    assert!(err.contains("cannot create the archive folder"), "{err}");
    std::fs::remove_dir_all(&root).unwrap();
}

/// The text of every `<text>` element.
fn texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            let body = t.split_once('>')?.1;
            Some(body.split("</text>").next()?.trim().to_owned())
        })
        .collect()
}

fn svg(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(
        text.trim_start().starts_with("<svg"),
        "{}: {}",
        path.display(),
        &text[..80.min(text.len())]
    );
    assert!(text.trim_end().ends_with("</svg>"), "{}", path.display());
    text
}

#[test]
fn report_from_a_journal_writes_tables_json_and_plots() {
    let root = scratch("report");
    let dir = root.join("2026-11-25");
    trading_journal(&dir);
    let config = free_config(&root);
    let out = root.join("report");
    let (ok, _, err) = run(args![
        "report",
        "--journal",
        &dir,
        "--out",
        &out,
        "--config",
        &config
    ]);
    assert!(ok, "{err}");
    assert!(err.contains("3 round trip(s) from 6 fill(s)"), "{err}");
    let mut files: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "daily.csv",
            "drawdown.svg",
            "equity.svg",
            "report.json",
            "report.md",
            "strategies.csv",
            "strategies.svg",
            "trades.csv"
        ]
    );
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    for plot in ["equity.svg", "drawdown.svg", "strategies.svg"] {
        assert!(md.contains(&format!("]({plot})")), "{md}");
    }
    assert!(md.contains("net ₹25.95"), "{md}");
    assert!(
        md.contains("realised P&L is rebuilt from the fills"),
        "{md}"
    );
    let trades = std::fs::read_to_string(out.join("trades.csv")).unwrap();
    assert_eq!(trades.lines().count(), 4, "{trades}");
    assert!(
        trades
            .lines()
            .nth(2)
            .unwrap()
            .contains(",-6.35,0.00,-6.35,"),
        "{trades}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(json["round_trips"], 3);
    assert_eq!(paise_of(json["net"].as_f64().unwrap()), 2595);
    assert_eq!(paise_of(json["trades"][0]["net"].as_f64().unwrap()), 3250);

    let (names, _, _) = default_names();
    let strategies = names.len().max(2);
    let lines = svg(&out.join("strategies.svg"));
    // Series are drawn 2 wide, axes and ticks 1 wide.
    let series = |text: &str| {
        text.split("<polyline")
            .skip(1)
            .filter(|p| p.split('>').next().unwrap().contains("stroke-width=\"2\""))
            .count()
    };
    assert_eq!(series(&lines), strategies, "one line per strategy");
    for name in &names {
        assert!(lines.contains(name), "{name} is labelled");
    }
    let equity = svg(&out.join("equity.svg"));
    assert_eq!(series(&equity), 1);
    // The fills run 09:20 to 12:00 IST (03:50 to 06:30 UTC): the time ticks say IST.
    let labels = texts(&equity);
    let times: Vec<&String> = labels
        .iter()
        .filter(|t| t.len() == 5 && t.as_bytes()[2] == b':')
        .collect();
    assert!(times.len() >= 3, "{labels:?}");
    assert!(
        times
            .iter()
            .all(|t| ("09:00".."12:01").contains(&t.as_str())),
        "{labels:?}"
    );
    // The capital is lakhs of rupees: ticks in rupees with Indian grouping.
    let rupees: Vec<&String> = labels.iter().filter(|t| t.starts_with('₹')).collect();
    assert!(rupees.len() >= 3, "{labels:?}");
    assert!(
        rupees.iter().all(|t| t.matches(',').count() >= 2),
        "{labels:?}"
    );
    let drawdown = svg(&out.join("drawdown.svg"));
    assert!(drawdown.contains("<polygon"), "the area under water");
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn report_from_a_missing_journal_fails_and_writes_nothing() {
    let root = scratch("report-missing");
    let out = root.join("report");
    let (ok, _, err) = run(args![
        "report",
        "--journal",
        &root.join("gone"),
        "--out",
        &out
    ]);
    assert!(!ok);
    assert!(
        err.contains("gone") && err.contains("not a journal directory"),
        "{err}"
    );
    assert!(!out.exists());
    let (ok, _, err) = run(args!["report"]);
    assert!(!ok && err.contains("--equity"), "{err}");
    std::fs::remove_dir_all(&root).unwrap();
}

/// The risk stage alone, journaling through a `risk` writer, with the embedded default
/// configuration's instruments and cost model and `risk.reconcile = "adopt"`: its rings
/// are driven here as the engine's feed and order stages would.
struct Adopting {
    stage: tickpipe::risk::RiskStage,
    input: tickpipe_ringbuf::Producer<tickpipe::model::RiskInput>,
    reports: tickpipe_ringbuf::Producer<tickpipe::model::OrderOutput>,
    orders: tickpipe_ringbuf::Consumer<tickpipe::model::OrderInput>,
}

impl Adopting {
    fn new(journal: &Journal) -> Adopting {
        use tickpipe::{
            charges::{ChargeModel, Charger},
            journal::JournalTap,
            risk::{ReconcilePolicy, RiskConfig},
        };
        let engine = EngineConfig::embedded_default();
        let instruments = engine.feed.open().unwrap().instruments;
        let config = RiskConfig {
            reconcile: ReconcilePolicy::Adopt,
            ..engine.risk.clone()
        };
        let (input, from_feed) = tickpipe_ringbuf::channel(64);
        let (reports, from_order) = tickpipe_ringbuf::channel(64);
        let (out, orders) = tickpipe_ringbuf::channel(64);
        let stage = tickpipe::risk::RiskStage::new(
            &config,
            &instruments,
            tickpipe::signal::strategy_names(&engine.strategy).len(),
            from_feed,
            from_order,
            tickpipe::runtime::Outbox::new(out),
            tickpipe::runtime::LatencyClock::new(),
            std::sync::Arc::new(tickpipe::metrics::Telemetry::default()),
            false,
        )
        .with_charges(Charger::new(
            ChargeModel::new(&engine.charges),
            &instruments,
        ))
        .with_journal(JournalTap::new(journal.writer("risk").unwrap()));
        Adopting {
            stage,
            input,
            reports,
            orders,
        }
    }

    /// Polls until idle; returns the intents sent to the order stage.
    fn run(&mut self) -> Vec<OrderIntent> {
        use tickpipe::runtime::{Poll, Stage};
        for _ in 0..100 {
            if !matches!(self.stage.poll(), Poll::Work(_)) {
                break;
            }
        }
        std::iter::from_fn(|| self.orders.try_pop().ok())
            .filter_map(|o| match o {
                tickpipe::model::OrderInput::Intent(i) => Some(*i.intent()),
                _ => None,
            })
            .collect()
    }

    fn tick(&mut self, instrument: u32, ts: UnixNanos, last: i64) -> Vec<OrderIntent> {
        let tick = tickpipe::model::Tick {
            exchange_ts: ts,
            ingress: Stamp(0),
            last: paise(last),
            bid: paise(last - 5),
            ask: paise(last + 5),
            instrument: InstrumentId(instrument),
            volume: 0,
            last_qty: 1,
            bid_qty: 100,
            ask_qty: 100,
            kind: tickpipe::model::TickKind::Trade,
        };
        self.input
            .try_push(tickpipe::model::RiskInput::Tick(tick))
            .unwrap();
        self.run()
    }

    /// The broker's reconciliation reports a position the book does not hold.
    fn broker_holds(&mut self, instrument: u32, net: i64, avg: i64) -> Vec<OrderIntent> {
        let position = tickpipe::model::BrokerPosition {
            instrument: InstrumentId(instrument),
            net,
            avg_price: paise(avg),
        };
        self.reports
            .try_push(tickpipe::model::OrderOutput::Broker(
                tickpipe::model::BrokerNotice::Position(position),
            ))
            .unwrap();
        self.run()
    }

    fn close(&mut self, instrument: u32, ts: UnixNanos) -> Vec<OrderIntent> {
        let command = tickpipe::model::ScheduledCommand {
            exchange_ts: ts,
            ingress: Stamp(0),
            command: tickpipe::model::ControlCommand::Close {
                instrument: InstrumentId(instrument),
                qty: Qty::ZERO,
            },
        };
        self.input
            .try_push(tickpipe::model::RiskInput::Control(command))
            .unwrap();
        self.run()
    }

    /// The broker accepts and fills `intent` whole at `price` paise.
    fn fill(&mut self, intent: &OrderIntent, price: i64) -> Vec<OrderIntent> {
        for (kind, qty) in [
            (ExecKind::Accepted, Qty::ZERO),
            (ExecKind::Filled, intent.qty),
        ] {
            let report = ExecReport {
                intent: intent.id,
                exchange_ts: intent.exchange_ts,
                ingress: Stamp(0),
                last_price: if qty.is_zero() {
                    Price::ZERO
                } else {
                    paise(price)
                },
                instrument: intent.instrument,
                last_qty: qty,
                cum_qty: qty,
                leaves_qty: Qty::ZERO,
                strategy: intent.strategy,
                side: intent.side,
                kind,
                reject: RejectReason::None,
                trade: TradeId(1),
            };
            self.reports
                .try_push(tickpipe::model::OrderOutput::Report(report))
                .unwrap();
        }
        self.run()
    }
}

/// A journal the risk stage wrote on a day the broker's reconciliation reported two
/// positions the book did not hold, both adopted at 10:00: 40 of instrument 1 long at
/// 498.50, which the operator closed at 10:30 (sold at 503.25), and 30 of instrument 2
/// short at 210.10, still open at the end. Returns the risk stage's realised P&L,
/// charges and net realised P&L.
fn adopted_journal(
    dir: &Path,
) -> (
    tickpipe::model::Money,
    tickpipe::model::Money,
    tickpipe::model::Money,
) {
    let journal = Journal::open(dir, JournalConfig::DEFAULT).unwrap();
    let mut risk = Adopting::new(&journal);
    assert!(risk.tick(1, at(10, 0), 50_000).is_empty());
    assert!(risk.tick(2, at(10, 0), 21_000).is_empty());
    assert!(risk.broker_holds(1, 40, 49_850).is_empty());
    assert!(risk.broker_holds(2, -30, 21_010).is_empty());
    assert!(risk.tick(1, at(10, 30), 50_330).is_empty());
    let exits = risk.close(1, at(10, 30));
    assert_eq!(exits.len(), 1, "{exits:?}");
    assert_eq!((exits[0].side, exits[0].qty), (Side::Sell, Qty::new(40)));
    assert!(risk.fill(&exits[0], 50_325).is_empty());
    assert!(risk.tick(2, at(11, 0), 20_900).is_empty());
    let book = risk.stage.book();
    assert_eq!(book.position(InstrumentId(1)).net(), 0);
    assert_eq!(book.position(InstrumentId(2)).net(), -30);
    let booked = (book.realized(), book.charges().total(), book.net_realized());
    drop(risk);
    journal.shutdown().unwrap();
    booked
}

/// A position adopted from the broker and closed by the engine is one round trip in
/// `report --journal` and in `export --sqlite`, entered at the broker's price and the
/// adoption's time and marked adopted, with the P&L and charges the risk stage booked;
/// the one adopted and never closed is open at the end. Without the adoptions the
/// closing sell would have opened a short and no trade would be reported.
#[test]
fn an_adopted_position_closed_by_the_engine_is_one_adopted_trade() {
    let root = scratch("adopted");
    let dir = root.join("2026-11-25");
    let (realized, charges, net) = adopted_journal(&dir);
    // 40 × (503.25 − 498.50), as the risk stage's book has it.
    assert_eq!(realized, tickpipe::model::Money::from_rupees(190));
    assert!(
        charges > tickpipe::model::Money::ZERO,
        "the default cost model charges"
    );
    let (_, symbol1, symbol2) = default_names();

    let out = root.join("report");
    let (ok, _, err) = run(args!["report", "--journal", &dir, "--out", &out]);
    assert!(ok, "{err}");
    assert!(err.contains("1 round trip(s) from 1 fill(s)"), "{err}");
    let trades = std::fs::read_to_string(out.join("trades.csv")).unwrap();
    let lines: Vec<&str> = trades.lines().collect();
    assert_eq!(lines.len(), 2, "{trades}");
    let header: Vec<&str> = lines[0].split(',').collect();
    let row: Vec<&str> = lines[1].split(',').collect();
    let field = |name: &str| row[header.iter().position(|h| *h == name).unwrap()];
    assert_eq!(field("instrument"), symbol1);
    assert_eq!((field("side"), field("qty")), ("long", "40"));
    assert_eq!(field("entry_time"), "2026-11-25 10:00:00");
    assert_eq!(field("entry_price"), "498.50");
    assert_eq!(field("exit_time"), "2026-11-25 10:30:00");
    assert_eq!(field("exit_price"), "503.25");
    assert_eq!(field("exit_reason"), "manual");
    assert_eq!(field("adopted"), "entry");
    assert_eq!(field("gross"), tickpipe::report::paise(realized));
    assert_eq!(field("charges"), tickpipe::report::paise(charges));
    assert_eq!(field("net"), tickpipe::report::paise(net));

    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("10:00:00 (adopted)"), "{md}");
    assert!(
        md.contains(&format!("{symbol2} (adopted from the broker)")),
        "{md}"
    );
    assert!(md.contains("2 adoption(s) of a broker's position"), "{md}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(json["round_trips"], 1);
    assert_eq!(json["open_at_end"], serde_json::json!([symbol2]));
    assert_eq!(json["open_adopted"], serde_json::json!([symbol2]));
    assert_eq!(
        paise_of(json["net"].as_f64().unwrap()),
        net.to_paise_saturating()
    );

    let db_path = root.join("journal.db");
    let (ok, _, err) = run(args!["journal", "export", &dir, "--sqlite", &db_path]);
    assert!(ok, "{err}");
    let db = Connection::open(&db_path).unwrap();
    assert_eq!(
        count(&db, "trades"),
        1,
        "the one fill; an adoption is no fill"
    );
    assert_eq!(count(&db, "trade_performance"), 1);
    let (entry_price, gross, adopted): (String, f64, String) = db
        .query_row(
            "SELECT entry_price, gross, adopted FROM trade_performance",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(
        (entry_price.as_str(), paise_of(gross), adopted.as_str()),
        ("498.50", 19_000, "entry")
    );
    let adoptions: Vec<(String, i64, String, i64)> = db
        .prepare("SELECT instrument, broker_net, broker_avg, book_net FROM adoptions ORDER BY seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        adoptions,
        [
            (symbol1.clone(), 40, "498.50".to_owned(), 0),
            (symbol2.clone(), -30, "210.10".to_owned(), 0)
        ]
    );

    // The CSV export is the booked fills: the closing sell, once.
    let (ok, csv, err) = run(args!["journal", "export", &dir]);
    assert!(ok, "{err}");
    let fills: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(fills.len(), 1, "{csv}");
    assert!(fills[0].ends_with(",SELL,40,503.25,manual"), "{csv}");
    std::fs::remove_dir_all(&root).unwrap();
}

/// Each offline command given what is not one day's journal says what it was given:
/// the journal root names its day directories (it used to verify as "ok: 0 writer(s)"
/// and export an empty CSV), a file is called a file, an unknown `inspect --writer` lists
/// the writers, and an empty `--from`/`--to` window is refused rather than printing
/// nothing.
#[test]
fn offline_commands_name_what_they_were_given_instead_of_a_journal() {
    let root = scratch("not-a-journal");
    let day = root.join("2026-11-25");
    trading_journal(&day);
    let hint = format!(
        "{}: no journal segments (*.tpj) in this directory; it holds the journal of 2026-11-25: give {}",
        root.display(),
        day.display()
    );
    let archive = root.join("..").join(format!(
        "tickpipe-journal-export-{}-not-a-journal-backup",
        std::process::id()
    ));
    let out = root.join("report");
    let cases: [&[&std::ffi::OsStr]; 5] = [
        args!["journal", "verify", &root],
        args!["journal", "inspect", &root],
        args!["journal", "export", &root],
        args!["journal", "archive", &root, "--to", &archive],
        args!["report", "--journal", &root, "--out", &out],
    ];
    for case in cases {
        let (ok, stdout, err) = run(case);
        assert!(!ok, "{case:?}: {stdout}");
        assert!(err.contains(&hint), "{case:?}: {err}");
        assert!(stdout.is_empty(), "{case:?}: {stdout}");
    }
    assert!(!archive.exists() && !out.exists());

    let file = day.join("risk-00000000000000000001.tpj");
    let (ok, _, err) = run(args!["journal", "verify", &file]);
    assert!(!ok);
    assert!(
        err.contains("not a journal directory (a file; give the trading day's directory"),
        "{err}"
    );

    let (ok, _, err) = run(args!["journal", "inspect", &day, "--writer", "riks"]);
    assert!(!ok);
    assert!(
        err.contains("--writer \"riks\": ") && err.contains("its writers: order, risk"),
        "{err}"
    );
    let (ok, _, err) = run(args![
        "journal", "inspect", &day, "--from", "10:00", "--to", "09:30"
    ]);
    assert!(!ok);
    assert!(
        err.contains("--from 10:00:00 is not before --to 09:30:00"),
        "{err}"
    );
    // A window that holds records still prints them.
    let (ok, out, err) = run(args![
        "journal", "inspect", &day, "--from", "09:30", "--to", "10:00"
    ]);
    assert!(ok, "{err}");
    assert_eq!(
        out.lines().count(),
        3,
        "the order's report and intent, its fill: {out}"
    );
    std::fs::remove_dir_all(&root).unwrap();
}
