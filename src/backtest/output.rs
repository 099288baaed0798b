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
    model::{Money, StrategyId},
    report::{plots, PnlSeries},
};

use super::{stats::RunInfo, Outcome, Settings, Stats};

/// The `trades.csv` header.
pub const TRADES_HEADER: &str =
    "entry_bar,exit_bar,entry_time,exit_time,qty,entry_price,exit_price,pnl,commission,return_pct";

/// Writes the output files but `equity.csv` (which [`run_stream`](super::run_stream)
/// wrote row by row) into `dir`, which must exist; their paths.
///
/// # Errors
/// The first file that could not be written, named; or a plotting failure.
pub fn write_outputs(
    dir: &Path,
    run: &RunInfo<'_>,
    outcome: &Outcome,
    settings: &Settings,
) -> Result<Vec<PathBuf>, String> {
    let stats = Stats::of(outcome);
    let stats_json = serde_json::to_string_pretty(&stats.json(run, outcome, settings))
        .map_err(|e| format!("stats.json: {e}"))?;
    let mut files = vec![
        ("trades.csv", trades_csv(outcome)),
        ("stats.json", stats_json + "\n"),
        ("report.md", markdown(run, outcome, settings, &stats)),
    ];
    let series = pnl_series(outcome, settings.cash);
    let name = |_: usize| run.strategy.to_owned();
    files.extend(plots(&series, &name)?);
    let mut written = Vec::with_capacity(files.len());
    for (file, text) in files {
        let path = dir.join(file);
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

/// Closed trades in closing order; `qty` negative for shorts.
pub fn trades_csv(outcome: &Outcome) -> String {
    let mut out = String::from(TRADES_HEADER);
    out.push('\n');
    for (t, times) in outcome.trades.iter().zip(&outcome.trade_times) {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{}",
            t.entry_bar,
            t.exit_bar,
            times.entry.0,
            times.exit.0,
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

/// An output folder filled out of sight and moved into place whole: files are written
/// into a hidden sibling (`.NAME.partial-PID`) and moved into `dir` by
/// [`Staging::commit`]; dropped uncommitted (bad data halfway through a file), the
/// sibling is removed and `dir` is left as it was.
#[derive(Debug)]
pub struct Staging {
    dir: PathBuf,
    tmp: PathBuf,
    committed: bool,
}

impl Staging {
    /// Creates the hidden sibling of `dir`.
    ///
    /// # Errors
    /// When it cannot be created, named.
    pub fn new(dir: &Path) -> Result<Staging, String> {
        let name = dir
            .file_name()
            .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
        let parent = dir.parent().unwrap_or_else(|| Path::new(""));
        let tmp = parent.join(format!(".{name}.partial-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
        Ok(Staging {
            dir: dir.to_owned(),
            tmp,
            committed: false,
        })
    }

    /// Where to write the files for now.
    pub fn path(&self) -> &Path {
        &self.tmp
    }

    /// Moves every file into `dir` (created if missing, files of the same name
    /// replaced); their final paths, sorted.
    ///
    /// # Errors
    /// The first file that could not be moved, named.
    pub fn commit(mut self) -> Result<Vec<PathBuf>, String> {
        std::fs::create_dir_all(&self.dir).map_err(|e| format!("{}: {e}", self.dir.display()))?;
        let entries =
            std::fs::read_dir(&self.tmp).map_err(|e| format!("{}: {e}", self.tmp.display()))?;
        let mut moved = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| format!("{}: {e}", self.tmp.display()))?;
            let to = self.dir.join(entry.file_name());
            std::fs::rename(entry.path(), &to).map_err(|e| format!("{}: {e}", to.display()))?;
            moved.push(to);
        }
        moved.sort();
        self.committed = true;
        let _ = std::fs::remove_dir(&self.tmp);
        Ok(moved)
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.tmp);
        }
    }
}

/// The report's series: the cash, then after each closed trade (the plots show closed
/// trades' P&L, as the trade report does; the marked equity per bar is `equity.csv`).
fn pnl_series(outcome: &Outcome, cash: f64) -> PnlSeries {
    let money = |x: f64| Money::from_raw((x * 1e8).round() as i128);
    let start = outcome.first.at;
    let mut equity = vec![(start, money(cash))];
    let mut pnl = vec![(start, Money::ZERO)];
    let mut total = 0.0;
    for (t, times) in outcome.trades.iter().zip(&outcome.trade_times) {
        total += t.pnl;
        equity.push((times.exit.1, money(cash + total)));
        pnl.push((times.exit.1, money(total)));
    }
    let end = outcome.last.at;
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

fn markdown(run: &RunInfo<'_>, outcome: &Outcome, settings: &Settings, stats: &Stats) -> String {
    let mut out = String::new();
    let params: Vec<String> = run.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let _ = writeln!(
        out,
        "# Backtest: {} on {}\n\n- Parameters: {}\n- Bars: {} ({} to {})\n- Risk profile: {} ({})\n- Sizing: {}, fills: {}, commission: {} of notional per fill, cash: {}{}\n",
        run.strategy,
        run.data,
        if params.is_empty() { "defaults".to_owned() } else { params.join(", ") },
        outcome.bars,
        outcome.first.time,
        outcome.last.time,
        run.risk_profile,
        run.risk_reason,
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
    if let Some((t, _)) = &outcome.open_at_end {
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
