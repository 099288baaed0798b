//! Decimal fixed-point parsing and formatting shared by [`Price`](super::Price) and
//! [`Money`](super::Money).

use super::ValueError;

/// Digits after the decimal point kept by prices and money.
pub(crate) const DECIMALS: u32 = 8;
/// `10^DECIMALS`.
pub(crate) const SCALE: i64 = 100_000_000;

/// Parses `"-123.45"` into raw units of 10^-8, exactly.
pub(crate) fn parse(text: &str) -> Result<i128, ValueError> {
    let text = text.trim();
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (int_part, frac_part) = match digits.split_once('.') {
        Some((i, f)) => (i, f),
        None => (digits, ""),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return Err(ValueError::Malformed);
    }
    if !int_part.bytes().all(|b| b.is_ascii_digit())
        || !frac_part.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(ValueError::Malformed);
    }
    let frac_trimmed = frac_part.trim_end_matches('0');
    if frac_trimmed.len() > DECIMALS as usize {
        return Err(ValueError::TooPrecise);
    }
    let mut raw: i128 = 0;
    for b in int_part.bytes() {
        raw = raw
            .checked_mul(10)
            .and_then(|r| r.checked_add(i128::from(b - b'0')))
            .ok_or(ValueError::Overflow)?;
    }
    raw = raw
        .checked_mul(i128::from(SCALE))
        .ok_or(ValueError::Overflow)?;
    let mut frac: i128 = 0;
    for b in frac_trimmed.bytes() {
        frac = frac * 10 + i128::from(b - b'0');
    }
    frac *= 10i128.pow(DECIMALS - frac_trimmed.len() as u32);
    let raw = raw + frac;
    Ok(if negative { -raw } else { raw })
}

/// Writes raw units of 10^-8 as a decimal with at least two and at most eight places.
pub(crate) fn format(raw: i128, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    let sign = if raw < 0 { "-" } else { "" };
    let abs = raw.unsigned_abs();
    let scale = SCALE as u128;
    let int = abs / scale;
    let mut frac = abs % scale;
    let mut places = DECIMALS;
    while places > 2 && frac % 10 == 0 {
        frac /= 10;
        places -= 1;
    }
    write!(f, "{sign}{int}.{frac:0width$}", width = places as usize)
}
