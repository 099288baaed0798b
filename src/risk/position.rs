//! One instrument's position: signed units, cost basis, realised P&L, charges, mark,
//! owner, stop.

use crate::model::{Money, Price, Qty, Side, StrategyId, ValueError};

/// The position in one instrument, kept by the risk stage (its single owner).
///
/// The open units carry a signed *cost basis* rather than an average price: the sum of
/// `price × units` of the fills that opened them, positive for a long and negative for a
/// short. A reduction removes its share of the basis (`basis × closed / open`, truncated
/// to the 10^-8 unit) and books the difference to the fill's value as realised P&L; the
/// last reduction removes whatever basis is left. So the realised P&L of a position that
/// went flat is exactly "money received − money paid", to the paisa and beyond, however
/// it was split. [`Position::avg_price`] is derived for display.
///
/// Arithmetic is checked: an overflow returns [`ValueError::Overflow`] and leaves the
/// position unchanged.
///
/// # Examples
/// ```
/// use tickpipe::{model::{Money, Price, Qty, Side}, risk::Position};
/// let mut p = Position::default();
/// p.apply_fill(Side::Buy, Qty::new(10), "100".parse().unwrap()).unwrap();
/// p.apply_fill(Side::Sell, Qty::new(4), "101.50".parse().unwrap()).unwrap();
/// assert_eq!(p.net(), 6);
/// assert_eq!(p.realized(), "6".parse().unwrap());
/// assert_eq!(p.avg_price(), "100".parse().unwrap());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Position {
    net: i64,
    cost: Money,
    realized: Money,
    charges: Money,
    mark: Price,
    owner: Option<StrategyId>,
    stop: Price,
    orders_in_flight: u32,
    traded: bool,
    last_trader: StrategyId,
}

/// What one fill did to a position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FillEffect {
    /// Realised P&L booked by this fill (zero when it only added to the position).
    pub realized: Money,
    /// True when the fill brought a position to flat or reversed it through zero, which
    /// completes one round trip.
    pub closed: bool,
}

impl Position {
    /// Signed units: positive long, negative short, zero flat.
    pub const fn net(&self) -> i64 {
        self.net
    }

    /// True when the position holds units.
    pub const fn is_open(&self) -> bool {
        self.net != 0
    }

    /// The signed cost basis of the open units.
    pub const fn cost(&self) -> Money {
        self.cost
    }

    /// Realised P&L over the run.
    pub const fn realized(&self) -> Money {
        self.realized
    }

    /// Charges paid on the instrument's fills over the run (see [`crate::charges`]).
    pub const fn charges(&self) -> Money {
        self.charges
    }

    /// Realised P&L less the charges paid: what the closed trades left in the account.
    pub fn net_realized(&self) -> Money {
        self.realized.saturating_add(self.charges.neg())
    }

    /// Adds the charges of a fill.
    ///
    /// # Errors
    /// [`ValueError::Overflow`]; the position is then unchanged.
    pub fn add_charges(&mut self, charges: Money) -> Result<(), ValueError> {
        self.charges = self.charges.checked_add(charges)?;
        Ok(())
    }

    /// The last trade price seen (or the first fill's price before any trade).
    pub const fn mark(&self) -> Price {
        self.mark
    }

    /// The strategy the position (or an entry in flight) belongs to.
    pub const fn owner(&self) -> Option<StrategyId> {
        self.owner
    }

    /// The protective stop; zero for none.
    pub const fn stop(&self) -> Price {
        self.stop
    }

    /// Intents on this instrument that await their final exec report.
    pub const fn orders_in_flight(&self) -> u32 {
        self.orders_in_flight
    }

    /// True once any fill was booked.
    pub const fn traded(&self) -> bool {
        self.traded
    }

    /// The strategy of the last fill booked (the owner of a position now flat).
    pub const fn last_trader(&self) -> StrategyId {
        self.last_trader
    }

    /// Records the strategy a fill was booked for.
    pub fn set_last_trader(&mut self, strategy: StrategyId) {
        self.last_trader = strategy;
    }

    /// The open units as an order quantity, capped at the largest one order can hold
    /// (the rest is closed by a later order).
    pub fn open_qty(&self) -> Qty {
        Qty::new(self.net.unsigned_abs().min(u64::from(u32::MAX)) as u32)
    }

    /// The side that adds to the position: buy for a long, sell for a short; `None`
    /// when flat.
    pub const fn opening_side(&self) -> Option<Side> {
        match self.net {
            n if n > 0 => Some(Side::Buy),
            n if n < 0 => Some(Side::Sell),
            _ => None,
        }
    }

    /// The side that reduces the position; `None` when flat.
    pub const fn closing_side(&self) -> Option<Side> {
        match self.net {
            0 => None,
            n if n > 0 => Some(Side::Sell),
            _ => Some(Side::Buy),
        }
    }

