//! Exact decimals from TOML, for every section that reads money or percentages: a string (`"0.00297"`, parsed exactly) or a plain number
//! (read as the shortest decimal that prints as the same `f64`, so `0.03` stays 0.03).

use std::fmt;

use serde::{de, Deserializer};

use crate::model::Money;

struct DecimalVisitor;

impl de::Visitor<'_> for DecimalVisitor {
    type Value = Money;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a decimal number, as a string (\"0.03\") or a plain number")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Money, E> {
        v.parse()
            .map_err(|e| E::custom(format_args!("{v:?} is not a decimal: {e}")))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Money, E> {
        Ok(Money::from_rupees(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Money, E> {
        i64::try_from(v)
            .map(Money::from_rupees)
            .map_err(|_| E::custom(format_args!("{v} is too large")))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Money, E> {
        if !v.is_finite() {
            return Err(E::custom(format_args!("{v} is not a finite number")));
        }
        // `Display` for f64 prints the shortest decimal that reads back as `v`, without
        // an exponent, so `0.00297` stays exactly 0.00297.
        self.visit_str(&v.to_string())
    }
}

/// Reads one decimal.
pub(crate) fn decimal<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Money, D::Error> {
    deserializer.deserialize_any(DecimalVisitor)
}

/// Reads an optional decimal (the key present means `Some`).
pub(crate) fn optional_decimal<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Money>, D::Error> {
    deserializer.deserialize_any(DecimalVisitor).map(Some)
}
