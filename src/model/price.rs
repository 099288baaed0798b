use std::{fmt, str::FromStr};

use super::{fixed, Money, Qty, ValueError};

/// A price in rupees (or the quote currency), as a decimal fixed-point integer.
///
/// The raw value counts units of 10^-8, so every tick size tickpipe trades is exact:
/// NSE/BSE equity and F&O 0.05, currency 0.0025, Kite's CDS divisor 10^7 and BCD 10^4.
/// `price == limit` comparisons and sums are therefore exact; binary fixed-point could
/// not hold 0.05. The range is ±92 233 720 368.54775807, far above any listed price.
///
/// Arithmetic that could overflow is `checked_*` and returns [`ValueError::Overflow`]
/// instead of wrapping.
///
/// # Examples
/// ```
/// use tickpipe::model::Price;
/// let p: Price = "2450.05".parse().unwrap();
/// assert_eq!(p.raw(), 245_005_000_000);
/// assert!(p.is_multiple_of(Price::from_paise(5)));
/// assert_eq!(p.to_string(), "2450.05");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(transparent)]
pub struct Price(i64);

impl Price {
    /// Raw units per rupee.
    pub const SCALE: i64 = fixed::SCALE;
    /// Zero.
    pub const ZERO: Price = Price(0);
    /// The largest representable price.
    pub const MAX: Price = Price(i64::MAX);

    /// A price from raw units of 10^-8.
    pub const fn from_raw(raw: i64) -> Price {
        Price(raw)
    }

    /// The raw units of 10^-8.
    pub const fn raw(self) -> i64 {
        self.0
    }

    /// A price from paise (hundredths), the unit of Kite's NSE/BSE ticks.
    pub const fn from_paise(paise: i64) -> Price {
        Price(paise * (Self::SCALE / 100))
    }

    /// A price from an integer count of `1/divisor` units, as Kite sends them
    /// (divisor 100 for equity and F&O, 10^7 for CDS, 10^4 for BCD).
    ///
    /// # Errors
    /// [`ValueError::TooPrecise`] when `divisor` does not divide 10^8, or
    /// [`ValueError::Overflow`] when the result is out of range.
    pub fn from_scaled(units: i64, divisor: i64) -> Result<Price, ValueError> {
        if divisor <= 0 || Self::SCALE % divisor != 0 {
            return Err(ValueError::TooPrecise);
        }
        units
            .checked_mul(Self::SCALE / divisor)
            .map(Price)
            .ok_or(ValueError::Overflow)
    }

    /// The nearest price to a float, for synthetic data and indicator outputs.
    ///
    /// # Errors
    /// [`ValueError::NotFinite`] for NaN or infinity; [`ValueError::Overflow`] out of range.
    pub fn from_f64(value: f64) -> Result<Price, ValueError> {
        if !value.is_finite() {
            return Err(ValueError::NotFinite);
        }
        let raw = (value * Self::SCALE as f64).round();
        if raw >= i64::MAX as f64 || raw <= i64::MIN as f64 {
            return Err(ValueError::Overflow);
        }
        Ok(Price(raw as i64))
    }

    /// The price as a float, for indicators and display only (never for money).
    pub fn to_f64(self) -> f64 {
        self.0 as f64 / Self::SCALE as f64
    }

    /// `self + rhs`, or an error instead of wrapping.
    ///
    /// # Errors
    /// [`ValueError::Overflow`].
    pub fn checked_add(self, rhs: Price) -> Result<Price, ValueError> {
        self.0
            .checked_add(rhs.0)
            .map(Price)
            .ok_or(ValueError::Overflow)
    }

    /// `self - rhs`, or an error instead of wrapping.
    ///
    /// # Errors
    /// [`ValueError::Overflow`].
    pub fn checked_sub(self, rhs: Price) -> Result<Price, ValueError> {
        self.0
            .checked_sub(rhs.0)
            .map(Price)
            .ok_or(ValueError::Overflow)
    }

    /// The value of `qty` units at this price. Cannot overflow: the product of an `i64`
    /// and a `u32` fits an `i128`.
    pub fn notional(self, qty: Qty) -> Money {
        Money::from_raw(i128::from(self.0) * i128::from(qty.get()))
    }

    /// True when this price is a whole number of `tick`s.
    pub fn is_multiple_of(self, tick: Price) -> bool {
        tick.0 > 0 && self.0 % tick.0 == 0
    }

    /// Rounds to the nearest multiple of `tick` (half away from zero). A zero or negative
    /// tick leaves the price unchanged.
    pub fn round_to_tick(self, tick: Price) -> Price {
        if tick.0 <= 0 {
            return self;
        }
        let rem = self.0.rem_euclid(tick.0);
        let down = self.0 - rem;
        if rem * 2 >= tick.0 {
            Price(down.saturating_add(tick.0))
        } else {
            Price(down)
        }
    }

