//! How many units an entry buys.
//!
//! Only the all-in fraction-of-equity rule exists so far, written to reproduce
//! backtesting.py 0.6.6 bit for bit (its `_FULL_EQUITY` default size; see the fixture
//! README's "Default size"): that is why it works in `f64` and copies Python's float
//! floor division rather than using the engine's exact decimals. The engine's own
//! sizing (the risk stage's per-position rule) is not wired into backtests yet.

use std::{fmt, str::FromStr};

/// backtesting.py's default order size, `1 − sys.float_info.epsilon`: it prints as
/// `.9999…` but is the largest double below one, and enters the division below.
pub const FULL_EQUITY: f64 = 1.0 - f64::EPSILON;

/// The sizing policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sizing {
    /// All of the equity in whole units (floor), as backtesting.py's default `buy()`.
    Equity,
}

impl Sizing {
    /// The command-line spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Sizing::Equity => "equity",
        }
    }

    /// Whole units an entry at `price` buys with `equity` free, when each unit also
    /// pays `rate × price` commission; zero or less means the order cannot be filled.
    ///
    /// `int((equity · 1 · f) // (price + (f·price·rate)/f))`, in that evaluation order
    /// (margin 1, so leverage 1).
    pub fn units(self, equity: f64, price: f64, rate: f64) -> i64 {
        match self {
            Sizing::Equity => {
                let f = FULL_EQUITY;
                let per_unit = price + (f * price * rate) / f;
                py_floordiv(equity * 1.0 * f, per_unit) as i64
            }
        }
    }
}

impl fmt::Display for Sizing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Sizing {
    type Err = String;

    fn from_str(s: &str) -> Result<Sizing, String> {
        match s {
            "equity" => Ok(Sizing::Equity),
            other => Err(format!(
                "`{other}`: the only sizing so far is `equity` (all-in, whole units)"
            )),
        }
    }
}

/// Python's `float.__floordiv__` (CPython `float_floor_div`): it goes through `fmod`
/// and rounds the quotient of the exact remainder, so it can differ from
/// `(a / b).floor()` when `a / b` rounds up to a whole number.
pub fn py_floordiv(a: f64, b: f64) -> f64 {
    let modulo = a % b;
    let mut div = (a - modulo) / b;
    if modulo != 0.0 && ((b < 0.0) != (modulo < 0.0)) {
        div -= 1.0;
    }
    if div != 0.0 {
        let mut floor = div.floor();
        if div - floor > 0.5 {
            floor += 1.0;
        }
        floor
    } else {
        (0.0f64).copysign(a / b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floordiv_agrees_with_python() {
        // Values checked in CPython 3.11.
        assert_eq!(py_floordiv(7.0, 2.0), 3.0);
        assert_eq!(py_floordiv(-7.0, 2.0), -4.0);
        assert_eq!(py_floordiv(1.0, 0.1), 9.0); // (1.0 / 0.1).floor() is 10
        assert_eq!(py_floordiv(0.0, 3.0), 0.0);
    }

    #[test]
    fn all_in_units() {
        // 10 000 at 169.02: 59.16… units; the fraction below one cannot reach 60.
        assert_eq!(Sizing::Equity.units(10_000.0, 169.02, 0.0), 59);
        assert_eq!(Sizing::Equity.units(10_000.0, 100.0, 0.0), 99);
        // A 1 % commission per unit: 10 000 / 101 = 99.0099…
        assert_eq!(Sizing::Equity.units(10_000.0, 100.0, 0.01), 99);
        assert_eq!(Sizing::Equity.units(10_000.0, 100.5, 0.01), 98);
    }
}
