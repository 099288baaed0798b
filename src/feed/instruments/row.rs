//! One line of Kite's instrument master, parsed and checked.
//!
//! The columns are Kite's, in any order (a master with a missing column is rejected;
//! extra columns are ignored, so a future addition by Kite does not break a run):
//!
//! ```text
//! instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,tick_size,lot_size,instrument_type,segment,exchange
//! 12073986,47164,BANKNIFTY18JAN23500CE,,2528.4,2018-01-25,23500.0,0.05,40,CE,NFO-OPT,NFO
//! ```
//!
//! Prices (`last_price`, `strike`, `tick_size`) are read as exact decimals, never
//! through a float.

use std::path::Path;

use super::MasterError;
use crate::model::{Date, Price};

/// The columns of a Kite instrument master, as Kite names them.
pub const COLUMNS: [&str; 12] = [
    "instrument_token",
    "exchange_token",
    "tradingsymbol",
    "name",
    "last_price",
    "expiry",
    "strike",
    "tick_size",
    "lot_size",
    "instrument_type",
    "segment",
    "exchange",
];

/// Kite's `instrument_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MasterType {
    /// `EQ`: a share, ETF, bond or (in segment `INDICES`) an index.
    Equity,
    /// `FUT`: a future.
    Future,
    /// `CE`: a call option.
    Call,
    /// `PE`: a put option.
    Put,
}

/// One instrument of the master, with Kite's fields typed.
#[derive(Debug, Clone, PartialEq)]
pub struct MasterRow {
    /// 1-based line of the file the row came from, for later errors about it.
    pub line: u64,
    /// Kite's `instrument_token`: what the Ticker's packets carry.
    pub instrument_token: u32,
    /// The exchange's own token.
    pub exchange_token: u32,
    /// Trading symbol (`INFY`, `BANKNIFTY18JAN23500CE`).
    pub tradingsymbol: String,
    /// Company name, or the underlying of a derivative (may be empty).
    pub name: String,
    /// Kite's last price when the master was built (often 0).
    pub last_price: Price,
    /// Expiry of a derivative.
    pub expiry: Option<Date>,
    /// Strike of an option (0 otherwise).
    pub strike: Price,
    /// Minimum price step: always positive.
    pub tick_size: Price,
    /// Units per lot: at least 1.
    pub lot_size: u32,
    /// Kind of instrument.
    pub instrument_type: MasterType,
    /// Kite's segment (`NSE`, `BSE`, `NFO-OPT`, `NFO-FUT`, `INDICES`, …).
    pub segment: String,
    /// Exchange (`NSE`, `BSE`, `NFO`, `BFO`, `CDS`, `MCX`, …).
    pub exchange: String,
}

/// Reads a saved master.
///
/// # Errors
/// [`MasterError`] when the file cannot be read or any line is malformed.
pub fn load(path: &Path) -> Result<Vec<MasterRow>, MasterError> {
    let name = path.display().to_string();
    let text = std::fs::read(path)
        .map_err(|e| MasterError::new(&name, 0, None, format!("cannot read: {e}")))?;
    parse(&text, &name)
}

/// Parses master CSV bytes; `file` names them in errors. Every row is checked, whatever
/// its exchange: a master that is wrong anywhere is not trusted anywhere.
///
/// # Errors
/// [`MasterError`] naming line and column: a missing or repeated column, a short or long
/// line, a token or lot size that is not a positive whole number, a price that is not a
/// decimal, a tick size that is not positive, an expiry that is not `YYYY-MM-DD`, an
/// unknown instrument type, a derivative without expiry or an option without strike.
pub fn parse(bytes: &[u8], file: &str) -> Result<Vec<MasterRow>, MasterError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let header = reader
        .headers()
        .map_err(|e| csv_error(bytes, file, &e))?
        .clone();
    if header.is_empty() || header.iter().all(str::is_empty) {
        return Err(MasterError::new(
            file,
            1,
            None,
            "empty file: no header line".into(),
        ));
    }
    // positions[k] = field index of COLUMNS[k].
    let mut positions = [usize::MAX; COLUMNS.len()];
    for (i, name) in header.iter().enumerate() {
        if let Some(k) = COLUMNS.iter().position(|c| *c == name) {
            if positions[k] != usize::MAX {
                return Err(MasterError::new(
                    file,
                    1,
                    Some((i + 1, name)),
                    "column appears twice".into(),
                ));
            }
            positions[k] = i;
        }
    }
    if let Some(k) = positions.iter().position(|&p| p == usize::MAX) {
        return Err(MasterError::new(
            file,
            1,
            None,
            format!("missing column `{}`", COLUMNS[k]),
        ));
    }

    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    // Lines are counted from the records' byte offsets: the reader's own count is one
    // short after a header that ends in CRLF, as Kite's file does.
    let mut lines = LineCounter::default();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(csv_error(bytes, file, &e)),
        }
        let line = lines.line_at(bytes, record.position().map_or(0, csv::Position::byte));
        let fields = Fields {
            file,
            line,
            record: &record,
            positions: &positions,
        };
        rows.push(fields.row()?);
    }
    Ok(rows)
}

