//! The figures of a backtest: the account's totals, the trade statistics under the
//! names the trade report uses (`trades`, `winners`, `win_rate`, `profit_factor`,
//! `expectancy`, `gross`, `charges`, `net`), and the risk statistics of the daily
//! equity curve under empyrical's names, computed by [`crate::report`] itself.

use serde_json::{json, Map, Value};

use crate::report::{Drawdowns, EquityCurve, RiskMetrics};

use super::{ClosedTrade, Outcome, Settings};

/// Everything `stats.json` holds, computed once.
#[derive(Debug, Clone)]
pub struct Stats {
    /// Equity at the last bar.
    pub final_equity: f64,
    /// The highest equity.
    pub equity_peak: f64,
    /// `(last − first) / first`, a fraction.
    pub total_return: f64,
    /// Closed trades.
    pub trades: usize,
    /// Closed trades with P&L above zero.
    pub winners: usize,
    /// Sum of closed trades' P&L before commission.
    pub gross: f64,
    /// Sum of closed trades' commission.
    pub charges: f64,
    /// Sum of the winners' P&L.
    pub won: f64,
    /// Sum of the losers' P&L (zero or negative).
    pub lost: f64,
    /// Share of bars inside a closed trade, entry to exit bar inclusive (as
    /// backtesting.py's `Exposure Time`).
    pub exposure: f64,
    /// The deepest fall of the per-bar equity below its running peak, a negative
    /// fraction.
    pub max_drawdown_bars: f64,
    /// Risk statistics of the daily curve (the last equity of each date); `None` with
    /// fewer than two dates.
    pub daily: Option<(RiskMetrics, Drawdowns)>,
}

impl Stats {
    /// The figures of `outcome`.
    pub fn of(outcome: &Outcome) -> Stats {
        let curve = &outcome.curve;
        let trades = &outcome.trades;
        Stats {
            final_equity: curve.last,
            equity_peak: curve.peak,
            total_return: (curve.last - curve.first) / curve.first,
            trades: trades.len(),
            winners: trades.iter().filter(|t| t.pnl > 0.0).count(),
            gross: trades.iter().map(|t| t.pnl + t.commission).sum(),
            charges: trades.iter().map(|t| t.commission).sum(),
            won: trades.iter().map(|t| t.pnl).filter(|&p| p > 0.0).sum(),
            lost: trades.iter().map(|t| t.pnl).filter(|&p| p <= 0.0).sum(),
            exposure: bars_in_trades(trades) as f64 / outcome.bars as f64,
            max_drawdown_bars: curve.max_drawdown,
            daily: EquityCurve::new(curve.daily.clone())
                .ok()
                .map(|curve| (RiskMetrics::of(&curve.returns()), Drawdowns::of(&curve))),
        }
    }

    /// Winners over trades (NaN without trades).
    pub fn win_rate(&self) -> f64 {
        self.winners as f64 / self.trades as f64
    }

    /// Won over |lost| (infinite with no loss, NaN with neither).
    pub fn profit_factor(&self) -> f64 {
        self.won / self.lost.abs()
    }

