//! Entry size from the risk budget and the distance to the stop, at the price the
//! order will pay.

use super::{whole_lots, CheckContext, Proposal, Refusal, RiskCheck};
use crate::{
    model::{Money, Price, Side, Signal},
    risk::{config::RiskConfig, limits::round_stop},
};

/// The weight of a full-size entry, in percent.
const FULL_WEIGHT: u8 = Signal::FULL_WEIGHT;
const FULL_WEIGHT_I: i128 = FULL_WEIGHT as i128;

/// Prices an entry at the touch, puts its stop on the tick grid, and sizes it so that
/// hitting the stop loses at most the per-trade risk budget,
/// `floor(budget / |price − stop|)`, and that its value stays within the per-position
/// cap, `floor(cap / price)`; the smaller, rounded down to whole lots.
///
/// - **Price.** A market entry pays the other side of the book: the ask for a buy, the
///   bid for a sell ([`CheckContext::quote`]), not the strategy's reference (often a bar
///   close). The proposal's reference becomes that price, so the exposure reserved and
///   every later cap read it. Without a quote on that side the strategy's price stands.
/// - **Budget.** `risk_per_trade_pct` of [`CheckContext::equity`] for shares, ETFs and
///   futures; `option_risk_pct` of it for options, whose risk is the premium between
///   entry and stop. The cap is `max_position_pct` of it. That base is equity (capital +
///   realised net P&L + unrealised P&L) by default, so entries shrink after losses, or
///   the fixed capital (`risk.sizing_basis`).
/// - **Stop.** The signal's; when it is zero, `default_stop_pct` percent away from the
///   price (below for a long, above for a short). Either way it is rounded to the
///   instrument's tick away from the entry ([`round_stop`]) and the size reads the
///   rounded distance, so the loss at the stop stays within the budget. A stop not
///   strictly on the losing side of the price is refused.
///
/// An entry weighted below 100 % ([`Proposal::weight_pct`], the regime weights of
/// `[strategy.regime_adaptive.weight]`) is sized as if equity were that share of
/// itself: the budget *and* the position cap scale, since with a stop closer than
/// budget ÷ cap (1 % under the default 2 % budget and 20 % cap) the cap is the limit
/// that binds, and scaling the budget alone would leave the size unchanged. Weights
/// above 100 count as 100: a weight never raises the configured limits. Exits pass
/// unchanged.
///
/// An entry on the side of a position already held (an add, `risk.scale_in`) is sized
/// on the whole position: the held units' loss at the stop and their value come off the
/// budget and the cap, and the add is never larger than the size it was proposed with.
///
/// # Examples
/// ```
/// use tickpipe::{model::*, risk::*};
/// let sizing = RiskSizing::from_config(&RiskConfig::default());
/// let (flat, limits) = (Position::default(), LimitState::empty());
/// // Signalled at a bar close of 250, no stop; the ask is 250.10.
/// let ctx = CheckContext {
///     quote: Quote { bid: "250".parse().unwrap(), ask: "250.10".parse().unwrap(),
///                    last: "250.05".parse().unwrap() },
///     ..CheckContext::new(&flat, &limits)
/// };
/// let mut p = Proposal { instrument: InstrumentId(0), strategy: StrategyId(0),
///     side: Side::Buy, reason: IntentReason::Entry, reference: "250".parse().unwrap(),
///     stop: Price::ZERO, qty: Qty::ZERO, weight_pct: 100 };
/// sizing.check(&mut p, &ctx).unwrap();
/// assert_eq!(p.reference, "250.10".parse().unwrap());  // the ask
/// assert_eq!(p.stop, "247.55".parse().unwrap());       // 1% below 250.10 = 247.599, down to the tick
/// assert_eq!(p.qty, Qty::new(799)); // the 20% cap, 2 lakh / 250.10; the budget allows 20 000 / 2.55 = 7843
/// ```
#[derive(Debug, Clone, Copy)]
pub struct RiskSizing {
    equity_risk_pct: Money,
    option_risk_pct: Money,
    default_stop_pct: Money,
    position_pct: Money,
}

impl RiskSizing {
    /// Risks `equity_risk_pct` (shares) or `option_risk_pct` (options) percent of equity
    /// per entry, with a default stop `default_stop_pct` percent away, and values no
    /// entry above `position_pct` percent of equity.
    pub fn new(
        equity_risk_pct: Money,
        option_risk_pct: Money,
        default_stop_pct: Money,
        position_pct: Money,
    ) -> RiskSizing {
        RiskSizing {
            equity_risk_pct,
            option_risk_pct,
            default_stop_pct,
            position_pct,
        }
    }

    /// The percentages of `config`.
    pub fn from_config(config: &RiskConfig) -> RiskSizing {
        RiskSizing::new(
            config.risk_per_trade_pct,
            config.option_risk_pct,
            config.default_stop_pct,
            config.max_position_pct,
        )
    }

