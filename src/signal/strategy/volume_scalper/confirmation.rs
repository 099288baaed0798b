//! Whether a spike bar's prices confirm a direction: the entry rule besides volume.

use crate::{
    model::{Direction, Price},
    signal::Bar,
};

/// The price half of the entry rule, in exact integer arithmetic on the bar's prices.
///
/// A bar confirms a long when it closes above its open and above the previous bar's
/// close, within `close_position` of its range below its high, and its open-to-close
/// move is at least `min_move_bps` of the open. A short is the mirror image, and only
/// when shorts are allowed. Both can never hold at once (the close is either above or
/// below the open), and a bar without range confirms nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct PriceConfirmation {
    /// How far from its extreme the close may be, in hundredths of the bar's range.
    pub close_position_pct: u32,
    /// Least open-to-close move, in basis points of the open.
    pub min_move_bps: u32,
    /// Whether downside spikes confirm shorts.
    pub allow_short: bool,
}

impl PriceConfirmation {
    /// The direction `bar` confirms after a bar that closed at `prev_close`, if any.
    #[inline]
    pub fn direction(&self, bar: &Bar, prev_close: Price) -> Option<Direction> {
        let (open, high, low, close) = (
            i128::from(bar.open.raw()),
            i128::from(bar.high.raw()),
            i128::from(bar.low.raw()),
            i128::from(bar.close.raw()),
        );
        let range = high - low;
        let position = i128::from(self.close_position_pct);
        let moved = |distance: i128| distance * 10_000 >= i128::from(self.min_move_bps) * open;
        if close > open
            && bar.close > prev_close
            && (high - close) * 100 <= position * range
            && moved(close - open)
        {
            Some(Direction::Long)
        } else if self.allow_short
            && close < open
            && bar.close < prev_close
            && (close - low) * 100 <= position * range
            && moved(open - close)
        {
            Some(Direction::Short)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{InstrumentId, UnixNanos};

    fn bar(open: &str, high: &str, low: &str, close: &str) -> Bar {
        let p = |s: &str| s.parse::<Price>().unwrap();
        Bar {
            instrument: InstrumentId(0),
            start: UnixNanos(0),
            secs: 60,
            open: p(open),
            high: p(high),
            low: p(low),
            close: p(close),
            volume: 1,
            trades: 1,
            turnover: 0.0,
        }
    }

    const RULE: PriceConfirmation = PriceConfirmation {
        close_position_pct: 30,
        min_move_bps: 20,
        allow_short: true,
    };

    fn prev(s: &str) -> Price {
        s.parse().unwrap()
    }

    #[test]
    fn a_strong_close_confirms_its_side() {
        // Range 1.00: the close may sit at most 0.30 from the high (low, for a short).
        let up = bar("100.00", "100.80", "99.80", "100.50");
        assert_eq!(RULE.direction(&up, prev("100.00")), Some(Direction::Long));
        let down = bar("100.00", "100.20", "99.20", "99.50");
        assert_eq!(
            RULE.direction(&down, prev("100.00")),
            Some(Direction::Short)
        );
        let no_shorts = PriceConfirmation {
            allow_short: false,
            ..RULE
        };
        assert_eq!(no_shorts.direction(&down, prev("100.00")), None);
    }

    #[test]
    fn each_condition_is_required() {
        // Close 0.31 below the high: outside the top 30 % of the range.
        let weak = bar("100.00", "100.81", "99.81", "100.50");
        assert_eq!(RULE.direction(&weak, prev("100.00")), None);
        // Not above the previous close.
        let up = bar("100.00", "100.80", "99.80", "100.50");
        assert_eq!(RULE.direction(&up, prev("100.50")), None);
        // A move of 19.5 bps is less than 20 (0.20 on an open of 100 is exactly 20).
        let small = bar("100.00", "100.20", "99.90", "100.195");
        assert_eq!(RULE.direction(&small, prev("99.00")), None);
        let enough = bar("100.00", "100.20", "99.90", "100.20");
        assert_eq!(
            RULE.direction(&enough, prev("99.00")),
            Some(Direction::Long)
        );
        // A doji and a bar without range confirm nothing either way.
        let doji = bar("100.00", "100.80", "99.20", "100.00");
        assert_eq!(RULE.direction(&doji, prev("99.00")), None);
        let flat = bar("100.00", "100.00", "100.00", "100.00");
        assert_eq!(RULE.direction(&flat, prev("99.00")), None);
    }
}
