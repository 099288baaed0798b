//! Where bars come from: a CSV file, streamed (the common `Date,Open,High,Low,Close,
//! Volume` layout, and Kite's `date,open,high,low,close,volume[,oi]` with its
//! `2017-12-15T09:15:00+0530` times, told apart by nothing but their headers, which the
//! one reader matches by name), or the JSON Kite Connect's historical candles endpoint
//! answers, chosen by the `.json` extension.
//!
//! The JSON is read whole: one answer holds at most a few tens of thousands of candles
//! (Kite serves at most 60 days of minute candles per request), so a megabyte or two.
//! Long histories are CSV, which is streamed.

use std::path::Path;

use serde_json::Value;

use super::{
    bar_run::BarRows,
    data::{parse_price, parse_time, parse_volume},
    DataError, OhlcvBar, OhlcvReader,
};

/// A data file opened for a backtest.
#[derive(Debug)]
pub enum BarSource {
    /// A CSV file, read row by row.
    Csv(Box<OhlcvReader>),
    /// Kite historical candles (JSON), parsed whole.
    KiteJson {
        /// The candles, in order.
        bars: Vec<OhlcvBar>,
        /// How many have been handed out.
        next: usize,
    },
}

impl BarSource {
    /// Opens `path`: Kite candles JSON when it ends in `.json` (any case), CSV otherwise.
    ///
    /// # Errors
    /// The file's first problem, named by file and line (CSV) or candle (JSON).
    pub fn open(path: &Path) -> Result<BarSource, DataError> {
        let json = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
        if json {
            Ok(BarSource::KiteJson {
                bars: read_kite_candles(path)?,
                next: 0,
            })
        } else {
            OhlcvReader::open(path).map(|r| BarSource::Csv(Box::new(r)))
        }
    }

    /// How far the source has been read, in its own unit: bytes of a CSV file, candles
    /// of a JSON answer (a progress bar's position).
    pub fn read_so_far(&self) -> u64 {
        match self {
            BarSource::Csv(reader) => reader.bytes_read(),
            BarSource::KiteJson { next, .. } => *next as u64,
        }
    }

    /// The whole of the source in [`BarSource::read_so_far`]'s unit; `path` is the file
    /// it was opened from.
    pub fn size(&self, path: &Path) -> u64 {
        match self {
            BarSource::Csv(_) => std::fs::metadata(path).map_or(0, |m| m.len()),
            BarSource::KiteJson { bars, .. } => bars.len() as u64,
        }
    }

    /// What the file was read as, for the outputs.
    pub fn format(&self) -> &'static str {
        match self {
            BarSource::Csv(_) => "csv",
            BarSource::KiteJson { .. } => "kite-json",
        }
    }
}

impl BarRows for BarSource {
    fn next_row(&mut self) -> Result<Option<&OhlcvBar>, DataError> {
        match self {
            BarSource::Csv(reader) => reader.next_row(),
            BarSource::KiteJson { bars, next } => {
                let row = bars.get(*next);
                *next += 1;
                Ok(row)
            }
        }
    }
}

const CANDLE: [&str; 6] = ["date", "open", "high", "low", "close", "volume"];

/// Every candle of a Kite historical-data answer:
/// `{"status":"success","data":{"candles":[["2017-12-15T09:15:00+0530",o,h,l,c,v(,oi)],…]}}`.
///
/// # Errors
/// A [`DataError`] naming the file, and the candle and field (`data.candles[i]`,
/// `high`) for a bad value: JSON syntax (with its line and column), an error answer
/// (`"status":"error"`, with Kite's message), no candles, a candle with too few
/// fields, a price that is not a positive number, a time that is not IST or does not
/// come after the one before.
pub fn read_kite_candles(path: &Path) -> Result<Vec<OhlcvBar>, DataError> {
    let file = path.display().to_string();
    let error = |line: u64, column: Option<String>, why: String| DataError {
        file: file.clone(),
        line,
        column,
        why,
    };
    let text = std::fs::read(path).map_err(|e| error(0, None, e.to_string()))?;
    let doc: Value = serde_json::from_slice(&text)
        .map_err(|e| error(e.line() as u64, None, format!("not Kite candles JSON: {e}")))?;
    match doc.get("status").and_then(Value::as_str) {
        Some("success") => {}
        Some("error") => {
            let message = doc.get("message").and_then(Value::as_str).unwrap_or("");
            return Err(error(0, None, format!("Kite answered an error: {message}")));
        }
        _ => {
            return Err(error(
                0,
                None,
                "not a Kite historical-data answer: no `\"status\":\"success\"`".to_owned(),
            ))
        }
    }
    let candles = doc
        .pointer("/data/candles")
        .and_then(Value::as_array)
        .ok_or_else(|| error(0, None, "no `data.candles` array".to_owned()))?;
    if candles.is_empty() {
        return Err(error(0, None, "no candles in `data.candles`".to_owned()));
    }
    let mut bars: Vec<OhlcvBar> = Vec::with_capacity(candles.len());
    for (i, candle) in candles.iter().enumerate() {
        let at = |field: usize| Some(format!("data.candles[{i}] {}", CANDLE[field]));
        let cells = candle
            .as_array()
            .filter(|c| c.len() >= CANDLE.len())
            .ok_or_else(|| {
                error(
                    0,
                    Some(format!("data.candles[{i}]")),
                    "a candle is [date, open, high, low, close, volume(, oi)]".to_owned(),
                )
            })?;
        let time = cells[0].as_str().unwrap_or_default();
        let (date, when) = parse_time(time).ok_or_else(|| {
            error(
                0,
                at(0),
                format!(
                    "`{}` is not a time such as 2017-12-15T09:15:00+0530",
                    cells[0]
                ),
            )
        })?;
        if let Some(before) = bars.last() {
            if when <= before.at {
                return Err(error(
                    0,
                    at(0),
                    format!("`{time}` does not come after `{}`", before.time),
                ));
            }
        }
        let mut prices = [crate::model::Price::ZERO; 4];
        let mut doubles = [0.0; 4];
        for k in 0..4 {
            let cell = &cells[k + 1];
            let (price, double) = cell
                .is_number()
                .then(|| parse_price(&cell.to_string()))
                .flatten()
                .ok_or_else(|| error(0, at(k + 1), format!("`{cell}` is not a positive number")))?;
            prices[k] = price;
            doubles[k] = double;
        }
        let volume = cells[5]
            .is_number()
            .then(|| parse_volume(&cells[5].to_string()))
            .flatten()
            .ok_or_else(|| {
                error(
                    0,
                    at(5),
                    format!("`{}` is not a volume (a number at least 0)", cells[5]),
                )
            })?;
        let [open, high, low, close] = prices;
        bars.push(OhlcvBar {
            time: time.to_owned(),
            at: when,
            date,
            open,
            high,
            low,
            close,
            ohlc_f64: doubles,
            volume,
        });
    }
    Ok(bars)
}
