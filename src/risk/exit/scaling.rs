//! Position scaling: adding to a winner and cutting a loser (`risk.scale_in*`,
//! `risk.scale_out*`).
//!
//! Both are decided on the marks of a held position with nothing in flight, after the
//! stop, the time stop and the target had their say. A cut is an exit like the target's
//! booking: a real order, the position reduced only by its fills. An add is an *entry*
//! the stage proposes on the owner's behalf; it runs the whole entry check chain (a halt,
//! reduce-only, the loss limit, the entry window, the cooldown and every cap refuse or
//! shrink it), and its sizing counts the whole position: see
//! [`RiskSizing`](crate::risk::RiskSizing).

use crate::{
    model::{Price, Qty},
    risk::{
        exit::{config::to_bps, ExitPlan, PartialState},
        RiskConfig,
    },
};

/// The scaling rules of `[risk]` as the hot path reads them: integers only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScalingRules {
    /// Add to winners at all.
    pub scale_in: bool,
    /// Profit step of each add, basis points of the first entry's price.
    pub in_step_bps: i64,
    /// Size of an add, basis points of the open position.
    pub in_bps: i64,
    /// Adds per position.
    pub in_max: u8,
    /// Cut losers at all.
    pub scale_out: bool,
    /// Adverse move that cuts, basis points of the average price.
    pub out_at_bps: i64,
    /// Share cut, basis points of the open position.
    pub out_bps: i64,
}

impl ScalingRules {
    /// The rules of a validated `config`.
    pub fn new(config: &RiskConfig) -> ScalingRules {
        ScalingRules {
            scale_in: config.scale_in,
            in_step_bps: to_bps(config.scale_in_at_pct),
            in_bps: to_bps(config.scale_in_pct),
            in_max: config.scale_in_max.min(u32::from(u8::MAX)) as u8,
            scale_out: config.scale_out,
            out_at_bps: to_bps(config.scale_out_at_pct),
            out_bps: to_bps(config.scale_out_pct),
        }
    }

    /// The units of an add to a position of sign `net` and `open` units in lots of
    /// `lot` at `mark`, when one is due: the next profit step beyond the first entry's
    /// price is reached, adds are left, the target's booking is not under way, and the
    /// mark made a new best since the last attempt (so a refused add is tried again
    /// only as the winner runs on, not on every tick). At least one lot. Records the
    /// attempt in `plan`; the caller calls [`ScalingRules::added`] once it is sent.
    ///
    /// # Examples
    /// ```
    /// use tickpipe::{model::*, risk::{ExitPlan, RiskConfig, ScalingRules}};
    /// let rules = ScalingRules::new(&RiskConfig { scale_in: true, ..RiskConfig::default() });
    /// let p = |s: &str| -> Price { s.parse().unwrap() };
    /// let mut plan = ExitPlan::opened(UnixNanos(1), Price::ZERO, p("100"), p("98"));
    /// plan.best = p("100.90");
    /// assert_eq!(rules.add_due(&mut plan, 10, Qty::new(10), 1, p("100.90")), None);
    /// plan.best = p("101");
    /// assert_eq!(rules.add_due(&mut plan, 10, Qty::new(10), 1, p("101")), Some(Qty::new(5)));
    /// // Not again at the same best mark.
    /// assert_eq!(rules.add_due(&mut plan, 10, Qty::new(10), 1, p("101")), None);
    /// ```
    pub fn add_due(
        &self,
        plan: &mut ExitPlan,
        net: i64,
        open: Qty,
        lot: u32,
        mark: Price,
    ) -> Option<Qty> {
        if !self.scale_in
            || net == 0
            || plan.adds >= self.in_max
            || plan.partial == PartialState::Working
            || !plan.entry.is_positive()
            || !mark.is_positive()
            || plan.best == plan.add_tried_at
        {
            return None;
        }
        let step = i128::from(plan.adds) + 1;
        let entry = i128::from(plan.entry.raw());
        let gain = if net > 0 {
            i128::from(mark.raw()) - entry
        } else {
            entry - i128::from(mark.raw())
        };
        if gain * 10_000 < entry * i128::from(self.in_step_bps) * step {
            return None;
        }
        plan.add_tried_at = plan.best;
        let lot = u64::from(lot.max(1));
        let share = u64::from(open.get()) * self.in_bps.clamp(0, 10_000) as u64 / 10_000;
        let units = (share / lot * lot).max(lot).min(u64::from(u32::MAX));
        Some(Qty::new(units as u32))
    }

    /// An add decided by [`ScalingRules::add_due`] was sent.
    pub fn added(&self, plan: &mut ExitPlan) {
        plan.adds = plan.adds.saturating_add(1);
    }

