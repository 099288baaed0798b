//! The day's loss and drawdown, watched on the intraday equity curve.

use crate::{
    model::{Money, UnixNanos, IST_OFFSET_SECS},
    risk::{config::RiskConfig, exit::ist_day_and_time},
};

/// Nanoseconds in a day.
const DAY_NANOS: u64 = 86_400_000_000_000;

/// What a move of equity crossed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayEvent {
    /// The first event of a new IST day: start-of-day equity was taken and every latch
    /// of the previous day cleared.
    NewDay,
    /// The day's net loss reached `daily_loss_pct` of start-of-day equity.
    DailyLossHit,
    /// Equity fell `drawdown_warn_pct` below the day's peak.
    DrawdownWarning,
    /// Equity fell `drawdown_halt_pct` below the day's peak.
    DrawdownHalt,
}

/// The daily loss limit and the drawdown monitor.
///
/// Start-of-day equity is the equity at the first event of the IST day (market time).
/// The daily loss limit latches when equity falls `daily_loss_pct` of it below it: no
/// new entries for the rest of the day (a raised limit re-evaluates the latch). The
/// drawdown monitor follows the day's peak equity and reports, once a day each, a fall
/// of `drawdown_warn_pct` and of `drawdown_halt_pct` of that peak. Each event is
/// reported once; the thresholds are rupee floors recomputed only when the start or
/// the peak changes, so a tick costs a few comparisons.
///
/// # Examples
/// ```
/// use tickpipe::{model::*, risk::{DayEvent, DayGuard, RiskConfig}};
/// let mut day = DayGuard::new(&RiskConfig::default()); // 5% loss, 3% / 6% drawdown
/// let t = UnixNanos::from_ist(Date::new(2026, 11, 25), TimeOfDay::hm(9, 15));
/// let lakh = |n: i64| Money::from_rupees(n * 100_000);
/// assert_eq!(day.on_equity(t, lakh(10)), Some(DayEvent::NewDay));
/// assert_eq!(day.on_equity(t, Money::from_rupees(969_000)), Some(DayEvent::DrawdownWarning));
/// assert_eq!(day.on_equity(t, Money::from_rupees(949_000)), Some(DayEvent::DailyLossHit));
/// assert!(day.loss_limit_hit());
/// ```
#[derive(Debug, Clone)]
pub struct DayGuard {
    loss_pct: Money,
    warn_pct: Money,
    halt_pct: Money,
    /// Market time at which the current IST day ends (zero: no day yet).
    day_end: UnixNanos,
    start: Money,
    peak: Money,
    last: Money,
    loss_floor: Money,
    warn_floor: Money,
    halt_floor: Money,
    loss_hit: bool,
    warned: bool,
    halted: bool,
}

impl DayGuard {
    /// A guard with `config`'s thresholds, before the first event.
    pub fn new(config: &RiskConfig) -> DayGuard {
        DayGuard {
            loss_pct: config.daily_loss_pct,
            warn_pct: config.drawdown_warn_pct,
            halt_pct: config.drawdown_halt_pct,
            day_end: UnixNanos(0),
            start: Money::ZERO,
            peak: Money::ZERO,
            last: Money::ZERO,
            loss_floor: Money::ZERO,
            warn_floor: Money::ZERO,
            halt_floor: Money::ZERO,
            loss_hit: false,
            warned: false,
            halted: false,
        }
    }

    /// Takes `config`'s thresholds (a `set`); the loss latch clears if equity is no
    /// longer beyond the new limit.
    pub fn configure(&mut self, config: &RiskConfig) {
        self.loss_pct = config.daily_loss_pct;
        self.warn_pct = config.drawdown_warn_pct;
        self.halt_pct = config.drawdown_halt_pct;
        self.loss_floor = below(self.start, self.loss_pct);
        self.set_peak(self.peak);
        if self.loss_hit && self.last > self.loss_floor {
            self.loss_hit = false;
        }
    }

    fn set_peak(&mut self, peak: Money) {
        self.peak = peak;
        self.warn_floor = below(peak, self.warn_pct);
        self.halt_floor = below(peak, self.halt_pct);
    }

    /// True when `now` is past the current IST day (or no day began yet): the next
    /// [`DayGuard::on_equity`] starts a new day.
    #[inline]
    pub fn day_over(&self, now: UnixNanos) -> bool {
        now >= self.day_end
    }

