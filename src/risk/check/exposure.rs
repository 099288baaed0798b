//! Total gross exposure at most a share of equity (or capital).

use super::{shrink_to_room, CheckContext, Proposal, Refusal, RiskCheck};
use crate::{model::Money, risk::config::RiskConfig};

/// Shrinks an entry so that committed exposure (open positions at their marks plus
/// entries in flight at the prices they were approved at) plus the entry stays within
/// `max_exposure_pct` of [`CheckContext::equity`] (equity or the fixed capital, by
/// `risk.sizing_basis`: the cap shrinks after losses), in whole lots; refuses it when
/// not even one lot fits. Exits pass: they only reduce exposure.
#[derive(Debug, Clone, Copy)]
pub struct ExposureCap {
    pct: Money,
}

impl ExposureCap {
    /// A cap of `pct` percent of equity.
    pub fn new(pct: Money) -> ExposureCap {
        ExposureCap { pct }
    }

    /// `max_exposure_pct` of equity.
    pub fn from_config(config: &RiskConfig) -> ExposureCap {
        ExposureCap::new(config.max_exposure_pct)
    }
}

impl RiskCheck for ExposureCap {
    fn configure(&mut self, config: &RiskConfig) {
        *self = ExposureCap::from_config(config);
    }

    fn check(&self, proposal: &mut Proposal, ctx: &CheckContext<'_>) -> Result<(), Refusal> {
        if !proposal.is_entry() {
            return Ok(());
        }
        let room = ctx
            .share_of_equity(self.pct)
            .saturating_add(ctx.exposure.neg());
        shrink_to_room(proposal, room, ctx.lot_size(), Refusal::ExposureLimit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        model::{Qty, Side},
        risk::{check::tests::*, limits::InstrumentSpec, position::Position},
    };

    #[test]
    fn shrinks_to_fit_then_refuses() {
        let cap = ExposureCap::from_config(&RiskConfig::default()); // 70% of 10 lakh
        let flat = Position::default();
        let mut ctx = CheckContext {
            exposure: "650000".parse().unwrap(),
            instrument: InstrumentSpec {
                lot_size: 25,
                ..InstrumentSpec::equity()
            },
            ..context(&flat)
        };
        let mut p = entry(Side::Buy, "400", "390");
        p.qty = Qty::new(2000);
        cap.check(&mut p, &ctx).unwrap();
        // 50 000 room / 400 = 125 units = 5 lots
        assert_eq!(p.qty, Qty::new(125));

        p.qty = Qty::new(100);
        cap.check(&mut p, &ctx).unwrap();
        assert_eq!(p.qty, Qty::new(100), "fits: unchanged");

        ctx.exposure = "690000".parse().unwrap(); // room for exactly one lot
        p.qty = Qty::new(100);
        cap.check(&mut p, &ctx).unwrap();
        assert_eq!(p.qty, Qty::new(25));

        ctx.exposure = "690000.01".parse().unwrap(); // 24.99 units: not one lot
        p.qty = Qty::new(100);
        assert_eq!(cap.check(&mut p, &ctx), Err(Refusal::ExposureLimit));
        ctx.exposure = "700000.01".parse().unwrap();
        assert_eq!(cap.check(&mut p, &ctx), Err(Refusal::ExposureLimit));
        // The cap is a share of equity, not of capital: after a ₹1 lakh gain the same
        // book has ₹70 000 more room.
        ctx.equity = Money::from_rupees(1_100_000);
        p.qty = Qty::new(1000);
        cap.check(&mut p, &ctx).unwrap();
        assert_eq!(
            p.qty,
            Qty::new(150),
            "69 999.99 / 400 = 174.99 → 6 lots of 25"
        );

        // After a ₹1 lakh loss the cap is 70 % of ₹9 lakh = ₹6.3 lakh: ₹6.2 lakh
        // committed leaves ₹10 000, 25 units at ₹400, one lot.
        ctx.equity = "900000".parse().unwrap();
        ctx.exposure = "620000".parse().unwrap();
        p.qty = Qty::new(100);
        cap.check(&mut p, &ctx).unwrap();
        assert_eq!(p.qty, Qty::new(25));
        ctx.exposure = "630000".parse().unwrap();
        assert_eq!(cap.check(&mut p, &ctx), Err(Refusal::ExposureLimit));
    }
}
