//! Entry size from the risk budget and the distance to the stop.

use super::{whole_lots, CheckContext, Proposal, Refusal, RiskCheck};
use crate::{
    model::{Money, Price, Side, Signal},
    risk::config::RiskConfig,
};

/// The weight of a full-size entry, in percent.
const FULL_WEIGHT: u8 = Signal::FULL_WEIGHT;
const FULL_WEIGHT_I: i128 = FULL_WEIGHT as i128;

/// Sizes an entry so that hitting its stop loses at most the per-trade risk budget,
/// `floor(budget / |reference − stop|)`, and that its value stays within the
/// per-position cap, `floor(cap / reference)`; the smaller, rounded down to whole lots.
///
/// Budget and cap are `risk_per_trade_pct` and `max_position_pct` of
/// [`CheckContext::equity`]: of equity (capital + realised net P&L + unrealised P&L) by
/// default, so entries shrink after losses, or of the fixed capital
/// (`risk.sizing_basis`).
///
/// The stop comes with the signal; when the signal's stop is zero it is set
/// `default_stop_pct` percent away from the reference price (below for a long, above
/// for a short, truncated to the 10^-8 unit). Exits pass unchanged.
///
/// An entry weighted below 100 % ([`Proposal::weight_pct`], the regime weights of
/// `[strategy.regime_adaptive.weight]`) is sized as if capital were that share of
/// itself: the budget *and* the position cap scale, since with a stop closer than
/// budget ÷ cap (1 % under the default 2 % budget and 20 % cap) the cap is the limit
/// that binds, and scaling the budget alone would leave the size unchanged. Weights
/// above 100 count as 100: a weight never raises the configured limits.
///
/// # Examples
/// ```
/// use tickpipe::{model::*, risk::*};
/// let mut config = RiskConfig::default(); // 2 % at risk
/// config.max_position_pct = Money::from_rupees(500); // no position cap in this example
/// let sizing = RiskSizing::from_config(&config);
/// let flat = Position::default();
/// let ctx = CheckContext { position: &flat, lot_size: 1, time: TimeOfDay::hm(10, 0),
///                          trading: TradingState::Active, exposure: Money::ZERO,
///                          now: UnixNanos(0), last_order: UnixNanos(0),
///                          equity: Money::from_rupees(1_000_000) };
/// let mut p = Proposal { instrument: InstrumentId(0), strategy: StrategyId(0),
///     side: Side::Buy, reason: IntentReason::Entry, reference: "250".parse().unwrap(),
///     stop: Price::ZERO, qty: Qty::ZERO, weight_pct: 100 };
/// sizing.check(&mut p, &ctx).unwrap();
/// assert_eq!(p.stop, "247.50".parse().unwrap());       // 1% below
/// assert_eq!(p.qty, Qty::new(8000));                   // 20 000 / 2.50
/// ```
#[derive(Debug, Clone, Copy)]
pub struct RiskSizing {
    risk_pct: Money,
    default_stop_pct: Money,
    position_pct: Money,
}

impl RiskSizing {
    /// Risks `risk_pct` percent of equity per entry, with a default stop
    /// `default_stop_pct` percent away, and values no entry above `position_pct` percent
    /// of equity.
    pub fn new(risk_pct: Money, default_stop_pct: Money, position_pct: Money) -> RiskSizing {
        RiskSizing {
            risk_pct,
            default_stop_pct,
            position_pct,
        }
    }

    /// The percentages of `config`.
    pub fn from_config(config: &RiskConfig) -> RiskSizing {
        RiskSizing::new(
            config.risk_per_trade_pct,
            config.default_stop_pct,
            config.max_position_pct,
        )
    }

    /// The default stop for an entry at `reference`.
    fn default_stop(&self, side: Side, reference: Price) -> Price {
        let offset = Money::from_raw(i128::from(reference.raw()))
            .percent(self.default_stop_pct)
            .map_or(i64::MAX, |m| m.raw().clamp(0, i128::from(i64::MAX)) as i64);
        let raw = match side {
            Side::Buy => reference.raw().saturating_sub(offset),
            Side::Sell => reference.raw().saturating_add(offset),
        };
        Price::from_raw(raw)
    }
}

