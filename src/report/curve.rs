//! A daily equity curve and its simple returns.

use std::fmt;

use crate::model::Date;

/// One trading day's closing equity per row, dates strictly increasing.
///
/// Equity is read as `f64`: the statistics below are ratios of equity, and the reference
/// implementations (empyrical, on float64 arrays) compute them so; money itself stays
/// exact everywhere else in the engine.
#[derive(Debug, Clone, PartialEq)]
pub struct EquityCurve {
    dates: Vec<Date>,
    equity: Vec<f64>,
}

/// Why a curve could not be read: the line (1-based, the header is line 1) and the cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurveError {
    /// The line the problem is on (0 for the file as a whole).
    pub line: usize,
    /// What is wrong there.
    pub why: String,
}

impl fmt::Display for CurveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.why)
        } else {
            write!(f, "line {}: {}", self.line, self.why)
        }
    }
}

impl std::error::Error for CurveError {}

impl EquityCurve {
    /// A curve from its rows.
    ///
    /// # Errors
    /// When there are fewer than two rows, a date does not follow the one before, or an
    /// equity is not a positive finite number (the line is the row's index + 2, as if
    /// read from a file with a header).
    pub fn new(rows: Vec<(Date, f64)>) -> Result<EquityCurve, CurveError> {
        let mut dates = Vec::with_capacity(rows.len());
        let mut equity = Vec::with_capacity(rows.len());
        for (i, (date, value)) in rows.into_iter().enumerate() {
            let line = i + 2;
            if !(value.is_finite() && value > 0.0) {
                return Err(CurveError {
                    line,
                    why: format!("equity {value} is not a positive number"),
                });
            }
            if let Some(&before) = dates.last() {
                if date <= before {
                    return Err(CurveError {
                        line,
                        why: format!("date {date} does not come after {before}"),
                    });
                }
            }
            dates.push(date);
            equity.push(value);
        }
        if equity.len() < 2 {
            return Err(CurveError {
                line: 0,
                why: format!(
                    "{} row(s): a curve needs at least two to have a return",
                    equity.len()
                ),
            });
        }
        Ok(EquityCurve { dates, equity })
    }

    /// Reads CSV text with the header `date,equity`, dates as `YYYY-MM-DD`. Blank lines
    /// are skipped.
    ///
    /// # Errors
    /// A [`CurveError`] naming the line: a wrong header, a row without two fields, a bad
    /// date or number, dates out of order, fewer than two rows.
    pub fn parse_csv(text: &str) -> Result<EquityCurve, CurveError> {
        let mut lines = text.lines().enumerate();
        match lines.next() {
            Some((_, header)) if header.trim().trim_start_matches('\u{feff}') == "date,equity" => {}
            Some((_, header)) => {
                return Err(CurveError {
                    line: 1,
                    why: format!("header {:?}: expected \"date,equity\"", header.trim()),
                })
            }
            None => {
                return Err(CurveError {
                    line: 0,
                    why: "empty file: expected the header \"date,equity\"".to_owned(),
                })
            }
        }
        let mut rows = Vec::new();
        for (i, line) in lines {
            let number = i + 1;
            if line.trim().is_empty() {
                continue;
            }
            let bad = |why: String| CurveError { line: number, why };
            let (date, value) = line
                .split_once(',')
                .ok_or_else(|| bad(format!("{line:?}: expected date,equity")))?;
            let date = Date::parse(date)
                .ok_or_else(|| bad(format!("date {:?} is not YYYY-MM-DD", date.trim())))?;
            let value: f64 = value
                .trim()
                .parse()
                .map_err(|_| bad(format!("equity {:?} is not a number", value.trim())))?;
            rows.push((date, value));
            if let Err(mut e) = EquityCurve::check_last(&rows) {
                e.line = number;
                return Err(e);
            }
        }
        EquityCurve::new(rows)
    }

    /// Checks the newest row against the one before (for line numbers while reading).
    fn check_last(rows: &[(Date, f64)]) -> Result<(), CurveError> {
        let n = rows.len();
        let (date, value) = rows[n - 1];
        if !(value.is_finite() && value > 0.0) {
            return Err(CurveError {
                line: 0,
                why: format!("equity {value} is not a positive number"),
            });
        }
        if n >= 2 && date <= rows[n - 2].0 {
            return Err(CurveError {
                line: 0,
                why: format!("date {date} does not come after {}", rows[n - 2].0),
            });
        }
        Ok(())
    }

    /// The dates, one per row.
    pub fn dates(&self) -> &[Date] {
        &self.dates
    }

    /// The equity, one per row.
    pub fn equity(&self) -> &[f64] {
        &self.equity
    }

    /// Simple returns `equity[t] / equity[t-1] - 1`, one fewer than the rows.
    pub fn returns(&self) -> Vec<f64> {
        self.equity.windows(2).map(|w| w[1] / w[0] - 1.0).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rows_and_returns() {
        let curve = EquityCurve::parse_csv(
            "date,equity\n2026-01-01,100.00\n\n2026-01-02,110.00\n2026-01-05,99\n",
        )
        .unwrap();
        assert_eq!(curve.dates()[2], Date::new(2026, 1, 5));
        let r = curve.returns();
        assert_eq!(r.len(), 2);
        assert!((r[0] - 0.1).abs() < 1e-15);
        assert!((r[1] + 0.1).abs() < 1e-15);
    }

    #[test]
    fn errors_name_the_line() {
        let e = |text: &str| EquityCurve::parse_csv(text).unwrap_err().to_string();
        assert_eq!(
            e("day,value\n"),
            "line 1: header \"day,value\": expected \"date,equity\""
        );
        assert_eq!(
            e("date,equity\n2026-01-01,1\n2026-13-01,2\n"),
            "line 3: date \"2026-13-01\" is not YYYY-MM-DD"
        );
        assert_eq!(
            e("date,equity\n2026-01-01,1\n2026-01-02,x\n"),
            "line 3: equity \"x\" is not a number"
        );
        assert_eq!(
            e("date,equity\n2026-01-02,1\n2026-01-02,2\n"),
            "line 3: date 2026-01-02 does not come after 2026-01-02"
        );
        assert_eq!(
            e("date,equity\n2026-01-01,1\n2026-01-02,-5\n"),
            "line 3: equity -5 is not a positive number"
        );
        assert_eq!(
            e("date,equity\n2026-01-01,1\n"),
            "1 row(s): a curve needs at least two to have a return"
        );
        assert_eq!(e(""), "empty file: expected the header \"date,equity\"");
        assert_eq!(
            e("date,equity\n2026-01-01 1\n"),
            "line 2: \"2026-01-01 1\": expected date,equity"
        );
    }
}
