//! The figures of a synthetic session: its trades summed up and its daily equity curve
//! measured as the performance report measures one (empyrical's definitions), so
//! `stats.json`, the summary line and the comparison table say the same thing.

use serde_json::{Map, Value};

use crate::{
    model::Money,
    report::{rupees, Drawdowns, EquityCurve, RiskMetrics},
};

use super::session::{SessionOutcome, SlippageTotal};

/// A session's figures.
#[derive(Debug, Clone)]
pub struct SessionStats {
    /// Days traded.
    pub days: usize,
    /// Round trips closed.
    pub trades: usize,
    /// Those that made money after charges.
    pub winners: usize,
    /// Sum of the winners' net P&L.
    pub won: Money,
    /// Sum of the other trades' net P&L (zero or negative).
    pub lost: Money,
    /// P&L of the round trips before charges.
    pub gross: Money,
    /// Their charges.
    pub charges: Money,
    /// The configured capital.
    pub capital: Money,
    /// Equity at the end of the last day, as the risk stage marks it.
    pub final_equity: Money,
    /// Slippage over every strategy.
    pub slippage: SlippageTotal,
    /// The daily curve's statistics: NaN throughout when there is no curve.
    pub metrics: RiskMetrics,
    /// Its drawdown episodes, when there is a curve.
    pub drawdowns: Option<Drawdowns>,
}

impl SessionStats {
    /// The figures of `outcome`.
    pub fn of(outcome: &SessionOutcome) -> SessionStats {
        let mut s = SessionStats {
            days: outcome.days.len(),
            trades: outcome.trades().len(),
            winners: 0,
            won: Money::ZERO,
            lost: Money::ZERO,
            gross: Money::ZERO,
            charges: Money::ZERO,
            capital: outcome.capital,
            final_equity: outcome
                .days
                .last()
                .map_or(outcome.capital, |d| d.end_equity),
            slippage: SlippageTotal::default(),
            metrics: RiskMetrics::of(&[]),
            drawdowns: None,
        };
        for t in outcome.trades() {
            if t.won() {
                s.winners += 1;
                s.won = s.won.saturating_add(t.net());
            } else {
                s.lost = s.lost.saturating_add(t.net());
            }
            s.gross = s.gross.saturating_add(t.gross);
            s.charges = s.charges.saturating_add(t.charges);
        }
        for row in &outcome.slippage {
            s.slippage.fills += row.fills;
            s.slippage.money = s.slippage.money.saturating_add(row.money);
            s.slippage.centi_bps_weighted += row.centi_bps_weighted;
        }
        if let Ok(curve) = EquityCurve::new(outcome.equity_curve()) {
            s.metrics = RiskMetrics::of(&curve.returns());
            s.drawdowns = Some(Drawdowns::of(&curve));
        }
        s
    }

    /// P&L of the round trips after charges.
    pub fn net(&self) -> Money {
        self.gross.saturating_add(self.charges.neg())
    }

    /// Winners over trades (NaN without trades).
    pub fn win_rate(&self) -> f64 {
        self.winners as f64 / self.trades as f64
    }

    /// Won over |lost| (infinite with no loss, NaN with neither).
    pub fn profit_factor(&self) -> f64 {
        self.won.to_f64() / self.lost.to_f64().abs()
    }

    /// `stats.json`: empyrical's keys and the drawdown figures as `tickpipe report
    /// --equity --json` prints them, then the trade figures and what ran. Non-finite
    /// numbers are `null`.
    ///
    /// # Errors
    /// When a part does not serialise to an object (it always does).
    pub fn json(&self, strategies: &[&str], risk_profile: &str) -> Result<Value, String> {
        let mut object = Map::new();
        let metrics = serde_json::to_value(self.metrics).map_err(|e| e.to_string())?;
        let drawdowns = match &self.drawdowns {
            Some(d) => serde_json::to_value(d).map_err(|e| e.to_string())?,
            None => Value::Object(Map::new()),
        };
        for part in [metrics, drawdowns] {
            match part {
                Value::Object(fields) => object.extend(fields),
                other => return Err(format!("internal: {other} is not an object")),
            }
        }
        let finite = |x: f64| {
            if x.is_finite() {
                Value::from(x)
            } else {
                Value::Null
            }
        };
        let fields = [
            ("risk_profile", Value::from(risk_profile)),
            ("strategies", Value::from(strategies.to_vec())),
            ("days", Value::from(self.days)),
            ("trades", Value::from(self.trades)),
            ("winners", Value::from(self.winners)),
            ("win_rate", finite(self.win_rate())),
            ("profit_factor", finite(self.profit_factor())),
            ("gross", Value::from(rupees(self.gross))),
            ("charges", Value::from(rupees(self.charges))),
            ("net", Value::from(rupees(self.net()))),
            ("capital", Value::from(rupees(self.capital))),
            ("final_equity", Value::from(rupees(self.final_equity))),
            ("slippage_fills", Value::from(self.slippage.fills)),
            ("slippage", Value::from(rupees(self.slippage.money))),
            ("slippage_mean_bps", finite(self.slippage.mean_bps())),
        ];
        for (key, value) in fields {
            object.insert(key.to_owned(), value);
        }
        Ok(Value::Object(object))
    }
}