impl RiskCheck for RiskSizing {
    fn configure(&mut self, config: &RiskConfig) {
        *self = RiskSizing::from_config(config);
    }

    fn check(&self, proposal: &mut Proposal, ctx: &CheckContext<'_>) -> Result<(), Refusal> {
        if !proposal.is_entry() {
            return Ok(());
        }
        let reference = proposal.reference;
        if !reference.is_positive() {
            return Err(Refusal::NO_PRICE);
        }
        if !proposal.stop.is_positive() {
            proposal.stop = self.default_stop(proposal.side, reference);
        }
        let stop = proposal.stop;
        let right_side = match proposal.side {
            Side::Buy => stop < reference && stop.is_positive(),
            Side::Sell => stop > reference,
        };
        if !right_side {
            return Err(Refusal::STOP_WRONG_SIDE);
        }
        let equity = ctx.equity();
        let (Ok(budget), Ok(cap)) = (
            equity.percent(self.risk_pct),
            equity.percent(self.position_pct),
        ) else {
            return Err(Refusal::BELOW_ONE_LOT);
        };
        // Money and Price share the 10^-8 unit, so raw / raw counts units.
        let distance = i128::from(reference.abs_diff(stop).raw());
        let weight = i128::from(proposal.weight_pct.min(FULL_WEIGHT));
        let by_risk = budget.raw() * weight / FULL_WEIGHT_I / distance;
        let by_value = cap.raw() * weight / FULL_WEIGHT_I / i128::from(reference.raw());
        let units = by_risk.min(by_value).clamp(0, i128::from(u64::MAX)) as u64;
        let qty = whole_lots(units, ctx.lot_size);
        if qty.is_zero() {
            return Err(Refusal::BELOW_ONE_LOT);
        }
        proposal.qty = qty;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        model::{IntentReason, Qty},
        risk::{check::tests::*, position::Position},
    };

    /// The default risk budget without the position cap, to test risk sizing alone.
    fn sizing() -> RiskSizing {
        RiskSizing::from_config(&RiskConfig {
            max_position_pct: Money::from_rupees(500),
            ..RiskConfig::default()
        })
    }

    #[test]
    fn the_position_cap_binds_when_the_stop_is_close() {
        let flat = Position::default();
        // ₹20 000 risk over a ₹12.25 stop would buy 1632 shares (₹39.98 lakh); the 20%
        // cap of ₹10 lakh capital allows ₹2 lakh: 81 shares at ₹2450.05.
        let mut p = entry(Side::Buy, "2450.05", "2437.80");
        RiskSizing::from_config(&RiskConfig::default())
            .check(&mut p, &context(&flat))
            .unwrap();
        assert_eq!(p.qty, Qty::new(81));
        // A far stop makes risk the smaller limit again: 20 000 / 245 = 81.6 → 81 as well,
        // so move it further: 20 000 / 500 = 40.
        let mut p = entry(Side::Buy, "2450.05", "1950.05");
        RiskSizing::from_config(&RiskConfig::default())
            .check(&mut p, &context(&flat))
            .unwrap();
        assert_eq!(p.qty, Qty::new(40));
    }

    #[test]
    fn long_with_signal_stop() {
        let flat = Position::default();
        let mut p = entry(Side::Buy, "2450.05", "2437.80");
        sizing().check(&mut p, &context(&flat)).unwrap();
        // 20 000 / 12.25 = 1632.65…
        assert_eq!(p.qty, Qty::new(1632));
        assert_eq!(p.stop, "2437.80".parse().unwrap());
    }

    #[test]
    fn short_with_default_stop_and_lots() {
        let flat = Position::default();
        let ctx = CheckContext {
            lot_size: 75,
            ..context(&flat)
        };
        let mut p = entry(Side::Sell, "180.40", "0");
        sizing().check(&mut p, &ctx).unwrap();
        assert_eq!(p.stop, "182.204".parse().unwrap());
        // 20 000 / 1.804 = 11 086.4… → 147 lots of 75 = 11 025
        assert_eq!(p.qty, Qty::new(11_025));
    }

