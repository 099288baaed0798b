//! Round trips rebuilt from a day's fills: the trade journal's rows.
//!
//! A round trip opens when a flat position takes its first fill and closes when the
//! position is flat again. Realised P&L comes from the risk stage's own position
//! arithmetic ([`Position::apply_fill`]) and charges from the same cost model the run
//! used, so every figure here adds up to the run's totals.

use std::collections::HashMap;

use crate::{
    charges::{Charger, OrderCharges},
    model::{
        FillRecord, InstrumentId, IntentId, IntentReason, Money, Price, Qty, Side, StrategyId,
        UnixNanos, ValueError,
    },
    risk::Position,
};

/// One round trip.
#[derive(Debug, Clone, PartialEq)]
pub struct Trade {
    /// Its place among the run's trades, from 1, in order of closing.
    pub number: usize,
    /// The strategy that opened it.
    pub strategy: StrategyId,
    /// Which instrument.
    pub instrument: InstrumentId,
    /// `Buy` for a long trade, `Sell` for a short one.
    pub direction: Side,
    /// The most units held at once.
    pub qty: Qty,
    /// Market time of the first fill.
    pub entry_ts: UnixNanos,
    /// Average price of the fills that built the position.
    pub entry_price: Price,
    /// Market time of the fill that made it flat.
    pub exit_ts: UnixNanos,
    /// Average price of the fills that reduced it.
    pub exit_price: Price,
    /// Realised P&L before charges.
    pub gross: Money,
    /// Charges of all its fills.
    pub charges: Money,
    /// Why the last fill was sent (stop loss, target, square-off, …).
    pub exit_reason: IntentReason,
    /// Value of the units bought or sold to open, for the return.
    pub entry_value: Money,
    /// What its fills cost against the prices their intents were decided at (positive:
    /// paid more or got less), when every fill's intent carried one.
    pub slippage: Option<Money>,
}

impl Trade {
    /// P&L after charges.
    pub fn net(&self) -> Money {
        self.gross.saturating_add(self.charges.neg())
    }

    /// Net P&L as a percentage of the entry value.
    pub fn net_pct(&self) -> f64 {
        let value = self.entry_value.to_f64();
        if value == 0.0 {
            return 0.0;
        }
        self.net().to_f64() / value * 100.0
    }

    /// Whole minutes from the first fill to the last.
    pub fn holding_minutes(&self) -> u64 {
        self.exit_ts.0.saturating_sub(self.entry_ts.0) / 60_000_000_000
    }

    /// True when it made money after charges.
    pub fn won(&self) -> bool {
        self.net() > Money::ZERO
    }
}

/// A round trip still being built.
#[derive(Debug, Clone, Copy)]
struct Building {
    strategy: StrategyId,
    direction: Side,
    entry_ts: UnixNanos,
    max_qty: Qty,
    entry_qty: u64,
    entry_value: Money,
    exit_qty: u64,
    exit_value: Money,
    gross: Money,
    charges: Money,
    slippage: Option<Money>,
}

/// The round trips of a run's fills, and what was still open at the end.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TradeBook {
    /// Closed round trips, in order of closing.
    pub trades: Vec<Trade>,
    /// Instruments whose position was still open after the last fill.
    pub open_at_end: Vec<InstrumentId>,
}

impl TradeBook {
    /// Rebuilds the round trips of `fills` (in booking order), pricing each fill's
    /// charges with `charger` (per order, as the run did).
    ///
    /// A fill that reverses a position through zero closes the trade with the units that
    /// flatten it and opens the next with the rest; its charges are split by units.
    ///
    /// # Errors
    /// [`ValueError::Overflow`] when the arithmetic overflows (it did not in the run, or
    /// the run would have stopped).
    pub fn of(fills: &[FillRecord], charger: &Charger) -> Result<TradeBook, ValueError> {
        TradeBook::with_references(fills, charger, &HashMap::new())
    }

