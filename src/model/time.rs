//! Market time and latency stamps.
//!
//! Two clocks, never mixed: [`UnixNanos`] is *market* time, taken from the events
//! (exchange timestamps, or the simulated clock), and is what strategy and risk logic
//! read, so a replay decides exactly as the live run did. [`Stamp`] is a raw reading of
//! the runtime's monotonic counter, taken at feed ingress and order egress only to
//! measure latency.

use std::fmt;

/// India Standard Time is UTC+05:30 all year (no daylight saving).
pub const IST_OFFSET_SECS: i64 = 5 * 3600 + 30 * 60;

const NANOS_PER_SEC: u64 = 1_000_000_000;

/// Nanoseconds since the Unix epoch, in market time.
///
/// # Examples
/// ```
/// use tickpipe::model::{Date, TimeOfDay, UnixNanos};
/// let open = UnixNanos::from_ist(Date::new(2026, 11, 25), TimeOfDay::hm(9, 15));
/// assert_eq!(open.ist_time_of_day(), TimeOfDay::hm(9, 15));
/// assert_eq!(open.ist_date(), Date::new(2026, 11, 25));
/// assert_eq!(open.to_string(), "2026-11-25 09:15:00.000 IST");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(transparent)]
pub struct UnixNanos(pub u64);

impl UnixNanos {
    /// The instant at `time` on `date`, India Standard Time; saturating at the epoch and
    /// at the largest instant (a date past the year 2554), so no date overflows.
    pub fn from_ist(date: Date, time: TimeOfDay) -> UnixNanos {
        let secs = date
            .days_since_epoch()
            .saturating_mul(86_400)
            .saturating_add(i64::from(time.secs()) - IST_OFFSET_SECS);
        UnixNanos((secs.max(0) as u64).saturating_mul(NANOS_PER_SEC))
    }

    /// Whole seconds since the epoch.
    pub const fn secs(self) -> u64 {
        self.0 / NANOS_PER_SEC
    }

    /// `self + nanos`, saturating.
    pub const fn add_nanos(self, nanos: u64) -> UnixNanos {
        UnixNanos(self.0.saturating_add(nanos))
    }

    /// Nanoseconds from `earlier` to `self`, zero if `earlier` is later.
    pub const fn nanos_since(self, earlier: UnixNanos) -> u64 {
        self.0.saturating_sub(earlier.0)
    }

    /// The minute this instant falls in, counted from the epoch (bar bucketing).
    pub const fn minute(self) -> u64 {
        self.0 / (60 * NANOS_PER_SEC)
    }

    /// The IST calendar date.
    pub fn ist_date(self) -> Date {
        let local = self.secs() as i64 + IST_OFFSET_SECS;
        Date::from_days_since_epoch(local.div_euclid(86_400))
    }

    /// The IST time of day (to the second).
    pub fn ist_time_of_day(self) -> TimeOfDay {
        let local = self.secs() as i64 + IST_OFFSET_SECS;
        TimeOfDay::from_secs(local.rem_euclid(86_400) as u32)
    }
}

impl fmt::Display for UnixNanos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let millis = (self.0 % NANOS_PER_SEC) / 1_000_000;
        write!(
            f,
            "{} {}.{millis:03} IST",
            self.ist_date(),
            self.ist_time_of_day()
        )
    }
}

/// A raw reading of the runtime's monotonic counter (TSC ticks where the CPU has an
/// invariant TSC). Only the clock that took two stamps can turn their difference into
/// nanoseconds. Zero means "not stamped".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(transparent)]
pub struct Stamp(pub u64);

/// A proleptic Gregorian calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    /// Year, e.g. 2026.
    pub year: i32,
    /// Month 1–12.
    pub month: u8,
    /// Day of month 1–31.
    pub day: u8,
}

impl Date {
    /// A date; not validated beyond the ranges of its fields' use in [`Date::parse`].
    pub const fn new(year: i32, month: u8, day: u8) -> Date {
        Date { year, month, day }
    }

