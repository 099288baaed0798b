//! The fault suite: each fault a named scenario run against the real engine (the
//! library pipeline in-process, or the `tickpipe` binary when the fault is about the
//! process), each asserting that nothing was lost and that the book is what it should
//! be, never how long anything took.
//!
//! The suite prints one table (and writes it to `TICKPIPE_FAULTS_REPORT=FILE` when that
//! is set): scenario, faults injected, orders, fills, lost events, market data held back
//! (counted backpressure stalls, which are not losses) and whether the final book is the
//! expected one. *Lost* counts execution reports and fills that disappeared between the
//! order stage and the book (fills the order stage booked that the risk stage did not,
//! and the other way round), positions that differ from the sum of their fills, and, for
//! a restarted process, orders and fills the uninterrupted day had that the restarted
//! one does not. Every scenario must lose nothing.
//!
//! `TICKPIPE_FAULTS_SEED=N` changes the seed of the synthetic day and of the paper
//! exchange's fault draws (`scripts/soak.sh` loops over random seeds); the default seed
//! repeats the committed report (`latency-reports/faults.md`).

mod common;
#[path = "faults/feed_stall.rs"]
mod feed_stall;
#[path = "faults/kite_feed.rs"]
mod kite_feed;
#[path = "faults/kite_rate_limit.rs"]
mod kite_rate_limit;

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::Duration,
};

use serde_json::Value;
use tickpipe::{
    engine::{EngineConfig, RunReport},
    model::Side,
    order::LatencyModel,
};

/// One line of the table.
#[derive(Debug, Clone)]
struct Row {
    scenario: &'static str,
    faults: String,
    orders: u64,
    fills: u64,
    lost: u64,
    /// Market-data backpressure: stalls counted at a full ring (lossless) or ticks
    /// conflated or dropped by policy. Not losses.
    held_back: u64,
    book_ok: bool,
    /// Why the book is not as expected, or what else failed; empty when all is well.
    problems: Vec<String>,
}

impl Row {
    fn new(scenario: &'static str, faults: impl Into<String>) -> Row {
        Row {
            scenario,
            faults: faults.into(),
            orders: 0,
            fills: 0,
            lost: 0,
            held_back: 0,
            book_ok: true,
            problems: Vec::new(),
        }
    }

    /// Notes a problem that makes the book wrong.
    fn book_wrong(&mut self, why: impl Into<String>) {
        self.book_ok = false;
        self.problems.push(why.into());
    }

    /// Notes a problem that is not about the book.
    fn problem(&mut self, why: impl Into<String>) {
        self.problems.push(why.into());
    }
}

