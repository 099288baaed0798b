//! The figures of a backtest: the account's totals, the trade statistics under the
//! names the trade report uses (`trades`, `winners`, `win_rate`, `profit_factor`,
//! `expectancy`, `gross`, `charges`, `net`), and the risk statistics of the daily
//! equity curve under empyrical's names, computed by [`crate::report`] itself.

use serde_json::{json, Map, Value};

use crate::report::{Drawdowns, EquityCurve, RiskMetrics};

use super::{OhlcvBar, Outcome, Settings};

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
    /// The figures of `outcome` over `bars`.
    pub fn of(bars: &[OhlcvBar], outcome: &Outcome) -> Stats {
        let equity = &outcome.equity;
        let first = equity.first().copied().unwrap_or(f64::NAN);
        let final_equity = equity.last().copied().unwrap_or(f64::NAN);
        let trades = &outcome.trades;
        let mut in_trade = vec![false; bars.len()];
        for t in trades {
            for slot in in_trade.iter_mut().take(t.exit_bar + 1).skip(t.entry_bar) {
                *slot = true;
            }
        }
        let mut peak = f64::MIN;
        let mut max_drawdown_bars: f64 = 0.0;
        for &e in equity {
            peak = peak.max(e);
            max_drawdown_bars = max_drawdown_bars.min(e / peak - 1.0);
        }
        Stats {
            final_equity,
            equity_peak: equity.iter().copied().fold(f64::MIN, f64::max),
            total_return: (final_equity - first) / first,
            trades: trades.len(),
            winners: trades.iter().filter(|t| t.pnl > 0.0).count(),
            gross: trades.iter().map(|t| t.pnl + t.commission).sum(),
            charges: trades.iter().map(|t| t.commission).sum(),
            won: trades.iter().map(|t| t.pnl).filter(|&p| p > 0.0).sum(),
            lost: trades.iter().map(|t| t.pnl).filter(|&p| p <= 0.0).sum(),
            exposure: in_trade.iter().filter(|&&b| b).count() as f64 / bars.len() as f64,
            max_drawdown_bars,
            daily: daily_curve(bars, equity)
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
    pub fn json(
        &self,
        run: &RunInfo<'_>,
        bars: &[OhlcvBar],
        outcome: &Outcome,
        settings: &Settings,
    ) -> Value {
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
        out.insert("sizing".into(), settings.sizing.as_str().into());
        out.insert("fill".into(), settings.fill.as_str().into());
        out.insert("commission".into(), num(settings.commission));
        out.insert("cash".into(), num(settings.cash));
        out.insert("finalize".into(), settings.finalize.into());
        out.insert("bars".into(), bars.len().into());
        out.insert("start".into(), bars.first().map(|b| b.time.as_str()).into());
        out.insert("end".into(), bars.last().map(|b| b.time.as_str()).into());
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
        let open = outcome.open_at_end.map(|t| {
            let last = bars.last().map_or(f64::NAN, OhlcvBar::close_f64);
            json!({
                "qty": t.size,
                "entry_bar": t.entry_bar,
                "entry_time": bars.get(t.entry_bar).map(|b| b.time.as_str()),
                "entry_price": num(t.entry_price),
                "unrealised_pnl": num(t.mark(last)),
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
}

/// A finite number, or `null`.
fn num(x: f64) -> Value {
    if x.is_finite() {
        Value::from(x)
    } else {
        Value::Null
    }
}

/// The last equity of each date, as the report's daily curve (`None` if under two
/// dates or an equity is not positive).
fn daily_curve(bars: &[OhlcvBar], equity: &[f64]) -> Option<EquityCurve> {
    let mut rows: Vec<(crate::model::Date, f64)> = Vec::new();
    for (bar, &e) in bars.iter().zip(equity) {
        match rows.last_mut() {
            Some(last) if last.0 == bar.date => last.1 = e,
            _ => rows.push((bar.date, e)),
        }
    }
    EquityCurve::new(rows).ok()
}
