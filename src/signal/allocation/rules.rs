//! The allocation rules: a strategy's weight from its record, and when it goes to and
//! comes back from shadow. Pure functions of a record and the configuration.

use super::AllocationConfig;
use crate::model::{RoundTrips, Signal};

/// The percentage of its risk budget a strategy with `record` trades with.
///
/// Full weight (100) before `min_trades` round trips, and while the expectancy (mean
/// P&L per round trip) is zero or better. A negative expectancy cuts it in proportion
/// to how many average losses it gives away per trip:
/// `100 × (1 + weight_slope × expectancy / average loss)`, never below
/// `min_weight_pct`. With slope 1, losing half an average loss per trip halves the
/// weight. The ratio is free of units, so it reads the same on real fills and on the
/// shadow book's notional positions.
pub fn weight_pct(record: &RoundTrips, config: &AllocationConfig) -> u8 {
    let floor = config.min_weight_pct.clamp(1, Signal::FULL_WEIGHT);
    if record.trips < config.min_trades {
        return Signal::FULL_WEIGHT;
    }
    let expectancy = record.expectancy();
    let average_loss = record.average_loss();
    if expectancy >= 0.0 || average_loss <= 0.0 {
        return Signal::FULL_WEIGHT;
    }
    let scale = 1.0 + config.weight_slope * expectancy / average_loss;
    let pct = (100.0 * scale).floor();
    if pct.is_nan() || pct <= f64::from(floor) {
        floor
    } else {
        (pct as u8).min(Signal::FULL_WEIGHT)
    }
}

/// True when a strategy trading with `record` should go to shadow: at least
/// `min_trades` round trips, a net loss, and a profit factor below `shadow_below`.
pub fn should_shadow(record: &RoundTrips, config: &AllocationConfig) -> bool {
    record.trips >= config.min_trades
        && record.net.is_negative()
        && record.profit_factor() < config.shadow_below
}

/// True when a strategy in shadow has earned its way back: its shadow record holds at
/// least `min_trades` round trips, a net gain, and a profit factor of at least
/// `recover_above`.
pub fn should_recover(shadow: &RoundTrips, config: &AllocationConfig) -> bool {
    shadow.trips >= config.min_trades
        && shadow.net > crate::model::Money::ZERO
        && shadow.profit_factor() >= config.recover_above
}

/// The weight a signal leaves with: the regime weight scaled by the allocation weight
/// (both percent), rounded down but never below 1 %.
pub fn combine(regime_pct: u8, allocation_pct: u8) -> u8 {
    let product = u16::from(regime_pct) * u16::from(allocation_pct) / 100;
    product.clamp(1, u16::from(Signal::FULL_WEIGHT)) as u8
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Money, StrategyId};

    fn record(pnls: &[i64]) -> RoundTrips {
        let mut r = RoundTrips::empty(StrategyId(0));
        for &p in pnls {
            r.record(Money::from_rupees(p));
        }
        r
    }

    fn config() -> AllocationConfig {
        AllocationConfig {
            min_trades: 4,
            weight_slope: 1.0,
            min_weight_pct: 20,
            shadow_below: 0.8,
            recover_above: 1.2,
            ..AllocationConfig::default()
        }
    }

    #[test]
    fn the_weight_falls_with_a_negative_expectancy_down_to_the_floor() {
        let c = config();
        // Too few trips to judge: full weight, however bad.
        assert_eq!(weight_pct(&record(&[-100, -100, -100]), &c), 100);
        // Positive expectancy: full weight.
        assert_eq!(weight_pct(&record(&[100, -50, -50, 10]), &c), 100);
        // Expectancy -25 per trip, average loss 100: a quarter of a loss per trip.
        assert_eq!(weight_pct(&record(&[100, -100, -100, 0]), &c), 75);
        // Steeper slope: twice the cut.
        let steep = AllocationConfig {
            weight_slope: 2.0,
            ..c.clone()
        };
        assert_eq!(weight_pct(&record(&[100, -100, -100, 0]), &steep), 50);
        // Every trip a full loss: the floor.
        assert_eq!(weight_pct(&record(&[-100, -100, -100, -100]), &c), 20);
    }

    #[test]
    fn shadow_below_the_threshold_but_not_before_min_trades() {
        let c = config();
        let losing = record(&[-100, -100, -100]);
        assert!(!should_shadow(&losing, &c), "three trips are not enough");
        let losing = record(&[-100, -100, -100, 50]);
        assert!(should_shadow(&losing, &c), "profit factor 0.17, net -250");
        // A net loss with a profit factor at the threshold stays.
        let close = record(&[80, -100, 0, 0]);
        assert!((close.profit_factor() - 0.8).abs() < 1e-12);
        assert!(!should_shadow(&close, &c));
        // A net gain never shadows.
        assert!(!should_shadow(&record(&[500, -100, -100, -100]), &c));
    }

    #[test]
    fn recovery_needs_enough_profitable_shadow_trips() {
        let c = config();
        assert!(!should_recover(&record(&[100, 100, 100]), &c), "too few");
        assert!(should_recover(&record(&[100, 100, 100, -50]), &c));
        // Profitable but under the bar: 110 / 100 = 1.1 < 1.2.
        assert!(!should_recover(&record(&[60, 50, -100, 0]), &c));
        assert!(!should_recover(&record(&[0, 0, 0, 0]), &c), "no gain");
    }

    #[test]
    fn weights_combine_by_multiplication() {
        assert_eq!(combine(100, 100), 100);
        assert_eq!(combine(50, 100), 50);
        assert_eq!(combine(50, 50), 25);
        assert_eq!(combine(1, 20), 1, "never zero");
    }
}