    /// The units of a cut of a position of sign `net`, average price `avg` and `open`
    /// units in lots of `lot` at `mark`, when one is due: the mark is the configured
    /// move against the average price, the position was not cut before, and the share is
    /// at least one lot and less than the whole (a single lot is left to its stop).
    /// Records the cut in `plan`.
    ///
    /// # Examples
    /// ```
    /// use tickpipe::{model::*, risk::{ExitPlan, RiskConfig, ScalingRules}};
    /// let rules = ScalingRules::new(&RiskConfig { scale_out: true, ..RiskConfig::default() });
    /// let p = |s: &str| -> Price { s.parse().unwrap() };
    /// let mut plan = ExitPlan::default();
    /// // A short at 100: 0.5% against it is 100.50.
    /// assert_eq!(rules.cut_due(&mut plan, -10, p("100"), Qty::new(10), 1, p("100.45")), None);
    /// assert_eq!(rules.cut_due(&mut plan, -10, p("100"), Qty::new(10), 1, p("100.50")), Some(Qty::new(5)));
    /// assert_eq!(rules.cut_due(&mut plan, -5, p("100"), Qty::new(5), 1, p("101")), None, "once");
    /// ```
    pub fn cut_due(
        &self,
        plan: &mut ExitPlan,
        net: i64,
        avg: Price,
        open: Qty,
        lot: u32,
        mark: Price,
    ) -> Option<Qty> {
        if !self.scale_out || net == 0 || plan.reduced || !avg.is_positive() || !mark.is_positive()
        {
            return None;
        }
        let avg_raw = i128::from(avg.raw());
        let loss = if net > 0 {
            avg_raw - i128::from(mark.raw())
        } else {
            i128::from(mark.raw()) - avg_raw
        };
        if loss * 10_000 < avg_raw * i128::from(self.out_at_bps) {
            return None;
        }
        plan.reduced = true;
        let lot = u64::from(lot.max(1));
        let share = u64::from(open.get()) * self.out_bps.clamp(0, 10_000) as u64 / 10_000;
        let whole = share / lot * lot;
        if whole == 0 || whole >= u64::from(open.get()) {
            return None;
        }
        Some(Qty::new(whole as u32))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Money, UnixNanos};

    fn p(s: &str) -> Price {
        s.parse().unwrap()
    }

    fn rules() -> ScalingRules {
        ScalingRules::new(&RiskConfig {
            scale_in: true,
            scale_in_max: 2,
            scale_out: true,
            ..RiskConfig::default()
        })
    }

    #[test]
    fn adds_step_up_from_the_first_entry_and_stop_at_the_maximum() {
        let rules = rules();
        let mut plan = ExitPlan::opened(UnixNanos(1), Price::ZERO, p("200"), p("196"));
        // +1% of 200 is 202; the second add needs +2%, 204.
        let at = |plan: &mut ExitPlan, mark: &str, open: u32| {
            plan.best = p(mark);
            rules.add_due(plan, 1, Qty::new(open), 1, p(mark))
        };
        assert_eq!(at(&mut plan, "201.95", 100), None);
        assert_eq!(at(&mut plan, "202", 100), Some(Qty::new(50)));
        rules.added(&mut plan);
        assert_eq!(at(&mut plan, "203", 150), None, "the second step is 204");
        assert_eq!(at(&mut plan, "204", 150), Some(Qty::new(75)));
        rules.added(&mut plan);
        assert_eq!(at(&mut plan, "210", 225), None, "two adds at most");
    }

    #[test]
    fn a_refused_add_is_tried_again_only_at_a_new_best() {
        let rules = rules();
        let mut plan = ExitPlan::opened(UnixNanos(1), Price::ZERO, p("100"), p("102"));
        plan.best = p("98.50");
        // A short: +1% is 99 or lower.
        assert_eq!(
            rules.add_due(&mut plan, -10, Qty::new(10), 1, p("98.50")),
            Some(Qty::new(5))
        );
        // Not sent (refused): nothing again until the best mark moves.
        assert_eq!(
            rules.add_due(&mut plan, -10, Qty::new(10), 1, p("98.60")),
            None
        );
        plan.best = p("98.40");
        assert_eq!(
            rules.add_due(&mut plan, -10, Qty::new(10), 1, p("98.40")),
            Some(Qty::new(5))
        );
    }

    #[test]
    fn adds_are_whole_lots_and_wait_for_a_booking_under_way() {
        let rules = rules();
        let mut plan = ExitPlan::opened(UnixNanos(1), Price::ZERO, p("100"), p("95"));
        plan.best = p("110");
        // 50% of 75 units in lots of 75 is no lot: one lot.
        assert_eq!(
            rules.add_due(&mut plan, 75, Qty::new(75), 75, p("110")),
            Some(Qty::new(75))
        );
        let mut plan = ExitPlan::opened(UnixNanos(1), Price::ZERO, p("100"), p("95"));
        plan.best = p("110");
        plan.partial = PartialState::Working;
        assert_eq!(rules.add_due(&mut plan, 1, Qty::new(10), 1, p("110")), None);
        let off = ScalingRules {
            scale_in: false,
            ..rules
        };
        plan.partial = PartialState::Open;
        assert_eq!(off.add_due(&mut plan, 1, Qty::new(10), 1, p("110")), None);
    }

    #[test]
    fn a_cut_is_once_whole_lots_and_never_the_whole_position() {
        let rules = ScalingRules::new(&RiskConfig {
            scale_out: true,
            scale_out_at_pct: Money::from_rupees(1),
            scale_out_pct: Money::from_rupees(40),
            ..RiskConfig::default()
        });
        let mut plan = ExitPlan::default();
        assert_eq!(
            rules.cut_due(&mut plan, 300, p("50"), Qty::new(300), 75, p("49.55")),
            None
        );
        // 40% of 300 is 120, down to one lot of 75.
        assert_eq!(
            rules.cut_due(&mut plan, 300, p("50"), Qty::new(300), 75, p("49.50")),
            Some(Qty::new(75))
        );
        assert_eq!(
            rules.cut_due(&mut plan, 225, p("50"), Qty::new(225), 75, p("49")),
            None
        );
        // One lot: left to the stop, and not considered again.
        let mut plan = ExitPlan::default();
        assert_eq!(
            rules.cut_due(&mut plan, 75, p("50"), Qty::new(75), 75, p("49")),
            None
        );
        assert!(plan.reduced);
    }
}
