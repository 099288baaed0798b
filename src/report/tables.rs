//! The trade journal's summary tables: per strategy side by side, and per day (the
//! tables the system tickpipe replaces never filled: `trade_performance` is the trade
//! list itself, `daily_performance` is [`DayRow`]).

use crate::{
    model::{Date, Money, StrategyId},
    report::{Drawdowns, EquityCurve, RiskMetrics, Trade},
};

/// One strategy's round trips summed up.
#[derive(Debug, Clone, PartialEq)]
pub struct StrategyStats {
    /// Which strategy.
    pub strategy: StrategyId,
    /// Round trips closed.
    pub trades: usize,
    /// Those that made money after charges.
    pub winners: usize,
    /// Sum of the winners' net P&L.
    pub won: Money,
    /// Sum of the losers' net P&L (zero or negative).
    pub lost: Money,
    /// P&L before charges.
    pub gross: Money,
    /// Charges.
    pub charges: Money,
    /// The largest fall of the strategy's cumulative net P&L, trade by trade (zero or
    /// negative).
    pub max_drawdown: Money,
    /// Sharpe ratio of the strategy's daily net P&L as returns on `capital`; NaN with
    /// fewer than two days.
    pub sharpe: f64,
}

impl StrategyStats {
    /// P&L after charges.
    pub fn net(&self) -> Money {
        self.gross.saturating_add(self.charges.neg())
    }

    /// Winners over trades (NaN without trades).
    pub fn win_rate(&self) -> f64 {
        self.winners as f64 / self.trades as f64
    }

    /// Average net P&L of a winner (zero without winners).
    pub fn average_win(&self) -> Money {
        divide(self.won, self.winners)
    }

    /// Average net P&L of a loser (zero without losers).
    pub fn average_loss(&self) -> Money {
        divide(self.lost, self.trades - self.winners)
    }

    /// Won over |lost| (infinite with no loss, NaN with neither).
    pub fn profit_factor(&self) -> f64 {
        self.won.to_f64() / self.lost.to_f64().abs()
    }

    /// Net P&L per trade.
    pub fn expectancy(&self) -> Money {
        divide(self.net(), self.trades)
    }
}

/// `total / n`, zero when `n` is zero (truncated to the money unit).
fn divide(total: Money, n: usize) -> Money {
    if n == 0 {
        return Money::ZERO;
    }
    Money::from_raw(total.raw() / n as i128)
}

/// One trading day (the day a trade closed, in IST).
#[derive(Debug, Clone, PartialEq)]
pub struct DayRow {
    /// The day.
    pub date: Date,
    /// Round trips closed that day.
    pub trades: usize,
    /// Those that made money after charges.
    pub winners: usize,
    /// P&L before charges.
    pub gross: Money,
    /// Charges.
    pub charges: Money,
    /// The best trade's net P&L (zero without a winner).
    pub largest_win: Money,
    /// The worst trade's net P&L (zero without a loser).
    pub largest_loss: Money,
    /// Capital plus every closed trade's net P&L up to the end of the day.
    pub equity: Money,
    /// Sharpe ratio of the daily returns up to this day (NaN before the second day).
    pub sharpe_to_date: f64,
    /// Max drawdown of the daily equity up to this day, a negative fraction.
    pub max_drawdown_to_date: f64,
}

impl DayRow {
    /// P&L after charges.
    pub fn net(&self) -> Money {
        self.gross.saturating_add(self.charges.neg())
    }

    /// Trades that did not make money after charges.
    pub fn losers(&self) -> usize {
        self.trades - self.winners
    }
}

/// The per-strategy table for `strategies` strategies, in id order.
pub fn by_strategy(trades: &[Trade], strategies: usize, capital: Money) -> Vec<StrategyStats> {
    (0..strategies)
        .map(|i| {
            let id = StrategyId(i as u16);
            let own: Vec<&Trade> = trades.iter().filter(|t| t.strategy == id).collect();
            let mut stats = StrategyStats {
                strategy: id,
                trades: own.len(),
                winners: 0,
                won: Money::ZERO,
                lost: Money::ZERO,
                gross: Money::ZERO,
                charges: Money::ZERO,
                max_drawdown: Money::ZERO,
                sharpe: f64::NAN,
            };
            let (mut level, mut peak) = (Money::ZERO, Money::ZERO);
            for t in &own {
                let net = t.net();
                if t.won() {
                    stats.winners += 1;
                    stats.won = stats.won.saturating_add(net);
                } else {
                    stats.lost = stats.lost.saturating_add(net);
                }
                stats.gross = stats.gross.saturating_add(t.gross);
                stats.charges = stats.charges.saturating_add(t.charges);
                level = level.saturating_add(net);
                peak = peak.max(level);
                stats.max_drawdown = stats.max_drawdown.min(level.saturating_add(peak.neg()));
            }
            let owned: Vec<Trade> = own.into_iter().cloned().collect();
            stats.sharpe = daily_sharpe(&by_day(&owned, capital));
            stats
        })
        .collect()
}

