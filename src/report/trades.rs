//! Round trips rebuilt from a day's fills: the trade journal's rows.
//!
//! A round trip opens when a flat position takes its first fill and closes when the
//! position is flat again. Realised P&L comes from the risk stage's own position
//! arithmetic ([`Position::apply_fill`]) and charges from the same cost model the run
//! used, so every figure here adds up to the run's totals.
//!
//! A position can also change without a fill: the risk stage adopts a broker's account
//! of it on reconciliation (`risk.reconcile = "adopt"` or `"flatten"`, journaled as an
//! `adopt` record), with [`Position::adopt`]. [`TradeBook::of_bookings`] applies those
//! where they happened, so a position the engine adopted and then closed is one trade
//! whose entry is the broker's average price at the adoption's time ([`Adopted::entry`]),
//! its P&L is what the risk stage booked for it, and no charges are counted for units no
//! fill of the engine's bought.

use std::collections::HashMap;

use crate::{
    charges::{Charger, OrderCharges},
    model::{
        BrokerPosition, FillRecord, InstrumentId, IntentId, IntentReason, Money, Price, Qty, Side,
        StrategyId, UnixNanos, ValueError,
    },
    order::Slippage,
    risk::Position,
};

/// One round trip.
#[derive(Debug, Clone, PartialEq)]
pub struct Trade {
    /// Its place among the run's trades, from 1, in order of closing.
    pub number: usize,
    /// The strategy that opened it (for a trade an adoption opened, the strategy of the
    /// fill that first traded it).
    pub strategy: StrategyId,
    /// Which instrument.
    pub instrument: InstrumentId,
    /// `Buy` for a long trade, `Sell` for a short one.
    pub direction: Side,
    /// The most units held at once.
    pub qty: Qty,
    /// Market time of the first fill (of the adoption, for a trade an adoption opened).
    pub entry_ts: UnixNanos,
    /// Average price of the fills that built the position (for units adopted from a
    /// broker's account, the broker's average price).
    pub entry_price: Price,
    /// Market time of the fill (or adoption) that made it flat.
    pub exit_ts: UnixNanos,
    /// Average price of the fills that reduced it (zero when none did: a trade an
    /// adoption ended before any fill reduced it).
    pub exit_price: Price,
    /// Realised P&L before charges.
    pub gross: Money,
    /// Charges of all its fills.
    pub charges: Money,
    /// Why the last fill was sent (stop loss, target, square-off, …). For a trade that
    /// ended by an adoption ([`Adopted::exit`]) it is [`IntentReason::Manual`]: the
    /// reconciliation, not an order, ended it (the tables print `adopted`).
    pub exit_reason: IntentReason,
    /// Value of the units bought or sold to open, for the return.
    pub entry_value: Money,
    /// What its fills cost against the prices their intents were decided at (positive:
    /// paid more or got less), when every fill's intent carried one.
    pub slippage: Option<Money>,
    /// Which ends of it the risk stage took from a broker's account instead of its own
    /// fills.
    pub adopted: Adopted,
}

/// Which ends of a round trip came from a broker's account of the position, adopted by
/// the risk stage on reconciliation, rather than from the engine's fills.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Adopted {
    /// The trade's units (all, or those it held at the adoption) are the broker's: its
    /// entry price is the broker's average price and, when the book was flat, its entry
    /// time is the adoption's. No strategy entered it; its strategy is the one whose fill
    /// closed it (the risk stage books the P&L there too).
    pub entry: bool,
    /// The broker held none of the trade's units, or held the other side: the units
    /// left the book without a fill, and the trade's P&L is what its fills realised.
    pub exit: bool,
}

impl Adopted {
    /// `entry`, `exit`, `entry+exit` or empty: the tables' `adopted` column.
    pub fn as_str(self) -> &'static str {
        match (self.entry, self.exit) {
            (false, false) => "",
            (true, false) => "entry",
            (false, true) => "exit",
            (true, true) => "entry+exit",
        }
    }

    /// True when either end was adopted.
    pub fn any(self) -> bool {
        self.entry || self.exit
    }
}

