//! OHLCV bars from a CSV file in the common `Date,Open,High,Low,Close,Volume` layout.
//!
//! Read through the `csv` crate (quoting, a byte-order mark, CRLF line ends and the
//! record's line number come with it). Every error names the file, the line and the
//! column, so a trader can fix the file without reading our code.

use std::{fmt, path::Path};

use crate::model::{Date, Price, TimeOfDay, UnixNanos};

/// The columns read besides the time, matched by name in any case and order; other
/// columns are ignored.
const COLUMNS: [&str; 5] = ["Open", "High", "Low", "Close", "Volume"];

/// One row of the file.
///
/// Each price is kept twice: as the exact decimal [`Price`] the strategies read (the
/// engine's SMA compares exact sums, so touching averages never read as a cross), and as
/// the `f64` Python reads from the same text (both parse to the nearest double), which
/// the backtesting.py-compatible account arithmetic needs to reproduce the library to
/// the last bit (see [`Account`](super::Account)).
#[derive(Debug, Clone, PartialEq)]
pub struct OhlcvBar {
    /// The time cell as written in the file; echoed into the outputs unchanged.
    pub time: String,
    /// The time as market time: a date alone is midnight IST, a date and time are IST.
    pub at: UnixNanos,
    /// The calendar date of the row (IST).
    pub date: Date,
    /// Open, high, low and close as exact decimals.
    pub open: Price,
    /// High.
    pub high: Price,
    /// Low.
    pub low: Price,
    /// Close.
    pub close: Price,
    /// `[open, high, low, close]` as the nearest doubles to the text.
    pub ohlc_f64: [f64; 4],
    /// Units traded (a fractional volume, as some vendors write, is truncated).
    pub volume: u64,
}

impl Default for OhlcvBar {
    /// An empty row to read into.
    fn default() -> OhlcvBar {
        OhlcvBar {
            time: String::new(),
            at: UnixNanos(0),
            date: Date::new(1970, 1, 1),
            open: Price::ZERO,
            high: Price::ZERO,
            low: Price::ZERO,
            close: Price::ZERO,
            ohlc_f64: [0.0; 4],
            volume: 0,
        }
    }
}

impl OhlcvBar {
    /// The open as a double.
    pub fn open_f64(&self) -> f64 {
        self.ohlc_f64[0]
    }

    /// The close as a double.
    pub fn close_f64(&self) -> f64 {
        self.ohlc_f64[3]
    }
}

/// Why a data file could not be read: where, and what is wrong there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataError {
    /// The file as given on the command line.
    pub file: String,
    /// 1-based line (the header is line 1); 0 for the file as a whole.
    pub line: u64,
    /// The column's name when the problem is in one cell.
    pub column: Option<String>,
    /// What is wrong.
    pub why: String,
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if self.line > 0 {
            write!(f, ": line {}", self.line)?;
        }
        if let Some(column) = &self.column {
            write!(f, ", column `{column}`")?;
        }
        write!(f, ": {}", self.why)
    }
}

impl std::error::Error for DataError {}

/// Reads every row of an OHLCV CSV into memory: [`OhlcvReader`] collected, for small
/// files and tests (the backtest itself streams).
///
/// # Errors
/// As [`OhlcvReader::open`] and [`OhlcvReader::read_next`].
pub fn read_ohlcv(path: &Path) -> Result<Vec<OhlcvBar>, DataError> {
    let mut reader = OhlcvReader::open(path)?;
    let mut bars = Vec::new();
    while reader.read_next()? {
        bars.push(reader.current().clone());
    }
    Ok(bars)
}

/// An OHLCV CSV read as a stream, one row at a time, so memory stays flat however long
/// the file is: one `csv` record buffer and the row handed out are reused for every
/// row, and nothing of a row is kept after the next is read.
///
/// Reading a row allocates nothing once the buffers have grown: cells are trimmed here
/// rather than by the `csv` reader (whose trimming builds a new record per row), the
/// row before is the one handed out (still there when the next is checked against it),
/// and a row's date is parsed only when it differs from the row before's (intraday
/// files repeat it for hundreds of rows).
///
/// The first column is the time (any name, even none, as pandas writes an index):
/// `YYYY-MM-DD`, or that followed by `T` or a space and `HH:MM[:SS]`, optionally with
/// the offset `+05:30`/`+0530` (IST, as Kite writes it). Times must strictly increase.
/// Prices must be positive decimals; blank lines are skipped; columns besides the
/// time, `Open`, `High`, `Low`, `Close` and `Volume` (Kite's `oi`, say) are ignored.
#[derive(Debug)]
pub struct OhlcvReader {
    file: String,
    reader: csv::Reader<std::fs::File>,
    record: csv::StringRecord,
    columns: [usize; COLUMNS.len()],
    time_column: String,
    /// The date text of the row before and its date.
    day: Option<(String, Date)>,
    rows: u64,
    /// The row read last, reused for every row.
    current: OhlcvBar,
}