    /// Parses `YYYY-MM-DD`, checking month and day ranges.
    pub fn parse(text: &str) -> Option<Date> {
        let mut parts = text.trim().splitn(3, '-');
        let year: i32 = parts.next()?.parse().ok()?;
        let month: u8 = parts.next()?.parse().ok()?;
        let day: u8 = parts.next()?.parse().ok()?;
        let date = Date::new(year, month, day);
        let valid = (1..=12).contains(&month)
            && day >= 1
            && Date::from_days_since_epoch(date.days_since_epoch()) == date;
        valid.then_some(date)
    }

    /// Days since 1970-01-01 (negative before). Howard Hinnant's `days_from_civil`.
    pub fn days_since_epoch(self) -> i64 {
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date `days` after 1970-01-01. Howard Hinnant's `civil_from_days`.
    pub fn from_days_since_epoch(days: i64) -> Date {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Date { year, month, day }
    }

    /// Day of week, 0 = Monday … 6 = Sunday.
    pub fn weekday(self) -> u8 {
        // 1970-01-01 was a Thursday (3).
        ((self.days_since_epoch() + 3).rem_euclid(7)) as u8
    }

    /// The date `days` later (or earlier, when negative).
    pub fn add_days(self, days: i64) -> Date {
        Date::from_days_since_epoch(self.days_since_epoch() + days)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// A time of day to the second (IST where it matters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeOfDay(u32);

impl TimeOfDay {
    /// `hour:minute:00`.
    pub const fn hm(hour: u32, minute: u32) -> TimeOfDay {
        TimeOfDay(hour * 3600 + minute * 60)
    }

    /// Seconds after midnight (taken modulo one day).
    pub const fn from_secs(secs: u32) -> TimeOfDay {
        TimeOfDay(secs % 86_400)
    }

    /// Parses `HH:MM` or `HH:MM:SS`.
    pub fn parse(text: &str) -> Option<TimeOfDay> {
        let mut parts = text.trim().split(':');
        let h: u32 = parts.next()?.parse().ok()?;
        let m: u32 = parts.next()?.parse().ok()?;
        let s: u32 = match parts.next() {
            Some(s) => s.parse().ok()?,
            None => 0,
        };
        if parts.next().is_some() || h > 23 || m > 59 || s > 59 {
            return None;
        }
        Some(TimeOfDay(h * 3600 + m * 60 + s))
    }

    /// Seconds after midnight.
    pub const fn secs(self) -> u32 {
        self.0
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:02}:{:02}:{:02}",
            self.0 / 3600,
            self.0 / 60 % 60,
            self.0 % 60
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn far_dates_saturate_instead_of_overflowing() {
        // u64 nanoseconds end in 2554; a feed's year 9999 must not overflow.
        let far = UnixNanos::from_ist(Date::new(9999, 12, 31), TimeOfDay::hm(23, 59));
        assert_eq!(far, UnixNanos(u64::MAX));
        assert_eq!(
            UnixNanos::from_ist(Date::new(1960, 1, 1), TimeOfDay::hm(9, 15)),
            UnixNanos(0)
        );
    }

    #[test]
    fn civil_round_trip() {
        for days in [-800_000, -1, 0, 1, 19_000, 20_417, 2_000_000] {
            assert_eq!(Date::from_days_since_epoch(days).days_since_epoch(), days);
        }
        assert_eq!(Date::new(2026, 11, 25).weekday(), 2); // a Wednesday
        assert_eq!(Date::parse("2024-02-29"), Some(Date::new(2024, 2, 29)));
        assert_eq!(Date::parse("2023-02-29"), None);
        assert_eq!(Date::parse("2023-13-01"), None);
    }

    #[test]
    fn ist_offsets() {
        let t = UnixNanos::from_ist(Date::new(2026, 1, 1), TimeOfDay::hm(0, 10));
        assert_eq!(t.ist_date(), Date::new(2026, 1, 1));
        assert_eq!(t.ist_time_of_day(), TimeOfDay::hm(0, 10));
        assert_eq!(TimeOfDay::parse("15:15"), Some(TimeOfDay::hm(15, 15)));
        assert_eq!(TimeOfDay::parse("25:00"), None);
    }
}