    /// Average price of the open units, truncated to the 10^-8 unit; zero when flat.
    pub fn avg_price(&self) -> Price {
        if self.net == 0 {
            return Price::ZERO;
        }
        let avg = self.cost.raw() / i128::from(self.net);
        Price::from_raw(avg.clamp(0, i128::from(i64::MAX)) as i64)
    }

    /// P&L of the open units at the mark: `mark × net − cost`.
    ///
    /// # Errors
    /// [`ValueError::Overflow`].
    pub fn unrealized(&self) -> Result<Money, ValueError> {
        if self.net == 0 {
            return Ok(Money::ZERO);
        }
        signed_notional(self.mark, self.net).checked_sub(self.cost)
    }

    /// Gross exposure of the open units at the mark: `|net| × mark`.
    pub fn exposure(&self) -> Money {
        // |i64 × i64| < 2^126: cannot overflow an i128.
        Money::from_raw((i128::from(self.mark.raw()) * i128::from(self.net)).abs())
    }

    /// Sets the mark (a zero price is ignored).
    pub fn set_mark(&mut self, price: Price) {
        if price.is_positive() {
            self.mark = price;
        }
    }

    /// Sets or clears the owning strategy.
    pub fn set_owner(&mut self, owner: Option<StrategyId>) {
        self.owner = owner;
    }

    /// Sets the protective stop (zero: none).
    pub fn set_stop(&mut self, stop: Price) {
        self.stop = stop;
    }

    /// Replaces the open units and their basis with another account of them (the
    /// broker's, on reconciliation): `net` units at `avg_price`. Realised P&L stays; a
    /// position adopted flat loses its stop.
    pub fn adopt(&mut self, net: i64, avg_price: Price) {
        self.net = net;
        self.cost = signed_notional(avg_price, net);
        if net == 0 {
            self.stop = Price::ZERO;
        } else if !self.mark.is_positive() {
            self.mark = avg_price;
        }
    }

    /// Counts an intent sent on this instrument.
    pub fn order_sent(&mut self) {
        self.orders_in_flight += 1;
    }

    /// Counts an intent that got its final report.
    pub fn order_done(&mut self) {
        debug_assert!(self.orders_in_flight > 0, "order_done without order_sent");
        self.orders_in_flight = self.orders_in_flight.saturating_sub(1);
    }

    /// Books a fill of `qty` units at `price`.
    ///
    /// Adding to the position (or opening it) grows the cost basis; reducing it realises
    /// P&L on the closed units; a fill larger than the open units closes them and opens
    /// the rest on the other side at the fill price. A close or reversal clears the stop
    /// (the caller sets the stop of a new entry). The mark is set to the fill price when
    /// there was none yet.
    ///
    /// # Errors
    /// [`ValueError::Overflow`]; the position is then unchanged.
    pub fn apply_fill(
        &mut self,
        side: Side,
        qty: Qty,
        price: Price,
    ) -> Result<FillEffect, ValueError> {
        let units = i64::from(qty.get());
        let delta = side.sign() * units;
        let mut next = *self;
        let mut effect = FillEffect {
            realized: Money::ZERO,
            closed: false,
        };
        if units == 0 {
            return Ok(effect);
        }
        if self.net == 0 || self.net.signum() == delta.signum() {
            next.cost = self.cost.checked_add(signed_notional(price, delta))?;
            next.net = self.net.checked_add(delta).ok_or(ValueError::Overflow)?;
        } else {
            let open = self.net.abs();
            let closing = units.min(open);
            let removed = if closing == open {
                self.cost
            } else {
                let share = self
                    .cost
                    .raw()
                    .checked_mul(i128::from(closing))
                    .ok_or(ValueError::Overflow)?;
                Money::from_raw(share / i128::from(open))
            };
            let value = signed_notional(price, self.net.signum() * closing);
            effect.realized = value.checked_sub(removed)?;
            next.realized = self.realized.checked_add(effect.realized)?;
            next.cost = self.cost.checked_sub(removed)?;
            next.net = self.net - self.net.signum() * closing;
            let rest = units - closing;
            if rest > 0 {
                next.net = side.sign() * rest;
                next.cost = signed_notional(price, next.net);
            }
            if next.net == 0 || rest > 0 {
                effect.closed = true;
                next.stop = Price::ZERO;
            }
        }
        if !next.mark.is_positive() {
            next.mark = price;
        }
        next.traded = true;
        *self = next;
        Ok(effect)
    }
}

