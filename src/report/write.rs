//! Writes a run's trade report to a folder: the trade list, the day and strategy tables
//! as CSV for spreadsheets and SQL loaders, and one Markdown page to read.

use std::{
    fmt::Write as _,
    io,
    path::{Path, PathBuf},
};

use crate::{
    model::{InstrumentTable, Money, UnixNanos},
    report::{by_day, by_strategy, DayRow, StrategyStats, TradeBook},
};

/// What the report needs besides the trades.
#[derive(Debug, Clone, Copy)]
pub struct ReportContext<'a> {
    /// Strategy names by id.
    pub strategy_names: &'a [&'a str],
    /// The instruments, for symbols.
    pub instruments: &'a InstrumentTable,
    /// The capital returns are measured on.
    pub capital: Money,
    /// A line saying what was run.
    pub title: &'a str,
}

/// Writes `trades.csv`, `daily.csv`, `strategies.csv` and `report.md` into `dir`
/// (created if missing) and returns their paths.
///
/// # Errors
/// The first I/O error, naming the file.
pub fn write_trade_report(
    dir: &Path,
    book: &TradeBook,
    context: &ReportContext<'_>,
) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let days = by_day(&book.trades, context.capital);
    let strategies = by_strategy(&book.trades, context.strategy_names.len(), context.capital);
    let files = [
        ("trades.csv", trades_csv(book, context)),
        ("daily.csv", daily_csv(&days)),
        ("strategies.csv", strategies_csv(&strategies, context)),
        ("report.md", markdown(book, &days, &strategies, context)),
    ];
    let mut written = Vec::new();
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|e: io::Error| format!("{}: {e}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

/// Rupees to the paisa, truncated as contract notes and the run summary show them.
fn paise(m: Money) -> String {
    let p = m.to_paise_saturating();
    let sign = if p < 0 { "-" } else { "" };
    let abs = p.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

fn time(ts: UnixNanos) -> String {
    format!("{} {}", ts.ist_date(), ts.ist_time_of_day())
}

fn float(x: f64, decimals: usize) -> String {
    if x.is_finite() {
        format!("{x:.decimals$}")
    } else {
        String::new()
    }
}

/// `long` or `short`.
fn side(t: &crate::report::Trade) -> &'static str {
    if t.direction == crate::model::Side::Buy {
        "long"
    } else {
        "short"
    }
}

fn name<'a>(context: &ReportContext<'a>, i: usize) -> &'a str {
    context.strategy_names.get(i).copied().unwrap_or("?")
}

fn trades_csv(book: &TradeBook, context: &ReportContext<'_>) -> String {
    let mut out = String::from(
        "trade,strategy,instrument,side,qty,entry_time,entry_price,exit_time,exit_price,gross,charges,net,net_pct,holding_minutes,exit_reason\n",
    );
    for t in &book.trades {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            t.number,
            name(context, t.strategy.index()),
            context.instruments.get(t.instrument).symbol,
            side(t),
            t.qty.get(),
            time(t.entry_ts),
            t.entry_price,
            time(t.exit_ts),
            t.exit_price,
            paise(t.gross),
            paise(t.charges),
            paise(t.net()),
            float(t.net_pct(), 4),
            t.holding_minutes(),
            t.exit_reason.as_str()
        );
    }
    out
}

fn daily_csv(days: &[DayRow]) -> String {
    let mut out = String::from(
        "date,trades,winners,losers,gross,charges,net,largest_win,largest_loss,equity,sharpe_to_date,max_drawdown_to_date\n",
    );
    for d in days {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{}",
            d.date,
            d.trades,
            d.winners,
            d.losers(),
            paise(d.gross),
            paise(d.charges),
            paise(d.net()),
            paise(d.largest_win),
            paise(d.largest_loss),
            paise(d.equity),
            float(d.sharpe_to_date, 6),
            float(d.max_drawdown_to_date, 6)
        );
    }
    out
}

