//! Number formatting for people: rupees with Indian digit grouping, counts, rates.

use crate::model::Money;

/// Rupees with two decimals and Indian grouping (lakh, crore): `₹12,34,567.89`.
///
/// # Examples
/// ```
/// use tickpipe::{cli::format::rupees, model::Money};
/// assert_eq!(rupees(Money::from_rupees(1_000_000)), "₹10,00,000.00");
/// assert_eq!(rupees(Money::from_rupees(-1234)), "-₹1,234.00");
/// ```
pub fn rupees(m: Money) -> String {
    let paise = m.raw() / (crate::model::Price::SCALE as i128 / 100);
    let sign = if paise < 0 { "-" } else { "" };
    let abs = paise.unsigned_abs();
    format!("{sign}₹{}.{:02}", indian_grouping(abs / 100), abs % 100)
}

/// Rupees with an explicit sign, for P&L: `+₹1,234.50`.
pub fn pnl(m: Money) -> String {
    if m.is_negative() {
        rupees(m)
    } else {
        format!("+{}", rupees(m))
    }
}

/// `12,34,567` (the last three digits, then pairs).
pub fn indian_grouping(n: u128) -> String {
    let digits = n.to_string();
    if digits.len() <= 3 {
        return digits;
    }
    let (head, tail) = digits.split_at(digits.len() - 3);
    let mut out = String::new();
    let first = head.len() % 2;
    if first == 1 {
        out.push_str(&head[..1]);
    }
    for (i, pair) in head.as_bytes()[first..].chunks(2).enumerate() {
        if i > 0 || first == 1 {
            out.push(',');
        }
        out.push_str(std::str::from_utf8(pair).unwrap_or_default());
    }
    out.push(',');
    out.push_str(tail);
    out
}

/// A count with thousands separators, international style: `1,234,567`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A rate per second, compact: `812k/s`, `5.1M/s`.
pub fn rate(per_sec: f64) -> String {
    match per_sec {
        r if r >= 1e6 => format!("{:.2}M/s", r / 1e6),
        r if r >= 1e3 => format!("{:.0}k/s", r / 1e3),
        r => format!("{r:.0}/s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouping() {
        assert_eq!(indian_grouping(0), "0");
        assert_eq!(indian_grouping(999), "999");
        assert_eq!(indian_grouping(1000), "1,000");
        assert_eq!(indian_grouping(100_000), "1,00,000");
        assert_eq!(indian_grouping(12_345_678), "1,23,45,678");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(12), "12");
    }

    #[test]
    fn money() {
        assert_eq!(rupees("-0.05".parse().unwrap()), "-₹0.05");
        assert_eq!(pnl("1234.5".parse().unwrap()), "+₹1,234.50");
    }
}
