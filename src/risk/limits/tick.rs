//! Prices put on the instrument's tick grid, always on the safe side.
//!
//! The exchange accepts only whole ticks of the instrument's own tick size (an NSE
//! share's is 0.01 below ₹250 and 0.05 or more above; index options 0.05), and a computed
//! stop such as 1% above 180.40 (182.204) is not one. Rounding to the *nearest* tick
//! could move a stop into the entry or a limit past the price the sizing approved, so
//! each price rounds the way that cannot hurt: a stop away from the entry (the sizing
//! then reads the rounded distance, so the loss at the stop still fits the budget), a
//! buy limit down and a sell limit up (never pay more, never sell for less).

use crate::model::{Price, Side};

/// The protective stop of an entry on `side`, on the tick grid away from the entry: a
/// long's stop (below the entry) rounds down, a short's (above it) rounds up. A zero
/// tick leaves it unchanged.
///
/// # Examples
/// ```
/// use tickpipe::{model::{Price, Side}, risk::round_stop};
/// let tick = Price::from_paise(5);
/// assert_eq!(round_stop(Side::Sell, "182.204".parse().unwrap(), tick).to_string(), "182.25");
/// assert_eq!(round_stop(Side::Buy, "247.52".parse().unwrap(), tick).to_string(), "247.50");
/// ```
pub fn round_stop(entry_side: Side, stop: Price, tick: Price) -> Price {
    match entry_side {
        Side::Buy => stop.round_down_to_tick(tick),
        Side::Sell => stop.round_up_to_tick(tick),
    }
}

/// A limit price on `side`, on the tick grid where it cannot trade worse than asked: a
/// buy limit rounds down, a sell limit up. Zero (a market order) stays zero.
///
/// # Examples
/// ```
/// use tickpipe::{model::{Price, Side}, risk::round_limit};
/// let tick = Price::from_paise(5);
/// assert_eq!(round_limit(Side::Buy, "100.07".parse().unwrap(), tick).to_string(), "100.05");
/// assert_eq!(round_limit(Side::Sell, "100.01".parse().unwrap(), tick).to_string(), "100.05");
/// assert_eq!(round_limit(Side::Sell, Price::ZERO, tick), Price::ZERO);
/// ```
pub fn round_limit(side: Side, limit: Price, tick: Price) -> Price {
    if !limit.is_positive() {
        return limit;
    }
    match side {
        Side::Buy => limit.round_down_to_tick(tick),
        Side::Sell => limit.round_up_to_tick(tick),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn px(text: &str) -> Price {
        text.parse().unwrap()
    }

    #[test]
    fn on_grid_prices_stay_and_off_grid_ones_round_safe() {
        let tick = Price::from_paise(5);
        assert_eq!(round_stop(Side::Buy, px("99.95"), tick), px("99.95"));
        assert_eq!(round_stop(Side::Sell, px("100.05"), tick), px("100.05"));
        assert_eq!(round_stop(Side::Buy, px("99.99"), tick), px("99.95"));
        assert_eq!(round_stop(Side::Sell, px("100.01"), tick), px("100.05"));
        assert_eq!(round_limit(Side::Buy, px("100.04"), tick), px("100"));
        assert_eq!(round_limit(Side::Sell, px("99.96"), tick), px("100"));
        // NIFTYBEES ticks in paise.
        assert_eq!(
            round_stop(Side::Buy, px("287.5555"), Price::from_paise(1)),
            px("287.55")
        );
        assert_eq!(round_stop(Side::Buy, px("1.23"), Price::ZERO), px("1.23"));
    }
}