    /// `stats.json`: what ran, then the figures. Non-finite numbers are `null`.
    pub fn json(&self, run: &RunInfo<'_>, outcome: &Outcome, settings: &Settings) -> Value {
        let mut out = Map::new();
        out.insert("data".into(), run.data.into());
        out.insert("strategy".into(), run.strategy.into());
        let params: Map<String, Value> = run
            .params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Value::from(v.as_str())))
            .collect();
        out.insert("params".into(), Value::Object(params));
        out.insert("risk_profile".into(), run.risk_profile.into());
        out.insert("risk_profile_reason".into(), run.risk_reason.into());
        out.insert("sizing".into(), settings.sizing.as_str().into());
        out.insert("fill".into(), settings.fill.as_str().into());
        out.insert("commission".into(), num(settings.commission));
        out.insert("cash".into(), num(settings.cash));
        out.insert("finalize".into(), settings.finalize.into());
        out.insert("bars".into(), outcome.bars.into());
        out.insert("start".into(), outcome.first.time.as_str().into());
        out.insert("end".into(), outcome.last.time.as_str().into());
        out.insert("first_signal_bar".into(), outcome.first_signal_bar.into());
        out.insert("final_equity".into(), num(self.final_equity));
        out.insert("equity_peak".into(), num(self.equity_peak));
        out.insert("total_return".into(), num(self.total_return));
        out.insert("trades".into(), self.trades.into());
        out.insert("winners".into(), self.winners.into());
        out.insert("win_rate".into(), num(self.win_rate()));
        out.insert("profit_factor".into(), num(self.profit_factor()));
        out.insert(
            "expectancy".into(),
            num((self.gross - self.charges) / self.trades as f64),
        );
        out.insert("gross".into(), num(self.gross));
        out.insert("charges".into(), num(self.charges));
        out.insert("net".into(), num(self.gross - self.charges));
        out.insert("exposure".into(), num(self.exposure));
        out.insert("max_drawdown_bars".into(), num(self.max_drawdown_bars));
        let open = outcome.open_at_end.as_ref().map(|(t, entry_time)| {
            json!({
                "qty": t.size,
                "entry_bar": t.entry_bar,
                "entry_time": entry_time,
                "entry_price": num(t.entry_price),
                "unrealised_pnl": num(t.mark(outcome.last_close)),
            })
        });
        out.insert("open_trade_at_end".into(), open.into());
        out.insert(
            "unfilled_at_end".into(),
            outcome.unfilled_at_end.map(|d| format!("{d:?}")).into(),
        );
        out.insert("skipped_entries".into(), outcome.skipped_entries.into());
        let daily = self.daily.as_ref().map(|(metrics, drawdowns)| {
            let mut daily = match serde_json::to_value(metrics) {
                Ok(Value::Object(fields)) => fields,
                _ => Map::new(),
            };
            daily.insert(
                "longest_drawdown_duration_bars".into(),
                drawdowns.longest_drawdown_duration_bars.into(),
            );
            daily.insert(
                "longest_drawdown_duration_calendar_days".into(),
                drawdowns.longest_drawdown_duration_calendar_days.into(),
            );
            daily.insert("n_episodes".into(), drawdowns.n_episodes.into());
            Value::Object(daily)
        });
        out.insert("daily".into(), daily.into());
        Value::Object(out)
    }
}

/// What ran, for the outputs to say.
#[derive(Debug, Clone)]
pub struct RunInfo<'a> {
    /// The data file's name (not its path, so outputs do not depend on where it lies).
    pub data: &'a str,
    /// The strategy's name.
    pub strategy: &'a str,
    /// The `--param` pairs as given, in order.
    pub params: &'a [(&'a str, String)],
    /// Which risk profile ran: `none` (no risk stage; all-in sizing).
    pub risk_profile: &'a str,
    /// Why it ran, in one short clause: asked for, implied by `--sizing equity`, or
    /// the only one daily bars can run.
    pub risk_reason: &'a str,
}

/// A finite number, or `null`.
fn num(x: f64) -> Value {
    if x.is_finite() {
        Value::from(x)
    } else {
        Value::Null
    }
}

/// Bars inside a closed trade, entry to exit bar inclusive, each bar once: trades are in
/// closing order and one starts no earlier than the bar the one before ended on (a
/// reversal shares that bar).
fn bars_in_trades(trades: &[ClosedTrade]) -> usize {
    let mut covered_to: Option<usize> = None;
    let mut count = 0;
    for t in trades {
        let from = covered_to.map_or(t.entry_bar, |c| t.entry_bar.max(c + 1));
        if t.exit_bar >= from {
            count += t.exit_bar - from + 1;
            covered_to = Some(t.exit_bar);
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trade(entry_bar: usize, exit_bar: usize) -> ClosedTrade {
        ClosedTrade {
            size: 1,
            entry_bar,
            exit_bar,
            entry_price: 1.0,
            exit_price: 1.0,
            pnl: 0.0,
            commission: 0.0,
            return_pct: 0.0,
        }
    }

    #[test]
    fn a_reversal_bar_counts_once() {
        assert_eq!(bars_in_trades(&[]), 0);
        assert_eq!(bars_in_trades(&[trade(2, 4)]), 3);
        // 2..=4, then 4..=6 shares bar 4, then 9..=9.
        assert_eq!(bars_in_trades(&[trade(2, 4), trade(4, 6), trade(9, 9)]), 6);
    }
}
