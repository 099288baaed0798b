//! The files a backtest writes: `trades.csv`, `equity.csv`, `stats.json`, `report.md`,
//! and the report's plots (`equity.svg`, `drawdown.svg`, `strategies.svg`).
//!
//! Floats are written in Rust's shortest round-trip form, so a value read back is the
//! exact double computed (the same digits Python's `repr` gives for these magnitudes);
//! nothing depends on the clock or on where the files lie, so the same input gives
//! byte-identical files.

use std::{
    fmt::Write as _,
    path::{Path, PathBuf},
};

use crate::{
    model::{Money, StrategyId, UnixNanos},
    report::{plots, PnlSeries},
};

use super::{stats::RunInfo, OhlcvBar, Outcome, Settings, Stats};

/// The `trades.csv` header.
pub const TRADES_HEADER: &str =
    "entry_bar,exit_bar,entry_time,exit_time,qty,entry_price,exit_price,pnl,commission,return_pct";

/// Writes every output file into `dir` (created if missing); their paths.
///
/// # Errors
/// The first file that could not be written, named; or a plotting failure.
pub fn write_outputs(
    dir: &Path,
    run: &RunInfo<'_>,
    bars: &[OhlcvBar],
    outcome: &Outcome,
    settings: &Settings,
) -> Result<Vec<PathBuf>, String> {
    let stats = Stats::of(bars, outcome);
    let stats_json = serde_json::to_string_pretty(&stats.json(run, bars, outcome, settings))
        .map_err(|e| format!("stats.json: {e}"))?;
    let mut files = vec![
        ("trades.csv", trades_csv(bars, outcome)),
        ("equity.csv", equity_csv(bars, outcome)),
        ("stats.json", stats_json + "\n"),
        ("report.md", markdown(run, bars, outcome, settings, &stats)),
    ];
    let series = pnl_series(bars, outcome, settings.cash);
    let name = |_: usize| run.strategy.to_owned();
    files.extend(plots(&series, &name)?);
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut written = Vec::with_capacity(files.len());
    for (file, text) in files {
        let path = dir.join(file);
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

/// Closed trades in closing order; `qty` negative for shorts.
pub fn trades_csv(bars: &[OhlcvBar], outcome: &Outcome) -> String {
    let mut out = String::from(TRADES_HEADER);
    out.push('\n');
    let time = |i: usize| bars.get(i).map_or("", |b| b.time.as_str());
    for t in &outcome.trades {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{}",
            t.entry_bar,
            t.exit_bar,
            time(t.entry_bar),
            time(t.exit_bar),
            t.size,
            t.entry_price,
            t.exit_price,
            t.pnl,
            t.commission,
            t.return_pct
        );
    }
    out
}

/// One row per bar: its close, the equity marked there, and the fall below the running
/// peak (`1 − equity/peak`, as backtesting.py's `DrawdownPct`).
pub fn equity_csv(bars: &[OhlcvBar], outcome: &Outcome) -> String {
    let mut out = String::from("bar,time,close,equity,drawdown_pct\n");
    let mut peak = f64::MIN;
    for (i, (bar, &e)) in bars.iter().zip(&outcome.equity).enumerate() {
        peak = peak.max(e);
        let _ = writeln!(
            out,
            "{i},{},{},{e},{}",
            bar.time,
            bar.close_f64(),
            1.0 - e / peak
        );
    }
    out
}

/// The report's series: the cash, then after each closed trade (the plots show closed
/// trades' P&L, as the trade report does; the marked equity per bar is `equity.csv`).
fn pnl_series(bars: &[OhlcvBar], outcome: &Outcome, cash: f64) -> PnlSeries {
    let money = |x: f64| Money::from_raw((x * 1e8).round() as i128);
    let at = |i: usize| bars.get(i).map_or(UnixNanos(0), |b| b.at);
    let start = bars.first().map_or(UnixNanos(0), |b| b.at);
    let mut equity = vec![(start, money(cash))];
    let mut pnl = vec![(start, Money::ZERO)];
    let mut total = 0.0;
    for t in &outcome.trades {
        total += t.pnl;
        equity.push((at(t.exit_bar), money(cash + total)));
        pnl.push((at(t.exit_bar), money(total)));
    }
    let end = bars.last().map_or(start, |b| b.at);
    if let Some(&(last, value)) = equity.last() {
        if last < end {
            equity.push((end, value));
            pnl.push((end, money(total)));
        }
    }
    PnlSeries {
        capital: money(cash),
        equity,
        strategies: vec![(StrategyId(0), pnl)],
    }
}

fn markdown(
    run: &RunInfo<'_>,
    bars: &[OhlcvBar],
    outcome: &Outcome,
    settings: &Settings,
    stats: &Stats,
) -> String {
    let mut out = String::new();
    let params: Vec<String> = run.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let _ = writeln!(
        out,
        "# Backtest: {} on {}\n\n- Parameters: {}\n- Bars: {} ({} to {})\n- Risk profile: {}\n- Sizing: {}, fills: {}, commission: {} of notional per fill, cash: {}{}\n",
        run.strategy,
        run.data,
        if params.is_empty() { "defaults".to_owned() } else { params.join(", ") },
        bars.len(),
        bars.first().map_or("", |b| b.time.as_str()),
        bars.last().map_or("", |b| b.time.as_str()),
        run.risk_profile,
        settings.sizing,
        settings.fill,
        settings.commission,
        settings.cash,
        if settings.finalize { ", a trade open at the end is closed at the last open" } else { "" },
    );
    let pct = crate::report::figure::percent;
    let ratio = |x: f64| crate::report::figure::decimal(x, 3);
    let _ = writeln!(out, "| figure | value |\n| --- | --- |");
    let mut row = |name: &str, value: String| {
        let _ = writeln!(out, "| {name} | {value} |");
    };
    row("Final equity", format!("{:.2}", stats.final_equity));
    row("Equity peak", format!("{:.2}", stats.equity_peak));
    row("Return", pct(stats.total_return));
    row("Closed trades", stats.trades.to_string());
    row("Win rate", pct(stats.win_rate()));
    row("Profit factor", ratio(stats.profit_factor()));
    row(
        "Net P&L of closed trades",
        format!("{:.2}", stats.gross - stats.charges),
    );
    row("Commission", format!("{:.2}", stats.charges));
    row("Exposure", pct(stats.exposure));
    row("Max drawdown (per bar)", pct(stats.max_drawdown_bars));
    if let Some((metrics, _)) = &stats.daily {
        row("Sharpe (daily, empyrical)", ratio(metrics.sharpe_ratio));
        row("Sortino (daily, empyrical)", ratio(metrics.sortino_ratio));
        row(
            "Annual return (daily, empyrical)",
            pct(metrics.annual_return),
        );
    }
    if let Some(t) = &outcome.open_at_end {
        let _ = writeln!(
            out,
            "\nA trade of {} units entered on bar {} at {} was still open at the end: it is in the equity, not among the closed trades.",
            t.size, t.entry_bar, t.entry_price
        );
    }
    let _ = writeln!(
        out,
        "\nFiles: `trades.csv`, `equity.csv`, `stats.json`; plots of closed trades' P&L: `equity.svg`, `drawdown.svg`, `strategies.svg`."
    );
    out
}
