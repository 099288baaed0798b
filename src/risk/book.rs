//! All positions, with the totals the limits read kept up to date incrementally.

use crate::{
    charges::ChargeBreakdown,
    model::{InstrumentId, Money, Price, Qty, Side, StrategyId, ValueError},
    risk::{
        position::{FillEffect, Position},
        summary::{PositionSnapshot, StrategyPnl},
    },
};

/// Activity of one strategy, kept as fills are booked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct StrategyBook {
    realized: Money,
    charges: Money,
    fills: u64,
    round_trips: u64,
}

/// Every position of the run, indexed by [`InstrumentId`], and the totals over them.
///
/// Gross exposure, unrealised and realised P&L and the count of open positions are
/// adjusted by each mark and fill with the difference it made to one position, so reading
/// a total is O(1) and no tick loops over the instruments. Exposure reserved for entries
/// in flight is kept beside the gross exposure of open positions.
///
/// Every update is checked; on [`ValueError::Overflow`] nothing changes.
#[derive(Debug, Clone)]
pub struct Book {
    positions: Vec<Position>,
    strategies: Vec<StrategyBook>,
    gross_exposure: Money,
    reserved: Money,
    unrealized: Money,
    realized: Money,
    charges: ChargeBreakdown,
    /// `charges.total()`, kept with it: equity is read on every tick and fills are rare.
    charges_total: Money,
    open: usize,
}

impl Book {
    /// A flat book for `instruments` instruments and `strategies` strategies.
    pub fn new(instruments: usize, strategies: usize) -> Book {
        Book {
            positions: vec![Position::default(); instruments],
            strategies: vec![StrategyBook::default(); strategies],
            gross_exposure: Money::ZERO,
            reserved: Money::ZERO,
            unrealized: Money::ZERO,
            realized: Money::ZERO,
            charges: ChargeBreakdown::ZERO,
            charges_total: Money::ZERO,
            open: 0,
        }
    }

    /// The position in `id`.
    ///
    /// # Panics
    /// If `id` is outside the table the book was built for.
    pub fn position(&self, id: InstrumentId) -> &Position {
        &self.positions[id.index()]
    }

    /// Number of instruments.
    pub fn instruments(&self) -> usize {
        self.positions.len()
    }

    /// Sum of `|net| × mark` over open positions.
    pub fn gross_exposure(&self) -> Money {
        self.gross_exposure
    }

    /// Exposure reserved for entries in flight.
    pub fn reserved(&self) -> Money {
        self.reserved
    }

    /// Gross exposure plus reservations: what the exposure cap compares.
    pub fn committed_exposure(&self) -> Money {
        self.gross_exposure.saturating_add(self.reserved)
    }

    /// Realised P&L over all positions.
    pub fn realized(&self) -> Money {
        self.realized
    }

    /// Charges paid on every fill, by component.
    pub fn charges(&self) -> &ChargeBreakdown {
        &self.charges
    }

    /// Realised P&L less every charge paid.
    pub fn net_realized(&self) -> Money {
        self.realized.saturating_add(self.charges_total.neg())
    }

    /// Equity on `capital`: capital + realised P&L net of charges + unrealised P&L at
    /// the marks. What the account is worth now, were every position closed at its mark
    /// (before the charges of closing it).
    pub fn equity(&self, capital: Money) -> Money {
        capital
            .saturating_add(self.net_realized())
            .saturating_add(self.unrealized)
    }

    /// Unrealised P&L over all open positions at their marks.
    pub fn unrealized(&self) -> Money {
        self.unrealized
    }

    /// Positions holding units.
    pub fn open_positions(&self) -> usize {
        self.open
    }

    /// Sets the mark of `id` and updates the totals.
    ///
    /// # Errors
    /// [`ValueError::Overflow`].
    pub fn mark(&mut self, id: InstrumentId, price: Price) -> Result<(), ValueError> {
        let position = &mut self.positions[id.index()];
        if !position.is_open() {
            position.set_mark(price);
            return Ok(());
        }
        self.update(id, |p| {
            p.set_mark(price);
            Ok(())
        })
    }

