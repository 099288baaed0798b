//! `tickpipe journal export DIR --sqlite FILE`: the journal's history as an SQLite
//! database, for SQL and for loading into PostgreSQL.
//!
//! | table | one row per | from |
//! | --- | --- | --- |
//! | `trades` | booked fill | the journal's fill records |
//! | `trade_performance` | round trip | [`TradeBook`](crate::report::TradeBook), as `trades.csv` |
//! | `daily_performance` | IST day | [`by_day`], as `daily.csv` |
//! | `strategy_performance` | strategy | [`by_strategy`], as `strategies.csv` |
//! | `execution_quality` | strategy | the journal's intent, exec and fill records |
//! | `adoptions` | adoption of a broker's position | the journal's adopt records |
//!
//! An adoption is no fill, so `trades` leaves it out; the round trip it opened or ended
//! is in `trade_performance` once, marked in its `adopted` column (present when the
//! journal has adoptions).
//!
//! Money columns are `NUMERIC(18,2)` rupees truncated to the paisa, the figures the CSV
//! files show.
//! The performance tables are the report's own [`Table`]s, so no figure is computed
//! here. `execution_quality` has only the columns the journal can back: without intent
//! records there is no order count or fill rate, without execution reports no reject
//! count; slippage (in rupees, positive when a fill cost more than its intent's reference
//! price) only when fills can be matched to intents that carry a reference price.
//!
//! The database is written under a temporary name in the target's folder and renamed
//! over FILE only when complete.

use std::path::{Path, PathBuf};

use rusqlite::{params_from_iter, types::Value as Sql, Connection};

use super::history::{History, Naming, EXEC_KINDS};
use crate::report::{
    by_day, by_strategy, daily_table, rupees, strategies_table, trades_table, Cell, Column, Kind,
    Table,
};

/// Writes the database; returns a line per table saying how many rows it got.
///
/// # Errors
/// Bad journal or configuration (as [`History::read`], [`Naming::cover`]), or a
/// database that cannot be written, naming FILE.
pub(super) fn export_sqlite(
    dir: &Path,
    file: &Path,
    config: Option<&PathBuf>,
) -> Result<Vec<String>, String> {
    let history = History::read(dir)?;
    let mut naming = Naming::load(config, dir)?;
    naming.cover(&history)?;
    let book = naming.book(&history)?;
    let names = naming.names();
    let title = format!("journal {}", dir.display());
    let context = naming.context(&names, &title);
    let days = by_day(&book.trades, naming.capital);
    let strategies = by_strategy(&book.trades, names.len(), naming.capital);
    let tables = [
        fills_table(&history, &naming),
        trades_table(&book, &context),
        daily_table(&days),
        strategies_table(&strategies, &context),
        execution_table(&history, &naming),
        adoptions_table(&history, &naming),
    ];

    let parent = match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    if file.is_dir() {
        return Err(format!(
            "{}: is a directory, expected a file name",
            file.display()
        ));
    }
    let temp = parent.join(format!(
        ".{}.partial",
        file.file_name()
            .map_or("export".into(), |n| n.to_string_lossy())
    ));
    let _ = std::fs::remove_file(&temp);
    let written = write_db(&temp, &tables).map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        format!("{}: {e}", file.display())
    })?;
    std::fs::rename(&temp, file).map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        format!("{}: {e}", file.display())
    })?;
    for torn in &history.torn {
        eprintln!("tickpipe: {torn}; the records before it are exported");
    }
    Ok(written)
}

fn write_db(path: &Path, tables: &[Table]) -> Result<Vec<String>, String> {
    let mut db = Connection::open(path).map_err(|e| e.to_string())?;
    let tx = db.transaction().map_err(|e| e.to_string())?;
    let mut lines = Vec::new();
    for table in tables {
        let columns: Vec<String> = table
            .columns
            .iter()
            .map(|c| format!("\"{}\" {}", c.name, sql_type(c)))
            .collect();
        tx.execute(
            &format!("CREATE TABLE \"{}\" ({})", table.name, columns.join(", ")),
            [],
        )
        .map_err(|e| format!("table {}: {e}", table.name))?;
        let marks = vec!["?"; table.columns.len()].join(", ");
        let mut insert = tx
            .prepare(&format!("INSERT INTO \"{}\" VALUES ({marks})", table.name))
            .map_err(|e| format!("table {}: {e}", table.name))?;
        for row in &table.rows {
            insert
                .execute(params_from_iter(row.iter().map(sql_value)))
                .map_err(|e| format!("table {}: {e}", table.name))?;
        }
        lines.push(format!("{} {} row(s)", table.name, table.rows.len()));
    }
    tx.commit().map_err(|e| e.to_string())?;
    db.close().map_err(|(_, e)| e.to_string())?;
    Ok(lines)
}

/// Declared types that give the right affinity in SQLite and the right type in
/// PostgreSQL after `sqlite3 FILE .dump`: money as exact `NUMERIC(18,2)` (PostgreSQL's
/// `REAL` is 4 bytes, too few digits for lakhs to the paisa), ratios as 8-byte floats.
fn sql_type(c: &Column) -> &'static str {
    match c.kind {
        Kind::Integer => "BIGINT",
        Kind::Real => "DOUBLE PRECISION",
        Kind::Rupees => "NUMERIC(18,2)",
        Kind::Text => "TEXT",
    }
}