fn seed() -> u64 {
    std::env::var("TICKPIPE_FAULTS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// The default day, with the suite's seed (0 keeps the shipped synthetic seed).
fn day(seed: u64) -> EngineConfig {
    let shipped = EngineConfig::embedded_default().feed.synthetic.seed;
    let mut c = common::config(if seed == 0 { shipped } else { seed }, "");
    c.paper.seed = seed.wrapping_add(7);
    c
}

/// What an in-process run booked, checked: the order stage's fills against the risk
/// stage's, and every position against the sum of its fills.
fn account(row: &mut Row, report: &RunReport) {
    let (Some(order), Some(risk), Some(trading)) = (
        report.stage("order"),
        report.stage("risk"),
        report.trading(),
    ) else {
        row.book_wrong("a stage did not report");
        return;
    };
    row.orders = order.counter("orders");
    row.fills = risk.counter("fills");
    row.held_back = report
        .stage("feed")
        .map_or(0, |f| f.counter("ring_full") + f.counter("dropped"));
    // Fills the order stage booked that never reached the book (or the reverse).
    row.lost += order.counter("fills").abs_diff(risk.counter("fills"));
    if trading.fills_not_logged > 0 {
        row.problem("the fill log overflowed: positions cannot be checked against it");
    }
    row.lost += (trading.fills.len() as u64).abs_diff(risk.counter("fills"));
    // Every position equals the sum of its fills.
    let mut by_instrument: BTreeMap<u32, i64> = BTreeMap::new();
    for f in &trading.fills {
        let q = i64::from(f.qty.get());
        *by_instrument.entry(f.instrument.0).or_default() += match f.side {
            Side::Buy => q,
            Side::Sell => -q,
        };
    }
    let mut held: BTreeMap<u32, i64> = BTreeMap::new();
    for p in &trading.positions {
        *held.entry(p.instrument.0).or_default() += p.net;
    }
    for (instrument, net) in &by_instrument {
        let have = held.get(instrument).copied().unwrap_or(0);
        if have != *net {
            row.lost += 1;
            row.book_wrong(format!(
                "instrument {instrument}: position {have}, fills sum to {net}"
            ));
        }
    }
    for (instrument, have) in &held {
        if *have != 0 && !by_instrument.contains_key(instrument) {
            row.lost += 1;
            row.book_wrong(format!(
                "instrument {instrument}: position {have} without a fill"
            ));
        }
    }
}

/// Runs `config` threaded (two groups, so answers cross threads) and accounts for it.
fn broker(scenario: &'static str, faults: &str, config: EngineConfig) -> (Row, RunReport) {
    let mut row = Row::new(scenario, faults);
    let report = common::run_threaded(&config);
    account(&mut row, &report);
    if let Some((stage, error)) = report.error() {
        row.problem(format!("the {stage} stage stopped: {error:?}"));
    }
    (row, report)
}

// ---------------------------------------------------------------------------------
// Broker: the paper exchange's injected faults.

fn broker_scenarios(seed: u64, rows: &mut Vec<Row>) {
    let clean = {
        let mut c = day(seed);
        c.runtime.layout = "two_groups".into();
        c
    };
    let (row, baseline) = broker("baseline (no fault)", "none", clean.clone());
    rows.push(row);
    let baseline_fills = common::fills(&baseline);

    let mut c = clean.clone();
    c.paper.faults.reject_rate = 0.2;
    let (mut row, report) = broker(
        "broker rejects",
        "20% of orders refused (network / rate limited, retriable)",
        c,
    );
    if report.stage("order").map_or(0, |o| o.counter("rejects")) == 0 {
        row.problem("no order was refused: the fault did not strike");
    }
    rows.push(row);

    let mut c = clean.clone();
    c.paper.faults.timeout_rate = 0.1;
    c.paper.faults.timeout_ms = 30_000;
    rows.push(broker("broker timeouts", "10% of orders answered 30 s late", c).0);

    let mut c = clean.clone();
    c.paper.faults.timeout_rate = 0.05;
    c.paper.faults.timeout_ms = 0;
    rows.push(
        broker(
            "broker never answers",
            "5% of orders unanswered until the session ends",
            c,
        )
        .0,
    );

    let mut c = clean.clone();
    c.paper.latency.model = LatencyModel::Lognormal;
    c.paper.latency.ack_ms = 400;
    c.paper.latency.fill_ms = 600;
    c.paper.latency.jitter_ms = 300;
    c.paper.partial_fills = true;
    rows.push(
        broker(
            "broker slow acks",
            "acks 400 ms, fills 600 ms + lognormal jitter; partial fills",
            c,
        )
        .0,
    );

    let mut c = clean.clone();
    c.paper.faults.duplicate_rate = 0.3;
    c.paper.faults.reorder_rate = 0.3;
    c.paper.latency.ack_ms = 100;
    c.paper.latency.fill_ms = 100;
    let (mut row, report) = broker(
        "broker duplicates and reorders",
        "30% of fills reported twice, 30% of acks after the fill",
        c,
    );
    let order = report.stage("order");
    if order.map_or(0, |o| o.counter("duplicate_fills")) == 0 {
        row.problem("no duplicate fill was seen: the fault did not strike");
    }
    rows.push(row);

    let mut c = clean.clone();
    c.paper.faults.disconnect_at = "11:00".into();
    c.paper.faults.disconnect_secs = 45 * 60;
    rows.push(
        broker(
            "broker disconnects",
            "gateway unreachable 11:00-11:45, then back",
            c,
        )
        .0,
    );

    let mut c = clean.clone();
    c.paper.faults.reject_rate = 0.1;
    c.paper.faults.timeout_rate = 0.05;
    c.paper.faults.timeout_ms = 20_000;
    c.paper.faults.duplicate_rate = 0.2;
    c.paper.faults.reorder_rate = 0.2;
    c.paper.faults.disconnect_at = "13:30".into();
    c.paper.faults.disconnect_secs = 600;
    c.paper.latency.model = LatencyModel::Uniform;
    c.paper.latency.ack_ms = 200;
    c.paper.latency.fill_ms = 300;
    c.paper.latency.jitter_ms = 200;
    rows.push(
        broker(
            "broker all at once",
            "rejects, timeouts, slow acks, duplicates, reorders, a 10 min disconnection",
            c,
        )
        .0,
    );

    // Backpressure: the smallest rings the engine accepts, every stage on its own
    // thread, the day at full speed: stalls are counted and nothing changes.
    let mut c = clean.clone();
    c.runtime.ring_capacity = 64;
    c.runtime.layout = "per_stage".into();
    let (mut row, report) = broker(
        "feed burst, smallest rings",
        "the day at full speed through 64-slot rings, one thread per stage",
        c,
    );
    if common::fills(&report) != baseline_fills {
        row.book_wrong("the fills differ from the day with 1024-slot rings");
    }
    rows.push(row);

    // A ring below the minimum is a clear start-up error, never a silent run.
    let mut row = Row::new("ring too small", "runtime.ring_capacity = 8");
    let mut c = clean;
    c.runtime.ring_capacity = 8;
    match c.validate("faults") {
        Ok(()) => row.problem("a ring of 8 slots was accepted"),
        Err(e) if e.to_string().contains("runtime.ring_capacity") => {}
        Err(e) => row.problem(format!("the error does not name the key: {e}")),
    }
    rows.push(row);
}

// ---------------------------------------------------------------------------------
// Resources: the journal's disk fails mid-day.

/// Sends every critical alert to a script that appends its JSON line to a file (the
/// configured alert command, as an operator's chat notifier would get it).
fn capture_alerts(c: &mut EngineConfig, dir: &Path) -> PathBuf {
    let lines = dir.join("alerts.jsonl");
    c.control.enabled = true;
    c.control.run_dir = dir.join("run");
    c.control.alerts.command = vec![
        "/bin/sh".into(),
        "-c".into(),
        format!("cat >> '{}'", lines.display()),
    ];
    c.control.alerts.min_level = "critical".into();
    lines
}

/// The kinds of the alerts the command got, in order.
fn alert_kinds(lines: &Path) -> Vec<String> {
    std::fs::read_to_string(lines)
        .unwrap_or_default()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
            v["kind"].as_str().unwrap_or("?").to_owned()
        })
        .collect()
}

