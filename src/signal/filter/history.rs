//! Day-level state carried across sessions: each instrument's closes of the previous
//! days, read from a history file that every run appends its own closes to.
//!
//! The file is CSV with the header `symbol,date,close` (date `YYYY-MM-DD`, close a
//! decimal), one row per instrument and day, in any order. Rows for symbols the engine
//! does not trade are skipped; a malformed row is an error naming the file and line.

use std::{collections::BTreeMap, fmt::Write as _, path::Path};

use crate::model::{Date, InstrumentId, InstrumentTable, Price};

/// What the previous days say about one instrument.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct DayStats {
    /// Consecutive days, ending with the last one, whose close rose over the day before.
    pub up_days: u32,
    /// Consecutive days whose close fell.
    pub down_days: u32,
    /// The move over the last three days, `last / close three days before − 1`, as a
    /// percentage (`None` with fewer than four days).
    pub move_3d_pct: Option<f64>,
}

/// Previous days' closes per instrument.
#[derive(Debug, Clone, Default)]
pub struct DayHistory {
    closes: Vec<BTreeMap<Date, Price>>,
}

impl DayHistory {
    /// An empty history for `instruments` instruments.
    pub fn empty(instruments: usize) -> DayHistory {
        DayHistory {
            closes: vec![BTreeMap::new(); instruments],
        }
    }

    /// Reads `path`; a file that does not exist yet is an empty history (the first
    /// session writes it).
    ///
    /// # Errors
    /// A sentence naming the file and line when it cannot be read or a row is malformed.
    pub fn load(path: &Path, instruments: &InstrumentTable) -> Result<DayHistory, String> {
        let mut history = DayHistory::empty(instruments.len());
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(history),
            Err(e) => return Err(format!("{}: cannot read: {e}", path.display())),
        };
        let mut lines = text.lines().enumerate();
        match lines.next() {
            Some((_, header)) if header.trim() == "symbol,date,close" => {}
            _ => {
                return Err(format!(
                    "{}: line 1: the header must be `symbol,date,close`",
                    path.display()
                ))
            }
        }
        for (i, line) in lines {
            if line.trim().is_empty() {
                continue;
            }
            let bad = |why: &str| format!("{}: line {}: {why}", path.display(), i + 1);
            let mut cells = line.split(',');
            let (Some(symbol), Some(date), Some(close), None) =
                (cells.next(), cells.next(), cells.next(), cells.next())
            else {
                return Err(bad("expected three cells: symbol,date,close"));
            };
            let date = Date::parse(date.trim())
                .ok_or_else(|| bad(&format!("`{date}` is not a date (YYYY-MM-DD)")))?;
            let close: Price = close
                .trim()
                .parse()
                .map_err(|e| bad(&format!("`{close}` is not a price: {e}")))?;
            if !close.is_positive() {
                return Err(bad("a close must be above zero"));
            }
            if let Some(id) = instruments.find(symbol.trim()) {
                history.closes[id.index()].insert(date, close);
            }
        }
        Ok(history)
    }

    /// Adds (or replaces) one day's close.
    pub fn record(&mut self, id: InstrumentId, date: Date, close: Price) {
        if let Some(days) = self.closes.get_mut(id.index()) {
            days.insert(date, close);
        }
    }

    /// The statistics of `id` over the days before `today` (days on or after it are
    /// ignored, so a rerun of a day does not see its own close).
    pub fn stats(&self, id: InstrumentId, today: Date) -> DayStats {
        let Some(days) = self.closes.get(id.index()) else {
            return DayStats::default();
        };
        let closes: Vec<Price> = days.range(..today).map(|(_, c)| *c).collect();
        let mut stats = DayStats::default();
        for pair in closes.windows(2).rev() {
            if pair[1] > pair[0] && stats.down_days == 0 {
                stats.up_days += 1;
            } else if pair[1] < pair[0] && stats.up_days == 0 {
                stats.down_days += 1;
            } else {
                break;
            }
        }
        if closes.len() >= 4 {
            let last = closes[closes.len() - 1].raw() as f64;
            let then = closes[closes.len() - 4].raw() as f64;
            stats.move_3d_pct = Some((last / then - 1.0) * 100.0);
        }
        stats
    }

    /// The rows of `date` for `closes`, as lines to append to the file (with the header
    /// first when `header` is set).
    pub fn rows(
        instruments: &InstrumentTable,
        date: Date,
        closes: &[(InstrumentId, Price)],
        header: bool,
    ) -> String {
        let mut out = String::new();
        if header {
            out.push_str("symbol,date,close\n");
        }
        for (id, close) in closes {
            let _ = writeln!(out, "{},{date},{close}", instruments.get(*id).symbol);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Instrument, SectorId};

    fn table() -> InstrumentTable {
        let mut t = InstrumentTable::new();
        t.push(Instrument::nse_equity("SBIN", SectorId(0))).unwrap();
        t
    }

    fn file(name: &str, text: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("tickpipe-history-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn streaks_and_the_three_day_move() {
        let path = file(
            "ok.csv",
            "symbol,date,close\nSBIN,2026-11-19,100\nSBIN,2026-11-20,101\nOTHER,2026-11-20,5\n\
             SBIN,2026-11-23,103\nSBIN,2026-11-24,106.09\nSBIN,2026-11-25,999\n",
        );
        let h = DayHistory::load(&path, &table()).unwrap();
        let s = h.stats(InstrumentId(0), Date::new(2026, 11, 25));
        assert_eq!((s.up_days, s.down_days), (3, 0));
        let m = s.move_3d_pct.unwrap();
        assert!((m - 6.09).abs() < 1e-9, "{m}");
        let none = h.stats(InstrumentId(0), Date::new(2026, 11, 20));
        assert_eq!(none, DayStats::default(), "one day before: no streak");
    }

    #[test]
    fn a_missing_file_is_empty_and_a_bad_row_names_its_line() {
        let missing = std::env::temp_dir().join("tickpipe-no-such-history.csv");
        assert!(DayHistory::load(&missing, &table()).is_ok());
        let bad = file("bad.csv", "symbol,date,close\nSBIN,2026-11-19,abc\n");
        let e = DayHistory::load(&bad, &table()).unwrap_err();
        assert!(e.contains("line 2") && e.contains("not a price"), "{e}");
        let header = file("header.csv", "sym,day,px\n");
        assert!(DayHistory::load(&header, &table())
            .unwrap_err()
            .contains("header"));
    }
}