/// Sharpe ratio of the days' equity, NaN with fewer than two days after the start.
fn daily_sharpe(days: &[DayRow]) -> f64 {
    days.last().map_or(f64::NAN, |d| d.sharpe_to_date)
}

/// The per-day table of `trades` (in closing order) on `capital`.
pub fn by_day(trades: &[Trade], capital: Money) -> Vec<DayRow> {
    let mut days: Vec<DayRow> = Vec::new();
    let mut equity = capital;
    for t in trades {
        let date = t.exit_ts.ist_date();
        if days.last().map_or(true, |d| d.date != date) {
            days.push(DayRow {
                date,
                trades: 0,
                winners: 0,
                gross: Money::ZERO,
                charges: Money::ZERO,
                largest_win: Money::ZERO,
                largest_loss: Money::ZERO,
                equity,
                sharpe_to_date: f64::NAN,
                max_drawdown_to_date: 0.0,
            });
        }
        let Some(day) = days.last_mut() else {
            continue;
        };
        let net = t.net();
        day.trades += 1;
        day.winners += usize::from(t.won());
        day.gross = day.gross.saturating_add(t.gross);
        day.charges = day.charges.saturating_add(t.charges);
        day.largest_win = day.largest_win.max(net);
        day.largest_loss = day.largest_loss.min(net);
        equity = equity.saturating_add(net);
        day.equity = equity;
    }
    // Running statistics on the curve: capital the day before the first, then each
    // day's closing equity.
    let mut rows = Vec::with_capacity(days.len() + 1);
    if let Some(first) = days.first() {
        rows.push((first.date.add_days(-1), capital.to_f64()));
    }
    for day in &mut days {
        rows.push((day.date, day.equity.to_f64()));
        if let Ok(curve) = EquityCurve::new(rows.clone()) {
            let metrics = RiskMetrics::of(&curve.returns());
            day.sharpe_to_date = if curve.returns().len() >= 2 {
                metrics.sharpe_ratio
            } else {
                f64::NAN
            };
            day.max_drawdown_to_date = Drawdowns::of(&curve)
                .max_drawdown_episode
                .map_or(0.0, |e| e.depth);
        }
    }
    days
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{InstrumentId, IntentReason, Price, Qty, Side, TimeOfDay, UnixNanos};

    fn trade(strategy: u16, day: u8, gross: i64, charges: i64) -> Trade {
        let at = UnixNanos::from_ist(Date::new(2026, 12, day), TimeOfDay::hm(11, 0));
        Trade {
            number: 0,
            strategy: StrategyId(strategy),
            instrument: InstrumentId(0),
            direction: Side::Buy,
            qty: Qty::new(1),
            entry_ts: at,
            entry_price: Price::ZERO,
            exit_ts: at,
            exit_price: Price::ZERO,
            gross: Money::from_rupees(gross),
            charges: Money::from_rupees(charges),
            exit_reason: IntentReason::Exit,
            entry_value: Money::from_rupees(1000),
            slippage: None,
            adopted: Default::default(),
        }
    }

    #[test]
    fn strategies_side_by_side() {
        let trades = [
            trade(0, 1, 100, 10),  // +90
            trade(0, 1, -50, 10),  // −60
            trade(0, 2, 200, 10),  // +190
            trade(0, 2, -100, 10), // −110
            trade(1, 2, 5, 10),    // −5: a gross win lost to charges
        ];
        let s = by_strategy(&trades, 3, Money::from_rupees(100_000));
        let a = &s[0];
        assert_eq!((a.trades, a.winners), (4, 2));
        assert_eq!(a.net(), Money::from_rupees(110));
        assert_eq!(a.average_win(), Money::from_rupees(140));
        assert_eq!(a.average_loss(), Money::from_rupees(-85));
        assert!((a.profit_factor() - 280.0 / 170.0).abs() < 1e-12);
        assert_eq!(a.expectancy(), "27.5".parse().unwrap(), "110 over 4");
        assert_eq!(
            a.max_drawdown,
            Money::from_rupees(-110),
            "from +220 to +110"
        );
        assert!(a.sharpe.is_finite(), "two days");
        assert_eq!((s[1].trades, s[1].winners), (1, 0));
        assert!(s[1].sharpe.is_nan(), "one day");
        assert_eq!(s[2].trades, 0);
        assert!(s[2].win_rate().is_nan());
    }

    #[test]
    fn days_with_running_equity_and_drawdown() {
        let trades = [
            trade(0, 1, 1000, 0),
            trade(0, 2, -3000, 0),
            trade(0, 3, 500, 0),
        ];
        let days = by_day(&trades, Money::from_rupees(100_000));
        assert_eq!(days.len(), 3);
        assert_eq!(days[1].equity, Money::from_rupees(98_000));
        assert_eq!(
            (days[1].largest_win, days[1].largest_loss),
            (Money::ZERO, Money::from_rupees(-3000))
        );
        assert_eq!(days[1].losers(), 1);
        assert!(days[0].sharpe_to_date.is_nan());
        assert!((days[2].max_drawdown_to_date - (98_000.0 / 101_000.0 - 1.0)).abs() < 1e-12);
    }
}