/// Ticks are journaled in 1 MiB segments; the path of one of the feed writer's next
/// segments is taken (a directory stands there), so the journal's flusher fails to
/// prepare it mid-day, as it would on a full disk. The engine must halt entries with a
/// `journal` alert rather than trade on unjournaled, and lose nothing it booked.
fn journal_full_scenario(seed: u64, rows: &mut Vec<Row>) {
    let root = scratch("journal-full");
    let mut row = Row::new(
        "journal disk full",
        "the journal cannot create a segment mid-day (a directory in its path)",
    );
    let mut c = day(seed);
    c.journal.enabled = true;
    c.journal.dir = root.join("journal");
    c.journal.segment_mib = 1;
    c.journal.ticks = true;
    let alerts = capture_alerts(&mut c, &root);
    let (pipeline, _) = common::pipeline(&c);
    let dir = pipeline.journal_status().expect("journaled").0.to_owned();
    let blocked = dir.join(format!("feed-next-{JOURNAL_FULL_AT_SEGMENT}.tpj"));
    std::fs::create_dir(&blocked).unwrap();
    let layout = c.layout().unwrap();
    let report = pipeline
        .run(&layout, Duration::ZERO, |_| {})
        .expect("run completes");
    account(&mut row, &report);
    match report.error() {
        Some(("risk", e)) if e.what.contains("journal") => {}
        other => row.problem(format!(
            "the risk stage did not stop on the journal: {other:?}"
        )),
    }
    let trading = report.trading().expect("the book");
    if trading.risk_events.final_state != tickpipe::model::TradingState::Halted {
        row.book_wrong(format!(
            "trading ended {:?}, not halted",
            trading.risk_events.final_state
        ));
    }
    let flusher = report.journal.as_ref().and_then(|j| j.error.clone());
    if !flusher.as_deref().is_some_and(|e| e.contains("feed-next-")) {
        row.problem(format!(
            "the journal's error does not name the segment: {flusher:?}"
        ));
    }
    if row.orders == 0 {
        row.problem("nothing traded before the journal failed: move the failure later");
    }
    let kinds = alert_kinds(&alerts);
    if !kinds.iter().any(|k| k == "journal") {
        row.problem(format!(
            "no `journal` alert reached the alert command: {kinds:?}"
        ));
    }
    rows.push(row);
    let _ = std::fs::remove_dir_all(&root);
}

