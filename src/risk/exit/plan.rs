//! What the risk stage keeps for one open position beyond its stop: the target, how
//! much of it is booked, the trailing stop and when the position opened.

use crate::{
    model::{Price, Qty, UnixNanos},
    risk::{exit::config::to_bps, RiskConfig},
};

/// Where a position stands with its profit target.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum PartialState {
    /// Target not reached yet (or none).
    #[default]
    Open = 0,
    /// The target's exit order is out.
    Working = 1,
    /// The target's exit order got its final answer: what filled is booked, the rest
    /// trails.
    Booked = 2,
}

impl PartialState {
    /// A short lowercase name for answers.
    pub const fn as_str(self) -> &'static str {
        match self {
            PartialState::Open => "open",
            PartialState::Working => "working",
            PartialState::Booked => "booked",
        }
    }
}

/// The exit plan of one open position. `Copy`, one per instrument, preallocated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExitPlan {
    /// Profit target from the entry signal; zero for none.
    pub target: Price,
    /// Market time of the fill that opened the position.
    pub opened_at: UnixNanos,
    /// The entry's stop distance, the stage's measure of one ATR (the signal has no room
    /// for the ATR itself, and the strategies that trail by ATR set their stops in ATRs).
    pub atr: Price,
    /// The most favourable mark since entry (highest for a long, lowest for a short).
    pub best: Price,
    /// True once the trailing stop is active.
    pub trailing: bool,
    /// True once the stop in force is one the stage moved (trailing, break-even), so a
    /// hit is reported as a trailing stop rather than the entry's stop-loss.
    pub stop_moved: bool,
    /// The target's booking.
    pub partial: PartialState,
    /// The price of the entry that opened the position; adds step up from it.
    pub entry: Price,
    /// Adds sent so far (`risk.scale_in`).
    pub adds: u8,
    /// True once a cut of the loser was decided (`risk.scale_out`): once per position.
    pub reduced: bool,
    /// The best mark at the last add decided, so a refused add is tried again only at a
    /// new best.
    pub add_tried_at: Price,
}

impl ExitPlan {
    /// The plan of a position opened at `now` by an entry with `target`, `reference`
    /// price and `stop`.
    pub fn opened(now: UnixNanos, target: Price, reference: Price, stop: Price) -> ExitPlan {
        let atr = if stop.is_positive() && reference.is_positive() {
            Price::from_raw((reference.raw() - stop.raw()).abs())
        } else {
            Price::ZERO
        };
        ExitPlan {
            target,
            opened_at: now,
            atr,
            entry: reference,
            ..ExitPlan::default()
        }
    }
}

/// The exit rules of `[risk]` as the hot path reads them: integers, no decimals to parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExitRules {
    /// Book targets at all.
    pub partial_exit: bool,
    /// Share booked at the target, basis points of the position.
    pub partial_bps: i64,
    /// Profit that starts the trail, basis points of the average price; 0: only a
    /// booked target starts it.
    pub activate_bps: i64,
    /// Trailing distance, basis points of the best mark.
    pub trail_bps: i64,
    /// Trailing distance in hundredths of the entry's stop distance; 0: `trail_bps`.
    pub trail_atr_pct: i64,
}

impl ExitRules {
    /// The rules of a validated `config`.
    pub fn new(config: &RiskConfig) -> ExitRules {
        ExitRules {
            partial_exit: config.partial_exit,
            partial_bps: to_bps(config.partial_exit_pct),
            activate_bps: to_bps(config.trail_activate_pct),
            trail_bps: to_bps(config.trail_pct),
            trail_atr_pct: to_bps(config.trail_atr),
        }
    }

    /// Units of the exit at the target for `open` units traded in lots of `lot`: the
    /// configured share rounded down to whole lots, or all `open` units when that is no
    /// lot at all (a position of one lot cannot be split).
    ///
    /// # Examples
    /// ```
    /// use tickpipe::{model::Qty, risk::{ExitRules, RiskConfig}};
    /// let rules = ExitRules::new(&RiskConfig::default()); // 50%
    /// assert_eq!(rules.partial_qty(Qty::new(75), 1), Qty::new(37));
    /// assert_eq!(rules.partial_qty(Qty::new(150), 75), Qty::new(75));
    /// assert_eq!(rules.partial_qty(Qty::new(75), 75), Qty::new(75), "one lot: all of it");
    /// ```
    pub fn partial_qty(&self, open: Qty, lot: u32) -> Qty {
        let lot = u64::from(lot.max(1));
        let share = u64::from(open.get()) * self.partial_bps.clamp(0, 10_000) as u64 / 10_000;
        let whole = share / lot * lot;
        if whole == 0 || whole >= u64::from(open.get()) {
            open
        } else {
            Qty::new(whole as u32)
        }
    }