/// What moved a position, in booking order: the input of [`TradeBook::of_bookings`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Booking {
    /// A fill the risk stage booked.
    Fill(FillRecord),
    /// A broker's account of a position the risk stage took into its book at market
    /// time `exchange_ts` (a journal's `adopt` record).
    Adoption {
        /// Market time of the adoption.
        exchange_ts: UnixNanos,
        /// The broker's units and average price, which replaced the book's.
        position: BrokerPosition,
    },
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
    /// The strategy of its first fill; `None` for a trade opened by an adoption until a
    /// fill trades it.
    strategy: Option<StrategyId>,
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
    adopted: Adopted,
}

/// The round trips of a run's fills, and what was still open at the end.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TradeBook {
    /// Closed round trips, in order of closing.
    pub trades: Vec<Trade>,
    /// Instruments whose position was still open after the last fill.
    pub open_at_end: Vec<InstrumentId>,
    /// Those of `open_at_end` whose open trade began with an adoption
    /// ([`Adopted::entry`]).
    pub open_adopted: Vec<InstrumentId>,
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
        let bookings: Vec<Booking> = fills.iter().copied().map(Booking::Fill).collect();
        TradeBook::of_bookings(&bookings, charger, references)
    }

    /// [`TradeBook::with_references`] over fills and adoptions in booking order: each
    /// adoption replaces the position's units as the risk stage's did
    /// ([`Position::adopt`]).
    ///
    /// An adoption on a flat position opens a trade at the broker's average price and
    /// the adoption's time ([`Adopted::entry`]). One on an open position keeps its trade
    /// when the broker holds the same side (the units still held are now the broker's,
    /// at the broker's average), and ends it when the broker holds none or the other
    /// side ([`Adopted::exit`]; the other side then opens an adopted trade). An adoption
    /// realises nothing and costs no charges, as in the risk stage's book.
    ///
    /// # Errors
    /// As [`TradeBook::of`].
    pub fn of_bookings(
        bookings: &[Booking],
        charger: &Charger,
        references: &HashMap<IntentId, Price>,
    ) -> Result<TradeBook, ValueError> {
        let mut positions: HashMap<InstrumentId, (Position, Option<Building>)> = HashMap::new();
        let mut orders: HashMap<IntentId, OrderCharges> = HashMap::new();
        let mut trades = Vec::new();
        for booking in bookings {
            let fill = match *booking {
                Booking::Fill(fill) => fill,
                Booking::Adoption {
                    exchange_ts,
                    position: broker,
                } => {
                    let (position, building) = positions.entry(broker.instrument).or_default();
                    adopt(position, building, exchange_ts, broker, &mut trades)?;
                    continue;
                }
            };
            let fill = &fill;
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
                .and_then(|r| Slippage::of(fill.side, *r, fill.price, fill.qty))
                .map(|s| s.money);
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
                    // An adopted trade belongs to the strategy whose fill first trades
                    // it: the risk stage books that fill's P&L there.
                    b.strategy.get_or_insert(fill.strategy);
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
                    strategy: Some(fill.strategy),
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
                    adopted: Adopted::default(),
                });
                b.strategy.get_or_insert(fill.strategy);
                b.entry_qty += opening as u64;
                b.entry_value = b.entry_value.checked_add(fill.price.notional(qty))?;
                b.charges = b.charges.checked_add(part)?;
                add_slippage(b, opening)?;
            }
            if let Some(b) = building.as_mut() {
                b.max_qty = b.max_qty.max(units_held(after));
            }
        }
        let mut open_at_end = Vec::new();
        let mut open_adopted = Vec::new();
        for (id, (position, building)) in &positions {
            if position.is_open() {
                open_at_end.push(*id);
                if building.is_some_and(|b| b.adopted.entry) {
                    open_adopted.push(*id);
                }
            }
        }
        open_at_end.sort();
        open_adopted.sort();
        Ok(TradeBook {
            trades,
            open_at_end,
            open_adopted,
        })
    }
}