/// Which of the feed writer's segments cannot be created (1 MiB each): late enough that
/// the day has traded, early enough that most of it is left.
const JOURNAL_FULL_AT_SEGMENT: u32 = 40;

// ---------------------------------------------------------------------------------
// Process: the binary killed and restarted, or stopped with SIGTERM.

/// 6 h 15 min of market time in about 7.5 s of wall time.
const SPEED: &str = "3000";

/// The summary sections that describe the day's trading.
const TRADING: [&str; 10] = [
    "market",
    "flow",
    "protective_stops",
    "regime",
    "pnl",
    "strategies",
    "refusals",
    "risk_events",
    "forced_exits",
    "instruments",
];

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tickpipe-faults-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run_cmd(dir: &Path, extra: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tickpipe"));
    cmd.arg("run")
        .arg("--quiet")
        .arg("--run-dir")
        .arg(dir)
        .arg("--journal")
        .arg(dir.join("journal"))
        .args(extra);
    cmd
}

/// Runs the day to its end; the JSON summary, or why there is none.
fn finish(dir: &Path, extra: &[&str]) -> Result<Value, String> {
    let json = dir.join("summary.json");
    let out = run_cmd(dir, extra)
        .arg("--summary-json")
        .arg(&json)
        .output()
        .unwrap();
    if !out.status.success() {
        return Err(format!(
            "the run failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let text = std::fs::read_to_string(&json).map_err(|e| e.to_string())?;
    serde_json::from_str(&text).map_err(|e| e.to_string())
}

/// Starts the day and waits until the engine says its journal is open (its signal
/// handlers are installed by then); returns the child and a thread draining stderr.
fn start(dir: &Path, extra: &[&str]) -> (std::process::Child, std::thread::JoinHandle<String>) {
    use std::io::{BufRead, BufReader};
    let mut child = run_cmd(dir, extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let ready = lines
        .by_ref()
        .map_while(Result::ok)
        .any(|line| line.starts_with("tickpipe: journal "));
    assert!(ready, "the engine stopped before it opened its journal");
    let drain =
        std::thread::spawn(move || lines.map_while(Result::ok).collect::<Vec<_>>().join("\n"));
    (child, drain)
}

fn u(v: &Value, path: &[&str]) -> u64 {
    path.iter().fold(v, |v, k| &v[*k]).as_u64().unwrap_or(0)
}

fn sigkill_scenarios(seed: u64, rows: &mut Vec<Row>) {
    let base = scratch("kill-baseline");
    let expected = match finish(&base, &[]) {
        Ok(v) => v,
        Err(e) => {
            let mut row = Row::new("process SIGKILL + restart", "baseline");
            row.book_wrong(e);
            rows.push(row);
            return;
        }
    };
    // Kill points spread over the day (which lasts about 7.5 s of wall time from its
    // start): early, mid-day, late; the seed moves them.
    let jitter = seed % 400;
    for (name, ms) in [
        ("process SIGKILL early", 300 + jitter),
        ("process SIGKILL mid-day", 3_000 + jitter),
        ("process SIGKILL late", 6_000 + jitter),
    ] {
        let dir = scratch(&name.replace(' ', "-"));
        let mut row = Row::new(name, format!("SIGKILL {ms} ms after start, restart"));
        let (mut child, drain) = start(&dir, &["--speed", SPEED]);
        std::thread::sleep(Duration::from_millis(ms));
        child.kill().unwrap();
        let status = child.wait().unwrap();
        drain.join().unwrap();
        if status.code().is_some() {
            row.problem(format!(
                "the engine finished before it was killed ({status})"
            ));
        }
        match finish(&dir, &["--speed", SPEED]) {
            Err(e) => row.book_wrong(e),
            Ok(got) => {
                row.orders = u(&got, &["flow", "orders"]);
                row.fills = u(&got, &["flow", "fills"]);
                for key in [["flow", "orders"], ["flow", "fills"]] {
                    row.lost += u(&expected, &key).saturating_sub(u(&got, &key));
                }
                for key in TRADING {
                    if got[key] != expected[key] {
                        row.book_wrong(format!("`{key}` differs from the uninterrupted day"));
                    }
                }
                if got["journal"]["records"] != expected["journal"]["records"] {
                    row.book_wrong("the journal's records differ from the uninterrupted day's");
                }
            }
        }
        rows.push(row);
        let _ = std::fs::remove_dir_all(&dir);
    }
    let _ = std::fs::remove_dir_all(&base);
}

/// Asks `status` over the control socket until a position is open; false when the
/// engine ended first.
fn holds_positions(socket: &Path, child: &mut std::process::Child) -> bool {
    use std::{
        io::{BufRead, BufReader, Write},
        os::unix::net::UnixStream,
    };
    fn open_positions(v: &Value) -> u64 {
        match v {
            Value::Object(m) => m
                .iter()
                .map(|(k, v)| {
                    if k == "open_positions" {
                        v.as_u64().unwrap_or(0)
                    } else {
                        open_positions(v)
                    }
                })
                .max()
                .unwrap_or(0),
            _ => 0,
        }
    }
    loop {
        if child.try_wait().ok().flatten().is_some() {
            return false;
        }
        let Ok(stream) = UnixStream::connect(socket) else {
            std::thread::sleep(Duration::from_millis(10));
            continue;
        };
        let mut writer = stream.try_clone().unwrap();
        let mut reader = BufReader::new(stream);
        loop {
            if writer.write_all(b"status\n").is_err() {
                break;
            }
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                break;
            }
            let v: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
            if v.get("ok").is_some() && open_positions(&v) > 0 {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

fn sigterm_scenario(rows: &mut Vec<Row>) {
    let dir = scratch("sigterm");
    let mut row = Row::new(
        "process SIGTERM",
        "SIGTERM mid-day; risk.on_shutdown = flatten (the default)",
    );
    let json = dir.join("summary.json");
    let (mut child, drain) = start(
        &dir,
        &["--speed", SPEED, "--summary-json", json.to_str().unwrap()],
    );
    // Wait until it holds positions (asked over its control socket), so the flatten
    // policy has something to do; never a fixed time.
    if !holds_positions(&dir.join("tickpipe.sock"), &mut child) {
        row.problem("the day ended before any position was open");
    }
    let sent = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let status = child.wait().unwrap();
    let stderr = drain.join().unwrap();
    if !status.success() {
        row.problem(format!(
            "SIGTERM did not end the run cleanly ({status}): {stderr}"
        ));
    }
    match std::fs::read_to_string(&json)
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str::<Value>(&t).map_err(|e| e.to_string()))
    {
        Err(e) => row.book_wrong(format!("no summary: {e}")),
        Ok(v) => {
            row.orders = u(&v, &["flow", "orders"]);
            row.fills = u(&v, &["flow", "fills"]);
            let booked: u64 = v["strategies"]
                .as_array()
                .map_or(0, |s| s.iter().map(|s| u(s, &["fills"])).sum());
            row.lost += row.fills.abs_diff(booked);
            if u(&v, &["pnl", "open_positions"]) != 0 {
                row.book_wrong("positions were left open under the flatten policy");
            }
            if v["journal"]["ended"] != Value::Bool(true) {
                row.book_wrong("the flattened day's journal was not ended");
            }
        }
    }
    rows.push(row);
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------------------------
// The table.

fn table(rows: &[Row]) -> String {
    let mut t = String::from(
        "| scenario | faults injected | orders | fills | lost | market data held back | book as expected |\n\
         | --- | --- | ---: | ---: | ---: | ---: | --- |\n",
    );
    for r in rows {
        let _ = writeln!(
            t,
            "| {} | {} | {} | {} | {} | {} | {} |",
            r.scenario,
            r.faults,
            r.orders,
            r.fills,
            r.lost,
            r.held_back,
            if r.book_ok { "yes" } else { "no" }
        );
    }
    t
}

#[test]
fn every_fault_scenario_loses_nothing_and_ends_with_the_expected_book() {
    let seed = seed();
    let mut rows = Vec::new();
    let feed_dir = scratch("kite");
    rows.push(kite_feed::scenario(&feed_dir));
    let _ = std::fs::remove_dir_all(&feed_dir);
    rows.push(feed_stall::scenario(day(seed)));
    broker_scenarios(seed, &mut rows);
    let kite_dir = scratch("kite-rate-limit");
    rows.push(kite_rate_limit::scenario(day(seed), &kite_dir));
    journal_full_scenario(seed, &mut rows);
    sigkill_scenarios(seed, &mut rows);
    sigterm_scenario(&mut rows);

    let table = table(&rows);
    println!("fault suite, seed {seed} (TICKPIPE_FAULTS_SEED):\n\n{table}");
    if let Ok(path) = std::env::var("TICKPIPE_FAULTS_REPORT") {
        std::fs::write(&path, &table).unwrap_or_else(|e| panic!("{path}: {e}"));
    }
    let bad: Vec<String> = rows
        .iter()
        .filter(|r| r.lost > 0 || !r.book_ok || !r.problems.is_empty())
        .map(|r| format!("{}: lost {}; {}", r.scenario, r.lost, r.problems.join("; ")))
        .collect();
    assert!(
        bad.is_empty(),
        "seed {seed}:\n{}\n\n{table}",
        bad.join("\n")
    );
}

// ---------------------------------------------------------------------------------
// Alerts the faults raise.

/// Many refusals within the window: a critical `reject_storm` alert reaches the alert
/// command; with the watch off, none does.
#[test]
fn a_reject_storm_reaches_the_alert_command() {
    for (count, expect) in [(5, true), (0, false)] {
        let dir = scratch(&format!("storm-{count}"));
        let mut c = day(seed());
        c.paper.faults.reject_rate = 0.5;
        c.order.reject_storm_count = count;
        c.order.reject_storm_secs = 60;
        let lines = capture_alerts(&mut c, &dir);
        let report = common::run_threaded(&c);
        assert!(report.error().is_none(), "{:?}", report.error());
        let rejects = report.stage("order").unwrap().counter("rejects");
        assert!(rejects >= 5, "the fault struck: {rejects} refusals");
        let kinds = alert_kinds(&lines);
        assert_eq!(
            kinds.iter().any(|k| k == "reject_storm"),
            expect,
            "reject_storm_count = {count}: {kinds:?}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