fn sql_value(cell: &Cell) -> Sql {
    match cell {
        Cell::Integer(n) => Sql::Integer(*n),
        Cell::Real(x) if x.is_finite() => Sql::Real(*x),
        Cell::Real(_) => Sql::Null,
        Cell::Rupees(m) => Sql::Real(rupees(*m)),
        Cell::Text(t) => Sql::Text(t.clone()),
    }
}

const fn column(name: &'static str, kind: Kind) -> Column {
    Column {
        name,
        kind,
        decimals: 4,
    }
}

/// One row per booked fill.
fn fills_table(history: &History, naming: &Naming) -> Table {
    use Kind::*;
    let columns = vec![
        column("time_ist", Text),
        column("exchange_ts_ns", Integer),
        column("writer", Text),
        column("seq", Integer),
        column("intent", Integer),
        column("instrument", Text),
        column("instrument_id", Integer),
        column("strategy", Text),
        column("side", Text),
        column("qty", Integer),
        column("price", Text),
        column("reason", Text),
    ];
    let rows = history
        .fill_rows()
        .map(|r| {
            let f = r.fill;
            vec![
                Cell::Text(crate::report::ist(r.ts)),
                Cell::Integer(r.ts.0 as i64),
                Cell::Text(r.writer.to_owned()),
                Cell::Integer(r.seq.0 as i64),
                Cell::Integer(f.intent.sequence() as i64),
                Cell::Text(naming.instruments.get(f.instrument).symbol.to_string()),
                Cell::Integer(i64::from(f.instrument.0)),
                Cell::Text(naming.strategy(f.strategy).to_owned()),
                Cell::Text(f.side.to_string()),
                Cell::Integer(i64::from(f.qty.get())),
                Cell::Text(f.price.to_string()),
                Cell::Text(f.reason.as_str().to_owned()),
            ]
        })
        .collect();
    Table {
        name: "trades",
        columns,
        rows,
    }
}

/// One row per adoption of a broker's position: what the broker held, which the book
/// took, and what the book held before.
fn adoptions_table(history: &History, naming: &Naming) -> Table {
    use Kind::*;
    let columns = vec![
        column("time_ist", Text),
        column("exchange_ts_ns", Integer),
        column("writer", Text),
        column("seq", Integer),
        column("instrument", Text),
        column("instrument_id", Integer),
        column("broker_net", Integer),
        column("broker_avg", Text),
        column("book_net", Integer),
        column("book_avg", Text),
    ];
    let rows = history
        .adoptions
        .iter()
        .map(|(writer, seq, ts, a)| {
            vec![
                Cell::Text(crate::report::ist(*ts)),
                Cell::Integer(ts.0 as i64),
                Cell::Text(writer.clone()),
                Cell::Integer(seq.0 as i64),
                Cell::Text(naming.instruments.get(a.instrument).symbol.to_string()),
                Cell::Integer(i64::from(a.instrument.0)),
                Cell::Integer(a.broker_net),
                Cell::Text(a.broker_avg.to_string()),
                Cell::Integer(a.book_net),
                Cell::Text(a.book_avg.to_string()),
            ]
        })
        .collect();
    Table {
        name: "adoptions",
        columns,
        rows,
    }
}

/// One row per strategy that journaled an order, report or fill; only the columns the
/// journal's records back.
fn execution_table(history: &History, naming: &Naming) -> Table {
    use Kind::*;
    let mut columns = vec![column("strategy", Text)];
    if history.has_intents {
        columns.push(column("orders", Integer));
        columns.push(column("ordered_qty", Integer));
    }
    columns.push(column("fills", Integer));
    columns.push(column("filled_qty", Integer));
    if history.has_intents {
        columns.push(column("fill_rate", Real));
    }
    if history.has_execs {
        columns.extend(EXEC_KINDS.iter().map(|(_, name)| column(name, Integer)));
    }
    if history.has_slippage {
        columns.push(column("priced_fills", Integer));
        columns.push(column("slippage", Rupees));
    }
    let mut rows = Vec::new();
    for (i, c) in history.counts.iter().enumerate() {
        if c.intents == 0 && c.fills == 0 && c.execs.iter().all(|&n| n == 0) {
            continue;
        }
        let mut row = vec![Cell::Text(naming.strategy_names[i].clone())];
        if history.has_intents {
            row.push(Cell::Integer(c.intents as i64));
            row.push(Cell::Integer(c.intent_qty as i64));
        }
        row.push(Cell::Integer(c.fills as i64));
        row.push(Cell::Integer(c.filled_qty as i64));
        if history.has_intents {
            // Units filled over units ordered; NULL without orders.
            row.push(Cell::Real(c.filled_qty as f64 / c.intent_qty as f64));
        }
        if history.has_execs {
            row.extend(c.execs.iter().map(|&n| Cell::Integer(n as i64)));
        }
        if history.has_slippage {
            row.push(Cell::Integer(c.priced_fills as i64));
            row.push(Cell::Rupees(c.slippage));
        }
        rows.push(row);
    }
    Table {
        name: "execution_quality",
        columns,
        rows,
    }
}
