//! One scalp the strategy signalled: where its stop and target sit, when it must end,
//! and which tick ends it.

use crate::{
    model::{Direction, Price, Tick, UnixNanos},
    signal::Bar,
};

/// How a scalp's exits are placed: fixed at construction from the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ExitRules {
    /// Ticks between the spike bar's low (high) and the stop.
    pub stop_buffer_ticks: u32,
    /// Farthest stop from the entry, in basis points of the entry.
    pub max_stop_bps: u32,
    /// Target distance in hundredths of the risk; 0: no target.
    pub target_r_pct: u32,
    /// Time stop after the entry, in nanoseconds of market time.
    pub hold_nanos: u64,
}

/// The strategy's own record of a position it asked for.
///
/// Strategies never see positions, so this is what the strategy *signalled*: the risk
/// stage may have refused or trimmed the entry, or already stopped it out. Every exit
/// it decides from this record is a `Flat` signal, which the risk stage refuses
/// harmlessly (`already_flat`) when there is nothing to close.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Scalp {
    /// True for a long, false for a short.
    pub long: bool,
    /// The reference price of the entry signal (the spike bar's close).
    pub entry: Price,
    /// The protective stop sent with the entry; zero when none could be placed.
    pub stop: Price,
    /// Where the strategy takes its profit, if a target is configured.
    pub target: Option<Price>,
    /// Market time at which the time stop exits.
    pub deadline: UnixNanos,
}

/// Why a scalp ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Exit {
    /// The mark reached the protective stop: the risk stage closes the position itself,
    /// so the strategy only forgets it.
    Stopped,
    /// The exit side of the book reached the target; exit at this price.
    Target(Price),
    /// The holding time ran out; exit at this price.
    Time(Price),
}

impl ExitRules {
    /// The scalp entered at `bar`'s close in `direction` (`Long` or `Short`) at market
    /// time `now`, with its stop beyond the bar's extreme and its target, both on the
    /// `tick` grid.
    pub fn open(&self, direction: Direction, bar: &Bar, now: UnixNanos, tick: Price) -> Scalp {
        debug_assert_ne!(direction, Direction::Flat, "a scalp is long or short");
        let long = direction == Direction::Long;
        let entry = bar.close;
        let buffer = i128::from(tick.raw()) * i128::from(self.stop_buffer_ticks);
        let bps = i128::from(self.max_stop_bps);
        let entry_raw = i128::from(entry.raw());
        let stop = if long {
            let beyond = i128::from(bar.low.raw()) - buffer;
            let cap = (entry_raw * (10_000 - bps)).div_euclid(10_000);
            to_price(beyond.max(cap)).round_down_to_tick(tick)
        } else {
            let beyond = i128::from(bar.high.raw()) + buffer;
            let cap = div_ceil(entry_raw * (10_000 + bps), 10_000);
            to_price(beyond.min(cap)).round_up_to_tick(tick)
        };
        let stop = if stop.is_positive() {
            stop
        } else {
            Price::ZERO
        };
        Scalp {
            long,
            entry,
            stop,
            target: self.target(long, entry, stop, tick),
            deadline: now.add_nanos(self.hold_nanos),
        }
    }

    /// `target_r` times the entry-to-stop distance beyond the entry, rounded away from
    /// the entry to `tick` (so a hit is worth at least `target_r` times the risk); none
    /// without a target, without a stop, or when a short's target would not be positive.
    fn target(&self, long: bool, entry: Price, stop: Price, tick: Price) -> Option<Price> {
        if self.target_r_pct == 0 || !stop.is_positive() {
            return None;
        }
        let risk = (i128::from(entry.raw()) - i128::from(stop.raw())).abs();
        let reward = div_ceil(risk * i128::from(self.target_r_pct), 100);
        let target = if long {
            to_price(i128::from(entry.raw()) + reward).round_up_to_tick(tick)
        } else {
            to_price(i128::from(entry.raw()) - reward).round_down_to_tick(tick)
        };
        target.is_positive().then_some(target)
    }
}

impl Scalp {
    /// Whether `tick` (of this scalp's instrument) ends it, and how.
    ///
    /// The stop is judged on the last trade price, as the risk stage marks positions;
    /// the target on the side of the book an exit would trade against (the bid for a
    /// long, the ask for a short; the last price when that side is empty), so a target
    /// exit is not claimed on a trade print the exit could not get; the time stop on
    /// the tick's market time, at or after the deadline. When several hold, the stop
    /// wins, then the target.
    #[inline]
    pub fn exit(&self, tick: &Tick) -> Option<Exit> {
        let last = tick.last;
        if self.stop.is_positive() && last.is_positive() {
            let stopped = if self.long {
                last <= self.stop
            } else {
                last >= self.stop
            };
            if stopped {
                return Some(Exit::Stopped);
            }
        }
        let quote = if self.long { tick.bid } else { tick.ask };
        let price = if quote.is_positive() { quote } else { last };
        if let Some(target) = self.target {
            let reached = if self.long {
                price >= target
            } else {
                price <= target
            };
            if reached && price.is_positive() {
                return Some(Exit::Target(price));
            }
        }
        (tick.exchange_ts >= self.deadline).then_some(Exit::Time(price))
    }
}