    /// Books a fill on `id` for `strategy` and updates the totals and the strategy's
    /// activity.
    ///
    /// # Errors
    /// [`ValueError::Overflow`].
    pub fn fill(
        &mut self,
        id: InstrumentId,
        strategy: StrategyId,
        side: Side,
        qty: Qty,
        price: Price,
    ) -> Result<FillEffect, ValueError> {
        let effect = self.update(id, |p| {
            let effect = p.apply_fill(side, qty, price)?;
            p.set_last_trader(strategy);
            Ok(effect)
        })?;
        self.realized = self.realized.saturating_add(effect.realized);
        if let Some(s) = self.strategies.get_mut(strategy.index()) {
            s.realized = s.realized.saturating_add(effect.realized);
            s.fills += 1;
            s.round_trips += u64::from(effect.closed);
        }
        Ok(effect)
    }

    /// Takes another account of `id`'s open units (the broker's, on reconciliation) and
    /// updates the totals.
    ///
    /// # Errors
    /// [`ValueError::Overflow`].
    pub fn adopt(
        &mut self,
        id: InstrumentId,
        net: i64,
        avg_price: Price,
    ) -> Result<(), ValueError> {
        self.update(id, |p| {
            p.adopt(net, avg_price);
            Ok(())
        })
    }

    /// Books the charges of a fill on `id` for `strategy`: to the position, the
    /// strategy and the totals.
    ///
    /// # Errors
    /// [`ValueError::Overflow`]; nothing changes then.
    pub fn charge(
        &mut self,
        id: InstrumentId,
        strategy: StrategyId,
        charges: &ChargeBreakdown,
    ) -> Result<(), ValueError> {
        let paid = charges.total();
        let totals = self.charges.checked_add(charges)?;
        let mut position = self.positions[id.index()];
        position.add_charges(paid)?;
        self.positions[id.index()] = position;
        self.charges = totals;
        self.charges_total = totals.total();
        if let Some(s) = self.strategies.get_mut(strategy.index()) {
            s.charges = s.charges.saturating_add(paid);
        }
        Ok(())
    }

    /// Reserves exposure for an entry in flight.
    pub fn reserve(&mut self, amount: Money) {
        self.reserved = self.reserved.saturating_add(amount);
    }

    /// Releases a reservation (never below zero).
    pub fn release(&mut self, amount: Money) {
        self.reserved = self.reserved.saturating_add(amount.neg()).max(Money::ZERO);
    }

    /// Sets or clears the owner of `id`.
    pub fn set_owner(&mut self, id: InstrumentId, owner: Option<StrategyId>) {
        self.positions[id.index()].set_owner(owner);
    }

    /// Sets the protective stop of `id`.
    pub fn set_stop(&mut self, id: InstrumentId, stop: Price) {
        self.positions[id.index()].set_stop(stop);
    }

    /// Counts an intent sent on `id`.
    pub fn order_sent(&mut self, id: InstrumentId) {
        self.positions[id.index()].order_sent();
    }

    /// Counts an intent on `id` that got its final report, and frees the instrument for
    /// other strategies when it is flat with nothing in flight.
    pub fn order_done(&mut self, id: InstrumentId) {
        let p = &mut self.positions[id.index()];
        p.order_done();
        if !p.is_open() && p.orders_in_flight() == 0 {
            p.set_owner(None);
        }
    }

    /// Runs `change` on a copy of one position, then commits it and moves every total by
    /// the difference it made, or changes nothing on error.
    fn update<R>(
        &mut self,
        id: InstrumentId,
        change: impl FnOnce(&mut Position) -> Result<R, ValueError>,
    ) -> Result<R, ValueError> {
        let before = self.positions[id.index()];
        let mut after = before;
        let result = change(&mut after)?;
        let unrealized = self
            .unrealized
            .checked_sub(before.unrealized()?)?
            .checked_add(after.unrealized()?)?;
        let gross = self
            .gross_exposure
            .checked_sub(before.exposure())?
            .checked_add(after.exposure())?;
        self.positions[id.index()] = after;
        self.unrealized = unrealized;
        self.gross_exposure = gross;
        match (before.is_open(), after.is_open()) {
            (false, true) => self.open += 1,
            (true, false) => self.open -= 1,
            _ => {}
        }
        Ok(result)
    }

