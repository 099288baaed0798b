//! `tickpipe backtest --synthetic --days N [--compare]`: synthetic trading days through
//! the whole pipeline, with a line per day on standard error, the report files in
//! `--out` and a short summary (or the comparison table) on standard output.

use std::path::PathBuf;

use super::BacktestArgs;
use crate::{
    backtest::{
        compare_csv, compare_markdown, compare_table, run_session_on, run_shared_days, title,
        variants, write_session, CompareRow, DayOutcome, SessionOutcome, SessionStats,
        CONFIGURED_RISK,
    },
    engine::EngineConfig,
    report::paise,
};

/// Loads the config, runs the session (or the comparison), writes and prints.
pub(super) fn backtest(args: &BacktestArgs) -> Result<(), String> {
    let config = load(args.config.as_ref())?;
    if args.days == 0 {
        return Err("--days 0: give at least one trading day".to_owned());
    }
    if args.compare {
        return compare(args, &config);
    }
    if let Some(windows) = args.walk_forward {
        return walk_forward(args, &config, windows);
    }
    // With a second thread the next day is generated while one is traded; the session
    // is the one a single thread trades (`--jobs 1`), file for file.
    let outcome = run_session_on(&config, args.days, args.jobs(), |i, n, day| {
        progress("", i, n, day);
    })?;
    let stats = SessionStats::of(&outcome);
    let written = write_session(&args.out, &outcome, &stats)?;
    print!("{}", summary(&outcome, &stats));
    println!(
        "wrote     {} files to {}",
        written.len(),
        args.out.display()
    );
    Ok(())
}

/// The config file, or the embedded default, validated.
pub(super) fn load(path: Option<&PathBuf>) -> Result<EngineConfig, String> {
    let (config, origin) = match path {
        Some(p) => (
            EngineConfig::from_file(p).map_err(|e| e.to_string())?,
            p.display().to_string(),
        ),
        None => (
            EngineConfig::embedded_default(),
            "embedded default".to_owned(),
        ),
    };
    config.validate(&origin).map_err(|e| e.to_string())?;
    Ok(config)
}

/// Each strategy alone, then all together; the table printed and written, and the
/// report files of all together.
fn compare(args: &BacktestArgs, config: &EngineConfig) -> Result<(), String> {
    let runs = variants(config)?;
    // The variants trade the same days: each day is generated once for all of them, and
    // the work is spread over the cores; each variant's session is the one it would
    // trade alone, so every file is byte-identical to a serial run's (`--jobs 1`).
    let outcomes = run_shared_days(&runs, args.days, args.jobs(), |r, i, n, day| {
        progress(&runs[r].0, i, n, day);
    })?;
    let mut rows = Vec::with_capacity(runs.len());
    let mut together = None;
    for ((label, _), outcome) in runs.iter().zip(outcomes) {
        let stats = SessionStats::of(&outcome);
        rows.push(CompareRow {
            label: label.clone(),
            stats: stats.clone(),
        });
        together = Some((outcome, stats));
    }
    let Some((outcome, stats)) = together else {
        return Err("--compare: nothing ran".to_owned());
    };
    let mut written = write_session(&args.out, &outcome, &stats)?;
    for (file, text) in [
        ("compare.md", compare_markdown(&rows, &title(&outcome))),
        ("compare.csv", compare_csv(&rows)),
    ] {
        let path = args.out.join(file);
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        written.push(path);
    }
    print!("{}", compare_table(&rows));
    print!("{}", summary(&outcome, &stats));
    println!(
        "wrote     {} files to {} (the report is of all strategies together)",
        written.len(),
        args.out.display()
    );
    Ok(())
}

/// The folds, the out-of-sample report files (of the test days only) and the fold
/// table, printed and written.
fn walk_forward(
    args: &BacktestArgs,
    config: &EngineConfig,
    windows: crate::backtest::WalkForward,
) -> Result<(), String> {
    use crate::backtest::{walk_forward_csv, walk_forward_markdown};
    let plan = crate::backtest::plan(config, args.days)?;
    let outcome = crate::backtest::walk_forward(config, &plan, windows, |label, i, n, day| {
        progress(label, i, n, day)
    })?;
    let oos = &outcome.out_of_sample;
    let stats = SessionStats::of(oos);
    let mut written = write_session(&args.out, oos, &stats)?;
    let markdown = format!(
        "{}\nOut of sample, all folds on one account:\n\n```\n{}```\n",
        walk_forward_markdown(&outcome, &oos.strategy_names),
        summary(oos, &stats)
    );
    for (file, text) in [
        ("walk_forward.md", markdown.clone()),
        (
            "walk_forward.csv",
            walk_forward_csv(&outcome, &oos.strategy_names),
        ),
    ] {
        let path = args.out.join(file);
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        written.push(path);
    }
    print!("{markdown}");
    println!(
        "wrote     {} files to {} (the report is of the out-of-sample days only)",
        written.len(),
        args.out.display()
    );
    Ok(())
}

/// One line per day on standard error (wall time here only: no file holds it).
fn progress(label: &str, i: usize, n: usize, day: &DayOutcome) {
    let label = if label.is_empty() {
        String::new()
    } else {
        format!("{label} ")
    };
    let net: crate::model::Money = day.book.trades.iter().map(|t| t.net()).sum();
    eprintln!(
        "tickpipe: backtest {label}day {}/{n} {} (seed {}): {} fills, {} round trips, net ₹{}, equity ₹{} ({:.1} s)",
        i + 1,
        day.day.date,
        day.day.seed,
        day.fills.len(),
        day.book.trades.len(),
        paise(net),
        paise(day.end_equity),
        day.wall.as_secs_f64()
    );
}

/// The summary printed after a session.
fn summary(outcome: &SessionOutcome, stats: &SessionStats) -> String {
    let pct = crate::report::figure::percent;
    let ratio = |x: f64| crate::report::figure::decimal(x, 2);
    let (first, last) = match (outcome.days.first(), outcome.days.last()) {
        (Some(f), Some(l)) => (f.day.date.to_string(), l.day.date.to_string()),
        _ => (String::new(), String::new()),
    };
    format!(
        "backtest  {} synthetic day(s) {first} to {last} through the pipeline · strategies {} · risk profile {CONFIGURED_RISK}\n\
         trades    {} round trips, win rate {}, profit factor {}\n\
         P&L       gross ₹{}, charges ₹{}, net ₹{}\n\
         equity    ₹{} → ₹{} (return {})\n\
         daily     Sharpe {}, Sortino {}, max drawdown {}\n\
         slippage  mean {} bps over {} fills (₹{})\n",
        stats.days,
        outcome.strategy_names.join(", "),
        stats.trades,
        pct(stats.win_rate()),
        ratio(stats.profit_factor()),
        paise(stats.gross),
        paise(stats.charges),
        paise(stats.net()),
        paise(stats.capital),
        paise(stats.final_equity),
        pct(stats.metrics.cum_returns_final),
        ratio(stats.metrics.sharpe_ratio),
        ratio(stats.metrics.sortino_ratio),
        pct(stats.metrics.max_drawdown),
        ratio(stats.slippage.mean_bps()),
        stats.slippage.fills,
        paise(stats.slippage.money),
    )
}
