//! The instrument universe: an index and its constituents, read from a small CSV.
//!
//! The default is `config/nifty50.csv`, compiled into the binary, so a first run needs
//! no files; [`load`] reads another file with the same columns. The CSV and what its
//! figures are (approximate, with their sources) is described in `config/README.md`.
//!
//! ```text
//! symbol,kind,fno_symbol,sector,lot_size,freeze_qty,tick_size,ref_price,weight_pct
//! NIFTY 50,index,NIFTY,Index,65,1800,0.05,26000,
//! HDFCBANK,equity,HDFCBANK,Financial Services,550,11000,0.05,990,12.6
//! ```
//!
//! Exactly one `index` row; every `equity` row is a constituent with its weight in the
//! index. In the resulting [`InstrumentTable`] the equities are cash instruments (lot 1,
//! the row's tick size, no freeze limit); their F&O lot size and freeze quantity, and the
//! index's, are kept in [`Universe`] for the derivatives built on them. The tick size is
//! per row because NSE's is per security (0.01 below ₹250 since June 2024), so nothing
//! downstream may assume one tick for every share. The file is read as CSV proper (the
//! `csv` crate): a field with a comma is quoted, `#` starts a comment line, and errors
//! name the file's own line and column.

use std::{fmt, path::Path};

use thiserror::Error;

use crate::model::{
    Exchange, Instrument, InstrumentId, InstrumentKind, InstrumentTable, Price, SectorId, Segment,
};

/// The NIFTY 50 universe shipped with tickpipe (`config/nifty50.csv`).
pub const DEFAULT_CSV: &str = include_str!("../../config/nifty50.csv");

/// The name errors give the embedded default.
pub const DEFAULT_NAME: &str = "config/nifty50.csv (embedded)";

/// Tick size of NSE index options (and of indices' levels): 0.05. Cash equities take
/// theirs from the universe's `tick_size` column.
pub const INDEX_OPTION_TICK: Price = Price::from_paise(5);

const COLUMNS: [&str; 9] = [
    "symbol",
    "kind",
    "fno_symbol",
    "sector",
    "lot_size",
    "freeze_qty",
    "tick_size",
    "ref_price",
    "weight_pct",
];

/// An index and its constituents, with the F&O contract specs of each.
#[derive(Debug, Clone)]
pub struct Universe {
    table: InstrumentTable,
    index: IndexSpec,
    constituents: Vec<Constituent>,
}

/// The index of a universe and the contract specs of its options and futures.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexSpec {
    /// The index instrument (kind [`InstrumentKind::Index`]).
    pub id: InstrumentId,
    /// Symbol root of its derivatives (`NIFTY`).
    pub fno_symbol: String,
    /// Units per F&O lot.
    pub lot_size: u32,
    /// Largest F&O order quantity in units.
    pub freeze_qty: u32,
    /// Reference level of the index.
    pub ref_level: Price,
}

/// A constituent of the index and the specs of its stock derivatives.
#[derive(Debug, Clone, PartialEq)]
pub struct Constituent {
    /// The cash equity instrument.
    pub id: InstrumentId,
    /// Symbol root of its derivatives.
    pub fno_symbol: String,
    /// Units per F&O lot.
    pub lot_size: u32,
    /// Largest F&O order quantity in units.
    pub freeze_qty: u32,
    /// Reference price.
    pub ref_price: Price,
    /// Weight in the index as a fraction; the weights of a universe sum to 1.
    pub weight: f64,
}

impl Universe {
    /// The instruments: the index first, then the equities in file order.
    pub fn table(&self) -> &InstrumentTable {
        &self.table
    }

    /// Gives the table up, for a source that adds instruments (options) to it.
    pub fn into_parts(self) -> (InstrumentTable, IndexSpec, Vec<Constituent>) {
        (self.table, self.index, self.constituents)
    }

    /// Takes tick sizes and tokens from an instrument master's table (see
    /// [`crate::feed::instruments`]): each universe instrument whose symbol the master
    /// has as an NSE cash share (an equity row) or NSE index (the index row) gets the
    /// master's tick size and token. Returns the symbols the master lacks, which keep
    /// the universe CSV's tick size.
    pub fn apply_master(&mut self, master: &InstrumentTable) -> Vec<String> {
        let mut missing = Vec::new();
        let ids: Vec<InstrumentId> = self.table.iter().map(|i| i.id).collect();
        for id in ids {
            let ours = self.table.get(id);
            let found = master.find(&ours.symbol).filter(|&m| {
                let theirs = master.get(m);
                theirs.exchange == Exchange::Nse && theirs.kind == ours.kind
            });
            let Some(m) = found else {
                missing.push(ours.symbol.clone());
                continue;
            };
            self.table.set_tick_size(id, master.get(m).tick_size);
            if let Some(token) = master.token_of(m) {
                // A universe has no token of its own, so this cannot clash.
                let _ = self.table.set_token(id, token);
            }
        }
        missing
    }