/// `raw` as a price, saturating at the ends of the range.
fn to_price(raw: i128) -> Price {
    Price::from_raw(raw.clamp(0, i128::from(i64::MAX)) as i64)
}

/// `n / d` rounded toward plus infinity, for `d > 0`.
fn div_ceil(n: i128, d: i128) -> i128 {
    -((-n).div_euclid(d))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{InstrumentId, Stamp, TickKind};

    const TICK: Price = Price::from_paise(5);
    const SECOND: u64 = 1_000_000_000;

    fn p(s: &str) -> Price {
        s.parse().unwrap()
    }

    fn bar(low: &str, high: &str, close: &str) -> Bar {
        Bar {
            instrument: InstrumentId(0),
            start: UnixNanos(0),
            secs: 60,
            open: p(close),
            high: p(high),
            low: p(low),
            close: p(close),
            volume: 1,
            trades: 1,
            turnover: 0.0,
        }
    }

    const RULES: ExitRules = ExitRules {
        stop_buffer_ticks: 1,
        max_stop_bps: 100,
        target_r_pct: 150,
        hold_nanos: 300 * SECOND,
    };

    fn tick(secs: u64, last: &str, bid: &str, ask: &str) -> Tick {
        Tick {
            exchange_ts: UnixNanos(secs * SECOND),
            ingress: Stamp(0),
            last: p(last),
            bid: p(bid),
            ask: p(ask),
            instrument: InstrumentId(0),
            volume: 0,
            last_qty: 0,
            bid_qty: 0,
            ask_qty: 0,
            kind: TickKind::Quote,
        }
    }

    #[test]
    fn stops_sit_one_buffer_beyond_the_bar_within_the_cap() {
        let long = RULES.open(
            Direction::Long,
            &bar("99.95", "100.60", "100.55"),
            UnixNanos(0),
            TICK,
        );
        // Risk 0.65; target 100.55 + 0.975, rounded up to the tick.
        assert_eq!((long.stop, long.target), (p("99.90"), Some(p("101.55"))));
        assert_eq!(long.deadline, UnixNanos(300 * SECOND));
        // A deep low: the cap (1 % below 100.55 = 99.5445) binds, rounded down.
        let capped = RULES.open(
            Direction::Long,
            &bar("98.00", "100.60", "100.55"),
            UnixNanos(0),
            TICK,
        );
        assert_eq!(capped.stop, p("99.50"));
        let short = RULES.open(
            Direction::Short,
            &bar("99.40", "100.05", "99.45"),
            UnixNanos(0),
            TICK,
        );
        // Risk 0.65; target 99.45 − 0.975 = 98.475, rounded down.
        assert_eq!((short.stop, short.target), (p("100.10"), Some(p("98.45"))));
        let capped = RULES.open(
            Direction::Short,
            &bar("99.40", "102.00", "99.45"),
            UnixNanos(0),
            TICK,
        );
        assert_eq!(capped.stop, p("100.45")); // 100.4445 rounded up
    }

    #[test]
    fn no_target_when_none_is_configured_or_none_fits() {
        let rules = ExitRules {
            target_r_pct: 0,
            ..RULES
        };
        let long = rules.open(
            Direction::Long,
            &bar("99.95", "100.60", "100.55"),
            UnixNanos(0),
            TICK,
        );
        assert_eq!(long.target, None);
        // A short at 0.10 stopped at 0.15: its 1.5 R target, 0.025, rounds down to zero.
        let short = ExitRules {
            max_stop_bps: 2000,
            stop_buffer_ticks: 0,
            ..RULES
        }
        .open(
            Direction::Short,
            &bar("0.10", "0.12", "0.10"),
            UnixNanos(0),
            TICK,
        );
        assert_eq!((short.stop, short.target), (p("0.15"), None));
    }

    #[test]
    fn the_stop_wins_then_the_target_then_the_clock() {
        let long = RULES.open(
            Direction::Long,
            &bar("99.95", "100.60", "100.55"),
            UnixNanos(0),
            TICK,
        );
        assert_eq!(long.exit(&tick(10, "100.60", "100.55", "100.65")), None);
        assert_eq!(
            long.exit(&tick(10, "99.90", "99.85", "99.95")),
            Some(Exit::Stopped)
        );
        // A print at the target with the bid below it is not a target exit.
        assert_eq!(long.exit(&tick(10, "101.55", "101.50", "101.60")), None);
        assert_eq!(
            long.exit(&tick(10, "101.55", "101.55", "101.60")),
            Some(Exit::Target(p("101.55")))
        );
        assert_eq!(long.exit(&tick(299, "100.00", "99.95", "100.05")), None);
        assert_eq!(
            long.exit(&tick(300, "100.00", "99.95", "100.05")),
            Some(Exit::Time(p("99.95")))
        );
        // An empty bid: the last price stands in.
        assert_eq!(
            long.exit(&tick(300, "100.00", "0", "0")),
            Some(Exit::Time(p("100.00")))
        );
    }
}
