//! The open-loop generator's schedule: when each event is meant to be sent.

/// How fast the generator offers events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rate {
    /// A fixed rate, events per second.
    PerSecond(u64),
    /// As fast as the feed takes them (saturation).
    Max,
}

impl Rate {
    /// Parses `100000`, `100k`, `1m`/`1M` or `max`.
    pub fn parse(text: &str) -> Result<Rate, String> {
        let t = text.trim();
        if t.eq_ignore_ascii_case("max") {
            return Ok(Rate::Max);
        }
        let (digits, scale) = match t.char_indices().last() {
            Some((i, 'k' | 'K')) => (&t[..i], 1_000),
            Some((i, 'm' | 'M')) => (&t[..i], 1_000_000),
            _ => (t, 1),
        };
        match digits.parse::<u64>() {
            Ok(n) if n > 0 && n.checked_mul(scale).is_some_and(|r| r <= 1_000_000_000) => {
                Ok(Rate::PerSecond(n * scale))
            }
            _ => Err(format!(
                "rate `{text}`: expected `max` or events per second between 1 and 1G, like 100k"
            )),
        }
    }

    /// Short text for labels: `100k/s`, `1M/s`, `max`.
    pub fn label(self) -> String {
        match self {
            Rate::Max => "max".to_owned(),
            Rate::PerSecond(r) if r % 1_000_000 == 0 => format!("{}M/s", r / 1_000_000),
            Rate::PerSecond(r) if r % 1_000 == 0 => format!("{}k/s", r / 1_000),
            Rate::PerSecond(r) => format!("{r}/s"),
        }
    }
}

/// A fixed-rate schedule: event `k` is due `k / rate` seconds after the first.
///
/// Offsets are computed from `k` each time (not by adding an interval), so rounding never
/// accumulates: event one million at 300 k/s is due at exactly 3.333… s, rounded once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    per_second: u64,
}

impl Schedule {
    /// A schedule of `per_second` events per second (at least 1).
    pub fn new(per_second: u64) -> Schedule {
        Schedule {
            per_second: per_second.max(1),
        }
    }

    /// Nanoseconds after the first event at which event `k` is due (rounded down).
    #[inline]
    pub fn offset_nanos(&self, k: u64) -> u64 {
        (u128::from(k) * 1_000_000_000 / u128::from(self.per_second)) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_k_over_rate_without_drift() {
        let s = Schedule::new(100_000);
        assert_eq!(s.offset_nanos(0), 0);
        assert_eq!(s.offset_nanos(1), 10_000);
        assert_eq!(s.offset_nanos(1_000_000), 10_000_000_000);
        let third = Schedule::new(300_000);
        assert_eq!(third.offset_nanos(1), 3_333);
        assert_eq!(third.offset_nanos(3), 10_000);
        assert_eq!(third.offset_nanos(1_000_000), 3_333_333_333);
        // Intervals differ by at most a nanosecond of rounding and sum to the exact total.
        let gaps: Vec<u64> = (0..300)
            .map(|k| third.offset_nanos(k + 1) - third.offset_nanos(k))
            .collect();
        assert!(gaps.iter().all(|g| (3_333..=3_334).contains(g)));
        assert_eq!(gaps.iter().sum::<u64>(), 1_000_000);
        assert_eq!(
            Schedule::new(1).offset_nanos(u64::from(u32::MAX)),
            4_294_967_295_000_000_000
        );
    }

    #[test]
    fn rates_parse_with_suffixes() {
        assert_eq!(Rate::parse("100k"), Ok(Rate::PerSecond(100_000)));
        assert_eq!(Rate::parse("1M"), Ok(Rate::PerSecond(1_000_000)));
        assert_eq!(Rate::parse("2500"), Ok(Rate::PerSecond(2_500)));
        assert_eq!(Rate::parse("MAX"), Ok(Rate::Max));
        assert!(Rate::parse("0").is_err());
        assert!(Rate::parse("fast").is_err());
        assert!(Rate::parse("2000m").is_err());
        assert_eq!(Rate::PerSecond(100_000).label(), "100k/s");
        assert_eq!(Rate::PerSecond(1_000_000).label(), "1M/s");
        assert_eq!(Rate::Max.label(), "max");
    }
}
