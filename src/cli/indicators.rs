//! `tickpipe indicators`: TA-Lib's indicators over an OHLCV CSV file, as a CSV.
//!
//! The output has the columns of the TA-Lib fixture (`tests/fixtures/indicators/`), so
//! the two files compare cell by cell: `bar,time,open,…,volume` and then SMA(10),
//! SMA(20), EMA(10), EMA(20), RSI(14), ATR(14), MACD(12,26,9) (line, signal, histogram),
//! BBANDS(20, 2) (upper, middle, lower), ADX(14) and OBV. A cell is empty while its
//! indicator warms up, where TA-Lib returns NaN.

use std::{
    fs::File,
    io::{self, BufRead, BufReader, BufWriter, Write},
    path::{Path, PathBuf},
};

use clap::Args;

use crate::signal::indicator::{Adx, Atr, BollingerBands, Ema, Macd, Obv, Rsi, TalibSma};

/// Options of `tickpipe indicators`.
#[derive(Debug, Clone, Args)]
pub struct IndicatorsArgs {
    /// OHLCV CSV: the first column is the time (any name, even none), then columns named
    /// Open, High, Low, Close and Volume in any order and case; others are ignored.
    #[arg(long, value_name = "FILE")]
    pub data: PathBuf,
    /// The CSV to write (replaced if it exists); stdout when absent.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// The output header: exactly the TA-Lib fixture's.
const HEADER: &str = "bar,time,open,high,low,close,volume,sma_10,sma_20,ema_10,ema_20,rsi_14,\
atr_14,macd_12_26_9,macd_signal_12_26_9,macd_hist_12_26_9,bb_upper_20_2,bb_middle_20_2,\
bb_lower_20_2,adx_14,obv";

/// The input columns the command needs besides the time, as named in the header.
const NEEDED: [&str; 5] = ["Open", "High", "Low", "Close", "Volume"];

/// One input row.
#[derive(Debug, Clone)]
struct Bar {
    time: String,
    open: f64,
    high: f64,
    low: f64,
    close: f64,
    volume: f64,
}

/// Reads the whole file first, so that bad input writes nothing, then writes the CSV.
pub(super) fn indicators(args: &IndicatorsArgs) -> Result<(), String> {
    let bars = read_bars(&args.data)?;
    match &args.out {
        Some(path) => File::create(path)
            .and_then(|file| write_csv(&bars, BufWriter::new(file)))
            .map_err(|e| format!("{}: {e}", path.display())),
        None => match write_csv(&bars, BufWriter::new(io::stdout().lock())) {
            // `tickpipe indicators … | head` closes the pipe early: not an error.
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
            other => other.map_err(|e| format!("stdout: {e}")),
        },
    }
}

/// Parses an OHLCV CSV; every error names the file, the line and the column.
fn read_bars(path: &Path) -> Result<Vec<Bar>, String> {
    let file = path.display();
    let reader = File::open(path)
        .map(BufReader::new)
        .map_err(|e| format!("{file}: {e}"))?;
    let mut lines = reader.lines().enumerate().map(|(i, line)| {
        line.map(|l| (i + 1, l))
            .map_err(|e| format!("{file}: line {}: {e}", i + 1))
    });
    let Some(header) = lines.next().transpose()?.map(|(_, h)| h) else {
        return Err(format!(
            "{file}: empty; expected a header such as `Date,Open,High,Low,Close,Volume`"
        ));
    };
    let names: Vec<&str> = header
        .trim_start_matches('\u{feff}')
        .split(',')
        .map(str::trim)
        .collect();
    if let Some(needed) = NEEDED.iter().find(|n| n.eq_ignore_ascii_case(names[0])) {
        return Err(format!(
            "{file}: line 1: the first column must be the time, not `{needed}` (header `{header}`)"
        ));
    }
    let mut columns = [0usize; NEEDED.len()];
    for (slot, needed) in columns.iter_mut().zip(NEEDED) {
        let mut found = (1..names.len()).filter(|&c| names[c].eq_ignore_ascii_case(needed));
        *slot = found.next().ok_or_else(|| {
            format!("{file}: line 1: no `{needed}` column in the header `{header}`")
        })?;
        if found.next().is_some() {
            return Err(format!(
                "{file}: line 1: more than one `{needed}` column in the header `{header}`"
            ));
        }
    }
    let mut bars = Vec::new();
    for line in lines {
        let (number, line) = line?;
        if line.trim().is_empty() {
            continue;
        }
        let cells: Vec<&str> = line.split(',').collect();
        if cells.len() != names.len() {
            return Err(format!(
                "{file}: line {number}: {} columns where the header has {}",
                cells.len(),
                names.len()
            ));
        }
        let number_at = |i: usize| -> Result<f64, String> {
            let (column, cell) = (NEEDED[i], cells[columns[i]].trim());
            match cell.parse::<f64>() {
                Ok(v) if v.is_finite() => Ok(v),
                _ => Err(format!(
                    "{file}: line {number}, column `{column}`: `{cell}` is not a finite number"
                )),
            }
        };
        bars.push(Bar {
            time: cells[0].trim().to_owned(),
            open: number_at(0)?,
            high: number_at(1)?,
            low: number_at(2)?,
            close: number_at(3)?,
            volume: number_at(4)?,
        });
    }
    Ok(bars)
}

/// Every indicator of the fixture, at the fixture's parameters.
#[derive(Debug)]
struct FixtureIndicators {
    sma_10: TalibSma,
    sma_20: TalibSma,
    ema_10: Ema,
    ema_20: Ema,
    rsi_14: Rsi,
    atr_14: Atr,
    macd: Macd,
    bbands: BollingerBands,
    adx_14: Adx,
    obv: Obv,
}

impl FixtureIndicators {
    fn new() -> FixtureIndicators {
        FixtureIndicators {
            sma_10: TalibSma::new(10),
            sma_20: TalibSma::new(20),
            ema_10: Ema::new(10),
            ema_20: Ema::new(20),
            rsi_14: Rsi::new(14),
            atr_14: Atr::new(14),
            macd: Macd::new(12, 26, 9),
            bbands: BollingerBands::new(20, 2.0),
            adx_14: Adx::new(14),
            obv: Obv::new(),
        }
    }

