//! TrueData's numbers: decimal text (sometimes in scientific notation) read exactly.
//!
//! The feed sends prices and quantities as JSON strings such as `"25311"`, `"229.46"` or,
//! for large quantities, `"1.2345e3"` (PROTOCOLS.md §4.4: the official clients convert
//! with `float()` and warn about the exponent form). Going through `f64` would turn
//! `"0.1"` into 0.1000000000000000055…; here the digits and the exponent are combined in
//! integer arithmetic, so every value the feed can mean (paise, 0.0025 steps) arrives
//! exact in the crate's 10^-8 fixed point.

use crate::model::{Price, ValueError};

/// Raw units of 10^-8 per unit, as [`Price::SCALE`].
const SCALE_DIGITS: i32 = 8;

/// Significant digits accepted in one number: `i128` holds 38, and a shift of up to 8
/// places must still fit.
const MAX_DIGITS: usize = 30;

/// Parses decimal text, with an optional sign, fraction and exponent (`-1.25e-3`,
/// `12E2`, `.5`), into units of 10^-8, exactly when the value has at most eight decimal
/// places and rounded half away from zero beyond (a float printed with noise digits,
/// such as `229.46000000000001`, still means 229.46).
///
/// # Errors
/// [`ValueError::Malformed`] for anything else (empty, `NaN`, `1e`, two points, more than
/// 30 significant digits); [`ValueError::Overflow`] when the value does not fit.
///
/// # Examples
/// ```
/// use tickpipe::feed::truedata::decimal_units;
/// assert_eq!(decimal_units("1.2345e3"), Ok(123_450_000_000));
/// assert_eq!(decimal_units("-0.05"), Ok(-5_000_000));
/// assert_eq!(decimal_units("25E-2"), Ok(25_000_000));
/// assert!(decimal_units("1e").is_err());
/// ```
pub fn decimal_units(text: &str) -> Result<i128, ValueError> {
    let text = text.trim().as_bytes();
    let (negative, rest) = match text.first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (mantissa, exponent) = match rest.iter().position(|&b| b == b'e' || b == b'E') {
        Some(at) => (&rest[..at], Some(&rest[at + 1..])),
        None => (rest, None),
    };
    let exponent = match exponent {
        None => 0i32,
        Some(e) => parse_exponent(e)?,
    };
    let (int_part, frac_part) = match mantissa.iter().position(|&b| b == b'.') {
        Some(at) => (&mantissa[..at], &mantissa[at + 1..]),
        None => (mantissa, &[][..]),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return Err(ValueError::Malformed);
    }
    let mut significand: i128 = 0;
    let mut digits = 0usize;
    for &b in int_part.iter().chain(frac_part) {
        if !b.is_ascii_digit() {
            return Err(ValueError::Malformed);
        }
        if significand == 0 && b == b'0' {
            continue; // leading zeros carry no digit
        }
        digits += 1;
        if digits > MAX_DIGITS {
            return Err(ValueError::Malformed);
        }
        significand = significand * 10 + i128::from(b - b'0');
    }
    // value = significand · 10^(exponent − frac digits); raw = value · 10^8.
    let frac_len = i32::try_from(frac_part.len()).map_err(|_| ValueError::Malformed)?;
    let shift = exponent - frac_len + SCALE_DIGITS;
    let raw = if significand == 0 {
        0
    } else if shift >= 0 {
        // 10^39 overflows i128, and so does any non-zero significand times it.
        let factor = 10i128
            .checked_pow(u32::try_from(shift).map_err(|_| ValueError::Overflow)?)
            .ok_or(ValueError::Overflow)?;
        significand
            .checked_mul(factor)
            .ok_or(ValueError::Overflow)?
    } else {
        let places = shift.unsigned_abs();
        match 10i128.checked_pow(places) {
            // Below half a unit of 10^-8 whatever the digits: rounds to zero.
            None => 0,
            Some(divisor) => {
                let (q, r) = (significand / divisor, significand % divisor);
                if r * 2 >= divisor {
                    q + 1
                } else {
                    q
                }
            }
        }
    };
    Ok(if negative { -raw } else { raw })
}

/// An exponent of at most four digits after an optional sign.
fn parse_exponent(text: &[u8]) -> Result<i32, ValueError> {
    let (negative, digits) = match text.first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() || digits.len() > 4 || !digits.iter().all(u8::is_ascii_digit) {
        return Err(ValueError::Malformed);
    }
    let value = digits
        .iter()
        .fold(0i32, |n, &b| n * 10 + i32::from(b - b'0'));
    Ok(if negative { -value } else { value })
}