impl OhlcvReader {
    /// Bytes of the file read so far (a progress bar's position).
    pub fn bytes_read(&self) -> u64 {
        self.reader.position().byte()
    }

    /// Opens `path` and checks its header.
    ///
    /// # Errors
    /// A [`DataError`] naming the file (and line 1 for the header): an unreadable
    /// file, an empty one, a header whose first column is a price, or one without one
    /// of the needed columns (or with one twice).
    pub fn open(path: &Path) -> Result<OhlcvReader, DataError> {
        let file = path.display().to_string();
        let error = |line: u64, why: String| DataError {
            file: file.clone(),
            line,
            column: None,
            why,
        };
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_path(path)
            .map_err(|e| error(0, csv_why(&e)))?;
        let header = reader.headers().map_err(|e| error(1, csv_why(&e)))?.clone();
        if header.is_empty() {
            return Err(error(
                0,
                "empty; expected a header such as `Date,Open,High,Low,Close,Volume`".to_owned(),
            ));
        }
        let names: Vec<&str> = header
            .iter()
            .map(|n| n.trim_start_matches('\u{feff}').trim())
            .collect();
        if let Some(needed) = COLUMNS.iter().find(|n| n.eq_ignore_ascii_case(names[0])) {
            return Err(error(
                1,
                format!("the first column must be the time, not `{needed}`"),
            ));
        }
        let mut columns = [0usize; COLUMNS.len()];
        for (slot, needed) in columns.iter_mut().zip(COLUMNS) {
            let mut found = (1..names.len()).filter(|&c| names[c].eq_ignore_ascii_case(needed));
            *slot = found.next().ok_or_else(|| {
                error(
                    1,
                    format!("no `{needed}` column in the header `{}`", names.join(",")),
                )
            })?;
            if found.next().is_some() {
                return Err(error(
                    1,
                    format!("more than one `{needed}` column in the header"),
                ));
            }
        }
        let time_column = if names[0].is_empty() {
            "time (first column)".to_owned()
        } else {
            names[0].to_owned()
        };
        Ok(OhlcvReader {
            file,
            reader,
            record: csv::StringRecord::new(),
            columns,
            time_column,
            day: None,
            rows: 0,
            current: OhlcvBar::default(),
        })
    }

    /// The file as given.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The row read last (an empty one before the first).
    pub fn current(&self) -> &OhlcvBar {
        &self.current
    }

    /// The line the row read last starts on (1-based; 0 before the first).
    pub fn line(&self) -> u64 {
        self.record.position().map_or(0, csv::Position::line)
    }

    /// Reads the next row into [`OhlcvReader::current`]; `false` at the end.
    ///
    /// # Errors
    /// A [`DataError`] naming the file, line and column: a row with the wrong number of
    /// cells, a cell that is not a number or a time, a time that does not come after the
    /// one before, or no rows at all (at the end).
    pub fn read_next(&mut self) -> Result<bool, DataError> {
        loop {
            let more = self.reader.read_record(&mut self.record).map_err(|e| {
                let line = e.position().map_or(0, csv::Position::line);
                self.error(line, None, csv_why(&e))
            })?;
            if !more {
                if self.rows == 0 {
                    return Err(self.error(0, None, "no data rows after the header".to_owned()));
                }
                return Ok(false);
            }
            if self.record.iter().all(|cell| cell.trim().is_empty()) {
                continue;
            }
            self.parse()?;
            self.rows += 1;
            return Ok(true);
        }
    }

    fn error(&self, line: u64, column: Option<&str>, why: String) -> DataError {
        DataError {
            file: self.file.clone(),
            line,
            column: column.map(str::to_owned),
            why,
        }
    }

