//! The report's tables as typed rows, built once and rendered three ways: CSV for
//! spreadsheets, JSON for programs, SQLite for SQL. Keeping one definition per table
//! means a column can never mean one thing in `trades.csv` and another in the database.

use std::fmt::Write as _;

use serde_json::{Map, Value};

use crate::{
    model::{Money, Side, UnixNanos},
    report::{DayRow, ReportContext, StrategyStats, Trade, TradeBook},
};

/// What a column holds, which fixes how each format writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A whole number.
    Integer,
    /// A ratio or percentage; empty (NULL) when not finite.
    Real,
    /// Rupees, written to the paisa (truncated, as contract notes show them).
    Rupees,
    /// Text: names, times, reasons.
    Text,
}

/// One value.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// A whole number.
    Integer(i64),
    /// A ratio; NaN and infinities are written as empty/NULL.
    Real(f64),
    /// Money.
    Rupees(Money),
    /// Text.
    Text(String),
}

impl Cell {
    /// The CSV field (no quoting: the report's texts hold no commas).
    pub fn csv(&self, decimals: usize) -> String {
        match self {
            Cell::Integer(n) => n.to_string(),
            Cell::Real(x) if x.is_finite() => format!("{x:.decimals$}"),
            Cell::Real(_) => String::new(),
            Cell::Rupees(m) => paise(*m),
            Cell::Text(t) => t.clone(),
        }
    }

    /// The JSON value: money as a number of rupees to the paisa, non-finite as `null`.
    pub fn json(&self) -> Value {
        match self {
            Cell::Integer(n) => Value::from(*n),
            Cell::Real(x) => serde_json::Number::from_f64(*x).map_or(Value::Null, Value::Number),
            Cell::Rupees(m) => Value::from(rupees(*m)),
            Cell::Text(t) => Value::from(t.clone()),
        }
    }
}

/// Money in rupees as a float, truncated to the paisa first so that every format shows
/// the same figure.
pub fn rupees(m: Money) -> f64 {
    m.to_paise_saturating() as f64 / 100.0
}

/// Rupees to the paisa, truncated as contract notes and the run summary show them.
pub fn paise(m: Money) -> String {
    let p = m.to_paise_saturating();
    let sign = if p < 0 { "-" } else { "" };
    let abs = p.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// A column: its name (also the CSV header and the SQL column), kind, and how many
/// decimals a [`Kind::Real`] gets in CSV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// Name.
    pub name: &'static str,
    /// Kind.
    pub kind: Kind,
    /// Decimals of a real in CSV.
    pub decimals: usize,
}

const fn col(name: &'static str, kind: Kind) -> Column {
    Column {
        name,
        kind,
        decimals: 4,
    }
}

const fn real(name: &'static str, decimals: usize) -> Column {
    Column {
        name,
        kind: Kind::Real,
        decimals,
    }
}

/// A named table of rows, each as long as `columns`.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Name (the SQL table's).
    pub name: &'static str,
    /// The columns.
    pub columns: Vec<Column>,
    /// The rows.
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    /// The table as CSV with a header line.
    pub fn csv(&self) -> String {
        let header: Vec<&str> = self.columns.iter().map(|c| c.name).collect();
        let mut out = header.join(",");
        out.push('\n');
        for row in &self.rows {
            let fields: Vec<String> = row
                .iter()
                .zip(&self.columns)
                .map(|(cell, c)| cell.csv(c.decimals))
                .collect();
            let _ = writeln!(out, "{}", fields.join(","));
        }
        out
    }

    /// The rows as an array of objects keyed by column name.
    pub fn json(&self) -> Value {
        Value::Array(
            self.rows
                .iter()
                .map(|row| {
                    let object: Map<String, Value> = self
                        .columns
                        .iter()
                        .zip(row)
                        .map(|(c, cell)| (c.name.to_owned(), cell.json()))
                        .collect();
                    Value::Object(object)
                })
                .collect(),
        )
    }
}

/// `YYYY-MM-DD HH:MM:SS` in IST.
pub fn ist(ts: UnixNanos) -> String {
    format!("{} {}", ts.ist_date(), ts.ist_time_of_day())
}

/// `long` or `short`.
pub fn direction(t: &Trade) -> &'static str {
    if t.direction == Side::Buy {
        "long"
    } else {
        "short"
    }
}

/// Why the trade ended: its last fill's reason, or `adopted` when a reconciliation took
/// its units out of the book.
pub fn exit_reason(t: &Trade) -> &'static str {
    if t.adopted.exit {
        "adopted"
    } else {
        t.exit_reason.as_str()
    }
}