    #[test]
    fn a_regime_weight_scales_the_budget_and_the_cap() {
        let flat = Position::default();
        let sized = |weight: u8, sizing: RiskSizing, stop: &str| {
            let mut p = Proposal {
                weight_pct: weight,
                ..entry(Side::Buy, "2450.05", stop)
            };
            sizing.check(&mut p, &context(&flat)).map(|()| p.qty)
        };
        // Risk alone: 20 000 × 50% / 12.25 = 816.3 → 816 (full weight: 1632).
        assert_eq!(sized(50, sizing(), "2437.80"), Ok(Qty::new(816)));
        assert_eq!(sized(100, sizing(), "2437.80"), Ok(Qty::new(1632)));
        // The cap binds at full weight (81 shares of ₹2 lakh); at 25% it is ₹50 000:
        // 20 shares. Scaling only the budget would have left 81.
        let capped = RiskSizing::from_config(&RiskConfig::default());
        assert_eq!(sized(100, capped, "2437.80"), Ok(Qty::new(81)));
        assert_eq!(sized(25, capped, "2437.80"), Ok(Qty::new(20)));
        // A weight never raises the limits, and zero buys nothing.
        assert_eq!(sized(200, capped, "2437.80"), Ok(Qty::new(81)));
        assert_eq!(sized(0, capped, "2437.80"), Err(Refusal::BELOW_ONE_LOT));
        // Exits are not sized, whatever their weight.
        let mut exit = Proposal {
            reason: IntentReason::Exit,
            qty: Qty::new(7),
            weight_pct: 10,
            ..entry(Side::Sell, "2450.05", "0")
        };
        capped.check(&mut exit, &context(&flat)).unwrap();
        assert_eq!(exit.qty, Qty::new(7));
    }

    #[test]
    fn entries_shrink_with_equity_after_a_loss() {
        let flat = Position::default();
        let sized = |equity: &str| {
            let ctx = CheckContext {
                equity: equity.parse().unwrap(),
                ..context(&flat)
            };
            let mut p = entry(Side::Buy, "2450.05", "2437.80");
            sizing().check(&mut p, &ctx).map(|()| p.qty)
        };
        // 2 % of ₹10 lakh over ₹12.25: 1632; after a ₹1 lakh loss 2 % of ₹9 lakh: 1469.
        assert_eq!(sized("1000000"), Ok(Qty::new(1632)));
        assert_eq!(sized("900000"), Ok(Qty::new(1469)));
        // The position cap follows equity too: 20 % of ₹9 lakh at ₹2450.05 is 73 (81 on
        // ₹10 lakh).
        let capped = RiskSizing::from_config(&RiskConfig::default());
        let ctx = CheckContext {
            equity: "900000".parse().unwrap(),
            ..context(&flat)
        };
        let mut p = entry(Side::Buy, "2450.05", "2437.80");
        capped.check(&mut p, &ctx).unwrap();
        assert_eq!(p.qty, Qty::new(73));
        // Equity gone: nothing to risk.
        assert_eq!(sized("0"), Err(Refusal::BELOW_ONE_LOT));
        assert_eq!(sized("-5000"), Err(Refusal::BELOW_ONE_LOT));
    }

    #[test]
    fn refusals() {
        let flat = Position::default();
        let ctx = context(&flat);
        let mut p = entry(Side::Buy, "100", "100.05");
        assert_eq!(sizing().check(&mut p, &ctx), Err(Refusal::STOP_WRONG_SIDE));
        let mut p = entry(Side::Sell, "100", "100");
        assert_eq!(sizing().check(&mut p, &ctx), Err(Refusal::STOP_WRONG_SIDE));
        let mut p = entry(Side::Buy, "0", "0");
        assert_eq!(sizing().check(&mut p, &ctx), Err(Refusal::NO_PRICE));
        // 20 000 at risk over a 30 000 stop distance buys nothing.
        let mut p = entry(Side::Buy, "90000", "60000");
        assert_eq!(sizing().check(&mut p, &ctx), Err(Refusal::BELOW_ONE_LOT));
        let mut exit = entry(Side::Sell, "0", "0");
        exit.reason = IntentReason::Exit;
        exit.qty = Qty::new(5);
        assert_eq!(sizing().check(&mut exit, &ctx), Ok(()));
        assert_eq!(exit.qty, Qty::new(5));
    }
}