    /// The indicator cells of one bar, in the header's order.
    fn update(&mut self, bar: &Bar) -> [Option<f64>; 14] {
        let (h, l, c) = (bar.high, bar.low, bar.close);
        let macd = self.macd.update(c);
        let bands = self.bbands.update(c);
        [
            self.sma_10.update(c),
            self.sma_20.update(c),
            self.ema_10.update(c),
            self.ema_20.update(c),
            self.rsi_14.update(c),
            self.atr_14.update(h, l, c),
            macd.map(|m| m.macd),
            macd.map(|m| m.signal),
            macd.map(|m| m.hist),
            bands.map(|b| b.upper),
            bands.map(|b| b.middle),
            bands.map(|b| b.lower),
            self.adx_14.update(h, l, c),
            Some(self.obv.update(c, bar.volume)),
        ]
    }
}

/// Writes the header and one row per bar.
///
/// Floats are written with `{:?}`: the shortest text that reads back to the same `f64`
/// (as `{}` is), and like Python's `repr` it keeps the `.0` of whole numbers, so the
/// output diffs cleanly against the fixture.
fn write_csv(bars: &[Bar], mut out: impl Write) -> io::Result<()> {
    writeln!(out, "{HEADER}")?;
    let mut indicators = FixtureIndicators::new();
    for (i, bar) in bars.iter().enumerate() {
        write!(
            out,
            "{i},{},{:?},{:?},{:?},{:?},{:?}",
            bar.time, bar.open, bar.high, bar.low, bar.close, bar.volume
        )?;
        for cell in indicators.update(bar) {
            match cell {
                Some(v) => write!(out, ",{v:?}")?,
                None => write!(out, ",")?,
            }
        }
        writeln!(out)?;
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_csv(name: &str, contents: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tickpipe-indicators-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }

    #[test]
    fn reads_the_unnamed_time_column_and_ignores_extras() {
        let path = temp_csv(
            "extras.csv",
            ",Open,High,Low,Close,Adj Close,Volume\n2024-01-01,1,2,0.5,1.5,1.4,100\n",
        );
        let bars = read_bars(&path).unwrap();
        assert_eq!(bars.len(), 1);
        assert_eq!(bars[0].time, "2024-01-01");
        assert_eq!((bars[0].close, bars[0].volume), (1.5, 100.0));
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let path = temp_csv(
            "bad-cell.csv",
            "Date,Open,High,Low,Close,Volume\nd,1,2,0.5,1.5,100\nd,1,2,x,1.5,100\n",
        );
        let err = read_bars(&path).unwrap_err();
        assert!(
            err.contains("bad-cell.csv: line 3, column `Low`: `x`"),
            "{err}"
        );

        let path = temp_csv("no-volume.csv", "Date,Open,High,Low,Close\n");
        let err = read_bars(&path).unwrap_err();
        assert!(
            err.contains("no-volume.csv: line 1: no `Volume` column"),
            "{err}"
        );

        let path = temp_csv("no-time.csv", "Open,High,Low,Close,Volume\n");
        let err = read_bars(&path).unwrap_err();
        assert!(
            err.contains("line 1: the first column must be the time"),
            "{err}"
        );

        let path = temp_csv("short.csv", "Date,Open,High,Low,Close,Volume\nd,1,2\n");
        let err = read_bars(&path).unwrap_err();
        assert!(
            err.contains("short.csv: line 2: 3 columns where the header has 6"),
            "{err}"
        );
    }

    #[test]
    fn warm_up_cells_are_empty() {
        let bars: Vec<Bar> = (0..3)
            .map(|i| Bar {
                time: format!("t{i}"),
                open: 1.0,
                high: 2.0,
                low: 1.0,
                close: 1.5,
                volume: 10.0,
            })
            .collect();
        let mut out = Vec::new();
        write_csv(&bars, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], HEADER);
        assert_eq!(lines[1], "0,t0,1.0,2.0,1.0,1.5,10.0,,,,,,,,,,,,,,10.0");
        assert_eq!(lines[1].split(',').count(), HEADER.split(',').count());
    }
}