    /// The largest multiple of `tick` not above `self` (toward minus infinity). A zero or
    /// negative tick leaves the price unchanged. Used for a long position's stop, which
    /// must not round up into the entry price.
    ///
    /// # Examples
    /// ```
    /// use tickpipe::model::Price;
    /// let p: Price = "99.04".parse().unwrap();
    /// assert_eq!(p.round_down_to_tick(Price::from_paise(5)).to_string(), "99.00");
    /// ```
    pub fn round_down_to_tick(self, tick: Price) -> Price {
        if tick.0 <= 0 {
            return self;
        }
        Price(self.0 - self.0.rem_euclid(tick.0))
    }

    /// The smallest multiple of `tick` not below `self` (toward plus infinity),
    /// saturating at the top of the range. A zero or negative tick leaves the price
    /// unchanged. Used for a short position's stop.
    ///
    /// # Examples
    /// ```
    /// use tickpipe::model::Price;
    /// let p: Price = "101.01".parse().unwrap();
    /// assert_eq!(p.round_up_to_tick(Price::from_paise(5)).to_string(), "101.05");
    /// ```
    pub fn round_up_to_tick(self, tick: Price) -> Price {
        if tick.0 <= 0 {
            return self;
        }
        match self.0.rem_euclid(tick.0) {
            0 => self,
            rem => Price(self.0.saturating_add(tick.0 - rem)),
        }
    }

    /// True for a strictly positive price.
    pub const fn is_positive(self) -> bool {
        self.0 > 0
    }

    /// The absolute difference `|self - other|`, saturating.
    pub fn abs_diff(self, other: Price) -> Price {
        Price(self.0.abs_diff(other.0).min(i64::MAX as u64) as i64)
    }
}

impl FromStr for Price {
    type Err = ValueError;

    fn from_str(s: &str) -> Result<Price, ValueError> {
        let raw = fixed::parse(s)?;
        i64::try_from(raw)
            .map(Price)
            .map_err(|_| ValueError::Overflow)
    }
}

impl fmt::Display for Price {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fixed::format(i128::from(self.0), f)
    }
}

impl fmt::Debug for Price {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Price({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_sizes_are_exact() {
        let nse = Price::from_paise(5);
        let cds: Price = "0.0025".parse().unwrap();
        let mut p = Price::ZERO;
        for _ in 0..1000 {
            p = p.checked_add(nse).unwrap();
        }
        assert_eq!(p, "50".parse().unwrap());
        assert!("83.1234567"
            .parse::<Price>()
            .unwrap()
            .is_multiple_of(Price::from_raw(10)));
        assert!(!"1.0010".parse::<Price>().unwrap().is_multiple_of(cds));
        assert!("1.0075".parse::<Price>().unwrap().is_multiple_of(cds));
        assert_eq!(
            Price::from_scaled(831_234_567, 10_000_000)
                .unwrap()
                .to_string(),
            "83.1234567"
        );
        assert_eq!(
            Price::from_scaled(39295, 100).unwrap().to_string(),
            "392.95"
        );
        assert_eq!(Price::from_scaled(1, 3), Err(ValueError::TooPrecise));
    }

    #[test]
    fn parse_rejects_and_formats() {
        assert_eq!("1.000000001".parse::<Price>(), Err(ValueError::TooPrecise));
        assert_eq!("1.2.3".parse::<Price>(), Err(ValueError::Malformed));
        assert_eq!("".parse::<Price>(), Err(ValueError::Malformed));
        assert_eq!("99999999999".parse::<Price>(), Err(ValueError::Overflow));
        assert_eq!("-12.5".parse::<Price>().unwrap().to_string(), "-12.50");
        assert_eq!(
            Price::MAX.checked_add(Price::from_paise(1)),
            Err(ValueError::Overflow)
        );
    }

    #[test]
    fn rounding_to_tick() {
        let tick = Price::from_paise(5);
        assert_eq!(
            "100.02"
                .parse::<Price>()
                .unwrap()
                .round_to_tick(tick)
                .to_string(),
            "100.00"
        );
        assert_eq!(
            "100.03"
                .parse::<Price>()
                .unwrap()
                .round_to_tick(tick)
                .to_string(),
            "100.05"
        );
        assert_eq!(
            "100.025"
                .parse::<Price>()
                .unwrap()
                .round_to_tick(tick)
                .to_string(),
            "100.05"
        );
    }

    #[test]
    fn directional_rounding_to_tick() {
        let tick = Price::from_paise(5);
        let p = |s: &str| s.parse::<Price>().unwrap();
        assert_eq!(p("100.04").round_down_to_tick(tick), p("100.00"));
        assert_eq!(p("100.05").round_down_to_tick(tick), p("100.05"));
        assert_eq!(p("-0.01").round_down_to_tick(tick), p("-0.05"));
        assert_eq!(p("100.01").round_up_to_tick(tick), p("100.05"));
        assert_eq!(p("100.05").round_up_to_tick(tick), p("100.05"));
        assert_eq!(p("-0.04").round_up_to_tick(tick), p("0"));
        assert_eq!(p("1.5").round_up_to_tick(Price::ZERO), p("1.5"));
    }

    #[test]
    fn notional_is_exact() {
        let p: Price = "2450.05".parse().unwrap();
        assert_eq!(p.notional(Qty::new(3)).to_string(), "7350.15");
    }
}
