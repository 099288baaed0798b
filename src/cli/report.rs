//! `tickpipe report`: the performance statistics of an equity curve (`--equity`), or
//! the trade report of a journal (`--journal`): the files `tickpipe run --report`
//! writes, plus `report.json`.

use std::{fmt::Write as _, path::PathBuf};

use clap::Args;
use serde_json::{Map, Value};

use crate::report::{Drawdowns, Episode, EquityCurve, RiskMetrics};

/// Options of `tickpipe report`.
#[derive(Debug, Clone, Args)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["equity", "journal"])))]
pub struct ReportArgs {
    /// A daily equity curve: CSV with the header `date,equity`, one trading day a row.
    #[arg(long, value_name = "FILE.csv")]
    pub equity: Option<PathBuf>,
    /// Print one JSON object, keys named after empyrical's functions and the drawdown
    /// figures, instead of the tables (with --equity).
    #[arg(long, requires = "equity")]
    pub json: bool,
    /// A journal directory: rebuild its round trips from the booked fills and write the
    /// trade report (trades.csv, daily.csv, strategies.csv, report.md, report.json and
    /// the plots equity.svg, drawdown.svg, strategies.svg).
    #[arg(long, value_name = "DIR")]
    pub journal: Option<PathBuf>,
    /// Where to write the report of --journal; `report` in the current directory when
    /// absent.
    #[arg(long, value_name = "DIR", requires = "journal")]
    pub out: Option<PathBuf>,
    /// The configuration the run used, for instrument symbols, strategy names, capital
    /// and charges (with --journal); when absent, the embedded default with the names and
    /// capital of the journal's manifest.
    #[arg(long, short = 'c', value_name = "FILE", requires = "journal")]
    pub config: Option<PathBuf>,
}

/// Reads the curve or the journal, computes, prints or writes.
pub(super) fn report(args: &ReportArgs) -> Result<(), String> {
    if let Some(dir) = &args.journal {
        let out = args.out.clone().unwrap_or_else(|| PathBuf::from("report"));
        return journal_report(dir, &out, args.config.as_ref());
    }
    let Some(equity) = &args.equity else {
        return Err("give --equity FILE.csv or --journal DIR".to_owned());
    };
    let path = equity.display();
    let text = std::fs::read_to_string(equity).map_err(|e| format!("{path}: {e}"))?;
    let curve = EquityCurve::parse_csv(&text).map_err(|e| format!("{path}: {e}"))?;
    let returns = curve.returns();
    let metrics = RiskMetrics::of(&returns);
    let drawdowns = Drawdowns::of(&curve);
    if args.json {
        println!("{}", json(&metrics, &drawdowns)?);
    } else {
        print!("{}", tables(&curve, &metrics, &drawdowns));
    }
    Ok(())
}

/// `--journal DIR`: fills → round trips → the report's tables and plots.
fn journal_report(
    dir: &std::path::Path,
    out: &std::path::Path,
    config: Option<&PathBuf>,
) -> Result<(), String> {
    use super::journal::history::{History, Naming};
    let history = History::read(dir)?;
    let mut naming = Naming::load(config, dir)?;
    naming.cover(&history)?;
    let book = naming.book(&history)?;
    let names = naming.names();
    let title = match history.adoptions.len() {
        0 => format!(
            "Journal {}: {} booked fill(s)",
            dir.display(),
            history.fills.len()
        ),
        n => format!(
            "Journal {}: {} booked fill(s), {n} adoption(s) of a broker's position",
            dir.display(),
            history.fills.len()
        ),
    };
    let context = naming.context(&names, &title);
    let mut notes = naming.notes(&history);
    if history.fills.is_empty() && history.adoptions.is_empty() {
        notes.push(
            "The journal holds no fill records, so there are no trades and the equity curve is flat at the capital."
                .to_owned(),
        );
    }
    for torn in &history.torn {
        eprintln!("tickpipe: {torn}; the records before it are in the report");
    }
    let written = crate::report::write_report_files(out, &book, &context, &notes)?;
    eprintln!(
        "tickpipe: {} round trip(s) from {} fill(s); wrote {} file(s) to {}",
        book.trades.len(),
        history.fills.len(),
        written.len(),
        out.display()
    );
    for note in &notes {
        eprintln!("tickpipe: note: {note}");
    }
    Ok(())
}

/// One flat object: the statistics, then the drawdown figures (non-finite numbers are
/// `null`).
fn json(metrics: &RiskMetrics, drawdowns: &Drawdowns) -> Result<String, String> {
    let mut object = Map::new();
    for part in [
        serde_json::to_value(metrics),
        serde_json::to_value(drawdowns),
    ] {
        match part.map_err(|e| e.to_string())? {
            Value::Object(fields) => object.extend(fields),
            other => return Err(format!("internal: {other} is not an object")),
        }
    }
    serde_json::to_string_pretty(&Value::Object(object)).map_err(|e| e.to_string())
}

fn pct(x: f64) -> String {
    crate::report::figure::percent(x)
}

fn ratio(x: f64) -> String {
    crate::report::figure::decimal(x, 3)
}

fn episode_line(e: &Episode) -> String {
    let recovery = match (&e.recovery_date, e.recovery_bars) {
        (Some(date), Some(bars)) => format!("recovered {date} after {bars} trading days"),
        _ => "not recovered".to_owned(),
    };
    format!(
        "{} from the peak of {} to the trough of {} ({} trading days), {}; {} trading days ({} calendar) in all",
        pct(e.depth),
        e.peak_date,
        e.trough_date,
        e.decline_bars,
        recovery,
        e.duration_bars,
        e.duration_calendar_days
    )
}

/// The Markdown report.
fn tables(curve: &EquityCurve, m: &RiskMetrics, d: &Drawdowns) -> String {
    let dates = curve.dates();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Performance: {} to {}, {} trading days\n",
        dates[0],
        dates[dates.len() - 1],
        dates.len() - 1
    );
    let rows = [
        ("Total return", pct(m.cum_returns_final)),
        (
            "Annual return (CAGR over 252-day years)",
            pct(m.annual_return),
        ),
        ("Annual volatility", pct(m.annual_volatility)),
        ("Sharpe ratio", ratio(m.sharpe_ratio)),
        ("Sortino ratio", ratio(m.sortino_ratio)),
        ("Downside risk (annual)", pct(m.downside_risk)),
        ("Max drawdown", pct(m.max_drawdown)),
        ("Calmar ratio", ratio(m.calmar_ratio)),
        (
            "Stability (R² of log growth)",
            ratio(m.stability_of_timeseries),
        ),
        ("Tail ratio (P95 over P5, absolute)", ratio(m.tail_ratio)),
        ("Daily value at risk (P5)", pct(m.value_at_risk)),
        ("Drawdown episodes", d.n_episodes.to_string()),
        (
            "Longest drawdown",
            format!(
                "{} trading days ({} calendar days at most)",
                d.longest_drawdown_duration_bars, d.longest_drawdown_duration_calendar_days
            ),
        ),
    ];
    let _ = writeln!(out, "| figure | value |\n| :-- | --: |");
    for (name, value) in rows {
        let _ = writeln!(out, "| {name} | {value} |");
    }
    if let Some(e) = &d.max_drawdown_episode {
        let _ = writeln!(out, "\nDeepest drawdown: {}.", episode_line(e));
    }
    if let Some(e) = &d.longest_drawdown {
        let _ = writeln!(out, "Longest drawdown: {}.", episode_line(e));
    }
    out
}
