//! Backtests of synthetic days through the whole pipeline: a backtest day trades exactly
//! as the threaded live pipeline does on that day, the command writes every file, and
//! the same input gives byte-identical files.

mod common;

use std::{
    path::PathBuf,
    process::Command,
    sync::{atomic::AtomicBool, Arc},
};

use common::{config, fills, run_threaded};
use tickpipe::{
    backtest::{run_session, SessionStats},
    charges::{ChargeModel, Charger},
    engine::Pipeline,
    report::TradeBook,
};

fn tickpipe() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tickpipe"))
}

/// A scratch directory of this test, removed when the test passes.
fn temp_dir(name: &str) -> common::Scratch {
    common::Scratch::new("backtest-pipeline", name)
}

/// A config file for the command: the default config (its four strategies), trading
/// the first two hours of each day (enough for every strategy to trade, short enough
/// for a test).
fn short_days_config(dir: &std::path::Path) -> PathBuf {
    let path = dir.join("config.toml");
    let text = tickpipe::engine::DEFAULT_TOML.replacen("duration = \"\"", "duration = \"120m\"", 1);
    assert_ne!(text, tickpipe::engine::DEFAULT_TOML);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_backtest_day_trades_exactly_as_the_threaded_live_pipeline() {
    let cfg = config(20261125, "");
    let threaded = run_threaded(&cfg);
    assert!(threaded.error().is_none(), "{:?}", threaded.error());
    let live_fills = fills(&threaded);
    assert!(
        live_fills.len() >= 2,
        "the day must trade for the comparison to mean anything"
    );

    let session = run_session(&cfg, 1, |_, _, _| {}).expect("the backtest runs");
    assert_eq!(session.days.len(), 1);
    let day = &session.days[0];
    assert_eq!(day.day.seed, cfg.feed.synthetic.seed);
    assert_eq!(day.fills, live_fills, "the same fills, in the same order");

    let instruments = cfg.feed.open().unwrap().instruments;
    let charger = Charger::new(ChargeModel::new(&cfg.charges), &instruments);
    let live_book = TradeBook::of(&live_fills, &charger).unwrap();
    assert!(!live_book.trades.is_empty());
    assert_eq!(
        session.book, live_book,
        "the same round trips, P&L and charges"
    );
    assert_eq!(
        day.end_equity,
        threaded.trading().unwrap().equity,
        "the same closing equity"
    );
}

/// A backtest's pipeline measures no latency: no event is stamped, no service time
/// sampled, no latency recorded; and it trades exactly as a pipeline that measures.
#[test]
fn an_unmeasured_pipeline_stamps_nothing_and_trades_the_same() {
    let cfg = config(20261125, "90m");
    let measured = common::run_inline(&cfg);
    let opened = cfg.feed.open().unwrap();
    let until = cfg.feed.until(opened.start).unwrap();
    let unmeasured = Pipeline::build_unmeasured(
        &cfg,
        &opened.instruments,
        opened.source,
        opened.start,
        until,
        Arc::new(AtomicBool::new(false)),
    )
    .unwrap()
    .run_inline();
    assert!(unmeasured.error().is_none(), "{:?}", unmeasured.error());
    let expected = fills(&measured);
    assert!(expected.len() >= 2, "the day must trade");
    assert_eq!(fills(&unmeasured), expected);
    assert_eq!(
        unmeasured.trading().unwrap().equity,
        measured.trading().unwrap().equity
    );
    assert_eq!(measured.stages().len(), 4);
    for (m, u) in measured.stages().into_iter().zip(unmeasured.stages()) {
        assert!(!m.service.is_empty(), "{}: measured", m.name);
        assert!(
            u.service.is_empty(),
            "{}: {} service samples",
            u.name,
            u.service.len()
        );
        for (name, h) in &u.latencies {
            assert!(h.is_empty(), "{}: {name} holds {} samples", u.name, h.len());
        }
    }
    let measured_latencies: u64 = measured
        .stages()
        .iter()
        .flat_map(|s| &s.latencies)
        .map(|(_, h)| h.len())
        .sum();
    assert!(measured_latencies > 0, "a measured run records latencies");
}

#[test]
fn later_days_differ_and_the_account_carries_over() {
    let cfg = config(5, "60m");
    let session = run_session(&cfg, 2, |_, _, _| {}).unwrap();
    let [first, second] = &session.days[..] else {
        panic!("two days");
    };
    assert_ne!(first.day.seed, second.day.seed);
    assert_eq!(second.day.date, first.day.date.add_days(1));
    assert_eq!(second.start_equity, first.end_equity);
    assert_ne!(first.fills, second.fills);
    let stats = SessionStats::of(&session);
    assert_eq!(stats.trades, session.book.trades.len());
    let numbers: Vec<usize> = session.book.trades.iter().map(|t| t.number).collect();
    assert_eq!(numbers, (1..=numbers.len()).collect::<Vec<_>>());
}

#[test]
fn three_days_compared_write_every_file() {
    let dir = temp_dir("compare");
    let config = short_days_config(&dir);
    let out = dir.join("out");
    let run = tickpipe()
        .args([
            "backtest",
            "--synthetic",
            "--days",
            "3",
            "--compare",
            "--config",
        ])
        .arg(&config)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    for file in [
        "trades.csv",
        "daily.csv",
        "strategies.csv",
        "equity.csv",
        "stats.json",
        "report.md",
        "report.json",
        "equity.svg",
        "drawdown.svg",
        "strategies.svg",
        "compare.md",
        "compare.csv",
    ] {
        let path = out.join(file);
        let len = std::fs::metadata(&path)
            .unwrap_or_else(|e| panic!("{file}: {e}"))
            .len();
        assert!(len > 0, "{file} is empty");
    }
    // Four default strategies alone, then all together; a line per day of each.
    let compare = std::fs::read_to_string(out.join("compare.csv")).unwrap();
    let rows: Vec<&str> = compare.lines().skip(1).collect();
    assert_eq!(rows.len(), 5, "{compare}");
    assert!(rows[4].starts_with("all: "), "{compare}");
    assert_eq!(stderr.matches("day 3/3").count(), 5, "{stderr}");
    assert!(stdout.contains("| strategies | trades |"), "{stdout}");

    let stats: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("stats.json")).unwrap()).unwrap();
    assert_eq!(stats["risk_profile"], "configured");
    assert_eq!(stats["days"], 3);
    assert!(stats.get("sharpe_ratio").is_some() && stats.get("max_drawdown").is_some());
    let trades = stats["trades"].as_u64().unwrap();
    assert!(trades > 0, "two hours of three days trade");
    let trade_rows = std::fs::read_to_string(out.join("trades.csv"))
        .unwrap()
        .lines()
        .count()
        - 1;
    assert_eq!(trade_rows as u64, trades);
    // The `all` row is the session the report files describe.
    let all: Vec<&str> = rows[4].split(',').collect();
    assert_eq!(all[2], trades.to_string());
    // The compared runs are alone: each strategy's own row differs from the sum of all.
    let alone: u64 = rows[..4]
        .iter()
        .map(|r| r.split(',').nth(2).unwrap().parse::<u64>().unwrap())
        .sum();
    assert!(alone > 0);

    // equity.csv is a daily curve `tickpipe report --equity` reads.
    let equity = std::fs::read_to_string(out.join("equity.csv")).unwrap();
    assert_eq!(
        equity.lines().count(),
        5,
        "header, the day before, three days"
    );
    let report = tickpipe()
        .args(["report", "--json", "--equity"])
        .arg(out.join("equity.csv"))
        .output()
        .unwrap();
    assert!(
        report.status.success(),
        "{}",
        String::from_utf8_lossy(&report.stderr)
    );
    let read: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
    assert_eq!(read["sharpe_ratio"], stats["sharpe_ratio"]);
}

