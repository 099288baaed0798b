//! Where a trade's protective stop and profit target sit, on the instrument's tick grid.

use crate::model::Price;

/// The exit prices of one entry.
///
/// The distances come from the ATR (an `f64` indicator) and are turned into exact
/// prices once, at the entry; both levels are rounded *away* from the entry to the
/// tick, so the stop never creeps into the entry (the risk stage sizes from that
/// distance) and the target never asks for less than the configured multiple.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Levels {
    /// Protective stop: below a long's entry, above a short's.
    pub(super) stop: Price,
    /// Profit target: above a long's entry, below a short's.
    pub(super) target: Price,
}

impl Levels {
    /// A long at `entry`: stop `stop_dist` rupees below (rounded down), target
    /// `target_dist` above (rounded up). `None` when a distance is not a positive
    /// finite price or the stop would not lie strictly between zero and the entry.
    pub(super) fn long(
        entry: Price,
        stop_dist: f64,
        target_dist: f64,
        tick: Price,
    ) -> Option<Levels> {
        let (stop_dist, target_dist) = (distance(stop_dist)?, distance(target_dist)?);
        let stop = entry.checked_sub(stop_dist).ok()?.round_down_to_tick(tick);
        let target = entry.checked_add(target_dist).ok()?.round_up_to_tick(tick);
        (stop.is_positive() && stop < entry && target > entry).then_some(Levels { stop, target })
    }

    /// A short at `entry`: stop `stop_dist` rupees above (rounded up), target
    /// `target_dist` below (rounded down). `None` when a distance is not a positive
    /// finite price or the target would not lie strictly between zero and the entry.
    pub(super) fn short(
        entry: Price,
        stop_dist: f64,
        target_dist: f64,
        tick: Price,
    ) -> Option<Levels> {
        let (stop_dist, target_dist) = (distance(stop_dist)?, distance(target_dist)?);
        let stop = entry.checked_add(stop_dist).ok()?.round_up_to_tick(tick);
        let target = entry
            .checked_sub(target_dist)
            .ok()?
            .round_down_to_tick(tick);
        (target.is_positive() && target < entry && stop > entry).then_some(Levels { stop, target })
    }
}

/// A distance in rupees as an exact price; `None` unless positive and finite.
fn distance(rupees: f64) -> Option<Price> {
    Price::from_f64(rupees).ok().filter(|d| d.is_positive())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Price {
        s.parse().unwrap()
    }

    const TICK: Price = Price::from_paise(5);

    #[test]
    fn levels_round_away_from_the_entry() {
        // 101.50 − 0.975 = 100.525 → 100.50; 101.50 + 1.625 = 103.125 → 103.15.
        let long = Levels::long(p("101.50"), 0.975, 1.625, TICK).unwrap();
        assert_eq!((long.stop, long.target), (p("100.50"), p("103.15")));
        // 99.00 + 0.975 = 99.975 → 100.00; 99.00 − 1.625 = 97.375 → 97.35.
        let short = Levels::short(p("99"), 0.975, 1.625, TICK).unwrap();
        assert_eq!((short.stop, short.target), (p("100.00"), p("97.35")));
        // Already on the grid: unchanged.
        let long = Levels::long(p("100"), 1.0, 2.0, TICK).unwrap();
        assert_eq!((long.stop, long.target), (p("99"), p("102")));
    }

    #[test]
    fn a_distance_below_one_tick_still_moves_a_whole_tick() {
        let long = Levels::long(p("100"), 0.001, 0.002, TICK).unwrap();
        assert_eq!((long.stop, long.target), (p("99.95"), p("100.05")));
        let short = Levels::short(p("100"), 0.001, 0.002, TICK).unwrap();
        assert_eq!((short.stop, short.target), (p("100.05"), p("99.95")));
    }

    #[test]
    fn no_levels_for_degenerate_distances() {
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e-12] {
            assert_eq!(Levels::long(p("100"), bad, 2.0, TICK), None, "{bad}");
            assert_eq!(Levels::short(p("100"), 1.0, bad, TICK), None, "{bad}");
        }
        // A long whose stop would be at or below zero, a short whose target would.
        assert_eq!(Levels::long(p("1"), 1.0, 2.0, TICK), None);
        assert_eq!(Levels::short(p("1"), 0.5, 1.0, TICK), None);
        assert!(Levels::short(p("1"), 0.5, 0.9, TICK).is_some());
    }
}