    /// True when `mark` has reached the plan's target for a position of sign `net`.
    pub fn target_reached(&self, plan: &ExitPlan, net: i64, mark: Price) -> bool {
        self.partial_exit
            && plan.partial == PartialState::Open
            && plan.target.is_positive()
            && mark.is_positive()
            && match net {
                n if n > 0 => mark >= plan.target,
                n if n < 0 => mark <= plan.target,
                _ => false,
            }
    }

    /// Follows `mark` for a position of sign `net` and average price `avg` whose stop is
    /// `stop`: records the best mark, starts the trail at `activate_bps` of profit, and
    /// returns the stop to keep, which is never looser than `stop` (a long's only rises,
    /// a short's only falls; zero is "none" and any stop is tighter).
    ///
    /// # Examples
    /// ```
    /// use tickpipe::{model::Price, risk::{ExitPlan, ExitRules, RiskConfig}};
    /// let p = |s: &str| -> Price { s.parse().unwrap() };
    /// let rules = ExitRules::new(&RiskConfig::default()); // from +2%, 1% behind the best
    /// let mut plan = ExitPlan::default();
    /// assert_eq!(rules.trail(&mut plan, 10, p("100"), p("101.90"), p("98")), p("98"));
    /// assert_eq!(rules.trail(&mut plan, 10, p("100"), p("102"), p("98")), p("100.98"));
    /// assert_eq!(rules.trail(&mut plan, 10, p("100"), p("101"), p("100.98")), p("100.98"));
    /// ```
    pub fn trail(
        &self,
        plan: &mut ExitPlan,
        net: i64,
        avg: Price,
        mark: Price,
        stop: Price,
    ) -> Price {
        if net == 0 || !mark.is_positive() || !avg.is_positive() {
            return stop;
        }
        let long = net > 0;
        let better = |a: Price, b: Price| if long { a > b } else { a < b };
        if !plan.best.is_positive() || better(mark, plan.best) {
            plan.best = mark;
        }
        if !plan.trailing && self.activate_bps > 0 {
            let gain = if long {
                i128::from(mark.raw()) - i128::from(avg.raw())
            } else {
                i128::from(avg.raw()) - i128::from(mark.raw())
            };
            plan.trailing = gain * 10_000 >= i128::from(avg.raw()) * i128::from(self.activate_bps);
        }
        if !plan.trailing {
            return stop;
        }
        let best = i128::from(plan.best.raw());
        let distance = if self.trail_atr_pct > 0 && plan.atr.is_positive() {
            i128::from(plan.atr.raw()) * i128::from(self.trail_atr_pct) / 100
        } else {
            best * i128::from(self.trail_bps) / 10_000
        };
        let level = if long {
            best - distance
        } else {
            best + distance
        };
        let level = Price::from_raw(level.clamp(0, i128::from(i64::MAX)) as i64);
        tighter(long, stop, level)
    }

    /// The stop after a booked target: at least break-even (`avg`), never looser than
    /// `stop`; the trail starts.
    pub fn break_even(&self, plan: &mut ExitPlan, net: i64, avg: Price, stop: Price) -> Price {
        plan.trailing = true;
        if net == 0 || !avg.is_positive() {
            return stop;
        }
        tighter(net > 0, stop, avg)
    }
}

