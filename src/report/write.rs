//! Writes a run's trade report to a folder: the trade list, the day and strategy tables
//! as CSV for spreadsheets and SQL loaders and as JSON for programs, the plots as SVG,
//! and one Markdown page to read that links them.

use std::{
    fmt::Write as _,
    io,
    path::{Path, PathBuf},
};

use crate::{
    model::{InstrumentTable, Money},
    report::{
        by_day, by_strategy,
        plot::plots,
        table::{
            daily_table, direction as side, exit_reason, paise, rupees, strategies_table,
            trades_table, Table,
        },
        DayRow, PnlSeries, StrategyStats, TradeBook,
    },
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

impl ReportContext<'_> {
    /// The name of strategy `i`, `?` past the list.
    pub fn strategy_name(&self, i: usize) -> &str {
        self.strategy_names.get(i).copied().unwrap_or("?")
    }
}

/// Writes `trades.csv`, `daily.csv`, `strategies.csv`, `report.md`, `report.json` and
/// the plots `equity.svg`, `drawdown.svg`, `strategies.svg` into `dir` (created if
/// missing) and returns their paths.
///
/// # Errors
/// As [`write_report_files`].
pub fn write_trade_report(
    dir: &Path,
    book: &TradeBook,
    context: &ReportContext<'_>,
) -> Result<Vec<PathBuf>, String> {
    write_report_files(dir, book, context, &[])
}

/// As [`write_trade_report`], with `notes` (what the figures rest on, what is missing)
/// listed under the title of `report.md` and in `report.json`.
///
/// Each file is written under a temporary name and renamed into place only once all of
/// them are written, so a failure never leaves a partial report that looks complete.
///
/// # Errors
/// The first I/O error, naming the file; the temporary files are removed.
pub fn write_report_files(
    dir: &Path,
    book: &TradeBook,
    context: &ReportContext<'_>,
    notes: &[String],
) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let days = by_day(&book.trades, context.capital);
    let strategies = by_strategy(&book.trades, context.strategy_names.len(), context.capital);
    let trades = trades_table(book, context);
    let daily = daily_table(&days);
    let per_strategy = strategies_table(&strategies, context);
    let series = PnlSeries::of(&book.trades, context.strategy_names.len(), context.capital);
    let name = |i: usize| context.strategy_name(i).to_owned();
    let mut files = vec![
        ("trades.csv", trades.csv()),
        ("daily.csv", daily.csv()),
        ("strategies.csv", per_strategy.csv()),
        (
            "report.md",
            markdown(book, &days, &strategies, context, notes),
        ),
        (
            "report.json",
            json(book, [&trades, &daily, &per_strategy], context, notes)?,
        ),
    ];
    files.extend(plots(&series, &name)?);
    let mut staged: Vec<(PathBuf, PathBuf)> = Vec::new();
    let result = (|| {
        for (file, text) in &files {
            let path = dir.join(file);
            let temp = dir.join(format!(".{file}.partial"));
            staged.push((temp.clone(), path.clone()));
            std::fs::write(&temp, text)
                .map_err(|e: io::Error| format!("{}: {e}", temp.display()))?;
        }
        for (temp, path) in &staged {
            std::fs::rename(temp, path).map_err(|e| format!("{}: {e}", path.display()))?;
        }
        Ok(staged.iter().map(|(_, path)| path.clone()).collect())
    })();
    if result.is_err() {
        for (temp, _) in &staged {
            let _ = std::fs::remove_file(temp);
        }
    }
    result
}

/// `report.json`: the title, notes, totals and the three tables.
fn json(
    book: &TradeBook,
    tables: [&Table; 3],
    context: &ReportContext<'_>,
    notes: &[String],
) -> Result<String, String> {
    use serde_json::{json, Value};
    let gross: Money = book.trades.iter().map(|t| t.gross).sum();
    let charges: Money = book.trades.iter().map(|t| t.charges).sum();
    let symbols = |ids: &[crate::model::InstrumentId]| -> Vec<Value> {
        ids.iter()
            .map(|&i| Value::from(context.instruments.get(i).symbol.to_string()))
            .collect()
    };
    let open = symbols(&book.open_at_end);
    let open_adopted = symbols(&book.open_adopted);
    let value = json!({
        "title": context.title,
        "notes": notes,
        "capital": rupees(context.capital),
        "round_trips": book.trades.len(),
        "gross": rupees(gross),
        "charges": rupees(charges),
        "net": rupees(gross.saturating_add(charges.neg())),
        "open_at_end": open,
        "open_adopted": open_adopted,
        "trades": tables[0].json(),
        "daily": tables[1].json(),
        "strategies": tables[2].json(),
        "plots": ["equity.svg", "drawdown.svg", "strategies.svg"],
    });
    serde_json::to_string_pretty(&value).map_err(|e| format!("report.json: {e}"))
}

fn float(x: f64, decimals: usize) -> String {
    if x.is_finite() {
        format!("{x:.decimals$}")
    } else {
        String::new()
    }
}

fn name<'a>(context: &ReportContext<'a>, i: usize) -> &'a str {
    context.strategy_names.get(i).copied().unwrap_or("?")
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
    notes: &[String],
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Trade report\n\n{}\n", context.title);
    for note in notes {
        let _ = writeln!(out, "- {note}");
    }
    if !notes.is_empty() {
        out.push('\n');
    }
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
            let open: Vec<String> = book
                .open_at_end
                .iter()
                .map(|i| {
                    let symbol = &context.instruments.get(*i).symbol;
                    if book.open_adopted.contains(i) {
                        format!("{symbol} (adopted from the broker)")
                    } else {
                        symbol.to_string()
                    }
                })
                .collect();
            format!(
                " {} position(s) were still open at the end and are not in the tables: {}.",
                book.open_at_end.len(),
                open.join(", ")
            )
        }
    );
    let _ = writeln!(
        out,
        "## Plots\n\n![Equity](equity.svg)\n\n![Drawdown](drawdown.svg)\n\n![Cumulative P&L by strategy](strategies.svg)\n"
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
            if t.adopted.entry {
                format!("{} (adopted)", t.entry_ts.ist_time_of_day())
            } else {
                t.entry_ts.ist_time_of_day().to_string()
            },
            t.entry_price,
            t.exit_ts.ist_time_of_day(),
            t.exit_price,
            paise(t.net()),
            float(t.net_pct(), 2),
            t.holding_minutes(),
            exit_reason(t)
        );
    }
    out
}