/// The 1-based line of byte offsets met in increasing order, counting each newline once.
#[derive(Default)]
struct LineCounter {
    scanned: usize,
    newlines: u64,
}

impl LineCounter {
    fn line_at(&mut self, bytes: &[u8], offset: u64) -> u64 {
        let mut at = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(bytes.len());
        // After a CRLF line the reader places the next record at the LF it has not yet
        // consumed: the record itself starts past the line break.
        while at < bytes.len() && matches!(bytes[at], b'\r' | b'\n') {
            at += 1;
        }
        if at > self.scanned {
            self.newlines += bytes[self.scanned..at]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u64;
            self.scanned = at;
        }
        self.newlines + 1
    }
}

fn csv_error(bytes: &[u8], file: &str, e: &csv::Error) -> MasterError {
    let line = e
        .position()
        .map_or(0, |p| LineCounter::default().line_at(bytes, p.byte()));
    let reason = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("expected {expected_len} fields, found {len}"),
        csv::ErrorKind::Utf8 { .. } => "not UTF-8 text".to_owned(),
        _ => e.to_string(),
    };
    MasterError::new(file, line, None, reason)
}

/// The fields of one record, with what errors need to name them.
struct Fields<'a> {
    file: &'a str,
    line: u64,
    record: &'a csv::StringRecord,
    positions: &'a [usize; COLUMNS.len()],
}

impl Fields<'_> {
    fn get(&self, k: usize) -> &str {
        self.record.get(self.positions[k]).unwrap_or("")
    }

    fn err(&self, k: usize, reason: String) -> MasterError {
        MasterError::new(
            self.file,
            self.line,
            Some((self.positions[k] + 1, COLUMNS[k])),
            reason,
        )
    }

    fn count(&self, k: usize) -> Result<u32, MasterError> {
        let text = self.get(k);
        match text.parse::<u32>() {
            Ok(v) if v > 0 => Ok(v),
            Ok(_) => Err(self.err(k, "must be at least 1".into())),
            Err(_) => Err(self.err(k, format!("`{text}` is not a whole number"))),
        }
    }

    fn price(&self, k: usize) -> Result<Price, MasterError> {
        let text = self.get(k);
        text.parse::<Price>()
            .map_err(|e| self.err(k, format!("`{text}` is not a decimal price: {e}")))
    }

    fn row(&self) -> Result<MasterRow, MasterError> {
        let instrument_token = self.count(0)?;
        let exchange_token = self.count(1)?;
        let tradingsymbol = self.get(2);
        if tradingsymbol.is_empty() {
            return Err(self.err(2, "empty value".into()));
        }
        let last_price = self.price(4)?;
        let expiry_text = self.get(5);
        let expiry = if expiry_text.is_empty() {
            None
        } else {
            Some(Date::parse(expiry_text).ok_or_else(|| {
                self.err(5, format!("`{expiry_text}` is not a date (YYYY-MM-DD)"))
            })?)
        };
        let strike = self.price(6)?;
        let tick_size = self.price(7)?;
        if !tick_size.is_positive() {
            return Err(self.err(7, format!("`{}` must be a positive tick size", self.get(7))));
        }
        let lot_size = self.count(8)?;
        let instrument_type = match self.get(9) {
            "EQ" => MasterType::Equity,
            "FUT" => MasterType::Future,
            "CE" => MasterType::Call,
            "PE" => MasterType::Put,
            other => {
                return Err(self.err(
                    9,
                    format!("unknown instrument type `{other}`; expected EQ, FUT, CE or PE"),
                ))
            }
        };
        if instrument_type != MasterType::Equity && expiry.is_none() {
            return Err(self.err(5, "a derivative needs an expiry".into()));
        }
        if matches!(instrument_type, MasterType::Call | MasterType::Put) && !strike.is_positive() {
            return Err(self.err(6, "an option needs a positive strike".into()));
        }
        let segment = self.get(10);
        let exchange = self.get(11);
        if segment.is_empty() {
            return Err(self.err(10, "empty value".into()));
        }
        if exchange.is_empty() {
            return Err(self.err(11, "empty value".into()));
        }
        Ok(MasterRow {
            line: self.line,
            instrument_token,
            exchange_token,
            tradingsymbol: tradingsymbol.to_owned(),
            name: self.get(3).to_owned(),
            last_price,
            expiry,
            strike,
            tick_size,
            lot_size,
            instrument_type,
            segment: segment.to_owned(),
            exchange: exchange.to_owned(),
        })
    }
}
