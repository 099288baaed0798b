//! The P&L of a list of round trips as time series, for the report's plots: the equity
//! (capital plus closed trades' net P&L), its fall below the running peak, and each
//! strategy's cumulative net P&L. A point per closed trade, at its exit time; the first
//! point is the capital at the first trade's entry.

use crate::{
    model::{Money, StrategyId, UnixNanos},
    report::Trade,
};

/// The series behind `equity.svg`, `drawdown.svg` and `strategies.svg`.
#[derive(Debug, Clone, PartialEq)]
pub struct PnlSeries {
    /// The capital the equity starts from.
    pub capital: Money,
    /// `(time, equity)`: capital, then after each trade's exit.
    pub equity: Vec<(UnixNanos, Money)>,
    /// Per strategy (all of them, in id order, even those without trades):
    /// `(time, cumulative net P&L)` starting at zero.
    pub strategies: Vec<(StrategyId, Vec<(UnixNanos, Money)>)>,
}

impl PnlSeries {
    /// The series of `trades` (in closing order) for `strategies` strategies.
    pub fn of(trades: &[Trade], strategies: usize, capital: Money) -> PnlSeries {
        let start = trades.iter().map(|t| t.entry_ts).min().unwrap_or_default();
        let mut equity = vec![(start, capital)];
        let mut per: Vec<(StrategyId, Vec<(UnixNanos, Money)>)> = (0..strategies)
            .map(|i| (StrategyId(i as u16), vec![(start, Money::ZERO)]))
            .collect();
        let mut level = capital;
        for t in trades {
            level = level.saturating_add(t.net());
            equity.push((t.exit_ts, level));
            if let Some((_, points)) = per.get_mut(t.strategy.index()) {
                let last = points.last().map_or(Money::ZERO, |p| p.1);
                points.push((t.exit_ts, last.saturating_add(t.net())));
            }
        }
        // Strategies without a trade after the start stay flat to the end.
        let end = equity.last().map_or(start, |p| p.0);
        for (_, points) in &mut per {
            if let Some(&(at, value)) = points.last() {
                if at < end {
                    points.push((end, value));
                }
            }
        }
        PnlSeries {
            capital,
            equity,
            strategies: per,
        }
    }

    /// `(time, equity / running peak − 1)`: zero at a new high, negative below it.
    pub fn underwater(&self) -> Vec<(UnixNanos, f64)> {
        let mut peak = f64::MIN;
        self.equity
            .iter()
            .map(|&(at, e)| {
                let e = e.to_f64();
                peak = peak.max(e);
                let depth = if peak > 0.0 { e / peak - 1.0 } else { 0.0 };
                (at, depth)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Date, InstrumentId, IntentReason, Price, Qty, Side, TimeOfDay};

    fn trade(strategy: u16, minute: u32, net: i64) -> Trade {
        let at = UnixNanos::from_ist(Date::new(2026, 11, 25), TimeOfDay::hm(10, minute));
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
            gross: Money::from_rupees(net),
            charges: Money::ZERO,
            exit_reason: IntentReason::Exit,
            entry_value: Money::ZERO,
            slippage: None,
            adopted: Default::default(),
        }
    }

    #[test]
    fn equity_underwater_and_strategy_lines() {
        let trades = [trade(0, 1, 1000), trade(1, 2, -2000), trade(0, 3, 500)];
        let s = PnlSeries::of(&trades, 3, Money::from_rupees(100_000));
        let equity: Vec<Money> = s.equity.iter().map(|p| p.1).collect();
        assert_eq!(
            equity,
            [100_000, 101_000, 99_000, 99_500].map(Money::from_rupees)
        );
        let depth: Vec<f64> = s.underwater().iter().map(|p| p.1).collect();
        assert_eq!(depth[..2], [0.0, 0.0]);
        assert!((depth[2] - (99_000.0 / 101_000.0 - 1.0)).abs() < 1e-12);
        assert_eq!(s.strategies.len(), 3);
        assert_eq!(
            s.strategies[0].1.last().unwrap().1,
            Money::from_rupees(1500)
        );
        // Strategy 2 traded nothing: flat at zero from the start to the end.
        assert_eq!(s.strategies[2].1.len(), 2);
        assert_eq!(s.strategies[2].1[1], (trades[2].exit_ts, Money::ZERO));
    }
}