/// A price: zero or more, exact to 10^-8.
///
/// # Errors
/// As [`decimal_units`], and [`ValueError::Negative`] below zero.
pub fn price(text: &str) -> Result<Price, ValueError> {
    let raw = decimal_units(text)?;
    if raw < 0 {
        return Err(ValueError::Negative);
    }
    i64::try_from(raw)
        .map(Price::from_raw)
        .map_err(|_| ValueError::Overflow)
}

/// A whole quantity (shares, open interest): zero or more, `"1.5e3"` is 1500.
///
/// # Errors
/// As [`decimal_units`]; [`ValueError::Negative`] below zero, and
/// [`ValueError::TooPrecise`] when the value has a fraction (a quantity is whole).
pub fn quantity(text: &str) -> Result<u64, ValueError> {
    let raw = decimal_units(text)?;
    if raw < 0 {
        return Err(ValueError::Negative);
    }
    let scale = i128::from(Price::SCALE);
    if raw % scale != 0 {
        return Err(ValueError::TooPrecise);
    }
    u64::try_from(raw / scale).map_err(|_| ValueError::Overflow)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn p(text: &str) -> String {
        price(text).unwrap().to_string()
    }

    #[test]
    fn plain_and_scientific_prices_are_exact() {
        assert_eq!(p("25311"), "25311.00");
        assert_eq!(p("229.46"), "229.46");
        assert_eq!(p("1.2345e3"), "1234.50");
        assert_eq!(p("1.2345E+3"), "1234.50");
        assert_eq!(p("12345e-1"), "1234.50");
        assert_eq!(p("2.5e-3"), "0.0025");
        assert_eq!(p("0.1"), "0.10");
        assert_eq!(p("+7"), "7.00");
        assert_eq!(p(".05"), "0.05");
        assert_eq!(p("5."), "5.00");
        assert_eq!(p("0e10"), "0.00");
        assert_eq!(p("000123.4500"), "123.45");
        // A float printed with noise digits means the short value.
        assert_eq!(p("229.46000000000001"), "229.46");
        assert_eq!(p("0.30000000000000004"), "0.30");
        // Half a unit of 10^-8 rounds away from zero.
        assert_eq!(price("0.000000005").unwrap().raw(), 1);
        assert_eq!(price("0.0000000049").unwrap().raw(), 0);
        assert_eq!(price("1e-900").unwrap().raw(), 0);
    }

    #[test]
    fn what_is_not_a_price_is_refused() {
        for bad in [
            "", " ", "-", ".", "e3", "1e", "1e+", "1..2", "1.2.3", "0x10", "NaN", "inf",
        ] {
            assert_eq!(price(bad), Err(ValueError::Malformed), "{bad:?}");
        }
        assert_eq!(price("1e99999"), Err(ValueError::Malformed));
        assert_eq!(price("-0.05"), Err(ValueError::Negative));
        assert_eq!(price("1e12"), Err(ValueError::Overflow));
        assert_eq!(price("1e30"), Err(ValueError::Overflow));
        assert_eq!(price(&"9".repeat(31)), Err(ValueError::Malformed));
    }

    #[test]
    fn quantities_are_whole() {
        assert_eq!(quantity("2506800"), Ok(2_506_800));
        assert_eq!(quantity("1.2345e4"), Ok(12_345));
        assert_eq!(quantity("2.5068E6"), Ok(2_506_800));
        assert_eq!(quantity("75.0"), Ok(75));
        assert_eq!(quantity("1.5"), Err(ValueError::TooPrecise));
        assert_eq!(quantity("1.2345e3"), Err(ValueError::TooPrecise));
        assert_eq!(quantity("-1"), Err(ValueError::Negative));
        assert_eq!(quantity("1e25"), Err(ValueError::Overflow));
    }

    proptest! {
        /// Any price printed with two to eight decimals reads back exactly, in plain and
        /// in scientific form.
        #[test]
        fn printed_prices_read_back(raw in 0i64..100_000_000_000_000, pad in 0usize..6) {
            let price = Price::from_raw(raw);
            let text = price.to_string();
            prop_assert_eq!(super::price(&text), Ok(price));
            // The same digits as an integer mantissa and a negative exponent, with
            // `pad` extra zeros moved between the two.
            let (int, frac) = text.split_once('.').unwrap();
            let places = i32::try_from(frac.len() + pad).unwrap();
            let sci = format!("{int}{frac}{}e-{places}", "0".repeat(pad));
            prop_assert_eq!(super::price(&sci), Ok(price));
            let upper = format!("{int}{frac}E{}", -places + i32::try_from(pad).unwrap());
            prop_assert_eq!(super::price(&upper), Ok(price));
        }

        /// Random text never panics.
        #[test]
        fn random_text_never_panics(text in "[-+0-9.eE]{0,40}") {
            let _ = decimal_units(&text);
            let _ = quantity(&text);
        }
    }
}