    fn parse(&mut self) -> Result<(), DataError> {
        let record = &self.record;
        let line = record.position().map_or(0, csv::Position::line);
        let time = record.get(0).unwrap_or_default().trim();
        let (date_text, clock) = split_time(time);
        let date = match &self.day {
            Some((text, date)) if text == date_text => Some(*date),
            _ => Date::parse(date_text),
        };
        let (date, at) = date.and_then(|d| on_date(d, clock)).ok_or_else(|| {
            self.error(
                line,
                Some(&self.time_column),
                format!("`{time}` is not a date or date and time (YYYY-MM-DD[ HH:MM[:SS]])"),
            )
        })?;
        // The row handed out last is the row before.
        if self.rows > 0 && at <= self.current.at {
            return Err(self.error(
                line,
                Some(&self.time_column),
                format!("`{time}` does not come after `{}`", self.current.time),
            ));
        }
        let mut prices = [Price::ZERO; 4];
        let mut doubles = [0.0; 4];
        for i in 0..4 {
            let cell = record.get(self.columns[i]).unwrap_or_default().trim();
            let (price, double) = parse_price(cell).ok_or_else(|| {
                self.error(
                    line,
                    Some(COLUMNS[i]),
                    format!("`{cell}` is not a positive number"),
                )
            })?;
            prices[i] = price;
            doubles[i] = double;
        }
        let cell = record.get(self.columns[4]).unwrap_or_default().trim();
        let volume = parse_volume(cell).ok_or_else(|| {
            self.error(
                line,
                Some(COLUMNS[4]),
                format!("`{cell}` is not a volume (a number at least 0)"),
            )
        })?;
        let [open, high, low, close] = prices;
        let bar = &mut self.current;
        bar.time.clear();
        bar.time.push_str(time);
        bar.at = at;
        bar.date = date;
        bar.open = open;
        bar.high = high;
        bar.low = low;
        bar.close = close;
        bar.ohlc_f64 = doubles;
        bar.volume = volume;
        let day = self.day.get_or_insert_with(|| (String::new(), date));
        if day.0 != date_text {
            day.0.clear();
            day.0.push_str(date_text);
            day.1 = date;
        }
        Ok(())
    }
}

/// A volume: a whole number, or a fractional one (as some vendors write) truncated.
pub(super) fn parse_volume(cell: &str) -> Option<u64> {
    if let Ok(v) = cell.parse::<u64>() {
        return Some(v);
    }
    match cell.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Some(v as u64),
        _ => None,
    }
}

/// The csv crate's message, without its own position prefix (we give ours).
fn csv_why(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Io(io) => io.to_string(),
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("{len} cells where the header has {expected_len}"),
        csv::ErrorKind::Utf8 { .. } => "not valid UTF-8".to_owned(),
        _ => e.to_string(),
    }
}

/// A positive price: the exact decimal when it has at most eight decimals, else the
/// nearest one; and the nearest double to the text.
pub(super) fn parse_price(cell: &str) -> Option<(Price, f64)> {
    let double: f64 = cell.parse().ok()?;
    if !(double.is_finite() && double > 0.0) {
        return None;
    }
    let price = cell
        .parse::<Price>()
        .or_else(|_| Price::from_f64(double))
        .ok()?;
    price.is_positive().then_some((price, double))
}

/// `YYYY-MM-DD[(T| )HH:MM[:SS][+05:30|+0530]]` as IST.
pub(super) fn parse_time(cell: &str) -> Option<(Date, UnixNanos)> {
    let (date_text, clock) = split_time(cell);
    on_date(Date::parse(date_text)?, clock)
}

/// A time cell's date text, and the rest after the `T` or space, if any.
fn split_time(cell: &str) -> (&str, Option<&str>) {
    match cell.bytes().position(|b| b == b'T' || b == b' ') {
        Some(i) => (&cell[..i], Some(&cell[i + 1..])),
        None => (cell, None),
    }
}