    /// Snapshots of every traded instrument, in id order (off the hot path).
    pub fn snapshot_positions(&self) -> Vec<PositionSnapshot> {
        self.positions
            .iter()
            .enumerate()
            .filter(|(_, p)| p.traded())
            .map(|(i, p)| PositionSnapshot {
                instrument: InstrumentId(i as u32),
                strategy: p.owner().unwrap_or(p.last_trader()),
                net: p.net(),
                avg_price: p.avg_price(),
                mark: p.mark(),
                realized: p.realized(),
                charges: p.charges(),
                unrealized: p.unrealized().unwrap_or(Money::ZERO),
            })
            .collect()
    }

    /// P&L and activity of one strategy, without allocating (the control plane asks for
    /// it on the stage thread). Unrealised P&L belongs to the owner of each open position.
    pub fn strategy_pnl(&self, strategy: StrategyId) -> StrategyPnl {
        let s = self
            .strategies
            .get(strategy.index())
            .copied()
            .unwrap_or_default();
        let unrealized = self
            .positions
            .iter()
            .filter(|p| p.is_open() && p.owner() == Some(strategy))
            .fold(Money::ZERO, |sum, p| {
                sum.saturating_add(p.unrealized().unwrap_or(Money::ZERO))
            });
        StrategyPnl {
            strategy,
            realized: s.realized,
            charges: s.charges,
            unrealized,
            fills: s.fills,
            round_trips: s.round_trips,
        }
    }

    /// P&L and activity per strategy (off the hot path). Unrealised P&L belongs to the
    /// owner of each open position.
    pub fn snapshot_strategies(&self) -> Vec<StrategyPnl> {
        let mut out: Vec<StrategyPnl> = self
            .strategies
            .iter()
            .enumerate()
            .map(|(i, s)| StrategyPnl {
                strategy: StrategyId(i as u16),
                realized: s.realized,
                charges: s.charges,
                unrealized: Money::ZERO,
                fills: s.fills,
                round_trips: s.round_trips,
            })
            .collect();
        for p in self.positions.iter().filter(|p| p.is_open()) {
            if let Some(s) = p.owner().and_then(|o| out.get_mut(o.index())) {
                s.unrealized = s
                    .unrealized
                    .saturating_add(p.unrealized().unwrap_or(Money::ZERO));
            }
        }
        out
    }
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

    /// Recomputes the totals the slow way, to compare with the incremental ones.
    fn recount(book: &Book) -> (Money, Money, usize) {
        let mut gross = Money::ZERO;
        let mut unrealized = Money::ZERO;
        for i in 0..book.instruments() {
            let p = book.position(InstrumentId(i as u32));
            gross = gross.saturating_add(p.exposure());
            unrealized = unrealized.saturating_add(p.unrealized().unwrap());
        }
        let open = (0..book.instruments())
            .filter(|&i| book.position(InstrumentId(i as u32)).is_open())
            .count();
        (gross, unrealized, open)
    }

    #[test]
    fn totals_follow_marks_and_fills() {
        let (a, b) = (InstrumentId(0), InstrumentId(2));
        let (s0, s1) = (StrategyId(0), StrategyId(1));
        let mut book = Book::new(3, 2);
        book.mark(a, px("100")).unwrap();
        book.fill(a, s0, Side::Buy, Qty::new(10), px("100.05"))
            .unwrap();
        book.fill(b, s1, Side::Sell, Qty::new(4), px("50")).unwrap();
        assert_eq!(book.open_positions(), 2);
        assert_eq!(book.gross_exposure(), money("1200"));
        book.mark(a, px("101")).unwrap();
        book.mark(b, px("49.50")).unwrap();
        assert_eq!(book.gross_exposure(), money("1208"));
        assert_eq!(book.unrealized(), money("11.50"));
        assert_eq!(recount(&book), (money("1208"), money("11.50"), 2));

        let e = book
            .fill(a, s0, Side::Sell, Qty::new(10), px("101.10"))
            .unwrap();
        assert!(e.closed);
        assert_eq!(book.realized(), money("10.50"));
        assert_eq!(book.open_positions(), 1);
        assert_eq!(recount(&book), (money("198"), money("2"), 1));
        assert_eq!(book.gross_exposure(), money("198"));
        assert_eq!(book.unrealized(), money("2"));

        let strategies = book.snapshot_strategies();
        assert_eq!(strategies[0].realized, money("10.50"));
        assert_eq!(strategies[0].round_trips, 1);
        assert_eq!(strategies[0].fills, 2);
        assert_eq!(strategies[1].unrealized, Money::ZERO, "no owner set");
        let positions = book.snapshot_positions();
        assert_eq!(positions.len(), 2);
        assert_eq!(positions[1].net, -4);
        assert_eq!(positions[1].strategy, s1, "no owner set: the last trader");
    }

