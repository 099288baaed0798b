//! The simulated account on bars: cash, the open trade, commission, closed trades.
//!
//! The arithmetic is backtesting.py 0.6.6's, in its order of operations and in `f64`,
//! so that the validation cases reproduce the library's trades and equity to the last
//! bit (the fixture README, "Closing and reversing" and "Commission"): a fill's size
//! depends on the cash left by every trade before it, and a different rounding anywhere
//! would eventually move a floor division by one unit. The engine's own money stays
//! exact decimals; this account is the comparison mode for other tools' all-in sizing.

use crate::model::Direction;

use super::Sizing;

/// The one trade that can be open (signals are targets and alternate, so a reversal
/// closes the old trade before the new one opens).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OpenTrade {
    /// Units, negative for a short.
    pub size: i64,
    /// The bar it was filled on.
    pub entry_bar: usize,
    /// The fill price.
    pub entry_price: f64,
    /// The commission paid at entry.
    pub entry_commission: f64,
}

impl OpenTrade {
    /// `size × (price − entry)`: the trade's P&L if closed at `price`, as the library
    /// books it into cash and into the trade's `PnL`.
    pub fn mark(&self, price: f64) -> f64 {
        self.size as f64 * (price - self.entry_price)
    }

    /// `size·price − size·entry`: the same P&L in the evaluation order of the library's
    /// equity curve. It differs from [`OpenTrade::mark`] in the last bit now and then,
    /// and the fixtures' equity matches this order on every bar (and the other on
    /// about three bars in four).
    pub fn unrealised(&self, price: f64) -> f64 {
        let size = self.size as f64;
        size * price - size * self.entry_price
    }

    fn direction(&self) -> Direction {
        if self.size > 0 {
            Direction::Long
        } else {
            Direction::Short
        }
    }
}

/// A closed trade, as backtesting.py's `_trades` row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClosedTrade {
    /// Units, negative for a short.
    pub size: i64,
    /// Bar of the entry fill.
    pub entry_bar: usize,
    /// Bar of the exit fill.
    pub exit_bar: usize,
    /// Entry fill price (no commission in it).
    pub entry_price: f64,
    /// Exit fill price.
    pub exit_price: f64,
    /// `size × (exit − entry) − commission`.
    pub pnl: f64,
    /// `|size|·exit·rate + |size|·entry·rate`.
    pub commission: f64,
    /// `sign(size)·(exit/entry − 1) − commission/(|size|·entry)`, a fraction.
    pub return_pct: f64,
}

/// Cash, the open trade and the closed ones.
#[derive(Debug, Clone)]
pub struct Account {
    cash: f64,
    /// Commission as a fraction of notional, charged on entry and on exit.
    rate: f64,
    sizing: Sizing,
    open: Option<OpenTrade>,
    closed: Vec<ClosedTrade>,
    /// Entries the sizing gave no whole unit for (the library cancels them too).
    skipped_entries: u64,
}

impl Account {
    /// An account holding `cash`, paying `rate` × notional per fill.
    pub fn new(cash: f64, rate: f64, sizing: Sizing) -> Account {
        Account {
            cash,
            rate,
            sizing,
            open: None,
            closed: Vec::new(),
            skipped_entries: 0,
        }
    }

    /// `|size| · price · rate`.
    fn commission(&self, size: i64, price: f64) -> f64 {
        size.unsigned_abs() as f64 * price * self.rate
    }

    /// Makes the position `target`, filling at `price` on `bar`: a trade on the other
    /// side (or any trade, for [`Direction::Flat`]) is closed first and its cash
    /// settled, then a new trade is sized from that cash and opened at the same price.
    /// A target already held changes nothing.
    pub fn target(&mut self, target: Direction, bar: usize, price: f64) {
        if self.open.is_some_and(|t| t.direction() == target) {
            return;
        }
        self.close(bar, price);
        let sign = match target {
            Direction::Long => 1,
            Direction::Short => -1,
            Direction::Flat => return,
        };
        // No trade is open here, so the equity free to size with is the cash.
        let units = self.sizing.units(self.cash, price, self.rate);
        if units <= 0 {
            self.skipped_entries += 1;
            return;
        }
        let size = sign * units;
        let commission = self.commission(size, price);
        self.cash -= commission;
        self.open = Some(OpenTrade {
            size,
            entry_bar: bar,
            entry_price: price,
            entry_commission: commission,
        });
    }