/// The tighter of two stops for a long (the higher) or a short (the lower, zero being
/// none); a zero `level` changes nothing.
fn tighter(long: bool, stop: Price, level: Price) -> Price {
    if !level.is_positive() {
        return stop;
    }
    if !stop.is_positive() {
        return level;
    }
    if long {
        stop.max(level)
    } else {
        stop.min(level)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Money;

    fn p(s: &str) -> Price {
        s.parse().unwrap()
    }

    #[test]
    fn a_long_trail_ratchets_up_and_never_loosens() {
        let rules = ExitRules::new(&RiskConfig::default());
        let mut plan = ExitPlan::opened(UnixNanos(1), p("110"), p("100"), p("98"));
        assert_eq!(plan.atr, p("2"));
        let mut stop = p("98");
        let mut seen = Vec::new();
        for mark in ["101", "102.50", "101.20", "104", "103", "99", "105"] {
            stop = rules.trail(&mut plan, 10, p("100"), p(mark), stop);
            seen.push(stop);
        }
        // Active from 102.50 (+2.5%): 1% behind the best mark, and only upwards.
        assert_eq!(
            seen,
            [
                p("98"),
                p("101.475"),
                p("101.475"),
                p("102.96"),
                p("102.96"),
                p("102.96"),
                p("103.95")
            ]
        );
        assert!(seen.windows(2).all(|w| w[1] >= w[0]), "never loosens");
        assert_eq!(plan.best, p("105"));
    }

    #[test]
    fn a_short_trail_ratchets_down_by_atr() {
        let config = RiskConfig {
            trail_atr: Money::from_rupees(1),
            ..RiskConfig::default()
        };
        let rules = ExitRules::new(&config);
        let mut plan = ExitPlan::opened(UnixNanos(1), Price::ZERO, p("200"), p("203"));
        let mut stop = p("203");
        let mut seen = Vec::new();
        for mark in ["199", "196", "197", "190", "195"] {
            stop = rules.trail(&mut plan, -5, p("200"), p(mark), stop);
            seen.push(stop);
        }
        // Active from 196 (+2%): one ATR (the 3-rupee stop distance) above the low.
        assert_eq!(seen, [p("203"), p("199"), p("199"), p("193"), p("193")]);
        assert!(seen.windows(2).all(|w| w[1] <= w[0]), "never loosens");
    }

    #[test]
    fn no_trail_without_activation_and_none_when_switched_off() {
        let config = RiskConfig {
            trail_activate_pct: Money::ZERO,
            ..RiskConfig::default()
        };
        let rules = ExitRules::new(&config);
        let mut plan = ExitPlan::default();
        assert_eq!(
            rules.trail(&mut plan, 1, p("100"), p("150"), p("90")),
            p("90")
        );
        assert!(!plan.trailing);
        // A booked target starts the trail even so, from break-even.
        let stop = rules.break_even(&mut plan, 1, p("100"), p("90"));
        assert_eq!(stop, p("100"));
        assert_eq!(
            rules.trail(&mut plan, 1, p("100"), p("150"), stop),
            p("148.50")
        );
        // A short with no stop gets one.
        let mut short = ExitPlan::default();
        assert_eq!(
            rules.break_even(&mut short, -1, p("50"), Price::ZERO),
            p("50")
        );
    }

    #[test]
    fn targets_by_side_and_state() {
        let rules = ExitRules::new(&RiskConfig::default());
        let mut plan = ExitPlan::opened(UnixNanos(1), p("105"), p("100"), p("98"));
        assert!(!rules.target_reached(&plan, 10, p("104.95")));
        assert!(rules.target_reached(&plan, 10, p("105")));
        assert!(!rules.target_reached(&plan, -10, p("105.05")));
        assert!(rules.target_reached(&plan, -10, p("104")));
        plan.partial = PartialState::Working;
        assert!(!rules.target_reached(&plan, 10, p("106")), "booked once");
        let off = ExitRules {
            partial_exit: false,
            ..rules
        };
        plan.partial = PartialState::Open;
        assert!(!off.target_reached(&plan, 10, p("106")));
        assert!(!rules.target_reached(&ExitPlan::default(), 10, p("106")));
    }

    #[test]
    fn partial_quantities_round_down_to_lots() {
        let rules = ExitRules {
            partial_bps: 3_000,
            ..ExitRules::new(&RiskConfig::default())
        };
        assert_eq!(rules.partial_qty(Qty::new(10), 1), Qty::new(3));
        assert_eq!(rules.partial_qty(Qty::new(300), 75), Qty::new(75));
        assert_eq!(rules.partial_qty(Qty::new(150), 75), Qty::new(150));
        assert_eq!(rules.partial_qty(Qty::new(1), 1), Qty::new(1));
    }
}