    #[test]
    fn reservations_and_ownership() {
        let id = InstrumentId(1);
        let mut book = Book::new(2, 1);
        book.reserve(money("5000"));
        assert_eq!(book.committed_exposure(), money("5000"));
        book.release(money("6000"));
        assert_eq!(book.reserved(), Money::ZERO);

        book.set_owner(id, Some(StrategyId(0)));
        book.order_sent(id);
        book.fill(id, StrategyId(0), Side::Buy, Qty::new(1), px("10"))
            .unwrap();
        book.order_done(id);
        assert_eq!(book.position(id).owner(), Some(StrategyId(0)));
        book.order_sent(id);
        book.fill(id, StrategyId(0), Side::Sell, Qty::new(1), px("11"))
            .unwrap();
        assert_eq!(book.position(id).owner(), Some(StrategyId(0)));
        book.order_done(id);
        assert_eq!(book.position(id).owner(), None, "flat and idle: released");
    }

    #[test]
    fn charges_reach_the_position_the_strategy_and_equity() {
        let id = InstrumentId(1);
        let mut book = Book::new(2, 2);
        let fee = ChargeBreakdown {
            brokerage: money("20"),
            stt: money("2.50"),
            gst: money("3.60"),
            ..ChargeBreakdown::ZERO
        };
        book.fill(id, StrategyId(1), Side::Buy, Qty::new(10), px("100"))
            .unwrap();
        book.charge(id, StrategyId(1), &fee).unwrap();
        book.fill(id, StrategyId(1), Side::Sell, Qty::new(5), px("110"))
            .unwrap();
        book.charge(id, StrategyId(1), &fee).unwrap();
        book.mark(id, px("90")).unwrap();
        assert_eq!(book.realized(), money("50"));
        assert_eq!(book.charges().brokerage, money("40"));
        assert_eq!(book.charges().total(), money("52.20"));
        assert_eq!(book.net_realized(), money("-2.20"));
        assert_eq!(book.position(id).charges(), money("52.20"));
        assert_eq!(book.position(id).net_realized(), money("-2.20"));
        // 1000 + 50 − 52.20 + 5 × (90 − 100)
        assert_eq!(book.equity(money("1000")), money("947.80"));
        let s = book.strategy_pnl(StrategyId(1));
        assert_eq!((s.realized, s.charges), (money("50"), money("52.20")));
        assert_eq!(book.snapshot_strategies()[0].charges, Money::ZERO);
        assert_eq!(book.snapshot_positions()[0].charges, money("52.20"));
        let huge = ChargeBreakdown {
            stt: Money::from_raw(i128::MAX),
            ..ChargeBreakdown::ZERO
        };
        assert_eq!(
            book.charge(id, StrategyId(1), &huge),
            Err(ValueError::Overflow)
        );
        assert_eq!(book.position(id).charges(), money("52.20"), "unchanged");
        assert_eq!(book.charges().total(), money("52.20"));
    }

    #[test]
    fn a_failed_update_changes_nothing() {
        let id = InstrumentId(0);
        let mut book = Book::new(1, 1);
        for _ in 0..2 {
            book.fill(id, StrategyId(0), Side::Buy, Qty::new(u32::MAX), Price::MAX)
                .unwrap();
        }
        let (gross, unrealized) = (book.gross_exposure(), book.unrealized());
        assert!(book
            .fill(
                id,
                StrategyId(0),
                Side::Sell,
                Qty::new(u32::MAX - 1),
                Price::MAX
            )
            .is_err());
        assert_eq!(book.gross_exposure(), gross);
        assert_eq!(book.unrealized(), unrealized);
        assert_eq!(book.snapshot_strategies()[0].fills, 2);
    }
}
