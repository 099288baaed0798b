//! F&O quantity freeze limits: the largest quantity NSE accepts in one order of a
//! derivative, per underlying root. Kite's master does not carry them, so they come from
//! `config/freeze_qty.csv` (compiled in; see `config/README.md` for source and date).

use std::{collections::BTreeMap, path::Path};

use super::MasterError;

/// The freeze-limit file shipped with tickpipe.
pub const DEFAULT_CSV: &str = include_str!("../../../config/freeze_qty.csv");

/// The name errors give the embedded default.
pub const DEFAULT_NAME: &str = "config/freeze_qty.csv (embedded)";

const COLUMNS: [&str; 2] = ["symbol", "freeze_qty"];

/// Freeze quantity in units, by derivative root (`NIFTY`, `RELIANCE`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FreezeLimits {
    by_root: BTreeMap<String, u32>,
}

impl FreezeLimits {
    /// The embedded `config/freeze_qty.csv`.
    ///
    /// # Errors
    /// Never for the shipped file (a unit test parses it).
    pub fn load_default() -> Result<FreezeLimits, MasterError> {
        FreezeLimits::parse(DEFAULT_CSV, DEFAULT_NAME)
    }

    /// Reads a freeze-limit file.
    ///
    /// # Errors
    /// [`MasterError`] when the file cannot be read or a line is malformed.
    pub fn load(path: &Path) -> Result<FreezeLimits, MasterError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| MasterError::new(&name, 0, None, format!("cannot read: {e}")))?;
        FreezeLimits::parse(&text, &name)
    }

    /// Parses `symbol,freeze_qty` rows (`#` starts a comment line); `file` names the text
    /// in errors.
    ///
    /// # Errors
    /// [`MasterError`] naming line and column: a missing column, a quantity that is not
    /// a positive whole number, a root listed twice.
    pub fn parse(text: &str, file: &str) -> Result<FreezeLimits, MasterError> {
        let mut reader = csv::ReaderBuilder::new()
            .comment(Some(b'#'))
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let err = |line: u64, column: Option<(usize, &str)>, reason: String| {
            MasterError::new(file, line, column, reason)
        };
        let position = |e: &csv::Error| e.position().map_or(0, csv::Position::line);
        let header = reader
            .headers()
            .map_err(|e| err(position(&e), None, e.to_string()))?
            .clone();
        let header_line = header.position().map_or(1, csv::Position::line);
        let mut positions = [usize::MAX; 2];
        for (k, name) in COLUMNS.iter().enumerate() {
            positions[k] = header
                .iter()
                .position(|h| h == *name)
                .ok_or_else(|| err(header_line, None, format!("missing column `{name}`")))?;
        }
        let mut by_root = BTreeMap::new();
        for record in reader.records() {
            let record = record.map_err(|e| err(position(&e), None, e.to_string()))?;
            let line = record.position().map_or(0, csv::Position::line);
            let col = |k: usize| Some((positions[k] + 1, COLUMNS[k]));
            let symbol = record.get(positions[0]).unwrap_or("");
            if symbol.is_empty() {
                return Err(err(line, col(0), "empty value".into()));
            }
            let qty_text = record.get(positions[1]).unwrap_or("");
            let qty = match qty_text.parse::<u32>() {
                Ok(q) if q > 0 => q,
                _ => {
                    return Err(err(
                        line,
                        col(1),
                        format!("`{qty_text}` is not a positive whole number"),
                    ))
                }
            };
            if by_root.insert(symbol.to_owned(), qty).is_some() {
                return Err(err(line, col(0), format!("`{symbol}` is listed twice")));
            }
        }
        Ok(FreezeLimits { by_root })
    }

    /// The freeze quantity of a root, if listed.
    pub fn get(&self, root: &str) -> Option<u32> {
        self.by_root.get(root).copied()
    }

    /// Every listed root.
    pub fn roots(&self) -> impl Iterator<Item = &str> {
        self.by_root.keys().map(String::as_str)
    }
}