    /// [`TradeBook::of`], with each trade's slippage: every fill priced against its
    /// intent's reference price in `references` (the price the risk stage decided at),
    /// split by units like the charges when a fill closes one trade and opens the next.
    /// A trade with a fill whose intent has no reference has no slippage.
    ///
    /// # Errors
    /// As [`TradeBook::of`].
    pub fn with_references(
        fills: &[FillRecord],
        charger: &Charger,
        references: &HashMap<IntentId, Price>,
    ) -> Result<TradeBook, ValueError> {
        let mut positions: HashMap<InstrumentId, (Position, Option<Building>)> = HashMap::new();
        let mut orders: HashMap<IntentId, OrderCharges> = HashMap::new();
        let mut trades = Vec::new();
        for fill in fills {
            let order = orders.entry(fill.intent).or_default();
            let charges = charger
                .fill(fill.instrument, fill.side, fill.qty, fill.price, order)?
                .total();
            let (position, building) = positions.entry(fill.instrument).or_default();
            let before = position.net();
            let effect = position.apply_fill(fill.side, fill.qty, fill.price)?;
            let after = position.net();
            let units = i64::from(fill.qty.get());
            // Units of this fill that reduce the position, and the rest that open one.
            let closing = if before == 0 || (before > 0) == (fill.side == Side::Buy) {
                0
            } else {
                before.abs().min(units)
            };
            let opening = units - closing;
            let slippage = references
                .get(&fill.intent)
                .filter(|r| **r > Price::ZERO)
                .map(|reference| {
                    let paid = fill.price.notional(fill.qty);
                    let decided = reference.notional(fill.qty);
                    match fill.side {
                        Side::Buy => paid.checked_sub(decided),
                        Side::Sell => decided.checked_sub(paid),
                    }
                })
                .transpose()?;
            let split = |total: Money, part: i64| -> Money {
                if part == units {
                    return total;
                }
                Money::from_raw(total.raw() * i128::from(part) / i128::from(units.max(1)))
            };
            let share = |part: i64| -> Result<Money, ValueError> { Ok(split(charges, part)) };
            let add_slippage = |b: &mut Building, part: i64| -> Result<(), ValueError> {
                b.slippage = match (b.slippage, slippage) {
                    (Some(so_far), Some(s)) => Some(so_far.checked_add(split(s, part))?),
                    _ => None,
                };
                Ok(())
            };
            if closing > 0 {
                if let Some(b) = building.as_mut() {
                    let part = share(closing)?;
                    b.exit_qty += closing as u64;
                    b.exit_value = b
                        .exit_value
                        .checked_add(fill.price.notional(Qty::new(closing as u32)))?;
                    b.gross = b.gross.checked_add(effect.realized)?;
                    b.charges = b.charges.checked_add(part)?;
                    add_slippage(b, closing)?;
                }
                if before.signum() != after.signum() {
                    if let Some(b) = building.take() {
                        trades.push(finish(&b, fill, trades.len() + 1));
                    }
                }
            }
            if opening > 0 {
                let part = share(opening)?;
                let qty = Qty::new(opening as u32);
                let b = building.get_or_insert(Building {
                    strategy: fill.strategy,
                    direction: fill.side,
                    entry_ts: fill.exchange_ts,
                    max_qty: Qty::ZERO,
                    entry_qty: 0,
                    entry_value: Money::ZERO,
                    exit_qty: 0,
                    exit_value: Money::ZERO,
                    gross: Money::ZERO,
                    charges: Money::ZERO,
                    slippage: Some(Money::ZERO),
                });
                b.entry_qty += opening as u64;
                b.entry_value = b.entry_value.checked_add(fill.price.notional(qty))?;
                b.charges = b.charges.checked_add(part)?;
                add_slippage(b, opening)?;
            }
            if let Some(b) = building.as_mut() {
                let held = Qty::new(after.unsigned_abs().min(u64::from(u32::MAX)) as u32);
                b.max_qty = b.max_qty.max(held);
            }
        }
        let mut open_at_end: Vec<InstrumentId> = positions
            .iter()
            .filter(|(_, (p, _))| p.is_open())
            .map(|(id, _)| *id)
            .collect();
        open_at_end.sort();
        Ok(TradeBook {
            trades,
            open_at_end,
        })
    }
}

/// Average price of `value` over `qty` units, truncated to the price unit.
fn average(value: Money, qty: u64) -> Price {
    if qty == 0 {
        return Price::ZERO;
    }
    let avg = value.raw() / i128::from(qty);
    Price::from_raw(avg.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64)
}