fn strategies_csv(strategies: &[StrategyStats], context: &ReportContext<'_>) -> String {
    let mut out = String::from(
        "strategy,trades,winners,win_rate,average_win,average_loss,profit_factor,expectancy,gross,charges,net,max_drawdown,sharpe\n",
    );
    for s in strategies {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{},{}",
            name(context, s.strategy.index()),
            s.trades,
            s.winners,
            float(s.win_rate(), 4),
            paise(s.average_win()),
            paise(s.average_loss()),
            float(s.profit_factor(), 4),
            paise(s.expectancy()),
            paise(s.gross),
            paise(s.charges),
            paise(s.net()),
            paise(s.max_drawdown),
            float(s.sharpe, 4)
        );
    }
    out
}

fn or_dash(text: String) -> String {
    if text.is_empty() {
        "–".to_owned()
    } else {
        text
    }
}

fn markdown(
    book: &TradeBook,
    days: &[DayRow],
    strategies: &[StrategyStats],
    context: &ReportContext<'_>,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Trade report\n\n{}\n", context.title);
    let gross: Money = book.trades.iter().map(|t| t.gross).sum();
    let charges: Money = book.trades.iter().map(|t| t.charges).sum();
    let _ = writeln!(
        out,
        "{} round trips: gross ₹{}, charges ₹{}, net ₹{}.{}\n",
        book.trades.len(),
        paise(gross),
        paise(charges),
        paise(gross.saturating_add(charges.neg())),
        if book.open_at_end.is_empty() {
            String::new()
        } else {
            format!(
                " {} position(s) were still open at the end and are not in the tables.",
                book.open_at_end.len()
            )
        }
    );
    let _ = writeln!(out, "## Strategies\n");
    let _ = writeln!(
        out,
        "| strategy | trades | win rate | avg win | avg loss | profit factor | expectancy | gross | charges | net | max drawdown | Sharpe |\n| :-- | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: |"
    );
    for s in strategies {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            name(context, s.strategy.index()),
            s.trades,
            or_dash(float(s.win_rate() * 100.0, 1)),
            paise(s.average_win()),
            paise(s.average_loss()),
            or_dash(float(s.profit_factor(), 2)),
            paise(s.expectancy()),
            paise(s.gross),
            paise(s.charges),
            paise(s.net()),
            paise(s.max_drawdown),
            or_dash(float(s.sharpe, 2))
        );
    }
    let _ = writeln!(out, "\n## Days\n");
    let _ = writeln!(
        out,
        "| date | trades | won | lost | gross | charges | net | largest win | largest loss | equity | Sharpe to date | max drawdown to date |\n| :-- | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: |"
    );
    for d in days {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            d.date,
            d.trades,
            d.winners,
            d.losers(),
            paise(d.gross),
            paise(d.charges),
            paise(d.net()),
            paise(d.largest_win),
            paise(d.largest_loss),
            paise(d.equity),
            or_dash(float(d.sharpe_to_date, 2)),
            or_dash(float(d.max_drawdown_to_date * 100.0, 2) + " %")
        );
    }
    let _ = writeln!(out, "\n## Trades\n");
    let _ = writeln!(
        out,
        "| # | strategy | instrument | side | qty | entry | entry price | exit | exit price | net | net % | minutes | exit reason |\n| --: | :-- | :-- | :-- | --: | :-- | --: | :-- | --: | --: | --: | --: | :-- |"
    );
    for t in &book.trades {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            t.number,
            name(context, t.strategy.index()),
            context.instruments.get(t.instrument).symbol,
            side(t),
            t.qty.get(),
            t.entry_ts.ist_time_of_day(),
            t.entry_price,
            t.exit_ts.ist_time_of_day(),
            t.exit_price,
            paise(t.net()),
            float(t.net_pct(), 2),
            t.holding_minutes(),
            t.exit_reason.as_str()
        );
    }
    out
}