    /// Equity is `equity` at market time `now`: the most important event this crossed,
    /// if any (a new day first; then the loss limit, the drawdown halt, the warning).
    pub fn on_equity(&mut self, now: UnixNanos, equity: Money) -> Option<DayEvent> {
        self.last = equity;
        if self.day_over(now) {
            let (day, _) = ist_day_and_time(now);
            // The next IST midnight, in UTC.
            let next = (day + 1) * 86_400 - IST_OFFSET_SECS;
            self.day_end = UnixNanos((next.max(0) as u64).saturating_mul(1_000_000_000));
            debug_assert!(self.day_end.0 > now.0 && self.day_end.0 - now.0 <= DAY_NANOS);
            self.start = equity;
            self.loss_floor = below(equity, self.loss_pct);
            self.set_peak(equity);
            self.loss_hit = false;
            self.warned = false;
            self.halted = false;
            return Some(DayEvent::NewDay);
        }
        if equity > self.peak {
            self.set_peak(equity);
        }
        if !self.loss_hit && equity <= self.loss_floor {
            self.loss_hit = true;
            return Some(DayEvent::DailyLossHit);
        }
        if !self.halted && equity <= self.halt_floor {
            self.halted = true;
            self.warned = true;
            return Some(DayEvent::DrawdownHalt);
        }
        if !self.warned && equity <= self.warn_floor {
            self.warned = true;
            return Some(DayEvent::DrawdownWarning);
        }
        None
    }

    /// True once the daily loss limit was hit today.
    pub fn loss_limit_hit(&self) -> bool {
        self.loss_hit
    }

    /// Equity at the first event of the day.
    pub fn start_equity(&self) -> Money {
        self.start
    }

    /// The day's highest equity so far.
    pub fn peak_equity(&self) -> Money {
        self.peak
    }

    /// Equity at the last update.
    pub fn equity(&self) -> Money {
        self.last
    }
}

/// `value` less `pct` percent of it (saturating; a validated config cannot overflow).
fn below(value: Money, pct: Money) -> Money {
    let cut = value.percent(pct).unwrap_or(value);
    value.saturating_add(cut.neg())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Date, TimeOfDay};

    fn at(h: u32, m: u32) -> UnixNanos {
        UnixNanos::from_ist(Date::new(2026, 11, 25), TimeOfDay::hm(h, m))
    }

    fn rupees(n: i64) -> Money {
        Money::from_rupees(n)
    }

    #[test]
    fn loss_is_from_the_start_and_drawdown_from_the_peak() {
        let mut day = DayGuard::new(&RiskConfig::default());
        assert_eq!(
            day.on_equity(at(9, 15), rupees(1_000_000)),
            Some(DayEvent::NewDay)
        );
        // Up 10%: the peak moves; a 3% fall from it warns, 6% halts, while the day is
        // still up and the loss limit is far away.
        assert_eq!(day.on_equity(at(10, 0), rupees(1_100_000)), None);
        assert_eq!(day.peak_equity(), rupees(1_100_000));
        assert_eq!(
            day.on_equity(at(10, 1), rupees(1_067_000)),
            Some(DayEvent::DrawdownWarning)
        );
        assert_eq!(
            day.on_equity(at(10, 2), rupees(1_066_000)),
            None,
            "warned once"
        );
        assert_eq!(
            day.on_equity(at(10, 3), rupees(1_034_000)),
            Some(DayEvent::DrawdownHalt)
        );
        assert!(!day.loss_limit_hit());
        // 5% below the start, not the peak.
        assert_eq!(day.on_equity(at(11, 0), rupees(950_001)), None);
        assert_eq!(
            day.on_equity(at(11, 1), rupees(950_000)),
            Some(DayEvent::DailyLossHit)
        );
        assert!(day.loss_limit_hit());
        assert_eq!(day.on_equity(at(11, 2), rupees(900_000)), None, "latched");
        // Raising the limit re-evaluates the latch against today's start.
        day.configure(&RiskConfig {
            daily_loss_pct: rupees(20),
            ..RiskConfig::default()
        });
        assert!(!day.loss_limit_hit());
        // The next day starts afresh from its own first equity.
        let tomorrow = UnixNanos::from_ist(Date::new(2026, 11, 26), TimeOfDay::hm(9, 15));
        assert_eq!(
            day.on_equity(tomorrow, rupees(900_000)),
            Some(DayEvent::NewDay)
        );
        assert_eq!(day.start_equity(), rupees(900_000));
        assert_eq!(
            day.on_equity(tomorrow, rupees(872_000)),
            Some(DayEvent::DrawdownWarning)
        );
    }

    #[test]
    fn the_day_turns_at_ist_midnight() {
        let mut day = DayGuard::new(&RiskConfig::default());
        let before = UnixNanos::from_ist(Date::new(2026, 11, 25), TimeOfDay::hm(23, 59));
        let after = UnixNanos::from_ist(Date::new(2026, 11, 26), TimeOfDay::hm(0, 0));
        assert_eq!(day.on_equity(before, rupees(100)), Some(DayEvent::NewDay));
        assert_eq!(day.on_equity(UnixNanos(after.0 - 1), rupees(100)), None);
        assert_eq!(day.on_equity(after, rupees(100)), Some(DayEvent::NewDay));
    }
}