/// Applies a broker's account of `position` (an adoption at `ts`) to it and to the trade
/// being built on it, pushing the trade onto `trades` if the adoption ends it.
fn adopt(
    position: &mut Position,
    building: &mut Option<Building>,
    ts: UnixNanos,
    broker: BrokerPosition,
    trades: &mut Vec<Trade>,
) -> Result<(), ValueError> {
    let before = position.net();
    let after = broker.net;
    let same_side = before != 0 && after != 0 && (before > 0) == (after > 0);
    match building.take() {
        Some(mut b) if same_side => {
            // The units still held are the broker's now, at its average; the units the
            // trade already closed keep the entry average they had.
            let closed = if b.entry_qty == 0 {
                Money::ZERO
            } else {
                Money::from_raw(
                    b.entry_value.raw() * i128::from(b.exit_qty) / i128::from(b.entry_qty),
                )
            };
            let held = after.unsigned_abs();
            b.entry_qty = b.exit_qty + held;
            b.entry_value = closed.checked_add(value(broker.avg_price, held))?;
            b.max_qty = b.max_qty.max(units_held(after));
            b.adopted.entry = true;
            *building = Some(b);
        }
        Some(mut b) => {
            // The broker holds none of these units, or the other side: they left the
            // book without a fill, and the trade ends here with what it realised.
            b.adopted.exit = true;
            trades.push(finish_by_adoption(
                &b,
                broker.instrument,
                ts,
                trades.len() + 1,
            ));
        }
        None => {}
    }
    position.adopt(after, broker.avg_price);
    if after != 0 && building.is_none() {
        let held = after.unsigned_abs();
        *building = Some(Building {
            strategy: None,
            direction: if after > 0 { Side::Buy } else { Side::Sell },
            entry_ts: ts,
            max_qty: units_held(after),
            entry_qty: held,
            entry_value: value(broker.avg_price, held),
            exit_qty: 0,
            exit_value: Money::ZERO,
            gross: Money::ZERO,
            charges: Money::ZERO,
            slippage: Some(Money::ZERO),
            adopted: Adopted {
                entry: true,
                exit: false,
            },
        });
    }
    Ok(())
}

/// `|net|` as a quantity, saturating at `u32::MAX` units.
fn units_held(net: i64) -> Qty {
    Qty::new(net.unsigned_abs().min(u64::from(u32::MAX)) as u32)
}

/// The value of `units` units at `price` (an `i64` times a `u64` fits an `i128`).
fn value(price: Price, units: u64) -> Money {
    Money::from_raw(i128::from(price.raw()) * i128::from(units))
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
        strategy: b.strategy.unwrap_or(last.strategy),
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
        adopted: b.adopted,
    }
}