    /// The index.
    pub fn index(&self) -> &IndexSpec {
        &self.index
    }

    /// The constituents in file order.
    pub fn constituents(&self) -> &[Constituent] {
        &self.constituents
    }
}

/// Why a universe file was rejected: which file, line and column, and why.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{file}:{line}{}: {reason}", column_text(.column))]
pub struct UniverseError {
    /// The file (or the embedded default's name).
    pub file: String,
    /// 1-based line number (0 when the file could not be read at all).
    pub line: usize,
    /// 1-based column number and name, when one field is at fault.
    pub column: Option<(usize, String)>,
    /// What is wrong.
    pub reason: String,
}

/// The column part of an error about one field (`:N (column …)`), empty for a whole line;
/// shared by the CSV files the feed reads (the universe, the instrument master).
pub(crate) fn column_text(column: &Option<(usize, String)>) -> String {
    match column {
        Some((n, name)) => format!(":{n} (column `{name}`)"),
        None => String::new(),
    }
}

/// Reads the embedded NIFTY 50 universe.
///
/// # Errors
/// Never for the shipped file (a unit test parses it); the signature matches [`load`].
///
/// # Examples
/// ```
/// let u = tickpipe::feed::universe::load_default().unwrap();
/// assert_eq!(u.constituents().len(), 50);
/// assert_eq!(u.index().lot_size, 65);
/// ```
pub fn load_default() -> Result<Universe, UniverseError> {
    parse(DEFAULT_CSV, DEFAULT_NAME)
}

/// Reads a universe CSV file.
///
/// # Errors
/// [`UniverseError`] when the file cannot be read or a line is malformed.
pub fn load(path: &Path) -> Result<Universe, UniverseError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| UniverseError {
        file: name.clone(),
        line: 0,
        column: None,
        reason: format!("cannot read: {e}"),
    })?;
    parse(&text, &name)
}