/// Twice, on one thread and on two (the next day generated while a day is traded).
#[test]
fn the_same_input_writes_byte_identical_files() {
    let dir = temp_dir("identical");
    let config = short_days_config(&dir);
    let mut outs = Vec::new();
    for (name, jobs) in [("a", "1"), ("b", "2")] {
        let out = dir.join(name);
        let run = tickpipe()
            .args(["backtest", "--synthetic", "--days", "3", "--jobs", jobs])
            .arg("--config")
            .arg(&config)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        outs.push(out);
    }
    let mut names: Vec<_> = std::fs::read_dir(&outs[0])
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert!(names.len() >= 10, "{names:?}");
    for name in names {
        let a = std::fs::read(outs[0].join(&name)).unwrap();
        let b = std::fs::read(outs[1].join(&name)).unwrap();
        assert!(
            a == b,
            "{name:?} differs between a run on one thread and one on two"
        );
    }
}

#[test]
fn bad_flags_get_clear_errors() {
    let dir = temp_dir("errors");
    let fail = |args: &[&str]| {
        let out = tickpipe().args(args).output().unwrap();
        assert!(!out.status.success(), "{args:?} succeeded");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let out = dir.join("out");
    let out = out.to_str().unwrap();
    assert!(fail(&["backtest", "--synthetic", "--days", "0", "--out", out]).contains("--days 0"));
    // A file that leaves one strategy on cannot be compared.
    let one = dir.join("one.toml");
    std::fs::write(
        &one,
        "[feed]\nduration = \"120m\"\n[strategy.sma_cross]\nenabled = true\n\
         [strategy.momentum_surfer]\nenabled = false\n[strategy.volume_scalper]\nenabled = false\n\
         [strategy.news_impact_scalper]\nenabled = false\n[strategy.regime_adaptive]\nenabled = false\n",
    )
    .unwrap();
    let err = fail(&[
        "backtest",
        "--synthetic",
        "--compare",
        "--config",
        one.to_str().unwrap(),
        "--out",
        out,
    ]);
    assert!(
        err.contains("--compare") && err.contains("only sma_cross"),
        "{err}"
    );
    assert!(fail(&["backtest", "--days", "2"]).contains("--synthetic"));
    assert!(fail(&["backtest", "--synthetic", "--strategy", "sma_cross"]).contains("--strategy"));
    assert!(fail(&["backtest", "--synthetic", "--data", "x.csv"]).contains("--data"));
    // Flags a synthetic run would ignore are refused, and so are the synthetic run's
    // flags over a data file, each error naming the flag.
    for flags in [
        &["--sweep", "fast=5..15:5"][..],
        &["--sweep", "fast=5..15:5", "--shard", "1/2"],
        &["--symbol", "SBIN"],
        &["--param", "fast=5"],
        &["--cash", "5000"],
        &["--commission", "0.001"],
        &["--sizing", "equity"],
        &["--fill", "close"],
        &["--risk", "configured"],
        &["--finalize"],
    ] {
        let mut args = vec!["backtest", "--synthetic", "--out", out];
        args.extend_from_slice(flags);
        let err = fail(&args);
        assert!(
            err.contains(flags[0]) && err.contains("--synthetic"),
            "{flags:?}: {err}"
        );
    }
    let csv = dir.join("bars.csv");
    std::fs::write(
        &csv,
        "date,open,high,low,close,volume\n2024-01-01 09:15:00,10,11,9,10,100\n",
    )
    .unwrap();
    for flags in [
        &["--compare"][..],
        &["--days", "3"],
        &["--walk-forward", "train=2,test=1"],
    ] {
        let mut args = vec!["backtest", "--data", csv.to_str().unwrap(), "--out", out];
        args.extend_from_slice(flags);
        let err = fail(&args);
        assert!(
            err.contains(flags[0]) && err.contains("--data"),
            "{flags:?}: {err}"
        );
    }
    assert!(!std::path::Path::new(out).exists(), "no output on an error");
}

/// A walk-forward fits on its training days and trades only its test days with the fit:
/// the training figures are those of the configured run's days, a strategy that lost in
/// training does not trade in the next window, the test windows follow one another on
/// one account, and the same input gives the same folds.
#[test]
fn a_walk_forward_judges_only_unseen_days_with_what_it_fitted() {
    use tickpipe::backtest::{plan, walk_forward, walk_forward_csv, WalkForward};
    let cfg = config(20261125, "120m");
    let days = plan(&cfg, 4).unwrap();
    let windows: WalkForward = "train=2,test=1,fit=5".parse().unwrap();
    let run = || walk_forward(&cfg, &days, windows, |_, _, _, _| {}).unwrap();
    let outcome = run();
    assert_eq!(outcome.folds.len(), 2);
    let oos = &outcome.out_of_sample;
    let tested: Vec<_> = oos.days.iter().map(|d| d.day).collect();
    assert_eq!(tested, [days[2], days[3]], "only the test days are judged");
    assert_eq!(
        oos.days[1].start_equity, oos.days[0].end_equity,
        "one account"
    );

    let configured = run_session(&cfg, 3, |_, _, _| {}).unwrap();
    for (k, fold) in outcome.folds.iter().enumerate() {
        assert_eq!(fold.train, days[k..k + 2]);
        assert_eq!(fold.test, [days[k + 2]]);
        let mut net = vec![tickpipe::model::Money::ZERO; fold.fit.training_net.len()];
        for t in configured.days[k..k + 2]
            .iter()
            .flat_map(|d| &d.book.trades)
        {
            net[t.strategy.index()] = net[t.strategy.index()].saturating_add(t.net());
        }
        assert_eq!(fold.fit.training_net, net, "fold {k}: the training figures");
        let best = net.iter().copied().max().unwrap();
        for (i, (&n, &w)) in net.iter().zip(&fold.fit.weights).enumerate() {
            assert_eq!(
                w == 0,
                n <= tickpipe::model::Money::ZERO,
                "fold {k} strategy {i}"
            );
            if n == best && w > 0 {
                assert_eq!(w, 100);
            }
        }
        let switched_off: Vec<usize> = (0..net.len())
            .filter(|&i| fold.fit.weights[i] == 0)
            .collect();
        let day_trades = &oos.days[k].book.trades;
        assert!(
            day_trades
                .iter()
                .all(|t| !switched_off.contains(&t.strategy.index())),
            "fold {k}: a strategy switched off traded: {day_trades:?}"
        );
        assert!(fold.fit.returns > 100, "two days of minute bars");
        if fold.fit.kept_configured.is_none() {
            assert!(
                fold.fit.loglik.1 >= fold.fit.loglik.0,
                "EM never lowers the likelihood"
            );
        }
    }
    let names = &oos.strategy_names;
    assert_eq!(
        walk_forward_csv(&outcome, names),
        walk_forward_csv(&run(), names),
        "deterministic"
    );
}

#[test]
fn a_walk_forward_says_what_it_needs() {
    use tickpipe::backtest::{plan, walk_forward, WalkForward};
    let mut cfg = config(7, "30m");
    let days = plan(&cfg, 3).unwrap();
    let windows: WalkForward = "train=3,test=1".parse().unwrap();
    let e = walk_forward(&cfg, &days, windows, |_, _, _, _| {}).unwrap_err();
    assert!(e.contains("needs at least 4 days"), "{e}");
    cfg.strategy.regime_adaptive.enabled = false;
    let e = walk_forward(&cfg, &days, windows, |_, _, _, _| {}).unwrap_err();
    assert!(e.contains("enable [strategy.regime_adaptive]"), "{e}");
}
