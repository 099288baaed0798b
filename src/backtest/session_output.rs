//! The files a synthetic session writes: the trade report's own files (`trades.csv`,
//! `daily.csv`, `strategies.csv`, `report.md`, `report.json` and the plots, written by
//! [`write_report_files`] as `tickpipe run --report` writes them), plus `equity.csv`
//! (the daily curve `tickpipe report --equity` reads) and `stats.json`.
//!
//! Nothing written depends on the clock or on where the files lie, so the same config
//! and days give byte-identical files.

use std::{
    fmt::Write as _,
    path::{Path, PathBuf},
};

use crate::report::{paise, write_report_files, ReportContext};

use super::{
    bar_events::LEGS,
    session::{SessionMarket, SessionOutcome},
    session_stats::SessionStats,
};

/// The risk profile a synthetic session runs: the risk stage as configured.
pub const CONFIGURED_RISK: &str = "configured";

/// `equity.csv`: `date,equity`, the capital on the weekday before the first day, then
/// each day's closing equity to the paisa.
pub fn equity_csv(outcome: &SessionOutcome) -> String {
    let mut out = String::from("date,equity\n");
    let first = outcome.equity_curve().first().map(|r| r.0);
    if let Some(date) = first {
        let _ = writeln!(out, "{date},{}", paise(outcome.capital));
    }
    for d in &outcome.days {
        let _ = writeln!(out, "{},{}", d.day.date, paise(d.end_equity));
    }
    out
}

/// One line saying what was run.
pub fn title(outcome: &SessionOutcome) -> String {
    let (first, last) = match (outcome.days.first(), outcome.days.last()) {
        (Some(f), Some(l)) => (f.day.date.to_string(), l.day.date.to_string()),
        _ => (String::new(), String::new()),
    };
    let strategies = outcome.strategy_names.join(", ");
    match &outcome.market {
        SessionMarket::Synthetic => format!(
            "Backtest: {} synthetic trading day(s), {first} to {last}, through the pipeline (feed, signal, risk, order; paper exchange; Indian charges); strategies: {strategies}",
            outcome.days.len(),
        ),
        SessionMarket::Bars {
            file,
            symbol,
            bar_secs,
            bars,
        } => format!(
            "Backtest: {symbol} from {file}, {bars} {bar_secs}-second bar(s) over {} trading day(s), {first} to {last}, through the pipeline (feed, signal, risk, order; paper exchange; Indian charges); strategies: {strategies}; risk: {CONFIGURED_RISK}",
            outcome.days.len(),
        ),
    }
}

/// Writes every file into `dir` (created if missing); their paths.
///
/// # Errors
/// The first file that could not be written, named; or a plotting failure.
pub fn write_session(
    dir: &Path,
    outcome: &SessionOutcome,
    stats: &SessionStats,
) -> Result<Vec<PathBuf>, String> {
    let title = title(outcome);
    let context = ReportContext {
        strategy_names: &outcome.strategy_names,
        instruments: &outcome.instruments,
        capital: outcome.capital,
        title: &title,
    };
    let notes = notes(outcome, stats);
    let mut written = write_report_files(dir, &outcome.book, &context, &notes)?;
    let mut json = stats.json(&outcome.strategy_names, CONFIGURED_RISK)?;
    if let (
        SessionMarket::Bars {
            file,
            symbol,
            bar_secs,
            bars,
        },
        serde_json::Value::Object(fields),
    ) = (&outcome.market, &mut json)
    {
        fields.insert("data".into(), file.as_str().into());
        fields.insert("symbol".into(), symbol.as_str().into());
        fields.insert("bar_secs".into(), (*bar_secs).into());
        fields.insert("bars".into(), (*bars).into());
    }
    let json = serde_json::to_string_pretty(&json).map_err(|e| format!("stats.json: {e}"))?;
    for (file, text) in [
        ("equity.csv", equity_csv(outcome)),
        ("stats.json", json + "\n"),
    ] {
        let path = dir.join(file);
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

/// What `report.md` and `report.json` list under the title: the risk profile, the days
/// and their seeds, the curve's figures, and anything the tables leave out.
fn notes(outcome: &SessionOutcome, stats: &SessionStats) -> Vec<String> {
    let ratio = |x: f64| crate::report::figure::decimal(x, 3);
    let pct = crate::report::figure::percent;
    let mut notes = match &outcome.market {
        SessionMarket::Synthetic => {
            let seeds: Vec<String> = outcome
                .days
                .iter()
                .map(|d| format!("{} seed {}", d.day.date, d.day.seed))
                .collect();
            vec![
                format!("Risk profile: {CONFIGURED_RISK} (the risk stage's sizing and limits as configured; each day starts from the equity the day before ended with)."),
                format!("Days: {}.", seeds.join(", ")),
            ]
        }
        SessionMarket::Bars { .. } => {
            let dates: Vec<String> = outcome
                .days
                .iter()
                .map(|d| d.day.date.to_string())
                .collect();
            vec![
                format!("Risk profile: {CONFIGURED_RISK} (the risk stage's sizing, limits, stops and square-off as configured; each day is one run of the pipeline, starting from the equity the day before ended with)."),
                format!("Bars as market events: {LEGS} trade ticks per bar, open → low → high → close for an up bar (close at or above the open), open → high → low → close for a down bar, at the start and each quarter of the bar, the volume spread over them; a book one tick wide (bid at the trade). The paper exchange fills the orders."),
                format!("Days: {}.", dates.join(", ")),
            ]
        }
    };
    notes.push(
        format!(
            "Daily equity curve (`equity.csv`): final equity ₹{}, total return {}, Sharpe {}, Sortino {}, max drawdown {} (empyrical's definitions; `stats.json` has the rest).",
            paise(stats.final_equity),
            pct(stats.metrics.cum_returns_final),
            ratio(stats.metrics.sharpe_ratio),
            ratio(stats.metrics.sortino_ratio),
            pct(stats.metrics.max_drawdown),
        ),
    );
    let open: usize = outcome.days.iter().map(|d| d.book.open_at_end.len()).sum();
    if open > 0 {
        notes.push(format!(
            "{open} position(s) were still open at the end of their day: their marked P&L is in the equity, not among the round trips."
        ));
    }
    let lost: u64 = outcome.days.iter().map(|d| d.fills_not_logged).sum();
    if lost > 0 {
        notes.push(format!(
            "{lost} fill(s) did not fit the fill log (raise risk.fill_log_capacity): the round trips leave them out."
        ));
    }
    notes
}