fn finish(b: &Building, last: &FillRecord, number: usize) -> Trade {
    Trade {
        number,
        strategy: b.strategy,
        instrument: last.instrument,
        direction: b.direction,
        qty: b.max_qty,
        entry_ts: b.entry_ts,
        entry_price: average(b.entry_value, b.entry_qty),
        exit_ts: last.exchange_ts,
        exit_price: average(b.exit_value, b.exit_qty),
        gross: b.gross,
        charges: b.charges,
        exit_reason: last.reason,
        entry_value: b.entry_value,
        slippage: b.slippage,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fill(
        intent: u64,
        secs: u64,
        side: Side,
        qty: u32,
        price: &str,
        reason: IntentReason,
    ) -> FillRecord {
        FillRecord {
            intent: IntentId(intent),
            exchange_ts: UnixNanos(secs * 1_000_000_000),
            instrument: InstrumentId(0),
            strategy: StrategyId(1),
            side,
            qty: Qty::new(qty),
            price: price.parse().unwrap(),
            reason,
        }
    }

    #[test]
    fn each_trade_carries_the_slippage_of_its_fills_split_at_a_reversal() {
        use IntentReason::*;
        let fills = [
            fill(1, 0, Side::Buy, 10, "100.10", Entry),
            // Sells 30: 10 close the long, 20 open a short.
            fill(2, 60, Side::Sell, 30, "104.70", Exit),
            fill(3, 120, Side::Buy, 20, "103", Exit),
        ];
        let references: HashMap<IntentId, Price> = [
            (IntentId(1), "100".parse().unwrap()),
            (IntentId(2), "105".parse().unwrap()),
            (IntentId(3), "102.90".parse().unwrap()),
        ]
        .into_iter()
        .collect();
        let book = TradeBook::with_references(&fills, &Charger::free(1), &references).unwrap();
        // Long: bought 0.10 above (₹1) and sold 10 units 0.30 below (₹3).
        assert_eq!(book.trades[0].slippage, Some(Money::from_rupees(4)));
        // Short: sold 20 units 0.30 below (₹6), bought back 0.10 above (₹2).
        assert_eq!(book.trades[1].slippage, Some(Money::from_rupees(8)));
        // Without the intents' prices nothing is claimed.
        let unknown = TradeBook::of(&fills, &Charger::free(1)).unwrap();
        assert_eq!(unknown.trades[0].slippage, None);
    }

    #[test]
    fn a_long_built_in_parts_and_closed_in_parts() {
        use IntentReason::*;
        let fills = [
            fill(1, 0, Side::Buy, 10, "100", Entry),
            fill(1, 60, Side::Buy, 10, "102", Entry),
            fill(2, 600, Side::Sell, 5, "110", Exit),
            fill(3, 1200, Side::Sell, 15, "95", StopLoss),
        ];
        let book = TradeBook::of(&fills, &Charger::free(1)).unwrap();
        assert_eq!(book.trades.len(), 1);
        assert!(book.open_at_end.is_empty());
        let t = &book.trades[0];
        assert_eq!((t.direction, t.qty), (Side::Buy, Qty::new(20)));
        assert_eq!(t.entry_price, "101".parse().unwrap());
        // (5 × 110 + 15 × 95) / 20 = 98.75
        assert_eq!(t.exit_price, "98.75".parse().unwrap());
        // 5 × (110 − 101) + 15 × (95 − 101) = 45 − 90
        assert_eq!(t.gross, Money::from_rupees(-45));
        assert_eq!(t.holding_minutes(), 20);
        assert_eq!(t.exit_reason, StopLoss);
        assert!(!t.won());
        assert!((t.net_pct() + 45.0 / 2020.0 * 100.0).abs() < 1e-12);
    }

    #[test]
    fn a_reversal_closes_one_trade_and_opens_the_next() {
        use IntentReason::*;
        let fills = [
            fill(1, 0, Side::Buy, 10, "100", Entry),
            fill(2, 60, Side::Sell, 30, "110", Exit),
            fill(3, 120, Side::Buy, 20, "105", Exit),
            fill(4, 180, Side::Sell, 1, "105", Entry),
        ];
        let book = TradeBook::of(&fills, &Charger::free(1)).unwrap();
        assert_eq!(book.trades.len(), 2);
        assert_eq!(book.trades[0].gross, Money::from_rupees(100));
        let short = &book.trades[1];
        assert_eq!((short.direction, short.qty), (Side::Sell, Qty::new(20)));
        assert_eq!(short.gross, Money::from_rupees(100), "20 × (110 − 105)");
        assert_eq!(short.number, 2);
        assert_eq!(book.open_at_end, [InstrumentId(0)]);
    }
}