    /// The default stop for an entry at `price`.
    fn default_stop(&self, side: Side, price: Price) -> Price {
        let offset = Money::from_raw(i128::from(price.raw()))
            .percent(self.default_stop_pct)
            .map_or(i64::MAX, |m| m.raw().clamp(0, i128::from(i64::MAX)) as i64);
        let raw = match side {
            Side::Buy => price.raw().saturating_sub(offset),
            Side::Sell => price.raw().saturating_add(offset),
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
        let touch = match proposal.side {
            Side::Buy => ctx.quote.ask,
            Side::Sell => ctx.quote.bid,
        };
        let price = if touch.is_positive() {
            touch
        } else {
            proposal.reference
        };
        if !price.is_positive() {
            return Err(Refusal::NoPrice);
        }
        proposal.reference = price;
        if !proposal.stop.is_positive() {
            proposal.stop = self.default_stop(proposal.side, price);
        }
        proposal.stop = round_stop(proposal.side, proposal.stop, ctx.instrument.tick_size);
        let stop = proposal.stop;
        let right_side = match proposal.side {
            Side::Buy => stop < price && stop.is_positive(),
            Side::Sell => stop > price,
        };
        if !right_side {
            return Err(Refusal::StopWrongSide);
        }
        let risk_pct = if ctx.instrument.is_option() {
            self.option_risk_pct
        } else {
            self.equity_risk_pct
        };
        let budget = ctx.share_of_equity(risk_pct);
        let cap = ctx.share_of_equity(self.position_pct);
        // Money and Price share the 10^-8 unit, so raw / raw counts units.
        let distance = i128::from(price.abs_diff(stop).raw());
        let weight = i128::from(proposal.weight_pct.min(FULL_WEIGHT));
        // An add to a held position (`risk.scale_in`) is sized on the whole position:
        // what the held units lose at the stop (negative once the stop locks in profit)
        // and their value at this price come off the budget and the cap first.
        let held = ctx.position;
        let (held_risk, held_value) = if held.opening_side() == Some(proposal.side) {
            let units = i128::from(held.open_qty().get());
            let avg = i128::from(held.avg_price().raw());
            let per_unit = match proposal.side {
                Side::Buy => avg - i128::from(stop.raw()),
                Side::Sell => i128::from(stop.raw()) - avg,
            };
            (per_unit * units, i128::from(price.raw()) * units)
        } else {
            (0, 0)
        };
        let by_risk = (budget.raw() * weight / FULL_WEIGHT_I - held_risk) / distance;
        let by_value = (cap.raw() * weight / FULL_WEIGHT_I - held_value) / i128::from(price.raw());
        let mut units = by_risk.min(by_value).clamp(0, i128::from(u64::MAX)) as u64;
        if !proposal.qty.is_zero() {
            // A proposal that comes with a size (an add) is never made larger.
            units = units.min(u64::from(proposal.qty.get()));
        }
        let qty = whole_lots(units, ctx.lot_size());
        if qty.is_zero() {
            return Err(Refusal::BelowOneLot);
        }
        proposal.qty = qty;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        model::{InstrumentKind, IntentReason, Qty},
        risk::{
            check::tests::*,
            limits::{InstrumentSpec, Quote},
            position::Position,
        },
    };

    /// The default risk budget without the position cap, to test risk sizing alone.
    fn sizing() -> RiskSizing {
        RiskSizing::from_config(&RiskConfig {
            max_position_pct: Money::from_rupees(500),
            ..RiskConfig::default()
        })
    }

    #[test]
    fn an_add_is_sized_on_the_whole_position() {
        let mut long = Position::default();
        long.apply_fill(Side::Buy, Qty::new(1000), "100".parse().unwrap())
            .unwrap();
        let add = |stop: &str, preset: u32, long: &Position| {
            let mut p = entry(Side::Buy, "105", stop);
            p.qty = Qty::new(preset);
            RiskSizing::from_config(&RiskConfig::default())
                .check(&mut p, &context(long))
                .map(|()| p.qty)
        };
        // Stop 95: the held 1000 lose ₹5,000 of the ₹20,000 budget, so by risk
        // (20 000 − 5 000) / 10 = 1500 more; the 20% cap leaves
        // (2 00 000 − 1 05 000) / 105 = 904.
        assert_eq!(add("95", 2000, &long), Ok(Qty::new(904)));
        assert_eq!(
            add("95", 500, &long),
            Ok(Qty::new(500)),
            "never above the preset"
        );
        // Stop 104 locks ₹4,000 in: by risk (20 000 + 4 000) / 1 = 24 000; the cap binds.
        assert_eq!(add("104", 2000, &long), Ok(Qty::new(904)));
        // A held position already worth the cap leaves nothing.
        let mut big = Position::default();
        big.apply_fill(Side::Buy, Qty::new(1950), "100".parse().unwrap())
            .unwrap();
        assert_eq!(add("95", 100, &big), Err(Refusal::BelowOneLot));
        // By risk alone: 1950 held lose ₹9,750 at 95; (20 000 − 9 750) / 10 = 1025, but
        // their value at 105 (₹2,04,750) is over the cap.
        let uncapped = RiskSizing::from_config(&RiskConfig {
            max_position_pct: Money::from_rupees(500),
            ..RiskConfig::default()
        });
        let mut p = entry(Side::Buy, "105", "95");
        p.qty = Qty::new(5000);
        uncapped.check(&mut p, &context(&big)).unwrap();
        assert_eq!(p.qty, Qty::new(1025));
        // A short's add: held 100 sold at 200, stop 210, add at 190: held risk ₹1,000,
        // (20 000 − 1 000) / 20 = 950.
        let mut short = Position::default();
        short
            .apply_fill(Side::Sell, Qty::new(100), "200".parse().unwrap())
            .unwrap();
        let mut p = entry(Side::Sell, "190", "210");
        p.qty = Qty::new(5000);
        uncapped.check(&mut p, &context(&short)).unwrap();
        assert_eq!(p.qty, Qty::new(950));
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
            instrument: InstrumentSpec {
                lot_size: 75,
                ..InstrumentSpec::equity()
            },
            ..context(&flat)
        };
        let mut p = entry(Side::Sell, "180.40", "0");
        sizing().check(&mut p, &ctx).unwrap();
        // 1% above is 182.204, off the 0.05 grid: up (away from the entry) to 182.25.
        assert_eq!(p.stop, "182.25".parse().unwrap());
        // 20 000 / 1.85 = 10 810.8… → 144 lots of 75 = 10 800
        assert_eq!(p.qty, Qty::new(10_800));
    }

