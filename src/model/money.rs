use std::{fmt, iter::Sum, str::FromStr};

use super::{fixed, ValueError};

/// An amount of money (P&L, notional, capital), decimal fixed-point in units of 10^-8.
///
/// `i128` wide, so that `price × quantity` and a day of sums never overflow in practice;
/// the checked operations still report [`ValueError::Overflow`] rather than wrap.
///
/// # Examples
/// ```
/// use tickpipe::model::{Money, Price, Qty};
/// let buy = Price::from_paise(245_005).notional(Qty::new(10));
/// let sell = Price::from_paise(246_000).notional(Qty::new(10));
/// assert_eq!(sell.checked_sub(buy).unwrap().to_string(), "99.50");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(i128);

impl Money {
    /// Zero rupees.
    pub const ZERO: Money = Money(0);

    /// Money from raw units of 10^-8.
    pub const fn from_raw(raw: i128) -> Money {
        Money(raw)
    }

    /// Whole rupees.
    pub const fn from_rupees(rupees: i64) -> Money {
        Money(rupees as i128 * fixed::SCALE as i128)
    }

    /// The raw units of 10^-8.
    pub const fn raw(self) -> i128 {
        self.0
    }

    /// Whole paise, rounded toward zero and saturating at the ends of `i64`: for gauges
    /// and reports that carry money in one machine word.
    ///
    /// # Examples
    /// ```
    /// use tickpipe::model::Money;
    /// assert_eq!("-12.345".parse::<Money>().unwrap().to_paise_saturating(), -1234);
    /// ```
    pub fn to_paise_saturating(self) -> i64 {
        let paise = self.0 / (fixed::SCALE as i128 / 100);
        paise.clamp(i64::MIN as i128, i64::MAX as i128) as i64
    }

    /// For display and ratios only.
    pub fn to_f64(self) -> f64 {
        self.0 as f64 / fixed::SCALE as f64
    }

    /// `self + rhs`.
    ///
    /// # Errors
    /// [`ValueError::Overflow`].
    pub fn checked_add(self, rhs: Money) -> Result<Money, ValueError> {
        self.0
            .checked_add(rhs.0)
            .map(Money)
            .ok_or(ValueError::Overflow)
    }

    /// `self - rhs`.
    ///
    /// # Errors
    /// [`ValueError::Overflow`].
    pub fn checked_sub(self, rhs: Money) -> Result<Money, ValueError> {
        self.0
            .checked_sub(rhs.0)
            .map(Money)
            .ok_or(ValueError::Overflow)
    }

    /// `self × percent / 100`, rounded toward zero to the raw unit.
    ///
    /// # Errors
    /// [`ValueError::Overflow`].
    pub fn percent(self, percent: Money) -> Result<Money, ValueError> {
        self.0
            .checked_mul(percent.0)
            .map(|v| Money(v / (fixed::SCALE as i128 * 100)))
            .ok_or(ValueError::Overflow)
    }

    /// The negated amount.
    pub const fn neg(self) -> Money {
        Money(-self.0)
    }

    /// True when below zero.
    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// Saturating add, for telemetry only.
    pub fn saturating_add(self, rhs: Money) -> Money {
        Money(self.0.saturating_add(rhs.0))
    }
}

impl FromStr for Money {
    type Err = ValueError;

    fn from_str(s: &str) -> Result<Money, ValueError> {
        fixed::parse(s).map(Money)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fixed::format(self.0, f)
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Money({self})")
    }
}

impl Sum for Money {
    /// Saturates rather than panics; sums of real P&L are far from the `i128` range.
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, Money::saturating_add)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_of_capital() {
        let capital = Money::from_rupees(1_000_000);
        assert_eq!(
            capital.percent("2".parse().unwrap()).unwrap(),
            Money::from_rupees(20_000)
        );
        assert_eq!(
            capital.percent("70".parse().unwrap()).unwrap(),
            Money::from_rupees(700_000)
        );
    }

    #[test]
    fn overflow_is_an_error() {
        assert_eq!(
            Money::from_raw(i128::MAX).checked_add(Money::from_raw(1)),
            Err(ValueError::Overflow)
        );
    }
}