/// The row's date and market time from its date and the rest of its time cell
/// (`HH:MM[:SS]` with an optional IST offset; none is midnight).
fn on_date(date: Date, rest: Option<&str>) -> Option<(Date, UnixNanos)> {
    let time = match rest {
        None => TimeOfDay::hm(0, 0),
        Some(rest) => {
            let clock = rest
                .strip_suffix("+05:30")
                .or_else(|| rest.strip_suffix("+0530"))
                .unwrap_or(rest);
            TimeOfDay::parse(clock)?
        }
    };
    // Market time counts from 1970 (IST); earlier rows cannot be placed on it.
    if date < Date::new(1970, 1, 2) {
        return None;
    }
    Some((date, UnixNanos::from_ist(date, time)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(name: &str, text: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("tickpipe-data-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn reads_a_pandas_index_header_and_keeps_the_text() {
        let path = write(
            "ok.csv",
            ",Open,High,Low,Close,Volume\n2004-08-19,100,104.06,95.96,100.34,22351900\n\n2004-08-20,101.01,109.08,100.5,108.31,11428600\n",
        );
        let bars = read_ohlcv(&path).unwrap();
        assert_eq!(bars.len(), 2);
        assert_eq!(bars[0].time, "2004-08-19");
        assert_eq!(bars[0].close.to_string(), "100.34");
        assert_eq!(bars[0].close_f64(), 100.34);
        assert_eq!(bars[1].volume, 11_428_600);
        assert!(bars[1].at > bars[0].at);
    }

    #[test]
    fn intraday_times_with_the_ist_offset() {
        let path = write(
            "kite.csv",
            "date,open,high,low,close,volume\n2024-01-01T09:15:00+0530,1,1,1,1,0\n2024-01-01 09:16,1,1,1,1,0\n",
        );
        let bars = read_ohlcv(&path).unwrap();
        assert_eq!(bars[1].at.0 - bars[0].at.0, 60_000_000_000);
        assert_eq!(bars[0].date, Date::new(2024, 1, 1));
    }

    #[test]
    fn cells_and_names_are_trimmed_and_each_rows_date_is_its_own() {
        let path = write(
            "spaced.csv",
            " Date , Open ,High,Low,Close, Volume \n 2024-01-01 15:29 , 10 ,11,9,10.5, 7 \n\n2024-01-01 15:30,1,1,1,1,0\n2024-01-02 09:15,2,2,2,2,0\n2024-01-02 09:16,3,3,3,3,0\n",
        );
        let bars = read_ohlcv(&path).unwrap();
        assert_eq!(bars.len(), 4);
        assert_eq!(
            (bars[0].time.as_str(), bars[0].volume),
            ("2024-01-01 15:29", 7)
        );
        assert_eq!(bars[0].open.to_string(), "10.00");
        let dates: Vec<Date> = bars.iter().map(|b| b.date).collect();
        let day = |d| Date::new(2024, 1, d);
        assert_eq!(dates, [day(1), day(1), day(2), day(2)]);
        for bar in &bars {
            let clock = TimeOfDay::parse(&bar.time[11..]).unwrap();
            assert_eq!(bar.at, UnixNanos::from_ist(bar.date, clock), "{}", bar.time);
        }
    }

    fn message(text: &str) -> String {
        let path = write("bad.csv", text);
        let e = read_ohlcv(&path).unwrap_err();
        e.to_string().replace(&path.display().to_string(), "FILE")
    }

    #[test]
    fn errors_name_the_line_and_column() {
        assert_eq!(
            message("Date,Open,High,Low,Volume\n2004-08-19,1,1,1,1\n"),
            "FILE: line 1: no `Close` column in the header `Date,Open,High,Low,Volume`"
        );
        assert_eq!(
            message(
                "Date,Open,High,Low,Close,Volume\n2004-08-19,1,1,1,1,1\n2004-08-20,1,1,x,1,1\n"
            ),
            "FILE: line 3, column `Low`: `x` is not a positive number"
        );
        assert_eq!(
            message(
                "Date,Open,High,Low,Close,Volume\n2004-08-20,1,1,1,1,1\n2004-08-20,1,1,1,1,1\n"
            ),
            "FILE: line 3, column `Date`: `2004-08-20` does not come after `2004-08-20`"
        );
        assert_eq!(
            message("Date,Open,High,Low,Close,Volume\n2004-08-19,1,1,1,1\n"),
            "FILE: line 2: 5 cells where the header has 6"
        );
        assert_eq!(
            message("Date,Open,High,Low,Close,Volume\n"),
            "FILE: no data rows after the header"
        );
    }
}