/// The trade `b` ended by an adoption at `ts` that left none of its units in the book.
fn finish_by_adoption(
    b: &Building,
    instrument: InstrumentId,
    ts: UnixNanos,
    number: usize,
) -> Trade {
    Trade {
        number,
        strategy: b.strategy.unwrap_or_default(),
        instrument,
        direction: b.direction,
        qty: b.max_qty,
        entry_ts: b.entry_ts,
        entry_price: average(b.entry_value, b.entry_qty),
        exit_ts: ts,
        exit_price: average(b.exit_value, b.exit_qty),
        gross: b.gross,
        charges: b.charges,
        exit_reason: IntentReason::Manual,
        entry_value: b.entry_value,
        slippage: b.slippage,
        adopted: b.adopted,
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

    fn adoption(secs: u64, net: i64, avg: &str) -> Booking {
        Booking::Adoption {
            exchange_ts: UnixNanos(secs * 1_000_000_000),
            position: BrokerPosition {
                instrument: InstrumentId(0),
                net,
                avg_price: avg.parse().unwrap(),
            },
        }
    }

    fn book(bookings: &[Booking]) -> TradeBook {
        TradeBook::of_bookings(bookings, &Charger::free(1), &HashMap::new()).unwrap()
    }

    /// The risk stage's book over the same bookings: its realised P&L.
    fn booked_realised(bookings: &[Booking]) -> Money {
        let mut p = Position::default();
        for b in bookings {
            match *b {
                Booking::Fill(f) => {
                    p.apply_fill(f.side, f.qty, f.price).unwrap();
                }
                Booking::Adoption { position, .. } => p.adopt(position.net, position.avg_price),
            }
        }
        p.realized()
    }

    #[test]
    fn a_position_adopted_flat_and_closed_by_a_fill_is_one_adopted_trade() {
        use IntentReason::*;
        let mut closing = fill(7, 600, Side::Sell, 40, "52.60", Manual);
        closing.strategy = StrategyId(2);
        let bookings = [adoption(60, 40, "50.10"), Booking::Fill(closing)];
        let b = book(&bookings);
        assert_eq!(b.trades.len(), 1);
        assert!(b.open_at_end.is_empty() && b.open_adopted.is_empty());
        let t = &b.trades[0];
        assert_eq!(
            (t.direction, t.qty, t.entry_ts, t.entry_price),
            (
                Side::Buy,
                Qty::new(40),
                UnixNanos(60_000_000_000),
                "50.10".parse().unwrap()
            )
        );
        assert_eq!(t.exit_price, "52.60".parse().unwrap());
        // 40 × (52.60 − 50.10), as the risk stage's position booked it.
        assert_eq!(t.gross, Money::from_rupees(100));
        assert_eq!(t.gross, booked_realised(&bookings));
        assert_eq!(t.strategy, StrategyId(2), "the closing fill's strategy");
        assert_eq!(
            t.adopted,
            Adopted {
                entry: true,
                exit: false
            }
        );
        assert_eq!(t.exit_reason, Manual);
        // Without the adoption the same fill opened a short: the bug this guards.
        assert_eq!(book(&bookings[1..]).trades.len(), 0);
    }

    #[test]
    fn a_position_adopted_and_never_closed_is_open_at_the_end() {
        let b = book(&[adoption(60, -25, "80")]);
        assert!(b.trades.is_empty());
        assert_eq!(b.open_at_end, [InstrumentId(0)]);
        assert_eq!(b.open_adopted, [InstrumentId(0)]);
        // A position a strategy opened is open but not adopted.
        let b = book(&[Booking::Fill(fill(
            1,
            0,
            Side::Buy,
            10,
            "100",
            IntentReason::Entry,
        ))]);
        assert_eq!(b.open_at_end, [InstrumentId(0)]);
        assert!(b.open_adopted.is_empty());
    }

    #[test]
    fn an_adoption_on_the_same_side_reprices_the_units_still_held() {
        use IntentReason::*;
        let bookings = [
            Booking::Fill(fill(1, 0, Side::Buy, 10, "100", Entry)),
            Booking::Fill(fill(2, 60, Side::Sell, 4, "104", Exit)),
            // The broker holds 9 at 101 where the book held 6.
            adoption(120, 9, "101"),
            Booking::Fill(fill(3, 180, Side::Sell, 9, "103", Exit)),
        ];
        let b = book(&bookings);
        assert_eq!(b.trades.len(), 1);
        let t = &b.trades[0];
        // 4 × (104 − 100) + 9 × (103 − 101) = 16 + 18.
        assert_eq!(t.gross, Money::from_rupees(34));
        assert_eq!(t.gross, booked_realised(&bookings));
        // (4 × 100 + 9 × 101) / 13, truncated.
        assert_eq!(t.entry_price, "100.69230769".parse().unwrap());
        assert_eq!((t.qty, t.entry_ts), (Qty::new(10), UnixNanos(0)));
        assert_eq!(t.strategy, StrategyId(1));
        assert_eq!(t.adopted.as_str(), "entry");
    }

    #[test]
    fn an_adoption_to_flat_or_to_the_other_side_ends_the_trade() {
        use IntentReason::*;
        let bookings = [
            Booking::Fill(fill(1, 0, Side::Buy, 25, "49.80", Entry)),
            Booking::Fill(fill(2, 60, Side::Sell, 5, "50.80", Exit)),
            // The broker is short 10: the 20 long units left without a fill.
            adoption(120, -10, "51"),
            Booking::Fill(fill(3, 180, Side::Buy, 10, "50", Manual)),
            adoption(240, 0, "0"),
        ];
        let b = book(&bookings);
        assert_eq!(b.trades.len(), 2);
        let long = &b.trades[0];
        assert_eq!(long.adopted.as_str(), "exit");
        assert_eq!(long.exit_ts, UnixNanos(120_000_000_000));
        assert_eq!(long.gross, Money::from_rupees(5), "what its fills realised");
        assert_eq!(long.exit_price, "50.80".parse().unwrap());
        let short = &b.trades[1];
        assert_eq!(short.adopted.as_str(), "entry");
        assert_eq!((short.direction, short.qty), (Side::Sell, Qty::new(10)));
        assert_eq!(short.gross, Money::from_rupees(10));
        assert_eq!(
            long.gross.checked_add(short.gross).unwrap(),
            booked_realised(&bookings)
        );
        // The last adoption found the book flat and leaves it so: nothing opens.
        assert!(b.open_at_end.is_empty());
    }
}
