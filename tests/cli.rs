//! The command line as a user meets it: bad configs and bad files get clear errors.

use std::{path::PathBuf, process::Command};

fn tickpipe() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tickpipe"))
}

/// `tickpipe run` with a run directory and a journal of its own, so tests running side
/// by side do not meet each other's control socket or journal.
fn tickpipe_run(name: &str) -> Command {
    let dir = std::env::temp_dir().join(format!("tickpipe-cli-{}-{name}", std::process::id()));
    let mut cmd = tickpipe();
    cmd.arg("run")
        .arg("--run-dir")
        .arg(&dir)
        .arg("--journal")
        .arg(dir.join("journal"));
    cmd
}

fn temp_file(name: &str, contents: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tickpipe-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

/// Runs `tickpipe run` on a config file with `contents`; returns success and stderr.
fn run_with_config(name: &str, contents: &[u8]) -> (bool, String) {
    let path = temp_file(name, contents);
    let out = tickpipe_run(name)
        .args(["--quiet", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_bad_config_names_the_file_the_key_and_the_reason() {
    let (ok, err) = run_with_config(
        "bad.toml",
        b"[risk]\nmax_exposure_pct = 900\n\n[feed]\nspeed = \"warp\"\n",
    );
    assert!(!ok);
    assert!(err.contains("bad.toml"), "{err}");
    assert!(err.contains("risk.max_exposure_pct"), "{err}");
    assert!(err.contains("feed.speed"), "{err}");
}

#[test]
fn an_unknown_key_is_an_error() {
    let (ok, err) = run_with_config("unknown.toml", b"[risk]\ncapitol = 100\n");
    assert!(!ok);
    assert!(
        err.contains("unknown.toml") && err.contains("capitol"),
        "{err}"
    );
}

#[test]
fn a_missing_core_is_an_error_at_start() {
    let (ok, err) = run_with_config(
        "cores.toml",
        b"[runtime]\nlayout = \"two_groups\"\ncores = [0, 4096]\n",
    );
    assert!(!ok);
    assert!(
        err.contains("runtime.cores[1]: core 4096 is not available"),
        "{err}"
    );
}

/// A preset takes its cores round-robin from the list: one missing core is one problem,
/// named by its place in the list, however many groups it would pin.
#[test]
fn a_missing_core_is_named_once_by_its_place_in_the_list() {
    let (ok, err) = run_with_config(
        "one_core.toml",
        b"[runtime]\nlayout = \"per_stage\"\ncores = [4096]\n",
    );
    assert!(!ok);
    assert!(err.contains("runtime.cores[0]: core 4096"), "{err}");
    assert_eq!(
        err.matches("core 4096 is not available").count(),
        1,
        "{err}"
    );
}

#[test]
fn a_short_run_prints_the_summary() {
    let out = tickpipe_run("summary")
        .args(["--quiet", "--duration", "45m", "--seed", "5"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for needle in [
        "ticks",
        "signals",
        "fills",
        "P&L",
        "tick→intent",
        "full-ring stalls",
    ] {
        assert!(stdout.contains(needle), "summary lacks {needle}:\n{stdout}");
    }
}

#[test]
fn ctrl_c_stops_the_feed_drains_and_reports() {
    use std::io::{BufRead, BufReader, Read};

    // Real-time pacing: the session would take hours; SIGINT must end it cleanly.
    let mut child = tickpipe_run("ctrl-c")
        .args(["--quiet", "--speed", "1"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The journal's line ("the day begins" or "resuming the day") comes after the Ctrl-C
    // handler is installed: wait for it rather than for a fixed time, so a slow host
    // cannot deliver the signal before the handler exists.
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        let n = stderr.read_line(&mut line).unwrap();
        assert!(n > 0, "tickpipe ended before it was ready:\n{seen}");
        seen.push_str(&line);
        if line.contains("the day begins") || line.contains("resuming the day") {
            break;
        }
    }
    let rest = std::thread::spawn(move || {
        let mut rest = String::new();
        stderr.read_to_string(&mut rest).unwrap();
        rest
    });
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    seen.push_str(&rest.join().unwrap());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{seen}");
    assert!(stdout.contains("run summary"), "{stdout}");
}

/// Runs `tickpipe run --quiet --summary-json` with `args`; returns its stdout and the
/// JSON summary.
fn run_with_json_summary(name: &str, args: &[&std::ffi::OsStr]) -> (String, serde_json::Value) {
    let path = temp_file(&format!("{name}-summary.json"), b"");
    let out = tickpipe_run(name)
        .arg("--quiet")
        .args(args)
        .arg("--summary-json")
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    (String::from_utf8_lossy(&out.stdout).into_owned(), v)
}

/// A run journals its day by default: the summary says where and how much, and the
/// journal it names verifies.
#[test]
fn a_run_journals_its_day_and_the_journal_verifies() {
    let (stdout, v) = run_with_json_summary("journaled", &["--duration".as_ref(), "2h".as_ref()]);
    let dir = std::path::PathBuf::from(v["journal"]["dir"].as_str().unwrap());
    assert!(dir.ends_with("journal/2026-11-25"), "{}", dir.display());
    assert!(
        stdout.contains(&format!("journal   {}: ", dir.display())),
        "{stdout}"
    );
    assert_eq!(v["journal"]["failures"].as_u64(), Some(0));
    assert_eq!(v["journal"]["flush"], "every_ms=10");
    let risk = v["journal"]["records"]["risk"].as_u64().unwrap();
    assert!(risk > 0, "{}", v["journal"]);
    let out = tickpipe()
        .args(["journal", "verify"])
        .arg(&dir)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains(&format!("risk: 1 segment(s), {risk} record(s)")),
        "{text}"
    );
}

#[test]
fn summary_json_holds_what_the_summary_prints_per_strategy() {
    let (stdout, v) =
        run_with_json_summary("summary-json", &["--duration".as_ref(), "2h".as_ref()]);
    let names: Vec<&str> = v["strategies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "momentum_surfer",
            "volume_scalper",
            "news_impact_scalper",
            "regime_adaptive"
        ],
        "the default configuration runs the four strategies"
    );
    let s = &v["strategies"][0];
    assert!(s["signals"].as_u64().unwrap() > 0);
    assert!(s["fills"].as_u64().unwrap() > 0);
    assert!(s["refusals"].is_object());
    // The execution line, as printed: the paper exchange answers in market time.
    let e = &s["execution"];
    assert_eq!(e["timed_in"], "market_time", "{e:#}");
    assert!(e["intents"].as_u64().unwrap() > 0, "{e:#}");
    assert!(e["fill_rate_pct"].as_f64().unwrap() > 0.0, "{e:#}");
    assert!(stdout.contains("(market time, p50)"), "{stdout}");
    let money =
        |x: &serde_json::Value| -> tickpipe::model::Money { x.as_str().unwrap().parse().unwrap() };
    assert_eq!(
        money(&v["pnl"]["total"]),
        money(&v["pnl"]["realized"]).saturating_add(money(&v["pnl"]["unrealized"]))
    );
    // Gross, charges and net: every fill paid something, the breakdown adds up to the
    // charges, and net is gross less them, in total and per strategy.
    let pnl = &v["pnl"];
    let charges = money(&pnl["charges"]);
    assert!(charges > tickpipe::model::Money::ZERO, "{pnl}");
    let parts: tickpipe::model::Money = ["brokerage", "stt", "transaction", "sebi", "stamp", "gst"]
        .iter()
        .map(|k| money(&pnl["charges_breakdown"][k]))
        .sum();
    assert_eq!(parts, charges);
    assert_eq!(
        money(&pnl["net"]),
        money(&pnl["total"]).saturating_add(charges.neg())
    );
    let strategy_charges: tickpipe::model::Money = v["strategies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            assert_eq!(
                money(&s["net"]),
                money(&s["total"]).saturating_add(money(&s["charges"]).neg())
            );
            money(&s["charges"])
        })
        .sum();
    assert_eq!(
        strategy_charges, charges,
        "each fill's charges belong to one strategy"
    );
    assert!(
        stdout.contains(&format!("fills {:>5}", s["fills"].as_u64().unwrap())),
        "the JSON and the printed summary agree:\n{stdout}"
    );
    let shown = tickpipe::cli::format::rupees(charges);
    assert!(
        stdout.contains(&format!("charges {shown};"))
            && stdout.contains(&format!("charges   {shown} = brokerage ")),
        "the P&L and charges lines show the JSON's charges ({shown}):\n{stdout}"
    );
    let per_strategy: u64 = v["strategies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["fills"].as_u64().unwrap())
        .sum();
    assert_eq!(
        v["flow"]["fills"].as_u64().unwrap(),
        per_strategy,
        "the strategies' fills add up to the day's"
    );
    let lat = &v["latency"];
    let n = |name: &str| lat[name]["n"].as_u64().unwrap();
    let p50 = |name: &str| lat[name]["p50_ns"].as_u64().unwrap();
    assert!(n("tick_to_intent") > 0);
    assert_eq!(
        n("tick_to_signal"),
        v["flow"]["signals"].as_u64().unwrap(),
        "{lat}"
    );
    // Every approved intent reaches the order stage, and each hop is measured from the
    // same ingress stamp, so the hops come in order.
    assert_eq!(n("tick_to_approval"), n("tick_to_order_stage"), "{lat}");
    assert_eq!(
        n("tick_to_approval"),
        v["flow"]["intents"].as_u64().unwrap()
    );
    assert!(
        p50("tick_to_approval") <= p50("tick_to_order_stage"),
        "{lat}"
    );
    assert_eq!(v["error"], serde_json::Value::Null);
    let forced = &v["forced_exits"];
    let kinds = forced["by_kind"].as_object().unwrap();
    let keys: Vec<&str> = kinds.keys().map(String::as_str).collect();
    for kind in [
        "stop_loss",
        "trailing_stop",
        "target",
        "time_stop",
        "square_off",
        "emergency",
    ] {
        assert!(
            keys.contains(&kind),
            "forced exits by kind lack {kind}: {keys:?}"
        );
    }
    let total: u64 = kinds.values().map(|n| n.as_u64().unwrap()).sum();
    assert_eq!(forced["total"].as_u64().unwrap(), total);
    assert!(
        stdout.contains(&format!(
            "exits     {total} forced (stop_loss {}",
            kinds["stop_loss"]
        )),
        "the JSON and the printed forced exits agree:\n{stdout}"
    );
}

#[test]
fn day_history_carries_across_sessions_and_holds_back_extended_stocks() {
    // Four rising days for every NIFTY 50 stock before the synthetic session's date.
    let universe =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config/nifty50.csv"))
            .unwrap();
    let mut history = String::from("symbol,date,close\n");
    for line in universe.lines().skip(1).filter(|l| !l.starts_with('#')) {
        let symbol = line.split(',').next().unwrap();
        for (day, close) in [(19, "100"), (20, "101"), (21, "102"), (24, "103")] {
            history.push_str(&format!("{symbol},2026-11-{day},{close}\n"));
        }
    }
    let path = temp_file("history.csv", history.as_bytes());
    let config = temp_file(
        "history.toml",
        format!(
            "[filters]\nhistory_file = {:?}\n",
            path.display().to_string()
        )
        .as_bytes(),
    );
    let (_, v) = run_with_json_summary(
        "history",
        &[
            "--duration".as_ref(),
            "3h".as_ref(),
            "--config".as_ref(),
            config.as_os_str(),
        ],
    );
    let held = v["strategies"][0]["filtered"]["overbought_oversold"]
        .as_u64()
        .unwrap_or(0);
    assert!(
        held > 0,
        "three up days hold longs back: {}",
        v["strategies"][0]
    );
    let after = std::fs::read_to_string(&path).unwrap();
    assert!(
        after.lines().any(|l| l.starts_with("SBIN,2026-11-25,")),
        "the session's closes were appended"
    );
    // A malformed history file stops the run before it trades, naming file and line.
    let bad = temp_file(
        "bad-history.csv",
        b"symbol,date,close\nSBIN,yesterday,100\n",
    );
    let bad_config = temp_file(
        "bad-history.toml",
        format!(
            "[filters]\nhistory_file = {:?}\n",
            bad.display().to_string()
        )
        .as_bytes(),
    );
    let (ok, stderr) = run_with_config_file(&bad_config);
    assert!(!ok);
    assert!(
        stderr.contains("filters.history_file") && stderr.contains("line 2"),
        "{stderr}"
    );
}

fn run_with_config_file(path: &std::path::Path) -> (bool, String) {
    let out = tickpipe_run("bad-history")
        .args(["--quiet", "--duration", "10m", "--config"])
        .arg(path)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `--report DIR` writes the trade journal's tables, and they add up to the run's own
/// summary: round trips, gross, charges and net per strategy, to the paisa.
#[test]
fn the_trade_report_adds_up_to_the_summary() {
    let dir = std::env::temp_dir().join(format!("tickpipe-cli-{}-report", std::process::id()));
    let (stdout, v) = run_with_json_summary("report", &["--report".as_ref(), dir.as_os_str()]);
    assert!(stdout.contains("round trips in"), "{stdout}");
    assert_eq!(
        v["pnl"]["open_positions"].as_u64(),
        Some(0),
        "the day ends flat"
    );
    let paise = |x: &serde_json::Value| -> String {
        let m: tickpipe::model::Money = x.as_str().unwrap().parse().unwrap();
        let p = m.to_paise_saturating();
        format!(
            "{}{}.{:02}",
            if p < 0 { "-" } else { "" },
            p.unsigned_abs() / 100,
            p.unsigned_abs() % 100
        )
    };
    let table = std::fs::read_to_string(dir.join("strategies.csv")).unwrap();
    let mut rows = table.lines();
    let header: Vec<&str> = rows.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let mut round_trips = 0;
    for (row, s) in rows.zip(v["strategies"].as_array().unwrap()) {
        let cells: Vec<&str> = row.split(',').collect();
        assert_eq!(cells[col("strategy")], s["name"].as_str().unwrap());
        assert_eq!(
            cells[col("trades")].parse::<u64>().unwrap(),
            s["round_trips"].as_u64().unwrap(),
            "{row}"
        );
        assert_eq!(cells[col("gross")], paise(&s["realized"]), "{row}");
        assert_eq!(cells[col("charges")], paise(&s["charges"]), "{row}");
        assert_eq!(cells[col("net")], paise(&s["net_realized"]), "{row}");
        round_trips += s["round_trips"].as_u64().unwrap();
    }
    let trades = std::fs::read_to_string(dir.join("trades.csv")).unwrap();
    assert_eq!(
        trades.lines().count() as u64,
        round_trips + 1,
        "a row per round trip"
    );
    let daily = std::fs::read_to_string(dir.join("daily.csv")).unwrap();
    let day: Vec<&str> = daily.lines().nth(1).unwrap().split(',').collect();
    assert_eq!(day[6], paise(&v["pnl"]["net"]), "the day's net: {daily}");
    let page = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(
        page.contains("## Strategies") && page.contains("## Trades"),
        "{page}"
    );
    // The plots sit next to the page, which links them; one line per strategy.
    for plot in ["equity.svg", "drawdown.svg", "strategies.svg"] {
        assert!(page.contains(&format!("]({plot})")), "{page}");
        let svg = std::fs::read_to_string(dir.join(plot)).unwrap();
        assert!(
            svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"),
            "{plot}"
        );
    }
    let lines = std::fs::read_to_string(dir.join("strategies.svg")).unwrap();
    let series = lines
        .split("<polyline")
        .skip(1)
        .filter(|p| p.split('>').next().unwrap().contains("stroke-width=\"2\""))
        .count();
    assert_eq!(series, v["strategies"].as_array().unwrap().len());
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(json["round_trips"].as_u64(), Some(round_trips));
    std::fs::remove_dir_all(&dir).unwrap();
}

mod journal {
    use std::path::{Path, PathBuf};

    use tickpipe::{
        journal::{Adoption, FlushPolicy, Journal, JournalConfig, Placement, Record, HEADER_SIZE},
        model::{
            ClientOrderId, ControlCommand, Date, Direction, FillRecord, InstrumentId, IntentId,
            IntentReason, Price, Qty, Side, Signal, Stamp, StrategyId, TimeOfDay, UnixNanos,
        },
    };

    use super::tickpipe;

    /// A journal of one day: writer `signal` with 6 signals from 09:15, one a minute, and
    /// writer `risk` with a fill on instrument 2 at 09:16 and one on instrument 3 at 09:18.
    fn small_journal(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "tickpipe-cli-journal-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let at = |m: u32| UnixNanos::from_ist(Date::new(2026, 11, 25), TimeOfDay::hm(9, 15 + m));
        let journal = Journal::open(
            &dir,
            JournalConfig {
                segment_bytes: 8192,
                flush: FlushPolicy::EveryMs(1),
                ..JournalConfig::DEFAULT
            },
        )
        .unwrap();
        let mut signals = journal.writer("signal").unwrap();
        let mut risk = journal.writer("risk").unwrap();
        for m in 0..6 {
            let s = Signal {
                exchange_ts: at(m),
                ingress: Stamp(0),
                price: Price::from_paise(245_005),
                stop: Price::ZERO,
                target: Price::ZERO,
                instrument: InstrumentId(m % 3 + 1),
                strategy: StrategyId(0),
                direction: Direction::Long,
                weight_pct: 100,
            };
            signals.append(at(m), &Record::Signal(s)).unwrap();
        }
        for (m, instrument) in [(1, 2), (3, 3)] {
            let f = FillRecord {
                intent: IntentId::new(u64::from(m), 0),
                exchange_ts: at(m),
                instrument: InstrumentId(instrument),
                strategy: StrategyId(0),
                side: Side::Buy,
                qty: Qty::new(10),
                price: Price::from_paise(245_005),
                reason: IntentReason::Entry,
            };
            risk.append(at(m), &Record::Fill(f)).unwrap();
        }
        drop((signals, risk));
        journal.shutdown().unwrap();
        dir
    }

    fn journal_cmd(args: &[&str], dir: &Path) -> (bool, String, String) {
        let out = tickpipe()
            .arg("journal")
            .args(args)
            .arg(dir)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// `journal inspect --type KIND DIR`'s lines, each with its padding squeezed to
    /// single spaces (the columns are padded: compare words).
    fn inspected(kind: &str, dir: &Path) -> Vec<String> {
        let (ok, out, err) = journal_cmd(&["inspect", "--type", kind], dir);
        assert!(ok, "{err}");
        out.lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect()
    }

    #[test]
    fn verify_sums_up_each_writer() {
        let dir = small_journal("verify");
        let (ok, out, err) = journal_cmd(&["verify"], &dir);
        assert!(ok, "{err}");
        assert!(
            out.contains("risk: 1 segment(s), 2 record(s), sequence 1..2"),
            "{out}"
        );
        assert!(out.contains("signal: 1 segment(s), 6 record(s)"), "{out}");
        assert!(out.contains("ok: 2 writer(s), 8 intact record(s)"), "{out}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn inspect_prints_one_line_per_record_and_filters() {
        let dir = small_journal("inspect");
        let (ok, out, err) = journal_cmd(&["inspect"], &dir);
        assert!(ok, "{err}");
        assert_eq!(out.lines().count(), 8, "{out}");
        let words: Vec<Vec<&str>> = out
            .lines()
            .map(|l| l.split_whitespace().collect())
            .collect();
        assert!(
            words.contains(
                &"2026-11-25 09:16:00.000 IST risk 1 fill i2 BUY 10 @ 2450.05 reason=entry strategy=0 intent=#1"
                    .split(' ')
                    .collect::<Vec<_>>()
            ),
            "{out}"
        );
        let (_, out, _) = journal_cmd(&["inspect", "--type", "fill"], &dir);
        assert_eq!(out.lines().count(), 2, "{out}");
        let (_, out, _) = journal_cmd(&["inspect", "--instrument", "2"], &dir);
        // Signals at 09:16 and 09:19 (instruments 1, 2, 3, 1, 2, 3) and the 09:16 fill.
        assert_eq!(out.lines().count(), 3, "{out}");
        let (_, out, _) = journal_cmd(&["inspect", "--from", "09:17", "--to", "09:19"], &dir);
        assert_eq!(out.lines().count(), 3, "{out}");
        let (ok, _, err) = journal_cmd(&["inspect", "--type", "fills"], &dir);
        assert!(!ok && err.contains("expected one of intent"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn inspect_names_the_feed_stale_flag_as_its_alerts_do() {
        let dir = std::env::temp_dir().join(format!(
            "tickpipe-cli-journal-{}-feed-stale",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let at = |m: u32| UnixNanos::from_ist(Date::new(2026, 11, 25), TimeOfDay::hm(12, m));
        let journal = Journal::open(&dir, JournalConfig::DEFAULT).unwrap();
        let mut risk = journal.writer("risk").unwrap();
        for (m, stale) in [(0, true), (40, false)] {
            risk.append(at(m), &Record::Control(ControlCommand::FeedStale(stale)))
                .unwrap();
        }
        drop(risk);
        journal.shutdown().unwrap();
        assert_eq!(
            inspected("control", &dir),
            [
                "2026-11-25 12:00:00.000 IST risk 1 control feed_stale",
                "2026-11-25 12:40:00.000 IST risk 2 control feed_recovered",
            ]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// The risk stage's adoption of a broker's position: readable in `inspect`, counted
    /// by `verify`, and not a trade, so the fills' CSV leaves it out.
    #[test]
    fn an_adoption_is_inspected_and_verified_and_is_no_trade() {
        let dir =
            std::env::temp_dir().join(format!("tickpipe-cli-journal-{}-adopt", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let at = |m: u32| UnixNanos::from_ist(Date::new(2026, 11, 25), TimeOfDay::hm(12, m));
        let journal = Journal::open(&dir, JournalConfig::DEFAULT).unwrap();
        let mut risk = journal.writer("risk").unwrap();
        let adopt = Adoption {
            instrument: InstrumentId(1),
            broker_net: -40,
            broker_avg: Price::from_paise(5_010),
            book_net: 0,
            book_avg: Price::ZERO,
        };
        risk.append(at(5), &Record::Adopt(adopt)).unwrap();
        let buy_back = FillRecord {
            intent: IntentId::new(1, 0),
            exchange_ts: at(10),
            instrument: InstrumentId(1),
            strategy: StrategyId(0),
            side: Side::Buy,
            qty: Qty::new(40),
            price: Price::from_paise(4_960),
            reason: IntentReason::Manual,
        };
        risk.append(at(10), &Record::Fill(buy_back)).unwrap();
        // Later the broker lists the instrument flat where the book holds a long.
        let flat = Adoption {
            broker_net: 0,
            broker_avg: Price::ZERO,
            book_net: 25,
            book_avg: Price::from_paise(4_980),
            ..adopt
        };
        risk.append(at(15), &Record::Adopt(flat)).unwrap();
        drop(risk);
        journal.shutdown().unwrap();

        assert_eq!(
            inspected("adopt", &dir),
            [
                "2026-11-25 12:05:00.000 IST risk 1 adopt i1 broker net=-40 avg=50.10 (book was flat)",
                "2026-11-25 12:15:00.000 IST risk 3 adopt i1 broker net=0 avg=0.00 (book had net=25 avg=49.80)",
            ]
        );
        let (ok, out, err) = journal_cmd(&["inspect", "--instrument", "1"], &dir);
        assert!(ok, "{err}");
        assert_eq!(out.lines().count(), 3, "{out}");
        let (ok, out, err) = journal_cmd(&["verify"], &dir);
        assert!(ok, "{err}");
        assert!(
            out.contains("risk: 1 segment(s), 3 record(s), sequence 1..3"),
            "{out}"
        );
        assert!(out.contains("(fill 1, adopt 2)"), "{out}");
        let (ok, out, err) = journal_cmd(&["export"], &dir);
        assert!(ok, "{err}");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2, "the header and the one fill: {out}");
        assert!(lines[1].ends_with(",BUY,40,49.60,manual"), "{}", lines[1]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A broker's acknowledgement of a child order under its own id (what a resumed day
    /// takes the order over by): readable in `inspect`, counted by `verify`, no trade.
    #[test]
    fn a_placement_is_inspected_and_verified_and_is_no_trade() {
        let dir = std::env::temp_dir().join(format!(
            "tickpipe-cli-journal-{}-placed",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let at = |m: u32| UnixNanos::from_ist(Date::new(2026, 11, 25), TimeOfDay::hm(12, m));
        let journal = Journal::open(&dir, JournalConfig::DEFAULT).unwrap();
        let mut order = journal.writer("order").unwrap();
        let stop = Placement {
            order: ClientOrderId::new(IntentId::new(4, 2), 1),
            venue_id: 251_125_000_000_042,
            limit: Price::ZERO,
            trigger: Price::from_paise(9_805),
            qty: Qty::new(10),
            prior: Qty::ZERO,
            instrument: InstrumentId(1),
            slice: 0,
            side: Side::Sell,
        };
        order.append(at(5), &Record::Placed(stop)).unwrap();
        drop(order);
        journal.shutdown().unwrap();

        assert_eq!(
            inspected("placed", &dir),
            [
                "2026-11-25 12:05:00.000 IST order 1 placed i1 SELL c4.1 venue_id=251125000000042 \
              qty=10 limit=0.00 trigger=98.05 slice=0 prior=0"
            ]
        );
        let (ok, out, err) = journal_cmd(&["verify"], &dir);
        assert!(ok, "{err}");
        assert!(out.contains("(placed 1)"), "{out}");
        let (ok, out, err) = journal_cmd(&["export"], &dir);
        assert!(ok, "{err}");
        assert_eq!(out.lines().count(), 1, "the header alone: {out}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn export_writes_the_fills_as_csv() {
        let dir = small_journal("export");
        let (ok, out, err) = journal_cmd(&["export"], &dir);
        assert!(ok, "{err}");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 3, "{out}");
        assert!(lines[0].starts_with("time_ist,exchange_ts_ns,writer,seq,intent"));
        assert!(
            lines[1].ends_with(",risk,1,1,2,0,BUY,10,2450.05,entry"),
            "{}",
            lines[1]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn verify_names_a_corrupt_record_and_cuts_a_torn_tail_only_when_asked() {
        let dir = small_journal("bad");
        let path = dir.join("signal-00000000000000000001.tpj");
        let mut bytes = std::fs::read(&path).unwrap();
        // Tear the last signal (the sixth, at 64 + 5 × 64).
        let last = HEADER_SIZE + 5 * 64;
        bytes[last + 20] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        let (ok, out, _) = journal_cmd(&["verify"], &dir);
        assert!(ok);
        assert!(out.contains("torn tail at byte 384"), "{out}");
        assert!(out.contains("signal: 1 segment(s), 5 record(s)"), "{out}");
        let (ok, out, _) = journal_cmd(&["verify", "--truncate-torn-tail"], &dir);
        assert!(ok && out.contains("cut at byte 384"), "{out}");
        let (ok, out, _) = journal_cmd(&["verify"], &dir);
        assert!(ok && !out.contains("torn"), "{out}");

        // A flipped byte in the second record, with intact records after it.
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[HEADER_SIZE + 64 + 30] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        let (ok, _, err) = journal_cmd(&["verify"], &dir);
        assert!(!ok);
        assert!(
            err.contains("signal-00000000000000000001.tpj at byte 128 (sequence 2)"),
            "{err}"
        );
        assert!(err.contains("run: tickpipe journal verify"), "{err}");
        let (ok, _, err) = journal_cmd(&["inspect"], &dir);
        assert!(!ok && err.contains("at byte 128"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// `tickpipe feed decode --format kite` on a capture with a heartbeat, an LTP message,
/// a bad hex line, a message whose packet count overruns it, and a cut packet.
#[test]
fn feed_decode_prints_one_json_line_per_message() {
    let capture = "00\n\
        00010008000b45010001f6fd\n\
        zz01\n\
        00020008000b45010001f6fd\n\
        0001002c000b45010001f6fd\n";
    let path = temp_file("capture.hex", capture.as_bytes());
    let out = tickpipe()
        .args(["feed", "decode", "--format", "kite"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ltp = serde_json::json!({"ticks": [{"tradable": true, "mode": "ltp",
        "instrument_token": 738561, "last_price": 1287.65}]});
    assert_eq!(lines.len(), 5, "{stdout}");
    assert_eq!(lines[0], serde_json::json!({"ticks": []}));
    assert_eq!(lines[1], ltp);
    assert!(
        lines[2]["error"].as_str().unwrap().contains("not hex"),
        "{stdout}"
    );
    // The official client fails a message whose count overruns it.
    assert!(
        lines[3]["error"].as_str().unwrap().contains("packet 1"),
        "{stdout}"
    );
    // It reads a cut packet by the length it has: 8 of 44 bytes make an LTP tick.
    assert_eq!(lines[4], ltp);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("5 messages, 2 errors"), "{stderr}");
    assert!(stderr.contains("1 skipped (truncated)"), "{stderr}");
    assert!(stderr.contains("1 skipped (missing_length)"), "{stderr}");

    let mut child = tickpipe()
        .args(["feed", "decode", "--format", "kite", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"00010008000b45010001f6fd\n").unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let line: serde_json::Value =
        serde_json::from_str(String::from_utf8(out.stdout).unwrap().trim()).unwrap();
    assert_eq!(line, ltp);
}

/// `tickpipe config check` on files written to a directory of the test's own.
mod config_check {
    use super::{temp_file, tickpipe};
    use std::path::PathBuf;

    /// A file that keeps the run's directories inside the test's temp directory, so the
    /// check's writability probes touch nothing else.
    fn config_file(name: &str, control: &str, extra: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tickpipe-cli-{}", std::process::id()));
        let text = format!(
            "[control]\nrun_dir = {run:?}\n{control}\n[journal]\ndir = {journal:?}\n\n{extra}",
            run = dir.join(format!("{name}-run")),
            journal = dir.join(format!("{name}-journal")),
        );
        temp_file(name, text.as_bytes())
    }

    fn check(files: &[&PathBuf]) -> (Option<i32>, String, String) {
        let out = tickpipe()
            .args(["config", "check"])
            .args(files)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    #[test]
    fn config_alone_still_prints_the_embedded_default() {
        let out = tickpipe().arg("config").output().unwrap();
        assert!(out.status.success());
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            include_str!("../config/default.toml")
        );
    }

    #[test]
    fn a_good_file_passes_and_a_partial_file_keeps_the_shipped_strategies() {
        // Only one risk limit changed: everything else is config/default.toml's, so the
        // four shipped strategies stay on.
        let good = config_file(
            "check-good.toml",
            "",
            "[runtime]\ncores = []\n\n[risk]\nmax_position_pct = 10\n",
        );
        let (code, stdout, stderr) = check(&[&good]);
        assert_eq!(code, Some(0), "{stdout}{stderr}");
        assert_eq!(
            stdout,
            format!(
                "{}: ok (4 strategies on, source synthetic, layout two_groups)\n",
                good.display()
            )
        );
    }

    #[test]
    fn every_problem_of_every_file_is_reported() {
        let dir = std::env::temp_dir().join(format!("tickpipe-cli-{}", std::process::id()));
        let missing = dir.join("no-such-universe.csv");
        let bad = config_file(
            "check-bad.toml",
            "core = 999\n",
            &format!(
                "core = 998\n\n[runtime]\ncores = []\n\n[risk]\nmax_exposure_pct = 900\n\n\
                 [feed.synthetic]\nuniverse = {missing:?}\n"
            ),
        );
        let good = config_file("check-good2.toml", "", "[runtime]\ncores = []\n");
        let (code, stdout, stderr) = check(&[&bad, &good]);
        assert_eq!(code, Some(1), "{stdout}{stderr}");
        let problems: Vec<&str> = stdout
            .lines()
            .filter(|l| l.starts_with(&bad.display().to_string()))
            .collect();
        assert_eq!(problems.len(), 4, "{stdout}");
        for key in [
            "risk.max_exposure_pct",
            "feed.synthetic.universe",
            "control.core",
            "journal.core",
        ] {
            assert!(
                problems
                    .iter()
                    .any(|l| l.starts_with(&format!("{}: {key}: ", bad.display()))),
                "{key} missing from:\n{stdout}"
            );
        }
        assert!(stdout.contains("no-such-universe.csv"), "{stdout}");
        assert!(stdout.contains("core 999"), "{stdout}");
        assert!(
            stdout.contains(&format!("{}: ok (", good.display())),
            "the second file is still checked:\n{stdout}"
        );
        assert!(stdout.contains("core 998"), "{stdout}");
        assert!(stderr.contains("4 problems in 1 of 2 files"), "{stderr}");
    }
}

/// Run options typed before the subcommand are applied or refused, never dropped.
mod options_before_the_subcommand {
    use super::{temp_file, tickpipe};

    #[test]
    fn config_before_run_is_applied() {
        let bad = temp_file("before-run.toml", b"[risk]\nmax_exposure_pct = 900\n");
        let out = tickpipe()
            .arg("-c")
            .arg(&bad)
            .args(["run", "--no-control", "--no-journal", "-q"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(
            stderr.contains("before-run.toml") && stderr.contains("risk.max_exposure_pct"),
            "{stderr}"
        );
    }

    #[test]
    fn an_option_on_both_sides_names_both() {
        let out = tickpipe()
            .args(["--seed", "1", "run", "--seed", "2"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(
            stderr.contains("--seed is given twice, 1 before `run` and 2 after it"),
            "{stderr}"
        );
    }

    #[test]
    fn other_subcommands_refuse_them() {
        let out = tickpipe()
            .args(["--config", "x.toml", "config"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(out.stdout.is_empty(), "nothing runs");
        assert!(
            stderr.contains("--config before `config`")
                && stderr.contains("tickpipe run --config FILE"),
            "{stderr}"
        );
    }
}