/// `price × units` as money, signed like `units`. An `i64 × i64` product fits an `i128`.
fn signed_notional(price: Price, units: i64) -> Money {
    Money::from_raw(i128::from(price.raw()) * i128::from(units))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn px(text: &str) -> Price {
        text.parse().unwrap()
    }

    fn money(text: &str) -> Money {
        text.parse().unwrap()
    }

    fn fill(p: &mut Position, side: Side, qty: u32, price: &str) -> FillEffect {
        p.apply_fill(side, Qty::new(qty), px(price)).unwrap()
    }

    #[test]
    fn long_round_trip_realises_exactly() {
        let mut p = Position::default();
        assert!(!fill(&mut p, Side::Buy, 10, "2450.05").closed);
        fill(&mut p, Side::Buy, 5, "2451.10");
        assert_eq!(p.net(), 15);
        assert_eq!(p.cost(), money("36756.00"));
        assert_eq!(p.avg_price(), px("2450.4"));
        let e = fill(&mut p, Side::Sell, 15, "2460.00");
        assert!(e.closed);
        // 15 × 2460 − (10 × 2450.05 + 5 × 2451.10) = 36900 − 36756
        assert_eq!(e.realized, money("144"));
        assert_eq!(p.realized(), money("144"));
        assert_eq!(p.net(), 0);
        assert_eq!(p.cost(), Money::ZERO);
        assert_eq!(p.unrealized().unwrap(), Money::ZERO);
    }

    #[test]
    fn short_round_trip_realises_exactly() {
        let mut p = Position::default();
        fill(&mut p, Side::Sell, 20, "101.35");
        assert_eq!(p.net(), -20);
        assert_eq!(p.avg_price(), px("101.35"));
        p.set_mark(px("100.00"));
        assert_eq!(p.unrealized().unwrap(), money("27"));
        assert_eq!(p.exposure(), money("2000"));
        let e = fill(&mut p, Side::Buy, 20, "100.05");
        assert_eq!(e.realized, money("26"));
        assert!(e.closed);
    }

    #[test]
    fn partial_reductions_sum_to_the_exact_total() {
        // Three units bought at three prices, sold one at a time: each reduction removes
        // a third of a basis that does not divide by three; the last removes the rest.
        let mut p = Position::default();
        fill(&mut p, Side::Buy, 1, "100.05");
        fill(&mut p, Side::Buy, 1, "100.10");
        fill(&mut p, Side::Buy, 1, "100.20");
        let mut total = Money::ZERO;
        for price in ["100.15", "99.95", "100.40"] {
            total = total
                .checked_add(fill(&mut p, Side::Sell, 1, price).realized)
                .unwrap();
        }
        // received 300.50, paid 300.35
        assert_eq!(total, money("0.15"));
        assert_eq!(p.realized(), money("0.15"));
        assert_eq!(p.cost(), Money::ZERO);
    }

    #[test]
    fn partial_reduction_keeps_average_price() {
        let mut p = Position::default();
        fill(&mut p, Side::Buy, 100, "50.00");
        let e = fill(&mut p, Side::Sell, 40, "49.00");
        assert!(!e.closed);
        assert_eq!(e.realized, money("-40"));
        assert_eq!(p.net(), 60);
        assert_eq!(p.avg_price(), px("50"));
        p.set_mark(px("51"));
        assert_eq!(p.unrealized().unwrap(), money("60"));
    }

    #[test]
    fn reversal_through_zero_opens_the_rest_at_the_fill_price() {
        let mut p = Position::default();
        fill(&mut p, Side::Buy, 10, "200");
        p.set_stop(px("198"));
        let e = fill(&mut p, Side::Sell, 25, "205");
        assert!(e.closed);
        assert_eq!(e.realized, money("50"));
        assert_eq!(p.net(), -15);
        assert_eq!(p.avg_price(), px("205"));
        assert_eq!(p.cost(), money("-3075"));
        assert_eq!(p.stop(), Price::ZERO, "a reversal clears the old stop");
        let e = fill(&mut p, Side::Buy, 15, "204");
        assert_eq!(e.realized, money("15"));
        assert_eq!(p.realized(), money("65"));
    }

    #[test]
    fn mark_defaults_to_the_first_fill() {
        let mut p = Position::default();
        fill(&mut p, Side::Buy, 3, "10");
        assert_eq!(p.mark(), px("10"));
        p.set_mark(Price::ZERO);
        assert_eq!(p.mark(), px("10"), "a zero mark is ignored");
        assert!(p.traded());
        assert_eq!(p.closing_side(), Some(Side::Sell));
        assert_eq!(p.open_qty(), Qty::new(3));
    }

    #[test]
    fn overflow_leaves_the_position_unchanged() {
        let mut p = Position::default();
        for _ in 0..2 {
            p.apply_fill(Side::Buy, Qty::new(u32::MAX), Price::MAX)
                .unwrap();
        }
        let before = p;
        // A partial reduction takes `basis × closed`, here about 3.4e38 raw: beyond i128.
        assert_eq!(
            p.apply_fill(Side::Sell, Qty::new(u32::MAX - 1), Price::MAX),
            Err(ValueError::Overflow)
        );
        assert_eq!(p, before);
    }
}
