//! One line of a news file: JSON with a symbol, a sentiment and an optional time.

use serde::Deserialize;

use crate::model::{Date, InstrumentId, InstrumentTable, UnixNanos};

/// A news line as written by a sentiment service.
///
/// ```json
/// {"time": "2026-11-25T10:42:05+05:30", "symbol": "RELIANCE", "sentiment": 0.82}
/// ```
///
/// `sentiment` runs from −1 (very negative) to +1 (very positive); `time` is RFC 3339
/// with a `Z` or `±HH:MM` offset and may carry a fraction of a second. Without `time`
/// the item counts from the moment the engine reads it. Other keys (`headline`,
/// `source`, …) are allowed and ignored, so a service can log what it likes.
#[derive(Debug, Deserialize)]
struct Raw {
    time: Option<String>,
    symbol: String,
    sentiment: f64,
}

/// A news line checked against the instrument table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewsItem {
    /// Market time of publication; `None` when the line gave none.
    pub time: Option<UnixNanos>,
    /// The instrument it is about.
    pub instrument: InstrumentId,
    /// Sentiment in per-mille, −1000 to 1000.
    pub sentiment_milli: i16,
}

/// Parses and checks one line; the error says what is wrong with it, in words.
///
/// # Errors
/// Not JSON, a missing or mistyped key, a symbol the table does not list, a sentiment
/// outside [−1, 1] or not a number, a time that is not RFC 3339.
pub fn parse_line(line: &str, instruments: &InstrumentTable) -> Result<NewsItem, String> {
    let raw: Raw = serde_json::from_str(line).map_err(|e| format!("not a news object: {e}"))?;
    let instrument = instruments
        .find(raw.symbol.trim())
        .ok_or_else(|| format!("no instrument `{}` in this engine's table", raw.symbol))?;
    if !raw.sentiment.is_finite() || !(-1.0..=1.0).contains(&raw.sentiment) {
        return Err(format!("sentiment {} is outside -1 to 1", raw.sentiment));
    }
    let time =
        match &raw.time {
            None => None,
            Some(text) => Some(parse_rfc3339(text).ok_or_else(|| {
                format!("time `{text}` is not RFC 3339 (2026-11-25T10:42:05+05:30)")
            })?),
        };
    Ok(NewsItem {
        time,
        instrument,
        sentiment_milli: (raw.sentiment * 1000.0).round() as i16,
    })
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` to market time; `None` if malformed or
/// before the epoch.
pub fn parse_rfc3339(text: &str) -> Option<UnixNanos> {
    let text = text.trim();
    let (date, rest) = text.split_at_checked(10)?;
    let date = Date::parse(date)?;
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    let (clock, offset_secs) = if let Some(clock) = rest.strip_suffix(['Z', 'z']) {
        (clock, 0i64)
    } else {
        let at = rest.len().checked_sub(6)?;
        let (clock, offset) = rest.split_at_checked(at)?;
        let sign = match offset.as_bytes()[0] {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        let (h, m) = offset[1..].split_once(':')?;
        let (h, m): (i64, i64) = (two_digits(h)?, two_digits(m)?);
        if h > 23 || m > 59 {
            return None;
        }
        (clock, sign * (h * 3600 + m * 60))
    };
    let (whole, fraction) = match clock.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (clock, None),
    };
    let mut parts = whole.split(':');
    let (h, m, s) = (
        two_digits(parts.next()?)?,
        two_digits(parts.next()?)?,
        two_digits(parts.next()?)?,
    );
    if parts.next().is_some() || h > 23 || m > 59 || s > 60 {
        return None;
    }
    let nanos = match fraction {
        None => 0,
        Some(f) if !f.is_empty() && f.len() <= 9 && f.bytes().all(|b| b.is_ascii_digit()) => {
            f.parse::<u64>().ok()? * 10u64.pow(9 - f.len() as u32)
        }
        Some(_) => return None,
    };
    let secs = date.days_since_epoch() * 86_400 + h * 3600 + m * 60 + s - offset_secs;
    let secs = u64::try_from(secs).ok()?;
    Some(UnixNanos(secs * 1_000_000_000 + nanos))
}

fn two_digits(text: &str) -> Option<i64> {
    (text.len() == 2 && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        model::{Instrument, SectorId, TimeOfDay},
        signal::test_support::table,
    };

    #[test]
    fn reads_a_full_line_and_ignores_extra_keys() {
        let line = r#"{"time":"2025-11-25T10:42:05+05:30","symbol":"INFY","sentiment":-0.4,"headline":"guidance cut"}"#;
        let item = parse_line(line, &table()).unwrap();
        assert_eq!(
            item,
            NewsItem {
                time: Some(UnixNanos::from_ist(
                    Date::new(2025, 11, 25),
                    TimeOfDay::parse("10:42:05").unwrap()
                )),
                instrument: InstrumentId(1),
                sentiment_milli: -400,
            }
        );
    }

    #[test]
    fn time_is_optional_and_offsets_and_fractions_are_honoured() {
        let item = parse_line(r#"{"symbol":"SBIN","sentiment":1}"#, &table()).unwrap();
        assert_eq!((item.time, item.sentiment_milli), (None, 1000));
        let utc = parse_rfc3339("2025-11-25T05:12:05.25Z").unwrap();
        let ist = parse_rfc3339("2025-11-25T10:42:05.250+05:30").unwrap();
        assert_eq!(utc, ist);
        assert_eq!(utc.0 % 1_000_000_000, 250_000_000);
    }

    #[test]
    fn every_bad_line_says_why() {
        let mut t = table();
        t.push(Instrument::nse_equity("WIPRO", SectorId(0)))
            .unwrap();
        let cases = [
            ("not json", "not a news object"),
            (r#"{"symbol":"SBIN"}"#, "missing field `sentiment`"),
            (
                r#"{"symbol":"NOPE","sentiment":0.5}"#,
                "no instrument `NOPE`",
            ),
            (r#"{"symbol":"SBIN","sentiment":1.5}"#, "outside -1 to 1"),
            (r#"{"symbol":"SBIN","sentiment":"up"}"#, "not a news object"),
            (
                r#"{"symbol":"SBIN","sentiment":0.5,"time":"10:42"}"#,
                "is not RFC 3339",
            ),
        ];
        for (line, why) in cases {
            let err = parse_line(line, &t).unwrap_err();
            assert!(err.contains(why), "{line}: {err}");
        }
    }

    #[test]
    fn malformed_times_are_refused() {
        for text in [
            "2025-11-25",
            "2025-11-25T10:42:05",
            "2025-11-25T25:00:00Z",
            "2025-11-25T10:42:05+5:30",
            "2025-11-25T10:42:05.Z",
            "2025-13-25T10:42:05Z",
            "1960-01-01T00:00:00Z",
        ] {
            assert_eq!(parse_rfc3339(text), None, "{text}");
        }
    }
}