/// Parses universe CSV text; `file` names it in errors.
///
/// # Errors
/// [`UniverseError`] naming the line and column: a missing, unknown or repeated column, a
/// wrong number of fields, a bad number, an unknown kind, a duplicate symbol, no index row
/// or two, no constituents, or weights that do not sum to a positive number.
pub fn parse(text: &str, file: &str) -> Result<Universe, UniverseError> {
    let err = |line: usize, column: Option<(usize, &str)>, reason: String| UniverseError {
        file: file.to_owned(),
        line,
        column: column.map(|(n, name)| (n, name.to_owned())),
        reason,
    };

    // The `csv` crate reads the fields (quoted ones too, so a sector may contain a
    // comma); it skips `#` comment lines and blank lines, and its positions keep the
    // file's own line numbers for errors.
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut rows = reader.records().map(|record| {
        let line = |r: &csv::StringRecord| r.position().map_or(0, |p| p.line() as usize);
        match record {
            Ok(r) => Ok((line(&r), r)),
            Err(e) => {
                let at = e.position().map_or(0, |p| p.line() as usize);
                Err(err(at, None, format!("not readable as CSV: {e}")))
            }
        }
    });

    let (header_line, header) = rows
        .next()
        .transpose()?
        .ok_or_else(|| err(0, None, "empty file: no header line".into()))?;
    let names: Vec<&str> = header.iter().collect();
    // positions[k] = field index of COLUMNS[k].
    let mut positions = [usize::MAX; COLUMNS.len()];
    for (i, name) in names.iter().enumerate() {
        let Some(k) = COLUMNS.iter().position(|c| c == name) else {
            return Err(err(
                header_line,
                Some((i + 1, name)),
                format!("unknown column; expected {}", COLUMNS.join(",")),
            ));
        };
        if positions[k] != usize::MAX {
            return Err(err(
                header_line,
                Some((i + 1, name)),
                "column appears twice".into(),
            ));
        }
        positions[k] = i;
    }
    if let Some(k) = positions.iter().position(|&p| p == usize::MAX) {
        return Err(err(
            header_line,
            None,
            format!("missing column `{}`", COLUMNS[k]),
        ));
    }

    let mut table = InstrumentTable::new();
    let mut index: Option<(usize, IndexSpec)> = None;
    let mut constituents = Vec::new();
    let mut last_line = header_line;
    for row in rows {
        let (line, fields) = row?;
        last_line = line;
        if fields.len() != names.len() {
            return Err(err(
                line,
                None,
                format!("expected {} fields, found {}", names.len(), fields.len()),
            ));
        }
        let field = |k: usize| -> (&str, (usize, &'static str)) {
            (&fields[positions[k]], (positions[k] + 1, COLUMNS[k]))
        };
        let text_field = |k: usize| -> Result<&str, UniverseError> {
            let (value, col) = field(k);
            if value.is_empty() {
                return Err(err(line, Some(col), "empty value".into()));
            }
            Ok(value)
        };
        let count_field = |k: usize| -> Result<u32, UniverseError> {
            let (value, col) = field(k);
            match value.parse::<u32>() {
                Ok(v) if v > 0 => Ok(v),
                Ok(_) => Err(err(line, Some(col), "must be at least 1".into())),
                Err(_) => Err(err(
                    line,
                    Some(col),
                    format!("`{value}` is not a whole number"),
                )),
            }
        };

        let symbol = text_field(0)?;
        let kind = text_field(1)?;
        let fno_symbol = text_field(2)?.to_owned();
        let sector_name = text_field(3)?;
        let lot_size = count_field(4)?;
        let freeze_qty = count_field(5)?;
        let (tick_text, tick_col) = field(6);
        let tick_size = match tick_text.parse::<Price>() {
            Ok(t) if t.is_positive() => t,
            Ok(_) => {
                return Err(err(
                    line,
                    Some(tick_col),
                    format!("`{tick_text}` must be a positive tick size"),
                ))
            }
            Err(e) => {
                return Err(err(
                    line,
                    Some(tick_col),
                    format!("`{tick_text}` is not a tick size: {e}"),
                ))
            }
        };
        let (price_text, price_col) = field(7);
        let ref_price = match price_text.parse::<Price>() {
            Ok(p) if p.is_positive() && p.is_multiple_of(tick_size) => p,
            Ok(_) => {
                return Err(err(
                    line,
                    Some(price_col),
                    format!(
                    "`{price_text}` must be positive and a multiple of the tick size {tick_size}"
                ),
                ))
            }
            Err(e) => {
                return Err(err(
                    line,
                    Some(price_col),
                    format!("`{price_text}` is not a price: {e}"),
                ))
            }
        };
        let sector = table.sector(sector_name);
        let (weight_text, weight_col) = field(8);

        let instrument_kind = match kind {
            "index" => InstrumentKind::Index,
            "equity" => InstrumentKind::Equity,
            other => {
                return Err(err(
                    line,
                    Some(field(1).1),
                    format!("unknown kind `{other}`; expected `index` or `equity`"),
                ))
            }
        };
        let instrument = cash_instrument(symbol, instrument_kind, sector, tick_size);
        let id = table.push(instrument).map_err(|symbol| {
            err(
                line,
                Some(field(0).1),
                format!("duplicate symbol `{symbol}`"),
            )
        })?;
        match instrument_kind {
            InstrumentKind::Index => {
                if let Some((first, _)) = &index {
                    return Err(err(
                        line,
                        Some(field(1).1),
                        format!("a second index row (the first is on line {first})"),
                    ));
                }
                if !weight_text.is_empty() {
                    return Err(err(
                        line,
                        Some(weight_col),
                        "the index row takes no weight".into(),
                    ));
                }
                let spec = IndexSpec {
                    id,
                    fno_symbol,
                    lot_size,
                    freeze_qty,
                    ref_level: ref_price,
                };
                index = Some((line, spec));
            }
            _ => {
                let weight = match weight_text.parse::<f64>() {
                    Ok(w) if w.is_finite() && (0.0..=100.0).contains(&w) => w,
                    _ => {
                        return Err(err(
                            line,
                            Some(weight_col),
                            format!("`{weight_text}` is not a weight in percent (0 to 100)"),
                        ))
                    }
                };
                constituents.push(Constituent {
                    id,
                    fno_symbol,
                    lot_size,
                    freeze_qty,
                    ref_price,
                    weight,
                });
            }
        }
    }

    let (_, index) = index.ok_or_else(|| err(last_line, None, "no `index` row".into()))?;
    if constituents.is_empty() {
        return Err(err(last_line, None, "no `equity` rows".into()));
    }
    let total: f64 = constituents.iter().map(|c| c.weight).sum();
    if total <= 0.0 {
        return Err(err(last_line, None, "the weights sum to zero".into()));
    }
    for c in &mut constituents {
        c.weight /= total;
    }
    Ok(Universe {
        table,
        index,
        constituents,
    })
}

fn cash_instrument(
    symbol: &str,
    kind: InstrumentKind,
    sector: SectorId,
    tick_size: Price,
) -> Instrument {
    Instrument {
        id: InstrumentId(0),
        symbol: symbol.to_owned(),
        exchange: Exchange::Nse,
        segment: if kind == InstrumentKind::Index {
            Segment::Indices
        } else {
            Segment::Cash
        },
        kind,
        underlying: None,
        expiry: None,
        strike: None,
        option_type: None,
        lot_size: 1,
        tick_size,
        freeze_qty: 0,
        sector,
    }
}

impl fmt::Display for IndexSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (lot {}, freeze {})",
            self.fno_symbol, self.lot_size, self.freeze_qty
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str =
        "symbol,kind,fno_symbol,sector,lot_size,freeze_qty,tick_size,ref_price,weight_pct";

    fn parse_rows(rows: &str) -> Result<Universe, UniverseError> {
        parse(&format!("# test\n{HEADER}\n{rows}"), "test.csv")
    }

    #[test]
    fn default_universe_is_nifty_50() {
        let u = load_default().unwrap();
        assert_eq!(u.constituents().len(), 50);
        assert_eq!(u.table().len(), 51);
        let index = u.index();
        assert_eq!(u.table().get(index.id).symbol, "NIFTY 50");
        assert_eq!(u.table().get(index.id).kind, InstrumentKind::Index);
        assert_eq!(index.fno_symbol, "NIFTY");
        assert_eq!((index.lot_size, index.freeze_qty), (65, 1800));
        let total: f64 = u.constituents().iter().map(|c| c.weight).sum();
        assert!((total - 1.0).abs() < 1e-12);
        let hdfc = u.table().find("HDFCBANK").unwrap();
        let spec = u.constituents().iter().find(|c| c.id == hdfc).unwrap();
        assert_eq!(spec.lot_size, 550);
        let cash = u.table().get(hdfc);
        assert_eq!((cash.lot_size, cash.segment), (1, Segment::Cash));
        assert_eq!(cash.tick_size, Price::from_paise(5));
        // Below ₹250: NSE's one-paisa tick.
        let tata = u.table().get(u.table().find("TATASTEEL").unwrap());
        assert_eq!(tata.tick_size, Price::from_paise(1));
        let ticks: Vec<Price> = u
            .constituents()
            .iter()
            .map(|c| u.table().get(c.id).tick_size)
            .collect();
        assert_eq!(
            ticks.iter().filter(|&&t| t == Price::from_paise(1)).count(),
            2
        );
        for c in u.constituents() {
            let tick = u.table().get(c.id).tick_size;
            assert_eq!(
                tick == Price::from_paise(1),
                c.ref_price < Price::from_paise(25_000),
                "{}",
                u.table().get(c.id).symbol
            );
        }
        assert_eq!(u.table().sector_name(cash.sector), "Financial Services");
        assert!(u.table().find("M&M").is_some());
        assert!(u.table().find("BAJAJ-AUTO").is_some());
    }

    #[test]
    fn columns_may_come_in_any_order() {
        let text =
            "weight_pct,symbol,kind,fno_symbol,sector,lot_size,freeze_qty,ref_price,tick_size\n\
                    ,IDX,index,IDX,Index,50,1000,100,0.05\n\
                    100,AAA,equity,AAA,Tech,10,200,50.03,0.01\n";
        let u = parse(text, "x.csv").unwrap();
        assert_eq!(u.constituents()[0].ref_price, "50.03".parse().unwrap());
        let aaa = u.table().get(u.constituents()[0].id);
        assert_eq!(aaa.tick_size, Price::from_paise(1));
        assert_eq!(u.constituents()[0].weight, 1.0);
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let e = parse(
            "symbol,kind,fno_symbol,sector,lot_size,tick_size,ref_price,weight_pct\n",
            "u.csv",
        )
        .unwrap_err();
        assert_eq!(e.line, 1);
        assert!(e.to_string().contains("missing column `freeze_qty`"), "{e}");
        assert!(e.to_string().starts_with("u.csv:1: "), "{e}");

        let e = parse_rows(
            ",IDX,index,IDX,Index,50,1000,0.05,100\nAAA,equity,AAA,Tech,ten,200,0.05,50,1\n",
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "test.csv:3:1 (column `symbol`): empty value");

        let e = parse_rows(
            "IDX,index,IDX,Index,50,1000,0.05,100,\nAAA,equity,AAA,Tech,ten,200,0.05,50,1\n",
        )
        .unwrap_err();
        assert_eq!((e.line, e.column.clone().unwrap().0), (4, 5));
        assert!(e.reason.contains("`ten` is not a whole number"), "{e}");

        let e = parse_rows(
            "IDX,index,IDX,Index,50,1000,0.05,100,\nAAA,equity,AAA,Tech,1,20,0.05,50,1\nAAA,equity,AAA,Tech,1,20,0.05,50,1\n",
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "test.csv:5:1 (column `symbol`): duplicate symbol `AAA`"
        );

        let e = parse_rows(
            "IDX,index,IDX,Index,50,1000,0.05,100,\nAAA,equity,AAA,Tech,1,20,0.05,50.03,1\n",
        )
        .unwrap_err();
        assert_eq!(e.column.clone().unwrap(), (8, "ref_price".to_owned()));
        assert!(e.reason.contains("multiple of the tick size 0.05"), "{e}");

        let e = parse_rows(
            "IDX,index,IDX,Index,50,1000,0.05,100,\nAAA,equity,AAA,Tech,1,20,0.05,50,x\n",
        )
        .unwrap_err();
        assert_eq!(e.column.unwrap(), (9, "weight_pct".to_owned()));

        let e =
            parse_rows("IDX,index,IDX,Index,50,1000,0.05,100,\nAAA,bond,AAA,Tech,1,20,0.05,50,1\n")
                .unwrap_err();
        assert!(e.reason.contains("unknown kind `bond`"), "{e}");

        let e = parse_rows("AAA,equity,AAA,Tech,1,20,0.05,50,1\n").unwrap_err();
        assert!(e.reason.contains("no `index` row"), "{e}");

        let e = parse_rows("IDX,index,IDX,Index,50,1000,0.05,100,\nAAA,equity,AAA,Tech,1,20\n")
            .unwrap_err();
        assert!(e.reason.contains("expected 9 fields, found 6"), "{e}");

        let e = parse_rows(
            "IDX,index,IDX,Index,50,1000,0.05,100,\nAAA,equity,AAA,Tech,1,20,five,50,1\n",
        )
        .unwrap_err();
        assert_eq!(e.line, 4);
        assert_eq!(e.column.clone().unwrap(), (7, "tick_size".to_owned()));
        assert!(e.reason.contains("`five` is not a tick size"), "{e}");

        let e =
            parse_rows("IDX,index,IDX,Index,50,1000,0.05,100,\nAAA,equity,AAA,Tech,1,20,0,50,1\n")
                .unwrap_err();
        assert_eq!(e.column.clone().unwrap(), (7, "tick_size".to_owned()));

        let e = parse("symbol,kind,colour\n", "u.csv").unwrap_err();
        assert_eq!(e.column.unwrap(), (3, "colour".to_owned()));
    }

    #[test]
    fn quoted_fields_comments_and_blank_lines_are_read_as_csv() {
        let text = "# a universe\n\n\
            symbol,kind,fno_symbol,sector,lot_size,freeze_qty,tick_size,ref_price,weight_pct\n\
            IDX,index,IDX,Index,50,1000,0.05,100,\n\
            \n\
            # a comment between rows\n\
            AAA,equity,AAA,\"Oil, Gas & Consumable Fuels\",10,200,0.01,50.03,100\n\
            BBB,equity,BBB,Tech,10,200,0.01,50.03,zero\n";
        let e = parse(text, "q.csv").unwrap_err();
        // Line numbers are the file's, comments and blank lines counted.
        assert_eq!(
            e.to_string(),
            "q.csv:8:9 (column `weight_pct`): `zero` is not a weight in percent (0 to 100)"
        );
        let text = text.replace("zero", "0");
        let u = parse(&text, "q.csv").unwrap();
        let aaa = u.table().get(u.table().find("AAA").unwrap());
        assert_eq!(
            u.table().sector_name(aaa.sector),
            "Oil, Gas & Consumable Fuels"
        );
    }

    #[test]
    fn unreadable_file_is_named() {
        let e = load(Path::new("no/such/universe.csv")).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("no/such/universe.csv:0: cannot read"),
            "{e}"
        );
    }
}