/// Every round trip: `trades.csv`, the `trade_performance` table. With a column
/// `slippage` when the fills' intents are known, and `adopted` (`entry`, `exit`,
/// `entry+exit` or empty) when a trade began or ended with an adoption of a broker's
/// position.
pub fn trades_table(book: &TradeBook, context: &ReportContext<'_>) -> Table {
    use Kind::*;
    let columns = vec![
        col("trade", Integer),
        col("strategy", Text),
        col("instrument", Text),
        col("side", Text),
        col("qty", Integer),
        col("entry_time", Text),
        col("entry_price", Text),
        col("exit_time", Text),
        col("exit_price", Text),
        col("gross", Rupees),
        col("charges", Rupees),
        col("net", Rupees),
        real("net_pct", 4),
        col("holding_minutes", Integer),
        col("exit_reason", Text),
    ];
    // Slippage is known when the fills' intents are (a journal holds them; a run's
    // summary does not): the column is there only then.
    let slippage = book.trades.iter().any(|t| t.slippage.is_some());
    // Which end of a trade the risk stage adopted from a broker's account: only a
    // journal with adoptions has the column.
    let adopted = book.trades.iter().any(|t| t.adopted.any());
    let mut columns = columns;
    if slippage {
        columns.push(col("slippage", Rupees));
    }
    if adopted {
        columns.push(col("adopted", Text));
    }
    let rows = book
        .trades
        .iter()
        .map(|t| {
            let mut row = vec![
                Cell::Integer(t.number as i64),
                Cell::Text(context.strategy_name(t.strategy.index()).to_owned()),
                Cell::Text(context.instruments.get(t.instrument).symbol.to_string()),
                Cell::Text(direction(t).to_owned()),
                Cell::Integer(i64::from(t.qty.get())),
                Cell::Text(ist(t.entry_ts)),
                Cell::Text(t.entry_price.to_string()),
                Cell::Text(ist(t.exit_ts)),
                Cell::Text(t.exit_price.to_string()),
                Cell::Rupees(t.gross),
                Cell::Rupees(t.charges),
                Cell::Rupees(t.net()),
                Cell::Real(t.net_pct()),
                Cell::Integer(t.holding_minutes() as i64),
                Cell::Text(exit_reason(t).to_owned()),
            ];
            if slippage {
                // A trade with a fill of unknown intent: empty, NULL in SQL.
                row.push(t.slippage.map_or(Cell::Real(f64::NAN), Cell::Rupees));
            }
            if adopted {
                row.push(Cell::Text(t.adopted.as_str().to_owned()));
            }
            row
        })
        .collect();
    Table {
        name: "trade_performance",
        columns,
        rows,
    }
}

/// One row per day: `daily.csv`, the `daily_performance` table.
pub fn daily_table(days: &[DayRow]) -> Table {
    use Kind::*;
    let columns = vec![
        col("date", Text),
        col("trades", Integer),
        col("winners", Integer),
        col("losers", Integer),
        col("gross", Rupees),
        col("charges", Rupees),
        col("net", Rupees),
        col("largest_win", Rupees),
        col("largest_loss", Rupees),
        col("equity", Rupees),
        real("sharpe_to_date", 6),
        real("max_drawdown_to_date", 6),
    ];
    let rows = days
        .iter()
        .map(|d| {
            vec![
                Cell::Text(d.date.to_string()),
                Cell::Integer(d.trades as i64),
                Cell::Integer(d.winners as i64),
                Cell::Integer(d.losers() as i64),
                Cell::Rupees(d.gross),
                Cell::Rupees(d.charges),
                Cell::Rupees(d.net()),
                Cell::Rupees(d.largest_win),
                Cell::Rupees(d.largest_loss),
                Cell::Rupees(d.equity),
                Cell::Real(d.sharpe_to_date),
                Cell::Real(d.max_drawdown_to_date),
            ]
        })
        .collect();
    Table {
        name: "daily_performance",
        columns,
        rows,
    }
}

/// One row per strategy: `strategies.csv`, the `strategy_performance` table.
pub fn strategies_table(strategies: &[StrategyStats], context: &ReportContext<'_>) -> Table {
    use Kind::*;
    let columns = vec![
        col("strategy", Text),
        col("trades", Integer),
        col("winners", Integer),
        real("win_rate", 4),
        col("average_win", Rupees),
        col("average_loss", Rupees),
        real("profit_factor", 4),
        col("expectancy", Rupees),
        col("gross", Rupees),
        col("charges", Rupees),
        col("net", Rupees),
        col("max_drawdown", Rupees),
        real("sharpe", 4),
    ];
    let rows = strategies
        .iter()
        .map(|s| {
            vec![
                Cell::Text(context.strategy_name(s.strategy.index()).to_owned()),
                Cell::Integer(s.trades as i64),
                Cell::Integer(s.winners as i64),
                Cell::Real(s.win_rate()),
                Cell::Rupees(s.average_win()),
                Cell::Rupees(s.average_loss()),
                Cell::Real(s.profit_factor()),
                Cell::Rupees(s.expectancy()),
                Cell::Rupees(s.gross),
                Cell::Rupees(s.charges),
                Cell::Rupees(s.net()),
                Cell::Rupees(s.max_drawdown),
                Cell::Real(s.sharpe),
            ]
        })
        .collect();
    Table {
        name: "strategy_performance",
        columns,
        rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_render_alike_in_csv_and_json() {
        let m = Money::from_raw(Money::from_rupees(-12).raw() - Money::from_rupees(1).raw() / 200);
        assert_eq!(Cell::Rupees(m).csv(2), "-12.00");
        assert_eq!(Cell::Real(f64::NAN).csv(2), "");
        assert_eq!(Cell::Real(f64::INFINITY).json(), Value::Null);
        assert_eq!(Cell::Rupees(Money::from_rupees(5)).json(), Value::from(5.0));
        let t = Table {
            name: "t",
            columns: vec![col("a", Kind::Integer), real("b", 1)],
            rows: vec![vec![Cell::Integer(1), Cell::Real(0.375)]],
        };
        assert_eq!(t.csv(), "a,b\n1,0.4\n");
        assert_eq!(t.json()[0]["b"], Value::from(0.375));
    }
}