    #[test]
    fn sized_at_the_touch_with_the_option_budget() {
        let flat = Position::default();
        let option = InstrumentSpec {
            kind: InstrumentKind::Option,
            lot_size: 65,
            ..InstrumentSpec::equity()
        };
        let quote = Quote {
            bid: "118".parse().unwrap(),
            ask: "121".parse().unwrap(),
            last: "120".parse().unwrap(),
        };
        let ctx = CheckContext {
            instrument: option,
            quote,
            ..context(&flat)
        };
        // The strategy decided at 120 with a 20% premium stop of 96: the order pays
        // the ask, 121, so 25 is at risk per unit. 5% of ₹10 lakh = ₹50 000 → 2000
        // units; the 20% cap of ₹2 lakh at 121 → 1652; whole lots of 65: 1625.
        let mut p = entry(Side::Buy, "120", "96");
        sizing().check(&mut p, &ctx).unwrap();
        assert_eq!(p.reference, "121".parse().unwrap());
        assert_eq!(
            p.qty,
            Qty::new(1950),
            "risk alone: 50 000 / 25 = 2000 → 30 lots"
        );
        RiskSizing::from_config(&RiskConfig::default())
            .check(&mut p, &ctx)
            .unwrap();
        assert_eq!(p.qty, Qty::new(1625));
        // The same premium stop on a share uses the 2% budget: 20 000 / 25 = 800.
        let share = CheckContext {
            instrument: InstrumentSpec::equity(),
            ..ctx
        };
        let mut p = entry(Side::Buy, "120", "96");
        sizing().check(&mut p, &share).unwrap();
        assert_eq!(p.qty, Qty::new(800));
        // A short sells at the bid; a stop the bid has already crossed is refused.
        let mut p = entry(Side::Sell, "117", "117.90");
        assert_eq!(sizing().check(&mut p, &ctx), Err(Refusal::StopWrongSide));
        // Half the equity, half the size.
        let poorer = CheckContext {
            equity: Money::from_rupees(500_000),
            ..share
        };
        let mut p = entry(Side::Buy, "120", "96");
        sizing().check(&mut p, &poorer).unwrap();
        assert_eq!(p.qty, Qty::new(400));
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
        assert_eq!(sized(0, capped, "2437.80"), Err(Refusal::BelowOneLot));
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
        assert_eq!(sized("0"), Err(Refusal::BelowOneLot));
        assert_eq!(sized("-5000"), Err(Refusal::BelowOneLot));
    }

    #[test]
    fn refusals() {
        let flat = Position::default();
        let ctx = context(&flat);
        let mut p = entry(Side::Buy, "100", "100.05");
        assert_eq!(sizing().check(&mut p, &ctx), Err(Refusal::StopWrongSide));
        let mut p = entry(Side::Sell, "100", "100");
        assert_eq!(sizing().check(&mut p, &ctx), Err(Refusal::StopWrongSide));
        let mut p = entry(Side::Buy, "0", "0");
        assert_eq!(sizing().check(&mut p, &ctx), Err(Refusal::NoPrice));
        // 20 000 at risk over a 30 000 stop distance buys nothing.
        let mut p = entry(Side::Buy, "90000", "60000");
        assert_eq!(sizing().check(&mut p, &ctx), Err(Refusal::BelowOneLot));
        let mut exit = entry(Side::Sell, "0", "0");
        exit.reason = IntentReason::Exit;
        exit.qty = Qty::new(5);
        assert_eq!(sizing().check(&mut exit, &ctx), Ok(()));
        assert_eq!(exit.qty, Qty::new(5));
    }
}