    /// Closes the open trade, if any, at `price` on `bar`.
    pub fn close(&mut self, bar: usize, price: f64) {
        let Some(trade) = self.open.take() else {
            return;
        };
        let exit_commission = self.commission(trade.size, price);
        self.cash += trade.mark(price) - exit_commission;
        let commission = exit_commission + trade.entry_commission;
        let units = trade.size.unsigned_abs() as f64;
        let sign = trade.size.signum() as f64;
        self.closed.push(ClosedTrade {
            size: trade.size,
            entry_bar: trade.entry_bar,
            exit_bar: bar,
            entry_price: trade.entry_price,
            exit_price: price,
            pnl: trade.mark(price) - commission,
            commission,
            return_pct: sign * (price / trade.entry_price - 1.0)
                - commission / (units * trade.entry_price),
        });
    }

    /// `cash + (size·close − size·entry)` of the open trade: equity marked at `close`.
    pub fn equity(&self, close: f64) -> f64 {
        self.cash + self.open.map_or(0.0, |t| t.unrealised(close))
    }

    /// The trade still open, if any.
    pub fn open_trade(&self) -> Option<&OpenTrade> {
        self.open.as_ref()
    }

    /// The closed trades, in closing order.
    pub fn closed(&self) -> &[ClosedTrade] {
        &self.closed
    }

    /// Entries cancelled because not one unit was affordable.
    pub fn skipped_entries(&self) -> u64 {
        self.skipped_entries
    }

    /// The closed trades, giving up the account.
    pub fn into_closed(self) -> Vec<ClosedTrade> {
        self.closed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The README's commission rule, by hand: rate 0.2 %, cash 10 000.
    /// Long at 100: units = 9999.999…/(100 + 0.2) → 99; entry commission
    /// 99·100·0.002 = 19.8, cash 9980.2. Exit at 110: exit commission 99·110·0.002 =
    /// 21.78; cash += 99·10 − 21.78 → 10948.42. The trade's commission 41.58, PnL
    /// 990 − 41.58 = 948.42, return 0.1 − 41.58/9900 = 0.0958.
    #[test]
    fn commission_on_entry_and_exit_as_the_readme_states() {
        let mut account = Account::new(10_000.0, 0.002, Sizing::Equity);
        account.target(Direction::Long, 1, 100.0);
        let open = *account.open_trade().unwrap();
        assert_eq!(open.size, 99);
        assert!((open.entry_commission - 19.8).abs() < 1e-9);
        assert!((account.equity(100.0) - 9980.2).abs() < 1e-9);
        account.target(Direction::Short, 5, 110.0);
        let t = account.closed()[0];
        assert_eq!((t.size, t.entry_bar, t.exit_bar), (99, 1, 5));
        assert!((t.commission - 41.58).abs() < 1e-9);
        assert!((t.pnl - 948.42).abs() < 1e-9);
        assert!((t.return_pct - 0.0958).abs() < 1e-12);
        // The reversal is sized from the settled cash: 10948.42/(110 + 0.22) → 99.
        let short = *account.open_trade().unwrap();
        assert_eq!(short.size, -99);
        assert_eq!(short.entry_bar, 5);
        let cash = 10_948.42 - 99.0 * 110.0 * 0.002;
        assert!((account.equity(100.0) - (cash + 99.0 * 10.0)).abs() < 1e-9);
    }

    #[test]
    fn holding_the_target_is_a_no_op_and_flat_closes() {
        let mut account = Account::new(1_000.0, 0.0, Sizing::Equity);
        account.target(Direction::Long, 0, 10.0);
        account.target(Direction::Long, 1, 12.0);
        assert_eq!(account.open_trade().unwrap().entry_bar, 0);
        account.target(Direction::Flat, 2, 11.0);
        assert!(account.open_trade().is_none());
        assert_eq!(account.closed()[0].size, 99);
        assert!((account.equity(50.0) - (1_000.0 + 99.0)).abs() < 1e-9);
    }

    #[test]
    fn an_unaffordable_entry_is_skipped() {
        let mut account = Account::new(50.0, 0.0, Sizing::Equity);
        account.target(Direction::Long, 0, 60.0);
        assert!(account.open_trade().is_none());
        assert_eq!(account.skipped_entries(), 1);
    }
}
